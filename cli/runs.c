// runs.c — `frost runs [list|show|diff|again|rm|export]`: the run history (core/history/) from the
// command line. `frost runs` alone lists; each command is an entry of the group below.
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "curve_plot.h"
#include "i18n.h"
#include "run_options.h"
#include "run_query.h"
#include "run_settings.h"
#include "runs_db.h"
#include "text_wrap.h"

// ---------------------------------------------------------------------------------------------
// shared

// Opens the history for reading or changing it: 0, or CLI_FAILED with the error printed.
static int open_db(const char *cmd, sqlite3 **db) {
    char err[1024];
    if (runs_db_open(db, 0, err, sizeof err) == 0) return 0;
    return cli_fail(CLI_FAILED, "%s: %s", cmd, err);
}

// An id argument: 0, or CLI_USAGE with the error printed.
static int parse_id(const char *cmd, const char *s, long long *id) {
    char *end;
    *id = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || *id < 1) return cli_fail(CLI_USAGE, "%s: '%s' is not a run's number", cmd, s ? s : "");
    return 0;
}

// The one argument of a command that takes a run's id: 0, or an exit code with the error printed.
static int id_argument(const char *cmd, int argc, char **argv, long long *id) {
    const char *arg = NULL;
    int n_args = 0;
    int rc = cli_parse(argv[0], (const cli_option[]){CLI_OPT_END}, argc, argv, NULL, 1, &arg, &n_args);
    return rc ? rc : parse_id(cmd, arg, id);
}

// Prints s cut or padded to exactly width columns, then a space.
static void cell(const char *s, int width) {
    s = cli_safe(s);
    int used;
    size_t n = text_fit(s, width, &used);   // whole characters while they fit
    printf("%.*s%*s ", (int)n, s, width - used, "");
}

static void duration(double s, char *out, size_t len) {
    if (!isfinite(s) || s < 0) {
        snprintf(out, len, "-");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, len, "%ld:%02ld", t / 60, t % 60);
}

static void percent(double v, char *out, size_t len) {
    if (isfinite(v))
        snprintf(out, len, "%.2f%%", v);
    else
        snprintf(out, len, "-");
}

static json_t *real_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

// ---------------------------------------------------------------------------------------------
// runs list

typedef struct {
    const char *dataset, *arch, *status;
    int json;
} list_args;

static const char *const STATUSES[] = {"running", "completed", "stopped", "failed", "interrupted", NULL};
static const int STATUS_INDEX[] = {0, 1, 2, 3, 4};

typedef struct {
    list_args a;
    int status;
} list_opts;

static const cli_option list_options[] = {
    CLI_OPT("--dataset", OPT_STRING, .offset = offsetof(list_opts, a.dataset), .nonempty = 1, .arg = "DIR|NAME",
            .error = N_("--dataset needs a folder or its name"), .help = N_("only the runs on this dataset"),
            .def = "every"),
    CLI_OPT("--arch", OPT_STRING, .offset = offsetof(list_opts, a.arch), .nonempty = 1, .arg = "ARCH",
            .error = N_("--arch needs an architecture"), .help = N_("only the runs of this network"), .def = "every"),
    CLI_OPT("--status", OPT_CHOICE, .offset = offsetof(list_opts, status), .choices = STATUSES, .values = STATUS_INDEX,
            .arg = "running|completed|stopped|failed|interrupted", .help = N_("only the runs that ended so"),
            .def = "every"),
    CLI_OPT("--json", OPT_FLAG, .offset = offsetof(list_opts, a.json), .help = N_("a JSON array, one object per run")),
    CLI_OPT_END,
};

