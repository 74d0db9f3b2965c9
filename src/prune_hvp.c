/* prune_hvp.c — the exact Hessian-vector product of an mlp's training loss, for GraSP.
 *
 * Forward-over-reverse (Pearlmutter's R-operator): the forward pass carries, beside every
 * activation a, its directional derivative Ra along the parameter direction v; the backward pass
 * carries, beside every gradient, its directional derivative. The derivative of the gradient
 * along v is H·v, exact up to rounding (no step size). With z = mult·A·Wᵀ + b, a = φ(z):
 *   Rz = mult·(RA·Wᵀ + A·Vᵂᵀ) + Vᵇ,   Ra = φ′(z)·Rz
 *   dA = mult·dZ·W,                   R(dA) = mult·(R(dZ)·W + dZ·Vᵂ)
 *   dZ = dA ⊙ φ′(z),                  R(dZ) = R(dA) ⊙ φ′(z) + dA ⊙ φ″(z)·Rz
 *   g_W = mult·dZᵀ·A,                 (Hv)_W = mult·(R(dZ)ᵀ·A + dZᵀ·RA)
 * φ′ and φ″ are read off a = φ(z) as the family does (relu: a > 0; tanh: 1 − a², and
 * φ″·Rz = −2a·Ra). At the output f = c·(Σ_t sign_t·g_t − h₀) and the loss's own Hessian in f
 * gives R(dL/df): mse 2/N·Rf, bce σ(1 − σ)/N·Rf, cross-entropy (p ⊙ Rf − p·(pᵀRf))/N.
 * Rows run in chunks of HVP_ROWS (the losses allowed are means over rows). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/loss.h"
#include "lazysweep/mlp.h"
#include "lazysweep/prune.h"

#define HVP_ROWS 256
#define MAX_LAYERS 10002 /* model.depth <= 10000, and the output layer */

enum hact { H_RELU, H_LEAKY, H_TANH, H_LINEAR };

struct hnet {
    size_t T, L1, C, wide; /* towers, linear layers, outputs, widest layer */
    enum hact act;
    double slope, c, sign[2];
    enum ls_loss loss;
    struct ls_model *m;
    double *A, *RA;              /* [T][L1][HVP_ROWS][wide] activations and their tangents */
    double *dZ, *RdZ, *dA, *RdA; /* [HVP_ROWS][wide] backward buffers */
    double *f, *Rf, *df, *Rdf;   /* [HVP_ROWS][C] */
};

static double *slot(const struct hnet *h, double *base, size_t t, size_t l)
{
    return base + (t * h->L1 + l) * HVP_ROWS * h->wide;
}

static int hnet_init(const struct ls_job *job, struct ls_model *m, struct hnet *h)
{
    static const char *const acts[] = {"relu", "leaky_relu", "tanh", "linear"};
    *h = (struct hnet){.T = mlp_n_towers(m), .L1 = mlp_n_layers(m), .C = mlp_n_outputs(m), .m = m};
    for (int i = 0; i < 4; i++)
        if (strcmp(job->model.activation, acts[i]) == 0)
            h->act = (enum hact)i;
    if (loss_find(job->train.loss, &h->loss) != LS_OK || !loss_decomposable(h->loss))
        return LS_EINVAL;
    h->slope = h->act == H_LEAKY ? job->model.leaky_slope : 0.0;
    h->c = strcmp(job->model.scale_mode, "output") == 0 ? job->model.init_scale : 1.0;
    h->sign[0] = h->T == 2 ? sqrt(0.5) : 1.0;
    h->sign[1] = -sqrt(0.5);
    for (size_t l = 0; l < h->L1; l++) {
        struct mlp_layer y;
        mlp_layer(m, 0, l, &y);
        h->wide = h->wide > y.out ? h->wide : y.out;
        h->wide = h->wide > y.in ? h->wide : y.in;
    }
    size_t acts_n = h->T * h->L1 * HVP_ROWS * h->wide, buf = HVP_ROWS * h->wide;
    h->A = model_alloc(2 * acts_n + 4 * buf + 4 * HVP_ROWS * h->C);
    if (!h->A)
        return LS_ENOMEM;
    h->RA = h->A + acts_n;
    h->dZ = h->RA + acts_n;
    h->RdZ = h->dZ + buf;
    h->dA = h->RdZ + buf;
    h->RdA = h->dA + buf;
    h->f = h->RdA + buf;
    h->Rf = h->f + HVP_ROWS * h->C;
    h->df = h->Rf + HVP_ROWS * h->C;
    h->Rdf = h->df + HVP_ROWS * h->C;
    return LS_OK;
}

