// app.c — the interface's main loop, its key table (the help screen and the key bar are made from
// it), and the frame: title line, the screen in front, key bar, status line.
#include "app.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "preview.h"
#include "style.h"
#include "term.h"

typedef struct {
    int ch;           // the key
    int screen;       // -1: every screen
    const char *key;  // as shown
    const char *what;
    app_action act;
    const char *bar;  // its short name in the bottom bar; NULL: only in the help
} binding;

static const binding KEYS[] = {
    {'1', -1, "1", "Data: classes, counts and files", ACT_SCREEN_DATA, "Data"},
    {'2', -1, "2", "Model: the network as PyTorch prints it", ACT_SCREEN_MODEL, "Model"},
    {'3', -1, "3", "Train: options, then live progress", ACT_SCREEN_TRAIN, "Train"},
    {'4', -1, "4", "Predict: top-k, confusion matrix, worst images", ACT_SCREEN_PREDICT, "Predict"},
    {'c', -1, "c", "colours: the next theme", ACT_THEME, "theme"},
    {'?', -1, "?", "help", ACT_HELP, "help"},
    {'q', -1, "q", "quit", ACT_QUIT, "quit"},
    {KEY_UP, -1, "Up", "move up", ACT_UP, NULL},
    {'k', -1, "k", "move up", ACT_UP, NULL},
    {KEY_DOWN, -1, "Down", "move down", ACT_DOWN, NULL},
    {'j', -1, "j", "move down", ACT_DOWN, NULL},
    {KEY_PPAGE, -1, "PgUp", "page up", ACT_PAGE_UP, NULL},
    {KEY_NPAGE, -1, "PgDn", "page down", ACT_PAGE_DOWN, NULL},
    {KEY_HOME, -1, "Home", "first line", ACT_HOME, NULL},
    {KEY_END, -1, "End", "last line", ACT_END, NULL},
    {'a', SCREEN_MODEL, "a/A", "next / previous architecture", ACT_NEXT_ARCH, "arch"},
    {'A', SCREEN_MODEL, "A", "previous architecture", ACT_PREV_ARCH, NULL},
    {'h', SCREEN_MODEL, "h", "before / after head replacement", ACT_TOGGLE_HEAD, "head"},
    {' ', SCREEN_MODEL, "space", "freeze / thaw the selected module", ACT_TOGGLE_FREEZE, "freeze"},
    {'f', SCREEN_MODEL, "f", "freeze all but the head", ACT_FREEZE_BACKBONE, "all but head"},
    {'u', SCREEN_MODEL, "u", "unfreeze all", ACT_UNFREEZE_ALL, "thaw all"},
    {'\n', SCREEN_MODEL, "Enter", "fold / unfold the selected block", ACT_FOLD, "fold"},
    {'d', SCREEN_MODEL, "d", "side by side: before and after head replacement", ACT_DIFF, "side by side"},
    {'[', SCREEN_MODEL, "[ ]", "freeze one more block (from the input)", ACT_BLOCK_FREEZE, "freeze/thaw block"},
    {']', SCREEN_MODEL, "]", "thaw one more block (from the head)", ACT_BLOCK_THAW, NULL},
    {'b', SCREEN_MODEL, "b", "BatchNorm of frozen layers: eval / train", ACT_BN_MODE, "BatchNorm"},
    {'\t', SCREEN_DATA, "Tab", "classes / files", ACT_SWITCH_PANE, "classes/files"},
    {KEY_LEFT, SCREEN_TRAIN, "Left", "previous value of the selected option", ACT_LEFT, NULL},
    {KEY_RIGHT, SCREEN_TRAIN, "Left/Right", "change the selected option", ACT_RIGHT, "change"},
    {'\n', SCREEN_TRAIN, "Enter", "start training", ACT_START, "start"},
    {'p', SCREEN_TRAIN, "p", "pause / resume", ACT_PAUSE, "pause"},
    {'s', SCREEN_TRAIN, "s", "stop at the end of the batch", ACT_STOP, "stop"},
    {'o', SCREEN_PREDICT, "o", "open a checkpoint", ACT_OPEN, "open"},
    {'e', SCREEN_PREDICT, "e", "evaluate the valid split", ACT_EVALUATE, "evaluate"},
    {'\t', SCREEN_PREDICT, "Tab", "images / results", ACT_SWITCH_PANE, "images/results"},
};
#define N_KEYS (sizeof KEYS / sizeof KEYS[0])

static app_action lookup(const app *a, int ch) {
    for (size_t i = 0; i < N_KEYS; i++)
        if (KEYS[i].ch == ch && (KEYS[i].screen < 0 || KEYS[i].screen == a->screen)) return KEYS[i].act;
    return ACT_NONE;
}

