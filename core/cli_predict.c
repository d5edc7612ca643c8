// cli_predict.c — `frost predict CKPT IMAGE...|DIR`: a checkpoint's classes for images.
//
// The images go through the loader (worker threads, the checkpoint's own exact preprocessing,
// unreadable files skipped and listed), the model runs in eval mode, and the softmax and top-K are
// done here in double precision. A DIR whose sub-folders are named after the checkpoint's classes
// (or a dataset root whose valid/ split is) is scored instead: accuracy, per-class accuracy, a
// confusion matrix and the most confidently wrong images.
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "cli.h"
#include "dataset.h"
#include "loader.h"
#include "pipeline.h"

#define DEFAULT_TOP 5
#define DEFAULT_BATCH 16
#define WRONG_SHOWN 5
#define MATRIX_MAX_CLASSES 30
#define NAME_MAX_WIDTH 16

typedef struct {
    const char *ckpt;
    const char **inputs;
    size_t n_inputs;
    long top;          // 0: default
    long batch;
    int json;
} predict_args;

// The images to predict, with their true class index in the checkpoint (-1: unlabelled).
typedef struct {
    dataset_split split;   // items own their paths
    size_t cap;
    const char *label_dir; // the folder scored (labelled mode), NULL otherwise
} input_list;

typedef struct {
    size_t item;
    int truth, pred;
    double prob;
} wrong_pred;

// ---------------------------------------------------------------------------------------------
// printing names safely: control bytes become '?', padding counts characters, not bytes

static size_t utf8_width(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

// Writes s cut to at most max characters (max 0: whole), padded with spaces to width.
static void put_name(FILE *out, const char *s, size_t width, size_t max, int right) {
    char buf[256];
    size_t used = 0, chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && used + 4 < sizeof buf; p++) {
        if ((*p & 0xC0) != 0x80) {
            if (max && chars == max) break;
            chars++;
        }
        buf[used++] = (char)((*p < 0x20 || *p == 0x7f) ? '?' : *p);
    }
    buf[used] = '\0';
    size_t pad = width > chars ? width - chars : 0;
    if (right) fprintf(out, "%*s", (int)pad, "");
    fputs(buf, out);
    if (!right) fprintf(out, "%*s", (int)pad, "");
}

static void put_text(FILE *out, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) fputc((*p < 0x20 || *p == 0x7f) ? '?' : *p, out);
}

// A JSON string for text that may not be UTF-8 (file names are bytes): bytes that are not become '?'.
static json_t *json_text(const char *s) {
    json_t *j = json_string(s);
    if (j) return j;
    char *copy = strdup(s);
    if (!copy) return json_null();
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80) *p = '?';
    j = json_string(copy);
    free(copy);
    return j ? j : json_null();
}

// ---------------------------------------------------------------------------------------------
// arguments

static int parse_args(int argc, char **argv, predict_args *a) {
    *a = (predict_args){.batch = DEFAULT_BATCH};
    a->inputs = calloc((size_t)argc, sizeof *a->inputs);
    if (!a->inputs) return cli_fail(CLI_FAILED, "out of memory");
    for (int i = 1; i < argc;) {
        int missing = 0;
        const char *v;
        if ((v = cli_option_value(argc, argv, &i, "--top", &missing)) || missing) {
            if (missing || cli_parse_long(v, 1, 1000000, &a->top) != 0)
                return cli_fail(CLI_USAGE, "predict: --top needs a whole number from 1 to 1000000, not '%s'",
                                missing ? "" : v);
        } else if ((v = cli_option_value(argc, argv, &i, "--batch", &missing)) || missing) {
            if (missing || cli_parse_long(v, 1, 4096, &a->batch) != 0)
                return cli_fail(CLI_USAGE, "predict: --batch needs a whole number from 1 to 4096, not '%s'",
                                missing ? "" : v);
        } else if (strcmp(argv[i], "--json") == 0) {
            a->json = 1;
            i++;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_fail(CLI_USAGE, "predict: unknown option '%s' (see frost help)", argv[i]);
        } else if (!a->ckpt) {
            a->ckpt = argv[i++];
        } else {
            a->inputs[a->n_inputs++] = argv[i++];
        }
    }
    if (!a->ckpt) return cli_fail(CLI_USAGE, "predict: which checkpoint? (frost predict CKPT IMAGE...|DIR)");
    if (a->n_inputs == 0)
        return cli_fail(CLI_USAGE, "predict: which images? (frost predict %s IMAGE...|DIR)", a->ckpt);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// collecting the images

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/') la--;
    char *p = malloc(la + lb + 2);
    if (p) {
        memcpy(p, a, la);
        p[la] = '/';
        memcpy(p + la + 1, b, lb + 1);
    }
    return p;
}

