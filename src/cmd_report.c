/* cmd_report.c — the `report` and `export` sub-commands: options, help texts, and calls into
 * report (aggregates, tables, CSV) and plot (gnuplot figures). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/cmd.h"
#include "lazysweep/error.h"
#include "lazysweep/plot.h"
#include "lazysweep/plot_functions.h"
#include "lazysweep/report.h"
#include "lazysweep/report_fit.h"
#include "lazysweep/sweep.h"
#include "lazysweep/usage.h"

#define MAX_WHERE 64
#define MAX_POINTS LS_PLOT_MAX_LINES

static const char report_help[] =
    "usage: lazysweep report OUT.h5 [--metric M]... [--over AXIS[,AXIS]...] [--by AXIS[,AXIS]...]\n"
    "                        [--where FILTER]... [--csv FILE] [--quiet]\n"
    "                        [--plot FILE --x AXIS] [--heatmap FILE --x AXIS --y AXIS]\n"
    "                        [--trajectories FILE [--point I]...] [--logx] [--logy] [--logz]\n"
    "                        [--band minmax|std|none] [--keep-script]\n"
    "                        [--fit powerlaw --x AXIS [--fit-from X]]\n"
    "                        [--functions FILE --point I[,J]...]\n"
    "                        [--layer-density FILE]\n"
    "\n"
    "Summarize a results file: per group of points, count, mean, std (n - 1), min, median and\n"
    "max of each metric over the points that finished `done` with a finite value. Points that\n"
    "diverged, timed out, failed or are still pending are counted in their own columns and never\n"
    "averaged in. Safe while the sweep runs: it reports what is done so far.\n"
    "\n"
    "  --metric M          a metric to report (repeatable, or M1,M2; default: all). Figures\n"
    "                      show one metric each: several give one file each, FILE_METRIC.png;\n"
    "                      without --metric, population_error (trajectories: train_loss)\n"
    "  --over AXIS,...     the axes the statistics are taken over (default: seed)\n"
    "  --by AXIS,...       group by these axes and pool every other one (default: every swept\n"
    "                      axis but --over)\n"
    "  --where FILTER      keep only the points that pass (repeatable; = filters of one axis\n"
    "                      add up, the others must all hold): AXIS=V,\n"
    "                      AXIS=V1,V2 (any of them), AXIS!=V, AXIS<V, AXIS<=V, AXIS>V, AXIS>=V,\n"
    "                      status=done (or diverged, timeout, failed, pending; lists too)\n"
    "  --csv FILE          also write the table as tidy CSV (one row per group and metric; - is\n"
    "                      stdout)\n"
    "  --quiet             do not print the table\n"
    "\n"
    "Figures, drawn by gnuplot; PNG or SVG by the file's extension:\n"
    "  --plot FILE         the metric against --x AXIS, one line per group of the other --by\n"
    "                      axes: the mean, with a band (--band: minmax (default), std, none)\n"
    "  --heatmap FILE      a regime map: the mean of the metric over --x AXIS and --y AXIS\n"
    "                      (--logz: logarithmic colour scale)\n"
    "  --trajectories FILE the metric against the logged step: the mean of each group with its\n"
    "                      band, or the points given with --point I (repeatable, or I,J)\n"
    "  --logx, --logy      logarithmic axes\n"
    "  --x compression_exponent   (or --y) the sparsity axis as log10 compression,\n"
    "                      x = -log10(1 - sparsity), in the table too (--where and --by then\n"
    "                      name it compression_exponent)\n"
    "  --layer-density FILE  pruning's collapse figure: the density of every prunable layer\n"
    "                      against log10 compression (needs store: [layer_density])\n"
    "  --keep-script       also write each figure's gnuplot script (FILE with .gp), to redraw or\n"
    "                      restyle it with `gnuplot FILE.gp`\n"
    "  --fit powerlaw      fit mean = A*x^k to each line of the metric against --x AXIS (least\n"
    "                      squares of log mean on log x): prints k +- its standard error, A and\n"
    "                      the range fitted, and draws the fits on --plot\n"
    "  --fit-from X        fit only the groups with x >= X\n"
    "  --functions FILE    the functions of the points given with --point (1-D jobs that\n"
    "                      store function and reference): f solid, its reference g dashed,\n"
    "                      and the training data\n"
    "\n"
    "Exit codes: 0 done, 1 a figure or file could not be written, 2 bad usage or unreadable\n"
    "file.\n";

static const char export_help[] =
    "usage: lazysweep export OUT.h5 [--csv FILE] [--trajectories FILE]\n"
    "\n"
    "Write a results file as CSV (- is stdout). --csv: one row per point with its index, every\n"
    "axis, status, every final metric, and timing (seconds, rank, finished as Unix time, host).\n"
    "--trajectories: long format, one row per point and logged step (point, swept axes, status,\n"
    "step, one column per trajectory), without the NaN padding of points that stopped early or\n"
    "are pending. Numbers keep full precision; missing ones are empty cells.\n";

struct report_args {
    const char *file, *csv, *plot, *heatmap, *traj, *over, *x, *y, *fit, *fit_from, *functions;
    const char *layers;
    const char *metrics[LS_MAX_METRICS], *by[LS_MAX_AXES], *where[MAX_WHERE];
    size_t n_metrics, n_by, n_where, n_points;
    uint64_t points[MAX_POINTS];
    int quiet, keep_script;
    struct ls_plot_opts po;
};

static int help_asked(int argc, char **argv, const char *help)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(help, stdout);
            return 1;
        }
    return 0;
}

static int usage_error(const char *what, const char *help)
{
    return usage_fail(help == export_help ? "export" : "report", what);
}

/* Split a comma list into list[] (pointers into s, which is modified). */
static int split(char *s, const char **list, size_t cap, size_t *n)
{
    for (char *save = NULL, *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == cap)
            return -1;
        list[(*n)++] = t;
    }
    return 0;
}

