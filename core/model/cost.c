// cost.c — see cost.h.
#include "cost.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "clock.h"
#include "errmsg.h"
#include "fetch.h"
#include "path.h"
#include "regular_file.h"
#include "transfer.h"

void cost_format_bytes(char *buf, size_t len, double bytes) {
    if (bytes >= 1e9)
        snprintf(buf, len, "%.2f GB", bytes / 1e9);
    else if (bytes >= 1e6)
        snprintf(buf, len, "%.1f MB", bytes / 1e6);
    else if (bytes >= 1e3)
        snprintf(buf, len, "%.1f KB", bytes / 1e3);
    else
        snprintf(buf, len, "%.0f B", bytes);
}

static int status_fail(ft_status *s, char *err, size_t errlen) {
    errmsg_set(err, errlen, "%s", ft_status_message(s));
    ft_status_free(s);
    return -1;
}

// 1 when path is under (or is) the module `prefix`.
static int under(const char *path, const char *prefix) {
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '.');
}

int cost_estimate(ft_model *m, const cost_spec *spec, const cost_speed *speed, cost_report *out, char *err,
                  size_t errlen) {
    memset(out, 0, sizeof *out);
    out->first_trainable = "";
    out->step_seconds_per_image = out->epoch1_seconds = out->later_epoch_seconds = NAN;
    const ft_call *calls;
    size_t n_calls;
    ft_status *s = ft_model_calls(m, spec->size, &calls, &n_calls);
    if (s) return status_fail(s, err, errlen);
    const ft_node *nodes;   // after the calls: ft_model_nodes refreshes the trainable counts
    size_t n_nodes;
    if ((s = ft_model_nodes(m, &nodes, &n_nodes))) return status_fail(s, err, errlen);
    out->params = nodes[0].params;
    out->trainable = nodes[0].trainable;
    const char *head = ft_model_head_path(m);

    size_t first = n_calls;
    for (size_t i = 0; i < n_calls && first == n_calls; i++)
        if (calls[i].trainable) first = i;
    if (first < n_calls) out->first_trainable = nodes[calls[first].node].path;
    // what autograd keeps, each tensor once (the ids seen so far), and the peaks as the calls run
    uint64_t *seen = calloc(2 * n_calls + 1, sizeof *seen);
    int64_t *kept_after = calloc(n_calls + 1, sizeof *kept_after);   // kept by calls [first, i]
    if (!seen || !kept_after) {
        free(seen);
        free(kept_after);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    size_t n_seen = 0;
    int64_t kept = 0, fixed = 0, fwd_peak = 0, bwd_peak = 0;
    for (size_t i = 0; i < n_calls; i++) {
        const ft_call *c = &calls[i];
        out->fwd_macs += (double)c->macs;
        if (under(nodes[c->node].path, head)) out->head_macs += (double)c->macs;
        int64_t live = 4 * (c->in_elems + (c->kind == FT_CALL_RELU ? 0 : c->out_elems));   // a ReLU runs in place
        if (kept + live > fwd_peak) fwd_peak = kept + live;
        if (i >= first && first < n_calls) {
            if (i > first) out->bwd_macs += (double)c->macs;      // the gradient of its input
            if (c->trainable) out->bwd_macs += (double)c->macs;   // the gradient of its weights
            // a BatchNorm in train mode keeps its batch's statistics too: per channel, whatever the batch
            if (c->kind == FT_CALL_BATCHNORM && (c->trainable || !spec->bn_eval)) fixed += 2 * (c->params / 2) * 4;
            for (int k = 0; k < 2; k++) {
                if (!c->saved_bytes[k]) continue;
                int dup = 0;
                for (size_t j = 0; j < n_seen && !dup; j++) dup = seen[j] == c->saved_id[k];
                if (dup) continue;
                seen[n_seen++] = c->saved_id[k];
                kept += c->saved_bytes[k];
            }
        }
        kept_after[i] = kept;
    }
    // backward, from the last call to the first trainable one: what is still kept, and the gradients of
    // the running call's output and input
    for (size_t i = n_calls; first < n_calls && i-- > first;) {
        int64_t grads = 4 * (calls[i].out_elems + (i > first ? calls[i].in_elems : 0));
        if (kept_after[i] + grads > bwd_peak) bwd_peak = kept_after[i] + grads;
    }
    free(seen);
    free(kept_after);
    int64_t batch = spec->batch > 0 ? spec->batch : 1;
    out->kept_bytes = kept * batch + fixed;
    out->activation_peak_bytes = (fwd_peak > bwd_peak ? fwd_peak : bwd_peak) * batch;
    out->grad_bytes = 4 * out->trainable;
    out->optimizer_bytes = spec->opt == FT_OPT_ADAM ? 8 * out->trainable : spec->momentum > 0 ? 4 * out->trainable : 0;
    out->peak_bytes = out->activation_peak_bytes + 2 * out->grad_bytes + out->optimizer_bytes;
    out->cache = ft_model_backbone_frozen(m) && (spec->bn_eval || !transfer_has_batchnorm(nodes, n_nodes));

    if (speed && speed->forward > 0) {
        double f = speed->forward / 1e9, b = speed->backward / 1e9;
        double step = out->fwd_macs * f + out->bwd_macs * b;
        out->step_seconds_per_image = step;
        if (spec->n_train + spec->n_valid > 0) {
            double tr = (double)spec->n_train, va = (double)spec->n_valid;
            if (out->cache) {   // epoch 1 runs the backbone once per image; then only the head
                double head_step = out->head_macs * f + out->bwd_macs * b;
                out->epoch1_seconds = (tr + va) * out->fwd_macs * f + tr * out->bwd_macs * b;
                out->later_epoch_seconds = tr * head_step + va * out->head_macs * f;
            } else {
                out->epoch1_seconds = out->later_epoch_seconds = tr * step + va * out->fwd_macs * f;
            }
        }
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// calibration

enum { CAL_IMAGES = 4, CAL_RUNS = 2 };

static int calibration_path(char *path, size_t len, char *err, size_t errlen) {
    char dir[4096];
    if (fetch_cache_dir(dir, sizeof dir, err, errlen) != 0) return -1;
    int n = snprintf(path, len, "%s/calibration.tsv", dir);
    if (n < 0 || (size_t)n >= len) {
        errmsg_set(err, errlen, "%s: path too long", dir);
        return -1;
    }
    return 0;
}

// The file's speed for this key: 1 found, 0 not (also when the table is no regular file: a FIFO there
// would otherwise hold the open forever).
static int calibration_find(const char *path, const char *key, cost_speed *speed) {
    struct stat st;
    char why[256];
    int fd = regular_file_open(path, &st, why, sizeof why);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        return 0;
    }
    char line[512];
    int found = 0;
    size_t klen = strlen(key);
    while (!found && fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == '\t')
            found = sscanf(line + klen + 1, "%lf\t%lf", &speed->forward, &speed->backward) == 2 && speed->forward > 0 &&
                    speed->backward > 0;
    fclose(f);
    return found;
}

// Adds (or replaces) the key's line: the file rewritten whole, atomically. A table that cannot be
// written (or is no regular file) is left as it is: the measurement is then made again next time.
static void calibration_store(const char *path, const char *key, const cost_speed *speed) {
    char *dir = path_folder(path);
    if (dir) path_mkdirs(dir);
    free(dir);
    atomic_file af;
    char err[512];
    FILE *out = atomic_file_open_stream(&af, path, err, sizeof err);
    if (!out) return;
    FILE *in = fopen(path, "r");   // a regular file or none (atomic_file_open checked)
    char line[512];
    size_t klen = strlen(key);
    if (in) {
        while (fgets(line, sizeof line, in))
            if (!(strncmp(line, key, klen) == 0 && line[klen] == '\t')) fputs(line, out);
        fclose(in);
    }
    fprintf(out, "%s\t%.6g\t%.6g\n", key, speed->forward, speed->backward);
    (void)atomic_file_commit(&af, 1, err, sizeof err);
}

static const char *calibration_device(const char *device) {
    return device && strcmp(device, "auto") != 0 ? device : ft_cuda_available() ? "cuda" : "cpu";
}

int cost_calibrate(const char *arch, int size, const char *device, cost_speed *speed, int *measured, char *err,
                   size_t errlen) {
    if (measured) *measured = 0;
    char path[4200], key[256];
    const char *dev = calibration_device(device);
    snprintf(key, sizeof key, "%s\t%d\t%s\t%d", arch, size, dev, ft_get_num_threads());
    int have_file = calibration_path(path, sizeof path, err, errlen) == 0;
    if (have_file && calibration_find(path, key, speed)) return 0;

    // measure: the forward pass without gradients, then a training step with everything trainable
    ft_model *m = NULL;
    transfer_spec ts = {.arch = arch, .classes = 2};
    if (transfer_build(&ts, &m, NULL, 0, err, errlen) != 0) return -1;
    ft_status *s = ft_model_to_device(m, dev);
    if (!s) s = ft_model_set_trainable(m, "", 1);
    ft_optimizer *opt = NULL;
    ft_opt_params op;
    ft_opt_params_default(&op);
    if (!s) s = ft_optimizer_create(m, &op, &opt);
    cost_spec spec = {.size = size, .batch = CAL_IMAGES, .opt = FT_OPT_ADAM, .bn_eval = 0};
    cost_report all;
    int rc = s ? -1 : cost_estimate(m, &spec, NULL, &all, err, errlen);
    size_t n = (size_t)CAL_IMAGES * 3 * (size_t)size * (size_t)size;
    float *x = calloc(n, sizeof *x), *logits = calloc((size_t)CAL_IMAGES * 2, sizeof *logits);
    int64_t labels[CAL_IMAGES] = {0, 1, 0, 1};
    if (!s && rc == 0 && (!x || !logits)) {
        errmsg_set(err, errlen, "out of memory");
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) x[i] = (float)((i * 2654435761u >> 8) % 1000) / 1000.0f - 0.5f;
    // each timed at the calibration's batch after a warm-up at that batch (the first pass of a size
    // pays for its allocations and page faults), the better of two
    double t_fwd = INFINITY, t_step = INFINITY;
    if (!s && rc == 0) {
        ft_model_set_mode(m, 0, 1);
        for (int k = 0; !s && k < 1 + CAL_RUNS; k++) {
            double t0 = clock_seconds();
            s = ft_model_forward(m, x, CAL_IMAGES, 3, size, size, logits, (size_t)CAL_IMAGES * 2);
            if (k > 0 && clock_seconds() - t0 < t_fwd) t_fwd = clock_seconds() - t0;
        }
        ft_model_set_mode(m, 1, 0);
        ft_step_result r;
        for (int k = 0; !s && k < 1 + CAL_RUNS; k++) {
            double t0 = clock_seconds();
            s = ft_train_step(m, opt, x, labels, CAL_IMAGES, 3, size, size, &r);
            if (k > 0 && clock_seconds() - t0 < t_step) t_step = clock_seconds() - t0;
        }
    }
    if (s) rc = status_fail(s, err, errlen);
    if (rc == 0) {
        speed->forward = t_fwd / (CAL_IMAGES * all.fwd_macs / 1e9);
        // the step's forward runs with gradients: at the measured forward speed; the rest is backward
        double backward = t_step - t_fwd;
        speed->backward = (backward > 0 ? backward : t_step * 0.5) / (CAL_IMAGES * all.bwd_macs / 1e9);
        if (measured) *measured = 1;
        if (have_file) calibration_store(path, key, speed);
    }
    free(x);
    free(logits);
    ft_optimizer_free(opt);
    ft_model_free(m);
    return rc;
}

int cost_calibrate_precision(const char *arch, int size, const char *device, ft_precision p, cost_speed *speed,
                             int *measured, char *err, size_t errlen) {
    if (p == FT_PRECISION_FP32) return cost_calibrate(arch, size, device, speed, measured, err, errlen);
    if (measured) *measured = 0;
    const char *dev = calibration_device(device);
    if (p == FT_PRECISION_BF16 && strcmp(dev, "cpu") == 0 && !ft_cpu_has_bf16()) {
        errmsg_set(err, errlen, "this CPU has no bfloat16 instructions");
        return -1;
    }
    cost_speed fp32;
    int fp32_measured = 0;
    if (cost_calibrate(arch, size, device, &fp32, &fp32_measured, err, errlen) != 0) return -1;
    char path[4200], key[256];
    snprintf(key, sizeof key, "%s/%s\t%d\t%s\t%d", arch, p == FT_PRECISION_BF16 ? "bf16" : "fast", size, dev,
             ft_get_num_threads());
    int have_file = calibration_path(path, sizeof path, err, errlen) == 0;
    if (have_file && calibration_find(path, key, speed)) {
        speed->backward = fp32.backward;
        if (measured) *measured = fp32_measured;
        return 0;
    }
    // the backbone as the feature cache runs it (every parameter frozen, eval mode), at fp32 and at p
    // in turns, the better of CAL_RUNS + 1 each after a warm-up of each: the ratio of the two, measured
    // side by side, scales the calibration's forward speed (load from elsewhere falls on both alike)
    ft_model *m = NULL;
    transfer_spec ts = {.arch = arch, .classes = 2};
    if (transfer_build(&ts, &m, NULL, 0, err, errlen) != 0) return -1;
    ft_status *s = ft_model_to_device(m, dev);
    if (!s) s = ft_model_set_trainable(m, "", 0);
    if (!s) ft_model_set_mode(m, 0, 1);
    size_t n = (size_t)CAL_IMAGES * 3 * (size_t)size * (size_t)size, feat = (size_t)ft_model_feature_size(m);
    float *x = calloc(n, sizeof *x), *out = calloc((size_t)CAL_IMAGES * (feat ? feat : 1), sizeof *out);
    int rc = 0;
    if (!s && (!x || !out)) {
        errmsg_set(err, errlen, "out of memory");
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) x[i] = (float)((i * 2654435761u >> 8) % 1000) / 1000.0f - 0.5f;
    double t_best[2] = {INFINITY, INFINITY};
    for (int k = 0; !s && rc == 0 && k < 2 * (2 + CAL_RUNS); k++) {
        int at_p = k % 2;
        s = ft_model_set_precision(m, at_p ? p : FT_PRECISION_FP32);
        double t0 = clock_seconds();
        if (!s) s = ft_model_features(m, x, CAL_IMAGES, 3, size, size, out, (size_t)CAL_IMAGES * feat);
        double t = clock_seconds() - t0;
        if (k >= 2 && t < t_best[at_p]) t_best[at_p] = t;
    }
    if (s) rc = status_fail(s, err, errlen);
    if (rc == 0) {
        speed->forward = fp32.forward * t_best[1] / t_best[0];
        speed->backward = fp32.backward;
        if (measured) *measured = 1;
        if (have_file) calibration_store(path, key, speed);
    }
    free(x);
    free(out);
    ft_model_free(m);
    return rc;
}
