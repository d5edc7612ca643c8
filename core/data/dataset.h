/*
 * dataset.h — an image folder read the way torchvision's ImageFolder reads it.
 *
 * Layout: ROOT/train/<class>/... and ROOT/valid/<class>/... (or ROOT/val/). Classes are sorted
 * folder names; files are found recursively (following symlinks, with loops detected), sorted as
 * torchvision sorts them (by folder path, then by name), and kept when their extension is one of
 * torchvision's IMG_EXTENSIONS, case-insensitive.
 *
 * Where frost differs from torchvision, on purpose:
 * - every split uses the union of all splits' classes, so a class missing from valid/ cannot shift
 *   the labels;
 * - names starting with '.' (.ipynb_checkpoints, .DS_Store, macOS "._x.jpg" files) are never
 *   classes and never images;
 * - a ROOT holding only class folders is split into train and valid by a fraction, per class, with
 *   a fixed seed.
 * Scanning reads names only; whether a file really decodes is found by the loader or `doctor`.
 */
#ifndef FROST_DATASET_H
#define FROST_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "badfiles.h"

typedef struct {
    char *path;   // ROOT/train/cats/001.jpg
    int label;    // index into dataset.classes
} dataset_item;

typedef struct {
    const char *name;   // "train" or "valid"
    char *dir;          // the folder it was read from; NULL when split off train by a fraction
    dataset_item *items;
    size_t n_items;
    size_t *class_counts;   // n_classes entries
} dataset_split;

typedef struct {
    double valid_fraction;   // used only when ROOT has no train/ folder (default 0.2)
    uint64_t seed;           // for that split (default 0)
    int lenient;             // 1: keep going past empty classes and missing splits (for doctor)
} dataset_opts;

typedef struct {
    char *root;
    char **classes;   // sorted
    size_t n_classes;
    dataset_split train, valid;
    int split_by_fraction;   // 1 when ROOT held class folders only
    char **problems;         // what makes training impossible (empty class, no images); one line each
    size_t n_problems;
    badfile_list skipped;   // entries the scan could not enter (symlink loops, unreadable folders)
} dataset;

void dataset_opts_default(dataset_opts *o);

// Scans root. Returns 0, or -1 with the first problem in err (and, with opts->lenient, still
// returns 0 and leaves all problems in d->problems). Call dataset_free in every case.
int dataset_scan(dataset *d, const char *root, const dataset_opts *opts, char *err, size_t errlen);
void dataset_free(dataset *d);

#endif
