// test_doctor.c — real images through the pipeline, the loader and doctor's check (core/data/doctor.c), on
// datasets the test writes (JPEGs made with TurboJPEG, plus broken files): batches equal the
// single-image transform, bad files are skipped and named, and the report says what is wrong.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "doctor.h"
#include "fixtures.h"
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

static dataset scan(void) {
    dataset d;
    char err[1024];
    cr_assert_eq(dataset_scan(&d, root, NULL, err, sizeof err), 0, "%s", err);
    return d;
}

// ---------------------------------------------------------------------------------------------

Test(doctor, batches_hold_the_transformed_images) {
    fx_doctor_dataset(root);
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
    fx_doctor_dataset(root);
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
    cr_expect(r.imbalance > 0 && strstr(r.warnings[r.imbalance - 1], "class imbalance"), "the imbalance is marked");
    cr_expect(doctor_can_train(&r), "broken files are skipped: training can run");
    doctor_report_free(&r, d.n_classes);
    dataset_free(&d);
}

Test(doctor, a_split_with_nothing_readable_stops_the_loader) {
    const char *files[] = {"train/a/1.jpg", "train/b/1.png"};
    for (int i = 0; i < 2; i++) {
        tu_mkdirs_for(fx_at(root, files[i]));
        cr_assert_eq(tu_write_file(fx_at(root, files[i]), "nope", 4), 0);
    }
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
