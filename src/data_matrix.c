/* data_matrix.c — data kinds matrix_completion and matrix_sensing: a random rank-r PSD ground
 * truth W* = VVᵀ/‖VVᵀ‖_F of size dim × dim (V ∈ ℝ^{dim×r} standard normal), seen through
 *   matrix_completion: `observed` entries (a <= b), drawn uniformly without replacement from the
 *     dim(dim+1)/2 of the upper triangle, each entered twice, as (a, b) and (b, a), when a ≠ b;
 *   matrix_sensing: `measurements` yᵢ = ⟨Aᵢ, W*⟩ with Aᵢ = (Gᵢ + Gᵢᵀ)/√2, G standard normal
 *     (off-diagonal entries N(0, 1), diagonal N(0, 2): the GOE);
 * plus σ·N(0, 1) noise (one draw per observed entry or measurement; σ = data.noise_std, 0 by
 * default for these kinds).
 *
 * Both are a linear regression on vec(W) (d = dim², W[a][b] at a·dim + b): sensing with X [m][d]
 * the flattened Aᵢ, completion with the one-hot rows e_{a·dim+b} kept as X_index (data.h), and
 * beta_star = vec(W*). Both keep the problem symmetric — the gradient of the squared error is a
 * symmetric matrix whenever W is — which is what lets the matrix family's mirrored factors stay
 * mirrored (matrix.c). Streams are keyed by (dim, rank) for V and by dim for the sampling and
 * the Aᵢ, so the first m observations of a larger m are those of the smaller one. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/data_kind.h"
#include "lazysweep/error.h"
#include "lazysweep/mem.h"
#include "lazysweep/rng.h"

static int matrix_check(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    const struct ls_data_cfg *c = &job->data;
    int completion = strcmp(c->kind, "matrix_completion") == 0;
    double upper = (double)c->dim * ((double)c->dim + 1) / 2;
    if (c->dim < 1 || c->dim > 4096) { /* vec(W) and the model's d×d products stay small */
        *key = "data.dim";
        snprintf(msg, len, "%s needs data.dim in [1, 4096], not %lld", c->kind, (long long)c->dim);
    } else if (c->rank < 1 || c->rank > c->dim) {
        *key = "data.rank";
        snprintf(msg, len, "data.rank (%lld) must be in [1, data.dim = %lld]", (long long)c->rank,
                 (long long)c->dim);
    } else if (completion && (double)c->observed > upper) {
        *key = "data.observed";
        snprintf(msg, len,
                 "data.observed (%lld) exceeds the %.0f entries of the upper triangle "
                 "of a %lld x %lld matrix",
                 (long long)c->observed, upper, (long long)c->dim, (long long)c->dim);
    } else if (!completion && (double)c->measurements * (double)c->dim * (double)c->dim > 1e9) {
        *key = "data.measurements";
        snprintf(msg, len,
                 "data.measurements x data.dim^2 (the sensing matrices) exceeds 1e9 "
                 "numbers");
    } else {
        return LS_OK;
    }
    return LS_EJOB;
}

/* Noiseless by default (the classic completion and sensing problems): the global default
 * σ = 0.1 would swamp entries of size about 1/dim. */
static void matrix_defaults(struct ls_job *job)
{
    job->data.noise_std = 0;
}

static enum ls_task matrix_task(const struct ls_job *job, size_t *n_classes)
{
    (void)job;
    *n_classes = 0;
    return LS_TASK_REGRESSION;
}

/* Completion: the observed positions in both orders, i.e. 2·observed minus the diagonal ones
 * (which the sampling decides, so the count is known only after it: sampled in shape too). */
static size_t completion_rows(const struct ls_job *job);

static void matrix_shape(const struct ls_job *job, size_t *n, size_t *d, int *dense)
{
    size_t dim = (size_t)job->data.dim;
    int completion = strcmp(job->data.kind, "matrix_completion") == 0;
    *d = dim * dim;
    *n = completion ? completion_rows(job) : (size_t)job->data.measurements;
    *dense = !completion;
}

