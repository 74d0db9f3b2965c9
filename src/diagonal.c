/* diagonal.c — depth-D diagonal linear networks (Woodworth et al. 2020, "Kernel and rich
 * regimes"): β = Σ_{c<k} (u₊,c^D − u₋,c^D) elementwise, trained on the mean squared error.
 *
 * Parameters live in one arena [u₊ (k×d) | u₋ (k×d)] and gradients in a second arena with the same
 * layout, so the optimizer is one flat loop. The loss is (1/n)·Σᵢ (⟨xᵢ, β⟩ − yᵢ)² — no ½, so the
 * gradient with respect to β is (2/n)·Xᵀr. Copy c of u± is row c of its k×d block; with every
 * copy initialized at α, width k behaves like width 1 at α·k^(1/D) (docs/theory.md §1).
 *
 * The theory metrics (dist_q_alpha, dist_l1_min, dist_l2_min, mirror_residual, q_alpha) compare
 * β with reference interpolants of the point's own (X, y) from theory.h. They are opt-in: the
 * references cost a QR, a Newton solve and an LP, so they are computed only when one of them is
 * asked, once per point (the first time), and reused along the trajectory. */
#include "lazysweep/diagonal.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/rng.h"
#include "lazysweep/theory.h"

/* The reference interpolants, in the order of ref_names. */
enum { REF_Q_ALPHA, REF_L1, REF_L2, N_REFS };
static const char *const ref_names[N_REFS] = {"argmin Q_alpha^D", "min-l1", "min-l2"};

struct diag {
    size_t n, d, k; /* samples, input dimension, width (copies) */
    int D;          /* depth: the exponent */
    double *up;     /* [k][d] view of params: u₊ */
    double *um;     /* [k][d] view of params: u₋ */
    double *gup;    /* [k][d] view of grad: dL/du₊ */
    double *gum;    /* [k][d] view of grad: dL/du₋ */
    double *beta;   /* [d] end-to-end weights of the last forward */
    double *gbeta;  /* [d] dL/dβ */
    double *resid;  /* [n] Xβ − y */
    /* Theory references, built on first use (theory metrics only). */
    double alpha_eff;         /* α·k^(1/D): the width-1 scale a constant init behaves like */
    struct ls_theory *theory; /* the point's interpolation problem, or NULL */
    int theory_state;         /* 0 not built yet, 1 built, -1 refused (then metrics are NaN) */
    double *ref[N_REFS];      /* [d] reference interpolants, NULL until computed */
    int ref_state[N_REFS];    /* as theory_state */
};

/* x^e for a small integer e >= 0, by repeated multiplication: exact enough and, unlike pow(),
 * bitwise identical across libm versions. */
static double ipow(double x, int e)
{
    double p = 1.0;
    for (int i = 0; i < e; i++)
        p *= x;
    return p;
}

/* β = Σ_c (u₊,c^D − u₋,c^D). */
static void diag_forward(double *beta /* [d] */, const double *up /* [k][d] */,
                         const double *um /* [k][d] */, size_t k, size_t d, int D)
{
    memset(beta, 0, d * sizeof *beta);
    for (size_t c = 0; c < k; c++)
        for (size_t j = 0; j < d; j++)
            beta[j] += ipow(up[c * d + j], D) - ipow(um[c * d + j], D);
}

/* r = Xβ − y; returns the mean squared error (1/n)·‖r‖². */
static double mse_forward(double *r /* [n] */, const double *X /* [n][d] */,
                          const double *beta /* [d] */, const double *y /* [n] */, size_t n,
                          size_t d)
{
    memcpy(r, y, n * sizeof *r);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)d, 1.0, X, (int)d, beta, 1, -1.0, r, 1);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += r[i] * r[i];
    return s / (double)n;
}

/* dL/dβ = (2/n)·Xᵀr. The output is zeroed first because some OpenBLAS versions let NaN in the
 * output survive a multiplication by beta = 0. */
static void mse_backward(double *gbeta /* [d] */, const double *X /* [n][d] */,
                         const double *r /* [n] */, size_t n, size_t d)
{
    memset(gbeta, 0, d * sizeof *gbeta);
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, 2.0 / (double)n, X, (int)d, r, 1, 0.0,
                gbeta, 1);
}

