/* report_fit.c — power-law fits of an aggregate's lines (report_fit.h): ordinary least squares
 * of log(mean) on log(x), the textbook standard errors, and the fitted curves for gnuplot. */
#include "lazysweep/report_fit.h"

#include <math.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/plot.h"

/* Groups g and h are on one line: they share every grouping value but the last (x). */
static int same_line(const struct ls_agg *a, size_t g, size_t h)
{
    size_t nb = a->spec.n_by;
    return memcmp(a->key + g * nb, a->key + h * nb, (nb - 1) * sizeof *a->key) == 0;
}

/* The legend-like label of the line starting at group g: its values of the other axes. */
static void line_label(const struct ls_results *r, const struct ls_agg *a, size_t g, char *buf,
                       size_t len)
{
    size_t nb = a->spec.n_by, n = 0;
    char v[LS_STR_MAX + 8];
    buf[0] = '\0';
    for (size_t j = 0; j + 1 < nb && n < len; j++) {
        report_value_text(&r->axis[a->spec.by[j]], a->key[g * nb + j], 6, v, sizeof v);
        n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n ? ", " : "",
                              r->axis[a->spec.by[j]].name, v);
    }
    if (n == 0)
        snprintf(buf, len, "all points");
}

/* Least squares over groups [g, g1) of one line. */
static void fit_line(const struct ls_raxis *x, const struct ls_agg *a, size_t g, size_t g1,
                     double from, struct ls_fit *f)
{
    size_t nb = a->spec.n_by, n = 0;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    f->x_lo = INFINITY;
    f->x_hi = -INFINITY;
    for (size_t k = g; k < g1; k++) {
        double xv = x->num[a->key[k * nb + nb - 1]], m = a->stat[k].mean;
        if (!(xv >= from) || !(xv > 0) || !(m > 0) || !isfinite(m))
            continue;
        double lx = log(xv), ly = log(m);
        n++;
        sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly, syy += ly * ly;
        f->x_lo = fmin(f->x_lo, xv);
        f->x_hi = fmax(f->x_hi, xv);
    }
    f->n = n;
    f->k = f->k_se = f->A = f->logA_se = NAN;
    if (n < 2)
        return;
    double dn = (double)n, Sxx = sxx - sx * sx / dn, Sxy = sxy - sx * sy / dn;
    double Syy = syy - sy * sy / dn;
    if (!(Sxx > 0))
        return;
    f->k = Sxy / Sxx;
    double b = (sy - f->k * sx) / dn;
    f->A = exp(b);
    if (n < 3)
        return;
    double s2 = fmax(Syy - f->k * Sxy, 0.0) / (dn - 2.0);
    f->k_se = sqrt(s2 / Sxx);
    f->logA_se = sqrt(s2 * (1.0 / dn + (sx / dn) * (sx / dn) / Sxx));
}

int report_fit_powerlaw(const struct ls_results *r, const struct ls_agg *a, double from,
                        struct ls_fit *fits, size_t cap, size_t *n_lines)
{
    size_t nb = a->spec.n_by, line = 0;
    *n_lines = 0;
    if (nb == 0 || a->spec.n_metrics == 0)
        return LS_EINVAL;
    const struct ls_raxis *x = &r->axis[a->spec.by[nb - 1]];
    if (x->num == NULL)
        return LS_EINVAL;
    for (size_t g = 0, g1; g < a->n_groups; g = g1, line++) {
        for (g1 = g + 1; g1 < a->n_groups && same_line(a, g, g1); g1++)
            ;
        if (line == cap)
            return LS_ERANGE;
        line_label(r, a, g, fits[line].label, sizeof fits[line].label);
        fit_line(x, a, g, g1, from, &fits[line]);
    }
    *n_lines = line;
    return LS_OK;
}

void report_fit_print(const struct ls_results *r, const struct ls_agg *a, const struct ls_fit *f,
                      size_t n, FILE *out)
{
    const char *metric = r->metric[a->spec.metric[0]];
    const char *x = r->axis[a->spec.by[a->spec.n_by - 1]].name;
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "fit %s ~ A*%s^k  [%s]: ", metric, x, f[i].label);
        if (f[i].n < 2 || isnan(f[i].k)) {
            fprintf(out, "not enough groups (%zu) with a positive mean to fit\n", f[i].n);
            continue;
        }
        fprintf(out, "k = %.4f +- %.4f, A = %.4g (log A +- %.3g), %s in [%g, %g], %zu groups\n",
                f[i].k, f[i].k_se, f[i].A, f[i].logA_se, x, f[i].x_lo, f[i].x_hi, f[i].n);
    }
}

void report_fit_gnuplot(const struct ls_fit *f, size_t n, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && off < len; i++) {
        if (f[i].n < 2 || isnan(f[i].k))
            continue;
        off += (size_t)snprintf(buf + off, len - off,
                                ", \\\n    [%.17g:%.17g] %.17g*x**(%.17g) with lines lw 1.5 "
                                "dt 2 lc rgb \"%s\" title \"fit: k = %.3f ± %.3f\"",
                                f[i].x_lo, f[i].x_hi, f[i].A, f[i].k, plot_colour(i), f[i].k,
                                isnan(f[i].k_se) ? 0.0 : f[i].k_se);
    }
}
