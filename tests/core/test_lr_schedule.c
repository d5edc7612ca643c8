// test_lr_schedule.c — core/train/lr_schedule.c against PyTorch 1.13's own schedulers (tests/oracle/live/
// lr_schedule.py) on two parameter groups with different lrs and a run of 37 steps: every step's lr and
// momentum to 1e-9. Then the text round trip, its one-line refusals, and the edges (past the end, no length).
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lr_schedule.h"

TestSuite(lr_schedule);

// Not round numbers, so a phase boundary that is off by one shows.
enum { LRS_TOTAL = 37 };
static const double lrs_base[2] = {1e-3, 1e-5};
static const double lrs_tol = 1e-9;

// ---------------------------------------------------------------------------------------------
// helpers

// What the oracle prints for `args` (besides the groups' lrs and the total), parsed; fails the test when
// it cannot run: torch is a test dependency.
static json_t *lrs_oracle(const char *args) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/oracle/live/lr_schedule.py --lrs 0.001,1e-05 --total %d %s",
             LRS_TOTAL, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "cannot run %s", cmd);
    size_t cap = 1 << 16, n = 0, got;
    char *out = malloc(cap);
    while ((got = fread(out + n, 1, cap - n - 1, p)) > 0) n += got;
    out[n] = '\0';
    int status = pclose(p);
    cr_assert_eq(status, 0,
                 "%s failed (status %d): the test's oracle needs /usr/bin/python3 with torch (python3-torch); "
                 "its error is above",
                 cmd, status);
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    free(out);
    cr_assert_not_null(j, "the oracle's output is not JSON: %s", e.text);
    return j;
}

// Every step's lr for both groups (factor * base lr) and momentum against the oracle's; `fixed` is the
// optimizer's own momentum (SGD 0.9, Adam beta1 0.9) that lr_schedule_momentum returns when it does not cycle.
static void lrs_expect_torch(const lr_schedule *s, const char *args) {
    json_t *j = lrs_oracle(args);
    json_t *lr = json_object_get(j, "lr"), *mom = json_object_get(j, "momentum");
    cr_assert_eq(json_array_size(lr), LRS_TOTAL, "the oracle gave %zu steps", json_array_size(lr));
    cr_assert_eq(json_array_size(mom), LRS_TOTAL);
    for (long k = 0; k < LRS_TOTAL; k++) {
        for (size_t g = 0; g < 2; g++) {
            double want = json_number_value(json_array_get(json_array_get(lr, k), g));
            double have = lr_schedule_factor(s, k, LRS_TOTAL) * lrs_base[g];
            cr_assert(want > 0 && fabs(have - want) <= lrs_tol * want,
                      "%s: step %ld, group %zu: lr %.17g, PyTorch %.17g", args, k, g, have, want);
            double want_m = json_number_value(json_array_get(json_array_get(mom, k), g));
            double have_m = lr_schedule_momentum(s, k, LRS_TOTAL, 0.9);
            cr_assert(fabs(have_m - want_m) <= lrs_tol, "%s: step %ld, group %zu: momentum %.17g, PyTorch %.17g", args,
                      k, g, have_m, want_m);
        }
    }
    json_decref(j);
}

// The schedule `text` parses to, other fields at their defaults.
static lr_schedule lrs_parsed(const char *text) {
    lr_schedule s;
    char err[256] = "";
    lr_schedule_default(&s);
    cr_assert_eq(lr_schedule_parse(text, &s, err, sizeof err), 0, "'%s' refused: %s", text, err);
    return s;
}

// ---------------------------------------------------------------------------------------------
// against PyTorch

Test(lr_schedule, constant_is_the_base_lr) {
    lr_schedule s = lrs_parsed("constant");
    lrs_expect_torch(&s, "--schedule constant");
}

Test(lr_schedule, cosine_is_cosine_annealing_lr) {
    lr_schedule s = lrs_parsed("cosine");
    lrs_expect_torch(&s, "--schedule cosine");
}

Test(lr_schedule, cosine_eta_min_is_a_fraction_of_each_groups_lr) {
    lr_schedule s = lrs_parsed("cosine");
    s.min_factor = 0.05;
    lrs_expect_torch(&s, "--schedule cosine --min-factor 0.05");
}

