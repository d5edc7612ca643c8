/*
 * cli.h — frost's command line: `frost COMMAND [ARGS]`, and what the command files of cli/ share.
 *
 * Every command is one file (print.c, train.c, weights_check.c, ...) that defines one cli_command:
 * its name, synopsis, help, option table and run function. commands.c lists them in one table, from
 * which the dispatch (cli_main), `frost help` (help.c) and the man page come, so a command cannot be
 * listed twice or disagree with itself. Options are parsed by one table-driven parser (options.c),
 * modelled on git's parse-options: each option writes into the command's own argument struct at an
 * offset, and a bad value gets the option's one-line message.
 *
 * Commands print their results to stdout and one line per error to stderr ("frost: ..."), and
 * return the exit status: 0 success, 1 the work failed (bad file, bad model), 2 the command line was
 * wrong, 3 some inputs failed and the rest were done.
 */
#ifndef FROST_CLI_H
#define FROST_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "badfiles.h"
#include "dataset.h"
#include "fix.h"
#include "i18n.h"
#include "pipeline.h"

#define CLI_VERSION "0.1.0"

#define CLI_OK 0
#define CLI_FAILED 1
#define CLI_USAGE 2
#define CLI_PARTIAL 3   // some of the inputs failed, the rest were done (frost predict)

// ---------------------------------------------------------------------------------------------
// options (options.c)

typedef enum {
    OPT_END = 0,
    OPT_FLAG,     // --name: int, set to 1
    OPT_INT,      // --name N: int in [lo, hi]
    OPT_LONG,     // --name N: long in [lo, hi]
    OPT_NUMBER,   // --name X: double in [min, max]
    OPT_STRING,   // --name S: const char * (with nonempty, "" is refused)
    OPT_CHOICE,   // --name WORD: int, set to values[k] for the word choices[k]
    OPT_CALL,     // --name [V]: call(field, value) decides (0 ok, -1 bad value); takes a value unless
                  // flag is set
    OPT_GROUP     // another table, whose offsets are from this entry's offset
} cli_opt_type;

typedef struct cli_option {
    const char *name;   // "--epochs"
    cli_opt_type type;
    size_t offset;                                 // where the value goes in the command's argument struct
    long lo, hi;                                   // OPT_INT, OPT_LONG
    double min, max;                               // OPT_NUMBER
    int nonempty;                                  // OPT_STRING
    int flag;                                      // OPT_CALL: takes no value
    const char *const *choices;                    // OPT_CHOICE: NULL-terminated
    const int *values;                             // OPT_CHOICE: one per choice
    int (*call)(void *field, const char *value);   // OPT_CALL
    const struct cli_option *group;                // OPT_GROUP
    // The message after "COMMAND: " for a bad or missing value; a "%s" in it becomes the value given
    // ("" when missing). NULL: "NAME needs a whole number from LO to HI" and the like.
    const char *error;
    const char *arg;    // the value's name in the manual ("N", "FILE")
    const char *help;   // what it does, one line (help and the manual add its default)
    // What holds when the option is not given, as help says it after "default " ("16", "none: random
    // weights"). Every option that takes a value has one, unless the synopsis requires the option; a
    // flag is off unless given.
    const char *def;
} cli_option;

// One entry of an option table: CLI_OPT("--epochs", OPT_INT, .offset = offsetof(args, epochs), .lo = 1,
// .hi = 100000, .arg = "N", .help = "..."); the table ends with CLI_OPT_END.
#define CLI_OPT(NAME, TYPE, ...) \
    { .name = (NAME), .type = (TYPE), __VA_ARGS__ }
#define CLI_OPT_END \
    { .type = OPT_END }

// Parses argv[1..argc) (argv[0] is the command's name, used in messages) against opts, writing
// into args_struct. Up to max_args other arguments (-1: any number) are collected into args (room
// for max_args entries; argc when max_args is -1), their count into *n_args. Returns 0, or an exit code after printing the error:
// "CMD: unknown option 'X' (see frost help)", "CMD: unexpected argument 'X'", or the option's own.
int cli_parse(const char *cmd, const cli_option *opts, int argc, char **argv, void *args_struct, int max_args,
              const char **args, int *n_args);

// ---------------------------------------------------------------------------------------------
// commands (commands.c)

typedef struct cli_command {
    const char *name;       // "print"; "weights check" for a command of a group
    const char *synopsis;   // after the name, as help shows it; continuation lines start with "\n"
    const char *help;       // what it does: lines, "\n" between them
    const cli_option *options;
    int (*run)(int argc, char **argv);        // argv[0] is the command's name
    const struct cli_command *const *group;   // a group ("weights"): its commands, NULL-terminated
    const char *const *aliases;               // other names that run it ("--help"), NULL-terminated
    int one_line;           // help shows name, synopsis and help on one line ("--version  the version")
    const char *examples;   // command lines that use it, "\n" between them (`frost CMD --help`, the manual)
} cli_command;

