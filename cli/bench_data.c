// bench_data.c — `frost bench-data DATASET`: every image of the dataset through the loader, as
// training reads them, timed.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "cli.h"
#include "clock.h"
#include "config.h"
#include "dataset.h"
#include "i18n.h"
#include "loader.h"
#include "pipeline.h"

// Every train then valid image, in dataset order, as the uint8 SxS image before ToTensor.
static int dump_resized(const dataset *d, const pipeline_opts *o, const char *path) {
    atomic_file af;
    char why[1024];
    FILE *f = atomic_file_open_stream(&af, path, why, sizeof why);
    if (!f) return cli_fail(CLI_FAILED, "%s", why);
    image_decoder *dec = image_decoder_new();
    image_rgb8 img = {0};
    transform_scratch s;
    transform_scratch_init(&s);
    size_t bytes = 3 * (size_t)o->tf.size * (size_t)o->tf.size;
    uint8_t *buf = malloc(bytes);
    int rc = dec && buf ? 0 : cli_fail(CLI_FAILED, "out of memory");
    const dataset_split *splits[2] = {&d->train, &d->valid};
    for (int sp = 0; sp < 2 && rc == 0; sp++)
        for (size_t i = 0; i < splits[sp]->n_items && rc == 0; i++) {
            char err[512];
            if (image_decoder_load_file(dec, splits[sp]->items[i].path, &o->dec, &img, NULL, err, sizeof err) != 0 ||
                transform_image_u8(&o->tf, img.rgb, img.width, img.height, buf, &s, err, sizeof err) != 0)
                rc = cli_fail(CLI_FAILED, "%s: %s", splits[sp]->items[i].path, err);
            else if (fwrite(buf, 1, bytes, f) != bytes)
                rc = cli_fail(CLI_FAILED, "%s: write failed", path);
        }
    if (rc != 0)
        atomic_file_abort(&af);
    else if (atomic_file_commit(&af, 1, why, sizeof why) != 0)
        rc = cli_fail(CLI_FAILED, "%s", why);
    free(buf);
    transform_scratch_free(&s);
    image_free(&img);
    image_decoder_free(dec);
    return rc;
}

typedef struct {
    pipeline_opts po;
    loader_opts lo;
    const char *dump;
} bench_data_args;

static const cli_option options[] = {
    CLI_OPT(NULL, OPT_GROUP, .offset = offsetof(bench_data_args, po), .group = cli_pipeline_options),
    CLI_OPT("--workers", OPT_INT, .offset = offsetof(bench_data_args, lo.workers), .lo = 1, .hi = 256, .arg = "N",
            .help = N_("decoding threads"), .def = N_("the cores, or the config file's")),
    CLI_OPT("--batch", OPT_INT, .offset = offsetof(bench_data_args, lo.batch_size), .lo = 1, .hi = 4096, .arg = "N",
            .help = N_("images per batch"), .def = "16"),
    CLI_OPT("--dump-resized", OPT_STRING, .offset = offsetof(bench_data_args, dump),
            .error = N_("--dump-resized needs a file"), .arg = "FILE",
            .help = N_("write every image as the uint8 SxS picture before ToTensor, train then valid (for tests)"),
            .def = "none"),
    CLI_OPT_END,
};

static int run(int argc, char **argv) {
    bench_data_args a = {0};
    pipeline_opts_default(&a.po);
    loader_opts_default(&a.lo);
    if (cli_config()->workers) a.lo.workers = cli_config()->workers;   // the user's default
    const char *root = NULL;
    int n = 0;
    int rc = cli_parse("bench-data", options, argc, argv, &a, 1, &root, &n);
    if (rc) return rc;
    if (n == 0) return cli_fail(CLI_USAGE, "bench-data: which dataset? (frost bench-data DATASET)");
    pipeline_opts *po = &a.po;
    loader_opts *lo = &a.lo;
    char err[1024];
    if (pipeline_opts_check(po, err, sizeof err) != 0) return cli_fail(CLI_USAGE, "bench-data: %s", err);
    dataset d;
    if ((rc = cli_scan_dataset(root, NULL, &d)) != 0) return rc;
    if (a.dump) {
        rc = dump_resized(&d, po, a.dump);
        dataset_free(&d);
        return rc;
    }

    lo->sample_floats = pipeline_sample_floats(po);
    loader_source src = pipeline_source(po);
    badfile_list bad;
    badfiles_init(&bad);
    // one pass over every image, train and valid together, as one loader sees them
    dataset_split all = {.name = "dataset", .n_items = d.train.n_items + d.valid.n_items};
    all.items = malloc((all.n_items ? all.n_items : 1) * sizeof *all.items);
    if (!all.items) {
        badfiles_free(&bad);
        dataset_free(&d);
        return cli_fail(CLI_FAILED, "out of memory");
    }
    memcpy(all.items, d.train.items, d.train.n_items * sizeof *all.items);
    memcpy(all.items + d.train.n_items, d.valid.items, d.valid.n_items * sizeof *all.items);
    size_t images = 0;
    double start = clock_seconds();
    loader *l = loader_new(&all, lo, &src, &bad, err, sizeof err);
    if (!l || loader_start_epoch(l, 0, err, sizeof err) != 0) {
        rc = cli_fail(CLI_FAILED, "%s", err);
    } else {
        loader_batch *b;
        int got;
        while ((got = loader_next(l, &b, err, sizeof err)) == 1) {
            images += (size_t)b->n;
            loader_release(l, b);
        }
        if (got < 0) rc = cli_fail(CLI_FAILED, "%s", err);
        lo->workers = loader_workers(l);
    }
    loader_free(l);
    double secs = clock_seconds() - start;
    if (rc == 0) {
        printf("frost resize=%s size=%d%s workers=%d images=%zu skipped=%zu seconds=%.3f images_per_s=%.1f\n",
               po->tf.fast ? "fast" : "exact", po->tf.size, po->tf.fit == TRANSFORM_SHORT_CROP ? " crop" : "",
               lo->workers, images, badfiles_count(&bad), secs, secs > 0 ? (double)images / secs : 0.0);
        cli_print_skipped(&bad);
    }
    free(all.items);
    badfiles_free(&bad);
    dataset_free(&d);
    return rc;
}

const cli_command cli_bench_data = {
    .name = "bench-data",
    .synopsis = "DATASET [--workers N] [--batch N] [--size S] [--crop] [--resize exact|fast]\n"
                "[--norm " CLI_NORM_ARG "]",
    .help = N_("read every image of the dataset through the loader, as training does, and\n"
               "report images per second"),
    .examples = "frost bench-data sample_data\n"
                "frost bench-data DATASET --resize fast --workers 2",
    .options = options,
    .run = run,
};
