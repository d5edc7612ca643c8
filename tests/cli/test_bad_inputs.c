// test_bad_inputs.c — the bad-input corpus: files and folders people did not make for frost, each
// made here, each with the outcome it must have. Images: skipped and reported with a reason by the
// loader and `frost doctor` (or read, where PIL reads them too); datasets: refused or warned about in
// one message; weight files and checkpoints: refused with one line naming what is wrong; themes: a
// message naming the line. Never a crash (a signal), a hang (the suite's timeout), a C++ exception
// text or a backtrace, and nothing left half-written.
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "theme_file.h"

static char *root;
static void setup(void) { root = tu_tmpdir(); }
static void teardown(void) {
    char disk[4096];
    snprintf(disk, sizeof disk, "%s/disk", root);
    tu_small_disk_end(disk);   // the full-disk test's tmpfs, also when that test failed midway
    tu_rmtree(root);
    free(root);
}
TestSuite(bad_inputs, .init = setup, .fini = teardown, .timeout = 300);

// ---------------------------------------------------------------------------------------------
// helpers

static void copy_file(const char *from, const char *to) {
    size_t n;
    char *data = tu_read_file(from, &n);
    cr_assert_not_null(data, "cannot read %s", from);
    tu_mkdirs_for(to);
    cr_assert_eq(tu_write_file(to, data, n), 0, "%s", to);
    free(data);
}

static const char *fixture(const char *name) {
    static char path[2048];
    snprintf(path, sizeof path, "%s", tu_oracle("decode/files"));
    size_t len = strlen(path);
    snprintf(path + len, sizeof path - len, "/%s", name);
    return path;
}

static char *at(const char *rel) {
    static char path[4][2048];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", root, rel);
    return path[k];
}

// A small dataset that can train: two classes, a good JPEG in each class of each split.
static void good_dataset(const char *dir) {
    const char *places[] = {"train/a/good.jpg", "train/b/good.jpg", "valid/a/good.jpg", "valid/b/good.jpg"};
    for (int i = 0; i < 4; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, places[i]);
        unsigned char grey = (unsigned char)(30 + 50 * i);
        cr_assert_eq(tu_write_solid_jpeg(path, 24, 16, grey, grey, grey), 0);
    }
}

// No crash, no exception text, no backtrace; stderr at most a few lines.
static void expect_clean_failure(const tu_run_result *r, const char *what) {
    cr_expect_lt(r->status, 128, "%s: killed by a signal (status %d)\n%s", what, r->status, r->err);
    cr_expect(strstr(r->err, "terminate called") == NULL && strstr(r->err, "Exception raised from") == NULL &&
                  strstr(r->err, "frame #") == NULL && strstr(r->err, "AddressSanitizer") == NULL,
              "%s: exception or backtrace text:\n%s", what, r->err);
}

// Runs frost doctor on root; returns its stdout (to free).
static char *doctor(void) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"doctor", root, NULL});
    expect_clean_failure(&r, "doctor");
    char *out = strdup(r.out);
    tu_run_free(&r);
    return out;
}

// The doctor's line for a bad file: "  <path>: <reason>"; NULL when the file is not listed as bad.
static const char *bad_line(const char *report, const char *file) {
    const char *p = strstr(report, "Bad files (");
    return p ? strstr(p, file) : NULL;
}

// ---------------------------------------------------------------------------------------------
// images: each one in train/a of a dataset that is otherwise fine

typedef struct {
    const char *kind;
    const char *fixture;   // a file the PIL oracle made (decode/files), or NULL: made by `make`
    void (*make)(const char *path);
    const char *name;     // its name in the dataset
    int bad;              // 1: skipped and reported; 0: read like any image
    const char *reason;   // part of the reason, for bad ones (NULL: any)
} image_case;