/* Chain rule: dL/du₊ = g ⊙ D·u₊^(D−1), dL/du₋ = −g ⊙ D·u₋^(D−1); overwrites the gradients. */
static void diag_backward(double *gup /* [k][d] */, double *gum /* [k][d] */,
                          const double *up /* [k][d] */, const double *um /* [k][d] */,
                          const double *gbeta /* [d] */, size_t k, size_t d, int D)
{
    for (size_t c = 0; c < k; c++)
        for (size_t j = 0; j < d; j++) {
            size_t i = c * d + j;
            gup[i] = gbeta[j] * (double)D * ipow(up[i], D - 1);
            gum[i] = -gbeta[j] * (double)D * ipow(um[i], D - 1);
        }
}

/* data may be a mini-batch: its n rows (at most the n the model was created for, which sizes
 * the residual buffer). */
static double diag_loss(struct ls_model *m, const struct ls_data *data, int grad)
{
    struct diag *g = m->impl;
    size_t n = data->n <= g->n ? data->n : g->n;
    diag_forward(g->beta, g->up, g->um, g->k, g->d, g->D);
    double L = mse_forward(g->resid, data->X, g->beta, data->y, n, g->d);
    if (grad) {
        mse_backward(g->gbeta, data->X, g->resid, n, g->d);
        diag_backward(g->gup, g->gum, g->up, g->um, g->gbeta, g->k, g->d, g->D);
    }
    return L;
}

const double *diagonal_beta(struct ls_model *m)
{
    struct diag *g = m->impl;
    diag_forward(g->beta, g->up, g->um, g->k, g->d, g->D);
    return g->beta;
}

/* ---- theory metrics ---- */

/* The point's interpolation problem, built the first time a theory metric asks for it. */
static struct ls_theory *diag_theory(struct diag *g, const struct ls_data *data)
{
    if (g->theory_state == 0) {
        int rc = theory_create(data->X, data->y, data->n, data->d, &g->theory);
        g->theory_state = rc == LS_OK ? 1 : -1;
        if (rc != LS_OK)
            fprintf(stderr,
                    "lazysweep: theory metrics are NaN: no reference interpolants for "
                    "n = %zu, d = %zu (%s)\n",
                    data->n, data->d, ls_strerror(rc));
    }
    return g->theory;
}

static int solve_ref(struct diag *g, struct ls_theory *t, int which, struct theory_info *info)
{
    if (which == REF_Q_ALPHA)
        return theory_q_alpha(t, g->D, g->alpha_eff, g->ref[which], info);
    if (which == REF_L1)
        return theory_min_l1(t, g->ref[which], info);
    return theory_min_l2(t, g->ref[which], info);
}

/* Reference interpolant `which` [d], computed once per point; NULL (the metric NaN) when it
 * cannot be. A solve that misses its own tolerance is still used, with a message that says by
 * how much: its error is then far below the distances the metrics measure. */
static const double *diag_ref(struct diag *g, const struct ls_data *data, int which)
{
    struct theory_info info = {0};
    struct ls_theory *t = diag_theory(g, data);
    if (t == NULL || g->ref_state[which] != 0)
        return g->ref_state[which] > 0 ? g->ref[which] : NULL;
    g->ref[which] = model_alloc(g->d);
    int rc = g->ref[which] ? solve_ref(g, t, which, &info) : LS_ENOMEM;
    g->ref_state[which] = rc == LS_OK ? 1 : -1;
    if (rc != LS_OK)
        fprintf(stderr, "lazysweep: %s reference failed (%s); its metric is NaN\n",
                ref_names[which], ls_strerror(rc));
    else if (!info.converged)
        fprintf(stderr,
                "lazysweep: %s reference (D = %d, alpha = %g) missed its tolerance: "
                "feasibility %.2g, mirror residual %.2g, gap %.2g\n",
                ref_names[which], g->D, g->alpha_eff, info.feasibility, info.mirror_residual,
                info.gap);
    return g->ref_state[which] > 0 ? g->ref[which] : NULL;
}