/* φ′ read off the activation a. */
static double dphi(const struct hnet *h, double a)
{
    if (h->act == H_RELU || h->act == H_LEAKY)
        return a > 0 ? 1.0 : h->slope;
    return h->act == H_TANH ? 1.0 - a * a : 1.0;
}

/* Layer l of tower t forward on n rows: A = φ(Z), RA = φ′·RZ (no φ on the output layer). */
static void layer_forward(struct hnet *h, size_t t, size_t l, const double *X, size_t n,
                          const double *v)
{
    struct mlp_layer y;
    mlp_layer(h->m, t, l, &y);
    const double *Ain = l ? slot(h, h->A, t, l - 1) : X,
                 *RAin = l ? slot(h, h->RA, t, l - 1) : NULL;
    size_t in = y.in, out = y.out, ldi = l ? h->wide : in;
    double *Z = slot(h, h->A, t, l), *RZ = slot(h, h->RA, t, l);
    const double *VW = v + (y.W - h->m->params), *Vb = y.b ? v + (y.b - h->m->params) : NULL;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)out, (int)in, y.mult, Ain,
                (int)ldi, y.W, (int)in, 0.0, Z, (int)h->wide);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)out, (int)in, y.mult, Ain,
                (int)ldi, VW, (int)in, 0.0, RZ, (int)h->wide);
    if (RAin)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)out, (int)in, y.mult,
                    RAin, (int)h->wide, y.W, (int)in, 1.0, RZ, (int)h->wide);
    int hidden = l + 1 < h->L1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < out; j++) {
            double *z = &Z[i * h->wide + j], *rz = &RZ[i * h->wide + j];
            *z += y.b ? y.b[j] : 0.0;
            *rz += Vb ? Vb[j] : 0.0;
            if (!hidden || h->act == H_LINEAR)
                continue;
            if (h->act == H_TANH)
                *z = tanh(*z);
            else
                *z = *z > 0 ? *z : h->slope * *z;
            *rz *= dphi(h, *z);
        }
}

/* dL/df and its tangent R(dL/df) on n rows of N, from f and Rf. */
static void output_grads(struct hnet *h, const double *y, size_t n, size_t N)
{
    size_t C = h->C;
    loss_value(h->loss, h->f, y, n, C, N, h->df);
    for (size_t i = 0; i < n; i++) {
        const double *f = h->f + i * C, *rf = h->Rf + i * C;
        double *out = h->Rdf + i * C;
        if (h->loss == LS_LOSS_MSE) {
            for (size_t k = 0; k < C; k++)
                out[k] = 2.0 * rf[k] / (double)N;
        } else if (h->loss == LS_LOSS_BCE) {
            double s = 1.0 / (1.0 + exp(-f[0]));
            out[0] = s * (1.0 - s) * rf[0] / (double)N;
        } else { /* cross-entropy: p = softmax(f) */
            double mx = f[0], sum = 0, pr = 0;
            for (size_t k = 1; k < C; k++)
                mx = fmax(mx, f[k]);
            for (size_t k = 0; k < C; k++)
                sum += exp(f[k] - mx);
            for (size_t k = 0; k < C; k++)
                pr += exp(f[k] - mx) / sum * rf[k];
            for (size_t k = 0; k < C; k++)
                out[k] = exp(f[k] - mx) / sum * (rf[k] - pr) / (double)N;
        }
    }
}

/* dZ = dA ⊙ φ′, R(dZ) = R(dA) ⊙ φ′ + dA ⊙ φ″·Rz at the hidden layer below (a = A, Ra = RA). */
static void act_back(struct hnet *h, const double *a, const double *ra, size_t n, size_t w)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < w; j++) {
            size_t k = i * h->wide + j;
            double d = dphi(h, a[k]), curv = h->act == H_TANH ? -2.0 * a[k] * ra[k] : 0.0;
            h->RdZ[k] = h->RdA[k] * d + h->dA[k] * curv;
            h->dZ[k] = h->dA[k] * d;
        }
}

