// cli_weights_check.c — `frost weights check FILE` (placeholder).
#include "cli.h"

int cmd_weights_check(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_fail(CLI_USAGE, "weights check: not available yet");
}
