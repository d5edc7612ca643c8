// predict.c — a model's classes for image files, in batches through the loader; scoring a labelled
// run; the same on a thread of its own (see predict.h). Softmax and ranking are done here in double
// precision; the logits come from the model in float.
#include "predict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "job.h"
#include "loader.h"

// ---------------------------------------------------------------------------------------------
// the predictor

int predictor_init(predictor *p, ft_model *m, const char *const *class_names, int64_t n_classes,
                   const transform_params *tf, const char *source, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    if (!m || n_classes < 1 || !class_names || !tf) {
        errmsg_set(err, errlen, "predict: no model, no classes or no preprocessing");
        return -1;
    }
    if (ft_model_num_classes(m) != n_classes) {
        errmsg_set(err, errlen, "predict: the model has %lld outputs but %lld class names were given",
                   (long long)ft_model_num_classes(m), (long long)n_classes);
        return -1;
    }
    pipeline_opts_default(&p->popts);
    p->popts.tf = *tf;
    pipeline_set_fast(&p->popts, tf->fast);
    if (pipeline_opts_check(&p->popts, err, errlen) != 0) return -1;
    p->class_names = calloc((size_t)n_classes, sizeof *p->class_names);
    if (!p->class_names) goto oom;
    p->n_classes = n_classes;
    for (int64_t c = 0; c < n_classes; c++)
        if (!(p->class_names[c] = strdup(class_names[c] ? class_names[c] : ""))) goto oom;
    p->model = m;
    p->batch = PREDICT_DEFAULT_BATCH;
    snprintf(p->source, sizeof p->source, "%s", source && *source ? source : "the model");
    return 0;
oom:
    predictor_free(p);
    errmsg_set(err, errlen, "predict: out of memory");
    return -1;
}

void predictor_free(predictor *p) {
    if (!p) return;
    for (int64_t c = 0; p->class_names && c < p->n_classes; c++) free(p->class_names[c]);
    free(p->class_names);
    memset(p, 0, sizeof *p);
}

// ---------------------------------------------------------------------------------------------
// softmax and ranking

void predict_softmax(const float *logits, int64_t n, double *probs) {
    double max = logits[0], sum = 0;
    for (int64_t i = 1; i < n; i++)
        if (logits[i] > max) max = logits[i];
    for (int64_t i = 0; i < n; i++) sum += probs[i] = exp((double)logits[i] - max);
    for (int64_t i = 0; i < n; i++) probs[i] /= sum;
}

// Insertion sort: stable (ties keep the lower index first) and n is the class count, small.
void predict_rank(const double *probs, int64_t n, int *order) {
    for (int64_t i = 0; i < n; i++) {
        int64_t at = i;
        while (at > 0 && probs[order[at - 1]] < probs[i]) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = (int)i;
    }
}

// ---------------------------------------------------------------------------------------------
// a run

