/* matrix.c — the "matrix" model family: W = U₁U₂⋯U_D, depth-D matrix factorization for symmetric
 * matrix completion and sensing (matrix.h says what the factors, the initializations and the
 * metrics are).
 *
 * Parameters live in one arena [U₁ (dim×k) | U₂ … U_{D−1} (k×k each) | U_D (k×dim)], row-major,
 * and gradients in a second with the same layout. One forward pass keeps the prefix products
 * P_i = U₁⋯U_i (dim×k) and the suffix products S_i = U_i⋯U_D (k×dim), from which
 *   ∂L/∂U₁ = G·S₂ᵀ,  ∂L/∂U_i = P_{i−1}ᵀ·G·S_{i+1}ᵀ,  ∂L/∂U_D = P_{D−1}ᵀ·G,  G = ∂L/∂W,
 * each a pair of GEMMs. For completion G is non-zero only on the observed entries (X_index), for
 * sensing G = (2/n)·mat(Xᵀr). Singular values (nuclear_norm, effective_rank) come from LAPACK's
 * dgesvd on a copy of W, with its workspace sized once at create. */
#include "lazysweep/matrix.h"

#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/rng.h"

struct mat {
    size_t dim, k, n;                /* matrix size, width, observations */
    int D;                           /* depth: number of factors */
    double *U[LS_MATRIX_MAX_DEPTH];  /* views of params */
    double *GU[LS_MATRIX_MAX_DEPTH]; /* views of grad, same shapes */
    double *P[LS_MATRIX_MAX_DEPTH];  /* P[i] = U₀⋯U_i (0-based), dim×k; P[0] is U[0] */
    double *S[LS_MATRIX_MAX_DEPTH];  /* S[i] = U_i⋯U_{D−1}, k×dim; S[D−1] is U[D−1] */
    double *act;                     /* arena of the P and S products that are not views */
    double *W;                       /* [dim][dim] the last forward's product */
    double *G;                       /* [dim][dim] dL/dW */
    double *T;                       /* [dim][k] scratch: G·S_{i+1}ᵀ */
    double *r;                       /* [n] residuals */
    double *svd_a;                   /* [dim][dim] the W whose singular values are in sv */
    double *svd_w;                   /* [dim][dim] dgesvd's input copy (overwritten) */
    double *sv;                      /* [dim] singular values, descending */
    int sv_valid;                    /* sv belongs to svd_a */
    double *work;                    /* [lwork] dgesvd workspace */
    size_t lwork;
};

/* Rows and columns of factor i: dim×k, k×k …, k×dim. */
static void factor_shape(const struct mat *g, int i, size_t *rows, size_t *cols)
{
    *rows = i == 0 ? g->dim : g->k;
    *cols = i == g->D - 1 ? g->dim : g->k;
}

/* C = A·B (or Aᵀ·B, A·Bᵀ), row-major, sizes checked once in create so the casts are safe. */
static void gemm(int ta, int tb, size_t m, size_t n, size_t kk, const double *A, size_t lda,
                 const double *B, size_t ldb, double *C)
{
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)kk, 1.0, A, (int)lda, B, (int)ldb, 0.0, C, (int)n);
}

/* P, S and W = P_{D−2}·U_{D−1} from the current factors. */
static void mat_forward(struct mat *g)
{
    size_t d = g->dim, k = g->k;
    int D = g->D;
    for (int i = 1; i < D - 1; i++) /* dim×k · k×k */
        gemm(0, 0, d, k, k, g->P[i - 1], k, g->U[i], k, g->P[i]);
    for (int i = D - 2; i >= 1; i--) /* k×k · k×dim */
        gemm(0, 0, k, d, k, g->U[i], k, g->S[i + 1], d, g->S[i]);
    gemm(0, 0, d, d, k, g->P[D - 2], k, g->U[D - 1], d, g->W);
}

