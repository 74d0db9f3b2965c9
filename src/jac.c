/* jac.c — the diagnostics' passes through an mlp network (jac.h): plain CBLAS products on
 * buffers of their own, written for clarity rather than for the last few percent (they run only
 * at logged steps, on a probe set or a few mini-batches). */
#include "lazysweep/jac.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"

static size_t fan_in(const struct jac *j, size_t l)
{
    return l == 0 ? j->s.d : j->s.width;
}
static size_t fan_out(const struct jac *j, size_t l)
{
    return l == j->s.L ? j->s.C : j->s.width;
}

size_t jac_layer_params(const struct jac *j, size_t l)
{
    return fan_in(j, l) * fan_out(j, l) + (j->s.bias ? fan_out(j, l) : 0);
}

size_t jac_offset(const struct jac *j, size_t t, size_t l)
{
    size_t off = 0;
    for (size_t k = 0; k <= j->s.L; k++)
        off += (k < l ? 1 + t : t) * jac_layer_params(j, k);
    return off;
}

void jac_views(const struct jac *j, const double *theta, size_t t, size_t l, const double **W,
               const double **b)
{
    *W = theta + jac_offset(j, t, l);
    *b = j->s.bias ? *W + fan_in(j, l) * fan_out(j, l) : NULL;
}

static double *act_view(const struct jac *j, size_t t, size_t l)
{
    return j->acts + (t * j->s.L + l) * j->cap * j->s.width;
}

/* Input of layer l of tower t: X for the first. */
static const double *input_of(const struct jac *j, size_t t, size_t l, const double *X)
{
    return l == 0 ? X : act_view(j, t, l - 1);
}

void jac_destroy(struct jac **jp)
{
    if (!jp || !*jp)
        return;
    struct jac *j = *jp;
    free(j->acts);
    free(j->out);
    free(j->h0);
    free(j->f);
    free(j->delta);
    free(j->tan[0]);
    free(j->tan[1]);
    free(j->ones);
    free(j);
    *jp = NULL;
}

int jac_create(const struct ls_model *m, size_t cap, struct jac **out)
{
    struct jac *j = calloc(1, sizeof *j);
    *out = NULL;
    if (!j)
        return LS_ENOMEM;
    mlp_get_spec(m, &j->s);
    j->cap = cap;
    j->n_params = m->n_params;
    j->wide = j->s.width > j->s.C ? j->s.width : j->s.C;
    const struct mlp_spec *s = &j->s;
    j->acts = model_alloc(s->T * s->L * cap * s->width);
    j->out = model_alloc(s->T * cap * s->C);
    j->h0 = model_alloc(cap * s->C);
    j->f = model_alloc(cap * s->C);
    j->delta = model_alloc((s->L + 1) * cap * j->wide);
    j->tan[0] = model_alloc(cap * j->wide);
    j->tan[1] = model_alloc(cap * j->wide);
    j->ones = model_alloc(cap);
    if (!j->acts || !j->out || !j->h0 || !j->f || !j->delta || !j->tan[0] || !j->tan[1] ||
        !j->ones) {
        jac_destroy(&j);
        return LS_ENOMEM;
    }
    for (size_t i = 0; i < cap; i++)
        j->ones[i] = 1.0;
    *out = j;
    return LS_OK;
}

/* Z = mult·A·Wᵀ + 1·bᵀ. */
static void linear(const struct jac *j, size_t l, double *Z, const double *A, const double *W,
                   const double *b, size_t n)
{
    int in = (int)fan_in(j, l), o = (int)fan_out(j, l);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, o, in, j->s.mult[l], A, in, W, in,
                0.0, Z, o);
    for (size_t i = 0; b && i < n; i++)
        for (size_t k = 0; k < (size_t)o; k++)
            Z[i * (size_t)o + k] += b[k];
}

/* φ in place, and φ′ read off a = φ(z) (a > 0 ⇔ z > 0 for the ReLUs; tanh′ = 1 − a²), as the
 * model's own passes do, so both take the same one-sided derivative at z = 0. */
static void phi(const struct jac *j, double *Z, size_t n)
{
    double k = j->s.act == 0 ? 0.0 : j->s.slope;
    if (j->s.act == 0 || j->s.act == 1)
        for (size_t i = 0; i < n; i++)
            Z[i] = Z[i] > 0 ? Z[i] : k * Z[i];
    else if (j->s.act == 2)
        for (size_t i = 0; i < n; i++)
            Z[i] = tanh(Z[i]);
}

static double dphi(const struct jac *j, double a)
{
    if (j->s.act == 0 || j->s.act == 1)
        return a > 0 ? 1.0 : (j->s.act == 0 ? 0.0 : j->s.slope);
    return j->s.act == 2 ? 1.0 - a * a : 1.0;
}

/* Tower t at the arena theta's tower `tw` on X: activations into tower t's buffers, raw
 * outputs into out[t]. */
static void tower(struct jac *j, const double *theta, size_t tw, size_t t, const double *X,
                  size_t n)
{
    const double *A = X;
    for (size_t l = 0; l <= j->s.L; l++) {
        const double *W, *b;
        jac_views(j, theta, tw, l, &W, &b);
        double *Z = l == j->s.L ? j->out + t * j->cap * j->s.C : act_view(j, t, l);
        linear(j, l, Z, A, W, b, n);
        if (l < j->s.L)
            phi(j, Z, n * j->s.width);
        A = Z;
    }
}

