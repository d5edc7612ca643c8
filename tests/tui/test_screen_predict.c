// test_tui_predict.c — the interface's Predict screen (4), end to end: a checkpoint made by
// `frost train` on sample_data/, opened with --checkpoint or with 'o'; the top-k of the selected
// image, the evaluation of the valid split (accuracy, confusion matrix, most wrong), a bad path.
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "testutil.h"
#include "tmux_util.h"

static char *dir;
static char ckpt[1024];

static void setup(void) {
    dir = tu_tmpdir();
    snprintf(ckpt, sizeof ckpt, "%s/shapes.safetensors", dir);
}

static void teardown(void) {
    tmux_stop();
    tu_rmtree(dir);
    free(dir);
}

TestSuite(tui_predict, .init = setup, .fini = teardown, .timeout = 240);

static void make_checkpoint(void) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", "sample_data", "--arch", "resnet18", "--epochs", "1", "--size", "64",
                                      "--save", ckpt, NULL});
    cr_assert_eq(r.status, 0, "frost train: %s", r.err);
    tu_run_free(&r);
}

// The lines of s that hold name and a percentage.
static int lines_with_percent(const char *s, const char *name) {
    int n = 0;
    for (const char *line = s; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
        if (strstr(buf, name) && strchr(buf, '%')) n++;
        line = eol ? eol + 1 : NULL;
    }
    return n;
}

static void expect_topk(void) {
    cr_assert(tmux_wait_for("top 3", 60), "top-k of the selected image:\n%s", tmux_screen(0));
    const char *s = tmux_screen(0);
    cr_expect(strstr(s, "valid/circles/circle_000.jpg") != NULL, "the first valid image is selected:\n%s", s);
    const char *names[] = {"circles", "squares", "triangles"};
    for (int c = 0; c < 3; c++)
        cr_expect_geq(lines_with_percent(s, names[c]), 1, "%s with a percentage:\n%s", names[c], s);
}

