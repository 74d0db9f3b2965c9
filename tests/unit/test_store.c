/* test_store.c — the results file: rows written in any order read back exactly, the file refuses
 * another job's shape, damaged files fail cleanly, a concurrent reader sees flushed rows, and
 * store_write is fast enough for a sweep (the throughput is printed, not asserted).
 *
 * Expected values are computed here from the row index alone (row_value), independently of
 * store.c, and compared with what store_read_column / store_read_status / store_summary and the
 * store_reader_* functions of `report` return. Files of named arrays (store_write_arrays) read
 * back through store_probe_matrix / store_read_matrix bitwise. */
#include <setjmp.h>
#include <float.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lazysweep/error.h"
#include "lazysweep/store.h"

#define T_STEPS 16
#define T0 1.7e9 /* finish time of row 0 */
#define JOB_TEXT "name: unit-store\nseed: 7\n# the exact bytes of the job file\n"
#define VERSIONS "openblas_version=0.3.21\nopenblas_core=Haswell\nhdf5_version=1.10.8\n"

static char dir[64];
static char path[128];

static const char *const metric_names[] = {"population_error", "l1_norm", "l2_norm",
                                           "train_loss", "steps"};
static const char *const traj_names[] = {"train_loss", "test_error", "l1_norm"};

static double *num_values(size_t n, double first, double step)
{
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = first + step * (double)i;
    return v;
}

static void add_num_axis(struct ls_job *job, const char *name, enum ls_type t, size_t n,
                         double first, double step, int swept)
{
    struct ls_axis a = {.type = t, .n = n, .num = num_values(n, first, step), .swept = swept};
    snprintf(a.name, sizeof a.name, "%s", name);
    assert_int_equal(grid_add_axis(&job->grid, &a), LS_OK);
}

/* A job with n_alpha values of init_scale × depth {2,3,4} × seed 0..3 × loss {mse,bce}, plus an
 * unswept width, 5 metrics and 3 trajectories. */
static void make_job(struct ls_job *job, size_t n_alpha, const char *hash_hex)
{
    memset(job, 0, sizeof *job);
    snprintf(job->name, sizeof job->name, "unit-store");
    job->text = strdup(JOB_TEXT);
    job->text_len = strlen(JOB_TEXT);
    job->canonical = strdup("model.family=diagonal\nseed=7\n");
    snprintf(job->hash_hex, sizeof job->hash_hex, "%s", hash_hex);
    job->n_metrics = 5;
    for (size_t m = 0; m < job->n_metrics; m++)
        snprintf(job->metrics[m], LS_NAME_MAX, "%s", metric_names[m]);
    job->n_traj = 3;
    for (size_t m = 0; m < job->n_traj; m++)
        snprintf(job->traj[m], LS_NAME_MAX, "%s", traj_names[m]);
    add_num_axis(job, "init_scale", LS_T_REAL, n_alpha, 0.001, 0.25, 1);
    add_num_axis(job, "depth", LS_T_INT, 3, 2, 1, 1);
    add_num_axis(job, "seed", LS_T_INT, 4, 0, 1, 1);
    struct ls_axis loss = {.type = LS_T_STR, .n = 2, .swept = 1};
    snprintf(loss.name, sizeof loss.name, "loss");
    loss.str = calloc(2, LS_STR_MAX);
    strcpy(loss.str[0], "mse");
    strcpy(loss.str[1], "bce");
    assert_int_equal(grid_add_axis(&job->grid, &loss), LS_OK);
    add_num_axis(job, "width", LS_T_INT, 1, 1, 0, 0);
}

static void free_job(struct ls_job *job)
{
    free(job->text);
    free(job->canonical);
    grid_free(&job->grid);
}

/* The value every field of row i gets in these tests. */
static double row_value(uint64_t i, size_t k, size_t t)
{
    return (double)i * 1000.0 + (double)k * 100.0 + (double)t + 0.5;
}

static int row_status(uint64_t i)
{
    return i % 5 == 3 ? LS_ST_DIVERGED : i % 11 == 7 ? LS_ST_FAILED : LS_ST_DONE;
}

static void make_result(struct ls_result *r, const struct ls_job *job, size_t T, uint64_t i)
{
    assert_int_equal(result_init(r, (uint32_t)job->n_metrics, (uint32_t)job->n_traj,
                                 (uint32_t)T, 0),
                     LS_OK);
    r->index = i;
    r->status = row_status(i);
    r->rank = (int32_t)(1 + i % 7);
    r->seconds = 0.25 * (double)i;
    r->finished = T0 + 0.5 * (double)i;
    snprintf(r->host, sizeof r->host, "node%02u", (unsigned)(i % 13));
    for (size_t k = 0; k < job->n_metrics; k++)
        r->metrics[k] = row_value(i, k, 0);
    for (size_t k = 0; k < job->n_traj; k++)
        for (size_t t = 0; t < T; t++)
            r->traj[k * T + t] = row_value(i, k, t);
}

static void steps_of(int64_t *steps, size_t T)
{
    for (size_t t = 0; t < T; t++)
        steps[t] = (int64_t)(t * t + t);
}

/* A permutation of 0..n-1 from a fixed LCG, so "scattered order" is reproducible. */
static uint64_t *scattered(uint64_t n)
{
    uint64_t *p = malloc(n * sizeof *p), s = 12345;
    for (uint64_t i = 0; i < n; i++)
        p[i] = i;
    for (uint64_t i = n - 1; i > 0; i--) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t j = (s >> 33) % (i + 1), x = p[i];
        p[i] = p[j];
        p[j] = x;
    }
    return p;
}