/* ‖a − b‖ / ‖b‖ (NaN for b = 0, where no relative distance exists). */
static double rel_dist(const double *a, const double *b, size_t d)
{
    double num = 0, den = 0;
    for (size_t j = 0; j < d; j++) {
        num += (a[j] - b[j]) * (a[j] - b[j]);
        den += b[j] * b[j];
    }
    return den > 0 ? sqrt(num / den) : NAN;
}

static const char *const dist_metrics[N_REFS] = {"dist_q_alpha", "dist_l1_min", "dist_l2_min"};

/* The theory metrics of β (see the top of the file); LS_ENOTFOUND for any other name. */
static int diag_eval_theory(struct diag *g, const struct ls_data *data, const double *beta,
                            const char *name, double *out)
{
    for (int r = 0; r < N_REFS; r++)
        if (strcmp(name, dist_metrics[r]) == 0) {
            const double *ref = diag_ref(g, data, r);
            *out = ref ? rel_dist(beta, ref, g->d) : NAN;
            return LS_OK;
        }
    if (strcmp(name, "q_alpha") == 0) {
        *out = theory_Q(g->D, g->alpha_eff, beta, g->d);
        return LS_OK;
    }
    if (strcmp(name, "mirror_residual") == 0) {
        struct ls_theory *t = diag_theory(g, data);
        if (t == NULL || theory_mirror_residual(t, g->D, g->alpha_eff, beta, out) != LS_OK)
            *out = NAN;
        return LS_OK;
    }
    return LS_ENOTFOUND;
}

/* Population error for x ~ N(0, I), y = ⟨β*, x⟩ + ε: E(⟨β, x⟩ − y)² = ‖β − β*‖² + σ². */
static int diag_eval(struct ls_model *m, const struct ls_data *data, const char *name, double *out)
{
    struct diag *g = m->impl;
    const double *beta = diagonal_beta(m);
    double s = 0;
    if (strcmp(name, "population_error") == 0) {
        if (!data->beta_star)
            return LS_ENOTFOUND;
        for (size_t j = 0; j < g->d; j++)
            s += (beta[j] - data->beta_star[j]) * (beta[j] - data->beta_star[j]);
        *out = s + data->noise_std * data->noise_std;
    } else if (strcmp(name, "l1_norm") == 0) {
        for (size_t j = 0; j < g->d; j++)
            s += fabs(beta[j]);
        *out = s;
    } else if (strcmp(name, "l2_norm") == 0) {
        for (size_t j = 0; j < g->d; j++)
            s += beta[j] * beta[j];
        *out = sqrt(s);
    } else {
        return diag_eval_theory(g, data, beta, name, out);
    }
    return LS_OK;
}

static const char *const diag_vectors[] = {"beta", "params_init", "params_final", NULL};

/* beta: the predictor β (d); params_*: the arena [u₊ | u₋] (2kd). */
static size_t diag_vector_len(const struct ls_job *job, const char *name)
{
    size_t d = (size_t)job->data.dim, k = (size_t)job->model.width;
    if (strcmp(name, "beta") == 0)
        return d;
    if (strcmp(name, "params_init") == 0 || strcmp(name, "params_final") == 0)
        return 2 * k * d;
    return 0;
}

static int diag_vector(struct ls_model *m, const struct ls_data *data, const char *name,
                       double *out)
{
    struct diag *g = m->impl;
    (void)data;
    if (strcmp(name, "beta") != 0)
        return LS_ENOTFOUND;
    memcpy(out, diagonal_beta(m), g->d * sizeof *out);
    return LS_OK;
}

/* "constant": every u = α. "random": u = α·|z|, z the normals of a stream keyed by (width, dim)
 * only — u₊ takes draws 0..kd−1 and u₋ draws kd..2kd−1 — so every α and depth of one seed starts
 * from the same unscaled weights. */
