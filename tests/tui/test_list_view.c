// test_list_view.c — the interface's one list (tui/list_view.c) linked into the test binary: the
// selection stays inside the list and on the page, paging keeps a row of context, a taller window is
// filled, and a click selects the row under it (or nothing, below the last row). The screens' tests
// (tests/tui/, in tmux) see the same through the keys.
#include <criterion/criterion.h>

#include "list_view.h"

// One key on a list of 100 rows shown 10 at a time (screen rows 2..11), laid out again as the
// screen does before it draws: the selected row and the first row shown after it.
static void press(list_view *v, app_action act, int want_sel, int want_top, const char *what) {
    cr_expect(list_view_act(v, act, 0, 0), "%s: not taken", what);
    list_view_layout(v, 100, 2, 0, 10, 40);
    cr_expect_eq(v->sel, want_sel, "%s: selected %d", what, v->sel);
    cr_expect_eq(v->top, want_top, "%s: first shown %d", what, v->top);
}

Test(list_view, keys_move_the_selection_and_keep_it_on_the_page) {
    list_view v = {0};
    list_view_layout(&v, 100, 2, 0, 10, 40);
    cr_expect_eq(v.sel, 0);
    cr_expect_eq(v.top, 0);
    press(&v, ACT_UP, 0, 0, "up at the first row stays there");
    press(&v, ACT_PAGE_DOWN, 9, 0, "a page is the rows shown less one: row 9 is still on the first page");
    press(&v, ACT_DOWN, 10, 1, "one row down past the page scrolls by one");
    press(&v, ACT_END, 99, 90, "end");
    press(&v, ACT_PAGE_DOWN, 99, 90, "past the end stays at the last row");
    press(&v, ACT_PAGE_UP, 90, 90, "page up");
    press(&v, ACT_HOME, 0, 0, "home");
    cr_expect_not(list_view_act(&v, ACT_QUIT, 0, 0), "not a list's action");
}

Test(list_view, a_shorter_list_or_a_taller_window_is_filled) {
    list_view v = {0};
    list_view_layout(&v, 50, 0, 0, 10, 20);
    list_view_act(&v, ACT_END, 0, 0);
    list_view_layout(&v, 50, 0, 0, 10, 20);
    cr_expect_eq(v.top, 40);
    list_view_layout(&v, 50, 0, 0, 30, 20);   // the window grows
    cr_expect_eq(v.top, 20, "no empty rows below the last while rows above are scrolled away");
    cr_expect_eq(v.sel, 49);
    list_view_layout(&v, 5, 0, 0, 30, 20);   // the list shrinks
    cr_expect_eq(v.sel, 4, "the selection stays inside the list");
    cr_expect_eq(v.top, 0);
    list_view_layout(&v, 0, 0, 0, 30, 20);   // empty
    cr_expect_eq(v.sel, 0);
    cr_expect(list_view_act(&v, ACT_END, 0, 0));
    cr_expect_eq(v.sel, 0, "an empty list selects row 0");
    list_view_layout(&v, 10, 0, 0, 0, 20);   // no room at all
    cr_expect(list_view_act(&v, ACT_PAGE_DOWN, 0, 0));
    cr_expect_eq(v.sel, 1, "with no rows shown a page is one row");
}

Test(list_view, a_click_selects_the_row_under_it) {
    list_view v = {0};
    list_view_layout(&v, 12, 5, 10, 8, 30);   // screen rows 5..12, columns 10..39
    list_view_act(&v, ACT_END, 0, 0);
    list_view_layout(&v, 12, 5, 10, 8, 30);   // rows 4..11 shown
    cr_expect_eq(v.top, 4);
    cr_expect(list_view_hit(&v, 5, 10));
    cr_expect(list_view_hit(&v, 12, 39));
    cr_expect_not(list_view_hit(&v, 13, 10), "below the box");
    cr_expect_not(list_view_hit(&v, 5, 40), "right of the box");
    cr_expect_not(list_view_hit(&v, 4, 10), "above the box");
    cr_expect(list_view_act(&v, ACT_MOUSE, 6, 20));
    cr_expect_eq(v.sel, 5, "screen row 6 is the second row shown: list row 4 + 1");
    cr_expect_not(list_view_act(&v, ACT_MOUSE, 3, 20), "a click outside is not the list's");
    cr_expect_eq(v.sel, 5);
    list_view_layout(&v, 3, 5, 10, 8, 30);   // three rows in a box of eight
    cr_expect_not(list_view_act(&v, ACT_MOUSE, 9, 20), "a click below the last row selects nothing");
    cr_expect(list_view_act(&v, ACT_MOUSE, 7, 20));
    cr_expect_eq(v.sel, 2);
}
