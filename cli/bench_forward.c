// bench_forward.c — `frost bench-forward ARCH`: the floor for a training epoch with a frozen backbone —
// the backbone's forward pass alone, on tensors already in memory (no decoding, no head, no
// gradients), with the same libtorch and thread count that `frost train` uses. bench/run compares
// epoch 1 against it. With --data DATASET the tensors are that dataset's images (train then valid),
// decoded and transformed before the clock starts, so the arithmetic is the real one (random inputs
// can meet slow paths, such as denormal floats, that images do not). --precision fast|bf16 times the
// folded backbone the feature cache can use (ft_model_set_precision); --compare then runs fp32 on the
// same images and reports how far the features moved and how often the model's own 1000-class head
// picks another top-1 class (a random-init head unless --weights: say so, since it says little then).
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "dataset.h"
#include "frost_torch.h"
#include "i18n.h"
#include "loader.h"
#include "pipeline.h"
#include "precision_auto.h"
#include "rng.h"
#include "transfer.h"

// Every image of the dataset (train, then valid; at most `limit`), as training sees them (the tutorial's
// transform at size S), into one array of n * 3*S*S floats.
static int load_images(const char *root, long size, long batch, long limit, float **out, long *n, char *err,
                       size_t errlen) {
    dataset d;
    if (dataset_scan(&d, root, NULL, err, errlen) != 0) {
        dataset_free(&d);
        return -1;
    }
    pipeline_opts po;
    pipeline_opts_default(&po);
    po.tf.size = (int)size;
    const dataset_split *splits[2] = {&d.train, &d.valid};
    size_t got = 0;
    char why[768];
    int rc = pipeline_read_images(splits, 2, &po, (int)batch, (size_t)limit, out, &got, why, sizeof why);
    if (rc != 0) snprintf(err, errlen, "%s: %s", root, why);
    dataset_free(&d);
    *n = (long)got;
    return rc;
}

typedef struct {
    long batch, size, images, threads;
    const char *data, *device, *weights;
    int precision, compare;
} bench_forward_args;

static const char *const PRECISIONS[] = {"fp32", "fast", "bf16", NULL};
static const int PRECISION_VALUES[] = {FT_PRECISION_FP32, FT_PRECISION_FAST, FT_PRECISION_BF16};

static const cli_option options[] = {
    CLI_OPT("--batch", OPT_LONG, .offset = offsetof(bench_forward_args, batch), .lo = 1, .hi = 1 << 20, .arg = "N",
            .help = N_("images per forward pass"), .def = "16"),
    CLI_OPT("--size", OPT_LONG, .offset = offsetof(bench_forward_args, size), .lo = 1, .hi = 4096, .arg = "S",
            .help = N_("input size SxS"), .def = "224"),
    CLI_OPT("--images", OPT_LONG, .offset = offsetof(bench_forward_args, images), .lo = 1, .hi = 1 << 20, .arg = "N",
            .help = N_("images timed (with --data at most the dataset's)"), .def = "600"),
    CLI_OPT("--threads", OPT_LONG, .offset = offsetof(bench_forward_args, threads), .lo = 1, .hi = 1024, .arg = "N",
            .help = N_("libtorch threads"), .def = N_("the cores")),
    CLI_OPT("--data", OPT_STRING, .offset = offsetof(bench_forward_args, data),
            .error = N_("--data needs a dataset folder"), .arg = "DATASET",
            .help = N_("the dataset's images decoded before the clock starts, instead of random inputs"),
            .def = N_("random inputs")),
    CLI_OPT("--device", OPT_STRING, .offset = offsetof(bench_forward_args, device),
            .error = N_("--device needs a value"), .arg = "auto|cpu|cuda", .help = N_("where it runs"), .def = "auto"),
    CLI_OPT("--precision", OPT_CHOICE, .offset = offsetof(bench_forward_args, precision), .choices = PRECISIONS,
            .values = PRECISION_VALUES, .arg = "fp32|fast|bf16",
            .help =
                N_("the backbone as built (fp32), BatchNorm folded + channels_last (fast), or that in bfloat16 (bf16)"),
            .def = "fp32"),
    CLI_OPT("--compare", OPT_FLAG, .offset = offsetof(bench_forward_args, compare),
            .help = N_("also run fp32 on the same images: feature difference and top-1 agreement")),
    CLI_OPT("--weights", OPT_STRING, .offset = offsetof(bench_forward_args, weights), .nonempty = 1,
            .error = N_("--weights needs a file"), .arg = "FILE",
            .help = N_("the network's weights (a state_dict file) instead of random initialisation"),
            .def = N_("random weights")),
    CLI_OPT_END,
};

