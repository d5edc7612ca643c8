// keys.c — the key table (see keys.h), the help screen and the key bar made from it.
#include "keys.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "style.h"

typedef struct {
    int ch;            // the key
    int screen;        // -1: every screen
    const char *key;   // as shown
    const char *what;
    app_action act;
    const char *bar;   // its short name in the bottom bar; NULL: only in the help
} binding;

static const binding KEYS[] = {
    {'1', -1, "1", "Data: classes, counts and files", ACT_SCREEN_DATA, "Data"},
    {'2', -1, "2", "Model: the network as PyTorch prints it", ACT_SCREEN_MODEL, "Model"},
    {'3', -1, "3", "Train: options, then live progress", ACT_SCREEN_TRAIN, "Train"},
    {'4', -1, "4", "Predict: top-k, confusion matrix, worst images", ACT_SCREEN_PREDICT, "Predict"},
    {'5', -1, "5", "Runs: every recorded run, two side by side", ACT_SCREEN_RUNS, "Runs"},
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
    {'s', SCREEN_MODEL, "s", "stop building the model", ACT_STOP, NULL},
    {'P', SCREEN_MODEL, "P", "the PyTorch code of this choice, live (PgUp/PgDn scroll it)", ACT_CODE, "code"},
    {'\t', SCREEN_DATA, "Tab", "classes / files", ACT_SWITCH_PANE, "classes/files"},
    {'m', SCREEN_DATA, "m", "move the selected file to another class", ACT_RELABEL, "move"},
    {'z', SCREEN_DATA, "z", "set the selected file aside (.frost-set-aside/)", ACT_SET_ASIDE, "set aside"},
    {'u', SCREEN_DATA, "u", "undo the last move", ACT_UNDO, "undo"},
    {KEY_LEFT, SCREEN_TRAIN, "Left", "previous value of the selected option", ACT_LEFT, NULL},
    {KEY_RIGHT, SCREEN_TRAIN, "Left/Right", "change the selected option", ACT_RIGHT, "change"},
    {'\n', SCREEN_TRAIN, "Enter", "start training", ACT_START, "start"},
    {'p', SCREEN_TRAIN, "p", "pause / resume", ACT_PAUSE, "pause"},
    {'s', SCREEN_TRAIN, "s", "stop: the run (at the end of the batch), the download, the lr finder, the export",
     ACT_STOP, "stop"},
    {'l', SCREEN_TRAIN, "l", "lr finder: sweep the lr, offer the suggestion", ACT_LR_FIND, "lr finder"},
    {'x', SCREEN_TRAIN, "x", "export the run as a PyTorch script (train.py, torchrun-ready)", ACT_EXPORT, "export"},
    {'P', SCREEN_TRAIN, "P", "the PyTorch code of this run, live (PgUp/PgDn scroll it)", ACT_CODE, "code"},
    {'o', SCREEN_PREDICT, "o", "open a checkpoint", ACT_OPEN, "open"},
    {'s', SCREEN_PREDICT, "s", "stop opening the checkpoint, or the evaluation", ACT_STOP, NULL},
    {'e', SCREEN_PREDICT, "e", "evaluate the valid split", ACT_EVALUATE, "evaluate"},
    {'\t', SCREEN_PREDICT, "Tab", "images / results", ACT_SWITCH_PANE, "images/results"},
    {'g', SCREEN_PREDICT, "g", "Grad-CAM: where the model looked, over the preview (on / off)", ACT_CAM, "grad-cam"},
    {'G', SCREEN_PREDICT, "G", "Grad-CAM for the next class", ACT_CAM_CLASS, NULL},
    {'L', SCREEN_PREDICT, "L", "Grad-CAM from another layer (typed)", ACT_CAM_LAYER, NULL},
    {'m', SCREEN_PREDICT, "m", "move the selected image to another class", ACT_RELABEL, "move"},
    {'z', SCREEN_PREDICT, "z", "set the selected image aside (.frost-set-aside/)", ACT_SET_ASIDE, "set aside"},
    {'u', SCREEN_PREDICT, "u", "undo the last move", ACT_UNDO, "undo"},
    {'\n', SCREEN_RUNS, "Enter", "load the run's settings into the Train form", ACT_START, "to form"},
    {' ', SCREEN_RUNS, "space", "mark / unmark the run (two marked: overlaid, settings diff)", ACT_MARK, "mark"},
    {'s', SCREEN_RUNS, "s", "sort by the next column", ACT_SORT, "sort"},
    {'r', SCREEN_RUNS, "r", "reverse the order", ACT_SORT_REVERSE, NULL},
    {'/', SCREEN_RUNS, "/", "filter the runs (typed)", ACT_FILTER, "filter"},
    {'d', SCREEN_RUNS, "d", "delete the run from the history (asks first)", ACT_DELETE, "delete"},
};
#define N_KEYS (sizeof KEYS / sizeof KEYS[0])

