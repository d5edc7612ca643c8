/*
 * model_options.h — what `frost print` and `frost summary` share: ARCH, --classes N, --weights FILE
 * (and summary's --size S), and the model built from them as the tutorial builds it.
 */
#ifndef FROST_CLI_MODEL_OPTIONS_H
#define FROST_CLI_MODEL_OPTIONS_H

#include "cli.h"
#include "frost_torch.h"

typedef struct {
    const char *arch;
    long classes;   // 0: keep torchvision's 1000-class head
    long size;      // summary's input size
    const char *weights;
} model_args;

extern const cli_option model_options[];       // --classes, --weights
extern const cli_option model_size_option[];   // summary's --size

// Parses ARCH and the options into *a. 0, or an exit code (the error printed).
int model_args_parse(const char *cmd, const cli_option *opts, int argc, char **argv, model_args *a);
// Sets a->arch to `arch` (the command's argument; NULL when none was given) once it is known to be an
// architecture. 0, or an exit code (the error printed).
int model_args_check(const char *cmd, model_args *a, const char *arch);
// Builds the model: torchvision's, then (with --classes) everything frozen and the head replaced as
// the tutorial does, then (with --weights) the file loaded strictly — except, with --classes, a head
// that does not fit (ImageNet's 1000 classes): the new head stays, and stderr says so. 0, or an exit
// code.
int model_args_build(const model_args *a, ft_model **out);

#endif