static void make_zero(const char *path) { cr_assert_eq(tu_write_file(path, "", 0), 0); }
static void make_text(const char *path) {
    const char *t = "this is not an image, whatever its name says\n";
    cr_assert_eq(tu_write_file(path, t, strlen(t)), 0);
}
// A good JPEG whose SOF says 60000x60000: refused before anything that size is allocated.
static void make_huge(const char *path) {
    unsigned char rgb[16 * 16 * 3] = {0};
    cr_assert_eq(tu_write_jpeg(path, 16, 16, rgb), 0);
    size_t n;
    unsigned char *d = (unsigned char *)tu_read_file(path, &n);
    int patched = 0;
    for (size_t i = 0; i + 9 < n && !patched; i++)
        if (d[i] == 0xFF && d[i + 1] == 0xC0) {   // SOF0: length(2) precision(1) height(2) width(2)
            d[i + 5] = 0xEA, d[i + 6] = 0x60, d[i + 7] = 0xEA, d[i + 8] = 0x60;
            patched = 1;
        }
    cr_assert(patched, "no SOF0 marker");
    cr_assert_eq(tu_write_file(path, (char *)d, n), 0);
    free(d);
}
static void make_dangling(const char *path) { cr_assert_eq(symlink("/nonexistent/frost/picture.jpg", path), 0); }
static void make_good_jpeg(const char *path) { cr_assert_eq(tu_write_solid_jpeg(path, 24, 16, 200, 200, 200), 0); }

static const image_case IMAGES[] = {
    {"truncated JPEG", "bad_jpeg_truncated_half.jpg", NULL, "cut.jpg", 1, NULL},
    {"JPEG cut inside its header", "bad_jpeg_header_cut.jpg", NULL, "header.jpg", 1, NULL},
    {"PNG with corrupt compressed data", "bad_png_zlib.png", NULL, "zlib.png", 1, "corrupt PNG"},
    {"truncated PNG", "bad_png_truncated.png", NULL, "cut.png", 1, NULL},
    {"truncated PPM", "bad_pnm_truncated.ppm", NULL, "cut.ppm", 1, NULL},
    {"zero-byte file", NULL, make_zero, "empty.jpg", 1, "empty file"},
    {"text behind a .jpg name", NULL, make_text, "text.jpg", 1, NULL},
    {"text behind a .png name", NULL, make_text, "text.png", 1, NULL},
    {"huge dimensions in the header", NULL, make_huge, "huge.jpg", 1, NULL},
    {"broken symbolic link", NULL, make_dangling, "gone.jpg", 1, "broken symbolic link"},
    {"a PNG behind a .jpg name (read by its content)", "png_rgb8.png", NULL, "png.jpg", 0, NULL},
    {"CMYK JPEG", "jpeg_cmyk_adobe.jpg", NULL, "cmyk.jpg", 0, NULL},
    {"YCCK JPEG", "jpeg_ycck.jpg", NULL, "ycck.jpg", 0, NULL},
    {"grey JPEG", "jpeg_gray.jpg", NULL, "gray.jpg", 0, NULL},
    {"palette PNG with transparency", "png_pal8_trns.png", NULL, "pal.png", 0, NULL},
    {"16-bit PNG", "png_rgb16.png", NULL, "rgb16.png", 0, NULL},
    {"16-bit grey PNG", "png_gray16.png", NULL, "gray16.png", 0, NULL},
    {"PNG with alpha", "png_rgba8.png", NULL, "rgba.png", 0, NULL},
    {"a name that is not UTF-8", NULL, make_good_jpeg, "\xff\xfe-latin1.jpg", 0, NULL},
};
#define N_IMAGES (sizeof IMAGES / sizeof IMAGES[0])

static void place_image(const image_case *c, const char *path) {
    tu_mkdirs_for(path);
    if (c->fixture)
        copy_file(fixture(c->fixture), path);
    else
        c->make(path);
}

