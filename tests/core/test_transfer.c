// test_transfer.c — the one home of "build for transfer" (core/model/transfer.c): the tutorial's model
// (frozen, new head), weights loaded before or after the head, the trainable list both ways, blocks,
// BatchNorm detection and class lists, on the real networks. The numbers the tree reports are
// checked against torchvision in tests/shim/test_fidelity.c; here, what transfer makes of them.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "frost_torch.h"
#include "testutil.h"
#include "transfer.h"
#include "weights.h"

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}
TestSuite(transfer, .init = setup, .fini = teardown, .timeout = 120);

static const ft_node *nodes_of(ft_model *m, size_t *n) {
    const ft_node *nodes = NULL;
    cr_assert_null(ft_model_nodes(m, &nodes, n));
    return nodes;
}

static const ft_node *node(ft_model *m, const char *path) {
    size_t n;
    const ft_node *nodes = nodes_of(m, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(nodes[i].path, path) == 0) return &nodes[i];
    cr_assert_fail("no module '%s'", path);
    return NULL;
}

// The bytes of state entry `name`, malloc'd.
static void *entry(ft_model *m, const char *name, size_t *len) {
    for (size_t i = 0; i < ft_model_state_count(m); i++) {
        ft_tensor_info info;
        cr_assert_null(ft_model_state_info(m, i, &info));
        if (strcmp(info.name, name) != 0) continue;
        void *p = malloc(info.nbytes);
        cr_assert_null(ft_model_state_get(m, i, p, info.nbytes));
        *len = info.nbytes;
        return p;
    }
    cr_assert_fail("no state entry '%s'", name);
    return NULL;
}

