// test_bench_forward.c — `frost bench-forward ARCH`: the backbone's forward pass timed, on random
// inputs or a dataset's images, and its one-line refusals.
#include <criterion/criterion.h>
#include <string.h>

#include "testutil.h"

// The floor: the backbone's forward pass on random inputs and on a dataset's images
Test(cli_bench_forward, random_inputs_and_a_dataset, .timeout = 120) {
    tu_run_result r;
    tu_run_frost(&r,
                 (const char *[]){"bench-forward", "resnet18", "--images", "8", "--size", "32", "--batch", "4", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "resnet18 backbone forward: 8 images in ") != NULL, "%s", r.out);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"bench-forward", "resnet18", "--data", "sample_data", "--images", "6", "--size",
                                      "32", "--batch", "4", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, ": 6 images in ") && strstr(r.out, "the dataset's images"), "%s", r.out);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"bench-forward", "resnet18", "--images", "zero", NULL});
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--images") != NULL, "%s", r.err);
    tu_run_free(&r);
}