// where each key bar item was drawn, for mouse clicks
static struct {
    int x0, x1;
    size_t key;
} g_bar[64];
static int g_n_bar;

static void draw_keybar(const app *a, int row, int cols) {
    g_n_bar = 0;
    move(row, 0);
    clrtoeol();
    attron(style(ROLE_KEYBAR));
    int x = 0;
    for (size_t i = 0; i < N_KEYS && x < cols; i++) {
        if (!KEYS[i].bar || (KEYS[i].screen >= 0 && KEYS[i].screen != a->screen)) continue;
        char item[96];
        int n = snprintf(item, sizeof item, " %s %s ", KEYS[i].key, KEYS[i].bar);
        if (x + n > cols) break;
        mvaddstr(row, x, item);
        if (g_n_bar < 64) g_bar[g_n_bar].x0 = x, g_bar[g_n_bar].x1 = x + n, g_bar[g_n_bar++].key = i;
        x += n;
    }
    for (; x < cols; x++) mvaddch(row, x, ' ');
    attroff(style(ROLE_KEYBAR));
}

static void draw_help(int top, int rows, int cols) {
    int r = top;
    attron(style(ROLE_TITLE));
    mvaddnstr(r++, 2, "Keys (any key closes this help)", cols - 2);
    attroff(style(ROLE_TITLE));
    r++;
    for (size_t i = 0; i < N_KEYS && r < top + rows; i++) {
        const char *where = KEYS[i].screen == SCREEN_MODEL  ? "[Model] "
                            : KEYS[i].screen == SCREEN_DATA ? "[Data] "
                            : KEYS[i].screen == SCREEN_TRAIN ? "[Train] "
                            : KEYS[i].screen == SCREEN_PREDICT ? "[Predict] "
                                                             : "";
        attron(style(ROLE_TITLE));
        mvprintw(r, 2, "%-7s ", KEYS[i].key);
        attroff(style(ROLE_TITLE));
        attron(style(ROLE_DIM));
        addstr(where);
        attroff(style(ROLE_DIM));
        addstr(KEYS[i].what);
        r++;
    }
}

enum { MIN_COLS = 60, MIN_ROWS = 16 };

static void draw(app *a) {
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    erase();
    if (rows < MIN_ROWS || cols < MIN_COLS) {
        char msg[160];
        snprintf(msg, sizeof msg, "The window is %dx%d; frost needs %dx%d at least. Enlarge it, or press q to quit.", cols,
                 rows, MIN_COLS, MIN_ROWS);
        // wrapped over as many lines as it takes
        int len = (int)strlen(msg);
        for (int r = 0, off = 0; off < len && r < rows; r++, off += cols) mvaddnstr(r, 0, msg + off, cols);
        refresh();
        return;
    }
    attron(style(ROLE_TITLE));
    static const char *const names[N_SCREENS] = {"1 Data", "2 Model", "3 Train", "4 Predict"};
    mvprintw(0, 0, "frost  %s  [%s]", a->root, names[a->screen]);
    attroff(style(ROLE_TITLE));
    // a rule under the title (box-drawing, or '-' in ASCII)
    attron(style(ROLE_DIM));
    move(1, 0);
    for (int x = 0; x < cols; x++) addstr(glyph(GL_HLINE));
    attroff(style(ROLE_DIM));
    int top = 2, body = rows - 4;
    if (a->help)
        draw_help(top, body, cols);
    else if (a->screen == SCREEN_DATA)
        data_draw(a, top, body, cols);
    else if (a->screen == SCREEN_MODEL)
        model_draw(a, top, body, cols);
    else if (a->screen == SCREEN_TRAIN)
        train_draw(a, top, body, cols);
    else
        predict_draw(a, top, body, cols);
    attron(style(ROLE_STATUS));
    mvaddnstr(rows - 2, 0, a->status, cols);
    attroff(style(ROLE_STATUS));
    draw_keybar(a, rows - 1, cols);
    refresh();
}

// A mouse event as an action: the wheel scrolls, a click on the key bar presses that key, a click in
// the body goes to the screen (ACT_MOUSE, with the position in a->mouse_y/x).
static app_action mouse_action(app *a, int *repeat) {
    MEVENT ev;
    *repeat = 1;
    if (getmouse(&ev) != OK) return ACT_NONE;
    if (ev.bstate & BUTTON4_PRESSED) {
        *repeat = 3;
        return ACT_UP;
    }
#ifdef BUTTON5_PRESSED
    if (ev.bstate & BUTTON5_PRESSED) {
        *repeat = 3;
        return ACT_DOWN;
    }
#endif
    if (!(ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED))) return ACT_NONE;
    if (ev.y == LINES - 1) {
        for (int k = 0; k < g_n_bar; k++)
            if (ev.x >= g_bar[k].x0 && ev.x < g_bar[k].x1) return KEYS[g_bar[k].key].act;
        return ACT_NONE;
    }
    a->mouse_y = ev.y;
    a->mouse_x = ev.x;
    return ACT_MOUSE;
}

