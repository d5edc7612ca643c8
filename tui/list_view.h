/*
 * list_view.h — the one list of the interface (htop's Panel): a selected row, the rows shown, paging
 * and mouse clicks. Every list — the data screen's classes and files, the model tree and its side by
 * side view, the predict screen's images and mistakes, the train screen's form — is one of these;
 * screens draw the rows, the list view decides which ones and which is selected.
 */
#ifndef FROST_TUI_LIST_VIEW_H
#define FROST_TUI_LIST_VIEW_H

#include "app.h"

typedef struct {
    int sel;                // the selected row (0 when the list is empty)
    int top;                // the first row shown
    int n;                  // rows in the list, at the last layout
    int y, x, rows, cols;   // where it was last laid out on the screen (rows: the page)
} list_view;

// Before drawing: the list has n rows and `rows` screen rows from (y, x), `cols` wide. Keeps the
// selection inside the list and shown, and fills the box (no empty rows below the last one while
// rows above are scrolled away).
void list_view_layout(list_view *v, int n, int y, int x, int rows, int cols);
// Moves the selection for an action: up, down, page up and down (the rows shown, less one, so a
// row of context stays), home, end, and a mouse click on a shown row. 1 when it was one of those.
int list_view_act(list_view *v, app_action act, int mouse_y, int mouse_x);
// 1 when the screen position is inside the list's box (as last laid out).
int list_view_hit(const list_view *v, int y, int x);

#endif
