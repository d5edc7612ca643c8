/*
 * regular_file.h — opening a file for reading the one way frost does: never blocking on what is not
 * a file. open() of a FIFO waits for a writer forever, and a device or a folder is no image, weight
 * file or checkpoint, so the file is opened without blocking, asked what it is (fstat), and refused
 * in one line unless it is a regular file.
 */
#ifndef FROST_REGULAR_FILE_H
#define FROST_REGULAR_FILE_H

#include <stddef.h>
#include <sys/stat.h>

// Opens path for reading: the descriptor (close-on-exec, blocking reads again) with *st filled, or -1
// with the reason in err, without the path: "No such file or directory", "not a regular file (a FIFO)",
// "dangling symbolic link (its target does not exist)", "unreadable file (permission denied)", ...
int regular_file_open(const char *path, struct stat *st, char *err, size_t errlen);

// What a file of mode m is, for messages, in the user's language: "a folder", "a FIFO", "a device", ...
const char *regular_file_kind(mode_t m);

#endif
