/*
 * dataset_edit.h — cleaning the dataset from the interface (the Predict screen's image list and the
 * Data screen's file list): the selected image moved to another class of its split, set aside into
 * the dataset's hidden .frost-set-aside/ folder, or the last move undone. The moves themselves are
 * core/data/clean's (journalled, never deleting, never overwriting); here they are asked for, said on the
 * status line, and followed by a new scan of the dataset that every screen takes (app_dataset_reload).
 */
#ifndef FROST_DATASET_EDIT_H
#define FROST_DATASET_EDIT_H

#include "app.h"

// Asks on the status line for the class to move path to (its split's classes), then moves it.
void dataset_edit_relabel(app *a, const char *path);
// Sets path aside (out of training and evaluation; undo brings it back).
void dataset_edit_set_aside(app *a, const char *path);
// Undoes the newest move not undone yet (also one made before a restart, or by `frost clean`).
void dataset_edit_undo(app *a);

#endif
