// export_pytorch.c — a run as a PyTorch folder: train.py, the weights it starts from, a README (see
// export_pytorch.h).
#include "export_pytorch.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "errmsg.h"
#include "path.h"
#include "regular_file.h"
#include "text_buf.h"
#include "train_recipe.h"
#include "transfer.h"

#define SETTINGS_MARK "# @FROST_SETTINGS@\n"

// ---------------------------------------------------------------------------------------------
// train.py's settings block: Python constants, strings and lists written as JSON (which Python
// reads as the same literals)

static void put_json(text_buf *t, json_t *j) {
    char *s = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!s) {
        t->failed = 1;
        return;
    }
    text_buf_put(t, "%s", s);
    free(s);
}

static void put_string_or_none(text_buf *t, const char *s) {
    if (s && s[0])
        put_json(t, json_string(s));
    else
        text_buf_put(t, "None");
}

static void put_string_list(text_buf *t, char *const *items, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(items[i]));
    put_json(t, a);
}

static void put_floats(text_buf *t, const float *v, size_t n) {
    text_buf_put(t, "[");
    for (size_t i = 0; i < n; i++) {
        if (i) text_buf_put(t, ", ");
        text_buf_float(t, (double)v[i]);
    }
    text_buf_put(t, "]");
}

static void settings_block(text_buf *t, const checkpoint_meta *meta, const train_recipe *r, const train_settings *s) {
    text_buf_put(t, "# written by frost export from a %s checkpoint%s\n", meta->arch,
                 s->known ? ""
                          : " without its run's settings (older than frost's export): the defaults below are frost's");
    text_buf_put(t, "ARCH = ");
    put_json(t, json_string(meta->arch));
    text_buf_put(t, "\nCLASSES = ");
    put_string_list(t, meta->class_names, (size_t)meta->num_classes);
    text_buf_put(t, "   # the head's outputs, in order\nHEAD_REPLACED = %s\n", meta->head_replaced ? "True" : "False");
    text_buf_put(t, "INPUT_SIZE = %d\nRESIZE = ", meta->tf.size);
    put_json(t, json_string(meta->tf.fit == TRANSFORM_SHORT_CROP ? "crop" : "square"));
    text_buf_put(t, "   # 'square': Resize([S, S]); 'crop': Resize(S) then CenterCrop(S)\nMEAN = ");
    put_floats(t, meta->tf.mean, 3);
    text_buf_put(t, "\nSTD = ");
    put_floats(t, meta->tf.std, 3);
    text_buf_put(t, "\nTRAINABLE = ");
    put_string_list(t, meta->trainable, meta->n_trainable);
    text_buf_put(t, "   # parameters with requires_grad (a plan sets them per stage)\n");
    text_buf_put(t, "START_EPOCH = %d   # epochs frost had completed: this script goes on with the next\n",
                 meta->epoch);
    text_buf_put(t, "EPOCHS = %d   # the run's course (the schedule spans it)\n", s->epochs);
    text_buf_put(t, "OPTIMIZER = ");
    put_json(t, json_string(s->optimizer));
    text_buf_put(t, "\nLR = ");
    text_buf_float(t, s->lr);
    text_buf_put(t, "\nBETAS = (");
    text_buf_float(t, s->beta1);
    text_buf_put(t, ", ");
    text_buf_float(t, s->beta2);
    text_buf_put(t, ")   # Adam's\nEPS = ");
    text_buf_float(t, s->eps);
    text_buf_put(t, "\nMOMENTUM = ");
    text_buf_float(t, s->momentum);
    text_buf_put(t, "   # SGD's\nWEIGHT_DECAY = ");
    text_buf_float(t, s->weight_decay);
    text_buf_put(t, "\nBATCH = %d\nSEED = %llu\nBN = ", s->batch, s->seed);
    put_json(t, json_string(s->bn_eval ? "eval" : "train"));
    text_buf_put(t, "   # 'eval': BatchNorm layers whose parameters are all frozen keep their running statistics\n");
    text_buf_put(t, "PLAN = ");
    put_string_or_none(t, r->plan_text);
    text_buf_put(t, "   # staged unfreezing: 'head:2,last1:3' (what trains : for how many epochs)\nSCHEDULE = ");
    put_string_or_none(t, r->schedule_text);
    text_buf_put(t, "   # constant, cosine[:warm-up steps], one-cycle, warmup[:steps]\nBLOCK_LR = ");
    put_string_or_none(t, r->block_lr_text);
    text_buf_put(t, "   # learning-rate multipliers by block, or spread:R\nCLASS_WEIGHTS = ");
    put_string_or_none(t, r->class_weights_text);
    text_buf_put(t, "   # CrossEntropyLoss's weight: auto or one per class\nWEIGHTS = ");
    put_json(t, json_string(EXPORT_PYTORCH_WEIGHTS));
    text_buf_put(t, "\n");
}

