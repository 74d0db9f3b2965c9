/* diag.c — the diagnostics of an mlp as one object the family holds (diag.h): which metrics a
 * job asks for, θ₀, the cache of the last evaluated parameters, and the dispatch to probe.c and
 * confusion.c. */
#include "lazysweep/diag.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/confusion.h"
#include "lazysweep/error.h"
#include "lazysweep/loss.h"
#include "lazysweep/probe.h"

static const char *const names[] = {DIAG_METRICS NULL};
static const char *const vectors[] = {DIAG_VECTORS NULL};

struct diag {
    size_t np;
    double *theta0;              /* [np] */
    double *last;                /* [np] parameters the values below belong to */
    int probe_fresh, conf_fresh; /* values computed at `last` */
    struct probe *probe;         /* NULL: no probe metric asked for */
    struct confusion *conf;      /* NULL: no confusion metric or vector */
    struct probe_values pv;
    struct confusion_values cv;
};

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

int diag_has_metric(const char *name)
{
    return in_list(name, names);
}

/* What the job asks for: PROBE_* bits, and whether any probe or confusion value. */
static unsigned probe_wants(const struct ls_job *job, int *any_probe, int *any_conf)
{
    unsigned want = 0;
    *any_probe = *any_conf = 0;
    for (size_t i = 0; i < job->n_metrics + job->n_store; i++) {
        const char *m = i < job->n_metrics ? job->metrics[i] : job->store[i - job->n_metrics];
        if (strncmp(m, "grad_cos", 8) == 0 || strcmp(m, "confusion_batches") == 0)
            *any_conf = 1;
        else if (diag_has_metric(m) || strcmp(m, "probe_index") == 0)
            *any_probe = 1;
        if (strcmp(m, "ntk_change") == 0 || strcmp(m, "kernel_alignment") == 0)
            want |= PROBE_KERNEL;
        else if (strcmp(m, "linearization_gap") == 0)
            want |= PROBE_LIN;
        else if (strcmp(m, "activation_change") == 0)
            want |= PROBE_ACT;
        else if (strncmp(m, "sample_", 7) == 0)
            want |= PROBE_SAMPLE;
    }
    return want;
}

int diag_check(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    int any_probe, any_conf;
    unsigned want = probe_wants(job, &any_probe, &any_conf);
    enum ls_loss loss;
    int64_t n = job->data.n_train;
    if (any_probe && job->diag.probe_size > n) {
        *key = "probe.size";
        snprintf(msg, len,
                 "probe.size %lld (128 when not given) is more than the %lld training "
                 "samples: set probe.size to at most %lld",
                 (long long)job->diag.probe_size, (long long)n, (long long)n);
        return LS_EJOB;
    }
    if (any_conf && 2 * job->diag.confusion_batch > n) {
        *key = "confusion.batch";
        snprintf(msg, len,
                 "two disjoint mini-batches of confusion.batch %lld need %lld training "
                 "samples, the data has %lld",
                 (long long)job->diag.confusion_batch, (long long)(2 * job->diag.confusion_batch),
                 (long long)n);
        return LS_EJOB;
    }
    if ((want & PROBE_SAMPLE) && loss_find(job->train.loss, &loss) == LS_OK &&
        !loss_decomposable(loss)) {
        *key = "train.loss";
        snprintf(msg, len,
                 "sample_confusion and sample_cos_min need a loss that is a mean over "
                 "samples, not '%s'",
                 job->train.loss);
        return LS_EJOB;
    }
    return LS_OK;
}

double diag_memory(const struct ls_job *job, size_t d, size_t C)
{
    int any_probe, any_conf;
    unsigned want = probe_wants(job, &any_probe, &any_conf);
    (void)want;
    if (!any_probe && !any_conf)
        return 0;
    double w = (double)job->model.width, L = (double)job->model.depth;
    double np = (1.0 + job->model.antisymmetric) *
                ((double)d * w + (L - 1) * w * w + w * (double)C + L * w + (double)C);
    double P = (double)job->diag.probe_size, B = (double)job->diag.confusion_batch;
    double rows = fmax(P, B), per_row = 2 * (L * w + (double)C) + 2 * fmax(w, (double)C) + d;
    double doubles = 3 * np + (any_probe ? (L + 6) * P * P + np : 0) +
                     (any_conf ? 2 * np + 2.0 * B * (double)job->diag.confusion_pairs : 0) +
                     2 * rows * per_row + (double)job->data.n_train;
    return doubles * sizeof(double);
}

void diag_destroy(struct diag **dp)
{
    if (!dp || !*dp)
        return;
    struct diag *dg = *dp;
    probe_destroy(&dg->probe);
    confusion_destroy(&dg->conf);
    free(dg->theta0);
    free(dg->last);
    free(dg);
    *dp = NULL;
}