Test(bad_inputs, each_image_kind_is_read_or_reported) {
    for (size_t k = 0; k < N_IMAGES; k++) {
        const image_case *c = &IMAGES[k];
        tu_rmtree(root);
        mkdir(root, 0700);
        good_dataset(root);
        char rel[256];
        snprintf(rel, sizeof rel, "train/a/%s", c->name);
        place_image(c, at(rel));
        char *out = doctor();
        const char *line = bad_line(out, c->name);
        if (c->bad) {
            cr_expect_not_null(line, "%s: not reported as bad:\n%s", c->kind, out);
            if (line && c->reason) cr_expect(strstr(line, c->reason) != NULL, "%s: reason:\n%s", c->kind, out);
            cr_expect(strstr(out, ", 4 readable, ") != NULL, "%s:\n%s", c->kind, out);
        } else {
            cr_expect_null(line, "%s: reported as bad:\n%s", c->kind, out);
            cr_expect(strstr(out, "Images: 5 checked, 5 readable, 0 bad") != NULL, "%s:\n%s", c->kind, out);
        }
        free(out);
    }
}

// All the bad images at once in a training run: each skipped and named, the run completes.
Test(bad_inputs, training_skips_every_bad_image) {
    good_dataset(root);
    int n_bad = 0;
    for (size_t k = 0; k < N_IMAGES; k++) {
        char rel[256];
        snprintf(rel, sizeof rel, "train/%c/%s", k % 2 ? 'a' : 'b', IMAGES[k].name);
        place_image(&IMAGES[k], at(rel));
        // a broken link is left out when the folder is read, the others are met by the loader:
        // the run names each once
        n_bad += IMAGES[k].bad;
    }
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", root, "--arch", "resnet18", "--epochs", "1", "--size", "32", "--batch",
                                      "4", NULL});
    expect_clean_failure(&r, "train");
    cr_expect_eq(r.status, 0, "%s\n%s", r.out, r.err);
    cr_expect(strstr(r.out, "Training complete") != NULL, "%s", r.out);
    int skipped = 0;
    for (const char *p = r.out; (p = strstr(p, "skipped ")) != NULL; p++) skipped++;
    for (const char *p = r.err; (p = strstr(p, "skipped ")) != NULL; p++) skipped++;
    cr_expect_eq(skipped, n_bad, "each bad image named once:\n%s\n%s", r.out, r.err);
    cr_expect(strstr(r.err, "gone.jpg: broken symbolic link") != NULL, "the broken link is named:\n%s", r.err);
    tu_run_free(&r);
}

// ---------------------------------------------------------------------------------------------
// datasets

typedef struct {
    const char *kind;
    void (*make)(void);
    int can_train;         // doctor's verdict
    const char *message;   // part of what it says
} dataset_case;

static void ds_no_valid(void) {
    good_dataset(root);
    tu_rmtree(at("valid"));
}
static void ds_empty_class(void) {
    good_dataset(root);
    mkdir(at("train/c"), 0700);
}
static void ds_mismatched(void) {
    good_dataset(root);
    make_good_jpeg(at("train/c/only_in_train.jpg"));
}
static void ds_symlink_loop(void) {
    good_dataset(root);
    cr_assert_eq(symlink("..", at("train/a/loop")), 0);
}
static void ds_no_images(void) {
    mkdir(at("train"), 0700);
    mkdir(at("train/a"), 0700);
    make_text(at("train/a/readme.txt"));
}
static void ds_only_bad(void) {
    mkdir(at("train"), 0700);
    tu_mkdirs_for(at("train/a/x"));
    make_zero(at("train/a/empty.jpg"));
    make_text(at("train/a/text.jpg"));
}

static const dataset_case DATASETS[] = {
    {"no valid/ split", ds_no_valid, 1, "no valid/"},
    {"an empty class folder", ds_empty_class, 0, "class 'c' has no images"},
    {"a class in train/ only", ds_mismatched, 1, "class 'c' has no images in valid/"},
    {"a symlink loop", ds_symlink_loop, 1, "Ready to train"},
    {"no images at all", ds_no_images, 0, "cannot run"},
    {"only unreadable images", ds_only_bad, 0, "cannot run"},
};

