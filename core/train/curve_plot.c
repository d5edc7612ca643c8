// curve_plot.c — see curve_plot.h.
#include "curve_plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// U+2502 │, U+2524 ┤, U+250A ┊ in UTF-8
#define AXIS_PLAIN "\xe2\x94\x82"
#define AXIS_LABEL "\xe2\x94\xa4"
#define MARK_CELL "\xe2\x94\x8a"

// ---------------------------------------------------------------------------------------------
// the dots

int curve_dots_init(curve_dots *g, int w, int h) {
    *g = (curve_dots){w, h, calloc((size_t)w * (size_t)h, 1), calloc((size_t)w * (size_t)h, 1), 0};
    return g->bits && g->owner ? 0 : -1;
}

void curve_dots_free(curve_dots *g) {
    free(g->bits);
    free(g->owner);
    g->bits = g->owner = NULL;
}

void curve_dots_set(curve_dots *g, int px, int py) {
    if (px < 0 || py < 0 || px >= 2 * g->w || py >= 4 * g->h) return;
    // braille dots 1-2-3 run down the left column (bits 0-2), 4-5-6 down the right (bits 3-5), and
    // 7, 8 are the bottom row's left and right (bits 6, 7)
    int dx = px % 2, dy = py % 4;
    unsigned char bit = dy < 3 ? (unsigned char)(1u << (dx * 3 + dy)) : (unsigned char)(dx ? 0x80 : 0x40);
    g->bits[(py / 4) * g->w + px / 2] |= bit;
    g->owner[(py / 4) * g->w + px / 2] = g->series;
}

void curve_dots_line(curve_dots *g, int x0, int y0, int x1, int y1) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for (;;) {
        curve_dots_set(g, x0, y0);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) err += dy, x0 += sx;
        if (e2 <= dx) err += dx, y0 += sy;
    }
}

void curve_dots_glyph(unsigned b, char out[3]) {
    out[0] = (char)0xe2;
    out[1] = (char)(0xa0 | (b >> 6));
    out[2] = (char)(0x80 | (b & 0x3f));
}

// ---------------------------------------------------------------------------------------------
// scales

typedef struct {
    double lo, hi;   // the data's range
    int dots;        // dots along the axis
} scale;

// The dot index of v: lo at 0, hi at dots - 1; a range of one value in the middle.
static int scale_dot(const scale *s, double v) {
    if (!(s->hi > s->lo)) return (s->dots - 1) / 2;
    double t = (v - s->lo) / (s->hi - s->lo) * (s->dots - 1);
    long d = lround(t);
    return d < 0 ? 0 : d >= s->dots ? s->dots - 1 : (int)d;
}

static int point_ok(double x, double y, int log_x) { return isfinite(x) && isfinite(y) && (!log_x || x > 0); }

// ---------------------------------------------------------------------------------------------
// labels

// v in at most width characters: "%.3g", else shorter, else cut.
static void fit_number(char *out, size_t outlen, double v, int width) {
    static const char *const formats[] = {"%.3g", "%.2g", "%.1g", "%.0e"};
    for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++) {
        int len = snprintf(out, outlen, formats[k], v);
        if (len >= 0 && len <= width) return;
    }
    if ((size_t)width < outlen) out[width] = 0;
}

// Writes s at column at of an ASCII line of len columns when it fits inside and keeps one blank column
// from every column already used; marks its columns used. 1 when written.
static int place(char *line, char *used, int len, int at, const char *s) {
    int n = (int)strlen(s);
    if (at < 0 || at + n > len) return 0;
    for (int i = at - 1; i <= at + n; i++)
        if (i >= 0 && i < len && used[i]) return 0;
    memcpy(line + at, s, (size_t)n);
    memset(used + at, 1, (size_t)n);
    return 1;
}

// ---------------------------------------------------------------------------------------------
// the plot

void curve_plot_free(char **lines, int n) {
    if (!lines) return;
    for (int i = 0; i < n; i++) free(lines[i]);
    free(lines);
}

int curve_plot(const double *x, const double *y, size_t n, const curve_plot_opts *o, char ***lines) {
    curve_series one = {x, y, n, NULL};
    return curve_plot_series(&one, 1, o, lines);
}

