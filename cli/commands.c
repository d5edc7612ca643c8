// commands.c — the command table and the dispatch: `frost COMMAND ...` runs the entry named
// COMMAND; a group (weights) runs the entry of its next word. `frost help` (help.c) and the man page
// list the same table, in this order.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

extern const cli_command cli_print, cli_summary, cli_doctor, cli_bench_data, cli_train, cli_lr_find, cli_bench_forward,
    cli_predict, cli_clean, cli_export, cli_weights, cli_cache, cli_runs, cli_lesson, cli_help, cli_version;

const cli_command *const cli_commands[] = {
    &cli_print,         &cli_summary, &cli_doctor, &cli_bench_data, &cli_train,   &cli_lr_find,
    &cli_bench_forward, &cli_predict, &cli_clean,  &cli_export,     &cli_weights, &cli_cache,
    &cli_runs,          &cli_lesson,  &cli_help,   &cli_version,    NULL,
};

// The entry of the list named `name` (or one of its aliases), or NULL.
static const cli_command *lookup(const cli_command *const *list, const char *name) {
    for (size_t i = 0; list[i]; i++) {
        const cli_command *c = list[i];
        // a group's commands are named "group word": match the last word
        const char *own = strrchr(c->name, ' ') ? strrchr(c->name, ' ') + 1 : c->name;
        if (strcmp(own, name) == 0) return c;
        for (size_t k = 0; c->aliases && c->aliases[k]; k++)
            if (strcmp(c->aliases[k], name) == 0) return c;
    }
    return NULL;
}

const cli_command *cli_find_command(const char *name) { return name ? lookup(cli_commands, name) : NULL; }

const cli_command *cli_find_in_group(const cli_command *group, const char *word) {
    if (!word) return group;
    return group->group ? lookup(group->group, word) : NULL;
}

int cli_main(int argc, char **argv) {
    if (argc < 2) return cli_help.run(1, argv);
    const cli_command *c = lookup(cli_commands, argv[1]);
    if (!c) return cli_fail(CLI_USAGE, "unknown command '%s' (see frost help)", argv[1]);
    argc--, argv++;
    while (c->group) {   // "weights check FILE": the group's word, then the command's
        const cli_command *sub = argc >= 2 ? lookup(c->group, argv[1]) : NULL;
        if (!sub && cli_asks_help(argc, argv)) {   // "frost weights --help": the group's commands
            cli_command_help(stdout, c);
            return CLI_OK;
        }
        // a group with a run of its own runs it when no word of the group follows ("frost runs
        // --json" lists)
        if (!sub && c->run && (argc < 2 || argv[1][0] == '-')) break;
        if (!sub) return cli_fail(CLI_USAGE, "%s: %s (see frost help)", c->name, c->synopsis);
        c = sub;
        argc--, argv++;
    }
    int rc;
    if (c != &cli_help && cli_asks_help(argc, argv)) {   // "frost train --help": what help train says
        cli_command_help(stdout, c);
        rc = CLI_OK;
    } else {
        rc = c->run(argc, argv);
    }
    // what was printed must have reached its file: a full disk or /dev/full is an error too
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_fail(CLI_FAILED, "could not write the output: %s", strerror(errno));
        if (rc == CLI_OK) rc = CLI_FAILED;
    }
    return rc;
}
