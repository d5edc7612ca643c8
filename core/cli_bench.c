// cli_bench.c — `frost bench-forward ARCH`: the floor for a training epoch with a frozen backbone —
// the backbone's forward pass alone, on tensors already in memory (no decoding, no head, no
// gradients), with the same libtorch and thread count that `frost train` uses. bench/run compares
// epoch 1 against it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "frost_torch.h"
#include "loader.h"
#include "rng.h"

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cmd_bench_forward(int argc, char **argv) {
    const char *arch = NULL, *device = "auto";
    long batch = 16, size = 224, images = 600, threads = 0;
    for (int i = 1; i < argc;) {
        int missing = 0;
        const char *v;
        long *target = NULL;
        long hi = 1 << 20;
        if ((v = cli_option_value(argc, argv, &i, "--batch", &missing)) || missing)
            target = &batch;
        else if ((v = cli_option_value(argc, argv, &i, "--size", &missing)) || missing)
            target = &size, hi = 4096;
        else if ((v = cli_option_value(argc, argv, &i, "--images", &missing)) || missing)
            target = &images;
        else if ((v = cli_option_value(argc, argv, &i, "--threads", &missing)) || missing)
            target = &threads, hi = 1024;
        else if ((v = cli_option_value(argc, argv, &i, "--device", &missing)) || missing) {
            if (missing) return cli_fail(CLI_USAGE, "bench-forward: --device needs a value");
            device = v;
            continue;
        } else if (argv[i][0] == '-')
            return cli_fail(CLI_USAGE, "bench-forward: unknown option '%s'", argv[i]);
        else if (!arch) {
            arch = argv[i++];
            continue;
        } else
            return cli_fail(CLI_USAGE, "bench-forward: unexpected argument '%s'", argv[i]);
        if (missing || cli_parse_long(v, 1, hi, target) != 0)
            return cli_fail(CLI_USAGE, "bench-forward: %s needs a whole number from 1 to %ld", argv[i - 1 - !missing],
                            hi);
    }
    if (!arch || ft_arch_family(arch) == FT_FAMILY_NONE)
        return cli_fail(CLI_USAGE, "usage: frost bench-forward ARCH [--batch N] [--size S] [--images N] [--threads N]");
    ft_set_num_threads(threads > 0 ? (int)threads : loader_default_workers());
    ft_model *m = NULL;
    ft_status *s = ft_model_create(arch, &m);
    if (!s) s = ft_model_to_device(m, strcmp(device, "auto") == 0 ? (ft_cuda_available() ? "cuda" : "cpu") : device);
    if (s) {
        int rc = cli_fail(CLI_FAILED, "%s: %s", arch, ft_status_message(s));
        ft_status_free(s);
        ft_model_free(m);
        return rc;
    }
    ft_model_set_mode(m, 0, 1);
    size_t in_floats = (size_t)batch * 3 * (size_t)size * (size_t)size;
    size_t feat = (size_t)ft_model_feature_size(m);
    float *x = malloc(in_floats * sizeof *x), *out = malloc((size_t)batch * feat * sizeof *out);
    if (!x || !out) {
        free(x);
        free(out);
        ft_model_free(m);
        return cli_fail(CLI_FAILED, "bench-forward: out of memory");
    }
    rng r;
    rng_seed(&r, 1);
    for (size_t i = 0; i < in_floats; i++) x[i] = (float)((double)(rng_next(&r) >> 11) / 9007199254740992.0 * 2 - 1);
    // one batch to warm up (allocations, kernels), not counted
    s = ft_model_features(m, x, batch, 3, size, size, out, (size_t)batch * feat);
    double t0 = seconds_now();
    long done = 0;
    while (!s && done < images) {
        long n = images - done < batch ? images - done : batch;
        s = ft_model_features(m, x, n, 3, size, size, out, (size_t)batch * feat);
        done += n;
    }
    double secs = seconds_now() - t0;
    int rc = 0;
    if (s) {
        rc = cli_fail(CLI_FAILED, "bench-forward: %s", ft_status_message(s));
        ft_status_free(s);
    } else {
        printf("%s backbone forward: %ld images in %.2f s, %.1f images/s (batch %ld, %ldx%ld, %d threads, %s)\n", arch,
               done, secs, (double)done / secs, batch, size, size, ft_get_num_threads(), ft_model_device(m));
    }
    free(x);
    free(out);
    ft_model_free(m);
    return rc;
}