Test(tui_predict, checkpoint_topk_and_evaluation) {
    make_checkpoint();
    char args[1200];
    snprintf(args, sizeof args, "sample_data --checkpoint %s", ckpt);
    tmux_start(args, 140, 50, NULL);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("4");
    expect_topk();

    // Down selects the next image, predicted too
    tmux_keys("Down");
    int twice = 0;
    for (int t = 0; t < 100 && !twice; t++) {
        const char *first = strstr(tmux_screen(0), "circle_001.jpg");
        twice = first && strstr(first + 1, "circle_001.jpg") && lines_with_percent(tmux_screen(0), "circles") >= 1;
        if (!twice) usleep(100000);
    }
    cr_expect(twice, "the list and the right pane show circle_001.jpg:\n%s", tmux_screen(0));

    tmux_keys("e");
    cr_assert(tmux_wait_for("confusion matrix", 120), "evaluation:\n%s", tmux_screen(0));
    const char *s = tmux_screen(0);
    const char *acc = strstr(s, "accuracy ");
    cr_assert_not_null(acc, "%s", s);
    long correct = -1, images = -1;
    cr_assert_eq(sscanf(strchr(acc, '(') + 1, "%ld of %ld images", &correct, &images), 2, "%s", acc);
    cr_expect_eq(images, 36, "the valid split of sample_data");
    cr_expect(strstr(s, "most confidently wrong") != NULL, "%s", s);

    // the matrix: a header with the three names, then three rows whose cells sum to 36, diagonal = correct
    const char *m = strchr(strstr(s, "confusion matrix"), '\n') + 1;
    const char *header_end = strchr(m, '\n');
    for (const char *const *n = (const char *const[]){"circles", "squares", "triangles", NULL}; *n; n++) {
        const char *at = strstr(m, *n);
        cr_expect(at && at < header_end, "header lacks %s:\n%s", *n, s);
    }
    m = header_end + 1;
    long sum = 0, diagonal = 0;
    for (int row = 0; row < 3; row++) {
        char name[64];
        int used = 0;
        cr_assert_eq(sscanf(m, "%63s%n", name, &used), 1, "%s", s);
        const char *p = m + used;
        for (int col = 0; col < 3; col++) {
            long v;
            int n2 = 0;
            cr_assert_eq(sscanf(p, " %ld%n", &v, &n2), 1, "row %d col %d:\n%s", row, col, s);
            sum += v;
            if (col == row) diagonal += v;
            p += n2;
        }
        m = strchr(m, '\n') + 1;
    }
    cr_expect_eq(sum, 36, "%s", s);
    cr_expect_eq(diagonal, correct, "%s", s);
    // one line per mistake (up to what fits), or "none" when every image is right
    if (correct == 36)
        cr_expect(strstr(s, "every image is right") != NULL, "%s", s);
    else
        cr_expect(strstr(s, " -> ") != NULL && strstr(s, ".jpg") != NULL, "a most-wrong line:\n%s", s);

    // Tab: back to the image list, whose results are marked now
    tmux_keys("Tab");
    cr_expect(tmux_wait_for("images: valid 36, train 120", 30), "%s", tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

Test(tui_predict, bad_checkpoint_then_open) {
    make_checkpoint();
    char args[1200];
    snprintf(args, sizeof args, "sample_data --checkpoint %s/missing.safetensors", dir);
    tmux_start(args, 140, 45, NULL);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("4");
    cr_assert(tmux_wait_for("missing.safetensors: No such file", 30), "%s", tmux_screen(0));
    const char *s = tmux_screen(0);
    cr_expect(strstr(s, "No model to predict with yet") != NULL, "%s", s);
    cr_expect(!strstr(s, "frame #") && !strstr(s, "Exception"), "%s", s);
    // the app keeps running: other screens work
    tmux_keys("1");
    cr_expect(tmux_wait_for("120 training and 36 validation", 30), "%s", tmux_screen(0));

    // 'o' asks for a path on the status line
    tmux_keys("4");
    cr_assert(tmux_wait_for("No model to predict with yet", 30), "%s", tmux_screen(0));
    tmux_keys("o");
    cr_assert(tmux_wait_for("open checkpoint:", 30), "%s", tmux_screen(0));
    tmux_text(ckpt);
    tmux_keys("Enter");
    expect_topk();
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

Test(tui_predict, no_model_hint) {
    tmux_start("sample_data", 120, 40, NULL);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("4");
    cr_assert(tmux_wait_for("No model to predict with yet", 30), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "open a checkpoint") != NULL, "%s", tmux_screen(0));
    tmux_keys("e");
    cr_expect(tmux_wait_for("no model yet", 30), "%s", tmux_screen(0));
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// A checkpoint trained on two of the three classes: refused, with the reason, and nothing breaks.
Test(tui_predict, checkpoint_of_other_classes_does_not_fit) {
    char cmd[8192], data[1100], other[1200];
    snprintf(data, sizeof data, "%s/two", dir);
    snprintf(
        cmd, sizeof cmd,
        "mkdir -p '%s/train' '%s/valid' && cp -r sample_data/train/circles sample_data/train/squares '%s/train/' && "
        "cp -r sample_data/valid/circles sample_data/valid/squares '%s/valid/'",
        data, data, data, data);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    snprintf(other, sizeof other, "%s/two.safetensors", dir);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", data, "--arch", "resnet18", "--epochs", "1", "--size", "32", "--save",
                                      other, NULL});
    cr_assert_eq(r.status, 0, "frost train: %s", r.err);
    tu_run_free(&r);

    char args[1300];
    snprintf(args, sizeof args, "sample_data --checkpoint %s", other);
    tmux_start(args, 160, 40, NULL);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("4");
    cr_assert(tmux_wait_for("does not fit this dataset", 30), "%s", tmux_screen(0));
    const char *s = tmux_screen(0);
    cr_expect(strstr(s, "its 2 classes are not the dataset's 3") != NULL, "%s", s);
    cr_expect(strstr(s, "No model to predict with yet") != NULL, "%s", s);
    cr_expect(strstr(s, "top ") == NULL, "no predictions with it:\n%s", s);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// ---------------------------------------------------------------------------------------------
// the screen's numbers against `frost predict --json` on the same checkpoint

static const char *const SIX[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"};

// Six classes of patterned JPEGs (4 train, 3 valid each), and a checkpoint trained on them.
static void six_class_checkpoint(const char *data, const char *path) {
    for (int c = 0; c < 6; c++)
        for (int k = 0; k < 7; k++) {
            char file[1400];
            snprintf(file, sizeof file, "%s/%s/%s/%03d.jpg", data, k < 4 ? "train" : "valid", SIX[c], k);
            fx_pattern_jpeg(file, 40 + 3 * c, 30 + k, c * 11 + k);
        }
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", data, "--arch", "resnet18", "--epochs", "1", "--size", "32", "--lr",
                                      "0.001", "--save", path, NULL});
    cr_assert_eq(r.status, 0, "frost train: %s", r.err);
    tu_run_free(&r);
}

// `frost predict CKPT TARGET --json`'s lines, parsed.
static json_t *predict_json(const char *ckpt_path, const char *target) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"predict", ckpt_path, target, "--json", "--top", "5", NULL});
    cr_assert_eq(r.status, 0, "frost predict: %s", r.err);
    json_t *all = json_array();
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *e = json_loads(line, 0, NULL);
        cr_assert_not_null(e, "%s", line);
        json_array_append_new(all, e);
    }
    tu_run_free(&r);
    return all;
}

