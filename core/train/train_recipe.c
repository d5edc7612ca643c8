// train_recipe.c — a run's fine-tuning settings, parsed and carried in checkpoints (see train_recipe.h).
#include "train_recipe.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "class_weights.h"
#include "errmsg.h"
#include "i18n.h"
#include "transfer.h"

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
        errmsg_set(err, errlen, "the %s is too long", _(what));
        return -1;
    }
    snprintf(dst, len, "%s", src);
    return 0;
}

int train_recipe_set(train_recipe *r, const char *plan, const char *schedule, const char *block_lrs,
                     const char *class_weights, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    if (copy(r->plan_text, sizeof r->plan_text, plan, N_("plan"), err, errlen) != 0 ||
        copy(r->schedule_text, sizeof r->schedule_text, schedule, N_("schedule"), err, errlen) != 0 ||
        copy(r->block_lr_text, sizeof r->block_lr_text, block_lrs, N_("list of block learning rates"), err, errlen) !=
            0 ||
        copy(r->class_weights_text, sizeof r->class_weights_text, class_weights, N_("list of class weights"), err,
             errlen) != 0)
        return -1;
    return parse(r, err, errlen);
}

void train_settings_default(train_settings *s) {
    memset(s, 0, sizeof *s);
    snprintf(s->optimizer, sizeof s->optimizer, "adam");
    s->lr = 1e-5;
    s->momentum = 0.9;
    s->beta1 = 0.9;
    s->beta2 = 0.999;
    s->eps = 1e-8;
    s->batch = 16;
    s->bn_eval = 1;
    s->epochs = 5;
}

// frost.train's "run" object: the settings under their PyTorch names
static json_t *settings_json(const train_settings *s) {
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "optimizer", json_string(s->optimizer));
    json_object_set_new(o, "lr", json_real(s->lr));
    json_object_set_new(o, "momentum", json_real(s->momentum));
    json_object_set_new(o, "weight_decay", json_real(s->weight_decay));
    json_object_set_new(o, "betas", json_pack("[ff]", s->beta1, s->beta2));
    json_object_set_new(o, "eps", json_real(s->eps));
    json_object_set_new(o, "batch", json_integer(s->batch));
    json_object_set_new(o, "seed", json_integer((json_int_t)s->seed));
    json_object_set_new(o, "bn", json_string(s->bn_eval ? "eval" : "train"));
    json_object_set_new(o, "epochs", json_integer(s->epochs));
    return o;
}

void train_settings_from_json(const char *json, train_settings *s) {
    train_settings_default(s);
    json_t *root = json ? json_loads(json, 0, NULL) : NULL;
    json_t *o = json_object_get(root, "run");
    if (json_is_object(o)) {
        const char *opt = json_string_value(json_object_get(o, "optimizer"));
        if (opt && (strcmp(opt, "adam") == 0 || strcmp(opt, "sgd") == 0))
            snprintf(s->optimizer, sizeof s->optimizer, "%s", opt);
        double *reals[] = {&s->lr, &s->momentum, &s->weight_decay, &s->eps};
        const char *names[] = {"lr", "momentum", "weight_decay", "eps"};
        for (size_t k = 0; k < 4; k++) {
            json_t *v = json_object_get(o, names[k]);
            if (json_is_number(v)) *reals[k] = json_number_value(v);
        }
        json_t *betas = json_object_get(o, "betas");
        if (json_is_array(betas) && json_array_size(betas) == 2 && json_is_number(json_array_get(betas, 0)) &&
            json_is_number(json_array_get(betas, 1))) {
            s->beta1 = json_number_value(json_array_get(betas, 0));
            s->beta2 = json_number_value(json_array_get(betas, 1));
        }
        json_t *v = json_object_get(o, "batch");
        if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 1 << 20)
            s->batch = (int)json_integer_value(v);
        if (json_is_integer(v = json_object_get(o, "seed")) && json_integer_value(v) >= 0)
            s->seed = (unsigned long long)json_integer_value(v);
        const char *bn = json_string_value(json_object_get(o, "bn"));
        if (bn) s->bn_eval = strcmp(bn, "train") != 0;
        if (json_is_integer(v = json_object_get(o, "epochs")) && json_integer_value(v) > 0 &&
            json_integer_value(v) < 1 << 20)
            s->epochs = (int)json_integer_value(v);
        s->known = 1;
    }
    json_decref(root);
}

char *train_recipe_json(const train_recipe *r) { return train_recipe_json_settings(r, NULL); }

char *train_recipe_json_settings(const train_recipe *r, const train_settings *s) {
    json_t *o = json_object();
    if (!o) return NULL;
    const char *keys[] = {"plan", "schedule", "block_lr", "class_weights"};
    const char *values[] = {r->plan_text, r->schedule_text, r->block_lr_text, r->class_weights_text};
    for (size_t k = 0; k < 4; k++)
        if (values[k][0]) json_object_set_new(o, keys[k], json_string(values[k]));
    if (s) json_object_set_new(o, "run", settings_json(s));
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

// ---------------------------------------------------------------------------------------------
// the optimizer

// Marks in trains[] the blocks of m with a trainable parameter now. 0, or -1 with err.
static int mark_trained_blocks(ft_model *m, unsigned char *trains, char *err, size_t errlen) {
    const ft_node *nodes;
    size_t n;
    transfer_block blocks[TRANSFER_MAX_BLOCKS];
    int nb = transfer_model_blocks(m, &nodes, &n, blocks, err, errlen);
    for (int k = 0; k < nb; k++) trains[k] |= blocks[k].trainable > 0;
    return nb < 0 ? -1 : 0;
}

int train_recipe_plan_blocks(const train_recipe *r, ft_model *m, unsigned char *trains, char *err, size_t errlen) {
    char list[4096], why[1024];
    for (int s = 0; s < r->plan.n; s++) {
        if (train_plan_trainable(&r->plan, s, m, list, sizeof list, why, sizeof why) != 0 ||
            transfer_apply_trainable(m, list, why, sizeof why) != 0) {
            errmsg_set(err, errlen, "plan stage %d (%s): %s", s + 1, r->plan.stages[s].what, why);
            return -1;
        }
        if (mark_trained_blocks(m, trains, err, errlen) != 0) return -1;
    }
    return 0;
}

int train_recipe_optimizer(const train_recipe *r, ft_model *m, const ft_opt_params *p, unsigned char *trains,
                           ft_optimizer **out, char *err, size_t errlen) {
    ft_status *s = NULL;
    if (!train_recipe_groups(r)) {
        s = ft_optimizer_create(m, p, out);
    } else {
        if (!r->has_plan && mark_trained_blocks(m, trains, err, errlen) != 0) return -1;
        ft_param_group groups[TRANSFER_MAX_BLOCKS];
        block_lr_paths *paths = malloc(TRANSFER_MAX_BLOCKS * sizeof *paths);   // the optimizer copies them
        if (!paths) {
            errmsg_set(err, errlen, "out of memory");
            return -1;
        }
        int n = block_lr_groups(r->has_blocks ? &r->blocks : NULL, m, trains, p->lr, groups, paths, err, errlen);
        s = n < 0 ? NULL : ft_optimizer_create_groups(m, p, groups, (size_t)n, out);
        free(paths);
        if (n < 0) return -1;
    }
    if (s) {
        errmsg_set(err, errlen, "optimizer: %s", ft_status_message(s));
        ft_status_free(s);
        return -1;
    }
    return 0;
}