/* Every factor's gradient from G = dL/dW (overwrites the gradient arena). */
static void mat_backward(struct mat *g)
{
    size_t d = g->dim, k = g->k;
    int D = g->D;
    gemm(0, 1, d, k, d, g->G, d, g->S[1], d, g->GU[0]); /* G·S₁ᵀ: dim×k */
    for (int i = 1; i < D - 1; i++) {
        gemm(0, 1, d, k, d, g->G, d, g->S[i + 1], d, g->T);     /* G·S_{i+1}ᵀ: dim×k */
        gemm(1, 0, k, k, d, g->P[i - 1], k, g->T, k, g->GU[i]); /* P_{i−1}ᵀ·T: k×k */
    }
    gemm(1, 0, k, d, d, g->P[D - 2], k, g->G, d, g->GU[D - 1]); /* P_{D−2}ᵀ·G: k×dim */
}

/* L = (1/n)·‖r‖², r = (entries or measurements of W) − y; with grad, G = dL/dW. */
static double mat_residual(struct mat *g, const struct ls_data *data, int grad)
{
    size_t n = g->n, dd = g->dim * g->dim;
    double L = 0;
    if (data->X_index) {
        for (size_t i = 0; i < n; i++)
            g->r[i] = g->W[data->X_index[i]] - data->y[i];
    } else {
        memcpy(g->r, data->y, n * sizeof *g->r);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)dd, 1.0, data->X, (int)dd, g->W, 1,
                    -1.0, g->r, 1);
    }
    for (size_t i = 0; i < n; i++)
        L += g->r[i] * g->r[i];
    if (!grad)
        return L / (double)n;
    memset(g->G, 0, dd * sizeof *g->G);
    if (data->X_index)
        for (size_t i = 0; i < n; i++)
            g->G[data->X_index[i]] += 2.0 / (double)n * g->r[i];
    else
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)dd, 2.0 / (double)n, data->X, (int)dd,
                    g->r, 1, 0.0, g->G, 1);
    return L / (double)n;
}

static double mat_loss(struct ls_model *m, const struct ls_data *data, int grad)
{
    struct mat *g = m->impl;
    mat_forward(g);
    double L = mat_residual(g, data, grad);
    if (grad)
        mat_backward(g);
    return L;
}

const double *matrix_W(struct ls_model *m)
{
    struct mat *g = m->impl;
    mat_forward(g);
    return g->W;
}

double *matrix_factor(struct ls_model *m, int i, size_t *rows, size_t *cols)
{
    struct mat *g = m->impl;
    if (i < 0 || i >= g->D)
        return NULL;
    factor_shape(g, i, rows, cols);
    return g->U[i];
}

/* ---- metrics ---- */

/* Singular values of the current W, recomputed only when W changed since the last time (the
 * metrics of one logged step share one SVD). W row-major is Wᵀ column-major: same values. */
static int mat_singular_values(struct mat *g)
{
    size_t dd = g->dim * g->dim;
    if (g->sv_valid && memcmp(g->svd_a, g->W, dd * sizeof *g->W) == 0)
        return LS_OK;
    memcpy(g->svd_a, g->W, dd * sizeof *g->W);
    memcpy(g->svd_w, g->W, dd * sizeof *g->W);
    lapack_int info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)g->dim,
                                          (lapack_int)g->dim, g->svd_w, (lapack_int)g->dim, g->sv,
                                          NULL, 1, NULL, 1, g->work, (lapack_int)g->lwork);
    g->sv_valid = info == 0;
    return info == 0 ? LS_OK : LS_EINVAL;
}

/* exp of the entropy of σ/Σσ: 1 for rank one, dim for equal singular values. */
static double effective_rank(const double *sv, size_t n)
{
    double sum = 0, h = 0;
    for (size_t i = 0; i < n; i++)
        sum += sv[i];
    if (!(sum > 0))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (sv[i] > 0)
            h -= sv[i] / sum * log(sv[i] / sum);
    return exp(h);
}

static double test_error(const struct mat *g, const double *w_star)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < g->dim * g->dim; i++) {
        num += (g->W[i] - w_star[i]) * (g->W[i] - w_star[i]);
        den += w_star[i] * w_star[i];
    }
    return den > 0 ? num / den : NAN;
}

static double asymmetry(const struct mat *g)
{
    double num = 0, den = 0;
    for (size_t a = 0; a < g->dim; a++)
        for (size_t b = 0; b < g->dim; b++) {
            double u = g->W[a * g->dim + b] - g->W[b * g->dim + a];
            num += u * u;
            den += g->W[a * g->dim + b] * g->W[a * g->dim + b];
        }
    return den > 0 ? sqrt(num / den) : 0.0;
}