int curve_plot_series(const curve_series *series, size_t ns, const curve_plot_opts *o, char ***lines) {
    *lines = NULL;
    int w = o->width < 1 ? 1 : o->width > CURVE_PLOT_MAX ? CURVE_PLOT_MAX : o->width;
    int h = o->height < 1 ? 1 : o->height > CURVE_PLOT_MAX ? CURVE_PLOT_MAX : o->height;
    int log_x = o->log_x;
    if (ns > 254) ns = 254;   // (the owner of a cell is a byte)

    // the ranges of the points drawn, over every series
    scale sx = {INFINITY, -INFINITY, 2 * w}, sy = {INFINITY, -INFINITY, 4 * h};
    size_t drawn = 0;
    for (size_t k = 0; k < ns; k++) {
        const double *x = series[k].x, *y = series[k].y;
        for (size_t i = 0; i < series[k].n; i++) {
            if (!point_ok(x[i], y[i], log_x)) continue;
            double xv = log_x ? log10(x[i]) : x[i];
            if (xv < sx.lo) sx.lo = xv;
            if (xv > sx.hi) sx.hi = xv;
            if (y[i] < sy.lo) sy.lo = y[i];
            if (y[i] > sy.hi) sy.hi = y[i];
            drawn++;
        }
    }

    curve_dots g;
    int dots_ok = curve_dots_init(&g, w, h) == 0;
    char **out = calloc((size_t)h + 1, sizeof *out);
    if (!dots_ok || !out) goto oom;

    for (size_t k = 0; k < ns; k++) {
        const double *x = series[k].x, *y = series[k].y;
        int have_prev = 0, px0 = 0, py0 = 0;
        g.series = (unsigned char)(k + 1);
        for (size_t i = 0; i < series[k].n; i++) {
            if (!point_ok(x[i], y[i], log_x)) {
                have_prev = 0;
                continue;
            }
            int px = scale_dot(&sx, log_x ? log10(x[i]) : x[i]);
            int py = sy.dots - 1 - scale_dot(&sy, y[i]);   // from the top
            if (have_prev)
                curve_dots_line(&g, px0, py0, px, py);
            else
                curve_dots_set(&g, px, py);
            have_prev = 1, px0 = px, py0 = py;
        }
    }

    // the mark's column (-1: none)
    int mark_col = -1;
    double mark_v = log_x && o->mark_x > 0 ? log10(o->mark_x) : log_x ? NAN : o->mark_x;
    if (o->mark && drawn && isfinite(mark_v)) {
        double slack = (sx.hi - sx.lo) * 1e-9;   // a mark at an end, through log10's rounding
        if (mark_v >= sx.lo - slack && mark_v <= sx.hi + slack) mark_col = scale_dot(&sx, mark_v) / 2;
    }

    // the plot rows
    char label[CURVE_PLOT_LABEL + 16];
    for (int r = 0; r < h; r++) {
        // a cell: 3 bytes, and a colour's escapes around it (at most 32 bytes of SGR)
        char *line = malloc(CURVE_PLOT_LABEL + 3 + (size_t)w * (3 + 40) + 1), *p = line;
        if (!line) goto oom;
        out[r] = line;
        label[0] = 0;
        int labelled = drawn && (r == 0 || r == h - 1);
        if (labelled) fit_number(label, sizeof label, r == 0 ? sy.hi : sy.lo, CURVE_PLOT_LABEL);
        p += sprintf(p, "%*s%s", CURVE_PLOT_LABEL, label, labelled ? AXIS_LABEL : AXIS_PLAIN);
        for (int c = 0; c < w; c++) {
            unsigned b = g.bits[r * w + c];
            const char *color = b ? series[g.owner[r * w + c] - 1].color : NULL;
            if (color) p += sprintf(p, "\033[%.32sm", color);
            if (!b && c == mark_col) {
                memcpy(p, MARK_CELL, 3);
            } else {
                curve_dots_glyph(b, p);
            }
            p += 3;
            if (color) p += sprintf(p, "\033[0m");
        }
        *p = 0;
    }

    // the x-axis line (ASCII)
    int len = CURVE_PLOT_LEFT + w;
    char *xl = malloc((size_t)len + 1), *used = calloc((size_t)len, 1);
    if (!xl || !used) {
        free(xl);
        free(used);
        goto oom;
    }
    memset(xl, ' ', (size_t)len);
    xl[len] = 0;
    if (drawn) {
        const char *end_fmt = log_x ? "%.0e" : "%.3g", *mark_fmt = log_x ? "%.1e" : "%.3g";
        if (mark_col >= 0) {
            int at = CURVE_PLOT_LEFT + mark_col;
            char v[40], s[48];
            snprintf(v, sizeof v, mark_fmt, o->mark_x);
            snprintf(s, sizeof s, "^%s", v);
            if (!place(xl, used, len, at, s)) {
                snprintf(s, sizeof s, "%s^", v);
                if (!place(xl, used, len, at - (int)strlen(v), s)) place(xl, used, len, at, "^");
            }
        }
        char lo[40], hi[40];
        snprintf(lo, sizeof lo, end_fmt, log_x ? pow(10, sx.lo) : sx.lo);
        snprintf(hi, sizeof hi, end_fmt, log_x ? pow(10, sx.hi) : sx.hi);
        place(xl, used, len, CURVE_PLOT_LEFT, lo);
        place(xl, used, len, len - (int)strlen(hi), hi);
    }
    free(used);
    out[h] = xl;

    curve_dots_free(&g);
    *lines = out;
    return h + 1;

oom:
    curve_dots_free(&g);
    curve_plot_free(out, h + 1);
    return -1;
}
