// events.c — a growing FIFO ring of train_event under one mutex, with a condition variable for
// readers that wait (the CLI). The ring doubles when full, so the trainer never blocks on a slow
// reader.
#include "events.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct event_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    train_event *ring;
    size_t cap, head, len;
};

event_queue *events_new(void) {
    event_queue *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->cap = 256;
    q->ring = malloc(q->cap * sizeof *q->ring);
    if (!q->ring) {
        free(q);
        return NULL;
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &attr);
    pthread_condattr_destroy(&attr);
    return q;
}

void events_free(event_queue *q) {
    if (!q) return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q->ring);
    free(q);
}

int events_post(event_queue *q, const train_event *e) {
    int rc = 0;
    pthread_mutex_lock(&q->mu);
    if (q->len == q->cap) {
        train_event *grown = malloc(2 * q->cap * sizeof *grown);
        if (!grown) {
            rc = -1;
        } else {
            for (size_t i = 0; i < q->len; i++) grown[i] = q->ring[(q->head + i) % q->cap];
            free(q->ring);
            q->ring = grown;
            q->cap *= 2;
            q->head = 0;
        }
    }
    if (rc == 0) {
        q->ring[(q->head + q->len) % q->cap] = *e;
        q->len++;
        pthread_cond_signal(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int take(event_queue *q, train_event *out) {
    if (q->len == 0) return 0;
    *out = q->ring[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return 1;
}

int events_poll(event_queue *q, train_event *out) {
    pthread_mutex_lock(&q->mu);
    int got = take(q, out);
    pthread_mutex_unlock(&q->mu);
    return got;
}

int events_wait(event_queue *q, train_event *out, int timeout_ms) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&q->mu);
    int rc = 0;
    while (q->len == 0 && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&q->cv, &q->mu, &until);
    int got = take(q, out);
    pthread_mutex_unlock(&q->mu);
    return got;
}
