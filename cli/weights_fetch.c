// weights_fetch.c — `frost weights fetch ARCH`: an architecture's weights downloaded into frost's
// cache (resumable, checked), or found in a cache.
#include <stdio.h>

#include "cli.h"
#include "fetch.h"
#include "i18n.h"
#include "weights_arch.h"
#include "weights_table.h"

static int run(int argc, char **argv) {
    const char *arch, *source;
    int rc = weights_arch_parse("weights fetch", argc, argv, &arch, &source);
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
    printf("%s\n", cli_safe(res.path));
    return 0;
}

const cli_command cli_weights_fetch = {
    .name = "weights fetch",
    .synopsis = "ARCH [--source torchvision|torchvision-v2|timm]",
    .help = N_("download them into $XDG_CACHE_HOME/frost (resumable, sha256 checked); a file in\n"
               "torchvision's cache ($TORCH_HOME/hub/checkpoints) is used as it is"),
    .examples = "frost weights fetch resnet18\n"
                "frost weights fetch vgg16 --source timm",
    .options = weights_arch_options,
    .run = run,
};
