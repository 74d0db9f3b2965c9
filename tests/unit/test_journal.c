/* test_journal.c — the journal keeps every good record and drops exactly the damaged ones.
 *
 * Records are written through journal.c and then damaged on disk by hand (truncated, bit-flipped,
 * a length field changed, a garbage header), and journal_read must return precisely the records
 * that were not touched, each with its exact bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lazysweep/error.h"
#include "lazysweep/journal.h"

#define N_REC 1000
#define FRAME 12 /* "LSJR" | u32 length | u32 CRC */
#define HASH 0x0123456789abcdefULL
#define CANON "a=1\nb=two\n"
#define TEXT "a: 1  # the job file\nb: two\n"
/* The header record: frame, tag, version, hash, u32 canonical length, canonical, text. */
#define HEADER_REC (FRAME + 20 + strlen(CANON) + strlen(TEXT))
#define HEADER_BYTES (2 * HEADER_REC) /* written twice */

static char dir[64];
static char path[128];

/* Size of record i's payload: varied, from 8 bytes to a few KiB, with a large one now and then. */
static size_t rec_size(size_t i)
{
    if (i % 97 == 13)
        return 70000 + i;
    return 8 + (i * 7919) % 3000;
}

/* Payload i: u32 version 1 (like a result record), u32 index, then a pattern keyed on i. */
static void rec_fill(size_t i, unsigned char *p, size_t n)
{
    p[0] = 1, p[1] = 0, p[2] = 0, p[3] = 0;
    for (int b = 0; b < 4; b++)
        p[4 + b] = (unsigned char)(i >> (8 * b));
    for (size_t k = 8; k < n; k++)
        p[k] = (unsigned char)(i * 31 + k * 7);
}

/* What a scan saw: the indices of the records, in order; each payload checked byte for byte. */
struct seen {
    size_t n;
    size_t idx[2 * N_REC];
    int bad_payload;
};

static int collect(const unsigned char *p, size_t len, void *arg)
{
    struct seen *s = arg;
    size_t i = (size_t)p[4] | (size_t)p[5] << 8 | (size_t)p[6] << 16 | (size_t)p[7] << 24;
    unsigned char *want = malloc(len);
    rec_fill(i, want, len);
    if (len != rec_size(i) || memcmp(want, p, len) != 0) {
        fprintf(stderr, "record %zu: payload differs (len %zu, expected %zu)\n", i, len,
                rec_size(i));
        s->bad_payload++;
    }
    free(want);
    if (s->n < 2 * N_REC)
        s->idx[s->n++] = i;
    return 0;
}

/* Write a journal with records 0..n-1; offs[i] (if given) gets the file offset of record i. */
static void write_journal(size_t n, uint64_t *offs)
{
    struct ls_journal *j = NULL;
    assert_int_equal(journal_create(path, HASH, CANON, TEXT, strlen(TEXT), &j), LS_OK);
    uint64_t off = HEADER_BYTES;
    unsigned char *buf = malloc(80000); /* > largest rec_size */
    for (size_t i = 0; i < n; i++) {
        size_t len = rec_size(i);
        rec_fill(i, buf, len);
        assert_int_equal(journal_append(j, buf, len), LS_OK);
        if (offs)
            offs[i] = off;
        off += FRAME + len;
    }
    free(buf);
    assert_int_equal(journal_sync(j, 0), LS_OK);
    journal_close(&j);
    assert_null(j);
}

static void append_one(size_t i, const struct ls_journal_scan *scan)
{
    struct ls_journal *j = NULL;
    assert_int_equal(journal_open(path, scan, &j), LS_OK);
    unsigned char *buf = malloc(rec_size(i));
    rec_fill(i, buf, rec_size(i));
    assert_int_equal(journal_append(j, buf, rec_size(i)), LS_OK);
    free(buf);
    journal_close(&j);
    journal_close(&j); /* safe twice */
}

static void scan_file(struct seen *s, struct ls_journal_scan *scan, int want_rc)
{
    memset(s, 0, sizeof *s);
    assert_int_equal(journal_read(path, collect, s, scan), want_rc);
    assert_int_equal(s->bad_payload, 0);
}

