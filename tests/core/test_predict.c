// test_predict.c — core/predict: a resnet18 with a 3-class head on pictures the test writes; the
// probabilities against the model's own logits, ranking, scoring (confusion matrix totals, the
// diagonal, the most confident mistakes), unreadable files, the background job and its cancel.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "predict.h"
#include "testutil.h"

static char *dir;
static ft_model *model;
static const char *const names[] = {"red", "green", "blue"};

static void setup(void) {
    dir = tu_tmpdir();
    cr_assert_null(ft_model_create("resnet18", &model));
    cr_assert_null(ft_model_set_trainable(model, "", 0));
    cr_assert_null(ft_model_replace_head(model, 3));
}

static void teardown(void) {
    ft_model_free(model);
    tu_rmtree(dir);
    free(dir);
}

TestSuite(predict, .init = setup, .fini = teardown, .timeout = 120);

// A 40x30 picture mostly of colour cls, with a little texture varying with k; its path in *out.
static void write_image(char *out, size_t len, int cls, int k) {
    snprintf(out, len, "%s/%s/%d.jpg", dir, names[cls], k);
    cr_assert_eq(tu_write_class_jpeg(out, cls, k), 0);
}

static void make_predictor(predictor *p) {
    transform_params tf;
    transform_params_seed(&tf);
    tf.size = 32;
    tf.fit = TRANSFORM_SHORT_CROP;
    char err[512];
    cr_assert_eq(predictor_init(p, model, names, 3, &tf, "test model", err, sizeof err), 0, "%s", err);
}

// ---------------------------------------------------------------------------------------------

// Polls the job until it is done (as the interface does), takes its results and frees it.
static int job_result(predict_job *j, predict_results *res) {
    for (int i = 0; i < 6000 && !predict_job_done(j); i++) usleep(10000);
    cr_assert(predict_job_done(j), "the job ends");
    int rc = predict_job_result(j, res);
    predict_job_free(j);
    return rc;
}

Test(predict, softmax_and_rank) {
    const float logits[4] = {1.0f, 3.0f, 1.0f, -2.0f};
    double probs[4];
    int order[4];
    predict_softmax(logits, 4, probs);
    double sum = probs[0] + probs[1] + probs[2] + probs[3];
    cr_expect(fabs(sum - 1) < 1e-12, "sum %.15f", sum);
    cr_expect(fabs(probs[1] / probs[0] - exp(2.0)) < 1e-9);
    predict_rank(probs, 4, order);
    cr_expect_eq(order[0], 1);
    cr_expect_eq(order[1], 0, "a tie keeps the lower index first");
    cr_expect_eq(order[2], 2);
    cr_expect_eq(order[3], 3);
    // huge logits do not overflow
    const float big[2] = {1000.0f, 999.0f};
    predict_softmax(big, 2, probs);
    cr_expect(isfinite(probs[0]) && fabs(probs[0] + probs[1] - 1) < 1e-12);
}

Test(predict, init_refuses_a_mismatch) {
    predictor p;
    transform_params tf;
    transform_params_seed(&tf);
    char err[512] = "";
    cr_expect_eq(predictor_init(&p, model, names, 2, &tf, "m", err, sizeof err), -1);
    cr_expect(strstr(err, "3 outputs") && strstr(err, "2 class names"), "%s", err);
    tf.size = 0;
    cr_expect_eq(predictor_init(&p, model, names, 3, &tf, "m", err, sizeof err), -1);
    cr_expect(err[0] != '\0');
    predictor_free(&p);
}

typedef struct {
    size_t calls;
    int seen[16];
    double probs[16][3];
    int order[16][3];
} collected;

static void collect(void *user, const predict_image *r) {
    collected *c = user;
    c->calls++;
    cr_assert_lt(r->item, 16);
    c->seen[r->item]++;
    memcpy(c->probs[r->item], r->probs, sizeof c->probs[0]);
    memcpy(c->order[r->item], r->order, sizeof c->order[0]);
}

