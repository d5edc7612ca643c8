// weights_arch.c — what `frost weights fetch` and `frost weights path` share: ARCH and --source.
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "frost_torch.h"
#include "i18n.h"
#include "weights_arch.h"
#include "weights_table.h"

typedef struct {
    const char *source;
} source_args;

static int set_source(void *field, const char *value) {
    ((source_args *)field)->source = value;
    return 0;
}

const cli_option weights_arch_options[] = {
    CLI_OPT("--source", OPT_CALL, .call = set_source, .arg = "torchvision|torchvision-v2|timm",
            .help = N_("whose weights"), .def = N_("the architecture's first, marked * in frost weights list")),
    CLI_OPT_END,
};

int weights_arch_parse(const char *cmd, int argc, char **argv, const char **arch, const char **source) {
    source_args a = {0};
    *arch = NULL;
    *source = NULL;
    int n = 0;
    // the --source message names every source, which only the table knows: made here
    cli_option opts[2] = {weights_arch_options[0], {0}};
    char msg[256];
    snprintf(msg, sizeof msg, "--source is one of %s", weights_table_sources());
    opts[0].error = msg;
    int rc = cli_parse(cmd, opts, argc, argv, &a, 1, arch, &n);
    if (rc) return rc;
    *source = a.source;
    if (!*arch) return cli_fail(CLI_USAGE, "%s: which architecture? (frost %s ARCH)", cmd, cmd);
    if (ft_arch_family(*arch) == FT_FAMILY_NONE)
        return cli_fail(CLI_USAGE, "%s: unknown architecture '%s' (see frost help)", cmd, *arch);
    if (*source && !weights_table_find(*arch, *source)) {
        int known = 0;
        for (size_t i = 0; i < weights_table_count(); i++) known |= strcmp(weights_table_get(i)->source, *source) == 0;
        if (!known) return cli_fail(CLI_USAGE, "%s: --source is one of %s", cmd, weights_table_sources());
        return cli_fail(CLI_FAILED, "%s: %s has no %s weights (frost weights list)", cmd, *arch, *source);
    }
    return 0;
}
