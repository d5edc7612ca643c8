// dataset.c — scanning an ImageFolder tree (see dataset.h for the rules and where they differ
// from torchvision's). Each class folder is walked by folder_walk, in torchvision's order.
#include "dataset.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errmsg.h"
#include "folder_walk.h"
#include "path.h"
#include "rng.h"

// ---------------------------------------------------------------------------------------------
// small growable arrays of strings

typedef struct {
    char **v;
    size_t n, cap;
} strvec;

static int strvec_push(strvec *s, char *owned) {
    if (!owned) return -1;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        char **grown = realloc(s->v, cap * sizeof *grown);
        if (!grown) {
            free(owned);
            return -1;
        }
        s->v = grown;
        s->cap = cap;
    }
    s->v[s->n++] = owned;
    return 0;
}

static void strvec_free(strvec *s) {
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// ---------------------------------------------------------------------------------------------

void dataset_opts_default(dataset_opts *o) { *o = (dataset_opts){.valid_fraction = 0.2, .seed = 0, .lenient = 0}; }

static void add_problem(dataset *d, const char *fmt, const char *a, const char *b) {
    char line[1024];
    snprintf(line, sizeof line, fmt, a, b);
    char **grown = realloc(d->problems, (d->n_problems + 1) * sizeof *grown);
    if (!grown) return;
    d->problems = grown;
    d->problems[d->n_problems] = strdup(line);
    if (d->problems[d->n_problems]) d->n_problems++;
}

// The visible sub-folders of dir, sorted (names only).
static int list_subdirs(const char *dir, strvec *out) {
    DIR *dp = opendir(dir);
    if (!dp) return -1;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.') continue;
        char *p = path_join(dir, e->d_name);
        int sub = p && path_is_dir(p);
        free(p);
        if (sub && strvec_push(out, strdup(e->d_name)) != 0) {
            closedir(dp);
            return -1;
        }
    }
    closedir(dp);
    if (out->n > 1) qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return 0;
}

static int push_item(dataset_split *s, size_t *cap, char *path, int label) {
    if (s->n_items == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        dataset_item *grown = realloc(s->items, c * sizeof *grown);
        if (!grown) return -1;
        s->items = grown;
        *cap = c;
    }
    s->items[s->n_items++] = (dataset_item){path, label};
    return 0;
}

// Reads every class folder of one split folder. Returns -1 only on lack of memory.
static int scan_split(dataset *d, dataset_split *s, const char *split_dir) {
    size_t cap = 0;
    for (size_t c = 0; c < d->n_classes; c++) {
        char *cdir = path_join(split_dir, d->classes[c]);
        if (!cdir) return -1;
        if (!path_is_dir(cdir)) {   // a class only other splits have
            free(cdir);
            continue;
        }
        folder_files files = {0};
        int rc = folder_walk_images(cdir, &d->skipped, &files);
        size_t before = s->n_items;
        for (size_t k = 0; rc == 0 && k < files.n; k++) {
            rc = push_item(s, &cap, files.paths[k], (int)c);
            if (rc == 0) files.paths[k] = NULL;   // the item owns it now
        }
        folder_files_free(&files);
        if (rc != 0) {
            free(cdir);
            return -1;
        }
        if (s->n_items == before) add_problem(d, "%s: no usable image (looked for %s)", cdir, FOLDER_WALK_EXTENSIONS);
        free(cdir);
    }
    return 0;
}

