// weights_list.c — `frost weights list`: the pretrained weights frost knows for every architecture,
// and where each is cached.
#include <stdio.h>

#include "cli.h"
#include "fetch.h"
#include "i18n.h"
#include "weights_table.h"

static int run(int argc, char **argv) {
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
        printf("%-10s %-15s %-14s %6s  %-30s %s\n", e->arch, src, e->tag, acc, e->file, cached ? cli_safe(path) : "no");
    }
    printf("\n* the default of --pretrained. Downloads go to %s; torchvision's cache %s is read too.\n", cli_safe(dir),
           cli_safe(tdir));
    return 0;
}

const cli_command cli_weights_list = {
    .name = "weights list",
    .help = N_("the known pretrained weights of every architecture (torchvision's ImageNet files,\n"
               "timm's tv_in1k safetensors), and where each is cached"),
    .examples = "frost weights list",
    .run = run,
};
