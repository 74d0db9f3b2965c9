/* report_fit.h — power-law fits of an aggregate: log(mean metric) = log A + k·log(x), by least
 * squares over the groups of each line of a `report --plot` figure (docs/spline.md).
 *
 * The aggregate is grouped as the figure's lines are: every grouping axis but the last is a line,
 * the last one is x. A line's fit uses its groups whose x >= `from` (and > 0) and whose mean is
 * finite and > 0; with fewer than 3 such groups it has no standard error (NaN), with fewer than 2
 * no fit at all (n = 0). Knows nothing of training or gnuplot. */
#ifndef LAZYSWEEP_REPORT_FIT_H
#define LAZYSWEEP_REPORT_FIT_H

#include <stddef.h>
#include <stdio.h>

#include "lazysweep/report.h"

struct ls_fit {
    char label[256];   /* the line's grouping values ("all points" for one line) */
    size_t n;          /* groups fitted */
    double k, k_se;    /* exponent and its standard error √(s²/Sxx), s² = RSS/(n − 2) */
    double A, logA_se; /* prefactor exp(intercept) and the standard error of its log */
    double x_lo, x_hi; /* range of x fitted */
};

/* One fit per line into fits [n_lines] (LS_ERANGE past cap lines), numeric x axes only
 * (LS_EINVAL for a string axis). */
int report_fit_powerlaw(const struct ls_results *r, const struct ls_agg *a, double from,
                        struct ls_fit *fits, size_t cap, size_t *n_lines);

/* "fit NAME ~ A·x^k: k = … ± …, A = …, x in [lo, hi], n groups", one line per fit. */
void report_fit_print(const struct ls_results *r, const struct ls_agg *a, const struct ls_fit *f,
                      size_t n, FILE *out);

/* The fitted curves as further gnuplot plot items (", A*x**k with lines … title …"), in the
 * colours plot_lines gives the lines, into buf. */
void report_fit_gnuplot(const struct ls_fit *f, size_t n, char *buf, size_t len);

#endif
