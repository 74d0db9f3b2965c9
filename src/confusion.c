/* confusion.c — gradient confusion by mini-batch pairs (confusion.h). Buffers are sized at
 * create; confusion_compute allocates nothing. */
#include "lazysweep/confusion.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/jac.h"
#include "lazysweep/loss.h"
#include "lazysweep/rng.h"

struct confusion {
    struct jac *j;
    const double *theta0;
    size_t n, B, pairs, np;
    struct ls_rng rng; /* continues across logged steps */
    size_t *perm;      /* [n] */
    size_t *rows;      /* [pairs][2][B] */
    double *Xb, *yb;   /* [B][d], [B] */
    double *dF;        /* [B][C] */
    double *g[2];      /* [np] the two batch gradients */
    double *cos;       /* [pairs] */
    double *sorted;    /* [pairs] */
};

const double *confusion_cosines(const struct confusion *c)
{
    return c->cos;
}
const size_t *confusion_rows(const struct confusion *c)
{
    return c->rows;
}
size_t confusion_pairs(const struct confusion *c)
{
    return c->pairs;
}
size_t confusion_batch(const struct confusion *c)
{
    return c->B;
}

void confusion_destroy(struct confusion **cp)
{
    if (!cp || !*cp)
        return;
    struct confusion *c = *cp;
    jac_destroy(&c->j);
    free(c->perm);
    free(c->rows);
    free(c->Xb);
    free(c->yb);
    free(c->dF);
    free(c->g[0]);
    free(c->g[1]);
    free(c->cos);
    free(c->sorted);
    free(c);
    *cp = NULL;
}

int confusion_create(const struct ls_job *job, const struct ls_data *data, const struct ls_model *m,
                     const double *theta0, struct confusion **out)
{
    int rc = LS_OK;
    struct confusion *c = calloc(1, sizeof *c);
    *out = NULL;
    LS_CHECK_ALLOC(c);
    c->n = data->n;
    c->B = (size_t)job->diag.confusion_batch;
    c->pairs = (size_t)job->diag.confusion_pairs;
    c->np = m->n_params;
    c->theta0 = theta0;
    if (2 * c->B > c->n || !data->X) {
        rc = LS_EINVAL;
        goto cleanup;
    }
    LS_CALL(jac_create(m, c->B, &c->j));
    c->perm = malloc(c->n * sizeof *c->perm);
    c->rows = malloc(c->pairs * 2 * c->B * sizeof *c->rows);
    c->Xb = model_alloc(c->B * data->d);
    c->yb = model_alloc(c->B);
    c->dF = model_alloc(c->B * c->j->s.C);
    c->g[0] = model_alloc(c->np);
    c->g[1] = model_alloc(c->np);
    c->cos = model_alloc(c->pairs);
    c->sorted = model_alloc(c->pairs);
    if (!c->perm || !c->rows || !c->Xb || !c->yb || !c->dF || !c->g[0] || !c->g[1] || !c->cos ||
        !c->sorted) {
        rc = LS_ENOMEM;
        goto cleanup;
    }
    int64_t shape[3] = {(int64_t)c->n, (int64_t)c->B, (int64_t)c->pairs};
    rng_init(&c->rng, rng_key(job->seed, job->point_seed, "diag.confusion", shape, 3));
    for (size_t i = 0; i < c->pairs; i++)
        c->cos[i] = NAN;
    *out = c;
    c = NULL;
cleanup:
    confusion_destroy(&c);
    return rc;
}

/* The 2B distinct rows of one pair: a partial Fisher–Yates shuffle from the top of 0 … n−1
 * (each pair starts again from the identity, so a pair's rows depend only on its draws). */
static void draw_pair(struct confusion *c, size_t *rows)
{
    for (size_t i = 0; i < c->n; i++)
        c->perm[i] = i;
    for (size_t k = 0; k < 2 * c->B; k++) {
        size_t s = k + (size_t)rng_below(&c->rng, c->n - k), t = c->perm[k];
        c->perm[k] = c->perm[s];
        c->perm[s] = t;
        rows[k] = c->perm[k];
    }
}

/* g = ∇ of the mean training loss over the rows [B]. */
static void batch_gradient(struct confusion *c, const double *theta, const struct ls_data *data,
                           const size_t *rows, double *g)
{
    size_t d = data->d, B = c->B, C = c->j->s.C;
    for (size_t i = 0; i < B; i++) {
        memcpy(c->Xb + i * d, data->X + rows[i] * d, d * sizeof *c->Xb);
        c->yb[i] = data->y[rows[i]];
    }
    jac_forward(c->j, theta, c->theta0, c->Xb, B);
    loss_value((enum ls_loss)c->j->s.loss, c->j->f, c->yb, B, C, B, c->dF);
    memset(g, 0, c->np * sizeof *g);
    for (size_t t = 0; t < c->j->s.T; t++)
        jac_backward(c->j, theta, t, c->Xb, B, c->dF, g);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void confusion_stats(double *x, size_t n, struct confusion_values *o)
{
    double sum = 0, neg = 0;
    qsort(x, n, sizeof *x, cmp_double);
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
        neg += x[i] < 0;
    }
    double h = 0.05 * (double)(n - 1), lo = floor(h);
    size_t k = (size_t)lo;
    o->min = x[0];
    o->mean = sum / (double)n;
    o->p05 = k + 1 < n ? x[k] + (h - lo) * (x[k + 1] - x[k]) : x[k];
    o->negative = neg / (double)n;
}

void confusion_compute(struct confusion *c, const double *theta, const struct ls_data *data,
                       struct confusion_values *out)
{
    int n = (int)c->np;
    for (size_t q = 0; q < c->pairs; q++) {
        size_t *rows = c->rows + q * 2 * c->B;
        draw_pair(c, rows);
        batch_gradient(c, theta, data, rows, c->g[0]);
        batch_gradient(c, theta, data, rows + c->B, c->g[1]);
        double dot = cblas_ddot(n, c->g[0], 1, c->g[1], 1);
        double n0 = cblas_dnrm2(n, c->g[0], 1), n1 = cblas_dnrm2(n, c->g[1], 1);
        c->cos[q] = n0 > 0 && n1 > 0 ? dot / (n0 * n1) : NAN;
    }
    memcpy(c->sorted, c->cos, c->pairs * sizeof *c->sorted);
    confusion_stats(c->sorted, c->pairs, out);
}
