/* plot_functions.h — `report --functions`: the functions a 1-D sweep stored (`store: [function,
 * reference]`, docs/spline.md) drawn over their grid, each point's trained f with its reference
 * g, and the training data, by gnuplot like the other figures (plot.h). */
#ifndef LAZYSWEEP_PLOT_FUNCTIONS_H
#define LAZYSWEEP_PLOT_FUNCTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "lazysweep/plot.h"
#include "lazysweep/report.h"

/* Points `points` [n] (rows of the file, 1 <= n <= LS_PLOT_MAX_LINES) of the results file
 * `path` (already loaded in r): f solid, g dashed in the point's colour, the data as black
 * dots. LS_ENOTFOUND (message on stderr) when the file stored no function, LS_EINVAL when its
 * job is not a 1-D spline job, LS_ERANGE for a point past the end or not done, LS_EIO when
 * gnuplot fails. */
int plot_functions(const char *path, const struct ls_results *r, const uint64_t *points, size_t n,
                   const struct ls_plot_opts *o);

#endif