static json_t *row_json(const run_row *r) {
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "started", json_string(r->started_utc));
    json_object_set_new(o, "dataset", json_string(r->dataset));
    json_object_set_new(o, "arch", json_string(r->arch));
    json_object_set_new(o, "trainable", json_string(r->trainable));
    json_object_set_new(o, "lr", json_real(r->lr));
    json_object_set_new(o, "epochs", json_integer(r->epochs));
    json_object_set_new(o, "epochs_done", json_integer(r->epochs_done));
    json_object_set_new(o, "best_valid_acc", real_or_null(r->best_valid_acc));
    json_object_set_new(o, "final_valid_loss", real_or_null(r->final_valid_loss));
    json_object_set_new(o, "status", json_string(r->status));
    json_object_set_new(o, "wall_s", real_or_null(r->wall_s));
    json_object_set_new(o, "repeats", r->repeats ? json_integer(r->repeats) : json_null());
    return o;
}

static int list_json(void *user, const run_row *r) {
    json_array_append_new(user, row_json(r));
    return 0;
}

static void list_header(void) {
    cell("ID", 5);
    cell("WHEN", 16);
    cell("DATASET", 16);
    cell("ARCH", 12);
    cell("TRAINABLE", 12);
    cell("LR", 8);
    cell("EPOCHS", 7);
    cell("BEST ACC", 8);
    cell("STATUS", 11);
    printf("TIME\n");
}

static int list_line(void *user, const run_row *r) {
    (void)user;
    char buf[64];
    printf("%5lld ", r->id);
    cell(r->started, 16);
    cell(run_row_dataset_name(r), 16);
    cell(r->arch, 12);
    cell(r->trainable, 12);
    snprintf(buf, sizeof buf, "%.3g", r->lr);
    cell(buf, 8);
    snprintf(buf, sizeof buf, "%d/%d", r->epochs_done, r->epochs);
    cell(buf, 7);
    percent(r->best_valid_acc, buf, sizeof buf);
    cell(buf, 8);
    cell(r->status, 11);
    duration(r->wall_s, buf, sizeof buf);
    printf("%s\n", buf);
    return 0;
}

