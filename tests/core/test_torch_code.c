// test_torch_code.c — the PyTorch code frost shows (core/teach/torch_code.h), run by Debian's python3
// with torch and torchvision (tests/oracle/live/torch_code_check.py imports it, builds the model with
// weights=None and the optimizer, steps the scheduler), against frost's own model and optimizer made
// as the trainer makes them: the model's print, the names of the parameters that train, the param
// groups (lr, weight decay, momentum, which parameters), BatchNorm's mode in training, the transform,
// and every step's lr of the schedule (lr_schedule_factor). States: the tutorial's VGG16 and ResNet50,
// a thawed block, both stages of a plan, block lrs with one-cycle, SGD with weight decay and a cosine
// warm-up, BatchNorm in train mode, ImageNet's normalisation with the crop.
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_print.h"
#include "testutil.h"
#include "torch_code.h"
#include "train_recipe.h"
#include "transfer.h"

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}
TestSuite(torch_code, .init = setup, .fini = teardown, .timeout = 300);

typedef struct {
    const char *arch;
    int pretrained;
    const char *trainable, *plan, *schedule, *block_lr;
    int sgd;
    double lr, weight_decay, momentum;
    int bn_train, stage, crop;
    const char *const *cli;   // the code from `frost train sample_data --show-code CLI...` (its 3 classes)
} state;

#define STEPS 4   // steps per epoch the schedule is stepped with

static trainer_config config_of(const state *s) {
    trainer_config c;
    trainer_config_default(&c);
    snprintf(c.arch, sizeof c.arch, "%s", s->arch);
    c.trainable = s->trainable;
    c.plan = s->plan;
    c.schedule = s->schedule;
    c.block_lr = s->block_lr;
    if (s->sgd) c.opt.kind = FT_OPT_SGD;
    if (s->lr > 0) c.opt.lr = s->lr;
    c.opt.weight_decay = s->weight_decay;
    if (s->momentum > 0) c.opt.momentum = s->momentum;
    c.bn_eval = !s->bn_train;
    if (s->crop) c.prep.tf.fit = TRANSFORM_SHORT_CROP;
    transform_params_set_norm(&c.prep.tf, transform_norm_default(s->pretrained));
    return c;
}

static json_t *str_list_add(json_t *a, const char *s) {
    json_array_append_new(a, json_string(s));
    return a;
}

