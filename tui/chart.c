// chart.c — see chart.h. Each series is drawn as dots joined by straight segments on the one dot grid
// of frost's plots (curve_dots, core/train/curve_plot.h: cols*2 x rows*4 in braille), then the grid is
// written cell by cell; a cell takes the colour of the last series that touched it.
#include "chart.h"

#include <math.h>
#include <stdio.h>

#include "curve_plot.h"

void chart_draw(int top, int left, int rows, int cols, int label_w, const chart_series *s, int ns, int x_max,
                double y_min, double y_max) {
    int cw = cols - label_w;
    if (rows < 2 || cw < 4) return;
    if (!(y_max > y_min)) y_max = y_min + 1;
    if (x_max < 1) x_max = 1;
    int w = cw * 2, h = rows * 4;
    curve_dots g;
    if (curve_dots_init(&g, cw, rows) != 0) {
        curve_dots_free(&g);
        return;
    }
    if (ns > 254) ns = 254;   // (the owner of a cell is a byte)
    for (int k = 0; k < ns; k++) {
        int px = -1, py = -1;
        g.series = (unsigned char)(k + 1);
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
                curve_dots_line(&g, px, py, x, y);
            else
                curve_dots_set(&g, x, y);
            px = x, py = y;
        }
    }
    char label[400];
    snprintf(label, sizeof label, "%.*g", label_w > 1 ? label_w - 1 : 1, y_max);
    mvaddnstr(top, left, label, label_w - 1);
    snprintf(label, sizeof label, "%.*g", label_w > 1 ? label_w - 1 : 1, y_min);
    mvaddnstr(top + rows - 1, left, label, label_w - 1);
    for (int r = 0; r < rows; r++) {
        move(top + r, left + label_w);
        for (int c = 0; c < cw; c++) {
            unsigned bits = g.bits[r * cw + c];
            int k = g.owner[r * cw + c] - 1;
            if (!bits || k < 0) {
                addstr(style_unicode() ? "\u2800" : " ");
                continue;
            }
            attron(style(s[k].role));
            if (style_unicode()) {
                char u[4] = {0};
                curve_dots_glyph(bits, u);
                addstr(u);
            } else {
                addch((chtype)(unsigned char)s[k].mark);
            }
            attroff(style(s[k].role));
        }
    }
    curve_dots_free(&g);
}
