// test_param_groups.c — per-block learning rates as the optimizer's parameter groups: the groups
// carry the asked lrs (read back from libtorch's optimizer), hold the asked parameters (frozen ones
// too, waiting to thaw), and a checkpoint's optimizer state brings their lrs back.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block_lr.h"
#include "checkpoint.h"
#include "fixtures.h"
#include "testutil.h"
#include "transfer.h"

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}
TestSuite(param_groups, .init = setup, .fini = teardown, .timeout = 120);

static ft_model *resnet(void) {
    ft_model *m = NULL;
    char err[1024];
    transfer_spec ts = {.arch = "resnet18", .classes = 2};
    cr_assert_eq(transfer_build(&ts, &m, NULL, 0, err, sizeof err), 0, "%s", err);
    return m;
}

// The trains[] flags for the named blocks of m.
static void mark(ft_model *m, const char *const *names, unsigned char *trains) {
    const ft_node *nodes;
    size_t n;
    cr_assert_null(ft_model_nodes(m, &nodes, &n));
    transfer_block blocks[TRANSFER_MAX_BLOCKS];
    size_t nb = transfer_blocks(nodes, n, blocks);
    memset(trains, 0, TRANSFER_MAX_BLOCKS);
    for (size_t k = 0; k < nb; k++)
        for (size_t i = 0; names[i]; i++)
            if (strcmp(blocks[k].name, names[i]) == 0) trains[k] = 1;
}

static ft_optimizer *grouped(ft_model *m, const char *spec, const char *const *blocks, double lr, int sgd) {
    block_lr b;
    char err[1024];
    cr_assert_eq(block_lr_parse(spec, &b, err, sizeof err), 0, "%s", err);
    unsigned char trains[TRANSFER_MAX_BLOCKS];
    mark(m, blocks, trains);
    ft_param_group groups[TRANSFER_MAX_BLOCKS];
    block_lr_paths paths[TRANSFER_MAX_BLOCKS];
    int n = block_lr_groups(&b, m, trains, lr, groups, paths, err, sizeof err);
    cr_assert_gt(n, 0, "%s", err);
    ft_opt_params p;
    ft_opt_params_default(&p);
    p.lr = lr;
    if (sgd) p.kind = FT_OPT_SGD;
    ft_optimizer *o = NULL;
    ft_status *s = ft_optimizer_create_groups(m, &p, groups, (size_t)n, &o);
    cr_assert_null(s, "%s", ft_status_message(s));
    return o;
}

static void expect_group(ft_optimizer *o, size_t g, const char *modules, double lr) {
    ft_group_info info;
    cr_assert_null(ft_optimizer_group_get(o, g, &info));
    cr_expect_str_eq(info.modules, modules);
    cr_expect_leq(fabs(info.lr - lr), 1e-15 * lr, "group %zu (%s): lr %.17g, asked %.17g", g, modules, info.lr, lr);
}

Test(param_groups, multipliers_by_block_are_read_back) {
    ft_model *m = resnet();
    ft_optimizer *o = grouped(m, "layer3=0.01,layer4=0.1", (const char *[]){"layer3", "layer4", "fc", NULL}, 1e-3, 0);
    cr_assert_eq(ft_optimizer_group_count(o), 3);
    expect_group(o, 0, "layer3", 1e-5);
    expect_group(o, 1, "layer4", 1e-4);
    expect_group(o, 2, "fc", 1e-3);
    // layer3 and layer4 are frozen (only fc trains now) but their parameters wait in their groups
    ft_group_info info;
    cr_assert_null(ft_optimizer_group_get(o, 0, &info));
    cr_expect_gt(info.n_values, 2000000, "layer3 holds its %lld numbers", (long long)info.n_values);
    cr_expect_eq(info.n_trainable, 0);
    cr_assert_null(ft_optimizer_group_get(o, 2, &info));
    cr_expect_eq(info.n_values, 512 * 2 + 2);
    cr_expect_eq(info.n_trainable, info.n_values);
    ft_optimizer_free(o);
    ft_model_free(m);
}

