/* sparse.c — sparse × dense products of a pruned linear layer (sparse.h). The batch dimension is
 * made contiguous by transposing the activations, so each kept weight is one axpy or one dot of
 * length n over rows that stay in cache. */
#include "lazysweep/sparse.h"

#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"

int sparse_build(const double *mask, size_t out, size_t in, struct sparse_layer *s)
{
    size_t nnz = 0;
    *s = (struct sparse_layer){.in = in, .out = out};
    for (size_t k = 0; k < in * out; k++)
        nnz += mask[k] != 0;
    s->rowptr = malloc((out + 1) * sizeof *s->rowptr);
    s->col = malloc((nnz ? nnz : 1) * sizeof *s->col);
    if (!s->rowptr || !s->col) {
        sparse_free(s);
        return LS_ENOMEM;
    }
    s->nnz = nnz;
    nnz = 0;
    for (size_t i = 0; i < out; i++) {
        s->rowptr[i] = nnz;
        for (size_t j = 0; j < in; j++)
            if (mask[i * in + j] != 0)
                s->col[nnz++] = j;
    }
    s->rowptr[out] = nnz;
    return LS_OK;
}

void sparse_free(struct sparse_layer *s)
{
    free(s->rowptr);
    free(s->col);
    s->rowptr = NULL;
    s->col = NULL;
    s->nnz = 0;
}

size_t sparse_scratch(size_t in, size_t out, size_t n)
{
    return (in + out) * n;
}

/* T [cols][rows] = Mᵀ, M [rows][cols], in cache blocks. */
static void transpose(double *restrict T, const double *restrict M, size_t rows, size_t cols)
{
    for (size_t i0 = 0; i0 < rows; i0 += 32)
        for (size_t j0 = 0; j0 < cols; j0 += 32) {
            size_t i1 = i0 + 32 < rows ? i0 + 32 : rows, j1 = j0 + 32 < cols ? j0 + 32 : cols;
            for (size_t i = i0; i < i1; i++)
                for (size_t j = j0; j < j1; j++)
                    T[j * rows + i] = M[i * cols + j];
        }
}

static void axpy(double *restrict y, double a, const double *restrict x, size_t n)
{
    for (size_t r = 0; r < n; r++)
        y[r] += a * x[r];
}

/* Eight running sums, so the compiler can keep them in one vector register without reassociating
 * (no -ffast-math): a fixed order, the same on every rank. */
static double dot(const double *restrict x, const double *restrict y, size_t n)
{
    double a[8] = {0};
    size_t r = 0;
    for (; r + 8 <= n; r += 8)
        for (int k = 0; k < 8; k++)
            a[k] += x[r + (size_t)k] * y[r + (size_t)k];
    for (; r < n; r++)
        a[0] += x[r] * y[r];
    return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
}

void sparse_forward(const struct sparse_layer *s, const double *W, const double *A, size_t n,
                    double mult, double *Z, double *scratch)
{
    double *At = scratch, *Zt = scratch + s->in * n;
    transpose(At, A, n, s->in);
    memset(Zt, 0, s->out * n * sizeof *Zt);
    for (size_t i = 0; i < s->out; i++) {
        double *zi = Zt + i * n;
        for (size_t k = s->rowptr[i]; k < s->rowptr[i + 1]; k++)
            axpy(zi, mult * W[i * s->in + s->col[k]], At + s->col[k] * n, n);
    }
    transpose(Z, Zt, s->out, n);
}

void sparse_backward(const struct sparse_layer *s, const double *W, double *gW, const double *dZ,
                     const double *A, double *dA, size_t n, double mult, double gs, double step,
                     int acc, double *scratch)
{
    double *Gt = scratch, *Xt = scratch + s->out * n; /* dZᵀ, then Aᵀ or dAᵀ */
    transpose(Gt, dZ, n, s->out);
    if (dA) { /* dAᵀ[j] += mult·gs·W[i][j]·dZᵀ[i], from the W before any update */
        memset(Xt, 0, s->in * n * sizeof *Xt);
        for (size_t i = 0; i < s->out; i++)
            for (size_t k = s->rowptr[i]; k < s->rowptr[i + 1]; k++)
                axpy(Xt + s->col[k] * n, mult * gs * W[i * s->in + s->col[k]], Gt + i * n, n);
        transpose(dA, Xt, s->in, n);
    }
    transpose(Xt, A, n, s->in);
    double f = step * mult * gs;
    for (size_t i = 0; i < s->out; i++)
        for (size_t k = s->rowptr[i]; k < s->rowptr[i + 1]; k++) {
            double g = f * dot(Gt + i * n, Xt + s->col[k] * n, n);
            double *w = &gW[i * s->in + s->col[k]];
            *w = acc ? *w + g : g;
        }
}
