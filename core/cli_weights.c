// cli_weights.c — `frost weights list | fetch ARCH | path ARCH | check FILE` (placeholder: check only).
#include <string.h>

#include "cli.h"

int cmd_weights(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "check") == 0) return cmd_weights_check(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "weights: not available yet");
}
