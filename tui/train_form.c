// train_form.c — the Train screen's form as data (train_form.h): the choices of each field, the text
// each shows, the run the form describes, and a recorded run's settings taken back into it.
#include "train_form.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "i18n.h"
#include "weights_table.h"

static const int EPOCHS[] = {1, 2, 3, 5, 10, 20};
static const int BATCHES[] = {4, 8, 16, 32, 64};
static const double LRS[] = {1e-5, 1e-4, 1e-3, 1e-2};
static const int SIZES[] = {64, 112, 160, 224};
#define COUNT(a) (int)(sizeof a / sizeof a[0])

// fine-tuning: staged unfreezing (the head alone for the first half of the epochs, then more), the
// lr schedule, per-block learning rates, class weights (train_recipe.h)
static const char *const PLANS[] = {NULL, "last1", "last2", "all"};
static const char *const PLAN_NAMES[] = {N_("none   (what the Model screen marks trains, all epochs)"),
                                         N_("the head for half the epochs, then the last block too"),
                                         N_("the head for half the epochs, then the last 2 blocks too"),
                                         N_("the head for half the epochs, then every layer")};
static const char *const SCHEDULES[] = {NULL, "cosine", "one-cycle", "warmup:epoch", "cosine:epoch"};
static const char *const SCHEDULE_NAMES[] = {N_("constant (the tutorial's)"), N_("cosine"), N_("one-cycle"),
                                             N_("linear warm-up for one epoch, then constant"),
                                             N_("linear warm-up for one epoch, then cosine")};
static const char *const BLOCK_LRS[] = {NULL, "spread:10", "spread:100"};
static const char *const BLOCK_LR_NAMES[] = {N_("one lr for every block"),
                                             N_("spread: the head's lr down to lr/10 at the first trained block"),
                                             N_("spread: the head's lr down to lr/100 at the first trained block")};
static const char *const CLASS_WS[] = {NULL, "auto"};
// what the frozen backbone runs in when the feature cache computes it (trainer_config.precision)
static const int PRECISIONS[] = {FT_PRECISION_FP32, FT_PRECISION_FAST, FT_PRECISION_BF16, TRAINER_PRECISION_AUTO};
static const char *const PRECISION_NAMES[] = {
    N_("fp32   (exact, the tutorial's)"), N_("fast   (BatchNorm folded, channels_last: float32, last bits differ)"),
    N_("bf16   (fast in bfloat16: faster only with CPU bfloat16, e.g. AMX)"),
    /* xgettext:no-c-format */ N_("auto   (the fastest here that keeps top-1 on 99% of your images)")};

int train_form_precision(const train_form *t) { return PRECISIONS[t->precision]; }
double train_form_lr(const train_form *t) { return t->lr_found > 0 ? t->lr_found : LRS[t->lr]; }
int train_form_epochs(const train_form *t) { return EPOCHS[t->epochs]; }

void train_form_plan(const train_form *t, char *buf, size_t len) {
    int head = EPOCHS[t->epochs] / 2 > 0 ? EPOCHS[t->epochs] / 2 : 1;   // the head alone for half (at least one)
    if (t->plan)
        snprintf(buf, len, "head:%d,%s", head, PLANS[t->plan]);
    else if (len)
        buf[0] = '\0';
}

void train_form_publish(const train_form *t, run_state *rs) {
    rs->batch = BATCHES[t->batch];
    rs->size = SIZES[t->size];
    rs->opt = t->opt ? FT_OPT_SGD : FT_OPT_ADAM;
    // auto: what it picks here, fp32 until that is known
    int p = PRECISIONS[t->precision];
    rs->precision = p != TRAINER_PRECISION_AUTO ? (ft_precision)p
                    : rs->precision_pick >= 0   ? (ft_precision)rs->precision_pick
                                                : FT_PRECISION_FP32;
}

void train_form_init(train_form *t, int weights, int cpu) {
    memset(t, 0, sizeof *t);
    t->epochs = 3;   // 5, the tutorial's
    t->batch = 2;    // 16
    t->lr = 0;       // 1e-5, the tutorial's
    t->size = 3;     // 224
    t->device = cpu != 0;
    t->weights = weights != 0;   // ImageNet's, as the tutorial (pretrained=True), unless set to none
}

