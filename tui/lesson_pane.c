// lesson_pane.c — a lesson's step under the screen it talks about (see lesson_pane.h).
#include "lesson_pane.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "lesson.h"
#include "style.h"
#include "text_wrap.h"

struct lesson_pane {
    lesson l;
    size_t step;
    int done;         // the step in front is done (the screens showed what it asks)
    int skip_asked;   // n was pressed on it while not done: the next n skips it
};

// lesson_facts's screens are the interface's, in its order
_Static_assert((int)LESSON_SCREEN_DATA == (int)SCREEN_DATA && (int)LESSON_SCREEN_MODEL == (int)SCREEN_MODEL &&
                   (int)LESSON_SCREEN_TRAIN == (int)SCREEN_TRAIN && (int)LESSON_SCREEN_PREDICT == (int)SCREEN_PREDICT &&
                   (int)LESSON_SCREEN_RUNS == (int)SCREEN_RUNS,
               "the lesson's screens are the interface's");

lesson_pane *lesson_pane_open(const char *path, char *err, size_t errlen) {
    lesson_pane *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "%s", _("out of memory"));
        return NULL;
    }
    if (lesson_load(path, lesson_language(), &p->l, err, errlen) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

void lesson_pane_free(lesson_pane *p) {
    if (!p) return;
    lesson_free(&p->l);
    free(p);
}

static lesson_facts facts_of(const app *a) {
    const char *plan = a->run.form.plan, *lrs = a->run.form.block_lr;
    return (lesson_facts){.screen = a->screen,
                          .arch = ft_arch_name(a->run.arch_index),
                          .head_replaced = a->shown.head_replaced,
                          .trainable = app_trainable(a),
                          .code_open = a->code_open,
                          .epochs_done = a->shown.epochs_done,
                          .layers_shown = a->shown.layers_shown,
                          .evaluated = a->shown.evaluated,
                          .mistake_shown = a->shown.mistake_shown,
                          .cam_shown = a->shown.cam_shown,
                          .lr_found = a->shown.lr_found,
                          .plan = plan && *plan,
                          .block_lr = lrs && *lrs};
}

void lesson_pane_poll(lesson_pane *p, app *a) {
    if (p->done)
        return;   // once the screens showed it, the step stays done (closing the code pane after
                  // opening it, as a learner will, does not undo the step)
    lesson_facts f = facts_of(a);
    if (!lesson_step_done(&p->l.steps[p->step], &f)) return;
    p->done = 1;
    if (p->l.steps[p->step].action == LESSON_READ) return;
    if (p->step + 1 < p->l.n)
        app_status(a, _("step %zu done: n for the next one"), p->step + 1);
    else
        app_status(a, "%s", _("the lesson's last step is done: L closes the lesson"));
}

void lesson_pane_step(lesson_pane *p, app *a, int dir) {
    if (dir < 0) {
        if (p->step == 0) {
            app_status(a, "%s", _("this is the lesson's first step"));
            return;
        }
        p->step--;
    } else {
        if (p->step + 1 >= p->l.n) {
            app_status(a, "%s", _("this is the lesson's last step: L closes the lesson"));
            return;
        }
        if (!p->done && !p->skip_asked) {
            char task[400];
            lesson_instruction(&p->l.steps[p->step], task, sizeof task);
            app_status(a, _("this step waits: %s (n again skips it)"), task);
            p->skip_asked = 1;
            return;
        }
        p->step++;
    }
    p->skip_asked = 0;
    p->done = 0;
    app_status(a, _("step %zu of %zu: %s"), p->step + 1, p->l.n, p->l.steps[p->step].title);
}

// The pane's task line: what to do, and whether it is done.
static void task_line(const lesson_pane *p, char *out, size_t len) {
    const lesson_step *s = &p->l.steps[p->step];
    char task[400];
    lesson_instruction(s, task, sizeof task);
    const char *state = !p->done               ? _("waiting")
                        : p->step + 1 < p->l.n ? _("done: n for the next step")
                                               : _("done: the end of the lesson (L closes it)");
    snprintf(out, len, "%s %s  [%s]", style_unicode() ? "\u25b6" : ">", task, state);
}

// Code is not wrapped (a wrapped Python line reads as two): each line is cut at the pane's edge, and the
// shipped lessons keep theirs within 76 columns (tests/core/test_lesson.c).
static int code_lines(const char *code) {
    if (!*code) return 0;
    int n = 1;
    for (const char *c = code; *c; c++) n += *c == '\n';
    return n;
}

static int put_code(int y, int end, int x, int width, const char *code) {
    for (const char *line = code; *line && y < end; y++) {
        size_t n = strcspn(line, "\n");
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf ? n : sizeof buf - 1), line);
        mvaddnstr(y, x, buf, (int)text_fit(buf, width, NULL));
        line += n + (line[n] == '\n');
    }
    return y;
}

int lesson_pane_rows(const lesson_pane *p, int body, int cols) {
    const lesson_step *s = &p->l.steps[p->step];
    char task[600];
    task_line(p, task, sizeof task);
    int width = cols - 2 > 10 ? cols - 2 : 10;
    int want = 1 + text_wrap_count(s->text, width) + code_lines(s->code) + text_wrap_count(task, width);
    int most = body * 45 / 100;
    if (most < 4) most = 4;
    return want < most ? want : most;
}

// Lines of text from (y, x), width columns, down to row `end`; returns the row after them.
static int put_lines(int y, int end, int x, int width, const char *text) {
    size_t off = 0, next;
    while (text[off] && y < end) {
        size_t n = text_wrap_line(text + off, width, &next);
        mvaddnstr(y++, x, text + off, (int)n);
        off += next;
    }
    return y;
}

void lesson_pane_draw(const lesson_pane *p, int top, int rows, int cols) {
    const lesson_step *s = &p->l.steps[p->step];
    int width = cols - 2 > 10 ? cols - 2 : 10;
    char task[600];
    task_line(p, task, sizeof task);
    int task_rows = text_wrap_count(task, width);
    if (task_rows > rows - 1) task_rows = rows - 1;
    int end = top + rows - task_rows;   // the task keeps its rows: the text and code give way
    // the title row: a rule with the lesson, where the class is, and the step's title
    char title[600];
    // where the class is first: a narrow window cuts the lesson's title, never "step 3 of 12"
    snprintf(title, sizeof title, _(" step %zu of %zu: %s   (%s) "), p->step + 1, p->l.n, s->title, p->l.title);
    attron(style(ROLE_DIM));
    move(top, 0);
    for (int x = 0; x < cols; x++) addstr(glyph(GL_HLINE));
    attroff(style(ROLE_DIM));
    attron(style(ROLE_TITLE));
    size_t n = text_fit(title, cols - 2, NULL);
    mvaddnstr(top, 1, title, (int)n);
    attroff(style(ROLE_TITLE));
    int y = put_lines(top + 1, end, 1, width, s->text);
    if (s->code[0]) {
        attron(style(ROLE_TRAIN));
        y = put_code(y, end, 3, width - 2, s->code);
        attroff(style(ROLE_TRAIN));
    }
    (void)y;
    attron(style(p->done ? ROLE_GOOD : ROLE_WARNING));
    put_lines(end, top + rows, 1, width, task);
    attroff(style(p->done ? ROLE_GOOD : ROLE_WARNING));
}
