// test_clean.c — `frost clean`: --relabel, --set-aside, --list and --undo end to end on a dataset of
// real JPEGs, what doctor and the dataset scan see afterwards (the relabelled image in its new class,
// no set-aside image), and one-line errors with the usage status for a bad command line.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clean.h"
#include "dataset.h"
#include "fixtures.h"
#include "testutil.h"

static char *root;

static void setup(void) { root = tu_tmpdir(); }

static void teardown(void) {
    tu_rmtree(root);
    free(root);
}

TestSuite(cli_clean, .init = setup, .fini = teardown);

// train/cats c0..c3, train/dogs d0..d2, valid/cats v0, valid/dogs w0: JPEGs doctor reads.
static void jpeg_dataset(void) {
    const char *files[] = {"train/cats/c0.jpg", "train/cats/c1.jpg", "train/cats/c2.jpg",
                           "train/cats/c3.jpg", "train/dogs/d0.jpg", "train/dogs/d1.jpg",
                           "train/dogs/d2.jpg", "valid/cats/v0.jpg", "valid/dogs/w0.jpg"};
    for (int i = 0; i < (int)(sizeof files / sizeof *files); i++) fx_pattern_jpeg(fx_at(root, files[i]), 48, 40, i);
}

// Runs frost clean with args after "clean"; expects exit 0 and returns stdout (the caller frees it).
static char *clean_ok(const char *const *args) {
    const char *argv[8] = {"clean"};
    int n = 1;
    for (; args[n - 1]; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    tu_run_result r;
    tu_run_frost(&r, argv);
    cr_assert_eq(r.status, 0, "frost clean %s %s: exit %d: %s", argv[1], argv[2] ? argv[2] : "", r.status, r.err);
    cr_expect_str_eq(r.err, "");
    char *out = strdup(r.out);
    tu_run_free(&r);
    return out;
}

static char *line_of(const char *text, int k) {   // line k (from 0) of text, allocated; NULL when none
    for (int i = 0; i < k && text; i++) text = strchr(text, '\n') ? strchr(text, '\n') + 1 : NULL;
    if (!text || !*text) return NULL;
    const char *end = strchr(text, '\n');
    return strndup(text, end ? (size_t)(end - text) : strlen(text));
}

Test(cli_clean, relabel_set_aside_list_undo) {
    jpeg_dataset();
    char c0[1200], c1[1200];
    snprintf(c0, sizeof c0, "%s", fx_at(root, "train/cats/c0.jpg"));
    snprintf(c1, sizeof c1, "%s", fx_at(root, "train/cats/c1.jpg"));
    size_t n0 = 0, n1 = 0;
    char *b0 = tu_read_file(c0, &n0), *b1 = tu_read_file(c1, &n1);

    char *out = clean_ok((const char *[]){root, "--relabel", c0, "dogs", NULL});
    char want[2600];
    snprintf(want, sizeof want, "relabeled %s -> %s/train/dogs/c0.jpg\n", c0, root);
    cr_expect_str_eq(out, want);
    free(out);
    // the other order of arguments and the --name=value form
    char opt[1300];
    snprintf(opt, sizeof opt, "--set-aside=%s", c1);
    out = clean_ok((const char *[]){opt, root, NULL});
    snprintf(want, sizeof want, "set aside %s -> %s/.frost-set-aside/train/cats/c1.jpg\n", c1, root);
    cr_expect_str_eq(out, want);
    free(out);
    cr_expect(fx_exists(fx_at(root, "train/dogs/c0.jpg")) && !fx_exists(c0));

    // the dataset as training and doctor see it: c0 is a dog now, c1 is gone from it
    dataset d;
    char err[1024];
    cr_assert_eq(dataset_scan(&d, root, NULL, err, sizeof err), 0, "%s", err);
    cr_expect_eq(d.train.class_counts[0], 2, "cats left: c2 c3");
    cr_expect_eq(d.train.class_counts[1], 4, "dogs: d0..d2 and c0");
    int found = 0;
    for (size_t i = 0; i < d.train.n_items; i++) {
        cr_expect(strstr(d.train.items[i].path, "c1.jpg") == NULL, "the set-aside image is scanned: %s",
                  d.train.items[i].path);
        if (strstr(d.train.items[i].path, "train/dogs/c0.jpg")) found = d.train.items[i].label == 1;
    }
    cr_expect(found, "train/dogs/c0.jpg is a dog");
    dataset_free(&d);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"doctor", root, NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "2 classes, 6 training and 2 validation files") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "c1.jpg") == NULL && strstr(r.out, ".frost") == NULL, "%s", r.out);
    tu_run_free(&r);

    out = clean_ok((const char *[]){root, "--list", NULL});
    cr_expect_eq(tu_count_lines(out), 2, "%s", out);
    char *l0 = line_of(out, 0), *l1 = line_of(out, 1);
    cr_assert(l0 && l1, "%s", out);
    cr_expect(strstr(l0, "relabel") && strstr(l0, "train/cats/c0.jpg -> train/dogs/c0.jpg") && !strstr(l0, "undone"),
              "%s", l0);
    cr_expect(strstr(l1, "set aside") && strstr(l1, "train/cats/c1.jpg -> .frost-set-aside/train/cats/c1.jpg"), "%s",
              l1);
    int y, mo, da, h, mi, s;
    cr_expect_eq(sscanf(l0, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &da, &h, &mi, &s), 6, "a time first: %s", l0);
    free(l0), free(l1), free(out);

    out = clean_ok((const char *[]){root, "--undo", NULL});
    cr_expect_str_eq(out, "undone: set aside train/cats/c1.jpg -> .frost-set-aside/train/cats/c1.jpg\n");
    free(out);
    fx_expect_file_is(c1, (unsigned char *)b1, n1);
    out = clean_ok((const char *[]){root, "--list", NULL});
    l1 = line_of(out, 1);
    cr_expect(l1 && strstr(l1, "(undone)"), "%s", out);
    free(l1), free(out);
    out = clean_ok((const char *[]){root, "--undo", NULL});
    cr_expect_str_eq(out, "undone: relabel train/cats/c0.jpg -> train/dogs/c0.jpg\n");
    free(out);
    fx_expect_file_is(c0, (unsigned char *)b0, n0);
    out = clean_ok((const char *[]){root, "--undo", NULL});
    cr_expect_str_eq(out, "nothing to undo\n");
    free(out);
    free(b0), free(b1);
}

