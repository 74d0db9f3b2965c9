/* mlp.h — the "mlp" model family: fully connected networks d → width (× depth) → C.
 *
 * The network g has `depth` hidden layers of `width` units with activation relu | leaky_relu |
 * tanh | linear, optional biases, and C outputs (1 for regression and binary tasks, n_classes
 * for classes). Under the ntk parametrization every weight matrix is multiplied by 1/√fan_in in
 * the forward pass and initialized √fan_in times larger, so the function at initialization is
 * the same in both parametrizations and only the training dynamics differ.
 *
 * The trained function is f(x) = c·(h(x; w) − h(x; w₀)) with
 *   h = g                       (one tower), or
 *   h = (√2/2)(g₁ − g₂)          (antisymmetric: two towers, g₂ a copy of g₁ at init, so h(w₀) ≡ 0)
 * and c = 1 without centering (scale_mode weights: every initial parameter, weights and biases,
 * multiplied by α), or c = α with centering (scale_mode output, Chizat & Bach's centered model).
 *
 * Parameter arena: for each tower, for each layer l = 0 … depth, W_l [out][in] row-major then
 * b_l [out] when biases are on. The gradient arena has the same layout. The family is used
 * through its ops table; this header adds views of the layers for tests and pruners. */
#ifndef LAZYSWEEP_MLP_H
#define LAZYSWEEP_MLP_H

#include <stddef.h>

#include "lazysweep/model.h"

/* The family's ops table (registered in model.c). */
extern const struct ls_model_ops mlp_ops;

/* One linear layer of one tower, as views into the model's arenas. */
struct mlp_layer {
    size_t in, out;    /* fan-in, fan-out */
    double mult;       /* forward multiplier of W: 1, or 1/√in under ntk */
    double *W, *gW;    /* [out][in] weights and their gradient */
    double *b, *gb;    /* [out] biases and their gradient; NULL without biases */
    const double *act; /* [rows][out] output of the last forward (after the activation for a
                          hidden layer, raw for the last), rows = its batch (or last chunk) */
};

/* Linear layers per tower (depth + 1), towers (1, or 2 when antisymmetric), outputs C. */
size_t mlp_n_layers(const struct ls_model *m);
size_t mlp_n_towers(const struct ls_model *m);
size_t mlp_n_outputs(const struct ls_model *m);

/* The network's shape and choices, for code that runs its own passes over the same parameters
 * (the diagnostics: diag.h). act: 0 relu, 1 leaky_relu, 2 tanh, 3 linear. */
struct mlp_spec {
    size_t d, width, C, L, T; /* input dim, hidden width, outputs, hidden layers, towers */
    int act;                  /* 0 relu, 1 leaky_relu, 2 tanh, 3 linear */
    double slope;             /* leaky_relu's slope for z < 0 */
    int bias;                 /* biases on */
    double c;                 /* output scale: α under scale_mode output, else 1 */
    double sign[2];           /* tower signs: {1} or {√2/2, −√2/2} */
    int centered;             /* f = c·(h(w) − h(w₀)) with one tower */
    const double *mult;       /* [L+1] forward multiplier of W_l */
    int loss;                 /* enum ls_loss */
    int task;                 /* enum ls_task */
};
void mlp_get_spec(const struct ls_model *m, struct mlp_spec *out);

/* Views of layer l of tower t; LS_EINVAL when out of range. */
int mlp_layer(struct ls_model *m, size_t t, size_t l, struct mlp_layer *out);

/* f(x) at the current parameters for rows X [n][d] into out [n][C] (in chunks of the model's
 * row capacity, so any n works). */
void mlp_predict(struct ls_model *m, const double *X, size_t n, double *out);

/* Rows one forward/backward pass holds (fixed at create); larger batches run in chunks. */
size_t mlp_chunk_rows(const struct ls_model *m);

/* Lower the rows of one pass to 1 <= rows <= the current value (the buffers stay): lets tests
 * run the chunked paths on small data. LS_EINVAL otherwise. */
int mlp_set_chunk_rows(struct ls_model *m, size_t rows);

/* A pruned net runs each layer whose mask keeps less than `threshold` of its weights as sparse ×
 * dense products (sparse.h), the others as masked dense ones; the numbers are the same up to
 * summation order. create sets the measured default (SPARSE_DENSITY in mlp.c); 0 makes every
 * layer dense, anything above 1 every pruned layer sparse (for tests and benchmarks). No effect
 * on an unpruned net. */
int mlp_set_sparse(struct ls_model *m, double threshold);

#endif
