// test_shim.c — the shim's C API: this file is plain C11 including shim/frost_torch.h, which proves
// the header compiles as C. It checks statuses instead of exceptions, freezing, torchvision's
// initialisation scheme, forward-pass errors and devices.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"
#include "frost_torch.h"

_Static_assert(sizeof(ft_node) > 0 && FT_OK == 0, "frost_torch.h is usable from C11");

static ft_model *make(const char *arch) {
    ft_model *m = NULL;
    ft_status *s = ft_model_create(arch, &m);
    cr_assert_null(s, "%s", ft_status_message(s));
    return m;
}

// The float values of a state entry (caller frees), count in *n.
static float *state_floats(ft_model *m, const char *name, size_t *n) {
    size_t i = fx_state_index(m, name);
    ft_tensor_info info;
    cr_assert_null(ft_model_state_info(m, i, &info));
    cr_assert_eq(info.dtype, FT_F32);
    float *v = malloc(info.nbytes);
    ft_status *s = ft_model_state_get(m, i, v, info.nbytes);
    cr_assert_null(s, "%s", ft_status_message(s));
    *n = info.nbytes / sizeof(float);
    return v;
}

typedef struct {
    double mean, std, max_abs;
} stats;

static stats stats_of(const char *arch_model_name, ft_model *m, const char *name) {
    (void)arch_model_name;
    size_t n;
    float *v = state_floats(m, name, &n);
    double sum = 0, sq = 0, mx = 0;
    for (size_t k = 0; k < n; k++) {
        sum += v[k];
        sq += (double)v[k] * v[k];
        mx = fmax(mx, fabs(v[k]));
    }
    free(v);
    stats s = {sum / (double)n, 0, mx};
    s.std = sqrt(sq / (double)n - s.mean * s.mean);
    return s;
}

static int one_line(const char *msg) { return msg[0] && !strchr(msg, '\n'); }

// ---------------------------------------------------------------------------------------------
// statuses

Test(shim, null_status_is_ok) {
    cr_expect_eq(ft_status_code(NULL), FT_OK);
    cr_expect_str_eq(ft_status_message(NULL), "");
    ft_status_free(NULL);
    ft_model_free(NULL);
}

Test(shim, unknown_arch_is_a_status) {
    ft_model *m = (ft_model *)0x1;
    ft_status *s = ft_model_create("vgg17", &m);
    cr_assert_not_null(s);
    cr_expect_eq(ft_status_code(s), FT_EINVAL);
    cr_expect(strstr(ft_status_message(s), "vgg17") != NULL, "message: %s", ft_status_message(s));
    cr_expect(one_line(ft_status_message(s)));
    cr_expect_eq(m, (ft_model *)0x1, "the out pointer is untouched on failure");
    ft_status_free(s);
    cr_expect_eq(ft_arch_family("vgg17"), FT_FAMILY_NONE);
    cr_expect_eq(ft_arch_family("vgg16_bn"), FT_FAMILY_VGG);
    cr_expect_eq(ft_arch_family("resnet152"), FT_FAMILY_RESNET);
    cr_expect_eq(ft_arch_count(), 13);
    cr_expect_null(ft_arch_name(13));
}

Test(shim, bad_arguments_are_statuses) {
    ft_model *m = make("resnet18");
    ft_status *s = ft_model_replace_head(m, 0);
    cr_expect_eq(ft_status_code(s), FT_EINVAL);
    ft_status_free(s);
    s = ft_model_set_trainable(m, "layer9", 1);
    cr_expect_eq(ft_status_code(s), FT_EINVAL);
    cr_expect(strstr(ft_status_message(s), "layer9") != NULL);
    ft_status_free(s);
    s = ft_model_trace(m, 0);
    cr_expect_eq(ft_status_code(s), FT_EINVAL);
    ft_status_free(s);
    float buf[4];
    s = ft_model_state_get(m, 0, buf, sizeof buf);   // conv1.weight is much bigger
    cr_expect_eq(ft_status_code(s), FT_EINVAL);
    ft_status_free(s);
    s = ft_model_state_get(m, 1u << 30, buf, sizeof buf);
    cr_expect_eq(ft_status_code(s), FT_EINVAL);
    ft_status_free(s);
    s = ft_model_create(NULL, NULL);
    cr_expect_eq(ft_status_code(s), FT_EINVAL);
    ft_status_free(s);
    ft_model_free(m);
}

// ---------------------------------------------------------------------------------------------
// freezing and the head

