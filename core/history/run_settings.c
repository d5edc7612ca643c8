// run_settings.c — a run's settings to JSON and back (see run_settings.h). Uses jansson, core/ below it.
#include "run_settings.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"

// --cache's words: in memory when exact (auto) or always (on), both kept on disk too; memory: auto
// without the disk; off: neither
static const char *const CACHE_WORDS[] = {"on", "off", "auto", "memory"};
static const int CACHE_ON[] = {1, 0, -1, -1}, CACHE_DISK[] = {1, 0, 1, 0};

static const char *cache_word(const trainer_config *c) {
    if (c->cache == 0) return "off";
    if (c->cache == 1) return "on";
    return c->cache_disk ? "auto" : "memory";
}

static const char *const PRECISION_WORDS[] = {"fp32", "fast", "bf16"};

static json_t *text_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

static json_t *floats3(const float v[3]) {
    json_t *a = json_array();
    for (int k = 0; a && k < 3; k++) json_array_append_new(a, json_real(v[k]));
    return a;
}

char *run_settings_json(const trainer_config *c, const dataset *d, const char *root, const char *dataset_digest,
                        const char *weights_digest) {
    json_t *o = json_object();
    if (!o) return NULL;
    json_t *classes = json_array();
    for (size_t k = 0; d && classes && k < d->n_classes; k++)
        json_array_append_new(classes, json_string(d->classes[k]));
    const pipeline_opts *p = &c->prep;
    json_object_set_new(o, "dataset", text_or_null(root));
    json_object_set_new(o, "dataset_digest", text_or_null(dataset_digest));
    json_object_set_new(o, "classes", classes ? classes : json_null());
    json_object_set_new(o, "train_images", json_integer(d ? (json_int_t)d->train.n_items : 0));
    json_object_set_new(o, "valid_images", json_integer(d ? (json_int_t)d->valid.n_items : 0));
    json_object_set_new(o, "arch", json_string(c->arch));
    json_object_set_new(o, "weights", text_or_null(c->weights));
    json_object_set_new(o, "weights_digest", text_or_null(weights_digest));
    json_object_set_new(o, "resume", text_or_null(c->resume));
    json_object_set_new(o, "trainable", json_string(c->trainable && *c->trainable ? c->trainable : "head"));
    json_object_set_new(o, "plan", text_or_null(c->plan));
    json_object_set_new(o, "schedule", json_string(c->schedule && *c->schedule ? c->schedule : "constant"));
    json_object_set_new(o, "block_lr", text_or_null(c->block_lr));
    json_object_set_new(o, "class_weights",
                        json_string(c->class_weights && *c->class_weights ? c->class_weights : "none"));
    json_object_set_new(o, "optimizer", json_string(c->opt.kind == FT_OPT_SGD ? "sgd" : "adam"));
    json_object_set_new(o, "lr", json_real(c->opt.lr));
    json_object_set_new(o, "momentum", json_real(c->opt.momentum));
    json_object_set_new(o, "weight_decay", json_real(c->opt.weight_decay));
    json_object_set_new(o, "beta1", json_real(c->opt.beta1));
    json_object_set_new(o, "beta2", json_real(c->opt.beta2));
    json_object_set_new(o, "eps", json_real(c->opt.eps));
    json_object_set_new(o, "batch", json_integer(c->batch_size));
    json_object_set_new(o, "epochs", json_integer(c->epochs));
    json_object_set_new(o, "size", json_integer(p->tf.size));
    json_object_set_new(o, "fit", json_string(p->tf.fit == TRANSFORM_SHORT_CROP ? "crop" : "square"));
    json_object_set_new(o, "resize", json_string(p->tf.fast ? "fast" : "exact"));
    json_object_set_new(o, "mean", floats3(p->tf.mean));
    json_object_set_new(o, "std", floats3(p->tf.std));
    json_object_set_new(o, "bn", json_string(c->bn_eval ? "eval" : "train"));
    json_object_set_new(o, "cache", json_string(cache_word(c)));
    json_object_set_new(o, "precision",
                        json_string(c->precision == TRAINER_PRECISION_AUTO  ? "auto"
                                    : c->precision >= 0 && c->precision < 3 ? PRECISION_WORDS[c->precision]
                                                                            : "fp32"));
    json_object_set_new(o, "seed", json_integer((json_int_t)c->seed));
    json_object_set_new(o, "threads", json_integer(c->threads));
    json_object_set_new(o, "workers", json_integer(c->workers));
    json_object_set_new(o, "device", json_string(c->device));
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    return text;
}

// ---------------------------------------------------------------------------------------------
// back

static void copy_text(json_t *o, const char *key, char *dst, size_t len, const char **field) {
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || strlen(json_string_value(v)) >= len) return;
    snprintf(dst, len, "%s", json_string_value(v));
    *field = dst;
}

static void get_int(json_t *o, const char *key, int *dst) {
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v)) *dst = (int)json_integer_value(v);
}

static void get_real(json_t *o, const char *key, double *dst) {
    json_t *v = json_object_get(o, key);
    if (json_is_number(v)) *dst = json_number_value(v);
}

