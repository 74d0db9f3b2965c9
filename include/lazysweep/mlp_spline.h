/* mlp_spline.h — the spline limit of a wide shallow ReLU mlp on 1-D data, per point
 * (docs/spline.md; the numerics are theory_spline.h).
 *
 * For an mlp with one hidden ReLU layer trained on points1d data: the first layer's (weight,
 * bias) distribution as the job draws it, the reference g (the ζ-weighted spline through the
 * data minus the network at init, plus that network back), the metrics spline_distance and
 * spline_distance_max over the job's grid, and the stored vectors `function` (f on the grid)
 * and `reference` (g on the grid). The reference is solved once per point, the first time a
 * metric or vector asks; every buffer is allocated at create, none in the training loop. */
#ifndef LAZYSWEEP_MLP_SPLINE_H
#define LAZYSWEEP_MLP_SPLINE_H

#include <stddef.h>

#include "lazysweep/cfg.h"
#include "lazysweep/data.h"
#include "lazysweep/model.h"
#include "lazysweep/theory_spline.h"

struct mlp_spline;

/* Is `name` one of the spline metrics or vectors? Does the job ask for any of them? */
int mlp_spline_metric(const char *name);
int mlp_spline_vector_name(const char *name);
int mlp_spline_wanted(const struct ls_job *job);

/* The job's rules for them (only when wanted): one hidden relu layer with biases, mse, points1d
 * data, a first layer whose biases are random, a grid of at most 10⁶ points. */
int mlp_spline_check(const struct ls_job *job, const char **key, char *msg, size_t len);

/* The first layer's distribution under the job's init, variance and scales (LS_EINVAL if its
 * biases are all 0). init_scale (scale_mode weights) multiplies both by α, which multiplies ζ by
 * α² and leaves the reference unchanged, so it is left out. */
int mlp_spline_init(const struct ls_job *job, struct spline_init *out);

/* Points of the job's grid (0 for a bad grid). */
size_t mlp_spline_grid_len(const struct ls_job *job);

/* After the model's parameters are drawn: the network at init on the data and the grid. */
int mlp_spline_create(const struct ls_job *job, struct ls_model *m, const struct ls_data *d,
                      struct mlp_spline **out);
void mlp_spline_destroy(struct mlp_spline **s);

/* A spline metric of the model's current function (LS_ENOTFOUND for other names; NaN if the
 * reference could not be solved). */
int mlp_spline_eval(struct mlp_spline *s, struct ls_model *m, const char *name, double *out);
/* `function` or `reference` on the grid into out [grid_len]. */
int mlp_spline_vector(struct mlp_spline *s, struct ls_model *m, const char *name, double *out);

#endif