static int parse_points(char *s, struct report_args *a)
{
    const char *item[MAX_POINTS];
    size_t n = 0;
    if (split(s, item, MAX_POINTS - a->n_points, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char *end;
        unsigned long long v = strtoull(item[i], &end, 10);
        if (*end || item[i][0] == '-')
            return -1;
        a->points[a->n_points++] = v;
    }
    return 0;
}

/* Options that take a value; returns 1 if argv[*i] was one, -1 if its value is bad. */
static int parse_valued(int argc, char **argv, int *i, struct report_args *a)
{
    const char *o = argv[*i];
    static const char *const names[] = {"--csv", "--plot", "--heatmap", "--trajectories",
                                        "--over", "--x", "--y", "--fit", "--fit-from",
                                        "--functions", "--layer-density"};
    const char **dest[] = {&a->csv, &a->plot, &a->heatmap, &a->traj, &a->over,  &a->x,
                           &a->y,   &a->fit,  &a->fit_from, &a->functions, &a->layers};
    int takes = 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        takes |= !strcmp(o, names[k]);
    takes |= !strcmp(o, "--metric") || !strcmp(o, "--by") || !strcmp(o, "--where") ||
             !strcmp(o, "--point") || !strcmp(o, "--band");
    if (!takes)
        return 0;
    if (*i + 1 >= argc)
        return -1;
    char *v = argv[++*i];
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (!strcmp(o, names[k])) {
            *dest[k] = v;
            return 1;
        }
    if (!strcmp(o, "--metric"))
        return split(v, a->metrics, LS_MAX_METRICS, &a->n_metrics) ? -1 : 1;
    if (!strcmp(o, "--by"))
        return split(v, a->by, LS_MAX_AXES, &a->n_by) ? -1 : 1;
    if (!strcmp(o, "--where")) {
        if (a->n_where == MAX_WHERE)
            return -1;
        a->where[a->n_where++] = v;
        return 1;
    }
    if (!strcmp(o, "--point"))
        return parse_points(v, a) ? -1 : 1;
    static const char *const bands[] = {
        [LS_BAND_MINMAX] = "minmax", [LS_BAND_STD] = "std", [LS_BAND_NONE] = "none"};
    for (size_t k = 0; k < sizeof bands / sizeof bands[0]; k++)
        if (!strcmp(v, bands[k])) {
            a->po.band = (enum ls_band)k;
            return 1;
        }
    return -1;
}

/* Parse `report` options; returns -1 to go on, else an exit code. */
static int parse_report(int argc, char **argv, struct report_args *a)
{
    char what[256], *end = NULL;
    a->over = "seed";
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int v = parse_valued(argc, argv, &i, a);
        if (v < 0 && argv[i] == s) /* its value is missing */
            return usage_bad_option("report", report_help, s);
        if (v < 0) {
            snprintf(what, sizeof what, "bad value '%.64s' for %s", argv[i], s);
            return usage_error(what, report_help);
        }
        if (v > 0)
            continue;
        if (!strcmp(s, "--logx") || !strcmp(s, "--logy") || !strcmp(s, "--logz"))
            *(s[5] == 'x' ? &a->po.logx : s[5] == 'y' ? &a->po.logy : &a->po.logz) = 1;
        else if (!strcmp(s, "--quiet"))
            a->quiet = 1;
        else if (!strcmp(s, "--keep-script"))
            a->keep_script = 1;
        else if (s[0] == '-' && s[1] != '\0') {
            return usage_bad_option("report", report_help, s);
        } else if (!a->file)
            a->file = s;
        else
            return usage_error("report takes one results file", report_help);
    }
    if (!a->file)
        return usage_error("report needs a results file", report_help);
    const char *figs[] = {a->plot, a->heatmap, a->traj, a->functions, a->layers};
    if (a->functions && a->n_points == 0)
        return usage_error("--functions needs --point I[,J...]", report_help);
    for (size_t k = 0; k < 4; k++)
        if (figs[k] && !plot_format_ok(figs[k]))
            return usage_error("a figure's file name must end in .png or .svg", report_help);
    if (a->fit && strcmp(a->fit, "powerlaw") != 0)
        return usage_error("--fit takes powerlaw", report_help);
    if (a->fit_from && !a->fit)
        return usage_error("--fit-from needs --fit", report_help);
    if (a->fit_from && (strtod(a->fit_from, &end), end == a->fit_from || *end != '\0'))
        return usage_error("--fit-from takes a number", report_help);
    if ((a->plot && !a->x) || (a->fit && !a->x) || (a->heatmap && (!a->x || !a->y)))
        return usage_error("--plot and --fit need --x AXIS; --heatmap needs --x AXIS and --y AXIS",
                           report_help);
    return -1;
}

