// test_train_oracle.c — `frost train` checked against PyTorch itself: the same starting weights (a
// checkpoint this test writes), the same sample order and dropout seed (frost's --json "order" lines,
// which the oracle checks are whole permutations of each split, for each epoch and phase the command
// asked for), the same settings, what trains taken from the command (--trainable, --plan), replayed by
// tests/oracle/live/train.py with python3-torch's own optimizers and losses. The number of batches is
// the command's (epochs x the splits' batches); every batch's loss (relative 1e-5) and correct count,
// and every tensor of the state_dict at the end (relative 1e-5 of the tensor's largest value), must
// agree: Adam and SGD with momentum and
// weight decay, BatchNorm frozen in eval mode and the tutorial's train mode, the feature cache on and
// off, Resize and Resize + CenterCrop, a ResNet and a VGG with dropout; and fine-tuning (plans of
// stages, per-block lrs as parameter groups, schedules: every step's lr within 1e-9 of PyTorch's
// scheduler, class weights, a plan resumed in the middle from its checkpoint alone).
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fixtures.h"
#include "safetensors.h"
#include "testutil.h"
#include "transfer.h"

static char *root;
static void setup(void) { root = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(root);
    free(root);
}
TestSuite(train_oracle, .init = setup, .fini = teardown, .timeout = 600);

typedef struct {
    const char *arch, *trainable;   // trainable: NULL (the tutorial's: the new head) or a list
    int crop, epochs;
    int fast;   // --resize fast: PyTorch trains on frost's own pixels (bench-data --dump-resized)
    const char *optimizer, *lr, *momentum, *weight_decay, *bn, *cache;
    // fine-tuning (NULL: the tutorial's); resume_after: frost stops after that epoch (--epochs) and a
    // second run resumes from its checkpoint, given none of these (they come from the checkpoint)
    const char *plan, *schedule, *block_lr, *class_weights;
    int resume_after;
    int imbalanced;   // 18 "cold" and 6 "warm" training images instead of 12 and 12
} run_case;

// The starting point both sides share: the tutorial's model for the dataset's two classes, written as
// a frost checkpoint of epoch 0 (so `frost train --resume` starts from it). Only its head trains: a
// wider trainable set is the command's --trainable, which both sides read.
static void write_init(const run_case *c, const char *path) {
    ft_model *m = NULL;
    char err[1024];
    transfer_spec spec = {.arch = c->arch, .classes = 2};
    cr_assert_eq(transfer_build(&spec, &m, NULL, 0, err, sizeof err), 0, "%s", err);
    checkpoint_meta meta;
    static char *names[] = {"cold", "warm"};
    fx_meta_for(&meta, names, 2);
    meta.tf.size = 32;
    meta.tf.fit = c->crop ? TRANSFORM_SHORT_CROP : TRANSFORM_SQUARE;
    fx_save_checkpoint(path, m, NULL, &meta);
    ft_model_free(m);
}

// frost's per-batch losses and running accuracies (percent, in thousandths), from its --json log.
typedef struct {
    double loss[64], lr[64];
    long running[64];
    int n;
} batches;

// Appends the batches of log to *b.
static void frost_batches(const char *log, batches *b) {
    FILE *f = fopen(log, "r");
    cr_assert_not_null(f);
    char line[1 << 16];
    while (fgets(line, sizeof line, f)) {
        json_t *e = json_loads(line, 0, NULL);
        cr_assert_not_null(e, "not JSON: %s", line);
        if (strcmp(json_string_value(json_object_get(e, "event")), "batch") == 0) {
            cr_assert_lt(b->n, 64);
            b->loss[b->n] = json_real_value(json_object_get(e, "loss"));
            b->running[b->n] = (long)llround(json_real_value(json_object_get(e, "running_acc")) * 1000.0);
            b->lr[b->n] = json_number_value(json_object_get(e, "lr"));   // 0 when absent (valid phases)
            b->n++;
        }
        json_decref(e);
    }
    fclose(f);
}

