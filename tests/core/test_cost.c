// test_cost.c — core/cost: the multiply-adds of all 13 networks against PyTorch's own forward hooks and
// the published counts, the backward pass's arithmetic, what autograd keeps for three freeze choices of
// two networks against PyTorch's saved-tensor hooks (tests/oracle/torchvision_oracle.py: macs.tsv,
// saved.tsv), the feature cache's rule, and the calibration kept in the cache folder.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cost.h"
#include "fixtures.h"
#include "frost_torch.h"
#include "testutil.h"
#include "transfer.h"

static ft_model *model(const char *arch, long classes, const char *trainable) {
    ft_model *m = NULL;
    char err[512];
    transfer_spec spec = {.arch = arch, .classes = classes};
    cr_assert_eq(transfer_build(&spec, &m, NULL, 0, err, sizeof err), 0, "%s", err);
    if (trainable) cr_assert_eq(transfer_apply_trainable(m, trainable, err, sizeof err), 0, "%s", err);
    return m;
}

static cost_report estimate(ft_model *m, int size, int batch, int bn_eval) {
    cost_spec spec = {.size = size, .batch = batch, .opt = FT_OPT_ADAM, .bn_eval = bn_eval};
    cost_report r;
    char err[512];
    cr_assert_eq(cost_estimate(m, &spec, NULL, &r, err, sizeof err), 0, "%s", err);
    return r;
}

// The oracle's macs.tsv line of arch: its total and its first call's.
static void oracle_macs(const char *arch, double *total, double *first) {
    char *text = tu_read_file(tu_oracle("macs.tsv"), NULL);
    cr_assert_not_null(text);
    int found = 0;
    char *at = NULL;
    for (char *line = strtok_r(text, "\n", &at); line && !found; line = strtok_r(NULL, "\n", &at)) {
        char name[32];
        long long t, f;
        if (sscanf(line, "%31s\t%lld\t%lld", name, &t, &f) == 3 && strcmp(name, arch) == 0) {
            *total = (double)t, *first = (double)f;
            found = 1;
        }
    }
    free(text);
    cr_assert(found, "no %s in macs.tsv", arch);
}

Test(cost, multiply_adds_of_every_network_are_pytorchs, .timeout = 300) {
    for (size_t i = 0; i < ft_arch_count(); i++) {
        const char *arch = ft_arch_name(i);
        ft_model *m = model(arch, 0, NULL);
        cost_report r = estimate(m, 224, 1, 1);
        double total, first;
        oracle_macs(arch, &total, &first);
        cr_expect_eq(r.fwd_macs, total, "%s: %.0f multiply-adds, PyTorch's hooks count %.0f", arch, r.fwd_macs, total);
        // nothing trains in torchvision's model as frost builds it for print: every parameter does
        cr_expect_eq(r.bwd_macs, 2 * total - first,
                     "%s: backward of everything: every input but the image's, and "
                     "every weight",
                     arch);
        ft_model_free(m);
    }
    // the published counts (multiply-adds at 224x224), within 1%
    const struct {
        const char *arch;
        double gmacs;
    } published[] = {{"resnet18", 1.82}, {"resnet50", 4.11}, {"vgg16", 15.47}};
    for (size_t k = 0; k < 3; k++) {
        double total, first;
        oracle_macs(published[k].arch, &total, &first);
        cr_expect_leq(fabs(total / 1e9 - published[k].gmacs), 0.01 * published[k].gmacs, "%s: %.3f G, published %.2f",
                      published[k].arch, total / 1e9, published[k].gmacs);
    }
}

Test(cost, the_head_alone_costs_its_weights_and_the_cache_applies) {
    ft_model *m = model("resnet18", 2, NULL);   // the tutorial: only the new head trains
    cost_report r = estimate(m, 224, 16, 1);
    cr_expect_eq(r.trainable, 512 * 2 + 2);
    cr_expect_eq(r.bwd_macs, 512.0 * 2, "only the head's weight gradient");
    cr_expect_str_eq(r.first_trainable, "fc");
    cr_expect_eq(r.grad_bytes, 4 * r.trainable);
    cr_expect_eq(r.optimizer_bytes, 8 * r.trainable, "Adam: two moments");
    cr_expect_eq(r.kept_bytes, 16 * 512 * 4, "the head's input, for 16 images");
    cr_expect(r.cache, "a frozen backbone with BatchNorm in eval mode: the cache applies");
    cr_expect(!estimate(m, 224, 16, 0).cache, "BatchNorm in train mode moves the backbone's output");
    ft_model_free(m);
    m = model("resnet18", 2, "layer4,fc");
    cr_expect(!estimate(m, 224, 16, 1).cache, "layer4 trains: the backbone's output changes");
    ft_model_free(m);
}