int diag_create(const struct ls_job *job, const struct ls_data *data, struct ls_model *m,
                struct diag **out)
{
    int rc = LS_OK, any_probe, any_conf;
    unsigned want = probe_wants(job, &any_probe, &any_conf);
    struct diag *dg = NULL;
    *out = NULL;
    if (!any_probe && !any_conf)
        return LS_OK;
    dg = calloc(1, sizeof *dg);
    LS_CHECK_ALLOC(dg);
    dg->np = m->n_params;
    dg->theta0 = model_alloc(dg->np);
    dg->last = model_alloc(dg->np);
    LS_CHECK_ALLOC(dg->theta0);
    LS_CHECK_ALLOC(dg->last);
    memcpy(dg->theta0, m->params, dg->np * sizeof *dg->theta0);
    if (any_probe)
        LS_CALL(probe_create(job, data, m, dg->theta0, want, &dg->probe));
    if (any_conf)
        LS_CALL(confusion_create(job, data, m, dg->theta0, &dg->conf));
    *out = dg;
    dg = NULL;
cleanup:
    diag_destroy(&dg);
    return rc;
}

/* Marks the values stale when the parameters changed since the last evaluation. */
static void follow(struct diag *dg, const double *theta)
{
    if (memcmp(dg->last, theta, dg->np * sizeof *theta) == 0 && (dg->probe_fresh || dg->conf_fresh))
        return;
    memcpy(dg->last, theta, dg->np * sizeof *theta);
    dg->probe_fresh = dg->conf_fresh = 0;
}

static void need_probe(struct diag *dg, const double *theta)
{
    follow(dg, theta);
    if (!dg->probe_fresh)
        probe_compute(dg->probe, theta, &dg->pv);
    dg->probe_fresh = 1;
}

static void need_conf(struct diag *dg, const double *theta, const struct ls_data *d)
{
    follow(dg, theta);
    if (!dg->conf_fresh)
        confusion_compute(dg->conf, theta, d, &dg->cv);
    dg->conf_fresh = 1;
}

static int probe_metric(const struct probe_values *v, const char *name, double *out)
{
    static const char layer[] = "weight_change_layer_";
    if (strncmp(name, layer, sizeof layer - 1) == 0)
        *out = v->layer[atoi(name + sizeof layer - 1)];
    else if (strcmp(name, "weight_change") == 0)
        *out = v->weight_change;
    else if (strcmp(name, "activation_change") == 0)
        *out = v->activation_change;
    else if (strcmp(name, "ntk_change") == 0)
        *out = v->ntk_change;
    else if (strcmp(name, "kernel_alignment") == 0)
        *out = v->kernel_alignment;
    else if (strcmp(name, "linearization_gap") == 0)
        *out = v->linearization_gap;
    else if (strcmp(name, "sample_confusion") == 0)
        *out = v->sample_confusion;
    else if (strcmp(name, "sample_cos_min") == 0)
        *out = v->sample_cos_min;
    else
        return LS_ENOTFOUND;
    return LS_OK;
}

int diag_eval(struct diag *dg, struct ls_model *m, const struct ls_data *d, const char *name,
              double *out)
{
    if (!dg || !diag_has_metric(name))
        return LS_ENOTFOUND;
    if (strncmp(name, "grad_cos_", 9) == 0) {
        if (!dg->conf)
            return LS_ENOTFOUND;
        need_conf(dg, m->params, d);
        const struct confusion_values *v = &dg->cv;
        *out = strcmp(name, "grad_cos_min") == 0    ? v->min
               : strcmp(name, "grad_cos_mean") == 0 ? v->mean
               : strcmp(name, "grad_cos_p05") == 0  ? v->p05
                                                    : v->negative;
        return LS_OK;
    }
    if (!dg->probe)
        return LS_ENOTFOUND;
    need_probe(dg, m->params);
    return probe_metric(&dg->pv, name, out);
}

size_t diag_vector_len(const struct ls_job *job, const char *name)
{
    if (strcmp(name, "grad_cosines") == 0)
        return (size_t)job->diag.confusion_pairs;
    if (strcmp(name, "confusion_batches") == 0)
        return (size_t)(job->diag.confusion_pairs * 2 * job->diag.confusion_batch);
    if (strcmp(name, "probe_index") == 0)
        return (size_t)job->diag.probe_size;
    return 0;
}

int diag_vector(struct diag *dg, struct ls_model *m, const struct ls_data *d, const char *name,
                double *out)
{
    if (!dg || !in_list(name, vectors))
        return LS_ENOTFOUND;
    if (strcmp(name, "probe_index") == 0) {
        if (!dg->probe)
            return LS_ENOTFOUND;
        for (size_t i = 0; i < probe_size(dg->probe); i++)
            out[i] = (double)probe_index(dg->probe)[i];
        return LS_OK;
    }
    if (!dg->conf)
        return LS_ENOTFOUND;
    need_conf(dg, m->params, d);
    size_t P = confusion_pairs(dg->conf), n = P * 2 * confusion_batch(dg->conf);
    if (strcmp(name, "grad_cosines") == 0)
        memcpy(out, confusion_cosines(dg->conf), P * sizeof *out);
    else
        for (size_t i = 0; i < n; i++)
            out[i] = (double)confusion_rows(dg->conf)[i];
    return LS_OK;
}
