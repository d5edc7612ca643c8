// run_query.c — reading the run history (see run_query.h). Uses libsqlite3, core/ below it.
#include "run_query.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errmsg.h"
#include "runs_db.h"

// the columns every read of a run takes, in run_row's order (read_row); a list leaves out the long
// texts (command, settings, classes: '' in their place)
#define COLUMNS(TEXTS)                                                                                           \
    "id, coalesce(repeats, 0), '', started, coalesce(finished, ''), status, arch,"                               \
    " dataset, trainable, coalesce(message, ''), " TEXTS ", origin, frost_version,"                              \
    " coalesce(checkpoint, ''), coalesce(checkpoint_digest, ''), coalesce(losses_digest, ''), dataset_digest,"   \
    " lr, wall_s, final_train_loss, final_train_acc, final_valid_loss, final_valid_acc, best_valid_acc, epochs," \
    " epochs_done, coalesce(best_epoch, 0), batches, coalesce(peak_rss_kb, 0), coalesce(replay, '')"
#define ROW_COLUMNS COLUMNS("command, settings, classes")
#define LIST_COLUMNS COLUMNS("'', '', ''")

static char *dup_col(sqlite3_stmt *st, int k) {
    const unsigned char *t = sqlite3_column_text(st, k);
    return strdup(t ? (const char *)t : "");
}

static void copy_col(sqlite3_stmt *st, int k, char *dst, size_t len) {
    const unsigned char *t = sqlite3_column_text(st, k);
    snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static double real_col(sqlite3_stmt *st, int k) {
    return sqlite3_column_type(st, k) == SQLITE_NULL ? NAN : sqlite3_column_double(st, k);
}

void run_row_free(run_row *r) {
    if (!r) return;
    char **texts[] = {&r->dataset,       &r->trainable,      &r->message, &r->command,    &r->settings,
                      &r->classes,       &r->origin,         &r->version, &r->checkpoint, &r->checkpoint_digest,
                      &r->losses_digest, &r->dataset_digest, &r->replay};
    for (size_t k = 0; k < sizeof texts / sizeof *texts; k++) {
        free(*texts[k]);
        *texts[k] = NULL;
    }
}

// "YYYY-MM-DD HH:MM:SS" in UTC as local time, in the same form (here, not in SQL: SQLite's
// 'localtime' took a third of reading 10,000 runs).
static void local_time(const char *utc, char out[24]) {
    int v[6] = {0}, at[6] = {0, 5, 8, 11, 14, 17}, len[6] = {4, 2, 2, 2, 2, 2};
    snprintf(out, 24, "%s", utc);
    if (strlen(utc) < 19) return;
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < len[k]; i++) {
            char c = utc[at[k] + i];
            if (c < '0' || c > '9') return;
            v[k] = v[k] * 10 + (c - '0');
        }
    struct tm tm = {
        .tm_year = v[0] - 1900, .tm_mon = v[1] - 1, .tm_mday = v[2], .tm_hour = v[3], .tm_min = v[4], .tm_sec = v[5]};
    time_t t = timegm(&tm);
    struct tm lt;
    if (t != (time_t)-1 && localtime_r(&t, &lt)) strftime(out, 24, "%Y-%m-%d %H:%M:%S", &lt);
}

static int read_row(sqlite3_stmt *st, run_row *r) {
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->repeats = sqlite3_column_int64(st, 1);
    copy_col(st, 3, r->started_utc, sizeof r->started_utc);
    local_time(r->started_utc, r->started);
    copy_col(st, 4, r->finished_utc, sizeof r->finished_utc);
    copy_col(st, 5, r->status, sizeof r->status);
    copy_col(st, 6, r->arch, sizeof r->arch);
    char **texts[] = {&r->dataset,    &r->trainable,         &r->message,       &r->command,
                      &r->settings,   &r->classes,           &r->origin,        &r->version,
                      &r->checkpoint, &r->checkpoint_digest, &r->losses_digest, &r->dataset_digest};
    for (int k = 0; k < 12; k++)
        if (!(*texts[k] = dup_col(st, 7 + k))) {
            run_row_free(r);
            return -1;
        }
    r->lr = sqlite3_column_double(st, 19);
    r->wall_s = real_col(st, 20);
    r->final_train_loss = real_col(st, 21);
    r->final_train_acc = real_col(st, 22);
    r->final_valid_loss = real_col(st, 23);
    r->final_valid_acc = real_col(st, 24);
    r->best_valid_acc = real_col(st, 25);
    r->epochs = sqlite3_column_int(st, 26);
    r->epochs_done = sqlite3_column_int(st, 27);
    r->best_epoch = sqlite3_column_int(st, 28);
    r->batches = sqlite3_column_int64(st, 29);
    r->peak_rss_kb = sqlite3_column_int64(st, 30);
    if (!(r->replay = dup_col(st, 31))) {
        run_row_free(r);
        return -1;
    }
    return 0;
}