Test(bad_inputs, each_dataset_kind_gets_its_verdict) {
    for (size_t k = 0; k < sizeof DATASETS / sizeof DATASETS[0]; k++) {
        const dataset_case *c = &DATASETS[k];
        tu_rmtree(root);
        mkdir(root, 0700);
        c->make();
        tu_run_result r;
        tu_run_frost(&r, (const char *[]){"doctor", root, NULL});
        expect_clean_failure(&r, c->kind);
        cr_expect_eq(r.status, c->can_train ? 0 : 1, "%s: exit %d\n%s%s", c->kind, r.status, r.out, r.err);
        cr_expect(strstr(r.out, c->message) || strstr(r.err, c->message), "%s: wants '%s':\n%s%s", c->kind, c->message,
                  r.out, r.err);
        tu_run_free(&r);
    }
    // a file where the dataset folder should be
    make_text(at("file"));
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", at("file"), "--arch", "resnet18", NULL});
    expect_clean_failure(&r, "dataset is a file");
    cr_expect_neq(r.status, 0);
    cr_expect_eq(tu_count_lines(r.err), 1, "one line:\n%s", r.err);
    tu_run_free(&r);
}

// ---------------------------------------------------------------------------------------------
// weight files and checkpoints

static void write_safetensors(const char *path, const char *header, size_t data_bytes) {
    size_t hl = strlen(header), n = 8 + hl + data_bytes;
    char *buf = calloc(1, n);
    uint64_t len = hl;
    for (int i = 0; i < 8; i++) buf[i] = (char)(len >> (8 * i));
    memcpy(buf + 8, header, hl);
    cr_assert_eq(tu_write_file(path, buf, n), 0);
    free(buf);
}

typedef struct {
    const char *kind;
    void (*make)(const char *path);
    const char *message;
} weights_case;

static void w_zero(const char *path) { make_zero(path); }
static void w_f64(const char *path) {
    write_safetensors(path, "{\"conv1.weight\":{\"dtype\":\"F64\",\"shape\":[64,3,7,7],\"data_offsets\":[0,75264]}}",
                      75264);
}
static void w_past_end(const char *path) {
    write_safetensors(path, "{\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[1000],\"data_offsets\":[0,4000]}}", 10);
}
static void w_header_past_eof(const char *path) {
    char buf[16] = {0};
    buf[5] = 1;   // a header length of 2^40
    memcpy(buf + 8, "{}", 2);
    cr_assert_eq(tu_write_file(path, buf, 10), 0);
}
static void w_keys_missing(const char *path) {
    write_safetensors(path, "{\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[1000],\"data_offsets\":[0,4000]}}", 4000);
}
static void w_evil(const char *path) { copy_file(tu_oracle("wf/evil.pth"), path); }
static void w_truncated_pth(const char *path) {
    size_t n;
    char *d = tu_read_file(tu_oracle("wf/resnet18.pth"), &n);
    cr_assert_eq(tu_write_file(path, d, n / 3), 0);
    free(d);
}
static void w_other_arch(const char *path) { copy_file(tu_oracle("wf/resnet18.pth"), path); }   // loaded as resnet34
static void w_not_weights(const char *path) { make_text(path); }

static const weights_case WEIGHTS[] = {
    {"zero-byte weight file", w_zero, "too short to be a safetensors file (0 bytes"},
    {"wrong dtype (F64)", w_f64, "F64"},
    {"tensor data past the end", w_past_end, "past the end"},
    {"header length past the end of the file", w_header_past_eof, "header length"},
    {"keys missing", w_keys_missing, "missing"},
    {"a pickle that asks for os.system", w_evil, "refuses global"},
    {"truncated .pth", w_truncated_pth, "a torch.save zip cut short"},
    {"weights of another architecture", w_other_arch, "resnet34"},
    {"text behind a weights name", w_not_weights, "not a safetensors file"},
};

