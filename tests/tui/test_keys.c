// test_keys.c — the key table (tui/keys.c) linked into the test binary: each screen's keys do what the
// help says they do there, a key bound on two screens does each screen's own thing, a screen's key
// does nothing on the others, and the keys of every screen work on all of them. What the help and
// the key bar show is checked in tmux (tests/tui/test_app.c).
#include <criterion/criterion.h>
#include <curses.h>

#include "keys.h"

Test(keys, every_screen_has_the_common_keys) {
    for (int s = 0; s < N_SCREENS; s++) {
        cr_expect_eq(keys_lookup(s, '1'), ACT_SCREEN_DATA, "screen %d", s);
        cr_expect_eq(keys_lookup(s, '2'), ACT_SCREEN_MODEL);
        cr_expect_eq(keys_lookup(s, '3'), ACT_SCREEN_TRAIN);
        cr_expect_eq(keys_lookup(s, '4'), ACT_SCREEN_PREDICT);
        cr_expect_eq(keys_lookup(s, 'q'), ACT_QUIT);
        cr_expect_eq(keys_lookup(s, '?'), ACT_HELP);
        cr_expect_eq(keys_lookup(s, 'c'), ACT_THEME);
        cr_expect_eq(keys_lookup(s, KEY_UP), ACT_UP);
        cr_expect_eq(keys_lookup(s, 'k'), ACT_UP);
        cr_expect_eq(keys_lookup(s, KEY_DOWN), ACT_DOWN);
        cr_expect_eq(keys_lookup(s, 'j'), ACT_DOWN);
        cr_expect_eq(keys_lookup(s, KEY_NPAGE), ACT_PAGE_DOWN);
        cr_expect_eq(keys_lookup(s, KEY_PPAGE), ACT_PAGE_UP);
        cr_expect_eq(keys_lookup(s, KEY_HOME), ACT_HOME);
        cr_expect_eq(keys_lookup(s, KEY_END), ACT_END);
    }
}

Test(keys, a_key_on_two_screens_does_each_screens_own_thing) {
    cr_expect_eq(keys_lookup(SCREEN_MODEL, 'u'), ACT_UNFREEZE_ALL);
    cr_expect_eq(keys_lookup(SCREEN_DATA, 'u'), ACT_UNDO);
    cr_expect_eq(keys_lookup(SCREEN_PREDICT, 'u'), ACT_UNDO);
    cr_expect_eq(keys_lookup(SCREEN_TRAIN, 'u'), ACT_NONE);
    cr_expect_eq(keys_lookup(SCREEN_MODEL, '\n'), ACT_FOLD);
    cr_expect_eq(keys_lookup(SCREEN_TRAIN, '\n'), ACT_START);
    cr_expect_eq(keys_lookup(SCREEN_DATA, '\n'), ACT_NONE);
    cr_expect_eq(keys_lookup(SCREEN_DATA, '\t'), ACT_SWITCH_PANE);
    cr_expect_eq(keys_lookup(SCREEN_PREDICT, '\t'), ACT_SWITCH_PANE);
    cr_expect_eq(keys_lookup(SCREEN_MODEL, '\t'), ACT_NONE);
    cr_expect_eq(keys_lookup(SCREEN_DATA, 'm'), ACT_RELABEL);
    cr_expect_eq(keys_lookup(SCREEN_PREDICT, 'z'), ACT_SET_ASIDE);
}

Test(keys, a_screens_key_does_nothing_elsewhere) {
    const struct {
        int screen, ch;
        app_action act;
    } own[] = {
        {SCREEN_MODEL, 'a', ACT_NEXT_ARCH},
        {SCREEN_MODEL, 'A', ACT_PREV_ARCH},
        {SCREEN_MODEL, 'h', ACT_TOGGLE_HEAD},
        {SCREEN_MODEL, ' ', ACT_TOGGLE_FREEZE},
        {SCREEN_MODEL, 'f', ACT_FREEZE_BACKBONE},
        {SCREEN_MODEL, 'd', ACT_DIFF},
        {SCREEN_MODEL, '[', ACT_BLOCK_FREEZE},
        {SCREEN_MODEL, ']', ACT_BLOCK_THAW},
        {SCREEN_MODEL, 'b', ACT_BN_MODE},
        {SCREEN_TRAIN, KEY_LEFT, ACT_LEFT},
        {SCREEN_TRAIN, KEY_RIGHT, ACT_RIGHT},
        {SCREEN_TRAIN, 'p', ACT_PAUSE},
        {SCREEN_TRAIN, 's', ACT_STOP},
        {SCREEN_TRAIN, 'l', ACT_LR_FIND},
        {SCREEN_TRAIN, 'x', ACT_EXPORT},
        {SCREEN_PREDICT, 'o', ACT_OPEN},
        {SCREEN_PREDICT, 'e', ACT_EVALUATE},
        {SCREEN_PREDICT, 'g', ACT_CAM},
        {SCREEN_PREDICT, 'G', ACT_CAM_CLASS},
        {SCREEN_PREDICT, 'L', ACT_CAM_LAYER},
    };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        for (int s = 0; s < N_SCREENS; s++)
            cr_expect_eq(keys_lookup(s, own[i].ch), s == own[i].screen ? own[i].act : ACT_NONE, "key %d on screen %d",
                         own[i].ch, s);
    cr_expect_eq(keys_lookup(SCREEN_DATA, 'Q'), ACT_NONE, "keys are case-sensitive");
    cr_expect_eq(keys_bar_click(0), ACT_NONE, "no bar drawn: a click presses nothing");
}
