// test_train_form.c — the Train screen's form (tui/train_form.c) linked into the test binary: every
// field cycles through its choices and back, the run it describes is the tutorial's where the user
// changed nothing, the plan and the normalisation follow the fields they depend on, and a recorded
// run's settings taken back into the form describe the same run again (what the Runs screen's Enter
// relies on), with what the form cannot hold named. What the screen draws is checked in tmux
// (tests/tui/test_screen_train.c).
#include <criterion/criterion.h>
#include <string.h>

#include "rng.h"
#include "train_form.h"

static run_state fresh_state(void) {
    run_state rs;
    memset(&rs, 0, sizeof rs);
    return rs;
}

// The fields of two configs that the form sets.
static void expect_same_run(const trainer_config *x, const trainer_config *y, const char *what) {
    cr_expect_str_eq(x->arch, y->arch, "%s: arch", what);
    cr_expect_eq(x->epochs, y->epochs, "%s: epochs", what);
    cr_expect_eq(x->batch_size, y->batch_size, "%s: batch", what);
    cr_expect_eq(x->opt.lr, y->opt.lr, "%s: lr", what);
    cr_expect_eq(x->opt.kind, y->opt.kind, "%s: optimizer", what);
    cr_expect_eq(x->prep.tf.size, y->prep.tf.size, "%s: size", what);
    cr_expect_eq(x->bn_eval, y->bn_eval, "%s: BatchNorm", what);
    cr_expect_eq(x->cache, y->cache, "%s: cache", what);
    cr_expect_str_eq(x->device, y->device, "%s: device", what);
    cr_expect_eq(x->prep.tf.mean[0], y->prep.tf.mean[0], "%s: normalisation", what);
    cr_expect_eq(x->prep.tf.std[2], y->prep.tf.std[2], "%s: normalisation", what);
    cr_expect_str_eq(x->plan ? x->plan : "", y->plan ? y->plan : "", "%s: plan", what);
    cr_expect_str_eq(x->schedule ? x->schedule : "", y->schedule ? y->schedule : "", "%s: schedule", what);
    cr_expect_str_eq(x->block_lr ? x->block_lr : "", y->block_lr ? y->block_lr : "", "%s: block lrs", what);
    cr_expect_str_eq(x->class_weights ? x->class_weights : "", y->class_weights ? y->class_weights : "",
                     "%s: class weights", what);
    cr_expect_eq(x->precision, y->precision, "%s: precision", what);
}

Test(train_form, every_field_cycles_through_its_choices_and_back) {
    train_form t;
    run_state rs = fresh_state();
    train_form_init(&t, 1, 0);
    cr_assert_gt(train_form_count(), 10);
    for (int f = 0; f < train_form_count(); f++) {
        cr_expect_gt(strlen(train_form_name(f)), 0u, "field %d has a name", f);
        char first[160], now[160];
        train_form_text(&t, &rs, f, first, sizeof first);
        cr_expect_gt(strlen(first), 0u, "%s shows a value", train_form_name(f));
        // Right until the first text is back: every step shows another text, and Left undoes Right
        int steps = 0;
        do {
            train_form_change(&t, &rs, f, 1);
            train_form_text(&t, &rs, f, now, sizeof now);
            steps++;
            char back[160];
            train_form_change(&t, &rs, f, -1);
            train_form_text(&t, &rs, f, back, sizeof back);
            train_form_change(&t, &rs, f, 1);
            if (steps == 1) cr_expect_str_neq(now, back, "%s: Right changes the value", train_form_name(f));
        } while (strcmp(now, first) != 0 && steps < 64);
        cr_expect_lt(steps, 64, "%s comes back to its first value", train_form_name(f));
        cr_expect_gt(steps, 1, "%s has more than one choice", train_form_name(f));
    }
}

Test(train_form, untouched_it_describes_the_tutorials_run) {
    train_form t;
    run_state rs = fresh_state();
    for (size_t i = 0; i < ft_arch_count(); i++)
        if (strcmp(ft_arch_name(i), "vgg16") == 0) rs.arch_index = i;
    train_form_init(&t, 1, 0);
    trainer_config c;
    char plan[64];
    train_form_config(&t, &rs, NULL, "weights.pth", plan, sizeof plan, &c);
    cr_expect_str_eq(c.arch, "vgg16");
    cr_expect_eq(c.epochs, 5);
    cr_expect_eq(c.batch_size, 16);
    cr_expect_eq(c.opt.lr, 1e-5);
    cr_expect_eq(c.opt.kind, FT_OPT_ADAM);
    cr_expect_eq(c.prep.tf.size, 224);
    cr_expect_null(c.trainable, "the head alone trains, as in the tutorial");
    cr_expect_null(c.plan);
    cr_expect_eq(c.precision, FT_PRECISION_FP32);
    // pretrained weights: ImageNet's mean and std (torchvision's); without them the tutorial's 0.5
    cr_expect_float_eq(c.prep.tf.mean[0], 0.485f, 1e-6f);
    cr_expect_float_eq(c.prep.tf.std[0], 0.229f, 1e-6f);
    train_form_config(&t, &rs, "", NULL, plan, sizeof plan, &c);
    cr_expect_float_eq(c.prep.tf.mean[0], 0.5f, 1e-6f);
    cr_expect_null(c.trainable, "an empty list is the tutorial's head");
    // publish: the Model screen's cost line reads the form's batch, size and optimizer
    train_form_publish(&t, &rs);
    cr_expect_eq(rs.batch, 16);
    cr_expect_eq(rs.size, 224);
    cr_expect_eq(rs.opt, FT_OPT_ADAM);
}

