// thread_split.c — the cores shared between decoding and the network (see thread_split.h).
#include "thread_split.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"

static void set_why(thread_split *s, const char *what, const split_costs *c) {
    int h = c->cores / 2 > 0 ? c->cores / 2 : 1;
    if (c->decode_ms >= 0 && c->network_ms > 0 && c->network_half_ms > 0)
        snprintf(s->why, sizeof s->why,
                 "%s (per image: decoding %.1f ms on one thread, the network %.1f ms on %d threads, %.1f on %d)", what,
                 c->decode_ms, c->network_ms, c->cores, c->network_half_ms, h);
    else if (c->decode_ms >= 0 && c->network_ms > 0)
        snprintf(s->why, sizeof s->why, "%s (per image: decoding %.1f ms on one thread, the network %.1f ms on %d)",
                 what, c->decode_ms, c->network_ms, c->cores);
    else
        snprintf(s->why, sizeof s->why, "%s", what);
}

double thread_split_network_ms(const split_costs *c, int p) {
    int C = c->cores > 0 ? c->cores : 1, h = C / 2 > 0 ? C / 2 : 1;
    double serial = 0;   // Amdahl's serial share a: t(p) = t1 (a + (1 - a) / p)
    if (c->network_half_ms > 0 && h < C) {
        double r = c->network_half_ms / c->network_ms;   // t(h) / t(C)
        double den = r - r / C - 1 + 1.0 / h;
        serial = den != 0 ? (1.0 / h - r / C) / den : 0;
        if (!(serial >= 0)) serial = 0;
        if (serial > 1) serial = 1;
    }
    return c->network_ms * (serial + (1 - serial) / p) / (serial + (1 - serial) / C);
}

int thread_split_worth_probing(const split_costs *c) {
    int cores = c->cores > 0 ? c->cores : 1;
    return !c->gpu && cores > 1 && c->decode_ms >= 0 && c->network_ms > 0 &&
           c->decode_ms / cores > 0.05 * c->network_ms;
}

void thread_split_choose(const split_costs *c, thread_split *out) {
    int cores = c->cores > 0 ? c->cores : 1;
    *out = (thread_split){.threads = cores, .workers = cores, .turns = 1};
    if (c->gpu) {
        *out = (thread_split){.threads = 1, .workers = cores > 2 ? cores - 1 : 1};
        set_why(out, "the network on the GPU, the cores decode", c);
        return;
    }
    if (c->decode_ms < 0 || c->network_ms <= 0) {
        set_why(out, "decoding and the network take turns on every core", c);
        return;
    }
    double N = c->network_ms, D = c->decode_ms;
    out->predicted_ms = N + D / cores;
    if (!thread_split_worth_probing(c)) {
        set_why(out, "decoding and the network take turns on every core (decoding adds under 5%)", c);
        return;
    }
    for (int k = 1; k < cores; k++) {
        double net = thread_split_network_ms(c, cores - k), dec = D / k, t = net > dec ? net : dec;
        if (t < out->predicted_ms) *out = (thread_split){.threads = cores - k, .workers = k, .predicted_ms = t};
    }
    set_why(out, out->turns ? "decoding and the network take turns on every core" : "decoding beside the network", c);
}

void thread_split_quarter(int cores, int gpu, thread_split *out) {
    if (cores < 1) cores = 1;
    if (gpu)
        *out = (thread_split){.threads = 1, .workers = cores > 2 ? cores - 1 : 1};
    else
        *out = (thread_split){.threads = cores, .workers = cores / 4 > 1 ? cores / 4 : 1};
    snprintf(out->why, sizeof out->why, "a quarter of the cores decoding beside the network (FROST_THREAD_SPLIT)");
}

double thread_split_probe_decode(const dataset_split *s, const pipeline_opts *opts, size_t n) {
    if (!s->n_items || n == 0) return -1;
    loader_source src = pipeline_source(opts);
    void *state = src.worker_new ? src.worker_new(src.user) : NULL;
    if (src.worker_new && !state) return -1;
    float *dst = malloc(pipeline_sample_floats(opts) * sizeof *dst);
    double total = 0;
    size_t timed = 0;
    char err[256];
    if (n > s->n_items) n = s->n_items;
    // n + 1 files evenly over the split: the first warms the decoder's buffers, the rest are timed
    for (size_t k = 0; dst && k <= n && k < s->n_items; k++) {
        size_t i = k * s->n_items / (n + 1);
        double t0 = clock_seconds();
        int rc = src.load(state, s->items[i].path, dst, err, sizeof err);
        double t = clock_seconds() - t0;
        if (rc == 0 && k > 0) total += t, timed++;
    }
    free(dst);
    if (src.worker_free) src.worker_free(state);
    return timed ? 1e3 * total / (double)timed : -1;
}
