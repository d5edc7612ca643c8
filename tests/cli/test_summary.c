// test_summary.c — `frost summary`: the parameter totals equal torchvision's.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost_torch.h"
#include "testutil.h"
#include "weights.h"

Test(cli_summary, summary_totals_equal_torchvision) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"summary", "resnet50", "--classes", "2", "--size", "64", NULL});
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    // torchvision: sum(p.numel()) 23,512,130; trainable (the new fc) 4,098
    cr_expect(strstr(r.out, "Total params: 23,512,130\n") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "Trainable params: 4,098\n") != NULL);
    cr_expect(strstr(r.out, "Non-trainable params: 23,508,032\n") != NULL);
    cr_expect(strstr(r.out, "(fc) Linear") != NULL);
    cr_expect(strstr(r.out, "[1, 2048, 2, 2]") != NULL, "layer4's output at 64x64");
    tu_run_free(&r);
}

// ---------------------------------------------------------------------------------------------
// --cost

static char *caches;
static void cost_setup(void) {
    caches = tu_tmpdir();
    setenv("XDG_CACHE_HOME", caches, 1);   // the calibration goes here, not into the user's cache
}
static void cost_teardown(void) {
    tu_rmtree(caches);
    free(caches);
}
TestSuite(cli_summary_cost, .init = cost_setup, .fini = cost_teardown, .timeout = 600);

// "training memory  123.4 MB ..." of frost summary --cost, in bytes.
static double training_memory(const char *trainable, const char *batch, const char *size) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"summary", "resnet18", "--classes", "3", "--cost", "--trainable", trainable,
                                      "--batch", batch, "--size", size, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *at = strstr(r.out, "training memory");
    cr_assert_not_null(at, "%s", r.out);
    double v = 0;
    char unit[8] = "";
    cr_assert_eq(sscanf(at + strlen("training memory"), " %lf %7s", &v, unit), 2, "%s", at);
    double scale = strcmp(unit, "GB") == 0 ? 1e9 : strcmp(unit, "MB") == 0 ? 1e6 : strcmp(unit, "KB") == 0 ? 1e3 : 1;
    tu_run_free(&r);
    return v * scale;
}

// The peak memory of a one-epoch run with that freeze choice, in bytes.
static double measured_peak(const char *trainable, const char *batch, const char *size) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", "sample_data", "--arch", "resnet18", "--epochs", "1", "--batch", batch,
                                      "--size", size, "--cache", "off", "--trainable", trainable, "--measure-every",
                                      "0", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    double kb = (double)r.max_rss_kb;
    tu_run_free(&r);
    return kb * 1024;
}

// What a freeze choice adds to a run's memory, estimated, against what two real runs' peaks differ by:
// within 20%.
Test(cli_summary_cost, memory_estimate_matches_the_measured_difference) {
#if defined(__SANITIZE_ADDRESS__)
    // under AddressSanitizer a run's memory is ASan's as much as frost's (redzones around every
    // block, freed blocks held in quarantine: measured 1.26x the plain build's difference); the
    // estimate is of frost's, checked in the plain build of the same CI run
    cr_skip_test("peak memory is measured in the plain build (this one is built with AddressSanitizer)");
#endif
    const char *batch = "32", *size = "128";
    double base_est = training_memory("fc", batch, size), base = measured_peak("fc", batch, size);
    const char *choices[] = {"layer3,layer4,fc", "all"};
    for (int k = 0; k < 2; k++) {
        double est = training_memory(choices[k], batch, size) - base_est;
        double got = measured_peak(choices[k], batch, size) - base;
        cr_log_info("--trainable %s over fc: estimated %.0f MB more, measured %.0f MB more", choices[k], est / 1e6,
                    got / 1e6);
        cr_expect_gt(got, 0);
        cr_expect_leq(fabs(est - got), 0.2 * got, "--trainable %s: estimated %.0f MB more than fc, measured %.0f MB",
                      choices[k], est / 1e6, got / 1e6);
    }
}

// The rest of the report: the numbers core/model/cost.c is tested for, printed; the options that go with it.
Test(cli_summary_cost, report_and_options) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"summary", "resnet50", "--classes", "2", "--cost", "--size", "64", "--data",
                                      "sample_data", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "trainable parameters   4,098 of 23,512,130") &&
                  strstr(r.out, "optimizer state        32.8 KB") && strstr(r.out, "feature cache          applies") &&
                  strstr(r.out, "over 120 + 36 images"),
              "%s", r.out);
    tu_run_free(&r);
    tu_expect_one_line_error((const char *[]){"summary", "resnet50", "--trainable", "fc", NULL}, 2, "go with --cost");
    tu_expect_one_line_error(
        (const char *[]){"summary", "resnet50", "--classes", "2", "--cost", "--trainable", "layer9", NULL}, 2,
        "layer9");
}
