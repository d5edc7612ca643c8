// lesson.c — `frost lesson [NAME] [DATASET]`: the interface with a lesson open (core/teach/lesson.h),
// a teacher's own with --lesson-file FILE; --list names the lessons, --check reads one through and
// says what is wrong with it (FILE:LINE) without opening anything.
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "i18n.h"
#include "lesson.h"
#include "path.h"

int (*cli_open_interface)(const char *data_dir, const char *lesson_file);

typedef struct {
    const char *file;
    int list, check;
} lesson_args;

#define AT(field) .offset = offsetof(lesson_args, field)

static const cli_option options[] = {
    CLI_OPT(
        "--lesson-file", OPT_STRING, AT(file), .nonempty = 1, .error = N_("--lesson-file needs a lesson file"),
        .arg = "FILE",
        .help = N_(
            "a lesson of your own instead of NAME (its format: README.md in the lessons folder, which --list names)"),
        .def = N_("NAME's, the tutorial when none is named")),
    CLI_OPT("--list", OPT_FLAG, AT(list),
            .help = N_("the lessons frost has, with their steps, and the folder they are in, and nothing else")),
    CLI_OPT("--check", OPT_FLAG, AT(check),
            .help = N_("read the lesson through and say what is wrong with it (FILE:LINE), without opening it")),
    CLI_OPT_END,
};

static int list_lessons(void) {
    char names[1024], dir[1024];
    lesson_names(names, sizeof names);
    if (!names[0] || lesson_dir(dir, sizeof dir) != 0) return cli_fail(CLI_FAILED, "lesson: no lessons found");
    for (char *name = strtok(names, ", "); name; name = strtok(NULL, ", ")) {
        char path[1200], err[600];
        lesson l;
        if (lesson_find(name, path, sizeof path, err, sizeof err) != 0 ||
            lesson_load(path, lesson_language(), &l, err, sizeof err) != 0) {
            printf("%-14s %s\n", cli_safe(name), cli_safe(err));
            continue;
        }
        printf("%-14s %s (", cli_safe(name), cli_safe(l.title));
        printf(ngettext("%zu step", "%zu steps", l.n), l.n);
        printf(")\n");
        lesson_free(&l);
    }
    printf(_("\nthe lessons folder: %s (its README.md: how to write a lesson of your own)\n"), cli_safe(dir));
    return CLI_OK;
}

static int run(int argc, char **argv) {
    lesson_args a = {0};
    const char *args[2];
    int n = 0;
    int rc = cli_parse("lesson", options, argc, argv, &a, 2, args, &n);
    if (rc) return rc;
    if (a.list) return n ? cli_fail(CLI_USAGE, "lesson: --list takes no NAME or DATASET") : list_lessons();
    // NAME, DATASET, both or neither; one word alone is a lesson's name unless it is only a folder
    const char *name = NULL, *data = NULL;
    char path[1024], err[1200];
    if (a.file) {
        if (n > 1) return cli_fail(CLI_USAGE, "lesson: with --lesson-file, only a DATASET: unexpected '%s'", args[1]);
        data = n ? args[0] : NULL;
    } else if (n == 2) {
        name = args[0], data = args[1];
    } else if (n == 1) {
        if (lesson_find(args[0], path, sizeof path, err, sizeof err) == 0 || !path_is_dir(args[0]))
            name = args[0];
        else
            data = args[0];
    }
    if (data && !path_is_dir(data)) return cli_fail(CLI_USAGE, "lesson: %s is not a dataset folder", data);
    if (a.file) {
        snprintf(path, sizeof path, "%s", a.file);
    } else if (lesson_find(name ? name : "tutorial", path, sizeof path, err, sizeof err) != 0) {
        return cli_fail(CLI_USAGE, "lesson: %s", err);
    }
    lesson l;
    if (lesson_load(path, lesson_language(), &l, err, sizeof err) != 0) return cli_fail(CLI_FAILED, "lesson: %s", err);
    if (a.check) {
        printf("%s: ", cli_safe(path));
        printf(ngettext("%zu step, every action checked", "%zu steps, every action checked", l.n), l.n);
        printf("\n");
        lesson_free(&l);
        return CLI_OK;
    }
    lesson_free(&l);
    if (!cli_open_interface) return cli_fail(CLI_FAILED, "lesson: this frost has no interface");
    return cli_open_interface(data, path);
}

const cli_command cli_lesson = {
    .name = "lesson",
    .synopsis = "[NAME] [DATASET] [--lesson-file FILE] [--list] [--check]",
    .help = N_("the interface with a lesson open: a guided walk through the real screens, each step with\n"
               "its text, its PyTorch code and something to do there, which frost checks (n: the next\n"
               "step, b: back, L: close it). The lessons: tutorial (the default) and fine-tuning"),
    .examples = "frost lesson tutorial sample_data\n"
                "frost lesson fine-tuning ~/data/dogs-vs-cats\n"
                "frost lesson --lesson-file my.lesson --check",
    .options = options,
    .run = run,
};
