// weights.c — strict load of a model's state_dict from safetensors or .pth files (timm's VGG names
// mapped), and its atomic save in safetensors. The file formats live in safetensors.c and
// pth_file.c; this file matches their tensors against the model's by name, dtype and shape and moves
// the bytes through the shim.
#include "weights.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "i18n.h"
#include "regular_file.h"
#include "safetensors.h"

// ---------------------------------------------------------------------------------------------
// a short list of names for an error line: "a, b, c and 7 more"

#define LIST_SHOWN 3

typedef struct {
    char text[512];
    size_t count;
} name_list;

static void list_add(name_list *l, const char *item) {
    if (l->count < LIST_SHOWN) {
        size_t used = strlen(l->text);
        snprintf(l->text + used, sizeof l->text - used, "%s%s", l->count ? ", " : "", item);
    }
    l->count++;
}

static void list_finish(name_list *l) {
    if (l->count > LIST_SHOWN) {
        size_t used = strlen(l->text);
        snprintf(l->text + used, sizeof l->text - used, " and %zu more", l->count - LIST_SHOWN);
    }
}

static void shape_text(char *buf, size_t len, int ndim, const int64_t *shape) {
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < ndim && used < len; d++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (used < len) snprintf(buf + used, len - used, "]");
}

static safet_dtype dtype_to_safet(ft_dtype d) { return d == FT_I64 ? SAFET_I64 : SAFET_F32; }

// ---------------------------------------------------------------------------------------------
// opening any format

// timm's VGG names for torchvision's classifier; the weights are convolutions there and are
// flattened to Linear shapes ([out, in, kh, kw] -> [out, in*kh*kw]: the same bytes).
static const struct {
    const char *timm, *tv;
} TIMM_VGG[] = {
    {"pre_logits.fc1.weight", "classifier.0.weight"}, {"pre_logits.fc1.bias", "classifier.0.bias"},
    {"pre_logits.fc2.weight", "classifier.3.weight"}, {"pre_logits.fc2.bias", "classifier.3.bias"},
    {"head.fc.weight", "classifier.6.weight"},        {"head.fc.bias", "classifier.6.bias"},
};
#define N_TIMM_VGG (sizeof TIMM_VGG / sizeof TIMM_VGG[0])

static int is_timm_vgg(const safet_tensor *ts, size_t n) {
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < N_TIMM_VGG; k++)
            if (strcmp(ts[i].name, TIMM_VGG[k].timm) == 0) return 1;
    return 0;
}

// A copy of the tensor records with timm's names and shapes made torchvision's (data shared).
static safet_tensor *map_timm(const safet_tensor *ts, size_t n) {
    safet_tensor *out = calloc(n ? n : 1, sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        out[i] = ts[i];
        for (size_t k = 0; k < N_TIMM_VGG; k++) {
            if (strcmp(ts[i].name, TIMM_VGG[k].timm) != 0) continue;
            out[i].name = (char *)TIMM_VGG[k].tv;
            if (ts[i].ndim == 4) {
                out[i].ndim = 2;
                out[i].shape[1] = ts[i].shape[1] * ts[i].shape[2] * ts[i].shape[3];
                out[i].shape[2] = out[i].shape[3] = 0;
            }
        }
    }
    return out;
}

