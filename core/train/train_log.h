/*
 * train_log.h — the tutorial's log, line for line, from the trainer's events: what `frost train`
 * prints and what the interface's Train screen shows in its log pane, written once.
 *
 *   Epoch 1/5
 *   ----------------------------------------
 *   Training...
 *   Batch 500,Train Loss:0.123456,Train ACC:97.5000
 *   train Loss:0.123456 ACC:97.5000
 *   Validing...
 *   valid Loss:0.123456 ACC:98.0000
 *   Training complete in 926.0 s
 *
 * The seed's lines keep its spelling ("Validing...") and number formats; frost's own lines (EV_INFO
 * text, "saved FILE", "Stopped after N s") come in between. Errors and skipped files are not log
 * lines: each front end shows them where its errors go.
 */
#ifndef FROST_TRAIN_LOG_H
#define FROST_TRAIN_LOG_H

#include "events.h"

typedef void (*train_log_fn)(void *user, const char *line);

// Calls fn once per log line the event makes (none for most batches). A "Batch N" line comes every
// log_every training batches (0: never).
void train_log_lines(const train_event *e, long log_every, train_log_fn fn, void *user);

#endif
