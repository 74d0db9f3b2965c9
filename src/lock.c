/* lock.c — the results file's lock: an flock on OUT.h5.lock, whose content names the holder. */
#include "lazysweep/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lazysweep/error.h"

/* Read "pid host" left by the previous holder, for messages. */
static void read_holder(int fd, char *who, size_t len)
{
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    snprintf(who, len, "%s", n > 0 ? buf : "an unknown process");
}

/* The lock file may be unlinked by its previous holder between our open and our flock; a lock on
 * an unlinked inode protects nothing, so check that the path still names the locked inode. */
static int same_inode(int fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
           a.st_dev == b.st_dev;
}

static void write_holder(int fd)
{
    char host[256] = "?", buf[320];
    gethostname(host, sizeof host - 1);
    int n = snprintf(buf, sizeof buf, "pid %ld on %s\n", (long)getpid(), host);
    if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) == n)
        fsync(fd);
}

int lock_take(const char *out, struct ls_lock *lk, int *stale, char *msg, size_t len)
{
    char who[256];
    *stale = 0;
    lk->fd = -1;
    snprintf(lk->path, sizeof lk->path, "%s.lock", out);
    for (int attempt = 0; attempt < 10; attempt++) {
        int fd = open(lk->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            snprintf(msg, len, "cannot create %s: %s", lk->path, strerror(errno));
            return LS_EIO;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            read_holder(fd, who, sizeof who);
            close(fd);
            snprintf(msg, len, "%s is in use by a running sweep (%s)", out, who);
            return LS_ELOCKED;
        }
        if (!same_inode(fd, lk->path)) {
            close(fd);
            continue;
        }
        read_holder(fd, who, sizeof who);
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_size > 0) {
            *stale = 1;
            snprintf(msg, len, "taking over the lock of %s left by %s, which is no longer running",
                     out, who);
        }
        write_holder(fd);
        lk->fd = fd;
        return LS_OK;
    }
    snprintf(msg, len, "cannot lock %s: it keeps changing", lk->path);
    return LS_ELOCKED;
}

void lock_release(struct ls_lock *lk)
{
    if (lk->fd < 0)
        return;
    /* Unlink before closing: whoever opens the path next creates a fresh file (see same_inode). */
    unlink(lk->path);
    close(lk->fd);
    lk->fd = -1;
}

int lock_held(const char *out, char *who, size_t len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.lock", out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    /* A shared lock can be had only when no sweep holds the exclusive one. */
    int held = flock(fd, LOCK_SH | LOCK_NB) != 0;
    if (held)
        read_holder(fd, who, len);
    close(fd);
    return held;
}