/* Rows written by write_rows: the first 2/3 of scattered(N), marked in written[]. With s NULL
 * nothing is written: only the marks are made. */
static void write_rows(struct ls_store *s, const struct ls_job *job, uint8_t *written)
{
    uint64_t n = job->grid.n_points, *perm = scattered(n), n_write = 2 * n / 3;
    struct ls_result r[8];
    struct ls_result *ptr[8];
    for (uint64_t b = 0; b < n_write; b += 7) {
        size_t m = 0;
        for (uint64_t i = b; i < n_write && i < b + 7; i++, m++) {
            make_result(&r[m], job, T_STEPS, perm[i]);
            ptr[m] = &r[m];
            written[perm[i]] = 1;
        }
        /* A repeated row in one batch: the later copy wins, so write a wrong one first. */
        make_result(&r[m], job, T_STEPS, perm[b]);
        r[m].metrics[0] = -1;
        memmove(ptr + 1, ptr, m * sizeof *ptr);
        ptr[0] = &r[m];
        if (s != NULL)
            assert_int_equal(store_write(s, ptr, m + 1), LS_OK);
        for (size_t k = 0; k <= m; k++)
            result_free(&r[k]);
    }
    free(perm);
}

static void create_written_file(struct ls_job *job, uint8_t *written)
{
    int64_t steps[T_STEPS];
    struct ls_store *s = NULL;
    steps_of(steps, T_STEPS);
    assert_int_equal(store_create(path, job, steps, T_STEPS, VERSIONS, &s), LS_OK);
    assert_int_equal(store_start_swmr(s), LS_OK);
    write_rows(s, job, written);
    assert_int_equal(store_flush(s), LS_OK);
    store_close(&s);
    assert_null(s);
    store_close(&s); /* safe twice */
    store_close(NULL);
}

/* One row at a time, the pending rows with odd index, as a resumed sweep would. */
static void write_odd_pending(struct ls_store *s, const struct ls_job *job, uint8_t *written)
{
    for (uint64_t i = 1; i < job->grid.n_points; i += 2) {
        struct ls_result r, *p = &r;
        if (written[i])
            continue;
        make_result(&r, job, T_STEPS, i);
        assert_int_equal(store_write(s, &p, 1), LS_OK);
        written[i] = 1;
        result_free(&r);
    }
}

static void expect_column(const char *name, uint64_t n, const uint8_t *written, size_t k,
                          size_t t)
{
    double *v = NULL;
    size_t got = 0;
    size_t stride = t == SIZE_MAX ? 1 : T_STEPS;
    assert_int_equal(store_read_column(path, name, &v, &got), LS_OK);
    assert_int_equal(got, n * stride);
    for (uint64_t i = 0; i < n; i++) {
        double x = v[i * stride + (t == SIZE_MAX ? 0 : t)];
        double want = written[i] ? row_value(i, k, t == SIZE_MAX ? 0 : t) : NAN;
        if (!(x == want || (isnan(x) && isnan(want)))) {
            fprintf(stderr, "%s row %llu: got %.17g, want %.17g\n", name, (unsigned long long)i,
                    x, want);
            fail();
        }
    }
    free(v);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct ls_job job;
    make_job(&job, 5, "00000000deadbeef");
    uint64_t n = job.grid.n_points;
    uint8_t *written = calloc(n, 1), *status = malloc(n);
    create_written_file(&job, written);

    struct ls_store *s = NULL;
    assert_int_equal(store_open(path, &job, T_STEPS, &s), LS_OK);
    assert_int_equal(store_read_status(s, status), LS_OK);
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(status[i], written[i] ? row_status(i) : LS_ST_PENDING);
    /* Resume: the reopened file takes more rows (SWMR again) and keeps the old ones. */
    assert_int_equal(store_start_swmr(s), LS_OK);
    write_odd_pending(s, &job, written);
    store_close(&s);
    assert_int_equal(store_open(path, &job, T_STEPS, &s), LS_OK);
    assert_int_equal(store_read_status(s, status), LS_OK);
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(status[i], written[i] ? row_status(i) : LS_ST_PENDING);
    store_close(&s);

    expect_column("/metrics/l1_norm", n, written, 1, SIZE_MAX);
    expect_column("/trajectories/test_error", n, written, 1, 0); /* (N, T): row-major */
    expect_column("/trajectories/test_error", n, written, 1, T_STEPS - 1);

    double *v = NULL;
    size_t got = 0;
    size_t idx[LS_MAX_AXES];
    assert_int_equal(store_read_column(path, "/grid/depth", &v, &got), LS_OK);
    for (uint64_t i = 0; i < n; i++) {
        grid_unravel(&job.grid, i, idx);
        assert_true(v[i] == job.grid.axes[1].num[idx[1]]);
    }
    free(v);
    assert_int_equal(store_read_column(path, "/timing/rank", &v, &got), LS_OK);
    for (uint64_t i = 0; i < n; i++)
        assert_true(v[i] == (written[i] ? (double)(1 + i % 7) : -1.0));
    free(v);
    assert_int_equal(store_read_column(path, "/status", &v, &got), LS_OK);
    assert_true(v[0] == (written[0] ? row_status(0) : 0));
    free(v);
    assert_int_equal(store_read_column(path, "/metrics/nope", &v, &got), LS_ENOTFOUND);
    assert_int_equal(store_read_column(path, "/nogroup/nope", &v, &got), LS_ENOTFOUND);
    assert_int_not_equal(store_read_column(path, "/grid/loss", &v, &got), LS_OK);
    assert_null(v);
    free(written);
    free(status);
    free_job(&job);
}

