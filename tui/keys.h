/*
 * keys.h — the key table: every key, the screen it works on, what it does. The help screen and the
 * bottom key bar are drawn from it, so a key cannot do one thing and be described as another.
 */
#ifndef FROST_TUI_KEYS_H
#define FROST_TUI_KEYS_H

#include "app.h"

// The action of key ch on screen `which` (SCREEN_DATA...; ACT_NONE when it has none).
app_action keys_lookup(int which, int ch);
// The keys a lesson takes while its pane is open, on every screen before the screen's own (n, b).
enum { KEYS_LESSON = -2 };
app_action keys_lookup_lesson(int ch);
// The help screen: every key with its screen and what it does, from key *scroll on (clamped to what
// the rows leave to scroll; the title says which keys are shown when they do not all fit).
void keys_draw_help(int top, int rows, int cols, int *scroll);
// The key bar of screen `which` on row `row`; remembers where each item went, for mouse clicks.
void keys_draw_bar(int which, int row, int cols);
// The action of a click at column x of the key bar last drawn (ACT_NONE when on no item).
app_action keys_bar_click(int x);

#endif
