// folder_walk.c — see folder_walk.h.
#include "folder_walk.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "errmsg.h"
#include "path.h"

enum { MAX_DEPTH = 64 };

int folder_is_image_name(const char *name) {
    static const char *const ext[] = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"};
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t le = strlen(ext[i]);
        if (len >= le && strcasecmp(name + len - le, ext[i]) == 0) return 1;
    }
    return 0;
}

static int push(folder_files *f, size_t *cap, char *owned) {
    if (!owned) return -1;
    if (f->n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        char **grown = realloc(f->paths, c * sizeof *grown);
        if (!grown) {
            free(owned);
            return -1;
        }
        f->paths = grown;
        *cap = c;
    }
    f->paths[f->n++] = owned;
    return 0;
}

void folder_files_free(folder_files *f) {
    for (size_t i = 0; i < f->n; i++) free(f->paths[i]);
    free(f->paths);
    f->paths = NULL;
    f->n = 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// ---------------------------------------------------------------------------------------------

typedef struct {
    char *dir;
    folder_files files;   // sorted by name
    size_t cap;
} walked_dir;

typedef struct {
    walked_dir *v;
    size_t n, cap;
} walk_list;

typedef struct {
    dev_t dev;
    ino_t ino;
} dir_id;

static int cmp_walked(const void *a, const void *b) {
    return strcmp(((const walked_dir *)a)->dir, ((const walked_dir *)b)->dir);
}

// Collects dir and the folders below it. `up` holds the folders on the way down, to stop symlink
// loops.
static int walk(const char *dir, badfile_list *skipped, dir_id *up, int depth, walk_list *out) {
    DIR *dp = opendir(dir);
    if (!dp) {
        char reason[256];
        errmsg_set(reason, sizeof reason, "cannot open folder: %s", strerror(errno));
        badfiles_add(skipped, dir, reason);
        return 0;
    }
    if (out->n == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 8;
        walked_dir *grown = realloc(out->v, cap * sizeof *grown);
        if (!grown) {
            closedir(dp);
            return -1;
        }
        out->v = grown;
        out->cap = cap;
    }
    size_t me = out->n++;
    out->v[me] = (walked_dir){.dir = strdup(dir)};
    folder_files subdirs = {0};
    size_t sub_cap = 0;
    struct dirent *e;
    int rc = out->v[me].dir ? 0 : -1;
    while (rc == 0 && (e = readdir(dp))) {
        if (e->d_name[0] == '.') continue;
        char *p = path_join(dir, e->d_name);
        if (!p) {
            rc = -1;
            break;
        }
        struct stat st;
        if (stat(p, &st) != 0) {
            // a name we cannot follow: a broken symlink, or a loop the kernel caught (ELOOP)
            if (folder_is_image_name(e->d_name))
                badfiles_add(skipped, p, errno == ELOOP ? "symbolic link loop" : "broken symbolic link");
            free(p);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int loop = depth >= MAX_DEPTH;
            for (int k = 0; k < depth && !loop; k++) loop = up[k].dev == st.st_dev && up[k].ino == st.st_ino;
            if (loop) {
                badfiles_add(skipped, p, "symbolic link loop (folder contains itself)");
                free(p);
            } else {
                rc = push(&subdirs, &sub_cap, p);
            }
        } else if (folder_is_image_name(e->d_name)) {
            rc = push(&out->v[me].files, &out->v[me].cap, p);
        } else {
            free(p);
        }
    }
    closedir(dp);
    folder_files *files = &out->v[me].files;
    if (files->n > 1) qsort(files->paths, files->n, sizeof(char *), cmp_str);
    for (size_t i = 0; rc == 0 && i < subdirs.n; i++) {
        struct stat st;
        if (stat(subdirs.paths[i], &st) != 0) continue;
        up[depth] = (dir_id){st.st_dev, st.st_ino};
        rc = walk(subdirs.paths[i], skipped, up, depth + 1, out);
    }
    folder_files_free(&subdirs);
    return rc;
}

int folder_walk_images(const char *dir, badfile_list *skipped, folder_files *out) {
    dir_id up[MAX_DEPTH + 1];
    struct stat st;
    if (stat(dir, &st) == 0) up[0] = (dir_id){st.st_dev, st.st_ino};
    walk_list w = {0};
    int rc = walk(dir, skipped, up, 1, &w);
    if (w.n > 1) qsort(w.v, w.n, sizeof *w.v, cmp_walked);
    size_t cap = out->n;   // grown by push from here on
    for (size_t i = 0; i < w.n; i++) {
        for (size_t k = 0; k < w.v[i].files.n; k++) {
            if (rc == 0) {
                rc = push(out, &cap, w.v[i].files.paths[k]);
                w.v[i].files.paths[k] = NULL;   // out owns it now (or push freed it)
            }
        }
        free(w.v[i].dir);
        folder_files_free(&w.v[i].files);
    }
    free(w.v);
    return rc;
}
