/* resume.c — start-up reconciliation of journal and results file (see resume.h). */
#include "lazysweep/resume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lazysweep/error.h"
#include "lazysweep/result.h"

#define REPLAY_BATCH 256

/* State shared by the two passes over the journal. */
struct scan_ctx {
    const struct ls_job *job;
    size_t T;
    struct ls_resume *rs;
    const uint8_t *file_status; /* pass 2: status of each row in the file, NULL = replay all */
    struct ls_store *target;    /* pass 2: where rows go */
    struct ls_result batch[REPLAY_BATCH];
    struct ls_result *ptrs[REPLAY_BATCH];
    size_t n_batch;
    uint8_t *seen;              /* pass 2: rows already replayed (duplicates keep the first) */
    char *msg;
    size_t len;
};

/* Decode one record and find its row in the current grid. LS_EMISMATCH (with msg) when the
 * record cannot belong to this grid. */
static int locate(struct scan_ctx *c, const unsigned char *p, size_t n, struct ls_result *r,
                  uint64_t *row)
{
    if (result_decode(p, n, r) != LS_OK)
        return LS_ECORRUPT; /* undecodable despite a good CRC: the callers skip it */
    if (r->n_metrics != c->job->n_metrics || r->n_traj != c->job->n_traj || r->n_steps != c->T ||
        r->n_vec != cfg_vector_total(c->job)) {
        snprintf(c->msg, c->len,
                 "the journal's records have %u metrics, %u trajectories of %u steps; this job has "
                 "%zu, %zu of %zu (did train.max_steps or train.log change?)",
                 r->n_metrics, r->n_traj, r->n_steps, c->job->n_metrics, c->job->n_traj, c->T);
        return LS_EMISMATCH;
    }
    const char *axis = NULL;
    if (grid_find_key(&c->job->grid, r->key, row, &axis) != LS_OK) {
        snprintf(c->msg, c->len,
                 "finished point {%s} is not in the grid any more (axis '%s' lost its value); "
                 "restore the value, or use --fresh to start over",
                 r->key, axis ? axis : "?");
        return LS_EMISMATCH;
    }
    r->index = *row;
    return LS_OK;
}

/* Pass 1: the status of every finished point, from the journal alone. */
static int count_record(const unsigned char *p, size_t n, void *arg)
{
    struct scan_ctx *c = arg;
    struct ls_result r = {0};
    uint64_t row;
    int rc = locate(c, p, n, &r, &row);
    if (rc == LS_OK && c->rs->status[row] == LS_ST_PENDING && r.status != LS_ST_PENDING) {
        c->rs->status[row] = (uint8_t)r.status;
        c->rs->count[r.status]++;
        c->rs->count[LS_ST_PENDING]--;
    }
    result_free(&r);
    return rc == LS_EMISMATCH ? rc : LS_OK;
}

static int flush_batch(struct scan_ctx *c)
{
    int rc = c->n_batch ? store_write(c->target, c->ptrs, c->n_batch) : LS_OK;
    c->rs->replayed += c->n_batch;
    c->n_batch = 0;
    return rc;
}

/* Pass 2: write the rows the file lacks. */
static int replay_record(const unsigned char *p, size_t n, void *arg)
{
    struct scan_ctx *c = arg;
    struct ls_result *r = &c->batch[c->n_batch];
    uint64_t row;
    if (locate(c, p, n, r, &row) != LS_OK || c->seen[row])
        return LS_OK;
    c->seen[row] = 1;
    if (c->file_status && c->file_status[row] == r->status)
        return LS_OK;
    c->ptrs[c->n_batch++] = r;
    return c->n_batch == REPLAY_BATCH ? flush_batch(c) : LS_OK;
}

static int replay(struct scan_ctx *c, const char *jpath, struct ls_store *target,
                  const uint8_t *file_status)
{
    struct ls_journal_scan scan = {0};
    c->target = target;
    c->file_status = file_status;
    c->n_batch = 0;
    memset(c->seen, 0, c->job->grid.n_points);
    int rc = journal_read(jpath, replay_record, c, &scan);
    free(scan.canonical);
    if (rc == LS_OK)
        rc = flush_batch(c);
    return rc;
}

/* The file cannot be used as it is: write a new one from the journal beside it, then rename it
 * over, so a reader or a kill never sees a half-built file under the real name. */
