// test_precision_auto.c — --precision auto: its rule on measured figures fed in, its speeds kept with
// the cost calibration (read back, a damaged table measured again), and one decision on a small dataset.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cost.h"
#include "dataset.h"
#include "fixtures.h"
#include "pipeline.h"
#include "precision_auto.h"
#include "testutil.h"

static precision_figure fig(ft_precision p, double speedup, size_t images, size_t top1) {
    return (precision_figure){.precision = p, .speedup = speedup, .images = images, .top1_agree = top1};
}

static const precision_figure FP32 = {.precision = FT_PRECISION_FP32, .speedup = 1, .images = 1000, .top1_agree = 1000};

Test(precision_choose, the_fastest_that_keeps_top1_on_99_percent) {
    precision_figure f[] = {FP32, fig(FT_PRECISION_FAST, 1.3, 1000, 1000), fig(FT_PRECISION_BF16, 2.4, 1000, 994)};
    cr_expect_eq(precision_choose(f, 3), FT_PRECISION_BF16);
    // one image fewer than 99% and bf16 gives way to the next fastest
    f[2].top1_agree = 989;
    cr_expect_eq(precision_choose(f, 3), FT_PRECISION_FAST);
    // exactly 99% is enough
    f[2] = fig(FT_PRECISION_BF16, 2.4, 100, 99);
    cr_expect_eq(precision_choose(f, 3), FT_PRECISION_BF16);
    // the order of the figures does not matter
    precision_figure g[] = {f[2], f[1], f[0]};
    cr_expect_eq(precision_choose(g, 3), FT_PRECISION_BF16);
}

Test(precision_choose, equal_speeds_go_to_the_more_exact) {
    precision_figure f[] = {FP32, fig(FT_PRECISION_FAST, 1.5, 100, 100), fig(FT_PRECISION_BF16, 1.5, 100, 100)};
    cr_expect_eq(precision_choose(f, 3), FT_PRECISION_FAST);
    precision_figure g[] = {fig(FT_PRECISION_BF16, 1.0, 100, 100), fig(FT_PRECISION_FAST, 1.0, 100, 100), FP32};
    cr_expect_eq(precision_choose(g, 3), FT_PRECISION_FP32);
}

Test(precision_choose, nothing_that_qualifies_is_fp32) {
    // faster, but changing too many answers
    precision_figure f[] = {FP32, fig(FT_PRECISION_FAST, 1.3, 100, 90), fig(FT_PRECISION_BF16, 2.0, 100, 50)};
    cr_expect_eq(precision_choose(f, 3), FT_PRECISION_FP32);
    // keeping every answer, but slower (bf16 on a CPU without fast bf16 units)
    precision_figure g[] = {FP32, fig(FT_PRECISION_BF16, 0.85, 100, 100)};
    cr_expect_eq(precision_choose(g, 2), FT_PRECISION_FP32);
    // not compared on any image, or no speed measured: not chosen
    precision_figure h[] = {FP32, fig(FT_PRECISION_BF16, 2.0, 0, 0), fig(FT_PRECISION_FAST, NAN, 100, 100)};
    cr_expect_eq(precision_choose(h, 3), FT_PRECISION_FP32);
    cr_expect_eq(precision_choose(NULL, 0), FT_PRECISION_FP32);
}

// What the screen and the command line say comes from the figures.
Test(precision_choose, the_summary_says_the_pick_and_its_figures) {
    precision_auto_result r = {.n = 3, .pick = FT_PRECISION_BF16};
    r.fig[0] = FP32;
    r.fig[1] = fig(FT_PRECISION_FAST, 1.3, 1000, 1000);
    r.fig[2] = fig(FT_PRECISION_BF16, 2.4, 1000, 994);
    char buf[512];
    precision_auto_summary(&r, buf, sizeof buf);
    cr_expect_str_eq(buf, "bf16: 2.4x faster here, top-1 unchanged on 99.4%");
    r.fig[2].top1_agree = 950;
    r.pick = precision_choose(r.fig, r.n);
    precision_auto_summary(&r, buf, sizeof buf);
    cr_expect_str_eq(buf, "fast: 1.3x faster here, top-1 unchanged on 100.0%");
    precision_auto_line(&r, buf, sizeof buf);
    cr_expect(strstr(buf, "--precision auto: fast: 1.3x faster here") == buf, "%s", buf);
    cr_expect(strstr(buf, "bf16 2.40x, top-1 95.0%"), "%s", buf);
}

// ---------------------------------------------------------------------------------------------
// the speeds, kept with the cost calibration

TestSuite(precision_calibration, .init = fx_caches_init, .fini = fx_caches_fini, .timeout = 240);

static char *calibration_text(void) {
    char path[4300];
    snprintf(path, sizeof path, "%s/calibration.tsv", fx_cache);
    return tu_read_file(path, NULL);
}

