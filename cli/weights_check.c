// weights_check.c — `frost weights check FILE [--arch ARCH]`: what a weight file is and whether
// it fits. It names the format, the architecture the key names suggest (or --arch), builds that one
// model (only that one: a VGG takes half a gigabyte) and lists every key or shape that does not fit.
// A frost checkpoint (frost train --save) is checked against the model it was saved from: its
// architecture with the tutorial's head for its classes. Exit 0 when the file loads into that model
// (else the 1000-class one) as it is, 1 when not, 2 for a bad command line.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "frost_torch.h"
#include "i18n.h"
#include "transfer.h"
#include "weights.h"

typedef struct {
    const char *head;   // the model's head path
    size_t in_head;     // problems under it
} report;

static void print_problem(void *user, weights_problem kind, const char *key, const char *detail) {
    static const char *const WHAT[] = {"missing", "unexpected", "mismatched"};
    report *r = user;
    size_t n = strlen(r->head);
    if (strncmp(key, r->head, n) == 0 && key[n] == '.') r->in_head++;
    printf("  %-10s  %s%s%s\n", WHAT[kind], cli_safe(key), *detail ? ": " : "", cli_safe(detail));
}

static int set_arch(void *field, const char *value) {
    if (!value || ft_arch_family(value) == FT_FAMILY_NONE) return -1;
    *(const char **)field = value;
    return 0;
}

static const cli_option options[] = {
    CLI_OPT("--arch", OPT_CALL, .call = set_arch, .arg = "ARCH",
            .help = N_("the architecture to check the file against"), .def = N_("the one its key names suggest")),
    CLI_OPT_END,
};

static int run(int argc, char **argv) {
    const char *file = NULL, *arch = NULL;
    // the --arch message names every architecture: made here
    char archs[512], msg[600];
    transfer_arch_list(archs, sizeof archs);
    snprintf(msg, sizeof msg, "--arch needs one of %s", archs);
    cli_option opts[2] = {options[0], {0}};
    opts[0].error = msg;
    int n = 0;
    int rc = cli_parse("weights check", opts, argc, argv, (void *)&arch, 1, &file, &n);
    if (rc) return rc;
    if (!file) return cli_fail(CLI_USAGE, "weights check: which file? (frost weights check FILE [--arch ARCH])");

    weights_file w;
    char err[1024];
    if (weights_file_open(&w, file, err, sizeof err) != 0) return cli_fail(CLI_FAILED, "%s", err);
    long long values = 0;
    for (size_t i = 0; i < w.n_tensors; i++) values += safet_numel(&w.tensors[i]);
    printf("file:     %s\n", cli_safe(file));
    printf("format:   %s%s\n", weights_format_name(&w),
           w.timm_layout ? " (pre_logits.fc1/fc2 and head.fc read as classifier.0/3/6)" : "");
    printf("tensors:  %zu (%.1fM values)\n", w.n_tensors, (double)values / 1e6);
    const char *guess = weights_guess_arch(&w);
    printf("names:    %s\n", guess ? guess : "no architecture frost builds");
    // a frost checkpoint says what it is: its architecture and its classes
    const char *ck_arch = weights_file_meta(&w, "frost.arch"), *ck_classes = weights_file_meta(&w, "frost.classes");
    long long classes = 0;
    if (ck_arch && ck_classes && ft_arch_family(ck_arch) != FT_FAMILY_NONE) {
        classes = atoll(ck_classes);
        if (classes < 1 || classes > 1000000) classes = 0;
        if (classes) printf("frost:    a checkpoint of %s for %lld classes\n", ck_arch, classes);
        if (!arch) arch = ck_arch;
        if (strcmp(arch, ck_arch) != 0) classes = 0;   // --arch names another: its 1000-class model
    }
    if (!arch) arch = guess;
    if (!arch) {
        weights_file_close(&w);
        return cli_fail(CLI_FAILED, "%s fits no architecture frost builds (try --arch ARCH to see why)", file);
    }

    ft_model *m = NULL;
    transfer_spec spec = {.arch = arch, .classes = classes};
    if (transfer_build(&spec, &m, NULL, 0, err, sizeof err) != 0) {
        weights_file_close(&w);
        return cli_fail(CLI_FAILED, "weights check: %s", err);
    }
    report r = {ft_model_head_path(m), 0};
    printf("checked:  %s (%lld classes%s)\n", arch, classes ? classes : TRANSFER_IMAGENET_CLASSES,
           classes ? ", the tutorial's head" : "");
    size_t problems = weights_fit(m, &w, print_problem, &r);
    if (problems == 0) {
        printf("fits %s\n", arch);
    } else {
        printf("does not fit %s: %zu key%s above\n", arch, problems, problems == 1 ? "" : "s");
        if (r.in_head == problems)
            printf("only the head (%s) differs: the backbone fits, and training with --classes replaces the head\n",
                   r.head);
    }
    ft_model_free(m);
    weights_file_close(&w);
    return problems == 0 ? 0 : CLI_FAILED;
}

const cli_command cli_weights_check = {
    .name = "weights check",
    .synopsis = "FILE [--arch ARCH]",
    .help = N_("what a weight file is (safetensors, torch.save zip or legacy .pth; torchvision's\n"
               "or timm's key names), which architecture it fits, and every key that does not"),
    .examples = "frost weights check vgg16-397923af.pth\n"
                "frost weights check model.safetensors --arch resnet50",
    .options = options,
    .run = run,
};
