/* spline_dump — exposes theory_spline to the e2e tests (tests/e2e/test_spline.py).
 *
 *   spline_dump zeta INIT X...             ζ(x) closed form (or quadrature) and by quadrature,
 *                                          two numbers per line
 *   spline_dump kernel INIT X Y            K(x, y) = E[relu(wx+b)·relu(wy+b)]
 *   spline_dump span|full INIT XS YS AT    the reference through (XS, YS) at the points AT: first
 *                                          a line "energy=E quad_error=Q flat=F", then g, one
 *                                          value per line
 *
 * INIT is W:B:SW:SB:N with W, B one of uniform, gaussian, sphere (the weight and bias
 * distributions), SW, SB their standard deviations, N the sphere's dimension. XS, YS, AT are
 * comma-separated lists. Numbers have 17 significant digits. Exit 1 on any error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/theory_spline.h"

/* The next field of s up to `sep` (NUL-terminated in place), advancing s; NULL at the end. */
static char *field(char **s, int sep)
{
    char *start = *s, *end;
    if (!start)
        return NULL;
    end = strchr(start, sep);
    if (end)
        *end++ = '\0';
    *s = end;
    return start;
}

static int dist_of(const char *s, enum spline_dist *d)
{
    static const char *const names[] = {"uniform", "gaussian", "sphere"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *d = (enum spline_dist)i;
            return 0;
        }
    return 1;
}

static int parse_init(char *s, struct spline_init *p)
{
    char *f[5];
    for (int i = 0; i < 5; i++) {
        f[i] = field(&s, ':');
        if (!f[i])
            return 1;
    }
    p->sw = strtod(f[2], NULL);
    p->sb = strtod(f[3], NULL);
    p->n = (size_t)strtoull(f[4], NULL, 10);
    return dist_of(f[0], &p->w) || dist_of(f[1], &p->b);
}

/* A comma-separated list into a fresh array. */
static double *parse_list(char *s, size_t *n)
{
    size_t cap = 1;
    for (const char *c = s; *c; c++)
        cap += *c == ',';
    double *v = malloc(cap * sizeof *v);
    *n = 0;
    for (char *tok; v && (tok = field(&s, ',')) != NULL;)
        v[(*n)++] = strtod(tok, NULL);
    return v;
}

static int solve(int full, const struct spline_init *p, char **argv)
{
    size_t m, my, na;
    double *x = parse_list(argv[0], &m), *y = parse_list(argv[1], &my);
    double *at = parse_list(argv[2], &na), *g = malloc((na + 1) * sizeof *g);
    struct spline_ref *r = NULL;
    int rc = 1;
    if (x && y && at && g && m == my &&
        (full ? spline_solve_full(p, x, y, m, &r) : spline_solve(p, x, y, m, &r)) == LS_OK) {
        spline_eval(r, at, na, g);
        printf("energy=%.17g quad_error=%.3g flat=%d\n", spline_energy(r), r->quad_error, r->flat);
        for (size_t i = 0; i < na; i++)
            printf("%.17g\n", g[i]);
        rc = 0;
    }
    spline_free(&r);
    free(x);
    free(y);
    free(at);
    free(g);
    return rc;
}

int main(int argc, char **argv)
{
    struct spline_init p;
    if (argc < 4 || parse_init(argv[2], &p)) {
        fprintf(stderr, "usage: spline_dump zeta|kernel|span|full W:B:SW:SB:N ...\n");
        return 1;
    }
    if (strcmp(argv[1], "zeta") == 0) {
        for (int i = 3; i < argc; i++) {
            double x = strtod(argv[i], NULL);
            printf("%.17g %.17g\n", spline_zeta(&p, x), spline_zeta_quad(&p, x));
        }
        return 0;
    }
    if (strcmp(argv[1], "kernel") == 0 && argc == 5) {
        printf("%.17g\n", spline_kernel(&p, strtod(argv[3], NULL), strtod(argv[4], NULL)));
        return 0;
    }
    if ((strcmp(argv[1], "span") == 0 || strcmp(argv[1], "full") == 0) && argc == 6)
        return solve(argv[1][0] == 'f', &p, argv + 3);
    fprintf(stderr, "spline_dump: bad arguments\n");
    return 1;
}