Test(shim, freeze_all_then_replace_head_trains_only_the_head) {
    ft_model *m = make("resnet18");
    cr_assert_str_eq(ft_model_head_path(m), "fc");
    cr_assert_null(ft_model_set_trainable(m, "", 0));
    cr_assert_null(ft_model_replace_head(m, 3));
    const ft_node *nodes;
    size_t n;
    cr_assert_null(ft_model_nodes(m, &nodes, &n));
    cr_expect_eq(nodes[0].trainable, 512 * 3 + 3, "only fc (512*3 + 3) is trainable");
    cr_expect_eq(ft_model_num_classes(m), 3);

    // thaw layer4: its parameters become trainable, nothing else does
    int64_t layer4 = -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(nodes[i].path, "layer4") == 0) layer4 = nodes[i].params;
    cr_assert_gt(layer4, 0);
    cr_assert_null(ft_model_set_trainable(m, "layer4", 1));
    cr_assert_null(ft_model_nodes(m, &nodes, &n));
    cr_expect_eq(nodes[0].trainable, 512 * 3 + 3 + layer4);
    // and a single module inside it freezes again
    cr_assert_null(ft_model_set_trainable(m, "layer4.1.conv2", 0));
    cr_assert_null(ft_model_nodes(m, &nodes, &n));
    cr_expect_eq(nodes[0].trainable, 512 * 3 + 3 + layer4 - 512 * 512 * 9);
    ft_model_free(m);
}

// ---------------------------------------------------------------------------------------------
// torchvision's initialisation

Test(shim, vgg_init_matches_torchvision, .timeout = 60) {
    ft_model *m = make("vgg11");
    stats c0 = stats_of("vgg11", m, "features.0.weight");   // kaiming normal, fan_out = 64*3*3
    double want = sqrt(2.0 / (64 * 9));
    cr_expect(fabs(c0.std - want) < 0.1 * want, "conv std %g, kaiming fan_out wants %g", c0.std, want);
    cr_expect_eq(stats_of("vgg11", m, "features.0.bias").max_abs, 0.0);
    stats l6 = stats_of("vgg11", m, "classifier.6.weight");   // N(0, 0.01)
    cr_expect(fabs(l6.std - 0.01) < 0.0005, "linear std %g, want 0.01", l6.std);
    cr_expect_gt(l6.max_abs, 1.0 / 64, "a normal init exceeds the uniform bound somewhere");
    cr_expect_eq(stats_of("vgg11", m, "classifier.6.bias").max_abs, 0.0);

    // the new head uses PyTorch's default Linear init: uniform within 1/sqrt(fan_in)
    cr_assert_null(ft_model_replace_head(m, 2));
    stats h6 = stats_of("vgg11", m, "classifier.6.weight");
    cr_expect_leq(h6.max_abs, (1.0 / 64) * (1 + 1e-6));
    cr_expect(fabs(h6.std - (1.0 / 64) / sqrt(3.0)) < 0.1 * (1.0 / 64) / sqrt(3.0), "head std %g", h6.std);
    stats h0 = stats_of("vgg11", m, "classifier.0.weight");
    cr_expect_leq(h0.max_abs, (1 + 1e-6) / sqrt(25088.0), "max %.9g", h0.max_abs);
    ft_model_free(m);
}

Test(shim, resnet_init_matches_torchvision) {
    ft_model *m = make("resnet18");
    stats c1 = stats_of("resnet18", m, "conv1.weight");
    double want = sqrt(2.0 / (64 * 49));
    cr_expect(fabs(c1.std - want) < 0.1 * want, "conv1 std %g, want %g", c1.std, want);
    stats bn_w = stats_of("resnet18", m, "bn1.weight"), bn_b = stats_of("resnet18", m, "bn1.bias");
    cr_expect(bn_w.mean == 1.0 && bn_w.std == 0.0, "BatchNorm weight is 1");
    cr_expect_eq(bn_b.max_abs, 0.0);
    stats fc = stats_of("resnet18", m, "fc.weight");
    double bound = 1.0 / sqrt(512.0);
    cr_expect_leq(fc.max_abs, bound * (1 + 1e-6));
    cr_expect(fabs(fc.std - bound / sqrt(3.0)) < 0.05 * bound, "fc std %g", fc.std);
    ft_model_free(m);
}

// ---------------------------------------------------------------------------------------------
// forward

Test(shim, forward_is_batch_independent_in_eval_mode) {
    ft_model *m = make("resnet18");
    ft_model_set_training(m, 0);
    const int64_t hw = 40, per = 3 * hw * hw;
    float *x = malloc(sizeof(float) * 2 * per);
    for (int64_t k = 0; k < 2 * per; k++) x[k] = (float)sin((double)k * 0.37);
    float both[2000], one[1000];
    cr_assert_null(ft_model_forward(m, x, 2, 3, hw, hw, both, 2000));
    cr_assert_null(ft_model_forward(m, x + per, 1, 3, hw, hw, one, 1000));
    double diff = 0;
    for (int k = 0; k < 1000; k++) diff = fmax(diff, fabs(both[1000 + k] - one[k]));
    cr_expect_lt(diff, 1e-4, "second sample alone vs in a batch: %g", diff);
    free(x);
    ft_model_free(m);
}

