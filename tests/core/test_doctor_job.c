// test_doctor_job.c — core/doctor_job: frost doctor's check on a background thread, polled until
// done, with each bad file's reason found by item; and a cancelled run says so.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor_job.h"
#include "testutil.h"

static char *root;
static void setup(void) { root = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(root);
    free(root);
}
TestSuite(doctor_job, .init = setup, .fini = teardown, .timeout = 60);

static void jpeg(const char *rel, int w, int h) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    tu_mkdirs_for(path);
    unsigned char *px = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++) px[i] = (unsigned char)(i * 7);
    cr_assert_eq(tu_write_jpeg(path, w, h, px), 0);
    free(px);
}

static void raw(const char *rel, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    tu_mkdirs_for(path);
    cr_assert_eq(tu_write_file(path, text, strlen(text)), 0);
}

static void make_dataset(dataset *d) {
    for (int i = 0; i < 5; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "train/cats/c%d.jpg", i);
        jpeg(rel, 40, 30);
        snprintf(rel, sizeof rel, "train/dogs/d%d.jpg", i);
        jpeg(rel, 30, 40);
    }
    raw("train/dogs/d2b.jpg", "not a picture");
    jpeg("valid/cats/v0.jpg", 32, 32);
    raw("valid/dogs/empty.png", "");
    char err[512];
    dataset_opts o;
    dataset_opts_default(&o);
    o.lenient = 1;
    cr_assert_eq(dataset_scan(d, root, &o, err, sizeof err), 0, "%s", err);
}

Test(doctor_job, polled_until_done_with_reasons) {
    dataset d;
    make_dataset(&d);
    char err[256] = "";
    doctor_job *j = doctor_job_start(&d, 2, err, sizeof err);
    cr_assert(j, "%s", err);
    size_t checked, total;
    doctor_job_poll(j, &checked, &total);
    cr_expect_eq(total, 13);
    for (int i = 0; i < 3000 && !doctor_job_done(j); i++) usleep(10000);
    cr_assert(doctor_job_done(j), "the check ends");
    doctor_job_poll(j, &checked, &total);
    cr_expect_eq(checked, 13, "every file counted");
    const doctor_report *r = doctor_job_report(j, err, sizeof err);
    cr_assert(r, "%s", err);
    cr_expect_eq(r->checked, 13);
    cr_expect_eq(r->readable, 11);
    cr_expect_eq(badfiles_count((badfile_list *)&r->bad), 2);

    size_t bad_train = 0, bad_valid = 0;
    for (size_t i = 0; i < d.train.n_items; i++) {
        const char *why = doctor_job_reason(j, 0, i);
        int is_bad = strstr(d.train.items[i].path, "d2b.jpg") != NULL;
        cr_expect_eq(why != NULL, is_bad, "%s: %s", d.train.items[i].path, why ? why : "(fine)");
        if (why) {
            bad_train++;
            cr_expect(why[0] != '\0');
        }
    }
    for (size_t i = 0; i < d.valid.n_items; i++)
        if (doctor_job_reason(j, 1, i)) {
            bad_valid++;
            cr_expect(strstr(d.valid.items[i].path, "empty.png") != NULL);
        }
    cr_expect(bad_train == 1 && bad_valid == 1);
    cr_expect_null(doctor_job_reason(j, 0, d.train.n_items), "out of range");
    cr_expect_null(doctor_job_reason(j, 2, 0), "no such split");
    doctor_job_free(j);
    dataset_free(&d);
}

Test(doctor_job, cancelled_run_says_so) {
    dataset d;
    make_dataset(&d);
    atomic_size_t progress;
    atomic_int cancel;
    atomic_init(&progress, 0);
    atomic_init(&cancel, 1);
    doctor_hooks h = {&progress, &cancel};
    doctor_report r;
    char err[256] = "";
    cr_expect_eq(doctor_run_hooked(&d, 2, &h, &r, err, sizeof err), -1);
    cr_expect_str_eq(err, "cancelled");
    cr_expect_eq(atomic_load(&progress), 0, "no file taken after the flag");
    doctor_report_free(&r, d.n_classes);

    dataset_free(&d);
}

// A job cancelled as it starts stops early: of 300 images (about a millisecond each to decode) it
// checks only those its one worker took before the flag, and its result says it was cancelled.
Test(doctor_job, cancelled_job_stops_early) {
    for (int i = 0; i < 300; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "%s/%s/%03d.jpg", i % 3 ? "train" : "valid", i % 2 ? "cats" : "dogs", i);
        jpeg(rel, 160, 120);
    }
    dataset d;
    char err[256] = "";
    dataset_opts o;
    dataset_opts_default(&o);
    cr_assert_eq(dataset_scan(&d, root, &o, err, sizeof err), 0, "%s", err);
    doctor_job *j = doctor_job_start(&d, 1, err, sizeof err);
    cr_assert(j, "%s", err);
    doctor_job_cancel(j);
    for (int t = 0; t < 30000 && !doctor_job_done(j); t++) usleep(1000);
    cr_assert(doctor_job_done(j), "the cancelled job never finished");
    size_t checked, total;
    doctor_job_poll(j, &checked, &total);
    cr_expect_eq(total, 300);
    cr_expect_lt(checked, total, "all %zu images checked although cancelled at once", total);
    cr_expect_null(doctor_job_report(j, err, sizeof err), "a cancelled job has no report");
    cr_expect_str_eq(err, "cancelled");
    doctor_job_free(j);
    dataset_free(&d);
}
