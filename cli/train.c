// train.c — `frost train DATASET`: the trainer thread driven from the command line, printing
// the seed's log (Epoch i/n, dashes, Training..., Batch N lines, train/valid Loss and ACC), a live
// progress bar when stdout is a terminal, and every event as a JSON line with --json.
// Ctrl-C stops at the next batch boundary (saving when --save was given) and exits 130.
// --pretrained takes the architecture's default ImageNet weights from a cache or downloads them
// (fetch.h), and makes ImageNet's mean/std the default normalisation.
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "dataset.h"
#include "event_json.h"
#include "events.h"
#include "fetch.h"
#include "train_log.h"
#include "train_recipe.h"
#include "trainer.h"
#include "weights_table.h"

static volatile sig_atomic_t g_interrupted;   // written by the signal handler only

static void on_signal(int sig) {
    (void)sig;
    g_interrupted = 1;
}

// ---------------------------------------------------------------------------------------------
// options

typedef struct {
    trainer_config cfg;
    const char *root, *json;
    long log_every, seed;
    int pretrained, norm_given, opt_kind, layer_report;
    char weights_path[4096];   // --pretrained: the resolved file
} train_args;

static int set_arch(void *field, const char *value) {
    if (!value || ft_arch_family(value) == FT_FAMILY_NONE) return -1;
    snprintf(((train_args *)field)->cfg.arch, sizeof((train_args *)field)->cfg.arch, "%s", value);
    return 0;
}

static int set_device(void *field, const char *value) {
    if (!value || !(strcmp(value, "auto") == 0 || strcmp(value, "cpu") == 0 || strncmp(value, "cuda", 4) == 0))
        return -1;
    snprintf(((train_args *)field)->cfg.device, sizeof((train_args *)field)->cfg.device, "%s", value);
    return 0;
}

// --norm as every data command has it, remembered: --pretrained then leaves it as given
static int set_norm(void *field, const char *value) {
    train_args *a = field;
    a->norm_given = 1;
    return cli_pipeline_norm(&a->cfg.prep, value);
}

static const char *const OPTIMIZERS[] = {"adam", "sgd", NULL};
static const int OPTIMIZER_KINDS[] = {FT_OPT_ADAM, FT_OPT_SGD};
static const char *const BN_MODES[] = {"eval", "train", NULL};
static const int BN_EVAL[] = {1, 0};
static const char *const CACHE_MODES[] = {"on", "off", "auto", NULL};
static const int CACHE_VALUES[] = {1, 0, -1};

#define AT(field) .offset = offsetof(train_args, field)

