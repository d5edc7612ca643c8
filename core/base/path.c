// path.c — see path.h.
#include "path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// The bytes of dir kept (its trailing slashes dropped) and whether a '/' goes between it and the name.
static size_t join_parts(const char *dir, int *slash) {
    size_t ld = strlen(dir);
    while (ld > 1 && dir[ld - 1] == '/') ld--;
    *slash = ld > 0 && !(ld == 1 && dir[0] == '/');
    return ld;
}

static void join_into(char *p, const char *dir, size_t ld, int slash, const char *name, size_t ln) {
    memcpy(p, dir, ld);
    if (slash) p[ld] = '/';
    memcpy(p + ld + (size_t)slash, name, ln + 1);
}

char *path_join(const char *dir, const char *name) {
    int slash;
    size_t ld = join_parts(dir, &slash), ln = strlen(name);
    char *p = malloc(ld + (size_t)slash + ln + 1);
    if (p) join_into(p, dir, ld, slash, name, ln);
    return p;
}

int path_join_to(char *out, size_t len, const char *dir, const char *name) {
    int slash;
    size_t ld = join_parts(dir, &slash), ln = strlen(name);
    if (ld + (size_t)slash + ln >= len) {
        if (len) out[0] = '\0';
        return -1;
    }
    join_into(out, dir, ld, slash, name, ln);
    return 0;
}

long long path_file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
}

int path_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *path_base(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

char *path_folder(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int path_mkdirs(const char *dir) {
    char p[4096];
    int n = snprintf(p, sizeof p, "%s", dir);
    if (n <= 0 || (size_t)n >= sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) return -1;
        *s = '/';
    }
    return mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int path_beside_program(char *out, size_t len, const char *const *candidates, int (*accept)(const char *path)) {
    if (!len) return -1;
    out[0] = '\0';
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
    if (!slash) return -1;
    *slash = '\0';
    for (size_t k = 0; candidates[k]; k++) {
        char cand[4096 + 256];
        snprintf(cand, sizeof cand, "%s/%s", exe, candidates[k]);
        if (strlen(cand) < len && accept(cand)) {
            memcpy(out, cand, strlen(cand) + 1);
            return 0;
        }
    }
    return -1;
}
