/* mlp.c — fully connected networks (the "mlp" family): forward/backward pairs over flat arrays,
 * one parameter arena with named views per layer, CBLAS for every matrix product.
 *
 * The model and its parametrizations are described in mlp.h. A forward/backward pass holds
 * `chunk` rows (fixed at create from the data's sizes and a memory budget); a larger batch, or a
 * whole training or test set, runs in chunks whose gradients accumulate, which is exact because
 * the decomposable losses are means over rows. The soft-set losses see the whole batch: their
 * outputs are computed first, then each chunk is run forward again and back. Nothing allocates
 * after create. */
#include "lazysweep/mlp.h"

#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/diag.h"
#include "lazysweep/error.h"
#include "lazysweep/loss.h"
#include "lazysweep/mlp_spline.h"
#include "lazysweep/prune.h"
#include "lazysweep/sparse.h"
#include "lazysweep/rng.h"

#define ACT_BUDGET (1u << 22) /* doubles of activations one chunk may use (32 MiB) ... */
#define CHUNK_MIN 64          /* ... but never fewer rows than this, for BLAS efficiency */
#define SMALL_GEMM 1e6        /* multiply-adds of a product OpenBLAS computes unpacked */
#define WIDE_OUT 16           /* outputs above which such a product is faster as A·B */
#define SPARSE_DENSITY 0.02   /* a pruned layer below this density runs sparse (sparse.h); make bench
                                 (bench/prune_speed.c): sparse loses at 3 %, wins at 1 % */

enum act { ACT_RELU, ACT_LEAKY, ACT_TANH, ACT_LINEAR };

struct mlp {
    size_t d, width, C, L; /* input dim, hidden width, outputs, hidden layers (L+1 linear) */
    size_t T;              /* towers: 1, or 2 when antisymmetric */
    enum act act;
    double slope;           /* leaky_relu slope for z < 0 */
    int bias;               /* biases on */
    enum ls_loss loss;
    enum ls_task task;
    double c;               /* output scale: α under scale_mode output, else 1 */
    double sign[2];         /* tower signs: {1} or {√2/2, −√2/2} */
    int centered;           /* subtract h(x; w₀) (scale_mode output with one tower) */
    size_t chunk, nmax;     /* rows of one pass; rows of the largest batch or set */
    double *mult;           /* [L+1] forward multiplier of W_l */
    double **W, **b;        /* [T][L+1] views of params (b NULL without biases) */
    double **gW, **gb;      /* [T][L+1] views of grad */
    double **W0, **b0;      /* [L+1] views of w0 (centered only) */
    double *w0;             /* [n_params] initial parameters (centered only) */
    double *acts;           /* [T][L][chunk][width] hidden activations after φ */
    double *outs;           /* [T][chunk][C] raw tower outputs */
    double *h0;             /* [chunk][C] h(x; w₀) (centered only) */
    double *da, *db;        /* [chunk][max(width, C)] backward ping-pong */
    double *wt;             /* [wt_n] a small layer's Wᵀ (forward_on_copy) */
    size_t wt_n;
    double *ones;           /* [chunk] all 1: column sums as a product */
    double *logits;         /* [nmax][C] f of a batch or set */
    double *dlogits;        /* [nmax][C] dL/df */
    size_t n_test;          /* rows the test-output cache holds */
    double *test_out;       /* [n_test][C] f on the test set at test_params */
    double *test_params;    /* [n_params] parameters test_out belongs to */
    const double *test_X;   /* the test set test_out belongs to (NULL: cache empty) */
    const double *fwd_X;    /* rows whose whole forward pass acts and logits hold, for */
    size_t fwd_n;           /* ... mlp_descend (NULL: none; any other pass clears it) */
    struct mlp_spline *spline; /* the spline reference (1-D jobs that ask for it), or NULL */
    struct diag *diag;      /* diagnostics the job asked for (diag.h), or NULL */
    struct ls_prune *prune; /* pruning state (prune.h), or NULL */
    const double *mask;     /* [n_params] 0 where pruned: gradients and steps keep those at 0 */
    struct sparse_layer *sp; /* [L+1] a layer run sparse (rowptr set) or dense; NULL: all dense */
    double *sp_scratch;      /* [sp_n] the sparse products' transposes */
    size_t sp_n;
};

static size_t fan_in(const struct mlp *p, size_t l) { return l == 0 ? p->d : p->width; }
static size_t fan_out(const struct mlp *p, size_t l) { return l == p->L ? p->C : p->width; }
static size_t maxz(size_t a, size_t b) { return a > b ? a : b; }
static size_t minz(size_t a, size_t b) { return a < b ? a : b; }

/* Hidden activations of tower t, layer l < L: [chunk][width]. */
static double *act_view(const struct mlp *p, size_t t, size_t l)
{
    return p->acts + (t * p->L + l) * p->chunk * p->width;
}

/* ---- layers: forward/backward pairs ------------------------------------------------------ */

/* Is A·Wᵀ better computed on a transposed copy? For small products (up to SMALL_GEMM
 * multiply-adds) OpenBLAS has fast unpacked kernels, but its row-major A·Bᵀ form is 1.6–4× slower
 * than A·B and Aᵀ·Bᵀ unless the output is narrow. So a wide small layer copies the smaller of
 * its input A (n·in) and W (out·in) transposed, and multiplies as (Aᵀ)ᵀ·Wᵀ or A·(Wᵀ); a vector
 * needs no copy, its transpose having its own memory layout. The rule reads the shapes only, so
 * every rank computes a point the same way. */
static int forward_on_copy(size_t n, size_t in, size_t out)
{
    return (double)n * (double)in * (double)out <= SMALL_GEMM && out > WIDE_OUT;
}

/* T = Mᵀ, in blocks that keep both sides in cache. */
static void transpose(double *T /* [cols][rows] */, const double *M /* [rows][cols] */,
                      size_t rows, size_t cols)
{
    for (size_t i0 = 0; i0 < rows; i0 += 32)
        for (size_t j0 = 0; j0 < cols; j0 += 32)
            for (size_t i = i0; i < minz(i0 + 32, rows); i++)
                for (size_t j = j0; j < minz(j0 + 32, cols); j++)
                    T[j * rows + i] = M[i * cols + j];
}

