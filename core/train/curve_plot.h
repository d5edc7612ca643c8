/*
 * curve_plot.h — a curve drawn in text: y against x (x on a log scale if asked) as lines of UTF-8 for
 * the command line to print and the ncurses screen to draw. It returns the lines; it prints nothing.
 *
 * The plot area is width x height cells of Unicode braille (U+2800..U+28FF), 2 x 4 dots a cell, so
 * 2*width x 4*height dots. Points whose x or y is not finite (or whose x <= 0 on a log scale) are
 * skipped and break the line; the others are joined by straight lines of dots, in the order given.
 * The x and y ranges are those of the points drawn; a range of one value is drawn in the middle. A cell
 * with no dot is U+2800 (blank braille), so every plot cell is one braille character.
 *
 * The mark (the learning-rate finder's suggestion): the column of mark_x, when it lies within the x
 * range, shows U+250A (┊) in every cell the curve leaves empty.
 *
 * The lines, each exactly CURVE_PLOT_LEFT + width display columns (every character is one column);
 * a learning-rate finder's losses, 26 x 4 cells, the suggestion marked:
 *
 *       2.38┤⠲⡤⢦⠤⡠⠒⠼⠳⣄⠶⢴⠦⠦⢆⣠⣄⣄⠀⠀⠀⠀┊⠀⠀⠀⠀
 *           │⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠈⠉⠦⡀⠀┊⠀⠀⠀⠀
 *           │⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠱⢄┊⠀⠀⠀⠀
 *      0.101┤⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠈⠦⣄⣀⣀⣀
 *            1e-07         3.8e-02^
 *
 *   height plot rows: a label column of CURVE_PLOT_LABEL (right-aligned: y max on the first row, y min
 *   on the last, "%.3g" or shorter to fit), an axis character (┤ on a labelled row, │ otherwise), then
 *   the cells; and one x-axis line: x min under the first cell, x max ending under the last, and "^"
 *   under the mark's column followed by its x ("^" last when there is no room after it). On a log scale
 *   the ends print as "%.0e" and the mark as "%.1e", on a linear one all as "%.3g". The mark's label
 *   comes first; an end label that would touch it or the other is left out.
 */
#ifndef FROST_CURVE_PLOT_H
#define FROST_CURVE_PLOT_H

#include <stddef.h>

#define CURVE_PLOT_LABEL 8                       // the y labels' columns
#define CURVE_PLOT_LEFT (CURVE_PLOT_LABEL + 1)   // the columns before the first cell: labels and axis
#define CURVE_PLOT_MAX 4096                      // width and height are clamped to [1, this]

typedef struct {
    int width, height;   // the plot area in cells
    int log_x;           // 1: x on a log10 scale
    int mark;            // 1: mark the column of mark_x
    double mark_x;
} curve_plot_opts;

// Plots the n points (x[i], y[i]) (x, y may be NULL when n is 0): *lines gets height + 1 malloc'd
// NUL-terminated strings in a malloc'd array (free them with curve_plot_free), and the count is
// returned; -1 on out of memory (*lines NULL).
int curve_plot(const double *x, const double *y, size_t n, const curve_plot_opts *o, char ***lines);

// Several curves in one plot (frost runs diff: two runs' curves): the ranges are those of all their
// points; a cell shows the dots of every series in it, in the colour of the last series drawn there.
// color: an ANSI SGR parameter ("34", "38;5;208") put around that series' cells, or NULL (no escapes:
// the lines are as curve_plot's).
typedef struct {
    const double *x, *y;
    size_t n;
    const char *color;
} curve_series;
int curve_plot_series(const curve_series *s, size_t ns, const curve_plot_opts *o, char ***lines);

// Frees what curve_plot returned; NULL is fine.
void curve_plot_free(char **lines, int n);

// ---------------------------------------------------------------------------------------------
// The dots under every plot of frost (curve_plot above, the interface's chart): w x h braille cells of
// 2 x 4 dots; each cell remembers the series that lit a dot in it last.
typedef struct {
    int w, h;               // cells
    unsigned char *bits;    // w * h braille dot masks (bit k: dot k+1 of the braille cell)
    unsigned char *owner;   // w * h: 1 + the series that lit the cell last (0: none)
    unsigned char series;   // 1 + the series being drawn (set it before drawing one)
} curve_dots;

// All dots off. 0, or -1 when out of memory (curve_dots_free is fine either way).
int curve_dots_init(curve_dots *g, int w, int h);
void curve_dots_free(curve_dots *g);
// Lights dot (px, py): px in [0, 2w), py in [0, 4h) from the top; a dot outside is left out.
void curve_dots_set(curve_dots *g, int px, int py);
// Bresenham's line from (x0, y0) to (x1, y1), both ends lit.
void curve_dots_line(curve_dots *g, int x0, int y0, int x1, int y1);
// The braille character of dot mask b (U+2800 + b) in UTF-8: 3 bytes, no NUL.
void curve_dots_glyph(unsigned b, char out[3]);

#endif
