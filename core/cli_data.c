// cli_data.c — the input-pipeline options every data command shares (--size, --crop, --resize,
// --norm), and `frost bench-data`: the whole dataset through the loader, timed.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "dataset.h"
#include "loader.h"
#include "pipeline.h"

int cli_pipeline_option(const char *cmd, int argc, char **argv, int *i, pipeline_opts *o, int *rc) {
    int missing = 0;
    const char *v;
    long n;
    *rc = 0;
    if ((v = cli_option_value(argc, argv, i, "--size", &missing)) || missing) {
        if (missing || cli_parse_long(v, 16, 1024, &n) != 0)
            *rc = cli_fail(CLI_USAGE, "%s: --size needs a whole number from 16 to 1024", cmd);
        else
            o->tf.size = (int)n;
        if (o->dec.dct_min_side) o->dec.dct_min_side = o->tf.size;
        return 1;
    }
    if (strcmp(argv[*i], "--crop") == 0) {
        o->tf.fit = TRANSFORM_SHORT_CROP;
        (*i)++;
        return 1;
    }
    if ((v = cli_option_value(argc, argv, i, "--resize", &missing)) || missing) {
        if (!missing && strcmp(v, "exact") == 0)
            pipeline_set_fast(o, 0);
        else if (!missing && strcmp(v, "fast") == 0)
            pipeline_set_fast(o, 1);
        else
            *rc = cli_fail(CLI_USAGE, "%s: --resize is exact or fast", cmd);
        return 1;
    }
    if ((v = cli_option_value(argc, argv, i, "--norm", &missing)) || missing) {
        transform_params t = o->tf;
        if (!missing && strcmp(v, "seed") == 0)
            transform_params_seed(&t);
        else if (!missing && strcmp(v, "imagenet") == 0)
            transform_params_imagenet(&t);
        else {
            *rc = cli_fail(CLI_USAGE, "%s: --norm is seed (mean 0.5, std 0.5) or imagenet", cmd);
            return 1;
        }
        memcpy(o->tf.mean, t.mean, sizeof t.mean);
        memcpy(o->tf.std, t.std, sizeof t.std);
        return 1;
    }
    return 0;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Every train then valid image, in dataset order, as the uint8 SxS image before ToTensor.
static int dump_resized(const dataset *d, const pipeline_opts *o, const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f) return cli_fail(CLI_FAILED, "%s: cannot create", path);
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
    if (fclose(f) != 0 && rc == 0) rc = cli_fail(CLI_FAILED, "%s: write failed", path);
    free(buf);
    transform_scratch_free(&s);
    image_free(&img);
    image_decoder_free(dec);
    return rc;
}

int cmd_bench_data(int argc, char **argv) {
    pipeline_opts po;
    pipeline_opts_default(&po);
    loader_opts lo;
    loader_opts_default(&lo);
    const char *root = NULL, *dump = NULL;
    long n;
    for (int i = 1; i < argc;) {
        int missing = 0, rc;
        const char *v;
        if (cli_pipeline_option("bench-data", argc, argv, &i, &po, &rc)) {
            if (rc) return rc;
        } else if ((v = cli_option_value(argc, argv, &i, "--workers", &missing)) || missing) {
            if (missing || cli_parse_long(v, 1, 256, &n) != 0)
                return cli_fail(CLI_USAGE, "bench-data: --workers needs a whole number from 1 to 256");
            lo.workers = (int)n;
        } else if ((v = cli_option_value(argc, argv, &i, "--batch", &missing)) || missing) {
            if (missing || cli_parse_long(v, 1, 4096, &n) != 0)
                return cli_fail(CLI_USAGE, "bench-data: --batch needs a whole number from 1 to 4096");
            lo.batch_size = (int)n;
        } else if ((v = cli_option_value(argc, argv, &i, "--dump-resized", &missing)) || missing) {
            if (missing) return cli_fail(CLI_USAGE, "bench-data: --dump-resized needs a file");
            dump = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_fail(CLI_USAGE, "bench-data: unknown option '%s' (see frost help)", argv[i]);
        } else if (!root) {
            root = argv[i++];
        } else {
            return cli_fail(CLI_USAGE, "bench-data: unexpected argument '%s'", argv[i]);
        }
    }
    if (!root) return cli_fail(CLI_USAGE, "bench-data: which dataset? (frost bench-data DATASET)");
    char err[1024];
    if (pipeline_opts_check(&po, err, sizeof err) != 0) return cli_fail(CLI_USAGE, "bench-data: %s", err);
    dataset d;
    if (dataset_scan(&d, root, NULL, err, sizeof err) != 0) {
        dataset_free(&d);
        return cli_fail(CLI_FAILED, "%s", err);
    }
    if (dump) {
        int rc = dump_resized(&d, &po, dump);
        dataset_free(&d);
        return rc;
    }

    lo.sample_floats = pipeline_sample_floats(&po);
    loader_source src = pipeline_source(&po);
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
    int rc = 0;
    double start = now();
    loader *l = loader_new(&all, &lo, &src, &bad, err, sizeof err);
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
        lo.workers = loader_workers(l);
    }
    loader_free(l);
    double secs = now() - start;
    if (rc == 0) {
        printf("frost resize=%s size=%d%s workers=%d images=%zu skipped=%zu seconds=%.3f images_per_s=%.1f\n",
               po.tf.fast ? "fast" : "exact", po.tf.size, po.tf.fit == TRANSFORM_SHORT_CROP ? " crop" : "",
               lo.workers, images, badfiles_count(&bad), secs, secs > 0 ? (double)images / secs : 0.0);
        for (size_t i = 0; i < badfiles_count(&bad); i++) {
            char path[4096], reason[256];
            if (badfiles_get(&bad, i, path, sizeof path, reason, sizeof reason) == 0)
                fprintf(stderr, "frost: skipped %s: %s\n", path, reason);
        }
    }
    free(all.items);
    badfiles_free(&bad);
    dataset_free(&d);
    return rc;
}
