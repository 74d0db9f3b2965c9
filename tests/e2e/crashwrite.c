/* crashwrite.c — an LD_PRELOAD shim for the fault tests: kill -9 landing inside a write.
 *
 * With CRASH_SUFFIX=".journal" (or ".h5") and CRASH_AFTER=N in the environment, the process
 * writes half of the bytes of its N-th write()/pwrite() to a file whose path ends in the suffix,
 * then sends itself SIGKILL — what a kill -9 arriving in the middle of a journal append or an
 * HDF5 row write leaves on disk. Every other write passes straight through. Built by the tests
 * (cc -shared -fPIC), never linked into the tool. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static long countdown = -2; /* -2: not read from the environment yet; -1: disarmed */

/* Does fd name a file whose path ends in $CRASH_SUFFIX? */
static int watched(int fd)
{
    const char *suffix = getenv("CRASH_SUFFIX");
    char link[64], path[4096];
    if (suffix == NULL || *suffix == '\0')
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    size_t ls = strlen(suffix);
    return (size_t)n >= ls && strcmp(path + n - ls, suffix) == 0;
}

/* 1 when this write is the one to die in. */
static int strike(int fd)
{
    if (countdown == -2) {
        const char *after = getenv("CRASH_AFTER");
        countdown = after ? atol(after) : -1;
    }
    if (countdown <= 0 || !watched(fd))
        return 0;
    return --countdown == 0;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (real == NULL)
        real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    if (strike(fd)) {
        real(fd, buf, n / 2);
        raise(SIGKILL);
    }
    return real(fd, buf, n);
}

static ssize_t crash_pwrite(const char *name, int fd, const void *buf, size_t n, off_t off)
{
    ssize_t (*real)(int, const void *, size_t, off_t) =
        (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, name);
    if (strike(fd)) {
        real(fd, buf, n / 2, off);
        raise(SIGKILL);
    }
    return real(fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return crash_pwrite("pwrite", fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    return crash_pwrite("pwrite64", fd, buf, n, off);
}
