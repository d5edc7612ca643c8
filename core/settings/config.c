// config.c — see config.h.
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "frost_torch.h"
#include "number.h"
#include "regular_file.h"

int config_path(char *out, size_t len, char *err, size_t errlen) {
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')   // the spec: a relative value is to be ignored
        n = snprintf(out, len, "%s/frost/config", xdg);
    else if (home && *home)
        n = snprintf(out, len, "%s/.config/frost/config", home);
    else {
        errmsg_set(err, errlen, "neither XDG_CONFIG_HOME nor HOME is set");
        return -1;
    }
    if (n < 0 || (size_t)n >= len) {
        errmsg_set(err, errlen, "the config file's path is too long");
        return -1;
    }
    return 0;
}

static void unset(frost_config *c) {
    char path[sizeof c->path];
    memcpy(path, c->path, sizeof path);
    memset(c, 0, sizeof *c);
    memcpy(c->path, path, sizeof path);
    c->weights = -1;
    c->feature_cache_mb = -1;
    c->runs = -1;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

static int known_arch(const char *v) {
    for (size_t i = 0; ft_arch_name(i); i++)
        if (strcmp(ft_arch_name(i), v) == 0) return 1;
    return 0;
}

static int known_device(const char *v) {
    if (strcmp(v, "auto") == 0 || strcmp(v, "cpu") == 0 || strcmp(v, "cuda") == 0) return 1;
    if (strncmp(v, "cuda:", 5) != 0 || !v[5]) return 0;
    for (const char *p = v + 5; *p; p++)
        if (!isdigit((unsigned char)*p)) return 0;
    return strlen(v) < 12;
}

// Copies v into dst (size len): 0, or -1 when it does not fit.
static int set_text(char *dst, size_t len, const char *v) {
    if (strlen(v) >= len) return -1;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

// One line's setting: 0, or -1 with what is wrong in why.
static int apply(frost_config *c, const char *key, const char *v, char *why, size_t whylen) {
    if (!*v) return errmsg_set(why, whylen, "'%s' has no value", key), -1;
    if (strcmp(key, "theme") == 0) {
        if (set_text(c->theme, sizeof c->theme, v)) return errmsg_set(why, whylen, "the theme's name is too long"), -1;
    } else if (strcmp(key, "arch") == 0) {
        if (!known_arch(v)) return errmsg_set(why, whylen, "unknown architecture '%s'", v), -1;
        set_text(c->arch, sizeof c->arch, v);
    } else if (strcmp(key, "device") == 0) {
        if (!known_device(v)) return errmsg_set(why, whylen, "device is auto, cpu, cuda or cuda:N, not '%s'", v), -1;
        set_text(c->device, sizeof c->device, v);
    } else if (strcmp(key, "workers") == 0) {
        long long n;
        if (number_parse_int(v, 1, 256, &n) != 0)
            return errmsg_set(why, whylen, "workers is a whole number from 1 to 256, not '%s'", v), -1;
        c->workers = (int)n;
    } else if (strcmp(key, "weights") == 0) {
        if (strcmp(v, "imagenet") == 0)
            c->weights = 1;
        else if (strcmp(v, "none") == 0)
            c->weights = 0;
        else
            return errmsg_set(why, whylen, "weights is imagenet or none, not '%s'", v), -1;
    } else if (strcmp(key, "dataset") == 0) {
        const char *home = getenv("HOME");
        int n = strncmp(v, "~/", 2) == 0 && home ? snprintf(c->dataset, sizeof c->dataset, "%s%s", home, v + 1)
                                                 : snprintf(c->dataset, sizeof c->dataset, "%s", v);
        if (n < 0 || (size_t)n >= sizeof c->dataset) {
            c->dataset[0] = '\0';
            return errmsg_set(why, whylen, "the dataset's path is too long"), -1;
        }
    } else if (strcmp(key, "feature_cache_mb") == 0) {
        long long n;
        if (number_parse_int(v, 0, 1LL << 30, &n) != 0)
            return errmsg_set(why, whylen, "feature_cache_mb is a size in MB (0: off), not '%s'", v), -1;
        c->feature_cache_mb = n;
    } else if (strcmp(key, "runs") == 0) {
        if (strcmp(v, "on") == 0)
            c->runs = 1;
        else if (strcmp(v, "off") == 0)
            c->runs = 0;
        else
            return errmsg_set(why, whylen, "runs is on or off, not '%s'", v), -1;
    } else {
        return errmsg_set(
                   why, whylen,
                   "unknown setting '%s' (theme, arch, device, workers, weights, dataset, feature_cache_mb, runs)",
                   key),
               -1;
    }
    return 0;
}

int config_parse(frost_config *c, const char *text, const char *file, char *err, size_t errlen) {
    unset(c);
    char *copy = strdup(text);
    if (!copy) return errmsg_set(err, errlen, "%s: out of memory", file), -1;
    int rc = 0, lineno = 0;
    for (char *line = copy, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#') continue;
        char *eq = strchr(s, '='), why[512];
        if (!eq)
            errmsg_set(why, sizeof why, "expected 'setting = value'");
        else {
            *eq = '\0';
            if (apply(c, trim(s), trim(eq + 1), why, sizeof why) == 0) continue;
        }
        if (rc == 0) errmsg_set(err, errlen, "%s:%d: %s", file, lineno, why);   // the first mistake
        rc = -1;
    }
    free(copy);
    return rc;
}

int config_load(frost_config *c, char *err, size_t errlen) {
    memset(c->path, 0, sizeof c->path);
    unset(c);
    char path[sizeof c->path];
    if (config_path(path, sizeof path, err, errlen) != 0) return 0;   // nowhere to look: no file
    struct stat st;
    char why[256];
    int fd = regular_file_open(path, &st, why, sizeof why);
    if (fd < 0) {
        if (access(path, F_OK) != 0 && errno == ENOENT) return 0;   // no file: the built-in defaults
        return errmsg_set(err, errlen, "%s: %s", path, why), -1;
    }
    snprintf(c->path, sizeof c->path, "%s", path);
    enum { MAX = 64 * 1024 };   // a few lines; more is not a config file
    char *buf = malloc(MAX + 1);
    ssize_t n = buf ? read(fd, buf, MAX + 1) : -1;
    close(fd);
    if (n < 0 || n > MAX || memchr(buf, '\0', (size_t)n)) {
        free(buf);
        return errmsg_set(err, errlen, "%s: %s", path,
                          n < 0 ? "cannot read it" : "not a config file (too big, or binary)"),
               -1;
    }
    buf[n] = '\0';
    int rc = config_parse(c, buf, path, err, errlen);
    free(buf);
    return rc;
}
