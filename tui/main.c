// main.c — frost's entry point. `frost COMMAND ...` runs the command line (core/cli.c); `frost` alone
// or `frost DATASET` (a folder) opens the full-screen interface on it (default: sample_data), with
// `--theme NAME`, `--checkpoint FILE` and `--arch ARCH` for it.
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "cli.h"

static int is_folder(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

// The interface's own arguments: 1 when argv is one (opts filled), 0 when it is a command line,
// -1 on a bad option (message printed).
static int ui_args(int argc, char **argv, app_options *o) {
    memset(o, 0, sizeof *o);
    if (argc > 1 && argv[1][0] != '-' && !is_folder(argv[1])) return 0;   // a command
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--theme") == 0 || strcmp(argv[i], "--checkpoint") == 0 || strcmp(argv[i], "--arch") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "frost: %s needs a value\n", argv[i]);
                return -1;
            }
            v = argv[i + 1];
            if (argv[i][2] == 't')
                o->theme = v;
            else if (argv[i][2] == 'c')
                o->checkpoint = v;
            else
                o->arch = v;
            i++;
        } else if (strncmp(argv[i], "--arch=", 7) == 0) {
            o->arch = argv[i] + 7;
        } else if (strncmp(argv[i], "--theme=", 8) == 0) {
            o->theme = argv[i] + 8;
        } else if (strncmp(argv[i], "--checkpoint=", 13) == 0) {
            o->checkpoint = argv[i] + 13;
        } else if (argv[i][0] != '-' && !o->dataset && is_folder(argv[i])) {
            o->dataset = argv[i];
        } else if (i == 1) {
            return 0;   // --help, --version, ...: the command line's
        } else {
            fprintf(stderr, "frost: %s: not a dataset folder or an option of the interface (see frost help)\n", argv[i]);
            return -1;
        }
    }
    return 1;
}

int main(int argc, char **argv) {
    app_options o;
    int ui = ui_args(argc, argv, &o);
    if (ui < 0) return 2;
    if (ui == 1) return app_run(&o);
    return cli_main(argc, argv);
}