static int mat_eval(struct ls_model *m, const struct ls_data *data, const char *name, double *out)
{
    struct mat *g = m->impl;
    mat_forward(g);
    if (strcmp(name, "test_error") == 0) {
        if (!data->beta_star)
            return LS_ENOTFOUND;
        *out = test_error(g, data->beta_star);
    } else if (strcmp(name, "asymmetry") == 0) {
        *out = asymmetry(g);
    } else if (strcmp(name, "nuclear_norm") == 0 || strcmp(name, "effective_rank") == 0) {
        if (mat_singular_values(g) != LS_OK)
            return LS_EINVAL;
        double s = 0;
        for (size_t i = 0; i < g->dim; i++)
            s += g->sv[i];
        *out = name[0] == 'n' ? s : effective_rank(g->sv, g->dim);
    } else {
        return LS_ENOTFOUND;
    }
    return LS_OK;
}

/* ---- vectors ---- */

static const char *const mat_vectors[] = {"W", "params_init", "params_final", NULL};

static size_t mat_n_params(const struct ls_job *job)
{
    double d = (double)job->data.dim, k = (double)job->model.width;
    double np = 2 * d * k + (double)(job->model.depth - 2) * k * k;
    return np >= (double)SIZE_MAX ? SIZE_MAX : (size_t)np;
}

/* W: the product (dim²); params_*: the whole arena. */
static size_t mat_vector_len(const struct ls_job *job, const char *name)
{
    if (strcmp(name, "W") == 0)
        return (size_t)(job->data.dim * job->data.dim);
    if (strcmp(name, "params_init") == 0 || strcmp(name, "params_final") == 0)
        return mat_n_params(job);
    return 0;
}

static int mat_vector(struct ls_model *m, const struct ls_data *data, const char *name, double *out)
{
    struct mat *g = m->impl;
    (void)data;
    if (strcmp(name, "W") != 0)
        return LS_ENOTFOUND;
    memcpy(out, matrix_W(m), g->dim * g->dim * sizeof *out);
    return LS_OK;
}

/* ---- initialization ---- */

/* Standard normals of factor i, stream "init.matrix" keyed by (dim, k, i): shared by every α and
 * depth of a seed. */
static void factor_normals(const struct ls_job *job, const struct mat *g, int i, double *x,
                           size_t n)
{
    struct ls_rng r;
    int64_t shape[3] = {(int64_t)g->dim, (int64_t)g->k, i};
    rng_init(&r, rng_key(job->seed, job->point_seed, "init.matrix", shape, 3));
    rng_normals(&r, x, n);
}

/* Factor i (i < D − 1 − i, or the middle one) from the init rule; its mirror is set by the
 * caller. The middle factor of an odd D is made symmetric. */
static void init_factor(const struct ls_job *job, struct mat *g, int i)
{
    size_t rows, cols;
    double a = job->model.init_scale, *U = g->U[i];
    factor_shape(g, i, &rows, &cols);
    if (strcmp(job->model.init, "gaussian") == 0) {
        factor_normals(job, g, i, U, rows * cols);
        for (size_t j = 0; j < rows * cols; j++)
            U[j] *= a / sqrt((double)g->k);
    } else {
        memset(U, 0, rows * cols * sizeof *U);
        for (size_t j = 0; j < rows && j < cols; j++)
            U[j * cols + j] = a;
    }
    if (2 * i + 1 == g->D) /* the middle factor of an odd depth: (H + Hᵀ)/√2 */
        for (size_t p = 0; p < rows; p++)
            for (size_t q = p; q < cols; q++) {
                double v = (U[p * cols + q] + U[q * cols + p]) / sqrt(2.0);
                U[p * cols + q] = U[q * cols + p] = p == q ? U[p * cols + p] : v;
            }
}

/* The first half of the factors (and the middle one), then U_{D−1−i} = U_iᵀ. */
static void mat_init(const struct ls_job *job, struct mat *g)
{
    for (int i = 0; 2 * i + 1 <= g->D; i++)
        init_factor(job, g, i);
    for (int i = 0; 2 * i + 1 < g->D; i++) {
        size_t rows, cols;
        factor_shape(g, i, &rows, &cols);
        double *src = g->U[i], *dst = g->U[g->D - 1 - i];
        for (size_t p = 0; p < rows; p++)
            for (size_t q = 0; q < cols; q++)
                dst[q * rows + p] = src[p * cols + q];
    }
}

