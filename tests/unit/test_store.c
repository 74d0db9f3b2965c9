/* test_store.c — the results file: rows written in any order read back exactly, the file refuses
 * another job's shape, damaged files fail cleanly, a concurrent reader sees flushed rows, and
 * store_write is fast enough for a sweep (the throughput is printed, not asserted).
 *
 * Expected values are computed here from the row index alone (row_value), independently of
 * store.c, and compared with what store_read_column / store_read_status / store_summary return. */
#include <setjmp.h>
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
        cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_summary),
        cmocka_unit_test(test_mismatch),        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_killed_writer),   cmocka_unit_test(test_concurrent_reader),
        cmocka_unit_test(test_throughput),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
