/* mem.h — aligned arrays of doubles.
 *
 * Every array a BLAS kernel sees is 64-byte aligned, so the kernels take the same code path for it
 * on every rank, which keeps results bitwise reproducible whatever rank ran a point. */
#ifndef LAZYSWEEP_MEM_H
#define LAZYSWEEP_MEM_H

#include <stddef.h>

/* n zeroed doubles, 64-byte aligned (NULL if out of memory or n absurd). Free with free(). */
double *ls_doubles(size_t n);

#endif