// Hands an action to the screen in front.
static void screen_act(app *a, app_action act, int rows) {
    if (a->screen == SCREEN_DATA)
        data_act(a, act, rows);
    else if (a->screen == SCREEN_MODEL)
        model_act(a, act, rows);
    else if (a->screen == SCREEN_TRAIN)
        train_act(a, act);
    else
        predict_act(a, act, rows);
}

int app_run(const app_options *opts) {
    static app a;
    memset(&a, 0, sizeof a);
    a.opts = opts;
    const char *dataset_root = opts->dataset ? opts->dataset : "sample_data";
    snprintf(a.root, sizeof a.root, "%s", dataset_root);
    dataset_opts o;
    dataset_opts_default(&o);
    o.lenient = 1;
    a.have_dataset = dataset_scan(&a.d, dataset_root, &o, a.dataset_error, sizeof a.dataset_error) == 0;
    const char *arch = opts->arch ? opts->arch : "resnet18";
    int arch_found = 0;
    for (size_t i = 0; i < ft_arch_count(); i++)
        if (strcmp(ft_arch_name(i), arch) == 0) a.arch_index = i, arch_found = 1;
    if (!arch_found) {
        char archs[512];
        cli_arch_list(archs, sizeof archs);
        fprintf(stderr, "frost: unknown architecture '%s' (one of %s)\n", arch, archs);
        dataset_free(&a.d);
        return 2;
    }
    train_defaults(&a);
    char err[512];
    if (term_start(err, sizeof err) != 0) {
        dataset_free(&a.d);
        fprintf(stderr, "frost: %s\n", err);
        return 1;
    }
    mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
                  | BUTTON5_PRESSED
#endif
              ,
              NULL);
    mouseinterval(0);
    char theme_msg[512] = "";
    style_start(opts->theme, theme_msg, sizeof theme_msg);
    snprintf(a.status, sizeof a.status, "%s",
             !a.have_dataset ? a.dataset_error : theme_msg[0] ? theme_msg : "1-4: screens   ?: help   q: quit");
    while (!a.quit && !term_quit_requested()) {
        train_poll(&a);
        data_poll(&a);
        predict_poll(&a);
        draw(&a);
        int ch = getch();
        if (ch == ERR || ch == KEY_RESIZE) continue;
        if (a.help) {
            a.help = 0;
            continue;
        }
        int repeat = 1;
        app_action act = ch == KEY_MOUSE ? mouse_action(&a, &repeat) : lookup(&a, ch == KEY_ENTER || ch == '\r' ? '\n' : ch);
        int rows = LINES - 4;
        if (LINES < MIN_ROWS || COLS < MIN_COLS) {   // only quitting works in a window too small to draw
            if (act == ACT_QUIT) a.quit = 1;
            continue;
        }
        switch (act) {
        case ACT_QUIT: a.quit = 1; break;
        case ACT_HELP: a.help = 1; break;
        case ACT_SCREEN_DATA: a.screen = SCREEN_DATA; break;
        case ACT_SCREEN_MODEL:
            a.screen = SCREEN_MODEL;
            if (!a.model) {
                snprintf(a.status, sizeof a.status, "building %s...", ft_arch_name(a.arch_index));
                draw(&a);
                model_rebuild(&a);
            }
            break;
        case ACT_SCREEN_TRAIN: a.screen = SCREEN_TRAIN; break;
        case ACT_SCREEN_PREDICT: a.screen = SCREEN_PREDICT; break;
        case ACT_THEME:
            preview_reset();   // its colour pairs were made for the old theme
            if (style_cycle(a.status, sizeof a.status) == 0)
                snprintf(a.status, sizeof a.status, "theme: %s", style_theme_name());
            break;
        case ACT_NONE: break;
        default:
            // the wheel scrolls the lists 3 lines a notch; the Train form moves one field
            for (int k = 0; k < (a.screen == SCREEN_TRAIN ? 1 : repeat); k++) screen_act(&a, act, rows);
        }
    }
    // leaving stops the trainer cleanly first (at its next batch boundary)
    if (a.tr) {
        snprintf(a.status, sizeof a.status, "stopping the training run...");
        draw(&a);
    }
    train_stop_and_join(&a);
    term_stop();
    predict_free(&a);
    data_free(&a);
    ft_model_free(a.pr_model);
    model_free(&a);
    dataset_free(&a.d);
    return 0;
}
