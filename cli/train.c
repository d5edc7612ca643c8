// train.c — `frost train DATASET`: the trainer thread driven from the command line, printing
// the tutorial's log (Epoch i/n, dashes, Training..., Batch N lines, train/valid Loss and ACC), a live
// progress bar when stdout is a terminal, and every event as a JSON line with --json.
// Ctrl-C stops at the next batch boundary (saving when --save was given) and exits 130.
// --pretrained takes the architecture's default ImageNet weights from a cache or downloads them
// (fetch.h), and makes ImageNet's mean/std the default normalisation.
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "dataset.h"
#include "event_json.h"
#include "events.h"
#include "i18n.h"
#include "run_options.h"
#include "run_record.h"
#include "torch_code.h"
#include "train_log.h"
#include "train_recipe.h"
#include "trainer.h"
#include "transfer.h"

// ---------------------------------------------------------------------------------------------
// options

typedef struct {
    cli_run_args run;   // what lr-find shares (run_options.h)
    const char *root, *json;
    long log_every;
    int layer_report;
    int show_code;
} train_args;

#define AT(field) .offset = offsetof(train_args, field)

static const cli_option options[] = {
    CLI_OPT(NULL, OPT_GROUP, AT(run), .group = cli_run_options),
    CLI_OPT("--epochs", OPT_INT, AT(run.cfg.epochs), .lo = 1, .hi = 100000,
            .error = N_("--epochs needs a whole number from 1"), .arg = "N",
            .help = N_("epochs (fewer than the plan's: stop there, resume later)"), .def = N_("5, or the --plan's")),
    CLI_OPT("--plan", OPT_STRING, AT(run.cfg.plan), .nonempty = 1,
            .error = N_("--plan needs stages (e.g. head:2,last1:3)"), .arg = "STAGES",
            .help = N_("staged unfreezing: \"head:2,last1:3\" (head, lastK blocks, all, or A+B paths; epochs each)"),
            .def = N_("what --trainable says trains, every epoch")),
    CLI_OPT("--schedule", OPT_STRING, AT(run.cfg.schedule), .nonempty = 1,
            .error = N_("--schedule is constant, cosine, one-cycle or warmup"), .arg = "NAME[:N]",
            .help = N_("lr per step: constant, cosine[:N warm-up steps], one-cycle, warmup[:N]"), .def = "constant"),
    CLI_OPT("--log-every", OPT_LONG, AT(log_every), .lo = 1, .hi = 100000000,
            .error = N_("--log-every needs a whole number from 1"), .arg = "N",
            .help = N_("the tutorial's Batch line every N batches"), .def = "500"),
    CLI_OPT("--json", OPT_STRING, AT(json), .nonempty = 1, .error = N_("--json needs a file"), .arg = "FILE",
            .help = N_("every event as a JSON line"), .def = "none"),
    CLI_OPT("--save", OPT_STRING, AT(run.cfg.save), .nonempty = 1, .error = N_("--save needs a file"), .arg = "FILE",
            .help = N_("a checkpoint after every epoch (and its optimizer state beside it)"),
            .def = N_("nothing saved")),
    CLI_OPT("--resume", OPT_STRING, AT(run.cfg.resume), .nonempty = 1, .error = N_("--resume needs a checkpoint"),
            .arg = "FILE", .help = N_("continue a run from its checkpoint (its plan, schedule and groups too)"),
            .def = N_("a new run")),
    CLI_OPT("--profile", OPT_FLAG, AT(run.cfg.profile), .help = N_("at the end, where the time went")),
    CLI_OPT("--layer-report", OPT_FLAG, AT(layer_report),
            .help = N_("at the end, what training did to each module: change, gradient, BatchNorm drift")),
    CLI_OPT("--show-code", OPT_FLAG, AT(show_code),
            .help = N_("print the PyTorch code of this run (model, freeze, head, transforms, optimizer, loop); no "
                       "training")),
    CLI_OPT("--measure-every", OPT_INT, AT(run.cfg.measure_every), .lo = 0, .hi = 1000000, .arg = "N",
            .help = N_("measure what training does to each module every N batches (0: never)"), .def = "10"),
    CLI_OPT_END,
};