// One row per field, in the order shown. Each field's index (into its choices) lives where slot says
// (the architecture and BatchNorm are the run_state's, shared with the Model screen), text says its
// value, and Left/Right cycle the index through its n choices (step, when set, does instead).
typedef struct {
    const char *name;
    int n;
    int *(*slot)(train_form *t, run_state *rs);
    void (*text)(const train_form *t, const run_state *rs, char *buf, size_t len);
    void (*step)(train_form *t, run_state *rs, int dir);   // NULL: the index cycles
} form_field;

#define SLOT(member)                                          \
    static int *slot_##member(train_form *t, run_state *rs) { \
        (void)rs;                                             \
        return &t->member;                                    \
    }
SLOT(epochs)
SLOT(batch)
SLOT(lr)
SLOT(opt)
SLOT(size)
SLOT(cache)
SLOT(device)
SLOT(weights)
SLOT(norm)
SLOT(plan)
SLOT(schedule)
SLOT(block_lr)
SLOT(class_w)
SLOT(precision)
#undef SLOT
static int *slot_bn(train_form *t, run_state *rs) {
    (void)t;
    return &rs->bn_train;
}

static void text_arch(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)t;
    snprintf(buf, len, "%s", ft_arch_name(rs->arch_index));
}
static void text_epochs(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)rs;
    snprintf(buf, len, "%d", EPOCHS[t->epochs]);
}
static void text_batch(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)rs;
    snprintf(buf, len, "%d", BATCHES[t->batch]);
}
static void text_lr(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)rs;
    if (t->lr_found > 0)
        snprintf(buf, len, _("%.2g   (the lr finder's suggestion; Left/Right: the list)"), t->lr_found);
    else
        snprintf(buf, len, "%g", LRS[t->lr]);
}
static void text_opt(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)rs;
    snprintf(buf, len, "%s", t->opt ? _("sgd (momentum 0.9)") : "adam");
}
static void text_size(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)rs;
    snprintf(buf, len, "%dx%d", SIZES[t->size], SIZES[t->size]);
}
static void text_bn(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)t;
    snprintf(buf, len, "%s",
             rs->bn_train ? _("train  (the tutorial's: batch statistics; running ones drift)")
                          : _("eval   (frozen BatchNorm keeps its running statistics)"));
}
static void text_cache(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)rs;
    snprintf(buf, len, "%s", t->cache ? _("off") : _("auto   (backbone computed once per image when exact)"));
}
static void text_device(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)rs;
    snprintf(buf, len, "%s", t->device ? "cpu" : _("auto (CUDA when there is a GPU)"));
}
static void text_weights(const train_form *t, const run_state *rs, char *buf, size_t len) {
    const weights_entry *e = weights_table_find(ft_arch_name(rs->arch_index), NULL);
    char cached[4096];
    if (!t->weights)
        snprintf(buf, len, "%s", _("none   (random, as torchvision builds it)"));
    else if (!e)
        snprintf(buf, len, _("ImageNet: none known for %s"), ft_arch_name(rs->arch_index));
    else
        snprintf(buf, len, _("ImageNet  %s (%s)"), e->file,
                 fetch_find_cached(e, cached, sizeof cached) == 1 ? _("cached") : _("downloaded when training starts"));
}
static void text_norm(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)rs;
    snprintf(buf, len, "%s",
             t->norm == 1   ? _("0.5    (the tutorial's mean and std)")
             : t->norm == 2 ? _("ImageNet's mean and std")
                            : _("follows the weights: ImageNet's with ImageNet weights, else 0.5"));
}
static void text_plan(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)rs;
    if (t->plan && EPOCHS[t->epochs] < 2)
        snprintf(buf, len, "%s", _("staged: needs 2 epochs or more (the epochs field above)"));
    else
        snprintf(buf, len, "%s", _(PLAN_NAMES[t->plan]));
}
static void text_schedule(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)rs;
    snprintf(buf, len, "%s", _(SCHEDULE_NAMES[t->schedule]));
}
static void text_block_lr(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)rs;
    snprintf(buf, len, "%s", _(BLOCK_LR_NAMES[t->block_lr]));
}
static void text_class_w(const train_form *t, const run_state *rs, char *buf, size_t len) {
    (void)rs;
    snprintf(buf, len, "%s",
             t->class_w ? _("auto   (inverse frequency: each class weighs as if balanced)")
                        : _("none   (the tutorial's)"));
}
static void text_precision(const train_form *t, const run_state *rs, char *buf, size_t len) {
    // only the feature cache runs the backbone apart: say so before the run does
    int uncached = t->cache || rs->bn_train || t->plan;
    if (t->precision && uncached)
        snprintf(buf, len, _("%.4s   (needs the feature cache: cache auto, BatchNorm eval, no unfreezing)"),
                 PRECISION_NAMES[t->precision]);   // (its English code: fp32, fast, bf16, auto)
    else if (rs->precision_said[0] && PRECISIONS[t->precision] == TRAINER_PRECISION_AUTO)
        snprintf(buf, len, _("auto   picks here %s"), rs->precision_said);
    else if (rs->precision_said[0])   // auto's suggestion beside the field, whatever it is set to
        snprintf(buf, len, _("%s   auto here: %s"), _(PRECISION_NAMES[t->precision]), rs->precision_said);
    else
        snprintf(buf, len, "%s", _(PRECISION_NAMES[t->precision]));
}