// The screen's row holding text (0-based), and its column; -1 when none.
static int find_row(const char *s, const char *text, int *col) {
    int row = 0;
    for (const char *line = s; line && *line; row++) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        const char *at = strstr(line, text);
        if (at && (size_t)(at - line) < len) {
            if (col) *col = (int)(at - line);
            return row;
        }
        line = eol ? eol + 1 : NULL;
    }
    return -1;
}

// Row `row` of the screen from column col (a static copy).
static const char *row_from(const char *s, int row, int col) {
    static char buf[512];
    for (int r = 0; r < row && s; r++) s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL;
    cr_assert_not_null(s);
    size_t len = strcspn(s, "\n");
    if ((size_t)col > len) col = (int)len;
    snprintf(buf, sizeof buf, "%.*s", (int)(len - (size_t)col), s + col);
    return buf;
}

Test(tui_predict, topk_matrix_and_mistakes_equal_predict_json) {
    char data[1100], six[1200];
    snprintf(data, sizeof data, "%s/six", dir);
    snprintf(six, sizeof six, "%s/six.safetensors", dir);
    six_class_checkpoint(data, six);

    char args[2400];
    snprintf(args, sizeof args, "%s --checkpoint %s", data, six);
    tmux_start(args, 150, 50, NULL);
    cr_assert(tmux_wait_for("6 classes", 60), "%s", tmux_screen(0));
    tmux_keys("4");
    cr_assert(tmux_wait_for("top 5", 60), "top-5 of the selected image:\n%s", tmux_screen(0));
    char s[16384];
    snprintf(s, sizeof s, "%s", tmux_screen(0));

    // the selected image is the first valid one; its five rows equal predict's top 5
    char image[1300];
    snprintf(image, sizeof image, "%s/valid/alpha/004.jpg", data);
    json_t *first = predict_json(six, image);
    json_t *top = json_object_get(json_array_get(first, 0), "top");
    cr_assert_eq(json_array_size(top), 5);
    int col = 0, row = find_row(s, "top 5", &col);
    cr_assert_geq(row, 0);
    for (int k = 0; k < 5; k++) {
        const char *line = row_from(s, row + 1 + k, col);
        char name[64] = "", want[32];
        cr_assert_eq(sscanf(line, "%63s", name), 1, "%s", s);
        json_t *e = json_array_get(top, (size_t)k);
        cr_expect_str_eq(name, json_string_value(json_object_get(e, "class")), "rank %d:\n%s", k + 1, s);
        snprintf(want, sizeof want, "%.2f%%", 100.0 * json_real_value(json_object_get(e, "prob")));
        const char *pct = strrchr(line, ' ');
        cr_assert_not_null(pct, "%s", line);
        cr_expect_str_eq(pct + 1, want, "rank %d (%s): the screen says %s, predict %s", k + 1, name, pct + 1, want);
    }

    json_decref(first);

    // the evaluation: accuracy, matrix and the most confident mistakes equal predict on valid/
    tmux_keys("e");
    cr_assert(tmux_wait_for("confusion matrix", 120), "evaluation:\n%s", tmux_screen(0));
    snprintf(s, sizeof s, "%s", tmux_screen(0));
    char valid[1200];
    snprintf(valid, sizeof valid, "%s/valid", data);
    json_t *all = predict_json(six, valid);
    size_t n = json_array_size(all);
    json_t *summary = json_object_get(json_array_get(all, n - 1), "summary");
    cr_assert_not_null(summary);
    long long images = json_integer_value(json_object_get(summary, "images")),
              correct = json_integer_value(json_object_get(summary, "correct"));
    char want[256];
    snprintf(want, sizeof want, "valid split: accuracy %.2f%% (%lld of %lld images)",
             100.0 * (double)correct / (double)images, correct, images);
    cr_expect(strstr(s, want) != NULL, "'%s':\n%s", want, s);

    json_t *matrix = json_object_get(summary, "confusion");
    row = find_row(s, "confusion matrix", NULL);
    cr_assert_geq(row, 0);
    for (int t = 0; t < 6; t++) {
        const char *line = row_from(s, row + 2 + t, 0);
        char name[64];
        int used = 0;
        cr_assert_eq(sscanf(line, "%63s%n", name, &used), 1, "%s", s);
        cr_expect_str_eq(name, SIX[t], "%s", s);
        const char *p = line + used;
        for (int c = 0; c < 6; c++) {
            long long v = -1;
            int m = 0;
            cr_assert_eq(sscanf(p, " %lld%n", &v, &m), 1, "row %s, column %d:\n%s", SIX[t], c, s);
            p += m;
            long long w = json_integer_value(json_array_get(json_array_get(matrix, (size_t)t), (size_t)c));
            cr_expect_eq(v, w, "true %s, predicted %s: the screen says %lld, predict %lld", SIX[t], SIX[c], v, w);
        }
    }

    // the mistakes, most confident first: predict's wrong images sorted by their top probability
    json_t *wrong = json_array();
    for (size_t i = 0; i + 1 < n; i++) {
        json_t *e = json_array_get(all, i);
        if (!json_is_true(json_object_get(e, "correct"))) json_array_append(wrong, e);
    }
    size_t nw = json_array_size(wrong);
    cr_assert_eq((long long)nw, images - correct);
    // the check below sees nothing without mistakes, and their order only with two or more
    cr_assert_geq(nw, 2, "the fixture's model makes %zu mistakes on valid/: the list goes unchecked", nw);
    cr_log_info("the fixture's model makes %zu mistakes in %lld valid images", nw, images);
    for (size_t i = 0; i < nw; i++)   // selection sort, highest first (a few dozen at most)
        for (size_t j = i + 1; j < nw; j++) {
            double pi = json_real_value(
                json_object_get(json_array_get(json_object_get(json_array_get(wrong, i), "top"), 0), "prob"));
            double pj = json_real_value(
                json_object_get(json_array_get(json_object_get(json_array_get(wrong, j), "top"), 0), "prob"));
            if (pj > pi) {
                json_t *a = json_incref(json_array_get(wrong, i)), *b = json_incref(json_array_get(wrong, j));
                json_array_set_new(wrong, i, b);
                json_array_set_new(wrong, j, a);
            }
        }
    row = find_row(s, "most confidently wrong", NULL);
    cr_assert_geq(row, 0, "%s", s);
    size_t checked = 0;
    for (size_t k = 0; k < nw; k++) {
        const char *line = row_from(s, row + 1 + (int)k, 0);
        if (!strstr(line, " -> ")) break;   // the rows that fit
        json_t *e = json_array_get(wrong, k), *best = json_array_get(json_object_get(e, "top"), 0);
        const char *path = json_string_value(json_object_get(e, "path"));
        char expect[1024];
        snprintf(expect, sizeof expect, "%6.2f%%  %s -> %s  %s", 100.0 * json_real_value(json_object_get(best, "prob")),
                 json_string_value(json_object_get(e, "label")), json_string_value(json_object_get(best, "class")),
                 path + strlen(data) + 1);
        cr_expect(strstr(line, expect) != NULL, "mistake %zu: the screen says\n%s\npredict:\n%s", k + 1, line, expect);
        checked++;
    }
    cr_expect_geq(checked, nw < 5 ? nw : 5, "the mistakes shown:\n%s", s);
    json_decref(wrong);
    json_decref(all);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// The line of the screen that starts with prefix (after leading blanks), its rest in a static buffer.
static const char *rest_of_line(const char *screen, const char *prefix) {
    static char buf[512];
    const char *at = strstr(screen, prefix);
    if (!at) return NULL;
    at += strlen(prefix);
    const char *eol = strchr(at, '\n');
    size_t n = eol ? (size_t)(eol - at) : strlen(at);
    snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf ? n : sizeof buf - 1), at);
    return buf;
}

