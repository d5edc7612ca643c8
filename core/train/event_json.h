/*
 * event_json.h — the trainer's events as JSON lines: what `frost train --json FILE` and the
 * interface's `frost --json FILE` write, one object per line (JSON Lines), numbers to full double precision,
 * non-finite ones as null.
 *
 *   {"event":"batch","epoch":1,"epochs":5,"phase":"train","batches":25,"batch":3,"loss":0.69,...}
 *   {"event":"order","epoch":1,"phase":"train","items":[17,3,...],"torch_seed":1000004}
 *   {"event":"layers","epoch":1,"step":40,"modules":[...]}   what training did to each module
 *   {"event":"alarm","epoch":1,"epochs":5,"text":"..."}
 *       the split's items in the order the phase takes them, and (train) the seed libtorch's generator
 *       starts the phase from: with both, PyTorch replays the phase exactly
 */
#ifndef FROST_EVENT_JSON_H
#define FROST_EVENT_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "dataset.h"
#include "events.h"
#include "layer_stats.h"
#include "trainer.h"

// Creates (or empties) the log at path for writing, under core/base/atomic_file's rule: a target that is
// not a regular file (a device, FIFO, folder, symbolic link) is refused unchanged. The stream, or NULL
// with err ("PATH: cannot create it: ...", "PATH is a device, not a regular file ...").
FILE *event_json_open(const char *path, char *err, size_t errlen);

// The event as one line of JSON (no newline), allocated; NULL when out of memory.
char *event_json(const train_event *e);
// A phase's order: items[0..n) are indices into the split's dataset items; torch_seed (< 0: none).
char *event_json_order(int epoch, int phase, const size_t *items, size_t n, long long torch_seed);
// A layer report as one line: {"event":"layers","epoch":1,"step":40,"modules":[{"path":"fc",
// "params":1539,"trainable":1539,"change":0.0041,"grad":0.37,"drift":null},...]} (every module of the
// printed tree, in its order; NAN as null).
char *event_json_layers(const train_event *e, const layer_report *r);
// Writes the event to the log f (and, as a phase starts, its order: the trainer's own, from the run's
// config c and dataset d; for EV_LAYERS, the report `layers`), flushed: 0, or -1 with errno set when
// it cannot be written.
int event_json_write(FILE *f, const train_event *e, const trainer_config *c, const dataset *d,
                     const layer_report *layers);

#endif
