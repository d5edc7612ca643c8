// main.c — frost's entry point: the one place that knows both front ends. `frost COMMAND ...` runs
// the command line (cli/); `frost` alone or `frost DATASET` (a folder) opens the full-screen
// interface (tui/) on it (default: sample_data), with --arch, --theme, --checkpoint and --json for it.
// A command's name comes first, as in git: inside a dataset, `frost train .` trains (its train/
// folder does not shadow the command); `frost ./train` opens a folder named like a command.
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "config.h"
#include "i18n.h"
#include "path.h"

const cli_option cli_interface_options[] = {
    CLI_OPT("--arch", OPT_STRING, .offset = offsetof(app_options, arch), .arg = "ARCH",
            .help = N_("the architecture the Model and Train screens start with"),
            .def = N_("resnet18, or the config file's")),
    CLI_OPT("--theme", OPT_STRING, .offset = offsetof(app_options, theme), .arg = "NAME", .help = N_("the colours"),
            .def = N_("$FROST_THEME, else the config file's, else dark")),
    CLI_OPT("--checkpoint", OPT_STRING, .offset = offsetof(app_options, checkpoint), .arg = "FILE",
            .help = N_("a checkpoint opened in the Predict screen"),
            .def = N_("the model trained on the Train screen")),
    CLI_OPT("--json", OPT_STRING, .offset = offsetof(app_options, json), .nonempty = 1, .arg = "FILE",
            .error = "--json needs a file",
            .help = N_("every training run's events as JSON lines (as frost train --json)"), .def = "none"),
    CLI_OPT_END,
};

// 1 when argv opens the interface: no arguments, a folder first (not a command's name), or one of its
// options first.
static int wants_interface(int argc, char **argv) {
    if (argc < 2) return 1;
    const char *first = argv[1];
    if (first[0] != '-') return !cli_find_command(first) && path_is_dir(first);
    for (const cli_option *o = cli_interface_options; o->name; o++) {
        size_t n = strlen(o->name);
        if (strncmp(first, o->name, n) == 0 && (first[n] == '\0' || first[n] == '=')) return 1;
    }
    return 0;   // --help, --version, ...: the command line's
}

// The interface on o's dataset, with the user's config file under the command line (and $FROST_THEME):
// its defaults; its first mistake goes to the status line.
static int open_interface(app_options *o) {
    static frost_config cfg;
    static char notice[1200];
    if (config_load(&cfg, notice, sizeof notice) != 0) o->notice = notice;
    const char *env_theme = getenv("FROST_THEME");
    if (!o->theme && !(env_theme && *env_theme) && cfg.theme[0]) o->theme = cfg.theme;
    if (!o->arch && cfg.arch[0]) o->arch = cfg.arch;
    if (!o->dataset && cfg.dataset[0]) o->dataset = cfg.dataset;
    o->device = cfg.device[0] ? cfg.device : NULL;
    o->workers = cfg.workers;
    o->weights = cfg.weights;
    o->version = CLI_VERSION;
    return app_run(o);
}

// `frost lesson`'s way in (cli.h).
static int open_lesson(const char *data_dir, const char *lesson_file) {
    app_options o = {.dataset = data_dir, .lesson = lesson_file};
    return open_interface(&o);
}

int main(int argc, char **argv) {
    i18n_init();
    cli_open_interface = open_lesson;
    if (!wants_interface(argc, argv)) return cli_main(argc, argv);
    app_options o = {0};
    const char *args[1];
    int n = 0;
    int rc = cli_parse(NULL, cli_interface_options, argc, argv, &o, 1, args, &n);
    if (rc) return rc;
    if (n == 1) {
        if (!path_is_dir(args[0]))
            return cli_fail(CLI_USAGE, "%s: not a dataset folder or an option of the interface (see frost help)",
                            args[0]);
        o.dataset = args[0];
    }
    return open_interface(&o);
}
