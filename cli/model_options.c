// model_options.c — see model_options.h.
#include "model_options.h"
#include "i18n.h"

#include <stddef.h>
#include <stdio.h>

#include "transfer.h"

const cli_option model_options[] = {
    CLI_OPT("--classes", OPT_LONG, .offset = offsetof(model_args, classes), .lo = 1, .hi = 1000000,
            .error = N_("--classes needs a whole number from 1 to 1000000, not '%s'"), .arg = "N",
            .help = N_("freeze everything and replace the head for N classes first, as the tutorial does"),
            .def = N_("ImageNet's 1000 classes, nothing frozen")),
    CLI_OPT("--weights", OPT_STRING, .offset = offsetof(model_args, weights), .nonempty = 1,
            .error = N_("--weights needs a file"), .arg = "FILE",
            .help = N_("load a state_dict (safetensors or .pth) strictly"), .def = N_("random weights")),
    CLI_OPT_END,
};

const cli_option model_size_option[] = {
    CLI_OPT("--size", OPT_LONG, .offset = offsetof(model_args, size), .lo = 32, .hi = 4096,
            .error = N_("--size needs a whole number from 32 to 4096, not '%s'"), .arg = "S",
            .help = N_("the input is 1x3xSxS"), .def = "224"),
    CLI_OPT(NULL, OPT_GROUP, .group = model_options),
    CLI_OPT_END,
};

int model_args_parse(const char *cmd, const cli_option *opts, int argc, char **argv, model_args *a) {
    *a = (model_args){.size = 224};
    const char *args[1];
    int n = 0;
    int rc = cli_parse(cmd, opts, argc, argv, a, 1, args, &n);
    if (rc) return rc;
    return model_args_check(cmd, a, n ? args[0] : NULL);
}

int model_args_check(const char *cmd, model_args *a, const char *arch) {
    if (!arch) return cli_fail(CLI_USAGE, "%s: which architecture? (frost %s ARCH; see frost help)", cmd, cmd);
    a->arch = arch;
    if (ft_arch_family(a->arch) == FT_FAMILY_NONE) {
        char archs[512];
        transfer_arch_list(archs, sizeof archs);
        return cli_fail(CLI_USAGE, "unknown architecture '%s' (choose from %s)", a->arch, archs);
    }
    return 0;
}

int model_args_build(const model_args *a, ft_model **out) {
    transfer_spec spec = {.arch = a->arch, .classes = a->classes, .weights = a->weights};
    char err[1024], note[1024];
    if (transfer_build(&spec, out, note, sizeof note, err, sizeof err) != 0) return cli_fail(CLI_FAILED, "%s", err);
    if (note[0]) fprintf(stderr, "frost: note: %s\n", note);
    return 0;
}
