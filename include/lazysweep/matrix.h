/* matrix.h — the "matrix" model family: depth-D matrix factorization for symmetric matrix
 * completion and sensing (Gunasekar et al. 2017; Arora et al. 2019), trained on the data kinds
 * matrix_completion and matrix_sensing (data_matrix.c).
 *
 * W = U₁U₂⋯U_D with U₁ ∈ ℝ^{dim×k}, U₂ … U_{D−1} ∈ ℝ^{k×k}, U_D ∈ ℝ^{k×dim} (k = model.width,
 * D = model.depth >= 2): the asymmetric product, started mirrored, U_{D+1−i}(0) = U_i(0)ᵀ (and
 * the middle factor of an odd D symmetric), so W(0) is symmetric. Both data kinds make the
 * gradient of the loss a symmetric matrix whenever W is, and then gradient descent keeps the
 * mirror exactly (the update of U_{D+1−i} is the transpose of U_i's), so the trained W is
 * symmetric up to rounding and D = 2 is W = UUᵀ with U = U₁. This avoids defining "symmetric
 * deep products" for odd D, and the metric `asymmetry` shows the mirror holding.
 *
 * Initialization (model.init), at scale α = model.init_scale:
 *   identity  U₁ = α·E (E the first k columns of I_dim, or I_dim padded with zero columns when
 *             k > dim), middle factors α·I_k, U_D = U₁ᵀ: W(0) = α^D·diag(1, …, 1, 0, …) (the α·I
 *             of Gunasekar et al. when k >= dim);
 *   gaussian  U₁ = α·G₁/√k, U_i = α·G_i/√k for 1 < i <= D/2, their mirrors, and for odd D the
 *             middle factor α·H/√k symmetrized (H_pq and H_qp replaced by (H_pq + H_qp)/√2, so
 *             every entry keeps variance α²/k); G, H standard normal from streams keyed by (dim,
 *             k, factor index) only, so every α and depth of a seed shares them.
 * Loss: the mean squared error over the observed entries (completion) or measurements (sensing),
 * (1/n)·Σᵢ (⟨xᵢ, vec W⟩ − yᵢ)², no ½, as the other families.
 * Metrics: test_error ‖W − W*‖²_F / ‖W*‖²_F (all entries), nuclear_norm Σσᵢ(W), effective_rank
 * exp(−Σ pᵢ log pᵢ) with pᵢ = σᵢ/Σσ (Roy & Vetterli 2007), asymmetry ‖W − Wᵀ‖_F/‖W‖_F. */
#ifndef LAZYSWEEP_MATRIX_H
#define LAZYSWEEP_MATRIX_H

#include "lazysweep/model.h"

#define LS_MATRIX_MAX_DEPTH 32

/* The family's ops table (registered in model.c). */
extern const struct ls_model_ops matrix_ops;

/* The current product W [dim][dim] (row-major), recomputed from the parameters on every call;
 * the array belongs to the model (valid until its next call or destroy). */
const double *matrix_W(struct ls_model *m);

/* View of factor i (0-based, i < D) in the parameter arena, with its shape. */
double *matrix_factor(struct ls_model *m, int i, size_t *rows, size_t *cols);

#endif