static int add_item(input_list *in, char *owned_path, int label) {
    if (!owned_path) return -1;
    if (in->split.n_items == in->cap) {
        size_t cap = in->cap ? 2 * in->cap : 64;
        dataset_item *grown = realloc(in->split.items, cap * sizeof *grown);
        if (!grown) {
            free(owned_path);
            return -1;
        }
        in->split.items = grown;
        in->cap = cap;
    }
    in->split.items[in->split.n_items++] = (dataset_item){owned_path, label};
    return 0;
}

static void input_list_free(input_list *in) {
    for (size_t i = 0; i < in->split.n_items; i++) free(in->split.items[i].path);
    free(in->split.items);
    free(in->split.dir);
}

static int cmp_item_path(const void *a, const void *b) {
    return strcmp(((const dataset_item *)a)->path, ((const dataset_item *)b)->path);
}

// Every image below dir (the scanner's extensions, no dot-names), depth-limited against link loops.
static int walk_images(input_list *in, const char *dir, int depth) {
    if (depth > 32) return 0;
    DIR *dp = opendir(dir);
    if (!dp) {
        cli_fail(0, "skipped %s: %s", dir, strerror(errno));
        return 0;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(dp))) {
        if (e->d_name[0] == '.') continue;
        char *p = join(dir, e->d_name);
        if (!p) {
            rc = -1;
        } else if (is_dir(p)) {
            rc = walk_images(in, p, depth + 1);
            free(p);
        } else if (dataset_has_image_extension(e->d_name)) {
            rc = add_item(in, p, -1);
        } else {
            free(p);
        }
    }
    closedir(dp);
    return rc;
}

static int class_index(const checkpoint_meta *meta, const char *name) {
    for (int64_t c = 0; c < meta->num_classes; c++)
        if (strcmp(meta->class_names[c], name) == 0) return (int)c;
    return -1;
}

// How many sub-folders of dir are named after a class.
static size_t class_folders(const char *dir, const checkpoint_meta *meta) {
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.' || class_index(meta, e->d_name) < 0) continue;
        char *p = join(dir, e->d_name);
        if (p && is_dir(p)) n++;
        free(p);
    }
    closedir(dp);
    return n;
}

// A labelled folder: class folders straight inside dir (as_root 0), or dir/train + dir/valid (as_root
// 1, the valid split is scored). Labels are the checkpoint's indices; unknown folders are skipped.
static int collect_labelled(input_list *in, const char *dir, int as_root, const checkpoint_meta *meta) {
    dataset d;
    dataset_opts o;
    dataset_opts_default(&o);
    o.valid_fraction = 0;
    o.lenient = 1;
    char err[1024];
    if (dataset_scan(&d, dir, &o, err, sizeof err) != 0) {
        dataset_free(&d);
        return cli_fail(CLI_FAILED, "%s", err);
    }
    const dataset_split *s = as_root ? &d.valid : &d.train;
    const char *from = s->dir ? s->dir : d.root;
    for (size_t i = 0; i < badfiles_count(&d.skipped); i++) {
        char path[4096], reason[512];
        if (badfiles_get(&d.skipped, i, path, sizeof path, reason, sizeof reason) == 0)
            cli_fail(0, "skipped %s: %s", path, reason);
    }
    int *map = calloc(d.n_classes ? d.n_classes : 1, sizeof *map);
    int rc = map ? 0 : cli_fail(CLI_FAILED, "out of memory");
    for (size_t c = 0; rc == 0 && c < d.n_classes; c++) {
        map[c] = class_index(meta, d.classes[c]);
        if (map[c] < 0) cli_fail(0, "skipped folder %s/%s: not a class of this checkpoint", from, d.classes[c]);
    }
    for (size_t i = 0; rc == 0 && i < s->n_items; i++) {
        if (map[s->items[i].label] < 0) continue;
        if (add_item(in, strdup(s->items[i].path), map[s->items[i].label]) != 0) rc = cli_fail(CLI_FAILED, "out of memory");
    }
    if (rc == 0 && !(in->split.dir = strdup(from))) rc = cli_fail(CLI_FAILED, "out of memory");
    in->label_dir = in->split.dir;
    free(map);
    dataset_free(&d);
    return rc;
}

