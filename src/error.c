/* error.c — messages for the error-code table and the one place foreign failures are logged. */
#include "lazysweep/error.h"

static const char *const ls_messages[] = {
#define LS_ERR_MSG(name, msg) msg,
    LS_ERRNO_MAP(LS_ERR_MSG)
#undef LS_ERR_MSG
};

const char *ls_strerror(int err)
{
    if (err < 0 || err >= LS_E_COUNT)
        return "unknown error";
    return ls_messages[err];
}

void ls_report(const char *file, int line, const char *call, const char *msg)
{
    fprintf(stderr, "lazysweep: %s:%d: %s: %s\n", file, line, call, msg);
}
