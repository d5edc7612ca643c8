// test_folder_walk.c — image files found the way torchvision's ImageFolder finds them
// (core/data/folder_walk.c), with Python itself as the oracle for the order: sorted(os.walk(dir,
// followlinks=True)), names sorted in each folder, torchvision's IMG_EXTENSIONS in any case. Where
// frost differs on purpose (names starting with '.', link loops, broken links) the test says so.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badfiles.h"
#include "fixtures.h"
#include "folder_walk.h"
#include "path.h"
#include "testutil.h"

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}
TestSuite(folder_walk, .init = setup, .fini = teardown);

static void touch(const char *rel) {
    const char *p = fx_at(dir, rel);
    tu_mkdirs_for(p);
    cr_assert_eq(tu_write_file(p, "x", 1), 0, "%s", p);
}

// What torchvision's make_dataset walk keeps under root, one path a line, in its order.
static char *python_walk(const char *root) {
    char script[1024], cmd[2048];
    snprintf(script, sizeof script, "%s/walk.py", dir);
    const char *py = "import os, sys\n"
                     "from torchvision.datasets.folder import IMG_EXTENSIONS\n"
                     "for d, _, files in sorted(os.walk(sys.argv[1], followlinks=True)):\n"
                     "    for f in sorted(files):\n"
                     "        if f.lower().endswith(IMG_EXTENSIONS): print(os.path.join(d, f))\n";
    cr_assert_eq(tu_write_file(script, py, strlen(py)), 0);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s '%s'", script, root);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    size_t got;
    while ((got = fread(out + n, 1, cap - n - 1, p)) > 0) n += got;
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "python3 and torchvision (the test oracle) are needed");
    return out;
}

Test(folder_walk, the_order_and_extensions_of_torchvision) {
    // folder names whose path order is not depth-first ("a b" < "a/x" < "a0"), names in both cases,
    // every extension, files that are not images
    const char *files[] = {"cls/z.jpg",     "cls/B.JPG",     "cls/a b/1.jpeg", "cls/a/x/2.png", "cls/a0/3.ppm",
                           "cls/a/4.bmp",   "cls/a/5.PGM",   "cls/a/6.tif",    "cls/a/7.TIFF",  "cls/a/8.webp",
                           "cls/notes.txt", "cls/a/read.me", "cls/a/x/y/9.jpg"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) touch(files[i]);
    const char *root = fx_at(dir, "cls");
    char *want = python_walk(root);
    badfile_list skipped;
    badfiles_init(&skipped);
    folder_files got = {0};
    cr_assert_eq(folder_walk_images(root, &skipped, &got), 0);
    size_t used = 0;
    char *text = calloc(1, 1 << 16);
    for (size_t i = 0; i < got.n; i++) used += (size_t)snprintf(text + used, (1 << 16) - used, "%s\n", got.paths[i]);
    cr_expect_str_eq(text, want, "frost:\n%s\ntorchvision:\n%s", text, want);
    cr_expect_eq(got.n, 11);
    cr_expect_eq(badfiles_count(&skipped), 0);
    free(text);
    free(want);
    folder_files_free(&got);
    badfiles_free(&skipped);
}

Test(folder_walk, dot_names_loops_and_broken_links_on_purpose) {
    touch("cls/a.jpg");
    touch("cls/.hidden.jpg");   // macOS "._x.jpg" files and the like: never images
    touch("cls/.ipynb_checkpoints/b.jpg");
    cr_assert_eq(symlink(fx_at(dir, "cls"), fx_at(dir, "cls/loop")), 0);   // a folder that contains itself
    cr_assert_eq(symlink("/nonexistent/frost.jpg", fx_at(dir, "cls/gone.jpg")), 0);
    badfile_list skipped;
    badfiles_init(&skipped);
    folder_files got = {0};
    cr_assert_eq(folder_walk_images(fx_at(dir, "cls"), &skipped, &got), 0);
    cr_expect_eq(got.n, 1, "only a.jpg");
    cr_expect_str_eq(path_base(got.paths[0]), "a.jpg");
    cr_expect_eq(badfiles_count(&skipped), 2, "the loop and the broken link are named");
    char path[4096], reason[256];
    int saw_loop = 0, saw_broken = 0;
    for (size_t i = 0; i < 2; i++) {
        cr_assert_eq(badfiles_get(&skipped, i, path, sizeof path, reason, sizeof reason), 0);
        saw_loop |= strstr(path, "loop") && strstr(reason, "loop");
        saw_broken |= strstr(path, "gone.jpg") && strstr(reason, "broken");
    }
    cr_expect(saw_loop && saw_broken);
    folder_files_free(&got);
    badfiles_free(&skipped);
}

Test(folder_walk, paths_join_and_split) {
    const char *cases[][3] = {
        {"a", "b", "a/b"}, {"a/", "b", "a/b"}, {"a//", "b", "a/b"}, {"/", "b", "/b"}, {"", "b", "b"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *p = path_join(cases[i][0], cases[i][1]);
        cr_expect_str_eq(p, cases[i][2], "'%s' + '%s'", cases[i][0], cases[i][1]);
        free(p);
    }
    char out[8];
    cr_expect_eq(path_join_to(out, sizeof out, "ab//", "cd"), 0);
    cr_expect_str_eq(out, "ab/cd");
    cr_expect_eq(path_join_to(out, sizeof out, "abc", "defg"), -1, "8 bytes hold 7 characters");
    cr_expect_str_eq(out, "", "what does not fit leaves nothing half-written");
    cr_expect_eq(path_join_to(out, sizeof out, "abc", "def"), 0);
    cr_expect_str_eq(out, "abc/def");
    cr_expect_str_eq(path_base("a/b/c.jpg"), "c.jpg");
    cr_expect_str_eq(path_base("c.jpg"), "c.jpg");
    cr_expect(path_is_dir(dir));
    touch("f.jpg");
    cr_expect(!path_is_dir(fx_at(dir, "f.jpg")));
    cr_expect(!path_is_dir(fx_at(dir, "nothing")));
    cr_expect_eq(path_file_size(fx_at(dir, "f.jpg")), 1, "touch writes one byte");
    cr_expect_eq(path_file_size(fx_at(dir, "nothing")), -1);
    cr_expect_eq(path_file_size(dir), -1, "a folder is no file");
    cr_expect(folder_is_image_name("X.JpEg") && !folder_is_image_name("x.jpg.txt") && !folder_is_image_name("jpg"));
}
