/*
 * clean.h — fixing a dataset's labels without losing a file: relabel an image (move it to another
 * class folder of its split) or set it aside (out of the dataset), every move journalled and undoable.
 *
 * ROOT is an image folder as dataset.h reads it: ROOT/<split>/<class>/.../NAME with split train, valid
 * or val (ROOT/train/cats/x.jpg), or ROOT/<class>/.../NAME when ROOT has no train/ folder (split by
 * fraction; then there is no <split>/ below). An IMAGE (absolute or relative to the working folder)
 * must be a regular file in such a place, reached without a symbolic link that leads out of ROOT,
 * with no hidden ('.') name on the way and a UTF-8 name (JSON, so the journal, holds nothing else).
 *   relabel     ROOT/<split>/<class>/.../NAME -> ROOT/<split>/<to_class>/NAME (to_class must already
 *               be a folder of that split)
 *   set aside   ROOT/<split>/<class>/.../NAME -> ROOT/.frost-set-aside/<split>/<class>/NAME (made as
 *               needed; the scanner skips names that start with '.', so training, doctor and the
 *               data screen never see it)
 * Nothing is ever deleted or overwritten: when NAME is taken in the target folder the file gets the
 * first free "STEM (2).EXT", "STEM (3).EXT", ... ("cat.12.jpg" -> "cat.12 (2).jpg"). A move is one
 * rename (never replacing: renameat2 RENAME_NOREPLACE, else link + unlink). When the two folders are
 * on different file systems (EXDEV) it is a copy to a temporary ".frost-clean-<ID>.tmp" in the target
 * folder (mode and times kept), fsync, a non-replacing rename into place, fsync of the folder, and
 * only then the source's unlink (and its folder's fsync).
 *
 * The journal, ROOT/.frost-clean.journal: one JSON object per line (UTF-8, '\n' after each), appended
 * with one write and fsync'ed. Paths are relative to ROOT; ID counts up from 1.
 *   {"op":"move","id":3,"kind":"relabel"|"set-aside","from":"train/cats/x.jpg","to":"train/dogs/x.jpg",
 *    "tmp":"train/dogs/.frost-clean-3.tmp","size":1234,"time":"2026-11-30T07:22:59Z"}
 *   {"op":"undo","id":4,"undoes":3,"from":"train/dogs/x.jpg","to":"train/cats/x.jpg","tmp":...,...}
 *   {"op":"done","id":3}                       the move (or undo) with that id is complete
 *   {"op":"abort","id":3,"why":"..."}          it did not happen (failed, or rolled back)
 * A "move" or "undo" line (the intent) is written and fsync'ed before anything on disk changes, its
 * "done" or "abort" after; "recovered":true marks the lines that recovery wrote.
 *
 * Crash guarantees. Every clean_* function first locks the journal (flock: exclusive, shared where it
 * can only read; one frost at a time, and the kernel lets go when a process dies) and settles every
 * intent without its done or abort line (clean_recover): a temporary copy is removed; then, when only
 * the source exists the move is rolled back (abort), when only the target exists it is completed
 * (done), when both exist and hold the same bytes (a cross-file-system move killed before the unlink,
 * or link + unlink) the source is unlinked and the move completed, and when both exist with different
 * bytes the target is someone else's and the move is rolled back. So after a process killed at any
 * moment (kill -9) and the next clean_* call, every file is in exactly one place and no temporary
 * remains; recovery can be killed too and run again. A last line that is torn (no '\n', as a killed
 * write leaves it) or not a journal entry is ignored when read and cut off before the next append; a
 * bad line before the last is an error naming it, and then nothing is moved.
 *
 * A dataset that cannot be written (permissions, a read-only mount) is refused with one line before
 * anything changes; clean_list still reads its journal. Every function returns 0 (or as said) on
 * success, -1 with one line in err (no newline); none print.
 */
#ifndef FROST_CLEAN_H
#define FROST_CLEAN_H

#include <stddef.h>

#define CLEAN_JOURNAL ".frost-clean.journal"
#define CLEAN_SET_ASIDE_DIR ".frost-set-aside"

typedef enum { CLEAN_RELABEL, CLEAN_SET_ASIDE } clean_kind;

typedef struct {
    long long id;      // the journal's id of the move
    clean_kind kind;   // relabel or set aside
    char *from, *to;   // relative to ROOT: where the file was, where the move put it
    long long time;    // when it moved, seconds since 1970 (UTC)
    int undone;        // 1 when an undo moved it back
} clean_entry;

// Moves the image at path into ROOT/<split>/<to_class>/. *new_path (allocated; may be NULL when not
// wanted) gets root + "/" + where it went.
int clean_relabel(const char *root, const char *path, const char *to_class, char **new_path, char *err, size_t errlen);
// Moves the image at path into ROOT/.frost-set-aside/<split>/<class>/ (made as needed); *new_path as above.
int clean_set_aside(const char *root, const char *path, char **new_path, char *err, size_t errlen);

// Moves the file of the last move not yet undone back to its old path (making its folder when it is
// gone), journalled as an undo: repeated calls walk back through the history, also after a restart.
// Refused when the old path is taken or the moved file is gone. 1 when something was undone (what gets
// the move undone: "relabel train/cats/x.jpg -> train/dogs/x.jpg", "set aside ..."), 0 when nothing is
// left to undo, -1.
int clean_undo(const char *root, char *what, size_t whatlen, char *err, size_t errlen);

// The moves (relabels and set-asides that happened), oldest first. *out is NULL when there are none.
int clean_list(const char *root, clean_entry **out, size_t *n, char *err, size_t errlen);
void clean_entries_free(clean_entry *e, size_t n);   // accepts NULL

// Settles the moves a killed process left half done (see above): the number settled (0 when none,
// also when there is no journal yet), or -1. Every clean_* function calls it first.
int clean_recover(const char *root, char *err, size_t errlen);

#endif
