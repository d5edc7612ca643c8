// predict.c — `frost predict CKPT IMAGE...|DIR`: a checkpoint's classes for images.
//
// The images go through core/interpret/predict (the loader's worker threads, the checkpoint's own exact
// preprocessing, unreadable files skipped and listed; the model in eval mode; softmax and ranking in
// double precision); this file collects the inputs and prints. A DIR whose sub-folders are named after the checkpoint's classes
// (or a dataset root whose valid/ split is) is scored instead: accuracy, per-class accuracy, a
// confusion matrix and the most confidently wrong images. --cam OUT.png explains one image: Grad-CAM
// (core/interpret/gradcam) at a layer, for the top class or one asked for, drawn over the photo into a PNG; with
// --json the raw map rides on the image's line.
//
// An image that cannot be predicted (missing, unreadable, not an image, a folder holding none) is
// skipped: said on stderr and, with --json, given a line of its own ({"path":...,"error":...}), so a
// program reading the lines loses no input without a word; the others are predicted, and the exit
// status is then CLI_PARTIAL (all failed: CLI_FAILED).
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "checkpoint.h"
#include "cli.h"
#include "dataset.h"
#include "folder_walk.h"
#include "gradcam.h"
#include "i18n.h"
#include "path.h"
#include "predict.h"
#include "text_wrap.h"

#define DEFAULT_TOP 5
#define DEFAULT_BATCH 16
#define WRONG_SHOWN 5
#define MOST_CONFUSED 10   // pairs of classes listed
#define MATRIX_MAX_CLASSES 30
#define NAME_MAX_WIDTH 16

typedef struct {
    const char *ckpt;
    const char **inputs;
    size_t n_inputs;
    const char **args;   // owns the array inputs points into
    long top;            // 0: default
    long batch;
    int json;
    const char *cam;         // --cam OUT.png
    const char *cam_class;   // --cam-class NAME|INDEX (NULL: the top class)
    const char *cam_layer;   // --cam-layer PATH (NULL: the model's default)
} predict_args;

// The images to predict, with their true class index in the checkpoint (-1: unlabelled).
typedef struct {
    dataset_split split;   // items own their paths
    size_t cap;
    const char *label_dir;   // the folder scored (labelled mode), NULL otherwise
} input_list;

// ---------------------------------------------------------------------------------------------
// printing names safely: escaped (cli_safe), padding counts columns, not bytes

static size_t utf8_width(const char *s) { return (size_t)text_columns(s, strlen(s)); }

// Writes s (escaped) cut to at most max columns (max 0: whole), padded with spaces to width.
static void put_name(FILE *out, const char *s, size_t width, size_t max, int right) {
    const char *safe = cli_safe(s);
    int cols;
    size_t used = text_fit(safe, max ? (int)max : INT_MAX, &cols);
    size_t pad = width > (size_t)cols ? width - (size_t)cols : 0;
    if (right) fprintf(out, "%*s", (int)pad, "");
    fprintf(out, "%.*s", (int)used, safe);
    if (!right) fprintf(out, "%*s", (int)pad, "");
}

static void put_text(FILE *out, const char *s) { fputs(cli_safe(s), out); }

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

static const cli_option options[] = {
    CLI_OPT("--top", OPT_LONG, .offset = offsetof(predict_args, top), .lo = 1, .hi = 1000000,
            .error = N_("--top needs a whole number from 1 to 1000000, not '%s'"), .arg = "K",
            .help = N_("the K most probable classes per image"), .def = "5"),
    CLI_OPT("--batch", OPT_LONG, .offset = offsetof(predict_args, batch), .lo = 1, .hi = 4096,
            .error = N_("--batch needs a whole number from 1 to 4096, not '%s'"), .arg = "N",
            .help = N_("images per forward pass"), .def = "16"),
    CLI_OPT("--json", OPT_FLAG, .offset = offsetof(predict_args, json),
            .help = N_("one JSON line per image (and a summary)")),
    CLI_OPT("--cam", OPT_STRING, .offset = offsetof(predict_args, cam), .nonempty = 1, .arg = "OUT.png", .def = "none",
            .help =
                N_("for one image: where it looked (Grad-CAM) drawn over the photo into OUT.png; with --json the raw "
                   "map too")),
    CLI_OPT("--cam-class", OPT_STRING, .offset = offsetof(predict_args, cam_class), .nonempty = 1, .arg = "NAME|INDEX",
            .help = N_("the class --cam explains"), .def = N_("the top class")),
    CLI_OPT("--cam-layer", OPT_STRING, .offset = offsetof(predict_args, cam_layer), .nonempty = 1, .arg = "PATH",
            .help = N_("the module --cam looks at"), .def = N_("ResNet's layer4, VGG's last convolution")),
    CLI_OPT_END,
};

