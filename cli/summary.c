// summary.c — `frost summary ARCH`: a table of every module (output shape, parameters, trainable or
// frozen), then the parameter totals; with --cost, what training it with a freeze choice costs instead
// (core/model/cost.h): memory, multiply-adds, and the time on this device for a dataset's images.
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "cost.h"
#include "dataset.h"
#include "frost_torch.h"
#include "i18n.h"
#include "model_options.h"
#include "model_print.h"
#include "trainer.h"
#include "transfer.h"

typedef struct {
    model_args m;
    int cost, batch, opt_kind, bn_eval;
    const char *trainable, *data, *device;
} summary_args;

static const char *const OPTIMIZERS[] = {"adam", "sgd", NULL};
static const int OPTIMIZER_KINDS[] = {FT_OPT_ADAM, FT_OPT_SGD};
static const char *const BN_MODES[] = {"eval", "train", NULL};
static const int BN_EVAL[] = {1, 0};

#define AT(field) .offset = offsetof(summary_args, field)

static const cli_option options[] = {
    CLI_OPT(NULL, OPT_GROUP, AT(m), .group = model_size_option),
    CLI_OPT("--cost", OPT_FLAG, AT(cost),
            .help = N_("what training costs instead: memory, multiply-adds, seconds per epoch on this device")),
    CLI_OPT("--trainable", OPT_STRING, AT(trainable), .nonempty = 1,
            .error = N_("--trainable needs module paths (e.g. layer4,fc)"), .arg = "LIST",
            .help = N_("with --cost: the modules that train"), .def = N_("the head, with --classes")),
    CLI_OPT("--batch", OPT_INT, AT(batch), .lo = 1, .hi = 65536, .arg = "N", .help = N_("with --cost: images per step"),
            .def = "16"),
    CLI_OPT("--optimizer", OPT_CHOICE, AT(opt_kind), .choices = OPTIMIZERS, .values = OPTIMIZER_KINDS,
            .arg = "adam|sgd", .help = N_("with --cost: Adam or SGD with momentum"), .def = "adam"),
    CLI_OPT("--bn", OPT_CHOICE, AT(bn_eval), .choices = BN_MODES, .values = BN_EVAL, .arg = "eval|train",
            .help = N_("with --cost: frozen BatchNorm in eval mode or train mode"), .def = "eval"),
    CLI_OPT("--data", OPT_STRING, AT(data), .nonempty = 1, .error = N_("--data needs a dataset folder"),
            .arg = "DATASET", .help = N_("with --cost: the seconds of an epoch over this dataset's images"),
            .def = N_("the time per image alone")),
    CLI_OPT("--device", OPT_STRING, AT(device), .nonempty = 1, .error = N_("--device is auto, cpu, cuda or cuda:N"),
            .arg = "auto|cpu|cuda[:N]", .help = N_("with --cost: the device to time"), .def = "auto"),
    CLI_OPT_END,
};

static void print_table(const model_args *a, ft_model *m, int *rc) {
    const ft_node *nodes;
    size_t n;
    ft_status *s = ft_model_trace(m, a->size);
    if (!s) s = ft_model_nodes(m, &nodes, &n);
    if (s)
        *rc = cli_fail(CLI_FAILED, "summary of %s at %ldx%ld: %s", a->arch, a->size, a->size, ft_status_message(s));
    else
        model_print_summary(stdout, nodes, n, a->size);
    ft_status_free(s);
}

static void print_bytes(const char *label, double bytes, const char *note) {
    char b[32];
    cost_format_bytes(b, sizeof b, bytes);
    printf("  %-22s %s%s\n", label, b, note);
}

