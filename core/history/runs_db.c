// runs_db.c — the run history's database file: where it is, opening it (WAL, busy timeout), the
// schema and its migrations, and the runs whose process died. Uses libsqlite3, core/ below it.
#include "runs_db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "errmsg.h"
#include "path.h"

// ---------------------------------------------------------------------------------------------
// where, and whether

int runs_db_enabled(void) {
    const char *env = getenv("FROST_RUNS");
    if (env && *env) return !(strcmp(env, "0") == 0 || strcmp(env, "off") == 0);
    frost_config c;
    char ignored[512];
    (void)config_load(&c, ignored, sizeof ignored);   // its mistakes are said where the commands read it
    return c.runs != 0;
}

int runs_db_path(char *out, size_t len, char *err, size_t errlen) {
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')   // the spec: a relative value is to be ignored
        n = snprintf(out, len, "%s/frost/runs.db", xdg);
    else if (home && *home)
        n = snprintf(out, len, "%s/.local/share/frost/runs.db", home);
    else {
        errmsg_set(err, errlen, "neither $XDG_DATA_HOME nor $HOME says where the run history goes");
        return -1;
    }
    if (n < 0 || (size_t)n >= len) {
        errmsg_set(err, errlen, "the run history's path is too long");
        return -1;
    }
    return 0;
}

const char *runs_db_error(sqlite3 *db) { return db ? sqlite3_errmsg(db) : "out of memory"; }

// ---------------------------------------------------------------------------------------------
// the schema: each step takes the database from version k to k + 1, in one transaction

static const char *const MIGRATIONS[RUNS_DB_VERSION] = {
    // 0 -> 1: the runs, their epochs
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY,"
    " started TEXT NOT NULL,"
    " finished TEXT,"
    " status TEXT NOT NULL CHECK (status IN ('running','completed','stopped','failed','interrupted')),"
    " message TEXT,"
    " frost_version TEXT NOT NULL,"
    " origin TEXT NOT NULL,"
    " command TEXT NOT NULL,"
    " host TEXT NOT NULL,"
    " pid INTEGER NOT NULL,"
    " pid_start INTEGER NOT NULL,"
    " repeats INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
    " replay TEXT,"
    " dataset TEXT NOT NULL,"
    " dataset_digest TEXT NOT NULL,"
    " classes TEXT NOT NULL,"
    " arch TEXT NOT NULL,"
    " trainable TEXT NOT NULL,"
    " lr REAL NOT NULL,"
    " epochs INTEGER NOT NULL,"
    " epochs_done INTEGER NOT NULL DEFAULT 0,"
    " final_train_loss REAL, final_train_acc REAL, final_valid_loss REAL, final_valid_acc REAL,"
    " best_valid_acc REAL, best_epoch INTEGER,"
    " checkpoint TEXT, checkpoint_digest TEXT,"
    " peak_rss_kb INTEGER, wall_s REAL,"
    " batches INTEGER NOT NULL DEFAULT 0,"
    " losses_digest TEXT,"
    // last: the long text, so that reading the columns before it (a list of 10,000 runs) does
    // not walk its overflow pages
    " settings TEXT NOT NULL);"
    "CREATE TABLE epochs ("
    " run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " epoch INTEGER NOT NULL,"
    " train_loss REAL, train_acc REAL, valid_loss REAL, valid_acc REAL,"
    " lr REAL, seconds REAL, images_per_s REAL,"
    " batch_losses BLOB,"
    " PRIMARY KEY (run, epoch)) WITHOUT ROWID;"
    "CREATE INDEX runs_status ON runs(status);"
    "CREATE INDEX runs_dataset ON runs(dataset, id);",
};

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen, const char *path) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    errmsg_set(err, errlen, "%s: %s", path, msg ? msg : runs_db_error(db));
    sqlite3_free(msg);
    return -1;
}

static int user_version(sqlite3 *db, int *v) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) return -1;
    int rc = sqlite3_step(st) == SQLITE_ROW ? (*v = sqlite3_column_int(st, 0), 0) : -1;
    sqlite3_finalize(st);
    return rc;
}