// g, G: the Grad-CAM overlay names the class `frost predict --json --cam` explains; m, z, u: an
// image moved to another class, set aside and brought back, byte for byte, the screen's counts
// following each move (a copy of sample_data: the moves are real).
Test(tui_predict, grad_cam_and_cleaning_from_the_screen) {
    char ds[1100], cmd[2600];
    snprintf(ds, sizeof ds, "%s/ds", dir);
    snprintf(cmd, sizeof cmd, "cp -r sample_data '%s'", ds);
    cr_assert_eq(system(cmd), 0);
    tu_run_result r;
    tu_run_frost(
        &r, (const char *[]){"train", ds, "--arch", "resnet18", "--epochs", "1", "--size", "64", "--save", ckpt, NULL});
    cr_assert_eq(r.status, 0, "frost train: %s", r.err);
    tu_run_free(&r);
    char image[1200], png[1200];
    snprintf(image, sizeof image, "%s/valid/circles/circle_000.jpg", ds);
    snprintf(png, sizeof png, "%s/cam.png", dir);
    tu_run_frost(&r, (const char *[]){"predict", ckpt, image, "--json", "--cam", png, NULL});
    cr_assert_eq(r.status, 0, "frost predict --cam: %s", r.err);
    json_t *pred = json_loads(r.out, JSON_DISABLE_EOF_CHECK, NULL);
    cr_assert_not_null(pred, "%s", r.out);
    const char *cam_class = json_string_value(json_object_get(json_object_get(pred, "cam"), "class"));
    cr_assert_not_null(cam_class, "%s", r.out);
    char want[256];
    snprintf(want, sizeof want, "%s (top) from layer4", cam_class);
    json_decref(pred);
    tu_run_free(&r);

    char args[2400];
    snprintf(args, sizeof args, "'%s' --checkpoint %s", ds, ckpt);
    tmux_start(args, 140, 50, NULL);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("4");
    cr_assert(tmux_wait_for("top 3", 60), "%s", tmux_screen(0));
    tmux_keys("g");
    cr_assert(tmux_wait_for("Grad-CAM: ", 60) && tmux_wait_for("from layer4", 60), "%s", tmux_screen(0));
    const char *line = rest_of_line(tmux_screen(0), "Grad-CAM: ");
    cr_expect(line && strncmp(line, want, strlen(want)) == 0, "the overlay explains '%s':\n%s", want, tmux_screen(0));
    tmux_keys("G");   // class 0
    cr_expect(tmux_wait_for("Grad-CAM: circles from layer4", 60), "%s", tmux_screen(0));

    size_t len0, len1;
    char *before = tu_read_file(image, &len0);
    cr_assert_not_null(before);
    char moved[1300], aside[1300];
    snprintf(moved, sizeof moved, "%s/valid/squares/circle_000.jpg", ds);
    snprintf(aside, sizeof aside, "%s/.frost-set-aside/valid/circles/circle_000.jpg", ds);
    tmux_keys("m");
    cr_assert(tmux_wait_for("move to class (circles, squares, triangles):", 30), "%s", tmux_screen(0));
    tmux_text("squares");
    tmux_keys("Enter");
    cr_assert(tmux_wait_for("moved to ", 30), "%s", tmux_screen(0));
    char *after = tu_read_file(moved, &len1);
    cr_expect(after && len1 == len0 && memcmp(after, before, len0) == 0, "the moved file is the same bytes");
    free(after);
    cr_expect_neq(access(image, F_OK), 0, "the old path is empty");
    cr_expect(strstr(tmux_screen(0), "valid/squares/circle_000.jpg"), "the list shows it in its new class:\n%s",
              tmux_screen(0));
    tmux_keys("u");
    cr_assert(tmux_wait_for("undone: ", 30), "%s", tmux_screen(0));
    after = tu_read_file(image, &len1);
    cr_expect(after && len1 == len0 && memcmp(after, before, len0) == 0, "undo brought the same bytes back");
    free(after);
    cr_expect_neq(access(moved, F_OK), 0);
    // the selection is where it was: the first image again; set it aside
    cr_assert(tmux_wait_for("images: valid 36, train 120", 30), "%s", tmux_screen(0));
    tmux_keys("Home");
    tmux_keys("z");
    cr_assert(tmux_wait_for("set aside as ", 30), "%s", tmux_screen(0));
    cr_expect(tmux_wait_for("images: valid 35, train 120", 30), "the list lost it:\n%s", tmux_screen(0));
    after = tu_read_file(aside, &len1);
    cr_expect(after && len1 == len0 && memcmp(after, before, len0) == 0, "the set-aside file is the same bytes");
    free(after);
    tmux_keys("u");
    cr_assert(tmux_wait_for("images: valid 36, train 120", 30), "%s", tmux_screen(0));
    after = tu_read_file(image, &len1);
    cr_expect(after && len1 == len0 && memcmp(after, before, len0) == 0, "undo brought it back");
    free(after);
    free(before);
    // the command line sees the same history
    tu_run_frost(&r, (const char *[]){"clean", ds, "--list", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(tu_count_lines(r.out), 2, "two moves, both undone:\n%s", r.out);
    cr_expect(strstr(r.out, "relabel") && strstr(r.out, "set aside") && strstr(r.out, "(undone)"), "%s", r.out);
    tu_run_free(&r);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// ---------------------------------------------------------------------------------------------
// the checkpoint opens on a thread: the screen answers while it loads, s stops it

// 'o', a path, Enter.
static void open_path(const char *path) {
    tmux_keys("o");
    cr_assert(tmux_wait_for("open checkpoint:", 30), "%s", tmux_screen(0));
    tmux_keys("C-u");
    tmux_text(path);
    tmux_keys("Enter");
}

// The checkpoint's open is held at the gate (tests/preload: its file cannot be opened while the gate
// file exists), so it cannot have ended whatever the machine's speed: meanwhile the keys work (another
// screen comes and goes), s stops it (the screen is back to no model while the load still waits), and a
// second open queued behind it ends with the checkpoint's own architecture, classes and size.
Test(tui_predict, the_screen_answers_while_a_checkpoint_opens) {
    make_checkpoint();
    char gated[1100], gate[1100], env[8192];
    snprintf(gated, sizeof gated, "%s/frost-gate.safetensors", dir);
    cr_assert_eq(link(ckpt, gated), 0);
    snprintf(gate, sizeof gate, "%s/gate", dir);
    cr_assert_eq(tu_write_file(gate, "", 0), 0);
    tmux_gate_env(env, sizeof env, gate);
    tmux_start("sample_data", 140, 45, env);
    cr_assert(tmux_wait_for("3 classes", 60), "%s", tmux_screen(0));
    tmux_keys("4");
    cr_assert(tmux_wait_for("No model to predict with yet", 30), "%s", tmux_screen(0));
    open_path(gated);
    cr_assert(tmux_wait_for("(s stops)", 30), "%s", tmux_screen(0));
    // the load waits at the gate: the UI thread must not
    cr_assert(tmux_answers_at_gate("1", "[1 Data]", gate), "the Data screen while it loads:\n%s", tmux_screen(0));
    cr_assert(tmux_answers_at_gate("4", "[4 Predict]", gate), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), "opening ") != NULL, "still opening:\n%s", tmux_screen(0));
    tmux_keys("s");
    cr_assert(tmux_wait_for("stopped", 30), "%s", tmux_screen(0));
    cr_expect(tmux_wait_for("No model to predict with yet", 30), "%s", tmux_screen(0));
    open_path(gated);   // queued behind the stopped one, which still waits
    cr_assert(tmux_wait_for("(s stops)", 30), "%s", tmux_screen(0));
    cr_assert_eq(unlink(gate), 0);
    checkpoint_meta meta;
    ft_model *m = fx_load_checkpoint(ckpt, &meta);
    char want[1400];
    snprintf(want, sizeof want, "opened %s (%s, %lld classes, %dx%d input)", gated, meta.arch,
             (long long)meta.num_classes, meta.tf.size, meta.tf.size);
    ft_model_free(m);
    checkpoint_meta_free(&meta);
    cr_assert(tmux_wait_for(want, 120), "'%s':\n%s", want, tmux_screen(0));
    expect_topk();
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}
