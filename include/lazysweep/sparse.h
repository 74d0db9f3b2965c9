/* sparse.h — a pruned linear layer as sparse × dense products, for the mlp family.
 *
 * A layer whose mask keeps few weights wastes a dense GEMM on zeros. Here its kept positions are
 * listed row by row (CSR over the output units; the values stay in the weight arena, read live,
 * so training moves them in place) and its three products touch only those: the forward pass
 * Z = mult·A·Wᵀ, the input gradient dA = mult·dZ·W, and the weight gradient at kept entries
 * only. The batch runs along contiguous rows: the activations are transposed once per call, so
 * every kept weight costs one axpy (or one dot) of length n, which vectorizes. The results equal
 * the dense products' up to the order of the sums. Pruned entries of W and of its gradient are
 * never written. Nothing allocates after sparse_build. */
#ifndef LAZYSWEEP_SPARSE_H
#define LAZYSWEEP_SPARSE_H

#include <stddef.h>

struct sparse_layer {
    size_t in, out, nnz;
    size_t *rowptr; /* [out + 1]: row i's kept positions are col[rowptr[i] .. rowptr[i+1]) */
    size_t *col;    /* [nnz] input index j of each kept weight, ascending within a row */
};

/* The kept positions (mask[i·in + j] != 0) of an [out][in] mask. */
int sparse_build(const double *mask, size_t out, size_t in, struct sparse_layer *s);
void sparse_free(struct sparse_layer *s); /* safe twice */

/* Scratch doubles one call needs for a batch of n rows: Aᵀ and Zᵀ (or dZᵀ and dAᵀ). */
size_t sparse_scratch(size_t in, size_t out, size_t n);

/* Z [n][out] = mult·A·Wᵀ, W [out][in] read at the kept positions only. */
void sparse_forward(const struct sparse_layer *s, const double *W, const double *A, size_t n,
                    double mult, double *Z, double *scratch);

/* With G = gs·dZ [n][out]: dA [n][in] = mult·G·W (skipped when dA is NULL), then at every kept
 * position gW += step·mult·(Gᵀ·A) (acc) or gW = that (not acc). gW may be W itself (a descent
 * step, step = −lr): dA is computed first from the old W. */
void sparse_backward(const struct sparse_layer *s, const double *W, double *gW, const double *dZ,
                     const double *A, double *dA, size_t n, double mult, double gs, double step,
                     int acc, double *scratch);

#endif
