// test_dataset.c — dataset scanning on trees the tests build: torchvision's class and file order
// (checked against torchvision's own ImageFolder), the union of classes across splits, hidden
// folders, empty classes, val/ for valid/, splitting class-only folders by a fraction, symlink
// loops and broken links.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "testutil.h"

static char *root;
static void setup(void) { root = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(root);
    free(root);
}
TestSuite(dataset, .init = setup, .fini = teardown);

// Creates root/<rel> (an empty file, or a folder when rel ends with '/'), with parents.
static void make(const char *rel) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    if (path[strlen(path) - 1] != '/') cr_assert_eq(tu_write_file(path, "x", 1), 0, "cannot create %s", path);
}

static const char *rel(const char *path) { return path + strlen(root) + 1; }

// A scan with no problem but, for the small trees of these tests, a single class (which training
// refuses; how the tree is read is what these tests check).
static dataset scan_ok(const char *sub) {
    char path[1024], err[1024];
    snprintf(path, sizeof path, "%s%s", root, sub);
    dataset d;
    dataset_opts o;
    dataset_opts_default(&o);
    o.lenient = 1;
    int rc = dataset_scan(&d, path, &o, err, sizeof err);
    cr_assert_eq(rc, 0, "scan failed: %s", err);
    for (size_t i = 0; i < d.n_problems; i++)
        cr_assert(d.n_classes == 1 && strstr(d.problems[i], "only one class"), "scan: %s", d.problems[i]);
    return d;
}

// ---------------------------------------------------------------------------------------------

Test(dataset, order_is_torchvisions) {
    const char *files[] = {"train/zebra/b.jpg",      "train/zebra/A.JPG",     "train/zebra/a b/1.png",
                           "train/zebra/a/x/2.jpeg", "train/zebra/a/1.jpg",   "train/zebra/a0/3.Png",
                           "train/zebra/notes.txt",  "train/apple/z.webp",    "train/apple/y.bmp",
                           "train/apple/x.tiff",     "train/apple/sub/w.ppm", "train/Mango/m.pgm",
                           "train/apple/readme",     "valid/zebra/v.jpg"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) make(files[i]);

    // torchvision itself, as the oracle: ImageFolder lists (path, label) without opening the files
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import sys; from torchvision.datasets import ImageFolder; "
             "d = ImageFolder(sys.argv[1], loader=lambda p: 0); "
             "[print(p + '\\t' + str(c)) for p, c in d.samples]\" %s/train",
             root);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char want[8192] = "";
    size_t got_len = fread(want, 1, sizeof want - 1, p);
    want[got_len] = '\0';
    cr_assert_eq(pclose(p), 0, "torchvision oracle failed");

    dataset d = scan_ok("");
    char mine[8192] = "";
    size_t used = 0;
    for (size_t i = 0; i < d.train.n_items; i++)
        used += (size_t)snprintf(mine + used, sizeof mine - used, "%s\t%d\n", d.train.items[i].path,
                                 d.train.items[i].label);
    cr_expect_str_eq(mine, want);
    cr_expect_eq(d.n_classes, 3);
    cr_expect_str_eq(d.classes[0], "Mango", "sorted by code point: upper case first");
    cr_expect_eq(d.train.n_items, 11);
    cr_expect_eq(d.valid.n_items, 1);
    cr_expect_eq(d.valid.items[0].label, 2);
    dataset_free(&d);
}

Test(dataset, classes_are_the_union_of_splits) {
    make("train/cats/1.jpg");
    make("train/dogs/1.jpg");
    make("train/owls/1.jpg");
    make("valid/cats/1.jpg");
    make("valid/dogs/1.jpg");
    make("valid/eels/1.jpg");
    dataset d = scan_ok("");
    cr_assert_eq(d.n_classes, 4);
    const char *want[] = {"cats", "dogs", "eels", "owls"};
    for (int i = 0; i < 4; i++) cr_expect_str_eq(d.classes[i], want[i]);
    // dogs is 1 in both splits although valid/ has no owls and train/ no eels
    cr_expect_eq(d.train.items[1].label, 1);
    cr_expect_eq(d.valid.items[1].label, 1);
    cr_expect_eq(d.valid.items[2].label, 2);
    cr_expect_eq(d.train.class_counts[2], 0);
    cr_expect_eq(d.valid.class_counts[3], 0);
    dataset_free(&d);
}

Test(dataset, hidden_names_are_ignored) {
    make("train/cats/1.jpg");
    make("train/cats/.hidden.jpg");
    make("train/cats/._1.jpg");
    make("train/cats/.ipynb_checkpoints/1-checkpoint.jpg");
    make("train/.ipynb_checkpoints/x.jpg");
    make("train/.DS_Store/");
    make("valid/cats/2.jpg");
    dataset d = scan_ok("");
    cr_expect_eq(d.n_classes, 1);
    cr_expect_eq(d.train.n_items, 1);
    cr_expect(strstr(d.train.items[0].path, "cats/1.jpg") != NULL);
    dataset_free(&d);
}

Test(dataset, empty_class_is_an_error_naming_it) {
    make("train/cats/1.jpg");
    make("train/dogs/notes.txt");
    make("valid/cats/1.jpg");
    char err[1024];
    dataset d;
    cr_expect_eq(dataset_scan(&d, root, NULL, err, sizeof err), -1);
    cr_expect(strstr(err, "train/dogs") && strstr(err, "no usable image"), "%s", err);
    dataset_free(&d);

    dataset_opts o;
    dataset_opts_default(&o);
    o.lenient = 1;
    cr_expect_eq(dataset_scan(&d, root, &o, err, sizeof err), 0);
    cr_expect_eq(d.n_problems, 1);
    cr_expect_eq(d.train.n_items, 1);
    dataset_free(&d);
}

