/* plot.c — figures through gnuplot: a metric against an axis, a regime map, trajectories.
 *
 * Each figure is written as one gnuplot script with its data inline (datablocks), so the script
 * alone redraws the figure (`--keep-script`), and it is piped to `gnuplot` rather than passed
 * through temporary files. Text is drawn with `noenhanced` so that names like population_error
 * are not read as subscripts; titles carry the job, what was pooled and how many points are
 * pending, and axis labels carry the quantity's meaning where the name is a known one. */
#include "lazysweep/plot.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lazysweep/error.h"
#include "lazysweep/numtext.h"

/* Colour-blind-safe categorical colours (Tableau 10); lines past ten change dash type too. */
static const char *const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define N_COLOURS (sizeof colours / sizeof colours[0])

/* What the known axes and metrics mean, for axis labels. */
static const char *const meanings[][2] = {
    {"init_scale", "initialization scale α"},
    {"width", "width k"},
    {"depth", "depth D"},
    {"sparsity", "fraction of weights pruned"},
    {"population_error", "‖β − β*‖² + σ²"},
    {"train_loss", "training loss, mean squared error"},
    {"l1_norm", "‖β‖₁"},
    {"l2_norm", "‖β‖₂"},
    {"steps", "gradient steps taken"},
    {"step", "gradient steps"},
};

static const char *meaning(const char *name)
{
    for (size_t i = 0; i < sizeof meanings / sizeof meanings[0]; i++)
        if (!strcmp(meanings[i][0], name))
            return meanings[i][1];
    return NULL;
}

int plot_format_ok(const char *out)
{
    const char *dot = strrchr(out, '.');
    return dot != NULL && (!strcmp(dot, ".png") || !strcmp(dot, ".svg"));
}

/* ---- script text --------------------------------------------------------------------------- */

/* A gnuplot double-quoted string; `\n` sequences already in s are kept as line breaks. */
static void gp_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || (*s == '\\' && s[1] != 'n'))
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void gp_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, " %s", NUMTEXT(v));
    else
        fputs(" NaN", f);
}

static void preamble(FILE *f, const struct ls_plot_opts *o)
{
    int svg = !strcmp(strrchr(o->out, '.'), ".svg");
    fprintf(f, "# Drawn by lazysweep report; rerun with `gnuplot THIS_FILE`.\n");
    fprintf(f, "set terminal %s size 960,640 noenhanced font \"DejaVu Sans,%d\"%s\n",
            svg ? "svg" : "pngcairo", svg ? 13 : 11, svg ? " background rgb \"white\"" : "");
    fputs("set encoding utf8\nset output ", f);
    gp_str(f, o->out);
    fputs("\nset grid lc rgb \"#dddddd\"\nset border lc rgb \"#555555\"\n", f);
}

/* "name (meaning)" plus "[log scale]": the label of an axis showing `name`. */
static void axis_label(FILE *f, const char *which, const char *name, const char *extra, int log)
{
    char text[512];
    const char *m = meaning(name);
    snprintf(text, sizeof text, "%s%s%s%s%s%s%s", name, m || extra ? "  (" : "", m ? m : "",
             m && extra ? ", " : "", extra ? extra : "", m || extra ? ")" : "",
             log ? "  [log scale]" : "");
    fprintf(f, "set %s ", which);
    gp_str(f, text);
    fputc('\n', f);
}

/* Whether grouping axis j has one value in every group (so it belongs in the title, not in
 * each legend entry). */
static int constant_axis(const struct ls_agg *a, size_t j)
{
    for (size_t g = 1; g < a->n_groups; g++)
        if (a->key[g * a->spec.n_by + j] != a->key[j])
            return 0;
    return a->n_groups > 1;
}

/* "axis=value, ..." of the grouping axes [0, to) that are constant across the groups. */
static size_t fixed_text(const struct ls_results *r, const struct ls_agg *a, size_t to, char *buf,
                         size_t len)
{
    char v[LS_STR_MAX + 32];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < to && n < len; j++)
        if (constant_axis(a, j)) {
            report_value_text(&r->axis[a->spec.by[j]], a->key[j], 4, v, sizeof v);
            n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n ? ", " : "",
                                  r->axis[a->spec.by[j]].name, v);
        }
    return n;
}