/* Z = mult·A·Wᵀ (the bias is added by act_forward, in the same pass as φ). wt is scratch for
 * Aᵀ or Wᵀ (see forward_on_copy). */
static void linear_forward(double *Z /* [n][out] */, const double *A /* [n][in] */,
                           const double *W /* [out][in] */,
                           double *wt /* [in][min(n, out)] scratch */, size_t n, size_t in,
                           size_t out, double mult)
{
    const int M = (int)n, N = (int)out, K = (int)in;
    const double beta = 0.0;
    if (!forward_on_copy(n, in, out)) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, mult, A, K, W, K, beta, Z, N);
    } else if (n < out) { /* Z = (Aᵀ)ᵀ·Wᵀ */
        int copy = n > 1 && in > 1;
        if (copy)
            transpose(wt, A, n, in);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasTrans, M, N, K, mult, copy ? wt : A, M, W, K,
                    beta, Z, N);
    } else { /* Z = A·(Wᵀ) */
        if (in > 1)
            transpose(wt, W, out, in);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, mult, A, K,
                    in > 1 ? wt : W, N, beta, Z, N);
    }
}

/* With G = gs·dZ: dA = mult·G·W (overwritten; the first layer passes dA = NULL, its input
 * gradient being unused), then gW += step·mult·Gᵀ·A (bias_backward adds gb += step·Gᵀ·1).
 * dA comes first because a descent step passes W and b themselves as gW and gb, with
 * step = −lr: the update is then written by the product that computes it, and the gradient is
 * never stored (mlp_descend). With acc = 0 gW and gb are overwritten instead of accumulated: the
 * first chunk of a batch starts the gradient, which saves zeroing the whole arena every step. gb
 * is zeroed rather than given beta = 0, which some OpenBLAS versions' dgemv skip without clearing
 * a NaN already there. */
static void linear_backward(double *dA /* [n][in] or NULL */, double *gW /* [out][in] */,
                            const double *dZ /* [n][out] */, const double *A /* [n][in] */,
                            const double *W /* [out][in] */, size_t n, size_t in, size_t out,
                            double mult, double gs, double step, int acc)
{
    if (dA)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)in, (int)out,
                    mult * gs, dZ, (int)out, W, (int)in, 0.0, dA, (int)in);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in, (int)n,
                step * mult * gs, dZ, (int)out, A, (int)in, acc ? 1.0 : 0.0, gW, (int)in);
}

/* gb += step·gs·dZᵀ·1 (or = without acc): linear_backward's bias part, shared with the sparse
 * path. */
static void bias_backward(double *gb /* [out] or NULL */, const double *dZ /* [n][out] */,
                          const double *ones /* [n] */, size_t n, size_t out, double gs,
                          double step, int acc)
{
    if (gb && !acc)
        memset(gb, 0, out * sizeof *gb);
    if (gb)
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)out, step * gs, dZ, (int)out, ones, 1,
                    1.0, gb, 1);
}

/* Z = φ(Z + 1·bᵀ) in place (ACT_LINEAR for the output layer). relu and leaky_relu keep z > 0
 * and scale the rest by the slope, as a select the compiler turns into vector masks (mlp.c is
 * built with -O3, see the Makefile): the signs of pre-activations are as good as random, so a
 * branch would be mispredicted on every other unit. A NaN stays a NaN (k·NaN). */
static void act_forward(double *restrict Z /* [n][out] */, const double *restrict b /* [out] */,
                        size_t n, size_t out, enum act act, double slope)
{
    const double k = act == ACT_RELU ? 0.0 : slope;
    size_t nz = n * out;
    for (size_t i = 0; b && i < n; i++)
        for (size_t j = 0; j < out; j++)
            Z[i * out + j] += b[j];
    if (act == ACT_RELU || act == ACT_LEAKY)
        for (size_t i = 0; i < nz; i++) {
            double z = Z[i], kz = k * z; /* both, so no branch guards the product */
            Z[i] = z > 0 ? z : kz;
        }
    else if (act == ACT_TANH)
        for (size_t i = 0; i < nz; i++)
            Z[i] = tanh(Z[i]);
}

/* dz = da ⊙ φ′, in place, with φ′ read off the activation a = φ(z): a > 0 ⇔ z > 0 for relu and
 * leaky_relu (slope >= 0), and tanh′ = 1 − a². At z = 0 the derivative taken is the left one. */
static void act_backward(double *restrict da /* [n] */, const double *restrict a /* [n] */,
                         size_t n, enum act act, double slope)
{
    const double k = act == ACT_RELU ? 0.0 : slope;
    if (act == ACT_RELU || act == ACT_LEAKY)
        for (size_t i = 0; i < n; i++) {
            double d = da[i], kd = k * d;
            da[i] = a[i] > 0 ? d : kd;
        }
    else if (act == ACT_TANH)
        for (size_t i = 0; i < n; i++)
            da[i] *= 1.0 - a[i] * a[i];
}

/* ---- the network ------------------------------------------------------------------------- */

/* Tower t at parameter views W, b on rows X [n][d] (n <= chunk): keeps every hidden activation
 * and leaves the raw outputs in outs[t] [n][C]. */
static const double *tower_forward(struct mlp *p, double *const *W, double *const *b, size_t t,
                                   const double *X, size_t n)
{
    const double *A = X;
    double *Z = NULL;
    for (size_t l = 0; l <= p->L; l++) {
        Z = l == p->L ? p->outs + t * p->chunk * p->C : act_view(p, t, l);
        if (p->sp && p->sp[l].rowptr)
            sparse_forward(&p->sp[l], W[l], A, n, p->mult[l], Z, p->sp_scratch);
        else
            linear_forward(Z, A, W[l], p->wt, n, fan_in(p, l), fan_out(p, l), p->mult[l]);
        act_forward(Z, b[l], n, fan_out(p, l), l < p->L ? p->act : ACT_LINEAR, p->slope);
        A = Z;
    }
    return Z;
}