static int same_entry(ft_model *a, ft_model *b, const char *name) {
    size_t la, lb;
    void *x = entry(a, name, &la), *y = entry(b, name, &lb);
    int same = la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

Test(transfer, the_tutorials_model_trains_only_its_new_head) {
    ft_model *m = NULL;
    char err[512], note[512];
    transfer_spec spec = {.arch = "resnet18", .classes = 3};
    cr_assert_eq(transfer_build(&spec, &m, note, sizeof note, err, sizeof err), 0, "%s", err);
    cr_expect_str_empty(note);
    cr_expect_eq(ft_model_num_classes(m), 3);
    const ft_node *root = node(m, ""), *fc = node(m, "fc");
    cr_expect_eq(fc->params, 512 * 3 + 3);
    cr_expect_eq(root->trainable, fc->params, "only fc trains: %lld trainable", (long long)root->trainable);
    char list[256];
    transfer_trainable_list(m, list, sizeof list);
    cr_expect_str_eq(list, "", "the tutorial's own choice needs no list");
    // every parameter thawed, then the tutorial's freeze again (the Model screen's f): fc alone trains
    cr_assert_null(ft_model_set_trainable(m, "", 1));
    cr_assert_null(transfer_freeze_all_but_head(m));
    root = node(m, "");
    cr_expect_eq(root->trainable, 512 * 3 + 3, "only fc trains again: %lld trainable", (long long)root->trainable);
    cr_expect_eq(node(m, "fc")->trainable, 512 * 3 + 3);
    cr_expect_eq(node(m, "layer4")->trainable, 0);
    ft_model_free(m);
    // no classes: torchvision's network as it is, all trainable
    spec.classes = 0;
    cr_assert_eq(transfer_build(&spec, &m, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_expect_eq(ft_model_num_classes(m), TRANSFER_IMAGENET_CLASSES);
    cr_expect_eq(node(m, "")->trainable, node(m, "")->params);
    ft_model_free(m);
    // an architecture it does not know: one line, no model
    spec.arch = "resnet17";
    m = NULL;
    cr_expect_eq(transfer_build(&spec, &m, NULL, 0, err, sizeof err), -1);
    cr_expect_null(m);
    cr_expect(strstr(err, "resnet17") && !strchr(err, '\n'), "%s", err);
}

Test(transfer, weights_before_or_after_the_head) {
    // a 1000-class state_dict, written from one model and loaded into others
    ft_model *src = fx_model("resnet18", 0);
    char path[4096], err[512], note[512];
    snprintf(path, sizeof path, "%s/r18.safetensors", dir);
    cr_assert_eq(weights_save(src, path, err, sizeof err), 0, "%s", err);
    ft_manual_seed(7);   // another initialisation than src's
    // the trainer's rule: the whole file, then the new head
    ft_model *whole = NULL;
    transfer_spec spec = {.arch = "resnet18", .classes = 2, .weights = path, .weights_whole = 1};
    cr_assert_eq(transfer_build(&spec, &whole, note, sizeof note, err, sizeof err), 0, "%s", err);
    cr_expect(same_entry(whole, src, "layer3.1.conv2.weight"), "the backbone is the file's");
    cr_expect(same_entry(whole, src, "bn1.running_var"));
    cr_expect_eq(ft_model_num_classes(whole), 2);
    // print --classes' rule: the new head first, then the backbone; the 1000-class head is left out, said in note
    ft_model *after = NULL;
    spec.weights_whole = 0;
    cr_assert_eq(transfer_build(&spec, &after, note, sizeof note, err, sizeof err), 0, "%s", err);
    cr_expect(same_entry(after, src, "layer3.1.conv2.weight"));
    cr_expect(strstr(note, "fc") && strstr(note, "2-class"), "note: %s", note);
    // a file of another architecture is refused either way, and no model is left
    spec.arch = "resnet34";
    ft_model *wrong = NULL;
    cr_expect_eq(transfer_build(&spec, &wrong, note, sizeof note, err, sizeof err), -1);
    cr_expect_null(wrong);
    cr_expect(strstr(err, "does not fit resnet34"), "%s", err);
    ft_model_free(src);
    ft_model_free(whole);
    ft_model_free(after);
}

Test(transfer, the_trainable_list_both_ways) {
    ft_model *m = fx_model("resnet18", 3);
    char err[512], list[1024];
    cr_assert_eq(transfer_apply_trainable(m, "layer4,fc", err, sizeof err), 0, "%s", err);
    cr_expect_eq(node(m, "")->trainable, node(m, "layer4")->params + node(m, "fc")->params);
    transfer_trainable_list(m, list, sizeof list);
    cr_expect_str_eq(list, "layer4,fc");
    // a module inside a block: its own path
    cr_assert_eq(transfer_apply_trainable(m, "layer4.1.conv2,fc", err, sizeof err), 0, "%s", err);
    transfer_trainable_list(m, list, sizeof list);
    cr_expect_str_eq(list, "layer4.1.conv2,fc");
    cr_assert_eq(transfer_apply_trainable(m, "all", err, sizeof err), 0, "%s", err);
    transfer_trainable_list(m, list, sizeof list);
    cr_expect_str_eq(list, "all");
    cr_expect_eq(node(m, "")->trainable, node(m, "")->params);
    cr_assert_eq(transfer_apply_trainable(m, "none", err, sizeof err), 0, "%s", err);
    transfer_trainable_list(m, list, sizeof list);
    cr_expect_str_eq(list, "none");
    cr_expect_eq(node(m, "")->trainable, 0);
    cr_assert_eq(transfer_apply_trainable(m, "fc", err, sizeof err), 0, "%s", err);
    transfer_trainable_list(m, list, sizeof list);
    cr_expect_str_eq(list, "", "only the whole head: the tutorial's choice");
    // an unknown module is named, in core's words (no command-line flag)
    cr_expect_eq(transfer_apply_trainable(m, "layer4,layer9", err, sizeof err), -1);
    cr_expect(strstr(err, "layer9") && !strstr(err, "--"), "%s", err);
    ft_model_free(m);
}

static void expect_blocks(const char *arch, const char *want) {
    ft_model *m = fx_model(arch, 2);
    size_t n;
    const ft_node *nodes = nodes_of(m, &n);
    transfer_block b[TRANSFER_MAX_BLOCKS];
    size_t nb = transfer_blocks(nodes, n, b);
    char got[512] = "";
    int64_t params = 0;
    for (size_t k = 0; k < nb; k++) {
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", k ? " " : "", b[k].name);
        params += b[k].params;
    }
    cr_expect_str_eq(got, want, "%s", arch);
    cr_expect_eq(params, nodes[0].params, "%s: the blocks hold every parameter", arch);
    // freezing and thawing a block acts on its parameters only
    cr_assert_null(transfer_block_set(m, nodes, &b[0], 1));
    nodes = nodes_of(m, &n);
    nb = transfer_blocks(nodes, n, b);
    cr_expect_eq(b[0].trainable, b[0].params);
    cr_expect_eq(nodes[0].trainable, b[0].params + b[nb - 1].params, "%s: the first block and the head", arch);
    ft_model_free(m);
}

Test(transfer, blocks_of_resnet_and_vgg) {
    expect_blocks("resnet18", "conv1 bn1 layer1 layer2 layer3 layer4 fc");
    expect_blocks("vgg16", "features.0-4 features.5-9 features.10-16 features.17-23 features.24-30 classifier");
    expect_blocks("vgg11_bn", "features.0-3 features.4-7 features.8-14 features.15-21 features.22-28 classifier");
}

Test(transfer, batchnorm_and_class_lists) {
    const char *with[] = {"resnet18", "vgg11_bn"}, *without[] = {"vgg16"};
    for (int i = 0; i < 2; i++) {
        ft_model *m = fx_model(with[i], 0);
        size_t n;
        const ft_node *nodes = nodes_of(m, &n);
        cr_expect(transfer_has_batchnorm(nodes, n), "%s", with[i]);
        ft_model_free(m);
    }
    ft_model *m = fx_model(without[0], 0);
    size_t n;
    const ft_node *nodes = nodes_of(m, &n);
    cr_expect(!transfer_has_batchnorm(nodes, n));
    ft_model_free(m);

    const char *a[] = {"cats", "dogs"}, *b[] = {"cats", "dogs"}, *swapped[] = {"dogs", "cats"},
               *three[] = {"cats", "dogs", "x"};
    cr_expect(transfer_classes_match(a, 2, b, 2));
    cr_expect(!transfer_classes_match(a, 2, swapped, 2), "the order counts");
    cr_expect(!transfer_classes_match(a, 2, three, 3));
    char archs[512];
    transfer_arch_list(archs, sizeof archs);
    cr_expect(strncmp(archs, ft_arch_name(0), strlen(ft_arch_name(0))) == 0, "%s", archs);
    for (size_t i = 0; i < ft_arch_count(); i++) cr_expect(strstr(archs, ft_arch_name(i)), "%s", archs);
}