// The field index by name (the test walks the form as a user does, by what the rows say).
static int field(const char *name) {
    for (int f = 0; f < train_form_count(); f++)
        if (strcmp(train_form_name(f), name) == 0) return f;
    cr_assert_fail("no field %s", name);
    return -1;
}

Test(train_form, a_staged_plan_follows_the_epochs) {
    train_form t;
    run_state rs = fresh_state();
    train_form_init(&t, 1, 0);
    train_form_change(&t, &rs, field("unfreezing"), 1);   // the head, then the last block
    char plan[64], text[160];
    trainer_config c;
    train_form_config(&t, &rs, "layer4,fc", NULL, plan, sizeof plan, &c);
    cr_expect_str_eq(plan, "head:2,last1", "5 epochs: the head alone for 2, then the last block");
    cr_expect_eq(c.plan, plan);
    cr_expect_null(c.trainable, "the plan says what trains, not the Model screen's marks");
    while (train_form_epochs(&t) != 1) train_form_change(&t, &rs, field("epochs"), -1);
    train_form_plan(&t, plan, sizeof plan);
    cr_expect_str_eq(plan, "head:1,last1");
    train_form_text(&t, &rs, field("unfreezing"), text, sizeof text);
    cr_expect(strstr(text, "needs 2 epochs") != NULL, "one epoch cannot be staged: %s", text);
    // bf16 on a run the feature cache cannot serve: said beside the field
    train_form_change(&t, &rs, field("precision"), -1);
    train_form_text(&t, &rs, field("precision"), text, sizeof text);
    cr_expect(strstr(text, "needs the feature cache") != NULL, "%s", text);
}

Test(train_form, a_recorded_runs_settings_describe_the_same_run_again) {
    rng r;
    rng_seed(&r, 12345);
    for (int round = 0; round < 200; round++) {
        train_form t;
        run_state rs = fresh_state();
        train_form_init(&t, (int)rng_below(&r, 2), (int)rng_below(&r, 2));
        for (int k = 0; k < 12; k++) {
            int f = (int)rng_below(&r, (uint64_t)train_form_count());
            train_form_change(&t, &rs, f, rng_below(&r, 2) ? 1 : -1);
        }
        const char *trainable = rng_below(&r, 2) ? "layer4,fc" : "";
        trainer_config c;
        char plan[64];
        train_form_config(&t, &rs, trainable, t.weights ? "w.pth" : NULL, plan, sizeof plan, &c);
        // into another form and state, as the Runs screen hands it over, and out again
        train_form u;
        run_state rs2 = fresh_state();
        train_form_init(&u, 0, 0);
        char missed[512] = "x";
        train_form_take(&u, &rs2, &c, missed, sizeof missed);
        cr_expect_str_eq(missed, "", "round %d: everything the form set fits it", round);
        cr_expect_eq(rs2.arch_index, rs.arch_index);
        trainer_config d;
        char plan2[64];
        train_form_config(&u, &rs2, rs2.trainable, u.weights ? "w.pth" : NULL, plan2, sizeof plan2, &d);
        char what[32];
        snprintf(what, sizeof what, "round %d", round);
        expect_same_run(&c, &d, what);
        cr_expect_str_eq(c.trainable ? c.trainable : "", d.trainable ? d.trainable : "", "%s: trainable", what);
    }
}

Test(train_form, what_the_form_cannot_hold_is_named_and_the_nearest_set) {
    trainer_config c;
    trainer_config_default(&c);
    c.epochs = 7;
    c.batch_size = 12;
    c.schedule = "step:3";
    c.opt.lr = 3e-4;
    train_form t;
    run_state rs = fresh_state();
    train_form_init(&t, 1, 0);
    char missed[512];
    train_form_take(&t, &rs, &c, missed, sizeof missed);
    cr_expect(strstr(missed, "epochs 7") != NULL, "%s", missed);
    cr_expect(strstr(missed, "batch 12") != NULL, "%s", missed);
    cr_expect(strstr(missed, "schedule step:3") != NULL, "%s", missed);
    cr_expect_eq(train_form_epochs(&t), 5, "7 epochs: the nearest is 5");
    cr_expect_eq(train_form_lr(&t), 3e-4, "a learning rate off the list is kept, as the lr finder's is");
    char text[160];
    train_form_text(&t, &rs, field("schedule"), text, sizeof text);
    cr_expect(strstr(text, "constant") != NULL, "an unknown schedule: the first choice, %s", text);
}