void jac_forward(struct jac *j, const double *theta, const double *theta0, const double *X,
                 size_t n)
{
    size_t nc = n * j->s.C;
    if (j->s.centered) {
        tower(j, theta0, 0, 0, X, n);
        memcpy(j->h0, j->out, nc * sizeof *j->h0);
    }
    for (size_t t = 0; t < j->s.T; t++)
        tower(j, theta, t, t, X, n);
    for (size_t i = 0; i < nc; i++) {
        double s = 0;
        for (size_t t = 0; t < j->s.T; t++)
            s += j->s.sign[t] * j->out[t * j->cap * j->s.C + i];
        if (j->s.centered)
            s -= j->h0[i];
        j->f[i] = j->s.c * s;
    }
}

static double *delta_view(const struct jac *j, size_t l)
{
    return j->delta + l * j->cap * j->wide;
}

/* grad_W += mult·Δᵀ·A, grad_b += Δᵀ·1 for layer l of tower t. */
static void add_layer_grad(const struct jac *j, size_t t, size_t l, const double *A, size_t n,
                           double *grad)
{
    int in = (int)fan_in(j, l), o = (int)fan_out(j, l);
    double *gW = grad + jac_offset(j, t, l);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o, in, (int)n, j->s.mult[l],
                delta_view(j, l), o, A, in, 1.0, gW, in);
    if (j->s.bias)
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, o, 1.0, delta_view(j, l), o, j->ones, 1, 1.0,
                    gW + (size_t)in * (size_t)o, 1);
}

void jac_backward(struct jac *j, const double *theta, size_t t, const double *X, size_t n,
                  const double *dF, double *grad)
{
    double gain = j->s.c * j->s.sign[t];
    size_t C = j->s.C, w = j->s.width;
    double *D = delta_view(j, j->s.L);
    for (size_t i = 0; i < n * C; i++)
        D[i] = gain * dF[i];
    for (size_t l = j->s.L; l > 0; l--) {
        const double *W, *b;
        jac_views(j, theta, t, l, &W, &b);
        double *Dp = delta_view(j, l - 1);
        const double *A = act_view(j, t, l - 1);
        int o = (int)fan_out(j, l);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)w, o, j->s.mult[l],
                    delta_view(j, l), o, W, (int)w, 0.0, Dp, (int)w);
        for (size_t i = 0; i < n * w; i++)
            Dp[i] *= dphi(j, A[i]);
    }
    for (size_t l = 0; grad && l <= j->s.L; l++)
        add_layer_grad(j, t, l, input_of(j, t, l, X), n, grad);
}

void jac_input_grams(const struct jac *j, size_t t, const double *X, size_t n, double *S)
{
    for (size_t l = 0; l <= j->s.L; l++) {
        double *Sl = S + l * n * n, m = j->s.mult[l];
        int in = (int)fan_in(j, l);
        for (size_t i = 0; i < n * n; i++)
            Sl[i] = j->s.bias ? 1.0 : 0.0;
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, in, m * m,
                    input_of(j, t, l, X), in, 1.0, Sl, (int)n);
    }
}

void jac_gram_add(const struct jac *j, size_t n, const double *S, double *K, double *tmp)
{
    for (size_t l = 0; l <= j->s.L; l++) {
        int o = (int)fan_out(j, l);
        const double *Sl = S + l * n * n;
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, o, 1.0, delta_view(j, l), o,
                    0.0, tmp, (int)n);
        for (size_t i = 0; i < n; i++)
            for (size_t k = i; k < n; k++)
                K[i * n + k] += tmp[i * n + k] * Sl[i * n + k];
    }
}

void jac_mirror(double *K, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < i; k++)
            K[i * n + k] = K[k * n + i];
}

/* One layer of the tangent pass: Ż = mult·(Ȧ·W₀ᵀ + A·Vᵀ) + v_b (Ȧ = NULL for the input). */
static void tangent_layer(const struct jac *j, size_t l, double *Zd, const double *Ad,
                          const double *A, const double *W0, const double *V, const double *vb,
                          size_t n)
{
    int in = (int)fan_in(j, l), o = (int)fan_out(j, l);
    double m = j->s.mult[l];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, o, in, m, A, in, V, in, 0.0, Zd,
                o);
    if (Ad)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, o, in, m, Ad, in, W0, in, 1.0,
                    Zd, o);
    for (size_t i = 0; vb && i < n; i++)
        for (size_t k = 0; k < (size_t)o; k++)
            Zd[i * (size_t)o + k] += vb[k];
}

void jac_jvp(struct jac *j, const double *theta0, const double *v, const double *X, size_t n,
             double *out)
{
    size_t w = j->s.width, C = j->s.C;
    memset(out, 0, n * C * sizeof *out);
    for (size_t t = 0; t < j->s.T; t++) {
        const double *A = X, *Ad = NULL;
        for (size_t l = 0; l <= j->s.L; l++) {
            const double *W0, *b0, *V, *vb;
            jac_views(j, theta0, t, l, &W0, &b0);
            jac_views(j, v, t, l, &V, &vb);
            double *Zd = j->tan[l % 2];
            tangent_layer(j, l, Zd, Ad, A, W0, V, vb, n);
            if (l == j->s.L) {
                double g = j->s.c * j->s.sign[t];
                for (size_t i = 0; i < n * C; i++)
                    out[i] += g * Zd[i];
                break;
            }
            double *Z = act_view(j, t, l);
            linear(j, l, Z, A, W0, b0, n);
            phi(j, Z, n * w);
            for (size_t i = 0; i < n * w; i++)
                Zd[i] *= dphi(j, Z[i]);
            A = Z;
            Ad = Zd;
        }
    }
}
