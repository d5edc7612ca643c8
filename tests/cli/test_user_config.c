// test_user_config.c — the user's config file as the commands see it: its settings are defaults the
// command line overrides, and a mistake in it is one line on stderr while the command goes on.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "testutil.h"

static char *dir;
static char cfg[1024], ds[1024];

static void setup(void) {
    dir = tu_tmpdir();
    snprintf(cfg, sizeof cfg, "%s/config/frost/config", dir);
    snprintf(ds, sizeof ds, "%s/ds", dir);
    char home[1100];
    snprintf(home, sizeof home, "%s/config", dir);
    setenv("XDG_CONFIG_HOME", home, 1);   // each test runs in a process of its own
}

static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}

TestSuite(user_config, .init = setup, .fini = teardown, .timeout = 240);

static void write_config(const char *text) {
    tu_mkdirs_for(cfg);
    cr_assert_eq(tu_write_file(cfg, text, strlen(text)), 0);
}

Test(user_config, defaults_for_train_and_the_command_line_wins) {
    fx_two_class_dataset(ds, 8, 4, 32);
    write_config("arch = resnet18\ncolour = blue\ndevice = cpu\nworkers = 1\n");
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", ds, "--epochs", "1", "--size", "32", "--batch", "4", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "resnet18 on cpu, 2 libtorch threads, 1 loader workers") ||
                  strstr(r.out, "resnet18 on cpu, 1 libtorch threads, 1 loader workers"),
              "the config's architecture, device and workers:\n%s", r.out);
    char want[1200];
    snprintf(want, sizeof want,
             "frost: %s:2: unknown setting 'colour' (theme, arch, device, workers, weights, dataset, feature_cache_mb, "
             "runs) "
             "(that setting "
             "keeps its default)\n",
             cfg);
    cr_expect(strstr(r.err, want), "one line for the mistake: '%s' in:\n%s", want, r.err);
    tu_run_free(&r);

    tu_run_frost(&r, (const char *[]){"train", ds, "--arch", "resnet34", "--workers", "2", "--epochs", "1", "--size",
                                      "32", "--batch", "4", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "resnet34 on cpu") && strstr(r.out, "2 loader workers"), "--arch and --workers win:\n%s",
              r.out);
    tu_run_free(&r);
}

Test(user_config, device_for_summary_cost_only) {
    write_config("device = cpu\n");
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"summary", "resnet18", "--classes", "2", "--size", "32", NULL});
    cr_expect_eq(r.status, 0, "a device in the config is no --device on the command line: %s", r.err);
    cr_expect_eq(r.err[0], '\0', "%s", r.err);
    tu_run_free(&r);
    tu_run_frost(
        &r, (const char *[]){"summary", "resnet18", "--classes", "2", "--size", "32", "--cost", "--data", ds, NULL});
    cr_expect_neq(r.status, 0, "no dataset yet");
    tu_run_free(&r);
    fx_two_class_dataset(ds, 4, 2, 32);
    tu_run_frost(
        &r, (const char *[]){"summary", "resnet18", "--classes", "2", "--size", "32", "--cost", "--data", ds, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, " on cpu with "), "%s", r.out);
    tu_run_free(&r);
}
