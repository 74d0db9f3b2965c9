/* prune.c — pruning at initialization: the rounds of score-and-mask, the exact counts, the mask
 * the family holds fixed, and the measures of the pruned net (prune.h).
 *
 * Metrics (constant over training, the mask being fixed):
 *   density            kept / N over the prunable entries
 *   layer_collapse     1 if some prunable layer kept nothing, else 0
 *   min_layer_density  the smallest kept fraction of a prunable layer
 *   effective_density  the kept weights that lie on some input → output path of kept weights,
 *                      over N: a weight counts when its input unit is reached from the inputs
 *                      and its output unit reaches the outputs (biases do not make a path; a
 *                      prunable bias counts when its unit reaches the outputs)
 *   synflow_r          R = 1ᵀ(∏|W|)1 of the pruned net at step 0 (tower 0; under ntk the
 *                      weights times their multiplier), prune_synflow's value */
#include "lazysweep/prune.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/loss.h"
#include "lazysweep/mlp.h"
#include "lazysweep/rng.h"

const char *const prune_metrics[] = {"density",           "layer_collapse", "min_layer_density",
                                     "effective_density", "synflow_r",      NULL};
static const char *const prune_vectors[] = {"masks", "scores", "layer_density", NULL};
static const char *const method_names[] = {"random", "magnitude", "snip", "grasp", "synflow"};

struct ls_prune {
    size_t n_params, L1;
    double *mask;   /* [n_params] 1 kept / 0 pruned (always held; prune_mask hides it at s = 0) */
    double *scores; /* [n_params] the last round's scores */
    double *layer_den; /* [L1] */
    int pruned;        /* some round ran */
    int active;        /* s > 0: the mask is held during training (even when all ones) */
    double density, collapse, min_layer, effective, R;
};

/* ---- counts and schedules ---- */

int64_t prune_keep(int64_t n, double density)
{
    double k = floor((double)n * density + 0.5);
    return k < 0 ? 0 : k > (double)n ? n : (int64_t)k;
}

double prune_round_density(double s, int64_t k, int64_t n, int exponential)
{
    if (k >= n)
        return 1.0 - s;
    double f = (double)k / (double)n;
    return exponential ? pow(1.0 - s, f) : 1.0 - s * f;
}

static int in_names(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

int prune_wanted(const struct ls_job *job)
{
    if (job->model.sparsity > 0)
        return 1;
    for (size_t i = 0; i < job->n_metrics; i++)
        if (in_names(job->metrics[i], prune_metrics))
            return 1;
    for (size_t i = 0; i < job->n_store; i++)
        if (in_names(job->store[i], prune_vectors))
            return 1;
    return 0;
}

int prune_check(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    enum ls_loss loss;
    if (strcmp(job->prune.method, "grasp") == 0 &&
        (loss_find(job->train.loss, &loss) != LS_OK || !loss_decomposable(loss))) {
        *key = "prune.method";
        snprintf(msg, len,
                 "prune.method grasp needs the Hessian of the loss: train.loss mse, bce "
                 "or cross_entropy, not '%s'",
                 job->train.loss);
        return LS_EJOB;
    }
    return LS_OK;
}

/* ---- the prunable entries ---- */

/* Positions (tower 0) of every prunable entry, layer by layer, and each one's layer. */
struct entries {
    size_t n, *pos, *layer, *per_layer; /* [n], [n], [L1] */
};

static int entries_build(const struct ls_job *job, struct ls_model *m, struct entries *e)
{
    size_t L1 = mlp_n_layers(m), n = 0;
    e->pos = malloc(m->n_params * sizeof *e->pos);
    e->layer = malloc(m->n_params * sizeof *e->layer);
    e->per_layer = calloc(L1, sizeof *e->per_layer);
    if (!e->pos || !e->layer || !e->per_layer)
        return LS_ENOMEM;
    for (size_t l = 0; l < L1; l++) {
        struct mlp_layer y;
        mlp_layer(m, 0, l, &y);
        size_t w0 = (size_t)(y.W - m->params), nb = y.b && job->prune.prune_bias ? y.out : 0;
        for (size_t i = 0; i < y.in * y.out + nb; i++, n++) {
            e->pos[n] = i < y.in * y.out ? w0 + i : (size_t)(y.b - m->params) + i - y.in * y.out;
            e->layer[n] = l;
        }
        e->per_layer[l] = y.in * y.out + nb;
    }
    e->n = n;
    return LS_OK;
}

static void entries_free(struct entries *e)
{
    free(e->pos);
    free(e->layer);
    free(e->per_layer);
}

/* ---- selection ---- */

struct ranked {
    double s;
    size_t i; /* index into entries */
};

/* Descending score, then ascending position: a total order, NaN scores last. */
static int cmp_ranked(const void *pa, const void *pb)
{
    const struct ranked *a = pa, *b = pb;
    int na = isnan(a->s), nb = isnan(b->s);
    if (na != nb)
        return na - nb;
    if (!na && a->s != b->s)
        return a->s > b->s ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* Of the alive entries of layer `only` (every layer when only == L1), keep the best k. */
static void keep_best(const struct entries *e, const double *scores, char *alive, size_t k,
                      size_t only, size_t L1, struct ranked *buf)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n; i++)
        if (alive[i] && (only == L1 || e->layer[i] == only))
            buf[n++] = (struct ranked){scores[e->pos[i]], i};
    qsort(buf, n, sizeof *buf, cmp_ranked);
    for (size_t r = k; r < n; r++)
        alive[buf[r].i] = 0;
}