/* Sensing matrices dominate: m·dim² doubles (the generic estimate counts n_train·dim). */
static size_t matrix_memory(const struct ls_job *job)
{
    double dim = (double)job->data.dim, m = (double)job->data.measurements;
    double bytes = 2 * dim * dim * sizeof(double); /* W*, and V's scratch */
    if (strcmp(job->data.kind, "matrix_sensing") == 0)
        bytes += m * (dim * dim + 1) * sizeof(double);
    else
        bytes += 2 * (double)job->data.observed * (sizeof(size_t) + sizeof(double)) +
                 dim * (dim + 1) / 2 * sizeof(size_t); /* the sampling permutation */
    return bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

/* W* = VVᵀ/‖VVᵀ‖_F into w [dim][dim]; v [dim][r] is scratch. */
static void draw_truth(const struct ls_job *job, double *w, double *v, size_t dim, size_t r)
{
    struct ls_rng g;
    int64_t shape[2] = {(int64_t)dim, (int64_t)r};
    rng_init(&g, data_stream(job, "data.V", shape, 2));
    rng_normals(&g, v, dim * r);
    double norm = 0;
    for (size_t a = 0; a < dim; a++)
        for (size_t b = 0; b < dim; b++) {
            double s = 0;
            for (size_t c = 0; c < r; c++)
                s += v[a * r + c] * v[b * r + c];
            w[a * dim + b] = s;
            norm += s * s;
        }
    for (size_t i = 0; i < dim * dim; i++)
        w[i] /= sqrt(norm);
}

/* Upper-triangle position t (row-major over a <= b) → (a, b). */
static void upper_pair(size_t t, size_t dim, size_t *a, size_t *b)
{
    size_t row = 0;
    while (t >= dim - row) {
        t -= dim - row;
        row++;
    }
    *a = row;
    *b = row + t;
}

/* The first `observed` positions of a partial Fisher–Yates shuffle of the upper triangle, from
 * stream "data.observed" keyed by dim: a prefix property in `observed`. pick[observed]. */
static int sample_upper(const struct ls_job *job, size_t *pick)
{
    size_t dim = (size_t)job->data.dim, total = dim * (dim + 1) / 2;
    size_t m = (size_t)job->data.observed;
    size_t *perm = malloc(total * sizeof *perm);
    struct ls_rng g;
    int64_t shape[1] = {(int64_t)dim};
    if (!perm)
        return LS_ENOMEM;
    rng_init(&g, data_stream(job, "data.observed", shape, 1));
    for (size_t t = 0; t < total; t++)
        perm[t] = t;
    for (size_t i = 0; i < m; i++) {
        size_t k = i + (size_t)rng_below(&g, total - i), tmp = perm[i];
        perm[i] = perm[k];
        perm[k] = tmp;
        pick[i] = perm[i];
    }
    free(perm);
    return LS_OK;
}

static size_t completion_rows(const struct ls_job *job)
{
    size_t m = (size_t)job->data.observed, dim = (size_t)job->data.dim, rows = 0, a, b;
    size_t *pick = malloc((m ? m : 1) * sizeof *pick);
    if (!pick || sample_upper(job, pick) != LS_OK) {
        free(pick);
        return 2 * m; /* an upper bound; generate then fails on the same allocation */
    }
    for (size_t i = 0; i < m; i++) {
        upper_pair(pick[i], dim, &a, &b);
        rows += a == b ? 1 : 2;
    }
    free(pick);
    return rows;
}

/* Each observed (a, b) in both orders, sharing one noise draw (draw i of "data.noise"). */
static int completion_fill(const struct ls_job *job, struct ls_data *d, const double *w)
{
    size_t m = (size_t)job->data.observed, dim = (size_t)job->data.dim, row = 0, a, b;
    size_t *pick = malloc((m ? m : 1) * sizeof *pick);
    struct ls_rng g;
    if (!pick || sample_upper(job, pick) != LS_OK) {
        free(pick);
        return LS_ENOMEM;
    }
    rng_init(&g, data_stream(job, "data.noise", NULL, 0));
    for (size_t i = 0; i < m && row < d->n; i++) {
        upper_pair(pick[i], dim, &a, &b);
        double y = w[a * dim + b] + job->data.noise_std * rng_normal(&g);
        d->X_index[row] = a * dim + b;
        d->y[row++] = y;
        if (a != b && row < d->n) {
            d->X_index[row] = b * dim + a;
            d->y[row++] = y;
        }
    }
    free(pick);
    return row == d->n ? LS_OK : LS_EINVAL;
}

/* Row i of X = vec((G + Gᵀ)/√2), G = draws i·dim² … of stream "data.A" keyed by dim; then
 * yᵢ = ⟨Aᵢ, W*⟩ + σ·(draw i of "data.noise"), a plain loop so yᵢ does not depend on m. */
static void sensing_fill(const struct ls_job *job, struct ls_data *d, const double *w)
{
    size_t dim = (size_t)job->data.dim, dd = dim * dim;
    struct ls_rng g, e;
    int64_t shape[1] = {(int64_t)dim};
    rng_init(&g, data_stream(job, "data.A", shape, 1));
    rng_init(&e, data_stream(job, "data.noise", NULL, 0));
    rng_normals(&g, d->X, d->n * dd);
    for (size_t i = 0; i < d->n; i++) {
        double *A = d->X + i * dd, s = 0;
        for (size_t a = 0; a < dim; a++)
            for (size_t b = a; b < dim; b++) {
                double v = (A[a * dim + b] + A[b * dim + a]) / sqrt(2.0);
                A[a * dim + b] = A[b * dim + a] = v;
            }
        for (size_t j = 0; j < dd; j++)
            s += A[j] * w[j];
        d->y[i] = s + job->data.noise_std * rng_normal(&e);
    }
}

static int matrix_generate(const struct ls_job *job, struct ls_data *d)
{
    int rc = LS_OK;
    size_t dim = (size_t)job->data.dim, r = (size_t)job->data.rank;
    double *v = malloc(dim * r * sizeof *v);
    d->beta_star = ls_doubles(dim * dim);
    LS_CHECK_ALLOC(v);
    LS_CHECK_ALLOC(d->beta_star);
    d->noise_std = job->data.noise_std;
    draw_truth(job, d->beta_star, v, dim, r);
    if (d->X_index)
        LS_CALL(completion_fill(job, d, d->beta_star));
    else
        sensing_fill(job, d, d->beta_star);
cleanup:
    free(v);
    return rc;
}

const struct data_kind data_kind_matrix_completion = {
    .name = "matrix_completion",
    .defaults = matrix_defaults,
    .check = matrix_check,
    .task = matrix_task,
    .generate = matrix_generate,
    .memory = matrix_memory,
    .shape = matrix_shape,
};

const struct data_kind data_kind_matrix_sensing = {
    .name = "matrix_sensing",
    .defaults = matrix_defaults,
    .check = matrix_check,
    .task = matrix_task,
    .generate = matrix_generate,
    .memory = matrix_memory,
    .shape = matrix_shape,
};