static void step_arch(train_form *t, run_state *rs, int dir) {
    (void)t;
    rs->arch_index = (rs->arch_index + (size_t)(dir > 0 ? 1 : ft_arch_count() - 1)) % ft_arch_count();
}
static void step_lr(train_form *t, run_state *rs, int dir) {
    (void)rs;
    if (t->lr_found > 0)   // back to the list, at the entry nearest the suggestion
        t->lr_found = 0;
    else
        t->lr = (t->lr + dir + COUNT(LRS)) % COUNT(LRS);
}

static const form_field FIELDS[] = {
    {N_("architecture"), 0, NULL, text_arch, step_arch},
    {N_("epochs"), COUNT(EPOCHS), slot_epochs, text_epochs, NULL},
    {N_("batch"), COUNT(BATCHES), slot_batch, text_batch, NULL},
    {N_("learning rate"), COUNT(LRS), slot_lr, text_lr, step_lr},
    {N_("optimizer"), 2, slot_opt, text_opt, NULL},
    {N_("input size"), COUNT(SIZES), slot_size, text_size, NULL},
    {N_("BatchNorm"), 2, slot_bn, text_bn, NULL},
    {N_("feature cache"), 2, slot_cache, text_cache, NULL},
    {N_("device"), 2, slot_device, text_device, NULL},
    {N_("weights"), 2, slot_weights, text_weights, NULL},
    {N_("normalise"), 3, slot_norm, text_norm, NULL},
    {N_("unfreezing"), COUNT(PLANS), slot_plan, text_plan, NULL},
    {N_("schedule"), COUNT(SCHEDULES), slot_schedule, text_schedule, NULL},
    {N_("block lrs"), COUNT(BLOCK_LRS), slot_block_lr, text_block_lr, NULL},
    {N_("class weights"), COUNT(CLASS_WS), slot_class_w, text_class_w, NULL},
    {N_("precision"), COUNT(PRECISIONS), slot_precision, text_precision, NULL},
};
#define N_FIELDS COUNT(FIELDS)

int train_form_count(void) { return N_FIELDS; }
const char *train_form_name(int f) { return f >= 0 && f < N_FIELDS ? _(FIELDS[f].name) : ""; }

void train_form_text(const train_form *t, const run_state *rs, int f, char *buf, size_t len) {
    if (f >= 0 && f < N_FIELDS)
        FIELDS[f].text(t, rs, buf, len);
    else if (len)
        buf[0] = '\0';
}

void train_form_change(train_form *t, run_state *rs, int f, int dir) {
    if (f < 0 || f >= N_FIELDS) return;
    const form_field *fd = &FIELDS[f];
    if (fd->step) {
        fd->step(t, rs, dir);
    } else {
        int *x = fd->slot(t, rs);
        *x = (*x + dir + fd->n) % fd->n;
    }
    train_form_publish(t, rs);
}

transform_norm train_form_norm(const train_form *t, int pretrained) {
    return t->norm == 1   ? TRANSFORM_NORM_SEED
           : t->norm == 2 ? TRANSFORM_NORM_IMAGENET
                          : transform_norm_default(pretrained);
}

