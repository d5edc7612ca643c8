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

Test(tui_lesson, the_tutorial_walks_to_its_end) {
    make_dataset(CLASSES);
    n_steps = file_steps("tutorial", "", titles, 32);
    cr_assert_eq(n_steps, 12, "the walk below knows 12 steps");
    char args[1200];
    snprintf(args, sizeof args, "lesson tutorial %s", root);
    tmux_start(args, 80, 24, NULL);
    at_step(1, 1);   // the data: the Data screen is in front already
    done_with(1, 30, "dogs");
    tmux_keys("n");
    at_step(2, 0);
    tmux_keys("n");   // not done: n asks once more
    cr_assert(wait_flat("(n again skips it)", 10), "%s", tmux_screen(0));
    tmux_keys("2");
    done_with(2, 60, "ResNet(");
    tmux_keys("n");
    at_step(3, 0);
    tmux_keys("A A A A");   // resnet18 back to vgg16
    done_with(3, 120, "VGG(");
    tmux_keys("n");
    at_step(4, 0);
    tmux_keys("h");
    done_with(4, 120, "VGG(");
    tmux_keys("n");
    at_step(5, 0);
    tmux_keys("u");
    done_with(5, 60, "VGG(");
    tmux_keys("n");
    at_step(6, 0);
    tmux_keys("f");
    done_with(6, 60, "VGG(");
    tmux_keys("n");
    at_step(7, 0);
    tmux_keys("P");
    done_with(7, 60, "PyTorch code of this choice");
    tmux_keys("P n");   // the code pane closed again, for the rows
    at_step(8, 0);
    // the Train screen: 3 epochs, 64x64, lr 1e-3 (a short run), then Enter
    tmux_keys("3");
    cr_assert(wait_flat("[3 Train]", 30), "%s", tmux_screen(0));
    tmux_keys("Down Left Down Down Right Right Down Down Left Left Left Enter");
    done_with(8, 300, NULL);
    cr_assert(wait_flat("training complete", 300), "the run ends:\n%s", tmux_screen(0));
    tmux_keys("n");
    at_step(9, 0);
    tmux_keys("2");
    done_with(9, 120, "VGG(");
    tmux_keys("n");
    at_step(10, 0);
    tmux_keys("4");
    cr_assert(wait_flat("[4 Predict]", 30), "%s", tmux_screen(0));
    tmux_keys("e");
    done_with(10, 120, "valid accuracy");
    tmux_keys("n");
    at_step(11, 1);   // the evaluation opened its results, the mistakes it was surest of first
    done_with(11, 60, "most confidently wrong");
    tmux_keys("Tab");   // back to the images: the step, once done, stays done
    cr_assert(wait_flat("[done", 10), "%s", tmux_screen(0));
    tmux_keys("n");
    at_step(12, 0);
    tmux_keys("g");
    done_with(12, 120, "valid accuracy");
    cr_expect(wait_flat("done: the end of the lesson (L closes it)", 10), "%s", tmux_screen(0));
    tmux_keys("n");
    cr_expect(wait_flat("this is the lesson's last step", 10), "%s", tmux_screen(0));
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
    n_steps = file_steps("fine-tuning", "", titles, 32);
    cr_assert_eq(n_steps, 9, "the walk below knows 9 steps");
    char args[1200];
    snprintf(args, sizeof args, "lesson fine-tuning %s", root);
    tmux_start(args, 80, 24, NULL);
    at_step(1, 1);   // read: nothing to do
    done_with(1, 30, NULL);
    tmux_keys("n");
    at_step(2, 0);
    tmux_keys("2");
    done_with(2, 60, "ResNet(");
    tmux_keys("n");
    at_step(3, 0);
    tmux_keys("h");
    done_with(3, 120, "ResNet(");
    tmux_keys("n");
    at_step(4, 0);
    tmux_keys("]");
    done_with(4, 60, "ResNet(");
    tmux_keys("n");
    at_step(5, 0);
    // the Train screen at 64x64 (the finder's steps are short), then the lr finder
    tmux_keys("3");
    cr_assert(wait_flat("[3 Train]", 30), "%s", tmux_screen(0));
    tmux_keys("Down Left Down Down Right Right Down Down Left Left Left l");
    done_with(5, 300, NULL);
    tmux_keys("n");
    at_step(6, 0);
    // "block lrs" is 8 fields below "input size", "unfreezing" 2 above it
    tmux_keys("Down Down Down Down Down Down Down Down Right");
    done_with(6, 30, NULL);
    tmux_keys("n");
    at_step(7, 0);
    tmux_keys("Up Up Right");
    done_with(7, 30, NULL);
    tmux_keys("n");
    at_step(8, 0);
    tmux_keys("Enter");
    done_with(8, 300, NULL);
    cr_assert(wait_flat("training complete", 300), "the run ends:\n%s", tmux_screen(0));
    tmux_keys("n");
    at_step(9, 0);
    tmux_keys("2");
    done_with(9, 120, "ResNet(");
    cr_expect(wait_flat("done: the end of the lesson (L closes it)", 10), "%s", tmux_screen(0));
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
