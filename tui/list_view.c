// list_view.c — see list_view.h.
#include "list_view.h"

#include <assert.h>

static int clamp(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void list_view_layout(list_view *v, int n, int y, int x, int rows, int cols) {
    v->n = n;
    v->y = y, v->x = x, v->rows = rows > 0 ? rows : 0, v->cols = cols;
    v->sel = clamp(v->sel, 0, n > 0 ? n - 1 : 0);
    if (v->rows == 0) return;
    if (v->sel < v->top) v->top = v->sel;
    if (v->sel >= v->top + v->rows) v->top = v->sel - v->rows + 1;
    if (v->top + v->rows > n) v->top = n > v->rows ? n - v->rows : 0;   // a taller window: fill it
    // what the header promises: the selection inside the list and shown, the box filled
    assert(v->top >= 0 && v->sel >= 0 && (n == 0 || v->sel < n));
    assert(n == 0 || (v->sel >= v->top && v->sel < v->top + v->rows));
    assert(v->top + v->rows <= n || v->top == 0);
}

int list_view_hit(const list_view *v, int y, int x) {
    return y >= v->y && y < v->y + v->rows && x >= v->x && x < v->x + v->cols;
}

int list_view_act(list_view *v, app_action act, int mouse_y, int mouse_x) {
    int page = v->rows > 1 ? v->rows - 1 : 1, sel = v->sel;
    switch (act) {
    case ACT_UP: sel--; break;
    case ACT_DOWN: sel++; break;
    case ACT_PAGE_UP: sel -= page; break;
    case ACT_PAGE_DOWN: sel += page; break;
    case ACT_HOME: sel = 0; break;
    case ACT_END: sel = v->n - 1; break;
    case ACT_MOUSE:
        if (!list_view_hit(v, mouse_y, mouse_x) || v->top + mouse_y - v->y >= v->n) return 0;
        sel = v->top + mouse_y - v->y;
        break;
    default: return 0;
    }
    v->sel = clamp(sel, 0, v->n > 0 ? v->n - 1 : 0);
    assert(v->sel >= 0 && (v->n == 0 || v->sel < v->n));
    return 1;
}