/* Second title line: what each statistic is over, and what is not in it. */
static void title_note(const struct ls_results *r, const struct ls_agg *a, const char *what,
                       char *buf, size_t len)
{
    uint64_t pending = 0, lost = 0, total = 0;
    for (size_t g = 0; g < a->n_groups; g++) {
        const uint64_t *st = a->status + g * LS_ST_COUNT;
        pending += st[LS_ST_PENDING];
        lost += st[LS_ST_DIVERGED] + st[LS_ST_TIMEOUT] + st[LS_ST_FAILED];
        total += st[0] + st[1] + st[2] + st[3] + st[4];
    }
    size_t n = (size_t)snprintf(buf, len, "%s%s%s", what, a->pooled[0] ? " over " : "", a->pooled);
    if (n < len) {
        char fixed[256];
        if (fixed_text(r, a, a->spec.n_by, fixed, sizeof fixed))
            n += (size_t)snprintf(buf + n, len - n, "; %s", fixed);
    }
    if (n < len && lost)
        n += (size_t)snprintf(buf + n, len - n, "; %llu diverged/timed-out/failed points left out",
                              (unsigned long long)lost);
    if (n < len && pending)
        snprintf(buf + n, len - n, "; %llu of %llu points pending%s", (unsigned long long)pending,
                 (unsigned long long)total, r->running ? " (sweep running)" : "");
}

static void set_title(FILE *f, const struct ls_results *r, const char *main, const char *note)
{
    char text[1024];
    snprintf(text, sizeof text, "%s — job %s\\n%s", main, r->job_name, note);
    fputs("set title ", f);
    gp_str(f, text);
    fputc('\n', f);
}

/* Legend text of the line of groups [g, g1): their values of the grouping axes [from, to) that
 * vary between groups, then what the line lost. */
static void group_label(const struct ls_results *r, const struct ls_agg *a, size_t g, size_t g1,
                        size_t from, size_t to, char *buf, size_t len)
{
    uint64_t st[LS_ST_COUNT] = {0}; /* over groups [g, g1): the whole line */
    for (size_t k = g; k < g1; k++)
        for (int s = 0; s < LS_ST_COUNT; s++)
            st[s] += a->status[k * LS_ST_COUNT + s];
    char v[LS_STR_MAX + 32];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t j = from; j < to && n < len; j++) {
        if (constant_axis(a, j))
            continue;
        report_value_text(&r->axis[a->spec.by[j]], a->key[g * a->spec.n_by + j], 4, v, sizeof v);
        n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n ? ", " : "",
                              r->axis[a->spec.by[j]].name, v);
    }
    if (n == 0 && len > 0)
        n = (size_t)snprintf(buf, len, "all points");
    uint64_t lost = st[LS_ST_DIVERGED] + st[LS_ST_TIMEOUT] + st[LS_ST_FAILED];
    unsigned long long all = lost + st[LS_ST_DONE] + st[LS_ST_PENDING];
    if (lost == all && n < len) { /* no line can be drawn: say why instead of showing none */
        snprintf(buf + n, len - n, "  (all %llu %s)", all,
                 st[LS_ST_DIVERGED] == all  ? "diverged"
                 : st[LS_ST_TIMEOUT] == all ? "timed out"
                 : st[LS_ST_FAILED] == all  ? "failed"
                                            : "diverged/timed out/failed");
        return;
    }
    if (lost && n < len)
        n += (size_t)snprintf(buf + n, len - n, "  (%llu of %llu diverged/failed",
                              (unsigned long long)lost, all);
    if (st[LS_ST_PENDING] && n < len)
        n += (size_t)snprintf(buf + n, len - n, "%s%llu of %llu pending", lost ? ", " : "  (",
                              (unsigned long long)st[LS_ST_PENDING], all);
    if ((lost || st[LS_ST_PENDING]) && n < len)
        snprintf(buf + n, len - n, ")");
}

/* One line of a figure: its legend text, and whether it has any point to draw (gnuplot warns
 * about a data block without one; such a line still gets its legend entry). */
struct line {
    char label[512];
    int has_line, has_band;
    int clipped;             /* a band end below 0 on a log axis was drawn at the axis */
    int has_stops;           /* column 5 marks where some of its runs stopped */
    double x0, x1, y0, y1;   /* extent of what it draws (NaN: nothing yet) */
};

/* Widen line l's extent to hold (x, y); values a log axis cannot show are not drawn. */
static void extend(struct line *l, const struct ls_plot_opts *o, double x, double y)
{
    if (!isfinite(x) || !isfinite(y) || (o->logx && x <= 0) || (o->logy && y <= 0))
        return;
    if (!(l->x0 <= x)) /* NaN compares false: the first value sets both ends */
        l->x0 = x;
    if (!(l->x1 >= x))
        l->x1 = x;
    if (!(l->y0 <= y))
        l->y0 = y;
    if (!(l->y1 >= y))
        l->y1 = y;
}