const char *run_row_dataset_name(const run_row *r) {
    const char *slash = r->dataset ? strrchr(r->dataset, '/') : NULL;
    return slash && slash[1] ? slash + 1 : r->dataset ? r->dataset : "";
}

long runs_list(sqlite3 *db, const run_filter *f, int (*each)(void *user, const run_row *r), void *user, char *err,
               size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT " LIST_COLUMNS " FROM runs"
                           " WHERE (?1 IS NULL OR dataset = ?1 OR dataset = ?2 OR dataset LIKE '%/' || ?1)"
                           " AND (?3 IS NULL OR arch = ?3) AND (?4 IS NULL OR status = ?4)"
                           " ORDER BY id DESC",
                           -1, &st, NULL) != SQLITE_OK) {
        errmsg_set(err, errlen, "run history: %s", runs_db_error(db));
        return -1;
    }
    char real[PATH_MAX];
    if (f && f->dataset) {
        sqlite3_bind_text(st, 1, f->dataset, -1, SQLITE_TRANSIENT);
        if (realpath(f->dataset, real)) sqlite3_bind_text(st, 2, real, -1, SQLITE_TRANSIENT);
    }
    if (f && f->arch) sqlite3_bind_text(st, 3, f->arch, -1, SQLITE_TRANSIENT);
    if (f && f->status) sqlite3_bind_text(st, 4, f->status, -1, SQLITE_TRANSIENT);
    long n = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        run_row r;
        if (read_row(st, &r) != 0) {
            s = SQLITE_NOMEM;
            break;
        }
        n++;
        int stop = each ? each(user, &r) : 0;
        run_row_free(&r);
        if (stop) {
            s = SQLITE_DONE;
            break;
        }
    }
    if (s != SQLITE_DONE) {
        errmsg_set(err, errlen, "run history: %s", s == SQLITE_NOMEM ? "out of memory" : runs_db_error(db));
        n = -1;
    }
    sqlite3_finalize(st);
    return n;
}

int runs_get(sqlite3 *db, long long id, run_row *r, run_epoch **epochs, size_t *n, char *err, size_t errlen) {
    if (epochs) *epochs = NULL;
    if (n) *n = 0;
    memset(r, 0, sizeof *r);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT " ROW_COLUMNS " FROM runs WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
        errmsg_set(err, errlen, "run history: %s", runs_db_error(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    int s = sqlite3_step(st), rc = s == SQLITE_ROW ? (read_row(st, r) == 0 ? 1 : -1) : s == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    if (rc < 0) errmsg_set(err, errlen, "run history: %s", runs_db_error(db));
    if (rc != 1 || !epochs) return rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT epoch, train_loss, train_acc, valid_loss, valid_acc, lr, seconds, images_per_s"
                           " FROM epochs WHERE run = ? ORDER BY epoch",
                           -1, &st, NULL) != SQLITE_OK) {
        errmsg_set(err, errlen, "run history: %s", runs_db_error(db));
        run_row_free(r);
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    size_t cap = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            run_epoch *grown = realloc(*epochs, cap * sizeof *grown);
            if (!grown) {
                s = SQLITE_NOMEM;
                break;
            }
            *epochs = grown;
        }
        run_epoch *e = &(*epochs)[(*n)++];
        e->epoch = sqlite3_column_int(st, 0);
        e->train_loss = real_col(st, 1);
        e->train_acc = real_col(st, 2);
        e->valid_loss = real_col(st, 3);
        e->valid_acc = real_col(st, 4);
        e->lr = real_col(st, 5);
        e->seconds = real_col(st, 6);
        e->images_per_s = real_col(st, 7);
    }
    sqlite3_finalize(st);
    if (s != SQLITE_DONE) {
        errmsg_set(err, errlen, "run history: %s", s == SQLITE_NOMEM ? "out of memory" : runs_db_error(db));
        free(*epochs);
        *epochs = NULL;
        *n = 0;
        run_row_free(r);
        return -1;
    }
    return 1;
}

