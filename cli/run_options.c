// run_options.c — the options `frost train` and `frost lr-find` share (see run_options.h).
#include "run_options.h"
#include "i18n.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "event_json.h"
#include "fetch.h"
#include "train_recipe.h"
#include "weights_table.h"

// ---------------------------------------------------------------------------------------------
// the run loop and its signals

static volatile sig_atomic_t g_interrupted;   // written by the signal handler only

static void on_signal(int sig) {
    (void)sig;
    g_interrupted = 1;
}

void cli_run_loop_begin(cli_run_loop *l, trainer *t, void (*on_stop)(void *user), void *user) {
    *l = (cli_run_loop){.t = t, .on_stop = on_stop, .user = user};
    g_interrupted = 0;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;   // a second Ctrl-C ends the process at once
    sigaction(SIGINT, &sa, &l->old_int);
    sigaction(SIGTERM, &sa, &l->old_term);
}

int cli_run_loop_next(cli_run_loop *l, train_event *e) {
    if (g_interrupted && !l->stopping) {
        l->stopping = 1;
        if (l->on_stop) l->on_stop(l->user);
        trainer_cancel(l->t);
    }
    return trainer_wait(l->t, e, 100);
}

void cli_run_loop_end(cli_run_loop *l) {
    sigaction(SIGINT, &l->old_int, NULL);
    sigaction(SIGTERM, &l->old_term, NULL);
}

static int set_arch(void *field, const char *value) {
    if (!value || ft_arch_family(value) == FT_FAMILY_NONE) return -1;
    snprintf(((cli_run_args *)field)->cfg.arch, sizeof((cli_run_args *)field)->cfg.arch, "%s", value);
    return 0;
}

static int set_device(void *field, const char *value) {
    if (!value || !(strcmp(value, "auto") == 0 || strcmp(value, "cpu") == 0 || strncmp(value, "cuda", 4) == 0))
        return -1;
    snprintf(((cli_run_args *)field)->cfg.device, sizeof((cli_run_args *)field)->cfg.device, "%s", value);
    return 0;
}

// --norm as every data command has it, remembered: --pretrained then leaves it as given
static int set_norm(void *field, const char *value) {
    cli_run_args *a = field;
    a->norm_given = 1;
    return cli_pipeline_norm(&a->cfg.prep, value);
}

static const char *const OPTIMIZERS[] = {"adam", "sgd", NULL};
static const int OPTIMIZER_KINDS[] = {FT_OPT_ADAM, FT_OPT_SGD};
static const char *const BN_MODES[] = {"eval", "train", NULL};
static const int BN_EVAL[] = {1, 0};
static const char *const PRECISIONS[] = {"fp32", "fast", "bf16", "auto", NULL};
static const int PRECISION_VALUES[] = {FT_PRECISION_FP32, FT_PRECISION_FAST, FT_PRECISION_BF16, TRAINER_PRECISION_AUTO};
// --cache: in memory when exact (auto) or always (on), both kept on disk too; memory: auto without the
// disk; off: neither
static int set_cache(void *field, const char *value) {
    static const char *const modes[] = {"on", "off", "auto", "memory"};
    static const int cache[] = {1, 0, -1, -1}, disk[] = {1, 0, 1, 0};
    cli_run_args *a = field;
    for (size_t k = 0; value && k < sizeof modes / sizeof *modes; k++)
        if (strcmp(value, modes[k]) == 0) {
            a->cfg.cache = cache[k];
            a->cfg.cache_disk = disk[k];
            return 0;
        }
    return -1;
}

#define AT(field) .offset = offsetof(cli_run_args, field)

