// doctor.c — decode every image of a dataset once and say what is there and what is wrong.
// Workers take items through an atomic counter and write into a per-item result array; the
// summary is then built in dataset order on the calling thread, so the report is the same whatever
// the thread timing.
#include "doctor.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "image_decode.h"
#include "loader.h"

typedef struct {
    int ok;
    int w, h;
    char format[8], mode[8];
    char reason[200];
} item_result;

typedef struct {
    const dataset_item **items;
    item_result *results;
    size_t n;
    atomic_size_t next;
    atomic_size_t *progress;   // NULL: not counted
    atomic_int *cancel;        // NULL: never cancelled
} job;

static void *doctor_worker(void *arg) {
    job *j = arg;
    image_decoder *dec = image_decoder_new();
    image_rgb8 img = {0};
    for (;;) {
        if (j->cancel && atomic_load(j->cancel)) break;
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n) break;
        item_result *r = &j->results[i];
        image_info info = {0};
        if (!dec) {
            snprintf(r->reason, sizeof r->reason, "out of memory");
            continue;
        }
        r->ok = image_decoder_load_file(dec, j->items[i]->path, NULL, &img, &info, r->reason, sizeof r->reason) == 0;
        r->w = info.width;
        r->h = info.height;
        snprintf(r->format, sizeof r->format, "%s", info.format);
        snprintf(r->mode, sizeof r->mode, "%s", info.mode);
        if (j->progress) atomic_fetch_add(j->progress, 1);
    }
    image_free(&img);
    image_decoder_free(dec);
    return NULL;
}

// ---------------------------------------------------------------------------------------------

static void add_line(char ***lines, size_t *n, const char *text) {
    char **grown = realloc(*lines, (*n + 1) * sizeof *grown);
    if (!grown) return;
    *lines = grown;
    if ((grown[*n] = strdup(text))) (*n)++;
}