static void test_summary(void **state)
{
    (void)state;
    struct ls_job job;
    make_job(&job, 5, "00000000deadbeef");
    uint64_t n = job.grid.n_points, count[LS_ST_COUNT] = {0}, recent = 0;
    uint8_t *written = calloc(n, 1);
    double first = 0, last = 0;
    create_written_file(&job, written);
    for (uint64_t i = 0; i < n; i++) {
        count[written[i] ? row_status(i) : LS_ST_PENDING]++;
        if (written[i] && (first == 0 || T0 + 0.5 * i < first))
            first = T0 + 0.5 * (double)i;
        if (written[i] && T0 + 0.5 * i > last)
            last = T0 + 0.5 * (double)i;
    }
    double window = fmax(last - 60, first);
    for (uint64_t i = 0; i < n; i++)
        recent += written[i] && T0 + 0.5 * (double)i >= window;

    struct ls_store_summary sum;
    assert_int_equal(store_summary(path, &sum), LS_OK);
    assert_int_equal(sum.n_points, n);
    for (int st = 0; st < LS_ST_COUNT; st++)
        assert_int_equal(sum.count[st], count[st]);
    assert_string_equal(sum.job_name, "unit-store");
    assert_string_equal(sum.job_hash, "00000000deadbeef");
    assert_true(sum.first_finished == first && sum.last_finished == last);
    printf("summary: rate %.4f, expected %.4f (%llu rows in %.1f s)\n", sum.recent_rate,
           (double)recent / (last - window), (unsigned long long)recent, last - window);
    assert_true(fabs(sum.recent_rate - (double)recent / (last - window)) < 1e-12);
    assert_int_equal(store_summary("/nonexistent/x.h5", &sum), LS_ENOTFOUND);
    free(written);
    free_job(&job);
}

static void test_mismatch(void **state)
{
    (void)state;
    struct ls_job job, other, bigger;
    struct ls_store *s = NULL;
    make_job(&job, 5, "00000000deadbeef");
    make_job(&other, 5, "00000000feedface");
    make_job(&bigger, 6, "00000000deadbeef");
    uint8_t *written = calloc(job.grid.n_points, 1);
    create_written_file(&job, written);
    assert_int_equal(store_open(path, &other, T_STEPS, &s), LS_EMISMATCH);
    assert_null(s);
    assert_int_equal(store_open(path, &bigger, T_STEPS, &s), LS_EMISMATCH);
    assert_int_equal(store_open(path, &job, T_STEPS + 1, &s), LS_EMISMATCH);
    assert_int_equal(store_open("/nonexistent/x.h5", &job, T_STEPS, &s), LS_ENOTFOUND);
    /* A file whose metric set is not the job's (same hash: a damaged or hand-edited file). */
    snprintf(job.metrics[4], LS_NAME_MAX, "missing_metric");
    assert_int_equal(store_open(path, &job, T_STEPS, &s), LS_ECORRUPT);
    assert_null(s);
    free(written);
    free_job(&job);
    free_job(&other);
    free_job(&bigger);
}

/* Open a damaged copy in a child process, so a crash inside HDF5 fails the test instead of
 * killing it; the child exits with store_open's (or store_read_status's) code. */
static int open_in_child(const char *file, const struct ls_job *job)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct ls_store *s = NULL;
        uint8_t *status = malloc(job->grid.n_points);
        int rc = store_open(file, job, T_STEPS, &s);
        if (rc == LS_OK)
            rc = store_read_status(s, status);
        store_close(&s);
        free(status);
        _exit(rc);
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    if (!WIFEXITED(ws))
        fprintf(stderr, "store_open on %s died with signal %d\n", file, WTERMSIG(ws));
    assert_true(WIFEXITED(ws));
    return WEXITSTATUS(ws);
}

