// model_job.c — see model_job.h.
#include "model_job.h"

#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "export_pytorch.h"
#include "job.h"

enum { BUILD, OPEN, EXPORT };

// trainer_config's strings, each copied (NULL stays NULL)
#define N_STRINGS 8

struct model_job {
    job base;   // first: run() casts back
    int kind;
    char *path;           // open: the checkpoint; export: the folder
    transfer_spec spec;   // build (its arch and weights point into strings[0..1])
    trainer_config cfg;   // export (its strings point into strings[])
    char *strings[N_STRINGS];
    char **classes;   // export: the class names
    size_t n_classes;
    int overwrite;
    int taken;
    model_job_result res;
};

// Where those strings are in a trainer_config (c: a pointer to one, const or not).
#define CONFIG_STRINGS(c)                                                                                     \
    {                                                                                                         \
        &(c)->weights, &(c)->save, &(c)->resume, &(c)->trainable, &(c)->plan, &(c)->schedule, &(c)->block_lr, \
            &(c)->class_weights                                                                               \
    }

static void run(job *base) {
    model_job *j = (model_job *)base;
    model_job_result *r = &j->res;
    if (job_cancelled(base)) {
        r->rc = MODEL_JOB_CANCELLED;
    } else if (j->kind == BUILD) {
        r->rc = transfer_build(&j->spec, &r->model, r->note, sizeof r->note, r->err, sizeof r->err);
    } else if (j->kind == OPEN) {
        r->rc = checkpoint_load(j->path, &r->model, &r->meta, r->err, sizeof r->err);
    } else {
        r->rc = export_pytorch_config(&j->cfg, j->classes, j->n_classes, j->path, j->overwrite, &base->cancel, r->err,
                                      sizeof r->err);
        if (r->rc == EXPORT_PYTORCH_CANCELLED) r->rc = MODEL_JOB_CANCELLED;
    }
    if (r->rc == 0 && job_cancelled(base)) r->rc = MODEL_JOB_CANCELLED;
    if (r->rc == MODEL_JOB_CANCELLED) {
        ft_model_free(r->model);
        r->model = NULL;
        checkpoint_meta_free(&r->meta);
        errmsg_set(r->err, sizeof r->err, "cancelled");
    }
}

static void release(model_job *j) {
    if (!j) return;
    free(j->path);
    for (int k = 0; k < N_STRINGS; k++) free(j->strings[k]);
    for (size_t i = 0; j->classes && i < j->n_classes; i++) free(j->classes[i]);
    free(j->classes);
    model_job_result_free(&j->res);
    free(j);
}

// A string copied into strings[k] (NULL stays NULL); 0, or -1 when out of memory.
static int keep(model_job *j, int k, const char *s, const char **into) {
    *into = NULL;
    if (!s) return 0;
    j->strings[k] = strdup(s);
    *into = j->strings[k];
    return j->strings[k] ? 0 : -1;
}

static model_job *make(int kind, const char *path, char *err, size_t errlen) {
    model_job *j = calloc(1, sizeof *j);
    if (j) {
        j->kind = kind;
        checkpoint_meta_init(&j->res.meta);
        if (path && !(j->path = strdup(path))) {
            free(j);
            j = NULL;
        }
    }
    if (!j) errmsg_set(err, errlen, "out of memory");
    return j;
}

static model_job *start(model_job *j, int ok, const char *what, char *err, size_t errlen) {
    if (j && !ok) errmsg_set(err, errlen, "out of memory");
    if (j && ok && job_start(&j->base, run, what, err, errlen) == 0) return j;
    release(j);
    return NULL;
}

model_job *model_job_build(const transfer_spec *spec, char *err, size_t errlen) {
    model_job *j = make(BUILD, NULL, err, errlen);
    if (!j) return NULL;
    j->spec = *spec;
    int ok = keep(j, 0, spec->arch, &j->spec.arch) == 0 && keep(j, 1, spec->weights, &j->spec.weights) == 0;
    return start(j, ok, "building the model", err, errlen);
}

model_job *model_job_open(const char *path, char *err, size_t errlen) {
    model_job *j = make(OPEN, path ? path : "", err, errlen);
    return j ? start(j, 1, "opening the checkpoint", err, errlen) : NULL;
}

model_job *model_job_export(const trainer_config *c, char *const *classes, size_t n, const char *dir, int overwrite,
                            char *err, size_t errlen) {
    model_job *j = make(EXPORT, dir ? dir : "", err, errlen);
    if (!j) return NULL;
    j->cfg = *c;
    j->overwrite = overwrite;
    const char *const *from[N_STRINGS] = CONFIG_STRINGS(c);
    const char **to[N_STRINGS] = CONFIG_STRINGS(&j->cfg);
    int ok = 1;
    for (int k = 0; k < N_STRINGS && ok; k++) ok = keep(j, k, *from[k], to[k]) == 0;
    j->classes = ok ? calloc(n ? n : 1, sizeof *j->classes) : NULL;
    ok = ok && j->classes;
    for (size_t i = 0; ok && i < n; i++, j->n_classes = i) ok = (j->classes[i] = strdup(classes[i])) != NULL;
    return start(j, ok, "the export", err, errlen);
}

int model_job_done(model_job *j) { return job_done(&j->base); }

void model_job_cancel(model_job *j) { job_cancel(&j->base); }

void model_job_take(model_job *j, model_job_result *out) {
    memset(out, 0, sizeof *out);
    checkpoint_meta_init(&out->meta);
    if (!model_job_done(j) || j->taken) {
        out->rc = -1;
        errmsg_set(out->err, sizeof out->err, "%s", j->taken ? "already taken" : "still working");
        return;
    }
    *out = j->res;
    memset(&j->res, 0, sizeof j->res);
    checkpoint_meta_init(&j->res.meta);
    j->taken = 1;
}

int model_job_collect(model_job **j, model_job_result *out) {
    if (!*j || !model_job_done(*j)) return 0;
    model_job_take(*j, out);
    model_job_free(*j);
    *j = NULL;
    return 1;
}

void model_job_result_free(model_job_result *r) {
    if (!r) return;
    ft_model_free(r->model);
    r->model = NULL;
    checkpoint_meta_free(&r->meta);
}

void model_job_free(model_job *j) {
    if (!j) return;
    job_stop(&j->base);
    release(j);
}
