// main.c — frost's entry point. `frost COMMAND ...` runs the command line (core/cli.c); the
// full-screen interface will open here for `frost [DATASET]` once it exists.
#include "cli.h"

int main(int argc, char **argv) { return cli_main(argc, argv); }
