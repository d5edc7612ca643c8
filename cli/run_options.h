/*
 * run_options.h — what `frost train` and `frost lr-find` share: the network and its starting weights
 * (--arch, --pretrained, --weights), what trains (--trainable) and how (--lr, --optimizer,
 * --momentum, --weight-decay, --block-lr, --class-weights), the batch, the device and threads, the
 * BatchNorm rule and the feature cache, and the data pipeline's options, all into a trainer_config.
 */
#ifndef FROST_CLI_RUN_OPTIONS_H
#define FROST_CLI_RUN_OPTIONS_H

#include <signal.h>
#include <stdio.h>

#include "cli.h"
#include "dataset.h"
#include "run_record.h"
#include "trainer.h"

typedef struct {
    trainer_config cfg;
    long seed;
    int pretrained, norm_given, opt_kind;
    char weights_path[4096];   // --pretrained: the resolved file
} cli_run_args;

// The shared options, as an OPT_GROUP at a cli_run_args inside the command's own argument struct.
extern const cli_option cli_run_options[];

// The defaults: trainer_config's, then the user's config file (arch, device, workers).
void cli_run_args_init(cli_run_args *a);
// After parsing: the optimizer and seed into cfg, the checks that need several options. 0, or an exit
// code (the error printed, as "CMD: ...").
int cli_run_args_finish(const char *cmd, cli_run_args *a);
// --pretrained: the architecture's ImageNet weights from the cache or downloaded, and ImageNet's
// mean/std unless --norm was given (both said on stdout). 0, or an exit code.
int cli_run_pretrained(const char *cmd, cli_run_args *a);
// The run's start, in the order that wastes nothing: the dataset scanned into *d, then --pretrained's
// weights (no download for a bad dataset), the JSON log created (json_path NULL: *json NULL), the
// trainer started. 0 with all three to free, or an exit code with nothing left open.
int cli_run_start(const char *cmd, cli_run_args *a, const char *root, const char *json_path, dataset *d, FILE **json,
                  trainer **t);

// The loop of a running trainer, the same for train and lr-find: its events one by one, and Ctrl-C or
// SIGTERM: the first asks the trainer to stop at the end of its batch (on_stop, may be NULL, says so
// first), a second ends the process at once.
typedef struct {
    trainer *t;
    void (*on_stop)(void *user);
    void *user;
    int stopping;
    struct sigaction old_int, old_term;
} cli_run_loop;
// Catches the signals (until cli_run_loop_end).
void cli_run_loop_begin(cli_run_loop *l, trainer *t, void (*on_stop)(void *user), void *user);
// Waits up to 100 ms for the trainer's next event: 1 with *e, 0 when none came (call again).
int cli_run_loop_next(cli_run_loop *l, train_event *e);
// The signals back to what they were.
void cli_run_loop_end(cli_run_loop *l);

// frost train's run (train.c) for a command that has its arguments ready (frost runs again): the
// dataset at root, the tutorial's log, the run recorded with origin; *id (may be NULL) gets the
// run's id in the history (0: not recorded). The exit status, as frost train's.
int cli_train_run(cli_run_args *run, const char *root, const run_origin *origin, long long *id);

#endif