static const cli_option options[] = {
    CLI_OPT("--arch", OPT_CALL, .call = set_arch, .error = "unknown architecture '%s' (see frost help)", .arg = "ARCH",
            .help = "the network (frost help lists them)"),
    CLI_OPT("--pretrained", OPT_FLAG, AT(pretrained),
            .help = "start from the architecture's ImageNet weights (cached, else downloaded); ImageNet's mean/std"),
    CLI_OPT("--weights", OPT_STRING, AT(cfg.weights), .nonempty = 1, .error = "--weights needs a file", .arg = "FILE",
            .help = "start from a state_dict file (1000-class head), loaded strictly"),
    CLI_OPT("--epochs", OPT_INT, AT(cfg.epochs), .lo = 1, .hi = 100000, .error = "--epochs needs a whole number from 1",
            .arg = "N", .help = "epochs (default 5, or the --plan's; fewer than the plan's: stop there, resume later)"),
    CLI_OPT("--batch", OPT_INT, AT(cfg.batch_size), .lo = 1, .hi = 65536, .arg = "N",
            .help = "images per batch (default 16)"),
    CLI_OPT("--lr", OPT_NUMBER, AT(cfg.opt.lr), .min = 1e-12, .max = 10,
            .error = "--lr needs a number above 0 (like 1e-5)", .arg = "X", .help = "learning rate (default 1e-5)"),
    CLI_OPT("--optimizer", OPT_CHOICE, AT(opt_kind), .choices = OPTIMIZERS, .values = OPTIMIZER_KINDS,
            .arg = "adam|sgd", .help = "Adam (default) or SGD"),
    CLI_OPT("--momentum", OPT_NUMBER, AT(cfg.opt.momentum), .min = 0, .max = 1, .arg = "X",
            .help = "SGD's momentum (default 0.9)"),
    CLI_OPT("--weight-decay", OPT_NUMBER, AT(cfg.opt.weight_decay), .min = 0, .max = 1, .arg = "X",
            .help = "L2 weight decay (default 0)"),
    CLI_OPT("--seed", OPT_LONG, AT(seed), .lo = 0, .hi = 2147483647L, .error = "--seed needs a whole number",
            .arg = "N", .help = "shuffling, new head and dropout (default 0)"),
    CLI_OPT("--device", OPT_CALL, .call = set_device, .error = "--device is auto, cpu, cuda or cuda:N",
            .arg = "auto|cpu|cuda[:N]", .help = "where the network runs (default auto: CUDA when there is a GPU)"),
    CLI_OPT("--bn", OPT_CHOICE, AT(cfg.bn_eval), .choices = BN_MODES, .values = BN_EVAL, .arg = "eval|train",
            .help = "frozen BatchNorm layers keep their statistics (eval, default) or not (train, the tutorial)"),
    CLI_OPT("--cache", OPT_CHOICE, AT(cfg.cache), .choices = CACHE_MODES, .values = CACHE_VALUES, .arg = "on|off|auto",
            .help = "compute a frozen backbone once per image (default auto: when exact)"),
    CLI_OPT("--workers", OPT_INT, AT(cfg.workers), .lo = 1, .hi = 256, .arg = "N",
            .help = "loader threads (default: a quarter of the cores)"),
    CLI_OPT("--threads", OPT_INT, AT(cfg.threads), .lo = 1, .hi = 256, .arg = "N",
            .help = "libtorch threads (default: the cores)"),
    CLI_OPT("--log-every", OPT_LONG, AT(log_every), .lo = 1, .hi = 100000000,
            .error = "--log-every needs a whole number from 1", .arg = "N",
            .help = "the tutorial's Batch line every N batches (default 500)"),
    CLI_OPT("--json", OPT_STRING, AT(json), .nonempty = 1, .error = "--json needs a file", .arg = "FILE",
            .help = "every event as a JSON line"),
    CLI_OPT("--save", OPT_STRING, AT(cfg.save), .nonempty = 1, .error = "--save needs a file", .arg = "FILE",
            .help = "a checkpoint after every epoch (and its optimizer state beside it)"),
    CLI_OPT("--resume", OPT_STRING, AT(cfg.resume), .nonempty = 1, .error = "--resume needs a checkpoint",
            .arg = "FILE", .help = "continue a run from its checkpoint"),
    CLI_OPT("--profile", OPT_FLAG, AT(cfg.profile), .help = "at the end, where the time went"),
    CLI_OPT("--layer-report", OPT_FLAG, AT(layer_report),
            .help = "at the end, what training did to each module: change, gradient, BatchNorm drift"),
    CLI_OPT("--measure-every", OPT_INT, AT(cfg.measure_every), .lo = 0, .hi = 1000000, .arg = "N",
            .help = "measure what training does to each module every N batches (default 10; 0: never)"),
    CLI_OPT("--trainable", OPT_STRING, AT(cfg.trainable), .nonempty = 1,
            .error = "--trainable needs module paths (e.g. layer4,fc)", .arg = "LIST",
            .help = "module paths that train (\"layer4,fc\", \"all\"); everything else frozen"),
    CLI_OPT("--plan", OPT_STRING, AT(cfg.plan), .nonempty = 1, .error = "--plan needs stages (e.g. head:2,last1:3)",
            .arg = "STAGES",
            .help = "staged unfreezing: \"head:2,last1:3\" (head, lastK blocks, all, or A+B paths; epochs each)"),
    CLI_OPT("--schedule", OPT_STRING, AT(cfg.schedule), .nonempty = 1,
            .error = "--schedule is constant, cosine, one-cycle or warmup", .arg = "NAME[:N]",
            .help = "lr schedule per step: constant (default), cosine[:N warm-up steps], one-cycle, warmup[:N]"),
    CLI_OPT("--block-lr", OPT_STRING, AT(cfg.block_lr), .nonempty = 1,
            .error = "--block-lr needs BLOCK=MULT,... or spread:R", .arg = "B=M,...|spread:R",
            .help = "lr multipliers by block (\"layer3=0.01,layer4=0.1\"), or a geometric spread down to lr/R"),
    CLI_OPT("--class-weights", OPT_STRING, AT(cfg.class_weights), .nonempty = 1,
            .error = "--class-weights is auto, none or W1,W2,...", .arg = "auto|none|W,...",
            .help = "weights of the classes in the loss: auto (inverse frequency), none (default), or one per class"),
    CLI_OPT("--norm", OPT_CALL, .call = set_norm, .error = "--norm is seed (mean 0.5, std 0.5) or imagenet",
            .arg = "seed|imagenet", .help = "mean and std 0.5 (the seed's, default) or ImageNet's"),
    CLI_OPT(NULL, OPT_GROUP, AT(cfg.prep), .group = cli_pipeline_options),
    CLI_OPT_END,
};