/* Where a backward pass puts what it computes for each layer's W and b: the gradient views
 * (step 1), or the parameters themselves for a descent step (step −lr, accumulating). */
struct sink {
    double *const *W, *const *b; /* [T][L+1] views */
    double step;
    int acc;
};

/* Backward through tower t after its forward on X [n][d]: dF [n][C] = dL/df, and the tower's
 * raw output enters f with the factor c·sign[t]. */
static void tower_backward(struct mlp *p, size_t t, const double *X, size_t n, const double *dF,
                           const struct sink *to)
{
    const double *dZ = dF;
    double gs = p->c * p->sign[t];
    for (size_t l = p->L + 1; l-- > 0;) {
        size_t v = t * (p->L + 1) + l;
        const double *A = l == 0 ? X : act_view(p, t, l - 1);
        double *dA = l == 0 ? NULL : dZ == p->da ? p->db : p->da;
        if (p->sp && p->sp[l].rowptr)
            sparse_backward(&p->sp[l], p->W[v], to->W[v], dZ, A, dA, n, p->mult[l], gs, to->step,
                            to->acc, p->sp_scratch);
        else
            linear_backward(dA, to->W[v], dZ, A, p->W[v], n, fan_in(p, l), fan_out(p, l),
                            p->mult[l], gs, to->step, to->acc);
        bias_backward(to->b[v], dZ, p->ones, n, fan_out(p, l), gs, to->step, to->acc);
        if (dA)
            act_backward(dA, A, n * p->width, p->act, p->slope);
        dZ = dA;
        gs = 1.0;
    }
}

/* f = c·(Σ_t sign[t]·g_t − h₀) on rows X [n][d], n <= chunk, into f [n][C]. With one tower and no
 * centering this is g itself (c = sign = 1), bit for bit. */
static void chunk_outputs(struct mlp *p, const double *X, size_t n, double *f /* [n][C] */)
{
    size_t nc = n * p->C, stride = p->chunk * p->C;
    p->fwd_X = NULL;
    if (p->centered)
        memcpy(p->h0, tower_forward(p, p->W0, p->b0, 0, X, n), nc * sizeof *f);
    for (size_t t = 0; t < p->T; t++)
        tower_forward(p, p->W + t * (p->L + 1), p->b + t * (p->L + 1), t, X, n);
    for (size_t i = 0; i < nc; i++) {
        double s = p->sign[0] * p->outs[i];
        if (p->T == 2)
            s += p->sign[1] * p->outs[stride + i];
        if (p->centered)
            s -= p->h0[i];
        f[i] = p->c * s;
    }
}

void mlp_predict(struct ls_model *m, const double *X, size_t n, double *out)
{
    struct mlp *p = m->impl;
    for (size_t r = 0; r < n; r += p->chunk)
        chunk_outputs(p, X + r * p->d, minz(p->chunk, n - r), out + r * p->C);
}

/* The gradient of a chunk into the gradient arena: overwritten (acc = 0) or accumulated. */
static void backward_chunk(struct mlp *p, const double *X, size_t n, const double *dF, int acc)
{
    const struct sink to = {p->gW, p->gb, 1.0, acc};
    for (size_t t = 0; t < p->T; t++)
        tower_backward(p, t, X, n, dF, &to);
}

/* x = 0 at the pruned entries of x [n_params] (an arena of params' layout), except in the weights
 * of sparse layers, whose pruned entries no product writes. */
static void mask_dense(const struct mlp *p, double *x, size_t n)
{
    if (!p->mask)
        return;
    if (!p->sp) {
        prune_apply(p->mask, x, n);
        return;
    }
    size_t at = 0; /* arena order: tower by tower, layer by layer, W then b */
    for (size_t t = 0; t < p->T; t++)
        for (size_t l = 0; l <= p->L; l++) {
            size_t nw = fan_in(p, l) * fan_out(p, l), nb = p->bias ? fan_out(p, l) : 0;
            if (!p->sp[l].rowptr)
                prune_apply(p->mask + at, x + at, nw);
            prune_apply(p->mask + at + nw, x + at + nw, nb);
            at += nw + nb;
        }
}

/* A soft-set loss on a batch larger than a chunk: every output first, the loss and dL/df of the
 * whole batch, then each chunk forward again (for its activations) and back. */
static double whole_batch_loss(struct mlp *p, const struct ls_data *d, int grad)
{
    size_t n = d->n, C = p->C;
    for (size_t r = 0; r < n; r += p->chunk)
        chunk_outputs(p, d->X + r * p->d, minz(p->chunk, n - r), p->logits + r * C);
    double L = loss_value(p->loss, p->logits, d->y, n, C, n, grad ? p->dlogits : NULL);
    for (size_t r = 0; grad && r < n; r += p->chunk) {
        size_t k = minz(p->chunk, n - r);
        chunk_outputs(p, d->X + r * p->d, k, p->logits + r * C);
        backward_chunk(p, d->X + r * p->d, k, p->dlogits + r * C, r > 0);
    }
    return L;
}

/* The loss of batch d; with grad, m->grad is overwritten with its gradient. A batch that does not
 * fit the model (more rows than it was built for, another input dimension) gives NaN. */
static double mlp_loss(struct ls_model *m, const struct ls_data *d, int grad)
{
    struct mlp *p = m->impl;
    size_t n = d->n, C = p->C;
    if (n == 0 || n > p->nmax || d->d != p->d) {
        if (grad)
            memset(m->grad, 0, m->n_params * sizeof *m->grad);
        return NAN;
    }
    if (n > p->chunk && !loss_decomposable(p->loss)) {
        double L = whole_batch_loss(p, d, grad);
        if (grad)
            mask_dense(p, m->grad, m->n_params);
        return L;
    }
    double L = 0;
    for (size_t r = 0; r < n; r += p->chunk) {
        size_t k = minz(p->chunk, n - r);
        chunk_outputs(p, d->X + r * p->d, k, p->logits);
        L += loss_value(p->loss, p->logits, d->y + r, k, C, n, grad ? p->dlogits : NULL);
        if (grad)
            backward_chunk(p, d->X + r * p->d, k, p->dlogits, r > 0);
    }
    if (n <= p->chunk) { /* one pass: its activations and logits are the whole batch's */
        p->fwd_X = d->X;
        p->fwd_n = n;
    }
    if (grad) /* pruned entries get no gradient: every optimizer leaves them at 0 */
        mask_dense(p, m->grad, m->n_params);
    return L;
}

