// cli_model.c — `frost print` and `frost summary`: build a model as the options say, then write
// PyTorch's repr or the summary table.
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "frost_torch.h"
#include "model_print.h"
#include "weights.h"

typedef struct {
    const char *arch;
    long classes;       // 0: keep torchvision's 1000-class head
    long size;          // summary input size
    const char *weights;
} model_args;

// Parses ARCH and the options; allow_size enables --size. Returns 0 or an exit code.
static int parse_model_args(const char *cmd, int argc, char **argv, int allow_size, model_args *a) {
    *a = (model_args){.size = 224};
    for (int i = 1; i < argc;) {
        int missing = 0;
        const char *v;
        if ((v = cli_option_value(argc, argv, &i, "--classes", &missing)) || missing) {
            if (missing || cli_parse_long(v, 1, 1000000, &a->classes) != 0)
                return cli_fail(CLI_USAGE, "%s: --classes needs a whole number from 1 to 1000000, not '%s'", cmd,
                                missing ? "" : v);
        } else if ((v = cli_option_value(argc, argv, &i, "--weights", &missing)) || missing) {
            if (missing || !*v) return cli_fail(CLI_USAGE, "%s: --weights needs a file", cmd);
            a->weights = v;
        } else if (allow_size && ((v = cli_option_value(argc, argv, &i, "--size", &missing)) || missing)) {
            if (missing || cli_parse_long(v, 32, 4096, &a->size) != 0)
                return cli_fail(CLI_USAGE, "%s: --size needs a whole number from 32 to 4096, not '%s'", cmd,
                                missing ? "" : v);
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_fail(CLI_USAGE, "%s: unknown option '%s' (see frost help)", cmd, argv[i]);
        } else if (!a->arch) {
            a->arch = argv[i++];
        } else {
            return cli_fail(CLI_USAGE, "%s: unexpected argument '%s'", cmd, argv[i]);
        }
    }
    if (!a->arch) return cli_fail(CLI_USAGE, "%s: which architecture? (frost %s ARCH; see frost help)", cmd, cmd);
    if (ft_arch_family(a->arch) == FT_FAMILY_NONE) {
        char archs[512];
        cli_arch_list(archs, sizeof archs);
        return cli_fail(CLI_USAGE, "unknown architecture '%s' (choose from %s)", a->arch, archs);
    }
    return 0;
}

// Builds the model: torchvision's, then (with --classes) everything frozen and the head replaced as
// the tutorial does, then (with --weights) the file loaded strictly — except, with --classes, a head
// that does not fit (ImageNet's 1000 classes): the new head stays, and stderr says so.
static int build_model(const model_args *a, ft_model **out) {
    ft_model *m = NULL;
    ft_status *s = ft_model_create(a->arch, &m);
    if (!s && a->classes > 0) {
        s = ft_model_set_trainable(m, "", 0);
        if (!s) s = ft_model_replace_head(m, a->classes);
    }
    if (s) {
        int rc = cli_fail(CLI_FAILED, "%s: %s", a->arch, ft_status_message(s));
        ft_status_free(s);
        ft_model_free(m);
        return rc;
    }
    if (a->weights) {
        char err[1024], note[1024] = "";
        int rc = a->classes > 0 ? weights_load_backbone(m, a->weights, note, sizeof note, err, sizeof err)
                                : weights_load(m, a->weights, err, sizeof err);
        if (rc != 0) {
            ft_model_free(m);
            return cli_fail(CLI_FAILED, "%s", err);
        }
        if (note[0]) fprintf(stderr, "frost: note: %s\n", note);
    }
    *out = m;
    return 0;
}

static int finish_output(void) {
    if (fflush(stdout) != 0 || ferror(stdout)) return cli_fail(CLI_FAILED, "could not write the output");
    return 0;
}

int cmd_print(int argc, char **argv) {
    model_args a;
    ft_model *m = NULL;
    int rc = parse_model_args("print", argc, argv, 0, &a);
    if (rc == 0) rc = build_model(&a, &m);
    if (rc != 0) return rc;
    const ft_node *nodes;
    size_t n;
    ft_status *s = ft_model_nodes(m, &nodes, &n);
    if (s) {
        rc = cli_fail(CLI_FAILED, "%s", ft_status_message(s));
    } else {
        model_print_repr(stdout, nodes, n);
        rc = finish_output();
    }
    ft_status_free(s);
    ft_model_free(m);
    return rc;
}

int cmd_summary(int argc, char **argv) {
    model_args a;
    ft_model *m = NULL;
    int rc = parse_model_args("summary", argc, argv, 1, &a);
    if (rc == 0) rc = build_model(&a, &m);
    if (rc != 0) return rc;
    const ft_node *nodes;
    size_t n;
    ft_status *s = ft_model_trace(m, a.size);
    if (!s) s = ft_model_nodes(m, &nodes, &n);
    if (s) {
        rc = cli_fail(CLI_FAILED, "summary of %s at %ldx%ld: %s", a.arch, a.size, a.size, ft_status_message(s));
    } else {
        model_print_summary(stdout, nodes, n, a.size);
        rc = finish_output();
    }
    ft_status_free(s);
    ft_model_free(m);
    return rc;
}
