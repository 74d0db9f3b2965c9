/* rng.c — Philox4x32-10 streams keyed by FNV-1a hashes (Salmon et al. 2011, "Parallel random
 * numbers: as easy as 1, 2, 3").
 *
 * Counter layout: block b of a stream is philox((lo32(b), hi32(b), 0, 0), key), so a stream has
 * 2^64 blocks of four 32-bit words and the upper two counter words are free for later use.
 * Integer and uniform draws read the block's words in order; a normal draw always takes one whole
 * fresh block, so the i-th normal of a stream started at block 0 is a function of block i alone
 * and callers may jump to it by setting `counter = i` (docs/architecture.md §3: common random numbers). */
#include "lazysweep/rng.h"

#include <math.h>
#include <string.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */
#define PHILOX_ROUNDS 10

#define FNV_PRIME 0x100000001b3ULL
#define TWO_POW_M53 (1.0 / 9007199254740992.0) /* 2^-53 */
#define TWO_PI 6.283185307179586476925286766559 /* M_PI is not in strict C11 */

/* One Philox round: two 32x32→64 multiplies, the high halves mixed with the key. */
static void philox_round(uint32_t x[4], const uint32_t k[2])
{
    uint64_t p0 = (uint64_t)PHILOX_M0 * x[0];
    uint64_t p1 = (uint64_t)PHILOX_M1 * x[2];
    uint32_t y0 = (uint32_t)(p1 >> 32) ^ x[1] ^ k[0];
    uint32_t y2 = (uint32_t)(p0 >> 32) ^ x[3] ^ k[1];
    x[0] = y0;
    x[1] = (uint32_t)p1;
    x[2] = y2;
    x[3] = (uint32_t)p0;
}

void rng_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t x[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    uint32_t k[2] = {key[0], key[1]};
    for (int r = 0; r < PHILOX_ROUNDS; r++) {
        if (r > 0) { /* the key schedule is a Weyl sequence, bumped between rounds */
            k[0] += PHILOX_W0;
            k[1] += PHILOX_W1;
        }
        philox_round(x, k);
    }
    memcpy(out, x, sizeof x);
}

uint64_t ls_hash(uint64_t h, const void *bytes, size_t n)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

uint64_t ls_hash_u64(uint64_t h, uint64_t v)
{
    unsigned char le[8]; /* explicit little-endian, so keys do not depend on the host */
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(v >> (8 * i));
    return ls_hash(h, le, sizeof le);
}

/* Every variable-length part is preceded by its length, so no two different argument lists
 * produce the same byte string (("ab", []) and ("a", [...]) cannot collide structurally). */
uint64_t rng_key(uint64_t master, int64_t seed, const char *name, const int64_t *shape, size_t n)
{
    size_t len = strlen(name);
    uint64_t h = LS_HASH_INIT;
    h = ls_hash_u64(h, master);
    h = ls_hash_u64(h, (uint64_t)seed);
    h = ls_hash_u64(h, (uint64_t)len);
    h = ls_hash(h, name, len);
    h = ls_hash_u64(h, (uint64_t)n);
    for (size_t i = 0; i < n; i++)
        h = ls_hash_u64(h, (uint64_t)shape[i]);
    return h;
}

void rng_init(struct ls_rng *r, uint64_t key)
{
    memset(r, 0, sizeof *r);
    r->key[0] = (uint32_t)key;
    r->key[1] = (uint32_t)(key >> 32);
    r->counter = 0;
    r->used = 4;
}

/* Fill buf with block `counter` and advance to the next block. */
static void next_block(struct ls_rng *r)
{
    uint32_t ctr[4] = {(uint32_t)r->counter, (uint32_t)(r->counter >> 32), 0, 0};
    rng_philox(ctr, r->key, r->buf);
    r->counter++;
    r->used = 0;
}

uint32_t rng_u32(struct ls_rng *r)
{
    if (r->used >= 4)
        next_block(r);
    return r->buf[r->used++];
}

/* 53 bits from two words (the first word gives the high bits), as an integer in [0, 2^53). */
static uint64_t bits53(uint32_t hi, uint32_t lo)
{
    return (((uint64_t)hi << 32) | lo) >> 11;
}

double rng_uniform(struct ls_rng *r)
{
    uint32_t hi = rng_u32(r);
    uint32_t lo = rng_u32(r);
    return (double)bits53(hi, lo) * TWO_POW_M53;
}

/* Box–Muller on one whole block. u1 = (k + 1/2)/2^53 lies in (0, 1), so log(u1) is finite; the
 * sine twin is discarded so that a draw never depends on the draw before it. */
double rng_normal(struct ls_rng *r)
{
    next_block(r);
    r->used = 4;
    double u1 = ((double)bits53(r->buf[0], r->buf[1]) + 0.5) * TWO_POW_M53;
    double u2 = (double)bits53(r->buf[2], r->buf[3]) * TWO_POW_M53;
    return sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2);
}

/* Rejection keeps the largest multiple of n below 2^32 (or 2^64): the accepted values map onto
 * [0, n) exactly equally often. At most half the draws are rejected, in expectation far fewer. */
uint64_t rng_below(struct ls_rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    if (n <= UINT32_MAX) {
        uint32_t m = (uint32_t)n;
        uint32_t floor = (uint32_t)(-m) % m; /* 2^32 mod n: values below it are rejected */
        for (;;) {
            uint32_t x = rng_u32(r);
            if (x >= floor)
                return x % m;
        }
    }
    uint64_t floor = (uint64_t)(-n) % n;
    for (;;) {
        uint64_t hi = rng_u32(r);
        uint64_t x = (hi << 32) | rng_u32(r);
        if (x >= floor)
            return x % n;
    }
}

void rng_normals(struct ls_rng *r, double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = rng_normal(r);
}