static int print_cost(const summary_args *a, ft_model *m) {
    char err[1024];
    if (a->trainable && transfer_apply_trainable(m, a->trainable, err, sizeof err) != 0)
        return cli_fail(CLI_USAGE, "summary: %s", err);
    cost_spec spec = {.size = (int)a->m.size,
                      .batch = a->batch,
                      .opt = a->opt_kind == FT_OPT_SGD ? FT_OPT_SGD : FT_OPT_ADAM,
                      .momentum = 0.9,
                      .bn_eval = a->bn_eval};
    dataset d = {0};
    if (a->data) {
        int rc = cli_scan_dataset(a->data, NULL, &d);
        if (rc) return rc;
        spec.n_train = d.train.n_items;
        spec.n_valid = d.valid.n_items;
    }
    cost_speed speed;
    int measured = 0;
    ft_set_num_threads(trainer_default_threads(a->device ? a->device : "auto"));   // as a run would
    int timed = cost_calibrate(a->m.arch, (int)a->m.size, a->device, &speed, &measured, err, sizeof err) == 0;
    if (!timed) fprintf(stderr, "frost: note: no timing: %s\n", err);
    cost_report r;
    if (cost_estimate(m, &spec, timed ? &speed : NULL, &r, err, sizeof err) != 0) {
        dataset_free(&d);
        return cli_fail(CLI_FAILED, "summary: %s", err);
    }
    const char *opt = spec.opt == FT_OPT_ADAM ? "Adam" : "SGD (momentum 0.9)";
    printf("what training %s costs at %ldx%ld, batch %d, %s, BatchNorm %s where frozen:\n", a->m.arch, a->m.size,
           a->m.size, spec.batch, opt, spec.bn_eval ? "eval" : "train");
    char count[48], total[48];
    format_count(count, sizeof count, r.trainable);
    format_count(total, sizeof total, r.params);
    printf("  %-22s %s of %s\n", "trainable parameters", count, total);
    print_bytes("gradients", (double)r.grad_bytes, "");
    print_bytes("optimizer state", (double)r.optimizer_bytes,
                spec.opt == FT_OPT_ADAM ? " (Adam: two moments per trainable parameter)" : " (SGD: the momentum)");
    char macs[48];
    format_count(macs, sizeof macs, (long long)r.fwd_macs);
    printf("  %-22s %.2f GMAC per image (%s multiply-adds)\n", "forward", r.fwd_macs / 1e9, macs);
    if (r.first_trainable[0])
        printf("  %-22s %.2f GMAC per image (from %s, the first trainable layer, on)\n", "backward", r.bwd_macs / 1e9,
               r.first_trainable);
    else
        printf("  %-22s none: nothing trains\n", "backward");
    char note[128];
    snprintf(note, sizeof note, " at batch %d", spec.batch);
    print_bytes("kept for backward", (double)r.kept_bytes, note);
    snprintf(note, sizeof note,
             " beyond the weights, at batch %d: activations and gradients at the step's peak, "
             "optimizer state",
             spec.batch);
    print_bytes("training memory", (double)r.peak_bytes, note);
    printf("  %-22s %s\n", "feature cache",
           r.cache ? "applies: the backbone runs once per image in epoch 1, then only the head trains"
                   : "does not apply: something before the head trains, or frozen BatchNorm runs in train mode");
    if (timed) {
        printf("  %-22s %.3g s per GMAC forward, %.3g backward on %s with %d threads (%s)\n", "this device",
               speed.forward, speed.backward,
               a->device && strcmp(a->device, "auto") != 0 ? a->device
               : ft_cuda_available()                       ? "cuda"
                                                           : "cpu",
               ft_get_num_threads(), measured ? "measured now" : "measured before, kept in the cache");
        printf("  %-22s %.1f ms per image for a training step\n", "time", 1e3 * r.step_seconds_per_image);
        if (isfinite(r.epoch1_seconds)) {
            printf("  %-22s %.0f s for epoch 1 over %zu + %zu images", "epoch", r.epoch1_seconds, spec.n_train,
                   spec.n_valid);
            if (r.cache) printf(", %.1f s for each later one (the cache)", r.later_epoch_seconds);
            printf("\n");
        }
    }
    dataset_free(&d);
    return CLI_OK;
}

static int run(int argc, char **argv) {
    summary_args a = {.m = {.size = 224}, .batch = 16, .opt_kind = FT_OPT_ADAM, .bn_eval = 1};
    const char *args[1];
    int n = 0;
    int rc = cli_parse("summary", options, argc, argv, &a, 1, args, &n);
    if (rc) return rc;
    if ((rc = model_args_check("summary", &a.m, n ? args[0] : NULL)) != 0) return rc;
    if (!a.cost && (a.trainable || a.data || a.device))
        return cli_fail(CLI_USAGE, "summary: --trainable, --data and --device go with --cost");
    if (a.cost && !a.device && cli_config()->device[0]) a.device = cli_config()->device;   // the user's default
    ft_model *m = NULL;
    if ((rc = model_args_build(&a.m, &m)) != 0) return rc;
    if (a.cost)
        rc = print_cost(&a, m);
    else
        print_table(&a.m, m, &rc);
    ft_model_free(m);
    return rc;
}

const cli_command cli_summary = {
    .name = "summary",
    .synopsis = "ARCH [--classes N] [--size S] [--weights FILE]\n"
                "[--cost [--trainable LIST] [--batch N] [--optimizer adam|sgd] [--bn eval|train] [--data DATASET]\n"
                "[--device D]]",
    .help = N_("a table of every module: output shape for a 1x3xSxS input (default 224),\n"
               "parameters, trainable or frozen; then total / trainable / non-trainable counts;\n"
               "with --cost, what training with that freeze choice costs: memory, multiply-adds,\n"
               "and the seconds of an epoch on this device"),
    .examples = "frost summary resnet18 --classes 2\n"
                "frost summary vgg16 --classes 2 --cost --trainable classifier --data sample_data",
    .options = options,
    .run = run,
};