int weights_file_open(weights_file *w, const char *path, char *err, size_t errlen) {
    memset(w, 0, sizeof *w);
    unsigned char head[8] = {0};
    struct stat st;
    char why[256];
    int fd = regular_file_open(path, &st, why, sizeof why);
    if (fd < 0) {
        errmsg_set(err, errlen, "%s: %s", path, why);
        return -1;
    }
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    size_t got = n > 0 ? (size_t)n : 0;
    if (pth_sniff(head, got)) {
        if (pth_open(&w->pth, path, err, errlen) != 0) return -1;
        w->container = w->pth.format == PTH_ZIP ? WEIGHTS_PTH_ZIP : WEIGHTS_PTH_LEGACY;
        w->tensors = w->pth.tensors;
        w->n_tensors = w->pth.n_tensors;
    } else {
        // anything else is taken for safetensors, whose reader says what is wrong with it
        char reason[512];
        if (safet_open(&w->st, path, reason, sizeof reason) != 0) {
            errmsg_set(err, errlen, "%s%s", reason,
                       got >= 2 && head[0] == 0x80 ? " (a pickle that is not a torch.save file)" : "");
            return -1;
        }
        if (safet_check_digest(&w->st, WEIGHTS_DIGEST_KEY, reason, sizeof reason) < 0) {
            errmsg_set(err, errlen, "%s: %s", path, reason);
            safet_close(&w->st);
            return -1;
        }
        w->container = WEIGHTS_SAFETENSORS;
        w->tensors = w->st.tensors;
        w->n_tensors = w->st.n_tensors;
    }
    if (is_timm_vgg(w->tensors, w->n_tensors)) {
        if (!(w->mapped = map_timm(w->tensors, w->n_tensors))) {
            weights_file_close(w);
            errmsg_set(err, errlen, "%s: out of memory", path);
            return -1;
        }
        w->tensors = w->mapped;
        w->timm_layout = 1;
    }
    return 0;
}

void weights_file_close(weights_file *w) {
    if (!w) return;
    free(w->mapped);
    safet_close(&w->st);
    pth_close(&w->pth);
    memset(w, 0, sizeof *w);
}

const char *weights_format_name(const weights_file *w) {
    switch (w->container) {
    case WEIGHTS_SAFETENSORS: return w->timm_layout ? "safetensors, timm layout" : "safetensors, torchvision layout";
    case WEIGHTS_PTH_ZIP: return w->timm_layout ? "torch.save zip, timm layout" : "torch.save zip";
    case WEIGHTS_PTH_LEGACY: return w->timm_layout ? "legacy torch.save, timm layout" : "legacy torch.save";
    }
    return "unknown";
}

const char *weights_file_meta(const weights_file *w, const char *key) {
    return w->container == WEIGHTS_SAFETENSORS ? safet_meta(&w->st, key) : NULL;
}

// ---------------------------------------------------------------------------------------------
// which architecture the names suggest

static const safet_tensor *find_in(const safet_tensor *ts, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(ts[i].name, name) == 0) return &ts[i];
    return NULL;
}

// The shim's own (static) name for arch, or NULL when it builds no such architecture.
static const char *arch_named(const char *arch) {
    for (size_t i = 0; i < ft_arch_count(); i++)
        if (strcmp(ft_arch_name(i), arch) == 0) return ft_arch_name(i);
    return NULL;
}

const char *weights_guess_arch(const weights_file *w) {
    char guess[32];
    const safet_tensor *ts = w->tensors;
    size_t n = w->n_tensors;
    char key[64];
    if (find_in(ts, n, "layer1.0.conv1.weight")) {
        int blocks[4], bottleneck = find_in(ts, n, "layer1.0.conv3.weight") != NULL;
        for (int l = 0; l < 4; l++) {
            blocks[l] = 0;
            for (;;) {
                snprintf(key, sizeof key, "layer%d.%d.conv1.weight", l + 1, blocks[l]);
                if (!find_in(ts, n, key)) break;
                blocks[l]++;
            }
        }
        static const struct {
            int blocks[4], bottleneck;
            const char *arch;
        } RESNETS[] = {{{2, 2, 2, 2}, 0, "resnet18"},
                       {{3, 4, 6, 3}, 0, "resnet34"},
                       {{3, 4, 6, 3}, 1, "resnet50"},
                       {{3, 4, 23, 3}, 1, "resnet101"},
                       {{3, 8, 36, 3}, 1, "resnet152"}};
        for (size_t r = 0; r < sizeof RESNETS / sizeof RESNETS[0]; r++)
            if (RESNETS[r].bottleneck == bottleneck && memcmp(RESNETS[r].blocks, blocks, sizeof blocks) == 0)
                return arch_named(RESNETS[r].arch);
        return NULL;
    }
    if (find_in(ts, n, "features.0.weight")) {
        int convs = 0, bn = 0;
        for (size_t i = 0; i < n; i++) {
            const char *nm = ts[i].name, *dot;
            if (strncmp(nm, "features.", 9) != 0 || !(dot = strchr(nm + 9, '.'))) continue;
            if (strcmp(dot, ".weight") == 0 && ts[i].ndim == 4) convs++;
            if (strcmp(dot, ".running_mean") == 0) bn = 1;
        }
        int depth = convs == 8 ? 11 : convs == 10 ? 13 : convs == 13 ? 16 : convs == 16 ? 19 : 0;
        if (!depth) return NULL;
        snprintf(guess, sizeof guess, "vgg%d%s", depth, bn ? "_bn" : "");
        return arch_named(guess);
    }
    return NULL;
}

