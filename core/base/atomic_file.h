/*
 * atomic_file.h — the one way frost writes a file, and the one rule on what it writes over.
 *
 * The rule: frost writes only regular files. A target that exists and is anything else (a folder, a
 * device, a FIFO, a socket, a symbolic link) is refused in one line and nothing changes: replacing
 * it by a file would, as root, turn `--save /dev/null` into a new /dev/null for the whole system, and
 * writing through a link would change a file somewhere the user did not name.
 *
 * A whole file (checkpoint, weights, ONNX model, PNG, feature cache entry, calibration table) is
 * written atomically: a temporary PATH.tmp.XXXXXX in the target's folder (mode: the replaced file's,
 * else 0644), the writer's bytes, fsync, the target checked again, a rename over it (or a link, which
 * fails when the target appeared meanwhile, when it must not be replaced), and an fsync of the folder
 * so the rename survives a crash. A reader sees the old file or the new one, never half of one; a
 * failure removes the temporary.
 *
 * A file written as it goes (a JSON log, the clean journal, a resumable download) is opened in place
 * (atomic_file_open_in_place), under the same rule, without ever blocking on a FIFO.
 *
 * Nothing here prints; errors are one line in err, naming the path.
 */
#ifndef FROST_ATOMIC_FILE_H
#define FROST_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

// 0 when path is missing or a regular file; -1 with err ("PATH is a device, not a regular file (frost
// writes only regular files)") when it is anything else, a symbolic link included.
int atomic_file_check_kind(const char *path, char *err, size_t errlen);

// Whether path can be written, before any work: its folder exists, is a folder and can be written,
// and path passes atomic_file_check_kind. 0, or -1 with err.
int atomic_file_check(const char *path, char *err, size_t errlen);

typedef struct {
    char *path, *tmp;   // the target; the temporary beside it
    int fd;             // the temporary's descriptor (-1 once closed)
    FILE *stream;       // set by atomic_file_open_stream: the descriptor is then the stream's
} atomic_file;

// Checks the target (atomic_file_check_kind) and creates the temporary beside it. 0, or -1 with err
// and nothing created (f needs no abort then).
int atomic_file_open(atomic_file *f, const char *path, char *err, size_t errlen);

// atomic_file_open, then the temporary as a buffered stdio stream (closed by close/commit/abort): the
// stream, or NULL with err and nothing created.
FILE *atomic_file_open_stream(atomic_file *f, const char *path, char *err, size_t errlen);

// Writes all of buf to fd, through short writes and EINTR; 0, or -1 with errno set.
int atomic_file_write_all(int fd, const void *buf, size_t len);

// Flushes, fsyncs and closes the temporary (it stays unrenamed): the first half of a commit, for
// writers that put several files in place together. 0, or -1 with err ("PATH: write failed: ...");
// the temporary stays until commit or abort.
int atomic_file_close(atomic_file *f, char *err, size_t errlen);

// Puts the temporary in place: close (when still open), the target checked again, rename over it
// (replace 1) or link it (replace 0: "PATH already exists" when it does), fsync of the folder. Frees
// f; on failure the temporary is removed and the target is as it was. 0, or -1 with err.
int atomic_file_commit(atomic_file *f, int replace, char *err, size_t errlen);

// Removes the temporary and frees f; accepts a zeroed or already committed f.
void atomic_file_abort(atomic_file *f);

// A whole buffer to path: open, write, commit (replace 1). 0, or -1 with err.
int atomic_file_write(const char *path, const void *data, size_t len, char *err, size_t errlen);

// Renames a finished file of frost's own (from, in the same file system) over path, after checking
// path's kind, then fsyncs path's folder: how files written elsewhere (a download's .part, a staging
// folder's) are put in place. 0, or -1 with err; from is left where it was on failure.
int atomic_file_rename(const char *from, const char *path, char *err, size_t errlen);

// fsyncs the folder dir, so a rename or unlink in it survives a crash. File systems that cannot fsync
// a folder count as done. 0, or -1 with errno set.
int atomic_file_sync_dir(const char *dir);
// The same for the folder holding path.
int atomic_file_sync_folder(const char *path);

// Opens path to write it in place: flags are open(2)'s access and creation flags (O_WRONLY or O_RDWR,
// O_CREAT, O_APPEND, O_TRUNC); a symbolic link is not followed, a FIFO never waited on, and anything
// but a regular file refused before it is changed (O_TRUNC is applied only then). The descriptor
// (close-on-exec, blocking), or -1 with err (and errno open's, when open failed: ENOENT, EACCES...).
int atomic_file_open_in_place(const char *path, int flags, mode_t mode, char *err, size_t errlen);

#endif
