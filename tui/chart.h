/*
 * chart.h — a small line chart in the terminal: braille dots (2x4 per cell) in UTF-8, or one mark per
 * cell in ASCII. Used for loss and accuracy per epoch on the Train screen.
 */
#ifndef FROST_TUI_CHART_H
#define FROST_TUI_CHART_H

#include "style.h"

typedef struct {
    const double *y;   // n values (non-finite ones are gaps)
    int n;
    ui_role role;   // its colour
    char mark;      // its ASCII mark
} chart_series;

// Draws the series into the box at (top, left), rows x cols cells including a one-column axis
// label area on the left ("max"/"min" at the top and bottom rows) of label_w cells. x runs over
// 0..x_max (so points keep their place as more epochs come); y over [y_min, y_max].
void chart_draw(int top, int left, int rows, int cols, int label_w, const chart_series *s, int ns, int x_max,
                double y_min, double y_max);

#endif
