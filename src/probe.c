/* probe.c — lazy-vs-rich diagnostics on a probe set (probe.h): weight, activation and kernel
 * change, kernel alignment, the linearization gap and per-sample gradient confusion. All
 * buffers are sized at create; probe_compute allocates nothing. */
#include "lazysweep/probe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/jac.h"
#include "lazysweep/loss.h"
#include "lazysweep/rng.h"

struct probe {
    struct jac *j;
    unsigned want;
    size_t P, np, hidden; /* probe rows, parameters, T·L·width hidden units */
    const double *theta0; /* [np] */
    size_t *idx;          /* [P] rows of the training set */
    double *X, *y;        /* [P][d], [P] */
    double *Y;            /* [P][P] target kernel YYᵀ */
    double *f0, *fd;      /* [P][C] f(θ₀); scratch */
    unsigned char *pat0;  /* [hidden][P] on/off at θ₀ */
    double *K0, *K, *G;   /* [P][P] */
    double *S, *tmp;      /* [L+1][P][P], [P][P] */
    double *dF;           /* [P][C] */
    double *v;            /* [np] θ − θ₀ */
};

size_t probe_size(const struct probe *p)
{
    return p->P;
}
const size_t *probe_index(const struct probe *p)
{
    return p->idx;
}
const double *probe_kernel(const struct probe *p)
{
    return p->K;
}
const double *probe_sample_gram(const struct probe *p)
{
    return p->G;
}

void probe_destroy(struct probe **pp)
{
    if (!pp || !*pp)
        return;
    struct probe *p = *pp;
    jac_destroy(&p->j);
    free(p->idx);
    free(p->X);
    free(p->y);
    free(p->Y);
    free(p->f0);
    free(p->fd);
    free(p->pat0);
    free(p->K0);
    free(p->K);
    free(p->G);
    free(p->S);
    free(p->tmp);
    free(p->dF);
    free(p->v);
    free(p);
    *pp = NULL;
}

/* P distinct training rows: the first P of a Fisher–Yates shuffle from the top. */
static int draw_rows(const struct ls_job *job, size_t n, size_t P, size_t *idx)
{
    size_t *perm = malloc(n * sizeof *perm);
    if (!perm)
        return LS_ENOMEM;
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    int64_t shape[2] = {(int64_t)n, (int64_t)P};
    struct ls_rng r;
    rng_init(&r, rng_key(job->seed, job->point_seed, "diag.probe", shape, 2));
    for (size_t k = 0; k < P; k++) {
        size_t s = k + (size_t)rng_below(&r, n - k), t = perm[k];
        perm[k] = perm[s];
        perm[s] = t;
        idx[k] = perm[k];
    }
    free(perm);
    return LS_OK;
}

/* YYᵀ with Y = y, 2y − 1 or one-hot(y) by the task. */
static void target_kernel(const struct probe *p)
{
    const struct mlp_spec *s = &p->j->s;
    for (size_t i = 0; i < p->P; i++)
        for (size_t k = 0; k < p->P; k++) {
            double yi = p->y[i], yk = p->y[k], v;
            if (s->task == LS_TASK_CLASSES)
                v = yi == yk ? 1.0 : 0.0;
            else if (s->task == LS_TASK_BINARY)
                v = (2 * yi - 1) * (2 * yk - 1);
            else
                v = yi * yk;
            p->Y[i * p->P + k] = v;
        }
}

static void pattern(const struct probe *p, unsigned char *out)
{
    const struct jac *j = p->j;
    size_t w = j->s.width, P = p->P;
    for (size_t t = 0; t < j->s.T; t++)
        for (size_t l = 0; l < j->s.L; l++) {
            const double *a = j->acts + (t * j->s.L + l) * j->cap * w;
            unsigned char *o = out + (t * j->s.L + l) * P * w;
            for (size_t i = 0; i < P * w; i++)
                o[i] = a[i] > 0;
        }
}

