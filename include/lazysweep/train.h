/* train.h — the training loop: optimizer steps, logging schedule, stop and divergence rules.
 *
 * Fills a result record: status done (max_steps, stop_loss, or stop_change reached: |ΔL| over an
 * accepted full-batch update below it), diverged (non-finite loss
 * or loss > 1e6 × initial), timeout (train.max_seconds) — all data, not errors. Knows nothing of
 * MPI or HDF5; a caller-supplied poll function lets a signal abandon a run.
 *
 * A step is one parameter update (optim.h gives the updates and learning-rate rules). With
 * mini-batches (train.batch_size b, 1 <= b < n_train; optim.h's batcher says which rows) step s
 * uses the gradient of batch s; a batch_size of 0 or >= n_train is full-batch training, bit for
 * bit the same as gd. The logged train_loss is always the full training loss (without any weight
 * decay penalty) at the logged step, so trajectories of gd and sgd compare directly; under
 * mini-batches it is computed at step 0, at logged steps, at the final step and — when stop_loss
 * is set — at the end of every epoch (⌈n/b⌉ steps), and stop_loss is checked on those values. A
 * mini-batch run diverges when a batch loss or a full loss is not finite or exceeds 1e6 × the full
 * loss at step 0. Under halve_on_rise (full batch) an undone update still counts as a step: the
 * state after it is the state before it, and its logged loss is that state's. */
#ifndef LAZYSWEEP_TRAIN_H
#define LAZYSWEEP_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "lazysweep/cfg.h"
#include "lazysweep/data.h"
#include "lazysweep/model.h"
#include "lazysweep/result.h"

#define LS_DIVERGE_FACTOR 1e6

/* The logged steps shared by every point: T strictly increasing steps from 0 to max_steps
 * (T = min(log_points, max_steps + 1)), log- or linearly spaced. Trajectory column t holds the
 * state at steps[t]; the last column always holds the point's final state (its step is
 * /metrics/steps), so columns between an early stop and the last one are NaN. */
int train_schedule(int64_t max_steps, int64_t points, const char *spacing, int64_t **steps,
                   size_t *T);

/* Returns nonzero when the run must be abandoned (checked about every 0.1 s). */
typedef int (*ls_poll_fn)(void *arg);

/* Train one point's model in place and fill res (sized by result_init for the job's metrics,
 * trajectories and T). Returns LS_OK (see res->status), LS_EINTR if poll asked to abandon. */
int train_run(const struct ls_job *job, struct ls_model *m, const struct ls_data *d,
              const int64_t *steps, size_t T, struct ls_result *res, ls_poll_fn poll, void *arg);

/* The whole of one point: data, model, training, timing. Used by workers and serial mode.
 * A point whose data or model cannot be built ends with status failed, not an error. */
int train_point(const struct ls_job *base, uint64_t index, const int64_t *steps, size_t T,
                struct ls_result *res, ls_poll_fn poll, void *arg);

#endif
