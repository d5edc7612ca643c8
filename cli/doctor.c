// doctor.c — `frost doctor DATASET`: the pre-flight report of a dataset, printed.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "dataset.h"
#include "doctor.h"
#include "i18n.h"

#define BAR_WIDTH 40

static void bar(FILE *out, size_t v, size_t max) {
    int n = max ? (int)((v * BAR_WIDTH + max - 1) / max) : 0;
    for (int i = 0; i < n; i++) fputs("\u2588", out);   // full block
}

static void print_kinds(FILE *out, const char *title, const doctor_kind *k, size_t n) {
    fprintf(out, "%s:", title);
    for (size_t i = 0; i < n; i++) fprintf(out, "%s %s %zu", i ? "," : "", cli_safe(k[i].name), k[i].count);
    fputc('\n', out);
}

static void print_bad(void *out, const char *path, const char *reason) {
    fprintf(out, "  %s: %s\n", cli_safe(path), cli_safe(reason));
}

typedef struct {
    long workers;
} doctor_args;

static const cli_option options[] = {
    CLI_OPT("--workers", OPT_LONG, .offset = offsetof(doctor_args, workers), .lo = 1, .hi = 256, .arg = "N",
            .help = N_("decoding threads"), .def = N_("the cores, or the config file's")),
    CLI_OPT_END,
};

static int run(int argc, char **argv) {
    doctor_args a = {.workers = cli_config()->workers};   // 0: doctor's own default
    const char *root = NULL;
    int n = 0;
    int rc = cli_parse("doctor", options, argc, argv, &a, 1, &root, &n);
    if (rc) return rc;
    if (n == 0) return cli_fail(CLI_USAGE, "doctor: which dataset? (frost doctor DATASET)");

    dataset_opts o;
    dataset_opts_default(&o);
    o.lenient = 1;
    dataset d;
    char err[1024];
    if ((rc = cli_scan_dataset(root, &o, &d)) != 0) return rc;
    doctor_report r;
    if (doctor_run(&d, (int)a.workers, &r, err, sizeof err) != 0) {
        doctor_report_free(&r, d.n_classes);
        dataset_free(&d);
        return cli_fail(CLI_FAILED, "%s", err);
    }

    FILE *out = stdout;
    fprintf(out, "Dataset %s: %zu classes, %zu training and %zu validation files%s\n\n", cli_safe(d.root), d.n_classes,
            d.train.n_items, d.valid.n_items, d.split_by_fraction ? " (split by fraction)" : "");
    size_t name_w = 5, max = 1;
    for (size_t c = 0; c < d.n_classes; c++) {
        if (strlen(cli_safe(d.classes[c])) > name_w) name_w = strlen(cli_safe(d.classes[c]));
        if (d.train.class_counts[c] > max) max = d.train.class_counts[c];
        if (d.valid.class_counts[c] > max) max = d.valid.class_counts[c];
    }
    const dataset_split *splits[2] = {&d.train, &d.valid};
    fprintf(out, "%-5s  %-*s  %7s  %8s\n", "split", (int)name_w, "class", "images", "readable");
    for (int s = 0; s < 2; s++) {
        if (splits[s]->n_items == 0 && s == 1) continue;
        for (size_t c = 0; c < d.n_classes; c++) {
            fprintf(out, "%-5s  %-*s  %7zu  %8zu  ", c == 0 ? splits[s]->name : "", (int)name_w, cli_safe(d.classes[c]),
                    splits[s]->class_counts[c], r.readable_per_class[s][c]);
            bar(out, splits[s]->class_counts[c], max);
            fputc('\n', out);
        }
    }
    fprintf(out, "\nImages: %zu checked, %zu readable, %zu bad\n", r.checked, r.readable, r.checked - r.readable);
    if (r.readable > 0) {
        fprintf(out, "Sizes (w x h): smallest %dx%d, median %dx%d, largest %dx%d\n", r.min_w, r.min_h, r.median_w,
                r.median_h, r.max_w, r.max_h);
        print_kinds(out, "Formats", r.formats, r.n_formats);
        print_kinds(out, "Colour modes", r.modes, r.n_modes);
    }
    size_t nbad = badfiles_count(&r.bad);
    if (nbad > 0) {
        fprintf(out, "\nBad files (%zu):\n", nbad);
        badfiles_each(&r.bad, 0, print_bad, out);
    }
    if (r.n_warnings > 0) {
        fprintf(out, "\nWarnings:\n");
        for (size_t i = 0; i < r.n_warnings; i++)
            fprintf(out, "  %s%s\n", cli_safe(r.warnings[i]),
                    i + 1 == r.imbalance ? cli_fix_hint(FIX_CLASS_WEIGHTS) : "");
    }
    if (r.n_problems > 0) {
        fprintf(out, "\nProblems (training cannot run):\n");
        for (size_t i = 0; i < r.n_problems; i++) fprintf(out, "  %s\n", cli_safe(r.problems[i]));
    }
    int ok = doctor_can_train(&r);
    fprintf(out, "\n%s\n", ok ? "Ready to train." : "Training cannot run on this dataset as it is.");
    fflush(out);
    doctor_report_free(&r, d.n_classes);
    dataset_free(&d);
    return ok ? 0 : CLI_FAILED;
}

const cli_command cli_doctor = {
    .name = "doctor",
    .synopsis = "DATASET [--workers N]",
    .help = N_("check a dataset before training: classes and images per split, sizes, formats,\n"
               "colour modes, every unreadable file and why, classes missing from a split,\n"
               "imbalance; exits 1 when training could not run"),
    .examples = "frost doctor sample_data\n"
                "frost doctor DATASET --workers 4",
    .options = options,
    .run = run,
};