const cli_option cli_run_options[] = {
    CLI_OPT("--arch", OPT_CALL, .call = set_arch, .error = N_("unknown architecture '%s' (see frost help)"),
            .arg = "ARCH", .help = N_("the network (frost help lists them)"),
            .def = N_("vgg16, the tutorial's, or the config file's")),
    CLI_OPT("--pretrained", OPT_FLAG, AT(pretrained),
            .help =
                N_("start from the architecture's ImageNet weights (cached, else downloaded); ImageNet's mean/std")),
    CLI_OPT("--weights", OPT_STRING, AT(cfg.weights), .nonempty = 1, .error = N_("--weights needs a file"),
            .arg = "FILE", .help = N_("start from a state_dict file (1000-class head), loaded strictly"),
            .def = N_("random weights, as torchvision builds the network")),
    CLI_OPT("--batch", OPT_INT, AT(cfg.batch_size), .lo = 1, .hi = 65536, .arg = "N", .help = N_("images per batch"),
            .def = "16"),
    CLI_OPT("--lr", OPT_NUMBER, AT(cfg.opt.lr), .min = 1e-12, .max = 10,
            .error = N_("--lr needs a number above 0 (like 1e-5)"), .arg = "X", .help = N_("learning rate"),
            .def = "1e-5"),
    CLI_OPT("--optimizer", OPT_CHOICE, AT(opt_kind), .choices = OPTIMIZERS, .values = OPTIMIZER_KINDS,
            .arg = "adam|sgd", .help = N_("Adam or SGD"), .def = "adam"),
    CLI_OPT("--momentum", OPT_NUMBER, AT(cfg.opt.momentum), .min = 0, .max = 1, .arg = "X",
            .help = N_("SGD's momentum"), .def = "0.9"),
    CLI_OPT("--weight-decay", OPT_NUMBER, AT(cfg.opt.weight_decay), .min = 0, .max = 1, .arg = "X",
            .help = N_("L2 weight decay"), .def = "0"),
    CLI_OPT("--block-lr", OPT_STRING, AT(cfg.block_lr), .nonempty = 1,
            .error = N_("--block-lr needs BLOCK=MULT,... or spread:R"), .arg = "B=M,...|spread:R",
            .help = N_("lr multipliers by block (\"layer3=0.01,layer4=0.1\"), or a geometric spread down to lr/R"),
            .def = N_("one lr for every block")),
    CLI_OPT("--class-weights", OPT_STRING, AT(cfg.class_weights), .nonempty = 1,
            .error = N_("--class-weights is auto, none or W1,W2,..."), .arg = "auto|none|W,...",
            .help = N_("weights of the classes in the loss: auto (inverse frequency), none, or one per class"),
            .def = "none"),
    CLI_OPT("--seed", OPT_LONG, AT(seed), .lo = 0, .hi = 2147483647L, .error = N_("--seed needs a whole number"),
            .arg = "N", .help = N_("the random seed of shuffling, the new head and dropout"), .def = "0"),
    CLI_OPT("--device", OPT_CALL, .call = set_device, .error = N_("--device is auto, cpu, cuda or cuda:N"),
            .arg = "auto|cpu|cuda[:N]", .help = N_("where the network runs"),
            .def = N_("auto: CUDA when there is a GPU, or the config file's")),
    CLI_OPT("--bn", OPT_CHOICE, AT(cfg.bn_eval), .choices = BN_MODES, .values = BN_EVAL, .arg = "eval|train",
            .help = N_("frozen BatchNorm layers keep their statistics (eval) or not (train, the tutorial's)"),
            .def = "eval"),
    CLI_OPT("--cache", OPT_CALL, .call = set_cache, .error = N_("--cache is on, off, auto or memory"),
            .arg = "on|off|auto|memory",
            .help = N_("compute a frozen backbone once per image, kept on disk for the next run; memory: not on disk"),
            .def = N_("auto: when exact")),
    CLI_OPT("--precision", OPT_CHOICE, AT(cfg.precision), .choices = PRECISIONS, .values = PRECISION_VALUES,
            .arg = "fp32|fast|bf16|auto",
            /* xgettext:no-c-format */
            .help = N_("the cached backbone: fp32 as built (exact); fast: BatchNorm folded, channels_last; bf16: "
                       "fast in bfloat16; auto: the fastest here that keeps top-1 on 99% of your images (measured)"),
            .def = "fp32"),
    CLI_OPT("--workers", OPT_INT, AT(cfg.workers), .lo = 1, .hi = 256, .arg = "N", .help = N_("loader threads"),
            .def = N_("chosen from the measured decode and network costs, or the config file's")),
    CLI_OPT("--threads", OPT_INT, AT(cfg.threads), .lo = 1, .hi = 256, .arg = "N", .help = N_("libtorch threads"),
            .def = N_("the cores")),
    CLI_OPT("--trainable", OPT_STRING, AT(cfg.trainable), .nonempty = 1,
            .error = N_("--trainable needs module paths (e.g. layer4,fc)"), .arg = "LIST",
            .help = N_("module paths that train (\"layer4,fc\", \"all\"); everything else frozen"),
            .def = N_("the new head only, as the tutorial trains")),
    CLI_OPT("--norm", OPT_CALL, .call = set_norm, .error = CLI_NORM_ERROR, .arg = CLI_NORM_ARG, .help = CLI_NORM_HELP,
            .def = N_("0.5, the tutorial's; imagenet with --pretrained")),
    CLI_OPT(NULL, OPT_GROUP, AT(cfg.prep), .group = cli_pipeline_options),
    CLI_OPT_END,
};

