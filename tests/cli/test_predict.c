// test_predict.c — `frost predict` as a user runs it, on a checkpoint and images the test makes: one-line
// refusals, per-image top-k, --json checked against the model's own logits, and a labelled folder
// scored (accuracy, per class, confusion matrix, most confident mistakes).
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fixtures.h"
#include "frost_torch.h"
#include "model_print.h"
#include "pipeline.h"
#include "safetensors.h"
#include "testutil.h"
#include "weights.h"

static char *dir;

static void setup(void) { dir = tu_tmpdir(); }

static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}

TestSuite(cli_predict, .init = setup, .fini = teardown);

static void fill_random(float *x, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

static const char *class_rgb[] = {"red", "green", "blue"};

static void write_image(const char *path, int cls, int k) { cr_assert_eq(tu_write_class_jpeg(path, cls, k), 0); }

static const char *make_predict_checkpoint(void) {
    ft_model *m = fx_model("resnet18", 3);
    float x[3 * 3 * 32 * 32], out[9];
    fill_random(x, sizeof x / sizeof *x, 3);
    ft_model_set_training(m, 1);
    cr_assert_null(ft_model_forward(m, x, 3, 3, 32, 32, out, 9));
    checkpoint_meta meta;
    fx_meta_for(&meta, (char **)class_rgb, 3);
    meta.tf.size = 32;
    meta.tf.fit = TRANSFORM_SHORT_CROP;
    const char *path = fx_at(dir, "p.safetensors");
    fx_save_checkpoint(path, m, NULL, &meta);
    ft_model_free(m);
    return path;
}

// The labelled folder: 3 images per class, an unknown class folder, and a broken JPEG.
static void make_labelled(const char *root) {
    char p[1024];
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 3; k++) {
            snprintf(p, sizeof p, "%s/%s/%d.jpg", root, class_rgb[c], k);
            write_image(p, c, k);
        }
    snprintf(p, sizeof p, "%s/purple/0.jpg", root);
    write_image(p, 0, 9);
    snprintf(p, sizeof p, "%s/red/broken.jpg", root);
    cr_assert_eq(tu_write_file(p, "\xff\xd8\xff\xe0 not really", 15), 0);
}

// Sums the cells of the confusion matrix printed in out; *rows gets its row count.
static long matrix_sum(const char *out, int *rows, long *diagonal) {
    const char *m = strstr(out, "confusion matrix");
    cr_assert_not_null(m, "no confusion matrix in:\n%s", out);
    m = strchr(m, '\n') + 1;   // header line
    const char *header_end = strchr(m, '\n');
    for (int c = 0; c < 3; c++) {
        const char *at = strstr(m, class_rgb[c]);
        cr_expect(at && at < header_end, "header lacks %s", class_rgb[c]);
    }
    m = header_end + 1;
    long sum = 0;
    *rows = 0;
    *diagonal = 0;
    while (*m && *m != '\n') {
        char name[64];
        int used = 0;
        cr_assert_eq(sscanf(m, " %63s%n", name, &used), 1);
        const char *p = m + used;
        const char *eol = strchr(m, '\n');
        for (int col = 0; p < eol; col++) {
            long v;
            int n2 = 0;
            if (sscanf(p, " %ld%n", &v, &n2) != 1) break;
            sum += v;
            if (col == *rows) *diagonal += v;
            p += n2;
        }
        (*rows)++;
        m = eol + 1;
    }
    return sum;
}

Test(cli_predict, predict_errors, .timeout = 60) {
    cr_assert_eq(tu_write_file(fx_at(dir, "img.txt"), "x", 1), 0);
    cr_assert_eq(tu_write_file(fx_at(dir, "notes.txt"), "just some text, not a checkpoint at all\n", 41), 0);
    tu_expect_one_line_error((const char *[]){"predict", fx_at(dir, "none.safetensors"), fx_at(dir, "img.txt"), NULL},
                             1, "none.safetensors");
    tu_expect_one_line_error((const char *[]){"predict", fx_at(dir, "notes.txt"), fx_at(dir, "img.txt"), NULL}, 1,
                             "not a safetensors file");
    tu_expect_one_line_error(
        (const char *[]){"predict", fx_at(dir, "notes.txt"), fx_at(dir, "img.txt"), "--top", "0", NULL}, 2, "--top");
    tu_expect_one_line_error((const char *[]){"predict", fx_at(dir, "notes.txt"), NULL}, 2, "which images");
    tu_expect_one_line_error((const char *[]){"predict", fx_at(dir, "notes.txt"), "x.jpg", "--bogus", NULL}, 2,
                             "--bogus");
}

