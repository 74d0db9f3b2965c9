/* mem.c — aligned arrays of doubles (see mem.h). */
#include "lazysweep/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

double *ls_doubles(size_t n)
{
    if (n > (SIZE_MAX - 63) / sizeof(double))
        return NULL;
    size_t bytes = (n * sizeof(double) + 63) / 64 * 64; /* aligned_alloc needs a multiple */
    if (bytes == 0)
        bytes = 64;
    double *p = aligned_alloc(64, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}