static int collect_inputs(const predict_args *a, const checkpoint_meta *meta, input_list *in) {
    memset(in, 0, sizeof *in);
    in->split.name = "predict";
    if (a->n_inputs == 1 && is_dir(a->inputs[0])) {
        const char *dir = a->inputs[0];
        if (class_folders(dir, meta) > 0) return collect_labelled(in, dir, 0, meta);
        char *train = join(dir, "train"), *valid = join(dir, "valid"), *val = join(dir, "val");
        int root = train && is_dir(train) &&
                   ((valid && is_dir(valid) && class_folders(valid, meta) > 0) ||
                    (val && is_dir(val) && class_folders(val, meta) > 0));
        free(train), free(valid), free(val);
        if (root) return collect_labelled(in, dir, 1, meta);
    }
    for (size_t i = 0; i < a->n_inputs; i++) {
        const char *p = a->inputs[i];
        struct stat st;
        size_t before = in->split.n_items;
        if (stat(p, &st) != 0) {
            cli_fail(0, "skipped %s: %s", p, strerror(errno));
            continue;
        }
        int rc = S_ISDIR(st.st_mode) ? walk_images(in, p, 0) : add_item(in, strdup(p), -1);
        if (rc != 0) return cli_fail(CLI_FAILED, "out of memory");
        if (S_ISDIR(st.st_mode)) {
            if (in->split.n_items == before) cli_fail(0, "skipped %s: no image in it (looked for %s)", p, DATASET_EXTENSIONS);
            qsort(in->split.items + before, in->split.n_items - before, sizeof *in->split.items, cmp_item_path);
        }
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// softmax and top-K

typedef struct {
    double prob;
    int index;
} ranked;

// Numerically stable: the largest logit is subtracted before exp.
static void softmax(const float *logits, int64_t n, double *probs) {
    double max = logits[0], sum = 0;
    for (int64_t i = 1; i < n; i++)
        if (logits[i] > max) max = logits[i];
    for (int64_t i = 0; i < n; i++) sum += probs[i] = exp((double)logits[i] - max);
    for (int64_t i = 0; i < n; i++) probs[i] /= sum;
}

static int cmp_ranked(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->prob != y->prob) return x->prob > y->prob ? -1 : 1;
    return x->index - y->index;
}

static void rank(const double *probs, int64_t n, ranked *out) {
    for (int64_t i = 0; i < n; i++) out[i] = (ranked){probs[i], (int)i};
    qsort(out, (size_t)n, sizeof *out, cmp_ranked);
}

// ---------------------------------------------------------------------------------------------
// output

static void print_prediction(const char *path, const ranked *r, long top, int truth, const checkpoint_meta *meta,
                             int json) {
    if (json) {
        json_t *o = json_object(), *list = json_array();
        json_object_set_new(o, "path", json_text(path));
        for (long k = 0; k < top; k++) {
            json_t *e = json_object();
            json_object_set_new(e, "class", json_string(meta->class_names[r[k].index]));
            json_object_set_new(e, "index", json_integer(r[k].index));
            json_object_set_new(e, "prob", json_real(r[k].prob));
            json_array_append_new(list, e);
        }
        json_object_set_new(o, "top", list);
        if (truth >= 0) {
            json_object_set_new(o, "label", json_string(meta->class_names[truth]));
            json_object_set_new(o, "label_index", json_integer(truth));
            json_object_set_new(o, "correct", json_boolean(r[0].index == truth));
        }
        char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
        if (s) puts(s);
        free(s);
        json_decref(o);
        return;
    }
    put_text(stdout, path);
    fputs(":", stdout);
    for (long k = 0; k < top; k++) {
        fputs(k ? ", " : " ", stdout);
        put_text(stdout, meta->class_names[r[k].index]);
        printf(" %.2f%%", 100.0 * r[k].prob);
    }
    fputc('\n', stdout);
}

typedef struct {
    int64_t classes;
    long long *confusion;   // classes x classes, rows true
    size_t images, correct;
    wrong_pred wrong[WRONG_SHOWN];
    size_t n_wrong;
} score;

static void score_add(score *s, size_t item, int truth, const ranked *r) {
    int pred = r[0].index;
    s->confusion[(size_t)truth * (size_t)s->classes + (size_t)pred]++;
    s->images++;
    if (pred == truth) {
        s->correct++;
        return;
    }
    // keep the WRONG_SHOWN most confident mistakes, most confident first
    wrong_pred w = {item, truth, pred, r[0].prob};
    size_t at = s->n_wrong;
    while (at > 0 && s->wrong[at - 1].prob < w.prob) at--;
    if (at >= WRONG_SHOWN) return;
    size_t last = s->n_wrong < WRONG_SHOWN ? s->n_wrong : WRONG_SHOWN - 1;
    memmove(&s->wrong[at + 1], &s->wrong[at], (last - at) * sizeof *s->wrong);
    s->wrong[at] = w;
    if (s->n_wrong < WRONG_SHOWN) s->n_wrong++;
}

static long long row_sum(const score *s, int64_t c) {
    long long n = 0;
    for (int64_t p = 0; p < s->classes; p++) n += s->confusion[c * s->classes + p];
    return n;
}

static long long col_sum(const score *s, int64_t c) {
    long long n = 0;
    for (int64_t t = 0; t < s->classes; t++) n += s->confusion[t * s->classes + c];
    return n;
}

static void print_score_json(const score *s, const checkpoint_meta *meta, const char *dir) {
    json_t *o = json_object(), *names = json_array(), *matrix = json_array();
    for (int64_t c = 0; c < s->classes; c++) {
        json_array_append_new(names, json_string(meta->class_names[c]));
        json_t *row = json_array();
        for (int64_t p = 0; p < s->classes; p++) json_array_append_new(row, json_integer(s->confusion[c * s->classes + p]));
        json_array_append_new(matrix, row);
    }
    json_object_set_new(o, "folder", json_text(dir));
    json_object_set_new(o, "images", json_integer((json_int_t)s->images));
    json_object_set_new(o, "correct", json_integer((json_int_t)s->correct));
    json_object_set_new(o, "accuracy", json_real(s->images ? (double)s->correct / (double)s->images : 0));
    json_object_set_new(o, "classes", names);
    json_object_set_new(o, "confusion", matrix);
    json_t *wrap = json_object();
    json_object_set_new(wrap, "summary", o);
    char *text = json_dumps(wrap, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (text) puts(text);
    free(text);
    json_decref(wrap);
}

static void print_score(const score *s, const checkpoint_meta *meta, const input_list *in) {
    printf("%s: accuracy %.2f%% (%zu of %zu images)\n", in->label_dir,
           s->images ? 100.0 * (double)s->correct / (double)s->images : 0.0, s->correct, s->images);

    // the classes that occur, as truth or as prediction
    int64_t C = s->classes;
    int *shown = calloc((size_t)C, sizeof *shown);
    size_t n_shown = 0, width = 5;
    if (!shown) return;
    for (int64_t c = 0; c < C; c++)
        if (row_sum(s, c) || col_sum(s, c)) {
            shown[n_shown++] = (int)c;
            size_t w = utf8_width(meta->class_names[c]);
            if (w > width) width = w > NAME_MAX_WIDTH ? NAME_MAX_WIDTH : w;
        }

    printf("\nper class:\n");
    for (size_t k = 0; k < n_shown; k++) {
        int c = shown[k];
        long long n = row_sum(s, c), ok = s->confusion[(size_t)c * (size_t)C + (size_t)c];
        if (n == 0) continue;
        fputs("  ", stdout);
        put_name(stdout, meta->class_names[c], width, NAME_MAX_WIDTH, 0);
        printf("  %6.2f%%  (%lld of %lld)\n", 100.0 * (double)ok / (double)n, ok, n);
    }

    if (n_shown > MATRIX_MAX_CLASSES) {
        printf("\nconfusion matrix: %zu classes are too many to show here (--json has it)\n", n_shown);
    } else {
        // each column as wide as its (cut) name or the largest count, whichever is wider
        char digits[32];
        size_t dw = (size_t)snprintf(digits, sizeof digits, "%zu", s->images);
        size_t *cell = malloc(n_shown * sizeof *cell);
        if (!cell) {
            free(shown);
            return;
        }
        for (size_t k = 0; k < n_shown; k++) {
            size_t w = utf8_width(meta->class_names[shown[k]]);
            cell[k] = w > NAME_MAX_WIDTH ? NAME_MAX_WIDTH : w;
            if (dw > cell[k]) cell[k] = dw;
        }
        printf("\nconfusion matrix (rows: true class, columns: predicted):\n");
        printf("  %*s", (int)width, "");
        for (size_t k = 0; k < n_shown; k++) {
            fputs("  ", stdout);
            put_name(stdout, meta->class_names[shown[k]], cell[k], NAME_MAX_WIDTH, 1);
        }
        fputc('\n', stdout);
        for (size_t t = 0; t < n_shown; t++) {
            fputs("  ", stdout);
            put_name(stdout, meta->class_names[shown[t]], width, NAME_MAX_WIDTH, 0);
            for (size_t p = 0; p < n_shown; p++)
                printf("  %*lld", (int)cell[p], s->confusion[(size_t)shown[t] * (size_t)C + (size_t)shown[p]]);
            fputc('\n', stdout);
        }
        free(cell);
    }
    free(shown);

    if (s->n_wrong) {
        printf("\nmost confidently wrong:\n");
        for (size_t k = 0; k < s->n_wrong; k++) {
            const wrong_pred *w = &s->wrong[k];
            fputs("  ", stdout);
            put_text(stdout, in->split.items[w->item].path);
            fputs(": true ", stdout);
            put_text(stdout, meta->class_names[w->truth]);
            fputs(", predicted ", stdout);
            put_text(stdout, meta->class_names[w->pred]);
            printf(" %.2f%%\n", 100.0 * w->prob);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// the run

typedef struct {
    ft_model *model;
    checkpoint_meta meta;
    input_list in;
    pipeline_opts popts;
    badfile_list bad;
    loader *l;
    float *logits;
    double *probs;
    ranked *ranks;
    score sc;
} predict_run;

static void run_free(predict_run *r) {
    loader_free(r->l);
    badfiles_free(&r->bad);
    input_list_free(&r->in);
    ft_model_free(r->model);
    checkpoint_meta_free(&r->meta);
    free(r->logits);
    free(r->probs);
    free(r->ranks);
    free(r->sc.confusion);
}

// Runs every batch; returns 0 or an exit code. *predicted counts the images done.
static int run_batches(predict_run *r, const predict_args *a, long top, size_t *predicted) {
    const int64_t C = r->meta.num_classes, S = r->meta.tf.size;
    char err[1024];
    if (loader_start_epoch(r->l, 0, err, sizeof err) != 0) return cli_fail(CLI_FAILED, "%s", err);
    for (;;) {
        loader_batch *b = NULL;
        int got = loader_next(r->l, &b, err, sizeof err);
        if (got == 0) break;
        if (got < 0) {
            // every file unreadable: reported below as skipped files, then "nothing predicted"
            if (badfiles_count(&r->bad) == r->in.split.n_items) break;
            return cli_fail(CLI_FAILED, "%s", err);
        }
        ft_status *s = ft_model_forward(r->model, b->data, b->n, 3, S, S, r->logits, (size_t)a->batch * (size_t)C);
        if (s) {
            int rc = cli_fail(CLI_FAILED, "%s: %s", a->ckpt, ft_status_message(s));
            ft_status_free(s);
            loader_release(r->l, b);
            return rc;
        }
        for (int k = 0; k < b->n; k++) {
            size_t item = b->items[k];
            int truth = r->in.split.items[item].label;
            softmax(r->logits + (size_t)k * (size_t)C, C, r->probs);
            rank(r->probs, C, r->ranks);
            if (truth >= 0) score_add(&r->sc, item, truth, r->ranks);
            if (a->json || truth < 0) print_prediction(r->in.split.items[item].path, r->ranks, top, truth, &r->meta, a->json);
            (*predicted)++;
        }
        loader_release(r->l, b);
    }
    return 0;
}

int cmd_predict(int argc, char **argv) {
    predict_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        free(a.inputs);
        return rc;
    }
    predict_run r;
    memset(&r, 0, sizeof r);
    badfiles_init(&r.bad);
    char err[1024];
    if (checkpoint_load(a.ckpt, &r.model, &r.meta, err, sizeof err) != 0) {
        badfiles_free(&r.bad);
        free(a.inputs);
        return cli_fail(CLI_FAILED, "%s", err);
    }
    const int64_t C = r.meta.num_classes;
    long top = a.top ? a.top : DEFAULT_TOP;
    if (top > C) top = (long)C;

    rc = collect_inputs(&a, &r.meta, &r.in);
    pipeline_opts_default(&r.popts);
    r.popts.tf = r.meta.tf;   // the checkpoint's preprocessing, exact
    loader_source src = pipeline_source(&r.popts);
    if (rc == 0 && r.in.split.n_items > 0) {
        loader_opts lo;
        loader_opts_default(&lo);
        lo.batch_size = (int)a.batch;
        lo.shuffle = 0;
        lo.sample_floats = pipeline_sample_floats(&r.popts);
        if (lo.workers == 0) lo.workers = loader_default_workers();
        if ((size_t)lo.workers > r.in.split.n_items) lo.workers = (int)r.in.split.n_items;
        r.logits = malloc((size_t)a.batch * (size_t)C * sizeof *r.logits);
        r.probs = malloc((size_t)C * sizeof *r.probs);
        r.ranks = malloc((size_t)C * sizeof *r.ranks);
        r.sc.classes = C;
        r.sc.confusion = calloc((size_t)C * (size_t)C, sizeof *r.sc.confusion);
        if (!r.logits || !r.probs || !r.ranks || !r.sc.confusion) rc = cli_fail(CLI_FAILED, "out of memory");
        if (rc == 0 && !(r.l = loader_new(&r.in.split, &lo, &src, &r.bad, err, sizeof err)))
            rc = cli_fail(CLI_FAILED, "%s", err);
    }
    size_t predicted = 0;
    if (rc == 0 && r.l) rc = run_batches(&r, &a, top, &predicted);
    if (r.l) loader_stop(r.l);
    for (size_t i = 0; i < badfiles_count(&r.bad); i++) {
        char path[4096], reason[512];
        if (badfiles_get(&r.bad, i, path, sizeof path, reason, sizeof reason) == 0)
            cli_fail(0, "skipped %s: %s", path, reason);
    }
    if (rc == 0 && r.in.label_dir && r.sc.images > 0) {
        if (a.json)
            print_score_json(&r.sc, &r.meta, r.in.label_dir);
        else
            print_score(&r.sc, &r.meta, &r.in);
    }
    if (rc == 0 && predicted == 0) rc = cli_fail(CLI_FAILED, "predict: no image could be predicted");
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) rc = cli_fail(CLI_FAILED, "could not write the output");
    run_free(&r);
    free(a.inputs);
    return rc;
}
