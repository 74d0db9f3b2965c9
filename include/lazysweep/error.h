/* error.h — the one table of error codes every fallible lazysweep function returns.
 *
 * 0 is success. Codes and their messages come from one X-macro table so that the enum and
 * ls_strerror() can never disagree (as libuv's UV_ERRNO_MAP). Divergence of training is not an
 * error: it is a result status (see result.h). */
#ifndef LAZYSWEEP_ERROR_H
#define LAZYSWEEP_ERROR_H

#include <stdio.h>

#define LS_ERRNO_MAP(X)                                                                          \
    X(OK, "success")                                                                             \
    X(NOMEM, "out of memory")                                                                    \
    X(INVAL, "invalid argument")                                                                 \
    X(JOB, "invalid job file")                                                                   \
    X(IO, "input/output error")                                                              \
    X(HDF5, "HDF5 error")                                                                        \
    X(MPI, "MPI error")                                                                          \
    X(BLAS, "size too large for BLAS")                                                           \
    X(CORRUPT, "corrupt data")                                                                   \
    X(MISMATCH, "results file belongs to a different experiment")                                \
    X(LOCKED, "output is locked by a running sweep")                                             \
    X(INTR, "interrupted by a signal")                                                           \
    X(NOTFOUND, "not found")                                                                     \
    X(RANGE, "value out of range")

enum ls_err {
#define LS_ERR_ENUM(name, msg) LS_E##name,
    LS_ERRNO_MAP(LS_ERR_ENUM)
#undef LS_ERR_ENUM
        LS_E_COUNT
};
#define LS_OK LS_EOK

/* Message for an error code; never NULL. */
const char *ls_strerror(int err);

/* Report a failed foreign call as "file:line: call: message" on stderr. */
void ls_report(const char *file, int line, const char *call, const char *msg);

/* Checking macros (PETSc's PetscCall, in the style of this code base): each expects an `int rc`
 * and a `cleanup:` label in the calling function. */
#define LS_CALL(expr)                                                                            \
    do {                                                                                         \
        rc = (expr);                                                                             \
        if (rc != LS_OK)                                                                         \
            goto cleanup;                                                                        \
    } while (0)

/* A foreign call that signals failure with a negative return (HDF5, libc). */
#define LS_CHECK_NEG(expr, code)                                                                 \
    do {                                                                                         \
        if ((expr) < 0) {                                                                        \
            ls_report(__FILE__, __LINE__, #expr, ls_strerror(code));                             \
            rc = (code);                                                                         \
            goto cleanup;                                                                        \
        }                                                                                        \
    } while (0)

/* An allocation that must not be NULL. */
#define LS_CHECK_ALLOC(ptr)                                                                      \
    do {                                                                                         \
        if ((ptr) == NULL) {                                                                     \
            rc = LS_ENOMEM;                                                                      \
            goto cleanup;                                                                        \
        }                                                                                        \
    } while (0)

#endif
