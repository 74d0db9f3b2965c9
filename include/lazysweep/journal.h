/* journal.h — the append-only record of finished points: the authority on what is done.
 *
 * File OUT.h5.journal: a header record (format, job hash, the job's canonical text and its exact
 * bytes), written twice, followed by one record per finished point. Each record is framed as
 *     magic "LSJR" | u32 payload length | u32 CRC-32 of the payload | payload
 * (little-endian), so a torn or bit-flipped record is detected on its own and dropped without
 * losing the records around it. Records are write()n before the point's HDF5 row is written, so a
 * kill of the process never loses one; fdatasync runs at least once a second (journal_sync), so a
 * node crash loses at most the last second. The header's second copy makes damage to either copy
 * cost nothing; with both damaged (or the single header of a journal from before the copy) the
 * header is re-derived from the job when it is this job's. Knows nothing of HDF5. */
#ifndef LAZYSWEEP_JOURNAL_H
#define LAZYSWEEP_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define LS_JOURNAL_MAX_RECORD (256u << 20) /* a length above this is corruption */

struct ls_journal; /* an open journal, appending */

/* What journal_read found. */
struct ls_journal_scan {
    uint64_t job_hash;   /* from the header */
    char *canonical;     /* from the header (malloc'ed, journal_scan_free), or NULL */
    char *text;          /* the job file's bytes from the header (malloc'ed, NUL-terminated),
                            or NULL for a journal from before they were kept */
    size_t text_len;
    int header_repaired; /* a header copy was damaged: the other one, or the job, stood in
                            (journal_open then writes both copies again) */
    uint64_t header_bytes; /* bytes of the header and its copy at the start of the file */
    size_t n_records;    /* good point records */
    size_t n_bad;        /* records dropped: bad CRC, bad frame, truncated */
    uint64_t good_bytes; /* offset just past the last good record */
    uint64_t file_bytes; /* size of the file */
};

/* Called for each good point record, in file order; a nonzero return stops the scan with it. */
typedef int (*ls_journal_fn)(const unsigned char *payload, size_t len, void *arg);

/* Read a journal. LS_ENOTFOUND if the file does not exist; LS_ECORRUPT if it has no valid header
 * (then nothing in it can be trusted). Bad records are skipped by resynchronizing on the next
 * magic that starts a record with a valid CRC. */
int journal_read(const char *path, ls_journal_fn fn, void *arg, struct ls_journal_scan *scan);

/* What the current job would write as its header: lets journal_read_hinted accept a header
 * whose two copies are both damaged (or a version-1 journal's one copy) when it is this job's. */
struct ls_journal_hint {
    uint64_t hash;
    const char *canonical;
    const char *text;
    size_t text_len;
};
int journal_read_hinted(const char *path, const struct ls_journal_hint *hint, ls_journal_fn fn,
                        void *arg, struct ls_journal_scan *scan);

/* Free what a scan holds (canonical, text); safe twice. */
void journal_scan_free(struct ls_journal_scan *scan);

/* Create a new journal (truncating) with its header (the job hash, canonical text and the job
 * file's bytes text[text_len]) written twice, synced. */
int journal_create(const char *path, uint64_t job_hash, const char *canonical, const char *text,
                   size_t text_len, struct ls_journal **out);

/* Open an existing journal for appending. A torn tail (bytes after scan->good_bytes when the last
 * record is incomplete) is cut off first, so new records never follow garbage. */
int journal_open(const char *path, const struct ls_journal_scan *scan, struct ls_journal **out);

/* Append one point record (write(), not yet synced). */
int journal_append(struct ls_journal *j, const void *payload, size_t len);

/* fdatasync if anything was appended since the last sync and at least `interval` seconds passed
 * (0: now). */
int journal_sync(struct ls_journal *j, double interval);

/* Sync and close; safe twice and on NULL. */
void journal_close(struct ls_journal **j);

#endif
