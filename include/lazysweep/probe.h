/* probe.h — lazy-vs-rich diagnostics of an mlp on a fixed probe set of P training inputs.
 *
 * At θ₀ (create) the probe set is drawn from the training set (stream `diag.probe` keyed by
 * (n_train, P): a partial Fisher–Yates shuffle from the top), and θ₀, f(θ₀), the hidden units'
 * on/off pattern and the tangent kernel K₀ are kept. At a parameter vector θ:
 *   weight_change        ‖θ − θ₀‖/‖θ₀‖ over every parameter; per layer l (W_l and b_l of every
 *                        tower) weight_change_layer_l
 *   activation_change    fraction of (probe input, hidden unit) pairs whose sign of the
 *                        pre-activation differs from θ₀'s (0 for a linear activation)
 *   ntk_change           ‖K − K₀‖_F/‖K₀‖_F
 *   kernel_alignment     ⟨K, YYᵀ⟩_F/(‖K‖_F‖YYᵀ‖_F): Y = y (regression), 2y − 1 (binary), one-hot
 *                        (classes); for one output ‖YYᵀ‖_F = ‖y‖²
 *   linearization_gap    ‖f(θ) − f_lin(θ)‖/‖f(θ) − f(θ₀)‖, f_lin = f(θ₀) + J(θ₀)(θ − θ₀) by one
 *                        forward-mode pass (NaN where f(θ) = f(θ₀), as at step 0)
 *   sample_confusion     η = max(0, −min_{i≠j} ⟨∇ℓ_i, ∇ℓ_j⟩) over the probe set
 *   sample_cos_min       min_{i≠j} cos(∇ℓ_i, ∇ℓ_j)
 * K is the empirical tangent kernel K_ij = Σ_c ⟨∇f_c(x_i), ∇f_c(x_j)⟩ (the trace over outputs of
 * the C×C-block kernel), over every trained parameter, biases included, computed by the Gram
 * trick of jac.h; so are the per-sample loss gradients' inner products. */
#ifndef LAZYSWEEP_PROBE_H
#define LAZYSWEEP_PROBE_H

#include <stddef.h>

#include "lazysweep/cfg.h"
#include "lazysweep/data.h"
#include "lazysweep/diag.h"
#include "lazysweep/model.h"

struct probe;

/* What one evaluation computes (a job asks only for some). */
enum { PROBE_KERNEL = 1, PROBE_LIN = 2, PROBE_ACT = 4, PROBE_SAMPLE = 8 };

struct probe_values {
    double weight_change, layer[DIAG_LAYER_MAX];
    double activation_change, ntk_change, kernel_alignment, linearization_gap;
    double sample_confusion, sample_cos_min;
};

/* theta0 (n_params) must outlive the probe. */
int probe_create(const struct ls_job *job, const struct ls_data *data, const struct ls_model *m,
                 const double *theta0, unsigned want, struct probe **out);
void probe_destroy(struct probe **p);

/* Every wanted value at the parameters theta. */
void probe_compute(struct probe *p, const double *theta, struct probe_values *out);

/* For tests: P, the probe rows' indices in the training set [P], and after probe_compute the
 * tangent kernel K [P][P] and the per-sample loss-gradient Gram matrix G [P][P] (when wanted). */
size_t probe_size(const struct probe *p);
const size_t *probe_index(const struct probe *p);
const double *probe_kernel(const struct probe *p);
const double *probe_sample_gram(const struct probe *p);

/* The tangent kernel of m at theta on rows X [n][d] into K [n][n] (n <= the probe's P): the Gram
 * trick on its own, for the benchmark and the tests. */
void probe_kernel_of(struct probe *p, const double *theta, const double *X, size_t n, double *K);

#endif