/* scope layer: each layer's count at density d, floor(n_l·d) and one more by the largest
 * remainder (ties to the lower layer) until the total is keep(N, d), never above what the layer
 * still has alive. */
static void layer_counts(const struct entries *e, const size_t *alive_l, double d, size_t L1,
                         size_t *k)
{
    int64_t left = prune_keep((int64_t)e->n, d);
    for (size_t l = 0; l < L1; l++) {
        double x = floor((double)e->per_layer[l] * d);
        k[l] = (size_t)x < alive_l[l] ? (size_t)x : alive_l[l];
        left -= (int64_t)k[l];
    }
    while (left > 0) {
        size_t best = L1;
        double br = -1;
        for (size_t l = 0; l < L1; l++) {
            double r = (double)e->per_layer[l] * d - (double)k[l];
            if (k[l] < alive_l[l] && r > br) {
                br = r;
                best = l;
            }
        }
        if (best == L1)
            break;
        k[best]++;
        left--;
    }
}

static void select_round(const struct ls_job *job, const struct entries *e, const double *scores,
                         char *alive, double d, size_t L1, struct ranked *buf, size_t *tmp)
{
    if (strcmp(job->prune.scope, "layer") != 0) {
        keep_best(e, scores, alive, (size_t)prune_keep((int64_t)e->n, d), L1, L1, buf);
        return;
    }
    size_t *alive_l = tmp, *k = tmp + L1;
    memset(alive_l, 0, L1 * sizeof *alive_l);
    for (size_t i = 0; i < e->n; i++)
        alive_l[e->layer[i]] += alive[i] != 0;
    layer_counts(e, alive_l, d, L1, k);
    for (size_t l = 0; l < L1; l++)
        keep_best(e, scores, alive, k[l], l, L1, buf);
}

/* ---- the rounds ---- */

/* samples rows of the training set without replacement: a partial Fisher–Yates shuffle of
 * 0 … n−1 from the front (position i swaps with i + rng_below(n − i)), stream "prune.samples"
 * keyed by (n, samples); the first `samples` positions in order. */
static int draw_samples(const struct ls_job *job, const struct ls_data *d, struct ls_data *out)
{
    size_t C = d->task == LS_TASK_CLASSES ? d->n_classes : d->task == LS_TASK_BINARY ? 2 : 1;
    size_t k = job->prune.samples > 0 ? (size_t)job->prune.samples : 10 * C;
    k = k < d->n ? k : d->n;
    size_t *p = malloc(d->n * sizeof *p);
    out->X = malloc(k * d->d * sizeof *out->X);
    out->y = malloc(k * sizeof *out->y);
    if (!p || !out->X || !out->y) {
        free(p);
        return LS_ENOMEM;
    }
    struct ls_rng r;
    int64_t shape[2] = {(int64_t)d->n, (int64_t)k};
    rng_init(&r, rng_key(job->seed, job->point_seed, "prune.samples", shape, 2));
    for (size_t i = 0; i < d->n; i++)
        p[i] = i;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)rng_below(&r, d->n - i), t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    data_gather(d, p, k, out);
    out->n_test = 0;
    out->X_test = out->y_test = NULL;
    free(p);
    return LS_OK;
}

static enum prune_method method_of(const struct ls_job *job)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(job->prune.method, method_names[i]) == 0)
            return (enum prune_method)i;
    return PRUNE_SYNFLOW;
}

/* Zero the parameters and the mask at every entry no longer alive, in both towers. */
static void apply_alive(struct ls_model *m, struct ls_prune *p, const struct entries *e,
                        const char *alive)
{
    size_t half = mlp_n_towers(m) == 2 ? m->n_params / 2 : 0;
    for (size_t i = 0; i < e->n; i++)
        if (!alive[i]) {
            m->params[e->pos[i]] = p->mask[e->pos[i]] = 0.0;
            if (half)
                m->params[e->pos[i] + half] = p->mask[e->pos[i] + half] = 0.0;
        }
}