char *export_pytorch_script(const checkpoint_meta *meta, char *err, size_t errlen) {
    train_recipe r;
    if (train_recipe_set(&r, NULL, NULL, NULL, NULL, err, errlen) != 0 ||
        train_recipe_merge_json(&r, meta->train_config, err, errlen) != 0)
        return NULL;
    train_settings s;
    train_settings_from_json(meta->train_config, &s);
    if (s.epochs <= meta->epoch && !s.known) s.epochs = meta->epoch + 1;
    const char *mark = strstr(export_pytorch_train_py, SETTINGS_MARK);
    if (!mark) {
        errmsg_set(err, errlen, "the embedded train.py has no settings mark (a broken build)");
        return NULL;
    }
    text_buf t = {0};
    text_buf_put(&t, "%.*s", (int)(mark - export_pytorch_train_py), export_pytorch_train_py);
    settings_block(&t, meta, &r, &s);
    text_buf_put(&t, "%s", mark + strlen(SETTINGS_MARK));
    if (t.failed) {
        free(t.buf);
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    return t.buf;
}

// ---------------------------------------------------------------------------------------------
// the README

static char *readme(const checkpoint_meta *meta, int from_checkpoint) {
    text_buf t = {0};
    text_buf_put(&t, "# %s, fine-tuned by frost, as a PyTorch script\n\n", meta->arch);
    if (from_checkpoint)
        text_buf_put(&t,
                     "Exported from a checkpoint after epoch %d. `train.py` goes on from there with the same network, "
                     "frozen layers, preprocessing, optimizer (its state included when frost saved it), schedule and "
                     "seed.\n\n",
                     meta->epoch);
    else
        text_buf_put(
            &t, "Exported before any training: `train.py` runs the recipe chosen in frost from the weights it would "
                "have started with.\n\n");
    text_buf_put(&t, "Classes, in the order of the model's outputs:");
    for (int64_t i = 0; i < meta->num_classes; i++) text_buf_put(&t, "%s `%s`", i ? "," : "", meta->class_names[i]);
    text_buf_put(
        &t, ".\n\nNeeds Python 3 with PyTorch and torchvision (1.13 / 0.14 or later); nothing else.\n\n"
            "```sh\n"
            "python3 train.py --data DATASET                         # one process; a GPU when there is one\n"
            "torchrun --nproc_per_node 4 train.py --data DATASET     # 4 processes (DistributedDataParallel)\n"
            "torchrun --nnodes 2 --node_rank 0 --master_addr HOST --nproc_per_node 8 train.py --data DATASET\n"
            "```\n\n"
            "DATASET holds `train/<class>/*` and `valid/<class>/*` (torchvision's ImageFolder layout) with the "
            "classes above. Processes talk over nccl on GPUs and gloo on CPUs. One process samples exactly as "
            "frost does; with N, each takes every N-th image of that order and `--batch` is per process. After "
            "every epoch the first process writes `trained.safetensors` (`--out`), a frost checkpoint: "
            "`frost predict trained.safetensors IMAGE` reads it, and so does PyTorch's `load_state_dict` after the "
            "head replacement in `build_model`.\n\n"
            "`python3 train.py --help` lists the options (epochs, learning rate, batch, device, a JSON log).\n\n"
            "| file | what |\n|---|---|\n"
            "| `train.py` | the script; the run's settings are the constants at its top |\n"
            "| `weights.safetensors` | the weights it starts from (a frost checkpoint) |\n"
            "| `weights.safetensors.optim` | the optimizer's state, when frost saved it |\n");
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}

// ---------------------------------------------------------------------------------------------
// writing the folder

typedef struct {
    char *dir;        // DIR
    char *tmp;        // DIR/.frost-export.XXXXXX
    int made_dir;     // DIR was created here
    char *names[4];   // files in tmp to put into DIR
    size_t n;
} staging;

static void staging_drop(staging *st) {
    for (size_t i = 0; i < st->n; i++) {
        char *p = st->tmp ? path_join(st->tmp, st->names[i]) : NULL;
        if (p) unlink(p);
        free(p);
        free(st->names[i]);
    }
    if (st->tmp) {
        rmdir(st->tmp);
        free(st->tmp);
    }
    if (st->made_dir) rmdir(st->dir);
    free(st->dir);
    memset(st, 0, sizeof *st);
}

static int staging_open(staging *st, const char *dir, int overwrite, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    const char *ours[] = {EXPORT_PYTORCH_SCRIPT, EXPORT_PYTORCH_WEIGHTS, EXPORT_PYTORCH_WEIGHTS CHECKPOINT_OPTIM_SUFFIX,
                          EXPORT_PYTORCH_README};
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) {   // (a link to a folder is that folder)
            if (lstat(dir, &sb) != 0) sb.st_mode = 0;
            errmsg_set(err, errlen, "%s is %s, not a folder", dir, regular_file_kind(sb.st_mode));
            return -1;
        }
        for (size_t k = 0; k < 4; k++) {
            char *p = path_join(dir, ours[k]);
            if (!p) {
                errmsg_set(err, errlen, "out of memory");
                return -1;
            }
            int exists = lstat(p, &sb) == 0, refused = atomic_file_check_kind(p, err, errlen) != 0;
            free(p);
            if (refused) return -1;   // only files are replaced (or removed: a stale sidecar)
            if (exists && !overwrite) {
                errmsg_set(err, errlen, "%s already holds %s (use --force to replace the export)", dir, ours[k]);
                return EXPORT_PYTORCH_EXISTS;
            }
        }
    } else if (errno != ENOENT) {
        errmsg_set(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    } else {
        if (path_mkdirs(dir) != 0) {
            errmsg_set(err, errlen, "cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
        st->made_dir = 1;
    }
    st->dir = strdup(dir);
    st->tmp = path_join(dir, ".frost-export.XXXXXX");
    if (!st->dir || !st->tmp) {
        staging_drop(st);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    if (!mkdtemp(st->tmp)) {
        int e = errno;
        free(st->tmp);
        st->tmp = NULL;
        staging_drop(st);
        errmsg_set(err, errlen, "cannot write into %s: %s", dir, strerror(e));
        return -1;
    }
    return 0;
}

// The staged path of name (malloc'd), recorded to be put in place (or removed).
static char *staged(staging *st, const char *name) {
    char *p = path_join(st->tmp, name);
    char *copy = strdup(name);
    if (!p || !copy || st->n == 4) {
        free(p);
        free(copy);
        return NULL;
    }
    st->names[st->n++] = copy;
    return p;
}

static int write_text(staging *st, const char *name, const char *body, char *err, size_t errlen) {
    char *p = staged(st, name);
    if (!p) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, name[strlen(name) - 1] == 'y' ? 0755 : 0644);
    int rc = fd < 0 || atomic_file_write_all(fd, body, strlen(body)) != 0 || fsync(fd) != 0 ? -1 : 0;
    if (rc != 0) errmsg_set(err, errlen, "writing %s/%s: %s", st->dir, name, strerror(errno));
    if (fd >= 0 && close(fd) != 0 && rc == 0) {
        errmsg_set(err, errlen, "writing %s/%s: %s", st->dir, name, strerror(errno));
        rc = -1;
    }
    free(p);
    return rc;
}

static int copy_file(staging *st, const char *from, const char *name, char *err, size_t errlen) {
    char *p = staged(st, name);
    if (!p) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = in >= 0 && out >= 0 ? 0 : -1;
    static char buf[1 << 16];
    while (rc == 0) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            rc = n < 0 ? -1 : 0;
            break;
        }
        rc = atomic_file_write_all(out, buf, (size_t)n);
    }
    if (rc == 0) rc = fsync(out);
    if (rc != 0) errmsg_set(err, errlen, "copying %s to %s: %s", from, st->dir, strerror(errno));
    if (in >= 0) close(in);
    if (out >= 0 && close(out) != 0 && rc == 0) {
        errmsg_set(err, errlen, "copying %s to %s: %s", from, st->dir, strerror(errno));
        rc = -1;
    }
    free(p);
    return rc;
}