/* θ ← θ − lr·∇L(θ; d). A batch of one chunk (at most mlp_chunk_rows rows) reuses the forward
 * pass of the last mlp_loss on it (or runs it again if another pass came since), then its
 * backward pass writes each layer's update straight into W and b (struct sink): no gradient is
 * stored, which saves a pass over the gradient arena to zero it and one to apply it (measured
 * with make bench: 615 → 718 steps/s on 784-256-256-10). A larger batch, which train.c does not
 * give it, accumulates its gradient over chunks first, then applies it. */
static int mlp_descend(struct ls_model *m, const struct ls_data *d, double lr)
{
    struct mlp *p = m->impl;
    size_t n = d->n;
    if (n == 0 || n > p->nmax || d->d != p->d)
        return LS_EINVAL;
    if (n > p->chunk) {
        mlp_loss(m, d, 1);
        for (size_t i = 0; i < m->n_params; i++)
            m->params[i] -= lr * m->grad[i];
        return LS_OK;
    }
    if (p->fwd_X != d->X || p->fwd_n != n)
        chunk_outputs(p, d->X, n, p->logits);
    loss_value(p->loss, p->logits, d->y, n, p->C, n, p->dlogits);
    const struct sink to = {p->W, p->b, -lr, 1};
    for (size_t t = 0; t < p->T; t++)
        tower_backward(p, t, d->X, n, p->dlogits, &to);
    mask_dense(p, m->params, m->n_params); /* dense products wrote pruned entries too */
    p->fwd_X = NULL; /* the parameters moved */
    return LS_OK;
}

/* ---- metrics ----------------------------------------------------------------------------- */

/* f on the test set. The metrics of one logged step all ask for it: it is recomputed only when
 * the parameters (compared bit for bit) or the set changed since the last call. */
static const double *test_outputs(struct ls_model *m, const struct ls_data *d)
{
    struct mlp *p = m->impl;
    size_t bytes = m->n_params * sizeof *m->params;
    if (p->test_X == d->X_test && memcmp(p->test_params, m->params, bytes) == 0)
        return p->test_out;
    mlp_predict(m, d->X_test, d->n_test, p->test_out);
    memcpy(p->test_params, m->params, bytes);
    p->test_X = d->X_test;
    return p->test_out;
}

/* Metric `what` (loss, accuracy, precision, recall, f1) of outputs f [n][C] against y [n].
 * Precision, recall and F₁ are 0 where their denominator is (no predicted or no actual
 * positives), as scikit-learn's zero_division default. */
static int metric_of(const struct mlp *p, const char *what, const double *f, const double *y,
                     size_t n, double *out)
{
    double k[4]; /* TP, FN, FP, TN */
    if (strcmp(what, "loss") == 0) {
        *out = loss_value(p->loss, f, y, n, p->C, n, NULL);
        return LS_OK;
    }
    if (p->task == LS_TASK_REGRESSION)
        return LS_ENOTFOUND;
    if (strcmp(what, "accuracy") == 0) {
        *out = (double)loss_correct(p->loss, p->task, f, y, n, p->C) / (double)n;
        return LS_OK;
    }
    if (p->task != LS_TASK_BINARY)
        return LS_ENOTFOUND;
    loss_confusion(p->loss, f, y, n, k);
    if (strcmp(what, "precision") == 0)
        *out = k[0] + k[2] > 0 ? k[0] / (k[0] + k[2]) : 0.0;
    else if (strcmp(what, "recall") == 0)
        *out = k[0] + k[1] > 0 ? k[0] / (k[0] + k[1]) : 0.0;
    else if (strcmp(what, "f1") == 0)
        *out = 2 * k[0] + k[1] + k[2] > 0 ? 2 * k[0] / (2 * k[0] + k[1] + k[2]) : 0.0;
    else
        return LS_ENOTFOUND;
    return LS_OK;
}

/* train_<what> over the whole of d's training rows, test_<what> over its test set. */
static int mlp_eval(struct ls_model *m, const struct ls_data *d, const char *name, double *out)
{
    struct mlp *p = m->impl;
    if (diag_has_metric(name))
        return diag_eval(p->diag, m, d, name, out);
    int test = strncmp(name, "test_", 5) == 0;
    if (p->prune && prune_eval(p->prune, name, out) == LS_OK)
        return LS_OK;
    if (mlp_spline_metric(name))
        return mlp_spline_eval(p->spline, m, name, out);
    if (!test && strncmp(name, "train_", 6) != 0)
        return LS_ENOTFOUND;
    size_t n = test ? d->n_test : d->n;
    const double *X = test ? d->X_test : d->X, *y = test ? d->y_test : d->y;
    if (n == 0 || !X || !y || d->d != p->d || n > (test ? p->n_test : p->nmax))
        return LS_ENOTFOUND;
    const double *f = p->logits;
    if (test)
        f = test_outputs(m, d);
    else
        mlp_predict(m, X, n, p->logits);
    return metric_of(p, name + (test ? 5 : 6), f, y, n, out);
}

/* ---- views ------------------------------------------------------------------------------- */

size_t mlp_n_layers(const struct ls_model *m) { return ((const struct mlp *)m->impl)->L + 1; }
size_t mlp_n_towers(const struct ls_model *m) { return ((const struct mlp *)m->impl)->T; }
size_t mlp_n_outputs(const struct ls_model *m) { return ((const struct mlp *)m->impl)->C; }
size_t mlp_chunk_rows(const struct ls_model *m) { return ((const struct mlp *)m->impl)->chunk; }

