/*
 * badfiles.h — the list of files a run had to skip, and why.
 *
 * The dataset scanner and the loader's worker threads add to it; the UI and the CLI read it. Each
 * path is kept once (the same broken file is met again every epoch). Thread-safe.
 */
#ifndef FROST_BADFILES_H
#define FROST_BADFILES_H

#include <pthread.h>
#include <stddef.h>

typedef struct {
    char *path;
    char *reason;
} badfile;

typedef struct {
    pthread_mutex_t lock;
    badfile *items;
    size_t n, cap;
} badfile_list;

void badfiles_init(badfile_list *l);
void badfiles_free(badfile_list *l);
// Records path with its reason; returns 1 when the path is new, 0 when it was already listed
// (or could not be stored for lack of memory).
int badfiles_add(badfile_list *l, const char *path, const char *reason);
size_t badfiles_count(badfile_list *l);
// Copies entry i into the caller's buffers; 0 on success, -1 past the end.
int badfiles_get(badfile_list *l, size_t i, char *path, size_t path_len, char *reason, size_t reason_len);

// Calls fn for entries from, from + 1, ... to the end, in order, each with a copy of the entry (no
// lock held during the call). Returns the count of entries passed: the `from` of the next call, for
// a reader that reports each new entry once.
typedef void (*badfile_fn)(void *user, const char *path, const char *reason);
size_t badfiles_each(badfile_list *l, size_t from, badfile_fn fn, void *user);
// Adds every entry of src to dst.
void badfiles_add_all(badfile_list *dst, badfile_list *src);

#endif