Test(predict, run_matches_the_models_logits) {
    predictor p;
    make_predictor(&p);
    p.batch = 2;   // 5 images: batches of 2, 2, 1
    char paths[5][1024];
    dataset_item items[5];
    for (int i = 0; i < 5; i++) {
        write_image(paths[i], sizeof paths[i], i % 3, i);
        items[i] = (dataset_item){paths[i], i % 3};
    }
    dataset_split split = {.name = "t", .items = items, .n_items = 5};
    badfile_list bad;
    badfiles_init(&bad);
    collected c;
    memset(&c, 0, sizeof c);
    atomic_size_t done;
    atomic_init(&done, 0);
    char err[512];
    cr_assert_eq(predictor_run(&p, &split, &bad, collect, &c, NULL, &done, err, sizeof err), 0, "%s", err);
    cr_expect_eq(c.calls, 5);
    cr_expect_eq(atomic_load(&done), 5);
    cr_expect_eq(badfiles_count(&bad), 0);

    // each against the model run here on the same preprocessing, one image at a time
    loader_source src = pipeline_source(&p.popts);
    void *w = src.worker_new(src.user);
    for (int i = 0; i < 5; i++) {
        cr_expect_eq(c.seen[i], 1);
        double sum = 0;
        for (int k = 0; k < 3; k++) sum += c.probs[i][k];
        cr_expect(fabs(sum - 1) < 1e-9, "image %d: probabilities sum to %.12f", i, sum);
        for (int k = 1; k < 3; k++)
            cr_expect_geq(c.probs[i][c.order[i][k - 1]], c.probs[i][c.order[i][k]], "image %d not ranked", i);
        float x[3 * 32 * 32], logits[3];
        cr_assert_eq(src.load(w, paths[i], x, err, sizeof err), 0, "%s", err);
        cr_assert_null(ft_model_forward(model, x, 1, 3, 32, 32, logits, 3));
        double want[3];
        predict_softmax(logits, 3, want);
        for (int k = 0; k < 3; k++)
            cr_expect(fabs(c.probs[i][k] - want[k]) < 1e-5, "image %d class %d: %g vs %g", i, k, c.probs[i][k],
                      want[k]);
    }
    src.worker_free(w);
    badfiles_free(&bad);
    predictor_free(&p);
}