static void run(const run_case *c) {
    // 24 training images: 3 steps of 8 per epoch; for --resize fast, twice the size (JPEGs shrink while
    // decoding from twice the input size)
    fx_two_class_dataset(root, 12, 4, c->fast ? 80 : 40);
    for (int i = 0; c->imbalanced && i < 6; i++) {   // 12 cold, 6 warm
        char path[2048];
        snprintf(path, sizeof path, "%s/train/warm/%03d.jpg", root, i);
        cr_assert_eq(unlink(path), 0, "%s", path);
    }
    char init[2048], out[2048], log[2048], py_json[2048], py_weights[2048];
    snprintf(init, sizeof init, "%s/init.safetensors", root);
    snprintf(out, sizeof out, "%s/out.safetensors", root);
    snprintf(log, sizeof log, "%s/log.jsonl", root);
    snprintf(py_json, sizeof py_json, "%s/oracle.json", root);
    snprintf(py_weights, sizeof py_weights, "%s/oracle.safetensors", root);
    write_init(c, init);
    char epochs[16], log2[2100], logs[4300];
    snprintf(epochs, sizeof epochs, "%d", c->resume_after ? c->resume_after : c->epochs);
    snprintf(log2, sizeof log2, "%s/log2.jsonl", root);
    const char *args[64] = {"train",       root,         "--resume",       init,
                            "--epochs",    epochs,       "--batch",        "8",
                            "--threads",   "1",          "--workers",      "1",
                            "--optimizer", c->optimizer, "--lr",           c->lr,
                            "--momentum",  c->momentum,  "--weight-decay", c->weight_decay,
                            "--bn",        c->bn,        "--cache",        c->cache,
                            "--seed",      "7",          "--resize",       c->fast ? "fast" : "exact",
                            "--json",      log,          "--save",         out};
    int n = 32;
    const char *fine[][2] = {{"--plan", c->plan},
                             {"--schedule", c->schedule},
                             {"--block-lr", c->block_lr},
                             {"--class-weights", c->class_weights},
                             {"--trainable", c->trainable}};
    for (size_t k = 0; k < 5; k++)
        if (fine[k][1]) args[n++] = fine[k][0], args[n++] = fine[k][1];
    tu_run_result r;
    tu_run_frost(&r, args);
    cr_assert_eq(r.status, 0, "frost train:\n%s\n%s", r.out, r.err);
    tu_run_free(&r);
    snprintf(logs, sizeof logs, "%s", log);
    if (c->resume_after) {   // the rest of the run, from the checkpoint alone: its plan, schedule, groups
        char total[16];
        snprintf(total, sizeof total, "%d", c->epochs);
        args[3] = out;
        args[5] = total;
        args[29] = log2;
        args[32] = NULL;
        tu_run_frost(&r, args);
        cr_assert_eq(r.status, 0, "frost train --resume:\n%s\n%s", r.out, r.err);
        if (c->plan)
            cr_expect(strstr(r.out, "resumed in the stage its epoch belongs to"), "the plan did not resume:\n%s",
                      r.out);
        tu_run_free(&r);
        snprintf(logs, sizeof logs, "%s,%s", log, log2);
    }

    char pixels[2100] = "", pixels_opt[2200] = "";
    if (c->fast) {   // the pixels frost's fast path makes, for PyTorch to train on
        snprintf(pixels, sizeof pixels, "%s/fast.u8", root);
        const char *dump[12] = {"bench-data", root, "--size", "32", "--resize", "fast"};
        int nd = 6;
        if (c->crop) dump[nd++] = "--crop";
        dump[nd++] = "--dump-resized";
        dump[nd++] = pixels;
        dump[nd] = NULL;
        tu_run_frost(&r, dump);
        cr_assert_eq(r.status, 0, "frost bench-data --dump-resized:\n%s", r.err);
        tu_run_free(&r);
        // the fast path really takes another way than the exact one: its pixels differ
        char exact[2100];
        snprintf(exact, sizeof exact, "%s/exact.u8", root);
        dump[5] = "exact";
        dump[nd - 1] = exact;
        tu_run_frost(&r, dump);
        cr_assert_eq(r.status, 0, "%s", r.err);
        tu_run_free(&r);
        size_t n_fast, n_exact;
        char *px_fast = tu_read_file(pixels, &n_fast), *px_exact = tu_read_file(exact, &n_exact);
        cr_assert(px_fast && px_exact && n_fast == n_exact && n_fast == 32 * 32 * 3 * 32, "dumps of %zu, %zu bytes",
                  n_fast, n_exact);
        cr_expect_neq(memcmp(px_fast, px_exact, n_fast), 0, "--resize fast made exactly PIL's pixels");
        free(px_fast);
        free(px_exact);
        snprintf(pixels_opt, sizeof pixels_opt, "--pixels '%s'", pixels);
    }
    char cmd[16384], fine_opt[2048] = "";
    size_t used = (size_t)snprintf(fine_opt, sizeof fine_opt, "--epochs %d", c->epochs);
    for (size_t k = 0; k < 5; k++)
        if (fine[k][1])
            used += (size_t)snprintf(fine_opt + used, sizeof fine_opt - used, " %s '%s'", fine[k][0], fine[k][1]);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 tests/oracle/live/train.py --dataset '%s' --init '%s' --log '%s' --batch 8 "
             "--optimizer %s --lr %s --momentum %s --weight-decay %s --bn %s %s %s --out-json '%s' --out-weights '%s' "
             "2>&1",
             root, init, logs, c->optimizer, c->lr, c->momentum, c->weight_decay, c->bn, pixels_opt, fine_opt, py_json,
             py_weights);
    cr_assert_eq(system(cmd), 0, "the PyTorch oracle failed: %s", cmd);

    // every batch: the same loss, and the same number of images right
    batches fb;
    memset(&fb, 0, sizeof fb);
    frost_batches(log, &fb);
    if (c->resume_after) frost_batches(log2, &fb);
    json_t *py = json_load_file(py_json, 0, NULL);
    cr_assert_not_null(py);
    json_t *list = json_object_get(py, "batches");
    // the command's batches: every epoch, its 24 (or 18) training images in batches of 8, its 8 valid
    int want_batches = c->epochs * (((c->imbalanced ? 18 : 24) + 7) / 8 + 1);
    cr_assert_eq(fb.n, want_batches, "frost ran %d batches, the command asks for %d", fb.n, want_batches);
    cr_assert_eq((int)json_array_size(list), fb.n, "%zu batches in PyTorch, %d in frost", json_array_size(list), fb.n);
    long seen = 0, correct = 0;
    double worst_loss = 0, worst_weight = 0;
    const char *phase = "";
    for (int k = 0; k < fb.n; k++) {
        json_t *e = json_array_get(list, (size_t)k);
        const char *p = json_string_value(json_object_get(e, "phase"));
        if (strcmp(p, phase) != 0 || json_integer_value(json_object_get(e, "batch")) == 1) seen = correct = 0;
        phase = p;
        double want = json_real_value(json_object_get(e, "loss"));
        worst_loss = fmax(worst_loss, fabs(fb.loss[k] - want) / fabs(want));
        cr_expect_leq(fabs(fb.loss[k] - want), 1e-5 * fabs(want) + 1e-7, "%s batch %d: loss %.9g, PyTorch %.9g", p,
                      k + 1, fb.loss[k], want);
        json_t *lr = json_object_get(e, "lr");
        if (json_is_number(lr))   // the lr of the step: the head's group, as PyTorch's scheduler set it
            cr_expect_leq(fabs(fb.lr[k] - json_number_value(lr)), 1e-9 * json_number_value(lr),
                          "%s batch %d: lr %.12g, PyTorch %.12g", p, k + 1, fb.lr[k], json_number_value(lr));
        seen += json_integer_value(json_object_get(e, "n"));
        correct += json_integer_value(json_object_get(e, "correct"));
        long want_running = llround(100000.0 * (double)correct / (double)seen);
        cr_expect_eq(fb.running[k], want_running, "%s batch %d: running accuracy %.3f%%, PyTorch %.3f%%", p, k + 1,
                     fb.running[k] / 1000.0, want_running / 1000.0);
    }
    json_decref(py);

    // the weights (and BatchNorm statistics) at the end
    safet_file a, b;
    char err[1024];
    cr_assert_eq(safet_open(&a, out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(safet_open(&b, py_weights, err, sizeof err), 0, "%s", err);
    cr_assert_eq(a.n_tensors, b.n_tensors);
    for (size_t i = 0; i < b.n_tensors; i++) {
        const safet_tensor *want = &b.tensors[i], *got = safet_find(&a, want->name);
        cr_assert_not_null(got, "frost lacks %s", want->name);
        cr_assert_eq(got->nbytes, want->nbytes, "%s", want->name);
        if (want->dtype == SAFET_I64) {
            cr_expect(memcmp(got->data, want->data, want->nbytes) == 0, "%s differs", want->name);
            continue;
        }
        const float *x = got->data, *y = want->data;
        size_t count = want->nbytes / 4;
        double worst = 0, scale = 0;
        for (size_t j = 0; j < count; j++) {
            worst = fmax(worst, fabs((double)x[j] - (double)y[j]));
            scale = fmax(scale, fabs((double)y[j]));
        }
        cr_expect_leq(worst, 1e-5 * scale + 1e-12, "%s: differs by %.3g (largest value %.3g)", want->name, worst,
                      scale);
        if (scale > 0) worst_weight = fmax(worst_weight, worst / scale);
    }
    // the weights that trained moved: the comparison is not of two copies of the start
    safet_file s;
    cr_assert_eq(safet_open(&s, init, err, sizeof err), 0, "%s", err);
    size_t moved = 0;
    for (size_t i = 0; i < s.n_tensors; i++) {
        const safet_tensor *t0 = &s.tensors[i], *t1 = safet_find(&a, t0->name);
        moved += memcmp(t0->data, t1->data, t0->nbytes) != 0;
    }
    cr_expect_gt(moved, 0, "nothing trained");
    cr_log_info("%s: %d batches, largest relative differences from PyTorch: loss %.2g, weights %.2g", c->arch, fb.n,
                worst_loss, worst_weight);
    safet_close(&s);
    safet_close(&a);
    safet_close(&b);
}

Test(train_oracle, resnet18_adam_frozen_batchnorm_feature_cache) {
    run(&(run_case){.arch = "resnet18",
                    .epochs = 2,
                    .optimizer = "adam",
                    .lr = "1e-3",
                    .momentum = "0.9",
                    .weight_decay = "0",
                    .bn = "eval",
                    .cache = "on"});
}

// Weight decay large enough to be seen: over 3 steps with momentum 0.9 it moves each weight by about
// 5.6 x lr x decay = 2.8e-3 of itself, so a decay 5% off moves the largest weight by 1.4e-4 of its
// size, 14 times the tolerance (at decay 1e-3 it was 5.6e-5 in all, and a 5% error passed).
Test(train_oracle, resnet18_sgd_momentum_decay_batchnorm_train_crop) {
    run(&(run_case){.arch = "resnet18",
                    .trainable = "layer4,fc",
                    .crop = 1,
                    .epochs = 1,
                    .optimizer = "sgd",
                    .lr = "1e-2",
                    .momentum = "0.9",
                    .weight_decay = "0.05",
                    .bn = "train",
                    .cache = "off"});
}

Test(train_oracle, resnet18_resize_fast_crop_sgd) {
    run(&(run_case){.arch = "resnet18",
                    .crop = 1,
                    .fast = 1,
                    .epochs = 2,
                    .optimizer = "sgd",
                    .lr = "0.01",
                    .momentum = "0.9",
                    .weight_decay = "0",
                    .bn = "eval",
                    .cache = "auto"});
}

// Fine-tuning: a plan that thaws layer4 after the first epoch (the feature cache dropped then: Adam with
// weight decay on images from there), with per-block lrs, a cosine schedule with warm-up and
// inverse-frequency class weights on an imbalanced dataset; PyTorch sets requires_grad at each epoch
// and steps its own schedulers.
Test(train_oracle, resnet18_plan_cosine_block_lr_class_weights_adam_decay) {
    run(&(run_case){.arch = "resnet18",
                    .epochs = 3,
                    .optimizer = "adam",
                    .lr = "1e-3",
                    .momentum = "0.9",
                    .weight_decay = "1e-2",
                    .bn = "eval",
                    .cache = "auto",
                    .plan = "head:1,last1:2",
                    .schedule = "cosine:2",
                    .block_lr = "spread:10",
                    .class_weights = "auto",
                    .imbalanced = 1});
}

// The same plan stopped after its second epoch and resumed from the checkpoint alone (no --plan, no
// --schedule given again): the stage, the frozen set, the groups and the schedule go on as in an
// uninterrupted run, whose every batch and final weights PyTorch computes.
Test(train_oracle, resnet18_plan_resumed_in_the_middle) {
    run(&(run_case){.arch = "resnet18",
                    .epochs = 3,
                    .optimizer = "sgd",
                    .lr = "1e-2",
                    .momentum = "0.9",
                    .weight_decay = "1e-4",
                    .bn = "eval",
                    .cache = "auto",
                    .plan = "head:1,last2:2",
                    .schedule = "one-cycle",
                    .block_lr = "layer3=0.1,layer4=0.3",
                    .class_weights = "2,1",
                    .resume_after = 2});
}

// VGG with dropout; and its stages as blocks: a plan that thaws the last stage of features in the
// second epoch (the feature cache, asked for, serves the first and is dropped then), warm-up, and
// explicit class weights.
Test(train_oracle, vgg11_dropout_adam_plan_warmup) {
    run(&(run_case){.arch = "vgg11",
                    .epochs = 2,
                    .optimizer = "adam",
                    .lr = "1e-4",
                    .momentum = "0.9",
                    .weight_decay = "0",
                    .bn = "eval",
                    .cache = "on",
                    .plan = "head:1,last1",
                    .schedule = "warmup:3",
                    .class_weights = "1,3"});
}
