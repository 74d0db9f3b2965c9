/* plot.h — figures of a results file, drawn by gnuplot.
 *
 * Three kinds: a metric against one axis (one line per group, the mean of its done points, with
 * a band of min–max or ±1 std), a regime map of a metric over two axes, and trajectories against
 * the logged step. Each figure is one self-contained gnuplot script, data inline, piped to
 * `gnuplot` (Debian: gnuplot-nox); the output's extension picks the terminal, `.png` (pngcairo)
 * or `.svg`. The script can be kept to redraw or restyle the figure by hand. Points that diverged,
 * timed out or failed are left out of the lines and named in the legend or the cell labels. */
#ifndef LAZYSWEEP_PLOT_H
#define LAZYSWEEP_PLOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lazysweep/report.h"

#define LS_PLOT_MAX_LINES 30 /* more lines than this are unreadable: narrow with --where/--by */

enum ls_band { LS_BAND_MINMAX, LS_BAND_STD, LS_BAND_NONE };

struct ls_plot_opts {
    const char *out;    /* output file, .png or .svg */
    const char *script; /* also write the gnuplot script here (NULL: no) */
    int logx, logy;     /* logarithmic x / y axis */
    int logz;           /* logarithmic colour scale of a heatmap */
    enum ls_band band;  /* band around each line */
    const char *extra;  /* further plot items appended to plot_lines' plot command (fits), or
                           NULL */
};

/* The colour of line i of a figure (as "#rrggbb"). */
const char *plot_colour(size_t i);

/* For figures drawn elsewhere (plot_functions.c): the terminal, output and style lines every
 * figure starts with, and a finished script saved to o->script (if set) and drawn by gnuplot. */
void plot_preamble(FILE *f, const struct ls_plot_opts *o);
int plot_draw_script(const char *text, size_t len, const struct ls_plot_opts *o);

/* 1 if the output's extension is one gnuplot is asked to write (.png, .svg). */
int plot_format_ok(const char *out);

/* Metric a->spec.metric[0] against the last grouping axis of `a` (x); one line per combination
 * of the other grouping axes. LS_ERANGE for more than LS_PLOT_MAX_LINES lines, LS_EIO when
 * gnuplot fails (message on stderr). */
int plot_lines(const struct ls_results *r, const struct ls_agg *a, const struct ls_plot_opts *o);

/* Regime map of the mean of metric a->spec.metric[0]: y = a->spec.by[0], x = a->spec.by[1]. */
int plot_heatmap(const struct ls_results *r, const struct ls_agg *a, const struct ls_plot_opts *o);

/* Trajectory `traj` against the step: one line per group of `a` (mean of its done points, with
 * the band), or, when n_points > 0, one line per listed point. */
int plot_trajectories(const struct ls_results *r, const struct ls_agg *a, size_t traj,
                      const uint64_t *points, size_t n_points, const struct ls_plot_opts *o);

/* Pruning's collapse figure: the density of each prunable layer (input layer first, the mean over
 * the done points with keep[i], NULL: all) against log10 ρ = −log10(1 − sparsity), read from
 * /vectors/layer_density, with the overall density 1/ρ dashed. LS_ENOTFOUND without a sparsity
 * or depth axis, or without the stored vector. */
int plot_layer_density(const struct ls_results *r, const uint8_t *keep,
                       const struct ls_plot_opts *o);

#endif