struct run {
    struct entries e;
    char *alive;
    struct ranked *buf;
    size_t *tmp;
    struct ls_data samples;
    struct ls_rng r;
};

static int run_rounds(const struct ls_job *job, struct ls_model *m, struct ls_prune *p,
                      struct run *u)
{
    enum prune_method method = method_of(job);
    int64_t n = job->prune.iterations > 0 ? job->prune.iterations
                : method == PRUNE_SYNFLOW ? 100
                                          : 1;
    int expo = strcmp(job->prune.schedule, "linear") != 0;
    size_t alive_n = u->e.n;
    for (int64_t k = 1; k <= n; k++) {
        double d = prune_round_density(job->model.sparsity, k, n, expo);
        if ((size_t)prune_keep((int64_t)u->e.n, d) >= alive_n)
            continue; /* nothing to remove this round (in either scope) */
        int rc = prune_scores(job, method, m, &u->samples, &u->r, p->scores, NULL);
        if (rc != LS_OK)
            return rc;
        select_round(job, &u->e, p->scores, u->alive, d, p->L1, u->buf, u->tmp);
        apply_alive(m, p, &u->e, u->alive);
        alive_n = 0;
        for (size_t i = 0; i < u->e.n; i++)
            alive_n += u->alive[i] != 0;
        p->pruned = 1;
    }
    return LS_OK;
}

/* ---- measures of the pruned net ---- */

/* Units reached from the inputs (fwd) and reaching the outputs (bwd) through kept weights of
 * tower 0: fwd[l] and bwd[l] are the input units of layer l (l = L1: the outputs). */
static int effective(struct ls_model *m, const struct ls_prune *p, const struct entries *e,
                     double *count)
{
    size_t L1 = p->L1, *at = malloc((L1 + 2) * sizeof *at), total = 0;
    if (!at)
        return LS_ENOMEM;
    struct mlp_layer y;
    for (size_t l = 0; l < L1; l++) {
        mlp_layer(m, 0, l, &y);
        at[l] = total;
        total += y.in;
    }
    at[L1] = total;
    total += mlp_n_outputs(m);
    char *fwd = calloc(total, 1), *bwd = calloc(total, 1);
    if (!fwd || !bwd) {
        free(at), free(fwd), free(bwd);
        return LS_ENOMEM;
    }
    memset(fwd, 1, at[1]);                     /* every input */
    memset(bwd + at[L1], 1, mlp_n_outputs(m)); /* every output */
    for (size_t l = 0; l < L1; l++) {
        mlp_layer(m, 0, l, &y);
        const double *k = p->mask + (y.W - m->params);
        for (size_t i = 0; i < y.out; i++)
            for (size_t j = 0; j < y.in && !fwd[at[l + 1] + i]; j++)
                fwd[at[l + 1] + i] = k[i * y.in + j] != 0 && fwd[at[l] + j];
    }
    for (size_t l = L1; l-- > 0;) {
        mlp_layer(m, 0, l, &y);
        const double *k = p->mask + (y.W - m->params);
        for (size_t i = 0; i < y.out; i++)
            for (size_t j = 0; j < y.in; j++)
                bwd[at[l] + j] |= k[i * y.in + j] != 0 && bwd[at[l + 1] + i];
    }
    double c = 0;
    for (size_t q = 0; q < e->n; q++) {
        mlp_layer(m, 0, e->layer[q], &y);
        size_t l = e->layer[q], off = e->pos[q] - (size_t)(y.W - m->params);
        if (p->mask[e->pos[q]] == 0)
            continue;
        if (off < y.in * y.out)
            c += fwd[at[l] + off % y.in] && bwd[at[l + 1] + off / y.in];
        else
            c += bwd[at[l + 1] + (e->pos[q] - (size_t)(y.b - m->params))];
    }
    *count = c;
    free(at), free(fwd), free(bwd);
    return LS_OK;
}

static int measure(const struct ls_job *job, struct ls_model *m, struct ls_prune *p,
                   const struct entries *e)
{
    size_t kept = 0, *kl = calloc(p->L1, sizeof *kl);
    if (!kl)
        return LS_ENOMEM;
    for (size_t i = 0; i < e->n; i++)
        if (p->mask[e->pos[i]] != 0) {
            kept++;
            kl[e->layer[i]]++;
        }
    p->density = (double)kept / (double)e->n;
    p->min_layer = 1.0;
    p->collapse = 0.0;
    for (size_t l = 0; l < p->L1; l++) {
        p->layer_den[l] = (double)kl[l] / (double)e->per_layer[l];
        p->min_layer = fmin(p->min_layer, p->layer_den[l]);
        p->collapse = kl[l] == 0 ? 1.0 : p->collapse;
    }
    free(kl);
    double eff = 0;
    int rc = effective(m, p, e, &eff);
    p->effective = eff / (double)e->n;
    double *tmp = malloc(m->n_params * sizeof *tmp);
    if (rc == LS_OK && !tmp)
        rc = LS_ENOMEM;
    if (rc == LS_OK)
        p->R = prune_synflow(job, m, 0, tmp);
    free(tmp);
    return rc;
}

