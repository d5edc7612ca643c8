// test_trainer.c — the training thread on a generated two-class dataset: it learns, pause /
// resume / stop act at batch boundaries from another thread, the feature cache gives the same
// losses as the full model, --bn eval leaves BatchNorm statistics untouched and --bn train changes
// them, and the trained model is handed over. `frost train`: tests/cli/test_train.c.
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "events.h"
#include "fixtures.h"
#include "safetensors.h"
#include "testutil.h"
#include "trainer.h"
#include "transfer.h"

static char *root;
static void setup(void) { root = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(root);
    free(root);
}
TestSuite(trainer, .init = setup, .fini = teardown);

static dataset scan(void) {
    dataset d;
    char err[1024];
    cr_assert_eq(dataset_scan(&d, root, NULL, err, sizeof err), 0, "%s", err);
    return d;
}

static trainer_config small_config(const char *arch) {
    trainer_config c;
    trainer_config_default(&c);
    snprintf(c.arch, sizeof c.arch, "%s", arch);
    snprintf(c.device, sizeof c.device, "cpu");
    c.prep.tf.size = 32;
    c.epochs = 3;
    c.batch_size = 8;
    c.opt.lr = 1e-3;
    c.seed = 5;
    c.threads = 2;
    c.workers = 2;
    return c;
}

typedef struct {
    double batch_loss[4096];
    int n_batch;
    train_event epochs[16];
    int n_epochs;
    int status;
    char error[1024];
} run_log;

// Runs to the end, collecting events.
static void run_all(trainer_config *c, dataset *d, run_log *log) {
    memset(log, 0, sizeof *log);
    char err[512];
    trainer *t = trainer_start(c, d, err, sizeof err);
    cr_assert_not_null(t, "%s", err);
    train_event e;
    for (;;) {
        if (!trainer_wait(t, &e, 1000)) continue;
        if (e.kind == EV_BATCH && log->n_batch < 4096) log->batch_loss[log->n_batch++] = e.loss;
        if (e.kind == EV_EPOCH && log->n_epochs < 16) log->epochs[log->n_epochs++] = e;
        if (e.kind == EV_ERROR) snprintf(log->error, sizeof log->error, "%s", e.text);
        if (e.kind == EV_FINISHED) {
            log->status = e.status;
            break;
        }
    }
    cr_assert_eq(trainer_result(t, NULL), log->status);
    cr_assert(trainer_done(t));
    trainer_free(t);
}

// ---------------------------------------------------------------------------------------------

Test(trainer, learns_two_classes, .timeout = 300) {
    fx_two_class_dataset(root, 24, 12, 40);
    dataset d = scan();
    trainer_config c = small_config("resnet18");
    run_log log;
    run_all(&c, &d, &log);
    cr_assert_eq(log.status, 0, "run failed: %s", log.error);
    cr_assert_eq(log.n_epochs, 3);
    cr_expect_eq(log.n_batch, 3 * (6 + 3), "48 train / 8 = 6 batches, 24 valid / 8 = 3, per epoch");
    double acc = log.epochs[2].valid_acc;
    cr_expect_gt(acc, 85.0, "valid accuracy %.1f%% should be far above chance (50%%)", acc);
    cr_expect_lt(log.epochs[2].train_loss, log.epochs[0].train_loss, "training loss goes down");
    dataset_free(&d);
}

Test(trainer, cache_on_and_off_give_the_same_losses, .timeout = 300) {
    fx_two_class_dataset(root, 12, 6, 32);
    dataset d = scan();
    const char *archs[] = {"resnet18", "vgg11"};
    for (int k = 0; k < 2; k++) {
        trainer_config c = small_config(archs[k]);
        c.epochs = 2;
        run_log *on = malloc(sizeof *on), *off = malloc(sizeof *off);
        c.cache = 1;
        run_all(&c, &d, on);
        c.cache = 0;
        run_all(&c, &d, off);
        cr_assert_eq(on->status, 0, "%s: %s", archs[k], on->error);
        cr_assert_eq(off->status, 0, "%s: %s", archs[k], off->error);
        cr_assert_eq(on->n_batch, off->n_batch);
        for (int i = 0; i < on->n_batch; i++)
            cr_expect(fabs(on->batch_loss[i] - off->batch_loss[i]) <= 1e-4 * fmax(1.0, fabs(off->batch_loss[i])),
                      "%s batch %d: %.8f with the cache, %.8f without", archs[k], i, on->batch_loss[i],
                      off->batch_loss[i]);
        free(on);
        free(off);
    }
    dataset_free(&d);
}

