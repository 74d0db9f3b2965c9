/* grid.c — axes → a flat, row-major list of points, and each point's canonical key.
 *
 * The last axis varies fastest. A point's key ("name=value;" in name order) is what the journal
 * records, so keys must survive a reordering of axes and new values on an axis: they never
 * depend on positions, only on names and values. Knows nothing of YAML or HDF5. */
#include "lazysweep/grid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"

static int axis_storage_ok(const struct ls_axis *a)
{
    if (memchr(a->name, '\0', sizeof a->name) == NULL || a->name[0] == '\0' || a->n == 0)
        return 0;
    if (a->type == LS_T_STR)
        return a->str != NULL;
    return (a->type == LS_T_INT || a->type == LS_T_REAL || a->type == LS_T_BOOL) &&
           a->num != NULL;
}

/* On failure nothing is taken: num/str stay the caller's to free. */
int grid_add_axis(struct ls_grid *g, const struct ls_axis *axis)
{
    if (g->n_axes >= LS_MAX_AXES || !axis_storage_ok(axis) || grid_find(g, axis->name) != NULL)
        return LS_EINVAL;
    uint64_t prod = g->n_axes == 0 ? 1 : g->n_points;
    if ((uint64_t)axis->n > LS_MAX_POINTS || prod > LS_MAX_POINTS / (uint64_t)axis->n)
        return LS_ERANGE; /* checked before multiplying, so the product cannot wrap */
    g->axes[g->n_axes++] = *axis;
    g->n_points = prod * (uint64_t)axis->n;
    return LS_OK;
}

const struct ls_axis *grid_find(const struct ls_grid *g, const char *name)
{
    for (size_t i = 0; i < g->n_axes; i++)
        if (strcmp(g->axes[i].name, name) == 0)
            return &g->axes[i];
    return NULL;
}

void grid_unravel(const struct ls_grid *g, uint64_t point, size_t *idx)
{
    for (size_t i = g->n_axes; i-- > 0;) {
        idx[i] = (size_t)(point % g->axes[i].n);
        point /= g->axes[i].n;
    }
}

uint64_t grid_ravel(const struct ls_grid *g, const size_t *idx)
{
    uint64_t p = 0;
    for (size_t i = 0; i < g->n_axes; i++)
        p = p * g->axes[i].n + idx[i];
    return p;
}

