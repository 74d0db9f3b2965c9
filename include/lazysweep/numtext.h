/* numtext.h — a double as the shortest text that reads back to the same double ("0.1", not
 * "0.10000000000000001"), for tables, CSV, messages and legends alike. */
#ifndef LAZYSWEEP_NUMTEXT_H
#define LAZYSWEEP_NUMTEXT_H

#include <stddef.h>

#define NUMTEXT_MAX 32 /* bytes that hold any double's text, "-2.2250738585072014e-308" */

/* Write the shortest %.{p}g text (1 <= p <= 17) of v that strtod reads back as v into buf
 * (NUMTEXT_MAX bytes); "nan", "inf" and "-inf" for the non-finite. Returns buf. */
const char *numtext(char *buf, double v);

/* numtext in a temporary that lives to the end of the enclosing full expression's block, for
 * use as a printf argument: printf("%s", NUMTEXT(x)). */
#define NUMTEXT(v) numtext((char[NUMTEXT_MAX]){0}, (v))

#endif