// frost's own: the model and optimizer as trainer_build_model makes them (the list or the plan's first
// stage, then train_recipe_optimizer), then the stage asked for; what the oracle reports, as JSON.
static json_t *frost_truth(const state *s, const trainer_config *c, ft_model *m, long total) {
    char err[1024], list[4096];
    train_recipe r;
    cr_assert_eq(train_recipe_set(&r, c->plan, c->schedule, c->block_lr, NULL, err, sizeof err), 0, "%s", err);
    unsigned char trains[TRANSFER_MAX_BLOCKS] = {0};
    if (r.has_plan) {
        cr_assert_eq(train_recipe_plan_blocks(&r, m, trains, err, sizeof err), 0, "%s", err);
        cr_assert_eq(train_plan_trainable(&r.plan, 0, m, list, sizeof list, err, sizeof err), 0, "%s", err);
        cr_assert_eq(transfer_apply_trainable(m, list, err, sizeof err), 0, "%s", err);
    } else if (c->trainable) {
        cr_assert_eq(transfer_apply_trainable(m, c->trainable, err, sizeof err), 0, "%s", err);
    } else {
        cr_assert_null(transfer_freeze_all_but_head(m));
    }
    ft_optimizer *o = NULL;
    cr_assert_eq(train_recipe_optimizer(&r, m, &c->opt, trains, &o, err, sizeof err), 0, "%s", err);
    if (s->stage > 0) {
        cr_assert_eq(train_plan_trainable(&r.plan, s->stage, m, list, sizeof list, err, sizeof err), 0, "%s", err);
        cr_assert_eq(transfer_apply_trainable(m, list, err, sizeof err), 0, "%s", err);
    }
    json_t *j = json_object();
    const ft_node *nodes;
    size_t n, len;
    cr_assert_null(ft_model_nodes(m, &nodes, &n));
    char *text = NULL;
    FILE *f = open_memstream(&text, &len);
    model_print_repr(f, nodes, n);
    fclose(f);
    if (len && text[len - 1] == '\n') text[len - 1] = '\0';   // Python's repr has no newline at its end
    json_object_set_new(j, "print", json_string(text));
    free(text);
    json_t *trainable = json_array(), *bn = json_array();
    for (size_t i = 0; i < ft_model_state_count(m); i++) {
        ft_tensor_info ti;
        cr_assert_null(ft_model_state_info(m, i, &ti));
        if (ti.requires_grad) str_list_add(trainable, ti.name);
    }
    // frost's BatchNorm rule (trainer.h, bn_eval): frozen BatchNorm layers stay in eval mode
    for (size_t i = 0; i < n && c->bn_eval; i++)
        if (strcmp(nodes[i].type, "BatchNorm2d") == 0 && nodes[i].trainable == 0) str_list_add(bn, nodes[i].path);
    json_object_set_new(j, "trainable", trainable);
    json_object_set_new(j, "bn_eval", bn);
    json_t *groups = json_array();
    size_t k = 0;
    double last_lr = 0;
    for (size_t g = 0; g < ft_optimizer_group_count(o); g++) {
        ft_group_info gi;
        cr_assert_null(ft_optimizer_group_get(o, g, &gi));
        json_t *names = json_array();
        for (size_t p = 0; p < gi.n_params; p++) str_list_add(names, ft_optimizer_param_name(o, k++));
        json_array_append_new(groups, json_pack("{s:f,s:f,s:f,s:o}", "lr", gi.lr, "weight_decay", gi.weight_decay,
                                                "momentum", gi.momentum, "params", names));
        last_lr = gi.lr;
    }
    cr_assert_null(ft_optimizer_param_name(o, k), "the optimizer has parameters past its groups'");
    ft_optimizer_free(o);
    json_object_set_new(j, "groups", groups);
    json_t *lrs = json_array();
    lr_schedule sc = r.schedule;
    if (sc.warmup_steps < 0) sc.warmup_steps = STEPS;
    for (long step = 0; step < total && c->schedule; step++)
        json_array_append_new(lrs, json_real(last_lr * lr_schedule_factor(&sc, step, total)));
    json_object_set_new(j, "lrs", lrs);
    return j;
}

static void expect_same_names(json_t *want, json_t *got, const char *what, size_t k) {
    cr_expect_eq(json_array_size(got), json_array_size(want), "state %zu, %s: %zu names in the code's, frost %zu", k,
                 what, json_array_size(got), json_array_size(want));
    for (size_t i = 0; i < json_array_size(want) && i < json_array_size(got); i++)
        cr_expect_str_eq(json_string_value(json_array_get(got, i)), json_string_value(json_array_get(want, i)),
                         "state %zu, %s %zu", k, what, i);
}

static void expect_close(double got, double want, const char *what, size_t k) {
    cr_expect_leq(fabs(got - want), 1e-12 * fabs(want), "state %zu, %s: the code's %.17g, frost's %.17g", k, what, got,
                  want);
}

