// test_lesson.c — lessons (core/teach/lesson.h): the lessons frost ships load and ask for what the
// issue names; a lesson of the test's own reads back field by field (languages, paragraphs, a code
// line's indentation); every kind of mistake in a file is refused with its FILE:LINE; and each check
// says done exactly when the screens' facts show what the step asks.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lesson.h"
#include "testutil.h"

TestSuite(lesson, .timeout = 60);

static int has_action(const lesson *l, lesson_action a, int arg) {
    for (size_t i = 0; i < l->n; i++)
        if (l->steps[i].action == a && l->steps[i].arg == arg) return 1;
    return 0;
}

// The shipped lesson's path: lesson_find's, and the lesson read in language lang.
static void load_shipped(const char *name, const char *lang, lesson *l) {
    char path[1024], err[1024];
    cr_assert_eq(lesson_find(name, path, sizeof path, err, sizeof err), 0, "%s", err);
    cr_assert_eq(lesson_load(path, lang, l, err, sizeof err), 0, "%s", err);
}

// The number of English `step:` lines in a shipped lesson, counted here (not by the parser).
static size_t count_steps(const char *name) {
    char path[1024], err[1024];
    cr_assert_eq(lesson_find(name, path, sizeof path, err, sizeof err), 0, "%s", err);
    size_t len, n = 0;
    char *text = tu_read_file(path, &len);
    cr_assert_not_null(text);
    for (char *p = text; (p = strstr(p, "step: ")); p++) n += p == text || p[-1] == '\n';
    free(text);
    return n;
}

Test(lesson, the_tutorial_walks_the_tutorial) {
    lesson l;
    load_shipped("tutorial", "", &l);
    cr_expect_eq(l.n, count_steps("tutorial"));
    cr_expect(has_action(&l, LESSON_SCREEN, LESSON_SCREEN_DATA), "the data");
    cr_expect(has_action(&l, LESSON_SCREEN, LESSON_SCREEN_MODEL), "print the model");
    cr_expect(has_action(&l, LESSON_HEAD, 1), "replace the head");
    cr_expect(has_action(&l, LESSON_TRAINABLE, LESSON_TRAIN_HEAD), "freeze all but the head");
    cr_expect(has_action(&l, LESSON_TRAIN, 1), "train: waits for epoch 1");
    cr_expect(has_action(&l, LESSON_LAYERS, 0), "what training did to each layer");
    cr_expect(has_action(&l, LESSON_EVALUATE, 0) && has_action(&l, LESSON_MISTAKE, 0), "predictions, a mistake");
    cr_expect(has_action(&l, LESSON_GRADCAM, 0), "Grad-CAM");
    int arch = 0;
    for (size_t i = 0; i < l.n; i++) {
        arch |= l.steps[i].action == LESSON_ARCH && strcmp(l.steps[i].arch, "vgg16") == 0;
        cr_expect(l.steps[i].text[0], "step %zu has a text", i + 1);
    }
    cr_expect(arch, "the tutorial's VGG16");
    lesson_free(&l);
}

Test(lesson, fine_tuning_thaws_finds_and_stages) {
    lesson l;
    load_shipped("fine-tuning", "", &l);
    cr_expect_eq(l.n, count_steps("fine-tuning"));
    cr_expect(has_action(&l, LESSON_TRAINABLE, LESSON_TRAIN_BLOCKS), "thaw a block");
    cr_expect(has_action(&l, LESSON_LR_FINDER, 0), "the lr finder");
    cr_expect(has_action(&l, LESSON_BLOCK_LR, 0), "block learning rates");
    cr_expect(has_action(&l, LESSON_PLAN, 0), "staged unfreezing");
    lesson_free(&l);
}

// The shipped lessons' code lines fit the pane at 80 columns (it cuts a longer one: code is not wrapped).
Test(lesson, code_fits_80_columns) {
    const char *names[] = {"tutorial", "fine-tuning"};
    for (size_t k = 0; k < 2; k++) {
        lesson l;
        load_shipped(names[k], "", &l);
        for (size_t i = 0; i < l.n; i++)
            for (const char *line = l.steps[i].code; *line;) {
                size_t n = strcspn(line, "\n");
                cr_expect_leq(n, 75, "%s step %zu: a code line of %zu columns: %.*s", names[k], i + 1, n, (int)n, line);
                line += n + (line[n] == '\n');
            }
        lesson_free(&l);
    }
}

