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

#include "lazysweep/data_kind.h"
#include "lazysweep/error.h"
#include "lazysweep/mem.h"
#include "lazysweep/rng.h"


/* ---- sparse_regression: x ~ N(0, I_d), y = <β*, x> + σ ε, β* with `support` entries 1/√s ---- */

static int sparse_check(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    const struct ls_data_cfg *c = &job->data;
    if (c->n_train < 1 || c->dim < 1) {
        snprintf(msg, len, "sparse_regression needs n_train >= 1 and dim >= 1");
        return LS_EJOB;
    }
    if (c->support < 0 || c->support > c->dim) {
        *key = "data.support";
        snprintf(msg, len, "data.support must be in [0, data.dim], got %lld > %lld",
                 (long long)c->support, (long long)c->dim);
        return LS_EJOB;
    }
    if (!(c->noise_std >= 0) || !isfinite(c->noise_std)) {
        snprintf(msg, len, "data.noise_std must be finite and >= 0");
        return LS_EJOB;
    }
    if ((uint64_t)(c->n_train + c->n_test) > SIZE_MAX / sizeof(double) / (uint64_t)c->dim) {
        snprintf(msg, len, "data.n_train x data.dim is too large");
        return LS_EJOB;
    }
    return LS_OK;
}

static enum ls_task regression_task(const struct ls_job *job, size_t *n_classes)
{
    (void)job;
    *n_classes = 0;
    return LS_TASK_REGRESSION;
}

/* X[i][j] = normal draw i·d + j of stream `name` ("data.X", "data.X_test") keyed by d only: a
 * pure prefix in n. */
static void sparse_draw_x(const struct ls_job *job, const char *name, double *X /* [n][d] */,
                          size_t n, size_t d)
{
    struct ls_rng r;
    int64_t shape[1] = {(int64_t)d};
    rng_init(&r, data_stream(job, name, shape, 1));
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

/* y_i = <β*, x_i> + σ·(normal draw i of `name`: "data.noise", "data.noise_test"). A plain loop
 * rather than dgemv keeps y_i independent of n (BLAS blocking may depend on the matrix size). */
static void sparse_labels(const struct ls_job *job, const char *name, const double *beta,
                          const double *X /* [n][d] */, double *y /* [n] */, size_t n, size_t d)
{
    struct ls_rng r;
    rng_init(&r, data_stream(job, name, NULL, 0));
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * d;
        double s = 0;
        for (size_t j = 0; j < d; j++)
            s += x[j] * beta[j];
        y[i] = s + job->data.noise_std * rng_normal(&r);
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
    sparse_draw_x(job, "data.X", d->X, d->n, d->d);
    sparse_draw_beta(job, d->beta_star, d->d, (size_t)job->data.support, perm);
    sparse_labels(job, "data.noise", d->beta_star, d->X, d->y, d->n, d->d);
    sparse_draw_x(job, "data.X_test", d->X_test, d->n_test, d->d);
    sparse_labels(job, "data.noise_test", d->beta_star, d->X_test, d->y_test, d->n_test, d->d);
cleanup:
    free(perm);
    return rc;
}

static const struct data_kind data_kind_sparse = {
    .name = "sparse_regression",
    .check = sparse_check,
    .task = regression_task,
    .generate = sparse_generate,
};

/* The registry: adding a kind is one file and one row. */
static const struct data_kind *const kinds[] = {
    &data_kind_sparse, &data_kind_teacher, &data_kind_points1d,
    &data_kind_blobs,  &data_kind_fmnist,  &data_kind_hdf5,
    &data_kind_matrix_completion, &data_kind_matrix_sensing,
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static const struct data_kind *find_kind(const char *name)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(kinds[i]->name, name) == 0)
            return kinds[i];
    return NULL;
}

/* ---- helpers the kinds share (data_kind.h) ---- */

int data_kind_in(const char *kind, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(*names, kind) == 0)
            return 1;
    return 0;
}

uint64_t data_stream(const struct ls_job *job, const char *name, const int64_t *shape, size_t n)
{
    return rng_key(job->seed, job->point_seed, name, shape, n);
}

/* Row i reads block i of the stream (a uniform from its first two words, the replacement class
 * from the next), so the flips of a prefix of rows never depend on the rows after it. */
void data_label_noise(const struct ls_job *job, double *y, size_t n, size_t C, double p)
{
    struct ls_rng r;
    int64_t shape[1] = {(int64_t)C};
    uint64_t key = data_stream(job, "data.label_noise", shape, 1);
    if (p <= 0 || C < 2)
        return;
    for (size_t i = 0; i < n; i++) {
        rng_init(&r, key);
        r.counter = i;
        if (rng_uniform(&r) >= p)
            continue;
        size_t other = (size_t)rng_below(&r, C - 1); /* a class other than y[i] */
        y[i] = (double)(other >= (size_t)y[i] ? other + 1 : other);
    }
}