/* ---- from names to indices ----------------------------------------------------------------- */

static int bad_name(const char *kind, const char *name)
{
    fprintf(stderr, "lazysweep: the results file has no %s '%s'\n", kind, name);
    return LS_EXIT_USAGE;
}

static int axis_index(const struct ls_results *r, const char *name, size_t *out)
{
    int a = report_find_axis(r, name);
    if (a < 0)
        return bad_name("axis", name);
    *out = (size_t)a;
    return -1;
}

/* The table's spec: metrics (default all), grouping axes (default: swept axes but --over). */
static int table_spec(const struct ls_results *r, const struct report_args *a,
                      struct ls_agg_spec *sp)
{
    uint8_t over[LS_MAX_AXES] = {0};
    char list[1024];
    int code;
    snprintf(list, sizeof list, "%s", a->over);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        size_t k = 0;
        if ((code = axis_index(r, t, &k)) >= 0)
            return code;
        over[k] = 1;
    }
    for (size_t m = 0; m < a->n_metrics; m++) {
        int k = report_find_metric(r, a->metrics[m]);
        if (k < 0)
            return bad_name("metric", a->metrics[m]);
        sp->metric[sp->n_metrics++] = (size_t)k;
    }
    for (size_t m = 0; a->n_metrics == 0 && m < r->n_metrics; m++)
        sp->metric[sp->n_metrics++] = m;
    for (size_t j = 0; j < a->n_by; j++)
        if ((code = axis_index(r, a->by[j], &sp->by[sp->n_by++])) >= 0)
            return code;
    for (size_t ax = 0; a->n_by == 0 && ax < r->n_axes; ax++)
        if (r->axis[ax].swept && !over[ax])
            sp->by[sp->n_by++] = ax;
    return -1;
}