// Every step of both lessons is in Chinese too, and the steps are the same ones.
Test(lesson, both_lessons_are_in_chinese) {
    const char *names[] = {"tutorial", "fine-tuning"};
    for (size_t k = 0; k < 2; k++) {
        lesson en, zh;
        load_shipped(names[k], "", &en);
        load_shipped(names[k], "zh_CN", &zh);
        cr_assert_eq(en.n, zh.n);
        cr_expect_str_neq(en.title, zh.title, "%s: its title in Chinese", names[k]);
        for (size_t i = 0; i < en.n; i++) {
            cr_expect_str_neq(en.steps[i].title, zh.steps[i].title, "%s step %zu's title", names[k], i + 1);
            cr_expect_str_neq(en.steps[i].text, zh.steps[i].text, "%s step %zu's text", names[k], i + 1);
            cr_expect_eq(en.steps[i].action, zh.steps[i].action);
            cr_expect_eq(en.steps[i].arg, zh.steps[i].arg);
            // Chinese text: a character of three UTF-8 bytes from the CJK block
            cr_expect(strstr(zh.steps[i].text, "\xe7") || strstr(zh.steps[i].text, "\xe4") ||
                          strstr(zh.steps[i].text, "\xe5") || strstr(zh.steps[i].text, "\xe6"),
                      "%s step %zu: %s", names[k], i + 1, zh.steps[i].text);
        }
        lesson_free(&en);
        lesson_free(&zh);
    }
}

static const char OWN[] = "# a lesson of the test's own\n"
                          "title: Own\n"
                          "title[zh_CN]: 自己的\n"
                          "\n"
                          "step: One\n"
                          "step[zh_CN]: 一\n"
                          "text: first line\n"
                          "text: joins the first\n"
                          "text:\n"
                          "text: a second paragraph\n"
                          "text[zh_CN]: 第一段\n"
                          "text[fr]: ignorée\n"
                          "code: for p in m.parameters():\n"
                          "code:     p.requires_grad = False\n"
                          "do: trainable head\n"
                          "step: Two\n"
                          "text: only English\n"
                          "do: train 3\r\n"
                          "  # an indented comment\n"
                          "step: Three\n"
                          "text: x\n"
                          "do: arch resnet18\n";

