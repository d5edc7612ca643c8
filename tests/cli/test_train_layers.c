// test_train_layers.c — what a run did to each module (frost train --json's "layers" events,
// --layer-report, the alarms), against python3-torch computing the same from the checkpoints the run
// started from and saved (tests/oracle/live/layer_change.py).
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "fixtures.h"
#include "testutil.h"
#include "transfer.h"

static char *root;
static void setup(void) { root = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(root);
    free(root);
}
TestSuite(train_layers, .init = setup, .fini = teardown, .timeout = 300);

// The run's start: resnet18 for the dataset's two classes, layer4 and the head trainable, 32x32.
static void write_start(const char *path) {
    ft_model *m = NULL;
    char err[1024];
    transfer_spec spec = {.arch = "resnet18", .classes = 2};
    cr_assert_eq(transfer_build(&spec, &m, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_assert_eq(transfer_apply_trainable(m, "layer4,fc", err, sizeof err), 0, "%s", err);
    checkpoint_meta meta;
    static char *names[] = {"cold", "warm"};
    fx_meta_for(&meta, names, 2);
    meta.tf.size = 32;
    fx_save_checkpoint(path, m, NULL, &meta);
    ft_model_free(m);
}

// The log's last "layers" event (a new reference), and its alarms' texts joined in alarms.
static json_t *last_layers(const char *log, char *alarms, size_t len) {
    FILE *f = fopen(log, "r");
    cr_assert_not_null(f);
    static char line[1 << 20];
    json_t *last = NULL;
    alarms[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        json_t *e = json_loads(line, 0, NULL);
        cr_assert_not_null(e);
        const char *kind = json_string_value(json_object_get(e, "event"));
        if (strcmp(kind, "layers") == 0) {
            json_decref(last);
            last = e;
            continue;
        }
        if (strcmp(kind, "alarm") == 0) {
            size_t used = strlen(alarms);
            snprintf(alarms + used, len - used, "%s\n", json_string_value(json_object_get(e, "text")));
        }
        json_decref(e);
    }
    fclose(f);
    cr_assert_not_null(last, "no layers event in %s", log);
    return last;
}

// 1 when a (frost's, maybe NAN) equals b (PyTorch's, maybe null) within rel 1e-4.
static int same(double a, json_t *b) {
    if (json_is_null(b)) return !isfinite(a);
    double want = json_real_value(b);
    return isfinite(a) && fabs(a - want) <= 1e-4 * fabs(want) + 1e-12;
}

static void run(const char *bn, json_t **frost, json_t **torch, char *alarms, size_t len, char *out_text,
                size_t out_len) {
    fx_two_class_dataset(root, 12, 4, 40);
    char start[1024], end[1024], log[1024], oracle[1024];
    snprintf(start, sizeof start, "%s/start.safetensors", root);
    snprintf(end, sizeof end, "%s/end.safetensors", root);
    snprintf(log, sizeof log, "%s/log.jsonl", root);
    snprintf(oracle, sizeof oracle, "%s/torch.json", root);
    write_start(start);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train",  root,   "--resume",       start, "--epochs",        "1", "--batch", "8",
                                      "--lr",   "1e-3", "--bn",           bn,    "--measure-every", "2", "--json",  log,
                                      "--save", end,    "--layer-report", NULL});
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    snprintf(out_text, out_len, "%s", r.out);
    tu_run_free(&r);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/oracle/live/layer_change.py '%s' '%s' '%s'", start, end, oracle);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    *frost = last_layers(log, alarms, len);
    *torch = json_load_file(oracle, 0, NULL);
    cr_assert_not_null(*torch);
}

