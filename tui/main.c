// main.c — frost's entry point. `frost COMMAND ...` runs the command line (core/cli.c); `frost` alone
// or `frost DATASET` (a folder) opens the full-screen interface on it (default: sample_data).
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "cli.h"

static int is_folder(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int main(int argc, char **argv) {
    if (argc == 1) return app_run("sample_data");
    if (argc == 2 && argv[1][0] != '-' && is_folder(argv[1])) return app_run(argv[1]);
    return cli_main(argc, argv);
}
