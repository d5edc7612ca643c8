// keys.c — the key table (see keys.h), the help screen and the key bar made from it.
#include "keys.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "style.h"
#include "text_wrap.h"

typedef struct {
    int ch;            // the key
    int screen;        // -1: every screen
    const char *key;   // as shown
    const char *what;
    app_action act;
    const char *bar;   // its short name in the bottom bar; NULL: only in the help
} binding;

static const binding KEYS[] = {
    {'1', -1, "1", N_("Data: classes, counts and files"), ACT_SCREEN_DATA, N_("Data")},
    {'2', -1, "2", N_("Model: the network as PyTorch prints it"), ACT_SCREEN_MODEL, N_("Model")},
    {'3', -1, "3", N_("Train: options, then live progress"), ACT_SCREEN_TRAIN, N_("Train")},
    {'4', -1, "4", N_("Predict: top-k, confusion matrix, worst images"), ACT_SCREEN_PREDICT, N_("Predict")},
    {'5', -1, "5", N_("Runs: every recorded run, two side by side"), ACT_SCREEN_RUNS, N_("Runs")},
    {'c', -1, "c", N_("colours: the next theme"), ACT_THEME, N_("theme")},
    {'?', -1, "?", N_("help"), ACT_HELP, N_("help")},
    {'q', -1, "q", N_("quit"), ACT_QUIT, N_("quit")},
    {'L', -1, "L", N_("lesson: a guided walk through the screens, on / off (frost lesson NAME picks one)"), ACT_LESSON,
     N_("lesson")},
    {KEY_UP, -1, "Up", N_("move up"), ACT_UP, NULL},
    {'k', -1, "k", N_("move up"), ACT_UP, NULL},
    {KEY_DOWN, -1, "Down", N_("move down"), ACT_DOWN, NULL},
    {'j', -1, "j", N_("move down"), ACT_DOWN, NULL},
    {KEY_PPAGE, -1, "PgUp", N_("page up"), ACT_PAGE_UP, NULL},
    {KEY_NPAGE, -1, "PgDn", N_("page down"), ACT_PAGE_DOWN, NULL},
    {KEY_HOME, -1, "Home", N_("first line"), ACT_HOME, NULL},
    {KEY_END, -1, "End", N_("last line"), ACT_END, NULL},
    {'a', SCREEN_MODEL, "a/A", N_("next / previous architecture"), ACT_NEXT_ARCH, N_("arch")},
    {'A', SCREEN_MODEL, "A", N_("previous architecture"), ACT_PREV_ARCH, NULL},
    {'h', SCREEN_MODEL, "h", N_("before / after head replacement"), ACT_TOGGLE_HEAD, N_("head")},
    {' ', SCREEN_MODEL, "space", N_("freeze / thaw the selected module"), ACT_TOGGLE_FREEZE, N_("freeze")},
    {'f', SCREEN_MODEL, "f", N_("freeze all but the head"), ACT_FREEZE_BACKBONE, N_("all but head")},
    {'u', SCREEN_MODEL, "u", N_("unfreeze all"), ACT_UNFREEZE_ALL, N_("thaw all")},
    {'\n', SCREEN_MODEL, "Enter", N_("fold / unfold the selected block"), ACT_FOLD, N_("fold")},
    {'d', SCREEN_MODEL, "d", N_("side by side: before and after head replacement"), ACT_DIFF, N_("side by side")},
    {'[', SCREEN_MODEL, "[ ]", N_("freeze one more block (from the input)"), ACT_BLOCK_FREEZE, N_("freeze/thaw block")},
    {']', SCREEN_MODEL, "]", N_("thaw one more block (from the head)"), ACT_BLOCK_THAW, NULL},
    {'b', SCREEN_MODEL, "b/B", N_("BatchNorm of frozen layers: eval / train"), ACT_BN_MODE, N_("BatchNorm")},
    {'B', SCREEN_MODEL, "B", N_("BatchNorm of frozen layers: eval / train"), ACT_BN_MODE, NULL},
    {'s', SCREEN_MODEL, "s", N_("stop building the model"), ACT_STOP, NULL},
    {'P', SCREEN_MODEL, "P", N_("the PyTorch code of this choice, live (PgUp/PgDn scroll it)"), ACT_CODE, N_("code")},
    {'\t', SCREEN_DATA, "Tab", N_("classes / files"), ACT_SWITCH_PANE, N_("classes/files")},
    {'m', SCREEN_DATA, "m", N_("move the selected file to another class"), ACT_RELABEL, N_("move")},
    {'z', SCREEN_DATA, "z", N_("set the selected file aside (.frost-set-aside/)"), ACT_SET_ASIDE, N_("set aside")},
    {'u', SCREEN_DATA, "u", N_("undo the last move"), ACT_UNDO, N_("undo")},
    {KEY_LEFT, SCREEN_TRAIN, "Left", N_("previous value of the selected option"), ACT_LEFT, NULL},
    {KEY_RIGHT, SCREEN_TRAIN, "Left/Right", N_("change the selected option"), ACT_RIGHT, N_("change")},
    {'\n', SCREEN_TRAIN, "Enter", N_("start training"), ACT_START, N_("start")},
    {'p', SCREEN_TRAIN, "p", N_("pause / resume"), ACT_PAUSE, N_("pause")},
    {'s', SCREEN_TRAIN, "s", N_("stop: the run (at the end of the batch), the download, the lr finder, the export"),
     ACT_STOP, N_("stop")},
    {'l', SCREEN_TRAIN, "l", N_("lr finder: sweep the lr, offer the suggestion"), ACT_LR_FIND, N_("lr finder")},
    {'x', SCREEN_TRAIN, "x", N_("export the run as a PyTorch script (train.py, torchrun-ready)"), ACT_EXPORT,
     N_("export")},
    {'P', SCREEN_TRAIN, "P", N_("the PyTorch code of this run, live (PgUp/PgDn scroll it)"), ACT_CODE, N_("code")},
    {'o', SCREEN_PREDICT, "o", N_("open a checkpoint"), ACT_OPEN, N_("open")},
    {'s', SCREEN_PREDICT, "s", N_("stop opening the checkpoint, or the evaluation"), ACT_STOP, NULL},
    {'e', SCREEN_PREDICT, "e", N_("evaluate the valid split"), ACT_EVALUATE, N_("evaluate")},
    {'\t', SCREEN_PREDICT, "Tab", N_("images / results"), ACT_SWITCH_PANE, N_("images/results")},
    {'g', SCREEN_PREDICT, "g", N_("Grad-CAM: where the model looked, over the preview (on / off)"), ACT_CAM,
     N_("grad-cam")},
    {'G', SCREEN_PREDICT, "G", N_("Grad-CAM for the next class"), ACT_CAM_CLASS, NULL},
    {'l', SCREEN_PREDICT, "l", N_("Grad-CAM from another layer (typed)"), ACT_CAM_LAYER, NULL},
    {'m', SCREEN_PREDICT, "m", N_("move the selected image to another class"), ACT_RELABEL, N_("move")},
    {'z', SCREEN_PREDICT, "z", N_("set the selected image aside (.frost-set-aside/)"), ACT_SET_ASIDE, N_("set aside")},
    {'u', SCREEN_PREDICT, "u", N_("undo the last move"), ACT_UNDO, N_("undo")},
    {'\n', SCREEN_RUNS, "Enter", N_("load the run's settings into the Train form"), ACT_START, N_("to form")},
    {' ', SCREEN_RUNS, "space", N_("mark / unmark the run (two marked: overlaid, settings diff)"), ACT_MARK,
     N_("mark")},
    {'s', SCREEN_RUNS, "s", N_("sort by the next column"), ACT_SORT, N_("sort")},
    {'r', SCREEN_RUNS, "r", N_("reverse the order"), ACT_SORT_REVERSE, NULL},
    {'/', SCREEN_RUNS, "/", N_("filter the runs (typed)"), ACT_FILTER, N_("filter")},
    {'d', SCREEN_RUNS, "d", N_("delete the run from the history (asks first)"), ACT_DELETE, N_("delete")},
    {'n', KEYS_LESSON, "n", N_("the lesson's next step"), ACT_LESSON_NEXT, NULL},
    {'b', KEYS_LESSON, "b", N_("the lesson's step before (the Model screen's BatchNorm is then B)"), ACT_LESSON_BACK,
     NULL},
};
#define N_KEYS (sizeof KEYS / sizeof KEYS[0])