// A relative IMAGE is relative to the working folder, as for every command.
Test(cli_clean, relative_image_path) {
    jpeg_dataset();
    char here[1024];
    cr_assert_not_null(getcwd(here, sizeof here));
    char bin[1200];
    const char *b = getenv("FROST_BIN");
    if (!b) b = "build/frost";
    snprintf(bin, sizeof bin, "%s%s%s", b[0] == '/' ? "" : here, b[0] == '/' ? "" : "/", b);
    cr_assert_eq(setenv("FROST_BIN", bin, 1), 0);
    cr_assert_eq(chdir(root), 0);
    char *out = clean_ok((const char *[]){".", "--relabel", "train/dogs/d2.jpg", "cats", NULL});
    cr_expect_str_eq(out, "relabeled train/dogs/d2.jpg -> ./train/cats/d2.jpg\n");
    free(out);
    cr_expect(fx_exists(fx_at(root, "train/cats/d2.jpg")));
}

Test(cli_clean, bad_command_lines_and_refusals) {
    jpeg_dataset();
    char c0[1200];
    snprintf(c0, sizeof c0, "%s", fx_at(root, "train/cats/c0.jpg"));
    // the command line: status 2
    tu_expect_one_line_error((const char *[]){"clean", root, NULL}, 2, "what to do?");
    tu_expect_one_line_error((const char *[]){"clean", "--list", NULL}, 2, "which dataset?");
    tu_expect_one_line_error((const char *[]){"clean", root, "--list", "--undo", NULL}, 2, "one action at a time");
    tu_expect_one_line_error((const char *[]){"clean", root, "--relabel", c0, NULL}, 2, "needs an image and a class");
    tu_expect_one_line_error((const char *[]){"clean", root, "--relabel", NULL}, 2, "needs an image and a class");
    tu_expect_one_line_error((const char *[]){"clean", root, "--set-aside", NULL}, 2, "--set-aside needs an image");
    tu_expect_one_line_error((const char *[]){"clean", root, "--list", "extra", NULL}, 2,
                             "unexpected argument 'extra'");
    tu_expect_one_line_error((const char *[]){"clean", root, "--frobnicate", NULL}, 2, "unknown option");
    // the work: status 1
    tu_expect_one_line_error((const char *[]){"clean", root, "--relabel", c0, "zebra", NULL}, 1, "no class 'zebra'");
    tu_expect_one_line_error((const char *[]){"clean", root, "--set-aside", "/etc/hostname", NULL}, 1,
                             "not inside the dataset");
    tu_expect_one_line_error((const char *[]){"clean", root, "--set-aside", fx_at(root, "train/cats/no.jpg"), NULL}, 1,
                             "No such file");
    tu_expect_one_line_error((const char *[]){"clean", fx_at(root, "nope"), "--list", NULL}, 1, "No such file");
    // a broken journal line is named
    FILE *f = fopen(fx_at(root, CLEAN_JOURNAL), "w");
    cr_assert_not_null(f);
    fputs("garbage\n{\"op\":\"done\",\"id\":1}\n", f);
    fclose(f);
    tu_expect_one_line_error((const char *[]){"clean", root, "--undo", NULL}, 1, "line 1");
    cr_expect(fx_exists(c0), "nothing moved");
}
