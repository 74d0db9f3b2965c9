/* resume.c — start-up reconciliation of journal and results file (see resume.h).
 *
 * HDF5 checksums the file's metadata but not the values of contiguous datasets, so a bit flipped
 * in a metric or a trajectory, or a row half-written by a kill, would pass unseen. Hence every
 * row is checked against the journal on resume: pass 1 over the journal keeps a CRC-32 of each
 * finished point's values as the file should hold them (4 bytes per point), the check reads the
 * file back in blocks of rows and compares, and only the rows that differ are written again.
 * CRC-32 finds every error burst up to 32 bits long, so any single flipped bit, with certainty. */
#include "lazysweep/resume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "lazysweep/error.h"
#include "lazysweep/result.h"

#define REPLAY_BATCH 256
#define VERIFY_BYTES (8u << 20) /* memory for one block of file rows being checked */
#define VERIFY_MAX_ROWS 65536

enum { ROW_OK, ROW_REPLAY, ROW_RESET }; /* what a row of the file needs (need[]) */

/* State shared by the two passes over the journal. */
struct scan_ctx {
    const struct ls_job *job;
    size_t T;
    struct ls_resume *rs;
    const uint8_t *need;        /* pass 2: ROW_REPLAY for the rows to write, NULL = all */
    uint32_t *digest;           /* [n_points] pass 1: CRC-32 of each finished point's row */
    struct ls_store *target;    /* pass 2: where rows go */
    struct ls_result batch[REPLAY_BATCH];
    struct ls_result *ptrs[REPLAY_BATCH];
    size_t n_batch;
    uint8_t *seen;              /* pass 2: rows already replayed (duplicates keep the first) */
    char *msg;
    size_t len;
    const char *job_text;       /* the bytes /job must hold: the journal's copy of the job file
                                   (the one the file was made with), else the job's own */
    size_t job_len;
    int check_only;             /* lazysweep verify: report differences, change nothing */
    ls_store_diff_fn diff;      /* where check_only reports them */
    void *diff_arg;
    size_t n_diff;
    uint8_t *marks;             /* check_only: what verify found per row, for explain_record */
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

static uLong crc_add(uLong crc, const void *p, size_t n)
{
    /* Rows are at most a few hundred MiB (LS_MAX_VECTOR_TOTAL), within zlib's uInt. */
    return crc32(crc, (const Bytef *)p, (uInt)n);
}

/* The fixed-width head of a row as the file holds it: status byte, seconds, rank, finished, and
 * the host NUL-padded to LS_HOST_MAX (store.c writes it with strncpy). */
static uLong crc_head(uint8_t status, double seconds, int32_t rank, double finished,
                      const char *host)
{
    char h[LS_HOST_MAX] = {0};
    memcpy(h, host, strnlen(host, LS_HOST_MAX));
    uLong crc = crc_add(crc32(0L, Z_NULL, 0), &status, 1);
    crc = crc_add(crc, &seconds, sizeof seconds);
    crc = crc_add(crc, &rank, sizeof rank);
    crc = crc_add(crc, &finished, sizeof finished);
    return crc_add(crc, h, sizeof h);
}

/* CRC-32 of the row a record makes, in the order file_digest reads the file's columns. */
static uint32_t record_digest(const struct ls_result *r)
{
    uLong crc = crc_head((uint8_t)r->status, r->seconds, r->rank, r->finished, r->host);
    crc = crc_add(crc, r->metrics, r->n_metrics * sizeof(double));
    crc = crc_add(crc, r->traj, (size_t)r->n_traj * r->n_steps * sizeof(double));
    return (uint32_t)crc_add(crc, r->vec, r->n_vec * sizeof(double));
}

/* The same CRC over row i of a block of nb rows read from the file. */
static uint32_t file_digest(const struct ls_job *job, size_t T, const struct ls_store_rows *b,
                            size_t nb, size_t i)
{
    uLong crc = crc_head(b->status[i], b->seconds[i], b->rank[i], b->finished[i],
                         b->host + i * LS_HOST_MAX);
    for (size_t k = 0; k < job->n_metrics; k++)
        crc = crc_add(crc, &b->metrics[k * nb + i], sizeof(double));
    for (size_t j = 0; j < job->n_traj; j++)
        crc = crc_add(crc, &b->traj[(j * nb + i) * T], T * sizeof(double));
    for (size_t v = 0, off = 0; v < job->n_store; off += job->store_len[v], v++)
        crc = crc_add(crc, b->vec + nb * off + i * job->store_len[v],
                      job->store_len[v] * sizeof(double));
    return (uint32_t)crc;
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
        c->digest[row] = record_digest(&r);
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
    if (c->need && c->need[row] != ROW_REPLAY)
        return LS_OK;
    c->ptrs[c->n_batch++] = r;
    return c->n_batch == REPLAY_BATCH ? flush_batch(c) : LS_OK;
}

static int replay(struct scan_ctx *c, const char *jpath, struct ls_store *target,
                  const uint8_t *need)
{
    struct ls_journal_scan scan = {0};
    c->target = target;
    c->need = need;
    c->n_batch = 0;
    memset(c->seen, 0, c->job->grid.n_points);
    const struct ls_journal_hint hint = {c->job->hash, c->job->canonical, c->job->text,
                                         c->job->text_len};
    int rc = journal_read_hinted(jpath, &hint, replay_record, c, &scan);
    journal_scan_free(&scan);
    if (rc == LS_OK)
        rc = flush_batch(c);
    return rc;
}

/* Write a file beside `out` (OUT.h5.new), with every row from the journal when `from_journal`,
 * switch it to SWMR and rename it over `out`, keeping it open as rs->store. A reader or a kill
 * thus never meets a half-built file under the real name: h5py (swmr=True) finds the old file or
 * the new one, complete and readable, at every instant. */
static int build_aside(struct scan_ctx *c, const char *out, const char *jpath,
                       const int64_t *steps, const char *versions, int from_journal)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.new", out);
    /* /job holds the text the sweep began with, which may differ from today's in comments. */
    struct ls_job *job = malloc(sizeof *job);
    if (job == NULL)
        return LS_ENOMEM;
    *job = *c->job;
    job->text = (char *)c->job_text;
    job->text_len = c->job_len;
    int rc = store_create(tmp, job, steps, c->T, versions, &c->rs->store);
    free(job);
    if (rc == LS_OK && from_journal)
        rc = replay(c, jpath, c->rs->store, NULL);
    if (rc == LS_OK)
        rc = store_start_swmr(c->rs->store);
    if (rc == LS_OK && rename(tmp, out) != 0) {
        snprintf(c->msg, c->len, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
        rc = LS_EIO;
    }
    if (rc != LS_OK) {
        store_close(&c->rs->store);
        unlink(tmp);
    }
    return rc;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A new sweep: a journal with its header, and a file with every row pending. */
static int start_new(struct scan_ctx *c, const char *out, const char *jpath, const int64_t *steps,
                     const char *versions)
{
    if (file_exists(out)) {
        snprintf(c->msg, c->len,
                 "%s exists but has no journal (%s), so it is not a resumable sweep of this job; "
                 "refusing to overwrite it (use --fresh to replace it, or -o for another file)",
                 out, jpath);
        return LS_EMISMATCH;
    }
    c->rs->created = 1;
    int rc = journal_create(jpath, c->job->hash, c->job->canonical, c->job->text,
                            c->job->text_len, &c->rs->journal);
    if (rc == LS_OK)
        rc = build_aside(c, out, jpath, steps, versions, 0);
    if (rc != LS_OK && !c->msg[0])
        snprintf(c->msg, c->len, "cannot create %s or %s: %s", out, jpath, ls_strerror(rc));
    return rc;
}

/* Read the journal's header and pass 1. LS_ENOTFOUND means: start a new sweep. */
static int read_journal(struct scan_ctx *c, const char *jpath, struct ls_journal_scan *scan)
{
    struct stat st;
    const struct ls_journal_hint hint = {c->job->hash, c->job->canonical, c->job->text,
                                         c->job->text_len};
    int rc = journal_read_hinted(jpath, &hint, count_record, c, scan);
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

/* ---- checking the file against the journal ------------------------------------------------ */

static void rows_free(struct ls_store_rows *b)
{
    free(b->status);
    free(b->seconds);
    free(b->rank);
    free(b->finished);
    free(b->host);
    free(b->metrics);
    free(b->traj);
    free(b->vec);
    memset(b, 0, sizeof *b);
}

/* Room for nb rows of this job's file. */
static int rows_alloc(const struct ls_job *job, size_t T, size_t nb, struct ls_store_rows *b)
{
    size_t nv = cfg_vector_total(job);
    b->status = malloc(nb);
    b->seconds = malloc(nb * sizeof(double));
    b->rank = malloc(nb * sizeof(int32_t));
    b->finished = malloc(nb * sizeof(double));
    b->host = malloc(nb * LS_HOST_MAX);
    b->metrics = malloc((job->n_metrics ? job->n_metrics : 1) * nb * sizeof(double));
    b->traj = malloc((job->n_traj ? job->n_traj : 1) * T * nb * sizeof(double));
    b->vec = malloc((nv ? nv : 1) * nb * sizeof(double));
    if (b->status && b->seconds && b->rank && b->finished && b->host && b->metrics && b->traj &&
        b->vec)
        return LS_OK;
    rows_free(b);
    return LS_ENOMEM;
}

/* Rows per block: about VERIFY_BYTES of values. */
static size_t verify_block_rows(const struct ls_job *job, size_t T)
{
    size_t per_row = sizeof(double) * (3 + job->n_metrics + job->n_traj * T +
                                       cfg_vector_total(job)) + LS_HOST_MAX + 1;
    size_t nb = VERIFY_BYTES / per_row;
    return nb < 1 ? 1 : nb > VERIFY_MAX_ROWS ? VERIFY_MAX_ROWS : nb;
}

/* Mark each row of one block that differs from what the journal says it must hold: the point's
 * record (ROW_REPLAY), or a pending row (ROW_RESET) for a point the journal does not have — its
 * record was damaged and dropped, or never written — since that point runs again. */
static void verify_block(struct scan_ctx *c, const struct ls_store_rows *b, uint64_t b0,
                         size_t nb, uint32_t pending_digest, uint8_t *need)
{
    for (size_t i = 0; i < nb; i++) {
        uint64_t row = b0 + i;
        int done = c->rs->status[row] != LS_ST_PENDING;
        uint32_t want = done ? c->digest[row] : pending_digest;
        if (file_digest(c->job, c->T, b, nb, i) == want)
            continue;
        need[row] = done ? ROW_REPLAY : ROW_RESET;
        if (done)
            c->rs->rewritten++;
        else
            c->rs->reset++;
    }
}

/* Write the ROW_RESET rows as pending ones (shallow copies of one blank record). */
static int write_resets(struct ls_store *s, const struct ls_result *blank, const uint8_t *need,
                        uint64_t n)
{
    struct ls_result rows[REPLAY_BATCH];
    struct ls_result *ptrs[REPLAY_BATCH];
    size_t k = 0;
    int rc = LS_OK;
    for (uint64_t row = 0; row < n && rc == LS_OK; row++) {
        if (need[row] != ROW_RESET)
            continue;
        rows[k] = *blank;
        rows[k].index = row;
        ptrs[k] = &rows[k];
        if (++k == REPLAY_BATCH) {
            rc = store_write(s, ptrs, k);
            k = 0;
        }
    }
    if (rc == LS_OK && k > 0)
        rc = store_write(s, ptrs, k);
    return rc;
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Read the whole file back in blocks and mark in need[] the rows that differ from the journal;
 * reset at once the rows that must go back to pending. */
static int verify(struct scan_ctx *c, struct ls_store *s, uint8_t *need)
{
    const struct ls_job *job = c->job;
    uint64_t n = job->grid.n_points;
    size_t nb = verify_block_rows(job, c->T);
    struct ls_store_rows b = {0};
    struct ls_result blank = {0};
    double t0 = now_mono();
    int rc = LS_OK;
    LS_CALL(result_init(&blank, (uint32_t)job->n_metrics, (uint32_t)job->n_traj, (uint32_t)c->T,
                        (uint32_t)cfg_vector_total(job)));
    LS_CALL(rows_alloc(job, c->T, nb, &b));
    blank.status = LS_ST_PENDING;
    uint32_t pending_digest = record_digest(&blank);
    for (uint64_t b0 = 0; b0 < n; b0 += nb) {
        size_t k = (size_t)(n - b0 < nb ? n - b0 : nb);
        LS_CALL(store_read_rows(s, b0, k, &b));
        verify_block(c, &b, b0, k, pending_digest, need);
    }
    if (c->rs->reset && !c->check_only)
        LS_CALL(write_resets(s, &blank, need, n));
    c->rs->verified = n;
    c->rs->verify_seconds = now_mono() - t0;
cleanup:
    rows_free(&b);
    result_free(&blank);
    return rc;
}

/* /grid, /point, /trajectories/step, /job and the root attributes, against the job. */
static int check_fixed(struct scan_ctx *c, const int64_t *steps)
{
    const struct ls_store_expect e = {steps, c->job_text, c->job_len};
    size_t n = 0;
    int rc = store_check_fixed(c->rs->store, c->job, &e, !c->check_only, c->diff, c->diff_arg,
                               &n);
    c->rs->fixed = n;
    c->n_diff += n;
    return rc;
}

/* Open the existing file, check every row against the journal and what the job determines
 * against the job, and rewrite what differs; rebuild the file from the journal when it cannot be
 * opened or read, or when what differs cannot be written in place. */
static int sync_file(struct scan_ctx *c, const char *out, const char *jpath,
                     const int64_t *steps, const char *versions)
{
    size_t n = c->job->grid.n_points;
    uint8_t *need = calloc(n ? n : 1, 1);
    int rc = need ? store_open(out, c->job, c->T, &c->rs->store) : LS_ENOMEM;
    if (rc == LS_OK)
        rc = check_fixed(c, steps);
    if (rc == LS_OK)
        rc = verify(c, c->rs->store, need);
    if (rc == LS_OK && c->rs->rewritten)
        rc = replay(c, jpath, c->rs->store, need);
    if (rc != LS_OK && rc != LS_ENOMEM) {
        store_close(&c->rs->store);
        fprintf(stderr, "lazysweep: rebuilding %s from its journal (%s)\n", out,
                file_exists(out) ? ls_strerror(rc) : "file missing");
        c->rs->replayed = c->rs->rewritten = c->rs->reset = c->rs->verified = c->rs->fixed = 0;
        c->rs->rebuilt = 1;
        rc = build_aside(c, out, jpath, steps, versions, 1);
    }
    free(need);
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
    *c = (struct scan_ctx){.job = job, .T = T, .rs = rs, .msg = msg, .len = len,
                           .job_text = job->text, .job_len = job->text_len};
    c->seen = calloc(n ? n : 1, 1);
    c->digest = calloc(n ? n : 1, sizeof *c->digest);
    LS_CHECK_ALLOC(c->seen);
    LS_CHECK_ALLOC(c->digest);
    rs->count[LS_ST_PENDING] = n;
    if (fresh) {
        unlink(out);
        unlink(jpath);
    }
    rc = read_journal(c, jpath, &scan);
    if (rc == LS_ENOTFOUND) {
        rc = start_new(c, out, jpath, steps, versions);
        goto cleanup;
    }
    if (rc != LS_OK)
        goto cleanup;
    if (scan.text != NULL) {
        c->job_text = scan.text;
        c->job_len = scan.text_len;
    }
    if (scan.header_repaired)
        fprintf(stderr, "lazysweep: %s: its header was damaged; recovered it from its copy or "
                        "from the job, nothing is lost\n", jpath);
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
        free(c->digest);
    }
    free(c);
    journal_scan_free(&scan);
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

/* ---- lazysweep verify ---------------------------------------------------------------------- */

/* Report one value of a row that differs from what the journal says. */
static void explain_value(struct scan_ctx *c, const char *dataset, uint64_t row, double got,
                          double want)
{
    char what[128];
    if (memcmp(&got, &want, sizeof got) == 0)
        return;
    snprintf(what, sizeof what, "holds %.17g, the journal says %.17g", got, want);
    c->diff(c->diff_arg, dataset, (int64_t)row, what);
}

/* Compare row `row` of the file (b, one row) with what it must hold, dataset by dataset. */
static void explain_row(struct scan_ctx *c, const struct ls_result *want,
                        const struct ls_store_rows *b, uint64_t row)
{
    const struct ls_job *job = c->job;
    char name[LS_NAME_MAX + 32], what[160];
    if (b->status[0] != (uint8_t)want->status) {
        snprintf(what, sizeof what, "holds %s, the journal says %s%s",
                 b->status[0] < LS_ST_COUNT ? ls_status_name(b->status[0]) : "an unknown value",
                 ls_status_name(want->status),
                 want->status == LS_ST_PENDING ? " (no record: a rerun runs it again)" : "");
        c->diff(c->diff_arg, "/status", (int64_t)row, what);
    }
    explain_value(c, "/timing/seconds", row, b->seconds[0], want->seconds);
    explain_value(c, "/timing/rank", row, b->rank[0], want->rank);
    explain_value(c, "/timing/finished", row, b->finished[0], want->finished);
    char host[LS_HOST_MAX] = {0};
    memcpy(host, want->host, strnlen(want->host, LS_HOST_MAX));
    if (memcmp(host, b->host, LS_HOST_MAX) != 0)
        c->diff(c->diff_arg, "/timing/host", (int64_t)row, "differs from the journal's");
    for (size_t k = 0; k < job->n_metrics; k++) {
        snprintf(name, sizeof name, "/metrics/%s", job->metrics[k]);
        explain_value(c, name, row, b->metrics[k], want->metrics[k]);
    }
    for (size_t j = 0; j < job->n_traj; j++)
        for (size_t t = 0; t < c->T; t++)
            if (memcmp(&b->traj[j * c->T + t], &want->traj[j * c->T + t], sizeof(double))) {
                snprintf(name, sizeof name, "/trajectories/%s", job->traj[j]);
                snprintf(what, sizeof what, "column %zu holds %.17g, the journal says %.17g", t,
                         b->traj[j * c->T + t], want->traj[j * c->T + t]);
                c->diff(c->diff_arg, name, (int64_t)row, what);
            }
    for (size_t v = 0, off = 0; v < job->n_store; off += job->store_len[v], v++)
        if (memcmp(b->vec + off, want->vec + off, job->store_len[v] * sizeof(double))) {
            snprintf(name, sizeof name, "/vectors/%s", job->store[v]);
            c->diff(c->diff_arg, name, (int64_t)row, "differs from the journal's");
        }
}

/* State of the explaining pass: one row of the file at a time. */
struct explain {
    struct scan_ctx *c;
    struct ls_store_rows one;
    int rc;
};

static int explain_record(const unsigned char *p, size_t n, void *arg)
{
    struct explain *x = arg;
    struct scan_ctx *c = x->c;
    struct ls_result r = {0};
    uint64_t row;
    if (locate(c, p, n, &r, &row) == LS_OK && c->marks[row] == ROW_REPLAY && !c->seen[row]) {
        c->seen[row] = 1;
        x->rc = store_read_rows(c->rs->store, row, 1, &x->one);
        if (x->rc == LS_OK)
            explain_row(c, &r, &x->one, row);
    }
    result_free(&r);
    return x->rc;
}

/* Say, dataset by dataset, what differs in each row verify() marked. */
static int explain_rows(struct scan_ctx *c, const char *jpath)
{
    struct explain x = {.c = c};
    struct ls_result blank = {0};
    struct ls_journal_scan scan = {0};
    uint64_t n = c->job->grid.n_points;
    int rc = LS_OK;
    LS_CALL(rows_alloc(c->job, c->T, 1, &x.one));
    LS_CALL(result_init(&blank, (uint32_t)c->job->n_metrics, (uint32_t)c->job->n_traj,
                        (uint32_t)c->T, (uint32_t)cfg_vector_total(c->job)));
    blank.status = LS_ST_PENDING;
    for (uint64_t row = 0; row < n; row++)
        if (c->marks[row] == ROW_RESET) {
            LS_CALL(store_read_rows(c->rs->store, row, 1, &x.one));
            explain_row(c, &blank, &x.one, row);
        }
    memset(c->seen, 0, n);
    if (c->rs->rewritten)
        LS_CALL(journal_read(jpath, explain_record, &x, &scan));
cleanup:
    journal_scan_free(&scan);
    result_free(&blank);
    rows_free(&x.one);
    return rc;
}

/* Every row against the journal, read-only. */
static int verify_rows(struct scan_ctx *c, const char *jpath)
{
    size_t n = c->job->grid.n_points;
    c->marks = calloc(n ? n : 1, 1);
    int rc = c->marks ? verify(c, c->rs->store, c->marks) : LS_ENOMEM;
    if (rc == LS_OK && (c->rs->rewritten || c->rs->reset))
        rc = explain_rows(c, jpath);
    c->n_diff += c->rs->rewritten + c->rs->reset;
    free(c->marks);
    c->marks = NULL;
    return rc;
}

static int verify_file(struct scan_ctx *c, const char *out, const char *jpath,
                       const int64_t *steps)
{
    char what[160];
    int rc = store_open_readonly(out, c->job, c->T, &c->rs->store);
    if (rc == LS_ENOMEM)
        return rc;
    if (rc != LS_OK) {
        snprintf(what, sizeof what, "cannot be opened as this job's results file (%s); a rerun "
                 "rebuilds it from the journal", ls_strerror(rc));
        c->diff(c->diff_arg, out, -1, what);
        c->n_diff++;
        return LS_OK;
    }
    rc = check_fixed(c, steps);
    if (rc == LS_OK)
        rc = verify_rows(c, jpath);
    return rc;
}

int resume_verify(const struct ls_job *job, const char *out, const int64_t *steps, size_t T,
                  ls_store_diff_fn fn, void *arg, struct ls_resume *rs, size_t *n_diff,
                  char *msg, size_t len)
{
    char jpath[4200];
    struct ls_journal_scan scan = {0};
    struct scan_ctx *c = calloc(1, sizeof *c);
    uint64_t n = job->grid.n_points;
    memset(rs, 0, sizeof *rs);
    msg[0] = '\0';
    *n_diff = 0;
    snprintf(jpath, sizeof jpath, "%s.journal", out);
    rs->status = calloc(n ? n : 1, 1);
    int rc = (c && rs->status) ? LS_OK : LS_ENOMEM;
    if (rc != LS_OK)
        goto cleanup;
    *c = (struct scan_ctx){.job = job, .T = T, .rs = rs, .msg = msg, .len = len,
                           .job_text = job->text, .job_len = job->text_len, .check_only = 1,
                           .diff = fn, .diff_arg = arg};
    c->seen = calloc(n ? n : 1, 1);
    c->digest = calloc(n ? n : 1, sizeof *c->digest);
    LS_CHECK_ALLOC(c->seen);
    LS_CHECK_ALLOC(c->digest);
    rs->count[LS_ST_PENDING] = n;
    const struct ls_journal_hint hint = {job->hash, job->canonical, job->text, job->text_len};
    rc = journal_read_hinted(jpath, &hint, count_record, c, &scan);
    if (rc == LS_OK && scan.job_hash != job->hash)
        rc = LS_EMISMATCH;
    if (rc != LS_OK && !msg[0])
        snprintf(msg, len, "%s: %s", jpath, rc == LS_ENOTFOUND ? "no journal, so nothing to check "
                 "against" : rc == LS_EMISMATCH ? "the journal is of another experiment than the "
                 "job" : ls_strerror(rc));
    if (rc != LS_OK)
        goto cleanup;
    if (scan.header_repaired)
        c->diff(arg, jpath, -1, "one copy of its header is damaged (a rerun writes it again)");
    c->n_diff += scan.header_repaired != 0;
    if (scan.n_bad) {
        snprintf(msg, len, "%zu damaged record(s) (a rerun drops them and runs their points "
                 "again)", scan.n_bad);
        c->diff(arg, jpath, -1, msg);
        msg[0] = '\0';
        c->n_diff += scan.n_bad;
    }
    if (scan.text != NULL) {
        c->job_text = scan.text;
        c->job_len = scan.text_len;
    }
    LS_CALL(verify_file(c, out, jpath, steps));
    *n_diff = c->n_diff;
cleanup:
    if (c) {
        free(c->seen);
        free(c->digest);
    }
    free(c);
    journal_scan_free(&scan);
    store_close(&rs->store);
    return rc;
}
