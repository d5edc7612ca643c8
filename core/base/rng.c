// rng.c — splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, good enough statistics for
// shuffling, and trivially reproducible.
#include "rng.h"

void rng_seed(rng *r, uint64_t seed) { r->state = seed; }

uint64_t rng_next(rng *r) {
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t rng_below(rng *r, uint64_t n) {
    // reject the top partial block so every residue is equally likely
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do v = rng_next(r);
    while (v >= limit);
    return v % n;
}

void rng_shuffle(rng *r, size_t *a, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(r, i);
        size_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}