static struct line *new_lines(size_t n)
{
    struct line *l = calloc(n, sizeof *l);
    for (size_t i = 0; l && i < n; i++)
        l[i].x0 = l[i].x1 = l[i].y0 = l[i].y1 = NAN;
    return l;
}

/* Below a value a log axis shows, for a band end at or below 0: gnuplot clips the filled band
 * at the range set by log_ranges, so it reaches the bottom of the plot. */
#define CLIP_LOW 1e-300

/* On a log axis gnuplot's autoscale widens the range to whole decades (widths 8–128 drawn on
 * 1–1000): set it to what the lines draw, with a margin of 3 % of the span on each side. */
static void log_range(FILE *f, const char *axis, double lo, double hi)
{
    if (!(lo > 0) || !(hi >= lo))
        return;
    double m = hi > lo ? pow(hi / lo, 0.03) : 1.5;
    fprintf(f, "set %srange [", axis);
    gp_num(f, lo / m);
    fputs(":", f);
    gp_num(f, hi * m);
    fputs("]\n", f);
}

static void log_ranges(FILE *f, const struct line *l, size_t n, const struct ls_plot_opts *o)
{
    struct line all = {.x0 = NAN, .x1 = NAN, .y0 = NAN, .y1 = NAN};
    for (size_t i = 0; i < n; i++) {
        extend(&all, o, l[i].x0, l[i].y0);
        extend(&all, o, l[i].x1, l[i].y1);
    }
    if (o->logx)
        log_range(f, "x", all.x0, all.x1);
    if (o->logy)
        log_range(f, "y", all.y0, all.y1);
}

const char *plot_colour(size_t i) { return colours[i % N_COLOURS]; }

static void line_style(FILE *f, size_t i)
{
    fprintf(f, "lc rgb \"%s\" dt %zu", colours[i % N_COLOURS], 1 + i / N_COLOURS);
}

/* ---- running gnuplot ----------------------------------------------------------------------- */

static int write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return LS_EIO;
    }
    size_t put = fwrite(text, 1, len, f);
    return fclose(f) == 0 && put == len ? LS_OK : LS_EIO;
}

/* Pipe the script to gnuplot; it writes o->out. SIGPIPE is ignored meanwhile, so a gnuplot that
 * stops early is an error code here rather than a killed process. */
static int run_gnuplot(const char *text, size_t len, const struct ls_plot_opts *o)
{
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    struct stat st;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    remove(o->out);
    FILE *p = popen("gnuplot", "w");
    size_t put = p ? fwrite(text, 1, len, p) : 0;
    int status = p ? pclose(p) : -1;
    sigaction(SIGPIPE, &old, NULL);
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        fprintf(stderr, "lazysweep: gnuplot not found (Debian: apt-get install gnuplot-nox)\n");
        return LS_EIO;
    }
    if (put != len || status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        stat(o->out, &st) != 0 || st.st_size == 0) {
        fprintf(stderr, "lazysweep: gnuplot could not draw %s\n", o->out);
        return LS_EIO;
    }
    return LS_OK;
}

/* Close the script being built in f (text in *buf), save it if asked, and draw it. */
static int finish(FILE *f, char **buf, size_t *len, const struct ls_plot_opts *o)
{
    int rc = LS_OK;
    if (fclose(f) != 0)
        return LS_ENOMEM;
    if (o->script != NULL)
        rc = write_file(o->script, *buf, *len);
    if (rc == LS_OK)
        rc = run_gnuplot(*buf, *len, o);
    free(*buf);
    *buf = NULL;
    return rc;
}

void plot_preamble(FILE *f, const struct ls_plot_opts *o) { preamble(f, o); }

int plot_draw_script(const char *text, size_t len, const struct ls_plot_opts *o)
{
    int rc = o->script ? write_file(o->script, text, len) : LS_OK;
    return rc == LS_OK ? run_gnuplot(text, len, o) : rc;
}

/* ---- a metric against an axis -------------------------------------------------------------- */

/* x coordinate of value k of an axis: the value, or its position for a string axis. */
static double x_of(const struct ls_raxis *ax, uint32_t k)
{
    return ax->type == LS_T_STR ? (double)k : ax->num[k];
}

