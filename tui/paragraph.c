// paragraph.c — see paragraph.h.
#include "paragraph.h"

#include <curses.h>

#include "text_wrap.h"

int paragraph_draw(int y, int x, int width, int max_rows, const char *text) {
    int rows = 0;
    for (size_t at = 0; text[at] && rows < max_rows && width > 0; rows++) {
        size_t next, n = text_wrap_line(text + at, width, &next);
        mvaddnstr(y + rows, x, text + at, (int)n);
        at += next;
    }
    return rows;
}

int paragraph_rows(const char *text, int width) { return text_wrap_count(text, width > 0 ? width : 1); }
