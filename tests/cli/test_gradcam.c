// test_gradcam.c — `frost predict CKPT IMAGE --cam OUT.png`: Grad-CAM against PyTorch.
//
// For untrained tutorial models (torchvision's random initialisation, a 2-class head) of a ResNet and a
// VGG at 224, on photos (../shared's Dogs-vs-Cats when present, else pattern JPEGs), the raw map of
// `frost predict --json --cam` must equal the one tests/oracle/live/gradcam.py computes with forward and
// backward hooks in python3-torch, within 1e-4 of the map's maximum and 1e-4 absolute: for the top class,
// a class asked for by name and by index, and a layer other than the default. The PNG is the photo's
// size and coloured where the map is hot. Refusals are one line, exit 1 or 2, and leave no file.
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fixtures.h"
#include "gradcam.h"
#include "image_decode.h"
#include "testutil.h"
#include "transfer.h"

static char *root;
static void setup(void) { root = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(root);
    free(root);
}
TestSuite(gradcam, .init = setup, .fini = teardown, .timeout = 300);

// root/rel, in one of 8 rotating buffers
static const char *at(const char *rel) {
    static char buf[8][2048];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", root, rel);
    return b;
}

static int photos(char paths[][2048], int n) { return fx_photos(root, paths, n); }

// The checkpoint of an untrained tutorial model (torchvision's initialisation, seeded, a new 2-class head).
static void write_model(const char *arch, const char *path) {
    ft_model *m = NULL;
    char err[1024];
    ft_manual_seed(20);   // the same weights every run: the maps below are known not to be all zero
    transfer_spec spec = {.arch = arch, .classes = 2};
    cr_assert_eq(transfer_build(&spec, &m, NULL, 0, err, sizeof err), 0, "%s", err);
    checkpoint_meta meta;
    static char *names[] = {"cat", "dog"};
    fx_meta_for(&meta, names, 2);
    fx_save_checkpoint(path, m, NULL, &meta);
    ft_model_free(m);
}

// ---------------------------------------------------------------------------------------------
// the map against PyTorch's

typedef struct {
    int photo;
    const char *layer;   // --cam-layer (NULL: the default)
    const char *cls;     // --cam-class (NULL: the top class)
    int oracle_cls;      // the class the oracle is asked for (-1: its own top class)
} cam_case;

typedef struct {
    char layer[64];
    long long cls, h, w;
    double *map;
} cam_map;

static void cam_from_json(json_t *cam, cam_map *out) {
    cr_assert_not_null(cam);
    snprintf(out->layer, sizeof out->layer, "%s", json_string_value(json_object_get(cam, "layer")));
    json_t *cls = json_object_get(cam, "index");
    if (!cls) cls = json_object_get(cam, "class");
    out->cls = json_integer_value(cls);
    out->h = json_integer_value(json_object_get(cam, "h"));
    out->w = json_integer_value(json_object_get(cam, "w"));
    json_t *map = json_object_get(cam, "map");
    cr_assert_eq((long long)json_array_size(map), out->h * out->w, "the map has %zu values for %lldx%lld",
                 json_array_size(map), out->h, out->w);
    out->map = malloc((size_t)(out->h * out->w) * sizeof *out->map);
    for (long long k = 0; k < out->h * out->w; k++) out->map[k] = json_number_value(json_array_get(map, (size_t)k));
}

