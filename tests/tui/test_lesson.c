// test_lesson.c — both lessons walked to their end at 80x24, the real binary in tmux, as a learner
// would: at each step the pane says "step K of N" with the step's title from the lesson file (read here,
// not by frost), waits, and says done only once the key the step asks for has done its work on the
// real screen — and the screen the step talks about stays in sight above the pane. The tutorial's walk
// trains VGG16 for real (64x64, a few images), evaluates, opens a mistake (the dataset holds one image
// under two classes: one of the two is always wrong) and turns Grad-CAM on. Then the tutorial in
// Chinese, on a dataset with Chinese class names: the titles are the file's [zh_CN] lines, the task
// and its state the catalogue's (gettext itself, tu_zh).
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "tmux_util.h"

static char *root;
static const char *const CLASSES[] = {"cats", "dogs", "foxes"};
static const char *const CLASSES_ZH[] = {"小狗", "小猫", "狐狸"};

// train/: 4 images a class, valid/: 2; valid/CLASS1/ also holds an image of class 0 that valid/CLASS0/
// holds too, byte for byte: the model is wrong about one of the two, whatever it learned.
static void make_dataset(const char *const *classes) {
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 6; k++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s/%s/img%d.jpg", root, k < 4 ? "train" : "valid", classes[c], k);
            tu_mkdirs_for(path);
            cr_assert_eq(tu_write_class_jpeg(path, c, k), 0);
        }
    char path[1024];
    snprintf(path, sizeof path, "%s/valid/%s/twin.jpg", root, classes[0]);
    cr_assert_eq(tu_write_class_jpeg(path, 0, 9), 0);
    snprintf(path, sizeof path, "%s/valid/%s/twin.jpg", root, classes[1]);
    cr_assert_eq(tu_write_class_jpeg(path, 0, 9), 0);
}

static void setup(void) {
    setlocale(LC_CTYPE, "C.UTF-8");
    root = tu_tmpdir();
}

static void teardown(void) {
    tmux_stop();
    tu_rmtree(root);
    free(root);
}

TestSuite(tui_lesson, .init = setup, .fini = teardown, .timeout = 600);

// The titles of lessons/NAME.lesson's steps in language lang ("" English), read from the file.
static size_t file_steps(const char *name, const char *lang, char titles[][128], size_t most) {
    char path[256], tag[32];
    snprintf(path, sizeof path, "lessons/%s.lesson", name);
    snprintf(tag, sizeof tag, "step[%s]: ", lang);
    size_t len, n = 0;
    char *text = tu_read_file(path, &len);
    cr_assert_not_null(text, "%s", path);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "step: ", 6) == 0 && n < most) snprintf(titles[n++], 128, "%s", line + 6);
        if (*lang && strncmp(line, tag, strlen(tag)) == 0 && n > 0)
            snprintf(titles[n - 1], 128, "%s", line + strlen(tag));
    }
    free(text);
    return n;
}

// Waits for text on the screen read as one line (a wrapped message reads whole): 1, else 0.
static int wait_flat(const char *text, int seconds) {
    for (int i = 0; i < seconds * 10; i++) {
        if (strstr(tmux_screen_flat(), text)) return 1;
        usleep(100000);
    }
    return 0;
}

static char titles[32][128];
static size_t n_steps;

// The pane shows step k (1-based), not done yet unless `done_now`.
static void at_step(size_t k, int done_now) {
    char want[300];
    snprintf(want, sizeof want, "step %zu of %zu: %s", k, n_steps, titles[k - 1]);
    cr_assert(wait_flat(want, 30), "'%s':\n%s", want, tmux_screen(0));
    if (!done_now) cr_expect(strstr(tmux_screen_flat(), "[waiting]"), "step %zu waits:\n%s", k, tmux_screen(0));
}