app_action keys_lookup(int which, int ch) {
    for (size_t i = 0; i < N_KEYS; i++)
        if (KEYS[i].ch == ch && (KEYS[i].screen == -1 || KEYS[i].screen == which)) return KEYS[i].act;
    return ACT_NONE;
}

app_action keys_lookup_lesson(int ch) {
    for (size_t i = 0; i < N_KEYS; i++)
        if (KEYS[i].ch == ch && KEYS[i].screen == KEYS_LESSON) return KEYS[i].act;
    return ACT_NONE;
}

// where each key bar item was drawn, for mouse clicks
static struct {
    int x0, x1;
    size_t key;
} g_bar[64];
static int g_n_bar;

static int on_bar(size_t i, int which) { return KEYS[i].bar && (KEYS[i].screen == -1 || KEYS[i].screen == which); }

// The columns key i's name takes on the bar, in the user's language.
static int bar_columns(size_t i) {
    const char *name = _(KEYS[i].bar);
    return text_columns(name, strlen(name));
}

static int is_screen_key(size_t i) {
    app_action a = KEYS[i].act;
    return a == ACT_SCREEN_DATA || a == ACT_SCREEN_MODEL || a == ACT_SCREEN_TRAIN || a == ACT_SCREEN_PREDICT ||
           a == ACT_SCREEN_RUNS;
}

