// path.c — see path.h.
#include "path.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *path_join(const char *dir, const char *name) {
    size_t ld = strlen(dir), ln = strlen(name);
    while (ld > 1 && dir[ld - 1] == '/') ld--;
    int slash = ld > 0 && !(ld == 1 && dir[0] == '/');
    char *p = malloc(ld + (size_t)slash + ln + 1);
    if (!p) return NULL;
    memcpy(p, dir, ld);
    if (slash) p[ld] = '/';
    memcpy(p + ld + (size_t)slash, name, ln + 1);
    return p;
}

int path_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *path_base(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}
