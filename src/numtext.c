/* numtext.c — shortest round-trip text of a double (see numtext.h). */
#include "lazysweep/numtext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reads_back(char *buf, int p, double v)
{
    snprintf(buf, NUMTEXT_MAX, "%.*g", p, v);
    return strtod(buf, NULL) == v;
}

const char *numtext(char *buf, double v)
{
    if (!isfinite(v)) {
        snprintf(buf, NUMTEXT_MAX, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return buf;
    }
    /* Reading back is monotone in the digit count (more correctly rounded digits are never
     * further away) and 17 always suffice, so bisect for the fewest: 4–5 conversions, which
     * keeps CSV export of millions of values fast. */
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (reads_back(buf, mid, v))
            hi = mid;
        else
            lo = mid + 1;
    }
    reads_back(buf, lo, v);
    /* %g writes 10 as "1e+01" at one digit; the positional form is shorter there. */
    char *e = strstr(buf, "e+");
    if (e != NULL) {
        int exp10 = atoi(e + 2);
        char plain[NUMTEXT_MAX];
        if (exp10 < 17 && reads_back(plain, exp10 + 1, v) && strlen(plain) <= strlen(buf))
            memcpy(buf, plain, strlen(plain) + 1);
    }
    return buf;
}
