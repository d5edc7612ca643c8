// clean.c — `frost clean DATASET --list | --undo | --relabel IMAGE CLASS | --set-aside IMAGE`: fixing a
// dataset's labels through core/data/clean (journalled moves, never a deletion or an overwrite), one action
// per call. Exit 0, 1 when the action failed (one line), 2 for a bad command line.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clean.h"
#include "cli.h"
#include "i18n.h"

typedef struct {
    int list, undo;
    const char *relabel, *set_aside;
} clean_args;

static const cli_option options[] = {
    CLI_OPT("--list", OPT_FLAG, .offset = offsetof(clean_args, list),
            .help = N_("every move, oldest first: time, kind, from -> to, and (undone)")),
    CLI_OPT("--undo", OPT_FLAG, .offset = offsetof(clean_args, undo),
            .help = N_("move the file of the last move not yet undone back to where it was")),
    CLI_OPT("--relabel", OPT_STRING, .offset = offsetof(clean_args, relabel), .nonempty = 1,
            .error = N_("--relabel needs an image and a class (--relabel IMAGE CLASS)"), .arg = "IMAGE CLASS",
            .help = N_("move IMAGE into the folder of CLASS in its split (a taken name gets \" (2)\")")),
    CLI_OPT("--set-aside", OPT_STRING, .offset = offsetof(clean_args, set_aside), .nonempty = 1,
            .error = N_("--set-aside needs an image"), .arg = "IMAGE",
            .help = N_("move IMAGE out of the dataset, into DATASET/") CLEAN_SET_ASIDE_DIR "/SPLIT/CLASS/"),
    CLI_OPT_END,
};

static const char ACTIONS[] = N_("--list, --undo, --relabel IMAGE CLASS or --set-aside IMAGE");

// The index in argv of the argument that holds --relabel's IMAGE (pointer or "--relabel=IMAGE"), or -1.
static int image_index(int argc, char **argv, const char *image) {
    for (int i = 1; i < argc; i++)
        if (argv[i] == image || (strncmp(argv[i], "--relabel=", 10) == 0 && argv[i] + 10 == image)) return i;
    return -1;
}

static int list(const char *root) {
    clean_entry *e = NULL;
    size_t n = 0;
    char err[1024];
    if (clean_list(root, &e, &n, err, sizeof err) != 0) return cli_fail(CLI_FAILED, "%s", err);
    for (size_t i = 0; i < n; i++) {
        char when[32] = "?";
        time_t t = (time_t)e[i].time;
        struct tm tm;
        if (localtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        printf("%s  %-9s  %s -> %s%s\n", when, e[i].kind == CLEAN_RELABEL ? "relabel" : "set aside",
               cli_safe(e[i].from), cli_safe(e[i].to), e[i].undone ? "  (undone)" : "");
    }
    clean_entries_free(e, n);
    return CLI_OK;
}

static int run(int argc, char **argv) {
    clean_args a = {0};
    const char *pos[2] = {NULL, NULL};
    int n = 0;
    int rc = cli_parse("clean", options, argc, argv, &a, 2, pos, &n);
    if (rc) return rc;
    int actions = a.list + a.undo + (a.relabel != NULL) + (a.set_aside != NULL);
    if (actions > 1) return cli_fail(CLI_USAGE, "clean: one action at a time (%s)", _(ACTIONS));
    // --relabel IMAGE CLASS: CLASS is the argument right after IMAGE; the other one is DATASET
    const char *root = NULL, *cls = NULL;
    int at = a.relabel ? image_index(argc, argv, a.relabel) : -1;
    for (int k = 0; k < n; k++) {
        if (at > 0 && at + 1 < argc && pos[k] == argv[at + 1])
            cls = pos[k];
        else if (!root)
            root = pos[k];
        else
            return cli_fail(CLI_USAGE, "clean: unexpected argument '%s'", pos[k]);
    }
    if (!root) return cli_fail(CLI_USAGE, "clean: which dataset? (frost clean DATASET %s)", _(ACTIONS));
    if (actions == 0) return cli_fail(CLI_USAGE, "clean: what to do? (%s)", _(ACTIONS));
    if (a.relabel && !cls)
        return cli_fail(CLI_USAGE, "clean: --relabel needs an image and a class (--relabel IMAGE CLASS)");

    char err[1024], what[1024];
    char *moved = NULL;
    if (a.list) return list(root);
    if (a.undo) {
        int r = clean_undo(root, what, sizeof what, err, sizeof err);
        if (r < 0) return cli_fail(CLI_FAILED, "%s", err);
        if (r == 0)
            printf("nothing to undo\n");
        else
            printf("undone: %s\n", cli_safe(what));
        return CLI_OK;
    }
    if (a.relabel) {
        if (clean_relabel(root, a.relabel, cls, &moved, err, sizeof err) != 0) return cli_fail(CLI_FAILED, "%s", err);
        printf("relabeled %s -> %s\n", cli_safe(a.relabel), cli_safe(moved));
    } else {
        if (clean_set_aside(root, a.set_aside, &moved, err, sizeof err) != 0) return cli_fail(CLI_FAILED, "%s", err);
        printf("set aside %s -> %s\n", cli_safe(a.set_aside), cli_safe(moved));
    }
    free(moved);
    return CLI_OK;
}

const cli_command cli_clean = {
    .name = "clean",
    .synopsis = "DATASET --list | --undo | --relabel IMAGE CLASS | --set-aside IMAGE",
    .help = N_("fix a dataset's labels without losing a file: move an image to another class, or set it\n"
               "aside (out of training, kept under DATASET/") CLEAN_SET_ASIDE_DIR
    "/); every move is journalled\n"
    "in DATASET/" CLEAN_JOURNAL ", listed by --list and walked back by --undo",
    .examples = "frost clean DATASET --relabel DATASET/train/cat/dog1.jpg dog\n"
                "frost clean DATASET --undo",
    .options = options,
    .run = run,
};
