// cli_train.c — `frost train DATASET`: the trainer thread driven from the command line, printing
// the seed's log (Epoch i/n, dashes, Training..., Batch N lines, train/valid Loss and ACC), a live
// progress bar when stdout is a terminal, and every event as a JSON line with --json.
// Ctrl-C stops at the next batch boundary (saving when --save was given) and exits 130.
// --pretrained takes the architecture's default ImageNet weights from a cache or downloads them
// (fetch.h), and makes ImageNet's mean/std the default normalisation.
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dataset.h"
#include "events.h"
#include "fetch.h"
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
    long log_every;
    int pretrained, norm_given;
    char weights_path[4096];   // --pretrained: the resolved file
} train_args;

static int parse_double(const char *s, double lo, double hi, double *out) {
    if (!s || !*s) return -1;
    char *end;
    double v = strtod(s, &end);
    if (*end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, train_args *a) {
    memset(a, 0, sizeof *a);
    trainer_config_default(&a->cfg);
    a->log_every = 500;
    long n;
    double x;
    for (int i = 1; i < argc;) {
        int missing = 0, rc;
        const char *v;
#define OPT(name) ((v = cli_option_value(argc, argv, &i, name, &missing)) || missing)
#define NEED(ok, ...) \
    do { \
        if (missing || !(ok)) return cli_fail(CLI_USAGE, __VA_ARGS__); \
    } while (0)
        if (strncmp(argv[i], "--norm", 6) == 0) a->norm_given = 1;
        if (cli_pipeline_option("train", argc, argv, &i, &a->cfg.prep, &rc)) {
            if (rc) return rc;
        } else if (OPT("--arch")) {
            NEED(ft_arch_family(v) != FT_FAMILY_NONE, "train: unknown architecture '%s' (see frost help)", missing ? "" : v);
            snprintf(a->cfg.arch, sizeof a->cfg.arch, "%s", v);
        } else if (OPT("--weights")) {
            NEED(*v, "train: --weights needs a file");
            a->cfg.weights = v;
        } else if (strcmp(argv[i], "--pretrained") == 0) {
            a->pretrained = 1;
            i++;
        } else if (OPT("--epochs")) {
            NEED(cli_parse_long(v, 1, 100000, &n) == 0, "train: --epochs needs a whole number from 1");
            a->cfg.epochs = (int)n;
        } else if (OPT("--batch")) {
            NEED(cli_parse_long(v, 1, 65536, &n) == 0, "train: --batch needs a whole number from 1 to 65536");
            a->cfg.batch_size = (int)n;
        } else if (OPT("--lr")) {
            NEED(parse_double(v, 1e-12, 10, &x) == 0, "train: --lr needs a number above 0 (like 1e-5)");
            a->cfg.opt.lr = x;
        } else if (OPT("--optimizer")) {
            NEED(strcmp(v, "adam") == 0 || strcmp(v, "sgd") == 0, "train: --optimizer is adam or sgd");
            a->cfg.opt.kind = strcmp(v, "sgd") == 0 ? FT_OPT_SGD : FT_OPT_ADAM;
        } else if (OPT("--momentum")) {
            NEED(parse_double(v, 0, 1, &x) == 0, "train: --momentum needs a number from 0 to 1");
            a->cfg.opt.momentum = x;
        } else if (OPT("--weight-decay")) {
            NEED(parse_double(v, 0, 1, &x) == 0, "train: --weight-decay needs a number from 0 to 1");
            a->cfg.opt.weight_decay = x;
        } else if (OPT("--seed")) {
            NEED(cli_parse_long(v, 0, 2147483647L, &n) == 0, "train: --seed needs a whole number");
            a->cfg.seed = (uint64_t)n;
        } else if (OPT("--device")) {
            NEED(strcmp(v, "auto") == 0 || strcmp(v, "cpu") == 0 || strncmp(v, "cuda", 4) == 0,
                 "train: --device is auto, cpu, cuda or cuda:N");
            snprintf(a->cfg.device, sizeof a->cfg.device, "%s", v);
        } else if (OPT("--bn")) {
            NEED(strcmp(v, "eval") == 0 || strcmp(v, "train") == 0, "train: --bn is eval or train");
            a->cfg.bn_eval = strcmp(v, "eval") == 0;
        } else if (OPT("--cache")) {
            NEED(strcmp(v, "on") == 0 || strcmp(v, "off") == 0 || strcmp(v, "auto") == 0, "train: --cache is on, off or auto");
            a->cfg.cache = strcmp(v, "on") == 0 ? 1 : strcmp(v, "off") == 0 ? 0 : -1;
        } else if (OPT("--workers")) {
            NEED(cli_parse_long(v, 1, 256, &n) == 0, "train: --workers needs a whole number from 1 to 256");
            a->cfg.workers = (int)n;
        } else if (OPT("--threads")) {
            NEED(cli_parse_long(v, 1, 256, &n) == 0, "train: --threads needs a whole number from 1 to 256");
            a->cfg.threads = (int)n;
        } else if (OPT("--log-every")) {
            NEED(cli_parse_long(v, 1, 100000000, &n) == 0, "train: --log-every needs a whole number from 1");
            a->log_every = n;
        } else if (OPT("--json")) {
            NEED(*v, "train: --json needs a file");
            a->json = v;
        } else if (OPT("--save")) {
            NEED(*v, "train: --save needs a file");
            a->cfg.save = v;
        } else if (OPT("--resume")) {
            NEED(*v, "train: --resume needs a checkpoint");
            a->cfg.resume = v;
        } else if (strcmp(argv[i], "--profile") == 0) {
            a->cfg.profile = 1;
            i++;
        } else if (OPT("--trainable")) {
            NEED(*v, "train: --trainable needs module paths (e.g. layer4,fc)");
            a->cfg.trainable = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_fail(CLI_USAGE, "train: unknown option '%s' (see frost help)", argv[i]);
        } else if (!a->root) {
            a->root = argv[i++];
        } else {
            return cli_fail(CLI_USAGE, "train: unexpected argument '%s'", argv[i]);
        }
#undef OPT
#undef NEED
    }
    if (!a->root) return cli_fail(CLI_USAGE, "train: which dataset? (frost train DATASET --arch ARCH)");
    if (a->pretrained && a->cfg.weights) return cli_fail(CLI_USAGE, "train: --pretrained or --weights FILE, not both");
    if (a->pretrained && a->cfg.resume) return cli_fail(CLI_USAGE, "train: --resume continues a checkpoint; --pretrained is for a new run");
    char err[512];
    if (pipeline_opts_check(&a->cfg.prep, err, sizeof err) != 0) return cli_fail(CLI_USAGE, "train: %s", err);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// output

static const char *event_name(event_kind k) {
    static const char *const names[] = {"info", "phase_start", "batch", "phase_end", "epoch",
                                        "skipped", "saved", "error", "finished"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static void json_num(json_t *o, const char *key, double v) {
    json_object_set_new(o, key, isfinite(v) ? json_real(v) : json_null());
}

static void write_json(FILE *f, const train_event *e) {
    json_t *o = json_object();
    json_object_set_new(o, "event", json_string(event_name(e->kind)));
    json_object_set_new(o, "epoch", json_integer(e->epoch));
    json_object_set_new(o, "epochs", json_integer(e->epochs));
    switch (e->kind) {
    case EV_PHASE_START:
    case EV_BATCH:
    case EV_PHASE_END:
        json_object_set_new(o, "phase", json_string(e->phase == PHASE_TRAIN ? "train" : "valid"));
        json_object_set_new(o, "batches", json_integer((json_int_t)e->batches));
        if (e->kind == EV_PHASE_START) break;
        if (e->kind == EV_BATCH) {
            json_object_set_new(o, "batch", json_integer((json_int_t)e->batch));
            json_num(o, "loss", e->loss);
            json_num(o, "images_per_s", e->images_per_s);
            json_num(o, "eta_s", e->eta_s);
        } else {
            json_num(o, "seconds", e->seconds);
        }
        json_num(o, "running_loss", e->running_loss);
        json_num(o, "running_acc", e->running_acc);
        break;
    case EV_EPOCH:
        json_num(o, "train_loss", e->train_loss);
        json_num(o, "train_acc", e->train_acc);
        json_num(o, "valid_loss", e->valid_loss);
        json_num(o, "valid_acc", e->valid_acc);
        json_num(o, "seconds", e->seconds);
        break;
    case EV_FINISHED:
        json_object_set_new(o, "status", json_string(e->status == 0 ? "done" : e->status == 1 ? "stopped" : "failed"));
        json_num(o, "seconds", e->seconds);
        break;
    default:
        json_object_set_new(o, "text", json_string(e->text));
    }
    char *s = json_dumps(o, JSON_COMPACT);
    if (s) fprintf(f, "%s\n", s);
    free(s);
    json_decref(o);
}

static void clear_bar(int tty, int *bar_shown) {
    if (tty && *bar_shown) {
        fputs("\r\033[K", stdout);
        *bar_shown = 0;
    }
}

static void draw_bar(const train_event *e) {
    const int width = 30;
    int filled = e->batches ? (int)((double)e->batch / (double)e->batches * width) : 0;
    printf("\r%s %zu/%zu [", e->phase == PHASE_TRAIN ? "train" : "valid", e->batch, e->batches);
    for (int k = 0; k < width; k++) fputs(k < filled ? "#" : ".", stdout);
    int eta = (int)(e->eta_s + 0.5);
    printf("] loss %.4f acc %.2f%% %.1f img/s ETA %d:%02d\033[K", e->running_loss, e->running_acc, e->images_per_s,
           eta / 60, eta % 60);
    fflush(stdout);
}

// Prints one event the seed's way; returns the run's exit status once finished, else -2.
static int print_event(const train_event *e, long log_every, int tty, int *bar_shown) {
    switch (e->kind) {
    case EV_INFO:
        clear_bar(tty, bar_shown);
        printf("%s\n", e->text);
        break;
    case EV_PHASE_START:
        clear_bar(tty, bar_shown);
        if (e->phase == PHASE_TRAIN) printf("Epoch %d/%d\n----------------------------------------\n", e->epoch, e->epochs);
        printf("%s\n", e->phase == PHASE_TRAIN ? "Training..." : "Validing...");
        break;
    case EV_BATCH:
        if (e->phase == PHASE_TRAIN && e->batch % (size_t)log_every == 0) {
            clear_bar(tty, bar_shown);
            printf("Batch %zu,Train Loss:%.6f,Train ACC:%.4f\n", e->batch, e->running_loss, e->running_acc);
        }
        if (tty) {
            draw_bar(e);
            *bar_shown = 1;
        }
        break;
    case EV_PHASE_END:
        clear_bar(tty, bar_shown);
        printf("%s Loss:%.6f ACC:%.4f\n", e->phase == PHASE_TRAIN ? "train" : "valid", e->running_loss, e->running_acc);
        break;
    case EV_EPOCH:
        break;
    case EV_SKIPPED:
        clear_bar(tty, bar_shown);
        fprintf(stderr, "frost: skipped %s\n", e->text);
        break;
    case EV_SAVED:
        clear_bar(tty, bar_shown);
        printf("saved %s\n", e->text);
        break;
    case EV_ERROR:
        clear_bar(tty, bar_shown);
        fflush(stdout);
        fprintf(stderr, "frost: %s\n", e->text);
        break;
    case EV_FINISHED:
        clear_bar(tty, bar_shown);
        if (e->status == 0)
            printf("Training complete in %.1f s\n", e->seconds);
        else if (e->status == 1)
            printf("Stopped after %.1f s\n", e->seconds);
        fflush(stdout);
        return e->status == 0 ? 0 : e->status == 1 ? 130 : CLI_FAILED;
    }
    fflush(stdout);
    return -2;
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
    printf("pretrained weights: %s %s (%s)%s\n", e->source, e->tag, res.path, res.downloaded ? ", downloaded now" : "");
    if (!a->norm_given) {
        transform_params t;
        transform_params_imagenet(&t);
        memcpy(a->cfg.prep.tf.mean, t.mean, sizeof t.mean);
        memcpy(a->cfg.prep.tf.std, t.std, sizeof t.std);
    }
    const float *m = a->cfg.prep.tf.mean, *s = a->cfg.prep.tf.std;
    printf("normalisation: mean %.3f,%.3f,%.3f std %.3f,%.3f,%.3f (%s)\n", m[0], m[1], m[2], s[0], s[1], s[2],
           a->norm_given ? "as --norm says" : "ImageNet's, which the pretrained weights expect; --norm seed for 0.5");
    fflush(stdout);
    return 0;
}

// ---------------------------------------------------------------------------------------------

int cmd_train(int argc, char **argv) {
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    dataset d;
    char err[1024];
    if (dataset_scan(&d, a.root, NULL, err, sizeof err) != 0) {
        dataset_free(&d);
        return cli_fail(CLI_FAILED, "%s", err);
    }
    if (a.pretrained && (rc = resolve_pretrained(&a)) != 0) {   // after the scan: no download for a bad dataset
        dataset_free(&d);
        return rc;
    }
    FILE *json = NULL;
    if (a.json && !(json = fopen(a.json, "w"))) {
        dataset_free(&d);
        return cli_fail(CLI_FAILED, "%s: cannot create", a.json);
    }
    event_queue *q = events_new();
    trainer *t = q ? trainer_start(&a.cfg, &d, q, err, sizeof err) : NULL;
    if (!t) {
        events_free(q);
        if (json) fclose(json);
        dataset_free(&d);
        return cli_fail(CLI_FAILED, "%s", q ? err : "out of memory");
    }
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;   // a second Ctrl-C ends the process at once
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    int tty = isatty(STDOUT_FILENO), bar_shown = 0, status = -2, stopping = 0;
    while (status == -2) {
        if (g_interrupted && !stopping) {
            stopping = 1;
            clear_bar(tty, &bar_shown);
            printf("stopping at the end of this batch...\n");
            fflush(stdout);
            trainer_stop(t);
        }
        train_event e;
        if (!events_wait(q, &e, 100)) continue;
        if (json) {
            write_json(json, &e);
            fflush(json);
        }
        status = print_event(&e, a.log_every, tty, &bar_shown);
    }
    trainer_join(t);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    events_free(q);
    if (json && fclose(json) != 0 && status == 0) status = cli_fail(CLI_FAILED, "%s: write failed", a.json);
    dataset_free(&d);
    return status;
}