static int parse_args(int argc, char **argv, train_args *a) {
    memset(a, 0, sizeof *a);
    trainer_config_default(&a->cfg);
    const frost_config *user = cli_config();   // the user's defaults, before the command line
    if (user->arch[0]) snprintf(a->cfg.arch, sizeof a->cfg.arch, "%s", user->arch);
    if (user->device[0]) snprintf(a->cfg.device, sizeof a->cfg.device, "%s", user->device);
    if (user->workers) a->cfg.workers = user->workers;
    a->log_every = 500;
    a->cfg.epochs = 0;   // not given: the plan's, or 5
    a->opt_kind = a->cfg.opt.kind;
    int n = 0;
    int rc = cli_parse("train", options, argc, argv, a, 1, &a->root, &n);
    if (rc) return rc;
    a->cfg.opt.kind = a->opt_kind == FT_OPT_SGD ? FT_OPT_SGD : FT_OPT_ADAM;
    a->cfg.seed = (uint64_t)a->seed;
    if (!a->root) return cli_fail(CLI_USAGE, "train: which dataset? (frost train DATASET --arch ARCH)");
    if (a->pretrained && a->cfg.weights) return cli_fail(CLI_USAGE, "train: --pretrained or --weights FILE, not both");
    if (a->pretrained && a->cfg.resume)
        return cli_fail(CLI_USAGE, "train: --resume continues a checkpoint; --pretrained is for a new run");
    char err[512];
    if (pipeline_opts_check(&a->cfg.prep, err, sizeof err) != 0) return cli_fail(CLI_USAGE, "train: %s", err);
    train_recipe recipe;   // the fine-tuning options read now, so a typo costs no model build
    if (train_recipe_set(&recipe, a->cfg.plan, a->cfg.schedule, a->cfg.block_lr, a->cfg.class_weights, err,
                         sizeof err) != 0)
        return cli_fail(CLI_USAGE, "train: %s", err);
    if (a->cfg.plan && a->cfg.trainable)
        return cli_fail(CLI_USAGE, "train: --plan says what trains in each stage; leave out --trainable");
    return 0;
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
    printf("] loss %.4f acc %.2f%% %.1f img/s%s", e->running_loss, e->running_acc, e->images_per_s,
           e->from_cache ? " (cached features, head only)" : "");
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
        printf("warning: %s%s\n", cli_safe(e->text), cli_fix_hint(e->fix));
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

// ---------------------------------------------------------------------------------------------
// --pretrained: the architecture's default ImageNet weights, from a cache or downloaded, and the
// normalisation that goes with them (ImageNet's unless --norm was given).

static int resolve_pretrained(train_args *a) {
    const weights_entry *e = weights_table_find(a->cfg.arch, NULL);
    if (!e) return cli_fail(CLI_FAILED, "train: no known pretrained weights for %s (frost weights list)", a->cfg.arch);
    cli_progress p = {.name = e->file};
    fetch_result res;
    char err[1024];
    int rc = fetch_weights(e, cli_fetch_progress, &p, NULL, &res, err, sizeof err);
    cli_fetch_progress_end(&p);
    if (rc) return cli_fail(CLI_FAILED, "train: --pretrained: %s", err);
    snprintf(a->weights_path, sizeof a->weights_path, "%s", res.path);
    a->cfg.weights = a->weights_path;
    printf("pretrained weights: %s %s (%s)%s\n", e->source, e->tag, cli_safe(res.path),
           res.downloaded ? ", downloaded now" : "");
    if (!a->norm_given) transform_params_set_norm(&a->cfg.prep.tf, TRANSFORM_NORM_IMAGENET);
    const float *m = a->cfg.prep.tf.mean, *s = a->cfg.prep.tf.std;
    printf("normalisation: mean %.3f,%.3f,%.3f std %.3f,%.3f,%.3f (%s)\n", m[0], m[1], m[2], s[0], s[1], s[2],
           a->norm_given ? "as --norm says" : "ImageNet's, which the pretrained weights expect; --norm seed for 0.5");
    fflush(stdout);
    return 0;
}

// ---------------------------------------------------------------------------------------------

static int run(int argc, char **argv) {
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    dataset d;
    if ((rc = cli_scan_dataset(a.root, NULL, &d)) != 0) return rc;
    if (a.pretrained && (rc = resolve_pretrained(&a)) != 0) {   // after the scan: no download for a bad dataset
        dataset_free(&d);
        return rc;
    }
    FILE *json = NULL;
    if (a.json && !(json = fopen(a.json, "w"))) {
        dataset_free(&d);
        return cli_fail(CLI_FAILED, "%s: cannot create it: %s", a.json, strerror(errno));
    }
    char err[1024];
    trainer *t = trainer_start(&a.cfg, &d, err, sizeof err);
    if (!t) {
        if (json) fclose(json);
        dataset_free(&d);
        return cli_fail(CLI_FAILED, "%s", err);
    }
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;   // a second Ctrl-C ends the process at once
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    bar_state bar = {isatty(STDOUT_FILENO), 0};
    int status = -2, stopping = 0, json_failed = 0;
    layer_report last = {0};   // --layer-report: the newest report
    while (status == -2) {
        if (g_interrupted && !stopping) {
            stopping = 1;
            clear_bar(&bar);
            printf("stopping at the end of this batch...\n");
            fflush(stdout);
            trainer_cancel(t);
        }
        train_event e;
        if (!trainer_wait(t, &e, 100)) continue;
        if (json && !json_failed) {
            const layer_report *layers = e.kind == EV_LAYERS ? trainer_layers(t, e.batch) : NULL;
            if (event_json_write(json, &e, &a.cfg, &d, layers) != 0) {   // the log asked for cannot be written: stop
                json_failed = 1;
                cli_fail(CLI_FAILED, "%s: cannot write the JSON log: %s; stopping", a.json, strerror(errno));
                trainer_cancel(t);
            }
        }
        if (e.kind == EV_LAYERS && a.layer_report && trainer_layers(t, e.batch)) {
            layer_report_free(&last);
            if (layer_report_copy(&last, trainer_layers(t, e.batch)) != 0) layer_report_free(&last);
        }
        status = print_event(&e, a.log_every, &bar);
    }
    trainer_free(t);
    if (a.layer_report) {
        if (last.n)
            print_layer_report(&last);
        else if (status == 0)
            printf("\nno layer measurements were taken (--measure-every 0, or the run took no step)\n");
        layer_report_free(&last);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (json && fclose(json) != 0 && !json_failed)
        json_failed = cli_fail(CLI_FAILED, "%s: cannot write the JSON log: %s", a.json, strerror(errno));
    if (json_failed) status = CLI_FAILED;
    dataset_free(&d);
    return status;
}

const cli_command cli_train = {
    .name = "train",
    .synopsis = "DATASET --arch ARCH [--pretrained | --weights FILE] [--epochs N] [--batch N]\n"
                "[--lr X] [--optimizer adam|sgd] [--bn eval|train] [--cache on|off|auto]\n"
                "[--trainable LIST] [--save FILE] [--resume FILE] [--json FILE] [--profile] ...",
    .help = "the tutorial's transfer learning: everything frozen, a new head for the\n"
            "dataset's classes, a train and a valid phase per epoch (README: every option)",
    .options = options,
    .run = run,
};