/* For a string x axis, tics at the positions named by the values, half a step of margin. */
static void string_tics(FILE *f, const struct ls_raxis *ax)
{
    if (ax->type != LS_T_STR)
        return;
    fputs("set xtics (", f);
    for (size_t k = 0; k < ax->n_values; k++) {
        fputs(k ? ", " : "", f);
        gp_str(f, ax->str[k]);
        fprintf(f, " %zu", k);
    }
    fprintf(f, ")\nset xrange [-0.5:%zu.5]\n", ax->n_values - 1);
}

/* Band ends around a mean: min–max, or ±1 std (just the mean when std is undefined). */
static void band(const struct ls_plot_opts *o, double mean, double sd, double lo, double hi,
                 double *b0, double *b1)
{
    if (o->band == LS_BAND_STD) {
        sd = isnan(sd) ? 0 : sd;
        lo = mean - sd;
        hi = mean + sd;
    }
    /* On a log axis a band end at or below 0 is drawn at the bottom of the plot (and the title
     * says so); a band wholly at or below 0 is not drawn. */
    *b0 = o->logy && lo <= 0 ? (hi > 0 ? CLIP_LOW : NAN) : lo;
    *b1 = o->logy && hi <= 0 ? NAN : hi;
}

/* One "x mean lo hi stop" row of line l's datablock (stop: the mean where some of the line's
 * runs stopped, else NaN); none for an x a log axis cannot show. */
static void data_row(FILE *f, const struct ls_plot_opts *o, struct line *l, double x, double mean,
                     double sd, double lo, double hi, int stop)
{
    double b0, b1;
    if (o->logx && !(x > 0))
        return;
    band(o, mean, sd, lo, hi, &b0, &b1);
    mean = o->logy && !(mean > 0) ? NAN : mean;
    l->has_line |= isfinite(mean);
    l->has_band |= isfinite(b0) && isfinite(b1);
    l->clipped |= b0 == CLIP_LOW && isfinite(b1);
    extend(l, o, x, mean);
    if (o->band != LS_BAND_NONE && isfinite(b0) && isfinite(b1)) {
        extend(l, o, x, b0 == CLIP_LOW ? mean : b0);
        extend(l, o, x, b1);
    }
    gp_num(f, x);
    gp_num(f, mean);
    gp_num(f, b0);
    gp_num(f, b1);
    gp_num(f, stop ? mean : NAN);
    l->has_stops |= stop && isfinite(mean);
    fputc('\n', f);
}

/* The plot command of lines $L0 … $L(n-1): band, then the line; a line with nothing to draw
 * is plotted as NaN, which gives it its legend entry and no warning. */
static void plot_command(FILE *f, size_t n, const struct line *l, const struct ls_plot_opts *o,
                         const char *point_style)
{
    int any = 0;
    for (size_t i = 0; i < n; i++)
        any |= l[i].has_line || l[i].has_band;
    if (any)
        log_ranges(f, l, n, o);
    else /* gnuplot refuses a plot with no point at all: draw the legend on an empty frame */
        fputs("unset logscale\nset xrange [0:1]\nset yrange [0:1]\n"
              "set label \"no done point to draw\" at graph 0.5, 0.5 center\n", f);
    fputs("plot", f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", \\\n    ", f);
        if (o->band != LS_BAND_NONE && l[i].has_band)
            fprintf(f,
                    " $L%zu using 1:3:4 with filledcurves fc rgb \"%s\" "
                    "fs transparent solid 0.18 noborder notitle, \\\n    ",
                    i, colours[i % N_COLOURS]);
        if (l[i].has_line)
            fprintf(f, " $L%zu using 1:2 with %s ", i, point_style);
        else
            fprintf(f, " NaN with %s ", point_style);
        line_style(f, i);
        fputs(" title ", f);
        gp_str(f, l[i].label);
        if (l[i].has_stops)
            fprintf(f, ", \\\n     $L%zu using 1:5 with points pt 2 ps 1.6 lw 2 lc rgb \"%s\" "
                       "notitle", i, colours[i % N_COLOURS]);
    }
    int stops = 0, clipped = 0;
    for (size_t i = 0; i < n; i++)
        stops |= l[i].has_stops, clipped |= l[i].clipped && o->band != LS_BAND_NONE;
    if (stops)
        fputs(", \\\n     NaN with points pt 2 ps 1.6 lw 2 lc rgb \"#555555\" title "
              "\"× some runs of the group stopped here; their final value is carried on\"", f);
    if (clipped)
        fputs(", \\\n     NaN with filledcurves fc rgb \"#bbbbbb\" title "
              "\"band ends at or below 0 are drawn at the bottom of the log axis\"", f);
    fputc('\n', f);
}

