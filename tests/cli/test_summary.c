// test_summary.c — `frost summary`: the parameter totals equal torchvision's.
#include <criterion/criterion.h>
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
