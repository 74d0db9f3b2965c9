/* journal.c — the append-only journal of finished points, the authority on what is done.
 *
 * Every record is framed as "LSJR" | u32 length | u32 CRC-32 | payload (little-endian). The first
 * record is the header, whose payload starts with its own tag "LSJH" so it can never be mistaken
 * for a point record (point payloads are result_encode() bytes, which start with u32 version 1).
 * The reader maps the file and checks each frame on its own; on a bad frame it searches forward
 * byte by byte for the next magic whose frame and CRC check out, so one torn or bit-flipped record
 * costs exactly that record. The writer appends each record with a single write() on an O_APPEND
 * descriptor, so a killed process leaves at most one torn record, at the tail. */
#include "lazysweep/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "lazysweep/error.h"

#define JOURNAL_MAGIC "LSJR"
#define JOURNAL_HEADER_TAG "LSJH"
#define JOURNAL_VERSION 2u       /* header: tag, version, hash, u32 canonical length, canonical,
                                    job text; written twice */
#define JOURNAL_VERSION_1 1u     /* read only: tag, version, hash, canonical; written once */
#define JOURNAL_FRAME 12u        /* magic, length, CRC */
#define JOURNAL_HEADER_FIXED 16u /* tag, version, job hash */
#define JOURNAL_COPY_DAMAGE 16u  /* bytes by which a damaged header copy may differ */

/* Return from the function with `expr`'s code unless it is LS_OK. */
#define LS_OK_OR_RETURN(expr)                                                                    \
    do {                                                                                         \
        int rc_ = (expr);                                                                        \
        if (rc_ != LS_OK)                                                                        \
            return rc_;                                                                          \
    } while (0)

/* A failed system call: log it with errno's text and fail with LS_EIO. */
#define JOURNAL_SYS(expr)                                                                        \
    do {                                                                                         \
        if ((expr) < 0) {                                                                        \
            ls_report(__FILE__, __LINE__, #expr, strerror(errno));                               \
            rc = LS_EIO;                                                                         \
            goto cleanup;                                                                        \
        }                                                                                        \
    } while (0)

struct ls_journal {
    int fd;
    int dirty;                /* appended since the last fdatasync */
    uint64_t size;            /* bytes in the file, so a failed append can be cut back */
    struct timespec synced;   /* CLOCK_MONOTONIC time of the last fdatasync */
    unsigned char *buf;       /* frame + payload of the record being written */
    size_t cap;
};

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t journal_crc(const unsigned char *p, size_t len)
{
    /* Lengths are capped at LS_JOURNAL_MAX_RECORD, so zlib's uInt is wide enough. */
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)len);
}

/* A header payload at p: tag, version, hash, (version 2: u32 canonical length,) canonical,
 * (version 2:) job text. p must hold JOURNAL_HEADER_FIXED + (4) + canon + text bytes. */
static void header_fill(unsigned char *p, uint32_t version, uint64_t hash, const char *canonical,
                        size_t canon, const char *text, size_t text_len)
{
    memcpy(p, JOURNAL_HEADER_TAG, 4);
    put_u32(p + 4, version);
    put_u32(p + 8, (uint32_t)hash);
    put_u32(p + 12, (uint32_t)(hash >> 32));
    p += JOURNAL_HEADER_FIXED;
    if (version != JOURNAL_VERSION_1) {
        put_u32(p, (uint32_t)canon);
        p += 4;
    }
    if (canon > 0)
        memcpy(p, canonical, canon);
    if (text_len > 0)
        memcpy(p + canon, text, text_len);
}

/* ---- reading ---------------------------------------------------------------------------- */

/* Length of the good record starting at `pos` of map[size], or 0 if the frame, length or CRC is
 * bad (a record always has at least its 12-byte frame, so 0 is never a good length). */
static size_t record_at(const unsigned char *map, uint64_t size, uint64_t pos)
{
    if (size - pos < JOURNAL_FRAME || memcmp(map + pos, JOURNAL_MAGIC, 4) != 0)
        return 0;
    uint32_t len = get_u32(map + pos + 4);
    if (len > LS_JOURNAL_MAX_RECORD || len > size - pos - JOURNAL_FRAME)
        return 0;
    if (journal_crc(map + pos + JOURNAL_FRAME, len) != get_u32(map + pos + 8))
        return 0;
    return JOURNAL_FRAME + len;
}

