// pipeline_options.c — --size, --crop, --resize and --norm: how every data command (bench-data,
// train) reads images, as one option group over a pipeline_opts.
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "i18n.h"
#include "pipeline.h"

static int set_size(void *field, const char *value) {
    pipeline_opts *o = field;
    long n;
    char *end;
    if (!value || !*value) return -1;
    n = strtol(value, &end, 10);
    if (*end || n < 16 || n > 1024) return -1;
    o->tf.size = (int)n;
    if (o->dec.dct_min_side) o->dec.dct_min_side = o->tf.size;   // --resize fast decodes down to it
    return 0;
}

static int set_crop(void *field, const char *value) {
    (void)value;
    ((pipeline_opts *)field)->tf.fit = TRANSFORM_SHORT_CROP;
    return 0;
}

static int set_resize(void *field, const char *value) {
    if (value && strcmp(value, "exact") == 0)
        pipeline_set_fast(field, 0);
    else if (value && strcmp(value, "fast") == 0)
        pipeline_set_fast(field, 1);
    else
        return -1;
    return 0;
}

int cli_pipeline_norm(pipeline_opts *o, const char *value) {
    // "seed": the name 0.5 had before (the tutorial's values), still read
    if (value && (strcmp(value, "0.5") == 0 || strcmp(value, "seed") == 0))
        transform_params_set_norm(&o->tf, TRANSFORM_NORM_SEED);
    else if (value && strcmp(value, "imagenet") == 0)
        transform_params_set_norm(&o->tf, TRANSFORM_NORM_IMAGENET);
    else
        return -1;
    return 0;
}

static int set_norm(void *field, const char *value) { return cli_pipeline_norm(field, value); }

const cli_option cli_pipeline_options[] = {
    CLI_OPT("--size", OPT_CALL, .call = set_size, .error = N_("--size needs a whole number from 16 to 1024"),
            .arg = "S", .help = N_("resize to SxS, as Resize([S,S])"), .def = N_("224, the tutorial's")),
    CLI_OPT("--crop", OPT_CALL, .flag = 1, .call = set_crop,
            .help = N_("resize the short side to S, then take the centre SxS (Resize(S) + CenterCrop(S))")),
    CLI_OPT("--resize", OPT_CALL, .call = set_resize, .error = N_("--resize is exact or fast"), .arg = "exact|fast",
            .help = N_("exact: torchvision's pixels on PIL; fast: libjpeg-turbo shrinks while decoding"),
            .def = "exact"),
    CLI_OPT("--norm", OPT_CALL, .call = set_norm, .error = CLI_NORM_ERROR, .arg = CLI_NORM_ARG, .help = CLI_NORM_HELP,
            .def = N_("0.5, the tutorial's")),
    CLI_OPT_END,
};
