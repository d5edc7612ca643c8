// test_weights_check.c — `frost weights check FILE`: the format, the architecture the names suggest,
// and every key that does not fit, on files torchvision and timm wrote.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "frost_torch.h"
#include "safetensors.h"
#include "testutil.h"
#include "weights.h"

static void check_cli(const char *file, const char *arch_opt, int want_status, const char *want_out,
                      const char *want_out2) {
    tu_run_result r;
    const char *args_arch[] = {"weights", "check", fx_weight_file(file), "--arch", arch_opt, NULL};
    const char *args[] = {"weights", "check", fx_weight_file(file), NULL};
    tu_run_frost(&r, arch_opt ? args_arch : args);
    cr_expect_eq(r.status, want_status, "%s: exit %d\n%s%s", file, r.status, r.out, r.err);
    cr_expect(strstr(r.out, want_out) != NULL, "%s: no '%s' in\n%s%s", file, want_out, r.out, r.err);
    if (want_out2) cr_expect(strstr(r.out, want_out2) != NULL, "%s: no '%s' in\n%s", file, want_out2, r.out);
    tu_run_free(&r);
}

Test(cli_weights_check, check_names_format_and_fit, .timeout = 300) {
    check_cli("resnet18.pth", NULL, 0, "format:   torch.save zip", "fits resnet18");
    check_cli("resnet18_legacy.pth", NULL, 0, "format:   legacy torch.save", "fits resnet18");
    check_cli("resnet18_timm.safetensors", NULL, 0, "safetensors, torchvision layout", "fits resnet18");
    check_cli("vgg11_timm.safetensors", NULL, 0, "safetensors, timm layout", "fits vgg11");
}

Test(cli_weights_check, check_lists_what_does_not_fit, .timeout = 120) {
    check_cli("resnet18_head2.pth", NULL, 1, "mismatched  fc.weight: file [2, 512], model [1000, 512]",
              "only the head (fc) differs");
    check_cli("resnet18.pth", "resnet34", 1, "missing     layer1.2.conv1.weight", "does not fit resnet34");
    tu_run_result r;
    const char *args[] = {"weights", "check", fx_weight_file("evil.pth"), NULL};
    tu_run_frost(&r, args);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "refuses global os.system") != NULL, "%s", r.err);
    tu_run_free(&r);
    const char *args2[] = {"weights", "check", fx_weight_file("tiny.pth"), NULL};
    tu_run_frost(&r, args2);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "fits no architecture") != NULL, "%s", r.err);
    tu_run_free(&r);
    const char *args3[] = {"weights", "check", NULL};
    tu_run_frost(&r, args3);
    cr_expect_eq(r.status, 2, "no file is a usage error");
    tu_run_free(&r);
}