/* Offset of the next good record after a bad one at `pos`, or `size` if there is none. */
static uint64_t resync(const unsigned char *map, uint64_t size, uint64_t pos)
{
    for (uint64_t p = pos + 1; p + JOURNAL_FRAME <= size; p++) {
        const unsigned char *hit = memchr(map + p, 'L', size - p);
        if (hit == NULL)
            break;
        p = (uint64_t)(hit - map);
        if (record_at(map, size, p) > 0)
            return p;
    }
    return size;
}

/* Parse a header payload p[len] (either format) into scan: hash, canonical text, job text. */
static int parse_header(const unsigned char *p, size_t len, struct ls_journal_scan *scan)
{
    if (len < JOURNAL_HEADER_FIXED || memcmp(p, JOURNAL_HEADER_TAG, 4) != 0)
        return LS_ECORRUPT;
    uint32_t version = get_u32(p + 4);
    size_t canon = len - JOURNAL_HEADER_FIXED, text = 0, at = JOURNAL_HEADER_FIXED;
    if (version == JOURNAL_VERSION) {
        if (len < JOURNAL_HEADER_FIXED + 4 || get_u32(p + 16) > len - JOURNAL_HEADER_FIXED - 4)
            return LS_ECORRUPT;
        at += 4;
        canon = get_u32(p + 16);
        text = len - at - canon;
    } else if (version != JOURNAL_VERSION_1) {
        return LS_ECORRUPT;
    }
    scan->job_hash = (uint64_t)get_u32(p + 8) | (uint64_t)get_u32(p + 12) << 32;
    scan->canonical = malloc(canon + 1);
    scan->text = version == JOURNAL_VERSION ? malloc(text + 1) : NULL;
    if (scan->canonical == NULL || (version == JOURNAL_VERSION && scan->text == NULL))
        return LS_ENOMEM;
    memcpy(scan->canonical, p + at, canon);
    scan->canonical[canon] = '\0';
    if (scan->text != NULL) {
        memcpy(scan->text, p + at + canon, text);
        scan->text[text] = '\0';
        scan->text_len = text;
    }
    return LS_OK;
}

/* Is the good record at pos a header? */
static int is_header_at(const unsigned char *map, uint64_t size, uint64_t pos, size_t *rec)
{
    *rec = record_at(map, size, pos);
    return *rec >= JOURNAL_FRAME + JOURNAL_HEADER_FIXED &&
           memcmp(map + pos + JOURNAL_FRAME, JOURNAL_HEADER_TAG, 4) == 0;
}

/* Do the `n` bytes at a and b differ in at most a few bytes (b: a damaged copy of a)? */
static int near_copy(const unsigned char *a, const unsigned char *b, size_t n)
{
    size_t diff = 0;
    for (size_t i = 0; i < n && diff <= JOURNAL_COPY_DAMAGE; i++)
        diff += a[i] != b[i];
    return diff <= JOURNAL_COPY_DAMAGE;
}

/* After a header of `rec` bytes at [0, rec): skip its copy, intact or damaged, if it follows. */
static uint64_t past_copy(const unsigned char *map, uint64_t size, size_t rec,
                          struct ls_journal_scan *scan)
{
    if (size - rec < rec || !near_copy(map, map + rec, rec))
        return rec;
    if (memcmp(map, map + rec, rec) != 0)
        scan->header_repaired = 1;
    return 2 * (uint64_t)rec;
}

/* The header payload the hinted job writes, in format `version`, into *out (malloc'ed). */
static size_t hint_payload(const struct ls_journal_hint *h, uint32_t version, unsigned char **out)
{
    size_t canon = h->canonical ? strlen(h->canonical) : 0;
    size_t extra = version == JOURNAL_VERSION ? 4 + h->text_len : 0;
    size_t len = JOURNAL_HEADER_FIXED + canon + extra;
    unsigned char *p = malloc(len);
    if ((*out = p) == NULL)
        return 0;
    header_fill(p, version, h->hash, h->canonical, canon, h->text, version == 1 ? 0 : h->text_len);
    return len;
}

/* Both copies damaged (or the one copy of a version-1 journal): accept the damaged header at
 * offset 0 if it is the one this job would write — its payload equal to ours with only the frame
 * damaged, or its CRC that of our payload with only the payload damaged. */
