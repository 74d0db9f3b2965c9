/* cfg_grid.c — the job file's `grid:` section: axis names, value specs (lists, linspace,
 * logspace, range), every value generated and checked like the key it sweeps, duplicates
 * refused, and the canonical axes not swept recorded as singletons.
 *
 * Two passes: scan_grid only counts (so a huge range is refused before anything is generated),
 * then build_axis generates and checks each axis into job->grid. Separate from cfg.c because the
 * grid is its own small language on top of the key table. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_internal.h"
#include "lazysweep/error.h"
#include "lazysweep/grid.h"

/* ---- grid: axis names and spec shapes ---------------------------------------------------- */

static const char *const canon_names[] = {
#define LS_CANON_NAME(n) #n,
    LS_CANONICAL_AXES(LS_CANON_NAME)
#undef LS_CANON_NAME
};
#define N_CANON (sizeof canon_names / sizeof canon_names[0])

#define MAX_EXACT_INT 9007199254740992.0 /* 2^53: larger integers do not survive a double */
#define MAX_EXACT_I64 (INT64_C(1) << 53)

static int is_canonical(const char *name)
{
    for (size_t i = 0; i < N_CANON; i++)
        if (strcmp(canon_names[i], name) == 0)
            return 1;
    return 0;
}

static int resolve_axis(struct ctx *c, const struct yt_node *k, const struct key_def **out)
{
    const char *name = k->text;
    const struct key_def *row = cfgi_axis_row(name);
    if (strcmp(name, "metrics") == 0)
        return FAIL(c, k, "'metrics' cannot be an axis: every point records the same metrics");
    if (row == NULL)
        return FAIL(c, k, "unknown grid axis '%.80s' (the canonical axes are init_scale, width, "
                          "depth, seed and sparsity; any other scalar key is swept by its path, "
                          "e.g. data.n_train)", name);
    if (!is_canonical(name) && row->canon)
        return FAIL(c, k, "use the canonical axis name '%s' instead of '%s'", row->canon, name);
    if (row->no_axis)
        return FAIL(c, k, "'%s' cannot be an axis: %s", name, row->no_axis);
    if (row->type == LS_T_BOOL)
        return FAIL(c, k, "'%s' cannot be an axis: true/false keys are not swept", name);
    *out = row;
    return cfgi_check_applies(c, row, k);
}

static const char *spec_name(enum spec_kind k)
{
    return k == SP_LINSPACE ? "linspace" : k == SP_LOGSPACE ? "logspace" : "range";
}

/* An end of a linspace over an integer key, written as an integer, must survive its trip
 * through a double (above 2^53 it would silently become a neighbour). */
static int exact_end(struct ctx *c, const struct yt_node *n)
{
    char *end = NULL;
    if (n->kind != YT_SCALAR || n->text == NULL)
        return LS_OK;
    errno = 0;
    long long v = strtoll(n->text, &end, 10);
    if (end == n->text || *end != '\0')
        return LS_OK; /* not written as an integer: cfgi_parse_real and to_int judge it */
    if (errno == ERANGE || v > MAX_EXACT_I64 || v < -MAX_EXACT_I64)
        return FAIL(c, n, "%s is past 2^53 in magnitude, where integers are no longer exact",
                    n->text);
    return LS_OK;
}

