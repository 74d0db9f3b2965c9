/* jac.h — the diagnostics' own passes through an mlp network: forward, backward to the
 * pre-activations of every layer, per-sample Gram matrices by the layer-wise Gram trick, batch
 * gradients, and a forward-mode Jacobian-vector product.
 *
 * These passes read a parameter arena in the mlp layout (mlp.h: tower by tower, layer by layer,
 * W_l [out][in] then b_l [out]) and write only buffers of their own, sized once at create, so
 * the diagnostics never touch the model's activations, gradients or caches: training is the
 * same bit for bit with or without them.
 *
 * For one tower t and rows x_i, let A_l [n][in_l] be the inputs of linear layer l (A_0 = X) and
 * Δ_l [n][out_l] the derivative of a per-row scalar s_i (an output f_c(x_i), or the loss ℓ_i)
 * with respect to layer l's pre-activations Z_l = mult_l·A_l W_lᵀ + b_l. Row i's gradient of s_i
 * with respect to W_l is mult_l·Δ_l[i] ⊗ A_l[i] and with respect to b_l is Δ_l[i], so
 *   ⟨∇s_i, ∇s_j⟩ = Σ_t Σ_l (Δ_lΔ_lᵀ)_ij · (mult_l²·A_lA_lᵀ + [bias])_ij,
 * the towers' parameters being disjoint: per-sample gradients are never formed. */
#ifndef LAZYSWEEP_JAC_H
#define LAZYSWEEP_JAC_H

#include <stddef.h>

#include "lazysweep/mlp.h"
#include "lazysweep/model.h"

struct jac {
    struct mlp_spec s;
    size_t cap;      /* rows one pass holds */
    size_t n_params; /* of the arenas read (the model's) */
    size_t wide;     /* max(width, C) */
    double *acts;    /* [T][L][cap][width] hidden activations after φ */
    double *out;     /* [T][cap][C] raw tower outputs */
    double *h0;      /* [cap][C] h(x; w₀) (centered only) */
    double *f;       /* [cap][C] f of the last forward */
    double *delta;   /* [L+1][cap][wide] Δ_l of the last backward */
    double *tan[2];  /* [cap][wide] tangents of jac_jvp */
    double *ones;    /* [cap] all 1 */
};

/* Buffers for passes of up to `cap` rows through m's network. */
int jac_create(const struct ls_model *m, size_t cap, struct jac **out);
void jac_destroy(struct jac **j);

/* W_l [out][in] and b_l [out] (NULL without biases) of tower t inside the arena theta. */
void jac_views(const struct jac *j, const double *theta, size_t t, size_t l, const double **W,
               const double **b);
/* Offset of tower t's layer l (its W) in the arena, and the layer's parameter count. */
size_t jac_offset(const struct jac *j, size_t t, size_t l);
size_t jac_layer_params(const struct jac *j, size_t l);

/* f(x) = c·(Σ_t sign_t·g_t(x; θ) − [centered] g(x; θ₀)) on X [n][d], n <= cap, into j->f, keeping
 * every tower's activations for jac_backward and jac_input_grams of that tower. */
void jac_forward(struct jac *j, const double *theta, const double *theta0, const double *X,
                 size_t n);

/* After jac_forward on X: Δ_l of every layer of tower t for the per-row scalars whose derivative
 * with respect to f is dF [n][C] (the tower's gain c·sign_t included), into j->delta. With grad
 * (an arena of n_params), adds Σ_i ∇s_i of tower t's parameters to it. */
void jac_backward(struct jac *j, const double *theta, size_t t, const double *X, size_t n,
                  const double *dF, double *grad);

/* After jac_forward on X: S_l = mult_l²·A_lA_lᵀ + [bias]·11ᵀ of tower t, into S [L+1][n][n]
 * (upper triangles). */
void jac_input_grams(const struct jac *j, size_t t, const double *X, size_t n, double *S);

/* After jac_backward: K += Σ_l (Δ_lΔ_lᵀ) ∘ S_l on the upper triangle; tmp [n][n] scratch. */
void jac_gram_add(const struct jac *j, size_t n, const double *S, double *K, double *tmp);

/* Copy the upper triangle of K [n][n] to the lower one. */
void jac_mirror(double *K, size_t n);

/* ḟ = J_f(θ₀)·v on X [n][d] into out [n][C]: forward-mode through the network at θ₀ with the
 * tangent v (an arena of n_params). Uses j's activation buffers. */
void jac_jvp(struct jac *j, const double *theta0, const double *v, const double *X, size_t n,
             double *out);

#endif
