/* resume.h — bringing the journal and the results file into agreement when a sweep starts.
 *
 * The journal is the authority on what is done. At start-up the coordinator reads it, refuses a
 * journal of another experiment (naming the keys that changed), maps every finished point to its
 * index in the current grid by key (so a grid that gained values keeps its finished points),
 * checks every row of the file against the journal (a CRC-32 per row), rewrites the rows that
 * differ, and rebuilds the file from the journal — written aside, then renamed over — when it
 * cannot be opened or no longer has the grid's shape. A new file is also built aside and renamed
 * into place once complete and in SWMR mode, so SWMR readers never see it half made. */
#ifndef LAZYSWEEP_RESUME_H
#define LAZYSWEEP_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "lazysweep/cfg.h"
#include "lazysweep/journal.h"
#include "lazysweep/store.h"

struct ls_resume {
    struct ls_journal *journal; /* open for appending */
    struct ls_store *store;     /* open, in SWMR mode */
    uint8_t *status;            /* [n_points] status of each point per the journal */
    uint64_t count[LS_ST_COUNT];/* points per status */
    size_t replayed;            /* rows written into the file from the journal */
    size_t verified;            /* rows of an existing file checked against the journal ... */
    double verify_seconds;      /* ... in this many seconds */
    size_t rewritten;           /* rows that differed from their journal record (rewritten) */
    size_t reset;               /* finished rows without a journal record, reset to pending */
    size_t fixed;               /* values of /grid, /point, /trajectories/step, /job that
                                   differed from the job (rewritten) */
    int rebuilt;                /* 1 if the file was rebuilt from the journal */
    int created;                /* 1 if this is a new sweep */
};

/* Open or create the journal and file of results file `out` for this job. LS_EMISMATCH (with msg)
 * when the output belongs to another experiment or lost grid values that have finished points:
 * the caller exits 2. `fresh` deletes both first. */
int resume_open(const struct ls_job *job, const char *out, int fresh, const int64_t *steps,
                size_t T, const char *versions, struct ls_resume *rs, char *msg, size_t len);

/* `lazysweep verify`: the checks resume_open makes — every row against the journal, and what the
 * job determines against the job (store_check_fixed) — on a file that is left as it is: no
 * journal, file or lock is written. Each difference goes to fn with its dataset and row;
 * *n_diff counts them (0: consistent). A file that cannot be opened is one difference (a rerun
 * rebuilds it). LS_ENOTFOUND (msg) without a journal, LS_EMISMATCH (msg) for a journal of
 * another experiment. rs gets the counts; release it with resume_close. */
int resume_verify(const struct ls_job *job, const char *out, const int64_t *steps, size_t T,
                  ls_store_diff_fn fn, void *arg, struct ls_resume *rs, size_t *n_diff,
                  char *msg, size_t len);

/* Close journal and file (cleanly) and free; safe twice. */
void resume_close(struct ls_resume *rs);

#endif
