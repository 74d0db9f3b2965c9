/* train.c — the training loop of one grid point: the optimizer step (optim.c) on full or
 * mini-batches, the logging schedule shared by every point, and the stop rules (done, diverged,
 * timeout).
 *
 * Divergence and timeouts are results recorded in the status, never errors. The loop allocates
 * nothing: the model owns its arenas, the optimizer state and batch buffers are allocated once
 * before step 0 (loop_create) and the result record is sized by the caller. Knows nothing of MPI
 * or HDF5; a poll callback lets the caller abandon a run on a signal. */
#include "lazysweep/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lazysweep/error.h"
#include "lazysweep/mem.h"
#include "lazysweep/optim.h"

#define POLL_SECONDS 0.1    /* how often poll() is called */
#define CHECK_MIN 0.001     /* clock checks closer than this (s) are spread out ... */
#define CHECK_MAX 0.01      /* ... and further apart than this are brought closer */
#define CHECK_EVERY_MAX 1024 /* steps between clock checks, at most */
#define SCHEDULE_T_MAX (1 << 30)

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the logging schedule ---- */

/* round(i·M/T1) with ties up, in exact integer arithmetic (i ≤ T1 ≤ 2^30). */
static int64_t linear_value(int64_t i, int64_t M, int64_t T1)
{
    int64_t q = M / T1, rem = M % T1;
    return i * q + (2 * i * rem + T1) / (2 * T1);
}

/* round(M^((i−1)/(T1−1))) for i = 1..T1: geometric from 1 to M over T1 values. */
static int64_t log_value(int64_t i, int64_t M, int64_t T1)
{
    if (i == T1 || T1 == 1)
        return M; /* exactly, whatever pow/exp round to */
    return llround(exp(log((double)M) * (double)(i - 1) / (double)(T1 - 1)));
}

/* Step i is the rounded value, pushed up to one past step i−1 (rounding collapses the small
 * geometric values onto the same integers) and pulled down to M − (T−1−i), the largest value
 * that still leaves room for the steps after it. Both bounds rise by exactly one per step and
 * the lower never exceeds the upper (step i−1 ≤ M − (T−i) by induction), so the result is
 * strictly increasing with steps[0] = 0 and steps[T−1] = M, which needs T ≤ M + 1. (The upper
 * bound is a guarantee against floating-point rounding only: the geometric values lie under the
 * chord from (1, 1) to (T−1, M), which keeps the pushed-up steps below it.) */
static void schedule_fill(int64_t *steps, int64_t T, int64_t M, int is_log)
{
    steps[0] = T == 1 ? M : 0;
    for (int64_t i = 1; i < T; i++) {
        int64_t v = is_log ? log_value(i, M, T - 1) : linear_value(i, M, T - 1);
        int64_t lo = steps[i - 1] + 1, hi = M - (T - 1 - i);
        steps[i] = v < lo ? lo : v > hi ? hi : v;
    }
}

int train_schedule(int64_t max_steps, int64_t points, const char *spacing, int64_t **steps,
                   size_t *T)
{
    *steps = NULL;
    *T = 0;
    int is_log = strcmp(spacing, "log") == 0;
    if (!is_log && strcmp(spacing, "linear") != 0)
        return LS_EINVAL;
    if (max_steps < 0 || points < 1)
        return LS_EINVAL;
    int64_t n = points <= max_steps ? points : max_steps + 1; /* never overflows */
    if (n > SCHEDULE_T_MAX)
        return LS_ERANGE;
    *steps = malloc((size_t)n * sizeof **steps);
    if (!*steps)
        return LS_ENOMEM;
    schedule_fill(*steps, n, max_steps, is_log);
    *T = (size_t)n;
    return LS_OK;
}

/* ---- metrics ---- */

/* train_loss and steps belong to the loop; every other metric is the family's. */
static double metric_value(struct ls_model *m, const struct ls_data *d, const char *name,
                           double L, int64_t s)
{
    double v = NAN;
    if (strcmp(name, "train_loss") == 0)
        return L;
    if (strcmp(name, "steps") == 0)
        return (double)s;
    if (m->ops->eval(m, d, name, &v) != LS_OK)
        return NAN;
    return v;
}