Test(predict, job_scores_a_labelled_list) {
    predictor p;
    make_predictor(&p);
    p.batch = 4;
    enum { N = 10 };
    char paths[N][1024];
    const char *list[N];
    int labels[N];
    for (int i = 0; i < N - 1; i++) {
        write_image(paths[i], sizeof paths[i], i % 3, i);
        list[i] = paths[i];
        labels[i] = i % 3;
    }
    snprintf(paths[N - 1], sizeof paths[N - 1], "%s/green/broken.jpg", dir);
    cr_assert_eq(tu_write_file(paths[N - 1], "\xff\xd8\xff\xe0 not really", 15), 0);
    list[N - 1] = paths[N - 1];
    labels[N - 1] = 1;

    char err[512];
    predict_job *j = predict_job_start(&p, list, labels, N, 3, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    size_t done, in_all;
    predict_job_poll(j, &done, &in_all);
    cr_expect_eq(in_all, N);
    predict_results res;
    for (int i = 0; i < 6000 && !predict_job_done(j); i++) usleep(10000);
    predict_job_poll(j, &done, &in_all);
    cr_expect_eq(done, N, "every image handled, read or skipped");
    cr_assert_eq(job_result(j, &res), 0, "%s", res.error);
    cr_assert_eq(res.n, N);
    cr_assert(res.scored);

    size_t ok = 0;
    for (size_t i = 0; i < N; i++) {
        if (!res.images[i].ok) continue;
        ok++;
        double sum = 0;
        for (int k = 0; k < 3; k++) sum += res.images[i].probs[k];
        cr_expect(fabs(sum - 1) < 1e-9);
        cr_expect_geq(res.images[i].probs[res.images[i].order[0]], res.images[i].probs[res.images[i].order[2]]);
    }
    cr_expect_eq(ok, N - 1, "every readable image predicted");
    cr_expect(!res.images[N - 1].ok && res.images[N - 1].error && res.images[N - 1].error[0],
              "the broken file says why");

    // the matrix: its total is the images predicted, its diagonal the correct ones
    const predict_score *s = &res.score;
    long long total = 0, diagonal = 0, correct = 0;
    for (int t = 0; t < 3; t++)
        for (int q = 0; q < 3; q++) total += s->confusion[t * 3 + q];
    for (int t = 0; t < 3; t++) diagonal += s->confusion[t * 3 + t];
    for (size_t i = 0; i < N; i++)
        if (res.images[i].ok && res.images[i].order[0] == labels[i]) correct++;
    cr_expect_eq(total, (long long)(N - 1));
    cr_expect_eq(s->images, (size_t)(N - 1));
    cr_expect_eq(diagonal, (long long)s->correct);
    cr_expect_eq(correct, (long long)s->correct, "accuracy count agrees with the per-image results");
    cr_expect_eq(predict_score_row(s, 0), 3);   // red: images 0, 3, 6
    cr_expect_eq(predict_score_row(s, 1), 3);   // green: 1, 4, 7 (the broken one not counted)
    long long cols = predict_score_col(s, 0) + predict_score_col(s, 1) + predict_score_col(s, 2);
    cr_expect_eq(cols, (long long)(N - 1));

    // the mistakes: as many as there are (at most 3), most confident first, each really wrong
    size_t wrong = (size_t)(N - 1) - s->correct;
    cr_expect_eq(s->n_wrong, wrong < 3 ? wrong : 3);
    for (size_t k = 0; k < s->n_wrong; k++) {
        const predict_wrong *w = &s->wrong[k];
        cr_expect_neq(w->truth, w->pred);
        cr_expect_eq(w->truth, labels[w->item]);
        cr_expect_eq(w->pred, res.images[w->item].order[0]);
        cr_expect(fabs(w->prob - res.images[w->item].probs[w->pred]) < 1e-12);
        if (k) cr_expect_geq(s->wrong[k - 1].prob, w->prob);
    }
    // no unlisted mistake is more confident than the last listed one
    if (s->n_wrong == 3)
        for (size_t i = 0; i < N; i++) {
            if (!res.images[i].ok || res.images[i].order[0] == labels[i]) continue;
            int listed = 0;
            for (size_t k = 0; k < 3; k++) listed |= s->wrong[k].item == i;
            if (!listed) cr_expect_leq(res.images[i].probs[res.images[i].order[0]], s->wrong[2].prob);
        }
    predict_results_free(&res);
    predictor_free(&p);
}

Test(predict, job_without_labels_and_nothing_readable) {
    predictor p;
    make_predictor(&p);
    char path[1024];
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    cr_assert_eq(tu_write_file(path, "hello", 5), 0);
    const char *list[1] = {path};
    char err[512];
    predict_job *j = predict_job_start(&p, list, NULL, 1, 0, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    predict_results res;
    cr_expect_eq(job_result(j, &res), 0, "%s", res.error);
    cr_expect(!res.scored);
    cr_expect(!res.images[0].ok);
    cr_expect_not_null(res.images[0].error);
    predict_results_free(&res);
    predictor_free(&p);
}

Test(predict, cancel_stops_the_job) {
    predictor p;
    make_predictor(&p);
    p.batch = 1;
    enum { N = 300 };
    char one[1024];
    write_image(one, sizeof one, 0, 0);
    const char *list[N];
    for (int i = 0; i < N; i++) list[i] = one;
    char err[512];
    predict_job *j = predict_job_start(&p, list, NULL, N, 0, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    predict_job_cancel(j);
    predict_results res;
    cr_expect_eq(job_result(j, &res), 1, "cancelled: %s", res.error);
    cr_expect_eq(res.status, 1);
    size_t ok = 0;
    for (size_t i = 0; i < N; i++) ok += res.images[i].ok != 0;
    cr_expect_lt(ok, N, "the job stopped before the end");
    predict_results_free(&res);
    predictor_free(&p);
}

// fastai's most_confused: off-diagonal cells at or above the minimum, most first, ties by true class
// then predicted class, at most max of them. Scored through predict_score_add from a known list of
// (truth, prediction) pairs, and checked against the same count made here cell by cell.
Test(predict, most_confused_orders_the_off_diagonal_cells) {
    predict_score s;
    cr_assert_eq(predict_score_init(&s, 4, 0), 0);
    // truth -> predicted, how many: 2->1 x5, 0->3 x3, 1->0 x3, 3->2 x1, and the diagonal
    const int cells[][3] = {{2, 1, 5}, {0, 3, 3}, {1, 0, 3}, {3, 2, 1}, {0, 0, 7}, {1, 1, 4}, {2, 2, 9}, {3, 3, 2}};
    double probs[4];
    int order[4];
    for (size_t k = 0; k < sizeof cells / sizeof *cells; k++)
        for (int i = 0; i < cells[k][2]; i++) {
            for (int c = 0; c < 4; c++) probs[c] = c == cells[k][1] ? 0.7 : 0.1;
            predict_rank(probs, 4, order);
            predict_image r = {0, cells[k][0], probs, order, NULL};
            predict_score_add(&s, &r);
        }
    predict_confused out[8];
    size_t n = predict_most_confused(&s, 1, out, 8);
    cr_assert_eq(n, 4);
    const int want[][3] = {{2, 1, 5}, {0, 3, 3}, {1, 0, 3}, {3, 2, 1}};
    for (size_t k = 0; k < n; k++) {
        cr_expect_eq(out[k].truth, want[k][0], "pair %zu", k);
        cr_expect_eq(out[k].pred, want[k][1], "pair %zu", k);
        cr_expect_eq(out[k].count, want[k][2], "pair %zu", k);
        cr_expect_eq(out[k].count, s.confusion[out[k].truth * 4 + out[k].pred]);
    }
    cr_expect_eq(predict_most_confused(&s, 3, out, 8), 3, "min_count 3 leaves three pairs");
    cr_expect_eq(predict_most_confused(&s, 1, out, 2), 2, "max 2");
    cr_expect(out[0].count == 5 && out[1].truth == 0 && out[1].pred == 3, "the two largest, in order");
    cr_expect_eq(predict_most_confused(&s, 6, out, 8), 0);
    predict_score_free(&s);
}