Test(cli_predict, predict_labelled_folder, .timeout = 60) {
    const char *ckpt = make_predict_checkpoint();
    char root[1024];
    snprintf(root, sizeof root, "%s/labelled", dir);
    make_labelled(root);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"predict", ckpt, root, NULL});
    cr_assert_eq(r.status, 3, "broken.jpg could not be predicted; stderr: %s", r.err);
    long correct = -1, images = -1;
    const char *acc = strstr(r.out, "accuracy ");
    cr_assert_not_null(acc, "%s", r.out);
    cr_assert_eq(sscanf(strchr(acc, '(') + 1, "%ld of %ld images", &correct, &images), 2, "%s", acc);
    cr_expect_eq(images, 9);
    int rows;
    long diagonal;
    cr_expect_eq(matrix_sum(r.out, &rows, &diagonal), 9, "%s", r.out);
    cr_expect_eq(diagonal, correct);
    cr_expect_leq(rows, 3);
    cr_expect(strstr(r.out, "per class:") != NULL);
    cr_expect((correct == 9) == (strstr(r.out, "most confidently wrong") == NULL), "%s", r.out);
    cr_expect(strstr(r.err, "skipped") && strstr(r.err, "broken.jpg"), "stderr: %s", r.err);
    cr_expect(strstr(r.err, "purple") && strstr(r.err, "not a class"), "stderr: %s", r.err);
    tu_run_free(&r);

    // a dataset root: its valid/ split is scored
    char p[1024];
    for (int c = 0; c < 3; c++) {
        snprintf(p, sizeof p, "%s/data/train/%s/0.jpg", dir, class_rgb[c]);
        write_image(p, c, 0);
        snprintf(p, sizeof p, "%s/data/valid/%s/0.jpg", dir, class_rgb[c]);
        write_image(p, c, 1);
    }
    snprintf(p, sizeof p, "%s/data", dir);
    tu_run_frost(&r, (const char *[]){"predict", ckpt, p, NULL});
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect(strstr(r.out, "data/valid: accuracy") != NULL, "%s", r.out);
    cr_expect_eq(matrix_sum(r.out, &rows, &diagonal), 3, "%s", r.out);
    tu_run_free(&r);
}

