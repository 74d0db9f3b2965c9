/* fuzz_cfg.c — libFuzzer harness for the job-file loader (`make fuzz`).
 *
 * Any bytes at all go through cfg_parse, the function behind `lazysweep run|plan|submit`. It must
 * return LS_OK, or fail with a message that names the file; never crash, read out of bounds,
 * leak, or hit undefined behaviour (the harness is built with ASan + UBSan, which abort on the
 * first report). A job that loads must also survive what a sweep does with it next: resolving
 * its first and last grid points. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/cfg.h"
#include "lazysweep/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ls_job job; /* large: keep it off the stack */
    struct ls_job pt;
    char err[LS_ERR_MAX];
    int rc = cfg_parse("fuzz.yaml", (const char *)data, size, &job, err, sizeof err);
    if (rc != LS_OK && strncmp(err, "fuzz.yaml:", 10) != 0)
        abort(); /* every refusal names FILE:LINE:COL */
    if (rc == LS_OK) {
        if (job.grid.n_points == 0 || cfg_point(&job, 0, &pt) != LS_OK ||
            cfg_point(&job, job.grid.n_points - 1, &pt) != LS_OK)
            abort();
    }
    cfg_free(&job);
    return 0;
}