Test(param_groups, a_spread_is_geometric_from_the_head_down) {
    ft_model *m = resnet();
    ft_optimizer *o = grouped(m, "spread:100", (const char *[]){"layer2", "layer3", "layer4", "fc", NULL}, 1e-2, 1);
    cr_assert_eq(ft_optimizer_group_count(o), 4);
    expect_group(o, 0, "layer2", 1e-4);   // lr / 100
    expect_group(o, 1, "layer3", 1e-2 * pow(100, -2.0 / 3));
    expect_group(o, 2, "layer4", 1e-2 * pow(100, -1.0 / 3));
    expect_group(o, 3, "fc", 1e-2);
    ft_optimizer_free(o);
    ft_model_free(m);
}

Test(param_groups, vgg_stages_and_head_alias) {
    ft_model *m = NULL;
    char err[1024];
    transfer_spec ts = {.arch = "vgg11", .classes = 2};
    cr_assert_eq(transfer_build(&ts, &m, NULL, 0, err, sizeof err), 0, "%s", err);
    ft_optimizer *o =
        grouped(m, "features.16-20=0.5,head=2", (const char *[]){"features.16-20", "classifier", NULL}, 1e-4, 0);
    cr_assert_eq(ft_optimizer_group_count(o), 2);
    expect_group(o, 0, "features.16,features.18", 5e-5);
    expect_group(o, 1, "classifier", 2e-4);
    ft_optimizer_free(o);
    ft_model_free(m);
}

Test(param_groups, unknown_blocks_are_named_with_the_ones_there_are) {
    ft_model *m = resnet();
    block_lr b;
    char err[1024];
    cr_assert_eq(block_lr_parse("layer5=0.1", &b, err, sizeof err), 0);
    unsigned char trains[TRANSFER_MAX_BLOCKS] = {0};
    ft_param_group groups[TRANSFER_MAX_BLOCKS];
    block_lr_paths paths[TRANSFER_MAX_BLOCKS];
    cr_expect_eq(block_lr_groups(&b, m, trains, 1e-3, groups, paths, err, sizeof err), -1);
    cr_expect(strstr(err, "no block 'layer5'") && strstr(err, "layer4"), "%s", err);
    ft_model_free(m);
}

Test(param_groups, a_checkpoint_brings_the_groups_lrs_back) {
    ft_model *m = resnet();
    ft_optimizer *o = grouped(m, "layer4=0.1", (const char *[]){"layer4", "fc", NULL}, 1e-3, 0);
    cr_assert_null(ft_optimizer_group_set(o, 0, 3e-5, 0.85));   // where a schedule left them
    cr_assert_null(ft_optimizer_group_set(o, 1, 3e-4, 0.85));
    // a step, so there is optimizer state to save
    float x[2 * 3 * 32 * 32];
    for (size_t i = 0; i < sizeof x / sizeof *x; i++) x[i] = (float)cos(0.11 * (double)i);
    const int64_t labels[2] = {0, 1};
    ft_step_result r;
    ft_model_set_mode(m, 1, 1);
    cr_assert_null(ft_train_step(m, o, x, labels, 2, 3, 32, 32, &r));
    char path[1100];
    snprintf(path, sizeof path, "%s/ck.safetensors", dir);
    checkpoint_meta meta;
    static char *names[] = {"a", "b"};
    fx_meta_for(&meta, names, 2);
    fx_save_checkpoint(path, m, o, &meta);
    ft_optimizer_free(o);

    ft_optimizer *fresh = grouped(m, "layer4=0.1", (const char *[]){"layer4", "fc", NULL}, 1e-3, 0);
    expect_group(fresh, 0, "layer4", 1e-4);
    size_t restored = 0;
    char err[1024];
    cr_assert_eq(checkpoint_load_optimizer(path, fresh, &restored, err, sizeof err), 0, "%s", err);
    cr_expect_gt(restored, 0);
    expect_group(fresh, 0, "layer4", 3e-5);
    expect_group(fresh, 1, "fc", 3e-4);
    ft_group_info info;
    cr_assert_null(ft_optimizer_group_get(fresh, 1, &info));
    cr_expect_float_eq(info.momentum, 0.85, 1e-12, "Adam's beta1 comes back too: %g", info.momentum);
    ft_optimizer_free(fresh);
    ft_model_free(m);
}
