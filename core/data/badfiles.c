// badfiles.c — a mutex-guarded list of skipped files with their reasons, one entry per path.
// Lookups are linear: the list holds the few broken files of a dataset, not the dataset.
#include "badfiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void badfiles_init(badfile_list *l) {
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->lock, NULL);
}

void badfiles_free(badfile_list *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].path);
        free(l->items[i].reason);
    }
    free(l->items);
    pthread_mutex_destroy(&l->lock);
    memset(l, 0, sizeof *l);
}

int badfiles_add(badfile_list *l, const char *path, const char *reason) {
    int added = 0;
    pthread_mutex_lock(&l->lock);
    size_t i = 0;
    while (i < l->n && strcmp(l->items[i].path, path) != 0) i++;
    if (i == l->n) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 16;
            badfile *grown = realloc(l->items, cap * sizeof *grown);
            if (grown) {
                l->items = grown;
                l->cap = cap;
            }
        }
        if (l->n < l->cap) {
            char *p = strdup(path), *r = strdup(reason);
            if (p && r) {
                l->items[l->n++] = (badfile){p, r};
                added = 1;
            } else {
                free(p);
                free(r);
            }
        }
    }
    pthread_mutex_unlock(&l->lock);
    return added;
}

size_t badfiles_count(badfile_list *l) {
    pthread_mutex_lock(&l->lock);
    size_t n = l->n;
    pthread_mutex_unlock(&l->lock);
    return n;
}

int badfiles_get(badfile_list *l, size_t i, char *path, size_t path_len, char *reason, size_t reason_len) {
    int rc = -1;
    pthread_mutex_lock(&l->lock);
    if (i < l->n) {
        snprintf(path, path_len, "%s", l->items[i].path);
        snprintf(reason, reason_len, "%s", l->items[i].reason);
        rc = 0;
    }
    pthread_mutex_unlock(&l->lock);
    return rc;
}

size_t badfiles_each(badfile_list *l, size_t from, badfile_fn fn, void *user) {
    size_t i = from;
    for (;; i++) {
        // each entry copied under the lock, then handed over without it (fn may take its time)
        pthread_mutex_lock(&l->lock);
        char *path = i < l->n ? strdup(l->items[i].path) : NULL;
        char *reason = i < l->n ? strdup(l->items[i].reason) : NULL;
        int past_end = i >= l->n;
        pthread_mutex_unlock(&l->lock);
        if (past_end) break;
        if (path && reason) fn(user, path, reason);
        free(path);
        free(reason);
    }
    return i;
}

static void add_to(void *user, const char *path, const char *reason) { badfiles_add(user, path, reason); }

void badfiles_add_all(badfile_list *dst, badfile_list *src) { badfiles_each(src, 0, add_to, dst); }
