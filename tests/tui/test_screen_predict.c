// test_tui_predict.c — the interface's Predict screen (4), end to end: a checkpoint made by
// `frost train` on sample_data/, opened with --checkpoint or with 'o'; the top-k of the selected
// image, the evaluation of the valid split (accuracy, confusion matrix, most wrong), a bad path.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