static void count_kind(doctor_kind *kinds, size_t *n, const char *name) {
    for (size_t i = 0; i < *n; i++)
        if (strcmp(kinds[i].name, name) == 0) {
            kinds[i].count++;
            return;
        }
    if (*n < DOCTOR_MAX_KINDS) {
        snprintf(kinds[*n].name, sizeof kinds[*n].name, "%s", name[0] ? name : "?");
        kinds[(*n)++].count = 1;
    }
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int doctor_run(dataset *d, int workers, doctor_report *r, char *err, size_t errlen) {
    return doctor_run_hooked(d, workers, NULL, r, err, errlen);
}

int doctor_run_hooked(dataset *d, int workers, const doctor_hooks *h, doctor_report *r, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    badfiles_init(&r->bad);
    const size_t n = d->train.n_items + d->valid.n_items, nc = d->n_classes ? d->n_classes : 1;
    job j = {.n = n, .progress = h ? h->progress : NULL, .cancel = h ? h->cancel : NULL};
    j.items = malloc((n ? n : 1) * sizeof *j.items);
    j.results = calloc(n ? n : 1, sizeof *j.results);
    r->readable_per_class[0] = calloc(nc, sizeof(size_t));
    r->readable_per_class[1] = calloc(nc, sizeof(size_t));
    int *ws = malloc((n ? n : 1) * sizeof *ws), *hs = malloc((n ? n : 1) * sizeof *hs);
    if (!j.items || !j.results || !r->readable_per_class[0] || !r->readable_per_class[1] || !ws || !hs) {
        free(j.items), free(j.results), free(ws), free(hs);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < d->train.n_items; i++) j.items[i] = &d->train.items[i];
    for (size_t i = 0; i < d->valid.n_items; i++) j.items[d->train.n_items + i] = &d->valid.items[i];
    atomic_init(&j.next, 0);

    if (workers <= 0) workers = loader_default_workers();
    pthread_t *threads = calloc((size_t)workers, sizeof *threads);
    int started = 0;
    while (threads && started < workers && pthread_create(&threads[started], NULL, doctor_worker, &j) == 0) started++;
    if (started == 0) doctor_worker(&j);   // no thread could start: do it here
    for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);
    free(threads);
    if (j.cancel && atomic_load(j.cancel)) {
        free(ws), free(hs), free(j.items), free(j.results);
        errmsg_set(err, errlen, "cancelled");
        return -1;
    }

    // ---- summary, in dataset order
    size_t nr = 0;
    for (size_t i = 0; i < n; i++) {
        const item_result *res = &j.results[i];
        r->checked++;
        if (!res->ok) {
            badfiles_add(&r->bad, j.items[i]->path, res->reason);
            continue;
        }
        r->readable++;
        r->readable_per_class[i < d->train.n_items ? 0 : 1][j.items[i]->label]++;
        count_kind(r->formats, &r->n_formats, res->format);
        count_kind(r->modes, &r->n_modes, res->mode);
        ws[nr] = res->w;
        hs[nr] = res->h;
        nr++;
    }
    if (nr > 0) {
        qsort(ws, nr, sizeof *ws, cmp_int);
        qsort(hs, nr, sizeof *hs, cmp_int);
        r->min_w = ws[0], r->max_w = ws[nr - 1], r->median_w = ws[nr / 2];
        r->min_h = hs[0], r->max_h = hs[nr - 1], r->median_h = hs[nr / 2];
    }
    free(ws), free(hs), free(j.items), free(j.results);
    badfiles_add_all(&r->bad, &d->skipped);

    // ---- what stops training, and what is worth knowing
    char line[1200];
    for (size_t i = 0; i < d->n_problems; i++) add_line(&r->problems, &r->n_problems, d->problems[i]);
    const dataset_split *splits[2] = {&d->train, &d->valid};
    for (int s = 0; s < 2; s++) {
        const dataset_split *sp = splits[s];
        size_t readable = 0;
        for (size_t c = 0; c < d->n_classes; c++) readable += r->readable_per_class[s][c];
        if (sp->n_items > 0 && readable == 0) {
            snprintf(line, sizeof line, "no readable image in %s/: all %zu files are bad", sp->name, sp->n_items);
            add_line(&r->problems, &r->n_problems, line);
            continue;
        }
        for (size_t c = 0; c < d->n_classes; c++) {
            if (sp->class_counts[c] > 0 && r->readable_per_class[s][c] == 0) {
                snprintf(line, sizeof line, "%s/%s: none of its %zu images is readable", sp->name, d->classes[c],
                         sp->class_counts[c]);
                add_line(&r->problems, &r->n_problems, line);
            } else if (sp->class_counts[c] == 0 && (s == 0 || d->valid.n_items > 0)) {
                snprintf(line, sizeof line, "class '%s' has no images in %s/", d->classes[c], sp->name);
                add_line(s == 0 ? &r->problems : &r->warnings, s == 0 ? &r->n_problems : &r->n_warnings, line);
            }
        }
    }
    if (d->valid.n_items == 0 && d->n_problems == 0)
        add_line(&r->warnings, &r->n_warnings, "no valid/ (or val/) split: validation accuracy cannot be measured");
    if (d->split_by_fraction)
        add_line(&r->warnings, &r->n_warnings, "no train/ and valid/ folders: the classes were split by a fraction");
    size_t lo = (size_t)-1, hi = 0, lo_c = 0, hi_c = 0;
    for (size_t c = 0; c < d->n_classes; c++) {
        size_t k = r->readable_per_class[0][c];
        if (k < lo) lo = k, lo_c = c;
        if (k > hi) hi = k, hi_c = c;
    }
    if (d->n_classes > 1 && lo > 0 && (double)hi / (double)lo >= 1.5) {
        snprintf(line, sizeof line, "class imbalance: '%s' has %.1fx the training images of '%s' (%zu vs %zu)",
                 d->classes[hi_c], (double)hi / (double)lo, d->classes[lo_c], hi, lo);
        add_line(&r->warnings, &r->n_warnings, line);
        if (r->n_warnings && strncmp(r->warnings[r->n_warnings - 1], "class imbalance", 15) == 0)
            r->imbalance = r->n_warnings;
    }
    size_t nbad = badfiles_count(&r->bad);
    if (nbad > 0) {
        snprintf(line, sizeof line, "%zu bad file%s will be skipped during training", nbad, nbad == 1 ? "" : "s");
        add_line(&r->warnings, &r->n_warnings, line);
    }
    return 0;
}

void doctor_report_free(doctor_report *r, size_t n_classes) {
    (void)n_classes;
    free(r->readable_per_class[0]);
    free(r->readable_per_class[1]);
    badfiles_free(&r->bad);
    for (size_t i = 0; i < r->n_warnings; i++) free(r->warnings[i]);
    for (size_t i = 0; i < r->n_problems; i++) free(r->problems[i]);
    free(r->warnings);
    free(r->problems);
    memset(r, 0, sizeof *r);
}

int doctor_can_train(const doctor_report *r) { return r->n_problems == 0; }