/* Grouping axes without `skip` (and `skip2`), then `last`: lines of a plot end in their x. */
static void regroup(struct ls_agg_spec *sp, size_t skip, size_t skip2, int last)
{
    size_t n = 0;
    for (size_t j = 0; j < sp->n_by; j++)
        if (sp->by[j] != skip && sp->by[j] != skip2)
            sp->by[n++] = sp->by[j];
    sp->n_by = n;
    if (last >= 0)
        sp->by[sp->n_by++] = (size_t)last;
}

/* "a, b, c": names for a message listing what there is to choose from. */
static void name_list(char names[][LS_PATH_MAX], size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[i]);
}

/* The metrics --plot and --heatmap draw, one file each: every --metric; without one,
 * population_error, or the file's only metric. Several metrics and no choice is refused with
 * the list, rather than one of them drawn silently. Returns -1 to go on, else an exit code. */
static int figure_metrics(const struct ls_results *r, const struct report_args *a, size_t *m,
                          size_t *n)
{
    char list[2048];
    *n = 0;
    for (size_t i = 0; i < a->n_metrics; i++) {
        int k = report_find_metric(r, a->metrics[i]);
        if (k < 0)
            return bad_name("metric", a->metrics[i]);
        m[(*n)++] = (size_t)k;
    }
    int k = report_find_metric(r, "population_error");
    if (*n == 0 && (k >= 0 || r->n_metrics == 1)) {
        m[(*n)++] = k >= 0 ? (size_t)k : 0;
    } else if (*n == 0) {
        name_list((char(*)[LS_PATH_MAX])r->metric, r->n_metrics, list, sizeof list);
        fprintf(stderr, "lazysweep report: a figure shows one metric; choose with --metric "
                        "(several give one file each): %s\n", list);
        return LS_EXIT_USAGE;
    }
    return -1;
}

/* The trajectories --trajectories draws, one file each: every --metric that has one; without
 * --metric, train_loss, or the file's only trajectory. */
static int figure_trajs(const struct ls_results *r, const struct report_args *a, size_t *t,
                        size_t *n)
{
    char list[2048];
    *n = 0;
    for (size_t i = 0; i < a->n_metrics; i++) {
        int k = report_find_traj(r, a->metrics[i]);
        if (k >= 0)
            t[(*n)++] = (size_t)k;
    }
    int k = report_find_traj(r, "train_loss");
    if (*n == 0 && a->n_metrics == 0 && (k >= 0 || r->n_traj == 1))
        t[(*n)++] = k >= 0 ? (size_t)k : 0;
    if (*n == 0) {
        name_list((char(*)[LS_PATH_MAX])r->traj, r->n_traj, list, sizeof list);
        fprintf(stderr, "lazysweep report: --trajectories needs a --metric with a trajectory; "
                        "the file has: %s\n", r->n_traj ? list : "none");
        return LS_EXIT_USAGE;
    }
    return -1;
}

/* FIG itself for one figure; FIG's name with _METRIC before its extension for one of several. */
static void figure_path(const char *fig, const char *metric, size_t n, char *buf, size_t len)
{
    const char *dot = strrchr(fig, '.');
    if (n == 1)
        snprintf(buf, len, "%s", fig);
    else
        snprintf(buf, len, "%.*s_%s%s", (int)(dot - fig), fig, metric, dot);
}

/* ---- drawing ------------------------------------------------------------------------------- */

/* Script path: the figure's name with its extension replaced by .gp. */
static void script_path(const char *fig, char *buf, size_t len)
{
    const char *dot = strrchr(fig, '.');
    snprintf(buf, len, "%.*s.gp", (int)(dot ? dot - fig : (long)strlen(fig)), fig);
}