/* Trajectory column `col` of every trajectory metric (res->traj is [n_traj][n_steps]). */
static void log_column(const struct ls_job *job, struct ls_model *m, const struct ls_data *d,
                       struct ls_result *res, size_t col, double L, int64_t s)
{
    for (size_t i = 0; i < job->n_traj; i++)
        res->traj[i * res->n_steps + col] = metric_value(m, d, job->traj[i], L, s);
}

/* Final metrics, and the final state into the last trajectory column as train.h promises. */
static void log_final(const struct ls_job *job, struct ls_model *m, const struct ls_data *d,
                      struct ls_result *res, double L, int64_t s)
{
    for (size_t i = 0; i < job->n_metrics; i++)
        res->metrics[i] = metric_value(m, d, job->metrics[i], L, s);
    if (res->n_steps > 0)
        log_column(job, m, d, res, res->n_steps - 1, L, s);
}

/* ---- the clock: timeouts and polls without a system call on every cheap step ---- */

struct ticker {
    double start, last_check, last_poll; /* monotonic s */
    unsigned every, count;               /* steps between clock checks, steps since the last */
};

enum { TICK_GO, TICK_TIMEOUT, TICK_INTR };

/* The check interval adapts so the clock is read every 1–10 ms whatever a step costs: a model
 * whose step takes a second is still polled about every step, a tiny one is not slowed down. */
static int ticker_step(struct ticker *tk, double max_seconds, ls_poll_fn poll, void *arg)
{
    if (++tk->count < tk->every)
        return TICK_GO;
    tk->count = 0;
    double now = clock_seconds(CLOCK_MONOTONIC);
    if (now - tk->last_check < CHECK_MIN && tk->every < CHECK_EVERY_MAX)
        tk->every *= 2;
    else if (now - tk->last_check > CHECK_MAX && tk->every > 1)
        tk->every /= 2;
    tk->last_check = now;
    if (max_seconds > 0 && now - tk->start > max_seconds)
        return TICK_TIMEOUT;
    if (poll && now - tk->last_poll >= POLL_SECONDS) {
        tk->last_poll = now;
        if (poll(arg))
            return TICK_INTR;
    }
    return TICK_GO;
}

/* ---- the loop ---- */

static int run_valid(const struct ls_job *job, const struct ls_model *m, size_t T,
                     const struct ls_result *res)
{
    if (optim_kind(job->train.optimizer) < 0 || !m || !m->ops || T == 0)
        return LS_EINVAL;
    if (res->n_metrics != job->n_metrics || res->n_traj != job->n_traj || res->n_steps != T)
        return LS_EINVAL;
    return LS_OK;
}

/* Everything a run needs besides the model and the result, allocated once before step 0. */
struct loop {
    const struct ls_job *job;
    struct ls_model *m;
    const struct ls_data *d;   /* the full training set */
    struct ls_optim *opt;
    struct ls_snapshot *snap;  /* halve_on_rise: the state before the last update, else NULL */
    struct ls_batcher *bt;     /* mini-batches, else NULL (full batch) */
    struct ls_data batch;      /* the current mini-batch: X [b][d] and y [b] owned here */
    double lr0;                /* train.lr at this point's axis values */
    double halving;            /* 0.5^(updates undone by halve_on_rise) */
    int64_t epoch_steps;       /* ⌈n/b⌉: steps per epoch under mini-batches */
    double L, L0, L_prev;      /* full training loss now, at step 0, before the last update */
    int fresh;                 /* L is the full loss of the current parameters */
    double change;             /* |ΔL| over the last update (full batch; NaN at step 0 and
                                  after an update halve_on_rise undid), for stop_change */
    int descend;               /* updates by the family's descend op (no stored gradient) */
};

static void loop_destroy(struct loop *lp)
{
    optim_destroy(&lp->opt);
    snapshot_destroy(&lp->snap);
    batcher_destroy(&lp->bt);
    free(lp->batch.X);
    free(lp->batch.y);
}

