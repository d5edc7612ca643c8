// app.c — the interface's main loop (see app.h): the tick, the frame (title line, the screen in front,
// status line, key bar), and handing each action to the screen in front.
#include "app.h"

#include <curses.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "code_pane.h"
#include "event_json.h"
#include "i18n.h"
#include "keys.h"
#include "lesson.h"
#include "lesson_pane.h"
#include "paragraph.h"
#include "preview.h"
#include "style.h"
#include "term.h"
#include "text_wrap.h"
#include "trainer.h"
#include "transfer.h"

static const screen *const SCREENS[N_SCREENS] = {&screen_data, &screen_model, &screen_train, &screen_predict,
                                                 &screen_runs};

enum { MIN_COLS = 60, MIN_ROWS = 16 };

// After a quit signal, how long the screens' background work may take to stop before frost ends
// anyway: a run at its batch boundary and the jobs' joins take well under it; a forward pass of a
// calibration can take seconds (8.8 s seen for resnet18's at 224 on two busy cores).
#define QUIT_GRACE_SECONDS 1.0

void app_status(app *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->status, sizeof a->status, fmt, ap);
    va_end(ap);
}

void app_busy(app *a) { a->busy = 1; }

int app_in_front(const app *a, const screen *s) { return SCREENS[a->screen] == s; }

const char *app_trainable(const app *a) { return a->run.trainable_arch == a->run.arch_index ? a->run.trainable : ""; }

void app_offer_model(app *a, ft_model *m, const char *source, const transform_params *tf) {
    ft_model_free(a->offer.model);
    a->offer.model = m;
    snprintf(a->offer.source, sizeof a->offer.source, "%s", source);
    a->offer.tf = *tf;
}

// 1 when the code pane is under the screen in front (it has one on the Model and Train screens).
static int code_shown(const app *a) {
    return a->code && a->code_open && (a->screen == SCREEN_MODEL || a->screen == SCREEN_TRAIN);
}

// ---------------------------------------------------------------------------------------------
// the frame

void app_draw(app *a) {
    if (!term_active()) return;   // the screen was given back (a quit signal): nothing to draw on
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    erase();
    if (rows < MIN_ROWS || cols < MIN_COLS) {
        char msg[160];
        snprintf(msg, sizeof msg, _("The window is %dx%d; frost needs %dx%d at least. Enlarge it, or press q to quit."),
                 cols, rows, MIN_COLS, MIN_ROWS);
        // wrapped over as many lines as it takes
        size_t off = 0, next;
        for (int r = 0; msg[off] && r < rows; r++, off = next) {
            size_t n = text_wrap_line(msg + off, cols, &next);
            next += off;
            mvaddnstr(r, 0, msg + off, (int)n);
        }
        refresh();
        return;
    }
    attron(style(ROLE_TITLE));
    mvprintw(0, 0, "frost  %s  [%s]", a->root, _(SCREENS[a->screen]->title));
    attroff(style(ROLE_TITLE));
    // a rule under the title (box-drawing, or '-' in ASCII)
    attron(style(ROLE_DIM));
    move(1, 0);
    for (int x = 0; x < cols; x++) addstr(glyph(GL_HLINE));
    attroff(style(ROLE_DIM));
    // the status line takes the rows its message needs (up to 4): a warning's advice is at its end
    int status_rows = a->prompt ? 1 : paragraph_rows(a->status, cols - 2);
    if (status_rows < 1) status_rows = 1;
    if (status_rows > 4) status_rows = 4;
    int top = 2, body = rows - 3 - status_rows;
    // the lesson pane takes the body's last rows; the screen it talks about keeps the rest
    if (a->lesson_open && a->lesson && !a->help) {
        int lrows = lesson_pane_rows(a->lesson, body, cols);
        lesson_pane_draw(a->lesson, top + body - lrows, lrows, cols);
        body -= lrows;
    }
    if (a->help) {
        keys_draw_help(top, body, cols, &a->help_scroll);
    } else if (code_shown(a)) {   // the screen above, the code under it (half each)
        int above = body / 2;
        SCREENS[a->screen]->draw(a, a->state[a->screen], top, above, cols);
        code_pane_draw(a->code, top + above, body - above, cols);
    } else {
        SCREENS[a->screen]->draw(a, a->state[a->screen], top, body, cols);
    }
    attron(style(ROLE_STATUS));
    if (a->prompt) {
        move(rows - 2, 0);
        clrtoeol();
        mvaddnstr(rows - 2, 0, a->prompt, cols);
        int x = (int)strlen(a->prompt), room = cols - x - 1;
        size_t n = strlen(a->prompt_buf);
        const char *shown = a->prompt_buf + (n > (size_t)room && room > 0 ? n - (size_t)room : 0);
        if (room > 0) mvaddnstr(rows - 2, x, shown, room);
    } else {
        paragraph_draw(rows - 1 - status_rows, 0, cols - 2, status_rows, a->status);
        if (a->busy) {   // a job a screen waits for: a spinner in the column the text leaves free
            static const char *const ascii[] = {"|", "/", "-", "\\"}, *const braille[] = {"\u280b", "\u2819", "\u2838",
                                                                                          "\u2834", "\u2826", "\u2807"};
            int n = style_unicode() ? 6 : 4;
            int frame = (int)((long long)(clock_seconds() * 8) % n);
            mvaddstr(rows - 1 - status_rows, cols - 1, style_unicode() ? braille[frame] : ascii[frame]);
        }
    }
    attroff(style(ROLE_STATUS));
    keys_draw_bar(a->screen, rows - 1, cols);
    if (a->prompt) {   // the cursor where the typing goes
        int x = (int)strlen(a->prompt) + (int)strlen(a->prompt_buf);
        move(rows - 2, x < cols - 1 ? x : cols - 1);
    }
    refresh();
}