/* ---- life cycle ---- */

static void mat_destroy(struct ls_model **mp)
{
    if (!mp || !*mp)
        return;
    struct ls_model *m = *mp;
    struct mat *g = m->impl;
    if (g) {
        free(g->act);
        free(g->W);
        free(g->G);
        free(g->T);
        free(g->r);
        free(g->svd_a);
        free(g->svd_w);
        free(g->sv);
        free(g->work);
        free(g);
    }
    model_release(mp);
}

/* dgesvd's workspace for a dim×dim matrix without vectors, asked of LAPACK itself. */
static int svd_workspace(struct mat *g)
{
    double q = 0;
    lapack_int n = (lapack_int)g->dim;
    if (LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', n, n, g->svd_w, n, g->sv, NULL, 1, NULL, 1,
                            &q, -1) != 0)
        return LS_EINVAL;
    g->lwork = (size_t)q > 1 ? (size_t)q : 1;
    g->work = model_alloc(g->lwork);
    return g->work ? LS_OK : LS_ENOMEM;
}

/* Views of the factors in both arenas, and the P/S products in their own arena. */
static int mat_views(struct ls_model *m, struct mat *g)
{
    size_t off = 0, dk = g->dim * g->k;
    for (int i = 0; i < g->D; i++) {
        size_t rows, cols;
        factor_shape(g, i, &rows, &cols);
        g->U[i] = m->params + off;
        g->GU[i] = m->grad + off;
        off += rows * cols;
    }
    g->act = model_alloc(2 * (size_t)(g->D - 2) * dk + 1);
    if (!g->act)
        return LS_ENOMEM;
    g->P[0] = g->U[0];
    g->S[g->D - 1] = g->U[g->D - 1];
    for (int i = 1; i < g->D - 1; i++) {
        g->P[i] = g->act + (size_t)(i - 1) * dk;
        g->S[i] = g->act + (size_t)(g->D - 2 + i - 1) * dk;
    }
    return off == m->n_params ? LS_OK : LS_EINVAL;
}

/* Sizes checked once here, so every BLAS and LAPACK size fits an int. */
static int mat_sizes(const struct ls_job *job, const struct ls_data *data)
{
    double dim = (double)job->data.dim, k = (double)job->model.width;
    if (job->model.depth < 2 || job->model.depth > LS_MATRIX_MAX_DEPTH || job->model.width < 1)
        return LS_EINVAL;
    if (data->d != (size_t)(job->data.dim * job->data.dim) || !data->beta_star)
        return LS_EINVAL; /* not matrix data */
    if (dim * dim > INT_MAX || dim * k > INT_MAX || k * k > INT_MAX || data->n > INT_MAX)
        return LS_EBLAS;
    return LS_OK;
}

static int mat_buffers(struct mat *g)
{
    size_t dd = g->dim * g->dim;
    g->W = model_alloc(dd);
    g->G = model_alloc(dd);
    g->T = model_alloc(g->dim * g->k);
    g->r = model_alloc(g->n);
    g->svd_a = model_alloc(dd);
    g->svd_w = model_alloc(dd);
    g->sv = model_alloc(g->dim);
    if (!g->W || !g->G || !g->T || !g->r || !g->svd_a || !g->svd_w || !g->sv)
        return LS_ENOMEM;
    return svd_workspace(g);
}

static int mat_create(const struct ls_job *job, const struct ls_data *data, struct ls_model **out)
{
    int rc = LS_OK;
    struct ls_model *m = NULL;
    struct mat *g = NULL;
    *out = NULL;
    LS_CALL(mat_sizes(job, data));
    m = calloc(1, sizeof *m);
    LS_CHECK_ALLOC(m);
    m->ops = &matrix_ops;
    m->n_params = mat_n_params(job);
    m->params = model_alloc(m->n_params);
    m->grad = model_alloc(m->n_params);
    m->impl = g = calloc(1, sizeof *g);
    LS_CHECK_ALLOC(m->params);
    LS_CHECK_ALLOC(m->grad);
    LS_CHECK_ALLOC(g);
    g->dim = (size_t)job->data.dim;
    g->k = (size_t)job->model.width;
    g->n = data->n;
    g->D = (int)job->model.depth;
    LS_CALL(mat_views(m, g));
    LS_CALL(mat_buffers(g));
    mat_init(job, g);
    *out = m;
    m = NULL;
cleanup:
    mat_destroy(&m);
    return rc;
}

