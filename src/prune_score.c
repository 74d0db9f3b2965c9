/* prune_score.c — the five pruning scores of an mlp at its current parameters (prune.h gives
 * the formulas). Each tower is scored on its own, then tower 1's scores are added onto tower 0's
 * positions, so an antisymmetric net gets one score, and one mask, per shared entry. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/mlp.h"
#include "lazysweep/prune.h"
#include "lazysweep/rng.h"

/* Calls f(arg, first, count) for each prunable range of tower t: every W, and the biases with
 * prune.prune_bias. */
typedef void (*range_fn)(void *arg, size_t first, size_t count);

static void each_range(const struct ls_job *job, struct ls_model *m, size_t t, range_fn f,
                       void *arg)
{
    for (size_t l = 0; l < mlp_n_layers(m); l++) {
        struct mlp_layer y;
        mlp_layer(m, t, l, &y);
        f(arg, (size_t)(y.W - m->params), y.in * y.out);
        if (y.b && job->prune.prune_bias)
            f(arg, (size_t)(y.b - m->params), y.out);
    }
}

/* ---- SynFlow ---- */

/* v_{l+1} = |mult·W_l|·v_l + |b_l| from v_0 = 1; vs holds every v_l back to back. */
static double synflow_forward(struct ls_model *m, size_t t, double *vs, size_t *off)
{
    size_t L1 = mlp_n_layers(m), o = 0;
    struct mlp_layer y;
    mlp_layer(m, t, 0, &y);
    for (size_t j = 0; j < y.in; j++)
        vs[j] = 1.0;
    for (size_t l = 0; l < L1; l++) {
        mlp_layer(m, t, l, &y);
        off[l] = o;
        const double *v = vs + o;
        double *w = vs + o + y.in;
        for (size_t i = 0; i < y.out; i++) {
            double s = 0;
            for (size_t j = 0; j < y.in; j++)
                s += fabs(y.mult * y.W[i * y.in + j]) * v[j];
            w[i] = s + (y.b ? fabs(y.b[i]) : 0.0);
        }
        o += y.in;
    }
    off[L1] = o;
    double R = 0;
    mlp_layer(m, t, L1 - 1, &y);
    for (size_t i = 0; i < y.out; i++)
        R += vs[o + i];
    return R;
}

double prune_synflow(const struct ls_job *job, struct ls_model *m, size_t t, double *scores)
{
    (void)job;
    size_t L1 = mlp_n_layers(m), total = 0, wide = 0;
    for (size_t l = 0; l < L1; l++) {
        struct mlp_layer y;
        mlp_layer(m, t, l, &y);
        total += y.in + (l + 1 == L1 ? y.out : 0);
        wide = wide > y.in ? wide : y.in;
        wide = wide > y.out ? wide : y.out;
    }
    double *vs = malloc(total * sizeof *vs), *u = malloc(2 * wide * sizeof *u);
    size_t *off = malloc((L1 + 1) * sizeof *off);
    if (!vs || !u || !off) {
        free(vs), free(u), free(off);
        return NAN;
    }
    double R = synflow_forward(m, t, vs, off), *un = u + wide;
    for (size_t i = 0; i < mlp_n_outputs(m); i++)
        u[i] = 1.0; /* u_{L+1} = ∂R/∂v_{L+1} */
    for (size_t l = L1; l-- > 0;) {
        struct mlp_layer y;
        mlp_layer(m, t, l, &y);
        const double *v = vs + off[l];
        double *sW = scores + (y.W - m->params);
        memset(un, 0, y.in * sizeof *un);
        for (size_t i = 0; i < y.out; i++) {
            for (size_t j = 0; j < y.in; j++) {
                double a = fabs(y.mult * y.W[i * y.in + j]);
                sW[i * y.in + j] = u[i] * a * v[j];
                un[j] += a * u[i];
            }
            if (y.b)
                scores[(y.b - m->params) + i] = u[i] * fabs(y.b[i]);
        }
        memcpy(u, un, y.in * sizeof *u);
    }
    free(vs), free(u), free(off);
    return R;
}