static int alloc_all(struct probe *p, size_t d, size_t C, size_t L)
{
    size_t P = p->P, PP = P * P;
    p->idx = malloc(P * sizeof *p->idx);
    p->X = model_alloc(P * d);
    p->y = model_alloc(P);
    p->Y = model_alloc(PP);
    p->f0 = model_alloc(P * C);
    p->fd = model_alloc(P * C);
    p->pat0 = malloc(p->hidden * P + 1);
    p->K0 = model_alloc(PP);
    p->K = model_alloc(PP);
    p->G = model_alloc(PP);
    p->S = model_alloc((L + 1) * PP);
    p->tmp = model_alloc(PP);
    p->dF = model_alloc(P * C);
    p->v = model_alloc(p->np);
    if (!p->idx || !p->X || !p->y || !p->Y || !p->f0 || !p->fd || !p->pat0 || !p->K0 || !p->K ||
        !p->G || !p->S || !p->tmp || !p->dF || !p->v)
        return LS_ENOMEM;
    return LS_OK;
}

int probe_create(const struct ls_job *job, const struct ls_data *data, const struct ls_model *m,
                 const double *theta0, unsigned want, struct probe **out)
{
    int rc = LS_OK;
    struct probe *p = calloc(1, sizeof *p);
    *out = NULL;
    LS_CHECK_ALLOC(p);
    p->P = (size_t)job->diag.probe_size;
    if (p->P > data->n || !data->X) {
        rc = LS_EINVAL;
        goto cleanup;
    }
    p->want = want;
    p->theta0 = theta0;
    p->np = m->n_params;
    LS_CALL(jac_create(m, p->P, &p->j));
    const struct mlp_spec *s = &p->j->s;
    p->hidden = s->T * s->L * s->width;
    LS_CALL(alloc_all(p, s->d, s->C, s->L));
    LS_CALL(draw_rows(job, data->n, p->P, p->idx));
    for (size_t i = 0; i < p->P; i++) {
        memcpy(p->X + i * s->d, data->X + p->idx[i] * s->d, s->d * sizeof *p->X);
        p->y[i] = data->y[p->idx[i]];
    }
    target_kernel(p);
    jac_forward(p->j, theta0, theta0, p->X, p->P);
    memcpy(p->f0, p->j->f, p->P * s->C * sizeof *p->f0);
    pattern(p, p->pat0);
    if (want & PROBE_KERNEL)
        probe_kernel_of(p, theta0, p->X, p->P, p->K0);
    *out = p;
    p = NULL;
cleanup:
    probe_destroy(&p);
    return rc;
}

/* After jac_forward on X: the trace kernel (one backward pass per output) into K, and with G
 * the per-sample loss gradients' Gram matrix (one more pass per tower). */
static void grams(struct probe *p, const double *theta, const double *X, size_t n, double *K,
                  double *G)
{
    struct jac *j = p->j;
    size_t C = j->s.C;
    if (K)
        memset(K, 0, n * n * sizeof *K);
    if (G) {
        memset(G, 0, n * n * sizeof *G);
        for (size_t i = 0; i < n; i++) /* ∂ℓ_i/∂f_i of each sample alone */
            loss_value((enum ls_loss)j->s.loss, j->f + i * C, p->y + i, 1, C, 1, p->fd + i * C);
    }
    for (size_t t = 0; t < j->s.T; t++) {
        jac_input_grams(j, t, X, n, p->S);
        for (size_t c = 0; K && c < C; c++) {
            memset(p->dF, 0, n * C * sizeof *p->dF);
            for (size_t i = 0; i < n; i++)
                p->dF[i * C + c] = 1.0;
            jac_backward(j, theta, t, X, n, p->dF, NULL);
            jac_gram_add(j, n, p->S, K, p->tmp);
        }
        if (G) {
            jac_backward(j, theta, t, X, n, p->fd, NULL);
            jac_gram_add(j, n, p->S, G, p->tmp);
        }
    }
    if (K)
        jac_mirror(K, n);
    if (G)
        jac_mirror(G, n);
}

void probe_kernel_of(struct probe *p, const double *theta, const double *X, size_t n, double *K)
{
    jac_forward(p->j, theta, p->theta0, X, n);
    grams(p, theta, X, n, K, NULL);
}

/* ‖θ − θ₀‖/‖θ₀‖, whole and per layer (both towers' W_l and b_l). */
static void weight_change(const struct probe *p, const double *theta, struct probe_values *o)
{
    const struct jac *j = p->j;
    double num = 0, den = 0;
    for (size_t l = 0; l <= j->s.L; l++) {
        double nl = 0, dl = 0;
        for (size_t t = 0; t < j->s.T; t++) {
            size_t off = jac_offset(j, t, l), n = jac_layer_params(j, l);
            for (size_t i = off; i < off + n; i++) {
                double dv = theta[i] - p->theta0[i];
                nl += dv * dv;
                dl += p->theta0[i] * p->theta0[i];
            }
        }
        if (l < DIAG_LAYER_MAX)
            o->layer[l] = sqrt(nl) / sqrt(dl);
        num += nl;
        den += dl;
    }
    o->weight_change = sqrt(num) / sqrt(den);
}