// The command table: every command, in the order `frost help` lists them, NULL-terminated.
extern const cli_command *const cli_commands[];

int cli_main(int argc, char **argv);
// The command argv[0] names, or NULL: a command name comes first and wins over a folder of that name
// (`frost train ...` inside a dataset; `frost ./train` opens the folder).
const cli_command *cli_find_command(const char *name);
// A group's command named by its word (the group's own entry when word is NULL), or NULL.
const cli_command *cli_find_in_group(const cli_command *group, const char *word);
// `frost help`'s text (help.c), and the notes it ends with (the input pipeline, --weights).
void cli_help_write(FILE *out);
extern const char cli_help_notes[];
// The manual page, roff (man.c): `frost help --man`.
void cli_man_write(FILE *out);

// One command's documentation (command_doc.c): its synopsis, what it does, each option with its
// value, meaning and default, and examples. The same pieces make `frost CMD --help` (text) and the
// command's section of the manual (roff), handed to a writer's functions in that order.
typedef struct {
    void (*synopsis)(void *user, const cli_command *c);
    void (*text)(void *user, const char *text);   // lines, "\n" between them
    // value: "N", "eval|train", or NULL for a flag; meaning: the option's help and its default
    void (*option)(void *user, const char *name, const char *value, const char *meaning);
    void (*example)(void *user, const char *line);
} cli_doc_writer;
void cli_doc_command(const cli_command *c, const cli_doc_writer *w, void *user);
// Only the options of a table (the interface's), to w->option.
void cli_doc_options(const cli_option *opts, const cli_doc_writer *w, void *user);
// `frost CMD --help`, `frost CMD -h`, `frost help CMD`: the command's documentation as text (a group:
// each of its commands').
void cli_command_help(FILE *out, const cli_command *c);
// 1 when the arguments after the command ask for its help (--help or -h).
int cli_asks_help(int argc, char **argv);
// A completion script for shell "bash" or "zsh" (completion.c): `frost help --completion SHELL`.
// 0, or -1 for another shell.
int cli_completion_write(FILE *out, const char *shell);
// The interface's options (`frost [DATASET] --arch ...`): defined by main.c, which knows the
// interface's option struct; help and the manual list them.
extern const cli_option cli_interface_options[];
// Opens the interface on data_dir (NULL: the default dataset) with lesson_file open in its lesson pane, and
// returns the exit status: `frost lesson`'s way in. Set by main.c (NULL: no interface).
extern int (*cli_open_interface)(const char *data_dir, const char *lesson_file);

// ---------------------------------------------------------------------------------------------
// shared by the command files

// Prints "frost: " + message to stderr (escaped: a hostile name in it cannot reach the terminal raw);
// returns code.
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// s escaped for printing (text_escape: control bytes as \n, \x1b), in one of 8 rotating buffers:
// every name or path a command prints goes through it.
const char *cli_safe(const char *s);
// What the command line says to get past a core error (" (try a smaller --batch)"), or "".
const char *cli_fix_hint(frost_fix fix);
// "frost: skipped PATH: REASON" on stderr for each entry of l.
void cli_print_skipped(badfile_list *l);
// Scans the dataset at root (opts may be NULL): 0, or CLI_FAILED with the error printed (and d freed).
int cli_scan_dataset(const char *root, const dataset_opts *o, dataset *d);

// The input-pipeline options every data command shares (pipeline_options.c): --size S, --crop,
// --resize exact|fast, --norm 0.5|imagenet, writing into a pipeline_opts (an OPT_GROUP's offset).
extern const cli_option cli_pipeline_options[];
// --norm's value applied to o: 0, or -1 when it is neither 0.5 nor imagenet.
int cli_pipeline_norm(pipeline_opts *o, const char *value);
// --norm's words, as every command that has it says them
#define CLI_NORM_ARG "0.5|imagenet"
#define CLI_NORM_ERROR "--norm is 0.5 (mean and std 0.5: pixels from -1 to 1) or imagenet"
#define CLI_NORM_HELP N_("Normalize with mean and std 0.5 (pixels from -1 to 1) or with ImageNet's mean and std")

// The user's config file (user_config.c, core/settings/config.h), read on first use; its first mistake is said
// on stderr once. Its settings are defaults: a command sets them before parsing its options.
struct frost_config;
const struct frost_config *cli_config(void);
// A download's progress on stderr (progress.c): a bar on a terminal, a line per 10% otherwise.
// Used as fetch_progress_fn with a cli_progress as user data; _end finishes the bar's line.
typedef struct {
    const char *name;
    int shown, last_tenth;
    long long last_step;   // the last redrawn 0.1 MB step, so the bar is not redrawn for every chunk
} cli_progress;
void cli_fetch_progress(void *user, uint64_t done, uint64_t total);
void cli_fetch_progress_end(cli_progress *p);

#endif