// The step in front says done within seconds (the check saw the screens do it), and `sight` — what it
// talks about — is on the screen above the pane.
static void done_with(size_t k, int seconds, const char *sight) {
    cr_assert(wait_flat("[done", seconds), "step %zu (%s) is not done:\n%s", k, titles[k - 1], tmux_screen(0));
    if (sight) {
        cr_assert(wait_flat(sight, seconds), "step %zu: no '%s':\n%s", k, sight, tmux_screen(0));
        char marker[64];
        snprintf(marker, sizeof marker, "step %zu of %zu: ", k, n_steps);
        const char *screen = tmux_screen(0), *at = strstr(screen, sight), *pane = strstr(screen, marker);
        cr_expect(at && pane && at < pane, "step %zu: '%s' in sight above the pane:\n%s", k, sight, screen);
    }
    cr_expect(strstr(tmux_screen(0), "1-5 screens") || strstr(tmux_screen(0), " 1 Data "), "the key bar stays:\n%s",
              tmux_screen(0));
}

// One step of a walk: n to it (from the step before), the keys a learner presses there, what the step
// talks about (in sight above the pane once it is done), and what comes after.
typedef struct {
    const char *keys;    // NULL: nothing to press (the step is done on arrival)
    int seconds;         // how long its work may take
    const char *sight;   // NULL: not checked
    const char *then;    // NULL, or text to wait for once it is done (a run's end)
    const char *after;   // NULL, or keys pressed once it is done (the step stays done)
} walk_step;

// Starts `frost lesson NAME DATASET` at 80x24 and walks the steps to the lesson's end.
static void walk(const char *name, const walk_step *steps, size_t n) {
    n_steps = file_steps(name, "", titles, 32);
    cr_assert_eq(n_steps, n, "the walk knows %zu steps, the lesson has %zu", n, n_steps);
    char args[1200];
    snprintf(args, sizeof args, "lesson %s %s", name, root);
    tmux_start(args, 80, 24, NULL);
    for (size_t k = 1; k <= n; k++) {
        const walk_step *w = &steps[k - 1];
        if (k > 1) tmux_keys("n");
        at_step(k, w->keys == NULL);
        if (k == 2) {   // not done: n asks once more before it skips
            tmux_keys("n");
            cr_assert(wait_flat("(n again skips it)", 10), "%s", tmux_screen(0));
        }
        if (w->keys) tmux_keys(w->keys);
        done_with(k, w->seconds, w->sight);
        if (w->then) cr_assert(wait_flat(w->then, 300), "'%s':\n%s", w->then, tmux_screen(0));
        if (w->after) {
            tmux_keys(w->after);
            cr_assert(wait_flat("[done", 10), "step %zu stays done:\n%s", k, tmux_screen(0));
        }
    }
    cr_expect(wait_flat("done: the end of the lesson (L closes it)", 10), "%s", tmux_screen(0));
    tmux_keys("n");
    cr_expect(wait_flat("this is the lesson's last step", 10), "%s", tmux_screen(0));
}

// The Train form at 3 epochs, 64x64 and lr 1e-3 (a short run), from its first field; "input size"
// is selected after it.
#define SHORT_RUN "Down Left Down Down Right Right Down Down Left Left Left"