static int list_run(int argc, char **argv) {
    list_opts o = {.status = -1};
    int n_args = 0;
    int rc = cli_parse(argv[0], list_options, argc, argv, &o, 0, NULL, &n_args);
    if (rc) return rc;
    o.a.status = o.status >= 0 ? STATUSES[o.status] : NULL;
    sqlite3 *db;
    char err[1024];
    int opened = runs_db_open(&db, 0, err, sizeof err);
    if (opened != 0) {
        // no history yet is an empty list, not an error
        if (opened == RUNS_DB_NONE) {
            if (o.a.json)
                printf("[]\n");
            else
                printf("%s\n", _("no runs recorded yet"));
            return CLI_OK;
        }
        return cli_fail(CLI_FAILED, "runs: %s", err);
    }
    run_filter f = {o.a.dataset, o.a.arch, o.a.status};
    long n;
    if (o.a.json) {
        json_t *all = json_array();
        n = runs_list(db, &f, list_json, all, err, sizeof err);
        if (n >= 0) {
            char *text = json_dumps(all, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
            if (text) printf("%s\n", text);
            free(text);
        }
        json_decref(all);
    } else {
        list_header();
        n = runs_list(db, &f, list_line, NULL, err, sizeof err);
    }
    runs_db_close(db);
    if (n < 0) return cli_fail(CLI_FAILED, "runs: %s", err);
    return CLI_OK;
}

static const cli_command cli_runs_list = {
    .name = "runs list",
    .synopsis = "[--dataset DIR|NAME] [--arch ARCH] [--status STATUS] [--json]",
    .help = N_("every recorded run, newest first: id, when, dataset, network, what trained,\n"
               "lr, epochs, best valid accuracy, status, time (frost runs alone lists too)"),
    .examples = "frost runs --dataset sample_data --status completed\nfrost runs list --json",
    .options = list_options,
    .run = list_run,
};

// ---------------------------------------------------------------------------------------------
// runs show

static void setting_line(void *user, const char *key, const char *value) {
    (void)user;
    printf("  %-16s %s\n", key, cli_safe(value));
}

// The epochs' valid accuracy and train loss, each a small chart.
static void draw_curves(const run_epoch *e, size_t n) {
    if (n < 2) return;
    double *x = malloc(n * sizeof *x), *acc = malloc(n * sizeof *acc), *loss = malloc(n * sizeof *loss);
    if (x && acc && loss) {
        for (size_t k = 0; k < n; k++) {
            x[k] = e[k].epoch;
            acc[k] = e[k].valid_acc;
            loss[k] = e[k].train_loss;
        }
        const char *titles[2] = {"valid accuracy (%) by epoch", "train loss by epoch"};
        const double *ys[2] = {acc, loss};
        for (int c = 0; c < 2; c++) {
            curve_plot_opts o = {.width = 40, .height = 6};
            char **lines = NULL;
            int m = curve_plot(x, ys[c], n, &o, &lines);
            if (m < 0) continue;
            printf("\n%s\n", titles[c]);
            for (int i = 0; i < m; i++) printf("%s\n", lines[i]);
            curve_plot_free(lines, m);
        }
    }
    free(x);
    free(acc);
    free(loss);
}

// Two runs' valid loss and valid accuracy, each quantity one chart with both runs in it: in two
// colours on a terminal (the legend says which), the same dots without them elsewhere.
static void draw_both(const long long id[2], run_epoch *const e[2], const size_t n[2]) {
    int tty = isatty(STDOUT_FILENO);
    static const char *const COLORS[2] = {"34", "33"}, *const NAMES[2] = {"blue", "yellow"};
    const char *titles[2] = {"valid loss by epoch", "valid accuracy (%) by epoch"};
    for (int q = 0; q < 2; q++) {
        double *x[2] = {NULL, NULL}, *y[2] = {NULL, NULL};
        curve_series s[2];
        int ok = 1;
        for (int k = 0; k < 2; k++) {
            x[k] = malloc((n[k] ? n[k] : 1) * sizeof *x[k]);
            y[k] = malloc((n[k] ? n[k] : 1) * sizeof *y[k]);
            if (!x[k] || !y[k]) ok = 0;
            for (size_t i = 0; ok && i < n[k]; i++) {
                x[k][i] = e[k][i].epoch;
                y[k][i] = q == 0 ? e[k][i].valid_loss : e[k][i].valid_acc;
            }
            s[k] = (curve_series){x[k], y[k], n[k], tty ? COLORS[k] : NULL};
        }
        char **lines = NULL;
        int m = ok ? curve_plot_series(s, 2, &(curve_plot_opts){.width = 50, .height = 8}, &lines) : -1;
        if (m > 0) {
            printf("\n%s: ", titles[q]);
            for (int k = 0; k < 2; k++) {
                if (tty)
                    printf("%s\033[%sm run %lld (%s)\033[0m", k ? "," : "", COLORS[k], id[k], NAMES[k]);
                else
                    printf("%s run %lld", k ? " and" : "", id[k]);
            }
            printf("%s\n", tty ? "" : " (in two colours on a terminal)");
            for (int i = 0; i < m; i++) printf("%s\n", lines[i]);
        }
        curve_plot_free(lines, m);
        for (int k = 0; k < 2; k++) {
            free(x[k]);
            free(y[k]);
        }
    }
}

static void epochs_table(const run_epoch *e, size_t n) {
    printf("\n%5s %10s %9s %10s %9s %9s %8s %8s\n", "epoch", "train loss", "train acc", "valid loss", "valid acc", "lr",
           "seconds", "img/s");
    for (size_t k = 0; k < n; k++) {
        char ta[16], va[16];
        percent(e[k].train_acc, ta, sizeof ta);
        percent(e[k].valid_acc, va, sizeof va);
        printf("%5d %10.4f %9s %10.4f %9s %9.3g %8.1f %8.1f\n", e[k].epoch, e[k].train_loss, ta, e[k].valid_loss, va,
               e[k].lr, e[k].seconds, e[k].images_per_s);
    }
}

static int show_run(int argc, char **argv) {
    long long id;
    int rc = id_argument("runs show", argc, argv, &id);
    if (rc) return rc;
    sqlite3 *db;
    if ((rc = open_db("runs show", &db)) != 0) return rc;
    run_row r;
    run_epoch *e = NULL;
    size_t n = 0;
    char err[1024];
    int found = runs_get(db, id, &r, &e, &n, err, sizeof err);
    runs_db_close(db);
    if (found < 0) return cli_fail(CLI_FAILED, "runs show: %s", err);
    if (!found) return cli_fail(CLI_FAILED, "runs show: no run %lld (frost runs lists them)", id);
    char wall[32], best[16];
    duration(r.wall_s, wall, sizeof wall);
    percent(r.best_valid_acc, best, sizeof best);
    printf("run %lld: %s", r.id, r.status);
    if (r.message[0]) printf(" (%s)", cli_safe(r.message));
    printf("\n  started          %s\n", r.started);
    printf("  command          %s\n", cli_safe(r.command));
    printf("  frost            %s (%s)\n", cli_safe(r.version), cli_safe(r.origin));
    if (r.repeats) printf("  repeats          run %lld\n", r.repeats);
    if (r.replay[0]) printf("  replay           %s\n", cli_safe(r.replay));
    printf("  epochs           %d of %d\n", r.epochs_done, r.epochs);
    printf("  best valid acc   %s (epoch %d)\n", best, r.best_epoch);
    printf("  time             %s\n", wall);
    if (r.peak_rss_kb) printf("  peak memory      %.1f MB\n", (double)r.peak_rss_kb / 1024.0);
    if (r.checkpoint[0]) printf("  checkpoint       %s (%s)\n", cli_safe(r.checkpoint), cli_safe(r.checkpoint_digest));
    printf("\nsettings\n");
    run_settings_each(r.settings, setting_line, NULL);
    epochs_table(e, n);
    draw_curves(e, n);
    free(e);
    run_row_free(&r);
    return CLI_OK;
}

static const cli_command cli_runs_show = {
    .name = "runs show",
    .synopsis = "ID",
    .help = N_("one run: every setting, its epochs, its curves"),
    .examples = "frost runs show 12",
    .run = show_run,
};

// ---------------------------------------------------------------------------------------------
// runs diff

static void diff_line(void *user, const char *key, const char *va, const char *vb) {
    (void)user;
    printf("  %-16s %-28s ", key, cli_safe(va));
    printf("%s\n", cli_safe(vb));
}

static void metric(const char *name, double a, double b, int pct) {
    char ta[32], tb[32];
    if (pct) {
        percent(a, ta, sizeof ta);
        percent(b, tb, sizeof tb);
    } else {
        snprintf(ta, sizeof ta, isfinite(a) ? "%.4f" : "-", a);
        snprintf(tb, sizeof tb, isfinite(b) ? "%.4f" : "-", b);
    }
    printf("  %-16s %-28s %s\n", name, ta, tb);
}

static int diff_run(int argc, char **argv) {
    const char *args[2] = {NULL, NULL};
    int n_args = 0;
    int rc = cli_parse(argv[0], (const cli_option[]){CLI_OPT_END}, argc, argv, NULL, 2, args, &n_args);
    if (rc) return rc;
    if (n_args != 2) return cli_fail(CLI_USAGE, "runs diff: which two runs? (frost runs diff A B)");
    long long id[2];
    if ((rc = parse_id("runs diff", args[0], &id[0])) != 0 || (rc = parse_id("runs diff", args[1], &id[1])) != 0)
        return rc;
    sqlite3 *db;
    if ((rc = open_db("runs diff", &db)) != 0) return rc;
    run_row r[2];
    run_epoch *e[2] = {NULL, NULL};
    size_t n[2] = {0, 0};
    char err[1024];
    int found[2];
    for (int k = 0; k < 2; k++) {
        found[k] = runs_get(db, id[k], &r[k], &e[k], &n[k], err, sizeof err);
        if (found[k] != 1) {
            if (k == 1 && found[0] == 1) {
                run_row_free(&r[0]);
                free(e[0]);
            }
            runs_db_close(db);
            return found[k] < 0 ? cli_fail(CLI_FAILED, "runs diff: %s", err)
                                : cli_fail(CLI_FAILED, "runs diff: no run %lld (frost runs lists them)", id[k]);
        }
    }
    runs_db_close(db);
    char ha[32], hb[32];
    snprintf(ha, sizeof ha, "run %lld", id[0]);
    snprintf(hb, sizeof hb, "run %lld", id[1]);
    printf("settings that differ\n  %-16s %-28s %s\n", "", ha, hb);
    if (run_settings_diff(r[0].settings, r[1].settings, diff_line, NULL) == 0) printf("  (none)\n");
    printf("\nresults\n  %-16s %-28s %s\n", "", ha, hb);
    printf("  %-16s %-28s %s\n", "status", r[0].status, r[1].status);
    metric("final train loss", r[0].final_train_loss, r[1].final_train_loss, 0);
    metric("final valid loss", r[0].final_valid_loss, r[1].final_valid_loss, 0);
    metric("final valid acc", r[0].final_valid_acc, r[1].final_valid_acc, 1);
    metric("best valid acc", r[0].best_valid_acc, r[1].best_valid_acc, 1);
    char wa[32], wb[32];
    duration(r[0].wall_s, wa, sizeof wa);
    duration(r[1].wall_s, wb, sizeof wb);
    printf("  %-16s %-28s %s\n", "time", wa, wb);
    draw_both(id, e, n);
    for (int k = 0; k < 2; k++) {
        free(e[k]);
        run_row_free(&r[k]);
    }
    return CLI_OK;
}

static const cli_command cli_runs_diff = {
    .name = "runs diff",
    .synopsis = "A B",
    .help = N_("two runs: only the settings that differ, their results side by side, their\n"
               "valid loss and accuracy in one chart each"),
    .examples = "frost runs diff 11 12",
    .run = diff_run,
};

// ---------------------------------------------------------------------------------------------
// runs again

static int again_run(int argc, char **argv) {
    long long id;
    int rc = id_argument("runs again", argc, argv, &id);
    if (rc) return rc;
    sqlite3 *db;
    if ((rc = open_db("runs again", &db)) != 0) return rc;
    run_row r;
    char err[1024];
    int found = runs_get(db, id, &r, NULL, NULL, err, sizeof err);
    runs_db_close(db);
    if (found < 0) return cli_fail(CLI_FAILED, "runs again: %s", err);
    if (!found) return cli_fail(CLI_FAILED, "runs again: no run %lld (frost runs lists them)", id);
    static run_settings s;   // large; the trainer_config points into it for the whole run
    rc = run_settings_parse(&s, r.settings, err, sizeof err);
    run_row_free(&r);
    if (rc != 0) return cli_fail(CLI_FAILED, "runs again: run %lld: %s", id, err);
    cli_run_args a;
    memset(&a, 0, sizeof a);
    a.cfg = s.cfg;
    a.cfg.save = NULL;   // the run repeated keeps its checkpoint: nothing is written over it
    printf("run %lld again: %s on %s\n", id, a.cfg.arch, cli_safe(s.dataset));
    fflush(stdout);
    char command[64];
    snprintf(command, sizeof command, "frost runs again %lld", id);
    run_origin origin = {.origin = "cli", .command = command, .version = CLI_VERSION, .repeats = id};
    long long new_id = 0;
    rc = cli_train_run(&a, s.dataset, &origin, &new_id);
    if (!new_id) return rc;
    char said[1024];
    if (runs_db_open(&db, 0, err, sizeof err) != 0) {
        cli_fail(0, "runs again: %s", err);
        return rc;
    }
    int same = runs_compare_losses(db, id, new_id, said, sizeof said);
    if (same >= 0 && runs_set_replay(db, new_id, said, err, sizeof err) != 0) cli_fail(0, "runs again: %s", err);
    runs_db_close(db);
    if (same < 0)
        cli_fail(0, "runs again: %s", said);
    else
        printf("run %lld %s\n", new_id, said);
    return rc;
}

static const cli_command cli_runs_again = {
    .name = "runs again",
    .synopsis = "ID",
    .help = N_("the run's settings as a new run (recorded as repeating it; its checkpoint is not\n"
               "written over); on the CPU, says whether every batch's loss is identical to the bit"),
    .examples = "frost runs again 12",
    .run = again_run,
};

// ---------------------------------------------------------------------------------------------
// runs rm

static int rm_run(int argc, char **argv) {
    const char *args[256];
    int n_args = 0;
    int rc = cli_parse(argv[0], (const cli_option[]){CLI_OPT_END}, argc, argv, NULL, 256, args, &n_args);
    if (rc) return rc;
    if (n_args == 0) return cli_fail(CLI_USAGE, "runs rm: which runs? (frost runs rm ID...)");
    long long ids[256];
    for (int k = 0; k < n_args; k++)
        if ((rc = parse_id("runs rm", args[k], &ids[k])) != 0) return rc;
    sqlite3 *db;
    if ((rc = open_db("runs rm", &db)) != 0) return rc;
    char err[1024];
    for (int k = 0; k < n_args; k++) {
        int gone = runs_remove(db, ids[k], err, sizeof err);
        if (gone < 0) {
            rc = cli_fail(CLI_FAILED, "runs rm: %s", err);
            break;
        }
        if (gone)
            printf("removed run %lld\n", ids[k]);
        else
            rc = cli_fail(CLI_FAILED, "runs rm: no run %lld", ids[k]);
    }
    runs_db_close(db);
    return rc;
}

static const cli_command cli_runs_rm = {
    .name = "runs rm",
    .synopsis = "ID...",
    .help = N_("removes runs from the history (their checkpoints stay where they are)"),
    .examples = "frost runs rm 3 4",
    .run = rm_run,
};

// ---------------------------------------------------------------------------------------------
// runs export

typedef struct {
    const char *csv;
    int epochs;
} export_args;

static const cli_option export_options[] = {
    CLI_OPT("--csv", OPT_STRING, .offset = offsetof(export_args, csv), .nonempty = 1, .arg = "FILE",
            .error = N_("--csv needs a file"), .help = N_("the CSV file to write (replaced whole)")),
    CLI_OPT("--epochs", OPT_FLAG, .offset = offsetof(export_args, epochs),
            .help = N_("one row per epoch, not per run")),
    CLI_OPT_END,
};

static int export_run(int argc, char **argv) {
    export_args a = {0};
    int n_args = 0;
    int rc = cli_parse(argv[0], export_options, argc, argv, &a, 0, NULL, &n_args);
    if (rc) return rc;
    if (!a.csv) return cli_fail(CLI_USAGE, "runs export: where to? (frost runs export --csv FILE)");
    sqlite3 *db;
    if ((rc = open_db("runs export", &db)) != 0) return rc;
    char err[1024];
    long n = runs_export_csv(db, a.csv, a.epochs, err, sizeof err);
    runs_db_close(db);
    if (n < 0) return cli_fail(CLI_FAILED, "runs export: %s", err);
    printf("%s: %ld %s\n", cli_safe(a.csv), n, a.epochs ? "epochs" : "runs");
    return CLI_OK;
}

static const cli_command cli_runs_export = {
    .name = "runs export",
    .synopsis = "--csv FILE [--epochs]",
    .help = N_("the history as CSV: one row per run, or per epoch with --epochs"),
    .examples = "frost runs export --csv runs.csv\nfrost runs export --csv epochs.csv --epochs",
    .options = export_options,
    .run = export_run,
};

// ---------------------------------------------------------------------------------------------

const cli_command cli_runs = {
    .name = "runs",
    .synopsis = "list, show ID, diff A B, again ID, rm ID... or export --csv FILE",
    .help = N_("(every training run is recorded in $XDG_DATA_HOME/frost/runs.db, SQLite;\n"
               "FROST_RUNS=0 or \"runs = off\" in the config file turns it off; a database frost\n"
               "cannot read is never changed: move it aside, mv ~/.local/share/frost/runs.db runs.db.bad)"),
    .group = (const cli_command *const[]){&cli_runs_list, &cli_runs_show, &cli_runs_diff, &cli_runs_again, &cli_runs_rm,
                                          &cli_runs_export, NULL},
    .run = list_run,
};