/* The indices seen are 0..n-1 without `skip` (pass n to skip none). */
static void expect_all_but(const struct seen *s, size_t n, size_t skip)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == skip)
            continue;
        assert_true(k < s->n);
        assert_int_equal(s->idx[k], i);
        k++;
    }
    assert_int_equal(s->n, k);
}

static long file_size(void)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void patch(uint64_t off, unsigned char xor_mask)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, (long)off, SEEK_SET);
    int c = fgetc(f);
    fseek(f, (long)off, SEEK_SET);
    fputc(c ^ xor_mask, f);
    fclose(f);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct seen *s = malloc(sizeof *s);
    struct ls_journal_scan scan;
    write_journal(N_REC, NULL);
    scan_file(s, &scan, LS_OK);
    expect_all_but(s, N_REC, N_REC);
    assert_int_equal(scan.n_records, N_REC);
    assert_int_equal(scan.n_bad, 0);
    assert_true(scan.job_hash == HASH);
    assert_string_equal(scan.canonical, CANON);
    assert_int_equal(scan.good_bytes, scan.file_bytes);
    assert_int_equal(scan.file_bytes, file_size());
    journal_scan_free(&scan);

    /* Reopen (nothing to cut) and append one more: all N_REC + 1 read back. */
    append_one(N_REC, &scan);
    scan_file(s, &scan, LS_OK);
    expect_all_but(s, N_REC + 1, N_REC + 1);
    assert_int_equal(scan.n_bad, 0);
    journal_scan_free(&scan);
    free(s);
}

static void test_torn_tail(void **state)
{
    (void)state;
    struct seen *s = malloc(sizeof *s);
    struct ls_journal_scan scan;
    write_journal(100, NULL);
    assert_int_equal(truncate(path, file_size() - 5), 0);
    scan_file(s, &scan, LS_OK);
    expect_all_but(s, 99, 99);
    assert_int_equal(scan.n_bad, 1);
    assert_true(scan.good_bytes < scan.file_bytes);
    journal_scan_free(&scan);

    /* journal_open cuts the torn record; a new record 99 then follows record 98 cleanly. */
    append_one(99, &scan);
    scan_file(s, &scan, LS_OK);
    expect_all_but(s, 100, 100);
    assert_int_equal(scan.n_bad, 0);
    assert_int_equal(scan.good_bytes, file_size());
    journal_scan_free(&scan);
    free(s);
}

static void test_bit_flip_middle(void **state)
{
    (void)state;
    struct seen *s = malloc(sizeof *s);
    uint64_t offs[100];
    struct ls_journal_scan scan;
    write_journal(100, offs);
    patch(offs[50] + FRAME + 3, 0x10);
    scan_file(s, &scan, LS_OK);
    expect_all_but(s, 100, 50);
    assert_int_equal(scan.n_bad, 1);
    assert_int_equal(scan.good_bytes, scan.file_bytes); /* later records are good */
    journal_scan_free(&scan);

    /* A bad record in the middle is not a torn tail: appending keeps every later record. */
    append_one(100, &scan);
    scan_file(s, &scan, LS_OK);
    assert_int_equal(s->n, 100);
    assert_int_equal(s->idx[99], 100);
    journal_scan_free(&scan);
    free(s);
}

/* A length field made huge (past MAX), a bit larger (runs into the next record) or a bit smaller:
 * each time only that record is lost and the scanner resynchronizes on the next one. */
static void test_length_flip(void **state)
{
    (void)state;
    static const struct {
        int byte;
        unsigned char mask;
    } flips[] = {{3, 0x40}, {1, 0x01}, {0, 0x02}, {2, 0x01}};
    struct seen *s = malloc(sizeof *s);
    uint64_t offs[100];
    struct ls_journal_scan scan;
    for (size_t k = 0; k < sizeof flips / sizeof flips[0]; k++) {
        write_journal(100, offs);
        patch(offs[50] + 4 + (uint64_t)flips[k].byte, flips[k].mask);
        scan_file(s, &scan, LS_OK);
        expect_all_but(s, 100, 50);
        assert_int_equal(scan.n_bad, 1);
        journal_scan_free(&scan);
    }
    /* The magic itself damaged: same outcome. */
    write_journal(100, offs);
    patch(offs[50], 0x01);
    scan_file(s, &scan, LS_OK);
    expect_all_but(s, 100, 50);
    journal_scan_free(&scan);
    free(s);
}