static int draw_done(int rc, const char *fig)
{
    if (rc == LS_ERANGE) {
        fprintf(stderr,
                "lazysweep: %s would have more than %d lines: narrow it with --where or "
                "--by\n",
                fig, LS_PLOT_MAX_LINES);
        return LS_EXIT_USAGE;
    }
    if (rc != LS_OK) {
        fprintf(stderr, "lazysweep: %s: %s\n", fig, ls_strerror(rc));
        return LS_EXIT_INTERNAL;
    }
    fprintf(stderr, "lazysweep: wrote %s\n", fig);
    return -1;
}

/* Aggregate with `sp` and draw figure `kind` ('p'lot, 'h'eatmap, 't'rajectories) to fig. */
static int draw(const struct ls_results *r, struct report_args *a, const struct ls_agg_spec *sp,
                int kind, const char *fig, size_t traj)
{
    struct ls_agg agg;
    char gp[4200];
    struct ls_plot_opts po = a->po;
    po.out = fig;
    script_path(fig, gp, sizeof gp);
    po.script = a->keep_script ? gp : NULL;
    int rc = report_aggregate(r, sp, &agg);
    if (rc == LS_OK)
        rc = kind == 'p'   ? plot_lines(r, &agg, &po)
             : kind == 'h' ? plot_heatmap(r, &agg, &po)
                           : plot_trajectories(r, &agg, traj, a->points, a->n_points, &po);
    report_agg_free(&agg);
    return draw_done(rc, fig);
}

/* --fit: the power law of each line of the metric against x (the groups of `sp`), printed, and
 * kept in extra for --plot to draw. */
static int fit(const struct ls_results *r, struct report_args *a, const struct ls_agg_spec *sp,
               char *extra, size_t len)
{
    struct ls_agg agg;
    struct ls_fit fits[LS_PLOT_MAX_LINES];
    size_t n = 0;
    double from = a->fit_from ? strtod(a->fit_from, NULL) : -HUGE_VAL;
    int rc = report_aggregate(r, sp, &agg);
    if (rc == LS_OK)
        rc = report_fit_powerlaw(r, &agg, from, fits, LS_PLOT_MAX_LINES, &n);
    if (rc == LS_OK) {
        report_fit_print(r, &agg, fits, n, stdout);
        report_fit_gnuplot(fits, n, extra, len);
        a->po.extra = extra;
    }
    report_agg_free(&agg);
    if (rc == LS_EINVAL)
        return usage_error("--fit needs a numeric --x axis", report_help);
    return rc == LS_OK ? -1 : draw_done(rc, "the fit");
}

/* --functions: the stored functions of the --point points. */
static int functions(const struct ls_results *r, struct report_args *a)
{
    char gp[4200];
    struct ls_plot_opts po = a->po;
    po.out = a->functions;
    script_path(a->functions, gp, sizeof gp);
    po.script = a->keep_script ? gp : NULL;
    int rc = plot_functions(a->file, r, a->points, a->n_points, &po);
    if (rc == LS_ERANGE)
        return usage_error("--functions: a --point is past the file's end or not done",
                           report_help);
    if (rc == LS_EINVAL)
        return usage_error("--functions needs a 1-D job (points1d) with a spline grid",
                           report_help);
    return rc == LS_ENOTFOUND ? LS_EXIT_USAGE : draw_done(rc, a->functions);
}

/* --plot (and --fit) and --heatmap of metric m, into their files (suffixed when there are n
 * metrics). */
