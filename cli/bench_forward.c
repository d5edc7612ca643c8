// bench_forward.c — `frost bench-forward ARCH`: the floor for a training epoch with a frozen backbone —
// the backbone's forward pass alone, on tensors already in memory (no decoding, no head, no
// gradients), with the same libtorch and thread count that `frost train` uses. bench/run compares
// epoch 1 against it. With --data DATASET the tensors are that dataset's images (train then valid),
// decoded and transformed before the clock starts, so the arithmetic is the real one (random inputs
// can meet slow paths, such as denormal floats, that images do not).
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "dataset.h"
#include "frost_torch.h"
#include "loader.h"
#include "pipeline.h"
#include "rng.h"

// Every image of the dataset (train, then valid; at most `limit`), as training sees them (the seed's
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
    loader_opts lo;
    loader_opts_default(&lo);
    lo.batch_size = (int)batch;
    lo.shuffle = 0;
    lo.sample_floats = pipeline_sample_floats(&po);
    loader_source src = pipeline_source(&po);
    badfile_list bad;
    badfiles_init(&bad);
    size_t total = d.train.n_items + d.valid.n_items;
    if ((size_t)limit < total) total = (size_t)limit;
    float *x = malloc((total ? total : 1) * lo.sample_floats * sizeof *x);
    int rc = x ? 0 : -1;
    if (!x) snprintf(err, errlen, "out of memory for %zu images", total);
    size_t got_n = 0;
    const dataset_split *splits[2] = {&d.train, &d.valid};
    for (int k = 0; rc == 0 && k < 2 && got_n < total; k++) {
        loader *l = loader_new(splits[k], &lo, &src, &bad, err, errlen);
        if (!l || loader_start_epoch(l, 0, err, errlen) != 0) {
            rc = -1;
        } else {
            loader_batch *b;
            int got;
            while ((got = loader_next(l, &b, err, errlen)) == 1) {
                size_t take = (size_t)b->n < total - got_n ? (size_t)b->n : total - got_n;
                memcpy(x + got_n * lo.sample_floats, b->data, take * lo.sample_floats * sizeof *x);
                got_n += take;
                loader_release(l, b);
                if (got_n == total) break;
            }
            if (got < 0) rc = -1;
        }
        loader_free(l);
    }
    badfiles_free(&bad);
    dataset_free(&d);
    if (rc == 0 && got_n == 0) {
        snprintf(err, errlen, "%s: no readable image", root);
        rc = -1;
    }
    if (rc != 0) {
        free(x);
        return -1;
    }
    *out = x;
    *n = (long)got_n;
    return 0;
}

typedef struct {
    long batch, size, images, threads;
    const char *data, *device;
} bench_forward_args;

static const cli_option options[] = {
    CLI_OPT("--batch", OPT_LONG, .offset = offsetof(bench_forward_args, batch), .lo = 1, .hi = 1 << 20, .arg = "N",
            .help = "images per forward pass (default 16)"),
    CLI_OPT("--size", OPT_LONG, .offset = offsetof(bench_forward_args, size), .lo = 1, .hi = 4096, .arg = "S",
            .help = "input size SxS (default 224)"),
    CLI_OPT("--images", OPT_LONG, .offset = offsetof(bench_forward_args, images), .lo = 1, .hi = 1 << 20, .arg = "N",
            .help = "images timed (default 600; with --data at most the dataset's)"),
    CLI_OPT("--threads", OPT_LONG, .offset = offsetof(bench_forward_args, threads), .lo = 1, .hi = 1024, .arg = "N",
            .help = "libtorch threads (default: the cores)"),
    CLI_OPT("--data", OPT_STRING, .offset = offsetof(bench_forward_args, data),
            .error = "--data needs a dataset folder", .arg = "DATASET",
            .help = "the dataset's images decoded before the clock starts, instead of random inputs"),
    CLI_OPT("--device", OPT_STRING, .offset = offsetof(bench_forward_args, device), .error = "--device needs a value",
            .arg = "auto|cpu|cuda", .help = "where it runs (default auto)"),
    CLI_OPT_END,
};

static int run(int argc, char **argv) {
    bench_forward_args a = {.batch = 16, .size = 224, .images = 600, .device = "auto"};
    const char *arch = NULL;
    int n_args = 0;
    int rc = cli_parse("bench-forward", options, argc, argv, &a, 1, &arch, &n_args);
    if (rc) return rc;
    if (!arch || ft_arch_family(arch) == FT_FAMILY_NONE)
        return cli_fail(
            CLI_USAGE,
            "usage: frost bench-forward ARCH [--batch N] [--size S] [--images N] [--threads N] [--data DATASET]");
    long batch = a.batch, size = a.size, images = a.images, threads = a.threads;
    const char *data = a.data, *device = a.device;
    ft_set_num_threads(threads > 0 ? (int)threads : loader_default_workers());
    ft_model *m = NULL;
    ft_status *s = ft_model_create(arch, &m);
    if (!s) s = ft_model_to_device(m, strcmp(device, "auto") == 0 ? (ft_cuda_available() ? "cuda" : "cpu") : device);
    if (s) {
        rc = cli_fail(CLI_FAILED, "%s: %s", arch, ft_status_message(s));
        ft_status_free(s);
        ft_model_free(m);
        return rc;
    }
    ft_model_set_mode(m, 0, 1);
    size_t sample = 3 * (size_t)size * (size_t)size, in_floats = (size_t)batch * sample;
    size_t feat = (size_t)ft_model_feature_size(m);
    float *x = NULL, *out = malloc((size_t)batch * feat * sizeof *out);
    char err[1024];
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
    s = ft_model_features(m, x, batch, 3, size, size, out, (size_t)batch * feat);
    double warm = clock_seconds() - w0;
    double t0 = clock_seconds();
    long done = 0;
    while (!s && done < images) {
        long n = images - done < batch ? images - done : batch;
        const float *in = data ? x + (size_t)done * sample : x;   // the dataset's images, or one random batch again
        s = ft_model_features(m, in, n, 3, size, size, out, (size_t)batch * feat);
        done += n;
    }
    double secs = clock_seconds() - t0;
    if (s) {
        rc = cli_fail(CLI_FAILED, "bench-forward: %s", ft_status_message(s));
        ft_status_free(s);
    } else {
        printf("%s backbone forward: %ld images in %.2f s, %.1f images/s (batch %ld, %ldx%ld, %d threads, %s, %s; "
               "first batch %.2f s, not counted)\n",
               arch, done, secs, (double)done / secs, batch, size, size, ft_get_num_threads(), ft_model_device(m),
               data ? "the dataset's images" : "random inputs", warm);
    }
    free(x);
    free(out);
    ft_model_free(m);
    return rc;
}

const cli_command cli_bench_forward = {
    .name = "bench-forward",
    .synopsis = "ARCH [--images N] [--batch N] [--size S] [--threads N] [--data DATASET]",
    .help = "the floor for an epoch: the backbone's forward pass alone on tensors in memory\n"
            "(random ones, or DATASET's images decoded before the clock starts)",
    .options = options,
    .run = run,
};
