/* mlp_spline.c — the spline reference of a 1-D mlp point and the metrics against it
 * (mlp_spline.h, docs/spline.md).
 *
 * The reference is g = f₀ + s, f₀ the network at init (0 under antisymmetric init) and s the
 * ζ-weighted spline through (xⱼ, yⱼ − f₀(xⱼ)): the limit of the trained f as the width grows,
 * since in the kernel regime training moves f by the minimum-norm interpolant of the residual.
 * f₀ is computed at create (before training moves the parameters); s when first asked for. */
#include "lazysweep/mlp_spline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/mlp.h"

#define GRID_MAX 1000000

struct mlp_spline {
    size_t n;          /* grid points */
    double *grid;      /* [n] x of the grid */
    double *f0_grid;   /* [n] the network at init on the grid */
    double *ref;       /* [n] the reference g on the grid */
    double *f;         /* [n] scratch: the current network on the grid */
    size_t m;          /* data points */
    double *x, *resid; /* [m] data inputs and yⱼ − f₀(xⱼ) */
    struct spline_init init;
    int full;  /* spline.reference full (kernel form) or span */
    int state; /* 0 not solved yet, 1 solved, −1 failed (metrics NaN) */
};

static const char *const metrics[] = {"spline_distance", "spline_distance_max", NULL};
static const char *const vectors[] = {"function", "reference", NULL};

