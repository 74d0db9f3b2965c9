/* loss.h — training losses on a model's outputs (logits) and the classification metrics.
 *
 * A loss maps a batch's outputs z [n][C] and targets y [n] to a number and, on request, to
 * dL/dz [n][C]. Losses: `mse` (1/N)·Σᵢ Σ_c (z_ic − t_ic)² with t = y (one output) or one-hot(y)
 * (C outputs); `bce` on logits; `cross_entropy` over a softmax; and the soft-set confusion losses
 * `soft_f1` and `soft_accuracy` of Tsoi et al. 2022 (docs/theory.md §5), whose value depends on
 * the whole batch at once. Knows nothing of models, MPI or HDF5. */
#ifndef LAZYSWEEP_LOSS_H
#define LAZYSWEEP_LOSS_H

#include <stddef.h>

#include "lazysweep/data.h"

enum ls_loss {
    LS_LOSS_MSE = 0,
    LS_LOSS_BCE,
    LS_LOSS_CROSS_ENTROPY,
    LS_LOSS_SOFT_F1,
    LS_LOSS_SOFT_ACCURACY,
};

/* Name (train.loss) → loss; LS_ENOTFOUND if unknown. */
int loss_find(const char *name, enum ls_loss *out);

/* Does the loss fit the task? mse fits every task (one-hot targets for classes); bce and the
 * soft-set losses need binary labels, cross_entropy classes. On a mismatch writes why to msg. */
int loss_check_task(enum ls_loss loss, enum ls_task task, char *msg, size_t len);

/* Is the loss a mean of per-sample terms? Then a batch can be evaluated in row chunks
 * (loss_value with n < N); the soft-set losses are not and need the whole batch at once. */
int loss_decomposable(enum ls_loss loss);

/* The share of rows [0, n) of a batch of N samples in its loss: for a decomposable loss
 * (1/N)·Σ_{i<n} ℓᵢ, and dz[i][c] = (1/N)·∂ℓᵢ/∂z_ic when dz != NULL (overwritten). The soft-set
 * losses need n == N (NaN otherwise); their dz is the exact subgradient of the piecewise-linear
 * Heaviside (at a kink, the slope of the segment to its right). */
double loss_value(enum ls_loss loss, const double *z /* [n][C] */, const double *y /* [n] */,
                  size_t n, size_t C, size_t N, double *dz /* [n][C] or NULL */);

/* ---- the soft-set pieces, exposed for tests -------------------------------------------------- */

#define LS_SOFTSET_DELTA 0.2 /* H_τ(τ ∓ τ_m/2) = ½ ∓ (½ − δ) */
#define LS_SOFTSET_EPS 1e-7  /* ε of P, R and F₁ */
#define LS_SOFTSET_N_TAU 9   /* τ = 0.1, 0.2, …, 0.9 */

/* The piecewise-linear Heaviside H_τ(p) on [0, 1] through (0,0), (τ − τ_m/2, δ), (τ, ½),
 * (τ + τ_m/2, 1 − δ), (1,1), τ_m = min(τ, 1 − τ); its slope into *slope when non-NULL. */
double softset_heaviside(double p, double tau, double *slope);

/* Soft counts at threshold τ over probabilities p [n] and labels y [n]: out = {TP, FN, FP, TN}. */
void softset_counts(const double *p, const double *y, size_t n, double tau, double out[4]);

/* ---- metrics on outputs ------------------------------------------------------------------- */

/* Hard confusion counts of a binary task: a sample is predicted positive when its
 * probability is >= 0.5 (σ(z) for a logit loss, z itself under mse). out = {TP, FN, FP, TN}. */
void loss_confusion(enum ls_loss loss, const double *z /* [n] */, const double *y /* [n] */,
                    size_t n, double out[4]);

/* Number of correctly classified rows: binary by the rule above, classes by argmax (the first
 * maximum on ties). */
size_t loss_correct(enum ls_loss loss, enum ls_task task, const double *z /* [n][C] */,
                    const double *y /* [n] */, size_t n, size_t C);

#endif