// The bytes of one tensor of a safetensors file (caller frees).
static float *tensor_of(const char *path, const char *name, size_t *n) {
    safet_file f;
    char err[512];
    cr_assert_eq(safet_open(&f, path, err, sizeof err), 0, "%s", err);
    const safet_tensor *t = safet_find(&f, name);
    cr_assert_not_null(t, "%s has no %s", path, name);
    float *v = malloc(t->nbytes);
    memcpy(v, t->data, t->nbytes);
    *n = t->nbytes / sizeof(float);
    safet_close(&f);
    return v;
}

Test(trainer, bn_eval_keeps_running_stats_bn_train_changes_them, .timeout = 300) {
    fx_two_class_dataset(root, 8, 4, 32);
    dataset d = scan();
    char ckpt[1024];
    snprintf(ckpt, sizeof ckpt, "%s/run.safetensors", root);
    for (int bn_eval = 1; bn_eval >= 0; bn_eval--) {
        trainer_config c = small_config("resnet18");
        c.epochs = 1;
        c.bn_eval = bn_eval;
        c.save = ckpt;
        run_log log;
        run_all(&c, &d, &log);
        cr_assert_eq(log.status, 0, "%s", log.error);
        // torchvision's initial statistics are mean 0, variance 1
        size_t n;
        float *mean = tensor_of(ckpt, "layer1.0.bn1.running_mean", &n),
              *var = tensor_of(ckpt, "layer1.0.bn1.running_var", &n);
        int untouched = 1;
        for (size_t i = 0; i < n; i++) untouched &= mean[i] == 0.0f && var[i] == 1.0f;
        if (bn_eval)
            cr_expect(untouched, "--bn eval: running statistics bit-identical to the initial ones");
        else
            cr_expect(!untouched, "--bn train: running statistics updated although frozen (the seed's behaviour)");
        free(mean);
        free(var);
    }
    dataset_free(&d);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

Test(trainer, pause_resume_stop_at_batch_boundaries, .timeout = 300) {
    fx_two_class_dataset(root, 40, 4, 32);
    dataset d = scan();
    trainer_config c = small_config("resnet18");
    c.batch_size = 2;
    c.cache = 0;
    c.epochs = 50;
    char err[512];
    trainer *t = trainer_start(&c, &d, err, sizeof err);
    cr_assert_not_null(t);
    train_event e;
    int batches = 0;
    while (batches < 2) {
        cr_assert(trainer_wait(t, &e, 20000), "no events");
        cr_assert_neq(e.kind, EV_ERROR, "%s", e.text);
        if (e.kind == EV_BATCH) batches++;
    }
    trainer_pause(t);
    cr_expect(trainer_paused(t));
    // at most the batch in flight finishes, then nothing while paused
    double until = now_s() + 1.0;
    int after_pause = 0;
    while (now_s() < until)
        if (trainer_wait(t, &e, 50) && e.kind == EV_BATCH) after_pause++;
    cr_expect_leq(after_pause, 1, "%d batches ran while paused", after_pause);
    trainer_resume(t);
    int resumed = 0;
    until = now_s() + 20;
    while (resumed < 2 && now_s() < until)
        if (trainer_wait(t, &e, 50) && e.kind == EV_BATCH) resumed++;
    cr_expect_eq(resumed, 2, "batches flow again after resume");
    trainer_cancel(t);
    int after_stop = 0, finished = 0;
    while (!finished) {
        cr_assert(trainer_wait(t, &e, 20000), "the run did not stop");
        if (e.kind == EV_BATCH) after_stop++;
        if (e.kind == EV_FINISHED) {
            finished = 1;
            cr_expect_eq(e.status, 1, "status: stopped");
        }
    }
    cr_expect_leq(after_stop, 1, "stop acts at the next batch boundary");
    cr_expect_eq(trainer_result(t, NULL), 1);
    trainer_free(t);

    // stopping while paused ends the run too
    t = trainer_start(&c, &d, err, sizeof err);
    cr_assert_not_null(t, "%s", err);
    trainer_pause(t);
    trainer_cancel(t);
    cr_expect_eq(trainer_result(t, NULL), 1);
    cr_expect(trainer_done(t));
    trainer_free(t);
    dataset_free(&d);
}

// ---------------------------------------------------------------------------------------------
// --trainable and handing the model over

// The centre tap of the first 3x3 kernel of state_dict entry `name` (at 32x32 input, layer4 sees
// 1x1 maps: only centre taps get gradients).
static float centre_value(ft_model *m, const char *name) {
    for (size_t i = 0; i < ft_model_state_count(m); i++) {
        ft_tensor_info info;
        cr_assert_null(ft_model_state_info(m, i, &info));
        if (strcmp(info.name, name) != 0) continue;
        float *buf = malloc(info.nbytes);
        cr_assert_null(ft_model_state_get(m, i, buf, info.nbytes));
        float v = buf[4];
        free(buf);
        return v;
    }
    cr_assert_fail("no state entry %s", name);
    return 0;
}

Test(trainer, trainable_modules_train_and_the_model_is_handed_over, .timeout = 300) {
    fx_two_class_dataset(root, 8, 4, 32);
    dataset d = scan();
    // the same seed builds the same initial model: compare before and after
    ft_manual_seed(5);
    ft_model *fresh = NULL;
    cr_assert_null(ft_model_create("resnet18", &fresh));
    trainer_config c = small_config("resnet18");
    c.epochs = 1;
    c.trainable = "layer4,fc";
    c.keep_model = 1;
    char err[512];
    trainer *t = trainer_start(&c, &d, err, sizeof err);
    cr_assert_not_null(t, "%s", err);
    train_event e;
    int status = -2;
    while (status == -2)
        if (trainer_wait(t, &e, 1000) && e.kind == EV_FINISHED) status = e.status;
    ft_model *m = NULL;
    cr_assert_eq(trainer_result(t, &m), 0);
    trainer_free(t);
    cr_assert_not_null(m, "the trained model is handed over");
    size_t n;
    const ft_node *nodes;
    cr_assert_null(ft_model_nodes(m, &nodes, &n));
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].depth != 1) continue;
        int should = strcmp(nodes[i].path, "layer4") == 0 || strcmp(nodes[i].path, "fc") == 0;
        cr_expect_eq(nodes[i].trainable, should ? nodes[i].params : 0, "%s: %lld of %lld trainable", nodes[i].path,
                     (long long)nodes[i].trainable, (long long)nodes[i].params);
    }
    // layer4 trained (its weights moved), layer3 stayed as built (the cache was off: backbone not frozen)
    cr_expect_neq(centre_value(m, "layer4.1.conv2.weight"), centre_value(fresh, "layer4.1.conv2.weight"));
    cr_expect_eq(centre_value(m, "layer3.1.conv2.weight"), centre_value(fresh, "layer3.1.conv2.weight"));
    ft_model_free(m);
    ft_model_free(fresh);
    // an unknown module is one clear message
    ft_model *x = NULL;
    cr_assert_null(ft_model_create("resnet18", &x));
    cr_expect_eq(transfer_apply_trainable(x, "layer4,layer9", err, sizeof err), -1);
    cr_expect(strstr(err, "layer9") != NULL, "%s", err);
    ft_model_free(x);
    dataset_free(&d);
}