static void check(const state *states, size_t n) {
    json_t *truth[16];
    char cmd[16384];
    size_t used =
        (size_t)snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/oracle/live/torch_code_check.py '%s/out.json'", dir);
    for (size_t k = 0; k < n; k++) {
        trainer_config c = config_of(&states[k]);
        ft_model *m = NULL;
        char err[1024];
        transfer_spec spec = {.arch = c.arch, .classes = 3};
        cr_assert_eq(transfer_build(&spec, &m, NULL, 0, err, sizeof err), 0, "%s", err);
        torch_code_input in = {.cfg = &c, .pretrained = states[k].pretrained, .n_classes = 3};
        char *code = NULL;
        if (states[k].cli) {   // the command line's way to it: what frost train --show-code prints
            const char *args[32] = {"train", "sample_data", "--show-code"};
            size_t a = 3;
            for (size_t i = 0; states[k].cli[i] && a < 31; i++) args[a++] = states[k].cli[i];
            args[a] = NULL;
            tu_run_result r;
            tu_run_frost(&r, args);
            cr_assert_eq(r.status, 0, "frost train --show-code: %s", r.err);
            code = strdup(r.out);
            tu_run_free(&r);
        } else {
            code = torch_code(&in, m, err, sizeof err);
        }
        cr_assert_not_null(code, "state %zu: %s", k, err);
        char path[2048];
        snprintf(path, sizeof path, "%s/code%zu.py", dir, k);
        cr_assert_eq(tu_write_file(path, code, strlen(code)), 0);
        free(code);
        train_recipe r;
        cr_assert_eq(train_recipe_set(&r, c.plan, NULL, NULL, NULL, err, sizeof err), 0, "%s", err);
        int epochs;
        trainer_run_epochs(&c, &r, &epochs);
        truth[k] = frost_truth(&states[k], &c, m, (long)STEPS * epochs);
        ft_model_free(m);
        used += (size_t)snprintf(cmd + used, sizeof cmd - used, " '%s:%d:%d'", path, states[k].stage,
                                 c.schedule ? STEPS : 0);
    }
    snprintf(cmd + used, sizeof cmd - used, " 2> '%s/err.txt'", dir);
    int rc = system(cmd);
    char errpath[2048];
    snprintf(errpath, sizeof errpath, "%s/err.txt", dir);
    char *errtext = tu_read_file(errpath, NULL);
    cr_assert_eq(rc, 0, "the shown code failed in python3 (torch, torchvision):\n%s", errtext ? errtext : "");
    free(errtext);
    char outpath[2048];
    snprintf(outpath, sizeof outpath, "%s/out.json", dir);
    json_error_t je;
    json_t *got = json_load_file(outpath, 0, &je);
    cr_assert_not_null(got, "%s", je.text);
    cr_assert_eq(json_array_size(got), n);
    for (size_t k = 0; k < n; k++) {
        json_t *g = json_array_get(got, k), *w = truth[k];
        cr_expect_str_eq(json_string_value(json_object_get(g, "print")), json_string_value(json_object_get(w, "print")),
                         "state %zu: the model's print", k);
        expect_same_names(json_object_get(w, "trainable"), json_object_get(g, "trainable"), "trainable", k);
        expect_same_names(json_object_get(w, "bn_eval"), json_object_get(g, "bn_eval"), "BatchNorm in eval mode", k);
        json_t *wg = json_object_get(w, "groups"), *gg = json_object_get(g, "groups");
        cr_expect_eq(json_array_size(gg), json_array_size(wg),
                     "state %zu: %zu groups in the code's optimizer, frost %zu", k, json_array_size(gg),
                     json_array_size(wg));
        for (size_t i = 0; i < json_array_size(wg) && i < json_array_size(gg); i++) {
            json_t *a = json_array_get(gg, i), *b = json_array_get(wg, i);
            const char *keys[] = {"lr", "weight_decay", "momentum"};
            for (size_t q = 0; q < 3; q++)
                expect_close(json_number_value(json_object_get(a, keys[q])),
                             json_number_value(json_object_get(b, keys[q])), keys[q], k);
            expect_same_names(json_object_get(b, "params"), json_object_get(a, "params"), "group's parameters", k);
        }
        json_t *wl = json_object_get(w, "lrs"), *gl = json_object_get(g, "lrs");
        cr_expect_eq(json_array_size(gl), json_array_size(wl), "state %zu: schedule steps", k);
        for (size_t i = 0; i < json_array_size(wl) && i < json_array_size(gl); i++)
            cr_expect_leq(fabs(json_number_value(json_array_get(gl, i)) - json_number_value(json_array_get(wl, i))),
                          1e-9 * json_number_value(json_array_get(wl, i)), "state %zu: the lr before step %zu", k, i);
        // the transform: frost's size, fit and normalisation
        trainer_config c = config_of(&states[k]);
        json_t *tf = json_object_get(g, "transform");
        json_t *resize = json_object_get(tf, "resize");
        cr_expect_eq(json_integer_value(json_array_get(resize, 0)), c.prep.tf.size, "state %zu: Resize", k);
        cr_expect_eq(json_array_size(resize), c.prep.tf.fit == TRANSFORM_SHORT_CROP ? 1u : 2u,
                     "state %zu: Resize(S) with the crop, Resize([S, S]) without", k);
        cr_expect_eq(json_object_get(tf, "crop") != NULL, c.prep.tf.fit == TRANSFORM_SHORT_CROP, "state %zu: the crop",
                     k);
        for (int ch = 0; ch < 3; ch++) {
            // (torch normalises a float32 image in float32: the numbers are frost's as float32)
            cr_expect_eq((float)json_number_value(json_array_get(json_object_get(tf, "mean"), (size_t)ch)),
                         c.prep.tf.mean[ch], "state %zu: mean %d", k, ch);
            cr_expect_eq((float)json_number_value(json_array_get(json_object_get(tf, "std"), (size_t)ch)),
                         c.prep.tf.std[ch], "state %zu: std %d", k, ch);
        }
        json_decref(truth[k]);
    }
    json_decref(got);
}