// --compare: the features at the model's precision against fp32's on the same n images, and how many
// images keep their top-1 class (precision_agreement: the one comparison --precision auto makes too).
// Leaves the model at fp32. 0, or -1 with err.
static int compare_fp32(ft_model *m, const float *x, long n, long batch, long size, const char *weights, char *err,
                        size_t errlen) {
    precision_figure f;
    char why[768];
    if (precision_agreement(m, x, (size_t)n, (int)batch, (int)size, ft_model_precision(m), &f, why, sizeof why) != 0) {
        snprintf(err, errlen, "--compare: %s", why);
        return -1;
    }
    printf("compared with fp32 on the same %ld images: max abs feature difference %.3g, relative %.3g (to the "
           "largest feature); features within %g (relative, per image) on %.1f%%; top-1 unchanged on %.1f%% (%zu of "
           "%ld; %s%s)\n",
           n, f.max_abs_diff, f.max_abs_f32 > 0 ? f.max_abs_diff / f.max_abs_f32 : 0.0, PRECISION_FEATURE_TOL,
           100.0 * (double)f.features_agree / (double)n, 100.0 * (double)f.top1_agree / (double)n, f.top1_agree, n,
           weights ? "the 1000-class head of " : "random initialisation, no --weights: the 1000-class head's ",
           weights ? weights : "classes mean nothing, near-ties are common");
    return 0;
}

// The network as torchvision builds it (or with --weights loaded), every parameter frozen: nothing
// trains in a forward benchmark, and the folded precisions need a frozen backbone.
static ft_model *bench_model(const bench_forward_args *a, const char *arch, char *err, size_t errlen) {
    ft_model *m = NULL;
    char note[1024] = "";
    transfer_spec spec = {.arch = arch, .classes = 0, .weights = a->weights};
    if (transfer_build(&spec, &m, note, sizeof note, err, errlen) != 0) return NULL;
    if (note[0]) fprintf(stderr, "frost: note: %s\n", note);
    const char *device = strcmp(a->device, "auto") == 0 ? (ft_cuda_available() ? "cuda" : "cpu") : a->device;
    ft_status *s = ft_model_set_trainable(m, "", 0);
    if (!s) s = ft_model_to_device(m, device);
    if (!s) {
        ft_model_set_mode(m, 0, 1);
        s = ft_model_set_precision(m, (ft_precision)a->precision);
    }
    if (s) {
        snprintf(err, errlen, "%s: %s", arch, ft_status_message(s));
        ft_status_free(s);
        ft_model_free(m);
        return NULL;
    }
    return m;
}