// What autograd keeps, against PyTorch's saved-tensor hooks (saved.tsv), within 1%.
Test(cost, kept_for_backward_is_what_pytorch_keeps, .timeout = 120) {
    char *text = tu_read_file(tu_oracle("saved.tsv"), NULL);
    cr_assert_not_null(text);
    int cases = 0;
    // strtok_r: the model's code between two lines may use strtok itself (libtorch 2.6 here did, and the
    // loop lost its place after the first line)
    char *at = NULL;
    for (char *line = strtok_r(text, "\n", &at); line; line = strtok_r(NULL, "\n", &at)) {
        char arch[32], trainable[128];
        int size, batch;
        long long bytes;
        cr_assert_eq(sscanf(line, "%31s\t%d\t%d\t%127s\t%lld", arch, &size, &batch, trainable, &bytes), 5, "%s", line);
        ft_model *m =
            model(arch, 2, strcmp(trainable, "fc") == 0 || strcmp(trainable, "classifier") == 0 ? NULL : trainable);
        cost_report r = estimate(m, size, batch, 1);
        cr_expect_leq(fabs((double)r.kept_bytes - (double)bytes), 0.01 * (double)bytes,
                      "%s with %s trainable at %dx%d, batch %d: frost says %lld bytes kept, PyTorch keeps %lld", arch,
                      trainable, size, size, batch, (long long)r.kept_bytes, bytes);
        ft_model_free(m);
        cases++;
    }
    cr_expect_eq(cases, 6);
    free(text);
}

TestSuite(cost_calibration, .init = fx_caches_init, .fini = fx_caches_fini, .timeout = 120);

// The calibration is measured once per architecture, size, device and thread count, then read back.
Test(cost_calibration, measured_once_then_kept) {
    cost_speed a, b, c;
    int measured = -1;
    char err[512];
    cr_assert_eq(cost_calibrate("resnet18", 32, "cpu", &a, &measured, err, sizeof err), 0, "%s", err);
    cr_expect_eq(measured, 1, "measured the first time");
    cr_expect(a.forward > 0 && a.backward > 0);
    cr_assert_eq(cost_calibrate("resnet18", 32, "cpu", &b, &measured, err, sizeof err), 0, "%s", err);
    cr_expect_eq(measured, 0, "read back the second time");
    cr_expect(fabs(a.forward - b.forward) <= 1e-5 * a.forward && fabs(a.backward - b.backward) <= 1e-5 * a.backward,
              "the same numbers (%g, %g) and (%g, %g)", a.forward, a.backward, b.forward, b.backward);
    cr_assert_eq(cost_calibrate("resnet18", 48, "cpu", &c, &measured, err, sizeof err), 0, "%s", err);
    cr_expect_eq(measured, 1, "another size is measured");
    char path[4300];
    snprintf(path, sizeof path, "%s/calibration.tsv", fx_cache);
    char *text = tu_read_file(path, NULL);
    cr_assert_not_null(text, "%s", path);
    cr_expect_eq(tu_count_lines(text), 2, "one line per key:\n%s", text);
    free(text);
}

// The table is frost's file, but what sits at its name may be anything: a device node, a FIFO or a
// symbolic link there is neither read (a FIFO would hold the open forever) nor replaced (core/
// atomic_file's rule); the speed is measured and the thing left as it was.
Test(cost_calibration, a_table_that_is_no_file_is_left_as_it_is) {
    char path[4300];
    snprintf(path, sizeof path, "%s/calibration.tsv", fx_cache);
    const fx_special kinds[] = {FX_DEVICE, FX_FIFO, FX_SYMLINK};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        if (fx_make_special(path, kinds[k]) != 0) continue;
        cost_speed a;
        int measured = -1;
        char err[512];
        cr_assert_eq(cost_calibrate("resnet18", 32, "cpu", &a, &measured, err, sizeof err), 0, "%s", err);
        cr_expect_eq(measured, 1, "measured with a %s for a table", fx_special_name[kinds[k]]);
        cr_expect(a.forward > 0 && a.backward > 0);
        fx_expect_special(path, kinds[k], "cost_calibrate");
        fx_remove_special(path, kinds[k]);
    }
}
