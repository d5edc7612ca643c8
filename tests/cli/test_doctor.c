// test_doctor.c — `frost doctor` and `frost bench-data` on a dataset with bad files: the exit status
// says whether training can run.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "doctor.h"
#include "fixtures.h"
#include "loader.h"
#include "pipeline.h"
#include "testutil.h"

static char *root;

static void setup(void) { root = tu_tmpdir(); }

static void teardown(void) {
    tu_rmtree(root);
    free(root);
}

TestSuite(cli_doctor, .init = setup, .fini = teardown);

Test(cli_doctor, cli_exit_status) {
    fx_doctor_dataset(root);
    tu_run_result res;
    tu_run_frost(&res, (const char *[]){"doctor", root, NULL});
    cr_expect_eq(res.status, 0, "%s", res.err);
    cr_expect(strstr(res.out, "truncated.jpg") && strstr(res.out, "empty.jpg") && strstr(res.out, "notes.jpg"),
              "every bad file is named:\n%s", res.out);
    cr_expect(strstr(res.out, "Ready to train.") != NULL);
    // 6 readable cats, 3 dogs: the imbalance comes with what balances it
    cr_expect(strstr(res.out, "class imbalance: 'cats' has 2.0x the training images of 'dogs' (6 vs 3) (train with "
                              "--class-weights auto"),
              "%s", res.out);
    tu_run_free(&res);

    // now every dog is broken: training cannot run
    for (int i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "train/dogs/d%d.jpg", i);
        cr_assert_eq(tu_write_file(fx_at(root, name), "x", 1), 0);
    }
    tu_run_frost(&res, (const char *[]){"doctor", root, NULL});
    cr_expect_eq(res.status, 1);
    cr_expect(strstr(res.out, "train/dogs: none of its 3 images is readable") != NULL, "%s", res.out);
    tu_run_free(&res);

    tu_run_frost(&res, (const char *[]){"doctor", "/nonexistent/data", NULL});
    cr_expect_eq(res.status, 1);
    cr_expect_eq(tu_count_lines(res.err), 1);
    tu_run_free(&res);

    tu_run_frost(&res, (const char *[]){"bench-data", root, "--size", "32", NULL});
    cr_expect_eq(res.status, 0, "%s", res.err);
    cr_expect(strstr(res.out, "images=8 ") != NULL, "8 readable train+valid images: %s", res.out);
    cr_expect(strstr(res.out, "skipped=6") != NULL, "%s", res.out);
    tu_run_free(&res);
}