/* {linspace: [a, b, n]}, {logspace: [a, b, n]} or {range: [a, b]}: check the form, count. */
static int parse_generator(struct ctx *c, struct axis_src *a)
{
    const struct yt_node *k = a->spec->kid[0], *args = a->spec->kid[1];
    const char *name = a->k->text;
    int rc, three = a->kind != SP_RANGE;
    a->args = args;
    if (a->row->type == LS_T_STR)
        return FAIL(c, k, "axis '%s' holds strings: list its values instead of using %s", name,
                    k->text);
    if (args->kind != YT_SEQ || args->n != (three ? 3u : 2u))
        return FAIL(c, args, "%s needs %s", k->text,
                    three ? "[start, stop, count]" : "[start, stop] (stop excluded)");
    if (a->kind == SP_RANGE) {
        if ((rc = cfgi_parse_int(c, "range start", args->kid[0], &a->ia)) != LS_OK ||
            (rc = cfgi_parse_int(c, "range stop", args->kid[1], &a->ib)) != LS_OK)
            return rc;
        if (a->ia >= a->ib)
            return FAIL(c, args, "range [%" PRId64 ", %" PRId64 "] is empty (needs start < stop)",
                        a->ia, a->ib);
        a->n = (uint64_t)a->ib - (uint64_t)a->ia; /* exact: the difference is below 2^64 */
        return LS_OK;
    }
    int64_t n;
    for (int e = 0; e < 2 && a->row->type == LS_T_INT && a->kind == SP_LINSPACE; e++)
        if ((rc = exact_end(c, args->kid[e])) != LS_OK)
            return rc;
    if ((rc = cfgi_parse_real(c, "start", args->kid[0], &a->a)) != LS_OK ||
        (rc = cfgi_parse_real(c, "stop", args->kid[1], &a->b)) != LS_OK ||
        (rc = cfgi_parse_int(c, "count", args->kid[2], &n)) != LS_OK)
        return rc;
    if (n < 1)
        return FAIL(c, args->kid[2], "%s count must be >= 1, not %" PRId64, k->text, n);
    a->n = (uint64_t)n;
    return LS_OK;
}

static int parse_spec(struct ctx *c, struct axis_src *a);

/* sparsity: {compression_exponent: SPEC}: the axis is given by x = log₁₀ ρ, the compression
 * ρ = 1/(1 − s) being the prunable weights over the remaining ones, so one grid line spans the
 * orders of magnitude of a pruning study; each x becomes s = 1 − 10^(−x) (value_at), which is
 * what /grid/sparsity records. SPEC is any of the other forms. */
static int parse_exponent(struct ctx *c, struct axis_src *a)
{
    const struct yt_node *inner = a->spec->kid[1];
    if (strcmp(a->row->path, "model.sparsity") != 0)
        return FAIL(c, a->spec->kid[0], "compression_exponent is a form of the sparsity axis "
                    "only, not of '%s'", a->k->text);
    if (a->exponent)
        return FAIL(c, a->spec->kid[0], "compression_exponent cannot be nested");
    a->exponent = 1;
    a->spec = inner;
    return parse_spec(c, a);
}

static int parse_spec(struct ctx *c, struct axis_src *a)
{
    const struct yt_node *s = a->spec;
    const char *name = a->k->text;
    char buf[64];
    if (s->kind == YT_SEQ) {
        if (s->n == 0)
            return FAIL(c, s, "axis '%s' has an empty list of values", name);
        a->kind = SP_LIST;
        a->args = s;
        a->n = s->n;
        return LS_OK;
    }
    if (s->kind != YT_MAP)
        return FAIL(c, s,
                    "axis '%s' must be a list of values or {linspace|logspace|range: [...]}, "
                    "not %s",
                    name, cfgi_describe(s, buf, sizeof buf));
    const char *what = s->n == 1 ? s->kid[0]->text : "";
    if (strcmp(what, "compression_exponent") == 0)
        return parse_exponent(c, a);
    if (strcmp(what, "linspace") == 0)
        a->kind = SP_LINSPACE;
    else if (strcmp(what, "logspace") == 0)
        a->kind = SP_LOGSPACE;
    else if (strcmp(what, "range") == 0)
        a->kind = SP_RANGE;
    else
        return FAIL(c, s->n ? s->kid[0] : s, "axis '%s' must be a list, or a mapping with exactly "
                    "one of linspace, logspace, range%s", name,
                    strcmp(name, "sparsity") == 0 ? ", compression_exponent" : "");
    return parse_generator(c, a);
}

