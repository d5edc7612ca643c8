/*
 * paragraph.h — a message drawn over as many rows as it needs, broken at spaces (text_wrap.h), so that
 * advice at the end of a long warning reaches the screen instead of being cut at the right edge.
 */
#ifndef FROST_TUI_PARAGRAPH_H
#define FROST_TUI_PARAGRAPH_H

// Draws text at (y, x) in lines of at most width columns, over at most max_rows rows (a longer text
// is cut after them), in the attributes in use. Returns the rows drawn.
int paragraph_draw(int y, int x, int width, int max_rows, const char *text);
// The rows text takes at width columns.
int paragraph_rows(const char *text, int width);

#endif