void mlp_get_spec(const struct ls_model *m, struct mlp_spec *out)
{
    const struct mlp *p = m->impl;
    *out = (struct mlp_spec){.d = p->d, .width = p->width, .C = p->C, .L = p->L, .T = p->T,
                             .act = (int)p->act, .slope = p->slope, .bias = p->bias, .c = p->c,
                             .sign = {p->sign[0], p->sign[1]}, .centered = p->centered,
                             .mult = p->mult, .loss = (int)p->loss, .task = (int)p->task};
}

/* Every view is strided by `chunk`, so a smaller value still fits the buffers sized at create. */
int mlp_set_chunk_rows(struct ls_model *m, size_t rows)
{
    struct mlp *p = m->impl;
    if (rows < 1 || rows > p->chunk)
        return LS_EINVAL;
    p->chunk = rows;
    return LS_OK;
}

/* Which layers run sparse: those of density below `threshold` (tower 0's mask, which both
 * towers share), built once; the scratch holds their transposes for a chunk of rows. */
int mlp_set_sparse(struct ls_model *m, double threshold)
{
    struct mlp *p = m->impl;
    size_t need = 0;
    for (size_t l = 0; p->sp && l <= p->L; l++)
        sparse_free(&p->sp[l]);
    free(p->sp);
    free(p->sp_scratch);
    p->sp = NULL;
    p->sp_scratch = NULL;
    if (!p->mask)
        return LS_OK;
    p->sp = calloc(p->L + 1, sizeof *p->sp);
    if (!p->sp)
        return LS_ENOMEM;
    for (size_t l = 0; l <= p->L; l++) {
        size_t in = fan_in(p, l), out = fan_out(p, l), kept = 0;
        const double *k = p->mask + (p->W[l] - m->params);
        for (size_t i = 0; i < in * out; i++)
            kept += k[i] != 0;
        if ((double)kept >= threshold * (double)(in * out))
            continue;
        if (sparse_build(k, out, in, &p->sp[l]) != LS_OK)
            return LS_ENOMEM;
        need = maxz(need, sparse_scratch(in, out, p->chunk));
    }
    p->sp_n = need;
    p->sp_scratch = need ? model_alloc(need) : NULL;
    return need && !p->sp_scratch ? LS_ENOMEM : LS_OK;
}

int mlp_layer(struct ls_model *m, size_t t, size_t l, struct mlp_layer *out)
{
    struct mlp *p = m->impl;
    if (t >= p->T || l > p->L)
        return LS_EINVAL;
    size_t v = t * (p->L + 1) + l;
    *out = (struct mlp_layer){.in = fan_in(p, l), .out = fan_out(p, l), .mult = p->mult[l],
                              .W = p->W[v], .gW = p->gW[v], .b = p->b[v], .gb = p->gb[v]};
    out->act = l == p->L ? p->outs + t * p->chunk * p->C : act_view(p, t, l);
    return LS_OK;
}

/* ---- shapes, from the job alone (cfg's estimates) or from the data (create) ---------------- */

struct shape {
    size_t d, w, C, L, T; /* input dim, width, outputs, hidden layers, towers */
    int bias, centered;
};

/* The network of a job on data of input dimension d with C outputs. */
static struct shape shape_of(const struct ls_job *job, size_t d, size_t C)
{
    struct shape s = {.d = d, .w = (size_t)job->model.width, .C = C,
                      .L = (size_t)job->model.depth, .bias = job->model.bias != 0};
    s.T = job->model.antisymmetric ? 2 : 1;
    s.centered = s.T == 1 && strcmp(job->model.scale_mode, "output") == 0;
    return s;
}

/* From the job alone: data.dim is the input dimension once cfg resolved the data (784 for
 * fashion_mnist), and the data's task gives the outputs. */
static struct shape job_shape(const struct ls_job *job)
{
    size_t classes = 0;
    enum ls_task task = data_task(job, &classes);
    return shape_of(job, (size_t)job->data.dim, task == LS_TASK_CLASSES ? classes : 1);
}

/* Weights per tower, Σ_l in_l·out_l, in double so absurd sizes saturate rather than wrap. */
static double weights_per_tower(const struct shape *s)
{
    return (double)s->d * (double)s->w + (double)(s->L - 1) * (double)s->w * (double)s->w +
           (double)s->w * (double)s->C;
}

static double params_of(const struct shape *s)
{
    double biases = s->bias ? (double)s->L * (double)s->w + (double)s->C : 0.0;
    return (double)s->T * (weights_per_tower(s) + biases);
}

/* Doubles of activations, backward buffers and the ones vector per row of a chunk. */
static size_t per_row(const struct shape *s)
{
    return s->T * (s->L * s->w + s->C) + 2 * maxz(s->w, s->C) + (s->centered ? s->C : 0) + 1;
}

/* Room for the largest Wᵀ forward_on_copy may need (a layer of at most SMALL_GEMM weights). */
static size_t wt_size(const struct shape *s)
{
    const size_t sizes[3] = {s->d * s->w, s->L > 1 ? s->w * s->w : 0, s->w * s->C};
    size_t best = 0;
    for (int i = 0; i < 3; i++)
        if ((double)sizes[i] <= SMALL_GEMM && sizes[i] > best)
            best = sizes[i];
    return best;
}

/* Rows of one pass: as many as the budget allows, at least CHUNK_MIN, at most the largest set. */
static size_t chunk_of(const struct shape *s, size_t nmax)
{
    size_t rows = ACT_BUDGET / maxz(per_row(s), 1);
    return minz(maxz(nmax, 1), maxz(rows, CHUNK_MIN));
}

/* ---- initialization ---------------------------------------------------------------------- */

static double per_layer(const struct ls_reals *r, size_t l)
{
    return r->n > 0 ? r->v[l < (size_t)r->n ? l : (size_t)r->n - 1] : r->v[0];
}

/* Standard deviations of layer l's weights and biases under the job's variance rule, in the
 * standard parametrization. `pytorch` is nn.Linear's default: U(±1/√in) for both, whose variance
 * is 1/(3·in); `explicit` takes them from model.weight_scale and model.bias_scale. */
