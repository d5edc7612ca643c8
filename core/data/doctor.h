/*
 * doctor.h — a dataset's pre-flight check: every image decoded once (in parallel), with what was
 * found: sizes, formats, colour modes, bad files and why, classes missing from a split, imbalance,
 * and whether training could run at all. `frost doctor` prints it; the UI shows it.
 */
#ifndef FROST_DOCTOR_H
#define FROST_DOCTOR_H

#include <stdatomic.h>
#include <stddef.h>

#include "badfiles.h"
#include "dataset.h"

#define DOCTOR_MAX_KINDS 16

typedef struct {
    char name[16];
    size_t count;
} doctor_kind;

typedef struct {
    size_t checked, readable;
    int min_w, min_h, max_w, max_h;   // over readable images
    int median_w, median_h;
    doctor_kind formats[DOCTOR_MAX_KINDS];
    size_t n_formats;
    doctor_kind modes[DOCTOR_MAX_KINDS];
    size_t n_modes;
    size_t *readable_per_class[2];   // [0] train, [1] valid; n_classes entries each
    badfile_list bad;                // files that did not decode, and the scan's skipped entries
    char **warnings;                 // worth knowing, training can still run
    size_t n_warnings;
    size_t imbalance;   // 1 + the index of the class-imbalance warning (0: none); its fix is
                        // FIX_CLASS_WEIGHTS
    char **problems;    // training cannot run
    size_t n_problems;
} doctor_report;

// Decodes every image of d with `workers` threads (0: the cores available) and fills r.
// Returns 0, or -1 with err on lack of memory or threads. Call doctor_report_free in every case.
int doctor_run(dataset *d, int workers, doctor_report *r, char *err, size_t errlen);

// For a run on a background thread (doctor_job.h): a counter of the files checked so far, and a
// flag that, once set, makes the workers stop taking files; the run then returns -1 "cancelled".
// Either may be NULL.
typedef struct {
    atomic_size_t *progress;
    atomic_int *cancel;
} doctor_hooks;
int doctor_run_hooked(dataset *d, int workers, const doctor_hooks *h, doctor_report *r, char *err, size_t errlen);
void doctor_report_free(doctor_report *r, size_t n_classes);
// 1 when nothing in r stops training.
int doctor_can_train(const doctor_report *r);

#endif
