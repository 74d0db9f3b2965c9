/* data.c — synthetic training data, chosen by data.kind from a table (one row per generator).
 *
 * Every draw comes from an rng stream keyed by (master seed, seed axis, stream name, the data's
 * own sizes), never by α, width or depth, so every model of one seed sees the same data; and
 * element i of a stream is draw i, so the first 50 samples of n_train = 100 are the samples of
 * n_train = 50. Knows nothing of models. */
#include "lazysweep/data.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/mem.h"
#include "lazysweep/rng.h"

struct data_kind {
    const char *name;
    int (*check)(const struct ls_job *job, char *msg, size_t len);
    int (*generate)(const struct ls_job *job, struct ls_data *d); /* d->n, d->d already set */
};


/* ---- sparse_regression: x ~ N(0, I_d), y = <β*, x> + σ ε, β* with `support` entries 1/√s ---- */

static int sparse_check(const struct ls_job *job, char *msg, size_t len)
{
    const struct ls_data_cfg *c = &job->data;
    if (c->n_train < 1 || c->dim < 1) {
        snprintf(msg, len, "sparse_regression needs n_train >= 1 and dim >= 1");
        return LS_EJOB;
    }
    if (c->support < 0 || c->support > c->dim) {
        snprintf(msg, len, "data.support must be in [0, data.dim], got %lld > %lld",
                 (long long)c->support, (long long)c->dim);
        return LS_EJOB;
    }
    if (!(c->noise_std >= 0) || !isfinite(c->noise_std)) {
        snprintf(msg, len, "data.noise_std must be finite and >= 0");
        return LS_EJOB;
    }
    if ((uint64_t)c->n_train > SIZE_MAX / sizeof(double) / (uint64_t)c->dim) {
        snprintf(msg, len, "data.n_train x data.dim is too large");
        return LS_EJOB;
    }
    return LS_OK;
}

/* X[i][j] = normal draw i·d + j of stream "data.X" keyed by d only: a pure prefix in n. */
static void sparse_draw_x(const struct ls_job *job, double *X /* [n][d] */, size_t n, size_t d)
{
    struct ls_rng r;
    int64_t shape[1] = {(int64_t)d};
    rng_init(&r, rng_key(job->seed, job->point_seed, "data.X", shape, 1));
    rng_normals(&r, X, n * d);
}

/* β*: a partial Fisher–Yates shuffle picks the support uniformly; `perm` [d] is scratch. */
static void sparse_draw_beta(const struct ls_job *job, double *beta /* [d] */, size_t d,
                             size_t s, size_t *perm /* [d] */)
{
    struct ls_rng r;
    int64_t shape[2] = {(int64_t)d, (int64_t)s};
    rng_init(&r, rng_key(job->seed, job->point_seed, "data.beta_star", shape, 2));
    for (size_t j = 0; j < d; j++)
        perm[j] = j;
    for (size_t i = 0; i < s; i++) {
        size_t k = i + (size_t)rng_below(&r, d - i);
        size_t t = perm[i];
        perm[i] = perm[k];
        perm[k] = t;
        beta[perm[i]] = 1.0 / sqrt((double)s);
    }
}

/* y_i = <β*, x_i> + σ·(normal draw i of "data.noise"). A plain loop rather than dgemv keeps y_i
 * independent of n (BLAS blocking may depend on the matrix size). */
static void sparse_labels(const struct ls_job *job, struct ls_data *d)
{
    struct ls_rng r;
    rng_init(&r, rng_key(job->seed, job->point_seed, "data.noise", NULL, 0));
    for (size_t i = 0; i < d->n; i++) {
        const double *x = d->X + i * d->d;
        double s = 0;
        for (size_t j = 0; j < d->d; j++)
            s += x[j] * d->beta_star[j];
        d->y[i] = s + d->noise_std * rng_normal(&r);
    }
}

static int sparse_generate(const struct ls_job *job, struct ls_data *d)
{
    int rc = LS_OK;
    size_t *perm = malloc(d->d * sizeof *perm);
    d->beta_star = ls_doubles(d->d);
    LS_CHECK_ALLOC(perm);
    LS_CHECK_ALLOC(d->beta_star);
    d->noise_std = job->data.noise_std;
    sparse_draw_x(job, d->X, d->n, d->d);
    sparse_draw_beta(job, d->beta_star, d->d, (size_t)job->data.support, perm);
    sparse_labels(job, d);
cleanup:
    free(perm);
    return rc;
}

/* The registry: adding a generator is one row. */
static const struct data_kind kinds[] = {
    {"sparse_regression", sparse_check, sparse_generate},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static const struct data_kind *find_kind(const char *name)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

int data_check(const struct ls_job *job, char *msg, size_t len)
{
    const struct data_kind *k = find_kind(job->data.kind);
    if (!k) {
        size_t off = (size_t)snprintf(msg, len, "unknown data.kind '%s' (known:", job->data.kind);
        for (size_t i = 0; i < N_KINDS && off < len; i++)
            off += (size_t)snprintf(msg + off, len - off, " %s", kinds[i].name);
        if (off < len)
            snprintf(msg + off, len - off, ")");
        return LS_EJOB;
    }
    return k->check(job, msg, len);
}

/* X, y and β*, in bytes (sizes are validated by data_check first). */
size_t data_memory(const struct ls_job *job)
{
    /* In double, so absurd sizes saturate instead of wrapping around and passing the check. */
    double n = (double)job->data.n_train, d = (double)job->data.dim;
    double bytes = (n * d + n + d) * sizeof(double) + sizeof(struct ls_data);
    return bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

int data_create(const struct ls_job *job, struct ls_data **out)
{
    int rc = LS_OK;
    char msg[LS_ERR_MAX];
    struct ls_data *d = NULL;
    *out = NULL;
    const struct data_kind *k = find_kind(job->data.kind);
    if (!k || k->check(job, msg, sizeof msg) != LS_OK)
        return LS_EINVAL;
    d = calloc(1, sizeof *d);
    LS_CHECK_ALLOC(d);
    d->n = (size_t)job->data.n_train;
    d->d = (size_t)job->data.dim;
    d->X = ls_doubles(d->n * d->d);
    d->y = ls_doubles(d->n);
    LS_CHECK_ALLOC(d->X);
    LS_CHECK_ALLOC(d->y);
    LS_CALL(k->generate(job, d));
    *out = d;
    d = NULL;
cleanup:
    data_destroy(&d);
    return rc;
}

void data_destroy(struct ls_data **d)
{
    if (!d || !*d)
        return;
    free((*d)->X);
    free((*d)->y);
    free((*d)->beta_star);
    free((*d)->X_test);
    free((*d)->y_test);
    free(*d);
    *d = NULL;
}

void data_gather(const struct ls_data *d, const size_t *idx, size_t b, struct ls_data *batch)
{
    double *X = batch->X, *y = batch->y;
    *batch = *d;
    batch->X = X;
    batch->y = y;
    batch->n = b;
    for (size_t i = 0; i < b; i++) {
        memcpy(X + i * d->d, d->X + idx[i] * d->d, d->d * sizeof *X);
        y[i] = d->y[idx[i]];
    }
}