// Brings the schema to RUNS_DB_VERSION, one migration per transaction (BEGIN IMMEDIATE: two
// processes opening a new file at once do not both create the tables).
static int migrate(sqlite3 *db, const char *path, char *err, size_t errlen) {
    int v;
    if (user_version(db, &v) != 0) {
        errmsg_set(err, errlen, "%s: %s", path, runs_db_error(db));
        return -1;
    }
    while (v < RUNS_DB_VERSION) {
        if (exec(db, "BEGIN IMMEDIATE", err, errlen, path) != 0) return -1;
        int now;   // another process may have migrated it meanwhile
        if (user_version(db, &now) != 0) {
            errmsg_set(err, errlen, "%s: %s", path, runs_db_error(db));
            exec(db, "ROLLBACK", NULL, 0, path);
            return -1;
        }
        if (now == v) {
            char sql[64];
            snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
            if (exec(db, MIGRATIONS[v], err, errlen, path) != 0 || exec(db, sql, err, errlen, path) != 0) {
                exec(db, "ROLLBACK", NULL, 0, path);
                return -1;
            }
        }
        if (exec(db, "COMMIT", err, errlen, path) != 0) {
            exec(db, "ROLLBACK", NULL, 0, path);
            return -1;
        }
        if (user_version(db, &v) != 0) return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// opening

int runs_db_open_at(sqlite3 **db, const char *path, int create, char *err, size_t errlen) {
    *db = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (!create) {
            errmsg_set(err, errlen, "no runs recorded yet (%s does not exist)", path);
            return RUNS_DB_NONE;
        }
        char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash && slash != dir) *slash = '\0';
        int made = dir && path_mkdirs(dir) == 0;
        int e = errno;
        free(dir);
        if (!made) {
            errmsg_set(err, errlen, "%s: cannot make its folder: %s", path, strerror(e));
            return -1;
        }
    } else if (!S_ISREG(st.st_mode)) {
        errmsg_set(err, errlen, "%s is not a regular file", path);
        return -1;
    }
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK) {
        errmsg_set(err, errlen, "%s: %s", path, runs_db_error(*db));
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(*db, RUNS_DB_BUSY_MS);
    sqlite3_extended_result_codes(*db, 1);
    // the last connection to close would copy the WAL into the file and remove it, each with an
    // fsync, and the next run would make it again (with another): 30-60 ms a run on this project's
    // disks, more than the rest of recording. The WAL stays beside the file instead; SQLite copies it
    // in when it grows past its 1000 pages, during a commit.
    sqlite3_db_config(*db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    // WAL: readers never wait for the writer, and a killed writer leaves the file valid. NORMAL sync
    // in WAL mode: a power cut may lose the last transaction, never the database.
    if (exec(*db, "PRAGMA journal_mode=WAL", err, errlen, path) != 0 ||
        exec(*db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", err, errlen, path) != 0 ||
        migrate(*db, path, err, errlen) != 0) {
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    int v = 0;
    if (user_version(*db, &v) != 0 || v > RUNS_DB_VERSION) {
        errmsg_set(err, errlen, "%s: written by a newer frost (schema %d; this one knows %d)", path, v,
                   RUNS_DB_VERSION);
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    if (runs_db_mark_interrupted(*db, err, errlen) != 0) {
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    return 0;
}

int runs_db_open(sqlite3 **db, int create, char *err, size_t errlen) {
    char path[4096];
    *db = NULL;
    if (runs_db_path(path, sizeof path, err, errlen) != 0) return -1;
    return runs_db_open_at(db, path, create, err, errlen);
}

void runs_db_close(sqlite3 *db) { sqlite3_close(db); }

// ---------------------------------------------------------------------------------------------
// dead processes

unsigned long long runs_db_process_start(long pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    // after the command's name (in parentheses, which may hold anything): field 3 on; starttime is 22
    char *p = strrchr(buf, ')');
    if (!p) return 0;
    p++;
    for (int field = 3; field < 22 && p; field++) p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

static void host_name(char *out, size_t len) {
    if (gethostname(out, len) != 0) snprintf(out, len, "?");
    out[len - 1] = '\0';
}

int runs_db_mark_interrupted(sqlite3 *db, char *err, size_t errlen) {
    char host[256];
    host_name(host, sizeof host);
    sqlite3_stmt *st = NULL, *up = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT id, pid, pid_start FROM runs WHERE status = 'running' AND host = ?", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "UPDATE runs SET status = 'interrupted', message = 'its process ended without "
                           "finishing the run' WHERE id = ? AND status = 'running'",
                           -1, &up, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_TRANSIENT);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        long pid = (long)sqlite3_column_int64(st, 1);
        unsigned long long start = (unsigned long long)sqlite3_column_int64(st, 2);
        if (runs_db_process_start(pid) == start && start != 0) continue;   // still running
        sqlite3_reset(up);
        sqlite3_bind_int64(up, 1, sqlite3_column_int64(st, 0));
        if (sqlite3_step(up) != SQLITE_DONE) goto out;
    }
    rc = s == SQLITE_DONE ? 0 : -1;
out:
    if (rc != 0) errmsg_set(err, errlen, "run history: %s", runs_db_error(db));
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    return rc;
}