Test(cli_predict, predict_json_matches_the_model, .timeout = 60) {
    const char *ckpt = make_predict_checkpoint();
    char root[1024];
    snprintf(root, sizeof root, "%s/labelled", dir);
    make_labelled(root);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"predict", ckpt, root, "--json", "--batch", "4", NULL});
    cr_assert_eq(r.status, 3, "broken.jpg could not be predicted; stderr: %s", r.err);
    int per_image = 0, summaries = 0, failed = 0;
    char *save = NULL, *text = strdup(r.out);
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        cr_assert_not_null(o, "not JSON (%s): %s", je.text, line);
        if (json_object_get(o, "summary")) {
            json_t *s = json_object_get(o, "summary");
            cr_expect_eq(json_integer_value(json_object_get(s, "images")), 9);
            json_t *cm = json_object_get(s, "confusion");
            long sum = 0;
            for (size_t i = 0; i < json_array_size(cm); i++)
                for (size_t j = 0; j < json_array_size(json_array_get(cm, i)); j++)
                    sum += (long)json_integer_value(json_array_get(json_array_get(cm, i), j));
            cr_expect_eq(sum, 9);
            summaries++;
        } else if (json_object_get(o, "error")) {
            cr_expect(strstr(json_string_value(json_object_get(o, "path")), "red/broken.jpg") != NULL, "%s", line);
            failed++;
        } else {
            json_t *top = json_object_get(o, "top");
            cr_assert_eq(json_array_size(top), 3, "%s", line);
            double sum = 0, prev = 2;
            for (size_t k = 0; k < 3; k++) {
                json_t *e = json_array_get(top, k);
                double pr = json_real_value(json_object_get(e, "prob"));
                cr_expect_leq(pr, prev, "not sorted: %s", line);
                prev = pr;
                sum += pr;
                int idx = (int)json_integer_value(json_object_get(e, "index"));
                cr_expect_str_eq(json_string_value(json_object_get(e, "class")), class_rgb[idx]);
            }
            cr_expect(fabs(sum - 1.0) < 1e-5, "probabilities sum to %.9f", sum);
            cr_expect_not_null(json_string_value(json_object_get(o, "label")));
            per_image++;
        }
        json_decref(o);
    }
    free(text);
    cr_expect_eq(per_image, 9);
    cr_expect_eq(summaries, 1);
    cr_expect_eq(failed, 1, "broken.jpg's line");
    tu_run_free(&r);

    // one image: the probabilities are the softmax of the model's logits on the checkpoint's
    // preprocessing (crop, 32x32), computed here through the same pipeline
    char img[1100];
    snprintf(img, sizeof img, "%s/green/1.jpg", root);
    tu_run_frost(&r, (const char *[]){"predict", ckpt, img, "--json", NULL});
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_assert_eq(tu_count_lines(r.out), 1, "%s", r.out);
    json_t *o = json_loads(r.out, 0, NULL);
    cr_assert_not_null(o);
    cr_expect_str_eq(json_string_value(json_object_get(o, "path")), img);
    checkpoint_meta meta;
    ft_model *m = fx_load_checkpoint(ckpt, &meta);
    pipeline_opts po;
    pipeline_opts_default(&po);
    po.tf = meta.tf;
    loader_source src = pipeline_source(&po);
    void *w = src.worker_new(src.user);
    float x[3 * 32 * 32], logits[3];
    char err[512];
    cr_assert_eq(src.load(w, img, x, err, sizeof err), 0, "%s", err);
    src.worker_free(w);
    cr_assert_null(ft_model_forward(m, x, 1, 3, 32, 32, logits, 3));
    double mx = fmax(logits[0], fmax(logits[1], logits[2])), z = 0;
    for (int c = 0; c < 3; c++) z += exp(logits[c] - mx);
    json_t *top = json_object_get(o, "top");
    for (size_t k = 0; k < 3; k++) {
        json_t *e = json_array_get(top, k);
        int idx = (int)json_integer_value(json_object_get(e, "index"));
        double want = exp(logits[idx] - mx) / z;
        cr_expect(fabs(json_real_value(json_object_get(e, "prob")) - want) < 1e-6, "class %d: %g vs %g", idx,
                  json_real_value(json_object_get(e, "prob")), want);
    }
    json_decref(o);
    checkpoint_meta_free(&meta);
    ft_model_free(m);
    tu_run_free(&r);
}