Test(precision_calibration, measured_once_then_kept_beside_fp32s) {
    cost_speed a, b;
    int measured = -1;
    char err[512];
    cr_assert_eq(cost_calibrate_precision("resnet18", 32, "cpu", FT_PRECISION_FAST, &a, &measured, err, sizeof err), 0,
                 "%s", err);
    cr_expect_eq(measured, 1, "measured the first time");
    cr_expect(a.forward > 0 && isfinite(a.forward) && a.backward > 0);
    char *text = calibration_text();
    cr_assert_not_null(text);
    cr_expect(strstr(text, "resnet18\t32\tcpu\t") == text || strstr(text, "\nresnet18\t32\tcpu\t"), "fp32's:\n%s",
              text);
    cr_expect(strstr(text, "resnet18/fast\t32\tcpu\t"), "fast's:\n%s", text);
    free(text);
    cr_assert_eq(cost_calibrate_precision("resnet18", 32, "cpu", FT_PRECISION_FAST, &b, &measured, err, sizeof err), 0,
                 "%s", err);
    cr_expect_eq(measured, 0, "read back the second time");
    cr_expect(fabs(a.forward - b.forward) <= 1e-5 * a.forward, "the same speed: %g and %g", a.forward, b.forward);
    // fp32's own is cost_calibrate's, kept as it was
    cost_speed c;
    cr_assert_eq(cost_calibrate_precision("resnet18", 32, "cpu", FT_PRECISION_FP32, &c, &measured, err, sizeof err), 0,
                 "%s", err);
    cr_expect_eq(measured, 0);
    cr_expect_eq(c.backward, b.backward, "training runs in fp32: the backward speed is fp32's");
}

// A table damaged by hand or by a crash elsewhere: the speed is measured again, never a crash or a
// nonsense figure.
Test(precision_calibration, a_damaged_table_is_measured_again) {
    char path[4300];
    snprintf(path, sizeof path, "%s/calibration.tsv", fx_cache);
    const char *damaged[] = {"resnet18/fast\t32\tcpu\t", "resnet18/fast\t32\tcpu\t%d\tnan\t-1\n",
                             "resnet18/fast\t32\tcpu\t%d\tbanana\n"};
    tu_mkdirs_for(path);
    for (size_t k = 0; k < sizeof damaged / sizeof *damaged + 1; k++) {
        char text[256];
        size_t len;
        if (k < sizeof damaged / sizeof *damaged) {
            snprintf(text, sizeof text, damaged[k], ft_get_num_threads());
            len = strlen(text);
        } else {   // not text at all
            len = sizeof text;
            for (size_t i = 0; i < len; i++) text[i] = (char)(i * 37 % 256);
        }
        cr_assert_eq(tu_write_file(path, text, len), 0);
        cost_speed a;
        int measured = -1;
        char err[512];
        cr_assert_eq(cost_calibrate_precision("resnet18", 32, "cpu", FT_PRECISION_FAST, &a, &measured, err, sizeof err),
                     0, "case %zu: %s", k, err);
        cr_expect_eq(measured, 1, "case %zu: measured again", k);
        cr_expect(a.forward > 0 && isfinite(a.forward), "case %zu: %g", k, a.forward);
    }
}

// bf16 is offered only where the CPU has bfloat16 instructions (the shim knows).
Test(precision_calibration, bf16_only_with_bf16_instructions) {
    cost_speed a;
    char err[512] = "";
    int rc = cost_calibrate_precision("resnet18", 32, "cpu", FT_PRECISION_BF16, &a, NULL, err, sizeof err);
    if (ft_cpu_has_bf16())
        cr_expect_eq(rc, 0, "%s", err);
    else
        cr_expect(rc == -1 && strstr(err, "no bfloat16 instructions"), "%d %s", rc, err);
}

// One decision on a small dataset: every precision this CPU offers, fp32 as the reference, fast (the
// same arithmetic re-associated) agreeing on every image, the pick by the rule; the second decision
// reads the speeds back.
Test(precision_calibration, a_decision_on_the_users_images) {
    char *root = tu_tmpdir();
    fx_two_class_dataset(root, 6, 2, 40);
    dataset d;
    char err[1024];
    cr_assert_eq(dataset_scan(&d, root, NULL, err, sizeof err), 0, "%s", err);
    pipeline_opts po;
    pipeline_opts_default(&po);
    po.tf.size = 32;
    precision_auto_spec spec = {.arch = "resnet18", .device = "cpu", .batch = 4, .prep = &po, .split = &d.train};
    precision_auto_result r;
    cr_assert_eq(precision_auto_decide(&spec, &r, err, sizeof err), 0, "%s", err);
    cr_expect_eq(r.n, ft_cpu_has_bf16() ? 3u : 2u, "bf16 offered only with bf16 instructions");
    cr_expect_eq(r.fig[0].precision, FT_PRECISION_FP32);
    cr_expect_eq(r.fig[0].speedup, 1.0);
    for (size_t i = 0; i < r.n; i++) {
        cr_expect_eq(r.fig[i].images, 12u, "%s compared on the 12 training images", precision_name(r.fig[i].precision));
        cr_expect(r.fig[i].speedup > 0 && isfinite(r.fig[i].speedup));
    }
    cr_expect_eq(r.fig[1].precision, FT_PRECISION_FAST);
    cr_expect_eq(r.fig[1].top1_agree, 12u);
    cr_expect_eq(r.fig[1].features_agree, 12u);
    cr_expect(r.fig[1].max_rel_diff < 1e-4, "fast differs from fp32 at rounding: %g", r.fig[1].max_rel_diff);
    cr_expect_eq(r.pick, precision_choose(r.fig, r.n));
    cr_expect_eq(r.measured, 1);
    precision_auto_result again;
    cr_assert_eq(precision_auto_decide(&spec, &again, err, sizeof err), 0, "%s", err);
    cr_expect_eq(again.measured, 0, "the speeds read back from the calibration file");
    for (size_t i = 0; i < r.n; i++)   // as the file keeps them: 6 digits
        cr_expect(fabs(again.fig[i].speedup - r.fig[i].speedup) <= 1e-5 * r.fig[i].speedup, "%g and %g",
                  again.fig[i].speedup, r.fig[i].speedup);
    dataset_free(&d);
    tu_rmtree(root);
    free(root);
}