static int rederive(const unsigned char *map, uint64_t size, const struct ls_journal_hint *h,
                    struct ls_journal_scan *scan)
{
    for (uint32_t version = JOURNAL_VERSION; h != NULL && version >= 1; version--) {
        unsigned char *want = NULL;
        size_t len = hint_payload(h, version, &want);
        int ok = len > 0 && size >= JOURNAL_FRAME + len &&
                 (memcmp(map + JOURNAL_FRAME, want, len) == 0 ||
                  get_u32(map + 8) == journal_crc(want, len));
        int rc = ok ? parse_header(want, len, scan) : LS_ECORRUPT;
        free(want);
        if (rc != LS_ECORRUPT) {
            scan->header_repaired = 1;
            scan->header_bytes = scan->good_bytes =
                past_copy(map, size, JOURNAL_FRAME + len, scan);
            return rc;
        }
        if (len == 0)
            return LS_ENOMEM;
    }
    return LS_ECORRUPT;
}

/* The header: the record at offset 0, else its copy right after it, else what the hinted job
 * would have written. Sets scan->good_bytes past the header and its copy. */
static int read_header(const unsigned char *map, uint64_t size, const struct ls_journal_hint *h,
                       struct ls_journal_scan *scan)
{
    size_t rec = 0, rec2 = 0;
    int rc = LS_ECORRUPT;
    if (is_header_at(map, size, 0, &rec) &&
        (rc = parse_header(map + JOURNAL_FRAME, rec - JOURNAL_FRAME, scan)) == LS_OK) {
        scan->header_bytes = scan->good_bytes = past_copy(map, size, rec, scan);
        return LS_OK;
    }
    uint64_t p2 = resync(map, size, 0);
    if (rc != LS_ENOMEM && p2 < size && is_header_at(map, size, p2, &rec2) && p2 == rec2) {
        rc = parse_header(map + p2 + JOURNAL_FRAME, rec2 - JOURNAL_FRAME, scan);
        scan->header_repaired = 1;
        scan->header_bytes = scan->good_bytes = p2 + rec2;
        return rc;
    }
    return rc == LS_ENOMEM ? rc : rederive(map, size, h, scan);
}

/* Walk the point records after the header, calling fn on each good one. */
static int scan_records(const unsigned char *map, uint64_t size, ls_journal_fn fn, void *arg,
                        struct ls_journal_scan *scan)
{
    uint64_t pos = scan->good_bytes;
    while (pos < size) {
        size_t rec = record_at(map, size, pos);
        const unsigned char *payload = map + pos + JOURNAL_FRAME;
        /* A second header in the body is not a point: treat it as a bad record. */
        if (rec == 0 || (rec >= JOURNAL_FRAME + 4 && memcmp(payload, JOURNAL_HEADER_TAG, 4) == 0)) {
            scan->n_bad++;
            pos = resync(map, size, pos);
            continue;
        }
        if (fn != NULL) {
            int rc = fn(payload, rec - JOURNAL_FRAME, arg);
            if (rc != 0)
                return rc;
        }
        scan->n_records++;
        pos += rec;
        scan->good_bytes = pos;
    }
    return LS_OK;
}

/* The whole file is mapped read-only rather than read: a big sweep's journal can reach hundreds
 * of megabytes, and the kernel pages it in as the scan walks it. On any failure (including a
 * nonzero return of fn, which is passed through) scan->canonical is NULL. */
int journal_read(const char *path, ls_journal_fn fn, void *arg, struct ls_journal_scan *scan)
{
    return journal_read_hinted(path, NULL, fn, arg, scan);
}

int journal_read_hinted(const char *path, const struct ls_journal_hint *hint, ls_journal_fn fn,
                        void *arg, struct ls_journal_scan *scan)
{
    int rc = LS_OK;
    int fd = -1;
    void *map = MAP_FAILED;
    struct stat st;

    memset(scan, 0, sizeof *scan);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return LS_ENOTFOUND;
    JOURNAL_SYS(fd);
    JOURNAL_SYS(fstat(fd, &st));
    scan->file_bytes = (uint64_t)st.st_size;
    if (st.st_size == 0) {
        rc = LS_ECORRUPT;
        goto cleanup;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        ls_report(__FILE__, __LINE__, "mmap(journal)", strerror(errno));
        rc = LS_EIO;
        goto cleanup;
    }
    LS_CALL(read_header(map, scan->file_bytes, hint, scan));
    LS_CALL(scan_records(map, scan->file_bytes, fn, arg, scan));
cleanup:
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    if (fd >= 0)
        close(fd);
    if (rc != LS_OK)
        journal_scan_free(scan);
    return rc;
}