Test(shim, forward_errors_are_statuses) {
    ft_model *m = make("vgg11");
    float x[3 * 8 * 8] = {0}, out[1000];
    ft_status *s = ft_model_forward(m, x, 1, 1, 8, 24, out, 1000);
    cr_expect_eq(ft_status_code(s), FT_EINVAL, "one channel is refused");
    ft_status_free(s);
    s = ft_model_forward(m, x, 1, 3, 8, 8, out, 10);
    cr_expect_eq(ft_status_code(s), FT_EINVAL, "a short output buffer is refused");
    ft_status_free(s);
    // 8x8 is too small for five 2x2 poolings: libtorch throws, the shim returns its message
    s = ft_model_forward(m, x, 1, 3, 8, 8, out, 1000);
    cr_assert_not_null(s);
    cr_expect_eq(ft_status_code(s), FT_ETORCH);
    cr_expect(one_line(ft_status_message(s)), "one line: %s", ft_status_message(s));
    cr_expect(strstr(ft_status_message(s), "frame #") == NULL, "no backtrace");
    ft_status_free(s);
    ft_model_free(m);
}

// ---------------------------------------------------------------------------------------------
// devices

Test(shim, devices) {
    ft_model *m = make("resnet18");
    cr_expect_str_eq(ft_model_device(m), "cpu");
    ft_status *s = ft_model_to_device(m, "gpu");
    cr_expect_eq(ft_status_code(s), FT_EINVAL);
    ft_status_free(s);
    s = ft_model_to_device(m, "cuda:x");
    cr_expect_neq(ft_status_code(s), FT_OK);
    cr_expect(one_line(ft_status_message(s)));
    ft_status_free(s);
    s = ft_model_to_device(m, "cuda");
    if (!ft_cuda_available()) {
        cr_expect_eq(ft_status_code(s), FT_EDEVICE, "no CUDA here: %s", ft_status_message(s));
        cr_expect_str_eq(ft_model_device(m), "cpu");
    } else {
        cr_expect_null(s, "%s", ft_status_message(s));
        cr_expect_str_eq(ft_model_device(m), "cuda:0");
    }
    ft_status_free(s);
    cr_expect_null(ft_model_to_device(m, "cpu"));
    cr_expect_str_eq(ft_model_device(m), "cpu");
    cr_expect_gt(ft_get_num_threads(), 0);
    ft_model_free(m);
}

// An allocation that fails inside libtorch (a batch too large for the memory left) comes back as an
// FT_ENOMEM status with a one-line message, not an abort. Run in a child whose address space is
// capped a little above what it already uses.
Test(shim, allocation_failure_is_a_status, .timeout = 120) {
    ft_model *m = NULL;
    cr_assert_null(ft_model_create("resnet18", &m));
    ft_model_set_mode(m, 0, 1);
    const int64_t n = 64, S = 224;
    float *x = calloc((size_t)(n * 3 * S * S), sizeof *x);
    float *out = malloc((size_t)n * 1000 * sizeof *out);
    cr_assert(x && out);
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        long pages = 0, page = sysconf(_SC_PAGESIZE);
        FILE *f = fopen("/proc/self/statm", "r");
        if (!f || fscanf(f, "%ld", &pages) != 1) _exit(5);
        fclose(f);
        ft_set_num_threads(1);
        rlim_t cap = (rlim_t)pages * (rlim_t)page + (256u << 20);   // 256 MB more: the forward pass needs ~2 GB
        struct rlimit rl = {cap, cap};
        setrlimit(RLIMIT_AS, &rl);
        ft_status *s = ft_model_forward(m, x, n, 3, S, S, out, (size_t)n * 1000);
        char msg[1024];
        snprintf(msg, sizeof msg, "%d %s", s ? (int)ft_status_code(s) : -1, s ? ft_status_message(s) : "ok");
        if (write(fd[1], msg, strlen(msg) + 1) < 0) _exit(4);
        _exit(0);
    }
    close(fd[1]);
    char msg[1024] = "";
    ssize_t got = read(fd[0], msg, sizeof msg - 1);
    close(fd[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child did not finish (status 0x%x): an abort?", st);
    cr_assert_gt(got, 0);
    int code = -2;
    cr_assert_eq(sscanf(msg, "%d", &code), 1, "%s", msg);
    cr_expect_eq(code, FT_ENOMEM, "status: %s", msg);
    cr_expect(strchr(msg, '\n') == NULL && strstr(msg, "memory") != NULL, "one line about memory: '%s'", msg);
    free(x);
    free(out);
    ft_model_free(m);
}