// ---------------------------------------------------------------------------------------------
// fit and load

static int model_has(const ft_model *m, const char *name) {
    size_t n = ft_model_state_count(m);
    for (size_t i = 0; i < n; i++) {
        ft_tensor_info info;
        ft_status *s = ft_model_state_info(m, i, &info);
        int same = !s && strcmp(info.name, name) == 0;
        ft_status_free(s);
        if (same) return 1;
    }
    return 0;
}

static int same_shape(const ft_tensor_info *a, const safet_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return 0;
    return 1;
}

// A num_batches_tracked the file may lack: its BatchNorm's running_mean is there (PyTorch's rule for
// state_dicts saved before the buffer existed).
static int optional_counter(const char *name, const safet_tensor *ts, size_t n) {
    static const char SUFFIX[] = ".num_batches_tracked";
    size_t len = strlen(name), sl = sizeof SUFFIX - 1;
    if (len <= sl || strcmp(name + len - sl, SUFFIX) != 0 || len - sl > 200) return 0;
    char mean[256];
    snprintf(mean, sizeof mean, "%.*s.running_mean", (int)(len - sl), name);
    return find_in(ts, n, mean) != NULL;
}

// Calls fn for every key that does not fit; returns how many.
static size_t check_tensors(const ft_model *m, const safet_tensor *ts, size_t n_ts, weights_problem_fn fn, void *user) {
    size_t problems = 0, n = ft_model_state_count(m);
    for (size_t i = 0; i < n; i++) {
        ft_tensor_info info;
        ft_status *s = ft_model_state_info(m, i, &info);
        if (s) {
            fn(user, WEIGHTS_MISMATCHED, "?", ft_status_message(s));
            ft_status_free(s);
            problems++;
            continue;
        }
        const safet_tensor *t = find_in(ts, n_ts, info.name);
        char detail[256] = "";
        if (!t) {
            if (optional_counter(info.name, ts, n_ts)) continue;
            fn(user, WEIGHTS_MISSING, info.name, "");
            problems++;
        } else if (t->dtype != dtype_to_safet(info.dtype)) {
            snprintf(detail, sizeof detail, "file %s, model %s", safet_dtype_name(t->dtype),
                     safet_dtype_name(dtype_to_safet(info.dtype)));
            fn(user, WEIGHTS_MISMATCHED, info.name, detail);
            problems++;
        } else if (!same_shape(&info, t)) {
            char have[96], want[96];
            shape_text(have, sizeof have, t->ndim, t->shape);
            shape_text(want, sizeof want, info.ndim, info.shape);
            snprintf(detail, sizeof detail, "file %s, model %s", have, want);
            fn(user, WEIGHTS_MISMATCHED, info.name, detail);
            problems++;
        }
    }
    for (size_t j = 0; j < n_ts; j++)
        if (!model_has(m, ts[j].name)) {
            fn(user, WEIGHTS_UNEXPECTED, ts[j].name, "");
            problems++;
        }
    return problems;
}

size_t weights_fit(const ft_model *m, const weights_file *w, weights_problem_fn fn, void *user) {
    return check_tensors(m, w->tensors, w->n_tensors, fn, user);
}

// The problems as three short lists, for the error line; `skip` (a module path or NULL) leaves out
// the keys under it and counts them in `skipped`.
typedef struct {
    name_list lists[3];
    const char *skip;
    size_t skipped;
    char skipped_text[256];
} problem_lists;