long long runs_previous(sqlite3 *db, const char *root, long long before) {
    char real[PATH_MAX];
    sqlite3_stmt *st;
    if (!realpath(root, real) ||
        sqlite3_prepare_v2(db,
                           "SELECT id FROM runs WHERE dataset = ? AND epochs_done > 0 AND (? = 0 OR id < ?)"
                           " ORDER BY id DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, real, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, before);
    sqlite3_bind_int64(st, 3, before);
    long long id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return id;
}

int runs_remove(sqlite3 *db, long long id, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "DELETE FROM runs WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
        errmsg_set(err, errlen, "run history: %s", runs_db_error(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    int s = sqlite3_step(st);
    sqlite3_finalize(st);
    if (s != SQLITE_DONE) {
        errmsg_set(err, errlen, "run history: %s", runs_db_error(db));
        return -1;
    }
    return sqlite3_changes(db) > 0;
}

// ---------------------------------------------------------------------------------------------
// replay

int runs_set_replay(sqlite3 *db, long long id, const char *text, char *err, size_t errlen) {
    sqlite3_stmt *st;
    int s = sqlite3_prepare_v2(db, "UPDATE runs SET replay = ? WHERE id = ?", -1, &st, NULL);
    if (s == SQLITE_OK) {
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, id);
        s = sqlite3_step(st);
        sqlite3_finalize(st);
    }
    if (s == SQLITE_DONE) return 0;
    errmsg_set(err, errlen, "run history: %s", runs_db_error(db));
    return -1;
}

// The train phase's batch losses of run's epoch (a blob of doubles); *n of them. NULL when none.
static double *batch_losses(sqlite3 *db, long long run, int epoch, size_t *n) {
    sqlite3_stmt *st;
    *n = 0;
    if (sqlite3_prepare_v2(db, "SELECT batch_losses FROM epochs WHERE run = ? AND epoch = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return NULL;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int(st, 2, epoch);
    double *v = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        size_t bytes = (size_t)sqlite3_column_bytes(st, 0);
        const void *b = sqlite3_column_blob(st, 0);
        if (b && bytes >= sizeof(double) && (v = malloc(bytes))) {
            memcpy(v, b, bytes);
            *n = bytes / sizeof(double);
        }
    }
    sqlite3_finalize(st);
    return v;
}

int runs_compare_losses(sqlite3 *db, long long a, long long b, char *out, size_t len) {
    run_row ra, rb;
    char err[512];
    int fa = runs_get(db, a, &ra, NULL, NULL, err, sizeof err);
    int fb = fa == 1 ? runs_get(db, b, &rb, NULL, NULL, err, sizeof err) : 0;
    if (fa != 1 || fb != 1) {
        if (fa == 1) run_row_free(&ra);
        errmsg_set(out, len, "%s", fa < 0 || fb < 0 ? err : "no such run");
        return -1;
    }
    int rc = 0;
    if (ra.batches > 0 && ra.batches == rb.batches && ra.losses_digest[0] &&
        strcmp(ra.losses_digest, rb.losses_digest) == 0) {
        errmsg_set(out, len, "identical to run %lld: every one of its %lld batch losses to the bit", a, ra.batches);
        rc = 1;
    } else {
        // where the train losses first part, epoch by epoch
        int epochs = ra.epochs_done < rb.epochs_done ? ra.epochs_done : rb.epochs_done;
        double worst = 0;
        int first_epoch = 0;
        size_t first_batch = 0;
        double va = 0, vb = 0;
        for (int e = 1; e <= epochs; e++) {
            size_t na, nb;
            double *la = batch_losses(db, a, e, &na), *lb = batch_losses(db, b, e, &nb);
            for (size_t k = 0; k < na && k < nb; k++) {
                if (memcmp(&la[k], &lb[k], sizeof la[k]) == 0) continue;
                if (!first_epoch) {
                    first_epoch = e;
                    first_batch = k + 1;
                    va = la[k];
                    vb = lb[k];
                }
                if (fabs(la[k] - lb[k]) > worst) worst = fabs(la[k] - lb[k]);
            }
            free(la);
            free(lb);
        }
        if (first_epoch)
            errmsg_set(out, len,
                       "differs from run %lld: the losses part at epoch %d, batch %zu (%.17g against %.17g); the "
                       "largest difference of a train batch's loss is %.3g",
                       a, first_epoch, first_batch, vb, va, worst);
        else if (ra.batches != rb.batches)
            errmsg_set(out, len, "differs from run %lld: %lld batches against its %lld", a, rb.batches, ra.batches);
        else
            errmsg_set(out, len, "differs from run %lld: the train losses agree, the valid losses do not", a);
    }
    run_row_free(&ra);
    run_row_free(&rb);
    return rc;
}