// Every module's change and drift, frost's against PyTorch's.
static void expect_same_modules(json_t *frost, json_t *torch) {
    json_t *mods = json_object_get(frost, "modules");
    cr_assert_eq(json_array_size(mods), json_object_size(torch), "frost measures %zu modules, PyTorch has %zu",
                 json_array_size(mods), json_object_size(torch));
    for (size_t i = 0; i < json_array_size(mods); i++) {
        json_t *m = json_array_get(mods, i);
        const char *path = json_string_value(json_object_get(m, "path"));
        json_t *want = json_object_get(torch, path);
        cr_assert_not_null(want, "PyTorch has no module '%s'", path);
        json_t *c = json_object_get(m, "change"), *d = json_object_get(m, "drift");
        double change = json_is_null(c) ? NAN : json_real_value(c), drift = json_is_null(d) ? NAN : json_real_value(d);
        cr_expect(same(change, json_object_get(want, "change")), "%s: change %.9g, PyTorch %.9g", path, change,
                  json_real_value(json_object_get(want, "change")));
        cr_expect(same(drift, json_object_get(want, "drift")), "%s: drift %.9g, PyTorch %.9g", path, drift,
                  json_real_value(json_object_get(want, "drift")));
    }
}

static json_t *module(json_t *frost, const char *path) {
    json_t *mods = json_object_get(frost, "modules");
    for (size_t i = 0; i < json_array_size(mods); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(mods, i), "path")), path) == 0)
            return json_array_get(mods, i);
    cr_assert_fail("no module %s", path);
    return NULL;
}

Test(train_layers, bn_train_changes_equal_pytorchs_and_frozen_batchnorm_drifts) {
    json_t *frost, *torch;
    char alarms[4096], out[1 << 16];
    run("train", &frost, &torch, alarms, sizeof alarms, out, sizeof out);
    expect_same_modules(frost, torch);
    // the trainable parts moved, with a gradient; the frozen BatchNorm layers drifted, and the alarm says so
    cr_expect_gt(json_real_value(json_object_get(module(frost, "fc"), "change")), 0);
    cr_expect_gt(json_real_value(json_object_get(module(frost, "layer4"), "grad")), 0);
    cr_expect(json_is_null(json_object_get(module(frost, "layer1"), "change")), "frozen: nothing to measure");
    cr_expect_gt(json_real_value(json_object_get(module(frost, "layer1.0.bn1"), "drift")), 0);
    cr_expect(strstr(alarms, "frozen but changing: 15 BatchNorm layers (bn1, layer1.0.bn1, layer1.0.bn2, "
                             "layer1.1.bn1 and 11 more)") != NULL,
              "the alarm names them (resnet18 has 20 BatchNorm layers, 5 of them in layer4):\n%s", alarms);
    cr_expect(strstr(out, "warning: frozen but changing:") && strstr(out, "(--bn eval keeps them fixed)"), "%s", out);
    // --layer-report: a row per module, its numbers the log's
    char row[256];
    snprintf(row, sizeof row, "  fc ");
    cr_expect(strstr(out, "what training did to each module") && strstr(out, row), "%s", out);
    json_decref(frost);
    json_decref(torch);
}

Test(train_layers, bn_eval_keeps_frozen_batchnorm_exactly) {
    json_t *frost, *torch;
    char alarms[4096], out[1 << 16];
    run("eval", &frost, &torch, alarms, sizeof alarms, out, sizeof out);
    expect_same_modules(frost, torch);
    json_t *mods = json_object_get(frost, "modules");
    int frozen_bn = 0;
    for (size_t i = 0; i < json_array_size(mods); i++) {
        json_t *m = json_array_get(mods, i);
        const char *path = json_string_value(json_object_get(m, "path"));
        if (!strstr(path, "bn") && !strstr(path, "downsample.1")) continue;
        if (strncmp(path, "layer4", 6) == 0) continue;   // trainable: train mode, statistics update
        frozen_bn++;
        cr_expect_eq(json_real_value(json_object_get(m, "drift")), 0.0, "%s drifted under --bn eval", path);
    }
    cr_expect_eq(frozen_bn, 15, "the frozen BatchNorm layers outside layer4");
    cr_expect(strstr(alarms, "frozen but changing") == NULL, "%s", alarms);
    json_decref(frost);
    json_decref(torch);
}
