// checkpoint.c — checkpoints: a model's state_dict in safetensors with the metadata frost needs to
// rebuild and use it, and the optimizer state in a sidecar file. The layout is in checkpoint.h;
// the tensor side is weights.c's, the file format safetensors.c's, the JSON jansson's.
#include "checkpoint.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "errmsg.h"
#include "number.h"
#include "path.h"
#include "safetensors.h"
#include "transfer.h"
#include "weights.h"

// ---------------------------------------------------------------------------------------------
// meta

void checkpoint_meta_init(checkpoint_meta *meta) {
    memset(meta, 0, sizeof *meta);
    transform_params_seed(&meta->tf);
    meta->train_loss = meta->train_acc = meta->valid_loss = meta->valid_acc = NAN;
}

static void free_strings(char **v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void checkpoint_meta_free(checkpoint_meta *meta) {
    if (!meta) return;
    free_strings(meta->class_names, meta->class_names ? (size_t)meta->num_classes : 0);
    free_strings(meta->trainable, meta->n_trainable);
    free(meta->train_config);
    checkpoint_meta_init(meta);
}

static int valid_utf8(const char *s) {
    json_t *j = json_string(s);   // jansson refuses invalid UTF-8
    json_decref(j);
    return j != NULL;
}

int checkpoint_meta_check(const checkpoint_meta *meta, char *err, size_t errlen) {
    if (meta->num_classes < 1) {
        errmsg_set(err, errlen, "checkpoint: %lld classes (need at least 1)", (long long)meta->num_classes);
        return -1;
    }
    if (!meta->class_names) {
        errmsg_set(err, errlen, "checkpoint: no class names given");
        return -1;
    }
    for (int64_t i = 0; i < meta->num_classes; i++) {
        const char *name = meta->class_names[i];
        if (!name || !*name) {
            errmsg_set(err, errlen, "checkpoint: class %lld has no name", (long long)i);
            return -1;
        }
        if (!valid_utf8(name)) {
            errmsg_set(err, errlen, "checkpoint: the name of class %lld is not valid UTF-8 (rename its folder)",
                       (long long)i);
            return -1;
        }
    }
    if (transform_params_check(&meta->tf, err, errlen) != 0) return -1;
    if (meta->train_config) {
        json_error_t je;
        json_t *j = json_loads(meta->train_config, JSON_DECODE_ANY, &je);
        json_decref(j);
        if (!j) {
            errmsg_set(err, errlen, "checkpoint: train_config is not JSON: %s", je.text);
            return -1;
        }
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// small text helpers

// The shortest decimal text that reads back as the same float ("0.485", not "0.48500001430511475").
static void float_text(char *buf, size_t len, float v) {
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, len, "%.*g", digits, (double)v);
        if ((float)strtod(buf, NULL) == v) return;
    }
}

void checkpoint_float3_json(char *buf, size_t len, const float v[3]) {
    char a[32], b[32], c[32];
    float_text(a, sizeof a, v[0]);
    float_text(b, sizeof b, v[1]);
    float_text(c, sizeof c, v[2]);
    snprintf(buf, len, "[%s, %s, %s]", a, b, c);
}

// A dynamically built JSON text (caller frees), or NULL when out of memory.
static char *dump(json_t *j) {
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    return s;
}

static json_t *number_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

// path + suffix, allocated.
static char *with_suffix(const char *path, const char *suffix) {
    size_t n = strlen(path), k = strlen(suffix);
    char *p = malloc(n + k + 1);
    if (p) {
        memcpy(p, path, n);
        memcpy(p + n, suffix, k + 1);
    }
    return p;
}

static char *sidecar_path(const char *path) { return with_suffix(path, CHECKPOINT_OPTIM_SUFFIX); }

// Unique enough to tell two saves apart: the clock, the process and a counter.
static void make_save_id(char *buf, size_t len) {
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long ns = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
    snprintf(buf, len, "%llx-%ld-%u", ns, (long)getpid(), ++counter);
}

// ---------------------------------------------------------------------------------------------
// trainable parameters: frost sets requires_grad per module subtree, and in torchvision's VGG and
// ResNet only leaf modules hold parameters, so a parameter is trainable when its module's
// parameters all are (the node table counts them).

static int module_of(const char *param, char *buf, size_t len) {
    const char *dot = strrchr(param, '.');
    size_t n = dot ? (size_t)(dot - param) : 0;
    if (n >= len) return -1;
    memcpy(buf, param, n);
    buf[n] = '\0';
    return 0;
}

// The trainable parameter names as a JSON array (in state_dict order), and their count.
static json_t *trainable_list(ft_model *m, char *err, size_t errlen) {
    const ft_node *nodes;
    size_t n_nodes;
    ft_status *s = ft_model_nodes(m, &nodes, &n_nodes);
    if (s) {
        errmsg_set(err, errlen, "%s", ft_status_message(s));
        ft_status_free(s);
        return NULL;
    }
    json_t *list = json_array();
    size_t hint = 0;
    for (size_t i = 0; list && i < ft_model_state_count(m); i++) {
        ft_tensor_info info;
        s = ft_model_state_info(m, i, &info);
        if (s) {
            errmsg_set(err, errlen, "%s", ft_status_message(s));
            ft_status_free(s);
            json_decref(list);
            return NULL;
        }
        if (!info.is_parameter) continue;
        char mod[512];
        if (module_of(info.name, mod, sizeof mod) != 0) continue;
        // the node table and the state_dict share PyTorch's order, so search on from the last hit
        size_t k = hint, found = n_nodes;
        for (size_t step = 0; step < n_nodes; step++, k = (k + 1) % n_nodes)
            if (strcmp(nodes[k].path, mod) == 0) {
                found = k;
                break;
            }
        if (found == n_nodes) continue;
        hint = found;
        if (nodes[found].params > 0 && nodes[found].trainable == nodes[found].params &&
            json_array_append_new(list, json_string(info.name)) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    if (!list) errmsg_set(err, errlen, "out of memory");
    return list;
}

// ---------------------------------------------------------------------------------------------
// save

static ft_status *optim_info(void *src, size_t i, ft_tensor_info *out) { return ft_optimizer_state_info(src, i, out); }
static ft_status *optim_get(void *src, size_t i, void *dst, size_t nbytes) {
    return ft_optimizer_state_get(src, i, dst, nbytes);
}

// The optimizer's parameter groups as JSON text: [{"modules": ..., "lr": ..., "momentum": ...}, ...].
static char *param_groups_text(ft_optimizer *opt) {
    json_t *list = json_array();
    for (size_t g = 0; list && g < ft_optimizer_group_count(opt); g++) {
        ft_group_info info;
        ft_status *s = ft_optimizer_group_get(opt, g, &info);
        if (s) {
            ft_status_free(s);
            continue;
        }
        json_array_append_new(
            list, json_pack("{s:s, s:f, s:f}", "modules", info.modules, "lr", info.lr, "momentum", info.momentum));
    }
    return list ? dump(list) : NULL;
}

// Writes opt's state for spath, not yet in place (*pending; NULL when the optimizer holds none).
static int save_optimizer(const char *spath, ft_optimizer *opt, const char *save_id, safet_pending **pending, char *err,
                          size_t errlen) {
    *pending = NULL;
    tensor_table t = {ft_optimizer_state_count(opt), optim_info, optim_get, opt};
    if (t.n == 0) return 0;
    char version[16];
    snprintf(version, sizeof version, "%d", CHECKPOINT_VERSION);
    char *groups = param_groups_text(opt);
    if (!groups) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    const char *keys[] = {"frost.optimizer_state", "frost.save_id", "frost.param_groups"};
    const char *values[] = {version, save_id, groups};
    char why[1024];
    int rc = weights_write_tensors(spath, &t, keys, values, 3, pending, why, sizeof why);
    free(groups);
    if (rc != 0) {
        errmsg_set(err, errlen, "optimizer state: %s", why);
        return -1;
    }
    return 0;
}

// Puts a written checkpoint (main) and its sidecar (side; NULL: the new one has no optimizer state) in
// place as one: the old sidecar is kept as PATH.optim.prev until both new files are, so at every
// moment the main file in place has its own sidecar, at PATH.optim or PATH.optim.prev (the loader
// looks at both, by save id). Frees both pendings.
static int commit_pair(const char *path, const char *spath, safet_pending *main_p, safet_pending *side, char *err,
                       size_t errlen) {
    char *prev = with_suffix(spath, CHECKPOINT_PREV_SUFFIX);
    if (!prev) {
        safet_abort(main_p);
        safet_abort(side);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0, had_old = 0, side_in_place = 0;
    // what is removed or renamed below is a file (checked before the save, and again now)
    if (atomic_file_check_kind(spath, err, errlen) != 0 || atomic_file_check_kind(prev, err, errlen) != 0) {
        safet_abort(main_p);
        safet_abort(side);
        free(prev);
        return -1;
    }
    if (side) {
        if (unlink(prev) != 0 && errno != ENOENT) rc = -1;   // a stale one from an interrupted save
        if (rc == 0) {
            had_old = rename(spath, prev) == 0;
            if (!had_old && errno != ENOENT) rc = -1;
        }
        if (rc != 0) {
            errmsg_set(err, errlen, "%s: cannot set the old optimizer state aside: %s", spath, strerror(errno));
            safet_abort(main_p);
            safet_abort(side);
        } else if (safet_commit(side, err, errlen) != 0) {
            safet_abort(main_p);
            rc = -1;
        } else {
            side_in_place = 1;
            rc = safet_commit(main_p, err, errlen);
        }
        if (rc != 0 && had_old)
            (void)rename(prev, spath);   // the old pair again
        else if (rc != 0 && side_in_place)
            (void)unlink(spath);   // there was no old sidecar: none is left beside the old file
    } else if (safet_commit(main_p, err, errlen) != 0) {
        rc = -1;
    } else if (unlink(spath) != 0 && errno != ENOENT) {   // the old state would not fit the new weights
        errmsg_set(err, errlen, "%s: saved, but the old %s could not be removed: %s", path, spath, strerror(errno));
        rc = -1;
    }
    if (rc == 0) unlink(prev);
    free(prev);
    return rc;
}

int checkpoint_check_target(const char *path, char *err, size_t errlen) {
    if (atomic_file_check(path, err, errlen) != 0) return -1;
    char *spath = sidecar_path(path), *prev = spath ? with_suffix(spath, CHECKPOINT_PREV_SUFFIX) : NULL;
    int rc = spath && prev ? 0 : -1;
    if (rc != 0) errmsg_set(err, errlen, "out of memory");
    // the sidecar and the old one set aside during a save are replaced or removed: files only
    if (rc == 0 && atomic_file_check_kind(spath, err, errlen) != 0) rc = -1;
    if (rc == 0 && atomic_file_check_kind(prev, err, errlen) != 0) rc = -1;
    free(spath);
    free(prev);
    return rc;
}

int checkpoint_save(const char *path, ft_model *m, ft_optimizer *opt, const checkpoint_meta *meta, char *err,
                    size_t errlen) {
    if (!path || !m || !meta) {
        errmsg_set(err, errlen, "checkpoint_save: NULL argument");
        return -1;
    }
    if (checkpoint_meta_check(meta, err, errlen) != 0) return -1;
    if (checkpoint_check_target(path, err, errlen) != 0) return -1;
    if (meta->num_classes != ft_model_num_classes(m)) {
        errmsg_set(err, errlen, "checkpoint: %lld class names for a model with %lld outputs",
                   (long long)meta->num_classes, (long long)ft_model_num_classes(m));
        return -1;
    }

    json_t *trainable = trainable_list(m, err, errlen);
    if (!trainable) return -1;
    char *trainable_text = dump(trainable);

    json_t *names = json_array();
    for (int64_t i = 0; names && i < meta->num_classes; i++)
        if (json_array_append_new(names, json_string(meta->class_names[i])) != 0) {
            json_decref(names);
            names = NULL;
        }
    char *names_text = dump(names);

    json_t *metrics = json_object();
    if (metrics) {
        json_object_set_new(metrics, "train_loss", number_or_null(meta->train_loss));
        json_object_set_new(metrics, "train_acc", number_or_null(meta->train_acc));
        json_object_set_new(metrics, "valid_loss", number_or_null(meta->valid_loss));
        json_object_set_new(metrics, "valid_acc", number_or_null(meta->valid_acc));
    }
    char *metrics_text = dump(metrics);

    char version[16], size[16], epoch[16], mean[128], std[128], save_id[64];
    snprintf(version, sizeof version, "%d", CHECKPOINT_VERSION);
    snprintf(size, sizeof size, "%d", meta->tf.size);
    snprintf(epoch, sizeof epoch, "%d", meta->epoch);
    checkpoint_float3_json(mean, sizeof mean, meta->tf.mean);
    checkpoint_float3_json(std, sizeof std, meta->tf.std);
    make_save_id(save_id, sizeof save_id);
    int replaced = meta->head_replaced || meta->num_classes != TRANSFER_IMAGENET_CLASSES;

    char *spath = sidecar_path(path);
    int rc = 0;
    if (!trainable_text || !names_text || !metrics_text || !spath) {
        errmsg_set(err, errlen, "out of memory");
        rc = -1;
    }

    // both files written first; only when both are whole do they go in place (commit_pair)
    safet_pending *side = NULL, *main_p = NULL;
    if (rc == 0 && opt) rc = save_optimizer(spath, opt, save_id, &side, err, errlen);
    if (rc == 0) {
        const char *keys[] = {"frost.checkpoint", "frost.class_names", "frost.head_replaced", "frost.input_size",
                              "frost.resize",     "frost.mean",        "frost.std",           "frost.trainable",
                              "frost.epoch",      "frost.metrics",     "frost.save_id",       "frost.optimizer",
                              "frost.train"};
        const char *values[] = {version,
                                names_text,
                                replaced ? "1" : "0",
                                size,
                                meta->tf.fit == TRANSFORM_SHORT_CROP ? "crop" : "square",
                                mean,
                                std,
                                trainable_text,
                                epoch,
                                metrics_text,
                                save_id,
                                side ? "sidecar" : "none",
                                meta->train_config};
        size_t n_keys = sizeof keys / sizeof *keys - (meta->train_config ? 0 : 1);
        rc = weights_save_meta(m, path, keys, values, n_keys, &main_p, err, errlen);
    }
    if (rc == 0)
        rc = commit_pair(path, spath, main_p, side, err, errlen);
    else
        safet_abort(side);   // nothing in place has changed
    free(spath);
    free(trainable_text);
    free(names_text);
    free(metrics_text);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// load

static int parse_float3(const char *text, float out[3]) {
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    int ok = json_is_array(j) && json_array_size(j) == 3;
    for (size_t i = 0; ok && i < 3; i++) {
        json_t *v = json_array_get(j, i);
        ok = json_is_number(v);
        if (ok) out[i] = (float)json_number_value(v);
    }
    json_decref(j);
    return ok ? 0 : -1;
}

// A JSON array of strings into a fresh char** (*n entries). -1 when it is not one.
static int parse_strings(const char *text, char ***out, size_t *n) {
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_array(j)) {
        json_decref(j);
        return -1;
    }
    size_t count = json_array_size(j);
    char **v = calloc(count ? count : 1, sizeof *v);
    int ok = v != NULL;
    for (size_t i = 0; ok && i < count; i++) {
        json_t *s = json_array_get(j, i);
        ok = json_is_string(s) && (v[i] = strdup(json_string_value(s))) != NULL;
    }
    json_decref(j);
    if (!ok) {
        free_strings(v, count);
        return -1;
    }
    *out = v;
    *n = count;
    return 0;
}

static double metric(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

// Reads the metadata of an open checkpoint into meta (already init'ed). `path` names it in messages.
static int read_meta(const safet_file *f, const char *path, checkpoint_meta *meta, char *err, size_t errlen) {
    const char *version = safet_meta(f, "frost.checkpoint");
    if (!version) {
        const char *arch = safet_meta(f, "frost.arch");
        if (arch) {
            errmsg_set(err, errlen, "%s: frost weights, not a checkpoint (no class names or preprocessing)", path);
            snprintf(meta->arch, sizeof meta->arch, "%s", arch);   // for the caller's hint
        } else {
            errmsg_set(err, errlen, "%s: not a frost checkpoint (no frost.arch metadata)", path);
        }
        return CHECKPOINT_E_WEIGHTS;
    }
    long long v;
    if (number_parse_int(version, 1, 1000000, &v) != 0) {
        errmsg_set(err, errlen, "%s: frost.checkpoint is '%.20s', not a version number", path, version);
        return -1;
    }
    if (v > CHECKPOINT_VERSION) {
        errmsg_set(err, errlen, "%s: checkpoint format %lld is newer than this frost reads (%d)", path, v,
                   CHECKPOINT_VERSION);
        return -1;
    }

    const char *arch = safet_meta(f, "frost.arch");
    if (!arch || ft_arch_family(arch) == FT_FAMILY_NONE) {
        char known[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < ft_arch_count() && used < sizeof known; i++)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", ft_arch_name(i));
        errmsg_set(err, errlen, "%s: unknown architecture '%.40s' (this frost knows %s)", path, arch ? arch : "",
                   known);
        return -1;
    }
    snprintf(meta->arch, sizeof meta->arch, "%s", arch);

    long long classes;
    if (number_parse_int(safet_meta(f, "frost.classes"), 1, 1000000, &classes) != 0) {
        errmsg_set(err, errlen, "%s: frost.classes is missing or not a number from 1 to 1000000", path);
        return -1;
    }
    char **names = NULL;
    size_t n_names = 0;
    if (parse_strings(safet_meta(f, "frost.class_names"), &names, &n_names) != 0) {
        errmsg_set(err, errlen, "%s: frost.class_names is missing or not a JSON list of strings", path);
        return -1;
    }
    if ((long long)n_names != classes) {
        errmsg_set(err, errlen, "%s: %zu class names but frost.classes says %lld", path, n_names, classes);
        free_strings(names, n_names);
        return -1;
    }
    meta->class_names = names;
    meta->num_classes = classes;

    const char *head = safet_meta(f, "frost.head_replaced");
    meta->head_replaced = head && strcmp(head, "1") == 0;

    long long size;
    const char *resize = safet_meta(f, "frost.resize");
    if (number_parse_int(safet_meta(f, "frost.input_size"), 1, TRANSFORM_MAX_SIZE, &size) != 0) {
        errmsg_set(err, errlen, "%s: frost.input_size is missing or not a number from 1 to %d", path,
                   TRANSFORM_MAX_SIZE);
        return -1;
    }
    if (!resize || (strcmp(resize, "square") != 0 && strcmp(resize, "crop") != 0)) {
        errmsg_set(err, errlen, "%s: frost.resize is missing or neither \"square\" nor \"crop\"", path);
        return -1;
    }
    meta->tf.size = (int)size;
    meta->tf.fit = strcmp(resize, "crop") == 0 ? TRANSFORM_SHORT_CROP : TRANSFORM_SQUARE;
    meta->tf.fast = 0;
    if (parse_float3(safet_meta(f, "frost.mean"), meta->tf.mean) != 0 ||
        parse_float3(safet_meta(f, "frost.std"), meta->tf.std) != 0) {
        errmsg_set(err, errlen, "%s: frost.mean and frost.std must each be a JSON list of 3 numbers", path);
        return -1;
    }
    char why[256];
    if (transform_params_check(&meta->tf, why, sizeof why) != 0) {
        errmsg_set(err, errlen, "%s: %s", path, why);
        return -1;
    }

    if (parse_strings(safet_meta(f, "frost.trainable"), &meta->trainable, &meta->n_trainable) != 0) {
        errmsg_set(err, errlen, "%s: frost.trainable is missing or not a JSON list of parameter names", path);
        return -1;
    }
    long long epoch = 0;
    const char *epoch_text = safet_meta(f, "frost.epoch");
    if (epoch_text && number_parse_int(epoch_text, 0, 1000000000, &epoch) != 0) {
        errmsg_set(err, errlen, "%s: frost.epoch is not a number", path);
        return -1;
    }
    meta->epoch = (int)epoch;
    json_t *metrics = json_loads(safet_meta(f, "frost.metrics") ? safet_meta(f, "frost.metrics") : "{}", 0, NULL);
    meta->train_loss = metric(metrics, "train_loss");
    meta->train_acc = metric(metrics, "train_acc");
    meta->valid_loss = metric(metrics, "valid_loss");
    meta->valid_acc = metric(metrics, "valid_acc");
    json_decref(metrics);
    const char *train = safet_meta(f, "frost.train");
    if (train && !(meta->train_config = strdup(train))) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

// Sets the flags recorded in meta->trainable, then checks the model reads them back the same.
static int restore_trainable(ft_model *m, const checkpoint_meta *meta, const char *path, char *err, size_t errlen) {
    ft_status *s = ft_model_set_trainable(m, "", 0);
    char last[512] = "\x01";
    for (size_t i = 0; !s && i < meta->n_trainable; i++) {
        char mod[512];
        if (module_of(meta->trainable[i], mod, sizeof mod) != 0 || strcmp(mod, last) == 0) continue;
        s = ft_model_set_trainable(m, mod, 1);
        snprintf(last, sizeof last, "%s", mod);
    }
    if (s) {
        errmsg_set(err, errlen, "%s: frost.trainable: %s", path, ft_status_message(s));
        ft_status_free(s);
        return -1;
    }
    json_t *now = trainable_list(m, err, errlen);
    if (!now) return -1;
    int same = json_array_size(now) == meta->n_trainable;
    for (size_t i = 0; same && i < meta->n_trainable; i++)
        same = strcmp(json_string_value(json_array_get(now, i)), meta->trainable[i]) == 0;
    json_decref(now);
    if (!same) {
        errmsg_set(err, errlen, "%s: frost.trainable names parameters that %s does not have (or not in its order)",
                   path, meta->arch);
        return -1;
    }
    return 0;
}

// The head's outputs as the file's tensors say: the first dimension of the model's last state entry
// (the head's final bias, "fc.bias" / "classifier.6.bias").
static int check_head(const ft_model *m, const safet_file *f, const char *path, int64_t classes, char *err,
                      size_t errlen) {
    size_t n = ft_model_state_count(m);
    ft_tensor_info info;
    ft_status *s = n ? ft_model_state_info(m, n - 1, &info) : NULL;
    if (s || n == 0) {
        errmsg_set(err, errlen, "%s: %s", path, s ? ft_status_message(s) : "model has no state");
        ft_status_free(s);
        return -1;
    }
    const safet_tensor *t = safet_find(f, info.name);
    if (t && t->ndim == 1 && t->shape[0] != classes) {
        errmsg_set(err, errlen, "%s: %lld class names but the head (%s) has %lld outputs", path, (long long)classes,
                   info.name, (long long)t->shape[0]);
        return -1;
    }
    return 0;   // anything else is for the strict load to report
}

int checkpoint_load(const char *path, ft_model **out, checkpoint_meta *meta, char *err, size_t errlen) {
    checkpoint_meta_init(meta);
    safet_file f;
    if (safet_open(&f, path, err, errlen) != 0) return -1;
    checkpoint_meta got;
    checkpoint_meta_init(&got);
    ft_model *m = NULL;
    int rc = read_meta(&f, path, &got, err, errlen);
    if (rc == CHECKPOINT_E_WEIGHTS) {
        snprintf(meta->arch, sizeof meta->arch, "%s", got.arch);
        safet_close(&f);
        return rc;
    }
    if (rc == 0) {
        int replaced = got.head_replaced || got.num_classes != TRANSFER_IMAGENET_CLASSES;
        transfer_spec spec = {.arch = got.arch, .classes = replaced ? got.num_classes : 0};
        char why[512];
        if (transfer_build(&spec, &m, NULL, 0, why, sizeof why) != 0) {
            errmsg_set(err, errlen, "%s: %s", path, why);
            rc = -1;
        }
    }
    if (rc == 0) rc = check_head(m, &f, path, got.num_classes, err, errlen);
    if (rc == 0) rc = weights_load_file(m, &f, path, err, errlen);
    if (rc == 0) rc = restore_trainable(m, &got, path, err, errlen);
    safet_close(&f);
    if (rc != 0) {
        ft_model_free(m);
        checkpoint_meta_free(&got);
        return -1;
    }
    ft_model_set_training(m, 0);
    *meta = got;
    *out = m;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// optimizer state

// The sidecar of the open main file: PATH.optim, or PATH.optim.prev when a save was interrupted
// while putting the new pair in place (commit_pair); the one with main's save id. 1 with *side open
// (its path in *spath, allocated), 0 when there is none, -1 with err.
static int open_sidecar(const char *path, const safet_file *main_file, safet_file *side, char **spath, char *err,
                        size_t errlen) {
    const char *id_main = safet_meta(main_file, "frost.save_id");
    const char *kind = safet_meta(main_file, "frost.optimizer");
    *spath = NULL;
    if (kind && strcmp(kind, "none") == 0) return 0;   // saved without optimizer state: a sidecar is stale
    char *paths[2] = {sidecar_path(path), NULL};
    if (paths[0]) paths[1] = with_suffix(paths[0], CHECKPOINT_PREV_SUFFIX);
    if (!paths[0] || !paths[1]) {
        free(paths[0]);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    int found = 0, any = 0;
    for (int k = 0; k < 2 && !found; k++) {
        if (access(paths[k], F_OK) != 0) continue;
        any = any || k == 0;
        char why[1024];
        if (safet_open(side, paths[k], why, sizeof why) != 0) {
            if (k == 0) {
                errmsg_set(err, errlen, "%s", why);
                found = -1;
            }
            continue;
        }
        const char *id_side = safet_meta(side, "frost.save_id");
        if (!safet_meta(side, "frost.optimizer_state")) {
            if (k == 0) {
                errmsg_set(err, errlen, "%s: not a frost optimizer state file", paths[k]);
                found = -1;
            }
        } else if (id_main && id_side && strcmp(id_main, id_side) == 0) {
            if (safet_check_digest(side, WEIGHTS_DIGEST_KEY, why, sizeof why) < 0) {
                errmsg_set(err, errlen, "%s: %s", paths[k], why);
                found = -1;
            } else {
                found = 1;
                *spath = paths[k];
                paths[k] = NULL;
                continue;
            }
        }
        safet_close(side);
    }
    if (found == 0 && any)
        errmsg_set(err, errlen,
                   "%s is from another save than %s (a save was interrupted?); delete it to resume with a fresh "
                   "optimizer",
                   paths[0], path);
    free(paths[0]);
    free(paths[1]);
    return found == 0 && any ? -1 : found;
}

// The learning rates and momenta the sidecar's parameter groups had, into opt's groups of the same
// modules (in the same place); groups that differ (a resumed run asked for others) keep opt's own.
static void restore_param_groups(const safet_file *side, ft_optimizer *opt) {
    const char *text = safet_meta(side, "frost.param_groups");
    json_t *list = text ? json_loads(text, 0, NULL) : NULL;
    size_t n = ft_optimizer_group_count(opt);
    for (size_t g = 0; g < json_array_size(list) && g < n; g++) {
        json_t *e = json_array_get(list, g);
        const char *modules = json_string_value(json_object_get(e, "modules"));
        double lr = json_number_value(json_object_get(e, "lr")),
               mom = json_number_value(json_object_get(e, "momentum"));
        ft_group_info info;
        ft_status *s = ft_optimizer_group_get(opt, g, &info);
        if (!s && modules && strcmp(modules, info.modules) == 0 && lr > 0 && isfinite(lr))
            s = ft_optimizer_group_set(opt, g, lr, isfinite(mom) && mom >= 0 ? mom : -1);
        ft_status_free(s);
    }
    json_decref(list);
}

int checkpoint_sidecar(const char *path, char **spath, char *err, size_t errlen) {
    *spath = NULL;
    safet_file main_file, side;
    if (safet_open(&main_file, path, err, errlen) != 0) return -1;
    int rc = open_sidecar(path, &main_file, &side, spath, err, errlen);
    safet_close(&main_file);
    if (rc > 0) safet_close(&side);
    return rc;
}

int checkpoint_load_optimizer(const char *path, ft_optimizer *opt, size_t *restored, char *err, size_t errlen) {
    *restored = 0;
    safet_file main_file, side;
    if (safet_open(&main_file, path, err, errlen) != 0) return -1;
    char *spath = NULL;
    int rc = open_sidecar(path, &main_file, &side, &spath, err, errlen);
    safet_close(&main_file);
    if (rc <= 0) return rc;
    rc = 0;
    for (size_t i = 0; rc == 0 && i < side.n_tensors; i++) {
        const safet_tensor *t = &side.tensors[i];
        if (t->dtype != SAFET_F32 && t->dtype != SAFET_I64) {
            errmsg_set(err, errlen, "%s: '%s' is %s (optimizer state is F32 or I64)", spath, t->name,
                       safet_dtype_name(t->dtype));
            rc = -1;
            break;
        }
        int used = 0;
        ft_status *s = ft_optimizer_state_set(opt, t->name, t->dtype == SAFET_I64 ? FT_I64 : FT_F32, t->ndim, t->shape,
                                              t->data, t->nbytes, &used);
        if (s) {
            errmsg_set(err, errlen, "%s: %s", spath, ft_status_message(s));
            ft_status_free(s);
            rc = -1;
        }
        *restored += (size_t)used;
    }
    if (rc == 0) restore_param_groups(&side, opt);
    safet_close(&side);
    free(spath);
    return rc;
}
