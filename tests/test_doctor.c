// test_doctor.c — real images through the pipeline, the loader and `frost doctor`, on datasets the
// test writes (JPEGs made with TurboJPEG, plus broken files): batches equal the single-image
// transform, bad files are skipped and named, and doctor's report and exit status say what is wrong.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "doctor.h"
#include "loader.h"
#include "pipeline.h"
#include "testutil.h"

static char *root;
static void setup(void) { root = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(root);
    free(root);
}
TestSuite(doctor, .init = setup, .fini = teardown);

static void mkdirs(const char *rel) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    mkdir(path, 0755);
}

// A w x h JPEG with a pattern depending on `seed`, written to root/rel; returns its size.
static size_t write_jpeg(const char *rel, int w, int h, int seed) {
    unsigned char *rgb = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (unsigned char)(x * 255 / w);
            p[1] = (unsigned char)(y * 255 / h);
            p[2] = (unsigned char)((x * y + seed * 37) & 255);
        }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    cr_assert_eq(tu_write_jpeg(path, w, h, rgb), 0);
    free(rgb);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    return (size_t)st.st_size;
}

static void write_raw(const char *rel, const void *data, size_t len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    cr_assert_eq(tu_write_file(path, data, len), 0);
}

// train: cats 6 good + 3 broken, dogs 3 good; valid: cats 2 good
static void make_dataset(void) {
    mkdirs("train/cats");
    mkdirs("train/dogs");
    mkdirs("valid/cats");
    char name[64];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "train/cats/c%d.jpg", i);
        write_jpeg(name, 60 + 7 * i, 50 + 3 * i, i);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "train/dogs/d%d.jpg", i);
        write_jpeg(name, 80, 64, 10 + i);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "valid/cats/v%d.jpg", i);
        write_jpeg(name, 70, 70, 20 + i);
    }
    write_raw("train/cats/empty.jpg", "", 0);
    write_raw("train/cats/notes.jpg", "these are my notes, not a picture\n", 34);
    size_t len = write_jpeg("train/cats/truncated.jpg", 200, 150, 99);
    char path[1024];
    snprintf(path, sizeof path, "%s/train/cats/truncated.jpg", root);
    cr_assert_eq(truncate(path, (off_t)(len / 2)), 0);
}

static dataset scan(void) {
    dataset d;
    char err[1024];
    cr_assert_eq(dataset_scan(&d, root, NULL, err, sizeof err), 0, "%s", err);
    return d;
}

// ---------------------------------------------------------------------------------------------

Test(doctor, batches_hold_the_transformed_images) {
    make_dataset();
    dataset d = scan();
    pipeline_opts po;
    pipeline_opts_default(&po);
    po.tf.size = 32;
    loader_opts lo;
    loader_opts_default(&lo);
    lo.sample_floats = pipeline_sample_floats(&po);
    lo.batch_size = 4;
    lo.workers = 2;
    loader_source src = pipeline_source(&po);
    badfile_list bad;
    badfiles_init(&bad);
    char err[1024];
    loader *l = loader_new(&d.train, &lo, &src, &bad, err, sizeof err);
    cr_assert_not_null(l, "%s", err);
    cr_assert_eq(loader_start_epoch(l, 0, err, sizeof err), 0);

    float *want = malloc(lo.sample_floats * sizeof(float));
    image_rgb8 img = {0};
    transform_scratch s;
    transform_scratch_init(&s);
    loader_batch *b;
    int sizes[8], nb = 0, total = 0;
    while (loader_next(l, &b, err, sizeof err) == 1) {
        sizes[nb++] = b->n;
        for (int k = 0; k < b->n; k++) {
            const dataset_item *it = &d.train.items[b->items[k]];
            cr_assert_eq(b->labels[k], it->label);
            cr_assert_eq(image_load_file(it->path, NULL, &img, NULL, err, sizeof err), 0, "%s", err);
            cr_assert_eq(transform_apply(&po.tf, img.rgb, img.width, img.height, want, &s, err, sizeof err), 0);
            image_free(&img);
            cr_assert(memcmp(want, b->data + (size_t)k * lo.sample_floats, lo.sample_floats * sizeof(float)) == 0,
                      "sample %d of batch %d equals the single-image transform of %s", k, nb - 1, it->path);
            total++;
        }
        loader_release(l, b);
    }
    cr_expect_eq(total, 9, "the 9 good images, the 3 broken skipped");
    cr_expect(nb == 3 && sizes[0] == 4 && sizes[1] == 4 && sizes[2] == 1);
    cr_expect_eq(badfiles_count(&bad), 3);
    for (size_t i = 0; i < badfiles_count(&bad); i++) {
        char path[1024], reason[256];
        badfiles_get(&bad, i, path, sizeof path, reason, sizeof reason);
        cr_expect(reason[0] != '\0', "%s has a reason", path);
    }
    transform_scratch_free(&s);
    free(want);
    loader_free(l);
    badfiles_free(&bad);
    dataset_free(&d);
}