void train_form_config(const train_form *t, const run_state *rs, const char *trainable, const char *weights, char *plan,
                       size_t plan_len, trainer_config *out) {
    trainer_config c;
    trainer_config_default(&c);
    snprintf(c.arch, sizeof c.arch, "%s", ft_arch_name(rs->arch_index));
    c.epochs = EPOCHS[t->epochs];
    c.batch_size = BATCHES[t->batch];
    c.opt.lr = train_form_lr(t);
    c.opt.kind = t->opt ? FT_OPT_SGD : FT_OPT_ADAM;
    c.prep.tf.size = SIZES[t->size];
    c.bn_eval = !rs->bn_train;
    c.cache = t->cache ? 0 : -1;
    snprintf(c.device, sizeof c.device, "%s", t->device ? "cpu" : "auto");
    c.trainable = trainable && trainable[0] ? trainable : NULL;
    c.weights = weights;
    transform_params_set_norm(&c.prep.tf, train_form_norm(t, weights != NULL));
    train_form_plan(t, plan, plan_len);
    if (plan[0]) {   // the plan says what trains in each stage
        c.plan = plan;
        c.trainable = NULL;
    }
    c.schedule = SCHEDULES[t->schedule];
    c.block_lr = BLOCK_LRS[t->block_lr];
    c.class_weights = CLASS_WS[t->class_w];
    c.precision = PRECISIONS[t->precision];
    *out = c;
}

// The index of the choice nearest to want; what the form cannot hold exactly is added to missed.
static int nearest(const int *choices, int n, int want, const char *name, char *missed, size_t len) {
    int best = 0;
    for (int k = 1; k < n; k++)
        if (abs(choices[k] - want) < abs(choices[best] - want)) best = k;
    if (choices[best] != want)
        snprintf(missed + strlen(missed), len - strlen(missed), "%s%s %d", missed[0] ? ", " : "", name, want);
    return best;
}

// The index of text among choices (NULL matches NULL or ""), else 0 with name added to missed.
static int choice(const char *const *choices, int n, const char *text, const char *name, char *missed, size_t len) {
    for (int k = 0; k < n; k++)
        if ((!choices[k] && (!text || !*text)) || (choices[k] && text && strcmp(choices[k], text) == 0)) return k;
    snprintf(missed + strlen(missed), len - strlen(missed), "%s%s %.60s", missed[0] ? ", " : "", name, text);
    return 0;
}

void train_form_take(train_form *t, run_state *rs, const trainer_config *c, char *missed, size_t len) {
    if (len) missed[0] = '\0';
    for (size_t i = 0; i < ft_arch_count(); i++)
        if (strcmp(ft_arch_name(i), c->arch) == 0) rs->arch_index = i;
    t->epochs = nearest(EPOCHS, COUNT(EPOCHS), c->epochs, "epochs", missed, len);
    t->batch = nearest(BATCHES, COUNT(BATCHES), c->batch_size, "batch", missed, len);
    t->size = nearest(SIZES, COUNT(SIZES), c->prep.tf.size, "size", missed, len);
    t->lr_found = c->opt.lr;   // the list's entry when it is one, else kept as the finder's would be
    for (int k = 0; k < COUNT(LRS); k++)
        if (LRS[k] == c->opt.lr) t->lr = k, t->lr_found = 0;
    t->opt = c->opt.kind == FT_OPT_SGD;
    rs->bn_train = !c->bn_eval;
    t->cache = c->cache == 0;
    t->device = strcmp(c->device, "cpu") == 0;
    t->weights = c->weights != NULL;
    t->norm = fabsf(c->prep.tf.mean[0] - 0.485f) < 1e-3f ? 2 : 1;
    snprintf(rs->trainable, sizeof rs->trainable, "%s", c->trainable ? c->trainable : "");
    rs->trainable_arch = rs->arch_index;
    // the form's plans are "head:HALF,WHAT": match WHAT
    const char *what = c->plan ? strrchr(c->plan, ',') : NULL;
    t->plan = choice(PLANS, COUNT(PLANS), what ? what + 1 : c->plan, "plan", missed, len);
    t->schedule = choice(SCHEDULES, COUNT(SCHEDULES), c->schedule, "schedule", missed, len);
    t->block_lr = choice(BLOCK_LRS, COUNT(BLOCK_LRS), c->block_lr, "block lrs", missed, len);
    t->class_w = choice(CLASS_WS, COUNT(CLASS_WS), c->class_weights, "class weights", missed, len);
    t->precision = 0;
    for (int k = 0; k < COUNT(PRECISIONS); k++)
        if ((int)PRECISIONS[k] == c->precision) t->precision = k;
    train_form_publish(t, rs);
}
