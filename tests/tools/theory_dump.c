/* theory_dump — exposes the theory module to the e2e tests (tests/e2e/test_theory_refs.py).
 *
 *   theory_dump q D Z...                 q_D(z) for each z, one per line
 *   theory_dump hinv D Z...              h_D⁻¹(z) for each z (D > 2)
 *   theory_dump l2|l1 FILE               the minimum-ℓ2 / ℓ1 interpolant
 *   theory_dump qalpha FILE D ALPHA      argmin Q_α^D subject to Xβ = y
 *
 * FILE holds int64 n, int64 d, then X ([n][d] row-major) and y ([n]) as float64, all in native
 * byte order (numpy's tofile). Solvers print one line of key=value diagnostics (struct
 * theory_info), then β, one value per line, with 17 significant digits. Exit 1 on any error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "lazysweep/error.h"
#include "lazysweep/theory.h"

static int scalars(const char *what, int D, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        double z = strtod(argv[i], NULL);
        printf("%.17g\n", strcmp(what, "q") == 0 ? theory_qD(D, z) : theory_h_inv(D, z, NULL));
    }
    return 0;
}

/* X and y from FILE into fresh arrays. */
static int load(const char *path, double **X, double **y, size_t *n, size_t *d)
{
    int64_t dims[2];
    FILE *f = fopen(path, "rb");
    if (!f || fread(dims, sizeof dims[0], 2, f) != 2 || dims[0] < 1 || dims[1] < 1 ||
        dims[0] > 1000000 || dims[1] > 1000000) {
        if (f)
            fclose(f);
        return LS_EIO;
    }
    *n = (size_t)dims[0];
    *d = (size_t)dims[1];
    *X = malloc(*n * *d * sizeof **X);
    *y = malloc(*n * sizeof **y);
    int ok = *X && *y && fread(*X, sizeof **X, *n * *d, f) == *n * *d &&
             fread(*y, sizeof **y, *n, f) == *n;
    fclose(f);
    return ok ? LS_OK : LS_EIO;
}

static int solve(const char *mode, struct ls_theory *t, int argc, char **argv, double *beta,
                 struct theory_info *info)
{
    if (strcmp(mode, "l2") == 0)
        return theory_min_l2(t, beta, info);
    if (strcmp(mode, "l1") == 0)
        return theory_min_l1(t, beta, info);
    if (strcmp(mode, "qalpha") == 0 && argc >= 2)
        return theory_q_alpha(t, atoi(argv[0]), strtod(argv[1], NULL), beta, info);
    return LS_EINVAL;
}

static int problem(const char *mode, const char *path, int argc, char **argv)
{
    int rc = LS_OK;
    double *X = NULL, *y = NULL, *beta = NULL;
    size_t n = 0, d = 0;
    struct ls_theory *t = NULL;
    struct theory_info info;
    LS_CALL(load(path, &X, &y, &n, &d));
    LS_CALL(theory_create(X, y, n, d, &t));
    beta = malloc(d * sizeof *beta);
    LS_CHECK_ALLOC(beta);
    LS_CALL(solve(mode, t, argc, argv, beta, &info));
    printf("feasibility=%.17g mirror_residual=%.17g objective=%.17g dual_objective=%.17g "
           "gap=%.17g iterations=%d converged=%d support=%zu\n",
           info.feasibility, info.mirror_residual, info.objective, info.dual_objective, info.gap,
           info.iterations, info.converged, info.support);
    for (size_t j = 0; j < d; j++)
        printf("%.17g\n", beta[j]);
cleanup:
    theory_destroy(&t);
    free(X);
    free(y);
    free(beta);
    return rc;
}

int main(int argc, char **argv)
{
    openblas_set_num_threads(1);
    if (argc >= 3 && (strcmp(argv[1], "q") == 0 || strcmp(argv[1], "hinv") == 0))
        return scalars(argv[1], atoi(argv[2]), argc - 3, argv + 3);
    if (argc >= 3) {
        int rc = problem(argv[1], argv[2], argc - 3, argv + 3);
        if (rc != LS_OK)
            fprintf(stderr, "theory_dump: %s\n", ls_strerror(rc));
        return rc == LS_OK ? 0 : 1;
    }
    fprintf(stderr, "usage: theory_dump q|hinv D Z... | l2|l1 FILE | qalpha FILE D ALPHA\n");
    return 2;
}