// Renames every staged file into DIR (each over a regular file only; the folder synced after each).
static int staging_commit(staging *st, char *err, size_t errlen) {
    for (size_t i = 0; i < st->n; i++) {
        char *from = path_join(st->tmp, st->names[i]), *to = path_join(st->dir, st->names[i]);
        int rc = from && to ? atomic_file_rename(from, to, err, errlen) : -1;
        if (!from || !to) errmsg_set(err, errlen, "out of memory");
        free(from);
        free(to);
        if (rc != 0) return -1;   // what was renamed stays: each of those files is whole
        free(st->names[i]);
        st->names[i] = NULL;
    }
    st->n = 0;
    st->made_dir = 0;
    return 0;
}

static int finish(staging *st, int rc, char *err, size_t errlen) {
    if (rc == 0) rc = staging_commit(st, err, errlen);
    staging_drop(st);
    return rc;
}

static int write_common(staging *st, const checkpoint_meta *meta, int from_checkpoint, char *err, size_t errlen) {
    char *script = export_pytorch_script(meta, err, errlen);
    if (!script) return -1;
    int rc = write_text(st, EXPORT_PYTORCH_SCRIPT, script, err, errlen);
    free(script);
    if (rc != 0) return -1;
    char *doc = readme(meta, from_checkpoint);
    if (!doc) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    rc = write_text(st, EXPORT_PYTORCH_README, doc, err, errlen);
    free(doc);
    return rc;
}

