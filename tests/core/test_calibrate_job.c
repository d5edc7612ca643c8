// test_calibrate_job.c — an architecture's speed measured on a thread of its own (core/jobs/calibrate_job.c):
// the owner polls until done and reads the speed the calibration file then holds; an unknown
// architecture is the job's error; a job freed while it measures waits for it. Part of the
// ThreadSanitizer run (make tsan).
#include <criterion/criterion.h>
#include <math.h>
#include <unistd.h>

#include "calibrate_job.h"
#include "cost.h"
#include "fixtures.h"

TestSuite(calibrate_job, .init = fx_caches_init, .fini = fx_caches_fini, .timeout = 180);

static void wait_done(calibrate_job *j) {
    for (int i = 0; i < 1200 && !calibrate_job_done(j); i++) usleep(100000);
    cr_assert(calibrate_job_done(j), "the calibration never finished");
}

Test(calibrate_job, polled_until_done_gives_the_kept_speed) {
    char err[512];
    calibrate_job *j = calibrate_job_start("resnet18", 32, "cpu", FT_PRECISION_FP32, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cost_speed none;
    cr_expect_eq(calibrate_job_result(j, &none, err, sizeof err), calibrate_job_done(j) ? 0 : -1);
    wait_done(j);
    cost_speed got, kept;
    cr_assert_eq(calibrate_job_result(j, &got, err, sizeof err), 0, "%s", err);
    calibrate_job_free(j);
    cr_expect(isfinite(got.forward) && got.forward > 0 && isfinite(got.backward) && got.backward > 0,
              "forward %g, backward %g s per billion multiply-adds", got.forward, got.backward);
    int measured = -1;
    cr_assert_eq(cost_calibrate("resnet18", 32, "cpu", &kept, &measured, err, sizeof err), 0, "%s", err);
    cr_expect_eq(measured, 0, "the job's measurement was kept");
    // kept to 6 significant digits
    cr_expect(fabs(got.forward - kept.forward) <= 1e-5 * kept.forward &&
                  fabs(got.backward - kept.backward) <= 1e-5 * kept.backward,
              "the job's speed (%g, %g) is the one kept (%g, %g)", got.forward, got.backward, kept.forward,
              kept.backward);
}

Test(calibrate_job, unknown_architecture_is_the_jobs_error) {
    char err[512] = "";
    calibrate_job *j = calibrate_job_start("resnet17", 32, "cpu", FT_PRECISION_FP32, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    wait_done(j);
    cost_speed s;
    cr_expect_eq(calibrate_job_result(j, &s, err, sizeof err), -1);
    cr_expect(strstr(err, "resnet17") != NULL, "%s", err);
    calibrate_job_free(j);
}

Test(calibrate_job, freed_while_measuring) {
    char err[512];
    calibrate_job *j = calibrate_job_start("resnet18", 32, "cpu", FT_PRECISION_FP32, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    calibrate_job_cancel(j);
    calibrate_job_free(j);   // waits for the measurement
}