/* ---- validation and cost ---- */

static const char *const matrix_kinds[] = {"matrix_completion", "matrix_sensing", NULL};

static int mat_check(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    int known = 0;
    for (const char *const *s = matrix_kinds; *s; s++)
        known |= strcmp(*s, job->data.kind) == 0;
    if (job->model.depth < 2 || job->model.depth > LS_MATRIX_MAX_DEPTH) {
        *key = "model.depth";
        snprintf(msg, len,
                 "matrix factorizations need depth in [2, %d] (the number of "
                 "factors)",
                 LS_MATRIX_MAX_DEPTH);
    } else if (job->model.width < 1 || job->model.width > 4096) {
        *key = "model.width";
        snprintf(msg, len, "matrix factorizations need width (the inner size k) in [1, 4096]");
    } else if (job->model.sparsity != 0) {
        *key = "model.sparsity";
        snprintf(msg, len, "matrix factorizations are not prunable");
    } else if (!known) {
        *key = "data.kind";
        snprintf(msg, len,
                 "matrix factorizations train on matrix_completion or matrix_sensing "
                 "data, not '%s'",
                 job->data.kind);
    } else if (strcmp(job->data.kind, "matrix_completion") == 0 && job->train.batch_size > 0) {
        *key = "train.batch_size";
        snprintf(msg, len,
                 "matrix_completion trains full-batch (its one-hot rows are kept as "
                 "indices, which mini-batches cannot gather)");
    } else {
        return LS_OK;
    }
    return LS_EJOB;
}

/* Observations: completion uses at most 2·observed entries, sensing m measurements of dim². */
static double mat_obs_flops(const struct ls_job *job)
{
    double dim = (double)job->data.dim;
    if (strcmp(job->data.kind, "matrix_sensing") == 0)
        return 4.0 * (double)job->data.measurements * dim * dim;
    return 4.0 * (double)job->data.observed + dim * dim;
}

/* Forward: 2·(D−2) products dim×k×k and W (dim²k); backward: D products of about dim²k each. */
static double mat_flops(const struct ls_job *job)
{
    double d = (double)job->data.dim, k = (double)job->model.width;
    double D = (double)job->model.depth;
    return 2.0 * (2 * (D - 2) * d * k * k + d * d * k + D * (d * d * k + d * k * k)) +
           mat_obs_flops(job);
}

/* Params and grads, the P/S products, W, G, the SVD copies and workspace, residuals. */
static size_t mat_memory(const struct ls_job *job)
{
    double d = (double)job->data.dim, k = (double)job->model.width;
    double D = (double)job->model.depth, np = (double)mat_n_params(job);
    double n = strcmp(job->data.kind, "matrix_sensing") == 0 ? (double)job->data.measurements
                                                             : 2.0 * (double)job->data.observed;
    double bytes =
        (2 * np + 2 * (D - 2) * d * k + 4 * d * d + d * k + 64 * d + n) * sizeof(double) +
        sizeof(struct ls_model) + sizeof(struct mat);
    return bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

static const char *const mat_metrics[] = {
    "train_loss", "test_error", "nuclear_norm", "effective_rank", "asymmetry", "steps", NULL};
static const char *const mat_default_metrics[] = {"train_loss",     "test_error", "nuclear_norm",
                                                  "effective_rank", "steps",      NULL};

const struct ls_model_ops matrix_ops = {
    .name = "matrix",
    .metrics = mat_metrics,
    .default_metrics = mat_default_metrics,
    .check = mat_check,
    .flops_per_step = mat_flops,
    .memory = mat_memory,
    .create = mat_create,
    .destroy = mat_destroy,
    .loss = mat_loss,
    .eval = mat_eval,
    .vectors = mat_vectors,
    .vector_len = mat_vector_len,
    .vector = mat_vector,
};
