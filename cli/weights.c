// weights.c — `frost weights list|fetch|path|check`: the group; each of its commands has a file
// of its own (weights_list.c, ...).
#include "cli.h"
#include "i18n.h"

extern const cli_command cli_weights_list, cli_weights_fetch, cli_weights_path, cli_weights_check;

const cli_command cli_weights = {
    .name = "weights",
    .synopsis = "list, fetch ARCH, path ARCH or check FILE",
    .help = N_("(train --pretrained takes the default weights of --arch, fetching them if needed;\n"
               "FROST_WEIGHTS_MIRROR=http://host:port sends the downloads to a mirror)"),
    .group = (const cli_command *const[]){&cli_weights_list, &cli_weights_fetch, &cli_weights_path, &cli_weights_check,
                                          NULL},
};
