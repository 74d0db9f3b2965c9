/* pace.h — rates and durations written for people: the progress line and `lazysweep status`.
 * A sweep's pace spans from thousands of trivial points a second to hours per point, and one
 * fixed unit shows one end of that range as 0.0 or as a number nobody reads at a glance. */
#ifndef LAZYSWEEP_PACE_H
#define LAZYSWEEP_PACE_H

#include <stddef.h>

/* "12.3 points/s" from 1 point/s up; "4.0 points/min" down to 1 point/min; "0.50 points/h"
 * below (0 gives "0.00 points/h"). */
void pace_rate(char *buf, size_t len, double points_per_second);

/* "45s" below 2 minutes, "12m05s" below 2 hours, "3h25m" below 2 days, "2.5d" beyond; "-" for a
 * negative or non-finite value. */
void pace_duration(char *buf, size_t len, double seconds);

#endif
