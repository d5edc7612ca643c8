/*
 * cli.h — frost's command line: `frost COMMAND [ARGS]`.
 *
 * The commands print their results to stdout and one line per error to stderr, and return the exit
 * status: 0 success, 1 the work failed (bad file, bad model), 2 the command line was wrong.
 */
#ifndef FROST_CLI_H
#define FROST_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "pipeline.h"

int cli_main(int argc, char **argv);

// ---------------------------------------------------------------------------------------------
// shared by the command files

#define CLI_USAGE 2
#define CLI_FAILED 1

// "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i past what it used. Returns the value,
// or NULL when argv[*i] is not that option. Sets *missing when the option has no value.
const char *cli_option_value(int argc, char **argv, int *i, const char *name, int *missing);

// A whole decimal number in [lo, hi]; 0 on success, -1 otherwise.
int cli_parse_long(const char *s, long lo, long hi, long *out);

// Prints "frost: " + message to stderr; returns code.
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// The architecture list, comma separated, for messages and help.
void cli_arch_list(char *buf, size_t len);

int cmd_print(int argc, char **argv);    // frost print ARCH [--classes N] [--weights FILE]
int cmd_summary(int argc, char **argv);  // frost summary ARCH [--classes N] [--size S] [--weights FILE]
int cmd_doctor(int argc, char **argv);   // frost doctor DATASET [--workers N]
int cmd_bench_data(int argc, char **argv);  // frost bench-data DATASET [pipeline options]
int cmd_train(int argc, char **argv);    // frost train DATASET --arch ARCH [options] (cli_train.c)
int cmd_predict(int argc, char **argv);  // frost predict CKPT IMAGE...|DIR [--top K] [--json] (cli_predict.c)
int cmd_bench_forward(int argc, char **argv);  // frost bench-forward ARCH [...] (cli_bench.c)
int cmd_weights(int argc, char **argv);  // frost weights list|fetch ARCH|path ARCH|check FILE (cli_weights.c)
int cmd_weights_check(int argc, char **argv);  // frost weights check FILE [--arch ARCH] (cli_weights_check.c)

// --size S, --crop, --resize exact|fast, --norm seed|imagenet at argv[*i]: returns 1 when it was one
// of them (advancing *i; *rc is 0, or an exit code after printing the error), 0 otherwise.
int cli_pipeline_option(const char *cmd, int argc, char **argv, int *i, pipeline_opts *o, int *rc);

// A download's progress on stderr (cli_weights.c): a bar on a terminal, a line per 10% otherwise.
// Used as fetch_progress_fn with a cli_progress as user data; _end finishes the bar's line.
typedef struct {
    const char *name;
    int shown, last_tenth;
    long long last_step;   // the last redrawn 0.1 MB step, so the bar is not redrawn for every chunk
} cli_progress;
void cli_fetch_progress(void *user, uint64_t done, uint64_t total);
void cli_fetch_progress_end(cli_progress *p);

#endif