static const char *band_text(const struct ls_plot_opts *o)
{
    return o->band == LS_BAND_MINMAX ? "line: mean, band: min–max of done points"
           : o->band == LS_BAND_STD  ? "line: mean, band: ±1 std of done points"
                                     : "line: mean of done points";
}

/* Lines = runs of consecutive groups that share every grouping value but the last (x). */
static int same_line(const struct ls_agg *a, size_t g, size_t h)
{
    size_t nb = a->spec.n_by;
    return memcmp(a->key + g * nb, a->key + h * nb, (nb - 1) * sizeof *a->key) == 0;
}

static size_t count_lines(const struct ls_agg *a)
{
    size_t lines = 0;
    for (size_t g = 0; g < a->n_groups; g++)
        lines += g == 0 || !same_line(a, g - 1, g);
    return lines;
}

static void lines_labels(FILE *f, const struct ls_results *r, const struct ls_agg *a,
                         const struct ls_plot_opts *o, const char *metric, const char *x)
{
    char main[256], note[512];
    snprintf(main, sizeof main, "%s vs %s", metric, x);
    title_note(r, a, band_text(o), note, sizeof note);
    set_title(f, r, main, note);
    axis_label(f, "xlabel", x, NULL, o->logx);
    axis_label(f, "ylabel", metric, NULL, o->logy);
    fputs("set key below Left reverse height 1\nset datafile missing NaN\n"
          "set format x \"%g\"\nset format y \"%g\"\n",
          f);
    fprintf(f, "%s%s", o->logx ? "set logscale x\n" : "", o->logy ? "set logscale y\n" : "");
}

int plot_lines(const struct ls_results *r, const struct ls_agg *a, const struct ls_plot_opts *o)
{
    int rc = LS_OK;
    size_t nb = a->spec.n_by, len = 0, n_lines = count_lines(a), line = 0;
    const struct ls_raxis *x = &r->axis[a->spec.by[nb - 1]];
    char *buf = NULL;
    struct line *l = NULL;
    FILE *f = NULL;
    if (n_lines > LS_PLOT_MAX_LINES)
        return LS_ERANGE;
    l = new_lines(n_lines + 1);
    LS_CHECK_ALLOC(l);
    f = open_memstream(&buf, &len);
    LS_CHECK_ALLOC(f);
    preamble(f, o);
    lines_labels(f, r, a, o, r->metric[a->spec.metric[0]], x->name);
    string_tics(f, x);
    for (size_t g = 0, g1; g < a->n_groups; g = g1) {
        for (g1 = g + 1; g1 < a->n_groups && same_line(a, g, g1); g1++)
            ;
        fprintf(f, "$L%zu << EOD\n", line);
        group_label(r, a, g, g1, 0, nb - 1, l[line].label, sizeof l[line].label);
        for (size_t k = g; k < g1; k++) {
            const struct ls_stat *s = &a->stat[k];
            data_row(f, o, &l[line], x_of(x, a->key[k * nb + nb - 1]), s->mean, s->std, s->min,
                     s->max, 0);
        }
        fputs("EOD\n", f);
        line++;
    }
    plot_command(f, n_lines, l, o, "linespoints lw 2 pt 7 ps 1.1");
    if (o->extra) { /* drawn after the lines, on the same axes: ", …" items then a newline */
        fseek(f, -1, SEEK_CUR);
        fprintf(f, "%s\n", o->extra);
    }
    rc = finish(f, &buf, &len, o);
cleanup:
    free(l);
    return rc;
}

/* ---- regime map ---------------------------------------------------------------------------- */

/* Colour-scale position of v in [lo, hi], logarithmic if asked. */
static double scale_pos(double v, double lo, double hi, int log)
{
    if (log) {
        v = log10(v);
        lo = log10(lo);
        hi = log10(hi);
    }
    return hi > lo ? (v - lo) / (hi - lo) : 0.5;
}

/* The text in a cell: its mean, and what is missing from it. */
static void cell_text(const uint64_t *st, const struct ls_stat *s, char *buf, size_t len)
{
    size_t n = 0;
    if (isfinite(s->mean))
        n = (size_t)snprintf(buf, len, "%.3g", s->mean);
    else
        n = (size_t)snprintf(buf, len, "no value");
    const char *what[] = {"pending", NULL, "diverged", "timeout", "failed"};
    for (int k = 0; k < LS_ST_COUNT && n < len; k++)
        if (what[k] != NULL && st[k] > 0)
            n += (size_t)snprintf(buf + n, len - n, "\\n%llu %s", (unsigned long long)st[k],
                                  what[k]);
}