/* Pass 1 over grid: which axes, and how many values each; nothing is generated yet, so a
 * {range: [0, 1e15]} costs nothing before it is refused. */
static int scan_grid(struct ctx *c)
{
    const struct yt_node *g = c->grid_v;
    char buf[64];
    size_t extra = 0; /* swept axes that are not canonical */
    if (g->kind != YT_MAP)
        return FAIL(c, g, "grid must be a mapping of axis: values, not %s",
                    cfgi_describe(g, buf, sizeof buf));
    for (size_t i = 0; i < g->n; i++) {
        struct axis_src *a = &c->ax[c->n_ax];
        a->k = g->kid[2 * i];
        a->spec = g->kid[2 * i + 1];
        int rc = resolve_axis(c, a->k, &a->row);
        if (rc == LS_OK && !is_canonical(a->k->text) && ++extra + N_CANON > LS_MAX_AXES)
            rc = FAIL(c, a->k, "too many grid axes (at most %d, the %zu canonical ones included)",
                      LS_MAX_AXES, N_CANON);
        if (rc == LS_OK)
            rc = parse_spec(c, a);
        if (rc != LS_OK)
            return rc;
        c->n_ax++;
    }
    uint64_t prod = 1;
    for (size_t i = 0; i < c->n_ax; i++) {
        if (prod > LS_MAX_POINTS / c->ax[i].n) { /* also keeps the product from overflowing */
            long double full = 1;
            for (size_t j = 0; j < c->n_ax; j++)
                full *= (long double)c->ax[j].n;
            return FAIL(c, c->grid_k, "grid has %.0Lf points, more than the limit of %llu", full,
                        (unsigned long long)LS_MAX_POINTS);
        }
        prod *= c->ax[i].n;
    }
    return LS_OK;
}

/* ---- grid: values ------------------------------------------------------------------------ */

const struct yt_node *cfgi_value_node(const struct axis_src *a, uint64_t j)
{
    return a->kind == SP_LIST ? a->args->kid[j] : a->spec;
}

/* A generated value on an integer key must be an integer. The tolerance forgives only the last
 * bits of pow()/linspace arithmetic (10^(0 + 3·2/3) may come out a hair off 100). */
static int to_int(struct ctx *c, const struct axis_src *a, double x, struct value *v)
{
    double r = nearbyint(x);
    if (fabs(x - r) > 1e-9 * fmax(1.0, fabs(r)))
        return FAIL(c, a->spec, "%s gives %.17g for the integer key '%s', not an integer",
                    spec_name(a->kind), x, a->row->path);
    if (fabs(r) > MAX_EXACT_INT)
        return FAIL(c, a->spec, "%s gives %.17g, too large for an axis value", spec_name(a->kind),
                    x);
    v->i = (int64_t)r;
    v->r = r;
    return LS_OK;
}

static int spec_value(struct ctx *c, const struct axis_src *a, uint64_t j, struct value *v);

/* Value j of an axis, parsed (listed) or generated, not yet range-checked; a compression
 * exponent x in [0, 15] becomes the sparsity 1 − 10^(−x). */
static int value_at(struct ctx *c, const struct axis_src *a, uint64_t j, struct value *v)
{
    int rc = spec_value(c, a, j, v);
    if (rc != LS_OK || !a->exponent)
        return rc;
    if (!(v->r >= 0 && v->r <= 15))
        return FAIL(c, cfgi_value_node(a, j), "compression_exponent %.17g is outside [0, 15] "
                    "(the compression 10^x must be at least 1 and leave s below 1)", v->r);
    v->r = 1.0 - pow(10.0, -v->r);
    return LS_OK;
}