static int parse_args(int argc, char **argv, predict_args *a) {
    *a = (predict_args){.batch = DEFAULT_BATCH};
    const char **args = calloc((size_t)argc, sizeof *args);
    if (!args) return cli_fail(CLI_FAILED, "out of memory");
    a->args = args;
    int n = 0;
    int rc = cli_parse("predict", options, argc, argv, a, -1, args, &n);
    if (rc) return rc;
    if (n == 0) return cli_fail(CLI_USAGE, "predict: which checkpoint? (frost predict CKPT IMAGE...|DIR)");
    a->ckpt = args[0];
    a->inputs = args + 1;
    a->n_inputs = (size_t)n - 1;
    if (a->n_inputs == 0) return cli_fail(CLI_USAGE, "predict: which images? (frost predict %s IMAGE...|DIR)", a->ckpt);
    if (!a->cam && (a->cam_class || a->cam_layer))
        return cli_fail(CLI_USAGE, "predict: %s goes with --cam OUT.png", a->cam_class ? "--cam-class" : "--cam-layer");
    if (a->cam && a->n_inputs != 1)
        return cli_fail(CLI_USAGE, "predict: --cam explains one image, not %zu (give one IMAGE)", a->n_inputs);
    if (a->cam && path_is_dir(a->inputs[0]))
        return cli_fail(CLI_USAGE, "predict: --cam explains one image, not a folder (%s)", a->inputs[0]);
    char err[1024];
    if (a->cam && atomic_file_check(a->cam, err, sizeof err) != 0)
        return cli_fail(CLI_FAILED, "predict: --cam: %s", err);   // before the model is read
    return 0;
}

// ---------------------------------------------------------------------------------------------
// collecting the images

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

// Every image below dir, found as the dataset scanner finds them (folder_walk); what cannot be
// followed goes to `skipped`.
static int walk_images(input_list *in, const char *dir, badfile_list *skipped) {
    folder_files files = {0};
    int rc = folder_walk_images(dir, skipped, &files);
    for (size_t i = 0; rc == 0 && i < files.n; i++) {
        rc = add_item(in, files.paths[i], -1);
        files.paths[i] = NULL;   // the list owns it now (or add_item freed it)
    }
    folder_files_free(&files);
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
        char *p = path_join(dir, e->d_name);
        if (p && path_is_dir(p)) n++;
        free(p);
    }
    closedir(dp);
    return n;
}

// A labelled folder: class folders straight inside dir (as_root 0), or dir/train + dir/valid (as_root
// 1, the valid split is scored). Labels are the checkpoint's indices; unknown folders are skipped.
static int collect_labelled(input_list *in, const char *dir, int as_root, const checkpoint_meta *meta,
                            badfile_list *skipped) {
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
    badfiles_add_all(skipped, &d.skipped);
    int *map = calloc(d.n_classes ? d.n_classes : 1, sizeof *map);
    int rc = map ? 0 : cli_fail(CLI_FAILED, "out of memory");
    for (size_t c = 0; rc == 0 && c < d.n_classes; c++) {
        map[c] = class_index(meta, d.classes[c]);
        if (map[c] < 0) cli_fail(0, "skipped folder %s/%s: not a class of this checkpoint", from, d.classes[c]);
    }
    for (size_t i = 0; rc == 0 && i < s->n_items; i++) {
        if (map[s->items[i].label] < 0) continue;
        if (add_item(in, strdup(s->items[i].path), map[s->items[i].label]) != 0)
            rc = cli_fail(CLI_FAILED, "out of memory");
    }
    if (rc == 0 && !(in->split.dir = strdup(from))) rc = cli_fail(CLI_FAILED, "out of memory");
    in->label_dir = in->split.dir;
    free(map);
    dataset_free(&d);
    return rc;
}

