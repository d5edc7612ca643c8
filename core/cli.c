// cli.c — `frost COMMAND`: dispatch, help, and the small helpers the command files share.
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "frost_torch.h"

#define FROST_VERSION "0.1.0"

// ---------------------------------------------------------------------------------------------
// helpers

const char *cli_option_value(int argc, char **argv, int *i, const char *name, int *missing) {
    const char *arg = argv[*i];
    size_t len = strlen(name);
    *missing = 0;
    if (strncmp(arg, name, len) != 0) return NULL;
    if (arg[len] == '=') {
        (*i)++;
        return arg + len + 1;
    }
    if (arg[len] != '\0') return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        (*i)++;
        return NULL;
    }
    *i += 2;
    return argv[*i - 1];
}

int cli_parse_long(const char *s, long lo, long hi, long *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int cli_fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("frost: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

void cli_arch_list(char *buf, size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ft_arch_count() && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", ft_arch_name(i));
}

// ---------------------------------------------------------------------------------------------
// help

static void print_help(FILE *out) {
    char archs[512];
    cli_arch_list(archs, sizeof archs);
    fprintf(out,
            "frost " FROST_VERSION " — transfer learning of convolutional networks, in the terminal\n"
            "\n"
            "usage: frost [DATASET] [--arch ARCH] [--theme NAME] [--checkpoint FILE]\n"
            "              the full-screen interface on DATASET (default sample_data)\n"
            "       frost COMMAND [ARGS]\n"
            "\n"
            "commands:\n"
            "  print ARCH [--classes N] [--weights FILE]\n"
            "        print the network exactly as PyTorch's print(model) does; with --classes N the\n"
            "        rest is frozen and the head replaced for N classes first, as the tutorial does\n"
            "  summary ARCH [--classes N] [--size S] [--weights FILE]\n"
            "        a table of every module: output shape for a 1x3xSxS input (default 224),\n"
            "        parameters, trainable or frozen; then total / trainable / non-trainable counts\n"
            "  doctor DATASET [--workers N]\n"
            "        check a dataset before training: classes and images per split, sizes, formats,\n"
            "        colour modes, every unreadable file and why, classes missing from a split,\n"
            "        imbalance; exits 1 when training could not run\n"
            "  bench-data DATASET [--workers N] [--batch N] [--size S] [--crop] [--resize exact|fast]\n"
            "             [--norm seed|imagenet]\n"
            "        read every image of the dataset through the loader, as training does, and\n"
            "        report images per second\n"
            "  train DATASET --arch ARCH [--pretrained | --weights FILE] [--epochs N] [--batch N]\n"
            "        [--lr X] [--optimizer adam|sgd] [--bn eval|train] [--cache on|off|auto]\n"
            "        [--trainable LIST] [--save FILE] [--resume FILE] [--json FILE] [--profile] ...\n"
            "        the tutorial's transfer learning: everything frozen, a new head for the\n"
            "        dataset's classes, a train and a valid phase per epoch (README: every option)\n"
            "  bench-forward ARCH [--images N] [--batch N] [--size S] [--threads N] [--data DATASET]\n"
            "        the floor for an epoch: the backbone's forward pass alone on tensors in memory\n"
            "        (random ones, or DATASET's images decoded before the clock starts)\n"
            "  predict CKPT IMAGE...|DIR [--top K] [--json] [--batch N]\n"
            "        classify images with a checkpoint (frost train --save), preprocessed as it was\n"
            "        trained: top K classes per image (default 5); a DIR of class folders is scored\n"
            "        instead (accuracy, per class, confusion matrix, most confident mistakes)\n"
            "  weights list\n"
            "        the known pretrained weights of every architecture (torchvision's ImageNet files,\n"
            "        timm's tv_in1k safetensors), and where each is cached\n"
            "  weights fetch ARCH [--source torchvision|torchvision-v2|timm]\n"
            "        download them into $XDG_CACHE_HOME/frost (resumable, sha256 checked); a file in\n"
            "        torchvision's cache ($TORCH_HOME/hub/checkpoints) is used as it is\n"
            "  weights path ARCH [--source S]\n"
            "        print the cached file's path; exit 1 (with how to get it) when there is none\n"
            "  weights check FILE [--arch ARCH]\n"
            "        what a weight file is (safetensors, torch.save zip or legacy .pth; torchvision's\n"
            "        or timm's key names), which architecture it fits, and every key that does not\n"
            "        (train --pretrained takes the default weights of --arch, fetching them if needed;\n"
            "        FROST_WEIGHTS_MIRROR=http://host:port sends the downloads to a mirror)\n"
            "  help, --help    this text\n"
            "  --version       the version\n"
            "\n"
            "Input pipeline: --size S (default 224) resizes to SxS as Resize([S,S]); --crop resizes\n"
            "the short side to S, then takes the centre SxS (Resize(S) + CenterCrop(S)); --resize exact\n"
            "(default) gives the same pixels as torchvision on PIL, --resize fast lets libjpeg-turbo\n"
            "shrink large JPEGs while decoding (pixels differ by a few levels); --norm seed (mean and\n"
            "std 0.5, the default) or imagenet (0.485,0.456,0.406 / 0.229,0.224,0.225).\n"
            "\n"
            "--weights FILE loads a state_dict strictly (after the head replacement): safetensors\n"
            "(torchvision's or timm's key names) or a .pth (torch.save zip or legacy format); every\n"
            "key, dtype and shape must match.\n"
            "\n"
            "architectures: %s\n",
            archs);
}

int cli_main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_help(stdout);
        return 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0) {
        printf("frost " FROST_VERSION "\n");
        return 0;
    }
    if (strcmp(cmd, "print") == 0) return cmd_print(argc - 1, argv + 1);
    if (strcmp(cmd, "summary") == 0) return cmd_summary(argc - 1, argv + 1);
    if (strcmp(cmd, "doctor") == 0) return cmd_doctor(argc - 1, argv + 1);
    if (strcmp(cmd, "bench-data") == 0) return cmd_bench_data(argc - 1, argv + 1);
    if (strcmp(cmd, "bench-forward") == 0) return cmd_bench_forward(argc - 1, argv + 1);
    if (strcmp(cmd, "train") == 0) return cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "predict") == 0) return cmd_predict(argc - 1, argv + 1);
    if (strcmp(cmd, "weights") == 0) return cmd_weights(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "unknown command '%s' (see frost help)", cmd);
}