Test(lr_schedule, cosine_with_warmup_is_sequential_lr) {
    lr_schedule s = lrs_parsed("cosine:5");
    lrs_expect_torch(&s, "--schedule cosine --warmup 5 --warmup-start 0.1");
    // SequentialLR's milestone: the warm-up's last factor, then exactly 1
    cr_assert_float_eq(lr_schedule_factor(&s, 4, LRS_TOTAL), 0.1 + 0.9 * 4 / 5, 1e-15);
    cr_assert_eq(lr_schedule_factor(&s, 5, LRS_TOTAL), 1.0);
}

Test(lr_schedule, cosine_with_warmup_longer_than_the_run_is_all_warmup) {
    lr_schedule s = lrs_parsed("cosine:40");
    s.warmup_start = 0.25;
    lrs_expect_torch(&s, "--schedule cosine --warmup 40 --warmup-start 0.25");
}

Test(lr_schedule, one_cycle_cycles_sgd_momentum) {
    lr_schedule s = lrs_parsed("one-cycle");
    lrs_expect_torch(&s, "--schedule one-cycle --optimizer sgd");
}

Test(lr_schedule, one_cycle_cycles_adam_beta1) {
    lr_schedule s = lrs_parsed("onecycle");
    lrs_expect_torch(&s, "--schedule one-cycle --optimizer adam");
}

Test(lr_schedule, one_cycle_other_settings_without_momentum_cycling) {
    lr_schedule s = lrs_parsed("one-cycle");
    s.pct_start = 0.45;
    s.div_factor = 10;
    s.final_div_factor = 100;
    s.cycle_momentum = 0;
    lrs_expect_torch(&s, "--schedule one-cycle --optimizer adam --pct-start 0.45 --div-factor 10 "
                         "--final-div-factor 100 --no-cycle-momentum");
}

Test(lr_schedule, warmup_is_linear_lr) {
    lr_schedule s = lrs_parsed("warmup:5");
    s.warmup_start = 0.25;
    lrs_expect_torch(&s, "--schedule warmup --warmup 5 --warmup-start 0.25");
}

// ---------------------------------------------------------------------------------------------
// text

