// train_recipe.c — a run's fine-tuning settings, parsed and carried in checkpoints (see train_recipe.h).
#include "train_recipe.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "class_weights.h"
#include "errmsg.h"

// Parses the texts r holds.
static int parse(train_recipe *r, char *err, size_t errlen) {
    r->has_plan = r->plan_text[0] != 0;
    if (r->has_plan && train_plan_parse(r->plan_text, &r->plan, err, errlen) != 0) return -1;
    lr_schedule_default(&r->schedule);
    if (r->schedule_text[0] && lr_schedule_parse(r->schedule_text, &r->schedule, err, errlen) != 0) return -1;
    r->has_blocks = r->block_lr_text[0] != 0;
    if (block_lr_parse(r->block_lr_text, &r->blocks, err, errlen) != 0) return -1;
    return class_weights_check(r->class_weights_text, err, errlen);
}

static int copy(char *dst, size_t len, const char *src, const char *what, char *err, size_t errlen) {
    if (!src) return 0;
    if (strlen(src) >= len) {
        errmsg_set(err, errlen, "the %s is too long", what);
        return -1;
    }
    snprintf(dst, len, "%s", src);
    return 0;
}

int train_recipe_set(train_recipe *r, const char *plan, const char *schedule, const char *block_lrs,
                     const char *class_weights, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    if (copy(r->plan_text, sizeof r->plan_text, plan, "plan", err, errlen) != 0 ||
        copy(r->schedule_text, sizeof r->schedule_text, schedule, "schedule", err, errlen) != 0 ||
        copy(r->block_lr_text, sizeof r->block_lr_text, block_lrs, "list of block learning rates", err, errlen) != 0 ||
        copy(r->class_weights_text, sizeof r->class_weights_text, class_weights, "list of class weights", err,
             errlen) != 0)
        return -1;
    return parse(r, err, errlen);
}

char *train_recipe_json(const train_recipe *r) {
    json_t *o = json_object();
    if (!o) return NULL;
    const char *keys[] = {"plan", "schedule", "block_lr", "class_weights"};
    const char *values[] = {r->plan_text, r->schedule_text, r->block_lr_text, r->class_weights_text};
    for (size_t k = 0; k < 4; k++)
        if (values[k][0]) json_object_set_new(o, keys[k], json_string(values[k]));
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

int train_recipe_merge_json(train_recipe *r, const char *json, char *err, size_t errlen) {
    if (!json) return 0;
    json_t *o = json_loads(json, 0, NULL);
    if (!json_is_object(o)) {   // an older checkpoint's, or someone else's: nothing of ours
        json_decref(o);
        return 0;
    }
    char *dst[] = {r->plan_text, r->schedule_text, r->block_lr_text, r->class_weights_text};
    size_t lens[] = {sizeof r->plan_text, sizeof r->schedule_text, sizeof r->block_lr_text,
                     sizeof r->class_weights_text};
    const char *keys[] = {"plan", "schedule", "block_lr", "class_weights"};
    for (size_t k = 0; k < 4; k++) {
        const char *v = json_string_value(json_object_get(o, keys[k]));
        if (!dst[k][0] && v && strlen(v) < lens[k]) snprintf(dst[k], lens[k], "%s", v);
    }
    json_decref(o);
    if (parse(r, err, errlen) != 0) {
        char why[768];
        snprintf(why, sizeof why, "%s", err);
        errmsg_set(err, errlen, "the checkpoint's training recipe: %s", why);
        return -1;
    }
    return 0;
}

int train_recipe_groups(const train_recipe *r) { return r->has_plan || r->has_blocks; }