/* Cell labels, white on the dark end of the palette and black on the light one. */
static void cell_labels(FILE *f, const struct ls_agg *a, const struct ls_plot_opts *o, double lo,
                        double hi)
{
    char text[160];
    if (a->n_groups > 400)
        return; /* too small to read */
    for (size_t g = 0; g < a->n_groups; g++) {
        const struct ls_stat *s = &a->stat[g];
        uint32_t yi = a->key[2 * g], xi = a->key[2 * g + 1];
        int usable = isfinite(s->mean) && (!o->logz || s->mean > 0);
        double pos = usable ? scale_pos(s->mean, lo, hi, o->logz) : 1;
        cell_text(a->status + g * LS_ST_COUNT, s, text, sizeof text);
        fputs("set label ", f);
        gp_str(f, text);
        fprintf(f, " at %u,%u center front tc rgb \"%s\"\n", xi, yi,
                pos < 0.55 ? "#ffffff" : "#000000");
    }
}

static void heatmap_axes(FILE *f, const struct ls_results *r, const struct ls_agg *a,
                         const struct ls_plot_opts *o)
{
    const struct ls_raxis *y = &r->axis[a->spec.by[0]], *x = &r->axis[a->spec.by[1]];
    char v[LS_STR_MAX + 32], note[512], main[256];
    const char *metric = r->metric[a->spec.metric[0]];
    for (int which = 0; which < 2; which++) {
        const struct ls_raxis *ax = which ? y : x;
        fprintf(f, "set %s (", which ? "ytics" : "xtics");
        for (uint32_t k = 0; k < ax->n_values; k++) {
            report_value_text(ax, k, 4, v, sizeof v);
            fputs(k ? ", " : "", f);
            gp_str(f, v);
            fprintf(f, " %u", k);
        }
        fprintf(f, ")\nset %srange [-0.5:%zu.5]\n", which ? "y" : "x", ax->n_values - 1);
    }
    axis_label(f, "xlabel", x->name, NULL, 0);
    axis_label(f, "ylabel", y->name, NULL, 0);
    axis_label(f, "cblabel", metric, "mean of done points", o->logz);
    snprintf(main, sizeof main, "%s over %s × %s", metric, x->name, y->name);
    title_note(r, a, "cell: mean of done points", note, sizeof note);
    set_title(f, r, main, note);
    fputs("set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', "
          "4 '#fde725')\nunset key\nset tics out nomirror\nset grid noxtics noytics\n",
          f);
    fputs(o->logz ? "set logscale cb\nset format cb \"%g\"\n" : "", f);
}

int plot_heatmap(const struct ls_results *r, const struct ls_agg *a, const struct ls_plot_opts *o)
{
    char *buf = NULL;
    size_t len = 0;
    double lo = INFINITY, hi = -INFINITY;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return LS_ENOMEM;
    for (size_t g = 0; g < a->n_groups; g++) {
        double m = a->stat[g].mean;
        if (isfinite(m) && (!o->logz || m > 0)) {
            lo = fmin(lo, m);
            hi = fmax(hi, m);
        }
    }
    preamble(f, o);
    heatmap_axes(f, r, a, o);
    cell_labels(f, a, o, lo, hi);
    fputs("$M << EOD\n", f);
    for (size_t g = 0; g < a->n_groups; g++) {
        double m = a->stat[g].mean;
        fprintf(f, "%u %u", a->key[2 * g + 1], a->key[2 * g]);
        gp_num(f, o->logz && !(m > 0) ? NAN : m);
        fputc('\n', f);
    }
    fputs("EOD\nset datafile missing NaN\n"
          "plot $M using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 noborder lc palette\n",
          f);
    return finish(f, &buf, &len, o);
}

/* ---- trajectories -------------------------------------------------------------------------- */

static void traj_labels(FILE *f, const struct ls_results *r, const struct ls_agg *a,
                        const char *name, int points, const struct ls_plot_opts *o)
{
    char main[256], note[512];
    snprintf(main, sizeof main, "%s during training", name);
    if (points)
        snprintf(note, sizeof note, "single points; the last mark is the final state");
    else
        title_note(r, a, band_text(o), note, sizeof note);
    set_title(f, r, main, note);
    axis_label(f, "xlabel", "step", NULL, o->logx);
    axis_label(f, "ylabel", name, NULL, o->logy);
    fputs("set key below Left reverse height 1\nset datafile missing NaN\n"
          "set format x \"%g\"\nset format y \"%g\"\n",
          f);
    fprintf(f, "%s%s", o->logx ? "set logscale x\n" : "", o->logy ? "set logscale y\n" : "");
}

