/*
 * events.h — what the trainer thread tells the UI or the CLI, through a thread-safe queue.
 *
 * The trainer posts; the UI drains the queue once per tick without waiting (events_poll), the CLI
 * may wait with a timeout (events_wait). Posting takes a mutex only, never waits for a reader: the
 * queue grows instead (events are small, and a reader drains them many times a second).
 */
#ifndef FROST_EVENTS_H
#define FROST_EVENTS_H

#include <stddef.h>

#include "fix.h"
#include "precision_auto.h"

typedef enum {
    EV_INFO,          // text: a line worth showing (device, threads, cache decision)
    EV_PHASE_START,   // epoch, phase, batches
    EV_BATCH,         // epoch, phase, batch, batches, loss, running_loss, running_acc, images_per_s, eta_s, from_cache,
                      // backbone_images_per_s
    EV_PHASE_END,     // epoch, phase, running_loss, running_acc (the phase's mean loss and accuracy), seconds
    EV_EPOCH,         // epoch, train_loss, train_acc, valid_loss, valid_acc, seconds
    EV_SKIPPED,       // text: "path: reason" of a file the loader skipped
    EV_SAVED,         // text: the checkpoint written
    EV_ERROR,         // text: what went wrong (the run stops)
    EV_FINISHED,      // status: 0 done, 1 stopped, -1 failed; seconds: the whole run
    EV_LAYERS,        // epoch; batch: the index of a layer report (trainer_layers) measured now
    EV_ALARM,         // text: something the run does that its user most likely does not want; fix
    EV_STAGE,         // epoch (the stage's first), stage, stages; text: the trainable list now ("all", "layer4,fc")
    EV_LR_POINT,      // the lr finder's step: batch (1-based step), lr, loss, running_loss (the smoothed loss)
    EV_LR_SUGGEST,    // the lr finder's end: lr (0: no suggestion), batch (the point's step); text: why, or what
    EV_PRECISION      // --precision auto's decision (precision_auto.h): text: the pick, why and the figures on one
                      // line; precision: every figure
} event_kind;

enum { PHASE_TRAIN = 0, PHASE_VALID = 1 };

typedef struct {
    event_kind kind;
    int epoch, epochs;            // 1-based
    int phase;                    // PHASE_TRAIN or PHASE_VALID
    size_t batch, batches;        // 1-based batch number, batches in the phase
    double loss;                  // this batch's mean loss
    double running_loss;          // mean per-sample loss so far in the phase
    double running_acc;           // percent correct so far in the phase
    double images_per_s, eta_s;   // EV_BATCH: images of the phase so far per second of it (wall clock)
    int from_cache;               // EV_BATCH: the phase runs the head alone on cached backbone features
    // EV_BATCH: images per second of the run's phases that ran the backbone (this one included when it
    // does), so far: the figure to compare; 0 before any
    double backbone_images_per_s;
    double lr;           // EV_BATCH (train): the run's lr for this step (the head's group; 0: not known)
    int lr_moves;        // EV_BATCH, EV_PHASE_END: 1 when a schedule changes the lr during the run
    int stage, stages;   // EV_STAGE: the plan's stage (1-based) and how many it has
    double train_loss, train_acc, valid_loss, valid_acc;
    double seconds;
    int status;
    frost_fix fix;   // EV_ERROR: what would get past it (FIX_NONE: nothing to change)
    char text[1024];
    precision_auto_result precision;   // EV_PRECISION
} train_event;

typedef struct event_queue event_queue;

event_queue *events_new(void);   // NULL when out of memory
void events_free(event_queue *q);
// Appends a copy of *e. Returns 0, or -1 when out of memory (the event is dropped).
int events_post(event_queue *q, const train_event *e);
// Takes the oldest event without waiting: 1, or 0 when the queue is empty.
int events_poll(event_queue *q, train_event *out);
// Waits up to timeout_ms for an event: 1, or 0 on timeout.
int events_wait(event_queue *q, train_event *out, int timeout_ms);

#endif