int app_tick(app *a) {
    a->busy = 0;   // (each screen's poll says it again while its job runs)
    for (int i = 0; i < N_SCREENS; i++) SCREENS[i]->poll(a, a->state[i]);
    if (code_shown(a)) code_pane_poll(a->code, a);
    if (a->lesson_open && a->lesson) lesson_pane_poll(a->lesson, a);
    app_draw(a);
    return getch();
}

// ---------------------------------------------------------------------------------------------
// the loop

// A mouse event as an action: the wheel scrolls, a click on the key bar presses that key, a click in
// the body goes to the screen (ACT_MOUSE, with the position in a->mouse_y/x).
static app_action mouse_action(app *a, int *repeat) {
    MEVENT ev;
    *repeat = 1;
    if (getmouse(&ev) != OK) return ACT_NONE;
    if (ev.bstate & BUTTON4_PRESSED) {
        *repeat = SCREENS[a->screen]->wheel_lines;
        return ACT_UP;
    }
#ifdef BUTTON5_PRESSED
    if (ev.bstate & BUTTON5_PRESSED) {
        *repeat = SCREENS[a->screen]->wheel_lines;
        return ACT_DOWN;
    }
#endif
    if (!(ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED))) return ACT_NONE;
    if (ev.y == LINES - 1) return keys_bar_click(ev.x);
    a->mouse_y = ev.y;
    a->mouse_x = ev.x;
    return ACT_MOUSE;
}

static void to_front(app *a, int which) {
    a->screen = which;
    if (SCREENS[which]->enter) SCREENS[which]->enter(a, a->state[which]);
}

void app_show(app *a, int which) {
    if (which >= 0 && which < N_SCREENS) to_front(a, which);
}

int app_load_settings(app *a, const char *settings, long long id) {
    if (a->run.training) {
        app_status(a, "%s", _("a run is going on: its form stays as it is (s stops it)"));
        return -1;
    }
    char *copy = strdup(settings);
    if (!copy) {
        app_status(a, "%s", _("out of memory"));
        return -1;
    }
    free(a->load_settings);
    a->load_settings = copy;
    a->load_run = id;
    a->load_seq++;
    return 0;
}

// L: the lesson pane on or off; the first time, the lesson is read (the one frost lesson named, else
// the tutorial's).
static void toggle_lesson(app *a) {
    if (a->lesson) {
        a->lesson_open = !a->lesson_open;
        return;
    }
    char path[1024], err[1200];
    if (a->opts->lesson)
        snprintf(path, sizeof path, "%s", a->opts->lesson);
    else if (lesson_find("tutorial", path, sizeof path, err, sizeof err) != 0) {
        app_status(a, "%s", err);
        return;
    }
    if (!(a->lesson = lesson_pane_open(path, err, sizeof err))) {
        app_status(a, "%s", err);
        return;
    }
    a->lesson_open = 1;
}