int export_pytorch_checkpoint(const char *ckpt, const char *dir, int overwrite, char *err, size_t errlen) {
    ft_model *m = NULL;
    checkpoint_meta meta;
    int rc = checkpoint_load(ckpt, &m, &meta, err, errlen);
    if (rc == CHECKPOINT_E_WEIGHTS) {
        char why[768];
        snprintf(why, sizeof why, "%s", err);
        errmsg_set(err, errlen, "%s is a weights file, not a frost checkpoint (%s)", ckpt, why);
    }
    if (rc != 0) return -1;
    ft_model_free(m);   // loaded whole to check it; the file itself is what is exported
    char *side = NULL;
    rc = checkpoint_sidecar(ckpt, &side, err, errlen);
    staging st;
    int exists = 0;
    if (rc >= 0) exists = (rc = staging_open(&st, dir, overwrite, err, errlen)) == EXPORT_PYTORCH_EXISTS;
    if (rc >= 0) {
        rc = copy_file(&st, ckpt, EXPORT_PYTORCH_WEIGHTS, err, errlen);
        if (rc == 0 && side) rc = copy_file(&st, side, EXPORT_PYTORCH_WEIGHTS CHECKPOINT_OPTIM_SUFFIX, err, errlen);
        if (rc == 0) rc = write_common(&st, &meta, 1, err, errlen);
        rc = finish(&st, rc, err, errlen);
    }
    if (rc == 0 && !side && overwrite) {   // a stale sidecar from an earlier export would pair with nothing
        char *old = path_join(dir, EXPORT_PYTORCH_WEIGHTS CHECKPOINT_OPTIM_SUFFIX);
        if (old) unlink(old);
        free(old);
    }
    free(side);
    checkpoint_meta_free(&meta);
    return exists ? EXPORT_PYTORCH_EXISTS : rc < 0 ? -1 : 0;
}