static void layer_stds(const struct ls_job *job, size_t l, size_t in, size_t out, double *sw,
                       double *sb)
{
    const char *v = job->model.variance;
    double fi = (double)in, fo = (double)out;
    *sb = 0.0;
    if (strcmp(v, "lecun") == 0)
        *sw = sqrt(1.0 / fi);
    else if (strcmp(v, "xavier") == 0)
        *sw = sqrt(2.0 / (fi + fo));
    else if (strcmp(v, "pytorch") == 0)
        *sw = *sb = sqrt(1.0 / (3.0 * fi));
    else if (strcmp(v, "explicit") == 0) {
        *sw = per_layer(&job->model.weight_scale, l);
        *sb = per_layer(&job->model.bias_scale, l);
    } else /* he */
        *sw = sqrt(2.0 / fi);
}

/* x[n] with mean 0 and standard deviation s: normal, or uniform on [−√3·s, √3·s]; draw i of the
 * stream `name` keyed by the shape, so every α sees the same unscaled draws. */
static void draw(const struct ls_job *job, const char *name, const int64_t *shape, size_t ns,
                 int uniform, double s, double *x, size_t n)
{
    struct ls_rng r;
    rng_init(&r, rng_key(job->seed, job->point_seed, name, shape, ns));
    if (uniform) {
        for (size_t i = 0; i < n; i++)
            x[i] = s * sqrt(3.0) * (2.0 * rng_uniform(&r) - 1.0);
        return;
    }
    rng_normals(&r, x, n);
    for (size_t i = 0; i < n; i++)
        x[i] *= s;
}

/* W [out][in] = s·√max(out, in)·Q, Q semi-orthogonal and Haar-distributed: the QR factorization
 * of the same Gaussian draws as `gaussian` (taken as a tall rows × cols matrix, transposed into W
 * when out < in), with the signs of R's diagonal moved into Q (Mezzadri 2007). The factor makes
 * the entries' variance s², as the other distributions' (E Q_ij² = 1/max(out, in)). */
static int draw_orthogonal(const struct ls_job *job, const int64_t *shape, double s, double *W,
                           size_t out, size_t in)
{
    int rc = LS_OK;
    size_t rows = maxz(out, in), cols = minz(out, in);
    double *G = malloc(rows * cols * sizeof *G), *tau = malloc(2 * cols * sizeof *tau);
    LS_CHECK_ALLOC(G);
    LS_CHECK_ALLOC(tau);
    draw(job, "init.mlp.W", shape, 3, 0, 1.0, G, rows * cols);
    if (LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (int)rows, (int)cols, G, (int)cols, tau) != 0) {
        rc = LS_EINVAL;
        goto cleanup;
    }
    for (size_t j = 0; j < cols; j++)
        tau[cols + j] = G[j * cols + j] < 0 ? -1.0 : 1.0;
    if (LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (int)rows, (int)cols, (int)cols, G, (int)cols, tau) != 0) {
        rc = LS_EINVAL;
        goto cleanup;
    }
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double q = G[i * cols + j] * tau[cols + j] * s * sqrt((double)rows);
            W[out >= in ? i * in + j : j * in + i] = q;
        }
cleanup:
    free(G);
    free(tau);
    return rc;
}

/* Tower 0 from the job's rules, then the α of scale_mode weights and the √fan_in of ntk; tower 1
 * (antisymmetric) is its copy. Layer l's draws are keyed by (l, in, out): deeper or shallower
 * networks of one seed share their common first layers. */
static int init_params(const struct ls_job *job, struct mlp *p)
{
    int uniform = strcmp(job->model.init, "uniform") == 0;
    int ortho = strcmp(job->model.init, "orthogonal") == 0;
    double a = strcmp(job->model.scale_mode, "weights") == 0 ? job->model.init_scale : 1.0;
    for (size_t l = 0; l <= p->L; l++) {
        size_t in = fan_in(p, l), out = fan_out(p, l);
        double sw, sb, kw = a / p->mult[l]; /* 1/mult = √in under ntk */
        int64_t shape[3] = {(int64_t)l, (int64_t)in, (int64_t)out};
        layer_stds(job, l, in, out, &sw, &sb);
        if (ortho) {
            int rc = draw_orthogonal(job, shape, sw, p->W[l], out, in);
            if (rc != LS_OK)
                return rc;
        } else {
            draw(job, "init.mlp.W", shape, 3, uniform, sw, p->W[l], in * out);
        }
        for (size_t i = 0; i < in * out; i++)
            p->W[l][i] *= kw;
        if (p->bias)
            draw(job, "init.mlp.b", shape, 3, uniform, a * sb, p->b[l], out);
    }
    return LS_OK;
}

/* ---- create / destroy -------------------------------------------------------------------- */

static void mlp_destroy(struct ls_model **mp)
{
    if (!mp || !*mp)
        return;
    struct ls_model *m = *mp;
    struct mlp *p = m->impl;
    if (p) {
        diag_destroy(&p->diag);
        free(p->mult);
        free(p->W);
        free(p->w0);
        free(p->acts);
        free(p->outs);
        free(p->h0);
        free(p->da);
        free(p->db);
        free(p->wt);
        free(p->ones);
        free(p->logits);
        free(p->dlogits);
        free(p->test_out);
        free(p->test_params);
        mlp_spline_destroy(&p->spline);
        prune_destroy(&p->prune);
        for (size_t l = 0; p->sp && l <= p->L; l++)
            sparse_free(&p->sp[l]);
        free(p->sp);
        free(p->sp_scratch);
        free(p);
    }
    model_release(mp);
}

/* Views of an arena laid out tower by tower, layer by layer: W_l then b_l. */
static void carve(const struct mlp *p, double *arena, double **W, double **b, size_t towers)
{
    double *q = arena;
    for (size_t t = 0; t < towers; t++)
        for (size_t l = 0; l <= p->L; l++) {
            size_t v = t * (p->L + 1) + l;
            W[v] = q;
            q += fan_in(p, l) * fan_out(p, l);
            b[v] = p->bias ? q : NULL;
            q += p->bias ? fan_out(p, l) : 0;
        }
}