static int spec_value(struct ctx *c, const struct axis_src *a, uint64_t j, struct value *v)
{
    memset(v, 0, sizeof *v);
    if (a->kind == SP_LIST) {
        int rc = cfgi_parse_scalar(c, a->row, a->args->kid[j], v);
        if (rc == LS_OK && a->row->type == LS_T_INT &&
            (v->i > MAX_EXACT_I64 || v->i < -MAX_EXACT_I64))
            return FAIL(c, a->args->kid[j],
                        "%s: axis values must be at most 2^53 in magnitude, not %" PRId64,
                        a->row->path, v->i);
        return rc;
    }
    if (a->kind == SP_RANGE) {
        v->i = a->ia + (int64_t)j;
        /* Axis values are held as doubles: every integer of the range must be one exactly. */
        if (v->i < -MAX_EXACT_I64 || v->i > MAX_EXACT_I64)
            return FAIL(c, a->args->kid[v->i < 0 ? 0 : 1],
                        "range [%" PRId64 ", %" PRId64 "] goes past 2^53 in magnitude, where "
                        "integers are no longer exact",
                        a->ia, a->ib);
        return a->row->type == LS_T_INT ? to_int(c, a, (double)v->i, v)
                                        : (v->r = (double)v->i, LS_OK);
    }
    /* The last value is the stop itself, as numpy does, so rounding never moves an end. */
    double e = a->n == 1 ? a->a
               : j + 1 == a->n ? a->b
                               : a->a + (a->b - a->a) * (double)j / (double)(a->n - 1);
    double x = a->kind == SP_LOGSPACE ? pow(10.0, e) : e;
    if (!isfinite(x))
        return FAIL(c, a->spec, "%s gives 10^%g, not a finite number", spec_name(a->kind), e);
    v->r = x;
    return a->row->type == LS_T_INT ? to_int(c, a, x, v) : LS_OK;
}

struct numref {
    double v;
    size_t i;
};
struct strref {
    const char *s;
    size_t i;
};

