// weights_path.c — `frost weights path ARCH`: the cached file of an architecture's weights.
#include <stdio.h>

#include "cli.h"
#include "fetch.h"
#include "i18n.h"
#include "weights_arch.h"
#include "weights_table.h"

static int run(int argc, char **argv) {
    const char *arch, *source;
    int rc = weights_arch_parse("weights path", argc, argv, &arch, &source);
    if (rc) return rc;
    const weights_entry *e = weights_table_find(arch, source);
    char path[4096], dir[4096], err[512];
    if (fetch_find_cached(e, path, sizeof path)) {
        printf("%s\n", cli_safe(path));
        return 0;
    }
    if (fetch_cache_dir(dir, sizeof dir, err, sizeof err)) return cli_fail(CLI_FAILED, "%s", err);
    return cli_fail(CLI_FAILED, "%s (%s) is not downloaded: run frost weights fetch %s%s%s, or copy %s into %s by hand",
                    arch, e->source, arch, source ? " --source " : "", source ? source : "", e->file, dir);
}

const cli_command cli_weights_path = {
    .name = "weights path",
    .synopsis = "ARCH [--source S]",
    .help = N_("print the cached file's path; exit 1 (with how to get it) when there is none"),
    .examples = "frost weights path resnet18",
    .options = weights_arch_options,
    .run = run,
};
