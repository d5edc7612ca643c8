// lr_find.c — `frost lr-find DATASET --arch ARCH`: the learning-rate finder. Training steps at
// exponentially growing learning rates (the trainer's sweep, lr_find.h) on the run the same options
// would start, the smoothed loss drawn against the lr in the terminal, and the suggestion printed
// (exit 0), or why there is none (exit 1). --json writes every point as a JSON line.
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "curve_plot.h"
#include "dataset.h"
#include "event_json.h"
#include "i18n.h"
#include "run_options.h"
#include "trainer.h"

typedef struct {
    cli_run_args run;
    const char *root, *json;
    int width, height;
} lr_find_args;

#define AT(field) .offset = offsetof(lr_find_args, field)

static const cli_option options[] = {
    CLI_OPT(NULL, OPT_GROUP, AT(run), .group = cli_run_options),
    CLI_OPT("--start", OPT_NUMBER, AT(run.cfg.find.start_lr), .min = 1e-12, .max = 100, .arg = "X",
            .help = N_("the sweep's first lr"), .def = "1e-7"),
    CLI_OPT("--end", OPT_NUMBER, AT(run.cfg.find.end_lr), .min = 1e-12, .max = 1000, .arg = "X",
            .help = N_("the sweep's last lr"), .def = "10"),
    CLI_OPT("--steps", OPT_INT, AT(run.cfg.find.steps), .lo = 2, .hi = 100000, .arg = "N",
            .help = N_("training steps in the sweep, one per lr (it stops early when the loss diverges)"),
            .def = "100"),
    CLI_OPT("--width", OPT_INT, AT(width), .lo = 10, .hi = 1000, .arg = "N",
            .help = N_("the plot's width in characters"), .def = N_("the terminal's, else 60")),
    CLI_OPT("--height", OPT_INT, AT(height), .lo = 3, .hi = 200, .arg = "N", .help = N_("the plot's height in lines"),
            .def = "12"),
    CLI_OPT("--json", OPT_STRING, AT(json), .nonempty = 1, .error = N_("--json needs a file"), .arg = "FILE",
            .help = N_("every event (each point of the sweep too) as a JSON line"), .def = "none"),
    CLI_OPT_END,
};

// The points of the sweep as they arrive.
typedef struct {
    double *lr, *smooth;
    size_t n, cap;
} points;

static int add_point(points *p, double lr, double smooth) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 128;
        double *a = realloc(p->lr, cap * sizeof *a);
        if (!a) return -1;
        p->lr = a;
        double *b = realloc(p->smooth, cap * sizeof *b);
        if (!b) return -1;
        p->smooth = b;
        p->cap = cap;
    }
    p->lr[p->n] = lr;
    p->smooth[p->n++] = smooth;
    return 0;
}

// The smoothed loss against the lr (log scale), the suggestion marked.
static void draw(const points *p, double suggestion, int width, int height) {
    curve_plot_opts o = {.width = width, .height = height, .log_x = 1, .mark = suggestion > 0, .mark_x = suggestion};
    char **lines = NULL;
    int n = curve_plot(p->lr, p->smooth, p->n, &o, &lines);
    if (n < 0) return;
    printf("\nsmoothed loss against the learning rate (log scale)%s\n",
           suggestion > 0 ? "; the dotted column is the suggestion" : "");
    for (int i = 0; i < n; i++) printf("%s\n", lines[i]);
    curve_plot_free(lines, n);
}

