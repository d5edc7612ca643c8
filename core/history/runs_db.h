/*
 * runs_db.h — the run history's database: $XDG_DATA_HOME/frost/runs.db (default
 * ~/.local/share/frost/runs.db), SQLite in WAL mode, opened with a busy timeout so that two frost
 * processes write it in turn. Holds: opening, the schema and its migrations (PRAGMA user_version),
 * and finding the runs whose process died (marked interrupted). May use: libsqlite3, core/ below it.
 *
 * Nothing here deletes, truncates or replaces the file: a database that is not SQLite, is damaged,
 * cannot be read or stays locked is refused in one line, and the caller goes on without history.
 */
#ifndef FROST_HISTORY_RUNS_DB_H
#define FROST_HISTORY_RUNS_DB_H

#include <sqlite3.h>
#include <stddef.h>

// The schema this build writes (PRAGMA user_version). Older databases are migrated when opened;
// a newer one (a later frost's) is read but not written.
#define RUNS_DB_VERSION 1
// How long a writer waits for another process's write to end before giving up (ms).
#define RUNS_DB_BUSY_MS 5000

// 1 when the history is on: $FROST_RUNS (0/off: off, anything else: on) wins over the config
// file's "runs = on|off"; on by default.
int runs_db_enabled(void);

// The database's path: $XDG_DATA_HOME/frost/runs.db, else
// ~/.local/share/frost/runs.db. 0, or -1 with err.
int runs_db_path(char *out, size_t len, char *err, size_t errlen);

// Opens (creating it and its folder when missing, when create is 1) and brings the schema up to
// date; marks the runs of dead processes interrupted. *db, or -1 with a one-line err ("PATH: file is
// not a database") and *db NULL. With create 0, a missing file is RUNS_DB_NONE with err "no runs
// recorded yet" (in the user's language: callers test the code, not the text).
#define RUNS_DB_NONE (-2)
int runs_db_open(sqlite3 **db, int create, char *err, size_t errlen);
// The same at an explicit path (tests, the benchmark).
int runs_db_open_at(sqlite3 **db, const char *path, int create, char *err, size_t errlen);
void runs_db_close(sqlite3 *db);

// Runs recorded as running whose process (pid and its start time, on this host) is gone become
// interrupted. 0, or -1 with err.
int runs_db_mark_interrupted(sqlite3 *db, char *err, size_t errlen);

// This process's identity, as stored with a running run: pid and its start time in clock ticks
// since boot (/proc/PID/stat); 0 when it cannot be read.
unsigned long long runs_db_process_start(long pid);

// The message of db's last error, as a line: "database is locked", "disk is full".
const char *runs_db_error(sqlite3 *db);

#endif
