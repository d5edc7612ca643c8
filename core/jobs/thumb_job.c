// thumb_job.c — see thumb_job.h.
#include "thumb_job.h"

#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "job.h"

struct thumb_job {
    job base;   // first: run() casts back
    char *path;
    int max_w, max_h;
    int rc;
    image_thumb t;
    thumb_info info;
    char err[256];
};

static void run(job *base) {
    thumb_job *j = (thumb_job *)base;
    j->rc = image_thumb_load(j->path, j->max_w, j->max_h, &j->t, &j->info, j->err, sizeof j->err);
}

thumb_job *thumb_job_start(const char *path, int max_w, int max_h, char *err, size_t errlen) {
    thumb_job *j = calloc(1, sizeof *j);
    if (j) j->path = strdup(path);
    if (!j || !j->path) {
        free(j);
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    j->max_w = max_w;
    j->max_h = max_h;
    if (job_start(&j->base, run, "a preview", err, errlen) != 0) {
        free(j->path);
        free(j);
        return NULL;
    }
    return j;
}

int thumb_job_done(thumb_job *j) { return job_done(&j->base); }

void thumb_job_cancel(thumb_job *j) { job_cancel(&j->base); }

int thumb_job_result(thumb_job *j, image_thumb *out, thumb_info *info, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!thumb_job_done(j)) {
        errmsg_set(err, errlen, "still decoding");
        return -1;
    }
    *info = j->info;
    if (j->rc != 0) {
        errmsg_set(err, errlen, "%s", j->err);
        return -1;
    }
    *out = j->t;
    memset(&j->t, 0, sizeof j->t);
    return 0;
}

void thumb_job_free(thumb_job *j) {
    if (!j) return;
    job_stop(&j->base);
    image_thumb_free(&j->t);
    free(j->path);
    free(j);
}