static int cmp_num(const void *pa, const void *pb)
{
    const struct numref *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

static int cmp_str(const void *pa, const void *pb)
{
    const struct strref *a = pa, *b = pb;
    int c = strcmp(a->s, b->s);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

/* In a monotone axis (every generated one, most listed ones) equal values are neighbours. */
static int find_dup_monotone(const struct ls_axis *ax, size_t *first, size_t *second)
{
    int up = 1, down = 1;
    for (size_t j = 1; j < ax->n; j++) {
        up &= ax->num[j - 1] <= ax->num[j];
        down &= ax->num[j - 1] >= ax->num[j];
    }
    for (size_t j = 1; j < ax->n && (up || down); j++)
        if (ax->num[j - 1] == ax->num[j]) {
            *first = j - 1;
            *second = j;
            return 1;
        }
    return up || down ? 0 : -1;
}

/* The earliest value (in file order) that repeats an earlier one: *second, and that one *first.
 * Sorting keeps a 10^5-value list from costing 10^10 comparisons. Returns 0 if none. */
static int find_dup(const struct ls_axis *ax, size_t *first, size_t *second, int *nomem)
{
    size_t n = ax->n, best = n, g = 0;
    int mono = ax->num ? find_dup_monotone(ax, first, second) : -1;
    *nomem = 0;
    if (mono >= 0)
        return mono;
    struct numref *nr = ax->num ? malloc(n * sizeof *nr) : NULL;
    struct strref *sr = ax->str ? malloc(n * sizeof *sr) : NULL;
    *nomem = nr == NULL && sr == NULL;
    for (size_t i = 0; i < n && !*nomem; i++) {
        if (nr)
            nr[i] = (struct numref){ax->num[i], i};
        else
            sr[i] = (struct strref){ax->str[i], i};
    }
    if (!*nomem)
        qsort(nr ? (void *)nr : (void *)sr, n, nr ? sizeof *nr : sizeof *sr,
              nr ? cmp_num : cmp_str);
    for (size_t i = 1; i < n && !*nomem; i++) {
        int same = nr ? nr[i].v == nr[g].v : strcmp(sr[i].s, sr[g].s) == 0;
        size_t gi = nr ? nr[g].i : sr[g].i, ii = nr ? nr[i].i : sr[i].i;
        if (!same)
            g = i;
        else if (i == g + 1 && ii < best) { /* a group's second is its earliest repeat */
            best = ii;
            *first = gi;
        }
    }
    free(nr);
    free(sr);
    *second = best;
    return best < n;
}

static int check_axis_dups(struct ctx *c, const struct axis_src *a, const struct ls_axis *ax)
{
    size_t first = 0, second = 0;
    int nomem;
    if (!find_dup(ax, &first, &second, &nomem))
        return nomem ? LS_ENOMEM : LS_OK;
    const struct yt_node *f = cfgi_value_node(a, first), *s = cfgi_value_node(a, second);
    if (a->kind != SP_LIST)
        return FAIL(c, s, "axis '%s': %s gives the value %.17g twice", a->k->text,
                    spec_name(a->kind), ax->num[second]);
    return FAIL(c, s, "duplicate value '%.40s' in axis '%s' (first at %d:%d)", s->text, a->k->text,
                f->line, f->col);
}

/* Pass 2: generate, check and store every value of one swept axis. */
static int build_axis(struct ctx *c, const struct axis_src *a)
{
    struct ls_axis ax = {.type = a->row->type, .n = (size_t)a->n, .swept = 1};
    int rc = LS_OK;
    snprintf(ax.name, sizeof ax.name, "%s", a->k->text);
    ax.line = a->k->line;
    ax.col = a->k->col;
    if (ax.type == LS_T_STR)
        ax.str = calloc(ax.n, sizeof *ax.str);
    else
        ax.num = calloc(ax.n, sizeof *ax.num);
    if (ax.num == NULL && ax.str == NULL)
        return LS_ENOMEM;
    for (size_t j = 0; j < ax.n; j++) {
        struct value v;
        const struct yt_node *at = cfgi_value_node(a, j);
        LS_CALL(value_at(c, a, j, &v));
        LS_CALL(cfgi_check_value(c, a->row, &v, at->line, at->col));
        if (ax.str)
            snprintf(ax.str[j], LS_STR_MAX, "%s", v.s);
        else
            ax.num[j] = ax.type == LS_T_INT ? (double)v.i : v.r;
    }
    LS_CALL(check_axis_dups(c, a, &ax));
    LS_CALL(grid_add_axis(&c->job->grid, &ax)); /* the grid owns the arrays from here */
    return LS_OK;
cleanup:
    free(ax.num);
    free(ax.str);
    return rc;
}

/* Every canonical axis is recorded: those not swept as a singleton with the job's value. */
static int add_singletons(struct ls_job *job)
{
    for (size_t i = 0; i < N_CANON; i++) {
        const struct key_def *row = cfgi_axis_row(canon_names[i]);
        if (grid_find(&job->grid, canon_names[i]) != NULL)
            continue;
        struct ls_axis ax = {.type = row->type, .n = 1, .num = malloc(sizeof(double))};
        if (ax.num == NULL)
            return LS_ENOMEM;
        snprintf(ax.name, sizeof ax.name, "%s", canon_names[i]);
        ax.num[0] =
            row->type == LS_T_INT ? (double)cfgi_get_int(job, row) : cfgi_get_real(job, row);
        int rc = grid_add_axis(&job->grid, &ax);
        if (rc != LS_OK) {
            free(ax.num);
            return rc;
        }
    }
    return LS_OK;
}

int cfgi_load_grid(struct ctx *c)
{
    int rc = LS_OK;
    if (c->grid_v)
        rc = scan_grid(c);
    for (size_t i = 0; i < c->n_ax && rc == LS_OK; i++)
        rc = build_axis(c, &c->ax[i]);
    if (rc == LS_OK)
        rc = add_singletons(c->job);
    return rc;
}