/* Axis indices in name order (at most LS_MAX_AXES, so insertion sort). */
static void name_order(const struct ls_grid *g, size_t *order)
{
    for (size_t i = 0; i < g->n_axes; i++) {
        size_t j = i;
        for (; j > 0 && strcmp(g->axes[order[j - 1]].name, g->axes[i].name) > 0; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
}

/* Append one byte, counting what does not fit so the caller can tell. */
static void put(char *key, size_t len, size_t *off, char c)
{
    if (*off < len)
        key[*off] = c;
    ++*off;
}

/* Append one axis value as key text: %.17g round-trips every double (and prints integers
 * below 2^53 exactly); strings escape the key's own delimiters. */
static void put_value(char *key, size_t len, size_t *off, const struct ls_axis *a, size_t j)
{
    char num[32];
    const char *s = a->str ? a->str[j] : num;
    if (a->type != LS_T_STR)
        snprintf(num, sizeof num, "%.17g", a->num[j]);
    for (; *s; s++) {
        if (a->type == LS_T_STR && (*s == ';' || *s == '=' || *s == '\\'))
            put(key, len, off, '\\');
        put(key, len, off, *s);
    }
}

int grid_point_key(const struct ls_grid *g, uint64_t point, char *key, size_t len)
{
    size_t idx[LS_MAX_AXES], order[LS_MAX_AXES], off = 0;
    if (len == 0)
        return LS_ERANGE;
    if (point >= g->n_points)
        return LS_EINVAL;
    grid_unravel(g, point, idx);
    name_order(g, order);
    for (size_t k = 0; k < g->n_axes; k++) {
        const struct ls_axis *a = &g->axes[order[k]];
        for (const char *s = a->name; *s; s++)
            put(key, len, &off, *s);
        put(key, len, &off, '=');
        put_value(key, len, &off, a, idx[order[k]]);
        put(key, len, &off, ';');
    }
    key[off < len ? off : len - 1] = '\0';
    return off < len ? LS_OK : LS_ERANGE;
}

/* Split a copy of "name=value;..." in place into names and unescaped values; -1 if malformed
 * or longer than max pairs. */
static int split_key(char *buf, char **name, char **value, size_t max)
{
    size_t n = 0;
    char *r = buf;
    while (*r) {
        size_t nl = strcspn(r, "=;");
        if (n == max || r[nl] != '=' || nl == 0)
            return -1;
        name[n] = r;
        r[nl] = '\0';
        r += nl + 1;
        char *w = value[n++] = r; /* unescaping only shortens, so it can write behind r */
        for (; *r && *r != ';'; r++) {
            if (*r == '\\' && r[1])
                r++;
            *w++ = *r;
        }
        if (*r != ';')
            return -1;
        r++;
        *w = '\0';
    }
    return (int)n;
}

/* Position of x in a numeric axis, or -1. Axes from linspace/logspace/range are sorted, so a
 * binary search usually hits; a miss falls back to a scan, which keeps unsorted axes correct. */
static long find_num(const struct ls_axis *a, double x)
{
    size_t lo = 0, hi = a->n;
    int asc = a->num[0] <= a->num[a->n - 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->num[mid] == x)
            return (long)mid;
        if ((a->num[mid] < x) == asc)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t j = 0; j < a->n; j++)
        if (a->num[j] == x)
            return (long)j;
    return -1;
}

static long find_value(const struct ls_axis *a, const char *text)
{
    if (a->type == LS_T_STR) {
        for (size_t j = 0; j < a->n; j++)
            if (strcmp(a->str[j], text) == 0)
                return (long)j;
        return -1;
    }
    char *end;
    double x = strtod(text, &end);
    return end != text && *end == '\0' ? find_num(a, x) : -1;
}

int grid_find_key(const struct ls_grid *g, const char *key, uint64_t *point, const char **axis)
{
    char buf[LS_KEY_MAX], *name[LS_MAX_AXES], *value[LS_MAX_AXES];
    size_t idx[LS_MAX_AXES], where[LS_MAX_AXES];
    *axis = NULL;
    if (strlen(key) >= sizeof buf)
        return LS_ENOTFOUND;
    strcpy(buf, key);
    int n = split_key(buf, name, value, LS_MAX_AXES);
    if (n < 0 || (size_t)n != g->n_axes)
        return LS_ENOTFOUND;
    for (int k = 0; k < n; k++) { /* the same set of names, each once */
        const struct ls_axis *a = grid_find(g, name[k]);
        where[k] = a ? (size_t)(a - g->axes) : 0;
        for (int m = 0; a && m < k; m++)
            if (where[m] == where[k])
                a = NULL;
        if (a == NULL)
            return LS_ENOTFOUND;
    }
    for (int k = 0; k < n; k++) {
        long j = find_value(&g->axes[where[k]], value[k]);
        if (j < 0) {
            *axis = g->axes[where[k]].name;
            return LS_ENOTFOUND;
        }
        idx[where[k]] = (size_t)j;
    }
    *point = grid_ravel(g, idx);
    return LS_OK;
}

int grid_copy(struct ls_grid *dst, const struct ls_grid *src)
{
    *dst = *src;
    for (size_t i = 0; i < src->n_axes; i++) {
        struct ls_axis *d = &dst->axes[i];
        const struct ls_axis *s = &src->axes[i];
        d->num = NULL;
        d->str = NULL;
        if (s->num && (d->num = malloc(s->n * sizeof *d->num)) != NULL)
            memcpy(d->num, s->num, s->n * sizeof *d->num);
        if (s->str && (d->str = malloc(s->n * sizeof *d->str)) != NULL)
            memcpy(d->str, s->str, s->n * sizeof *d->str);
        if ((s->num && !d->num) || (s->str && !d->str)) {
            dst->n_axes = i + 1; /* free what was copied so far, this axis included */
            grid_free(dst);
            memset(dst, 0, sizeof *dst); /* later axes still point at src's arrays */
            return LS_ENOMEM;
        }
    }
    return LS_OK;
}

void grid_free(struct ls_grid *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n_axes; i++) {
        free(g->axes[i].num);
        free(g->axes[i].str);
        g->axes[i].num = NULL;
        g->axes[i].str = NULL;
    }
    g->n_axes = 0;
    g->n_points = 0;
}