Test(doctor, report_names_what_is_wrong) {
    make_dataset();
    dataset d = scan();
    doctor_report r;
    char err[256];
    cr_assert_eq(doctor_run(&d, 2, &r, err, sizeof err), 0);
    cr_expect_eq(r.checked, 14);
    cr_expect_eq(r.readable, 11);
    cr_expect_eq(r.readable_per_class[0][0], 6);
    cr_expect_eq(r.readable_per_class[0][1], 3);
    cr_expect_eq(r.min_w, 60);
    cr_expect_eq(r.max_w, 95);
    cr_expect(r.n_formats == 1 && strcmp(r.formats[0].name, "JPEG") == 0 && r.formats[0].count == 11);
    cr_expect_eq(badfiles_count(&r.bad), 3);
    int saw_dogs_missing = 0, saw_imbalance = 0;
    for (size_t i = 0; i < r.n_warnings; i++) {
        saw_dogs_missing |= strstr(r.warnings[i], "'dogs' has no images in valid/") != NULL;
        saw_imbalance |= strstr(r.warnings[i], "imbalance") != NULL;
    }
    cr_expect(saw_dogs_missing && saw_imbalance);
    cr_expect(doctor_can_train(&r), "broken files are skipped: training can run");
    doctor_report_free(&r, d.n_classes);
    dataset_free(&d);
}

Test(doctor, cli_exit_status) {
    make_dataset();
    tu_run_result res;
    tu_run_frost(&res, (const char *[]){"doctor", root, NULL});
    cr_expect_eq(res.status, 0, "%s", res.err);
    cr_expect(strstr(res.out, "truncated.jpg") && strstr(res.out, "empty.jpg") && strstr(res.out, "notes.jpg"),
              "every bad file is named:\n%s", res.out);
    cr_expect(strstr(res.out, "Ready to train.") != NULL);
    tu_run_free(&res);

    // now every dog is broken: training cannot run
    for (int i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "train/dogs/d%d.jpg", i);
        write_raw(name, "x", 1);
    }
    tu_run_frost(&res, (const char *[]){"doctor", root, NULL});
    cr_expect_eq(res.status, 1);
    cr_expect(strstr(res.out, "train/dogs: none of its 3 images is readable") != NULL, "%s", res.out);
    tu_run_free(&res);

    tu_run_frost(&res, (const char *[]){"doctor", "/nonexistent/data", NULL});
    cr_expect_eq(res.status, 1);
    cr_expect_eq(tu_count_lines(res.err), 1);
    tu_run_free(&res);

    tu_run_frost(&res, (const char *[]){"bench-data", root, "--size", "32", NULL});
    cr_expect_eq(res.status, 0, "%s", res.err);
    cr_expect(strstr(res.out, "images=8 ") != NULL, "8 readable train+valid images: %s", res.out);
    cr_expect(strstr(res.out, "skipped=6") != NULL, "%s", res.out);
    tu_run_free(&res);
}

Test(doctor, a_split_with_nothing_readable_stops_the_loader) {
    mkdirs("train/a");
    mkdirs("train/b");
    write_raw("train/a/1.jpg", "nope", 4);
    write_raw("train/b/1.png", "nope", 4);
    dataset d = scan();
    pipeline_opts po;
    pipeline_opts_default(&po);
    loader_opts lo;
    loader_opts_default(&lo);
    lo.sample_floats = pipeline_sample_floats(&po);
    loader_source src = pipeline_source(&po);
    badfile_list bad;
    badfiles_init(&bad);
    char err[1024];
    loader *l = loader_new(&d.train, &lo, &src, &bad, err, sizeof err);
    cr_assert_eq(loader_start_epoch(l, 0, err, sizeof err), 0);
    loader_batch *b;
    cr_expect_eq(loader_next(l, &b, err, sizeof err), -1);
    cr_expect(strstr(err, "no readable image") && strstr(err, "train"), "%s", err);
    loader_free(l);
    badfiles_free(&bad);
    dataset_free(&d);
}
