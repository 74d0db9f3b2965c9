/* diag.h — what happens inside an mlp while it trains: lazy-vs-rich diagnostics on a probe set
 * (probe.h) and gradient confusion (confusion.h), as opt-in metrics with trajectories.
 *
 * The mlp family creates one `struct diag` per point when its job lists any of these metrics or
 * vectors, right after drawing θ₀, and asks it for them at every logged step. Everything here
 * reads the parameters and the data and writes only its own buffers, and its random draws come
 * from streams of its own (`diag.probe`, `diag.confusion`), so a job gives the same losses and
 * parameters, bit for bit, with and without diagnostics. Values are computed once per distinct
 * parameter vector (compared bit for bit), so the metrics of one logged step share one pass. */
#ifndef LAZYSWEEP_DIAG_H
#define LAZYSWEEP_DIAG_H

#include <stddef.h>

#include "lazysweep/cfg.h"
#include "lazysweep/data.h"
#include "lazysweep/model.h"

#define DIAG_LAYER_MAX 10 /* weight_change_layer_0 … _9 */

/* The metric names, for the family's list (a trailing comma each). */
#define DIAG_METRICS                                                                               \
    "weight_change", "weight_change_layer_0", "weight_change_layer_1", "weight_change_layer_2",    \
        "weight_change_layer_3", "weight_change_layer_4", "weight_change_layer_5",                 \
        "weight_change_layer_6", "weight_change_layer_7", "weight_change_layer_8",                 \
        "weight_change_layer_9", "activation_change", "ntk_change", "kernel_alignment",            \
        "linearization_gap", "sample_confusion", "sample_cos_min", "grad_cos_min",                 \
        "grad_cos_mean", "grad_cos_p05", "grad_cos_negative",
/* The stored vectors (`store:`), likewise. */
#define DIAG_VECTORS "grad_cosines", "confusion_batches", "probe_index",

struct diag;

/* Is `name` one of DIAG_METRICS? */
int diag_has_metric(const char *name);

/* The job's own checks of these metrics (probe.size and 2·confusion.batch within the training
 * set, per-sample metrics only for losses that are means over samples); sets *key and msg. */
int diag_check(const struct ls_job *job, const char **key, char *msg, size_t len);

/* Bytes the diagnostics of this job add, for a network of input dimension d and C outputs. */
double diag_memory(const struct ls_job *job, size_t d, size_t C);

/* For a model m just initialized (its parameters are θ₀) on data: *out = NULL when the job asks
 * for no diagnostic. */
int diag_create(const struct ls_job *job, const struct ls_data *data, struct ls_model *m,
                struct diag **out);
void diag_destroy(struct diag **dg);

/* A metric at m's current parameters; LS_ENOTFOUND when dg is NULL or the metric is not one of
 * these. */
int diag_eval(struct diag *dg, struct ls_model *m, const struct ls_data *d, const char *name,
              double *out);

/* Stored vectors: grad_cosines [confusion.pairs] (the cosines of the last logged step),
 * confusion_batches [pairs][2][batch] (their training-row indices), probe_index [probe.size]. */
size_t diag_vector_len(const struct ls_job *job, const char *name);
int diag_vector(struct diag *dg, struct ls_model *m, const struct ls_data *d, const char *name,
                double *out);

#endif