static int under(const char *key, const char *path) {
    size_t n = strlen(path);
    return n && strncmp(key, path, n) == 0 && key[n] == '.';
}

static void collect(void *user, weights_problem kind, const char *key, const char *detail) {
    problem_lists *p = user;
    if (p->skip && under(key, p->skip)) {
        size_t used = strlen(p->skipped_text);
        if (p->skipped < 3)
            snprintf(p->skipped_text + used, sizeof p->skipped_text - used, "%s%s%s%s%s", p->skipped ? ", " : "", key,
                     *detail ? " (" : "", detail, *detail ? ")" : "");
        p->skipped++;
        return;
    }
    char item[320];
    snprintf(item, sizeof item, "%s%s%s", key, *detail ? ": " : "", detail);
    list_add(&p->lists[kind], item);
}

static void fit_error(const ft_model *m, problem_lists *p, const char *path, char *err, size_t errlen) {
    static const char *const WHAT[3] = {N_("missing"), N_("unexpected"), N_("mismatched")};
    char parts[3][600];
    for (int k = 0; k < 3; k++) {
        list_finish(&p->lists[k]);
        if (p->lists[k].count)
            snprintf(parts[k], sizeof parts[k], _("; %zu %s: %s"), p->lists[k].count, _(WHAT[k]), p->lists[k].text);
        else
            parts[k][0] = '\0';
    }
    errmsg_set(err, errlen, "%s does not fit %s (%lld classes)%s%s%s", path, ft_model_arch(m),
               (long long)ft_model_num_classes(m), parts[0], parts[1], parts[2]);
}

// Copies every entry (but those under skip) from ts into m; all was checked before.
static int copy_tensors(ft_model *m, const safet_tensor *ts, size_t n_ts, const char *skip, const char *path, char *err,
                        size_t errlen) {
    size_t n = ft_model_state_count(m);
    for (size_t i = 0; i < n; i++) {
        ft_tensor_info info;
        ft_status *s = ft_model_state_info(m, i, &info);
        if (!s && !(skip && under(info.name, skip))) {
            const safet_tensor *t = find_in(ts, n_ts, info.name);
            if (t) {
                s = ft_model_state_set(m, i, t->data, t->nbytes);
            } else {
                int64_t zero = 0;   // a num_batches_tracked the file lacks (check_tensors let it pass)
                s = ft_model_state_set(m, i, &zero, sizeof zero);
            }
        }
        if (s) {
            errmsg_set(err, errlen, "%s: %s", path, ft_status_message(s));
            ft_status_free(s);
            return -1;
        }
    }
    return 0;
}

static int load_tensors(ft_model *m, const safet_tensor *ts, size_t n_ts, int drop_head, const char *path, char *note,
                        size_t notelen, char *err, size_t errlen) {
    if (note && notelen) note[0] = '\0';
    problem_lists p;
    memset(&p, 0, sizeof p);
    p.skip = drop_head ? ft_model_head_path(m) : NULL;
    if (check_tensors(m, ts, n_ts, collect, &p) > p.skipped) {
        fit_error(m, &p, path, err, errlen);
        return -1;
    }
    const char *skip = p.skipped ? p.skip : NULL;
    if (copy_tensors(m, ts, n_ts, skip, path, err, errlen) != 0) return -1;
    if (skip)
        errmsg_set(note, notelen, "the file's head (%s%s) was not loaded: %s keeps its new %lld-class head",
                   p.skipped_text, p.skipped > 3 ? " ..." : "", skip, (long long)ft_model_num_classes(m));
    return 0;
}

int weights_load_file(ft_model *m, const safet_file *f, const char *path, char *err, size_t errlen) {
    char why[256];
    if (safet_check_digest(f, WEIGHTS_DIGEST_KEY, why, sizeof why) < 0) {
        errmsg_set(err, errlen, "%s: %s", path, why);
        return -1;
    }
    return load_tensors(m, f->tensors, f->n_tensors, 0, path, NULL, 0, err, errlen);
}

