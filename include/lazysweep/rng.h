/* rng.h — counter-based random numbers (Philox4x32-10, Salmon et al. 2011).
 *
 * A stream is a 64-bit key; draw i of a stream is a pure function of (key, i), so a value never
 * depends on what was drawn before, on which rank drew it or in which order. Keys are hashes of
 * (master seed, seed-axis value, stream name, the sizes that shape the drawn object), which gives
 * common random numbers across every other axis (docs/architecture.md §3). Knows nothing else. */
#ifndef LAZYSWEEP_RNG_H
#define LAZYSWEEP_RNG_H

#include <stddef.h>
#include <stdint.h>

struct ls_rng {
    uint32_t key[2];  /* Philox key */
    uint64_t counter; /* next block; each block gives four 32-bit words */
    uint32_t buf[4];  /* current block */
    unsigned used;    /* words of buf already consumed (4 = empty) */
};

/* One Philox4x32-10 block: out = philox(ctr, key). Exposed for known-answer tests. */
void rng_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* 64-bit FNV-1a hash of bytes, chained through `h` (start with LS_HASH_INIT). */
#define LS_HASH_INIT 0xcbf29ce484222325ULL
uint64_t ls_hash(uint64_t h, const void *bytes, size_t n);
uint64_t ls_hash_u64(uint64_t h, uint64_t v);

/* Key of stream `name` for (master seed, seed-axis value) and the n shape sizes. */
uint64_t rng_key(uint64_t master, int64_t seed, const char *name, const int64_t *shape, size_t n);

/* Start a stream at draw 0. */
void rng_init(struct ls_rng *r, uint64_t key);

uint32_t rng_u32(struct ls_rng *r);
/* Uniform on [0, 1) with 53 random bits. */
double rng_uniform(struct ls_rng *r);
/* Standard normal (Box–Muller over two uniforms; one draw per call, the pair's twin discarded so
 * draw i depends only on the counter). */
double rng_normal(struct ls_rng *r);
/* Uniform integer in [0, n), n >= 1, without modulo bias. */
uint64_t rng_below(struct ls_rng *r, uint64_t n);
/* n standard normals into x[n]. */
void rng_normals(struct ls_rng *r, double *x, size_t n);

#endif
