// test_curve_plot.c — core/curve_plot: the braille dots a straight line lights (decoded cell by cell),
// log and linear x, non-finite points skipped, the mark's column and label, the labels, and that every
// line is valid UTF-8 of exactly the promised width at every size down to 1 x 1 and with no points.
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "curve_plot.h"

TestSuite(curve_plot);

// ---------------------------------------------------------------------------------------------
// helpers

// Decodes s as UTF-8 into cps (at most max code points); -1 when it is not valid UTF-8.
static int cp_decode(const char *s, uint32_t *cps, int max) {
    const unsigned char *p = (const unsigned char *)s;
    int n = 0;
    while (*p) {
        uint32_t c;
        int len;
        if (*p < 0x80)
            c = *p, len = 1;
        else if ((*p & 0xe0) == 0xc0)
            c = *p & 0x1f, len = 2;
        else if ((*p & 0xf0) == 0xe0)
            c = *p & 0x0f, len = 3;
        else if ((*p & 0xf8) == 0xf0)
            c = *p & 0x07, len = 4;
        else
            return -1;
        for (int k = 1; k < len; k++) {
            if ((p[k] & 0xc0) != 0x80) return -1;
            c = c << 6 | (p[k] & 0x3f);
        }
        static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (c < least[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return -1;   // overlong, surrogate
        if (n == max) return -1;
        cps[n++] = c;
        p += len;
    }
    return n;
}

// One display column each: printable ASCII, braille, and the three box-drawing characters used.
static int cp_one_column(uint32_t c) {
    return (c >= 0x20 && c < 0x7f) || (c >= 0x2800 && c <= 0x28ff) || c == 0x2502 || c == 0x2524 || c == 0x250a;
}

// Checks every line: valid UTF-8, one-column characters only, CURVE_PLOT_LEFT + width of them.
static void check_lines(char **lines, int n, int height, int width) {
    cr_assert_eq(n, height + 1);
    uint32_t cps[CURVE_PLOT_LEFT + 256];
    for (int i = 0; i < n; i++) {
        int k = cp_decode(lines[i], cps, (int)(sizeof cps / sizeof cps[0]));
        cr_assert_eq(k, CURVE_PLOT_LEFT + width, "line %d: %d characters (want %d): \"%s\"", i, k,
                     CURVE_PLOT_LEFT + width, lines[i]);
        for (int j = 0; j < k; j++) cr_assert(cp_one_column(cps[j]), "line %d column %d: U+%04X", i, j, cps[j]);
        if (i < height)   // every plot cell is braille, or the mark
            for (int j = CURVE_PLOT_LEFT; j < k; j++)
                cr_assert((cps[j] >= 0x2800 && cps[j] <= 0x28ff) || cps[j] == 0x250a, "line %d cell %d", i, j);
    }
}

// The code point of plot cell (row, col).
static uint32_t cell(char **lines, int row, int col) {
    uint32_t cps[CURVE_PLOT_LEFT + 256];
    int k = cp_decode(lines[row], cps, (int)(sizeof cps / sizeof cps[0]));
    cr_assert_lt(CURVE_PLOT_LEFT + col, k);
    return cps[CURVE_PLOT_LEFT + col];
}

// The braille dot mask of a cell (0 for the mark or a non-braille character).
static unsigned dots(char **lines, int row, int col) {
    uint32_t c = cell(lines, row, col);
    return c >= 0x2800 && c <= 0x28ff ? c - 0x2800 : 0;
}

// Is dot (dx, dy) of a mask lit: dots 1-3 down the left column, 4-6 down the right, 7-8 the bottom row.
static int dot_at(unsigned mask, int dx, int dy) {
    unsigned bit = dy < 3 ? 1u << (dx * 3 + dy) : dx ? 0x80 : 0x40;
    return (mask & bit) != 0;
}

static int lit_total(char **lines, int height, int width) {
    int total = 0;
    for (int r = 0; r < height; r++)
        for (int c = 0; c < width; c++) total += __builtin_popcount(dots(lines, r, c));
    return total;
}

// ---------------------------------------------------------------------------------------------
// tests

// y = x over 20 points on 10 x 5 cells (20 x 20 dots): point i is dot (i, 19 - i), and only those.
Test(curve_plot, straight_line_lights_the_diagonal) {
    double x[20], y[20];
    for (int i = 0; i < 20; i++) x[i] = y[i] = i;
    curve_plot_opts o = {.width = 10, .height = 5};
    char **lines;
    int n = curve_plot(x, y, 20, &o, &lines);
    check_lines(lines, n, 5, 10);
    cr_assert_eq(lit_total(lines, 5, 10), 20);
    for (int i = 0; i < 20; i++) {
        int py = 19 - i;
        cr_assert(dot_at(dots(lines, py / 4, i / 2), i % 2, py % 4), "dot (%d, %d)", i, py);
    }
    cr_assert_eq(dots(lines, 4, 0), 0x40 | 0x20);   // bottom left: dots 7 and 6, (0,3) and (1,2)
    cr_assert_eq(cell(lines, 4, 0), 0x2860);        // ⡠
    cr_assert_eq(dots(lines, 0, 9), 0x02 | 0x08);   // top right: dots 2 and 4, (0,1) and (1,0)
    cr_assert_eq(cell(lines, 0, 9), 0x280a);        // ⠊
    cr_assert_eq(dots(lines, 2, 4), 0x60);
    cr_assert_eq(dots(lines, 2, 5), 0x0a);
    cr_assert_eq(dots(lines, 0, 0), 0);   // off the diagonal
    cr_assert_eq(cell(lines, 0, 0), 0x2800);
    cr_assert_eq(dots(lines, 4, 9), 0);
    // labels: y max on the first row, y min on the last, x min and max on the axis line
    cr_assert_eq(strncmp(lines[0], "      19\xe2\x94\xa4", 11), 0, "%s", lines[0]);
    cr_assert_eq(strncmp(lines[4], "       0\xe2\x94\xa4", 11), 0, "%s", lines[4]);
    cr_assert_eq(strncmp(lines[2], "        \xe2\x94\x82", 11), 0, "%s", lines[2]);
    cr_assert_str_eq(lines[5], "         0       19");
    curve_plot_free(lines, n);
}

// A line between two far points is continuous: a falling line lights one dot in every dot column.
Test(curve_plot, points_are_joined) {
    double x[] = {0, 1}, y[] = {1, 0};
    curve_plot_opts o = {.width = 30, .height = 2};
    char **lines;
    int n = curve_plot(x, y, 2, &o, &lines);
    check_lines(lines, n, 2, 30);
    for (int px = 0; px < 60; px++) {
        int lit = 0;
        for (int py = 0; py < 8; py++) lit += dot_at(dots(lines, py / 4, px / 2), px % 2, py % 4);
        cr_assert_eq(lit, 1, "dot column %d", px);
    }
    curve_plot_free(lines, n);
}

// Three isolated points (NaN between them breaks the line): on a log scale 1e-3 is the middle of
// [1e-5, 1e-1]: dot 21 of 42 (20.5 rounded), cell 10 of 21; on a linear scale it is at the left end.
Test(curve_plot, log_x_places_points_by_decade) {
    double x[] = {1e-5, 1, 1e-3, 1, 1e-1}, y[] = {0, NAN, 1, NAN, 0};
    curve_plot_opts o = {.width = 21, .height = 3, .log_x = 1};
    char **lines;
    int n = curve_plot(x, y, 5, &o, &lines);
    check_lines(lines, n, 3, 21);
    cr_assert_eq(lit_total(lines, 3, 21), 3);
    cr_assert_eq(dots(lines, 0, 10), 0x08);                         // top row, right dot column of cell 10
    cr_assert_eq(dots(lines, 2, 0), 0x40);                          // 1e-5: bottom left
    cr_assert_eq(dots(lines, 2, 20), 0x80);                         // 1e-1: bottom right
    cr_assert_str_eq(lines[3], "         1e-05           1e-01");   // columns 9 and 25..29 of 30
    curve_plot_free(lines, n);

    o.log_x = 0;   // linear: 1e-3 is 1% of the way: dot 0
    n = curve_plot(x, y, 5, &o, &lines);
    check_lines(lines, n, 3, 21);
    cr_assert_eq(dots(lines, 0, 0), 0x01);
    cr_assert_eq(dots(lines, 0, 10), 0);
    curve_plot_free(lines, n);

    double bad_x[] = {0, -1, 1e-2, 1e-1};   // x <= 0 cannot go on a log scale: skipped
    double ys[] = {5, 5, 1, 2};
    o.log_x = 1;
    n = curve_plot(bad_x, ys, 4, &o, &lines);
    check_lines(lines, n, 3, 21);
    cr_assert_eq(lit_total(lines, 3, 21), 42);   // a line across all 42 dot columns, one dot each
    cr_assert_eq(strncmp(lines[0], "       2", 8), 0, "%s", lines[0]);   // y max 2, not 5
    curve_plot_free(lines, n);
}

// Non-finite y is skipped: it neither draws nor stretches the y range, and it breaks the line.
Test(curve_plot, non_finite_y_is_skipped) {
    double x[] = {0, 1, 2, 3, 4, 5, 6, 7}, y[] = {1, 2, INFINITY, 3, NAN, -INFINITY, 4, 2};
    curve_plot_opts o = {.width = 4, .height = 2};
    char **lines;
    int n = curve_plot(x, y, 8, &o, &lines);
    check_lines(lines, n, 2, 4);
    cr_assert_eq(strncmp(lines[0], "       4", 8), 0, "%s", lines[0]);
    cr_assert_eq(strncmp(lines[1], "       1", 8), 0, "%s", lines[1]);
    // 8 dot columns, x 0..7: dot column x. x 2 (inf), 4 (NaN), 5 (-inf) draw nothing, and no line
    // crosses them: 1 is not joined to 3, nor 3 to 6
    int empty[] = {2, 4, 5};
    for (int k = 0; k < 3; k++)
        for (int py = 0; py < 8; py++)
            cr_assert_not(dot_at(dots(lines, py / 4, empty[k] / 2), empty[k] % 2, py % 4), "x %d, dot row %d", empty[k],
                          py);
    curve_plot_free(lines, n);

    double nan_y[] = {NAN, INFINITY, NAN};   // nothing to draw: blank, no labels
    n = curve_plot(x, nan_y, 3, &o, &lines);
    check_lines(lines, n, 2, 4);
    cr_assert_eq(lit_total(lines, 2, 4), 0);
    cr_assert_str_eq(lines[2], "             ");
    curve_plot_free(lines, n);
}

// The mark at 1e-3 on [1e-5, 1e-1] over 31 cells: cell 15 shows ┊ where the curve leaves it empty,
// "^1.0e-03" under it.
Test(curve_plot, mark_shows_its_column) {
    double x[41], y[41];
    for (int i = 0; i <= 40; i++) x[i] = pow(10, -5 + i / 10.0), y[i] = i < 20 ? 1 : 0;   // a step at 1e-3
    curve_plot_opts o = {.width = 31, .height = 4, .log_x = 1, .mark = 1, .mark_x = 1e-3};
    char **lines;
    int n = curve_plot(x, y, 41, &o, &lines);
    check_lines(lines, n, 4, 31);
    int marked = 0;
    for (int r = 0; r < 4; r++) {
        if (cell(lines, r, 15) == 0x250a)
            marked++;
        else
            cr_assert_neq(dots(lines, r, 15), 0, "row %d: neither the mark nor the curve", r);
        for (int c = 0; c < 31; c++)
            if (c != 15) cr_assert_neq(cell(lines, r, c), 0x250a, "row %d cell %d", r, c);
    }
    cr_assert(marked >= 1 && marked < 4, "the step crosses the mark's column: %d", marked);
    uint32_t cps[64];
    int k = cp_decode(lines[4], cps, 64);
    cr_assert_eq(k, CURVE_PLOT_LEFT + 31);
    cr_assert_eq(cps[CURVE_PLOT_LEFT + 15], '^', "%s", lines[4]);
    cr_assert_str_eq(lines[4], "         1e-05          ^1.0e-03   1e-01");   // "^" at column 9 + 15
    curve_plot_free(lines, n);

    double gap_y[41];   // nothing between 1e-4 and 1e-2: the whole column is the mark
    for (int i = 0; i <= 40; i++) gap_y[i] = i > 10 && i < 30 ? NAN : i;
    n = curve_plot(x, gap_y, 41, &o, &lines);
    check_lines(lines, n, 4, 31);
    for (int r = 0; r < 4; r++) cr_assert_eq(cell(lines, r, 15), 0x250a, "row %d", r);
    curve_plot_free(lines, n);

    o.mark_x = 1e-1;   // at the right end: the label goes before the "^"; x max gives way
    n = curve_plot(x, y, 41, &o, &lines);
    check_lines(lines, n, 4, 31);
    cr_assert_str_eq(lines[4], "         1e-05                  1.0e-01^");   // "^" at column 39
    curve_plot_free(lines, n);

    o.mark_x = 1;   // outside the data: no mark
    n = curve_plot(x, y, 41, &o, &lines);
    check_lines(lines, n, 4, 31);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 31; c++) cr_assert_neq(cell(lines, r, c), 0x250a);
    cr_assert_null(strchr(lines[4], '^'));
    curve_plot_free(lines, n);

    o.mark_x = NAN;
    n = curve_plot(x, y, 41, &o, &lines);
    check_lines(lines, n, 4, 31);
    cr_assert_null(strchr(lines[4], '^'));
    curve_plot_free(lines, n);
}

// Tiny and degenerate plots: the right sizes, no crash (the sanitizers watch).
Test(curve_plot, tiny_sizes_and_no_points) {
    double x[] = {1e-7, 1e-4, 1e-1, 10}, y[] = {2.3, 2.2, 0.5, 9};
    int sizes[][2] = {{1, 1}, {1, 3}, {3, 1}, {2, 2}, {0, 0}, {-5, -5}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int w = sizes[s][0] < 1 ? 1 : sizes[s][0], h = sizes[s][1] < 1 ? 1 : sizes[s][1];
        for (size_t count = 0; count <= 4; count++) {
            for (int mark = 0; mark < 2; mark++) {
                curve_plot_opts o = {sizes[s][0], sizes[s][1], 1, mark, 1e-4};
                char **lines;
                int n = curve_plot(count ? x : NULL, count ? y : NULL, count, &o, &lines);
                check_lines(lines, n, h, w);
                if (count == 0) cr_assert_eq(lit_total(lines, h, w), 0);
                if (count >= 1 && !mark) cr_assert_gt(lit_total(lines, h, w), 0);
                curve_plot_free(lines, n);
            }
        }
    }
    curve_plot_free(NULL, 3);
}

// One point, or all points equal: drawn in the middle of the range.
Test(curve_plot, one_value_ranges) {
    double x[] = {5, 5}, y[] = {3, 3};
    curve_plot_opts o = {.width = 3, .height = 3};
    char **lines;
    int n = curve_plot(x, y, 2, &o, &lines);
    check_lines(lines, n, 3, 3);
    cr_assert_eq(lit_total(lines, 3, 3), 1);
    cr_assert_eq(dots(lines, 1, 1), 0x04);   // dot (2, 6) of 6 x 12 (from the top): cell (1, 1), its dot (0, 2)
    curve_plot_free(lines, n);
}

// Labels that do not fit "%.3g" in CURVE_PLOT_LABEL columns are shortened.
Test(curve_plot, long_labels_fit) {
    double x[] = {0, 1}, y[] = {-1.23456e-100, 9.87654e+200};
    curve_plot_opts o = {.width = 5, .height = 2};
    char **lines;
    int n = curve_plot(x, y, 2, &o, &lines);
    check_lines(lines, n, 2, 5);
    cr_assert_eq(strncmp(lines[0], "9.9e+200", 8), 0, "%s", lines[0]);   // "%.3g" is 9.88e+200
    cr_assert_eq(strncmp(lines[1], " -1e-100", 8), 0, "%s", lines[1]);   // "%.2g" is -1.2e-100
    curve_plot_free(lines, n);
}

// Two series in one plot (frost runs diff): the ranges span both; without colours the lines are the
// union of both curves' dots; with colours each series' cells are wrapped in its own escape.
Test(curve_plot, two_series_share_the_plot_and_keep_their_colours) {
    const double x[2] = {1, 2}, low[2] = {0, 0}, high[2] = {10, 10};
    curve_plot_opts o = {.width = 4, .height = 2};
    curve_series plain[2] = {{x, low, 2, NULL}, {x, high, 2, NULL}};
    char **lines = NULL;
    int n = curve_plot_series(plain, 2, &o, &lines);
    cr_assert_eq(n, 3);
    cr_expect(strstr(lines[0], "10") != NULL, "the top label is the higher series' max: %s", lines[0]);
    cr_expect(strstr(lines[1], "0") != NULL, "the bottom label the lower's min: %s", lines[1]);
    // the higher series fills the top row's upper dots, the lower the bottom row's lowest: every cell
    uint32_t top[16], bottom[16];
    cr_assert_eq(cp_decode(lines[0], top, 16), CURVE_PLOT_LEFT + 4);
    cr_assert_eq(cp_decode(lines[1], bottom, 16), CURVE_PLOT_LEFT + 4);
    for (int c = 0; c < 4; c++) {
        cr_expect_eq(top[CURVE_PLOT_LEFT + c], 0x2800 + 0x09, "cell %d: %x", c, top[CURVE_PLOT_LEFT + c]);
        cr_expect_eq(bottom[CURVE_PLOT_LEFT + c], 0x2800 + 0xc0, "cell %d: %x", c, bottom[CURVE_PLOT_LEFT + c]);
    }
    curve_plot_free(lines, n);
    curve_series coloured[2] = {{x, low, 2, "34"}, {x, high, 2, "33"}};
    n = curve_plot_series(coloured, 2, &o, &lines);
    cr_assert_eq(n, 3);
    cr_expect(strstr(lines[0], "\033[33m\xe2\xa0\x89\033[0m") && !strstr(lines[0], "\033[34m"), "%s", lines[0]);
    cr_expect(strstr(lines[1], "\033[34m\xe2\xa3\x80\033[0m") && !strstr(lines[1], "\033[33m"), "%s", lines[1]);
    curve_plot_free(lines, n);
}
