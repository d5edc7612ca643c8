// run_record.c — one training run into the history, from its events (see run_record.h). Uses
// libsqlite3, OpenSSL's SHA-256 (the digests), core/ below it.
#include "run_record.h"

#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errmsg.h"
#include "feature_store.h"
#include "run_settings.h"
#include "runs_db.h"

struct run_record {
    sqlite3 *db;
    int own_db;
    int off;
    long long id;
    const char *save;   // the checkpoint the run writes (trainer_config's), NULL: none
    char saved[4096];   // the checkpoint written, once EV_SAVED came
    char message[1024];
    // the epoch going on: its train phase's batch losses, the lr and speed of its last batch
    double *losses;
    size_t n_losses, cap_losses;
    double lr, images_per_s;
    // every batch's loss, both phases, in order (replay compares them to the bit)
    EVP_MD_CTX *md;
    long long batches;
    double best_acc;
    int best_epoch;
};

// ---------------------------------------------------------------------------------------------
// what the run row says of the data and weights

static void hex(const unsigned char *p, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", p[i]);
}

// SHA-256 of every image's split, path inside the dataset, size, modification time and label: the
// same digest is the same files as far as a listing can tell.
static void dataset_digest(const dataset *d, char out[72]) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char h[32];
    unsigned hl = 0;
    snprintf(out, 72, "?");
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return;
    }
    size_t root_len = strlen(d->root);
    const dataset_split *splits[2] = {&d->train, &d->valid};
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < splits[s]->n_items; i++) {
            const dataset_item *it = &splits[s]->items[i];
            const char *rel = strncmp(it->path, d->root, root_len) == 0 ? it->path + root_len : it->path;
            struct stat st;
            char line[4400];
            long long size = -1, mtime = 0;
            if (stat(it->path, &st) == 0) {
                size = (long long)st.st_size;
                mtime = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
            }
            int n = snprintf(line, sizeof line, "%d\t%s\t%lld\t%lld\t%d\n", s, rel, size, mtime, it->label);
            if (n > 0) EVP_DigestUpdate(md, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        }
    if (EVP_DigestFinal_ex(md, h, &hl) == 1) {
        memcpy(out, "sha256:", 7);
        hex(h, 32, out + 7);
    }
    EVP_MD_CTX_free(md);
}

static void utc_now(char out[32]) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

// ---------------------------------------------------------------------------------------------
// writing

// Turns the history off for the rest of the run, with the line to show.
static int turn_off(run_record *r, char *note, size_t notelen, const char *what) {
    r->off = 1;
    errmsg_set(note, notelen, RUN_RECORD_OFF "%s: %s (frost runs --help: moving a bad database aside)", what,
               runs_db_error(r->db));
    return -1;
}

static int step_done(sqlite3_stmt *st) {
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

static void bind_text_or_null(sqlite3_stmt *st, int k, const char *s) {
    if (s && *s)
        sqlite3_bind_text(st, k, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, k);
}

static void bind_real_or_null(sqlite3_stmt *st, int k, double v) {
    if (isfinite(v))
        sqlite3_bind_double(st, k, v);
    else
        sqlite3_bind_null(st, k);
}

// An epoch's four numbers (train loss and accuracy, valid loss and accuracy) at k .. k + 3.
static void bind_metrics(sqlite3_stmt *st, int k, const train_event *e) {
    bind_real_or_null(st, k, e->train_loss);
    bind_real_or_null(st, k + 1, e->train_acc);
    bind_real_or_null(st, k + 2, e->valid_loss);
    bind_real_or_null(st, k + 3, e->valid_acc);
}

static int insert_run(run_record *r, const trainer_config *c, const dataset *d, const run_origin *o) {
    char ddig[72], wdig[128] = "", why[256], started[32], host[256], root[PATH_MAX];
    dataset_digest(d, ddig);
    if (!realpath(d->root, root)) snprintf(root, sizeof root, "%s", d->root);
    if (c->weights &&
        feature_weights_digest(c->weights, c->seed, d->n_classes, wdig, sizeof wdig, why, sizeof why) != 0)
        snprintf(wdig, sizeof wdig, "?");
    char *settings = run_settings_json(c, d, root, ddig, c->weights ? wdig : NULL);
    char *classes = NULL;
    {
        size_t len = 2;
        for (size_t k = 0; k < d->n_classes; k++) len += strlen(d->classes[k]) + 1;
        classes = malloc(len);
        if (classes) {
            classes[0] = '\0';
            for (size_t k = 0; k < d->n_classes; k++) {
                if (k) strcat(classes, ",");
                strcat(classes, d->classes[k]);
            }
        }
    }
    utc_now(started);
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "?");
    host[sizeof host - 1] = '\0';
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (settings && classes &&
        sqlite3_prepare_v2(r->db,
                           "INSERT INTO runs (started, status, frost_version, origin, command, host, pid, pid_start,"
                           " repeats, dataset, dataset_digest, classes, arch, trainable, lr, epochs, settings)"
                           " VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) == SQLITE_OK) {
        long pid = (long)getpid();
        sqlite3_bind_text(st, 1, started, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, o && o->version ? o->version : "?", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, o && o->origin ? o->origin : "?", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, o && o->command ? o->command : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, host, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 6, pid);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)runs_db_process_start(pid));
        if (o && o->repeats > 0)
            sqlite3_bind_int64(st, 8, o->repeats);
        else
            sqlite3_bind_null(st, 8);
        sqlite3_bind_text(st, 9, root, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 10, ddig, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 11, classes, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 12, c->arch, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 13,
                          c->trainable && *c->trainable ? c->trainable
                          : c->plan                     ? c->plan
                                                        : "head",
                          -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 14, c->opt.lr);
        sqlite3_bind_int(st, 15, c->epochs > 0 ? c->epochs : 5);
        sqlite3_bind_text(st, 16, settings, -1, SQLITE_TRANSIENT);
        rc = step_done(st);
        if (rc == 0) r->id = (long long)sqlite3_last_insert_rowid(r->db);
    }
    free(settings);
    free(classes);
    return rc;
}

