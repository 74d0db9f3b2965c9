/* optim.h — how one training step moves the parameters: optimizers, learning-rate rules and the
 * mini-batch sampler.
 *
 * Optimizers keep their state in arenas with the parameters' layout (velocity for momentum and
 * nesterov; first and second moments for adam and adamw), allocated once per point by
 * optim_create, so an update is a flat loop over n_params (see model.h). With g = ∇L(θ) on the step's
 * batch, λ the weight decay, η the step's learning rate (train.c):
 *
 *   gd, sgd    θ ← θ − η·(g + λθ)
 *   momentum   v ← μv + (g + λθ);  θ ← θ − η·v                      (PyTorch's SGD, dampening 0)
 *   nesterov   v ← μv + (g + λθ);  θ ← θ − η·((g + λθ) + μv)
 *   adam       g' = g + λθ (L2, as torch.optim.Adam); t ← t + 1; m ← β₁m + (1−β₁)g';
 *              v ← β₂v + (1−β₂)g'²;  θ ← θ − η·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
 *   adamw      the same with g' = g, and decoupled decay first: θ ← θ − ηλθ (torch.optim.AdamW)
 *
 * v and m start at zero (so momentum's first step is θ − η·g, as PyTorch's). Weight decay applies
 * to every parameter, biases included; the logged train_loss never includes the penalty.
 *
 * Learning-rate rules (train.lr_schedule): constant; step — η_s = η₀·f·f·…·f with one factor
 * f = train.lr_decay.factor for every a in train.lr_decay.at with a <= s; halve_on_rise — full
 * batch only: an update after which the loss is higher (or not finite) is undone and η halved
 * (train.c does the bookkeeping with an ls_snapshot). Knows nothing of models, MPI or HDF5. */
#ifndef LAZYSWEEP_OPTIM_H
#define LAZYSWEEP_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "lazysweep/cfg.h"
#include "lazysweep/rng.h"

enum ls_optim_kind {
    LS_OPT_GD,
    LS_OPT_SGD,
    LS_OPT_MOMENTUM,
    LS_OPT_NESTEROV,
    LS_OPT_ADAM,
    LS_OPT_ADAMW
};

struct ls_optim {
    enum ls_optim_kind kind;
    size_t n;            /* parameters */
    double mu;           /* momentum μ */
    double beta1, beta2; /* adam moment decays */
    double eps;          /* adam denominator guard */
    double wd;           /* weight decay λ (already resolved from its coupling) */
    int64_t t;           /* adam: updates taken, for bias correction */
    double *m;           /* [n] momentum velocity or adam first moment; NULL for gd, sgd */
    double *v;           /* [n] adam second moment; NULL otherwise */
};

/* Optimizer by name (train.optimizer); -1 if unknown. */
int optim_kind(const char *name);

/* Does this job train on mini-batches (batch_size >= 1 and < n_train)? */
int optim_minibatch(const struct ls_job *job);

/* Job rules that span several keys (sgd needs a batch size, halve_on_rise a full batch, the
 * step schedule a step list). On failure sets *key to the dotted path to blame. */
int optim_check(const struct ls_job *job, const char **key, char *msg, size_t len);

/* State for n parameters of this job's optimizer, zeroed. */
int optim_create(const struct ls_job *job, size_t n, struct ls_optim **out);
void optim_destroy(struct ls_optim **o);

/* One update of params [n] with learning rate lr. grad [n] is consumed: weight decay is added to
 * it in place (for every optimizer but adamw). */
void optim_step(struct ls_optim *o, double lr, double *params, double *grad);

/* Doubles per parameter a point's optimizer keeps beside the model's params and grads (its
 * moments, and under halve_on_rise a snapshot of all of these): for the memory estimate. */
double optim_state_per_param(const struct ls_job *job);

/* Is o's update θ ← θ − lr·g and nothing else (gd or sgd, no weight decay)? Then a family's
 * descend op may make it in place of optim_step. */
int optim_plain(const struct ls_optim *o);

/* The learning rate of step s: lr0 under constant and halve_on_rise (whose halvings are the
 * loop's), lr0 multiplied by the decay factor once per reached decay step under step. */
double optim_lr(const struct ls_job *job, double lr0, int64_t s);

/* Everything an undone step must restore: parameters, gradient and optimizer state. */
struct ls_snapshot {
    size_t n;
    double *params, *grad; /* [n] each */
    double *m, *v;         /* [n] each where the optimizer has them */
    int64_t t;
};

int snapshot_create(const struct ls_optim *o, struct ls_snapshot **out);
void snapshot_destroy(struct ls_snapshot **s);
void snapshot_save(struct ls_snapshot *s, const struct ls_optim *o, const double *params,
                   const double *grad);
void snapshot_restore(const struct ls_snapshot *s, struct ls_optim *o, double *params,
                      double *grad);

/* Mini-batches without replacement within an epoch. The stream is
 * rng_key(master seed, seed axis, "train.batches", {n, b}); epoch e (0, 1, …) starts from the
 * identity permutation p = (0, …, n−1) and shuffles it by Fisher–Yates from the top:
 *   for i = n−1 down to 1: j = rng_below(r, i + 1); swap p[i], p[j]
 * continuing the same stream from where epoch e−1 stopped. Batch k of the epoch is
 * p[k·b … min((k+1)·b, n) − 1] in that order; the last batch of an epoch is shorter when b does
 * not divide n, so every sample is used once per epoch and an epoch is ⌈n/b⌉ steps. */
struct ls_batcher {
    struct ls_rng r;
    size_t n, b;   /* samples, batch size (1 <= b <= n) */
    size_t pos;    /* next position in perm; 0 = an epoch starts at the next batch */
    int64_t epoch; /* epochs started */
    size_t *perm;  /* [n] this epoch's permutation */
};

int batcher_create(const struct ls_job *job, size_t n, size_t b, struct ls_batcher **out);
void batcher_destroy(struct ls_batcher **bt);
/* The next batch: *idx points at its *len indices (valid until the next call). */
void batcher_next(struct ls_batcher *bt, const size_t **idx, size_t *len);

#endif