Test(dataset, val_folder_is_the_valid_split) {
    make("train/a/1.jpg");
    make("val/a/2.jpg");
    dataset d = scan_ok("/");
    cr_expect_eq(d.valid.n_items, 1);
    cr_expect(strstr(d.valid.dir, "/val") != NULL);
    dataset_free(&d);
}

Test(dataset, class_folders_only_are_split_by_fraction) {
    char name[64];
    for (int i = 0; i < 30; i++) {
        snprintf(name, sizeof name, "cats/%02d.jpg", i);
        make(name);
        snprintf(name, sizeof name, "dogs/%02d.jpg", i);
        make(name);
    }
    make("dogs/extra.jpg");
    dataset_opts o;
    dataset_opts_default(&o);
    o.valid_fraction = 0.2;
    o.seed = 7;
    char err[1024];
    dataset a, b, c;
    cr_assert_eq(dataset_scan(&a, root, &o, err, sizeof err), 0, "%s", err);
    cr_expect(a.split_by_fraction);
    cr_expect_eq(a.valid.class_counts[0], 6);
    cr_expect_eq(a.valid.class_counts[1], 6, "round(31 * 0.2) = 6");
    cr_expect_eq(a.train.n_items + a.valid.n_items, 61);
    for (size_t i = 0; i < a.valid.n_items; i++)
        for (size_t k = 0; k < a.train.n_items; k++)
            cr_assert(strcmp(a.valid.items[i].path, a.train.items[k].path) != 0, "a file in both splits");
    cr_assert_eq(dataset_scan(&b, root, &o, err, sizeof err), 0);
    o.seed = 8;
    cr_assert_eq(dataset_scan(&c, root, &o, err, sizeof err), 0);
    int same_b = 1, same_c = 1;
    for (size_t i = 0; i < a.valid.n_items; i++) {
        same_b &= strcmp(a.valid.items[i].path, b.valid.items[i].path) == 0;
        same_c &= strcmp(a.valid.items[i].path, c.valid.items[i].path) == 0;
    }
    cr_expect(same_b, "the same seed gives the same split");
    cr_expect(!same_c, "another seed gives another split");
    dataset_free(&a);
    dataset_free(&b);
    dataset_free(&c);
}

Test(dataset, symlink_loops_and_broken_links_are_skipped_and_named) {
    make("train/cats/1.jpg");
    make("valid/cats/1.jpg");
    char a[1024], b[1024], loop_dir[1024], broken[1024];
    snprintf(a, sizeof a, "%s/train/cats/a.jpg", root);
    snprintf(b, sizeof b, "%s/train/cats/b.jpg", root);
    snprintf(loop_dir, sizeof loop_dir, "%s/train/cats/again", root);
    snprintf(broken, sizeof broken, "%s/train/cats/gone.jpg", root);
    cr_assert_eq(symlink(b, a), 0);
    cr_assert_eq(symlink(a, b), 0);
    cr_assert_eq(symlink("..", loop_dir), 0);   // train/cats/again -> train: contains cats again
    cr_assert_eq(symlink("/nonexistent/x.jpg", broken), 0);
    dataset d = scan_ok("");
    cr_expect_eq(d.n_classes, 1);
    // cats/1.jpg, and once more through again/cats/1.jpg before the loop is noticed one level down
    cr_expect_geq(d.train.n_items, 1);
    cr_expect_leq(d.train.n_items, 3);
    size_t n = badfiles_count(&d.skipped);
    cr_expect_geq(n, 3, "two link loops and a broken link are reported, got %zu", n);
    int saw_loop = 0, saw_broken = 0;
    for (size_t i = 0; i < n; i++) {
        char path[1024], reason[256];
        badfiles_get(&d.skipped, i, path, sizeof path, reason, sizeof reason);
        saw_loop |= strstr(reason, "loop") != NULL;
        saw_broken |= strstr(path, "gone.jpg") && strstr(reason, "broken");
    }
    cr_expect(saw_loop && saw_broken);
    dataset_free(&d);
}

Test(dataset, bad_roots) {
    char err[1024], path[1024];
    dataset d;
    snprintf(path, sizeof path, "%s/absent", root);
    cr_expect_eq(dataset_scan(&d, path, NULL, err, sizeof err), -1);
    cr_expect(strstr(err, "No such file") != NULL, "%s", err);
    dataset_free(&d);
    make("file.jpg");
    snprintf(path, sizeof path, "%s/file.jpg", root);
    cr_expect_eq(dataset_scan(&d, path, NULL, err, sizeof err), -1);
    cr_expect(strstr(err, "not a folder") != NULL, "%s", err);
    dataset_free(&d);
    cr_expect_eq(dataset_scan(&d, root, NULL, err, sizeof err), -1);   // holds only file.jpg
    cr_expect(strstr(err, "no class folders") != NULL, "%s", err);
    dataset_free(&d);
    make("valid/cats/1.jpg");
    cr_expect_eq(dataset_scan(&d, root, NULL, err, sizeof err), -1);
    cr_expect(strstr(err, "no train/") != NULL, "%s", err);
    dataset_free(&d);
    (void)rel;
}

// One class is nothing to tell apart: the scan says so (training refuses it; doctor lists it).
Test(dataset, one_class_is_a_problem) {
    make("train/only/1.jpg");
    make("valid/only/2.jpg");
    dataset d;
    char err[1024];
    cr_expect_eq(dataset_scan(&d, root, NULL, err, sizeof err), -1);
    cr_expect(strstr(err, "only one class (only)"), "%s", err);
    dataset_free(&d);
}