static int metric_figures(const struct ls_results *r, struct report_args *a,
                          const struct ls_agg_spec *t, size_t m, size_t n, size_t x, size_t y)
{
    char extra[LS_PLOT_MAX_LINES * 256];
    struct ls_agg_spec sp = *t;
    char fig[4200];
    int code = -1;
    sp.n_metrics = 1;
    sp.metric[0] = m;
    if (a->plot || a->fit) {
        regroup(&sp, x, x, (int)x);
        if (a->fit && (code = fit(r, a, &sp, extra, sizeof extra)) >= 0)
            return code;
        if (a->plot)
            figure_path(a->plot, r->metric[m], n, fig, sizeof fig);
        if (a->plot && (code = draw(r, a, &sp, 'p', fig, 0)) >= 0)
            return code;
        a->po.extra = NULL; /* the fit belongs to this metric's figure only */
    }
    if (a->heatmap) {
        sp.n_by = 2;
        sp.by[0] = y;
        sp.by[1] = x;
        figure_path(a->heatmap, r->metric[m], n, fig, sizeof fig);
        if ((code = draw(r, a, &sp, 'h', fig, 0)) >= 0)
            return code;
    }
    return -1;
}

static int figures(const struct ls_results *r, struct report_args *a, const struct ls_agg_spec *t)
{
    size_t m[LS_MAX_METRICS], n = 0, x = 0, y = 0;
    char fig[4200];
    int code = -1;
    if ((a->plot || a->heatmap || a->fit) && (code = figure_metrics(r, a, m, &n)) >= 0)
        return code;
    if (a->x && (code = axis_index(r, a->x, &x)) >= 0)
        return code;
    if (a->y && (code = axis_index(r, a->y, &y)) >= 0)
        return code;
    if (a->heatmap && x == y)
        return usage_error("--heatmap needs two different axes", report_help);
    for (size_t k = 0; k < n; k++)
        if ((code = metric_figures(r, a, t, m[k], n, x, y)) >= 0)
            return code;
    if (a->functions && (code = functions(r, a)) >= 0)
        return code;
    if (a->traj) {
        for (size_t p = 0; p < a->n_points; p++)
            if (a->points[p] >= r->n)
                return usage_error("--point is past the last point of the file", report_help);
        struct ls_agg_spec sp = *t;
        sp.n_metrics = 0; /* the groups and their status counts are all a trajectory plot uses */
        if ((code = figure_trajs(r, a, m, &n)) >= 0)
            return code;
        for (size_t k = 0; k < n; k++) {
            figure_path(a->traj, r->traj[m[k]], n, fig, sizeof fig);
            if ((code = draw(r, a, &sp, 't', fig, m[k])) >= 0)
                return code;
        }
    }
    return -1;
}

/* Pruning's collapse figure (plot_layer_density). */
static int layer_figure(const struct ls_results *r, struct report_args *a, const uint8_t *keep)
{
    char gp[4200];
    struct ls_plot_opts po = a->po;
    po.out = a->layers;
    script_path(a->layers, gp, sizeof gp);
    po.script = a->keep_script ? gp : NULL;
    int rc = plot_layer_density(r, keep, &po);
    if (rc == LS_ENOTFOUND) {
        fprintf(stderr, "lazysweep: --layer-density needs a sparsity axis and the stored "
                        "vector layer_density (store: [layer_density])\n");
        return LS_EXIT_USAGE;
    }
    return draw_done(rc, a->layers);
}

/* --x/--y compression_exponent: the sparsity axis relabelled as x = −log10(1 − s), which is
 * increasing in s, so its sorted values and every point's index stay as they are. */
static int compression_axis(struct ls_results *r, const struct report_args *a)
{
    int want = (a->x && !strcmp(a->x, "compression_exponent")) ||
               (a->y && !strcmp(a->y, "compression_exponent"));
    int s = report_find_axis(r, "sparsity");
    if (!want || report_find_axis(r, "compression_exponent") >= 0)
        return -1;
    if (s < 0 || r->axis[s].num == NULL)
        return bad_name("axis", "compression_exponent (the file has no sparsity axis)");
    struct ls_raxis *ax = &r->axis[s];
    for (size_t k = 0; k < ax->n_values; k++)
        ax->num[k] = -log10(1 - ax->num[k]) + 0.0; /* + 0: s = 0 gives 0, not −0 */
    snprintf(ax->name, sizeof ax->name, "compression_exponent");
    return -1;
}

/* ---- the commands -------------------------------------------------------------------------- */

/* Open OUT for writing, "-" being stdout. */
static FILE *open_out(const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (f == NULL)
        perror(path);
    return f;
}