static int loop_create(struct loop *lp, const struct ls_job *job, struct ls_model *m,
                       const struct ls_data *d)
{
    int rc = LS_OK;
    memset(lp, 0, sizeof *lp);
    lp->job = job;
    lp->m = m;
    lp->d = d;
    lp->lr0 = cfg_scaled(job, &job->train.lr);
    lp->halving = 1.0;
    lp->L = lp->L0 = lp->L_prev = lp->change = NAN;
    LS_CALL(optim_create(job, m->n_params, &lp->opt));
    if (strcmp(job->train.lr_schedule, "halve_on_rise") == 0)
        LS_CALL(snapshot_create(lp->opt, &lp->snap));
    if (optim_minibatch(job) && (size_t)job->train.batch_size < d->n) {
        size_t b = (size_t)job->train.batch_size;
        LS_CALL(batcher_create(job, d->n, b, &lp->bt));
        lp->batch.X = ls_doubles(b * d->d);
        lp->batch.y = ls_doubles(b);
        LS_CHECK_ALLOC(lp->batch.X);
        LS_CHECK_ALLOC(lp->batch.y);
        lp->epoch_steps = (int64_t)((d->n + b - 1) / b);
    }
    /* A family's descend op for plain steps on batches it takes in one pass. */
    size_t rows = lp->bt ? (size_t)job->train.batch_size : d->n;
    lp->descend = m->ops->descend && optim_plain(lp->opt) && !lp->snap &&
                  rows <= m->ops->descend_rows(m);
cleanup:
    if (rc != LS_OK)
        loop_destroy(lp);
    return rc;
}

static int diverged(double L, double L0)
{
    return !isfinite(L) || L > LS_DIVERGE_FACTOR * L0;
}

/* The full training loss of the current parameters, when this step needs it. Full batch: the
 * loss and gradient of every step, and halve_on_rise undoes the last update if the loss rose
 * (or is not finite), restoring the state before it. Mini-batches: the full loss only at step 0,
 * logged steps, the last step, and epoch ends when stop_loss is set. Returns 1 if diverged. */
static int loop_measure(struct loop *lp, int64_t s, int logged)
{
    const struct ls_train_cfg *t = &lp->job->train;
    lp->fresh = 0;
    lp->change = NAN;
    if (lp->bt == NULL) {
        double before = lp->L;
        lp->L = lp->m->ops->loss(lp->m, lp->d, !lp->descend);
        if (lp->snap && s > 0 && !(lp->L <= lp->L_prev)) {
            snapshot_restore(lp->snap, lp->opt, lp->m->params, lp->m->grad);
            lp->L = lp->L_prev;
            lp->halving *= 0.5;
        } else if (s > 0) {
            lp->change = fabs(lp->L - before);
        }
        lp->fresh = 1;
    } else if (s == 0 || logged || s >= t->max_steps ||
               (t->stop_loss > 0 && s % lp->epoch_steps == 0)) {
        lp->L = lp->m->ops->loss(lp->m, lp->d, 0);
        lp->fresh = 1;
    }
    if (s == 0)
        lp->L0 = lp->L;
    return lp->fresh && diverged(lp->L, lp->L0);
}

/* Update s: the mini-batch's loss (checked for divergence first, so a diverged run keeps the
 * parameters it had at step s), then the optimizer at step s's learning rate, or the family's
 * descend op for plain gradient steps (the loss computed just before on the same batch holds
 * the forward pass it may reuse). */
static int loop_update(struct loop *lp, int64_t s)
{
    struct ls_model *m = lp->m;
    const struct ls_data *batch = lp->d;
    if (lp->bt) {
        const size_t *idx;
        size_t b;
        batcher_next(lp->bt, &idx, &b);
        data_gather(lp->d, idx, b, &lp->batch);
        batch = &lp->batch;
        if (diverged(m->ops->loss(m, batch, !lp->descend), lp->L0))
            return 1;
    }
    double lr = optim_lr(lp->job, lp->lr0, s) * lp->halving;
    lp->fresh = 0;
    if (lp->descend) /* fails only on a batch whose loss was NaN, caught above */
        return m->ops->descend(m, batch, lr) != LS_OK;
    if (lp->snap) {
        snapshot_save(lp->snap, lp->opt, m->params, m->grad);
        lp->L_prev = lp->L;
    }
    optim_step(lp->opt, lr, m->params, m->grad);
    return 0;
}

/* Each step s: measure (full loss; divergence); log if scheduled; stop checks; then update s.
 * So the state logged at step s, and the final state, are those before update s. */