void journal_scan_free(struct ls_journal_scan *scan)
{
    free(scan->canonical);
    free(scan->text);
    scan->canonical = scan->text = NULL;
    scan->text_len = 0;
}

/* ---- writing ---------------------------------------------------------------------------- */

/* Make room for a record of `len` payload bytes in j->buf. */
static int reserve(struct ls_journal *j, size_t len)
{
    size_t need = JOURNAL_FRAME + len;
    if (need <= j->cap)
        return LS_OK;
    unsigned char *b = realloc(j->buf, need);
    if (b == NULL)
        return LS_ENOMEM;
    j->buf = b;
    j->cap = need;
    return LS_OK;
}

/* write() all of buf, retrying on EINTR and on short writes. */
static int write_all(int fd, const unsigned char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* The frame of a record whose payload (`len` bytes) is at rec + 12. */
static void frame(unsigned char *rec, size_t len)
{
    memcpy(rec, JOURNAL_MAGIC, 4);
    put_u32(rec + 4, (uint32_t)len);
    put_u32(rec + 8, journal_crc(rec + JOURNAL_FRAME, len));
}

/* Write the first `bytes` of j->buf (framed records) at the end. A failed write is cut back off
 * the file, so a later record never follows a partial one. */
static int write_framed(struct ls_journal *j, size_t bytes)
{
    if (write_all(j->fd, j->buf, bytes) < 0) {
        int err = errno;
        if (ftruncate(j->fd, (off_t)j->size) < 0)
            ls_report(__FILE__, __LINE__, "ftruncate(journal)", strerror(errno));
        ls_report(__FILE__, __LINE__, "write(journal)", strerror(err));
        return LS_EIO;
    }
    j->size += bytes;
    j->dirty = 1;
    return LS_OK;
}

/* Frame j->buf's payload (already at buf + 12, `len` bytes) and write it as one record. */
static int write_record(struct ls_journal *j, size_t len)
{
    frame(j->buf, len);
    return write_framed(j, JOURNAL_FRAME + len);
}

static int journal_alloc(int fd, uint64_t size, struct ls_journal **out)
{
    struct ls_journal *j = calloc(1, sizeof *j);
    if (j == NULL)
        return LS_ENOMEM;
    j->fd = fd;
    j->size = size;
    clock_gettime(CLOCK_MONOTONIC, &j->synced);
    *out = j;
    return LS_OK;
}

/* fsync the directory holding `path`, so a newly created file's name survives a crash. */
static int sync_parent_dir(const char *path)
{
    int rc = LS_OK;
    int fd = -1;
    char *dir = strdup(path);
    LS_CHECK_ALLOC(dir);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    JOURNAL_SYS(fd = open(dir, O_RDONLY | O_CLOEXEC));
    JOURNAL_SYS(fsync(fd));
cleanup:
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

/* The header record is written twice, back to back, in one write(): a damaged copy costs
 * nothing (journal_read takes the other). */
int journal_create(const char *path, uint64_t job_hash, const char *canonical, const char *text,
                   size_t text_len, struct ls_journal **out)
{
    int rc = LS_OK;
    int fd = -1;
    struct ls_journal *j = NULL;
    size_t canon = canonical ? strlen(canonical) : 0;
    size_t len = JOURNAL_HEADER_FIXED + 4 + canon + (text ? text_len : 0);

    *out = NULL;
    if (len > LS_JOURNAL_MAX_RECORD)
        return LS_EINVAL;
    JOURNAL_SYS(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
    LS_CALL(journal_alloc(fd, 0, &j));
    fd = -1;
    LS_CALL(reserve(j, 2 * (JOURNAL_FRAME + len)));
    unsigned char *rec = j->buf;
    header_fill(rec + JOURNAL_FRAME, JOURNAL_VERSION, job_hash, canonical, canon, text,
                text ? text_len : 0);
    frame(rec, len);
    memcpy(rec + JOURNAL_FRAME + len, rec, JOURNAL_FRAME + len);
    LS_CALL(write_framed(j, 2 * (JOURNAL_FRAME + len)));
    LS_CALL(journal_sync(j, 0));
    LS_CALL(sync_parent_dir(path));
    *out = j;
    j = NULL;
cleanup:
    if (fd >= 0)
        close(fd);
    journal_close(&j);
    return rc;
}

/* Write both header copies again over a damaged one, in place, when the header read is of this
 * format and spans exactly its two copies (a kill meanwhile leaves the other copy intact). */
static int rewrite_header(const char *path, const struct ls_journal_scan *scan)
{
    int rc = LS_OK;
    size_t canon = scan->canonical ? strlen(scan->canonical) : 0;
    size_t len = JOURNAL_HEADER_FIXED + 4 + canon + scan->text_len;
    size_t rec = JOURNAL_FRAME + len;
    if (scan->text == NULL || scan->header_bytes != 2 * (uint64_t)rec)
        return LS_OK;
    int fd = -1;
    unsigned char *buf = malloc(2 * rec);
    LS_CHECK_ALLOC(buf);
    header_fill(buf + JOURNAL_FRAME, JOURNAL_VERSION, scan->job_hash, scan->canonical, canon,
                scan->text, scan->text_len);
    frame(buf, len);
    memcpy(buf + rec, buf, rec);
    JOURNAL_SYS(fd = open(path, O_WRONLY | O_CLOEXEC));
    for (size_t copy = 0; copy < 2; copy++) { /* one copy at a time: one is always whole */
        JOURNAL_SYS(pwrite(fd, buf + copy * rec, rec, (off_t)(copy * rec)) == (ssize_t)rec ? 0
                                                                                            : -1);
        JOURNAL_SYS(fdatasync(fd));
    }
cleanup:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

/* The file must still be the one scanned: if it grew since, cutting it to good_bytes would throw
 * away records someone else appended, so that is refused. */
int journal_open(const char *path, const struct ls_journal_scan *scan, struct ls_journal **out)
{
    int rc = LS_OK;
    int fd = -1;
    struct stat st;

    *out = NULL;
    if (scan->good_bytes == 0 || scan->good_bytes > scan->file_bytes)
        return LS_EINVAL;
    JOURNAL_SYS(fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC));
    JOURNAL_SYS(fstat(fd, &st));
    if ((uint64_t)st.st_size != scan->file_bytes) {
        ls_report(__FILE__, __LINE__, path, "journal changed since it was read");
        rc = LS_EINVAL;
        goto cleanup;
    }
    if (scan->file_bytes > scan->good_bytes) {
        JOURNAL_SYS(ftruncate(fd, (off_t)scan->good_bytes));
        JOURNAL_SYS(fdatasync(fd));
    }
    if (scan->header_repaired)
        LS_CALL(rewrite_header(path, scan));
    LS_CALL(journal_alloc(fd, scan->good_bytes, out));
    fd = -1;
cleanup:
    if (fd >= 0)
        close(fd);
    return rc;
}

int journal_append(struct ls_journal *j, const void *payload, size_t len)
{
    if (j == NULL || (payload == NULL && len > 0) || len > LS_JOURNAL_MAX_RECORD)
        return LS_EINVAL;
    int rc = reserve(j, len);
    if (rc != LS_OK)
        return rc;
    if (len > 0)
        memcpy(j->buf + JOURNAL_FRAME, payload, len);
    return write_record(j, len);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + 1e-9 * (double)(now.tv_nsec - t0->tv_nsec);
}

int journal_sync(struct ls_journal *j, double interval)
{
    int rc = LS_OK;
    if (j == NULL)
        return LS_EINVAL;
    if (!j->dirty || (interval > 0 && seconds_since(&j->synced) < interval))
        return LS_OK;
    JOURNAL_SYS(fdatasync(j->fd));
    clock_gettime(CLOCK_MONOTONIC, &j->synced);
    j->dirty = 0;
cleanup:
    return rc;
}

void journal_close(struct ls_journal **jp)
{
    if (jp == NULL || *jp == NULL)
        return;
    struct ls_journal *j = *jp;
    journal_sync(j, 0);
    if (close(j->fd) < 0)
        ls_report(__FILE__, __LINE__, "close(journal)", strerror(errno));
    free(j->buf);
    free(j);
    *jp = NULL;
}