static void handle(app *a, int ch) {
    if (ch == ERR || ch == KEY_RESIZE) return;
    if (a->help) {   // the moving keys scroll the help, any other key closes it
        app_action move = keys_lookup(a->screen, ch);
        int page = LINES - 8 > 1 ? LINES - 8 : 1;
        if (move == ACT_UP || move == ACT_DOWN)
            a->help_scroll += move == ACT_UP ? -1 : 1;
        else if (move == ACT_PAGE_UP || move == ACT_PAGE_DOWN)
            a->help_scroll += move == ACT_PAGE_UP ? -page : page;
        else if (move == ACT_HOME)
            a->help_scroll = 0;
        else if (move == ACT_END)
            a->help_scroll = 1 << 20;   // (clamped when drawn)
        else
            a->help = 0;
        return;
    }
    int repeat = 1;
    app_action act = a->lesson_open ? keys_lookup_lesson(ch) : ACT_NONE;   // a lesson's keys come first
    if (act == ACT_NONE)
        act = ch == KEY_MOUSE ? mouse_action(a, &repeat)
                              : keys_lookup(a->screen, ch == KEY_ENTER || ch == '\r' ? '\n' : ch);
    if (LINES < MIN_ROWS || COLS < MIN_COLS) {   // only quitting works in a window too small to draw
        if (act == ACT_QUIT) a->quit = 1;
        return;
    }
    switch (act) {
    case ACT_QUIT: a->quit = 1; break;
    case ACT_HELP:
        a->help = 1;
        a->help_scroll = 0;
        break;
    case ACT_SCREEN_DATA: to_front(a, SCREEN_DATA); break;
    case ACT_SCREEN_MODEL: to_front(a, SCREEN_MODEL); break;
    case ACT_SCREEN_TRAIN: to_front(a, SCREEN_TRAIN); break;
    case ACT_SCREEN_PREDICT: to_front(a, SCREEN_PREDICT); break;
    case ACT_SCREEN_RUNS: to_front(a, SCREEN_RUNS); break;
    case ACT_THEME:
        preview_reset();   // its colour pairs were made for the old theme
        if (style_cycle(a->status, sizeof a->status) == 0) app_status(a, _("theme: %s"), style_theme_name());
        break;
    case ACT_CODE:
        if (!a->code) a->code = code_pane_new();
        a->code_open = a->code && !a->code_open;
        if (!a->code) app_status(a, "%s", _("out of memory"));
        break;
    case ACT_LESSON: toggle_lesson(a); break;
    case ACT_LESSON_NEXT:
    case ACT_LESSON_BACK: lesson_pane_step(a->lesson, a, act == ACT_LESSON_NEXT ? 1 : -1); break;
    case ACT_PAGE_UP:
    case ACT_PAGE_DOWN:
    case ACT_HOME:
    case ACT_END:
        if (code_shown(a)) {   // the pane scrolls; Up/Down still move the screen's selection
            code_pane_scroll(a->code, act);
            break;
        }
        for (int k = 0; k < repeat; k++) SCREENS[a->screen]->act(a, a->state[a->screen], act);
        break;
    case ACT_NONE: break;
    default:
        for (int k = 0; k < repeat; k++) SCREENS[a->screen]->act(a, a->state[a->screen], act);
    }
}

// The dataset and the architecture to start with. 0, or 2 (the message printed) for an unknown one.
static int app_init(app *a, const app_options *opts) {
    a->opts = opts;
    const char *dataset_root = opts->dataset ? opts->dataset : "sample_data";
    snprintf(a->root, sizeof a->root, "%s", dataset_root);
    dataset_opts o;
    dataset_opts_default(&o);
    o.lenient = 1;
    a->have_dataset = dataset_scan(&a->d, dataset_root, &o, a->dataset_error, sizeof a->dataset_error) == 0;
    const char *arch = opts->arch ? opts->arch : "resnet18";
    for (size_t i = 0; i < ft_arch_count(); i++)
        if (strcmp(ft_arch_name(i), arch) == 0) {
            a->run.arch_index = i;
            return 0;
        }
    char archs[512];
    transfer_arch_list(archs, sizeof archs);
    fprintf(stderr, "frost: unknown architecture '%s' (one of %s)\n", arch, archs);
    dataset_free(&a->d);
    return 2;
}

