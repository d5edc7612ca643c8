/*
 * lr_finder_view.h — the Train screen's learning-rate finder: the trainer's sweep (lr_find.h) run
 * in the background with the form's settings, its smoothed loss drawn against the lr as it comes,
 * and at the end the suggestion (or why there is none).
 */
#ifndef FROST_TUI_LR_FINDER_VIEW_H
#define FROST_TUI_LR_FINDER_VIEW_H

#include <stddef.h>
#include <stdio.h>

#include "dataset.h"
#include "trainer.h"

typedef struct lr_finder_view lr_finder_view;

// Starts the sweep for the run c describes (its lr_find set here); its events go to json too (NULL:
// nothing written). NULL with err.
lr_finder_view *lr_finder_start(const trainer_config *c, dataset *d, FILE *json, char *err, size_t errlen);
// Takes the sweep's events. 1 once it has ended: *suggestion (0: none) and msg say how.
int lr_finder_poll(lr_finder_view *f, double *suggestion, char *msg, size_t msglen);
// 1 while the sweep runs.
int lr_finder_running(const lr_finder_view *f);
void lr_finder_cancel(lr_finder_view *f);
// Draws the curve into rows x cols at top (the UI thread, curses).
void lr_finder_draw(const lr_finder_view *f, int top, int rows, int cols);
void lr_finder_free(lr_finder_view *f);   // cancels a running sweep; accepts NULL

#endif