Test(cli_predict, predict_plain_images, .timeout = 60) {
    const char *ckpt = make_predict_checkpoint();
    char p[1024];
    const char *files[] = {"pics/b.jpg", "pics/a.jpg", "pics/sub/c.jpg", "pics/sub/deeper/d.jpg"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        write_image(p, i % 3, i);
    }
    snprintf(p, sizeof p, "%s/pics/readme.txt", dir);
    cr_assert_eq(tu_write_file(p, "not an image", 12), 0);
    snprintf(p, sizeof p, "%s/pics", dir);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"predict", ckpt, p, NULL});
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_eq(tu_count_lines(r.out), 4, "%s", r.out);
    cr_expect_str_empty(r.err);
    // sorted paths, each "path: class P%, class P%, class P%"
    const char *order[] = {"pics/a.jpg:", "pics/b.jpg:", "pics/sub/c.jpg:", "pics/sub/deeper/d.jpg:"};
    const char *at = r.out;
    for (int i = 0; i < 4; i++) {
        const char *hit = strstr(at, order[i]);
        cr_assert_not_null(hit, "%s not in order in:\n%s", order[i], r.out);
        const char *eol = strchr(hit, '\n');
        int pct = 0;
        for (const char *q = hit; q < eol; q++) pct += *q == '%';
        cr_expect_eq(pct, 3, "top 3 (all classes): %.*s", (int)(eol - hit), hit);
        at = eol;
    }
    cr_expect(strstr(r.out, "accuracy") == NULL);
    tu_run_free(&r);

    // two files, one broken, --top 1: the good one's line, the broken one skipped on stderr, exit 3
    char good[1024], bad[1024];
    snprintf(good, sizeof good, "%s/pics/a.jpg", dir);
    snprintf(bad, sizeof bad, "%s/pics/readme.txt", dir);
    tu_run_frost(&r, (const char *[]){"predict", ckpt, bad, good, "--top", "1", NULL});
    cr_assert_eq(r.status, 3, "stderr: %s", r.err);
    cr_expect_eq(tu_count_lines(r.out), 1, "%s", r.out);
    cr_expect(strstr(r.out, "a.jpg: ") == r.out + strlen(good) - 5, "%s", r.out);
    cr_expect_eq(strchr(r.out, '%') - strrchr(r.out, '%'), 0, "one class: %s", r.out);
    cr_expect_eq(tu_count_lines(r.err), 2, "%s", r.err);
    cr_expect(strstr(r.err, "frost: skipped ") && strstr(r.err, "readme.txt"), "%s", r.err);
    cr_expect(strstr(r.err, "1 of 2 images could not be predicted") != NULL, "%s", r.err);
    tu_run_free(&r);

    // nothing readable: exit 1
    tu_run_frost(&r, (const char *[]){"predict", ckpt, bad, NULL});
    cr_expect_eq(r.status, 1);
    cr_expect_str_empty(r.out);
    cr_expect(strstr(r.err, "no image could be predicted") != NULL, "%s", r.err);
    tu_run_free(&r);
}

// --json with good and bad inputs: every input has its line, in the order given for the good ones, a
// bad one (not an image, missing, a folder without images) with its path and an error; exit 3 says
// that some failed. All bad: exit 1, still a line each.
Test(cli_predict, json_line_for_every_input, .timeout = 60) {
    const char *ckpt = make_predict_checkpoint();
    char good[1024], good2[1024], bad[1024], missing[1024], empty[1024];
    snprintf(good, sizeof good, "%s/good.jpg", dir);
    write_image(good, 0, 1);
    snprintf(good2, sizeof good2, "%s/good2.jpg", dir);
    write_image(good2, 2, 2);
    snprintf(bad, sizeof bad, "%s/bad.jpg", dir);
    cr_assert_eq(tu_write_file(bad, "\xff\xd8\xff\xe0 not really", 15), 0);
    snprintf(missing, sizeof missing, "%s/missing.jpg", dir);
    snprintf(empty, sizeof empty, "%s/empty", dir);
    cr_assert_eq(mkdir(empty, 0755), 0);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"predict", ckpt, good, bad, missing, empty, good2, "--json", NULL});
    cr_expect_eq(r.status, 3, "some inputs failed: exit 3, not %d; stderr: %s", r.status, r.err);
    const char *want_bad[] = {bad, missing, empty};
    int seen_bad[3] = {0}, n_good = 0, lines = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        json_t *o = json_loads(line, 0, NULL);
        cr_assert_not_null(o, "not JSON: %s", line);
        const char *path = json_string_value(json_object_get(o, "path"));
        cr_assert_not_null(path, "a line without its path: %s", line);
        if (json_object_get(o, "error")) {
            cr_expect(json_string_length(json_object_get(o, "error")) > 0, "%s", line);
            cr_expect(!json_object_get(o, "top"), "%s", line);
            for (int k = 0; k < 3; k++) seen_bad[k] += strcmp(path, want_bad[k]) == 0;
        } else {
            cr_expect_str_eq(path, n_good == 0 ? good : good2, "the good ones in order: %s", line);
            cr_expect_eq(json_array_size(json_object_get(o, "top")), 3, "%s", line);
            n_good++;
        }
        json_decref(o);
    }
    cr_expect_eq(lines, 5, "one line per input:\n%s", r.out);
    cr_expect_eq(n_good, 2);
    for (int k = 0; k < 3; k++) cr_expect_eq(seen_bad[k], 1, "%s has one line with its error", want_bad[k]);
    cr_expect(strstr(r.err, "3 of 5 images could not be predicted") != NULL, "%s", r.err);
    tu_run_free(&r);

    // none good: exit 1, and still a line for each
    tu_run_frost(&r, (const char *[]){"predict", ckpt, bad, missing, "--json", NULL});
    cr_expect_eq(r.status, 1, "stderr: %s", r.err);
    cr_expect_eq(tu_count_lines(r.out), 2, "%s", r.out);
    cr_expect(strstr(r.out, "\"error\"") && strstr(r.out, "missing.jpg"), "%s", r.out);
    tu_run_free(&r);
}