static int count_classes(dataset *d, dataset_split *s) {
    s->class_counts = calloc(d->n_classes ? d->n_classes : 1, sizeof *s->class_counts);
    if (!s->class_counts) return -1;
    for (size_t i = 0; i < s->n_items; i++) s->class_counts[s->items[i].label]++;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// a root of class folders only: split each class by the fraction, with the seed

static int split_by_fraction(dataset *d, const dataset_opts *o) {
    dataset_split all = d->train;
    memset(&d->train, 0, sizeof d->train);
    d->train.name = "train";
    size_t cap_t = 0, cap_v = 0;
    char *pick = calloc(all.n_items ? all.n_items : 1, 1);
    size_t *idx = malloc((all.n_items ? all.n_items : 1) * sizeof *idx);
    int rc = (pick && idx) ? 0 : -1;
    rng r;
    rng_seed(&r, o->seed);
    for (size_t start = 0; rc == 0 && start < all.n_items;) {
        size_t end = start;
        while (end < all.n_items && all.items[end].label == all.items[start].label) end++;
        size_t n = end - start, n_valid = (size_t)floor((double)n * o->valid_fraction + 0.5);
        if (n_valid >= n) n_valid = n - 1;   // every class keeps at least one training image
        for (size_t k = 0; k < n; k++) idx[k] = start + k;
        rng_shuffle(&r, idx, n);
        for (size_t k = 0; k < n_valid; k++) pick[idx[k]] = 1;
        start = end;
    }
    for (size_t i = 0; rc == 0 && i < all.n_items; i++) {
        rc = pick[i] ? push_item(&d->valid, &cap_v, all.items[i].path, all.items[i].label)
                     : push_item(&d->train, &cap_t, all.items[i].path, all.items[i].label);
        if (rc == 0) all.items[i].path = NULL;
    }
    for (size_t i = 0; i < all.n_items; i++) free(all.items[i].path);
    free(all.items);
    free(pick);
    free(idx);
    return rc;
}

// ---------------------------------------------------------------------------------------------

int dataset_scan(dataset *d, const char *root, const dataset_opts *opts, char *err, size_t errlen) {
    dataset_opts defaults;
    if (!opts) {
        dataset_opts_default(&defaults);
        opts = &defaults;
    }
    memset(d, 0, sizeof *d);
    badfiles_init(&d->skipped);
    d->train.name = "train";
    d->valid.name = "valid";
    size_t len = strlen(root);
    while (len > 1 && root[len - 1] == '/') len--;
    d->root = strndup(root, len);
    if (!d->root) goto oom;

    struct stat st;
    if (stat(d->root, &st) != 0) {
        errmsg_set(err, errlen, "%s: %s", d->root, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        errmsg_set(err, errlen, "%s: not a folder", d->root);
        return -1;
    }

    char *train_dir = path_join(d->root, "train"), *valid_dir = path_join(d->root, "valid"),
         *val_dir = path_join(d->root, "val");
    if (!train_dir || !valid_dir || !val_dir) {
        free(train_dir), free(valid_dir), free(val_dir);
        goto oom;
    }
    int has_train = path_is_dir(train_dir);
    if (has_train) {
        d->train.dir = train_dir;
        train_dir = NULL;
        if (path_is_dir(valid_dir)) {
            d->valid.dir = valid_dir;
            valid_dir = NULL;
        } else if (path_is_dir(val_dir)) {
            d->valid.dir = val_dir;
            val_dir = NULL;
        }
    }
    free(train_dir), free(valid_dir), free(val_dir);

    // classes: the union of every split's class folders
    strvec names = {0};
    int rc = 0;
    if (has_train) {
        rc = list_subdirs(d->train.dir, &names);
        if (rc == 0 && d->valid.dir) rc = list_subdirs(d->valid.dir, &names);
    } else {
        rc = list_subdirs(d->root, &names);
        for (size_t i = 0; rc == 0 && i < names.n; i++)
            if (strcmp(names.v[i], "valid") == 0 || strcmp(names.v[i], "val") == 0) {
                add_problem(d, "%s: has %s/ but no train/ folder", d->root, names.v[i]);
                break;
            }
    }
    if (rc != 0) {
        strvec_free(&names);
        errmsg_set(err, errlen, "%s: cannot list folder: %s", d->root, strerror(errno));
        return -1;
    }
    if (names.n > 1) qsort(names.v, names.n, sizeof *names.v, cmp_str);
    d->classes = calloc(names.n ? names.n : 1, sizeof *d->classes);
    if (!d->classes) {
        strvec_free(&names);
        goto oom;
    }
    for (size_t i = 0; i < names.n; i++) {
        if (d->n_classes && strcmp(d->classes[d->n_classes - 1], names.v[i]) == 0) {
            free(names.v[i]);
            continue;
        }
        d->classes[d->n_classes++] = names.v[i];
    }
    free(names.v);

    if (d->n_classes == 0 && d->n_problems == 0)
        add_problem(d, "%s: no class folders (expected %s/train/<class>/ and valid/<class>/)", d->root, d->root);
    if (d->n_classes == 1)   // a classifier of one class learns nothing: training refuses it, as doctor does
        add_problem(d, "%s: only one class (%s): there is nothing to tell apart", d->root, d->classes[0]);
    if (has_train) {
        if (scan_split(d, &d->train, d->train.dir) != 0) goto oom;
        if (d->valid.dir && scan_split(d, &d->valid, d->valid.dir) != 0) goto oom;
    } else if (d->n_classes > 0) {
        if (scan_split(d, &d->train, d->root) != 0) goto oom;
        d->split_by_fraction = 1;
        if (opts->valid_fraction > 0 && split_by_fraction(d, opts) != 0) goto oom;
    }
    if (d->n_classes > 0 && d->train.n_items == 0 && d->n_problems == 0)
        add_problem(d, "%s: no training images", d->train.dir ? d->train.dir : d->root, "");
    if (count_classes(d, &d->train) != 0 || count_classes(d, &d->valid) != 0) goto oom;

    if (d->n_problems > 0 && !opts->lenient) {
        if (d->n_problems == 1)
            errmsg_set(err, errlen, "%s", d->problems[0]);
        else
            errmsg_set(err, errlen, "%s (and %zu more problems)", d->problems[0], d->n_problems - 1);
        return -1;
    }
    return 0;

oom:
    errmsg_set(err, errlen, "out of memory while scanning %s", root);
    return -1;
}

static void split_free(dataset_split *s) {
    for (size_t i = 0; i < s->n_items; i++) free(s->items[i].path);
    free(s->items);
    free(s->dir);
    free(s->class_counts);
}

void dataset_free(dataset *d) {
    if (!d) return;
    split_free(&d->train);
    split_free(&d->valid);
    for (size_t i = 0; i < d->n_classes; i++) free(d->classes[i]);
    free(d->classes);
    for (size_t i = 0; i < d->n_problems; i++) free(d->problems[i]);
    free(d->problems);
    free(d->root);
    badfiles_free(&d->skipped);
    memset(d, 0, sizeof *d);
}