/* Point i's label: its swept axes. */
static void point_label(const struct ls_results *r, uint64_t i, char *buf, size_t len)
{
    char v[LS_STR_MAX + 32];
    size_t n = (size_t)snprintf(buf, len, "point %llu (%s)", (unsigned long long)i,
                                ls_status_name(r->status[i]));
    for (size_t a = 0; a < r->n_axes && n < len; a++)
        if (r->axis[a].swept) {
            report_value_text(&r->axis[a], r->axis[a].idx[i], 4, v, sizeof v);
            n += (size_t)snprintf(buf + n, len - n, " %s=%s", r->axis[a].name, v);
        }
}

static int points_data(FILE *f, const struct ls_results *r, size_t traj, const uint64_t *points,
                       size_t n, const struct ls_plot_opts *o, struct line *l)
{
    int rc = LS_OK;
    double *x = malloc(r->T * sizeof *x), *y = malloc(r->T * sizeof *y);
    LS_CHECK_ALLOC(x);
    LS_CHECK_ALLOC(y);
    for (size_t p = 0; p < n; p++) {
        LS_CALL(report_point_traj(r, traj, points[p], x, y));
        point_label(r, points[p], l[p].label, sizeof l[p].label);
        fprintf(f, "$L%zu << EOD\n", p);
        for (size_t t = 0; t < r->T; t++)
            if (isfinite(y[t]) && !(o->logx && x[t] <= 0) && !(o->logy && y[t] <= 0)) {
                l[p].has_line = 1;
                extend(&l[p], o, x[t], y[t]);
                gp_num(f, x[t]);
                gp_num(f, y[t]);
                fputc('\n', f);
            }
        fputs("EOD\n", f);
    }
cleanup:
    free(x);
    free(y);
    return rc;
}

static int groups_data(FILE *f, const struct ls_results *r, const struct ls_agg *a, size_t traj,
                       const struct ls_plot_opts *o, struct line *l)
{
    int rc = LS_OK;
    size_t n = a->n_groups * r->T;
    struct ls_traj_stats st = {malloc(n * sizeof(double)), malloc(n * sizeof(double)),
                               malloc(n * sizeof(double)), malloc(n * sizeof(double)),
                               malloc(n * sizeof(uint64_t)), malloc(n * sizeof(uint64_t))};
    LS_CHECK_ALLOC(st.mean);
    LS_CHECK_ALLOC(st.min);
    LS_CHECK_ALLOC(st.max);
    LS_CHECK_ALLOC(st.std);
    LS_CHECK_ALLOC(st.count);
    LS_CHECK_ALLOC(st.stops);
    LS_CALL(report_traj_stats(r, a, traj, &st));
    for (size_t g = 0; g < a->n_groups; g++) {
        group_label(r, a, g, g + 1, 0, a->spec.n_by, l[g].label, sizeof l[g].label);
        fprintf(f, "$L%zu << EOD\n", g);
        for (size_t t = 0, at = g * r->T; t < r->T; t++, at++)
            data_row(f, o, &l[g], r->step[t], st.mean[at], st.std[at], st.min[at], st.max[at],
                     st.stops[at] > 0);
        fputs("EOD\n", f);
    }
cleanup:
    free(st.mean);
    free(st.min);
    free(st.max);
    free(st.std);
    free(st.count);
    free(st.stops);
    return rc;
}

int plot_trajectories(const struct ls_results *r, const struct ls_agg *a, size_t traj,
                      const uint64_t *points, size_t n_points, const struct ls_plot_opts *o)
{
    int rc = LS_OK;
    size_t n = n_points ? n_points : a->n_groups, len = 0;
    struct ls_plot_opts po = *o;
    char *buf = NULL;
    struct line *l = NULL;
    FILE *f = NULL;
    if (n > LS_PLOT_MAX_LINES)
        return LS_ERANGE;
    l = new_lines(n + 1);
    LS_CHECK_ALLOC(l);
    f = open_memstream(&buf, &len);
    LS_CHECK_ALLOC(f);
    if (n_points)
        po.band = LS_BAND_NONE;
    preamble(f, o);
    traj_labels(f, r, a, r->traj[traj], n_points > 0, &po);
    if (n_points)
        rc = points_data(f, r, traj, points, n_points, o, l);
    else
        rc = groups_data(f, r, a, traj, o, l);
    if (rc == LS_OK) {
        plot_command(f, n, l, &po, n_points ? "linespoints lw 2 pt 7 ps 0.6" : "lines lw 2");
        rc = finish(f, &buf, &len, o);
        f = NULL;
    }
cleanup:
    if (f != NULL)
        fclose(f);
    free(buf);
    free(l);
    return rc;
}