void cli_run_args_init(cli_run_args *a) {
    memset(a, 0, sizeof *a);
    trainer_config_default(&a->cfg);
    const frost_config *user = cli_config();   // the user's defaults, before the command line
    if (user->arch[0]) snprintf(a->cfg.arch, sizeof a->cfg.arch, "%s", user->arch);
    if (user->device[0]) snprintf(a->cfg.device, sizeof a->cfg.device, "%s", user->device);
    if (user->workers) a->cfg.workers = user->workers;
    a->opt_kind = a->cfg.opt.kind;
}

int cli_run_args_finish(const char *cmd, cli_run_args *a) {
    a->cfg.opt.kind = a->opt_kind == FT_OPT_SGD ? FT_OPT_SGD : FT_OPT_ADAM;
    a->cfg.seed = (uint64_t)a->seed;
    if (a->pretrained && a->cfg.weights)
        return cli_fail(CLI_USAGE, "%s: --pretrained or --weights FILE, not both", cmd);
    char err[512];
    if (pipeline_opts_check(&a->cfg.prep, err, sizeof err) != 0) return cli_fail(CLI_USAGE, "%s: %s", cmd, err);
    train_recipe recipe;   // the fine-tuning options read now, so a typo costs no model build
    if (train_recipe_set(&recipe, a->cfg.plan, a->cfg.schedule, a->cfg.block_lr, a->cfg.class_weights, err,
                         sizeof err) != 0)
        return cli_fail(CLI_USAGE, "%s: %s", cmd, err);
    if (a->cfg.plan && a->cfg.trainable)
        return cli_fail(CLI_USAGE, "%s: --plan says what trains in each stage; leave out --trainable", cmd);
    return 0;
}

int cli_run_start(const char *cmd, cli_run_args *a, const char *root, const char *json_path, dataset *d, FILE **json,
                  trainer **t) {
    int rc;
    *json = NULL;
    *t = NULL;
    if ((rc = cli_scan_dataset(root, NULL, d)) != 0) return rc;
    if (a->pretrained && (rc = cli_run_pretrained(cmd, a)) != 0) {
        dataset_free(d);
        return rc;
    }
    char err[1024];
    if (json_path && !(*json = event_json_open(json_path, err, sizeof err))) {
        dataset_free(d);
        return cli_fail(CLI_FAILED, "%s", err);
    }
    if (!(*t = trainer_start(&a->cfg, d, err, sizeof err))) {
        if (*json) fclose(*json);
        *json = NULL;
        dataset_free(d);
        return cli_fail(CLI_FAILED, "%s: %s", cmd, err);
    }
    return 0;
}

int cli_run_pretrained(const char *cmd, cli_run_args *a) {
    const weights_entry *e = weights_table_find(a->cfg.arch, NULL);
    if (!e)
        return cli_fail(CLI_FAILED, "%s: no known pretrained weights for %s (frost weights list)", cmd, a->cfg.arch);
    cli_progress p = {.name = e->file};
    fetch_result res;
    char err[1024];
    int rc = fetch_weights(e, cli_fetch_progress, &p, NULL, &res, err, sizeof err);
    cli_fetch_progress_end(&p);
    if (rc) return cli_fail(CLI_FAILED, "%s: --pretrained: %s", cmd, err);
    snprintf(a->weights_path, sizeof a->weights_path, "%s", res.path);
    a->cfg.weights = a->weights_path;
    printf("pretrained weights: %s %s (%s)%s\n", e->source, e->tag, cli_safe(res.path),
           res.downloaded ? ", downloaded now" : "");
    if (!a->norm_given) transform_params_set_norm(&a->cfg.prep.tf, transform_norm_default(1));
    const float *m = a->cfg.prep.tf.mean, *s = a->cfg.prep.tf.std;
    printf("normalisation: mean %.3f,%.3f,%.3f std %.3f,%.3f,%.3f (%s)\n", m[0], m[1], m[2], s[0], s[1], s[2],
           a->norm_given ? "as --norm says" : "ImageNet's, which the pretrained weights expect; --norm 0.5 for 0.5");
    fflush(stdout);
    return 0;
}