static const char *word(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

int run_settings_parse(run_settings *s, const char *json, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    trainer_config *c = &s->cfg;
    trainer_config_default(c);
    json_error_t je;
    json_t *o = json_loads(json ? json : "", 0, &je);
    if (!json_is_object(o)) {
        errmsg_set(err, errlen, "the run's settings are not readable: %s", o ? "not an object" : je.text);
        json_decref(o);
        return -1;
    }
    const char *ignored = NULL;
    copy_text(o, "dataset", s->dataset, sizeof s->dataset, &ignored);
    json_t *arch = json_object_get(o, "arch");
    if (json_is_string(arch)) snprintf(c->arch, sizeof c->arch, "%s", json_string_value(arch));
    copy_text(o, "weights", s->weights, sizeof s->weights, &c->weights);
    copy_text(o, "resume", s->resume, sizeof s->resume, &c->resume);
    if (strcmp(word(o, "trainable"), "head") != 0)
        copy_text(o, "trainable", s->trainable, sizeof s->trainable, &c->trainable);
    copy_text(o, "plan", s->plan, sizeof s->plan, &c->plan);
    if (strcmp(word(o, "schedule"), "constant") != 0)
        copy_text(o, "schedule", s->schedule, sizeof s->schedule, &c->schedule);
    copy_text(o, "block_lr", s->block_lr, sizeof s->block_lr, &c->block_lr);
    if (strcmp(word(o, "class_weights"), "none") != 0)
        copy_text(o, "class_weights", s->class_weights, sizeof s->class_weights, &c->class_weights);
    c->opt.kind = strcmp(word(o, "optimizer"), "sgd") == 0 ? FT_OPT_SGD : FT_OPT_ADAM;
    get_real(o, "lr", &c->opt.lr);
    get_real(o, "momentum", &c->opt.momentum);
    get_real(o, "weight_decay", &c->opt.weight_decay);
    get_real(o, "beta1", &c->opt.beta1);
    get_real(o, "beta2", &c->opt.beta2);
    get_real(o, "eps", &c->opt.eps);
    get_int(o, "batch", &c->batch_size);
    get_int(o, "epochs", &c->epochs);
    pipeline_opts *p = &c->prep;
    get_int(o, "size", &p->tf.size);
    p->tf.fit = strcmp(word(o, "fit"), "crop") == 0 ? TRANSFORM_SHORT_CROP : TRANSFORM_SQUARE;
    pipeline_set_fast(p, strcmp(word(o, "resize"), "fast") == 0);
    for (int k = 0; k < 3; k++) {
        json_t *m = json_array_get(json_object_get(o, "mean"), (size_t)k),
               *d = json_array_get(json_object_get(o, "std"), (size_t)k);
        if (json_is_number(m)) p->tf.mean[k] = (float)json_number_value(m);
        if (json_is_number(d)) p->tf.std[k] = (float)json_number_value(d);
    }
    c->bn_eval = strcmp(word(o, "bn"), "train") != 0;
    const char *cache = word(o, "cache");
    for (int k = 0; k < 4; k++)
        if (strcmp(cache, CACHE_WORDS[k]) == 0) {
            c->cache = CACHE_ON[k];
            c->cache_disk = CACHE_DISK[k];
        }
    for (int k = 0; k < 3; k++)
        if (strcmp(word(o, "precision"), PRECISION_WORDS[k]) == 0) c->precision = k;
    if (strcmp(word(o, "precision"), "auto") == 0) c->precision = TRAINER_PRECISION_AUTO;
    json_t *seed = json_object_get(o, "seed");
    if (json_is_integer(seed)) c->seed = (uint64_t)json_integer_value(seed);
    get_int(o, "threads", &c->threads);
    get_int(o, "workers", &c->workers);
    if (*word(o, "device")) snprintf(c->device, sizeof c->device, "%s", word(o, "device"));
    json_decref(o);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// reading

static char *value_text(json_t *v) {
    if (!v) return strdup("(none)");
    if (json_is_null(v)) return strdup("-");
    if (json_is_string(v)) return strdup(json_string_value(v));
    if (json_is_real(v)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.6g", json_real_value(v));
        return strdup(buf);
    }
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
}

int run_settings_each(const char *json, void (*each)(void *user, const char *key, const char *value), void *user) {
    json_t *o = json_loads(json ? json : "", 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    int n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        char *t = value_text(v);
        each(user, key, t ? t : "?");
        free(t);
        n++;
    }
    json_decref(o);
    return n;
}

int run_settings_diff(const char *a, const char *b,
                      void (*each)(void *user, const char *key, const char *va, const char *vb), void *user) {
    json_t *oa = json_loads(a ? a : "", 0, NULL), *ob = json_loads(b ? b : "", 0, NULL);
    int n = -1;
    if (json_is_object(oa) && json_is_object(ob)) {
        n = 0;
        const char *key;
        json_t *v;
        json_object_foreach(oa, key, v) {
            json_t *w = json_object_get(ob, key);
            if (w && json_equal(v, w)) continue;
            char *ta = value_text(v), *tb = value_text(w);
            each(user, key, ta ? ta : "?", tb ? tb : "?");
            free(ta);
            free(tb);
            n++;
        }
        json_object_foreach(ob, key, v) {
            if (json_object_get(oa, key)) continue;
            char *tb = value_text(v);
            each(user, key, "(none)", tb ? tb : "?");
            free(tb);
            n++;
        }
    }
    json_decref(oa);
    json_decref(ob);
    return n;
}