// A pixel of the overlay where the map is at its maximum differs from the photo, towards jet's red.
static void expect_png_of(const char *png, const char *photo, const cam_map *m) {
    image_rgb8 a = {0}, b = {0};
    char err[512];
    cr_assert_eq(image_load_file(png, NULL, &a, NULL, err, sizeof err), 0, "%s: %s", png, err);
    cr_assert_eq(image_load_file(photo, NULL, &b, NULL, err, sizeof err), 0, "%s: %s", photo, err);
    cr_assert(a.width == b.width && a.height == b.height, "the PNG is %dx%d, the photo %dx%d", a.width, a.height,
              b.width, b.height);
    long long hot = 0;
    for (long long k = 1; k < m->h * m->w; k++)
        if (m->map[k] > m->map[hot]) hot = k;
    // the hot cell's centre on the photo (Resize([S,S]): the map covers the whole picture)
    int x = (int)(((double)(hot % m->w) + 0.5) * a.width / (double)m->w);
    int y = (int)(((double)(hot / m->w) + 0.5) * a.height / (double)m->h);
    const uint8_t *p = a.rgb + 3 * ((size_t)y * (size_t)a.width + (size_t)x);
    const uint8_t *q = b.rgb + 3 * ((size_t)y * (size_t)b.width + (size_t)x);
    uint8_t red[3];
    gradcam_colormap(1.0f, red);
    int moved = 0;
    for (int c = 0; c < 3; c++) {
        double want = 0.5 * q[c] + 0.5 * red[c];
        cr_expect_leq(fabs(p[c] - want), 40, "%s at (%d,%d) channel %d: %d, the photo %d, a hot blend %.0f", png, x, y,
                      c, p[c], q[c], want);
        if (abs(p[c] - q[c]) > 10) moved = 1;
    }
    cr_expect(moved, "%s: the overlay equals the photo at its hottest point (%d,%d)", png, x, y);
    image_free(&a);
    image_free(&b);
}

static void maps_match_pytorch(const char *arch, const cam_case *cases, int n_cases, const char *nondefault) {
    write_model(arch, at("m.safetensors"));
    char paths[3][2048];
    int n_photos = photos(paths, 3);
    cam_map frost_maps[8];
    cr_assert_leq(n_cases, 8);

    // frost, one image a run; the oracle gets every case in one run
    char cmd[32768];
    size_t used = (size_t)snprintf(cmd, sizeof cmd, "cd tests/oracle/live && /usr/bin/python3 gradcam.py '%s'",
                                   at("m.safetensors"));
    for (int k = 0; k < n_cases; k++) {
        const cam_case *c = &cases[k];
        cr_assert_lt(c->photo, n_photos);
        char png[64];
        snprintf(png, sizeof png, "cam%d.png", k);
        const char *args[16] = {"predict", at("m.safetensors"), paths[c->photo], "--json", "--cam", at(png)};
        int a = 6;
        if (c->layer) args[a++] = "--cam-layer", args[a++] = c->layer;
        if (c->cls) args[a++] = "--cam-class", args[a++] = c->cls;
        tu_run_result r;
        tu_run_frost(&r, args);
        cr_assert_eq(r.status, 0, "frost predict --cam (case %d):\n%s", k, r.err);
        cr_assert_eq(tu_count_lines(r.out), 1, "one line:\n%s", r.out);
        json_t *line = json_loads(r.out, 0, NULL);
        cr_assert_not_null(line, "%s", r.out);
        cam_from_json(json_object_get(line, "cam"), &frost_maps[k]);
        // the top class is what predict itself ranks first
        if (!c->cls) {
            json_t *top = json_array_get(json_object_get(line, "top"), 0);
            cr_expect_eq(json_integer_value(json_object_get(top, "index")), frost_maps[k].cls,
                         "case %d: the map is for class %lld, predict's top is %lld", k, frost_maps[k].cls,
                         (long long)json_integer_value(json_object_get(top, "index")));
        }
        json_decref(line);
        tu_run_free(&r);
        expect_png_of(at(png), paths[c->photo], &frost_maps[k]);
        used += (size_t)snprintf(cmd + used, sizeof cmd - used, " '%s:%s:%d'", paths[c->photo],
                                 c->layer ? c->layer : "", c->oracle_cls);
    }
    snprintf(cmd + used, sizeof cmd - used, " > '%s' 2> '%s'", at("oracle.json"), at("oracle.err"));
    int rc = system(cmd);
    char *err = tu_read_file(at("oracle.err"), NULL);
    cr_assert_eq(rc, 0, "gradcam.py failed:\n%s", err ? err : "");
    free(err);
    char *text = tu_read_file(at("oracle.json"), NULL);
    json_t *oracle = json_loads(text, 0, NULL);
    cr_assert(json_is_array(oracle) && (int)json_array_size(oracle) == n_cases, "%s", text);

    double worst_rel = 0, worst_abs = 0;
    for (int k = 0; k < n_cases; k++) {
        cam_map py;
        json_t *o = json_array_get(oracle, (size_t)k);
        cam_from_json(o, &py);
        const cam_map *f = &frost_maps[k];
        cr_assert_str_eq(f->layer, py.layer, "case %d", k);
        cr_assert_eq(f->cls, py.cls, "case %d: frost explains class %lld, PyTorch %lld", k, f->cls, py.cls);
        cr_assert(f->h == py.h && f->w == py.w, "case %d: %lldx%lld, PyTorch %lldx%lld", k, f->h, f->w, py.h, py.w);
        double max = 0, diff = 0, min = INFINITY;
        for (long long i = 0; i < py.h * py.w; i++) {
            max = fmax(max, py.map[i]);
            min = fmin(min, py.map[i]);
            diff = fmax(diff, fabs(py.map[i] - f->map[i]));
        }
        cr_assert_gt(max, 0, "case %d: PyTorch's map is all zero: a test that shows nothing", k);
        cr_expect_gt(max, min, "case %d: a flat map", k);
        cr_expect_leq(diff / max, 1e-4, "case %d (%s, class %lld): largest difference %.3g, the map's maximum %.4g", k,
                      py.layer, py.cls, diff, max);
        cr_expect_leq(diff, 1e-4, "case %d: largest difference %.3g", k, diff);
        worst_rel = fmax(worst_rel, diff / max);
        worst_abs = fmax(worst_abs, diff);
        cr_log_info("gradcam %s case %d: %s %lldx%lld class %lld, max %.4g, difference %.2e", arch, k, py.layer, py.h,
                    py.w, py.cls, max, diff);
        free(py.map);
    }
    cr_log_info("gradcam %s: %d maps, largest difference %.2e absolute, %.2e of the map's maximum", arch, n_cases,
                worst_abs, worst_rel);
    int saw_nondefault = 0;
    for (int k = 0; k < n_cases; k++) {
        saw_nondefault |= strcmp(frost_maps[k].layer, nondefault) == 0;
        free(frost_maps[k].map);
    }
    cr_expect(saw_nondefault, "no case at layer %s", nondefault);
    json_decref(oracle);
    free(text);
}