// The tutorial's, as the Model and Train screens open: everything frozen but the new head, Adam at
// 1e-5; VGG16 and ResNet50 with ImageNet's weights (the code names them; the oracle builds weights=None).
Test(torch_code, the_tutorials_vgg16_and_resnet50) {
    state s[] = {{.arch = "vgg16", .pretrained = 1}, {.arch = "resnet50", .pretrained = 1}};
    check(s, 2);
}

// A thawed block, a plan's two stages, block lrs with one-cycle, SGD with weight decay and a cosine
// warm-up (a sub-block thawed: model.layer4[1]), BatchNorm in train mode, the crop.
Test(torch_code, thawed_blocks_plans_block_lrs_sgd_and_batchnorm) {
    state s[] = {
        {.arch = "resnet18", .trainable = "layer4,fc"},
        {.arch = "resnet18", .plan = "head:1,last2:2", .schedule = "warmup:epoch", .stage = 0},
        {.arch = "resnet18", .plan = "head:1,last2:2", .schedule = "warmup:epoch", .stage = 1},
        {.arch = "resnet18",
         .trainable = "layer3,layer4,fc",
         .block_lr = "layer3=0.01,layer4=0.1",
         .schedule = "one-cycle",
         .lr = 1e-3},
        {.arch = "resnet18",
         .trainable = "layer4.1,fc",
         .sgd = 1,
         .lr = 0.01,
         .weight_decay = 1e-4,
         .momentum = 0.8,
         .schedule = "cosine:3"},
        {.arch = "resnet18", .trainable = "layer4,fc", .bn_train = 1, .sgd = 1, .crop = 1, .pretrained = 1},
        {.arch = "vgg11", .plan = "head:1,all", .block_lr = "spread:100", .sgd = 1, .weight_decay = 0.05},
    };
    check(s, sizeof s / sizeof *s);
}

// The command line's way: `frost train sample_data --show-code` with --pretrained (nothing downloaded;
// ImageNet's normalisation follows, as it does for a run), a thawed block, SGD with weight decay, a plan.
Test(torch_code, frost_train_show_code) {
    state s[] = {
        {.arch = "resnet18",
         .pretrained = 1,
         .trainable = "layer4,fc",
         .sgd = 1,
         .lr = 1e-3,
         .weight_decay = 1e-4,
         .cli = (const char *[]){"--arch", "resnet18", "--pretrained", "--trainable", "layer4,fc", "--optimizer", "sgd",
                                 "--lr", "1e-3", "--weight-decay", "1e-4", NULL}},
        {.arch = "resnet18",
         .plan = "head:1,last1:1",
         .schedule = "cosine",
         .stage = 1,
         .bn_train = 1,
         .cli = (const char *[]){"--arch", "resnet18", "--plan", "head:1,last1:1", "--schedule", "cosine", "--bn",
                                 "train", "--epochs", "5", NULL}},
    };
    check(s, sizeof s / sizeof *s);
}
