/* lock.h — one running sweep per results file.
 *
 * OUT.h5.lock holds an flock(2) for as long as the coordinator runs. The kernel drops the lock
 * when the process dies, however it dies, so a lock left behind by a killed run never blocks the
 * rerun; the file's text (pid and host of the holder) only feeds the messages. */
#ifndef LAZYSWEEP_LOCK_H
#define LAZYSWEEP_LOCK_H

#include <stddef.h>

struct ls_lock {
    int fd;           /* -1 when not held */
    char path[4200];  /* OUT.h5.lock */
};

/* Take the lock of results file `out`. LS_ELOCKED if another live process holds it (msg names
 * its pid and host), LS_EIO if the lock file cannot be created (msg says why). When the previous
 * holder died without releasing it, *stale is set and msg names that holder. */
int lock_take(const char *out, struct ls_lock *lk, int *stale, char *msg, size_t len);

/* Is the results file `out` locked by a running sweep right now? Fills who (pid and host). */
int lock_held(const char *out, char *who, size_t len);

/* Release and remove the lock file; safe twice. */
void lock_release(struct ls_lock *lk);

#endif