static int run(int argc, char **argv) {
    lr_find_args a;
    memset(&a, 0, sizeof a);
    cli_run_args_init(&a.run);
    a.height = 12;
    int n = 0;
    int rc = cli_parse("lr-find", options, argc, argv, &a, 1, &a.root, &n);
    if (rc) return rc;
    if (!a.root) return cli_fail(CLI_USAGE, "lr-find: which dataset? (frost lr-find DATASET --arch ARCH)");
    if (!(a.run.cfg.find.start_lr < a.run.cfg.find.end_lr))
        return cli_fail(CLI_USAGE, "lr-find: --start must be below --end");
    if ((rc = cli_run_args_finish("lr-find", &a.run)) != 0) return rc;
    if (!a.width) {
        const char *cols = getenv("COLUMNS");
        a.width = cols && atoi(cols) > 30 ? atoi(cols) - CURVE_PLOT_LEFT - 1 : 60;
        if (a.width > 120) a.width = 120;
    }
    a.run.cfg.lr_find = 1;
    dataset d;
    FILE *json;
    trainer *t;
    if ((rc = cli_run_start("lr-find", &a.run, a.root, a.json, &d, &json, &t)) != 0) return rc;
    cli_run_loop loop;
    cli_run_loop_begin(&loop, t, NULL, NULL);
    int tty = isatty(STDOUT_FILENO), status = -2, json_failed = 0;
    points p = {0};
    double suggestion = 0;
    char verdict[1024] = "";
    while (status == -2) {
        train_event e;
        if (!cli_run_loop_next(&loop, &e)) continue;
        if (json && !json_failed && event_json_write(json, &e, &a.run.cfg, &d, NULL) != 0) {
            json_failed = 1;
            cli_fail(CLI_FAILED, "%s: cannot write the JSON log: %s; stopping", a.json, strerror(errno));
            trainer_cancel(t);
        }
        switch (e.kind) {
        case EV_INFO: printf("%s\n", cli_safe(e.text)); break;
        case EV_PRECISION:
            fflush(stdout);
            fprintf(stderr, "frost: %s\n", cli_safe(e.text));
            break;
        case EV_SKIPPED: cli_fail(0, "skipped %s", e.text); break;
        case EV_ERROR:
            if (tty) fputs("\r\033[K", stdout);
            fflush(stdout);
            cli_fail(0, "lr-find: %s%s", e.text, cli_fix_hint(e.fix));
            break;
        case EV_LR_POINT:
            if (add_point(&p, e.lr, e.running_loss) != 0) trainer_cancel(t);
            if (tty)
                printf("\rstep %zu/%d  lr %.3g  loss %.4f  smoothed %.4f\033[K", e.batch, a.run.cfg.find.steps, e.lr,
                       e.loss, e.running_loss);
            break;
        case EV_LR_SUGGEST:
            suggestion = e.lr;
            snprintf(verdict, sizeof verdict, "%s", e.text);
            break;
        case EV_FINISHED: status = e.status == 0 ? 0 : e.status == 1 ? 130 : CLI_FAILED; break;
        default: break;
        }
        fflush(stdout);
    }
    if (tty) fputs("\r\033[K", stdout);
    trainer_free(t);
    cli_run_loop_end(&loop);
    if (status == 0) {
        if (p.n) draw(&p, suggestion, a.width, a.height);
        if (suggestion > 0) {
            printf("%s\n", cli_safe(verdict));
            printf("train with: --lr %.2g\n", suggestion);
        } else {
            fflush(stdout);
            status = cli_fail(CLI_FAILED, "lr-find: %s", verdict[0] ? verdict : "no suggestion");
        }
    }
    if (json && fclose(json) != 0 && !json_failed)
        json_failed = cli_fail(CLI_FAILED, "%s: cannot write the JSON log: %s", a.json, strerror(errno));
    if (json_failed) status = CLI_FAILED;
    free(p.lr);
    free(p.smooth);
    dataset_free(&d);
    return status;
}

const cli_command cli_lr_find = {
    .name = "lr-find",
    .synopsis = "DATASET --arch ARCH [--pretrained | --weights FILE] [--start X] [--end X] [--steps N]\n"
                "[--trainable LIST] [--block-lr ...] [--batch N] [--json FILE] ...",
    .help = N_("the learning-rate finder: one training step per lr of an exponential sweep,\n"
               "the smoothed loss drawn against the lr, and a suggested lr"),
    .examples = "frost lr-find sample_data --arch resnet18\n"
                "frost lr-find DATASET --arch vgg16 --pretrained --steps 60 --json sweep.jsonl",
    .options = options,
    .run = run,
};