/* Backward through layer l of tower t (dZ, RdZ hold its output's gradient and tangent). */
static void layer_backward(struct hnet *h, size_t t, size_t l, const double *X, size_t n,
                           const double *v, double *g, double *hv)
{
    struct mlp_layer y;
    mlp_layer(h->m, t, l, &y);
    const double *A = l ? slot(h, h->A, t, l - 1) : X, *RA = l ? slot(h, h->RA, t, l - 1) : NULL;
    int in = (int)y.in, out = (int)y.out, ldi = l ? (int)h->wide : in, w = (int)h->wide;
    size_t oW = (size_t)(y.W - h->m->params), ob = y.b ? (size_t)(y.b - h->m->params) : 0;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, (int)n, y.mult, h->dZ, w, A, ldi,
                1.0, g + oW, in);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, (int)n, y.mult, h->RdZ, w, A, ldi,
                1.0, hv + oW, in);
    if (RA)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, (int)n, y.mult, h->dZ, w, RA,
                    ldi, 1.0, hv + oW, in);
    for (size_t i = 0; y.b && i < n; i++)
        for (int j = 0; j < out; j++) {
            g[ob + (size_t)j] += h->dZ[i * h->wide + (size_t)j];
            hv[ob + (size_t)j] += h->RdZ[i * h->wide + (size_t)j];
        }
    if (l == 0)
        return;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, in, out, y.mult, h->dZ, w, y.W,
                in, 0.0, h->dA, w);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, in, out, y.mult, h->RdZ, w, y.W,
                in, 0.0, h->RdA, w);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, in, out, y.mult, h->dZ, w,
                v + oW, in, 1.0, h->RdA, w);
    act_back(h, slot(h, h->A, t, l - 1), slot(h, h->RA, t, l - 1), n, y.in);
}

/* One chunk of n rows (of N in all): forward with tangents, then backward per tower. */
static void hvp_chunk(struct hnet *h, const double *X, const double *y, size_t n, size_t N,
                      const double *v, double *g, double *hv)
{
    size_t C = h->C;
    memset(h->Rf, 0, n * C * sizeof *h->Rf);
    for (size_t t = 0; t < h->T; t++) {
        for (size_t l = 0; l < h->L1; l++)
            layer_forward(h, t, l, X, n, v);
        const double *ro = slot(h, h->RA, t, h->L1 - 1);
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < C; k++)
                h->Rf[i * C + k] += h->c * h->sign[t] * ro[i * h->wide + k];
    }
    mlp_predict(h->m, X, n, h->f); /* f itself, centering included */
    output_grads(h, y, n, N);
    for (size_t t = 0; t < h->T; t++) {
        double gs = h->c * h->sign[t];
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < C; k++) {
                h->dZ[i * h->wide + k] = gs * h->df[i * C + k];
                h->RdZ[i * h->wide + k] = gs * h->Rdf[i * C + k];
            }
        for (size_t l = h->L1; l-- > 0;)
            layer_backward(h, t, l, X, n, v, g, hv);
    }
}

int prune_hvp(const struct ls_job *job, struct ls_model *m, const struct ls_data *d,
              const double *v, double *g, double *hv)
{
    struct hnet h;
    if (d->n == 0 || !d->X || mlp_n_layers(m) > MAX_LAYERS)
        return LS_EINVAL;
    int rc = hnet_init(job, m, &h);
    if (rc != LS_OK) {
        free(h.A);
        return rc;
    }
    memset(g, 0, m->n_params * sizeof *g);
    memset(hv, 0, m->n_params * sizeof *hv);
    for (size_t r = 0; r < d->n; r += HVP_ROWS) {
        size_t k = d->n - r < HVP_ROWS ? d->n - r : HVP_ROWS;
        hvp_chunk(&h, d->X + r * d->d, d->y + r, k, d->n, v, g, hv);
    }
    free(h.A);
    return LS_OK;
}
