// test_model_job.c — the interface's slow model work on a thread (core/jobs/model_job.c): a build
// polled until done is the tutorial's network (only the new head trains: PyTorch's count for it); an
// open gives the checkpoint's own weights and metadata, and a missing file is the job's one-line error;
// an export cancelled before its files are put in place writes nothing, not even its folder; a job
// freed while it works waits for it. Part of the ThreadSanitizer run (make tsan).
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_pytorch.h"
#include "fixtures.h"
#include "model_job.h"
#include "testutil.h"

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}
TestSuite(model_job, .init = setup, .fini = teardown, .timeout = 120);

// Polls until the job has ended, then takes its result.
static void wait_result(model_job **j, model_job_result *r) {
    for (int i = 0; i < 60000 && !model_job_collect(j, r); i++) usleep(1000);
    cr_assert_null(*j, "the job never finished");
}

Test(model_job, a_build_polled_until_done_is_the_tutorials_network) {
    char err[256];
    transfer_spec spec = {.arch = "resnet18", .classes = 3};
    model_job *j = model_job_build(&spec, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    model_job_result r;
    wait_result(&j, &r);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert_not_null(r.model);
    const ft_node *nodes;
    size_t n;
    cr_assert_null(ft_model_nodes(r.model, &nodes, &n));
    cr_expect_eq(nodes[0].trainable, 512 * 3 + 3, "only fc trains: %lld", (long long)nodes[0].trainable);
    cr_expect_eq(ft_model_num_classes(r.model), 3);
    model_job_result_free(&r);
}

Test(model_job, an_open_gives_the_checkpoints_weights_and_metadata) {
    char path[1100], err[256];
    snprintf(path, sizeof path, "%s/two.safetensors", dir);
    ft_model *m = fx_model("resnet18", 2);
    fx_formula_model(m);
    char *names[] = {"cold", "warm"};
    checkpoint_meta meta;
    fx_meta_for(&meta, names, 2);
    meta.tf.size = 96;
    fx_save_checkpoint(path, m, NULL, &meta);
    size_t want_len, got_len;
    unsigned char *want = fx_state_bytes(m, &want_len);
    ft_model_free(m);

    model_job *j = model_job_open(path, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    model_job_result r;
    wait_result(&j, &r);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.meta.arch, "resnet18");
    cr_expect_eq(r.meta.num_classes, 2);
    cr_expect_str_eq(r.meta.class_names[1], "warm");
    cr_expect_eq(r.meta.tf.size, 96);
    unsigned char *got = fx_state_bytes(r.model, &got_len);
    cr_expect(got_len == want_len && memcmp(got, want, want_len) == 0, "the weights saved");
    free(got);
    free(want);
    model_job_result_free(&r);

    snprintf(path, sizeof path, "%s/missing.safetensors", dir);
    j = model_job_open(path, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    wait_result(&j, &r);
    cr_expect_eq(r.rc, -1);
    cr_expect_null(r.model);
    cr_expect(strstr(r.err, "missing.safetensors") && !strchr(r.err, '\n'), "%s", r.err);
    model_job_result_free(&r);
}

// (export_pytorch_config itself: the cancel a job passes it, asked before the work)
Test(model_job, an_export_cancelled_writes_nothing) {
    char out[1100], err[512];
    snprintf(out, sizeof out, "%s/export", dir);
    trainer_config c;
    trainer_config_default(&c);
    snprintf(c.arch, sizeof c.arch, "resnet18");
    c.prep.tf.size = 64;
    char *names[] = {"cold", "warm"};
    atomic_int cancel = 1;
    cr_expect_eq(export_pytorch_config(&c, names, 2, out, 0, &cancel, err, sizeof err), EXPORT_PYTORCH_CANCELLED);
    struct stat st;
    cr_expect_neq(stat(out, &st), 0, "a cancelled export made %s", out);
    // not cancelled: the folder, with weights for the two classes
    atomic_store(&cancel, 0);
    cr_assert_eq(export_pytorch_config(&c, names, 2, out, 0, &cancel, err, sizeof err), 0, "%s", err);
    char path[1200];
    snprintf(path, sizeof path, "%s/" EXPORT_PYTORCH_WEIGHTS, out);
    checkpoint_meta meta;
    ft_model *m = fx_load_checkpoint(path, &meta);
    cr_expect_eq(meta.num_classes, 2);
    cr_expect_eq(meta.tf.size, 64);
    ft_model_free(m);
    checkpoint_meta_free(&meta);
}

Test(model_job, freed_while_building) {
    char err[256];
    transfer_spec spec = {.arch = "resnet18", .classes = 2};
    model_job *j = model_job_build(&spec, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    model_job_cancel(j);
    model_job_free(j);   // waits for the build, drops its model
}