Test(lr_schedule, parse_and_format_round_trip) {
    const char *cases[][2] = {
        {"constant", "constant"},         {"cosine", "cosine"},
        {"cosine:0", "cosine"},           {"cosine:100", "cosine:100"},
        {"cosine:epoch", "cosine:epoch"}, {"one-cycle", "one-cycle"},
        {"onecycle", "one-cycle"},        {"warmup", "warmup"},
        {"warmup:epoch", "warmup"},       {"warmup:7", "warmup:7"},
        {"warmup:0", "warmup:0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lr_schedule s = lrs_parsed(cases[i][0]), back;
        char text[64];
        lr_schedule_format(&s, text, sizeof text);
        cr_assert_str_eq(text, cases[i][1], "'%s' formats as '%s'", cases[i][0], text);
        back = lrs_parsed(text);
        cr_assert(back.kind == s.kind && back.warmup_steps == s.warmup_steps, "'%s' does not parse back", text);
    }
    cr_assert_eq(lrs_parsed("warmup").warmup_steps, -1);
    cr_assert_eq(lrs_parsed("cosine").warmup_steps, 0);
    cr_assert_eq(lrs_parsed("cosine:100").warmup_steps, 100);
    cr_assert_eq(lrs_parsed("onecycle").kind, LR_ONE_CYCLE);
    cr_assert_str_eq(lr_schedule_name(LR_WARMUP), "warmup");
    cr_assert_str_eq(lr_schedule_name((lr_schedule_kind)42), "?");
}

Test(lr_schedule, parse_keeps_the_other_fields) {
    lr_schedule s;
    char err[128];
    lr_schedule_default(&s);
    s.min_factor = 0.5;
    s.warmup_steps = 9;
    cr_assert_eq(lr_schedule_parse("one-cycle", &s, err, sizeof err), 0);
    cr_assert_eq(s.min_factor, 0.5);
    cr_assert_eq(s.warmup_steps, 0, "a schedule without warm-up clears it");
}

Test(lr_schedule, bad_text_is_refused_in_one_line) {
    lr_schedule s;
    char err[256];
    lr_schedule_default(&s);
    cr_assert_eq(lr_schedule_parse("foo", &s, err, sizeof err), -1);
    cr_assert_str_eq(err, "unknown schedule 'foo' (constant, cosine, one-cycle, warmup)");
    const char *bad[] = {"",           "Cosine",     "cosine:",     "cosine:x",   "cosine:-3",
                         "cosine:1.5", "warmup:5:5", "one-cycle:5", "constant:1", "cosine:99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lr_schedule before = s;
        err[0] = '\0';
        cr_assert_eq(lr_schedule_parse(bad[i], &s, err, sizeof err), -1, "'%s' accepted", bad[i]);
        cr_assert(err[0] && !strchr(err, '\n'), "'%s': message '%s'", bad[i], err);
        cr_assert_null(strstr(err, "--"), "'%s': the message names a flag: %s", bad[i], err);
        cr_assert(s.kind == before.kind && s.warmup_steps == before.warmup_steps, "'%s' changed the schedule", bad[i]);
    }
    cr_assert_eq(lr_schedule_parse(NULL, &s, err, sizeof err), -1);
}

// ---------------------------------------------------------------------------------------------
// edges

Test(lr_schedule, past_the_end_keeps_the_last_factor) {
    const char *names[] = {"cosine", "cosine:5", "one-cycle"};
    for (size_t i = 0; i < 3; i++) {
        lr_schedule s = lrs_parsed(names[i]);
        double last = lr_schedule_factor(&s, LRS_TOTAL - 1, LRS_TOTAL);
        cr_assert_eq(lr_schedule_factor(&s, LRS_TOTAL, LRS_TOTAL), last, "%s", names[i]);
        cr_assert_eq(lr_schedule_factor(&s, 10 * LRS_TOTAL, LRS_TOTAL), last, "%s", names[i]);
        cr_assert_eq(lr_schedule_factor(&s, -3, LRS_TOTAL), lr_schedule_factor(&s, 0, LRS_TOTAL), "%s", names[i]);
        cr_assert(isfinite(last) && last < 0.01, "%s ends at %g", names[i], last);
        cr_assert_eq(lr_schedule_momentum(&s, LRS_TOTAL + 5, LRS_TOTAL, 0.9),
                     lr_schedule_momentum(&s, LRS_TOTAL - 1, LRS_TOTAL, 0.9));
    }
}

Test(lr_schedule, no_length_and_unresolved_warmup) {
    lr_schedule s = lrs_parsed("cosine:4");
    cr_assert_float_eq(lr_schedule_factor(&s, 2, 0), 0.1 + 0.9 * 2 / 4, 1e-15, "the warm-up needs no length");
    cr_assert_eq(lr_schedule_factor(&s, 7, 0), 1.0);
    s = lrs_parsed("one-cycle");
    cr_assert_eq(lr_schedule_factor(&s, 3, -1), 1.0);
    cr_assert_eq(lr_schedule_momentum(&s, 3, 0, 0.9), 0.9);
    s = lrs_parsed("warmup");   // -1: one epoch, not resolved by a caller
    cr_assert_eq(lr_schedule_factor(&s, 0, LRS_TOTAL), 1.0);
    s = lrs_parsed("warmup:0");   // no warm-up (PyTorch's LinearLR would keep start_factor for ever)
    cr_assert_eq(lr_schedule_factor(&s, 0, LRS_TOTAL), 1.0);
    s = lrs_parsed("warmup:4");
    s.warmup_start = 0.0;   // PyTorch's LinearLR divides by zero here
    cr_assert_eq(lr_schedule_factor(&s, 0, LRS_TOTAL), 0.0);
    cr_assert_float_eq(lr_schedule_factor(&s, 3, LRS_TOTAL), 0.75, 1e-15);
    cr_assert_eq(lr_schedule_factor(&s, 4 * LRS_TOTAL, LRS_TOTAL), 1.0, "warmup does not depend on the total");
    // one-cycle whose first phase ends at step 0 (pct_start*total == 1; PyTorch divides by zero)
    s = lrs_parsed("one-cycle");
    s.pct_start = 0.25;
    cr_assert_float_eq(lr_schedule_factor(&s, 0, 4), 1.0 / 25, 1e-15);
    cr_assert_float_eq(lr_schedule_factor(&s, 3, 4), 1.0 / 25 / 1e4, 1e-15);
}
