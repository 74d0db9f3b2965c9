/* prune.h — pruning at initialization for the mlp family (Tanaka et al. 2020, SynFlow, and the
 * baselines it is compared with): scores, masks, and what the pruned network is measured by.
 *
 * A point with model.sparsity s > 0 is pruned once, after its parameters are drawn and before
 * step 0. The prunable parameters are the weights of every layer (and the biases with
 * prune.prune_bias); of their number N exactly keep(N, 1 − s) = round(N·(1 − s)) (half up) stay.
 * In each of n = prune.iterations rounds the kept parameters are scored on the network as it is
 * (pruned entries zero), and the best keep(N, d_k) of them stay, d_k = (1 − s)^(k/n) after round
 * k (schedule exponential) or 1 − s·k/n (linear); a pruned entry never comes back. Ties are broken
 * by the position in the parameter arena, lowest first. scope global ranks all prunable entries
 * together; scope layer gives every prunable layer the same density, its count allotted by the
 * largest remainder so the total is still exact.
 *
 * Scores (higher = kept), g = ∇L and H = ∇²L of the training loss on `samples` training rows:
 *   random     a standard normal draw (stream "prune.random")
 *   magnitude  |θ|
 *   snip       |g ⊙ θ|
 *   grasp      θ ⊙ (H g): GraSP (Wang et al. 2020) removes the entries of largest −θ ⊙ Hg (their
 *              S(−θ)), i.e. keeps the largest θ ⊙ Hg. H g is exact (a forward-over-reverse pass,
 *              prune_hvp), with the Hessian over every parameter, biases included.
 *   synflow    |θ ⊙ ∂R/∂θ|, R = 1ᵀ(∏_l |W_l|)1 (+ the |b| terms with biases) on the network with
 *              every parameter replaced by its absolute value and an all-ones input, whatever the
 *              activation (the linear path network of Tanaka et al.)
 * An antisymmetric network has one mask shared by both copies, so f ≡ 0 still holds at step 0:
 * an entry's score is the sum of the two copies' scores (SynFlow per copy, each its own R).
 *
 * The pruned entries are exactly 0 from step 0 on: the family zeroes their gradient (so momentum,
 * Adam's moments and weight decay never move them) and, on its descend path, the parameters. */
#ifndef LAZYSWEEP_PRUNE_H
#define LAZYSWEEP_PRUNE_H

#include <stddef.h>
#include <stdint.h>

#include "lazysweep/cfg.h"
#include "lazysweep/data.h"
#include "lazysweep/model.h"

enum prune_method { PRUNE_RANDOM, PRUNE_MAGNITUDE, PRUNE_SNIP, PRUNE_GRASP, PRUNE_SYNFLOW };

struct ls_prune;

/* Metric names prune_eval answers (NULL-terminated). */
extern const char *const prune_metrics[];

/* Does this point need pruning state: s > 0, or a pruning metric or vector requested? */
int prune_wanted(const struct ls_job *job);

/* Rules across keys: grasp needs a loss with a Hessian (mse, bce, cross_entropy). */
int prune_check(const struct ls_job *job, const char **key, char *msg, size_t len);

/* Score and mask the mlp m in place (its parameters are set to 0 where pruned) for the job's
 * sparsity, on the point's own training data d. */
int prune_create(const struct ls_job *job, const struct ls_data *d, struct ls_model *m,
                 struct ls_prune **out);
void prune_destroy(struct ls_prune **p);

/* [n_params] 1 kept, 0 pruned, in the parameter arena's layout, held by the family during training
 * whenever s > 0 (even if it kept everything); NULL at s = 0. */
const double *prune_mask(const struct ls_prune *p);

/* x[i] = 0 where mask[i] == 0, exactly (a select, so no −0 and no NaN·0). */
void prune_apply(const double *mask, double *x, size_t n);

/* density, layer_collapse, min_layer_density, effective_density, synflow_r (prune.c says what
 * each is); LS_ENOTFOUND for another name. */
int prune_eval(const struct ls_prune *p, const char *name, double *out);

/* Per-point vectors: masks and scores [n_params] (scores: the last round's, 0 elsewhere),
 * layer_density [layers]. Lengths for a job of n_params parameters and `layers` linear layers
 * (0: not a pruning vector). */
size_t prune_vector_len(const char *name, size_t n_params, size_t layers);
int prune_vector(const struct ls_prune *p, const char *name, double *out);

/* ---- the pieces, public for the tests ---- */

/* round(n·density), half up, in [0, n]. */
int64_t prune_keep(int64_t n, double density);

/* Density after round k of n (1 <= k <= n) towards final density 1 − s: (1 − s)^(k/n) or
 * 1 − s·k/n; exactly 1 − s at k = n. */
double prune_round_density(double s, int64_t k, int64_t n, int exponential);

/* Scores of every parameter of m at its current values into scores [n_params] (0 at entries that
 * are not prunable); samples is the batch the data-dependent scores see; rng_state the random
 * method's stream (continued across rounds). For synflow, *R gets tower 0's R (else untouched). */
int prune_scores(const struct ls_job *job, enum prune_method method, struct ls_model *m,
                 const struct ls_data *samples, void *rng_state, double *scores, double *R);

/* SynFlow of tower t alone: scores [n_params] (only tower t's entries written), returns R. */
double prune_synflow(const struct ls_job *job, struct ls_model *m, size_t t, double *scores);

/* The exact gradient g [n_params] and Hessian-vector product hv = ∇²L·v [n_params] of the
 * training loss on d, at m's parameters (forward-over-reverse: one forward pass carrying the
 * tangent of every activation along v, one backward pass carrying the tangent of every
 * gradient). Needs a loss with a Hessian (mse, bce, cross_entropy). */
int prune_hvp(const struct ls_job *job, struct ls_model *m, const struct ls_data *d,
              const double *v, double *g, double *hv);

#endif