static int parse_args(int argc, char **argv, train_args *a) {
    memset(a, 0, sizeof *a);
    cli_run_args_init(&a->run);
    a->log_every = 500;
    a->run.cfg.epochs = 0;   // not given: the plan's, or 5
    int n = 0;
    int rc = cli_parse("train", options, argc, argv, a, 1, &a->root, &n);
    if (rc) return rc;
    if (!a->root) return cli_fail(CLI_USAGE, "train: which dataset? (frost train DATASET --arch ARCH)");
    if (a->run.pretrained && a->run.cfg.resume)
        return cli_fail(CLI_USAGE, "train: --resume continues a checkpoint; --pretrained is for a new run");
    if (a->show_code && a->run.cfg.resume)
        return cli_fail(CLI_USAGE, "train: --show-code shows a new run; leave out --resume");
    return cli_run_args_finish("train", &a->run);
}

// ---------------------------------------------------------------------------------------------
// output

// The live progress bar on a terminal: drawn over on each batch, cleared before any line is printed.
typedef struct {
    int tty, shown;
} bar_state;

static void clear_bar(bar_state *b) {
    if (b->tty && b->shown) {
        fputs("\r\033[K", stdout);
        b->shown = 0;
    }
}

static void draw_bar(bar_state *b, const train_event *e) {
    const int width = 30;
    int filled = e->batches ? (int)((double)e->batch / (double)e->batches * width) : 0;
    printf("\r%s %zu/%zu [", e->phase == PHASE_TRAIN ? "train" : "valid", e->batch, e->batches);
    for (int k = 0; k < width; k++) fputs(k < filled ? "#" : ".", stdout);
    int eta = (int)(e->eta_s + 0.5);
    // the rate with the backbone over the run; on cached features the head alone runs, said apart
    printf("] loss %.4f acc %.2f%%", e->running_loss, e->running_acc);
    if (e->backbone_images_per_s > 0) printf(" %.1f img/s", e->backbone_images_per_s);
    if (e->from_cache) printf(" (this phase: cached features, the head alone, %.0f img/s)", e->images_per_s);
    if (e->lr_moves) printf(" lr %.3g", e->lr);
    printf(" ETA %d:%02d\033[K", eta / 60, eta % 60);
    b->shown = 1;
}

static void print_line(void *user, const char *line) {
    clear_bar(user);
    printf("%s\n", cli_safe(line));
}

// Prints one event: the tutorial's log lines (train_log), errors and skipped files on stderr, the bar.
// Returns the run's exit status once finished, else -2.
static int print_event(const train_event *e, long log_every, bar_state *bar) {
    if (e->kind == EV_PRECISION) {   // --precision auto's pick: said apart from the log
        clear_bar(bar);
        fflush(stdout);
        fprintf(stderr, "frost: %s\n", cli_safe(e->text));
        return -2;
    }
    train_log_lines(e, log_every, print_line, bar);
    if (e->kind == EV_BATCH && bar->tty) draw_bar(bar, e);
    if (e->kind == EV_SKIPPED || e->kind == EV_ERROR) {
        clear_bar(bar);
        fflush(stdout);
        if (e->kind == EV_SKIPPED)
            cli_fail(0, "skipped %s", e->text);
        else
            cli_fail(0, "%s%s", e->text, cli_fix_hint(e->fix));
    }
    if (e->kind == EV_ALARM) {
        clear_bar(bar);
        printf(_("warning: %s%s\n"), cli_safe(e->text), cli_fix_hint(e->fix));
    }
    if (e->kind == EV_FINISHED) clear_bar(bar);
    fflush(stdout);
    if (e->kind != EV_FINISHED) return -2;
    return e->status == 0 ? 0 : e->status == 1 ? 130 : CLI_FAILED;
}