Test(gradcam, resnet18_maps_match_pytorch_hooks) {
    const cam_case cases[] = {
        {0, NULL, NULL, -1},       // the top class at layer4
        {1, NULL, NULL, -1},       // another photo
        {2, NULL, "cat", 0},       // a class by name
        {1, NULL, "1", 1},         // a class by index
        {0, "layer3", NULL, -1},   // another layer (14x14)
    };
    maps_match_pytorch("resnet18", cases, 5, "layer3");
}

Test(gradcam, vgg11_maps_match_pytorch_hooks) {
    // two cases: the checkpoint (531 MB) is read once per run
    const cam_case cases[] = {
        {0, NULL, NULL, -1},            // the top class at features.18, 14x14
        {1, "features.13", "dog", 1},   // a class by name at the convolution before it, 28x28
    };
    maps_match_pytorch("vgg11", cases, 2, "features.13");
}

// ---------------------------------------------------------------------------------------------
// the text output and refusals

Test(gradcam, text_output_names_the_class_layer_and_file) {
    write_model("resnet18", at("m.safetensors"));
    char paths[1][2048];
    photos(paths, 1);
    const char *args[] = {"predict", at("m.safetensors"), paths[0], "--cam", at("out.png"), "--cam-class", "dog", NULL};
    tu_run_result r;
    tu_run_frost(&r, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(tu_count_lines(r.out), 2, "the prediction and the cam's line:\n%s", r.out);
    cr_expect(strstr(r.out, "Grad-CAM for dog (class 1) at layer4 (7x7): ") && strstr(r.out, "out.png"), "%s", r.out);
    tu_run_free(&r);
    struct stat st;
    cr_expect_eq(stat(at("out.png"), &st), 0);
}

// Nothing in root but the checkpoint and what the test put there (no PNG, no temporary).
static void expect_nothing_written(void) {
    DIR *d = opendir(root);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_expect(!strstr(e->d_name, ".png") && !strstr(e->d_name, ".tmp"), "left in %s: %s", root, e->d_name);
    closedir(d);
}

Test(gradcam, refusals_are_one_line_and_leave_no_file) {
    write_model("resnet18", at("m.safetensors"));
    char paths[2][2048];
    photos(paths, 2);
    const char *ck = at("m.safetensors"), *out = at("out.png");
    const char *two[] = {"predict", ck, paths[0], paths[1], "--cam", out, NULL};
    tu_expect_one_line_error(two, 2, "one image");
    cr_assert_eq(mkdir(at("folder"), 0755), 0);
    const char *folder[] = {"predict", ck, at("folder"), "--cam", out, NULL};
    tu_expect_one_line_error(folder, 2, "folder");
    const char *layer[] = {"predict", ck, paths[0], "--cam", out, "--cam-layer", "layer9", NULL};
    tu_expect_one_line_error(layer, 2, "layer9");
    const char *flat[] = {"predict", ck, paths[0], "--cam", out, "--cam-layer", "fc", NULL};
    tu_expect_one_line_error(flat, 2, "fc");
    const char *name[] = {"predict", ck, paths[0], "--cam", out, "--cam-class", "bird", NULL};
    tu_expect_one_line_error(name, 2, "bird");
    const char *index[] = {"predict", ck, paths[0], "--cam", out, "--cam-class", "2", NULL};
    tu_expect_one_line_error(index, 2, "--cam-class");
    const char *alone[] = {"predict", ck, paths[0], "--cam-class", "cat", NULL};
    tu_expect_one_line_error(alone, 2, "--cam");
    const char *nodir[] = {"predict", ck, paths[0], "--cam", at("missing/out.png"), NULL};
    tu_expect_one_line_error(nodir, 1, "out.png");
    const char *isdir[] = {"predict", ck, paths[0], "--cam", at("folder"), NULL};
    tu_expect_one_line_error(isdir, 1, "folder");
    if (geteuid() != 0) {   // root writes anywhere
        cr_assert_eq(mkdir(at("locked"), 0555), 0);
        const char *locked[] = {"predict", ck, paths[0], "--cam", at("locked/out.png"), NULL};
        tu_expect_one_line_error(locked, 1, "out.png");
        DIR *d = opendir(at("locked"));
        struct dirent *e;
        while (d && (e = readdir(d))) cr_expect(e->d_name[0] == '.', "left in locked/: %s", e->d_name);
        if (d) closedir(d);
    }
    const char *unreadable[] = {"predict", ck, at("m.safetensors"), "--cam", out, NULL};
    tu_expect_one_line_error(unreadable, 1, "m.safetensors");
    expect_nothing_written();
}

// A full disk: the PNG is not half written, the temporary is gone, an older file is kept.
Test(gradcam, a_full_disk_leaves_the_old_file) {
    write_model("resnet18", at("m.safetensors"));
    char paths[1][2048];
    photos(paths, 1);
    cr_assert_eq(tu_write_file(at("out.png"), "mine", 4), 0);
    tu_run_opts o = {.file_size_limit = 4096};   // the overlay of a photo is larger than this
    const char *args[] = {"predict", at("m.safetensors"), paths[0], "--cam", at("out.png"), NULL};
    tu_run_result r;
    tu_run_frost_with(&r, args, &o);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect_eq(tu_count_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, "out.png"), "%s", r.err);
    tu_run_free(&r);
    size_t len;
    char *kept = tu_read_file(at("out.png"), &len);
    cr_expect(kept && len == 4 && memcmp(kept, "mine", 4) == 0, "the older file was changed");
    free(kept);
    DIR *d = opendir(root);
    struct dirent *e;
    while ((e = readdir(d))) cr_expect(!strstr(e->d_name, ".tmp"), "left: %s", e->d_name);
    closedir(d);
}
