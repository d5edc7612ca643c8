// trainer_layers.c — what training does to each module (layer_stats.h), measured on the trainer's
// thread against a snapshot of the model as the run started: the reports (trainer_layers hands them
// to other threads under the trainer's mutex) and the alarms they raise. Also the note a run from
// random weights gets before it starts. Its state: trainer_measurements (trainer_parts.h).
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "clock.h"
#include "errmsg.h"
#include "trainer_parts.h"

// The snapshot the run's layer reports are measured against: the model as the run starts.
void trainer_take_snapshot(trainer *t) {
    if (t->cfg.measure_every <= 0) return;
    ft_status *s = ft_snapshot_take(t->m, &t->layers.snap);
    if (s) {
        trainer_post_text(t, EV_INFO, "layer measurements off: %s", ft_status_message(s));
        ft_status_free(s);
        t->layers.snap = NULL;
    }
}

// The alarms a report raises (each said once a run).
static void alarms(trainer *t, const layer_report *r, int phase_end) {
    char names[512];
    size_t n;
    if (!t->layers.alarmed_frozen && (n = layer_report_frozen_moving(r, names, sizeof names)) > 0) {
        t->layers.alarmed_frozen = 1;
        train_event e = {.kind = EV_ALARM, .epoch = t->epoch, .fix = FIX_BN_FIXED};
        if (n == 1)   // two whole sentences, so that each translates as one
            errmsg_set(e.text, sizeof e.text,
                       "frozen but changing: %zu BatchNorm layer (%s) updates its running statistics in train mode, "
                       "although no parameter of it trains",
                       n, names);
        else
            errmsg_set(e.text, sizeof e.text,
                       "frozen but changing: %zu BatchNorm layers (%s) update their running statistics in train mode, "
                       "although no parameter of theirs trains",
                       n, names);
        trainer_post(t, &e);
    }
    if (phase_end && t->epoch == t->start_epoch + 1 && (n = layer_report_not_learning(r, names, sizeof names)) > 0) {
        double largest = 0;
        for (size_t i = 0; i < r->n; i++)
            if (r->rows[i].params > 0 && r->rows[i].trainable == r->rows[i].params && isfinite(r->rows[i].change) &&
                r->rows[i].change < LAYER_LEARNING_MIN && r->rows[i].change > largest)
                largest = r->rows[i].change;
        train_event e = {.kind = EV_ALARM, .epoch = t->epoch, .fix = FIX_HIGHER_LR};
        if (n == 1)
            errmsg_set(e.text, sizeof e.text,
                       "trainable but not learning: %s moved %.2g%% of its size in the first epoch (under %g%%)", names,
                       100.0 * largest, 100.0 * LAYER_LEARNING_MIN);
        else
            errmsg_set(e.text, sizeof e.text,
                       "trainable but not learning: %s moved %.2g%% of their size in the first epoch (under %g%%)",
                       names, 100.0 * largest, 100.0 * LAYER_LEARNING_MIN);
        trainer_post(t, &e);
    }
}

// Measures what training has done to each module so far, keeps the report and posts EV_LAYERS.
static void measure(trainer *t, int phase_end) {
    if (!t->layers.snap) return;
    double t0 = clock_seconds();
    layer_report *r = calloc(1, sizeof *r);
    char err[512] = "out of memory";
    if (!r || layer_report_measure(t->m, t->layers.snap, t->epoch, t->steps, r, err, sizeof err) != 0) {
        free(r);
        trainer_post_text(t, EV_INFO, "layer measurements stopped: %s", err);
        ft_snapshot_free(t->layers.snap);
        t->layers.snap = NULL;
        return;
    }
    pthread_mutex_lock(&t->mu);
    int kept = 0;
    if (t->layers.n == t->layers.cap) {
        size_t cap = t->layers.cap ? 2 * t->layers.cap : 16;
        layer_report **grown = realloc(t->layers.reports, cap * sizeof *grown);
        if (grown) t->layers.reports = grown, t->layers.cap = cap;
    }
    assert(t->layers.n <= t->layers.cap);
    size_t k = t->layers.n;
    if (t->layers.n < t->layers.cap) t->layers.reports[t->layers.n++] = r, kept = 1;
    pthread_mutex_unlock(&t->mu);
    if (!kept) {
        layer_report_free(r);
        free(r);
        return;
    }
    train_event e = {.kind = EV_LAYERS, .epoch = t->epoch, .batch = k};
    trainer_post(t, &e);
    alarms(t, r, phase_end);
    t->prof.measure += clock_seconds() - t0;
}

// At the end of a train phase: a measurement of where it ended (unless its last batch was just
// measured), with the alarms that wait for a whole epoch.
void trainer_after_train_phase(trainer *t) {
    if (!t->layers.snap) return;
    const layer_report *last = t->layers.n ? t->layers.reports[t->layers.n - 1] : NULL;
    if (last && last->step == t->steps && last->epoch == t->epoch)
        alarms(t, last, 1);
    else
        measure(t, 1);
}

// A new run from random weights with part of the network frozen: what to expect, said before it starts.
// The frozen part computes random features that training never changes, so the head learns little
// from them (the tutorial's settings on sample_data end near chance: every image in one class).
void trainer_random_backbone_note(trainer *t) {
    const ft_node *nodes = NULL;
    size_t n = 0;
    ft_status *s = ft_model_nodes(t->m, &nodes, &n);
    if (s) {
        ft_status_free(s);
        return;
    }
    if (n == 0 || nodes[0].trainable >= nodes[0].params) return;
    trainer_post_text(
        t, EV_INFO,
        "note: %.4g%% of the network is frozen at random weights: expect accuracy near chance. ImageNet weights, "
        "more trainable blocks or a larger learning rate change that",
        100.0 * (double)(nodes[0].params - nodes[0].trainable) / (double)nodes[0].params);
}

// After training batch `batch` (1-based) of a phase: a measurement every measure_every batches.
void trainer_measure_due(trainer *t, size_t batch) {
    if (t->layers.snap && batch % (size_t)t->cfg.measure_every == 0) measure(t, 0);
}

const layer_report *trainer_layers(trainer *t, size_t k) {
    pthread_mutex_lock(&t->mu);
    const layer_report *r = k < t->layers.n ? t->layers.reports[k] : NULL;
    pthread_mutex_unlock(&t->mu);
    return r;
}

// The reports, once the thread has ended (trainer_free).
void trainer_layers_free(trainer *t) {
    for (size_t k = 0; k < t->layers.n; k++) {
        layer_report_free(t->layers.reports[k]);
        free(t->layers.reports[k]);
    }
    free(t->layers.reports);
    t->layers.reports = NULL;
    t->layers.n = t->layers.cap = 0;
}