// 1 when cancel was asked (the export then returns EXPORT_PYTORCH_CANCELLED).
static int stopped(const atomic_int *cancel) { return cancel && atomic_load(cancel); }

int export_pytorch_config(const trainer_config *c, char *const *classes, size_t n, const char *dir, int overwrite,
                          const atomic_int *cancel, char *err, size_t errlen) {
    train_recipe r;
    if (train_recipe_set(&r, c->plan, c->schedule, c->block_lr, c->class_weights, err, errlen) != 0) return -1;
    if (r.has_plan && c->trainable) {
        errmsg_set(err, errlen, "a plan of stages says what trains: a trainable list cannot come with it");
        return -1;
    }
    int named = r.has_plan ? train_plan_epochs(&r.plan) : 0;
    trainer_config cc = *c;
    if (cc.epochs <= 0) cc.epochs = named > 0 ? named : 5;
    train_settings s;
    trainer_settings(&cc, named, &s);
    char *recipe = train_recipe_json_settings(&r, &s);
    transfer_spec spec = {.arch = c->arch, .classes = (int64_t)n, .weights = c->weights, .weights_whole = 1};
    ft_model *m = NULL;
    int rc = recipe ? 0 : -1;
    if (!recipe) errmsg_set(err, errlen, "out of memory");
    if (rc == 0) rc = transfer_build(&spec, &m, NULL, 0, err, errlen);
    if (rc == 0 && c->trainable) rc = transfer_apply_trainable(m, c->trainable, err, errlen);
    checkpoint_meta meta;
    checkpoint_meta_init(&meta);
    snprintf(meta.arch, sizeof meta.arch, "%s", c->arch);
    meta.num_classes = (int64_t)n;
    meta.class_names = (char **)classes;   // read only: this meta is not freed
    meta.head_replaced = 1;
    meta.tf = c->prep.tf;
    meta.train_config = recipe;
    staging st;
    if (rc == 0 && stopped(cancel)) rc = EXPORT_PYTORCH_CANCELLED;
    if (rc == 0) rc = staging_open(&st, dir, overwrite, err, errlen);
    if (rc == 0) {
        char *p = staged(&st, EXPORT_PYTORCH_WEIGHTS);
        if (!p) errmsg_set(err, errlen, "out of memory");
        char why[768];
        rc = p && checkpoint_save(p, m, NULL, &meta, why, sizeof why) == 0 ? 0 : -1;
        if (p && rc != 0) errmsg_set(err, errlen, "writing %s/%s: %s", dir, EXPORT_PYTORCH_WEIGHTS, why);
        free(p);
        // the script's settings come from what was saved (the trainable list as the model has it)
        checkpoint_meta back;
        char *wpath = rc == 0 ? path_join(st.tmp, EXPORT_PYTORCH_WEIGHTS) : NULL;
        ft_model *again = NULL;
        if (rc == 0) {
            rc = wpath && checkpoint_load(wpath, &again, &back, err, errlen) == 0 ? 0 : -1;
            if (rc == 0) {
                ft_model_free(again);
                rc = write_common(&st, &back, 0, err, errlen);
                checkpoint_meta_free(&back);
            }
        }
        free(wpath);
        if (rc == 0 && stopped(cancel)) rc = EXPORT_PYTORCH_CANCELLED;   // the staged files go, none is in place
        rc = finish(&st, rc, err, errlen);
    }
    if (rc == EXPORT_PYTORCH_CANCELLED) errmsg_set(err, errlen, "cancelled");
    ft_model_free(m);
    free(recipe);
    return rc;
}