Test(lesson, a_lesson_reads_back_field_by_field) {
    lesson l;
    char err[512];
    cr_assert_eq(lesson_parse(OWN, "own.lesson", "", &l, err, sizeof err), 0, "%s", err);
    cr_assert_eq(l.n, 3);
    cr_expect_str_eq(l.name, "own");
    cr_expect_str_eq(l.title, "Own");
    cr_expect_str_eq(l.steps[0].title, "One");
    cr_expect_str_eq(l.steps[0].text, "first line joins the first\n\na second paragraph");
    cr_expect_str_eq(l.steps[0].code, "for p in m.parameters():\n    p.requires_grad = False");
    cr_expect_eq(l.steps[0].action, LESSON_TRAINABLE);
    cr_expect_eq(l.steps[0].arg, LESSON_TRAIN_HEAD);
    cr_expect_eq(l.steps[0].line, 5);
    cr_expect_eq(l.steps[1].action, LESSON_TRAIN);
    cr_expect_eq(l.steps[1].arg, 3, "the epoch (a CR before the newline is no part of it)");
    cr_expect_str_eq(l.steps[1].code, "");
    cr_expect_str_eq(l.steps[2].arch, "resnet18");
    lesson_free(&l);

    cr_assert_eq(lesson_parse(OWN, "own.lesson", "zh_CN", &l, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(l.title, "自己的");
    cr_expect_str_eq(l.steps[0].title, "一");
    cr_expect_str_eq(l.steps[0].text, "第一段");
    cr_expect_str_eq(l.steps[1].title, "Two", "no Chinese: English");
    cr_expect_str_eq(l.steps[1].text, "only English");
    lesson_free(&l);
}

// A mistake at a line of a lesson that is otherwise right: the message names the line and says what.
static void expect_refused(const char *bad_line, int at_line, const char *says) {
    char text[2048], err[512];
    // line 1 title, 2 step, 3 text, 4 the bad line (or at_line's), 5 do
    snprintf(text, sizeof text, "title: T\nstep: S\ntext: t\n%s\ndo: read\n", bad_line);
    lesson l;
    cr_assert_eq(lesson_parse(text, "bad.lesson", "", &l, err, sizeof err), -1, "'%s' accepted", bad_line);
    char where[64];
    snprintf(where, sizeof where, "bad.lesson:%d: ", at_line);
    cr_expect(strncmp(err, where, strlen(where)) == 0, "'%s': %s (expected %s...)", bad_line, err, where);
    cr_expect(strstr(err, says) != NULL, "'%s': %s (expected '%s' in it)", bad_line, err, says);
    cr_expect_eq(l.n, 0, "nothing half-read is left");
}

Test(lesson, every_mistake_is_refused_at_its_line) {
    expect_refused("colour: red", 4, "'colour' is not a field of a lesson");
    expect_refused("just words", 4, "a line is 'field: value'");
    expect_refused("do: screen lab", 4, "'do: screen lab': not one of data, model, train, predict, runs");
    expect_refused("do: jump", 4, "'do: jump': no such action");
    expect_refused("do: arch vgg17", 4, "no such architecture (one of");
    expect_refused("do: train 0", 4, "the epoch is a whole number from 1 to 1000");
    expect_refused("do: train", 4, "needs the epoch to wait for");
    expect_refused("do: read now", 4, "'do: read' takes nothing after it");
    expect_refused("do: head replaced twice", 4, "takes one word");
    expect_refused("do[zh_CN]: read", 4, "'do:' is the same in every language");
    expect_refused("text[zh CN]: x", 4, "a language tag is letters");
    expect_refused("title: Again", 4, "the lesson's 'title:' comes before its first 'step:'");
    expect_refused("step:", 4, "'step:' needs a title");
    expect_refused("code: \tx = 1", 4, "column 7: a tab");
    expect_refused("text: \x1b[31mred", 4, "a control character");
    expect_refused("text: caf\xe9", 4, "not UTF-8");
    // the second do: is line 5
    expect_refused("do: code", 5, "a second 'do:' in one step");
}

Test(lesson, what_a_lesson_lacks_is_named) {
    char err[512];
    lesson l;
    cr_expect_eq(lesson_parse("title: T\nstep: S\ntext: t\n\nstep: U\ndo: read\n", "x.lesson", "", &l, err, sizeof err),
                 -1);
    cr_expect_str_eq(err, "x.lesson:2: step 'S' has no 'do:' line (what the learner does; 'do: read' when there is "
                          "nothing to do)");
    cr_expect_eq(lesson_parse("title: T\nstep: S\ndo: read\n", "x.lesson", "", &l, err, sizeof err), -1);
    cr_expect(strstr(err, "x.lesson:2: step 'S' has no 'text:'"), "%s", err);
    cr_expect_eq(lesson_parse("step: S\ntext: t\ndo: read\n", "x.lesson", "", &l, err, sizeof err), -1);
    cr_expect_str_eq(err, "x.lesson:1: no 'title:' (the lesson's, before its steps)");
    cr_expect_eq(lesson_parse("# nothing\ntitle: T\n", "x.lesson", "", &l, err, sizeof err), -1);
    cr_expect(strstr(err, "x.lesson:2: no steps"), "%s", err);
    cr_expect_eq(lesson_parse("title: T\ntext: t\n", "x.lesson", "", &l, err, sizeof err), -1);
    cr_expect_str_eq(err, "x.lesson:2: 'text' before the first 'step:'");
}

Test(lesson, a_file_that_is_no_lesson_is_said_plainly) {
    char *dir = tu_tmpdir(), path[1024], err[512];
    lesson l;
    snprintf(path, sizeof path, "%s/none.lesson", dir);
    cr_expect_eq(lesson_load(path, "", &l, err, sizeof err), -1);
    cr_expect(strstr(err, "none.lesson: No such file or directory"), "%s", err);
    cr_expect_eq(lesson_load(dir, "", &l, err, sizeof err), -1);
    cr_expect(strstr(err, "not a regular file"), "%s", err);
    snprintf(path, sizeof path, "%s/nul.lesson", dir);
    cr_assert_eq(tu_write_file(path, "title: T\0x", 10), 0);
    cr_expect_eq(lesson_load(path, "", &l, err, sizeof err), -1);
    cr_expect(strstr(err, "a NUL byte"), "%s", err);
    char name_err[512], out[1024];
    cr_expect_eq(lesson_find("no-such", out, sizeof out, name_err, sizeof name_err), -1);
    cr_expect(strstr(name_err, "no such lesson (the lessons: fine-tuning, tutorial;"), "%s", name_err);
    cr_expect_eq(lesson_find("../tutorial", out, sizeof out, name_err, sizeof name_err), -1, "a name, not a path");
    tu_rmtree(dir);
    free(dir);
}

// Each check against facts that show its step done, and against facts one change away.
Test(lesson, each_check_says_done_exactly_when_the_screens_show_it) {
    lesson_step s = {0};
    lesson_facts f = {.screen = LESSON_SCREEN_DATA, .arch = "resnet18", .trainable = ""};
    s.action = LESSON_READ;
    cr_expect(lesson_step_done(&s, &f));
    s.action = LESSON_SCREEN, s.arg = LESSON_SCREEN_PREDICT;
    cr_expect(!lesson_step_done(&s, &f));
    f.screen = LESSON_SCREEN_PREDICT;
    cr_expect(lesson_step_done(&s, &f));
    s.action = LESSON_ARCH;
    snprintf(s.arch, sizeof s.arch, "vgg16");
    cr_expect(!lesson_step_done(&s, &f));
    f.arch = "vgg16";
    cr_expect(lesson_step_done(&s, &f));
    s.action = LESSON_HEAD, s.arg = 1;
    cr_expect(!lesson_step_done(&s, &f));
    s.arg = 0;
    cr_expect(lesson_step_done(&s, &f), "torchvision's network: the head not replaced");
    // the freeze choice: the new head's only
    s.action = LESSON_TRAINABLE, s.arg = LESSON_TRAIN_HEAD;
    cr_expect(!lesson_step_done(&s, &f), "no new head shown: nothing said about what trains");
    f.head_replaced = 1;
    cr_expect(lesson_step_done(&s, &f));
    f.trainable = "all";
    cr_expect(!lesson_step_done(&s, &f));
    s.arg = LESSON_TRAIN_ALL;
    cr_expect(lesson_step_done(&s, &f));
    s.arg = LESSON_TRAIN_BLOCKS;
    cr_expect(!lesson_step_done(&s, &f), "everything is not some blocks");
    f.trainable = "layer4,fc";
    cr_expect(lesson_step_done(&s, &f));
    s.action = LESSON_TRAIN, s.arg = 2;
    f.epochs_done = 1;
    cr_expect(!lesson_step_done(&s, &f));
    f.epochs_done = 2;
    cr_expect(lesson_step_done(&s, &f));
    const struct {
        lesson_action a;
        int *fact;
    } flags[] = {{LESSON_CODE, &f.code_open},     {LESSON_LAYERS, &f.layers_shown},
                 {LESSON_EVALUATE, &f.evaluated}, {LESSON_MISTAKE, &f.mistake_shown},
                 {LESSON_GRADCAM, &f.cam_shown},  {LESSON_LR_FINDER, &f.lr_found},
                 {LESSON_PLAN, &f.plan},          {LESSON_BLOCK_LR, &f.block_lr}};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        s.action = flags[i].a;
        *flags[i].fact = 0;
        cr_expect(!lesson_step_done(&s, &f), "action %d", (int)flags[i].a);
        *flags[i].fact = 1;
        cr_expect(lesson_step_done(&s, &f), "action %d", (int)flags[i].a);
    }
    // and every action says what to do
    for (int a = LESSON_READ; a <= LESSON_BLOCK_LR; a++) {
        char task[400] = "";
        s.action = (lesson_action)a;
        lesson_instruction(&s, task, sizeof task);
        cr_expect(strlen(task) > 10, "action %d: '%s'", a, task);
    }
}
