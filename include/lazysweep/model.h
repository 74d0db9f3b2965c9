/* model.h — model families as ops tables, and the one layout every family shares.
 *
 * A model owns one arena of parameters and one of gradients with the identical layout, so the
 * optimizer is a flat loop over n_params (llm.c). A family is one file with one `struct
 * ls_model_ops` and one line in the registry (model.c). Knows nothing of MPI or HDF5. */
#ifndef LAZYSWEEP_MODEL_H
#define LAZYSWEEP_MODEL_H

#include <stddef.h>

#include "lazysweep/cfg.h"
#include "lazysweep/data.h"

struct ls_model;

struct ls_model_ops {
    const char *name;           /* model.family */
    const char *const *metrics; /* NULL-terminated names eval() understands */
    const char *const *default_metrics; /* used when the job lists none */
    /* Family-specific validation of a job (after the key table's own checks). On failure sets
     * *key to the offending dotted path and writes the message. */
    int (*check)(const struct ls_job *job, const char **key, char *msg, size_t len);
    double (*flops_per_step)(const struct ls_job *job); /* cost estimate */
    size_t (*memory)(const struct ls_job *job);         /* bytes of params, grads, activations */
    /* Allocate and draw initial parameters for this point's job and data. */
    int (*create)(const struct ls_job *job, const struct ls_data *data, struct ls_model **out);
    void (*destroy)(struct ls_model **m);
    /* Training loss at the current parameters; with grad != 0 also overwrite m->grad. */
    double (*loss)(struct ls_model *m, const struct ls_data *d, int grad);
    /* Optional (NULL: train.c applies optim_step to the gradient of loss()): one step of plain
     * gradient descent on batch d, θ ← θ − lr·∇L(θ; d), computed however the family does it
     * fastest. It may reuse the forward pass of the last loss() call on d; the caller must not
     * change d's rows or the parameters in between (other model calls are fine). m->grad is left
     * undefined. */
    int (*descend)(struct ls_model *m, const struct ls_data *d, double lr);
    /* With descend: the most rows it takes without computing a forward pass again. train.c
     * uses descend only for batches up to this size, and loss() with optim_step otherwise. */
    size_t (*descend_rows)(const struct ls_model *m);
    /* A metric by name at the current parameters (LS_ENOTFOUND if unknown). */
    int (*eval)(struct ls_model *m, const struct ls_data *d, const char *name, double *out);
    /* Per-point vectors the job can keep with `store:`: NULL-terminated names, the length of one
     * for a job (0 = not available), and its value at the current parameters into out[len].
     * "params_init" and "params_final" (the whole parameter arena) are handled by train.c, but
     * the family still reports their length (n_params). */
    const char *const *vectors;
    size_t (*vector_len)(const struct ls_job *job, const char *name);
    int (*vector)(struct ls_model *m, const struct ls_data *d, const char *name, double *out);
};

struct ls_model {
    const struct ls_model_ops *ops;
    size_t n_params;
    double *params; /* [n_params] arena; named views live in the family's impl */
    double *grad;   /* [n_params] same layout as params */
    void *impl;     /* family state (views, activations) */
};

/* Registry lookup by family name, or NULL. */
const struct ls_model_ops *model_find(const char *family);
/* NULL-terminated list of registered family names (for messages and --help). */
const char *const *model_families(void);

/* Is `name` a metric this family can evaluate (train_loss and steps always are)? */
int model_has_metric(const struct ls_model_ops *ops, const char *name);

/* Free the arenas and the model itself and set *mp to NULL; a family's destroy frees its impl
 * first, then calls this. */
void model_release(struct ls_model **mp);

/* 64-byte aligned, zeroed double array (so BLAS kernels see the same alignment on every rank,
 * which keeps results bitwise reproducible). Free with free(). */
double *model_alloc(size_t n);

#endif
