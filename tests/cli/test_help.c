// test_help.c — `frost help` and --help.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost_torch.h"
#include "testutil.h"
#include "weights.h"

Test(cli_help, help) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"--help", NULL});
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "print ARCH") && strstr(r.out, "resnet152"));
    tu_run_free(&r);
}
