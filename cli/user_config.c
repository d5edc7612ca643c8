// user_config.c — the user's config file (core/settings/config.h) for the commands: read once, its first
// mistake said once on stderr, its settings the defaults the command line then overrides.
#include <stdio.h>

#include "cli.h"
#include "config.h"

const frost_config *cli_config(void) {
    static frost_config c;
    static int loaded;
    if (!loaded) {
        loaded = 1;
        char err[1024];
        if (config_load(&c, err, sizeof err) != 0)
            fprintf(stderr, "frost: %s (that setting keeps its default)\n", cli_safe(err));
    }
    return &c;
}
