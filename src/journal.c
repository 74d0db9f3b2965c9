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
#define JOURNAL_VERSION 1u
#define JOURNAL_FRAME 12u       /* magic, length, CRC */
#define JOURNAL_HEADER_FIXED 16u /* tag, version, job hash */

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

/* Check the header record at offset 0 and copy its hash and canonical text into scan. */
static int read_header(const unsigned char *map, uint64_t size, struct ls_journal_scan *scan)
{
    size_t rec = record_at(map, size, 0);
    const unsigned char *p = map + JOURNAL_FRAME;
    if (rec < JOURNAL_FRAME + JOURNAL_HEADER_FIXED || memcmp(p, JOURNAL_HEADER_TAG, 4) != 0 ||
        get_u32(p + 4) != JOURNAL_VERSION)
        return LS_ECORRUPT;
    scan->job_hash = (uint64_t)get_u32(p + 8) | (uint64_t)get_u32(p + 12) << 32;
    size_t text = rec - JOURNAL_FRAME - JOURNAL_HEADER_FIXED;
    scan->canonical = malloc(text + 1);
    if (scan->canonical == NULL)
        return LS_ENOMEM;
    memcpy(scan->canonical, p + JOURNAL_HEADER_FIXED, text);
    scan->canonical[text] = '\0';
    scan->good_bytes = rec;
    return LS_OK;
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
    LS_CALL(read_header(map, scan->file_bytes, scan));
    LS_CALL(scan_records(map, scan->file_bytes, fn, arg, scan));
cleanup:
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    if (fd >= 0)
        close(fd);
    if (rc != LS_OK) {
        free(scan->canonical);
        scan->canonical = NULL;
    }
    return rc;
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

/* Frame j->buf's payload (already at buf + 12, `len` bytes) and write it as one record. A failed
 * write is cut back off the file, so a later record never follows a partial one. */
static int write_record(struct ls_journal *j, size_t len)
{
    memcpy(j->buf, JOURNAL_MAGIC, 4);
    put_u32(j->buf + 4, (uint32_t)len);
    put_u32(j->buf + 8, journal_crc(j->buf + JOURNAL_FRAME, len));
    if (write_all(j->fd, j->buf, JOURNAL_FRAME + len) < 0) {
        int err = errno;
        if (ftruncate(j->fd, (off_t)j->size) < 0)
            ls_report(__FILE__, __LINE__, "ftruncate(journal)", strerror(errno));
        ls_report(__FILE__, __LINE__, "write(journal)", strerror(err));
        return LS_EIO;
    }
    j->size += JOURNAL_FRAME + len;
    j->dirty = 1;
    return LS_OK;
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

/* Header payload: tag "LSJH" | u32 format version | u64 job hash | canonical text. */
int journal_create(const char *path, uint64_t job_hash, const char *canonical,
                   struct ls_journal **out)
{
    int rc = LS_OK;
    int fd = -1;
    struct ls_journal *j = NULL;
    size_t text = canonical ? strlen(canonical) : 0;

    *out = NULL;
    if (JOURNAL_HEADER_FIXED + text > LS_JOURNAL_MAX_RECORD)
        return LS_EINVAL;
    JOURNAL_SYS(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
    LS_CALL(journal_alloc(fd, 0, &j));
    fd = -1;
    LS_CALL(reserve(j, JOURNAL_HEADER_FIXED + text));
    unsigned char *p = j->buf + JOURNAL_FRAME;
    memcpy(p, JOURNAL_HEADER_TAG, 4);
    put_u32(p + 4, JOURNAL_VERSION);
    put_u32(p + 8, (uint32_t)job_hash);
    put_u32(p + 12, (uint32_t)(job_hash >> 32));
    if (text > 0)
        memcpy(p + JOURNAL_HEADER_FIXED, canonical, text);
    LS_CALL(write_record(j, JOURNAL_HEADER_FIXED + text));
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