static int collect_inputs(const predict_args *a, const checkpoint_meta *meta, input_list *in, badfile_list *skipped) {
    memset(in, 0, sizeof *in);
    in->split.name = "predict";
    if (a->n_inputs == 1 && path_is_dir(a->inputs[0])) {
        const char *dir = a->inputs[0];
        if (class_folders(dir, meta) > 0) return collect_labelled(in, dir, 0, meta, skipped);
        char *train = path_join(dir, "train"), *valid = path_join(dir, "valid"), *val = path_join(dir, "val");
        int root = train && path_is_dir(train) &&
                   ((valid && path_is_dir(valid) && class_folders(valid, meta) > 0) ||
                    (val && path_is_dir(val) && class_folders(val, meta) > 0));
        free(train), free(valid), free(val);
        if (root) return collect_labelled(in, dir, 1, meta, skipped);
    }
    for (size_t i = 0; i < a->n_inputs; i++) {
        const char *p = a->inputs[i];
        struct stat st;
        size_t before = in->split.n_items;
        if (stat(p, &st) != 0) {
            badfiles_add(skipped, p, strerror(errno));
            continue;
        }
        int rc = S_ISDIR(st.st_mode) ? walk_images(in, p, skipped) : add_item(in, strdup(p), -1);
        if (rc != 0) return cli_fail(CLI_FAILED, "out of memory");
        if (S_ISDIR(st.st_mode)) {
            if (in->split.n_items == before)
                badfiles_add(skipped, p, "no image in it (looked for " FOLDER_WALK_EXTENSIONS ")");
            qsort(in->split.items + before, in->split.n_items - before, sizeof *in->split.items, cmp_item_path);
        }
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// output

// The cam's part of an image's JSON line: layer, class, the map's size and the map, row-major.
static json_t *cam_json(const gradcam_map *g, const checkpoint_meta *meta, const char *png) {
    json_t *o = json_object(), *map = json_array();
    json_object_set_new(o, "layer", json_string(g->layer));
    json_object_set_new(o, "class", json_string(meta->class_names[g->cls]));
    json_object_set_new(o, "index", json_integer(g->cls));
    json_object_set_new(o, "h", json_integer(g->h));
    json_object_set_new(o, "w", json_integer(g->w));
    for (int64_t k = 0; k < g->h * g->w; k++) json_array_append_new(map, json_real(g->map[k]));
    json_object_set_new(o, "map", map);
    json_object_set_new(o, "png", json_text(png));
    return o;
}

static void print_prediction(const char *path, const predict_image *r, long top, const checkpoint_meta *meta, int json,
                             const gradcam_map *cam, const char *png) {
    const int truth = r->truth;
    if (json) {
        json_t *o = json_object(), *list = json_array();
        json_object_set_new(o, "path", json_text(path));
        for (long k = 0; k < top; k++) {
            json_t *e = json_object();
            json_object_set_new(e, "class", json_string(meta->class_names[r->order[k]]));
            json_object_set_new(e, "index", json_integer(r->order[k]));
            json_object_set_new(e, "prob", json_real(r->probs[r->order[k]]));
            json_array_append_new(list, e);
        }
        json_object_set_new(o, "top", list);
        json_t *logits = json_array();   // the network's outputs, index order (what ONNX runtimes give)
        for (int64_t k = 0; k < meta->num_classes; k++) json_array_append_new(logits, json_real(r->logits[k]));
        json_object_set_new(o, "logits", logits);
        if (truth >= 0) {
            json_object_set_new(o, "label", json_string(meta->class_names[truth]));
            json_object_set_new(o, "label_index", json_integer(truth));
            json_object_set_new(o, "correct", json_boolean(r->order[0] == truth));
        }
        if (cam) json_object_set_new(o, "cam", cam_json(cam, meta, png));
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
        put_text(stdout, meta->class_names[r->order[k]]);
        printf(" %.2f%%", 100.0 * r->probs[r->order[k]]);
    }
    fputc('\n', stdout);
    if (cam) {
        fputs("  Grad-CAM for ", stdout);
        put_text(stdout, meta->class_names[cam->cls]);
        printf(" (class %lld) at %s (%lldx%lld): ", (long long)cam->cls, cli_safe(cam->layer), (long long)cam->h,
               (long long)cam->w);
        put_text(stdout, png);
        fputc('\n', stdout);
    }
}

// A skipped image's line in --json: its path and why.
static void print_failed_json(void *user, const char *path, const char *reason) {
    (void)user;
    json_t *o = json_object();
    json_object_set_new(o, "path", json_text(path));
    json_object_set_new(o, "error", json_text(reason));
    char *s = json_dumps(o, JSON_COMPACT);
    if (s) puts(s);
    free(s);
    json_decref(o);
}

static void print_score_json(const predict_score *s, const checkpoint_meta *meta, const char *dir) {
    json_t *o = json_object(), *names = json_array(), *matrix = json_array();
    for (int64_t c = 0; c < s->classes; c++) {
        json_array_append_new(names, json_string(meta->class_names[c]));
        json_t *row = json_array();
        for (int64_t p = 0; p < s->classes; p++)
            json_array_append_new(row, json_integer(s->confusion[c * s->classes + p]));
        json_array_append_new(matrix, row);
    }
    json_object_set_new(o, "folder", json_text(dir));
    json_object_set_new(o, "images", json_integer((json_int_t)s->images));
    json_object_set_new(o, "correct", json_integer((json_int_t)s->correct));
    json_object_set_new(o, "accuracy", json_real(s->images ? (double)s->correct / (double)s->images : 0));
    json_object_set_new(o, "classes", names);
    json_object_set_new(o, "confusion", matrix);
    json_t *per_class = json_array(), *confused = json_array();
    for (int64_t c = 0; c < s->classes; c++) {   // null for a class with no image
        long long n = predict_score_row(s, c);
        json_array_append_new(per_class,
                              n ? json_real((double)s->confusion[c * s->classes + c] / (double)n) : json_null());
    }
    json_object_set_new(o, "per_class_accuracy", per_class);
    predict_confused pairs[MOST_CONFUSED];
    size_t n_pairs = predict_most_confused(s, 1, pairs, MOST_CONFUSED);
    for (size_t k = 0; k < n_pairs; k++)
        json_array_append_new(confused,
                              json_pack("{s:s,s:s,s:I}", "true", meta->class_names[pairs[k].truth], "predicted",
                                        meta->class_names[pairs[k].pred], "count", (json_int_t)pairs[k].count));
    json_object_set_new(o, "most_confused", confused);
    json_t *wrap = json_object();
    json_object_set_new(wrap, "summary", o);
    char *text = json_dumps(wrap, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (text) puts(text);
    free(text);
    json_decref(wrap);
}

static void print_score(const predict_score *s, const checkpoint_meta *meta, const input_list *in) {
    printf("%s: accuracy %.2f%% (%zu of %zu images)\n", in->label_dir,
           s->images ? 100.0 * (double)s->correct / (double)s->images : 0.0, s->correct, s->images);

    // the classes that occur, as truth or as prediction
    int64_t C = s->classes;
    int *shown = calloc((size_t)C, sizeof *shown);
    size_t n_shown = 0, width = 5;
    if (!shown) return;
    for (int64_t c = 0; c < C; c++)
        if (predict_score_row(s, c) || predict_score_col(s, c)) {
            shown[n_shown++] = (int)c;
            size_t w = utf8_width(cli_safe(meta->class_names[c]));
            if (w > width) width = w > NAME_MAX_WIDTH ? NAME_MAX_WIDTH : w;
        }

    printf("\nper class:\n");
    for (size_t k = 0; k < n_shown; k++) {
        int c = shown[k];
        long long n = predict_score_row(s, c), ok = s->confusion[(size_t)c * (size_t)C + (size_t)c];
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
            size_t w = utf8_width(cli_safe(meta->class_names[shown[k]]));
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

    predict_confused pairs[MOST_CONFUSED];   // fastai's most_confused
    size_t n_pairs = predict_most_confused(s, 1, pairs, MOST_CONFUSED);
    if (n_pairs) {
        printf("\nmost confused (true -> predicted, images):\n");
        for (size_t k = 0; k < n_pairs; k++) {
            fputs("  ", stdout);
            put_text(stdout, meta->class_names[pairs[k].truth]);
            fputs(" -> ", stdout);
            put_text(stdout, meta->class_names[pairs[k].pred]);
            printf("  %lld\n", pairs[k].count);
        }
    }

    if (s->n_wrong) {
        printf("\nmost confidently wrong:\n");
        for (size_t k = 0; k < s->n_wrong; k++) {
            const predict_wrong *w = &s->wrong[k];
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
    predictor pred;
    badfile_list bad;
    predict_score sc;
    const predict_args *a;
    long top;
    size_t predicted;
    gradcam_map cam;   // --cam: the map (h 0 when not asked)
} predict_run;

static void run_free(predict_run *r) {
    badfiles_free(&r->bad);
    input_list_free(&r->in);
    predictor_free(&r->pred);
    ft_model_free(r->model);
    checkpoint_meta_free(&r->meta);
    predict_score_free(&r->sc);
    gradcam_map_free(&r->cam);
}

// Each image as it is predicted: scored when labelled, printed when unlabelled or with --json.
static void take_image(void *user, const predict_image *img) {
    predict_run *r = user;
    if (img->truth >= 0) predict_score_add(&r->sc, img);
    if (r->a->json || img->truth < 0)
        print_prediction(r->in.split.items[img->item].path, img, r->top, &r->meta, r->a->json,
                         r->cam.map ? &r->cam : NULL, r->a->cam);
    r->predicted++;
}

// --cam-class: a class name of the checkpoint, else an index; -1 when it is neither.
static int64_t cam_class_index(const char *s, const checkpoint_meta *meta) {
    int by_name = class_index(meta, s);
    if (by_name >= 0) return by_name;
    char *end;
    errno = 0;
    long long k = strtoll(s, &end, 10);
    if (errno || end == s || *end || k < 0 || k >= meta->num_classes || s[0] == '+' || s[0] == '-') return -1;
    return (int64_t)k;
}

// --cam: the map for the one image, drawn over the photo into the PNG, before anything is printed (a
// failure prints nothing on stdout and leaves no file).
static int explain(predict_run *r) {
    const predict_args *a = r->a;
    int64_t cls = -1;
    if (a->cam_class && (cls = cam_class_index(a->cam_class, &r->meta)) < 0)
        return cli_fail(CLI_USAGE, "predict: --cam-class %s is neither a class of %s nor an index from 0 to %lld",
                        a->cam_class, a->ckpt, (long long)r->meta.num_classes - 1);
    char err[1024];
    image_rgb8 pic = {0};
    const char *image = a->inputs[0];
    int rc = gradcam_file(r->model, &r->meta.tf, image, a->cam_layer, cls, &r->cam, &pic, err, sizeof err);
    if (rc == GRADCAM_EARG) return cli_fail(CLI_USAGE, "predict: %s", err);
    if (rc != 0) return cli_fail(CLI_FAILED, "predict: --cam %s: %s", image, err);
    gradcam_rect region;
    rc = gradcam_region(&r->meta.tf, pic.width, pic.height, &region, err, sizeof err);
    if (rc == 0) {
        gradcam_overlay(r->cam.map, r->cam.h, r->cam.w, &region, pic.rgb, pic.width, pic.height, GRADCAM_ALPHA,
                        pic.rgb);
        rc = gradcam_write_png(a->cam, pic.rgb, pic.width, pic.height, err, sizeof err);
    }
    image_free(&pic);
    return rc == 0 ? 0 : cli_fail(CLI_FAILED, "predict: --cam: %s", err);
}

static int run(int argc, char **argv) {
    predict_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        free(a.args);
        return rc;
    }
    predict_run r;
    memset(&r, 0, sizeof r);
    r.a = &a;
    badfiles_init(&r.bad);
    char err[1024];
    if ((rc = checkpoint_load(a.ckpt, &r.model, &r.meta, err, sizeof err)) != 0) {
        if (rc == CHECKPOINT_E_WEIGHTS)
            rc = cli_fail(CLI_FAILED, "%s; load it with frost print %s --weights %s", err,
                          r.meta.arch[0] ? r.meta.arch : "ARCH", a.ckpt);
        else
            rc = cli_fail(CLI_FAILED, "%s", err);
        badfiles_free(&r.bad);
        free(a.args);
        return rc;
    }
    const int64_t C = r.meta.num_classes;
    r.top = a.top ? a.top : DEFAULT_TOP;
    if (r.top > C) r.top = (long)C;

    if (a.cam) rc = explain(&r);
    if (rc == 0) rc = collect_inputs(&a, &r.meta, &r.in, &r.bad);
    if (rc == 0 && r.in.split.n_items > 0) {
        // the checkpoint's preprocessing, exact
        if (predictor_init(&r.pred, r.model, (const char *const *)r.meta.class_names, C, &r.meta.tf, a.ckpt, err,
                           sizeof err) != 0)
            rc = cli_fail(CLI_FAILED, "%s", err);
        r.pred.batch = (int)a.batch;
        if (rc == 0 && predict_score_init(&r.sc, C, WRONG_SHOWN) != 0) rc = cli_fail(CLI_FAILED, "out of memory");
        if (rc == 0 && predictor_run(&r.pred, &r.in.split, &r.bad, take_image, &r, NULL, NULL, err, sizeof err) != 0)
            rc = cli_fail(CLI_FAILED, "%s", err);
    }
    cli_print_skipped(&r.bad);
    size_t failed = badfiles_count(&r.bad);
    if (a.json && rc == 0) badfiles_each(&r.bad, 0, print_failed_json, NULL);
    if (rc == 0 && r.in.label_dir && r.sc.images > 0) {
        if (a.json)
            print_score_json(&r.sc, &r.meta, r.in.label_dir);
        else
            print_score(&r.sc, &r.meta, &r.in);
    }
    if (rc == 0 && r.predicted == 0) rc = cli_fail(CLI_FAILED, "predict: no image could be predicted");
    if (rc == 0 && failed > 0)
        rc = cli_fail(CLI_PARTIAL, "predict: %zu of %zu images could not be predicted (skipped above)", failed,
                      failed + r.predicted);
    run_free(&r);
    free(a.args);
    return rc;
}

const cli_command cli_predict = {
    .name = "predict",
    .synopsis = "CKPT IMAGE...|DIR [--top K] [--json] [--batch N]\n"
                "[--cam OUT.png [--cam-class NAME|INDEX] [--cam-layer PATH]]",
    .help = N_("classify images with a checkpoint (frost train --save), preprocessed as it was\n"
               "trained: top K classes per image (default 5); a DIR of class folders is scored\n"
               "instead (accuracy, per class, confusion matrix, most confident mistakes);\n"
               "--cam shows where the network looked for a class (Grad-CAM) over the photo.\n"
               "An image that cannot be read is skipped (with --json: a line with its path and\n"
               "error); the rest are predicted, and the exit status is then 3"),
    .examples = "frost predict resnet18.safetensors photo.jpg\n"
                "frost predict resnet18.safetensors sample_data/valid --json > scores.jsonl\n"
                "frost predict resnet18.safetensors photo.jpg --cam where.png",
    .options = options,
    .run = run,
};
