/*
 * weights_arch.h — what `frost weights fetch` and `frost weights path` share: ARCH and --source.
 */
#ifndef FROST_CLI_WEIGHTS_ARCH_H
#define FROST_CLI_WEIGHTS_ARCH_H

#include "cli.h"

extern const cli_option weights_arch_options[];

// Parses ARCH [--source S] for cmd ("weights fetch"); checks that the architecture has such weights.
// 0, or an exit code (the error printed).
int weights_arch_parse(const char *cmd, int argc, char **argv, const char **arch, const char **source);

#endif