static int parse_choices(const struct ls_job *job, struct mlp *p)
{
    static const char *const acts[] = {"relu", "leaky_relu", "tanh", "linear"};
    int found = 0;
    for (int i = 0; i < 4; i++)
        if (strcmp(job->model.activation, acts[i]) == 0) {
            p->act = (enum act)i;
            found = 1;
        }
    if (!found || loss_find(job->train.loss, &p->loss) != LS_OK)
        return LS_EINVAL;
    p->slope = job->model.leaky_slope;
    p->c = strcmp(job->model.scale_mode, "output") == 0 ? job->model.init_scale : 1.0;
    p->sign[0] = p->T == 2 ? sqrt(0.5) : 1.0;
    p->sign[1] = -sqrt(0.5);
    return LS_OK;
}

/* Sizes and choices from the job and the data; every size a BLAS call sees fits in an int. */
static int setup(const struct ls_job *job, const struct ls_data *data, struct mlp *p,
                 size_t *n_params)
{
    struct shape s = shape_of(job, data->d, data->task == LS_TASK_CLASSES ? data->n_classes : 1);
    if (s.w < 1 || s.L < 1 || s.C < 1 || data->n < 1 || s.d < 1)
        return LS_EINVAL;
    if (s.d > INT_MAX || s.w > INT_MAX || s.C > INT_MAX || params_of(&s) > 1e15)
        return LS_EBLAS;
    *p = (struct mlp){.d = s.d, .width = s.w, .C = s.C, .L = s.L, .T = s.T, .bias = s.bias,
                      .task = data->task, .centered = s.centered, .nmax = data->n,
                      .n_test = data->n_test};
    p->chunk = chunk_of(&s, p->nmax);
    p->wt_n = wt_size(&s);
    if (p->chunk > INT_MAX)
        p->chunk = INT_MAX;
    *n_params = (size_t)params_of(&s);
    return parse_choices(job, p);
}

/* Every buffer a pass needs, sized once. */
static int alloc_buffers(struct mlp *p, size_t n_params)
{
    size_t views = p->T * (p->L + 1), wide = maxz(p->width, p->C);
    p->mult = malloc((p->L + 1) * sizeof *p->mult);
    p->W = calloc(6 * views, sizeof *p->W); /* W, b, gW, gb, W0, b0 in one block */
    p->acts = model_alloc(p->T * p->L * p->chunk * p->width);
    p->outs = model_alloc(p->T * p->chunk * p->C);
    p->da = model_alloc(p->chunk * wide);
    p->db = model_alloc(p->chunk * wide);
    p->wt = model_alloc(p->wt_n);
    p->ones = model_alloc(p->chunk);
    p->logits = model_alloc(p->nmax * p->C);
    p->dlogits = model_alloc(p->nmax * p->C);
    p->test_out = model_alloc(p->n_test * p->C);
    p->test_params = model_alloc(n_params);
    if (p->centered) {
        p->w0 = model_alloc(n_params);
        p->h0 = model_alloc(p->chunk * p->C);
    }
    if (!p->mult || !p->W || !p->acts || !p->outs || !p->da || !p->db || !p->wt || !p->ones ||
        !p->logits || !p->dlogits || !p->test_out || !p->test_params ||
        (p->centered && (!p->w0 || !p->h0)))
        return LS_ENOMEM;
    for (size_t i = 0; i < p->chunk; i++)
        p->ones[i] = 1.0;
    p->b = p->W + views;
    p->gW = p->b + views;
    p->gb = p->gW + views;
    p->W0 = p->gb + views;
    p->b0 = p->W0 + views;
    return LS_OK;
}

static int mlp_create(const struct ls_job *job, const struct ls_data *data,
                      struct ls_model **out)
{
    int rc = LS_OK;
    size_t np = 0;
    struct ls_model *m = NULL;
    struct mlp *p = NULL;
    *out = NULL;
    m = calloc(1, sizeof *m);
    LS_CHECK_ALLOC(m);
    m->ops = &mlp_ops;
    m->impl = p = calloc(1, sizeof *p);
    LS_CHECK_ALLOC(p);
    LS_CALL(setup(job, data, p, &np));
    LS_CALL(alloc_buffers(p, np));
    m->n_params = np;
    m->params = model_alloc(np);
    m->grad = model_alloc(np);
    LS_CHECK_ALLOC(m->params);
    LS_CHECK_ALLOC(m->grad);
    for (size_t l = 0; l <= p->L; l++)
        p->mult[l] = strcmp(job->model.parametrization, "ntk") == 0
                         ? 1.0 / sqrt((double)fan_in(p, l)) : 1.0;
    carve(p, m->params, p->W, p->b, p->T);
    carve(p, m->grad, p->gW, p->gb, p->T);
    LS_CALL(init_params(job, p));
    if (p->T == 2) /* g₂ = g₁ at init */
        memcpy(m->params + np / 2, m->params, np / 2 * sizeof *m->params);
    if (p->centered) {
        memcpy(p->w0, m->params, np * sizeof *m->params);
        carve(p, p->w0, p->W0, p->b0, 1);
    }
    if (prune_wanted(job)) { /* pruned before step 0; w₀ of centering is the pruned net */
        LS_CALL(prune_create(job, data, m, &p->prune));
        p->mask = prune_mask(p->prune);
        if (p->centered)
            memcpy(p->w0, m->params, np * sizeof *m->params);
        memset(m->grad, 0, np * sizeof *m->grad); /* sparse layers never write pruned entries */
        LS_CALL(mlp_set_sparse(m, SPARSE_DENSITY));
    }
    if (mlp_spline_wanted(job))
        LS_CALL(mlp_spline_create(job, m, data, &p->spline));
    LS_CALL(diag_create(job, data, m, &p->diag)); /* keeps θ₀: after every change to the init */
    *out = m;
    m = NULL;
cleanup:
    mlp_destroy(&m);
    return rc;
}

/* ---- the job's rules and costs ----------------------------------------------------------- */

static const char *const mlp_inits[] = {"gaussian", "uniform", "orthogonal", NULL};

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