static void test_missing_and_bad_header(void **state)
{
    (void)state;
    struct seen *s = malloc(sizeof *s);
    struct ls_journal_scan scan;
    unlink(path);
    scan_file(s, &scan, LS_ENOTFOUND);

    FILE *f = fopen(path, "wb"); /* empty */
    fclose(f);
    scan_file(s, &scan, LS_ECORRUPT);
    assert_null(scan.canonical);

    f = fopen(path, "wb");
    fputs("this is not a journal at all, just some text long enough to be framed\n", f);
    fclose(f);
    scan_file(s, &scan, LS_ECORRUPT);

    /* A flipped bit in either copy of the header costs nothing: the other copy stands in. */
    for (int copy = 0; copy < 2; copy++) {
        write_journal(10, NULL);
        patch((uint64_t)copy * HEADER_REC + FRAME + 9, 0x80);
        scan_file(s, &scan, LS_OK);
        assert_int_equal(scan.header_repaired, 1);
        assert_int_equal(scan.job_hash, HASH);
        assert_string_equal(scan.canonical, CANON);
        assert_string_equal(scan.text, TEXT);
        expect_all_but(s, 10, 10);
        journal_scan_free(&scan);
    }
    /* Both copies damaged: nothing after them is trusted, unless the job re-derives it. */
    write_journal(10, NULL);
    patch(FRAME + 9, 0x80);
    patch(HEADER_REC + 2, 0x01);
    scan_file(s, &scan, LS_ECORRUPT);
    assert_int_equal(s->n, 0);
    const struct ls_journal_hint hint = {HASH, CANON, TEXT, strlen(TEXT)};
    memset(s, 0, sizeof *s);
    assert_int_equal(journal_read_hinted(path, &hint, collect, s, &scan), LS_OK);
    assert_int_equal(scan.header_repaired, 1);
    expect_all_but(s, 10, 10);
    journal_scan_free(&scan);
    const struct ls_journal_hint other = {HASH + 1, CANON, TEXT, strlen(TEXT)};
    assert_int_equal(journal_read_hinted(path, &other, collect, s, &scan), LS_ECORRUPT);

    /* A file that starts with a point record instead of the header. */
    uint64_t offs[10];
    write_journal(10, offs);
    FILE *in = fopen(path, "rb");
    unsigned char *buf = malloc((size_t)file_size());
    size_t n = fread(buf, 1, (size_t)file_size(), in);
    fclose(in);
    f = fopen(path, "wb");
    fwrite(buf + offs[0], 1, n - offs[0], f);
    fclose(f);
    free(buf);
    scan_file(s, &scan, LS_ECORRUPT);
    free(s);
}

static int stop_at_three(const unsigned char *p, size_t len, void *arg)
{
    (void)p, (void)len;
    return ++*(int *)arg == 3 ? LS_ERANGE : 0;
}

static void test_callback_stops_and_sync(void **state)
{
    (void)state;
    struct ls_journal_scan scan;
    int calls = 0;
    write_journal(10, NULL);
    assert_int_equal(journal_read(path, stop_at_three, &calls, &scan), LS_ERANGE);
    assert_int_equal(calls, 3);
    assert_null(scan.canonical);

    struct ls_journal *j = NULL;
    assert_int_equal(journal_read(path, NULL, NULL, &scan), LS_OK);
    assert_int_equal(scan.n_records, 10);
    assert_int_equal(journal_open(path, &scan, &j), LS_OK);
    journal_scan_free(&scan);
    assert_int_equal(journal_sync(j, 0), LS_OK);    /* nothing dirty: no-op */
    assert_int_equal(journal_append(j, "\1\0\0\0\12\0\0\0", 8), LS_OK);
    assert_int_equal(journal_sync(j, 3600), LS_OK); /* interval not elapsed */
    assert_int_equal(journal_sync(j, 0), LS_OK);
    assert_int_equal(journal_append(NULL, "x", 1), LS_EINVAL);
    journal_close(&j);
    journal_close(NULL);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/lsjournal.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/out.h5.journal", dir);
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
        cmocka_unit_test(test_torn_tail),
        cmocka_unit_test(test_bit_flip_middle),
        cmocka_unit_test(test_length_flip),
        cmocka_unit_test(test_missing_and_bad_header),
        cmocka_unit_test(test_callback_stops_and_sync),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