// One item of the bar at x (key NOT_A_KEY: an item no click presses); the x after it, or -1 when it
// does not fit.
enum { NOT_A_KEY = -1 };
static int bar_item(int row, int x, int cols, const char *key, const char *name, int k) {
    char item[160];
    snprintf(item, sizeof item, " %s %s ", key, name);
    int n = text_columns(item, strlen(item));   // (a Chinese name takes two columns a character)
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
        if (on_bar(i, which)) width += text_columns(KEYS[i].key, strlen(KEYS[i].key)) + bar_columns(i) + 3;
    if (width <= cols) {   // every key, in the table's order
        for (size_t i = 0; i < N_KEYS && x >= 0; i++)
            if (on_bar(i, which)) x = bar_item(row, x, cols, KEYS[i].key, _(KEYS[i].bar), (int)i);
    } else {
        // a narrow window: the screens as one item, help and quit, then the keys of the screen in front
        // (what the window is for), then the rest while they fit
        x = bar_item(row, x, cols, "1-5", _("screens"), NOT_A_KEY);
        for (int pass = 0; pass < 3; pass++)
            for (size_t i = 0; i < N_KEYS && x >= 0; i++) {
                if (!on_bar(i, which) || is_screen_key(i)) continue;
                int want = pass == 0   ? KEYS[i].act == ACT_HELP || KEYS[i].act == ACT_QUIT
                           : pass == 1 ? KEYS[i].screen == which
                                       : KEYS[i].screen == -1 && KEYS[i].act != ACT_HELP && KEYS[i].act != ACT_QUIT;
                if (want) {
                    int nx = bar_item(row, x, cols, KEYS[i].key, _(KEYS[i].bar), (int)i);
                    if (nx > 0) x = nx;
                }
            }
    }
    if (x < 0) x = cols;
    for (; x < cols; x++) mvaddch(row, x, ' ');
    attroff(style(ROLE_KEYBAR));
}

void keys_draw_help(int top, int rows, int cols, int *scroll) {
    int r = top, shown = rows - 2 > 1 ? rows - 2 : 1;   // the title and a blank row above the keys
    int most = (int)N_KEYS > shown ? (int)N_KEYS - shown : 0;
    if (*scroll > most) *scroll = most;
    if (*scroll < 0) *scroll = 0;
    char title[300];
    if (most > 0)   // a window too short for every key: say which are shown, and how to see the rest
        snprintf(title, sizeof title, _("Keys %d-%d of %d (Up/Down, PgUp/PgDn scroll; any other key closes this help)"),
                 *scroll + 1, *scroll + shown, (int)N_KEYS);
    else
        snprintf(title, sizeof title, "%s", _("Keys (any key closes this help)"));
    attron(style(ROLE_TITLE));
    mvaddnstr(r++, 2, title, (int)text_fit(title, cols - 2, NULL));
    attroff(style(ROLE_TITLE));
    r++;
    for (size_t i = (size_t)*scroll; i < N_KEYS && r < top + rows; i++) {
        const char *where = KEYS[i].screen == SCREEN_MODEL     ? _("[Model] ")
                            : KEYS[i].screen == SCREEN_DATA    ? _("[Data] ")
                            : KEYS[i].screen == SCREEN_TRAIN   ? _("[Train] ")
                            : KEYS[i].screen == SCREEN_PREDICT ? _("[Predict] ")
                            : KEYS[i].screen == SCREEN_RUNS    ? _("[Runs] ")
                            : KEYS[i].screen == KEYS_LESSON    ? _("[Lesson] ")
                                                               : "";
        attron(style(ROLE_TITLE));
        mvprintw(r, 2, "%-7s ", KEYS[i].key);
        attroff(style(ROLE_TITLE));
        attron(style(ROLE_DIM));
        addstr(where);
        attroff(style(ROLE_DIM));
        addstr(_(KEYS[i].what));
        r++;
    }
}

app_action keys_bar_click(int x) {
    for (int k = 0; k < g_n_bar; k++)
        if (x >= g_bar[k].x0 && x < g_bar[k].x1) return KEYS[g_bar[k].key].act;
    return ACT_NONE;
}