static int diag_init(const struct ls_job *job, double *params /* [2][k][d] */, size_t k, size_t d)
{
    double alpha = job->model.init_scale;
    size_t np = 2 * k * d;
    if (strcmp(job->model.init, "random") == 0) {
        struct ls_rng r;
        int64_t shape[2] = {(int64_t)k, (int64_t)d};
        rng_init(&r, rng_key(job->seed, job->point_seed, "init.diagonal", shape, 2));
        rng_normals(&r, params, np);
        for (size_t i = 0; i < np; i++)
            params[i] = alpha * fabs(params[i]);
    } else if (strcmp(job->model.init, "constant") == 0 || job->model.init[0] == '\0') {
        for (size_t i = 0; i < np; i++)
            params[i] = alpha;
    } else {
        return LS_EINVAL;
    }
    return LS_OK;
}

static void diag_destroy(struct ls_model **mp)
{
    if (!mp || !*mp)
        return;
    struct ls_model *m = *mp;
    struct diag *g = m->impl;
    if (g) {
        theory_destroy(&g->theory);
        for (int r = 0; r < N_REFS; r++)
            free(g->ref[r]);
        free(g->beta);
        free(g->gbeta);
        free(g->resid);
        free(g);
    }
    model_release(mp);
}

/* Sizes checked once here, so the kernels can cast to int for BLAS without a check. */
static int diag_sizes(const struct ls_job *job, const struct ls_data *data, size_t *k)
{
    if (job->model.width < 1 || job->model.depth < 2 || job->model.depth > INT_MAX)
        return LS_EINVAL;
    if (!(job->model.init_scale > 0) || !isfinite(job->model.init_scale))
        return LS_EINVAL;
    if (data->n < 1 || data->d < 1 || data->n > INT_MAX || data->d > INT_MAX)
        return LS_EBLAS;
    *k = (size_t)job->model.width;
    if (*k > SIZE_MAX / 2 / sizeof(double) / data->d)
        return LS_ENOMEM;
    return LS_OK;
}

static int diag_create(const struct ls_job *job, const struct ls_data *data, struct ls_model **out)
{
    int rc = LS_OK;
    size_t k = 0;
    struct ls_model *m = NULL;
    struct diag *g = NULL;
    *out = NULL;
    LS_CALL(diag_sizes(job, data, &k));
    m = calloc(1, sizeof *m);
    LS_CHECK_ALLOC(m);
    m->ops = &diagonal_ops;
    m->n_params = 2 * k * data->d;
    m->params = model_alloc(m->n_params);
    m->grad = model_alloc(m->n_params);
    m->impl = g = calloc(1, sizeof *g);
    LS_CHECK_ALLOC(m->params);
    LS_CHECK_ALLOC(m->grad);
    LS_CHECK_ALLOC(g);
    *g = (struct diag){.n = data->n, .d = data->d, .k = k, .D = (int)job->model.depth};
    g->alpha_eff = job->model.init_scale * pow((double)k, 1.0 / (double)g->D);
    g->up = m->params;
    g->um = m->params + k * data->d;
    g->gup = m->grad;
    g->gum = m->grad + k * data->d;
    g->beta = model_alloc(data->d);
    g->gbeta = model_alloc(data->d);
    g->resid = model_alloc(data->n);
    LS_CHECK_ALLOC(g->beta);
    LS_CHECK_ALLOC(g->gbeta);
    LS_CHECK_ALLOC(g->resid);
    LS_CALL(diag_init(job, m->params, k, data->d));
    *out = m;
    m = NULL;
cleanup:
    diag_destroy(&m);
    return rc;
}

/* Only data that come with a ground truth β* give a population error in closed form. */
static const char *const kinds_with_beta_star[] = {"sparse_regression", NULL};

/* Does the job list any of these metrics? */
static int wants_any(const struct ls_job *job, const char *const *names)
{
    for (size_t i = 0; i < job->n_metrics; i++)
        for (const char *const *n = names; *n; n++)
            if (strcmp(job->metrics[i], *n) == 0)
                return 1;
    return 0;
}

/* Metrics that need the interpolation problem (n < d), and those that need the single scale α
 * of u±(0) = α that Q_α^D is defined for. */
static const char *const need_problem[] = {"dist_q_alpha", "dist_l1_min", "dist_l2_min",
                                           "mirror_residual", NULL};
static const char *const need_alpha[] = {"dist_q_alpha", "mirror_residual", "q_alpha", NULL};