static int run(int argc, char **argv) {
    bench_forward_args a = {.batch = 16, .size = 224, .images = 600, .device = "auto", .precision = FT_PRECISION_FP32};
    const char *arch = NULL;
    int n_args = 0;
    int rc = cli_parse("bench-forward", options, argc, argv, &a, 1, &arch, &n_args);
    if (rc) return rc;
    if (!arch || ft_arch_family(arch) == FT_FAMILY_NONE)
        return cli_fail(CLI_USAGE, "usage: frost bench-forward ARCH [--batch N] [--size S] [--images N] [--threads N] "
                                   "[--data DATASET] [--precision fp32|fast|bf16] [--compare] [--weights FILE]");
    long batch = a.batch, size = a.size, images = a.images, threads = a.threads;
    const char *data = a.data;
    ft_set_num_threads(threads > 0 ? (int)threads : loader_default_workers());
    char err[1024];
    ft_model *m = bench_model(&a, arch, err, sizeof err);
    if (!m) return cli_fail(CLI_FAILED, "bench-forward: %s", err);
    size_t sample = 3 * (size_t)size * (size_t)size, in_floats = (size_t)batch * sample;
    size_t feat = (size_t)ft_model_feature_size(m);
    float *x = NULL, *out = malloc((size_t)batch * feat * sizeof *out);
    long have = 0;   // images in x
    if (data) {
        if (load_images(data, size, batch, images, &x, &have, err, sizeof err) != 0) {
            free(out);
            ft_model_free(m);
            return cli_fail(CLI_FAILED, "bench-forward: %s", err);
        }
        images = have;
    } else {
        x = malloc(in_floats * sizeof *x);
        have = batch;
        if (x) {
            rng r;
            rng_seed(&r, 1);
            for (size_t i = 0; i < in_floats; i++)
                x[i] = (float)((double)(rng_next(&r) >> 11) / 9007199254740992.0 * 2 - 1);
        }
    }
    if (!x || !out) {
        free(x);
        free(out);
        ft_model_free(m);
        return cli_fail(CLI_FAILED, "bench-forward: out of memory");
    }
    // one batch to warm up (allocations, kernels), timed on its own and not counted in the rate
    double w0 = clock_seconds();
    ft_status *s = ft_model_features(m, x, batch < have ? batch : have, 3, size, size, out, (size_t)batch * feat);
    double warm = clock_seconds() - w0;
    ft_cpu_memory mem0, mem1;
    ft_cpu_memory_stats(&mem0);
    double t0 = clock_seconds();
    long done = 0;
    while (!s && done < images) {
        long n = images - done < batch ? images - done : batch;
        const float *in = data ? x + (size_t)done * sample : x;   // the dataset's images, or one random batch again
        s = ft_model_features(m, in, n, 3, size, size, out, (size_t)batch * feat);
        done += n;
    }
    double secs = clock_seconds() - t0;
    ft_cpu_memory_stats(&mem1);
    if (s) {
        rc = cli_fail(CLI_FAILED, "bench-forward: %s", ft_status_message(s));
        ft_status_free(s);
    } else {
        printf("%s backbone forward: %ld images in %.2f s, %.1f images/s (batch %ld, %ldx%ld, %d threads, %s, "
               "precision %s, %s; first batch %.2f s, not counted)\n",
               arch, done, secs, (double)done / secs, batch, size, size, ft_get_num_threads(), ft_model_device(m),
               PRECISIONS[ft_model_precision(m)], data ? "the dataset's images" : "random inputs", warm);
        uint64_t reused = mem1.reused - mem0.reused, fresh = mem1.mapped - mem0.mapped;
        if (mem1.active && reused + fresh > 0)   // frost's CPU allocator (shim/cpu_allocator.cpp)
            printf("large blocks: %.0f%% of %llu requests met by a kept block, %llu mapped afresh\n",
                   100.0 * (double)reused / (double)(reused + fresh), (unsigned long long)(reused + fresh),
                   (unsigned long long)fresh);
        fflush(stdout);
        if (a.compare && compare_fp32(m, x, have, batch, size, a.weights, err, sizeof err) != 0)
            rc = cli_fail(CLI_FAILED, "bench-forward: %s", err);
    }
    free(x);
    free(out);
    ft_model_free(m);
    return rc;
}

const cli_command cli_bench_forward = {
    .name = "bench-forward",
    .synopsis = "ARCH [--images N] [--batch N] [--size S] [--threads N] [--data DATASET] [--precision P] [--compare]\n"
                "[--weights FILE]",
    .help = N_("the floor for an epoch: the backbone's forward pass alone on tensors in memory\n"
               "(random ones, or DATASET's images decoded before the clock starts)"),
    .examples = "frost bench-forward resnet18 --images 64\n"
                "frost bench-forward vgg16 --data sample_data --precision fast --compare",
    .options = options,
    .run = run,
};
