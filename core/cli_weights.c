// cli_weights.c — `frost weights list | fetch ARCH | path ARCH` (and `check FILE`, in
// cli_weights_check.c): the known pretrained weights, where they are cached, and downloading them.
// The progress bar goes to stderr (a redrawn line on a terminal, a line per 10% otherwise) so that
// stdout holds only the result.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fetch.h"
#include "frost_torch.h"
#include "weights_table.h"

// ---------------------------------------------------------------------------------------------
// progress (shared with `frost train --pretrained`)

void cli_fetch_progress(void *user, uint64_t done, uint64_t total) {
    cli_progress *p = user;
    int tty = isatty(STDERR_FILENO);
    if (tty) {
        long long step = (long long)(done / 100000);
        if (p->shown && step == p->last_step && done != total) return;
        p->last_step = step;
        const int width = 30;
        int filled = total ? (int)((double)done / (double)total * width) : 0;
        if (filled > width) filled = width;
        fprintf(stderr, "\r%s [", p->name);
        for (int k = 0; k < width; k++) fputc(k < filled ? '#' : '.', stderr);
        if (total)
            fprintf(stderr, "] %.1f/%.1f MB %3d%%\033[K", (double)done / 1e6, (double)total / 1e6,
                    (int)((double)done * 100.0 / (double)total));
        else
            fprintf(stderr, "] %.1f MB\033[K", (double)done / 1e6);
        p->shown = 1;
    } else if (total) {
        int tenth = (int)((double)done * 10.0 / (double)total);
        if (!p->shown || tenth > p->last_tenth) {
            fprintf(stderr, "%s: %.1f/%.1f MB (%d%%)\n", p->name, (double)done / 1e6, (double)total / 1e6, tenth * 10);
            p->last_tenth = tenth;
            p->shown = 1;
        }
    }
    fflush(stderr);
}

void cli_fetch_progress_end(cli_progress *p) {
    if (p->shown && isatty(STDERR_FILENO)) fputs("\n", stderr);
    p->shown = 0;
}

// ---------------------------------------------------------------------------------------------

static int parse_source(const char *cmd, int argc, char **argv, const char **arch, const char **source) {
    *arch = NULL;
    *source = NULL;
    for (int i = 1; i < argc;) {
        int missing = 0;
        const char *v = cli_option_value(argc, argv, &i, "--source", &missing);
        if (v || missing) {
            if (missing) return cli_fail(CLI_USAGE, "weights %s: --source is one of %s", cmd, weights_table_sources());
            *source = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_fail(CLI_USAGE, "weights %s: unknown option '%s'", cmd, argv[i]);
        } else if (!*arch) {
            *arch = argv[i++];
        } else {
            return cli_fail(CLI_USAGE, "weights %s: unexpected argument '%s'", cmd, argv[i]);
        }
    }
    if (!*arch) return cli_fail(CLI_USAGE, "weights %s: which architecture? (frost weights %s ARCH)", cmd, cmd);
    if (ft_arch_family(*arch) == FT_FAMILY_NONE)
        return cli_fail(CLI_USAGE, "weights %s: unknown architecture '%s' (see frost help)", cmd, *arch);
    if (*source && !weights_table_find(*arch, *source)) {
        int known = 0;
        for (size_t i = 0; i < weights_table_count(); i++) known |= strcmp(weights_table_get(i)->source, *source) == 0;
        if (!known) return cli_fail(CLI_USAGE, "weights %s: --source is one of %s", cmd, weights_table_sources());
        return cli_fail(CLI_FAILED, "weights %s: %s has no %s weights (frost weights list)", cmd, *arch, *source);
    }
    return 0;
}

static int cmd_list(int argc, char **argv) {
    (void)argv;
    if (argc > 1) return cli_fail(CLI_USAGE, "weights list takes no arguments");
    char dir[4096], tdir[4096], err[512], path[4096];
    if (fetch_cache_dir(dir, sizeof dir, err, sizeof err) || fetch_torch_cache_dir(tdir, sizeof tdir, err, sizeof err))
        return cli_fail(CLI_FAILED, "%s", err);
    printf("%-10s %-15s %-14s %6s  %-30s %s\n", "arch", "source", "weights", "acc@1", "file", "cached");
    for (size_t i = 0; i < weights_table_count(); i++) {
        const weights_entry *e = weights_table_get(i);
        char src[32], acc[16];
        snprintf(src, sizeof src, "%s%s", e->source, e->is_default ? "*" : "");
        if (e->acc1 > 0)
            snprintf(acc, sizeof acc, "%.2f", e->acc1);
        else
            snprintf(acc, sizeof acc, "-");
        int cached = fetch_find_cached(e, path, sizeof path);
        printf("%-10s %-15s %-14s %6s  %-30s %s\n", e->arch, src, e->tag, acc, e->file, cached ? path : "no");
    }
    printf("\n* the default of --pretrained. Downloads go to %s; torchvision's cache %s is read too.\n", dir, tdir);
    return 0;
}

static int cmd_path(int argc, char **argv) {
    const char *arch, *source;
    int rc = parse_source("path", argc, argv, &arch, &source);
    if (rc) return rc;
    const weights_entry *e = weights_table_find(arch, source);
    char path[4096], dir[4096], err[512];
    if (fetch_find_cached(e, path, sizeof path)) {
        printf("%s\n", path);
        return 0;
    }
    if (fetch_cache_dir(dir, sizeof dir, err, sizeof err)) return cli_fail(CLI_FAILED, "%s", err);
    return cli_fail(CLI_FAILED, "%s (%s) is not downloaded: run frost weights fetch %s%s%s, or copy %s into %s by hand",
                    arch, e->source, arch, source ? " --source " : "", source ? source : "", e->file, dir);
}

static int cmd_fetch(int argc, char **argv) {
    const char *arch, *source;
    int rc = parse_source("fetch", argc, argv, &arch, &source);
    if (rc) return rc;
    const weights_entry *e = weights_table_find(arch, source);
    cli_progress p = {.name = e->file};
    fetch_result res;
    char err[1024];
    rc = fetch_weights(e, cli_fetch_progress, &p, NULL, &res, err, sizeof err);
    cli_fetch_progress_end(&p);
    if (rc) return cli_fail(CLI_FAILED, "%s", err);
    if (!res.downloaded)
        fprintf(stderr, "%s: already in the cache\n", e->file);
    else
        fprintf(stderr, "%s: %s%s\n", e->file,
                res.check == FETCH_FULL     ? "sha256 verified"
                : res.check == FETCH_PREFIX ? "sha256 prefix verified (as torchvision checks it)"
                                            : "downloaded; no published sha256 to verify it against",
                res.resumed ? " (resumed a partial download)" : "");
    printf("%s\n", res.path);
    return 0;
}

int cmd_weights(int argc, char **argv) {
    const char *sub = argc >= 2 ? argv[1] : NULL;
    if (sub && strcmp(sub, "check") == 0) return cmd_weights_check(argc - 1, argv + 1);
    if (sub && strcmp(sub, "list") == 0) return cmd_list(argc - 1, argv + 1);
    if (sub && strcmp(sub, "fetch") == 0) return cmd_fetch(argc - 1, argv + 1);
    if (sub && strcmp(sub, "path") == 0) return cmd_path(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "weights: list, fetch ARCH, path ARCH or check FILE (see frost help)");
}