/* ---- pruning: layer density against compression --------------------------------------------- */

/* Mean layer density per sparsity value (rows) and layer (columns) over the done points kept,
 * from /vectors/layer_density; NaN where no point contributes. */
static int layer_means(const struct ls_results *r, const uint8_t *keep, size_t sa, size_t layers,
                       double *mean /* [S][layers] */)
{
    size_t S = r->axis[sa].n_values;
    double *row = malloc(layers * sizeof *row), *cnt = calloc(S * layers, sizeof *cnt);
    int rc = row && cnt ? LS_OK : LS_ENOMEM;
    memset(mean, 0, S * layers * sizeof *mean);
    for (uint64_t i = 0; rc == LS_OK && i < r->n; i++) {
        if (r->status[i] != LS_ST_DONE || (keep && !keep[i]))
            continue;
        rc = store_reader_numeric(r->reader, "/vectors/layer_density", i, 1, row);
        for (size_t l = 0; rc == LS_OK && l < layers; l++)
            if (isfinite(row[l])) {
                mean[r->axis[sa].idx[i] * layers + l] += row[l];
                cnt[r->axis[sa].idx[i] * layers + l] += 1;
            }
    }
    for (size_t k = 0; k < S * layers; k++)
        mean[k] = cnt && cnt[k] > 0 ? mean[k] / cnt[k] : NAN;
    free(row);
    free(cnt);
    return rc;
}

int plot_layer_density(const struct ls_results *r, const uint8_t *keep,
                       const struct ls_plot_opts *o)
{
    int sa = report_find_axis(r, "sparsity"), da = report_find_axis(r, "depth");
    int expo = sa < 0; /* report's --x compression_exponent relabelled it already */
    if (expo)
        sa = report_find_axis(r, "compression_exponent");
    if (sa < 0 || da < 0 || r->axis[da].n_values == 0)
        return LS_ENOTFOUND;
    size_t layers = (size_t)r->axis[da].num[r->axis[da].n_values - 1] + 1, len = 0;
    size_t S = r->axis[sa].n_values;
    double *mean = malloc(S * layers * sizeof *mean);
    char *buf = NULL;
    int rc = mean ? layer_means(r, keep, (size_t)sa, layers, mean) : LS_ENOMEM;
    FILE *f = rc == LS_OK ? open_memstream(&buf, &len) : NULL;
    if (rc == LS_OK && !f)
        rc = LS_ENOMEM;
    if (rc != LS_OK) {
        free(mean);
        return rc;
    }
    preamble(f, o);
    fprintf(f, "set title \"%s: density of each prunable layer (mean over the points kept); a "
               "missing point is a collapsed layer (density 0)\"\n", r->job_name);
    fputs("set xlabel \"log10 compression  (x = log10 rho = -log10(1 - sparsity))\"\n"
          "set ylabel \"kept fraction of the layer  [log scale]\"\nset logscale y\n"
          "set key outside right\n", f);
    for (size_t l = 0; l <= layers; l++) {
        fprintf(f, "$D%zu << EOD\n", l);
        for (size_t k = 0; k < S; k++) {
            double v = r->axis[sa].num[k], x = expo ? v : -log10(1 - v) + 0.0;
            double y = l < layers ? mean[k * layers + l] : pow(10.0, -x);
            fprintf(f, "%.17g", x);
            gp_num(f, y > 0 ? y : NAN);
            fputc('\n', f);
        }
        fputs("EOD\n", f);
    }
    fputs("plot ", f);
    for (size_t l = 0; l < layers; l++) {
        fprintf(f, "$D%zu using 1:2 with linespoints lw 2 pt 7 ", l);
        line_style(f, l);
        fprintf(f, " title \"layer %zu%s\", ", l, l == 0 ? " (input)" : l + 1 == layers ? " (output)" : "");
    }
    fprintf(f, "$D%zu using 1:2 with lines lw 1 lc rgb \"#000000\" dt 2 title \"all (1/rho)\"\n",
            layers);
    free(mean);
    return finish(f, &buf, &len, o);
}
