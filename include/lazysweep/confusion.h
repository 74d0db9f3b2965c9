/* confusion.h — gradient confusion of an mlp (Sankararaman et al. 2020), by the paper's protocol.
 *
 * At each logged step: `confusion.pairs` pairs of disjoint mini-batches of `confusion.batch`
 * training samples (each pair: a partial Fisher–Yates shuffle from the top of 0 … n−1 takes 2B
 * distinct rows, the first B one batch and the next B the other, from the stream
 * `diag.confusion` keyed by (n, B, pairs), which continues from one logged step to the next);
 * the cosine of the two batches' gradients of the training loss (a mean over the batch, no
 * weight decay). Metrics over the pairs: grad_cos_min, grad_cos_mean, grad_cos_p05 (the 5th
 * percentile, numpy's linear interpolation) and grad_cos_negative (the fraction below 0). */
#ifndef LAZYSWEEP_CONFUSION_H
#define LAZYSWEEP_CONFUSION_H

#include <stddef.h>

#include "lazysweep/cfg.h"
#include "lazysweep/data.h"
#include "lazysweep/model.h"

struct confusion;

struct confusion_values {
    double min, mean, p05, negative;
};

/* theta0 (n_params) must outlive it (the centered model's f needs h(θ₀)). */
int confusion_create(const struct ls_job *job, const struct ls_data *data, const struct ls_model *m,
                     const double *theta0, struct confusion **out);
void confusion_destroy(struct confusion **c);

/* New draws, the cosines at theta on data's training rows, and their statistics. */
void confusion_compute(struct confusion *c, const double *theta, const struct ls_data *data,
                       struct confusion_values *out);

/* The cosines [pairs] and batch rows [pairs][2][B] of the last compute. */
const double *confusion_cosines(const struct confusion *c);
const size_t *confusion_rows(const struct confusion *c);
size_t confusion_pairs(const struct confusion *c);
size_t confusion_batch(const struct confusion *c);

/* Statistics of x [n] (sorted in place). */
void confusion_stats(double *x, size_t n, struct confusion_values *out);

#endif
