// dataset_arg.c — a command's DATASET argument read into a dataset, with the command line's words
// when it cannot be used.
#include "cli.h"
#include "dataset.h"

int cli_scan_dataset(const char *root, const dataset_opts *o, dataset *d) {
    char err[1024];
    if (dataset_scan(d, root, o, err, sizeof err) == 0) return 0;
    int rc = cli_fail(CLI_FAILED, "%s%s", err, cli_fix_hint(d->n_problems > 1 ? FIX_DOCTOR : FIX_NONE));
    dataset_free(d);
    return rc;
}