/* ---- the data-dependent scores ---- */

/* SNIP: |g ⊙ θ| with g the model's own gradient on the samples. */
static int snip(struct ls_model *m, const struct ls_data *samples, double *scores)
{
    double L = m->ops->loss(m, samples, 1);
    if (!isfinite(L))
        return LS_EINVAL;
    for (size_t i = 0; i < m->n_params; i++)
        scores[i] = fabs(m->grad[i] * m->params[i]);
    return LS_OK;
}

/* GraSP: θ ⊙ (H g), g and H g exact (prune_hvp). */
static int grasp(const struct ls_job *job, struct ls_model *m, const struct ls_data *samples,
                 double *scores)
{
    size_t n = m->n_params;
    double *zero = calloc(n, sizeof *zero), *g = malloc(n * sizeof *g);
    int rc = zero && g ? LS_OK : LS_ENOMEM;
    if (rc == LS_OK)
        rc = prune_hvp(job, m, samples, zero, g, scores); /* g; scores = H·0 */
    if (rc == LS_OK)
        rc = prune_hvp(job, m, samples, g, zero, scores); /* scores = H g */
    for (size_t i = 0; rc == LS_OK && i < n; i++)
        scores[i] *= m->params[i];
    free(zero);
    free(g);
    return rc;
}

/* ---- folding and zeroing ---- */

struct fold {
    double *scores;
    size_t half;
};

static void fold_range(void *arg, size_t first, size_t count)
{
    struct fold *f = arg;
    for (size_t i = first; i < first + count; i++)
        f->scores[i] += f->scores[i + f->half];
}

struct keep_flags {
    char *prunable;
};

static void flag_range(void *arg, size_t first, size_t count)
{
    memset(((struct keep_flags *)arg)->prunable + first, 1, count);
}

/* Tower 1's scores onto tower 0, then 0 at every entry that is not a prunable entry of tower 0. */
static int fold_towers(const struct ls_job *job, struct ls_model *m, double *scores)
{
    struct fold f = {scores, m->n_params / 2};
    if (mlp_n_towers(m) == 2)
        each_range(job, m, 0, fold_range, &f);
    struct keep_flags k = {calloc(m->n_params, 1)};
    if (!k.prunable)
        return LS_ENOMEM;
    each_range(job, m, 0, flag_range, &k);
    for (size_t i = 0; i < m->n_params; i++)
        if (!k.prunable[i])
            scores[i] = 0.0;
    free(k.prunable);
    return LS_OK;
}

struct draws {
    double *scores;
    struct ls_rng *r;
};

static void draw_range(void *arg, size_t first, size_t count)
{
    struct draws *d = arg;
    for (size_t i = first; i < first + count; i++)
        d->scores[i] = rng_normal(d->r);
}

int prune_scores(const struct ls_job *job, enum prune_method method, struct ls_model *m,
                 const struct ls_data *samples, void *rng_state, double *scores, double *R)
{
    int rc = LS_OK;
    memset(scores, 0, m->n_params * sizeof *scores);
    if (method == PRUNE_RANDOM) { /* one draw per shared entry: nothing to fold */
        struct draws d = {scores, rng_state};
        each_range(job, m, 0, draw_range, &d);
        return LS_OK;
    }
    if (method == PRUNE_MAGNITUDE) {
        for (size_t i = 0; i < m->n_params; i++)
            scores[i] = fabs(m->params[i]);
    } else if (method == PRUNE_SNIP) {
        rc = snip(m, samples, scores);
    } else if (method == PRUNE_GRASP) {
        rc = grasp(job, m, samples, scores);
    } else {
        for (size_t t = mlp_n_towers(m); t-- > 0;) {
            double r = prune_synflow(job, m, t, scores);
            if (t == 0 && R)
                *R = r;
            if (!isfinite(r))
                rc = LS_ERANGE;
        }
    }
    return rc == LS_OK ? fold_towers(job, m, scores) : rc;
}
