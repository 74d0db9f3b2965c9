/* usage.c — one-line usage errors with a did-you-mean (see usage.h). */
#include "lazysweep/usage.h"

#include <stdio.h>
#include <string.h>

#include "lazysweep/sweep.h"

#define MAX_WORD 64  /* longer words are never a typo of an option */
#define MAX_OPTS 128 /* options one help text may list */

int usage_fail(const char *cmd, const char *what)
{
    fprintf(stderr, "lazysweep%s%s: %s\n", cmd ? " " : "", cmd ? cmd : "", what);
    fprintf(stderr, "see 'lazysweep %s%s--help'\n", cmd ? cmd : "", cmd ? " " : "");
    return LS_EXIT_USAGE;
}

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Optimal-string-alignment distance between a and b (both shorter than MAX_WORD). */
static size_t distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b), d[MAX_WORD + 1][MAX_WORD + 1];
    for (size_t i = 0; i <= na; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, sub);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1;
        }
    return d[na][nb];
}

const char *usage_closest(const char *word, const char *const *cands, size_t n)
{
    size_t len = strlen(word), best = (size_t)-1, limit = len / 3 > 1 ? len / 3 : 1;
    const char *pick = NULL;
    if (len >= MAX_WORD)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (strlen(cands[i]) >= MAX_WORD)
            continue;
        size_t dist = distance(word, cands[i]);
        if (dist < best) {
            best = dist;
            pick = cands[i];
        }
    }
    if (best <= limit)
        return pick;
    /* An abbreviation of exactly one candidate ("--dry" for "--dry-run"). */
    pick = NULL;
    for (size_t i = 0; i < n && len >= 3; i++)
        if (!strncmp(cands[i], word, len)) {
            if (pick)
                return NULL;
            pick = cands[i];
        }
    return pick;
}

/* The options a help text documents: every word that starts with '-' after a blank or '[' and
 * has a letter after its dashes, cut at the first character that cannot be part of a name. */
static size_t help_options(const char *help, char buf[][MAX_WORD], size_t cap)
{
    size_t n = 0;
    for (const char *p = help; *p && n < cap; p++) {
        int starts = *p == '-' && (p == help || strchr(" [\n|(", p[-1]));
        const char *q = p;
        while (*q == '-')
            q++;
        if (!starts || q - p > 2 || !((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')))
            continue;
        size_t k = 0;
        while (k + 1 < MAX_WORD && (p[k] == '-' || (p[k] >= 'a' && p[k] <= 'z') ||
                                    (p[k] >= 'A' && p[k] <= 'Z') || (p[k] >= '0' && p[k] <= '9')))
            k++;
        memcpy(buf[n], p, k);
        buf[n][k] = '\0';
        int seen = 0;
        for (size_t i = 0; i < n && !seen; i++)
            seen = !strcmp(buf[i], buf[n]);
        n += !seen;
        p += k - 1;
    }
    return n;
}

/* HDF5's superblock signature, at byte 0 or at a power-of-two user-block size >= 512. */
static int has_hdf5_signature(FILE *f)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char buf[8];
    for (long off = 0; off <= 1L << 20; off = off ? off * 2 : 512) {
        if (fseek(f, off, SEEK_SET) != 0 || fread(buf, 1, sizeof buf, f) != sizeof buf)
            return 0;
        if (!memcmp(buf, sig, sizeof sig))
            return 1;
    }
    return 0;
}

int usage_check_results_file(const char *cmd, const char *path)
{
    char what[4352];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    int c = fgetc(f), hdf5 = c != EOF && has_hdf5_signature(f);
    fclose(f);
    if (hdf5)
        return -1;
    if (c == EOF)
        snprintf(what, sizeof what, "%s is empty, not a results file", path);
    else
        snprintf(what, sizeof what,
                 "%s is not an HDF5 results file (if it is a job file, `lazysweep run %s` makes "
                 "its results file)",
                 path, path);
    return usage_fail(cmd, what);
}

int usage_bad_option(const char *cmd, const char *help, const char *arg)
{
    static char opts[MAX_OPTS][MAX_WORD];
    const char *cands[MAX_OPTS];
    char what[256];
    size_t n = help_options(help, opts, MAX_OPTS - 1);
    snprintf(opts[n++], MAX_WORD, "--help"); /* every command takes it */
    for (size_t i = 0; i < n; i++) {
        cands[i] = opts[i];
        if (!strcmp(arg, opts[i])) {
            snprintf(what, sizeof what, "'%s' needs a value", arg);
            return usage_fail(cmd, what);
        }
    }
    const char *near = usage_closest(arg, cands, n);
    if (near)
        snprintf(what, sizeof what, "unknown option '%.64s'; did you mean '%s'?", arg, near);
    else
        snprintf(what, sizeof what, "unknown option '%.64s'", arg);
    return usage_fail(cmd, what);
}