run_record *run_record_start_in(sqlite3 *db, const trainer_config *c, const dataset *d, const run_origin *o, char *note,
                                size_t notelen) {
    if (note && notelen) note[0] = '\0';
    if (c->lr_find) return NULL;
    run_record *r = calloc(1, sizeof *r);
    if (!r || !(r->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1) {
        errmsg_set(note, notelen, RUN_RECORD_OFF "out of memory");
        if (r) EVP_MD_CTX_free(r->md);
        free(r);
        return NULL;
    }
    r->db = db;
    r->save = c->save;
    r->best_acc = NAN;
    if (insert_run(r, c, d, o) != 0) {
        turn_off(r, note, notelen, "cannot add the run");
        EVP_MD_CTX_free(r->md);
        free(r);
        return NULL;
    }
    return r;
}

run_record *run_record_start(const trainer_config *c, const dataset *d, const run_origin *o, char *note,
                             size_t notelen) {
    if (note && notelen) note[0] = '\0';
    if (c->lr_find || !runs_db_enabled()) return NULL;
    sqlite3 *db;
    char err[1024];
    if (runs_db_open(&db, 1, err, sizeof err) != 0) {
        errmsg_set(note, notelen, RUN_RECORD_OFF "%s (frost runs --help: moving a bad database aside)", err);
        return NULL;
    }
    run_record *r = run_record_start_in(db, c, d, o, note, notelen);
    if (!r) {
        runs_db_close(db);
        return NULL;
    }
    r->own_db = 1;
    return r;
}

// The epoch's row and the run's final and best metrics so far, in one transaction.
static int write_epoch(run_record *r, const train_event *e) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return -1;
    int rc = -1;
    if (sqlite3_prepare_v2(r->db,
                           "INSERT OR REPLACE INTO epochs (run, epoch, train_loss, train_acc, valid_loss, valid_acc,"
                           " lr, seconds, images_per_s, batch_losses) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, r->id);
        sqlite3_bind_int(st, 2, e->epoch);
        bind_metrics(st, 3, e);
        bind_real_or_null(st, 7, r->lr > 0 ? r->lr : NAN);
        bind_real_or_null(st, 8, e->seconds);
        bind_real_or_null(st, 9, r->images_per_s);
        // the batch losses as IEEE-754 doubles in this machine's order (little-endian on every
        // machine frost builds for), so that a replay compares them bit for bit
        if (r->n_losses)
            sqlite3_bind_blob(st, 10, r->losses, (int)(r->n_losses * sizeof *r->losses), SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 10);
        rc = step_done(st);
    }
    if (isfinite(e->valid_acc) && (!isfinite(r->best_acc) || e->valid_acc > r->best_acc)) {
        r->best_acc = e->valid_acc;
        r->best_epoch = e->epoch;
    }
    if (rc == 0 && sqlite3_prepare_v2(r->db,
                                      "UPDATE runs SET epochs_done = ?, final_train_loss = ?, final_train_acc = ?,"
                                      " final_valid_loss = ?, final_valid_acc = ?, best_valid_acc = ?, best_epoch = ?"
                                      " WHERE id = ?",
                                      -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int(st, 1, e->epoch);
        bind_metrics(st, 2, e);
        bind_real_or_null(st, 6, r->best_acc);
        if (r->best_epoch)
            sqlite3_bind_int(st, 7, r->best_epoch);
        else
            sqlite3_bind_null(st, 7);
        sqlite3_bind_int64(st, 8, r->id);
        rc = step_done(st);
    } else {
        rc = -1;
    }
    if (rc == 0 && sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) return 0;
    sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static long peak_rss_kb(void) {
    struct rusage u;
    return getrusage(RUSAGE_SELF, &u) == 0 ? u.ru_maxrss : 0;   // kilobytes on Linux
}

static int write_end(run_record *r, const train_event *e) {
    static const char *const STATUS[] = {"failed", "completed", "stopped"};
    const char *status = STATUS[e->status == 0 ? 1 : e->status == 1 ? 2 : 0];
    char finished[32], ckdig[128] = "", lossdig[72] = "", why[256];
    utc_now(finished);
    if (r->saved[0] && feature_weights_digest(r->saved, 0, 0, ckdig, sizeof ckdig, why, sizeof why) != 0)
        snprintf(ckdig, sizeof ckdig, "?");
    unsigned char h[32];
    unsigned hl = 0;
    if (EVP_DigestFinal_ex(r->md, h, &hl) == 1) {
        memcpy(lossdig, "sha256:", 7);
        hex(h, 32, lossdig + 7);
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db,
                           "UPDATE runs SET status = ?, message = ?, finished = ?, wall_s = ?, peak_rss_kb = ?,"
                           " checkpoint = ?, checkpoint_digest = ?, batches = ?, losses_digest = ? WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, e->status == -1 ? (r->message[0] ? r->message : "the run failed") : NULL);
    sqlite3_bind_text(st, 3, finished, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 4, e->seconds);
    sqlite3_bind_int64(st, 5, peak_rss_kb());
    bind_text_or_null(st, 6, r->saved);
    bind_text_or_null(st, 7, ckdig);
    sqlite3_bind_int64(st, 8, r->batches);
    bind_text_or_null(st, 9, lossdig);
    sqlite3_bind_int64(st, 10, r->id);
    return step_done(st);
}

static int keep_loss(run_record *r, double loss) {
    if (r->n_losses == r->cap_losses) {
        size_t cap = r->cap_losses ? 2 * r->cap_losses : 256;
        double *grown = realloc(r->losses, cap * sizeof *grown);
        if (!grown) return -1;
        r->losses = grown;
        r->cap_losses = cap;
    }
    r->losses[r->n_losses++] = loss;
    return 0;
}

int run_record_event(run_record *r, const train_event *e, char *note, size_t notelen) {
    if (!r || r->off) return 0;
    switch (e->kind) {
    case EV_BATCH: {
        uint64_t bits;
        memcpy(&bits, &e->loss, sizeof bits);
        unsigned char le[8];
        for (int k = 0; k < 8; k++) le[k] = (unsigned char)(bits >> (8 * k));
        EVP_DigestUpdate(r->md, le, sizeof le);
        r->batches++;
        if (e->phase == PHASE_TRAIN) {
            if (keep_loss(r, e->loss) != 0) {
                r->off = 1;
                errmsg_set(note, notelen, RUN_RECORD_OFF "out of memory");
                return -1;
            }
            r->lr = e->lr;
            r->images_per_s = e->images_per_s;
        }
        return 0;
    }
    case EV_EPOCH: {
        int rc = write_epoch(r, e);
        r->n_losses = 0;
        return rc == 0 ? 0 : turn_off(r, note, notelen, "cannot add an epoch");
    }
    case EV_SAVED:
        if (r->save) snprintf(r->saved, sizeof r->saved, "%s", r->save);
        return 0;
    case EV_ERROR:
        if (!r->message[0]) snprintf(r->message, sizeof r->message, "%s", e->text);
        return 0;
    case EV_FINISHED:
        r->off = 1;   // nothing follows
        return write_end(r, e) == 0 ? 0 : turn_off(r, note, notelen, "cannot record the run's end");
    default: return 0;
    }
}

long long run_record_id(const run_record *r) { return r ? r->id : 0; }

void run_record_free(run_record *r) {
    if (!r) return;
    if (r->own_db) runs_db_close(r->db);
    EVP_MD_CTX_free(r->md);
    free(r->losses);
    free(r);
}
