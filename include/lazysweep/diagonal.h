/* diagonal.h — the "diagonal" model family: depth-D diagonal linear networks (Woodworth et al.
 * 2020), β = Σ_{c<k} (u₊,c^D − u₋,c^D) elementwise.
 *
 * The family is used through its ops table (model.h); this header adds what the theory code needs
 * beyond the table. */
#ifndef LAZYSWEEP_DIAGONAL_H
#define LAZYSWEEP_DIAGONAL_H

#include "lazysweep/model.h"

/* The family's ops table (registered in model.c). */
extern const struct ls_model_ops diagonal_ops;

/* The current end-to-end weights β [d] of a diagonal model, recomputed from the parameters on
 * every call. The array belongs to the model (valid until its next call or destroy). */
const double *diagonal_beta(struct ls_model *m);

#endif
