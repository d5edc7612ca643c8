// cache.c — `frost cache list|clear`: the feature cache on disk (core/train/feature_store.h), its entries
// listed with what they hold, or all removed. The group and its two commands live here: each is a few
// lines over feature_store.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "feature_store.h"
#include "i18n.h"

static double mb(long long bytes) { return (double)bytes / 1e6; }

// "12.3 MB", or "16.4 KB" under a tenth of a MB, in one of 4 rotating buffers
static const char *size_text(long long bytes) {
    static char buf[4][32];
    static int k;
    k = (k + 1) % 4;
    if (bytes < 100000)
        snprintf(buf[k], sizeof buf[k], "%.1f KB", (double)bytes / 1e3);
    else
        snprintf(buf[k], sizeof buf[k], "%.1f MB", mb(bytes));
    return buf[k];
}

// The folder and the cap; 0, or CLI_FAILED with the error printed.
static int where(char *dir, size_t len, long long *cap, char *from, size_t fromlen) {
    char err[1024];
    if (feature_store_dir(dir, len, err, sizeof err) != 0) return cli_fail(CLI_FAILED, "%s", err);
    *cap = feature_store_cap(from, fromlen, err, sizeof err);
    if (err[0]) fprintf(stderr, "frost: %s\n", cli_safe(err));
    return 0;
}

static int list(int argc, char **argv) {
    (void)argv;
    if (argc > 1) return cli_fail(CLI_USAGE, "cache list takes no arguments");
    char dir[4096], from[4200], err[1024];
    long long cap, total;
    int rc = where(dir, sizeof dir, &cap, from, sizeof from);
    if (rc) return rc;
    feature_store_item *it;
    size_t n;
    if (feature_store_list(dir, &it, &n, &total, err, sizeof err) != 0) return cli_fail(CLI_FAILED, "%s", err);
    if (n)
        printf("%-12s %-5s %7s %5s %11s  %-16s  %s\n", "arch", "split", "images", "bad", "size", "last used",
               "dataset");
    for (size_t i = 0; i < n; i++) {
        char when[32] = "?", images[24] = "?", bad[24] = "?";
        time_t t = (time_t)it[i].used;
        struct tm tm;
        if (localtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        if (it[i].rows >= 0) {
            snprintf(images, sizeof images, "%lld", it[i].rows);
            snprintf(bad, sizeof bad, "%lld", it[i].bad);
        }
        if (it[i].rows < 0)
            printf("%-12s %-5s %7s %5s %11s  %-16s  %s (unreadable or stale: a run replaces it, or it ages out)\n", "?",
                   "?", images, bad, size_text(it[i].bytes), when, cli_safe(it[i].path));
        else
            printf("%-12s %-5s %7s %5s %11s  %-16s  %s\n", cli_safe(it[i].arch), cli_safe(it[i].split), images, bad,
                   size_text(it[i].bytes), when, cli_safe(it[i].root));
    }
    free(it);
    if (n)
        printf("\n%zu entr%s, %s of the %.0f MB cap (%s) in %s\n", n, n == 1 ? "y" : "ies", size_text(total), mb(cap),
               cli_safe(from), cli_safe(dir));
    else
        printf("no entries in %s (cap %.0f MB: %s)\n", cli_safe(dir), mb(cap), cli_safe(from));
    return CLI_OK;
}

static int clear(int argc, char **argv) {
    (void)argv;
    if (argc > 1) return cli_fail(CLI_USAGE, "cache clear takes no arguments");
    char dir[4096], from[4200], err[1024];
    long long cap, freed;
    size_t removed;
    int rc = where(dir, sizeof dir, &cap, from, sizeof from);
    if (rc) return rc;
    rc = feature_store_clear(dir, &freed, &removed, err, sizeof err);
    printf("removed %zu entr%s, %s freed (%s)\n", removed, removed == 1 ? "y" : "ies", size_text(freed), cli_safe(dir));
    return rc ? cli_fail(CLI_FAILED, "cache clear: %s", err) : CLI_OK;
}

static const cli_command cli_cache_list = {
    .name = "cache list",
    .help = N_("the feature cache's entries (a frozen backbone's outputs kept on disk by train): architecture,\n"
               "split, images, known bad files, size, last use and dataset, newest first; the total and the cap"),
    .examples = "frost cache list",
    .run = list,
};

static const cli_command cli_cache_clear = {
    .name = "cache clear",
    .help = N_("remove every entry of the feature cache, saying how much it freed"),
    .examples = "frost cache clear",
    .run = clear,
};

const cli_command cli_cache = {
    .name = "cache",
    .synopsis = "list or clear",
    .help = N_("(entries live in $XDG_CACHE_HOME/frost/features; the cap, 2048 MB by default, is\n"
               "FROST_FEATURE_CACHE_MB or feature_cache_mb in the config file, 0 for none)"),
    .group = (const cli_command *const[]){&cli_cache_list, &cli_cache_clear, NULL},
};