static double activation_change(const struct probe *p)
{
    if (p->j->s.act == 3 || p->hidden == 0)
        return 0.0; /* a linear unit has no on/off pattern to change */
    size_t changed = 0, n = p->hidden * p->P;
    const struct jac *j = p->j;
    size_t w = j->s.width;
    for (size_t t = 0; t < j->s.T; t++)
        for (size_t l = 0; l < j->s.L; l++) {
            const double *a = j->acts + (t * j->s.L + l) * j->cap * w;
            const unsigned char *o = p->pat0 + (t * j->s.L + l) * p->P * w;
            for (size_t i = 0; i < p->P * w; i++)
                changed += (a[i] > 0) != o[i];
        }
    return (double)changed / (double)n;
}

static double frob_dot(const double *A, const double *B, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += A[i] * B[i];
    return s;
}

static void kernel_values(const struct probe *p, struct probe_values *o)
{
    size_t PP = p->P * p->P;
    double diff = 0;
    for (size_t i = 0; i < PP; i++)
        diff += (p->K[i] - p->K0[i]) * (p->K[i] - p->K0[i]);
    o->ntk_change = sqrt(diff) / sqrt(frob_dot(p->K0, p->K0, PP));
    o->kernel_alignment = frob_dot(p->K, p->Y, PP) /
                          (sqrt(frob_dot(p->K, p->K, PP)) * sqrt(frob_dot(p->Y, p->Y, PP)));
}

static void sample_values(const struct probe *p, struct probe_values *o)
{
    double gmin = INFINITY, cmin = INFINITY;
    size_t P = p->P;
    for (size_t i = 0; i < P; i++)
        for (size_t k = i + 1; k < P; k++) {
            double g = p->G[i * P + k], nn = p->G[i * P + i] * p->G[k * P + k];
            gmin = fmin(gmin, g);
            if (nn > 0)
                cmin = fmin(cmin, g / sqrt(nn));
        }
    o->sample_confusion = fmax(0.0, -gmin);
    o->sample_cos_min = isinf(cmin) ? NAN : cmin;
}

/* After jac_forward at theta: f(θ) is in j->f; the tangent pass reuses the activations. */
static double linearization_gap(struct probe *p, const double *theta)
{
    size_t nc = p->P * p->j->s.C;
    double *ft = p->dF; /* f(θ) is copied aside: the tangent pass overwrites the buffers */
    memcpy(ft, p->j->f, nc * sizeof *ft);
    for (size_t i = 0; i < p->np; i++)
        p->v[i] = theta[i] - p->theta0[i];
    jac_jvp(p->j, p->theta0, p->v, p->X, p->P, p->fd);
    double num = 0, den = 0;
    for (size_t i = 0; i < nc; i++) {
        double moved = ft[i] - p->f0[i], r = moved - p->fd[i];
        num += r * r;
        den += moved * moved;
    }
    return den > 0 ? sqrt(num) / sqrt(den) : NAN;
}

void probe_compute(struct probe *p, const double *theta, struct probe_values *o)
{
    for (size_t l = 0; l < DIAG_LAYER_MAX; l++)
        o->layer[l] = NAN;
    weight_change(p, theta, o);
    o->activation_change = o->ntk_change = o->kernel_alignment = NAN;
    o->linearization_gap = o->sample_confusion = o->sample_cos_min = NAN;
    jac_forward(p->j, theta, p->theta0, p->X, p->P);
    if (p->want & PROBE_ACT)
        o->activation_change = activation_change(p);
    if (p->want & (PROBE_KERNEL | PROBE_SAMPLE)) {
        grams(p, theta, p->X, p->P, p->want & PROBE_KERNEL ? p->K : NULL,
              p->want & PROBE_SAMPLE ? p->G : NULL);
        if (p->want & PROBE_KERNEL)
            kernel_values(p, o);
        if (p->want & PROBE_SAMPLE)
            sample_values(p, o);
    }
    if (p->want & PROBE_LIN) /* last: its tangent pass overwrites the activations */
        o->linearization_gap = linearization_gap(p, theta);
}