int app_dataset_reload(app *a, char *err, size_t errlen) {
    if (a->run.training) {
        snprintf(err, errlen, "%s", _("a training run is reading the dataset (s stops it)"));
        return -1;
    }
    dataset_opts o;
    dataset_opts_default(&o);
    o.lenient = 1;
    dataset old = a->d, now;
    char why[512];
    if (dataset_scan(&now, a->root, &o, why, sizeof why) != 0) {
        snprintf(err, errlen, _("scanning %.300s again: %.200s"), a->root, why);
        return -1;
    }
    a->d = now;
    a->have_dataset = 1;
    for (int i = 0; i < N_SCREENS; i++)
        if (SCREENS[i]->dataset_changed) SCREENS[i]->dataset_changed(a, a->state[i], &old);
    dataset_free(&old);
    return 0;
}

int app_run(const app_options *opts) {
    static app a;
    memset(&a, 0, sizeof a);
    int rc = app_init(&a, opts);
    if (rc) return rc;
    // libtorch's threads as a training run on this machine sets them, so the cost line's measurements
    // (the Model screen) are of the speed a run will have. It also loads the libtorch part
    // (shim/torch_load.c) before the screen is taken: a missing library is said on a plain terminal.
    ft_set_num_threads(trainer_default_threads("auto"));
    char err[512];
    // the log is made before the screen takes over, so a path that cannot be written is said plainly
    if (opts->json && !(a.json_log = event_json_open(opts->json, err, sizeof err))) {
        fprintf(stderr, "frost: %s\n", err);
        dataset_free(&a.d);
        return 1;
    }
    if (term_start(err, sizeof err) != 0) {
        if (a.json_log) fclose(a.json_log);
        dataset_free(&a.d);
        fprintf(stderr, "frost: %s\n", err);
        return 1;
    }
    for (int i = 0; i < N_SCREENS && rc == 0; i++)
        if (!(a.state[i] = SCREENS[i]->create(&a))) rc = 1;
    if (rc == 0) {
        mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
                      | BUTTON5_PRESSED
#endif
                  ,
                  NULL);
        mouseinterval(0);
        char theme_msg[512] = "";
        style_start(opts->theme, theme_msg, sizeof theme_msg);
        app_status(&a, "%s",
                   !a.have_dataset ? a.dataset_error
                   : opts->notice  ? opts->notice
                   : theme_msg[0]  ? theme_msg
                                   : _("1-5: screens   ?: help   q: quit"));
        if (opts->lesson) toggle_lesson(&a);
        while (!a.quit && !term_quit_requested()) handle(&a, app_tick(&a));
    }
    // A signal (SIGTERM, Ctrl-C, the terminal hanging up) asks frost to end now: the screen is given
    // back first, and the rest of the way out is bounded (term_exit_deadline), so that a script that
    // started frost goes on at once. q waits for what the screens stop, with the screen up.
    if (rc == 0 && !a.quit) {
        term_stop();
        term_exit_deadline(QUIT_GRACE_SECONDS, rc);
    }
    // the last screen first: the Predict screen's job, then the Train screen's run (stopped cleanly at
    // its next batch boundary), ...
    for (int i = N_SCREENS; i-- > 0;)
        if (a.state[i]) SCREENS[i]->destroy(&a, a.state[i]);
    term_stop();
    if (rc) fprintf(stderr, "frost: out of memory\n");
    if (a.json_log && fclose(a.json_log) != 0) {
        fprintf(stderr, "frost: %s: cannot write the JSON log: %s\n", opts->json, strerror(errno));
        rc = 1;
    }
    code_pane_free(a.code);
    lesson_pane_free(a.lesson);
    ft_model_free(a.offer.model);
    free(a.load_settings);
    layer_report_free(&a.run.layers);
    dataset_free(&a.d);
    return rc;
}