static int close_out(FILE *f, int rc, const char *path)
{
    if (f != stdout && fclose(f) != 0)
        rc = LS_EIO;
    if (rc != LS_OK) {
        fprintf(stderr, "lazysweep: cannot write %s: %s\n", path, ls_strerror(rc));
        return LS_EXIT_INTERNAL;
    }
    return -1;
}

static int table(const struct ls_results *r, const struct report_args *a,
                 const struct ls_agg_spec *sp)
{
    struct ls_agg agg;
    int code = -1, rc = report_aggregate(r, sp, &agg);
    if (rc != LS_OK) {
        fprintf(stderr, "lazysweep: %s: %s\n", a->file, ls_strerror(rc));
        return LS_EXIT_INTERNAL;
    }
    if (!a->quiet)
        report_print_table(r, &agg, stdout);
    if (a->csv) {
        FILE *f = open_out(a->csv);
        code = f ? close_out(f, report_write_csv(r, &agg, f), a->csv) : LS_EXIT_INTERNAL;
    }
    report_agg_free(&agg);
    return code;
}

static int load(const char *cmd, const char *path, struct ls_results *r)
{
    int code = usage_check_results_file(cmd, path);
    if (code >= 0)
        return code;
    int rc = report_open(path, r);
    if (rc == LS_OK)
        return -1;
    fprintf(stderr, "lazysweep: %s: cannot read it as a results file: %s\n", path, ls_strerror(rc));
    return LS_EXIT_USAGE;
}

int cmd_report(int argc, char **argv)
{
    struct report_args a = {0};
    struct ls_results r;
    struct ls_agg_spec sp = {0};
    char err[256];
    uint8_t *keep = NULL;
    if (help_asked(argc, argv, report_help))
        return LS_EXIT_OK;
    int code = parse_report(argc, argv, &a);
    if (code >= 0 || (code = load("report", a.file, &r)) >= 0)
        return code;
    code = compression_axis(&r, &a);
    if (code < 0)
        code = table_spec(&r, &a, &sp);
    if (code < 0 && (keep = malloc(r.n ? r.n : 1)) == NULL)
        code = LS_EXIT_INTERNAL;
    if (code < 0 && report_filter(&r, a.where, a.n_where, keep, err, sizeof err) != LS_OK) {
        fprintf(stderr, "lazysweep: %s\n", err);
        code = LS_EXIT_USAGE;
    }
    sp.keep = keep;
    if (code < 0)
        code = table(&r, &a, &sp);
    if (code < 0)
        code = figures(&r, &a, &sp);
    if (code < 0 && a.layers)
        code = layer_figure(&r, &a, keep);
    free(keep);
    report_close(&r);
    return code < 0 ? LS_EXIT_OK : code;
}

int cmd_export(int argc, char **argv)
{
    const char *file = NULL, *csv = NULL, *traj = NULL;
    struct ls_results r;
    if (help_asked(argc, argv, export_help))
        return LS_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--csv") && i + 1 < argc)
            csv = argv[++i];
        else if (!strcmp(argv[i], "--trajectories") && i + 1 < argc)
            traj = argv[++i];
        else if (argv[i][0] == '-')
            return usage_bad_option("export", export_help, argv[i]);
        else if (file)
            return usage_error("export takes one results file", export_help);
        else
            file = argv[i];
    }
    if (!file || (!csv && !traj))
        return usage_error("export needs a results file and --csv or --trajectories", export_help);
    int code = load("export", file, &r);
    if (code >= 0)
        return code;
    FILE *f = csv ? open_out(csv) : NULL;
    if (csv)
        code = f ? close_out(f, report_export_points(&r, f), csv) : LS_EXIT_INTERNAL;
    f = code < 0 && traj ? open_out(traj) : NULL;
    if (code < 0 && traj)
        code = f ? close_out(f, report_export_traj(&r, f), traj) : LS_EXIT_INTERNAL;
    report_close(&r);
    return code < 0 ? LS_EXIT_OK : code;
}
