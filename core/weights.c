// weights.c — strict load and atomic save of a model's state_dict in safetensors. The file format
// itself lives in safetensors.c; this file matches its tensors against the model's by name, dtype
// and shape and moves the bytes through the shim.
#include "weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
// load

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

// Fills the three lists; returns the number of problems found.
static size_t check_fit(const ft_model *m, const safet_file *f, name_list *missing,
                        name_list *unexpected, name_list *mismatched) {
    size_t n = ft_model_state_count(m);
    for (size_t i = 0; i < n; i++) {
        ft_tensor_info info;
        ft_status *s = ft_model_state_info(m, i, &info);
        if (s) {
            list_add(mismatched, ft_status_message(s));
            ft_status_free(s);
            continue;
        }
        const safet_tensor *t = safet_find(f, info.name);
        if (!t) {
            list_add(missing, info.name);
        } else if (t->dtype != dtype_to_safet(info.dtype)) {
            char item[320];
            snprintf(item, sizeof item, "%s: file %s, model %s", info.name, safet_dtype_name(t->dtype),
                     safet_dtype_name(dtype_to_safet(info.dtype)));
            list_add(mismatched, item);
        } else if (!same_shape(&info, t)) {
            char have[96], want[96], item[320];
            shape_text(have, sizeof have, t->ndim, t->shape);
            shape_text(want, sizeof want, info.ndim, info.shape);
            snprintf(item, sizeof item, "%s: file %s, model %s", info.name, have, want);
            list_add(mismatched, item);
        }
    }
    for (size_t j = 0; j < f->n_tensors; j++)
        if (!model_has(m, f->tensors[j].name)) list_add(unexpected, f->tensors[j].name);
    return missing->count + unexpected->count + mismatched->count;
}

int weights_load_file(ft_model *m, const safet_file *f, const char *path, char *err, size_t errlen) {
    name_list missing = {{0}, 0}, unexpected = {{0}, 0}, mismatched = {{0}, 0};
    if (check_fit(m, f, &missing, &unexpected, &mismatched) > 0) {
        list_finish(&missing);
        list_finish(&unexpected);
        list_finish(&mismatched);
        char parts[3][600];
        snprintf(parts[0], sizeof parts[0], missing.count ? "; %zu missing: %s" : "", missing.count, missing.text);
        snprintf(parts[1], sizeof parts[1], unexpected.count ? "; %zu unexpected: %s" : "", unexpected.count,
                 unexpected.text);
        snprintf(parts[2], sizeof parts[2], mismatched.count ? "; %zu mismatched: %s" : "", mismatched.count,
                 mismatched.text);
        snprintf(err, errlen, "%s does not fit %s (%lld classes)%s%s%s", path, ft_model_arch(m),
                 (long long)ft_model_num_classes(m), parts[0], parts[1], parts[2]);
        return -1;
    }
    size_t n = ft_model_state_count(m);
    for (size_t i = 0; i < n; i++) {
        ft_tensor_info info;
        ft_status *s = ft_model_state_info(m, i, &info);
        if (!s) {
            const safet_tensor *t = safet_find(f, info.name);
            s = ft_model_state_set(m, i, t->data, t->nbytes);
        }
        if (s) {
            snprintf(err, errlen, "%s: %s", path, ft_status_message(s));
            ft_status_free(s);
            return -1;
        }
    }
    return 0;
}

int weights_load(ft_model *m, const char *path, char *err, size_t errlen) {
    safet_file f;
    char why[512];
    if (safet_open(&f, path, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    int rc = weights_load_file(m, &f, path, err, errlen);
    safet_close(&f);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// save

static int fill_from_model(void *user, size_t index, void *dst, size_t nbytes, char *err, size_t errlen) {
    ft_status *s = ft_model_state_get((const ft_model *)user, index, dst, nbytes);
    if (!s) return 0;
    snprintf(err, errlen, "%s", ft_status_message(s));
    ft_status_free(s);
    return -1;
}

int weights_save_meta(ft_model *m, const char *path, const char *const *keys, const char *const *values,
                      size_t n_extra, char *err, size_t errlen) {
    size_t n = ft_model_state_count(m);
    safet_entry *entries = calloc(n ? n : 1, sizeof *entries);
    ft_tensor_info *infos = calloc(n ? n : 1, sizeof *infos);
    const char **all_keys = calloc(3 + n_extra, sizeof *all_keys);
    const char **all_values = calloc(3 + n_extra, sizeof *all_values);
    if (!entries || !infos || !all_keys || !all_values) {
        free(entries);
        free(infos);
        free(all_keys);
        free(all_values);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        ft_status *s = ft_model_state_info(m, i, &infos[i]);
        if (s) {
            snprintf(err, errlen, "%s", ft_status_message(s));
            ft_status_free(s);
            rc = -1;
            break;
        }
        entries[i] = (safet_entry){infos[i].name, dtype_to_safet(infos[i].dtype), infos[i].ndim, infos[i].shape};
    }
    if (rc == 0) {
        char classes[32];
        snprintf(classes, sizeof classes, "%lld", (long long)ft_model_num_classes(m));
        all_keys[0] = "format", all_values[0] = "pt";
        all_keys[1] = "frost.arch", all_values[1] = ft_model_arch(m);
        all_keys[2] = "frost.classes", all_values[2] = classes;
        for (size_t k = 0; k < n_extra; k++) {
            all_keys[3 + k] = keys[k];
            all_values[3 + k] = values[k];
        }
        rc = safet_write(path, entries, n, all_keys, all_values, 3 + n_extra, fill_from_model, m, err, errlen);
    }
    free(entries);
    free(infos);
    free(all_keys);
    free(all_values);
    return rc;
}

int weights_save(ft_model *m, const char *path, char *err, size_t errlen) {
    return weights_save_meta(m, path, NULL, NULL, 0, err, errlen);
}
