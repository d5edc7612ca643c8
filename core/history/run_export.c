// run_export.c — the run history as CSV (runs_export_csv in run_query.h): one row per run, or one
// per epoch, made in memory and written whole. Uses libsqlite3, core/ below it.
#define _GNU_SOURCE   // open_memstream
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "errmsg.h"
#include "run_query.h"
#include "runs_db.h"

// One field: as it is, or quoted (quotes doubled) when it holds a comma, quote or line break.
static void field(FILE *f, const unsigned char *t, int last) {
    const char *s = t ? (const char *)t : "";
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputc(last ? '\n' : ',', f);
}

static const char RUNS_SQL[] =
    "SELECT id, started, finished, status, dataset, arch, trainable, lr, epochs, epochs_done, final_train_loss,"
    " final_train_acc, final_valid_loss, final_valid_acc, best_valid_acc, best_epoch, wall_s, peak_rss_kb,"
    " checkpoint, repeats, command FROM runs ORDER BY id";
static const char EPOCHS_SQL[] =
    "SELECT e.run, r.dataset, r.arch, e.epoch, e.train_loss, e.train_acc, e.valid_loss, e.valid_acc, e.lr, e.seconds,"
    " e.images_per_s FROM epochs e JOIN runs r ON r.id = e.run ORDER BY e.run, e.epoch";
static const char RUNS_HEADER[] =
    "id,started_utc,finished_utc,status,dataset,arch,trainable,lr,epochs,epochs_done,final_train_loss,"
    "final_train_acc,final_valid_loss,final_valid_acc,best_valid_acc,best_epoch,wall_s,peak_rss_kb,checkpoint,"
    "repeats,command\n";
static const char EPOCHS_HEADER[] =
    "run,dataset,arch,epoch,train_loss,train_acc,valid_loss,valid_acc,lr,seconds,images_per_s\n";

long runs_export_csv(sqlite3 *db, const char *path, int epochs, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, epochs ? EPOCHS_SQL : RUNS_SQL, -1, &st, NULL) != SQLITE_OK) {
        errmsg_set(err, errlen, "run history: %s", runs_db_error(db));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        sqlite3_finalize(st);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    fputs(epochs ? EPOCHS_HEADER : RUNS_HEADER, f);
    long n = 0;
    int s, cols = sqlite3_column_count(st);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        for (int k = 0; k < cols; k++) {
            // reals as SQLite gives them back (17 significant digits: the stored double exactly)
            char num[40];
            const unsigned char *t;
            if (sqlite3_column_type(st, k) == SQLITE_FLOAT) {
                snprintf(num, sizeof num, "%.17g", sqlite3_column_double(st, k));
                t = (const unsigned char *)num;
            } else {
                t = sqlite3_column_text(st, k);
            }
            field(f, t, k == cols - 1);
        }
        n++;
    }
    sqlite3_finalize(st);
    int bad = fclose(f) != 0;
    if (s != SQLITE_DONE || bad) {
        errmsg_set(err, errlen, "run history: %s", bad ? "out of memory" : runs_db_error(db));
        free(buf);
        return -1;
    }
    int rc = atomic_file_write(path, buf, len, err, errlen);
    free(buf);
    return rc == 0 ? n : -1;
}
