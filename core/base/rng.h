/*
 * rng.h — a small deterministic random number generator (splitmix64) for shuffles and splits.
 * Not cryptographic. The same seed gives the same sequence on every machine.
 */
#ifndef FROST_RNG_H
#define FROST_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t state;
} rng;

void rng_seed(rng *r, uint64_t seed);
uint64_t rng_next(rng *r);
// Uniform in [0, n), without modulo bias; n > 0.
uint64_t rng_below(rng *r, uint64_t n);
// Fisher-Yates shuffle.
void rng_shuffle(rng *r, size_t *a, size_t n);

#endif
