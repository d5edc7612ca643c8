/*
 * preview.h — an image file drawn in the terminal with half-block characters: each cell shows two
 * pixels (upper half in the foreground colour, lower in the background), in true colour where the
 * terminal has it, else the 256-colour cube, else 8/16 colours; with colours off, only the info line.
 * The last decoded picture is kept, so drawing the same file again costs no decoding.
 */
#ifndef FROST_TUI_PREVIEW_H
#define FROST_TUI_PREVIEW_H

#include <stddef.h>
#include <stdint.h>

// Draws `path` fitted (aspect kept) into the box at (top, left) of rows x cols cells. Fills `info`
// with one line: "JPEG 500x374 RGB, 23.1 KB", or why the file cannot be shown. Returns the rows used.
int preview_draw(const char *path, int top, int left, int rows, int cols, char *info, size_t infolen);
// Draws w x h RGB8 pixels (at most cols wide, 2 per cell vertically) centred in the box's width at
// (top, left), as preview_draw draws a file: for a picture made from one (an overlay). id names the
// picture: the same id again reuses its colour pairs; preview_new_id gives a fresh one. Returns the
// rows used.
int preview_draw_rgb(const uint8_t *rgb, int w, int h, unsigned id, int top, int left, int cols);
unsigned preview_new_id(void);
// Forgets the kept picture and its colour pairs (on theme change or exit).
void preview_reset(void);

#endif