/* A per-layer list must name every layer: depth hidden layers and the output layer. */
static int check_list(const struct ls_reals *r, const struct ls_job *job, const char *path,
                      const char **key, char *msg, size_t len)
{
    if (r->n == 0 || r->n == job->model.depth + 1)
        return LS_OK;
    *key = path;
    snprintf(msg, len, "%s lists %lld values but the network has %lld layers (depth + 1)", path,
             (long long)r->n, (long long)(job->model.depth + 1));
    return LS_EJOB;
}

static int mlp_check(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    enum ls_loss loss;
    size_t classes = 0;
    int rc = LS_EJOB;
    if (prune_check(job, key, msg, len) != LS_OK) {
        rc = LS_EJOB;
    } else if (!in_list(job->model.init, mlp_inits)) {
        *key = "model.init";
        snprintf(msg, len, "mlp networks take init gaussian, uniform or orthogonal, not '%s'",
                 job->model.init);
    } else if (loss_find(job->train.loss, &loss) != LS_OK) {
        *key = "train.loss";
        snprintf(msg, len, "unknown train.loss '%s'", job->train.loss);
    } else if (loss_check_task(loss, data_task(job, &classes), msg, len) != LS_OK) {
        *key = "train.loss";
    } else if ((rc = check_list(&job->model.weight_scale, job, "model.weight_scale", key, msg,
                                len)) == LS_OK &&
               (rc = check_list(&job->model.bias_scale, job, "model.bias_scale", key, msg, len)) ==
                   LS_OK) {
        rc = diag_check(job, key, msg, len);
    }
    return rc == LS_OK ? mlp_spline_check(job, key, msg, len) : rc;
}

/* Rows of one training step: a mini-batch, or the whole training set. */
static double step_rows(const struct ls_job *job)
{
    int64_t b = job->train.batch_size, n = job->data.n_train;
    return (double)(b >= 1 && b < n ? b : n);
}

/* Per row and tower: 2·P flops forward, 2·P for the weight gradients and 2·(P − d·w) for the
 * input gradients (none for the first layer), P the weights of a tower; the centering forward
 * at w₀ adds 2·P. The elementwise work (bias, φ, φ′) is a few flops per unit. */
static double mlp_flops(const struct ls_job *job)
{
    struct shape s = job_shape(job);
    double B = step_rows(job), P = weights_per_tower(&s), units = (double)(s.L * s.w + s.C);
    double per = (double)s.T * (6.0 * P - 2.0 * (double)s.d * (double)s.w + 4.0 * units);
    return B * (per + (s.centered ? 2.0 * P + units : 0.0));
}

/* Params and grads, the test cache's parameter copy and w₀, activations of one chunk, outputs
 * and their gradients over the training set, the test outputs. */
static size_t mlp_memory(const struct ls_job *job)
{
    struct shape s = job_shape(job);
    double n = (double)job->data.n_train, nt = (double)job->data.n_test, np = params_of(&s);
    double chunk = (double)chunk_of(&s, (size_t)fmin(n, 1e15));
    double prune = prune_wanted(job) ? 5.0 : 0.0; /* mask, scores, GraSP's g, v, Hv */
    double sparse = prune > 0 ? chunk * (double)(s.d + s.w + s.C) : 0.0; /* sparse.h's scratch */
    double doubles = np * (3.0 + s.centered + prune) + sparse + chunk * (double)per_row(&s) + (double)wt_size(&s) +
                     (2.0 * n + nt) * (double)s.C + (double)(s.T * (s.L + 1)) * 6.0;
    double bytes = doubles * sizeof(double) + sizeof(struct ls_model) + sizeof(struct mlp) +
                   diag_memory(job, s.d, s.C);
    return bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

static const char *const mlp_vectors[] = {"params_init", "params_final", "function",
                                          "reference", "masks", "scores", "layer_density",
                                          DIAG_VECTORS NULL};

/* params_*: the whole arena (n_params), as train.c copies it. */
static size_t mlp_vector_len(const struct ls_job *job, const char *name)
{
    struct shape s = job_shape(job);
    size_t np = (size_t)fmin(params_of(&s), (double)SIZE_MAX / 2);
    if (strcmp(name, "params_init") == 0 || strcmp(name, "params_final") == 0)
        return np;
    /* at least 1, so a bad spline grid reaches mlp_check and its message */
    if (mlp_spline_vector_name(name))
        return maxz(mlp_spline_grid_len(job), 1);
    size_t n = prune_vector_len(name, np, s.L + 1);
    return n ? n : diag_vector_len(job, name);
}

/* params_* are copied by train.c; function and reference are the spline module's, masks,
 * scores and layer_density prune.c's, the diagnostics' vectors diag.c's. */
static int mlp_vector(struct ls_model *m, const struct ls_data *d, const char *name, double *out)
{
    struct mlp *p = m->impl;
    if (mlp_spline_vector_name(name))
        return mlp_spline_vector(p->spline, m, name, out);
    if (prune_vector_len(name, 1, 1) > 0)
        return p->prune ? prune_vector(p->prune, name, out) : LS_ENOTFOUND;
    return diag_vector(p->diag, m, d, name, out);
}

static const char *const mlp_metrics[] = {"train_loss",     "test_loss",   "train_accuracy",
                                          "test_accuracy",  "test_precision", "test_recall",
                                          "test_f1",        "steps",       "spline_distance",
                                          "spline_distance_max", "density", "layer_collapse",
                                          "min_layer_density", "effective_density", "synflow_r",
                                          DIAG_METRICS NULL};
static const char *const mlp_default_metrics[] = {"train_loss", "steps", NULL};

const struct ls_model_ops mlp_ops = {
    .name = "mlp",
    .metrics = mlp_metrics,
    .default_metrics = mlp_default_metrics,
    .check = mlp_check,
    .flops_per_step = mlp_flops,
    .memory = mlp_memory,
    .create = mlp_create,
    .destroy = mlp_destroy,
    .loss = mlp_loss,
    .descend = mlp_descend,
    .descend_rows = mlp_chunk_rows,
    .eval = mlp_eval,
    .vectors = mlp_vectors,
    .vector_len = mlp_vector_len,
    .vector = mlp_vector,
};
