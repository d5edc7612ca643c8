// event_json.c — see event_json.h.
#include "event_json.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "errmsg.h"

FILE *event_json_open(const char *path, char *err, size_t errlen) {
    int fd = atomic_file_open_in_place(path, O_WRONLY | O_CREAT | O_TRUNC, 0644, err, errlen);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        errmsg_set(err, errlen, "%s: cannot create it: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

static const char *event_name(event_kind k) {
    static const char *const names[] = {"info",    "phase_start", "batch",    "phase_end",     "epoch",
                                        "skipped", "saved",       "error",    "finished",      "layers",
                                        "alarm",   "stage",       "lr_point", "lr_suggestion", "precision"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static void num(json_t *o, const char *key, double v) {
    json_object_set_new(o, key, isfinite(v) ? json_real(v) : json_null());
}

static char *dump(json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

// --precision auto: the pick and every precision's figures.
static void precision_json(json_t *o, const precision_auto_result *r, const char *text) {
    json_t *list = json_array();
    json_object_set_new(o, "pick", json_string(precision_name(r->pick)));
    num(o, "min_top1", PRECISION_MIN_TOP1);
    json_object_set_new(o, "measured", json_boolean(r->measured));
    for (size_t i = 0; list && i < r->n; i++) {
        const precision_figure *g = &r->fig[i];
        json_t *e = json_object();
        json_object_set_new(e, "precision", json_string(precision_name(g->precision)));
        num(e, "speedup", g->speedup);
        json_object_set_new(e, "images", json_integer((json_int_t)g->images));
        json_object_set_new(e, "top1_agree", json_integer((json_int_t)g->top1_agree));
        json_object_set_new(e, "features_agree", json_integer((json_int_t)g->features_agree));
        num(e, "max_rel_diff", g->max_rel_diff);
        json_array_append_new(list, e);
    }
    json_object_set_new(o, "precisions", list);
    json_object_set_new(o, "text", json_string(text));
}

char *event_json(const train_event *e) {
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "event", json_string(event_name(e->kind)));
    json_object_set_new(o, "epoch", json_integer(e->epoch));
    json_object_set_new(o, "epochs", json_integer(e->epochs));
    switch (e->kind) {
    case EV_PHASE_START:
    case EV_BATCH:
    case EV_PHASE_END:
        json_object_set_new(o, "phase", json_string(e->phase == PHASE_TRAIN ? "train" : "valid"));
        json_object_set_new(o, "batches", json_integer((json_int_t)e->batches));
        if (e->kind == EV_PHASE_START) break;
        if (e->kind == EV_BATCH) {
            json_object_set_new(o, "batch", json_integer((json_int_t)e->batch));
            num(o, "loss", e->loss);
            num(o, "images_per_s", e->images_per_s);
            num(o, "backbone_images_per_s", e->backbone_images_per_s);
            num(o, "eta_s", e->eta_s);
            json_object_set_new(o, "from_cache", json_boolean(e->from_cache));
            if (e->phase == PHASE_TRAIN && e->lr > 0) num(o, "lr", e->lr);
        } else {
            num(o, "seconds", e->seconds);
            if (e->phase == PHASE_TRAIN && e->lr > 0) num(o, "lr", e->lr);
        }
        num(o, "running_loss", e->running_loss);
        num(o, "running_acc", e->running_acc);
        break;
    case EV_EPOCH:
        num(o, "train_loss", e->train_loss);
        num(o, "train_acc", e->train_acc);
        num(o, "valid_loss", e->valid_loss);
        num(o, "valid_acc", e->valid_acc);
        num(o, "seconds", e->seconds);
        break;
    case EV_FINISHED:
        json_object_set_new(o, "status", json_string(e->status == 0 ? "done" : e->status == 1 ? "stopped" : "failed"));
        num(o, "seconds", e->seconds);
        break;
    case EV_STAGE:
        json_object_set_new(o, "stage", json_integer(e->stage));
        json_object_set_new(o, "stages", json_integer(e->stages));
        json_object_set_new(o, "trainable", json_string(e->text));
        break;
    case EV_LR_POINT:
        json_object_set_new(o, "step", json_integer((json_int_t)e->batch));
        num(o, "lr", e->lr);
        num(o, "loss", e->loss);
        num(o, "smoothed", e->running_loss);
        break;
    case EV_LR_SUGGEST:
        if (e->lr > 0) num(o, "lr", e->lr), json_object_set_new(o, "step", json_integer((json_int_t)e->batch));
        json_object_set_new(o, "text", json_string(e->text));
        break;
    case EV_PRECISION: precision_json(o, &e->precision, e->text); break;
    default: json_object_set_new(o, "text", json_string(e->text));
    }
    return dump(o);
}

char *event_json_order(int epoch, int phase, const size_t *items, size_t n, long long torch_seed) {
    json_t *o = json_object(), *list = json_array();
    if (!o || !list) {
        json_decref(o);
        json_decref(list);
        return NULL;
    }
    json_object_set_new(o, "event", json_string("order"));
    json_object_set_new(o, "epoch", json_integer(epoch));
    json_object_set_new(o, "phase", json_string(phase == PHASE_TRAIN ? "train" : "valid"));
    for (size_t i = 0; i < n; i++) json_array_append_new(list, json_integer((json_int_t)items[i]));
    json_object_set_new(o, "items", list);
    if (torch_seed >= 0) json_object_set_new(o, "torch_seed", json_integer((json_int_t)torch_seed));
    return dump(o);
}

char *event_json_layers(const train_event *e, const layer_report *r) {
    json_t *o = json_object(), *list = json_array();
    if (!o || !list) {
        json_decref(o);
        json_decref(list);
        return NULL;
    }
    json_object_set_new(o, "event", json_string("layers"));
    json_object_set_new(o, "epoch", json_integer(e->epoch));
    json_object_set_new(o, "epochs", json_integer(e->epochs));
    json_object_set_new(o, "step", json_integer((json_int_t)r->step));
    for (size_t i = 0; i < r->n; i++) {
        const layer_stat *s = &r->rows[i];
        json_t *m = json_object();
        json_object_set_new(m, "path", json_string(r->paths[i]));
        json_object_set_new(m, "params", json_integer((json_int_t)s->params));
        json_object_set_new(m, "trainable", json_integer((json_int_t)s->trainable));
        num(m, "change", s->change);
        num(m, "grad", s->grad);
        num(m, "drift", s->drift);
        json_array_append_new(list, m);
    }
    json_object_set_new(o, "modules", list);
    return dump(o);
}

int event_json_write(FILE *f, const train_event *e, const trainer_config *c, const dataset *d,
                     const layer_report *layers) {
    char *line = e->kind == EV_LAYERS && layers ? event_json_layers(e, layers) : event_json(e);
    int ok = line && fprintf(f, "%s\n", line) > 0;
    free(line);
    if (ok && e->kind == EV_PHASE_START) {
        const dataset_split *split = e->phase == PHASE_TRAIN ? &d->train : &d->valid;
        size_t *order = malloc((split->n_items ? split->n_items : 1) * sizeof *order);
        ok = order != NULL;
        if (ok) trainer_epoch_order(c, e->phase, e->epoch, order, split->n_items);
        long long seed = e->phase == PHASE_TRAIN ? (long long)trainer_epoch_seed(c, e->epoch) : -1;
        line = ok ? event_json_order(e->epoch, e->phase, order, split->n_items, seed) : NULL;
        ok = line && fprintf(f, "%s\n", line) > 0;
        free(line);
        free(order);
    }
    return ok && fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