app_action keys_lookup(int which, int ch) {
    for (size_t i = 0; i < N_KEYS; i++)
        if (KEYS[i].ch == ch && (KEYS[i].screen < 0 || KEYS[i].screen == which)) return KEYS[i].act;
    return ACT_NONE;
}

// where each key bar item was drawn, for mouse clicks
static struct {
    int x0, x1;
    size_t key;
} g_bar[64];
static int g_n_bar;

static int on_bar(size_t i, int which) { return KEYS[i].bar && (KEYS[i].screen < 0 || KEYS[i].screen == which); }

static int is_screen_key(size_t i) {
    app_action a = KEYS[i].act;
    return a == ACT_SCREEN_DATA || a == ACT_SCREEN_MODEL || a == ACT_SCREEN_TRAIN || a == ACT_SCREEN_PREDICT ||
           a == ACT_SCREEN_RUNS;
}

// One item of the bar at x (key NOT_A_KEY: an item no click presses); the x after it, or -1 when it
// does not fit.
enum { NOT_A_KEY = -1 };
static int bar_item(int row, int x, int cols, const char *key, const char *name, int k) {
    char item[96];
    int n = snprintf(item, sizeof item, " %s %s ", key, name);
    if (x + n > cols) return -1;
    mvaddstr(row, x, item);
    if (g_n_bar < 64 && k != NOT_A_KEY)
        g_bar[g_n_bar].x0 = x, g_bar[g_n_bar].x1 = x + n, g_bar[g_n_bar++].key = (size_t)k;
    return x + n;
}

void keys_draw_bar(int which, int row, int cols) {
    g_n_bar = 0;
    move(row, 0);
    clrtoeol();
    attron(style(ROLE_KEYBAR));
    int x = 0, width = 0;
    for (size_t i = 0; i < N_KEYS; i++)
        if (on_bar(i, which)) width += (int)(strlen(KEYS[i].key) + strlen(KEYS[i].bar) + 3);
    if (width <= cols) {   // every key, in the table's order
        for (size_t i = 0; i < N_KEYS && x >= 0; i++)
            if (on_bar(i, which)) x = bar_item(row, x, cols, KEYS[i].key, KEYS[i].bar, (int)i);
    } else {
        // a narrow window: the screens as one item, help and quit, then the keys of the screen in front
        // (what the window is for), then the rest while they fit
        x = bar_item(row, x, cols, "1-5", "screens", NOT_A_KEY);
        for (int pass = 0; pass < 3; pass++)
            for (size_t i = 0; i < N_KEYS && x >= 0; i++) {
                if (!on_bar(i, which) || is_screen_key(i)) continue;
                int want = pass == 0   ? KEYS[i].act == ACT_HELP || KEYS[i].act == ACT_QUIT
                           : pass == 1 ? KEYS[i].screen == which
                                       : KEYS[i].screen < 0 && KEYS[i].act != ACT_HELP && KEYS[i].act != ACT_QUIT;
                if (want) {
                    int nx = bar_item(row, x, cols, KEYS[i].key, KEYS[i].bar, (int)i);
                    if (nx > 0) x = nx;
                }
            }
    }
    if (x < 0) x = cols;
    for (; x < cols; x++) mvaddch(row, x, ' ');
    attroff(style(ROLE_KEYBAR));
}

void keys_draw_help(int top, int rows, int cols) {
    int r = top;
    attron(style(ROLE_TITLE));
    mvaddnstr(r++, 2, "Keys (any key closes this help)", cols - 2);
    attroff(style(ROLE_TITLE));
    r++;
    for (size_t i = 0; i < N_KEYS && r < top + rows; i++) {
        const char *where = KEYS[i].screen == SCREEN_MODEL     ? "[Model] "
                            : KEYS[i].screen == SCREEN_DATA    ? "[Data] "
                            : KEYS[i].screen == SCREEN_TRAIN   ? "[Train] "
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

app_action keys_bar_click(int x) {
    for (int k = 0; k < g_n_bar; k++)
        if (x >= g_bar[k].x0 && x < g_bar[k].x1) return KEYS[g_bar[k].key].act;
    return ACT_NONE;
}
