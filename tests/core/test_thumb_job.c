// test_thumb_job.c — a preview decoded on a thread of its own (core/jobs/thumb_job.c): the owner polls
// until done and takes the same picture image_thumb_load gives; a file that cannot be read is the
// job's error; a job freed while it decodes waits for it. Part of the ThreadSanitizer run (make tsan).
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "thumb_job.h"

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}
TestSuite(thumb_job, .init = setup, .fini = teardown, .timeout = 60);

static void wait_done(thumb_job *j) {
    for (int i = 0; i < 20000 && !thumb_job_done(j); i++) usleep(1000);
    cr_assert(thumb_job_done(j), "the decode never finished");
}

Test(thumb_job, polled_until_done_gives_the_picture) {
    char path[1100], err[256];
    snprintf(path, sizeof path, "%s/a.jpg", dir);
    cr_assert_eq(tu_write_class_jpeg(path, 1, 3), 0);
    thumb_job *j = thumb_job_start(path, 20, 20, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    wait_done(j);
    image_thumb got, want;
    thumb_info info, want_info;
    cr_assert_eq(thumb_job_result(j, &got, &info, err, sizeof err), 0, "%s", err);
    cr_assert_eq(image_thumb_load(path, 20, 20, &want, &want_info, err, sizeof err), 0, "%s", err);
    cr_expect_eq(got.width, 20);
    cr_expect_eq(got.height, 15, "40x30 fitted into 20x20");
    cr_expect_eq(got.width, want.width);
    cr_expect_eq(got.height, want.height);
    cr_expect_eq(memcmp(got.rgb, want.rgb, (size_t)want.width * (size_t)want.height * 3), 0,
                 "the decode on the job's thread gives the same pixels");
    cr_expect_str_eq(info.format, "JPEG");
    cr_expect_eq(info.width, 40);
    cr_expect_eq(info.bytes, want_info.bytes);
    image_thumb_free(&got);
    image_thumb_free(&want);
    thumb_job_free(j);
}

Test(thumb_job, unreadable_file_is_the_jobs_error) {
    char path[1100], err[256] = "";
    snprintf(path, sizeof path, "%s/b.jpg", dir);
    cr_assert_eq(tu_write_file(path, "not a picture", 13), 0);
    thumb_job *j = thumb_job_start(path, 20, 20, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    wait_done(j);
    image_thumb got;
    thumb_info info;
    cr_expect_eq(thumb_job_result(j, &got, &info, err, sizeof err), -1);
    cr_expect_neq(err[0], '\0', "a reason");
    cr_expect_null(got.rgb);
    cr_expect_eq(info.bytes, 13, "what could be read of the file");
    thumb_job_free(j);
}

// Freed at once, cancelled or not: each free waits for its decode (nothing left running).
Test(thumb_job, freed_while_decoding) {
    char path[1100], err[256];
    snprintf(path, sizeof path, "%s/c.jpg", dir);
    cr_assert_eq(tu_write_class_jpeg(path, 2, 5), 0);
    for (int k = 0; k < 20; k++) {
        thumb_job *j = thumb_job_start(path, 8 + k, 8, err, sizeof err);
        cr_assert_not_null(j, "%s", err);
        if (k % 2) thumb_job_cancel(j);
        thumb_job_free(j);
    }
}