Test(bad_inputs, each_weights_kind_is_refused_in_one_line) {
    for (size_t k = 0; k < sizeof WEIGHTS / sizeof WEIGHTS[0]; k++) {
        const weights_case *c = &WEIGHTS[k];
        char path[2048];
        snprintf(path, sizeof path, "%s/w%zu.safetensors", root, k);
        c->make(path);
        tu_run_result r;
        tu_run_frost(&r, (const char *[]){"print", "resnet34", "--weights", path, NULL});
        expect_clean_failure(&r, c->kind);
        cr_expect_eq(r.status, 1, "%s: exit %d\n%s", c->kind, r.status, r.err);
        cr_expect_eq(r.out[0], '\0', "%s: nothing printed when the weights are refused", c->kind);
        cr_expect_eq(tu_count_lines(r.err), 1, "%s: one line:\n%s", c->kind, r.err);
        cr_expect(strstr(r.err, c->message) != NULL, "%s: wants '%s':\n%s", c->kind, c->message, r.err);
        tu_run_free(&r);
    }
}

// A checkpoint cut short: predict refuses it; a save over it that cannot finish leaves it whole.
Test(bad_inputs, truncated_checkpoint_is_refused) {
    good_dataset(root);
    char *ck = strdup(at("model.safetensors"));
    tu_run_result r;
    tu_run_frost(
        &r, (const char *[]){"train", root, "--arch", "resnet18", "--epochs", "1", "--size", "32", "--save", ck, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    tu_run_free(&r);
    size_t n;
    char *d = tu_read_file(ck, &n);
    cr_assert_eq(tu_write_file(ck, d, n / 2), 0);
    free(d);
    tu_run_frost(&r, (const char *[]){"predict", ck, at("valid/a/good.jpg"), NULL});
    expect_clean_failure(&r, "truncated checkpoint");
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect_eq(tu_count_lines(r.err), 1, "%s", r.err);
    tu_run_free(&r);
    free(ck);
}

// ---------------------------------------------------------------------------------------------
// themes

Test(bad_inputs, theme_files_name_the_line) {
    static const char elf[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0};
    const struct {
        const char *kind, *text;
        size_t len;
        const char *message;
    } cases[] = {
        {"unknown colour", "text = default\nfrozen = ultraviolet\n", 0, ":2: unknown colour"},
        {"unknown role", "frozn = blue\n", 0, ":1: unknown role"},
        {"binary file", elf, sizeof elf, "t2.theme: not a theme file (too big, or binary)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/t%zu.theme", root, k);
        size_t len = cases[k].len ? cases[k].len : strlen(cases[k].text);
        cr_assert_eq(tu_write_file(path, cases[k].text, len), 0);
        theme t;
        char err[512] = "";
        cr_expect_eq(theme_load(&t, path, err, sizeof err), -1, "%s: accepted", cases[k].kind);
        cr_expect(strstr(err, cases[k].message) != NULL, "%s: '%s'", cases[k].kind, err);
        cr_expect(strchr(err, '\n') == NULL, "%s: one line: '%s'", cases[k].kind, err);
    }
}

// ---------------------------------------------------------------------------------------------
// outputs that cannot be written: refused before any work, or an error, never a silent exit 0

// A save frost cannot make is refused before training, in one line, with nothing left behind.
Test(bad_inputs, unwritable_targets_are_refused_before_training) {
    good_dataset(root);
    cr_assert_eq(mkdir(at("a_folder"), 0755), 0);
    const struct {
        const char *opt, *target, *word;
    } cases[] = {
        {"--save", "/nonexistent/x.safetensors", "does not exist"},
        {"--save", at("a_folder"), "folder"},
        {"--json", at("a_folder"), "a folder, not a regular file"},
        {"--json", "/nonexistent/log.json", "cannot create"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        tu_run_result r;
        tu_run_frost(&r, (const char *[]){"train", root, "--arch", "resnet18", "--epochs", "1", "--size", "32",
                                          cases[k].opt, cases[k].target, NULL});
        expect_clean_failure(&r, cases[k].target);
        cr_expect_eq(r.status, 1, "%s %s: exit %d\n%s", cases[k].opt, cases[k].target, r.status, r.err);
        cr_expect_eq(tu_count_lines(r.err), 1, "one line:\n%s", r.err);
        cr_expect(strstr(r.err, cases[k].word), "%s %s: wants '%s':\n%s", cases[k].opt, cases[k].target, cases[k].word,
                  r.err);
        cr_expect(!strstr(r.out, "Epoch 1/"), "%s %s: refused before training:\n%s", cases[k].opt, cases[k].target,
                  r.out);
        tu_run_free(&r);
    }
    struct stat st;
    cr_expect_neq(stat(at("a_folder.optim"), &st), 0, "no optimizer state beside the folder");
}

// A disk that fills up during training: the save fails the run (exit 1, one line), an earlier
// checkpoint and its optimizer state stay as they were, and no temporary file is left. On a real
// full disk (a small tmpfs) when this machine lets one be mounted, else with a file-size limit.
Test(bad_inputs, a_full_disk_fails_the_run_and_keeps_the_old_checkpoint) {
    good_dataset(root);
    const char *disk = at("disk");
    int tmpfs = tu_small_disk(disk, 64LL << 20) == 0;   // one resnet18 checkpoint (45 MB) fits, two do not
    if (!tmpfs) cr_log_info("no tmpfs can be mounted here: a file-size limit stands in for the full disk");
    char ck[2048], side[2100];
    snprintf(ck, sizeof ck, "%s/run.safetensors", disk);
    snprintf(side, sizeof side, "%s.optim", ck);
    const char *args[] = {"train", root,      "--arch", "resnet18", "--epochs", "1", "--size",
                          "32",    "--batch", "2",      "--save",   ck,         NULL};
    tu_run_result r;
    tu_run_frost(&r, args);
    cr_assert_eq(r.status, 0, "the first save fits:\n%s", r.err);
    tu_run_free(&r);
    size_t len[2], after_len[2];
    char *before[2] = {tu_read_file(ck, &len[0]), tu_read_file(side, &len[1])};
    cr_assert(before[0] && before[1], "a checkpoint and its optimizer state");
    tu_run_opts o = {.file_size_limit = tmpfs ? 0 : 1 << 20};
    tu_run_frost_with(&r, args, &o);
    expect_clean_failure(&r, "full disk");
    cr_expect_eq(r.status, 1, "a save that failed is a failure:\n%s", r.err);
    cr_expect(strstr(r.err, "saving") && (strstr(r.err, "space") || strstr(r.err, "large")), "%s", r.err);
    cr_expect_eq(tu_count_lines(r.err), 1, "%s", r.err);
    tu_run_free(&r);
    char *after[2] = {tu_read_file(ck, &after_len[0]), tu_read_file(side, &after_len[1])};
    for (int f = 0; f < 2; f++)
        cr_expect(after[f] && after_len[f] == len[f] && memcmp(after[f], before[f], len[f]) == 0, "%s changed",
                  f ? side : ck);
    DIR *d = opendir(disk);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_expect(e->d_name[0] == '.' || strcmp(e->d_name, "run.safetensors") == 0 ||
                      strcmp(e->d_name, "run.safetensors.optim") == 0,
                  "left behind: %s", e->d_name);
    closedir(d);
    for (int f = 0; f < 2; f++) {
        free(before[f]);
        free(after[f]);
    }
    if (tmpfs) tu_small_disk_end(disk);
}

// Output into a full device: an error, not exit 0. A JSON log that cannot be written (its file may
// grow by 200 bytes: RLIMIT_FSIZE) stops the run. (A log at /dev/full itself is refused before the
// run: frost writes only regular files, test_write_targets.c.)
Test(bad_inputs, writes_to_a_full_device_are_errors) {
    good_dataset(root);
    tu_run_result r;
    const char *log = at("log.jsonl");
    tu_run_opts small = {.file_size_limit = 200};
    tu_run_frost_with(
        &r, (const char *[]){"train", root, "--arch", "resnet18", "--epochs", "3", "--size", "32", "--json", log, NULL},
        &small);
    expect_clean_failure(&r, "--json on a full disk");
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "log.jsonl: cannot write the JSON log") && strstr(r.err, "large"), "%s", r.err);
    cr_expect(!strstr(r.out, "Epoch 3/3"), "the run stopped:\n%s", r.out);
    tu_run_free(&r);
    const char *commands[][4] = {{"doctor", root, NULL}, {"print", "resnet18", NULL}, {"help", NULL}};
    tu_run_opts full = {.stdout_to = "/dev/full"};
    for (size_t k = 0; k < sizeof commands / sizeof *commands; k++) {
        tu_run_frost_with(&r, commands[k], &full);
        expect_clean_failure(&r, commands[k][0]);
        cr_expect_eq(r.status, 1, "%s > /dev/full: exit %d", commands[k][0], r.status);
        cr_expect(strstr(r.err, "could not write the output"), "%s: %s", commands[k][0], r.err);
        tu_run_free(&r);
    }
}

// ---------------------------------------------------------------------------------------------
// names that are terminal escapes: printed escaped, on the lines they belong to

// No byte that a terminal acts on, and no raw C1 control.
static void expect_no_raw_controls(const char *text, const char *what) {
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        cr_expect(*p == '\n' || (*p >= 0x20 && *p != 0x7f && *p != 0x9b), "%s: a raw control byte 0x%02x at %ld:\n%s",
                  what, *p, (long)(p - (const unsigned char *)text), text);
}

Test(bad_inputs, hostile_names_reach_the_terminal_escaped) {
    // the dataset's own folder, two classes and bad files named with escapes, CR, BEL, newlines and C1
    char ds[2048];
    snprintf(ds, sizeof ds, "%s/ds\x1b[2J", root);
    const char *classes[] = {"a\x1b]0;owned\x07", "b\r\nforged: line"};
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 2; i++) {
                char p[4096];
                snprintf(p, sizeof p, "%s/%s/%s/%d.jpg", ds, s ? "valid" : "train", classes[c], i);
                cr_assert_eq(tu_write_solid_jpeg(p, 24, 16, (unsigned char)(40 + 100 * c), 90, 90), 0);
            }
    char bad1[4096], bad2[4096];
    snprintf(bad1, sizeof bad1,
             "%s/train/%s/x\x9b"
             "2Jy.jpg",
             ds, classes[0]);
    snprintf(bad2, sizeof bad2, "%s/train/%s/z\nforged: file.jpg", ds, classes[1]);
    cr_assert_eq(tu_write_file(bad1, "not a jpeg", 10), 0);
    cr_assert_eq(tu_write_file(bad2, "not a jpeg", 10), 0);

    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"doctor", ds, NULL});
    expect_clean_failure(&r, "doctor");
    expect_no_raw_controls(r.out, "doctor's stdout");
    expect_no_raw_controls(r.err, "doctor's stderr");
    cr_expect(strstr(r.out, "\\x1b[2J") && strstr(r.out, "\\x1b]0;owned\\x07") && strstr(r.out, "\\r\\nforged"),
              "the names, escaped:\n%s", r.out);
    cr_expect(strstr(r.out, "x\\x9b2Jy.jpg") && strstr(r.out, "z\\nforged: file.jpg"), "%s", r.out);
    cr_expect(!strstr(r.out, "\nforged"), "no line forged by a name:\n%s", r.out);
    tu_run_free(&r);

    tu_run_frost(&r, (const char *[]){"train", ds, "--arch", "resnet18", "--epochs", "1", "--size", "32", NULL});
    expect_clean_failure(&r, "train");
    cr_expect_eq(r.status, 0, "%s", r.err);
    expect_no_raw_controls(r.out, "train's stdout");
    expect_no_raw_controls(r.err, "train's stderr");
    cr_expect(strstr(r.err, "frost: skipped ") && strstr(r.err, "z\\nforged: file.jpg"), "%s", r.err);
    cr_expect_eq(tu_count_lines(r.err), 2, "one line per skipped file:\n%s", r.err);
    tu_run_free(&r);
}

