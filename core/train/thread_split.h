/*
 * thread_split.h — how a training run shares the cores between decoding and the network, chosen
 * from what both cost on this machine, measured as the run starts.
 *
 * On a GPU the CPU's job is decoding: libtorch keeps one thread, the loader gets the other cores.
 * On a CPU both compete for the same cores, and the choice is between:
 *   - taking turns: libtorch and the loader both get every core, and the loader decodes only while
 *     the trainer waits for a batch (loader.h, opts.turns). An image costs network + decode/cores.
 *   - a split: k cores decode beside the network on the other cores - k. An image costs the slower
 *     of the two: the network on cores - k threads, decode / k.
 * Were libtorch's speed proportional to its threads, taking turns would never lose (it keeps every
 * core busy); it is not (memory bandwidth, serial parts, small layers), so the network is timed on
 * every core and on half of them, and its time on p threads read off Amdahl's law fitted to both.
 * Decoding beside a network that holds every core (frost's rule before: a quarter of the cores as
 * workers, all of them for libtorch) is not a candidate: a worker that preempts one of libtorch's
 * threads stalls the others at the next barrier, so it costs a multiple of the decoding itself
 * (on 2 cores, epoch 1 at 1.18-1.34x the forward floor on 500x375 photos).
 */
#ifndef FROST_THREAD_SPLIT_H
#define FROST_THREAD_SPLIT_H

#include <stddef.h>

#include "dataset.h"
#include "pipeline.h"

typedef struct {
    int cores;                // available to the process
    int gpu;                  // 1: the network runs on a GPU
    double decode_ms;         // one image's decode + transform on one thread; < 0: unknown
    double network_ms;        // one image through the network with every core; < 0: unknown
    double network_half_ms;   // the same on cores / 2 threads (at least 1); < 0: unknown (then
                              // libtorch's speed is taken as proportional to its threads)
} split_costs;

typedef struct {
    int threads;           // libtorch's intra-op threads
    int workers;           // loader threads
    int turns;             // 1: the loader decodes only while the trainer waits (loader_opts.turns)
    double predicted_ms;   // per image, from the costs (0 when they are unknown)
    char why[256];         // one line for the run's log
} thread_split;

// The split for those costs (unknown costs: taking turns on a CPU).
void thread_split_choose(const split_costs *c, thread_split *out);
// 1 when a split could gain enough over taking turns to be worth timing the network on half the cores:
// a split gains at most the decoding that taking turns adds to each image (decode_ms / cores), so not
// when that is under 5% of network_ms (then thread_split_choose takes turns whatever network_half_ms).
int thread_split_worth_probing(const split_costs *c);
// The network's time per image on p threads, from the costs' two timings (Amdahl's law).
double thread_split_network_ms(const split_costs *c, int p);
// frost's rule before this one, for benchmarks (FROST_THREAD_SPLIT=quarter): every core for
// libtorch, a quarter of them (at least one) decoding beside it.
void thread_split_quarter(int cores, int gpu, thread_split *out);

// One image's decode + transform with opts on this thread, in milliseconds: the mean over up to n
// files spread over the split (the first load is warm-up, not counted). -1 when none could be read.
double thread_split_probe_decode(const dataset_split *s, const pipeline_opts *opts, size_t n);

#endif
