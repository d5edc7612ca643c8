// summary.c — `frost summary ARCH`: a table of every module (output shape, parameters, trainable or
// frozen), then the parameter totals.
#include "frost_torch.h"
#include "model_options.h"
#include "model_print.h"

static int run(int argc, char **argv) {
    model_args a;
    ft_model *m = NULL;
    int rc = model_args_parse("summary", model_size_option, argc, argv, &a);
    if (rc == 0) rc = model_args_build(&a, &m);
    if (rc != 0) return rc;
    const ft_node *nodes;
    size_t n;
    ft_status *s = ft_model_trace(m, a.size);
    if (!s) s = ft_model_nodes(m, &nodes, &n);
    if (s) {
        rc = cli_fail(CLI_FAILED, "summary of %s at %ldx%ld: %s", a.arch, a.size, a.size, ft_status_message(s));
    } else {
        model_print_summary(stdout, nodes, n, a.size);
        rc = CLI_OK;
    }
    ft_status_free(s);
    ft_model_free(m);
    return rc;
}

const cli_command cli_summary = {
    .name = "summary",
    .synopsis = "ARCH [--classes N] [--size S] [--weights FILE]",
    .help = "a table of every module: output shape for a 1x3xSxS input (default 224),\n"
            "parameters, trainable or frozen; then total / trainable / non-trainable counts",
    .options = model_size_option,
    .run = run,
};