int train_run(const struct ls_job *job, struct ls_model *m, const struct ls_data *d,
              const int64_t *steps, size_t T, struct ls_result *res, ls_poll_fn poll, void *arg)
{
    struct loop lp;
    int rc = run_valid(job, m, T, res);
    if (rc == LS_OK)
        rc = loop_create(&lp, job, m, d);
    if (rc != LS_OK)
        return rc;
    double t0 = clock_seconds(CLOCK_MONOTONIC);
    struct ticker tk = {.start = t0, .last_check = t0, .last_poll = t0, .every = 16};
    int64_t s = 0;
    size_t t = 0;
    for (;; s++) {
        while (t < T && steps[t] < s)
            t++;
        int logged = t < T && steps[t] == s;
        if (loop_measure(&lp, s, logged)) {
            res->status = LS_ST_DIVERGED;
            break;
        }
        if (logged)
            log_column(job, m, d, res, t++, lp.L, s);
        if ((lp.fresh && lp.L <= job->train.stop_loss) || s >= job->train.max_steps ||
            lp.change < job->train.stop_change) {
            res->status = LS_ST_DONE;
            break;
        }
        int tick = ticker_step(&tk, job->train.max_seconds, poll, arg);
        if (tick == TICK_INTR) {
            loop_destroy(&lp);
            return LS_EINTR;
        }
        if (tick == TICK_TIMEOUT) {
            res->status = LS_ST_TIMEOUT;
            break;
        }
        if (loop_update(&lp, s)) {
            res->status = LS_ST_DIVERGED;
            break;
        }
    }
    if (!lp.fresh)
        lp.L = m->ops->loss(m, d, 0);
    log_final(job, m, d, res, lp.L, s);
    loop_destroy(&lp);
    return LS_OK;
}

/* Validation again on the worker, so a point that cfg let through but cannot be built is a
 * `failed` row with a reason on stderr rather than a crash. */
static int build_point(const struct ls_job *pj, struct ls_data **data, struct ls_model **m)
{
    char msg[LS_ERR_MAX] = "";
    const char *key = "";
    const struct ls_model_ops *ops = model_find(pj->model.family);
    int rc = ops ? data_check(pj, msg, sizeof msg) : LS_EINVAL;
    if (!ops)
        snprintf(msg, sizeof msg, "unknown model.family '%s'", pj->model.family);
    if (rc == LS_OK)
        rc = ops->check(pj, &key, msg, sizeof msg);
    if (rc == LS_OK)
        rc = data_create(pj, data);
    if (rc == LS_OK)
        rc = ops->create(pj, *data, m);
    if (rc != LS_OK)
        fprintf(stderr, "lazysweep: cannot build point: %s%s%s (%s)\n", key, *key ? ": " : "",
                msg[0] ? msg : "model or data", ls_strerror(rc));
    return rc;
}

/* The job's stored vectors (`store:`) into their slots of res->vec: "params_init" before
 * training (init = 1), the others after it (init = 0). A slot longer than this point's vector
 * keeps its NaN padding. */
static void store_vectors(const struct ls_job *pj, struct ls_model *m, const struct ls_data *d,
                          struct ls_result *res, int init)
{
    size_t off = 0;
    for (size_t i = 0; i < pj->n_store; off += pj->store_len[i], i++) {
        const char *name = pj->store[i];
        size_t len = m->ops->vector_len(pj, name);
        int is_init = strcmp(name, "params_init") == 0;
        if (is_init != init || len > pj->store_len[i] || off + len > res->n_vec)
            continue;
        if (is_init || strcmp(name, "params_final") == 0)
            memcpy(res->vec + off, m->params, (len < m->n_params ? len : m->n_params) * 8);
        else
            m->ops->vector(m, d, name, res->vec + off);
    }
}

int train_point(const struct ls_job *base, uint64_t index, const int64_t *steps, size_t T,
                struct ls_result *res, ls_poll_fn poll, void *arg)
{
    int rc = LS_OK;
    struct ls_job pj;
    struct ls_data *data = NULL;
    struct ls_model *m = NULL;
    double t0 = clock_seconds(CLOCK_MONOTONIC);
    LS_CALL(cfg_point(base, index, &pj));
    res->index = index;
    LS_CALL(grid_point_key(&base->grid, index, res->key, sizeof res->key));
    if (build_point(&pj, &data, &m) != LS_OK) {
        res->status = LS_ST_FAILED;
    } else {
        store_vectors(&pj, m, data, res, 1);
        rc = train_run(&pj, m, data, steps, T, res, poll, arg);
        if (rc == LS_OK)
            store_vectors(&pj, m, data, res, 0);
    }
    if (m)
        m->ops->destroy(&m);
    data_destroy(&data);
    res->seconds = clock_seconds(CLOCK_MONOTONIC) - t0;
    res->finished = clock_seconds(CLOCK_REALTIME);
cleanup:
    return rc;
}
