// preview.c — placeholder: the info line only (see preview.h).
#include "preview.h"

#include <curses.h>
#include <stdio.h>

int preview_draw(const char *path, int top, int left, int rows, int cols, char *info, size_t infolen) {
    (void)top;
    (void)left;
    (void)rows;
    (void)cols;
    snprintf(info, infolen, "%s", path);
    return 0;
}

void preview_reset(void) {}