int predictor_run(const predictor *p, const dataset_split *split, badfile_list *bad, predict_fn fn, void *user,
                  const atomic_int *cancel, atomic_size_t *done, char *err, size_t errlen) {
    if (split->n_items == 0) return 0;
    const int64_t C = p->n_classes, S = p->popts.tf.size;
    const int batch = p->batch > 0 ? p->batch : PREDICT_DEFAULT_BATCH;
    loader_opts lo;
    loader_opts_default(&lo);
    lo.batch_size = batch;
    lo.shuffle = 0;
    lo.sample_floats = pipeline_sample_floats(&p->popts);
    lo.workers = p->workers > 0 ? p->workers : loader_default_workers();
    if ((size_t)lo.workers > split->n_items) lo.workers = (int)split->n_items;
    loader_source src = pipeline_source(&p->popts);

    float *logits = malloc((size_t)batch * (size_t)C * sizeof *logits);
    double *probs = malloc((size_t)C * sizeof *probs);
    int *order = malloc((size_t)C * sizeof *order);
    loader *l = NULL;
    int rc = 0;
    if (!logits || !probs || !order) {
        errmsg_set(err, errlen, "predict: out of memory");
        rc = -1;
    }
    if (rc == 0 && !(l = loader_new(split, &lo, &src, bad, err, errlen))) rc = -1;
    if (rc == 0 && loader_start_epoch(l, 0, err, errlen) != 0) rc = -1;
    ft_model_set_training(p->model, 0);
    size_t handled = 0;
    while (rc == 0) {
        if (cancel && atomic_load(cancel)) {
            rc = 1;
            break;
        }
        loader_batch *b = NULL;
        int got = loader_next(l, &b, err, errlen);
        if (got == 0) break;
        if (got < 0) {
            // every file unreadable: the bad-file list says why, the caller finds nothing predicted
            if (badfiles_count(bad) >= split->n_items) {
                err[0] = '\0';
                break;
            }
            rc = -1;
            break;
        }
        ft_status *s = ft_model_forward(p->model, b->data, b->n, 3, S, S, logits, (size_t)batch * (size_t)C);
        if (s) {
            errmsg_set(err, errlen, "%s: %s", p->source, ft_status_message(s));
            ft_status_free(s);
            loader_release(l, b);
            rc = -1;
            break;
        }
        for (int k = 0; k < b->n; k++) {
            predict_image r = {b->items[k], split->items[b->items[k]].label, probs, order,
                               logits + (size_t)k * (size_t)C};
            predict_softmax(logits + (size_t)k * (size_t)C, C, probs);
            predict_rank(probs, C, order);
            if (fn) fn(user, &r);
        }
        // files skipped before this batch's last image count as handled too
        size_t last = b->n ? b->items[b->n - 1] + 1 : handled;
        if (last > handled) handled = last;
        if (done) atomic_store(done, handled);
        loader_release(l, b);
    }
    if (l) loader_stop(l);
    if (rc == 0 && done) atomic_store(done, split->n_items);
    loader_free(l);
    free(logits);
    free(probs);
    free(order);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// scoring

int predict_score_init(predict_score *s, int64_t classes, size_t max_wrong) {
    memset(s, 0, sizeof *s);
    s->classes = classes;
    s->max_wrong = max_wrong;
    s->confusion = calloc((size_t)classes * (size_t)classes, sizeof *s->confusion);
    s->wrong = calloc(max_wrong ? max_wrong : 1, sizeof *s->wrong);
    if (!s->confusion || !s->wrong) {
        predict_score_free(s);
        return -1;
    }
    return 0;
}

void predict_score_free(predict_score *s) {
    if (!s) return;
    free(s->confusion);
    free(s->wrong);
    memset(s, 0, sizeof *s);
}

void predict_score_add(predict_score *s, const predict_image *r) {
    int pred = r->order[0], truth = r->truth;
    if (truth < 0 || truth >= s->classes) return;
    s->confusion[(size_t)truth * (size_t)s->classes + (size_t)pred]++;
    s->images++;
    if (pred == truth) {
        s->correct++;
        return;
    }
    // keep the max_wrong most confident mistakes, most confident first (the earlier one on a tie)
    predict_wrong w = {r->item, truth, pred, r->probs[pred]};
    size_t at = s->n_wrong;
    while (at > 0 && s->wrong[at - 1].prob < w.prob) at--;
    if (at >= s->max_wrong) return;
    size_t last = s->n_wrong < s->max_wrong ? s->n_wrong : s->max_wrong - 1;
    memmove(&s->wrong[at + 1], &s->wrong[at], (last - at) * sizeof *s->wrong);
    s->wrong[at] = w;
    if (s->n_wrong < s->max_wrong) s->n_wrong++;
}

long long predict_score_row(const predict_score *s, int64_t truth) {
    long long n = 0;
    for (int64_t p = 0; p < s->classes; p++) n += s->confusion[truth * s->classes + p];
    return n;
}

long long predict_score_col(const predict_score *s, int64_t pred) {
    long long n = 0;
    for (int64_t t = 0; t < s->classes; t++) n += s->confusion[t * s->classes + pred];
    return n;
}

static int confused_before(const predict_confused *a, const predict_confused *b) {
    if (a->count != b->count) return a->count > b->count;
    return a->truth != b->truth ? a->truth < b->truth : a->pred < b->pred;
}

size_t predict_most_confused(const predict_score *s, long long min_count, predict_confused *out, size_t max) {
    size_t n = 0;
    if (min_count < 1) min_count = 1;
    for (int64_t t = 0; t < s->classes; t++)
        for (int64_t p = 0; p < s->classes; p++) {
            long long c = s->confusion[t * s->classes + p];
            if (t == p || c < min_count || max == 0) continue;
            predict_confused e = {(int)t, (int)p, c};
            if (n == max && !confused_before(&e, &out[n - 1])) continue;   // not among the max most
            size_t at = n < max ? n++ : n - 1;                             // insertion into the sorted list
            while (at > 0 && confused_before(&e, &out[at - 1])) {
                out[at] = out[at - 1];
                at--;
            }
            out[at] = e;
        }
    return n;
}

// ---------------------------------------------------------------------------------------------
// the job

struct predict_job {
    job base;   // first: run() casts back
    const predictor *p;
    dataset_split split;   // owns its paths
    badfile_list bad;
    predict_results res;
    atomic_size_t done;
};

static void job_take(void *user, const predict_image *r) {
    predict_job *j = user;
    predict_outcome *o = &j->res.images[r->item];
    size_t bytes = (size_t)j->res.n_classes;
    o->probs = malloc(bytes * sizeof *o->probs);
    o->order = malloc(bytes * sizeof *o->order);
    if (!o->probs || !o->order) {
        free(o->probs), free(o->order);
        o->probs = NULL, o->order = NULL;
        o->error = strdup("out of memory");
        return;
    }
    memcpy(o->probs, r->probs, bytes * sizeof *o->probs);
    memcpy(o->order, r->order, bytes * sizeof *o->order);
    o->ok = 1;
    if (j->res.scored && r->truth >= 0) predict_score_add(&j->res.score, r);
}

// A file the loader skipped: each item with that path gets the reason.
static void mark_skipped(void *user, const char *path, const char *reason) {
    predict_job *j = user;
    for (size_t i = 0; i < j->split.n_items; i++)
        if (!j->res.images[i].ok && !j->res.images[i].error && strcmp(j->split.items[i].path, path) == 0)
            j->res.images[i].error = strdup(reason);
}

static void run(job *base) {
    predict_job *j = (predict_job *)base;
    char err[512] = "";
    int rc = predictor_run(j->p, &j->split, &j->bad, job_take, j, &j->base.cancel, &j->done, err, sizeof err);
    j->res.status = rc;
    if (rc < 0) snprintf(j->res.error, sizeof j->res.error, "%s", err);
    badfiles_each(&j->bad, 0, mark_skipped, j);
    if (rc == 0)
        for (size_t i = 0; i < j->split.n_items; i++)
            if (!j->res.images[i].ok && !j->res.images[i].error) j->res.images[i].error = strdup("not predicted");
}

static void job_free(predict_job *j) {
    for (size_t i = 0; i < j->split.n_items; i++) free(j->split.items[i].path);
    free(j->split.items);
    badfiles_free(&j->bad);
    predict_results_free(&j->res);
    free(j);
}

predict_job *predict_job_start(const predictor *p, const char *const *paths, const int *labels, size_t n,
                               size_t max_wrong, char *err, size_t errlen) {
    predict_job *j = calloc(1, sizeof *j);
    if (!j) {
        errmsg_set(err, errlen, "predict: out of memory");
        return NULL;
    }
    j->p = p;
    badfiles_init(&j->bad);
    atomic_init(&j->done, 0);
    j->split.name = "predict";
    j->res.n_classes = p->n_classes;
    j->split.items = calloc(n ? n : 1, sizeof *j->split.items);
    j->res.images = calloc(n ? n : 1, sizeof *j->res.images);
    int ok = j->split.items && j->res.images;
    for (size_t i = 0; ok && i < n; i++) {
        int label = labels ? labels[i] : -1;
        if (label >= p->n_classes) label = -1;
        j->split.items[i] = (dataset_item){strdup(paths[i]), label};
        if (!j->split.items[i].path) ok = 0;
        j->split.n_items = i + 1;
    }
    j->res.n = n;
    if (ok && labels) {
        j->res.scored = 1;
        ok = predict_score_init(&j->res.score, p->n_classes, max_wrong) == 0;
    }
    if (!ok) {
        job_free(j);
        errmsg_set(err, errlen, "predict: out of memory");
        return NULL;
    }
    if (job_start(&j->base, run, "predicting", err, errlen) != 0) {
        job_free(j);
        return NULL;
    }
    return j;
}

void predict_job_poll(predict_job *j, size_t *done, size_t *total) {
    *done = atomic_load(&j->done);
    *total = j->split.n_items;
}

int predict_job_done(predict_job *j) { return job_done(&j->base); }

void predict_job_cancel(predict_job *j) { job_cancel(&j->base); }

int predict_job_result(predict_job *j, predict_results *out) {
    if (!predict_job_done(j)) {
        memset(out, 0, sizeof *out);
        out->status = -1;
        snprintf(out->error, sizeof out->error, "still running");
        return -1;
    }
    *out = j->res;
    memset(&j->res, 0, sizeof j->res);
    return out->status;
}

void predict_job_free(predict_job *j) {
    if (!j) return;
    job_stop(&j->base);
    job_free(j);
}

void predict_results_free(predict_results *r) {
    if (!r) return;
    for (size_t i = 0; r->images && i < r->n; i++) {
        free(r->images[i].probs);
        free(r->images[i].order);
        free(r->images[i].error);
    }
    free(r->images);
    predict_score_free(&r->score);
    memset(r, 0, sizeof *r);
}