Test(tui_lesson, the_tutorial_walks_to_its_end) {
    make_dataset(CLASSES);
    const walk_step steps[] = {
        {NULL, 30, "dogs", NULL, NULL},                        // the data: the Data screen is in front already
        {"2", 60, "ResNet(", NULL, NULL},                      // print the model
        {"A A A A", 120, "VGG(", NULL, NULL},                  // resnet18 back to vgg16
        {"h", 120, "VGG(", NULL, NULL},                        // the new head
        {"u", 60, "VGG(", NULL, NULL},                         // everything trainable
        {"f", 60, "VGG(", NULL, NULL},                         // frozen again but the head
        {"P", 60, "PyTorch code of this choice", NULL, "P"},   // the code pane (closed again, for the rows)
        {"3 " SHORT_RUN " Enter", 300, NULL, "training complete", NULL},
        {"2", 120, "VGG(", NULL, NULL},                      // what training did to each layer
        {"4 e", 120, "valid accuracy", NULL, NULL},          // the evaluation
        {NULL, 60, "most confidently wrong", NULL, "Tab"},   // it opened its mistakes, surest first
        {"g", 120, "valid accuracy", NULL, NULL},            // Grad-CAM
    };
    walk("tutorial", steps, sizeof steps / sizeof steps[0]);
    // L closes the pane, and opens it again where it was
    tmux_keys("L");
    cr_expect(tmux_wait_gone("step 12 of 12", 10), "%s", tmux_screen(0));
    tmux_keys("L");
    cr_expect(wait_flat("step 12 of 12", 10), "%s", tmux_screen(0));
    tmux_keys("b");
    at_step(11, 1);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

Test(tui_lesson, fine_tuning_walks_to_its_end) {
    make_dataset(CLASSES);
    const walk_step steps[] = {
        {NULL, 30, NULL, NULL, NULL},                   // read: nothing to do
        {"2", 60, "ResNet(", NULL, NULL},               // the network
        {"h", 120, "ResNet(", NULL, NULL},              // the new head
        {"]", 60, "ResNet(", NULL, NULL},               // thaw the last block
        {"3 " SHORT_RUN " l", 300, NULL, NULL, NULL},   // the lr finder, at 64x64 (its steps are short)
        // "block lrs" is 8 fields below "input size", "unfreezing" 2 above it
        {"Down Down Down Down Down Down Down Down Right", 30, NULL, NULL, NULL},
        {"Up Up Right", 30, NULL, NULL, NULL},
        {"Enter", 300, NULL, "training complete", NULL},
        {"2", 120, "ResNet(", NULL, NULL},   // what fine-tuning moved
    };
    walk("fine-tuning", steps, sizeof steps / sizeof steps[0]);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

Test(tui_lesson, the_tutorial_in_chinese) {
    make_dataset(CLASSES_ZH);
    n_steps = file_steps("tutorial", "zh_CN", titles, 32);
    char env[6000], args[1200], locales[4096], want[600], lesson_title[256] = "";
    tu_locales(locales, sizeof locales);
    snprintf(env, sizeof env, "LANG=zh_CN.UTF-8 LOCPATH=%s LANGUAGE=", locales);
    snprintf(args, sizeof args, "lesson tutorial '\"'\"'%s'\"'\"'", root);
    tmux_start(args, 80, 24, env);
    // the lesson's title in Chinese, from the file
    size_t len;
    char *text = tu_read_file("lessons/tutorial.lesson", &len);
    cr_assert_not_null(text);
    const char *t = strstr(text, "\ntitle[zh_CN]: ");
    cr_assert_not_null(t);
    t += strlen("\ntitle[zh_CN]: ");
    snprintf(lesson_title, sizeof lesson_title, "%.*s", (int)strcspn(t, "\n"), t);
    free(text);
    snprintf(want, sizeof want, tu_zh("step %zu of %zu: %s"), (size_t)1, n_steps, titles[0]);
    cr_assert(wait_flat(want, 30), "'%s':\n%s", want, tmux_screen(0));
    cr_expect(wait_flat(lesson_title, 10), "'%s':\n%s", lesson_title, tmux_screen(0));
    cr_expect(wait_flat(tu_zh("bring the Data screen to the front: press 1"), 10), "%s", tmux_screen(0));
    cr_expect(wait_flat(tu_zh("done: n for the next step"), 10), "%s", tmux_screen(0));
    cr_expect(strstr(tmux_screen(0), CLASSES_ZH[2]), "the Chinese class names above the pane:\n%s", tmux_screen(0));
    tmux_keys("n");
    snprintf(want, sizeof want, tu_zh("step %zu of %zu: %s"), (size_t)2, n_steps, titles[1]);
    cr_assert(wait_flat(want, 10), "'%s' on the status line:\n%s", want, tmux_screen(0));
    cr_assert(wait_flat(tu_zh("waiting"), 10), "%s", tmux_screen(0));
    cr_expect(wait_flat(tu_zh("bring the Model screen to the front: press 2"), 10), "%s", tmux_screen(0));
    tmux_keys("2");
    cr_expect(wait_flat(tu_zh("done: n for the next step"), 60), "%s", tmux_screen(0));
    // every row fits the 80 columns: a Chinese character is two of them
    const char *screen = tmux_screen(0);
    for (const char *line = screen; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        size_t n = strcspn(line, "\n");
        cr_expect_leq(tu_columns(line, n), 80, "%.*s", (int)n, line);
    }
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}
