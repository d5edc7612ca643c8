// test_keys.c — the key table (tui/keys.c) linked into the test binary: each screen's keys do what the
// help says they do there, a key bound on two screens does each screen's own thing, a screen's key
// does nothing on the others, and the keys of every screen work on all of them. What the help and
// the key bar show is checked in tmux (tests/tui/test_app.c).
#include <criterion/criterion.h>
#include <curses.h>

#include "keys.h"

Test(keys, every_screen_has_the_common_keys) {
    const struct {
        int ch;
        app_action act;
    } common[] = {
        {'1', ACT_SCREEN_DATA},
        {'2', ACT_SCREEN_MODEL},
        {'3', ACT_SCREEN_TRAIN},
        {'4', ACT_SCREEN_PREDICT},
        {'5', ACT_SCREEN_RUNS},
        {'q', ACT_QUIT},
        {'?', ACT_HELP},
        {'c', ACT_THEME},
        {KEY_UP, ACT_UP},
        {'k', ACT_UP},
        {KEY_DOWN, ACT_DOWN},
        {'j', ACT_DOWN},
        {KEY_NPAGE, ACT_PAGE_DOWN},
        {KEY_PPAGE, ACT_PAGE_UP},
        {KEY_HOME, ACT_HOME},
        {KEY_END, ACT_END},
    };
    for (int s = 0; s < N_SCREENS; s++)
        for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
            cr_expect_eq(keys_lookup(s, common[i].ch), common[i].act, "key %d on screen %d", common[i].ch, s);
}

// A key bound on some screens: what it does on each of Data, Model, Train, Predict, Runs (in that order).
Test(keys, a_key_on_two_screens_does_each_screens_own_thing) {
    const struct {
        int ch;
        app_action on[N_SCREENS];
    } shared[] = {
        {'u', {ACT_UNDO, ACT_UNFREEZE_ALL, ACT_NONE, ACT_UNDO, ACT_NONE}},
        {'\n', {ACT_NONE, ACT_FOLD, ACT_START, ACT_NONE, ACT_START}},
        {'\t', {ACT_SWITCH_PANE, ACT_NONE, ACT_NONE, ACT_SWITCH_PANE, ACT_NONE}},
        {'m', {ACT_RELABEL, ACT_NONE, ACT_NONE, ACT_RELABEL, ACT_NONE}},
        {'z', {ACT_SET_ASIDE, ACT_NONE, ACT_NONE, ACT_SET_ASIDE, ACT_NONE}},
        {' ', {ACT_NONE, ACT_TOGGLE_FREEZE, ACT_NONE, ACT_NONE, ACT_MARK}},
        {'d', {ACT_NONE, ACT_DIFF, ACT_NONE, ACT_NONE, ACT_DELETE}},
        {'s', {ACT_NONE, ACT_STOP, ACT_STOP, ACT_STOP, ACT_SORT}},   // stop: a build, a run, an open
        {'l', {ACT_NONE, ACT_NONE, ACT_LR_FIND, ACT_CAM_LAYER, ACT_NONE}},
        {'L', {ACT_LESSON, ACT_LESSON, ACT_LESSON, ACT_LESSON, ACT_LESSON}},
    };
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++)
        for (int s = 0; s < N_SCREENS; s++)
            cr_expect_eq(keys_lookup(s, shared[i].ch), shared[i].on[s], "key %d on screen %d", shared[i].ch, s);
}

Test(keys, a_screens_key_does_nothing_elsewhere) {
    const struct {
        int screen, ch;
        app_action act;
    } own[] = {
        {SCREEN_MODEL, 'a', ACT_NEXT_ARCH},    {SCREEN_MODEL, 'A', ACT_PREV_ARCH},
        {SCREEN_MODEL, 'h', ACT_TOGGLE_HEAD},  {SCREEN_MODEL, 'f', ACT_FREEZE_BACKBONE},
        {SCREEN_MODEL, '[', ACT_BLOCK_FREEZE}, {SCREEN_MODEL, ']', ACT_BLOCK_THAW},
        {SCREEN_MODEL, 'b', ACT_BN_MODE},      {SCREEN_TRAIN, KEY_LEFT, ACT_LEFT},
        {SCREEN_TRAIN, KEY_RIGHT, ACT_RIGHT},  {SCREEN_TRAIN, 'p', ACT_PAUSE},
        {SCREEN_MODEL, 'B', ACT_BN_MODE},      {SCREEN_TRAIN, 'x', ACT_EXPORT},
        {SCREEN_PREDICT, 'o', ACT_OPEN},       {SCREEN_PREDICT, 'e', ACT_EVALUATE},
        {SCREEN_PREDICT, 'g', ACT_CAM},        {SCREEN_PREDICT, 'G', ACT_CAM_CLASS},
        {SCREEN_RUNS, 'r', ACT_SORT_REVERSE},  {SCREEN_RUNS, '/', ACT_FILTER},
    };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        for (int s = 0; s < N_SCREENS; s++)
            cr_expect_eq(keys_lookup(s, own[i].ch), s == own[i].screen ? own[i].act : ACT_NONE, "key %d on screen %d",
                         own[i].ch, s);
    cr_expect_eq(keys_lookup(SCREEN_DATA, 'Q'), ACT_NONE, "keys are case-sensitive");
    cr_expect_eq(keys_bar_click(0), ACT_NONE, "no bar drawn: a click presses nothing");
}

// While a lesson is open, n and b are its own on every screen (before the screen's: b is the Model
// screen's BatchNorm otherwise, which B always is); nothing else is.
Test(keys, a_lesson_takes_n_and_b) {
    cr_expect_eq(keys_lookup_lesson('n'), ACT_LESSON_NEXT);
    cr_expect_eq(keys_lookup_lesson('b'), ACT_LESSON_BACK);
    for (int ch = 1; ch < 128; ch++)
        if (ch != 'n' && ch != 'b') cr_expect_eq(keys_lookup_lesson(ch), ACT_NONE, "key %d", ch);
    cr_expect_eq(keys_lookup(SCREEN_MODEL, 'b'), ACT_BN_MODE, "no lesson: b is BatchNorm's");
    for (int s = 0; s < N_SCREENS; s++) cr_expect_eq(keys_lookup(s, 'n'), ACT_NONE, "n is only a lesson's");
}