// --layer-report: every module with parameters, indented as the printed tree, with what the run did to it.
static void print_layer_report(const layer_report *r) {
    printf("\nwhat training did to each module (epoch %d, %zu steps): change = ||W - W0|| / ||W0|| of its "
           "trainable parameters,\ngrad = the last step's gradient norm, drift = how far BatchNorm statistics moved "
           "(README: Layer measurements)\n",
           r->epoch, r->step);
    printf("%-34s %-12s %10s %10s %10s %10s %8s\n", "module", "type", "params", "trainable", "change", "grad", "drift");
    for (size_t i = 0; i < r->n; i++) {
        const layer_stat *s = &r->rows[i];
        if (s->params == 0 && !s->batchnorm) continue;
        char name[256], change[32], grad[32], drift[32];
        snprintf(name, sizeof name, "%*s%s", 2 * s->depth, "", r->paths[i][0] ? r->paths[i] : "(model)");
        if (s->trainable == 0)
            snprintf(change, sizeof change, "frozen");
        else
            snprintf(change, sizeof change, "%.3g%%", 100.0 * s->change);
        if (isfinite(s->grad))
            snprintf(grad, sizeof grad, "%.3g", s->grad);
        else
            snprintf(grad, sizeof grad, "-");
        if (isfinite(s->drift))
            snprintf(drift, sizeof drift, "%.3g", s->drift);
        else
            snprintf(drift, sizeof drift, "-");
        printf("%-34s %-12s %10lld %10lld %10s %10s %8s\n", cli_safe(name), s->type, (long long)s->params,
               (long long)s->trainable, change, grad, drift);
    }
}

// The command line as one line, each argument quoted when the shell would need it (the history's).
static void command_line(int argc, char **argv, char *out, size_t len) {
    size_t used = (size_t)snprintf(out, len, "frost");
    for (int k = 0; k < argc && used < len; k++) {
        const char *w = argv[k];
        int plain = *w != '\0';
        for (const char *p = w; *p; p++)
            if (!(isalnum((unsigned char)*p) || strchr("-_./=:,+@%", *p))) plain = 0;
        if (plain)
            used += (size_t)snprintf(out + used, len - used, " %s", w);
        else {
            used += (size_t)snprintf(out + used, len - used, " '");
            for (const char *p = w; *p && used < len; p++)
                used += (size_t)(*p == '\'' ? snprintf(out + used, len - used, "'\\''")
                                            : snprintf(out + used, len - used, "%c", *p));
            if (used < len) used += (size_t)snprintf(out + used, len - used, "'");
        }
    }
}

// The run itself, its arguments parsed: trainer, log, history record.
// The first Ctrl-C (cli_run_loop): said below the progress bar.
static void say_stopping(void *user) {
    clear_bar(user);
    printf("stopping at the end of this batch...\n");
    fflush(stdout);
}

static int train(train_args *a, const run_origin *origin, long long *id) {
    int rc;
    dataset d;
    FILE *json;
    trainer *t;
    if ((rc = cli_run_start("train", &a->run, a->root, a->json, &d, &json, &t)) != 0) return rc;
    char note[1400];
    double t0 = clock_seconds(), run_start = t0;   // --profile: what recording the run cost it
    run_record *rec = run_record_start(&a->run.cfg, &d, origin, note, sizeof note);
    // the start runs here while the trainer's thread builds the model; only what follows the
    // trainer's last event (the run's end written, the database closed) makes the run wait
    double history_s = clock_seconds() - t0, history_after_s = 0;
    if (note[0]) cli_fail(0, "%s", note);
    if (id) *id = run_record_id(rec);
    bar_state bar = {isatty(STDOUT_FILENO), 0};
    cli_run_loop loop;
    cli_run_loop_begin(&loop, t, say_stopping, &bar);
    int status = -2, json_failed = 0;
    layer_report last = {0};   // --layer-report: the newest report
    while (status == -2) {
        train_event e;
        if (!cli_run_loop_next(&loop, &e)) continue;
        t0 = clock_seconds();
        int off = run_record_event(rec, &e, note, sizeof note) != 0;
        history_s += clock_seconds() - t0;
        if (e.kind == EV_FINISHED) history_after_s = clock_seconds() - t0;
        if (off) {   // the run goes on without it
            clear_bar(&bar);
            fflush(stdout);
            cli_fail(0, "%s", note);
        }
        if (json && !json_failed) {
            const layer_report *layers = e.kind == EV_LAYERS ? trainer_layers(t, e.batch) : NULL;
            if (event_json_write(json, &e, &a->run.cfg, &d, layers) !=
                0) {   // the log asked for cannot be written: stop
                json_failed = 1;
                cli_fail(CLI_FAILED, "%s: cannot write the JSON log: %s; stopping", a->json, strerror(errno));
                trainer_cancel(t);
            }
        }
        if (e.kind == EV_LAYERS && a->layer_report && trainer_layers(t, e.batch)) {
            layer_report_free(&last);
            if (layer_report_copy(&last, trainer_layers(t, e.batch)) != 0) layer_report_free(&last);
        }
        status = print_event(&e, a->log_every, &bar);
    }
    trainer_free(t);
    t0 = clock_seconds();
    int recorded = rec != NULL;
    run_record_free(rec);
    history_after_s += clock_seconds() - t0;
    history_s += clock_seconds() - t0;
    if (a->run.cfg.profile && recorded) {
        double wall = clock_seconds() - run_start;
        printf("profile: recording the run in the history took %.4f s of its %.2f s (%.3f%%)\n", history_s, wall,
               100.0 * history_s / wall);
        printf("profile: of which after the trainer's last event (what the run waited for) %.4f s (%.3f%%)\n",
               history_after_s, 100.0 * history_after_s / wall);
    }
    if (a->layer_report) {
        if (last.n)
            print_layer_report(&last);
        else if (status == 0)
            printf("\nno layer measurements were taken (--measure-every 0, or the run took no step)\n");
        layer_report_free(&last);
    }
    cli_run_loop_end(&loop);
    if (json && fclose(json) != 0 && !json_failed)
        json_failed = cli_fail(CLI_FAILED, "%s: cannot write the JSON log: %s", a->json, strerror(errno));
    if (json_failed) status = CLI_FAILED;
    dataset_free(&d);
    return status;
}