static int load_path(ft_model *m, const char *path, int drop_head, char *note, size_t notelen, char *err,
                     size_t errlen) {
    weights_file w;
    if (weights_file_open(&w, path, err, errlen) != 0) return -1;
    int rc = load_tensors(m, w.tensors, w.n_tensors, drop_head, path, note, notelen, err, errlen);
    weights_file_close(&w);
    return rc;
}

int weights_load(ft_model *m, const char *path, char *err, size_t errlen) {
    return load_path(m, path, 0, NULL, 0, err, errlen);
}

int weights_load_backbone(ft_model *m, const char *path, char *note, size_t notelen, char *err, size_t errlen) {
    return load_path(m, path, 1, note, notelen, err, errlen);
}

// ---------------------------------------------------------------------------------------------
// save

static int fill_entry(void *user, size_t index, void *dst, size_t nbytes, char *err, size_t errlen) {
    const tensor_table *t = user;
    ft_status *s = t->get(t->src, index, dst, nbytes);
    if (!s) return 0;
    errmsg_set(err, errlen, "%s", ft_status_message(s));
    ft_status_free(s);
    return -1;
}

int weights_write_tensors(const char *path, const tensor_table *t, const char *const *keys, const char *const *values,
                          size_t n_meta, safet_pending **pending, char *err, size_t errlen) {
    safet_entry *entries = calloc(t->n ? t->n : 1, sizeof *entries);
    ft_tensor_info *infos = calloc(t->n ? t->n : 1, sizeof *infos);
    int rc = entries && infos ? 0 : -1;
    if (rc != 0) errmsg_set(err, errlen, "out of memory");
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        ft_status *s = t->info(t->src, i, &infos[i]);
        if (s) {
            errmsg_set(err, errlen, "%s", ft_status_message(s));
            ft_status_free(s);
            rc = -1;
            break;
        }
        entries[i] = (safet_entry){infos[i].name, dtype_to_safet(infos[i].dtype), infos[i].ndim, infos[i].shape};
    }
    safet_pending *p = NULL;
    if (rc == 0)
        rc = safet_write_pending(path, entries, t->n, keys, values, n_meta, fill_entry, (void *)t, WEIGHTS_DIGEST_KEY,
                                 &p, err, errlen);
    if (rc == 0 && pending)
        *pending = p;
    else if (rc == 0)
        rc = safet_commit(p, err, errlen);
    free(entries);
    free(infos);
    return rc;
}

static ft_status *model_info(void *src, size_t i, ft_tensor_info *out) { return ft_model_state_info(src, i, out); }
static ft_status *model_get(void *src, size_t i, void *dst, size_t nbytes) {
    return ft_model_state_get(src, i, dst, nbytes);
}

int weights_save_meta(ft_model *m, const char *path, const char *const *keys, const char *const *values, size_t n_extra,
                      safet_pending **pending, char *err, size_t errlen) {
    const char **all_keys = calloc(3 + n_extra, sizeof *all_keys);
    const char **all_values = calloc(3 + n_extra, sizeof *all_values);
    if (!all_keys || !all_values) {
        free(all_keys);
        free(all_values);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    char classes[32];
    snprintf(classes, sizeof classes, "%lld", (long long)ft_model_num_classes(m));
    all_keys[0] = "format", all_values[0] = "pt";
    all_keys[1] = "frost.arch", all_values[1] = ft_model_arch(m);
    all_keys[2] = "frost.classes", all_values[2] = classes;
    for (size_t k = 0; k < n_extra; k++) {
        all_keys[3 + k] = keys[k];
        all_values[3 + k] = values[k];
    }
    tensor_table t = {ft_model_state_count(m), model_info, model_get, m};
    int rc = weights_write_tensors(path, &t, all_keys, all_values, 3 + n_extra, pending, err, errlen);
    free(all_keys);
    free(all_values);
    return rc;
}

int weights_save(ft_model *m, const char *path, char *err, size_t errlen) {
    return weights_save_meta(m, path, NULL, NULL, 0, NULL, err, errlen);
}
