// print.c — `frost print ARCH`: the network exactly as PyTorch's print(model) writes it.
#include "frost_torch.h"
#include "i18n.h"
#include "model_options.h"
#include "model_print.h"

static int run(int argc, char **argv) {
    model_args a;
    ft_model *m = NULL;
    int rc = model_args_parse("print", model_options, argc, argv, &a);
    if (rc == 0) rc = model_args_build(&a, &m);
    if (rc != 0) return rc;
    const ft_node *nodes;
    size_t n;
    ft_status *s = ft_model_nodes(m, &nodes, &n);
    if (s) {
        rc = cli_fail(CLI_FAILED, "%s", ft_status_message(s));
    } else {
        model_print_repr(stdout, nodes, n);
        rc = CLI_OK;
    }
    ft_status_free(s);
    ft_model_free(m);
    return rc;
}

const cli_command cli_print = {
    .name = "print",
    .synopsis = "ARCH [--classes N] [--weights FILE]",
    .help = N_("print the network exactly as PyTorch's print(model) does; with --classes N the\n"
               "rest is frozen and the head replaced for N classes first, as the tutorial does"),
    .examples = "frost print vgg16\n"
                "frost print resnet18 --classes 2 --weights resnet18.safetensors",
    .options = model_options,
    .run = run,
};
