/* model.c — the registry of model families and the allocation every family shares.
 *
 * A family is one file with one `struct ls_model_ops`; registering it is one line in `families`
 * below. Knows nothing of MPI or HDF5. */
#include "lazysweep/model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/diagonal.h"
#include "lazysweep/matrix.h"
#include "lazysweep/mlp.h"
#include "lazysweep/mem.h"

static const struct ls_model_ops *const families[] = {
    &diagonal_ops,
    &mlp_ops,
    &matrix_ops,
};
#define N_FAMILIES (sizeof families / sizeof families[0])

const struct ls_model_ops *model_find(const char *family)
{
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (strcmp(families[i]->name, family) == 0)
            return families[i];
    return NULL;
}

/* Filled from the table on each call, so the list can never disagree with the registry. */
const char *const *model_families(void)
{
    static const char *names[N_FAMILIES + 1];
    for (size_t i = 0; i < N_FAMILIES; i++)
        names[i] = families[i]->name;
    names[N_FAMILIES] = NULL;
    return names;
}

int model_has_metric(const struct ls_model_ops *ops, const char *name)
{
    if (strcmp(name, "train_loss") == 0 || strcmp(name, "steps") == 0)
        return 1;
    for (const char *const *m = ops->metrics; m && *m; m++)
        if (strcmp(*m, name) == 0)
            return 1;
    return 0;
}

double *model_alloc(size_t n)
{
    return ls_doubles(n);
}

void model_release(struct ls_model **mp)
{
    free((*mp)->params);
    free((*mp)->grad);
    free(*mp);
    *mp = NULL;
}