// ---------------------------------------------------------------------------------------------
// files that are not files, and files too big to be images

Test(bad_inputs, a_fifo_is_refused_at_once, .timeout = 120) {
    good_dataset(root);
    const char *fifo = at("model.safetensors");
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    const char *const cases[][8] = {
        {"predict", fifo, at("valid/a/good.jpg"), NULL},
        {"train", root, "--resume", fifo, "--size", "32", NULL},
        {"weights", "check", fifo, NULL},
        {"print", "resnet18", "--weights", fifo, NULL},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        tu_run_result r;
        tu_run_frost(&r, cases[k]);   // a hang here ends in the suite's timeout
        expect_clean_failure(&r, cases[k][0]);
        cr_expect_eq(r.status, 1, "%s: exit %d\n%s", cases[k][0], r.status, r.err);
        cr_expect(strstr(r.err, "not a regular file (a FIFO)"), "%s: %s", cases[k][0], r.err);
        cr_expect_eq(tu_count_lines(r.err), 1, "%s", r.err);
        tu_run_free(&r);
    }
    theme t;
    char err[512];
    cr_expect_eq(theme_load(&t, fifo, err, sizeof err), -1);
    cr_expect(strstr(err, "a FIFO"), "%s", err);
}

// A 2 GB file named .jpg (a small JPEG, then zeros; sparse, so it takes no disk) is refused by size,
// never read: doctor, train and predict stay small.
Test(bad_inputs, a_huge_sparse_image_is_not_read) {
    good_dataset(root);
    const char *huge = at("train/a/huge.jpg");
    cr_assert_eq(tu_write_solid_jpeg(huge, 24, 16, 10, 200, 10), 0);
    cr_assert_eq(truncate(huge, 2000LL * 1000 * 1000), 0);
    const char *ck = at("m.safetensors");
    const char *const runs[][12] = {
        {"doctor", root, NULL},
        {"train", root, "--arch", "resnet18", "--epochs", "1", "--size", "32", "--save", ck, NULL},
        {"predict", ck, at("train"), NULL},
    };
    for (size_t k = 0; k < sizeof runs / sizeof *runs; k++) {
        tu_run_result r;
        tu_run_frost(&r, runs[k]);
        expect_clean_failure(&r, runs[k][0]);
        const char *said = k == 0 ? r.out : r.err;
        cr_expect(strstr(said, "huge.jpg") && strstr(said, "file too large for an image"), "%s:\n%s%s", runs[k][0],
                  r.out, r.err);
        cr_expect_lt(r.max_rss_kb, 1000 * 1000, "%s: peak %ld KB: the file was read", runs[k][0], r.max_rss_kb);
        tu_run_free(&r);
    }
}

// What doctor refuses, train refuses, with the same words.
Test(bad_inputs, one_class_is_refused_by_doctor_and_train_alike) {
    const char *places[] = {"train/only/1.jpg", "train/only/2.jpg", "valid/only/1.jpg"};
    for (int i = 0; i < 3; i++) cr_assert_eq(tu_write_solid_jpeg(at(places[i]), 24, 16, 90, 90, 90), 0);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"doctor", root, NULL});
    cr_expect_eq(r.status, 1);
    const char *line = strstr(r.out, "only one class");
    cr_assert_not_null(line, "%s", r.out);
    char words[256];
    snprintf(words, sizeof words, "%.*s", (int)strcspn(line, "\n"), line);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"train", root, "--arch", "resnet18", "--epochs", "1", "--size", "32", NULL});
    expect_clean_failure(&r, "train");
    cr_expect_eq(r.status, 1, "%s", r.out);
    cr_expect(strstr(r.err, words), "train says '%s' too:\n%s", words, r.err);
    cr_expect(!strstr(r.out, "Epoch 1/"), "%s", r.out);
    tu_run_free(&r);
}