static int listed(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

int mlp_spline_metric(const char *name)
{
    return listed(name, metrics);
}
int mlp_spline_vector_name(const char *name)
{
    return listed(name, vectors);
}

int mlp_spline_wanted(const struct ls_job *job)
{
    for (size_t i = 0; i < job->n_metrics; i++)
        if (mlp_spline_metric(job->metrics[i]))
            return 1;
    for (size_t i = 0; i < job->n_store; i++)
        if (mlp_spline_vector_name(job->store[i]))
            return 1;
    return 0;
}

size_t mlp_spline_grid_len(const struct ls_job *job)
{
    const struct ls_spline_cfg *g = &job->spline;
    double n = ceil((g->grid_max - g->grid_min) / g->grid_step - 1e-9);
    return n >= 1 && n <= GRID_MAX ? (size_t)n : 0;
}

/* The first layer's standard deviations under the job's variance rule (mlp.c's layer_stds for
 * fan_in 1): he, lecun and xavier draw no biases. */
static void first_layer_stds(const struct ls_job *job, double *sw, double *sb)
{
    const char *v = job->model.variance;
    double fo = (double)job->model.width;
    *sb = 0.0;
    if (strcmp(v, "lecun") == 0)
        *sw = 1.0;
    else if (strcmp(v, "xavier") == 0)
        *sw = sqrt(2.0 / (1.0 + fo));
    else if (strcmp(v, "pytorch") == 0)
        *sw = *sb = sqrt(1.0 / 3.0);
    else if (strcmp(v, "explicit") == 0) {
        *sw = job->model.weight_scale.v[0];
        *sb = job->model.bias_scale.v[0];
    } else
        *sw = sqrt(2.0);
}

int mlp_spline_init(const struct ls_job *job, struct spline_init *out)
{
    double sw, sb;
    first_layer_stds(job, &sw, &sb);
    int uniform = strcmp(job->model.init, "uniform") == 0;
    int ortho = strcmp(job->model.init, "orthogonal") == 0;
    *out = (struct spline_init){.w = uniform ? SPLINE_UNIFORM
                                     : ortho ? SPLINE_SPHERE
                                             : SPLINE_GAUSSIAN,
                                .b = uniform ? SPLINE_UNIFORM : SPLINE_GAUSSIAN,
                                .sw = sw,
                                .sb = sb,
                                .n = (size_t)job->model.width};
    return sw > 0 && sb > 0 && job->model.bias ? LS_OK : LS_EINVAL;
}

/* The network the theory is about: one hidden relu layer with biases, trained on the squared
 * error, on 1-D points. */
static int check_network(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    if (strcmp(job->data.kind, "points1d") != 0) {
        *key = "data.kind";
        snprintf(msg, len, "the spline metrics need 1-D data (points1d), not '%s'", job->data.kind);
    } else if (job->model.depth != 1) {
        *key = "model.depth";
        snprintf(msg, len, "the spline metrics need one hidden layer (depth 1), not %lld",
                 (long long)job->model.depth);
    } else if (strcmp(job->model.activation, "relu") != 0) {
        *key = "model.activation";
        snprintf(msg, len, "the spline metrics need activation relu, not '%s'",
                 job->model.activation);
    } else if (strcmp(job->train.loss, "mse") != 0) {
        *key = "train.loss";
        snprintf(msg, len, "the spline metrics need train.loss mse, not '%s'", job->train.loss);
    } else {
        return LS_OK;
    }
    return LS_EJOB;
}

int mlp_spline_check(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    struct spline_init init;
    if (!mlp_spline_wanted(job))
        return LS_OK;
    if (check_network(job, key, msg, len) != LS_OK)
        return LS_EJOB;
    if (mlp_spline_init(job, &init) != LS_OK) {
        *key = job->model.bias ? "model.variance" : "model.bias";
        snprintf(msg, len,
                 "the spline metrics need random first-layer biases (ζ is 0 off x = 0 "
                 "without them): bias true and variance pytorch, or explicit with "
                 "bias_scale > 0");
    } else if (init.w == SPLINE_SPHERE && init.n < 3) {
        *key = "model.width";
        snprintf(msg, len, "the spline metrics need width >= 3 under init orthogonal, not %lld",
                 (long long)job->model.width);
    } else if (mlp_spline_grid_len(job) == 0) {
        *key = "spline.grid_step";
        snprintf(msg, len,
                 "the spline grid [%g, %g) with step %g must hold between 1 and %d points",
                 job->spline.grid_min, job->spline.grid_max, job->spline.grid_step, GRID_MAX);
    } else {
        return LS_OK;
    }
    return LS_EJOB;
}

void mlp_spline_destroy(struct mlp_spline **sp)
{
    if (!sp || !*sp)
        return;
    free((*sp)->grid);
    free(*sp);
    *sp = NULL;
}

/* One block holds the grid, f₀, the reference and the scratch f (4n) and x, resid (2m). */
static int spline_alloc(size_t n, size_t m, struct mlp_spline **out)
{
    struct mlp_spline *s = calloc(1, sizeof *s);
    double *buf = calloc(4 * n + 2 * m, sizeof *buf);
    if (!s || !buf) {
        free(s);
        free(buf);
        return LS_ENOMEM;
    }
    *s = (struct mlp_spline){.n = n,
                             .grid = buf,
                             .f0_grid = buf + n,
                             .ref = buf + 2 * n,
                             .f = buf + 3 * n,
                             .m = m,
                             .x = buf + 4 * n,
                             .resid = buf + 4 * n + m};
    *out = s;
    return LS_OK;
}

int mlp_spline_create(const struct ls_job *job, struct ls_model *m, const struct ls_data *d,
                      struct mlp_spline **out)
{
    int rc = LS_OK;
    struct mlp_spline *s = NULL;
    size_t n = mlp_spline_grid_len(job);
    *out = NULL;
    if (n == 0 || d->d != 1 || d->X == NULL)
        return LS_EINVAL;
    LS_CALL(spline_alloc(n, d->n, &s));
    LS_CALL(mlp_spline_init(job, &s->init));
    s->full = strcmp(job->spline.reference, "full") == 0;
    for (size_t i = 0; i < n; i++)
        s->grid[i] = job->spline.grid_min + (double)i * job->spline.grid_step;
    mlp_predict(m, s->grid, n, s->f0_grid);
    mlp_predict(m, d->X, d->n, s->resid);
    for (size_t j = 0; j < d->n; j++) {
        s->x[j] = d->X[j];
        s->resid[j] = d->y[j] - s->resid[j];
    }
    *out = s;
    s = NULL;
cleanup:
    mlp_spline_destroy(&s);
    return rc;
}

/* The reference on the grid, solved the first time it is needed. */
static const double *reference(struct mlp_spline *s)
{
    if (s->state == 0) {
        struct spline_ref *r = NULL;
        int rc = s->full ? spline_solve_full(&s->init, s->x, s->resid, s->m, &r)
                         : spline_solve(&s->init, s->x, s->resid, s->m, &r);
        s->state = rc == LS_OK ? 1 : -1;
        if (rc == LS_OK) {
            spline_eval(r, s->grid, s->n, s->ref);
            for (size_t i = 0; i < s->n; i++)
                s->ref[i] += s->f0_grid[i];
        } else {
            fprintf(stderr, "lazysweep: spline metrics are NaN: no reference (%s)\n",
                    ls_strerror(rc));
        }
        spline_free(&r);
    }
    return s->state == 1 ? s->ref : NULL;
}

int mlp_spline_eval(struct mlp_spline *s, struct ls_model *m, const char *name, double *out)
{
    if (!mlp_spline_metric(name))
        return LS_ENOTFOUND;
    const double *g = s ? reference(s) : NULL;
    *out = NAN;
    if (g == NULL)
        return LS_OK;
    mlp_predict(m, s->grid, s->n, s->f);
    double sq = 0.0, mx = 0.0;
    for (size_t i = 0; i < s->n; i++) {
        double e = s->f[i] - g[i];
        sq += e * e;
        mx = fabs(e) > mx || isnan(e) ? fabs(e) : mx; /* a NaN stays (fmax would drop it) */
    }
    *out = strcmp(name, "spline_distance") == 0 ? sqrt(sq / (double)s->n) : mx;
    return LS_OK;
}

int mlp_spline_vector(struct mlp_spline *s, struct ls_model *m, const char *name, double *out)
{
    if (!s || !mlp_spline_vector_name(name))
        return LS_ENOTFOUND;
    if (strcmp(name, "function") == 0) {
        mlp_predict(m, s->grid, s->n, out);
        return LS_OK;
    }
    const double *g = reference(s);
    for (size_t i = 0; i < s->n; i++)
        out[i] = g ? g[i] : NAN;
    return LS_OK;
}