void data_standardize(double *X, size_t n, double *X_test, size_t n_test, size_t d)
{
    for (size_t j = 0; j < d && n > 0; j++) {
        double mean = 0, var = 0;
        for (size_t i = 0; i < n; i++)
            mean += X[i * d + j];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++)
            var += (X[i * d + j] - mean) * (X[i * d + j] - mean);
        double sd = sqrt(var / (double)n);
        double inv = sd > 0 ? 1.0 / sd : 1.0; /* a constant feature is only centred */
        for (size_t i = 0; i < n; i++)
            X[i * d + j] = (X[i * d + j] - mean) * inv;
        for (size_t i = 0; i < n_test; i++)
            X_test[i * d + j] = (X_test[i * d + j] - mean) * inv;
    }
}

/* ---- the module's interface ---- */

static int unknown_kind(const struct ls_job *job, char *msg, size_t len)
{
    size_t off = (size_t)snprintf(msg, len, "unknown data.kind '%s' (known:", job->data.kind);
    for (size_t i = 0; i < N_KINDS && off < len; i++)
        off += (size_t)snprintf(msg + off, len - off, " %s", kinds[i]->name);
    if (off < len)
        snprintf(msg + off, len - off, ")");
    return LS_EJOB;
}

int data_validate(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    const struct data_kind *k = find_kind(job->data.kind);
    *key = "data.kind";
    if (!k)
        return unknown_kind(job, msg, len);
    *key = "data";
    if (job->data.n_test < 0 || job->data.n_train < 0) {
        snprintf(msg, len, "data.n_train and data.n_test must be >= 0");
        return LS_EJOB;
    }
    return k->check(job, key, msg, len);
}

int data_check(const struct ls_job *job, char *msg, size_t len)
{
    const char *key;
    return data_validate(job, &key, msg, len);
}

void data_defaults(struct ls_job *job)
{
    const struct data_kind *k = find_kind(job->data.kind);
    if (k && k->defaults)
        k->defaults(job);
}

int data_resolve(struct ls_job *job, const char **key, char *msg, size_t len)
{
    const struct data_kind *k = find_kind(job->data.kind);
    *key = "data.kind";
    if (!k)
        return unknown_kind(job, msg, len);
    *key = "data";
    return k->resolve ? k->resolve(job, key, msg, len) : LS_OK;
}

enum ls_task data_task(const struct ls_job *job, size_t *n_classes)
{
    const struct data_kind *k = find_kind(job->data.kind);
    *n_classes = 0;
    return k ? k->task(job, n_classes) : LS_TASK_REGRESSION;
}

/* X, y, the test set and β* in bytes, plus what the kind keeps besides (sizes are validated by
 * data_check first). In double, so absurd sizes saturate instead of wrapping around. */
size_t data_memory(const struct ls_job *job)
{
    const struct data_kind *k = find_kind(job->data.kind);
    double n = (double)job->data.n_train + (double)job->data.n_test, d = (double)job->data.dim;
    double bytes = (n * d + n + d) * sizeof(double) + sizeof(struct ls_data);
    if (k && k->memory)
        bytes += (double)k->memory(job);
    return bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

static int data_allocate(struct ls_data *d, int dense)
{
    if (dense)
        d->X = ls_doubles(d->n * d->d);
    else /* a one-hot design kept as indices (data_kind.h: shape) */
        d->X_index = calloc(d->n ? d->n : 1, sizeof *d->X_index);
    d->y = ls_doubles(d->n);
    if (!(d->X || d->X_index) || !d->y)
        return LS_ENOMEM;
    if (d->n_test == 0)
        return LS_OK;
    d->X_test = ls_doubles(d->n_test * d->d);
    d->y_test = ls_doubles(d->n_test);
    return d->X_test && d->y_test ? LS_OK : LS_ENOMEM;
}

int data_create(const struct ls_job *job, struct ls_data **out)
{
    int rc = LS_OK;
    char msg[LS_ERR_MAX];
    const char *key;
    struct ls_data *d = NULL;
    *out = NULL;
    const struct data_kind *k = find_kind(job->data.kind);
    if (!k || k->check(job, &key, msg, sizeof msg) != LS_OK)
        return LS_EINVAL;
    d = calloc(1, sizeof *d);
    LS_CHECK_ALLOC(d);
    d->n = (size_t)job->data.n_train;
    d->d = (size_t)job->data.dim;
    d->n_test = (size_t)job->data.n_test;
    d->task = k->task(job, &d->n_classes);
    int dense = 1;
    if (k->shape)
        k->shape(job, &d->n, &d->d, &dense);
    LS_CALL(data_allocate(d, dense));
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
    free((*d)->X_index);
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