static int check_theory(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    if (wants_any(job, need_problem) && job->data.n_train >= job->data.dim) {
        *key = "data.n_train";
        snprintf(msg, len,
                 "the theory metrics compare with interpolants of an underdetermined "
                 "problem: they need data.n_train (%lld) < data.dim (%lld)",
                 (long long)job->data.n_train, (long long)job->data.dim);
        return LS_EJOB;
    }
    if (wants_any(job, need_alpha) && strcmp(job->model.init, "constant") != 0) {
        *key = "model.init";
        snprintf(msg, len,
                 "dist_q_alpha, mirror_residual and q_alpha are defined for init "
                 "'constant' (u+ = u- = alpha at start), not '%s'",
                 job->model.init);
        return LS_EJOB;
    }
    return LS_OK;
}

static int diag_check(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    int known = 0;
    for (const char *const *s = kinds_with_beta_star; *s; s++)
        known |= strcmp(*s, job->data.kind) == 0;
    if (job->model.depth < 2) {
        *key = "model.depth";
        snprintf(msg, len, "diagonal networks need depth >= 2");
    } else if (job->model.sparsity != 0) {
        *key = "model.sparsity";
        snprintf(msg, len, "diagonal networks are not prunable");
    } else if (job->model.width < 1) {
        *key = "model.width";
        snprintf(msg, len, "diagonal networks need width >= 1");
    } else if (strcmp(job->model.init, "constant") != 0 && strcmp(job->model.init, "random") != 0 &&
               job->model.init[0] != '\0') {
        *key = "model.init";
        snprintf(msg, len, "diagonal networks take init 'constant' or 'random', not '%s'",
                 job->model.init);
    } else if (!known) {
        *key = "data.kind";
        snprintf(msg, len,
                 "diagonal networks need data with a ground truth beta_star "
                 "(sparse_regression), not '%s'",
                 job->data.kind);
    } else {
        return check_theory(job, key, msg, len);
    }
    return LS_EJOB;
}

/* Two matrix-vector products (2·n·d flops each) plus the elementwise powers and chain rule. */
static double diag_flops(const struct ls_job *job)
{
    double n = (double)job->data.n_train, d = (double)job->data.dim;
    double k = (double)job->model.width, D = (double)job->model.depth;
    return 4.0 * n * d + 2.0 * k * d * (D + 3.0);
}

/* Params and grads (2kd each), β and dL/dβ (d each), residuals (n); the data are data_memory's. */
static size_t diag_memory(const struct ls_job *job)
{
    /* In double, so absurd sizes saturate instead of wrapping around and passing the check. */
    double n = (double)job->data.n_train, d = (double)job->data.dim, k = (double)job->model.width;
    double bytes =
        (4 * k * d + 2 * d + n) * sizeof(double) + sizeof(struct ls_model) + sizeof(struct diag);
    /* The theory references: three n×d copies (X, its QR, the Newton QR), scratch and the three
     * interpolants, and GLPK's n×2d constraint matrix at about 32 bytes an entry. */
    if (wants_any(job, need_problem))
        bytes += (3 * n * d + 12 * d + 6 * n) * sizeof(double) + 2 * n * d * 32;
    return bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

static const char *const diag_metrics[] = {
    "train_loss",  "population_error", "l1_norm",         "l2_norm", "steps", "dist_q_alpha",
    "dist_l1_min", "dist_l2_min",      "mirror_residual", "q_alpha", NULL};
/* The theory metrics are opt-in: listed only when the job asks for them. */
static const char *const diag_default_metrics[] = {
    "train_loss", "population_error", "l1_norm", "l2_norm", "steps", NULL};

const struct ls_model_ops diagonal_ops = {
    .name = "diagonal",
    .metrics = diag_metrics,
    .default_metrics = diag_default_metrics,
    .check = diag_check,
    .flops_per_step = diag_flops,
    .memory = diag_memory,
    .create = diag_create,
    .destroy = diag_destroy,
    .loss = diag_loss,
    .eval = diag_eval,
    .vectors = diag_vectors,
    .vector_len = diag_vector_len,
    .vector = diag_vector,
};
