/* sweep.c — the coordinator and worker loops of one sweep over MPI (protocol in sweep.h).
 *
 * Messages (tag: payload):
 *   READY  worker→0  u8 flags (bit 0: the worker was signalled), u32 count, count × (u32 len, a
 *                    result record as result_encode bytes) — the results of its last batch
 *   WORK   0→worker  u64 point indices, most expensive first
 *   STOP   0→worker  empty; the worker abandons what it runs, answers BYE and leaves the loop
 *   BYE    worker→0  f64 CPU seconds the worker used (for the coordinator-overhead figure) */
#include "lazysweep/sweep.h"

#include <cblas.h>
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lazysweep/error.h"
#include "lazysweep/lock.h"
#include "lazysweep/model.h"
#include "lazysweep/pace.h"
#include "lazysweep/result.h"
#include "lazysweep/resume.h"
#include "lazysweep/train.h"

enum { TAG_READY = 1, TAG_WORK, TAG_STOP, TAG_BYE };

#define QUEUE_ROWS 1024         /* results buffered before an HDF5 batch write */
#define FLUSH_EVERY 0.25        /* s between HDF5 batch writes + flushes */
#define SYNC_EVERY 1.0          /* s between journal fdatasyncs (docs/architecture.md §4: at least once a s) */
#define BATCH_SECONDS 0.02      /* work handed out per message, so messaging never dominates */
#define MAX_BATCH 4096
#define STOP_GRACE 5.0          /* s to wait for workers after a signal before abandoning them */

static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
    g_signal = sig;
}

void sweep_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

/* Sleep between polls: short while messages flow, up to 1 ms when idle, so the waiting side
 * costs a fraction of a percent of a core instead of the whole core MPI's blocking calls spin. */
static void nap(double *us)
{
    *us = *us <= 0 ? 20 : fmin(*us * 2, 1000);
    struct timespec ts = {0, (long)(*us * 1000)};
    nanosleep(&ts, NULL);
}

/* Estimated cost of point `index` (flops over its whole step budget); pj holds a point of job
 * (cfg_point), so that only the swept keys change: a job is ~10 KB, and a grid may have 10⁶
 * points. */
static double point_cost(const struct ls_job *job, uint64_t index, struct ls_job *pj)
{
    if (cfg_point_axes(job, index, pj) != LS_OK)
        return 0;
    const struct ls_model_ops *ops = model_find(pj->model.family);
    return ops ? ops->flops_per_step(pj) * (double)pj->train.max_steps : 0;
}

double sweep_total_cost(const struct ls_job *job)
{
    struct ls_job pj;
    double total = 0;
    if (job->grid.n_points == 0 || cfg_point(job, 0, &pj) != LS_OK)
        return 0;
    for (uint64_t i = 0; i < job->grid.n_points; i++)
        total += point_cost(job, i, &pj);
    return total;
}

/* ---- coordinator ------------------------------------------------------------------------- */

struct coord {
    const struct ls_job *job;
    const struct ls_sweep_opts *opts;
    const int64_t *steps;
    size_t T;
    struct ls_resume rs;
    uint64_t *order;        /* pending points, most expensive first */
    size_t n_order, next;   /* next = first not yet handed out */
    struct ls_result queue[QUEUE_ROWS];
    struct ls_result *qptr[QUEUE_ROWS];
    size_t nq;
    double t_start, t_flush, t_progress;
    uint64_t finished_run;  /* points finished in this run */
    double seconds_run;     /* their summed training seconds, for batch sizing */
    int stopping;
};

struct order_item {
    double cost;
    uint64_t index;
};

