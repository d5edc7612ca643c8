// chart.c — see chart.h. Each series is drawn as dots joined by straight segments on a pixel grid
// (cols*2 x rows*4 in braille), then the grid is written cell by cell; a cell takes the colour of the
// last series that touched it.
#include "chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void plot(unsigned char *dots, signed char *owner, int w, int h, int x, int y, int series) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    dots[y * w + x] = 1;
    owner[(y / 4) * (w / 2) + x / 2] = (signed char)series;
}

static void segment(unsigned char *dots, signed char *owner, int w, int h, int x0, int y0, int x1, int y1, int series) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (;;) {
        plot(dots, owner, w, h, x0, y0, series);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) e += dy, x0 += sx;
        if (e2 <= dx) e += dx, y0 += sy;
    }
}

void chart_draw(int top, int left, int rows, int cols, int label_w, const chart_series *s, int ns, int x_max,
                double y_min, double y_max) {
    int cw = cols - label_w;
    if (rows < 2 || cw < 4) return;
    if (!(y_max > y_min)) y_max = y_min + 1;
    if (x_max < 1) x_max = 1;
    int w = cw * 2, h = rows * 4;
    unsigned char *dots = calloc((size_t)w * (size_t)h, 1);
    signed char *owner = malloc((size_t)cw * (size_t)rows);
    if (!dots || !owner) {
        free(dots);
        free(owner);
        return;
    }
    memset(owner, -1, (size_t)cw * (size_t)rows);
    for (int k = 0; k < ns; k++) {
        int px = -1, py = -1;
        for (int i = 0; i < s[k].n; i++) {
            double v = s[k].y[i];
            if (!isfinite(v)) {
                px = -1;
                continue;
            }
            if (v < y_min) v = y_min;
            if (v > y_max) v = y_max;
            int x = (int)lround((double)i / x_max * (w - 1));
            int y = (h - 1) - (int)lround((v - y_min) / (y_max - y_min) * (h - 1));
            if (px >= 0)
                segment(dots, owner, w, h, px, py, x, y, k);
            else
                plot(dots, owner, w, h, x, y, k);
            px = x, py = y;
        }
    }
    char label[400];
    snprintf(label, sizeof label, "%.*g", label_w > 1 ? label_w - 1 : 1, y_max);
    mvaddnstr(top, left, label, label_w - 1);
    snprintf(label, sizeof label, "%.*g", label_w > 1 ? label_w - 1 : 1, y_min);
    mvaddnstr(top + rows - 1, left, label, label_w - 1);
    // braille: dot bits by (column, row) within the 2x4 cell
    static const int BIT[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
    for (int r = 0; r < rows; r++) {
        move(top + r, left + label_w);
        for (int c = 0; c < cw; c++) {
            int bits = 0;
            for (int yy = 0; yy < 4; yy++)
                for (int xx = 0; xx < 2; xx++)
                    if (dots[(r * 4 + yy) * w + c * 2 + xx]) bits |= BIT[yy][xx];
            int k = owner[r * cw + c];
            if (!bits || k < 0) {
                addstr(style_unicode() ? "\u2800" : " ");
                continue;
            }
            attron(style(s[k].role));
            if (style_unicode()) {
                char u[4] = {(char)0xE2, (char)(0xA0 | (bits >> 6)), (char)(0x80 | (bits & 0x3F)), 0};
                addstr(u);
            } else {
                addch((chtype)(unsigned char)s[k].mark);
            }
            attroff(style(s[k].role));
        }
    }
    free(dots);
    free(owner);
}