/* ---- create / destroy ---- */

static void run_free(struct run *u)
{
    entries_free(&u->e);
    free(u->alive);
    free(u->buf);
    free(u->tmp);
    free(u->samples.X);
    free(u->samples.y);
}

static int stored(const struct ls_job *job, const char *name)
{
    for (size_t i = 0; i < job->n_store; i++)
        if (strcmp(job->store[i], name) == 0)
            return 1;
    return 0;
}

static int prune_alloc(struct ls_model *m, struct ls_prune **out)
{
    struct ls_prune *p = calloc(1, sizeof *p);
    *out = p;
    if (!p)
        return LS_ENOMEM;
    p->n_params = m->n_params;
    p->L1 = mlp_n_layers(m);
    p->mask = model_alloc(m->n_params);
    p->scores = model_alloc(m->n_params);
    p->layer_den = model_alloc(p->L1);
    if (!p->mask || !p->scores || !p->layer_den)
        return LS_ENOMEM;
    for (size_t i = 0; i < m->n_params; i++)
        p->mask[i] = 1.0;
    return LS_OK;
}

int prune_create(const struct ls_job *job, const struct ls_data *d, struct ls_model *m,
                 struct ls_prune **out)
{
    struct run u = {0};
    struct ls_prune *p = NULL;
    int rc = LS_OK;
    *out = NULL;
    LS_CALL(prune_alloc(m, &p));
    LS_CALL(entries_build(job, m, &u.e));
    u.alive = malloc(u.e.n ? u.e.n : 1);
    u.buf = malloc((u.e.n ? u.e.n : 1) * sizeof *u.buf);
    u.tmp = malloc(2 * p->L1 * sizeof *u.tmp);
    LS_CHECK_ALLOC(u.alive);
    LS_CHECK_ALLOC(u.buf);
    LS_CHECK_ALLOC(u.tmp);
    memset(u.alive, 1, u.e.n);
    LS_CALL(draw_samples(job, d, &u.samples));
    int64_t shape[1] = {(int64_t)u.e.n};
    rng_init(&u.r, rng_key(job->seed, job->point_seed, "prune.random", shape, 1));
    p->active = job->model.sparsity > 0;
    LS_CALL(run_rounds(job, m, p, &u));
    if (!p->pruned && stored(job, "scores")) /* nothing pruned: the initial net's scores */
        LS_CALL(prune_scores(job, method_of(job), m, &u.samples, &u.r, p->scores, NULL));
    LS_CALL(measure(job, m, p, &u.e));
    *out = p;
    p = NULL;
cleanup:
    run_free(&u);
    prune_destroy(&p);
    return rc;
}

void prune_destroy(struct ls_prune **pp)
{
    if (!pp || !*pp)
        return;
    free((*pp)->mask);
    free((*pp)->scores);
    free((*pp)->layer_den);
    free(*pp);
    *pp = NULL;
}

const double *prune_mask(const struct ls_prune *p)
{
    return p && p->active ? p->mask : NULL;
}

void prune_apply(const double *mask, double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = mask[i] != 0 ? x[i] : 0.0;
}

int prune_eval(const struct ls_prune *p, const char *name, double *out)
{
    const double v[5] = {p->density, p->collapse, p->min_layer, p->effective, p->R};
    for (int i = 0; i < 5; i++)
        if (strcmp(name, prune_metrics[i]) == 0) {
            *out = v[i];
            return LS_OK;
        }
    return LS_ENOTFOUND;
}

size_t prune_vector_len(const char *name, size_t n_params, size_t layers)
{
    if (strcmp(name, "masks") == 0 || strcmp(name, "scores") == 0)
        return n_params;
    return strcmp(name, "layer_density") == 0 ? layers : 0;
}

int prune_vector(const struct ls_prune *p, const char *name, double *out)
{
    if (strcmp(name, "masks") == 0)
        memcpy(out, p->mask, p->n_params * sizeof *out);
    else if (strcmp(name, "scores") == 0)
        memcpy(out, p->scores, p->n_params * sizeof *out);
    else if (strcmp(name, "layer_density") == 0)
        memcpy(out, p->layer_den, p->L1 * sizeof *out);
    else
        return LS_ENOTFOUND;
    return LS_OK;
}
