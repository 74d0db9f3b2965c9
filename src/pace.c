/* pace.c — rates and durations for people (see pace.h). */
#include "lazysweep/pace.h"

#include <math.h>
#include <stdio.h>

void pace_rate(char *buf, size_t len, double r)
{
    if (r >= 1.0)
        snprintf(buf, len, "%.1f points/s", r);
    else if (r * 60.0 >= 1.0)
        snprintf(buf, len, "%.1f points/min", r * 60.0);
    else
        snprintf(buf, len, "%.2f points/h", r > 0 ? r * 3600.0 : 0.0);
}

void pace_duration(char *buf, size_t len, double s)
{
    if (!(s >= 0) || !isfinite(s)) {
        snprintf(buf, len, "-");
        return;
    }
    long long t = llround(s);
    if (t < 120)
        snprintf(buf, len, "%llds", t);
    else if (t < 2 * 3600)
        snprintf(buf, len, "%lldm%02llds", t / 60, t % 60);
    else if (t < 48 * 3600)
        snprintf(buf, len, "%lldh%02lldm", t / 3600, t / 60 % 60);
    else
        snprintf(buf, len, "%.1fd", s / 86400.0);
}
