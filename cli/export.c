// export.c — `frost export CKPT --pytorch DIR | --onnx FILE [--opset N] [--force]`: a checkpoint taken
// elsewhere. --pytorch writes a folder with train.py (the run as a PyTorch script that goes on from the
// checkpoint, alone or under torchrun), the weights and a README (core/export/export_pytorch); --onnx writes
// the trained network as an ONNX model with a dynamic batch (core/export/onnx_export). Both may be asked at
// once. The checkpoint is loaded whole first, so a damaged one is refused before anything is written;
// an existing output is refused unless --force; nothing is ever left half written.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "cli.h"
#include "export_pytorch.h"
#include "i18n.h"
#include "onnx_export.h"

typedef struct {
    const char *pytorch;
    const char *onnx;
    int opset;
    int force;
} export_args;

static const cli_option options[] = {
    CLI_OPT("--pytorch", OPT_STRING, .offset = offsetof(export_args, pytorch), .nonempty = 1, .arg = "DIR",
            .help = N_("write DIR/train.py (the run as a PyTorch script, torchrun-ready), the weights and a README")),
    CLI_OPT("--onnx", OPT_STRING, .offset = offsetof(export_args, onnx), .nonempty = 1, .arg = "FILE",
            .help = N_("write the trained network as an ONNX model (dynamic batch; preprocessing and classes as "
                       "metadata)")),
    CLI_OPT("--opset", OPT_INT, .offset = offsetof(export_args, opset), .lo = ONNX_MIN_OPSET, .hi = ONNX_MAX_OPSET,
            .error = N_("--opset needs an ONNX opset from 9 to 17"), .arg = "N", .help = N_("the ONNX opset"),
            .def = N_("14, PyTorch 1.13's")),
    CLI_OPT("--force", OPT_FLAG, .offset = offsetof(export_args, force),
            .help = N_("replace what an earlier export wrote there")),
    CLI_OPT_END,
};

static int run(int argc, char **argv) {
    export_args a = {0};
    const char *ckpt = NULL;
    int n = 0;
    int rc = cli_parse("export", options, argc, argv, &a, 1, &ckpt, &n);
    if (rc) return rc;
    if (!ckpt) return cli_fail(CLI_USAGE, "export: which checkpoint? (frost export CKPT --pytorch DIR | --onnx FILE)");
    if (!a.pytorch && !a.onnx) return cli_fail(CLI_USAGE, "export: say what to write: --pytorch DIR or --onnx FILE");
    if (a.opset && !a.onnx) return cli_fail(CLI_USAGE, "export: --opset goes with --onnx");
    struct stat st;
    if (a.onnx && !a.force && lstat(a.onnx, &st) == 0)
        return cli_fail(CLI_FAILED, "export: %s already exists (use --force to replace it)", a.onnx);
    char err[2048];
    if (a.pytorch) {
        if (export_pytorch_checkpoint(ckpt, a.pytorch, a.force, err, sizeof err) != 0)
            return cli_fail(CLI_FAILED, "export: %s", err);
        printf("wrote %s/%s, %s and %s\n", cli_safe(a.pytorch), EXPORT_PYTORCH_SCRIPT, EXPORT_PYTORCH_WEIGHTS,
               EXPORT_PYTORCH_README);
        printf("run it with:  python3 %s/%s --data DATASET   (or torchrun --nproc_per_node N ...)\n",
               cli_safe(a.pytorch), EXPORT_PYTORCH_SCRIPT);
    }
    if (a.onnx) {
        ft_model *m = NULL;
        checkpoint_meta meta;
        int lrc = checkpoint_load(ckpt, &m, &meta, err, sizeof err);
        if (lrc == CHECKPOINT_E_WEIGHTS) return cli_fail(CLI_FAILED, "export: %s is not a frost checkpoint", ckpt);
        if (lrc != 0) return cli_fail(CLI_FAILED, "export: %s", err);
        int opset = a.opset ? a.opset : ONNX_DEFAULT_OPSET;
        rc = onnx_export(m, &meta, opset, a.onnx, a.force, err, sizeof err);
        ft_model_free(m);
        if (rc != 0) {
            checkpoint_meta_free(&meta);
            return cli_fail(CLI_FAILED, "export: %s", err);
        }
        printf("wrote %s: %s for %lld classes, input batch x 3 x %d x %d, opset %d\n", cli_safe(a.onnx), meta.arch,
               (long long)meta.num_classes, meta.tf.size, meta.tf.size, opset);
        checkpoint_meta_free(&meta);
    }
    return CLI_OK;
}

const cli_command cli_export = {
    .name = "export",
    .synopsis = "CKPT --pytorch DIR | --onnx FILE [--opset N] [--force]",
    .help = N_("take a checkpoint elsewhere: a PyTorch script that goes on with the run (under torchrun too),\n"
               "or the trained network as ONNX for deployment"),
    .examples = "frost export resnet18.safetensors --pytorch resnet18-run\n"
                "frost export resnet18.safetensors --onnx resnet18.onnx",
    .options = options,
    .run = run,
};
