// fuzz_dataset.c — libFuzzer target: the dataset scanner on trees the input describes. Each 3-byte
// step adds one entry under one of the folders made so far: a folder, a file (with or without an
// image extension, hidden or not, a name that is not UTF-8) or a symbolic link (to its parent, to
// itself, to a sibling, to nowhere). Then the tree is scanned strictly and leniently, and removed.
#define _GNU_SOURCE   // nftw's FTW_PHYS, mkdtemp
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"

static const char *const NAMES[] = {"train", "valid", "val",          "a",    "b",       "c",      ".hidden", "x.jpg",
                                    "y.PNG", "z.txt", "\xff\xfe.jpg", "deep", "._x.jpg", "w.webp", "loop",    "e"};
#define N_NAMES (sizeof NAMES / sizeof NAMES[0])
#define MAX_DIRS 32

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    char tmpl[] = "/tmp/frost-fuzz-dataset-XXXXXX";
    char *root = mkdtemp(tmpl);
    if (!root) return 0;
    static char dirs[MAX_DIRS][1024];
    int n_dirs = 1;
    snprintf(dirs[0], sizeof dirs[0], "%s", root);
    for (size_t i = 0; i + 3 <= len && i < 3 * 64; i += 3) {
        int kind = data[i] % 4, parent = data[i + 1] % n_dirs;
        const char *name = NAMES[data[i + 2] % N_NAMES];
        char path[2048];
        if (snprintf(path, sizeof path, "%s/%s", dirs[parent], name) >= (int)sizeof path) continue;
        if (kind == 0) {   // a folder
            if (mkdir(path, 0700) == 0 && n_dirs < MAX_DIRS) snprintf(dirs[n_dirs++], sizeof dirs[0], "%s", path);
        } else if (kind == 1) {   // a file
            FILE *f = fopen(path, "wb");
            if (f) {
                fputs("not really an image", f);
                fclose(f);
            }
        } else {   // a link
            // targets stay inside the tree (a link out of it would scan whatever is there: /tmp, or /)
            static const char *const TARGETS[] = {"..", ".", "/nonexistent/frost", "a", "../..", "train"};
            const char *target = TARGETS[data[i + 2] % 6];
            int depth = 0;
            for (const char *p = dirs[parent] + strlen(root); *p; p++) depth += *p == '/';
            if ((target[0] == '.' && target[1] == '.' && depth < 1) || (strcmp(target, "../..") == 0 && depth < 2))
                target = ".";
            if (symlink(target, path) != 0) continue;
        }
    }
    for (int lenient = 0; lenient < 2; lenient++) {
        dataset d;
        dataset_opts o;
        dataset_opts_default(&o);
        o.lenient = lenient;
        o.valid_fraction = len ? (double)(data[0] % 101) / 100.0 : 0.2;
        char err[512];
        dataset_scan(&d, root, &o, err, sizeof err);
        dataset_free(&d);
    }
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