// --show-code: the run's PyTorch code (core/teach/torch_code.h) on stdout, for the dataset's classes.
// Nothing is downloaded or loaded: the code names the weights, the model's structure is all it needs.
static int show_code(train_args *a) {
    dataset d;
    int rc = cli_scan_dataset(a->root, NULL, &d);
    if (rc) return rc;
    trainer_config *c = &a->run.cfg;
    if (a->run.pretrained && !a->run.norm_given) transform_params_set_norm(&c->prep.tf, transform_norm_default(1));
    transfer_spec spec = {.arch = c->arch, .classes = (int64_t)d.n_classes};
    ft_model *m = NULL;
    char err[1024];
    torch_code_input in = {.cfg = c, .pretrained = a->run.pretrained, .n_classes = d.n_classes, .data = a->root};
    char *code = transfer_build(&spec, &m, NULL, 0, err, sizeof err) == 0 ? torch_code(&in, m, err, sizeof err) : NULL;
    ft_model_free(m);
    dataset_free(&d);
    if (!code) return cli_fail(CLI_FAILED, "train: %s", err);
    fputs(code, stdout);
    free(code);
    return CLI_OK;
}

static int run(int argc, char **argv) {
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    if (a.show_code) return show_code(&a);
    char command[8192];
    command_line(argc, argv, command, sizeof command);
    run_origin origin = {.origin = "cli", .command = command, .version = CLI_VERSION};
    return train(&a, &origin, NULL);
}

int cli_train_run(cli_run_args *run, const char *root, const run_origin *origin, long long *id) {
    train_args a;
    memset(&a, 0, sizeof a);
    a.run = *run;
    a.root = root;
    a.log_every = 500;
    return train(&a, origin, id);
}

const cli_command cli_train = {
    .name = "train",
    .synopsis = "DATASET --arch ARCH [--pretrained | --weights FILE] [--epochs N] [--batch N]\n"
                "[--lr X] [--optimizer adam|sgd] [--bn eval|train] [--cache on|off|auto|memory]\n"
                "[--precision fp32|fast|bf16|auto] [--trainable LIST] [--save FILE] [--resume FILE]\n"
                "[--json FILE] [--profile] [--plan STAGES] [--schedule NAME]\n"
                "[--block-lr B=M,...|spread:R] [--class-weights auto|W,...] [--show-code] ...",
    .help = N_("the tutorial's transfer learning: everything frozen, a new head for the\n"
               "dataset's classes, a train and a valid phase per epoch (README: every option)"),
    .examples =
        "frost train sample_data --arch resnet18 --epochs 3 --save resnet18.safetensors\n"
        "frost train DATASET --arch vgg16 --pretrained --plan head:2,last1:3 --schedule cosine --json run.jsonl\n"
        "frost train DATASET --arch resnet50 --pretrained --trainable layer4,fc --show-code > run.py",
    .options = options,
    .run = run,
};