// A labelled folder's summary in --json: each class's accuracy and the most confused pairs equal what
// the same output's per-image lines (label, top class) count, one image at a time.
Test(cli_predict, per_class_accuracy_and_most_confused_follow_the_images, .timeout = 60) {
    const char *ckpt = make_predict_checkpoint();
    char root[1024];
    snprintf(root, sizeof root, "%s/labelled", dir);
    make_labelled(root);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"predict", ckpt, root, "--json", NULL});
    cr_assert_eq(r.status, 3, "broken.jpg could not be predicted; stderr: %s", r.err);
    long cells[3][3] = {{0}};
    json_t *summary = NULL;
    for (char *line = r.out; line && *line;) {
        char *eol = strchr(line, '\n');
        if (eol) *eol = 0;
        json_t *e = json_loads(line, 0, NULL);
        cr_assert_not_null(e, "%s", line);
        if (json_object_get(e, "summary")) {
            summary = json_incref(json_object_get(e, "summary"));
        } else if (!json_object_get(e, "error")) {   // (broken.jpg's line)
            int truth = (int)json_integer_value(json_object_get(e, "label_index"));
            int pred = (int)json_integer_value(json_object_get(json_array_get(json_object_get(e, "top"), 0), "index"));
            cells[truth][pred]++;
        }
        json_decref(e);
        line = eol ? eol + 1 : NULL;
    }
    cr_assert_not_null(summary, "%s", r.out);
    json_t *acc = json_object_get(summary, "per_class_accuracy");
    cr_assert_eq(json_array_size(acc), 3);
    for (int c = 0; c < 3; c++) {
        long row = cells[c][0] + cells[c][1] + cells[c][2];
        cr_expect_float_eq(json_number_value(json_array_get(acc, (size_t)c)), (double)cells[c][c] / (double)row, 1e-9,
                           "class %d", c);
    }
    json_t *pairs = json_object_get(summary, "most_confused");
    long listed = 0, last = 1L << 30;
    for (size_t k = 0; k < json_array_size(pairs); k++) {
        json_t *p = json_array_get(pairs, k);
        int t = -1, q = -1;
        for (int c = 0; c < 3; c++) {
            if (strcmp(json_string_value(json_object_get(p, "true")), class_rgb[c]) == 0) t = c;
            if (strcmp(json_string_value(json_object_get(p, "predicted")), class_rgb[c]) == 0) q = c;
        }
        cr_assert(t >= 0 && q >= 0 && t != q, "pair %zu names two classes", k);
        long count = (long)json_integer_value(json_object_get(p, "count"));
        cr_expect_eq(count, cells[t][q], "%s -> %s", class_rgb[t], class_rgb[q]);
        cr_expect_leq(count, last, "most first");
        last = count;
        listed += count;
    }
    long wrong = 0;
    for (int t = 0; t < 3; t++)
        for (int q = 0; q < 3; q++) wrong += t != q ? cells[t][q] : 0;
    cr_expect_eq(listed, wrong, "every mistake is in one listed pair");
    json_decref(summary);
    tu_run_free(&r);
}