static unsigned char *slurp(const char *file, size_t *len)
{
    FILE *f = fopen(file, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*len);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static void spit(const char *file, const unsigned char *b, size_t len)
{
    FILE *f = fopen(file, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
}

/* The /status bytes of a file written by create_written_file, found by content: N values in
 * 0..4 that occur nowhere else. Returns their offset in b[len]. */
static size_t find_status(const unsigned char *b, size_t len, const uint8_t *written, uint64_t n)
{
    unsigned char *want = malloc(n);
    for (uint64_t i = 0; i < n; i++)
        want[i] = (unsigned char)(written[i] ? row_status(i) : LS_ST_PENDING);
    size_t off = SIZE_MAX;
    for (size_t o = 0; o + n <= len && off == SIZE_MAX; o++)
        if (memcmp(b + o, want, n) == 0)
            off = o;
    free(want);
    assert_true(off != SIZE_MAX);
    return off;
}

static int flip_and_open(const char *copy, const unsigned char *orig, unsigned char *b,
                         size_t len, size_t off, size_t n, const struct ls_job *job)
{
    memcpy(b, orig, len);
    for (size_t k = off; k < off + n && k < len; k++)
        b[k] ^= 0xA5;
    spit(copy, b, len);
    return open_in_child(copy, job);
}

/* Damaged copies never crash store_open. Where the damage hits metadata (checksummed in the
 * latest format) or /status, the open fails; flips in raw metric or trajectory values cannot be
 * seen (HDF5 keeps no checksum of contiguous raw data; the journal is the authority). */
static void test_damaged_files(void **state)
{
    (void)state;
    struct ls_job job;
    char copy[160];
    size_t len;
    make_job(&job, 5, "00000000deadbeef");
    uint64_t n = job.grid.n_points;
    uint8_t *written = calloc(n, 1);
    create_written_file(&job, written);
    unsigned char *orig = slurp(path, &len), *b = malloc(len);
    snprintf(copy, sizeof copy, "%s.damaged", path);

    spit(copy, orig, len / 2); /* truncated */
    assert_int_equal(open_in_child(copy, &job), LS_ECORRUPT);
    spit(copy, orig, len - 1);
    assert_int_equal(open_in_child(copy, &job), LS_ECORRUPT);

    int rc = flip_and_open(copy, orig, b, len, len / 2, 64, &job);
    printf("64 bytes flipped in the middle: %s\n", ls_strerror(rc));
    assert_int_equal(flip_and_open(copy, orig, b, len, 0, 8, &job), LS_ECORRUPT); /* superblock */
    assert_int_equal(flip_and_open(copy, orig, b, len, 48, 64, &job), LS_ECORRUPT); /* root */
    size_t st = find_status(orig, len, written, n);
    assert_int_equal(flip_and_open(copy, orig, b, len, st + n / 2, 1, &job), LS_ECORRUPT);

    /* 64 bytes flipped at 128 places across the whole file: never a crash. */
    int failed = 0;
    for (size_t part = 0; part < 128; part++)
        failed += flip_and_open(copy, orig, b, len, len * part / 128, 64, &job) != LS_OK;
    printf("flips at 128 places: %d opens failed cleanly, %d opened, none crashed\n", failed,
           128 - failed);
    unlink(copy);
    free(orig);
    free(b);
    free(written);
    free_job(&job);
}

/* A writer killed in SWMR mode leaves the file marked open for write: store_open must fail at
 * once (LS_ECORRUPT, so the caller rebuilds) rather than hang; a reader can still summarize it. */
static void test_killed_writer(void **state)
{
    (void)state;
    struct ls_job job;
    make_job(&job, 5, "00000000deadbeef");
    uint8_t *written = calloc(job.grid.n_points, 1);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int64_t steps[T_STEPS];
        struct ls_store *s = NULL;
        steps_of(steps, T_STEPS);
        int ok = store_create(path, &job, steps, T_STEPS, VERSIONS, &s) == LS_OK &&
                 store_start_swmr(s) == LS_OK;
        write_rows(s, &job, written);
        ok = ok && store_flush(s) == LS_OK;
        _exit(ok ? 0 : 1); /* no store_close: as if killed */
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(open_in_child(path, &job), LS_ECORRUPT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("stale SWMR flags: store_open failed in %.3f s\n", dt);
    assert_true(dt < 10);
    struct ls_store_summary sum;
    int rc = store_summary(path, &sum);
    printf("summary of the killed writer's file: %s (%llu pending)\n", ls_strerror(rc),
           (unsigned long long)sum.count[LS_ST_PENDING]);
    free(written);
    free_job(&job);
}

/* The writer of test_concurrent_reader, in a child process so that the reader (the test) shares
 * no HDF5 state with it: it creates the file, then waits for a byte on `go` before each step
 * (start SWMR and write rows + flush; then close) and reports each step done on `done`. */
static void swmr_writer(const struct ls_job *job, int go, int done)
{
    int64_t steps[T_STEPS];
    struct ls_store *s = NULL;
    uint8_t *written = calloc(job->grid.n_points, 1);
    char c = 0;
    steps_of(steps, T_STEPS);
    int ok = store_create(path, job, steps, T_STEPS, VERSIONS, &s) == LS_OK;
    ok = ok && write(done, "c", 1) == 1 && read(go, &c, 1) == 1;
    ok = ok && store_start_swmr(s) == LS_OK;
    write_rows(s, job, written);
    ok = ok && store_flush(s) == LS_OK && write(done, "w", 1) == 1 && read(go, &c, 1) == 1;
    store_close(&s);
    free(written);
    _exit(ok ? 0 : 1);
}

/* `lazysweep status` while a sweep writes: refused with LS_ELOCKED before the writer switched to
 * SWMR (HDF5 holds its file lock until then), and afterwards it sees every flushed row. */
static void test_concurrent_reader(void **state)
{
    (void)state;
    struct ls_job job;
    struct ls_store_summary sum;
    int go[2], done[2];
    char c;
    make_job(&job, 5, "00000000deadbeef");
    uint8_t *written = calloc(job.grid.n_points, 1);
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(done), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        swmr_writer(&job, go[0], done[1]);
    assert_int_equal(read(done[0], &c, 1), 1);
    assert_int_equal(store_summary(path, &sum), LS_ELOCKED);
    assert_int_equal(write(go[1], "g", 1), 1);
    assert_int_equal(read(done[0], &c, 1), 1);
    write_rows(NULL, &job, written); /* only marks the rows the writer wrote */
    uint64_t pending = 0;
    for (uint64_t i = 0; i < job.grid.n_points; i++)
        pending += !written[i];
    assert_int_equal(store_summary(path, &sum), LS_OK);
    assert_int_equal(sum.count[LS_ST_PENDING], pending);
    assert_int_equal(sum.n_points, job.grid.n_points);
    assert_int_equal(write(go[1], "g", 1), 1);
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    for (int k = 0; k < 2; k++) {
        close(go[k]);
        close(done[k]);
    }
    free(written);
    free_job(&job);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Rows/s of store_write + store_flush for 5 metrics and 3 trajectories of T = 64, rows in random
 * order, at the coordinator's batch size (1024) and at smaller ones. */
static void test_throughput(void **state)
{
    (void)state;
    enum { T = 64 };
    static const size_t batch[] = {1024, 64, 8};
    struct ls_job job;
    int64_t steps[T];
    make_job(&job, 2500, "00000000deadbeef"); /* N = 60000 */
    uint64_t n = job.grid.n_points, *perm = scattered(n);
    struct ls_result *r = calloc(1024, sizeof *r);
    struct ls_result **ptr = calloc(1024, sizeof *ptr);
    steps_of(steps, T);
    for (size_t b = 0; b < sizeof batch / sizeof batch[0]; b++) {
        struct ls_store *s = NULL;
        uint64_t rows = b == 0 ? n : n / (4 * b);
        assert_int_equal(store_create(path, &job, steps, T, VERSIONS, &s), LS_OK);
        assert_int_equal(store_start_swmr(s), LS_OK);
        double busy = 0;
        for (uint64_t i0 = 0; i0 < rows; i0 += batch[b]) {
            size_t m = 0;
            for (uint64_t i = i0; i < rows && i < i0 + batch[b]; i++, m++) {
                make_result(&r[m], &job, T, perm[i]);
                ptr[m] = &r[m];
            }
            double t0 = now();
            assert_int_equal(store_write(s, ptr, m), LS_OK);
            assert_int_equal(store_flush(s), LS_OK);
            busy += now() - t0;
            for (size_t k = 0; k < m; k++)
                result_free(&r[k]);
        }
        double t0 = now();
        store_close(&s);
        busy += now() - t0;
        printf("store_write+flush: N=%llu, %llu rows in random order, batch %zu: %.0f rows/s\n",
               (unsigned long long)n, (unsigned long long)rows, batch[b], (double)rows / busy);
    }
    free(r);
    free(ptr);
    free(perm);
    free_job(&job);
}

/* ---- the reader of `report` and `export`, the user's matrices, files of named arrays ---- */

/* Bitwise equality: NaN fills and -0.0 must come back as written. */
static int same(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* make_job's job as cfg.c makes one: trajectories a subsequence of the metrics in their order,
 * and that order in job_canonical (its "metrics=" line is what the reader orders names by). */
static void make_reader_job(struct ls_job *job)
{
    static const char *const traj[] = {"population_error", "l2_norm", "train_loss"};
    make_job(job, 5, "00000000deadbeef");
    for (size_t k = 0; k < job->n_traj; k++)
        snprintf(job->traj[k], LS_NAME_MAX, "%s", traj[k]);
    free(job->canonical);
    job->canonical = strdup("data.kind=sparse_regression\nmetrics=population_error,l1_norm,"
                            "l2_norm,train_loss,steps\nmodel.family=diagonal\n");
}

static void expect_block(struct ls_reader *r, const char *name, uint64_t row0, size_t rows,
                         size_t width, const double *want)
{
    double *got = malloc(rows * width * sizeof *got);
    assert_int_equal(store_reader_numeric(r, name, row0, rows, got), LS_OK);
    for (size_t j = 0; j < rows * width; j++)
        if (!same(got[j], want[j])) {
            fprintf(stderr, "%s row %llu [%zu]: got %.17g, want %.17g\n", name,
                    (unsigned long long)(row0 + j / width), j % width, got[j], want[j]);
            fail();
        }
    free(got);
}

/* Every numeric per-point dataset over rows [row0, row0 + rows): make_result's values where
 * written, the fills (NaN, rank -1) elsewhere, and the grid as grid_unravel places it. */
static void check_numeric_rows(struct ls_reader *r, const struct ls_job *job,
                               const uint8_t *written, uint64_t row0, size_t rows)
{
    double *want = malloc(rows * T_STEPS * sizeof *want);
    char name[2 * LS_PATH_MAX];
    size_t idx[LS_MAX_AXES];
    for (size_t k = 0; k < job->n_metrics; k++) {
        for (size_t j = 0; j < rows; j++)
            want[j] = written[row0 + j] ? row_value(row0 + j, k, 0) : NAN;
        snprintf(name, sizeof name, "/metrics/%s", job->metrics[k]);
        expect_block(r, name, row0, rows, 1, want);
    }
    for (size_t k = 0; k < job->n_traj; k++) {
        for (size_t j = 0; j < rows * T_STEPS; j++)
            want[j] =
                written[row0 + j / T_STEPS] ? row_value(row0 + j / T_STEPS, k, j % T_STEPS) : NAN;
        snprintf(name, sizeof name, "/trajectories/%s", job->traj[k]);
        expect_block(r, name, row0, rows, T_STEPS, want);
    }
    for (size_t j = 0; j < rows; j++)
        want[j] = written[row0 + j] ? 0.25 * (double)(row0 + j) : NAN;
    expect_block(r, "/timing/seconds", row0, rows, 1, want);
    for (size_t j = 0; j < rows; j++)
        want[j] = written[row0 + j] ? T0 + 0.5 * (double)(row0 + j) : NAN;
    expect_block(r, "/timing/finished", row0, rows, 1, want);
    for (size_t j = 0; j < rows; j++)
        want[j] = written[row0 + j] ? (double)(1 + (row0 + j) % 7) : -1.0;
    expect_block(r, "/timing/rank", row0, rows, 1, want);
    for (size_t a = 0; a < job->grid.n_axes; a++) {
        if (job->grid.axes[a].type == LS_T_STR)
            continue;
        for (size_t j = 0; j < rows; j++) {
            grid_unravel(&job->grid, row0 + j, idx);
            want[j] = job->grid.axes[a].num[idx[a]];
        }
        snprintf(name, sizeof name, "/grid/%s", job->grid.axes[a].name);
        expect_block(r, name, row0, rows, 1, want);
    }
    free(want);
}

/* /status, /timing/host (whole and truncated to 4 characters) and the string axis /grid/loss. */
static void check_text_rows(struct ls_reader *r, const struct ls_job *job, const uint8_t *written,
                            uint64_t row0, size_t rows)
{
    uint8_t *st = malloc(rows);
    char *host = malloc(rows * LS_HOST_MAX), *cut = malloc(rows * 5), *loss = malloc(rows * 8);
    char want[LS_HOST_MAX];
    size_t idx[LS_MAX_AXES];
    assert_int_equal(store_reader_status(r, row0, rows, st), LS_OK);
    assert_int_equal(store_reader_strings(r, "/timing/host", row0, rows, LS_HOST_MAX, host), LS_OK);
    assert_int_equal(store_reader_strings(r, "/timing/host", row0, rows, 5, cut), LS_OK);
    assert_int_equal(store_reader_strings(r, "/grid/loss", row0, rows, 8, loss), LS_OK);
    for (size_t j = 0; j < rows; j++) {
        uint64_t i = row0 + j;
        assert_int_equal(st[j], written[i] ? row_status(i) : LS_ST_PENDING);
        want[0] = '\0';
        if (written[i])
            snprintf(want, sizeof want, "node%02u", (unsigned)(i % 13));
        assert_string_equal(host + j * LS_HOST_MAX, want);
        want[4] = '\0';
        assert_string_equal(cut + j * 5, want);
        grid_unravel(&job->grid, i, idx);
        assert_string_equal(loss + j * 8, idx[3] == 0 ? "mse" : "bce");
    }
    free(st);
    free(host);
    free(cut);
    free(loss);
}

/* The info matches the job: axes in name order with their types and swept flags, metrics and
 * trajectories in the job's order (not HDF5's alphabetical one). */
static void check_info(const struct ls_reader_info *in, const struct ls_job *job)
{
    static const char *const axis[] = {"depth", "init_scale", "loss", "seed", "width"};
    static const enum ls_type type[] = {LS_T_INT, LS_T_REAL, LS_T_STR, LS_T_INT, LS_T_INT};
    assert_int_equal(in->n_points, 5 * 3 * 4 * 2);
    assert_int_equal(in->T, T_STEPS);
    assert_string_equal(in->job_name, "unit-store");
    assert_string_equal(in->job_hash, "00000000deadbeef");
    assert_int_equal(in->n_axes, 5);
    for (size_t a = 0; a < 5; a++) {
        assert_string_equal(in->axis[a], axis[a]);
        assert_int_equal(in->axis_type[a], type[a]);
        assert_int_equal(in->axis_swept[a], a != 4); /* width is not swept */
    }
    assert_int_equal(in->n_metrics, 5);
    for (size_t m = 0; m < 5; m++)
        assert_string_equal(in->metric[m], metric_names[m]);
    assert_int_equal(in->n_traj, 3);
    for (size_t m = 0; m < 3; m++)
        assert_string_equal(in->traj[m], job->traj[m]);
}

/* Written and pending rows in [row0, row0 + rows): both must occur for a range to test both. */
static void expect_mixed(const uint8_t *written, uint64_t row0, size_t rows)
{
    size_t w = 0;
    for (size_t j = 0; j < rows; j++)
        w += written[row0 + j];
    assert_true(w > 0 && w < rows);
}

/* The reader of the reader tests, and their extra files: closed and removed by cleanup_reader even
 * when a test fails, so that a failure does not cascade into the tests after it. */
static struct ls_reader *reader;

static int cleanup_reader(void **state)
{
    char f[160];
    (void)state;
    store_reader_close(&reader);
    snprintf(f, sizeof f, "%s/other.h5", dir);
    unlink(f);
    snprintf(f, sizeof f, "%s/arrays.h5", dir);
    unlink(f);
    return 0;
}

static void test_reader(void **state)
{
    (void)state;
    struct ls_job job;
    struct ls_reader_info info;
    int64_t steps[T_STEPS];
    double step[T_STEPS], *col = NULL;
    size_t got = 0;
    make_reader_job(&job);
    uint64_t n = job.grid.n_points;
    uint8_t *written = calloc(n, 1);
    create_written_file(&job, written);
    assert_int_equal(store_reader_open(path, &reader, &info), LS_OK);
    assert_non_null(reader);
    check_info(&info, &job);
    steps_of(steps, T_STEPS);
    assert_int_equal(store_reader_numeric(reader, "/trajectories/step", 0, T_STEPS, step), LS_OK);
    for (size_t t = 0; t < T_STEPS; t++)
        assert_true(step[t] == (double)steps[t]);
    expect_mixed(written, 41, 30); /* the middle */
    check_numeric_rows(reader, &job, written, 41, 30);
    check_text_rows(reader, &job, written, 41, 30);
    expect_mixed(written, n - 17, 17); /* the end */
    check_numeric_rows(reader, &job, written, n - 17, 17);
    check_text_rows(reader, &job, written, n - 17, 17);
    check_numeric_rows(reader, &job, written, n - 1, 1);
    store_reader_close(&reader);
    assert_null(reader);
    store_reader_close(&reader); /* safe twice and on NULL */
    store_reader_close(NULL);

    /* store_read_column: the whole of a real axis and of /timing/finished, bitwise. */
    assert_int_equal(store_read_column(path, "/grid/init_scale", &col, &got), LS_OK);
    assert_int_equal(got, n);
    size_t idx[LS_MAX_AXES];
    for (uint64_t i = 0; i < n; i++) {
        grid_unravel(&job.grid, i, idx);
        assert_true(same(col[i], 0.001 + 0.25 * (double)idx[0]));
    }
    free(col);
    assert_int_equal(store_read_column(path, "/timing/finished", &col, &got), LS_OK);
    assert_int_equal(got, n);
    for (uint64_t i = 0; i < n; i++)
        assert_true(same(col[i], written[i] ? T0 + 0.5 * (double)i : NAN));
    free(col);
    assert_int_equal(store_read_column(path, "/timing/nope", &col, &got), LS_ENOTFOUND);
    assert_null(col);
    assert_int_equal(got, 0);
    free(written);
    free_job(&job);
}

/* A reader's errors leave buf as it was. */
static void expect_untouched(const double *buf, size_t n)
{
    for (size_t j = 0; j < n; j++)
        assert_true(buf[j] == 42.0);
}

static void test_reader_errors(void **state)
{
    (void)state;
    struct ls_job job;
    struct ls_reader_info info;
    double buf[4 * T_STEPS];
    char text[4 * LS_HOST_MAX];
    uint8_t st[4];
    make_reader_job(&job);
    uint64_t n = job.grid.n_points;
    uint8_t *written = calloc(n, 1);
    create_written_file(&job, written);
    assert_int_equal(store_reader_open(path, &reader, &info), LS_OK);
    for (size_t j = 0; j < 4 * T_STEPS; j++)
        buf[j] = 42.0;
    /* Past the last row. */
    assert_int_equal(store_reader_numeric(reader, "/metrics/l1_norm", n - 3, 4, buf), LS_ERANGE);
    assert_int_equal(store_reader_numeric(reader, "/metrics/l1_norm", n, 1, buf), LS_ERANGE);
    assert_int_equal(store_reader_numeric(reader, "/metrics/l1_norm", UINT64_MAX, 2, buf),
                     LS_ERANGE);
    assert_int_equal(store_reader_numeric(reader, "/trajectories/l2_norm", n - 1, 2, buf),
                     LS_ERANGE);
    assert_int_equal(store_reader_numeric(reader, "/trajectories/step", T_STEPS - 1, 2, buf),
                     LS_ERANGE);
    assert_int_equal(store_reader_strings(reader, "/timing/host", n - 2, 3, LS_HOST_MAX, text),
                     LS_ERANGE);
    assert_int_equal(store_reader_status(reader, n - 1, 2, st), LS_ERANGE);
    expect_untouched(buf, 4 * T_STEPS);
    /* An empty block at the end is not past it. */
    assert_int_equal(store_reader_numeric(reader, "/metrics/l1_norm", n, 0, buf), LS_OK);
    /* Unknown datasets. */
    assert_int_equal(store_reader_numeric(reader, "/metrics/nope", 0, 1, buf), LS_ENOTFOUND);
    assert_int_equal(store_reader_numeric(reader, "/nogroup/nope", 0, 1, buf), LS_ENOTFOUND);
    assert_int_equal(store_reader_numeric(reader, "", 0, 1, buf), LS_ENOTFOUND);
    assert_int_equal(store_reader_strings(reader, "/timing/nope", 0, 1, LS_HOST_MAX, text),
                     LS_ENOTFOUND);
    expect_untouched(buf, 4 * T_STEPS);
    /* Not a dataset, or the wrong kind: an error, never a crash. */
    assert_int_not_equal(store_reader_numeric(reader, "/metrics", 0, 1, buf), LS_OK);
    assert_int_not_equal(store_reader_numeric(reader, "/grid/loss", 0, 1, buf), LS_OK);
    assert_int_not_equal(store_reader_strings(reader, "/metrics/l1_norm", 0, 1, 8, text), LS_OK);
    store_reader_close(&reader);

    /* Files that are not results files: absent, not HDF5, HDF5 without the layout. */
    char other[160];
    struct ls_array a = {"x", 1, 0, buf, NULL};
    snprintf(other, sizeof other, "%s/other.h5", dir);
    assert_int_equal(store_reader_open("/nonexistent/x.h5", &reader, &info), LS_ENOTFOUND);
    assert_null(reader);
    spit(other, (const unsigned char *)"not an HDF5 file\n", 17);
    assert_int_equal(store_reader_open(other, &reader, &info), LS_ECORRUPT);
    assert_null(reader);
    double *col = NULL;
    size_t got = 0;
    assert_int_equal(store_read_column(other, "/status", &col, &got), LS_ECORRUPT);
    assert_int_equal(store_read_column("/nonexistent/x.h5", "/status", &col, &got), LS_ENOTFOUND);
    assert_null(col);
    assert_int_equal(store_write_arrays(other, &a, 1, NULL, 0), LS_OK);
    assert_int_equal(store_reader_open(other, &reader, &info), LS_ECORRUPT);
    assert_null(reader);
    unlink(other);
    free(written);
    free_job(&job);
}

static void expect_matrix(const char *file, const char *dataset, size_t rows, size_t cols,
                          const double *want)
{
    size_t r = 0, c = 0;
    char msg[256] = "";
    double *got = malloc(rows * cols * sizeof *got);
    assert_int_equal(store_probe_matrix(file, dataset, &r, &c, msg, sizeof msg), LS_OK);
    assert_int_equal(r, rows);
    assert_int_equal(c, cols);
    assert_int_equal(store_read_matrix(file, dataset, got, rows, cols, msg, sizeof msg), LS_OK);
    assert_memory_equal(got, want, rows * cols * sizeof *got);
    free(got);
}

/* store_write_arrays then store_probe_matrix / store_read_matrix: shapes and values exactly,
 * float64 [rows][cols] and [rows], int64 converted to double (exact up to 2^53). */
static void test_arrays_matrix(void **state)
{
    (void)state;
    char file[160], msg[256];
    double x[3][4], y[5], iw[6], buf[16];
    int64_t iv[6] = {-7, 0, 1, INT64_C(1) << 53, -(INT64_C(1) << 53), 123456789};
    size_t r = 9, c = 9;
    for (size_t k = 0; k < 12; k++)
        x[k / 4][k % 4] = ((double)k - 5.5) / 3.0 * pow(10.0, (double)k * 25 - 150);
    x[0][0] = -0.0;
    x[1][1] = DBL_TRUE_MIN;
    x[2][3] = DBL_MAX;
    for (size_t k = 0; k < 5; k++)
        y[k] = 1.0 / (double)(k + 3);
    for (size_t k = 0; k < 6; k++)
        iw[k] = (double)iv[k];
    struct ls_array arr[] = {
        {"x", 3, 4, &x[0][0], NULL}, {"y", 5, 0, y, NULL}, {"idx", 2, 3, NULL, iv}};
    struct ls_attr attrs[] = {{"point", NULL, 17}, {"job_name", "unit-store", 0}};
    snprintf(file, sizeof file, "%s/arrays.h5", dir);
    assert_int_equal(store_write_arrays(file, arr, 3, attrs, 2), LS_OK);
    expect_matrix(file, "x", 3, 4, &x[0][0]);
    expect_matrix(file, "/y", 5, 1, y);
    expect_matrix(file, "/idx", 2, 3, iw);

    /* A missing dataset, a wrong shape (buf untouched), a missing or non-HDF5 file. */
    assert_int_equal(store_probe_matrix(file, "nope", &r, &c, msg, sizeof msg), LS_ENOTFOUND);
    assert_true(r == 0 && c == 0 && strstr(msg, "nope") != NULL);
    assert_int_equal(store_probe_matrix(file, "/g/nope", &r, &c, msg, sizeof msg), LS_ENOTFOUND);
    assert_int_equal(store_read_matrix(file, "nope", buf, 3, 4, msg, sizeof msg), LS_ENOTFOUND);
    for (size_t k = 0; k < 16; k++)
        buf[k] = 42.0;
    assert_int_equal(store_read_matrix(file, "x", buf, 4, 3, msg, sizeof msg), LS_EINVAL);
    assert_int_equal(store_read_matrix(file, "x", buf, 3, 5, msg, sizeof msg), LS_EINVAL);
    assert_int_equal(store_read_matrix(file, "y", buf, 5, 0, msg, sizeof msg), LS_EINVAL);
    expect_untouched(buf, 16);
    assert_int_equal(store_probe_matrix("/nonexistent/x.h5", "x", &r, &c, msg, sizeof msg), LS_EIO);
    spit(path, (const unsigned char *)"not an HDF5 file\n", 17);
    assert_int_equal(store_probe_matrix(path, "x", &r, &c, msg, sizeof msg), LS_EIO);

    /* Not numbers, rank 0 or not a dataset: LS_EINVAL (a results file has all three). */
    struct ls_job job;
    make_job(&job, 5, "00000000deadbeef");
    uint8_t *written = calloc(job.grid.n_points, 1);
    create_written_file(&job, written);
    assert_int_equal(store_probe_matrix(path, "/grid/loss", &r, &c, msg, sizeof msg), LS_EINVAL);
    assert_int_equal(store_probe_matrix(path, "/job", &r, &c, msg, sizeof msg), LS_EINVAL);
    assert_int_equal(store_probe_matrix(path, "/grid", &r, &c, msg, sizeof msg), LS_EINVAL);
    free(written);
    free_job(&job);

    /* A failed write leaves no file behind, even after good arrays. */
    arr[1].rows = 0;
    assert_int_not_equal(store_write_arrays(file, arr, 3, attrs, 2), LS_OK);
    assert_int_not_equal(access(file, F_OK), 0);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/lsstore.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/out.h5", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_mismatch),
        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_killed_writer),
        cmocka_unit_test(test_concurrent_reader),
        cmocka_unit_test(test_throughput),
        cmocka_unit_test_teardown(test_reader, cleanup_reader),
        cmocka_unit_test_teardown(test_reader_errors, cleanup_reader),
        cmocka_unit_test_teardown(test_arrays_matrix, cleanup_reader),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