static int by_cost_desc(const void *a, const void *b)
{
    const struct order_item *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* The pending points, most expensive first (ties by index, so the order is deterministic). */
static int build_order(struct coord *c)
{
    uint64_t n = c->job->grid.n_points;
    struct order_item *items = malloc((n ? n : 1) * sizeof *items);
    c->order = malloc((n ? n : 1) * sizeof *c->order);
    if (!items || !c->order) {
        free(items);
        return LS_ENOMEM;
    }
    struct ls_job pj;
    c->n_order = 0;
    if (n > 0 && cfg_point(c->job, 0, &pj) != LS_OK) {
        free(items);
        return LS_EINVAL;
    }
    for (uint64_t i = 0; i < n; i++)
        if (c->rs.status[i] == LS_ST_PENDING)
            items[c->n_order++] = (struct order_item){point_cost(c->job, i, &pj), i};
    qsort(items, c->n_order, sizeof *items, by_cost_desc);
    for (size_t i = 0; i < c->n_order; i++)
        c->order[i] = items[i].index;
    free(items);
    return LS_OK;
}

static uint64_t n_finished(const struct coord *c)
{
    return c->job->grid.n_points - c->rs.count[LS_ST_PENDING];
}

/* One progress line on stderr: plain lines when stderr is not a terminal (logs), one rewritten
 * line when it is. */
static void progress(struct coord *c, int final)
{
    double t = now_mono(), el = t - c->t_start;
    if (c->opts->quiet || (!final && t - c->t_progress < c->opts->progress_every))
        return;
    c->t_progress = t;
    uint64_t total = c->job->grid.n_points, fin = n_finished(c);
    double rate = el > 0 ? (double)c->finished_run / el : 0;
    char eta[32] = "-", pace[48];
    if (rate > 0 && fin < total)
        pace_duration(eta, sizeof eta, (double)(total - fin) / rate);
    pace_rate(pace, sizeof pace, rate);
    int tty = isatty(STDERR_FILENO);
    fprintf(stderr, "%slazysweep: %llu/%llu finished (%llu diverged, %llu timeout, %llu failed), "
                    "%s, ETA %s%s",
            tty ? "\r" : "", (unsigned long long)fin, (unsigned long long)total,
            (unsigned long long)c->rs.count[LS_ST_DIVERGED],
            (unsigned long long)c->rs.count[LS_ST_TIMEOUT],
            (unsigned long long)c->rs.count[LS_ST_FAILED], pace, eta,
            tty && !final ? "   " : "\n");
}

/* Write the queued rows to the file and flush them for SWMR readers. Their journal records are
 * made durable first, so a row in the file always has a record that survives a node crash. */
static int write_rows(struct coord *c)
{
    int rc = LS_OK;
    if (c->nq) {
        rc = journal_sync(c->rs.journal, 0);
        if (rc == LS_OK)
            rc = store_write(c->rs.store, c->qptr, c->nq);
        if (rc == LS_OK)
            rc = store_flush(c->rs.store);
        c->nq = 0;
    }
    c->t_flush = now_mono();
    return rc;
}

/* A finished point: journal first (the authority), then the row queue for the file. */
static int accept_result(struct coord *c, const unsigned char *bytes, size_t len)
{
    struct ls_result *r = &c->queue[c->nq];
    int rc = result_decode(bytes, len, r);
    if (rc != LS_OK || r->index >= c->job->grid.n_points || r->status == LS_ST_PENDING)
        return rc != LS_OK ? rc : LS_ECORRUPT;
    if (c->rs.status[r->index] != LS_ST_PENDING)
        return LS_OK; /* a duplicate can only come from a bug; never count or write it twice */
    rc = journal_append(c->rs.journal, bytes, len);
    if (rc != LS_OK)
        return rc;
    c->rs.status[r->index] = (uint8_t)r->status;
    c->rs.count[LS_ST_PENDING]--;
    c->rs.count[r->status]++;
    c->finished_run++;
    c->seconds_run += isfinite(r->seconds) ? r->seconds : 0;
    c->qptr[c->nq++] = r;
    return c->nq == QUEUE_ROWS ? write_rows(c) : LS_OK;
}

/* Periodic work while the sweep runs: batch writes, journal syncs, progress. */
static int housekeeping(struct coord *c, int force)
{
    int rc = LS_OK;
    if (force || (c->nq && now_mono() - c->t_flush > FLUSH_EVERY))
        rc = write_rows(c);
    if (rc == LS_OK)
        rc = journal_sync(c->rs.journal, force ? 0 : SYNC_EVERY);
    progress(c, 0);
    return rc;
}

static char g_host[LS_HOST_MAX] = "?";

static int poll_signal(void *arg)
{
    (void)arg;
    return g_signal != 0;
}

/* Train one point here and encode its record into *buf (grown as needed). */
static int run_point(const struct ls_job *job, uint64_t index, const int64_t *steps, size_t T,
                     int rank, ls_poll_fn poll, void *arg, unsigned char **buf, size_t *len,
                     size_t *cap)
{
    struct ls_result r;
    int rc = result_init(&r, (uint32_t)job->n_metrics, (uint32_t)job->n_traj, (uint32_t)T,
                         cfg_vector_total(job));
    if (rc == LS_OK)
        rc = train_point(job, index, steps, T, &r, poll, arg);
    if (rc == LS_OK) {
        r.rank = rank;
        snprintf(r.host, sizeof r.host, "%s", g_host);
        size_t need = result_size(&r);
        if (*cap < need) {
            unsigned char *nb = realloc(*buf, need);
            rc = nb ? LS_OK : LS_ENOMEM;
            if (nb) {
                *buf = nb;
                *cap = need;
            }
        }
        if (rc == LS_OK) {
            result_encode(&r, *buf);
            *len = need;
        }
    }
    result_free(&r);
    return rc;
}

/* With one rank the coordinator trains the points itself, in the same order. */
static int serial_loop(struct coord *c)
{
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = LS_OK;
    while (rc == LS_OK && c->next < c->n_order && !g_signal) {
        rc = run_point(c->job, c->order[c->next], c->steps, c->T, 0, poll_signal, NULL, &buf,
                       &len, &cap);
        if (rc == LS_EINTR) {
            rc = LS_OK;
            break;
        }
        c->next++;
        if (rc == LS_OK)
            rc = accept_result(c, buf, len);
        if (rc == LS_OK)
            rc = housekeeping(c, 0);
    }
    free(buf);
    return rc;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Accept every result of a READY message; returns its flags through *flags. */
static int accept_ready(struct coord *c, const unsigned char *msg, size_t len, int *flags)
{
    if (len < 5)
        return LS_ECORRUPT;
    *flags = msg[0];
    uint32_t count = get_u32(msg + 1);
    size_t off = 5;
    for (uint32_t i = 0; i < count; i++) {
        if (len - off < 4 || len - off - 4 < get_u32(msg + off))
            return LS_ECORRUPT;
        uint32_t n = get_u32(msg + off);
        int rc = accept_result(c, msg + off + 4, n);
        if (rc != LS_OK)
            return rc;
        off += 4 + (size_t)n;
    }
    return LS_OK;
}

/* How many points to hand out at once: about BATCH_SECONDS of work by the average so far, never
 * more than a fair share of what is left, so cheap points don't drown in messages and the last
 * points still spread over every worker. */
static size_t batch_size(const struct coord *c, int workers)
{
    size_t left = c->n_order - c->next;
    double avg = c->finished_run ? c->seconds_run / (double)c->finished_run : 1.0;
    double want = avg > 0 ? BATCH_SECONDS / avg : MAX_BATCH;
    size_t b = want < 1 ? 1 : want > MAX_BATCH ? MAX_BATCH : (size_t)want;
    size_t fair = (left + 2 * (size_t)workers - 1) / (2 * (size_t)workers);
    if (b > fair)
        b = fair;
    return b ? b : 1;
}

struct farm {
    int workers;          /* size - 1 */
    int active;           /* workers that have not said BYE */
    char *stop_sent;      /* [size] STOP already sent to this rank */
    double worker_cpu;    /* summed from BYE messages */
    double deadline;      /* after a signal: abandon workers past this time */
};

static void send_stop(struct farm *f, int w)
{
    if (!f->stop_sent[w]) {
        MPI_Send(NULL, 0, MPI_BYTE, w, TAG_STOP, MPI_COMM_WORLD);
        f->stop_sent[w] = 1;
    }
}

/* Stop handing out points: tell every worker to abandon what it runs. */
static void begin_stop(struct coord *c, struct farm *f)
{
    if (c->stopping)
        return;
    c->stopping = 1;
    f->deadline = now_mono() + STOP_GRACE;
    for (int w = 1; w <= f->workers; w++)
        send_stop(f, w);
}

/* Answer a worker that is ready: its next batch, or STOP. */
static void hand_out(struct coord *c, struct farm *f, int w)
{
    if (c->stopping || c->next >= c->n_order) {
        send_stop(f, w);
        return;
    }
    size_t b = batch_size(c, f->workers);
    MPI_Send(&c->order[c->next], (int)b, MPI_UINT64_T, w, TAG_WORK, MPI_COMM_WORLD);
    c->next += b;
}

/* Receive the message that MPI_Iprobe found and act on it. */
static int handle(struct coord *c, struct farm *f, const MPI_Status *st, unsigned char **buf,
                  size_t *cap)
{
    int n = 0, flags = 0, rc = LS_OK;
    MPI_Get_count(st, MPI_BYTE, &n);
    if ((size_t)n > *cap) {
        unsigned char *nb = realloc(*buf, (size_t)n);
        if (!nb)
            return LS_ENOMEM;
        *buf = nb;
        *cap = (size_t)n;
    }
    MPI_Recv(*buf, n, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (st->MPI_TAG == TAG_BYE) {
        double cpu;
        memcpy(&cpu, *buf, sizeof cpu);
        f->worker_cpu += cpu;
        f->active--;
        return LS_OK;
    }
    rc = accept_ready(c, *buf, (size_t)n, &flags);
    if (flags & 1)
        begin_stop(c, f); /* a worker was signalled: the whole sweep stops */
    hand_out(c, f, st->MPI_SOURCE);
    return rc;
}

/* The coordinator's loop with workers; *abandoned is set when workers did not answer in time. */
static int farm_loop(struct coord *c, int size, double *worker_cpu, int *abandoned)
{
    struct farm f = {.workers = size - 1, .active = size - 1};
    unsigned char *buf = NULL;
    size_t cap = 0;
    double us = 0;
    int rc = LS_OK;
    f.stop_sent = calloc((size_t)size, 1);
    if (!f.stop_sent)
        return LS_ENOMEM;
    while (f.active > 0 && rc == LS_OK) {
        int flag = 0;
        MPI_Status st;
        if (g_signal)
            begin_stop(c, &f);
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (flag) {
            rc = handle(c, &f, &st, &buf, &cap);
            us = 0;
        }
        /* Also between messages, so a steady stream of results cannot starve flushes. */
        if (rc == LS_OK)
            rc = housekeeping(c, 0);
        if (flag)
            continue;
        if (c->stopping && now_mono() > f.deadline) {
            *abandoned = 1;
            break;
        }
        nap(&us);
    }
    *worker_cpu = f.worker_cpu;
    free(buf);
    free(f.stop_sent);
    return rc;
}

/* ---- worker ------------------------------------------------------------------------------ */

/* Abandon the running point when this rank was signalled or the coordinator said STOP. */
static int poll_worker(void *arg)
{
    (void)arg;
    int flag = 0;
    if (g_signal)
        return 1;
    MPI_Iprobe(0, TAG_STOP, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
    return flag;
}

/* The READY message being assembled: header, then (len, record) pairs. */
struct ready_msg {
    unsigned char *buf;
    size_t len, cap;
    uint32_t count;
};

static int ready_reserve(struct ready_msg *m, size_t extra)
{
    if (m->len + extra <= m->cap)
        return LS_OK;
    size_t cap = 2 * (m->len + extra);
    unsigned char *nb = realloc(m->buf, cap);
    if (!nb)
        return LS_ENOMEM;
    m->buf = nb;
    m->cap = cap;
    return LS_OK;
}

/* Train a batch of points; stops early (keeping the finished ones) when asked to. */
static int run_batch(const struct ls_job *job, const int64_t *steps, size_t T, int rank,
                     const uint64_t *idx, int n, struct ready_msg *m)
{
    unsigned char *rec = NULL;
    size_t len = 0, cap = 0;
    int rc = LS_OK;
    m->len = 5;
    m->count = 0;
    for (int i = 0; i < n && rc == LS_OK && !poll_worker(NULL); i++) {
        rc = run_point(job, idx[i], steps, T, rank, poll_worker, NULL, &rec, &len, &cap);
        if (rc == LS_EINTR)
            rc = LS_OK; /* abandoned: the point stays pending and runs on resume */
        else if (rc == LS_OK && (rc = ready_reserve(m, 4 + len)) == LS_OK) {
            put_u32(m->buf + m->len, (uint32_t)len);
            memcpy(m->buf + m->len + 4, rec, len);
            m->len += 4 + len;
            m->count++;
        }
    }
    free(rec);
    return rc;
}

static void send_ready(struct ready_msg *m)
{
    m->buf[0] = g_signal ? 1 : 0;
    put_u32(m->buf + 1, m->count);
    MPI_Send(m->buf, (int)m->len, MPI_BYTE, 0, TAG_READY, MPI_COMM_WORLD);
}

static int worker_loop(const struct ls_job *job, const int64_t *steps, size_t T, int rank)
{
    struct ready_msg m = {0};
    uint64_t *idx = malloc(MAX_BATCH * sizeof *idx);
    int rc = (idx && ready_reserve(&m, 5) == LS_OK) ? LS_OK : LS_ENOMEM;
    m.len = 5;
    if (rc == LS_OK)
        send_ready(&m);
    while (rc == LS_OK) {
        int flag = 0, n = 0;
        double us = 0;
        MPI_Status st;
        while (!flag) {
            MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
            if (!flag)
                nap(&us);
        }
        MPI_Get_count(&st, MPI_UINT64_T, &n);
        MPI_Recv(idx, MAX_BATCH, MPI_UINT64_T, 0, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (st.MPI_TAG == TAG_STOP)
            break;
        rc = run_batch(job, steps, T, rank, idx, n, &m);
        if (rc == LS_OK)
            send_ready(&m);
    }
    double cpu = cpu_seconds();
    MPI_Send(&cpu, (int)sizeof cpu, MPI_BYTE, 0, TAG_BYE, MPI_COMM_WORLD);
    free(idx);
    free(m.buf);
    return rc;
}

/* ---- the sweep --------------------------------------------------------------------------- */

/* "key=value" lines of the library versions recorded in the results file. */
static void versions_text(char *buf, size_t len)
{
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int n = 0;
    MPI_Get_library_version(mpi, &n);
    mpi[strcspn(mpi, "\n,")] = '\0';
    snprintf(buf, len, "openblas_version=%s\nopenblas_core=%s\nmpi_version=%s\n",
             openblas_get_config(), openblas_get_corename(), mpi);
}

/* Lock, reconcile journal and file, order the pending points. Returns an exit code. */
static int coord_start(struct coord *c, struct ls_lock *lk)
{
    char msg[LS_ERR_MAX + 256] = "", versions[1024];
    int stale = 0;
    int rc = lock_take(c->opts->out, lk, &stale, msg, sizeof msg);
    if (rc != LS_OK || stale)
        fprintf(stderr, "lazysweep: %s\n", msg);
    if (rc != LS_OK)
        return LS_EXIT_USAGE;
    versions_text(versions, sizeof versions);
    rc = resume_open(c->job, c->opts->out, c->opts->fresh, c->steps, c->T, versions, &c->rs, msg,
                     sizeof msg);
    if (rc != LS_OK) {
        fprintf(stderr, "lazysweep: %s: %s\n", c->opts->out, msg);
        return rc == LS_EMISMATCH ? LS_EXIT_USAGE : LS_EXIT_INTERNAL;
    }
    if (!c->rs.created && !c->opts->quiet)
        fprintf(stderr, "lazysweep: resuming %s: %llu of %llu points already finished%s\n",
                c->opts->out, (unsigned long long)n_finished(c),
                (unsigned long long)c->job->grid.n_points, c->rs.rebuilt ? " (file rebuilt)" : "");
    if (c->rs.verified && !c->opts->quiet)
        fprintf(stderr, "lazysweep: checked %zu rows against the journal in %.3f s (%.0f rows/s): "
                        "%zu rewritten, %zu reset to pending; %zu value(s) of /grid, /point, "
                        "/trajectories/step or /job rewritten\n",
                c->rs.verified, c->rs.verify_seconds,
                c->rs.verify_seconds > 0 ? (double)c->rs.verified / c->rs.verify_seconds : 0.0,
                c->rs.rewritten, c->rs.reset, c->rs.fixed);
    rc = store_start_swmr(c->rs.store);
    if (rc == LS_OK)
        rc = build_order(c);
    return rc == LS_OK ? LS_EXIT_OK : LS_EXIT_INTERNAL;
}

/* Close everything and decide the exit code. */
static int coord_finish(struct coord *c, int rc, double t_cpu0, double worker_cpu, int size)
{
    if (rc == LS_OK)
        rc = housekeeping(c, 1);
    progress(c, 1);
    uint64_t pending = c->rs.count[LS_ST_PENDING];
    double coord_cpu = cpu_seconds() - t_cpu0;
    if (!c->opts->quiet && size > 1 && worker_cpu > 0)
        fprintf(stderr, "lazysweep: coordinator CPU %.3f s = %.2f%% of the workers' %.3f s\n",
                coord_cpu, 100 * coord_cpu / worker_cpu, worker_cpu);
    for (size_t i = 0; i < QUEUE_ROWS; i++)
        result_free(&c->queue[i]);
    resume_close(&c->rs);
    free(c->order);
    if (rc != LS_OK) {
        fprintf(stderr, "lazysweep: internal error: %s\n", ls_strerror(rc));
        return LS_EXIT_INTERNAL;
    }
    if (pending == 0) {
        if (!c->opts->quiet)
            fprintf(stderr, "lazysweep: sweep complete: %s\n", c->opts->out);
        return LS_EXIT_OK;
    }
    fprintf(stderr, "lazysweep: stopped with %llu points pending; rerun the same command to "
                    "resume\n",
            (unsigned long long)pending);
    return LS_EXIT_INCOMPLETE;
}

static int coordinator(const struct ls_job *job, const struct ls_sweep_opts *opts,
                       const int64_t *steps, size_t T, int size)
{
    static struct coord c; /* large (the row queue): keep it off the stack */
    struct ls_lock lk = {.fd = -1};
    double t_cpu0 = cpu_seconds(), worker_cpu = 0;
    int abandoned = 0;
    memset(&c, 0, sizeof c);
    c = (struct coord){.job = job, .opts = opts, .steps = steps, .T = T};
    c.t_start = c.t_flush = c.t_progress = now_mono();
    int code = coord_start(&c, &lk);
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (code != LS_EXIT_OK) {
        resume_close(&c.rs);
        free(c.order);
        lock_release(&lk);
        return code;
    }
    int rc = size > 1 ? farm_loop(&c, size, &worker_cpu, &abandoned) : serial_loop(&c);
    code = coord_finish(&c, rc, t_cpu0, worker_cpu, size);
    lock_release(&lk);
    if (abandoned || code == LS_EXIT_INTERNAL) {
        /* Workers that did not answer (or a broken coordinator) cannot reach MPI_Finalize: the
         * file is closed and the journal synced, so ending the job here loses nothing. */
        if (abandoned)
            fprintf(stderr, "lazysweep: workers did not stop within %.0f s; abandoning them\n",
                    STOP_GRACE);
        MPI_Abort(MPI_COMM_WORLD, code == LS_EXIT_INTERNAL ? code : LS_EXIT_INCOMPLETE);
    }
    return code;
}

int sweep_run(const struct ls_job *job, const struct ls_sweep_opts *opts)
{
    int rank = 0, size = 1, code;
    int64_t *steps = NULL;
    size_t T = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    gethostname(g_host, sizeof g_host - 1);
    /* One BLAS thread per rank: ranks are the parallelism, and threads would break bitwise
     * reproducibility across rank counts. */
    openblas_set_num_threads(1);
    if (train_schedule(job->max_steps_all, job->train.log_points, job->train.log_spacing, &steps,
                       &T) != LS_OK)
        return LS_EXIT_INTERNAL;
    if (rank == 0) {
        code = coordinator(job, opts, steps, T, size);
    } else {
        MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (code == LS_EXIT_OK && worker_loop(job, steps, T, rank) != LS_OK)
            fprintf(stderr, "lazysweep: rank %d: worker failed\n", rank);
    }
    /* Everyone leaves with the coordinator's verdict (the coordinator aborts the job instead of
     * returning when workers cannot be reached). */
    if (size > 1)
        MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    free(steps);
    return code;
}