static int rebuild(struct scan_ctx *c, const char *out, const char *jpath, const int64_t *steps,
                   const char *versions)
{
    char tmp[4200];
    struct ls_store *s = NULL;
    snprintf(tmp, sizeof tmp, "%s.rebuild", out);
    int rc = store_create(tmp, c->job, steps, c->T, versions, &s);
    if (rc == LS_OK)
        rc = replay(c, jpath, s, NULL);
    store_close(&s);
    if (rc == LS_OK && rename(tmp, out) != 0) {
        snprintf(c->msg, c->len, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
        rc = LS_EIO;
    }
    if (rc != LS_OK)
        unlink(tmp);
    c->rs->rebuilt = 1;
    return rc;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A new sweep: a journal with its header, and a file with every row pending. */
static int start_new(const struct ls_job *job, const char *out, const char *jpath,
                     const int64_t *steps, size_t T, const char *versions, struct ls_resume *rs,
                     char *msg, size_t len)
{
    if (file_exists(out)) {
        snprintf(msg, len,
                 "%s exists but has no journal (%s), so it is not a resumable sweep of this job; "
                 "refusing to overwrite it (use --fresh to replace it, or -o for another file)",
                 out, jpath);
        return LS_EMISMATCH;
    }
    rs->created = 1;
    int rc = journal_create(jpath, job->hash, job->canonical, &rs->journal);
    if (rc == LS_OK)
        rc = store_create(out, job, steps, T, versions, &rs->store);
    if (rc != LS_OK)
        snprintf(msg, len, "cannot create %s or %s: %s", out, jpath, ls_strerror(rc));
    return rc;
}

/* Read the journal's header and pass 1. LS_ENOTFOUND means: start a new sweep. */
static int read_journal(struct scan_ctx *c, const char *jpath, struct ls_journal_scan *scan)
{
    struct stat st;
    int rc = journal_read(jpath, count_record, c, scan);
    if (rc == LS_ECORRUPT && stat(jpath, &st) == 0 && st.st_size == 0) {
        /* Killed between creating the journal and writing its header: nothing was recorded. */
        unlink(jpath);
        return LS_ENOTFOUND;
    }
    if (rc == LS_ECORRUPT)
        snprintf(c->msg, c->len,
                 "%s has no valid header, so none of it can be trusted; move it away or use "
                 "--fresh to start over",
                 jpath);
    if (rc != LS_OK || scan->job_hash == c->job->hash)
        return rc;
    char changed[LS_ERR_MAX] = "";
    cfg_diff(scan->canonical ? scan->canonical : "", c->job->canonical, changed, sizeof changed);
    snprintf(c->msg, c->len,
             "the results were made by a different experiment; changed: %s. Use --fresh to start "
             "over, or -o for another file",
             changed[0] ? changed : "(unknown)");
    return LS_EMISMATCH;
}

/* Open the existing file, or rebuild it, and replay the rows it lacks. */
static int sync_file(struct scan_ctx *c, const char *out, const char *jpath,
                     const int64_t *steps, const char *versions)
{
    size_t n = c->job->grid.n_points;
    uint8_t *file_status = malloc(n ? n : 1);
    int rc = file_status ? store_open(out, c->job, c->T, &c->rs->store) : LS_ENOMEM;
    if (rc == LS_OK)
        rc = store_read_status(c->rs->store, file_status);
    if (rc == LS_OK)
        rc = replay(c, jpath, c->rs->store, file_status);
    if (rc != LS_OK && rc != LS_ENOMEM) {
        store_close(&c->rs->store);
        fprintf(stderr, "lazysweep: rebuilding %s from its journal (%s)\n", out,
                file_exists(out) ? ls_strerror(rc) : "file missing");
        c->rs->replayed = 0;
        rc = rebuild(c, out, jpath, steps, versions);
        if (rc == LS_OK)
            rc = store_open(out, c->job, c->T, &c->rs->store);
    }
    free(file_status);
    return rc;
}

int resume_open(const struct ls_job *job, const char *out, int fresh, const int64_t *steps,
                size_t T, const char *versions, struct ls_resume *rs, char *msg, size_t len)
{
    char jpath[4200];
    struct ls_journal_scan scan = {0};
    struct scan_ctx *c = calloc(1, sizeof *c);
    uint64_t n = job->grid.n_points;
    memset(rs, 0, sizeof *rs);
    msg[0] = '\0';
    snprintf(jpath, sizeof jpath, "%s.journal", out);
    rs->status = calloc(n ? n : 1, 1);
    int rc = (c && rs->status) ? LS_OK : LS_ENOMEM;
    if (rc != LS_OK)
        goto cleanup;
    *c = (struct scan_ctx){.job = job, .T = T, .rs = rs, .msg = msg, .len = len};
    c->seen = calloc(n ? n : 1, 1);
    LS_CHECK_ALLOC(c->seen);
    rs->count[LS_ST_PENDING] = n;
    if (fresh) {
        unlink(out);
        unlink(jpath);
    }
    rc = read_journal(c, jpath, &scan);
    if (rc == LS_ENOTFOUND) {
        rc = start_new(job, out, jpath, steps, T, versions, rs, msg, len);
        goto cleanup;
    }
    if (rc != LS_OK)
        goto cleanup;
    if (scan.n_bad)
        fprintf(stderr, "lazysweep: %s: dropped %zu damaged record(s); their points will run again\n",
                jpath, scan.n_bad);
    LS_CALL(journal_open(jpath, &scan, &rs->journal));
    LS_CALL(sync_file(c, out, jpath, steps, versions));
cleanup:
    if (c) {
        for (size_t i = 0; i < REPLAY_BATCH; i++)
            result_free(&c->batch[i]);
        free(c->seen);
    }
    free(c);
    free(scan.canonical);
    if (rc != LS_OK && !msg[0])
        snprintf(msg, len, "cannot open the results of %s: %s", out, ls_strerror(rc));
    if (rc != LS_OK)
        resume_close(rs);
    return rc;
}

void resume_close(struct ls_resume *rs)
{
    journal_close(&rs->journal);
    store_close(&rs->store);
    free(rs->status);
    rs->status = NULL;
}
