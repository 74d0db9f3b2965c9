/* report.c — a results file loaded for analysis: axes as value indices, aggregates over groups of
 * points, and the tables and CSV files `lazysweep report` and `lazysweep export` write.
 *
 * Everything that is one number per point is loaded at once (N ≤ 10^7, so at most a few hundred
 * MB); trajectories, timing and hosts are read from the file in blocks of rows when asked for.
 * Statistics follow numpy/pandas conventions so users can check them: the sample standard
 * deviation (n − 1), the median as the mean of the two middle values for an even count. */
#include "lazysweep/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lazysweep/error.h"
#include "lazysweep/lock.h"
#include "lazysweep/numtext.h"

#define ROW_BLOCK 65536   /* rows per read of a per-point dataset */
#define TRAJ_ELEMS 262144 /* values per read of a trajectory (rows × T) */
#define OPEN_TRIES 20     /* × 100 ms: how long to wait for a starting sweep's lock */

/* ---- loading ------------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Distinct values of a numeric column and each row's index among them. */
static int index_numeric(struct ls_raxis *ax, const double *col, uint64_t n)
{
    double *u = malloc((n ? n : 1) * sizeof *u);
    if (u == NULL)
        return LS_ENOMEM;
    memcpy(u, col, n * sizeof *u);
    qsort(u, n, sizeof *u, cmp_double);
    size_t m = 0;
    for (uint64_t i = 0; i < n; i++)
        if (m == 0 || u[i] != u[m - 1])
            u[m++] = u[i];
    ax->num = u;
    ax->n_values = m;
    for (uint64_t i = 0; i < n; i++) {
        const double *hit = bsearch(&col[i], u, m, sizeof *u, cmp_double);
        if (hit == NULL) /* NaN: not a value a grid can have */
            return LS_ECORRUPT;
        ax->idx[i] = (uint32_t)(hit - u);
    }
    return LS_OK;
}

static int load_numeric_axis(struct ls_reader *rd, struct ls_raxis *ax, uint64_t n)
{
    int rc = LS_OK;
    char name[LS_PATH_MAX + 8];
    double *col = malloc((n ? n : 1) * sizeof *col);
    LS_CHECK_ALLOC(col);
    snprintf(name, sizeof name, "/grid/%s", ax->name);
    LS_CALL(store_reader_numeric(rd, name, 0, (size_t)n, col));
    LS_CALL(index_numeric(ax, col, n));
cleanup:
    free(col);
    return rc;
}

/* Index of string s among the axis's distinct values so far, adding it when new. String axes
 * have a handful of values (they are listed by hand in the job file), so a linear search is
 * enough; `last` makes runs of equal values (the common case) O(1). */
static int intern(struct ls_raxis *ax, size_t *cap, const char *s, uint32_t *last, uint32_t *k)
{
    if (*last < ax->n_values && !strcmp(ax->str[*last], s)) {
        *k = *last;
        return LS_OK;
    }
    for (size_t j = 0; j < ax->n_values; j++)
        if (!strcmp(ax->str[j], s)) {
            *k = *last = (uint32_t)j;
            return LS_OK;
        }
    if (ax->n_values == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        void *p = realloc(ax->str, c * LS_STR_MAX);
        if (p == NULL)
            return LS_ENOMEM;
        ax->str = p;
        *cap = c;
    }
    snprintf(ax->str[ax->n_values], LS_STR_MAX, "%s", s);
    *k = *last = (uint32_t)ax->n_values++;
    return LS_OK;
}

/* Sort the distinct strings and renumber every row's index to match. */
static int sort_strings(struct ls_raxis *ax, uint64_t n)
{
    size_t m = ax->n_values;
    char(*sorted)[LS_STR_MAX] = malloc((m ? m : 1) * LS_STR_MAX);
    uint32_t *map = malloc((m ? m : 1) * sizeof *map);
    if (sorted == NULL || map == NULL) {
        free(sorted);
        free(map);
        return LS_ENOMEM;
    }
    memcpy(sorted, ax->str, m * LS_STR_MAX);
    qsort(sorted, m, LS_STR_MAX, cmp_str);
    for (size_t j = 0; j < m; j++)
        map[j] =
            (uint32_t)((char(*)[LS_STR_MAX])bsearch(ax->str[j], sorted, m, LS_STR_MAX, cmp_str) -
                       sorted);
    for (uint64_t i = 0; i < n; i++)
        ax->idx[i] = map[ax->idx[i]];
    free(ax->str);
    ax->str = sorted;
    free(map);
    return LS_OK;
}

static int load_string_axis(struct ls_reader *rd, struct ls_raxis *ax, uint64_t n)
{
    int rc = LS_OK;
    char name[LS_PATH_MAX + 8];
    size_t cap = 0;
    uint32_t last = 0;
    char *buf = malloc((size_t)ROW_BLOCK * LS_STR_MAX);
    LS_CHECK_ALLOC(buf);
    snprintf(name, sizeof name, "/grid/%s", ax->name);
    for (uint64_t b0 = 0; b0 < n; b0 += ROW_BLOCK) {
        size_t nb = (size_t)(n - b0 < ROW_BLOCK ? n - b0 : ROW_BLOCK);
        LS_CALL(store_reader_strings(rd, name, b0, nb, LS_STR_MAX, buf));
        for (size_t i = 0; i < nb; i++)
            LS_CALL(intern(ax, &cap, buf + i * LS_STR_MAX, &last, &ax->idx[b0 + i]));
    }
    LS_CALL(sort_strings(ax, n));
cleanup:
    free(buf);
    return rc;
}

/* The row at which an axis first changes value: its stride in the row-major product, larger
 * for axes declared earlier. 0 for an axis with one value. */
static uint64_t stride_of(const struct ls_raxis *ax, uint64_t n)
{
    for (uint64_t i = 1; i < n; i++)
        if (ax->idx[i] != ax->idx[0])
            return i;
    return 0;
}

/* Swept axes in the job's declaration order (the file lists them by name), then the others. */
static void order_axes(struct ls_results *r)
{
    uint64_t stride[LS_MAX_AXES];
    for (size_t a = 0; a < r->n_axes; a++)
        stride[a] = stride_of(&r->axis[a], r->n);
    for (size_t a = 1; a < r->n_axes; a++) /* insertion sort: stable, a dozen axes */
        for (size_t b = a; b > 0 && stride[b] > stride[b - 1]; b--) {
            struct ls_raxis t = r->axis[b];
            uint64_t s = stride[b];
            r->axis[b] = r->axis[b - 1];
            stride[b] = stride[b - 1];
            r->axis[b - 1] = t;
            stride[b - 1] = s;
        }
}

static int load_axes(struct ls_results *r, const struct ls_reader_info *info)
{
    int rc = LS_OK;
    r->n_axes = info->n_axes;
    for (size_t a = 0; a < info->n_axes; a++) {
        struct ls_raxis *ax = &r->axis[a];
        snprintf(ax->name, sizeof ax->name, "%s", info->axis[a]);
        ax->type = info->axis_type[a];
        ax->swept = info->axis_swept[a];
        ax->idx = malloc((r->n ? r->n : 1) * sizeof *ax->idx);
        LS_CHECK_ALLOC(ax->idx);
        if (ax->type == LS_T_STR)
            LS_CALL(load_string_axis(r->reader, ax, r->n));
        else
            LS_CALL(load_numeric_axis(r->reader, ax, r->n));
    }
    order_axes(r);
cleanup:
    return rc;
}

static int load_columns(struct ls_results *r, const struct ls_reader_info *info)
{
    int rc = LS_OK;
    char name[LS_PATH_MAX + 16];
    size_t n = (size_t)r->n;
    r->status = malloc(n ? n : 1);
    r->step = malloc((r->T ? r->T : 1) * sizeof *r->step);
    LS_CHECK_ALLOC(r->status);
    LS_CHECK_ALLOC(r->step);
    LS_CALL(store_reader_status(r->reader, 0, n, r->status));
    for (size_t i = 0; i < n; i++)
        r->count[r->status[i]]++;
    LS_CALL(store_reader_numeric(r->reader, "/trajectories/step", 0, r->T, r->step));
    r->n_metrics = info->n_metrics;
    for (size_t m = 0; m < info->n_metrics; m++) {
        snprintf(r->metric[m], LS_PATH_MAX, "%s", info->metric[m]);
        snprintf(name, sizeof name, "/metrics/%s", info->metric[m]);
        r->value[m] = malloc((n ? n : 1) * sizeof *r->value[m]);
        LS_CHECK_ALLOC(r->value[m]);
        LS_CALL(store_reader_numeric(r->reader, name, 0, n, r->value[m]));
    }
    r->n_traj = info->n_traj;
    for (size_t t = 0; t < info->n_traj; t++)
        snprintf(r->traj[t], LS_PATH_MAX, "%s", info->traj[t]);
cleanup:
    return rc;
}

/* A sweep that is starting holds the file's HDF5 lock until it switches to SWMR (after replaying
 * the journal): wait for that rather than fail. */
static int open_retrying(const char *path, struct ls_reader **rd, struct ls_reader_info *info)
{
    int rc = LS_ELOCKED;
    for (int i = 0; i < OPEN_TRIES && rc == LS_ELOCKED; i++) {
        if (i > 0)
            nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
        rc = store_reader_open(path, rd, info);
    }
    return rc;
}

int report_open(const char *path, struct ls_results *r)
{
    int rc = LS_OK;
    char who[256];
    struct ls_reader_info *info = malloc(sizeof *info);
    memset(r, 0, sizeof *r);
    LS_CHECK_ALLOC(info);
    LS_CALL(open_retrying(path, &r->reader, info));
    snprintf(r->job_name, sizeof r->job_name, "%s", info->job_name);
    r->n = info->n_points;
    r->T = info->T;
    r->running = lock_held(path, who, sizeof who);
    LS_CALL(load_columns(r, info));
    LS_CALL(load_axes(r, info));
cleanup:
    free(info);
    if (rc != LS_OK)
        report_close(r);
    return rc;
}

void report_close(struct ls_results *r)
{
    for (size_t a = 0; a < LS_MAX_AXES; a++) {
        free(r->axis[a].num);
        free(r->axis[a].str);
        free(r->axis[a].idx);
        r->axis[a].num = NULL;
        r->axis[a].str = NULL;
        r->axis[a].idx = NULL;
    }
    for (size_t m = 0; m < LS_MAX_METRICS; m++) {
        free(r->value[m]);
        r->value[m] = NULL;
    }
    free(r->status);
    free(r->step);
    r->status = NULL;
    r->step = NULL;
    store_reader_close(&r->reader);
}

/* ---- names and values ---------------------------------------------------------------------- */

int report_find_axis(const struct ls_results *r, const char *name)
{
    for (size_t a = 0; a < r->n_axes; a++)
        if (!strcmp(r->axis[a].name, name))
            return (int)a;
    return -1;
}

int report_find_metric(const struct ls_results *r, const char *name)
{
    for (size_t m = 0; m < r->n_metrics; m++)
        if (!strcmp(r->metric[m], name))
            return (int)m;
    return -1;
}

int report_find_traj(const struct ls_results *r, const char *name)
{
    for (size_t t = 0; t < r->n_traj; t++)
        if (!strcmp(r->traj[t], name))
            return (int)t;
    return -1;
}

void report_value_text(const struct ls_raxis *ax, uint32_t k, int digits, char *buf, size_t len)
{
    if (ax->type == LS_T_STR)
        snprintf(buf, len, "%s", ax->str[k]);
    else if (ax->type == LS_T_INT)
        snprintf(buf, len, "%lld", (long long)ax->num[k]);
    else if (digits >= 17)
        snprintf(buf, len, "%s", NUMTEXT(ax->num[k]));
    else
        snprintf(buf, len, "%.*g", digits, ax->num[k]);
}

/* Whether value k of the axis is what the user typed. */
static int value_matches(const struct ls_raxis *ax, uint32_t k, const char *text)
{
    if (ax->type == LS_T_STR)
        return !strcmp(ax->str[k], text);
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end != '\0')
        return 0;
    return fabs(ax->num[k] - v) <= 1e-6 * fabs(v) || ax->num[k] == v;
}

/* The comparison of one filter: AXIS=V[,V...], AXIS!=V[,V...], AXIS<V, AXIS<=V, AXIS>V, AXIS>=V. */
enum cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

/* Split "AXIS OP VALUE" at the first operator; returns the operator's length, 0 if none. */
static size_t split_filter(const char *w, size_t *name_len, enum cmp *op)
{
    static const struct {
        const char *text;
        enum cmp op;
    } ops[] = {{"<=", CMP_LE}, {">=", CMP_GE}, {"!=", CMP_NE},
               {"<", CMP_LT},  {">", CMP_GT},  {"=", CMP_EQ}};
    size_t at = strcspn(w, "<>!=");
    for (size_t i = 0; w[at] && i < sizeof ops / sizeof ops[0]; i++)
        if (!strncmp(w + at, ops[i].text, strlen(ops[i].text))) {
            *name_len = at, *op = ops[i].op;
            return strlen(ops[i].text);
        }
    return 0;
}

/* Whether value x passes `op v` (v a number; for = and != see value_matches). */
static int compares(double x, enum cmp op, double v)
{
    return op == CMP_LT ? x < v : op == CMP_LE ? x <= v : op == CMP_GT ? x > v : x >= v;
}

/* Mark ok[k] for the values of one axis (or, with ax NULL, the statuses) that pass the filter;
 * returns how many did, or -1 for an ordering comparison on strings or a value not a number. */
static int mark_values(const struct ls_raxis *ax, enum cmp op, const char *text, uint8_t *ok)
{
    uint32_t n = ax ? ax->n_values : LS_ST_COUNT;
    int hits = 0;
    if (op == CMP_EQ || op == CMP_NE) {
        char list[1024];
        snprintf(list, sizeof list, "%s", text);
        uint8_t *in = ok; /* marks "equal to one listed" first, then flips for != */
        memset(in, 0, n);
        for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
            for (uint32_t k = 0; k < n; k++)
                in[k] |= ax ? value_matches(ax, k, t) : !strcmp(ls_status_name((int)k), t);
        for (uint32_t k = 0; k < n; k++)
            hits += ok[k] = op == CMP_EQ ? in[k] : !in[k];
        return hits;
    }
    char *end;
    double v = strtod(text, &end);
    if (!ax || ax->type == LS_T_STR || end == text || *end != '\0')
        return -1;
    for (uint32_t k = 0; k < n; k++)
        hits += ok[k] = (uint8_t)compares(ax->num[k], op, v);
    return hits;
}

/* The values filters let through, per axis (index LS_MAX_AXES: the statuses): `=` filters on
 * one axis add values (any of them), every other filter must hold too. NULL: no such filter. */
struct allowed {
    uint8_t *eq[LS_MAX_AXES + 1], *also[LS_MAX_AXES + 1];
};

/* Combine ok[n] into *dest: OR for `=` filters, AND for the others. */
static int merge(uint8_t **dest, uint8_t *ok, uint32_t n, int or)
{
    if (*dest == NULL) {
        if ((*dest = malloc(n)) == NULL)
            return LS_ENOMEM;
        memcpy(*dest, ok, n);
        return LS_OK;
    }
    for (uint32_t k = 0; k < n; k++)
        (*dest)[k] = or ? ((*dest)[k] | ok[k]) : ((*dest)[k] & ok[k]);
    return LS_OK;
}

/* Apply one filter to the axis (or the statuses) it names. */
static int filter_one(const struct ls_results *r, const char *w, struct allowed *al, char *err,
                      size_t len)
{
    char axis[LS_PATH_MAX];
    size_t name_len = 0;
    enum cmp op = CMP_EQ;
    size_t op_len = split_filter(w, &name_len, &op);
    if (op_len == 0 || name_len == 0 || name_len >= sizeof axis || !w[name_len + op_len]) {
        snprintf(err, len, "--where takes AXIS=V[,V...], AXIS!=V, AXIS<V, AXIS<=V, AXIS>V, "
                           "AXIS>=V or status=NAME, got '%s'", w);
        return LS_EINVAL;
    }
    snprintf(axis, sizeof axis, "%.*s", (int)name_len, w);
    int a = report_find_axis(r, axis), is_status = a < 0 && !strcmp(axis, "status");
    if (a < 0 && !is_status) {
        snprintf(err, len, "--where: the file has no axis '%s'", axis);
        return LS_EINVAL;
    }
    const struct ls_raxis *ax = is_status ? NULL : &r->axis[a];
    uint32_t n = is_status ? LS_ST_COUNT : ax->n_values;
    size_t slot = is_status ? LS_MAX_AXES : (size_t)a;
    uint8_t *ok = calloc(n, 1);
    if (ok == NULL)
        return LS_ENOMEM;
    int hits = mark_values(ax, op, w + name_len + op_len, ok), rc = LS_EINVAL;
    if (hits < 0)
        snprintf(err, len, "--where: '%s' compares %s with something that is not a number", w,
                 axis);
    else if (hits == 0)
        snprintf(err, len, "--where: no value of %s satisfies '%s'", axis, w);
    else
        rc = merge(op == CMP_EQ ? &al->eq[slot] : &al->also[slot], ok, n, op == CMP_EQ);
    free(ok);
    return rc;
}

static int passes(const struct allowed *al, size_t slot, uint32_t k)
{
    return (!al->eq[slot] || al->eq[slot][k]) && (!al->also[slot] || al->also[slot][k]);
}

int report_filter(const struct ls_results *r, const char *const *where, size_t n_where,
                  uint8_t *keep, char *err, size_t len)
{
    int rc = LS_OK;
    struct allowed al = {{NULL}, {NULL}};
    for (size_t w = 0; w < n_where; w++)
        LS_CALL(filter_one(r, where[w], &al, err, len));
    for (uint64_t i = 0; i < r->n; i++) {
        keep[i] = (uint8_t)passes(&al, LS_MAX_AXES, r->status[i]);
        for (size_t a = 0; a < r->n_axes && keep[i]; a++)
            keep[i] = (uint8_t)passes(&al, a, r->axis[a].idx[i]);
    }
cleanup:
    for (size_t a = 0; a <= LS_MAX_AXES; a++) {
        free(al.eq[a]);
        free(al.also[a]);
    }
    return rc;
}

/* ---- aggregation --------------------------------------------------------------------------- */

/* Mixed-radix code of point i over the grouping axes (first axis most significant). */
static uint64_t group_code(const struct ls_results *r, const struct ls_agg_spec *sp, uint64_t i)
{
    uint64_t code = 0;
    for (size_t j = 0; j < sp->n_by; j++)
        code = code * r->axis[sp->by[j]].n_values + r->axis[sp->by[j]].idx[i];
    return code;
}

/* Number the groups that have kept points in code order (= by-value order), fill a->group,
 * a->key and a->status. The codes of a product grid's groups are below N. */
static int make_groups(const struct ls_results *r, struct ls_agg *a)
{
    int rc = LS_OK;
    const struct ls_agg_spec *sp = &a->spec;
    uint64_t radix = 1;
    for (size_t j = 0; j < sp->n_by; j++)
        radix *= r->axis[sp->by[j]].n_values;
    if (radix > r->n)
        return LS_ECORRUPT; /* not a product grid */
    uint32_t *id = malloc(radix * sizeof *id);
    LS_CHECK_ALLOC(id);
    for (uint64_t c = 0; c < radix; c++)
        id[c] = LS_NO_GROUP;
    for (uint64_t i = 0; i < r->n; i++)
        if (sp->keep == NULL || sp->keep[i])
            id[group_code(r, sp, i)] = 0;
    for (uint64_t c = 0; c < radix; c++)
        if (id[c] != LS_NO_GROUP)
            id[c] = (uint32_t)a->n_groups++;
    a->key = malloc((a->n_groups * sp->n_by + 1) * sizeof *a->key);
    a->status = calloc(a->n_groups * LS_ST_COUNT + 1, sizeof *a->status);
    LS_CHECK_ALLOC(a->key);
    LS_CHECK_ALLOC(a->status);
    for (uint64_t c = 0; c < radix; c++) {
        if (id[c] == LS_NO_GROUP)
            continue;
        for (size_t j = sp->n_by, rest = (size_t)c; j-- > 0;) {
            size_t nv = r->axis[sp->by[j]].n_values;
            a->key[id[c] * sp->n_by + j] = (uint32_t)(rest % nv);
            rest /= nv;
        }
    }
    for (uint64_t i = 0; i < r->n; i++) {
        int kept = sp->keep == NULL || sp->keep[i];
        a->group[i] = kept ? id[group_code(r, sp, i)] : LS_NO_GROUP;
        if (kept)
            a->status[a->group[i] * LS_ST_COUNT + r->status[i]]++;
    }
cleanup:
    free(id);
    return rc;
}

/* Statistics of v[0..n) sorted ascending. */
static struct ls_stat stat_of(const double *v, uint64_t n)
{
    struct ls_stat s = {n, NAN, NAN, NAN, NAN, NAN};
    if (n == 0)
        return s;
    double sum = 0, ss = 0;
    for (uint64_t i = 0; i < n; i++)
        sum += v[i];
    s.mean = sum / (double)n;
    for (uint64_t i = 0; i < n; i++)
        ss += (v[i] - s.mean) * (v[i] - s.mean);
    s.std = n > 1 ? sqrt(ss / (double)(n - 1)) : NAN;
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return s;
}

/* One metric: the finite values of done, kept points, bucketed by group (counting sort), each
 * bucket sorted for min, median and max. */
static int metric_stats(const struct ls_results *r, struct ls_agg *a, const double *val,
                        struct ls_stat *out)
{
    int rc = LS_OK;
    size_t G = a->n_groups;
    uint64_t *start = calloc(G + 1, sizeof *start), *fill = calloc(G + 1, sizeof *fill);
    double *v = malloc((r->n ? r->n : 1) * sizeof *v);
    LS_CHECK_ALLOC(start);
    LS_CHECK_ALLOC(fill);
    LS_CHECK_ALLOC(v);
#define USED(i) (a->group[i] != LS_NO_GROUP && r->status[i] == LS_ST_DONE && isfinite(val[i]))
    for (uint64_t i = 0; i < r->n; i++)
        if (USED(i))
            start[a->group[i] + 1]++;
    for (size_t g = 0; g < G; g++)
        start[g + 1] += start[g];
    for (uint64_t i = 0; i < r->n; i++)
        if (USED(i))
            v[start[a->group[i]] + fill[a->group[i]]++] = val[i];
#undef USED
    for (size_t g = 0; g < G; g++) {
        qsort(v + start[g], fill[g], sizeof *v, cmp_double);
        out[g] = stat_of(v + start[g], fill[g]);
    }
cleanup:
    free(start);
    free(fill);
    free(v);
    return rc;
}

/* Names of the kept axes that vary but are not grouped on: what each statistic pools over. */
static void describe_pooled(const struct ls_results *r, struct ls_agg *a)
{
    const struct ls_agg_spec *sp = &a->spec;
    size_t len = 0;
    a->pooled[0] = '\0';
    for (size_t ax = 0; ax < r->n_axes; ax++) {
        int grouped = 0, first = -1, varies = 0;
        for (size_t j = 0; j < sp->n_by; j++)
            grouped |= sp->by[j] == ax;
        for (uint64_t i = 0; i < r->n && !grouped && !varies; i++) {
            if (a->group[i] == LS_NO_GROUP)
                continue;
            if (first < 0)
                first = (int)r->axis[ax].idx[i];
            varies = (int)r->axis[ax].idx[i] != first;
        }
        if (varies && len < sizeof a->pooled)
            len += (size_t)snprintf(a->pooled + len, sizeof a->pooled - len, "%s%s",
                                    len ? ", " : "", r->axis[ax].name);
    }
}

int report_aggregate(const struct ls_results *r, const struct ls_agg_spec *spec, struct ls_agg *a)
{
    int rc = LS_OK;
    memset(a, 0, sizeof *a);
    a->spec = *spec;
    a->group = malloc((r->n ? r->n : 1) * sizeof *a->group);
    LS_CHECK_ALLOC(a->group);
    LS_CALL(make_groups(r, a));
    a->stat = malloc((spec->n_metrics * a->n_groups + 1) * sizeof *a->stat);
    LS_CHECK_ALLOC(a->stat);
    for (size_t m = 0; m < spec->n_metrics; m++)
        LS_CALL(metric_stats(r, a, r->value[spec->metric[m]], a->stat + m * a->n_groups));
    describe_pooled(r, a);
cleanup:
    if (rc != LS_OK)
        report_agg_free(a);
    return rc;
}

void report_agg_free(struct ls_agg *a)
{
    free(a->key);
    free(a->status);
    free(a->stat);
    free(a->group);
    a->key = NULL;
    a->status = NULL;
    a->stat = NULL;
    a->group = NULL;
    a->n_groups = 0;
}

/* ---- the aligned table --------------------------------------------------------------------- */

#define CELL 40
static const char *const stat_cols[] = {"points", "done",    "diverged", "timeout",
                                        "failed", "pending", "count",    "mean",
                                        "std",    "min",     "median",   "max"};
#define N_STAT_COLS (sizeof stat_cols / sizeof stat_cols[0])

static void num_cell(char *cell, double v, int digits)
{
    if (isnan(v))
        snprintf(cell, CELL, "-");
    else
        snprintf(cell, CELL, "%.*g", digits, v);
}

/* Cells of group g, metric m: grouping axes, status counts, statistics. */
static void row_cells(const struct ls_results *r, const struct ls_agg *a, size_t m, size_t g,
                      char (*cell)[CELL], int digits)
{
    const struct ls_agg_spec *sp = &a->spec;
    const uint64_t *st = a->status + g * LS_ST_COUNT;
    const struct ls_stat *s = a->stat + m * a->n_groups + g;
    uint64_t points = 0;
    size_t c = 0;
    for (size_t j = 0; j < sp->n_by; j++)
        report_value_text(&r->axis[sp->by[j]], a->key[g * sp->n_by + j], digits, cell[c++], CELL);
    for (int k = 0; k < LS_ST_COUNT; k++)
        points += st[k];
    static const int order[] = {LS_ST_DONE, LS_ST_DIVERGED, LS_ST_TIMEOUT, LS_ST_FAILED,
                                LS_ST_PENDING};
    snprintf(cell[c++], CELL, "%llu", (unsigned long long)points);
    for (size_t k = 0; k < 5; k++)
        snprintf(cell[c++], CELL, "%llu", (unsigned long long)st[order[k]]);
    snprintf(cell[c++], CELL, "%llu", (unsigned long long)s->count);
    const double v[] = {s->mean, s->std, s->min, s->median, s->max};
    for (size_t k = 0; k < 5; k++)
        num_cell(cell[c++], v[k], digits);
}

static void print_block(const struct ls_results *r, const struct ls_agg *a, size_t m, FILE *out)
{
    size_t nc = a->spec.n_by + N_STAT_COLS, width[LS_MAX_AXES + N_STAT_COLS];
    char(*cell)[CELL] = malloc(nc * CELL);
    if (cell == NULL)
        return;
    for (size_t c = 0; c < nc; c++)
        width[c] =
            strlen(c < a->spec.n_by ? r->axis[a->spec.by[c]].name : stat_cols[c - a->spec.n_by]);
    for (size_t g = 0; g < a->n_groups; g++) {
        row_cells(r, a, m, g, cell, 6);
        for (size_t c = 0; c < nc; c++)
            width[c] = strlen(cell[c]) > width[c] ? strlen(cell[c]) : width[c];
    }
    for (size_t c = 0; c < nc; c++)
        fprintf(out, "%s%*s", c ? "  " : "", (int)width[c],
                c < a->spec.n_by ? r->axis[a->spec.by[c]].name : stat_cols[c - a->spec.n_by]);
    fputc('\n', out);
    for (size_t g = 0; g < a->n_groups; g++) {
        row_cells(r, a, m, g, cell, 6);
        for (size_t c = 0; c < nc; c++)
            fprintf(out, "%s%*s", c ? "  " : "", (int)width[c], cell[c]);
        fputc('\n', out);
    }
    free(cell);
}

void report_print_table(const struct ls_results *r, const struct ls_agg *a, FILE *out)
{
    uint64_t kept[LS_ST_COUNT] = {0}, total = 0;
    for (size_t g = 0; g < a->n_groups; g++)
        for (int k = 0; k < LS_ST_COUNT; k++)
            kept[k] += a->status[g * LS_ST_COUNT + k], total += a->status[g * LS_ST_COUNT + k];
    fprintf(out, "job %s: %llu points", r->job_name, (unsigned long long)r->n);
    if (total != r->n)
        fprintf(out, ", %llu selected", (unsigned long long)total);
    fprintf(out, ": %llu done, %llu diverged, %llu timeout, %llu failed, %llu pending%s\n",
            (unsigned long long)kept[LS_ST_DONE], (unsigned long long)kept[LS_ST_DIVERGED],
            (unsigned long long)kept[LS_ST_TIMEOUT], (unsigned long long)kept[LS_ST_FAILED],
            (unsigned long long)kept[LS_ST_PENDING],
            r->running ? " (sweep running: figures so far)" : "");
    fprintf(out, "Statistics of the done points with a finite value; diverged, timed-out, "
                 "failed and pending points are counted, not averaged.\n");
    for (size_t m = 0; m < a->spec.n_metrics; m++) {
        fprintf(out, "\n%s", r->metric[a->spec.metric[m]]);
        if (a->pooled[0])
            fprintf(out, " over %s", a->pooled);
        fputs(":\n", out);
        print_block(r, a, m, out);
    }
}

/* ---- CSV ----------------------------------------------------------------------------------- */

/* A CSV field: quoted (with "" for ") when it holds a comma, quote, or line break. */
static void csv_text(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* The shortest number that reads back to the same double; NaN as an empty field. */
static void csv_num(FILE *out, double v)
{
    if (!isnan(v))
        fputs(NUMTEXT(v), out);
}

static void csv_axis(FILE *out, const struct ls_raxis *ax, uint32_t k)
{
    char text[LS_STR_MAX + 32];
    report_value_text(ax, k, 17, text, sizeof text);
    csv_text(out, text);
}

static int csv_end(FILE *out)
{
    return fflush(out) == 0 && !ferror(out) ? LS_OK : LS_EIO;
}

int report_write_csv(const struct ls_results *r, const struct ls_agg *a, FILE *out)
{
    const struct ls_agg_spec *sp = &a->spec;
    static const int order[] = {LS_ST_DONE, LS_ST_DIVERGED, LS_ST_TIMEOUT, LS_ST_FAILED,
                                LS_ST_PENDING};
    for (size_t j = 0; j < sp->n_by; j++) {
        csv_text(out, r->axis[sp->by[j]].name);
        fputc(',', out);
    }
    fputs("metric,points,done,diverged,timeout,failed,pending,count,mean,std,min,median,max\n",
          out);
    for (size_t m = 0; m < sp->n_metrics; m++)
        for (size_t g = 0; g < a->n_groups; g++) {
            const uint64_t *st = a->status + g * LS_ST_COUNT;
            const struct ls_stat *s = a->stat + m * a->n_groups + g;
            for (size_t j = 0; j < sp->n_by; j++) {
                csv_axis(out, &r->axis[sp->by[j]], a->key[g * sp->n_by + j]);
                fputc(',', out);
            }
            csv_text(out, r->metric[sp->metric[m]]);
            fprintf(out, ",%llu", (unsigned long long)(st[0] + st[1] + st[2] + st[3] + st[4]));
            for (size_t k = 0; k < 5; k++)
                fprintf(out, ",%llu", (unsigned long long)st[order[k]]);
            fprintf(out, ",%llu", (unsigned long long)s->count);
            const double v[] = {s->mean, s->std, s->min, s->median, s->max};
            for (size_t k = 0; k < 5; k++) {
                fputc(',', out);
                csv_num(out, v[k]);
            }
            fputc('\n', out);
        }
    return csv_end(out);
}

/* ---- export -------------------------------------------------------------------------------- */

static void export_header(const struct ls_results *r, FILE *out)
{
    fputs("point", out);
    for (size_t a = 0; a < r->n_axes; a++) {
        fputc(',', out);
        csv_text(out, r->axis[a].name);
    }
    fputs(",status", out);
    for (size_t m = 0; m < r->n_metrics; m++) {
        fputc(',', out);
        csv_text(out, r->metric[m]);
    }
    fputs(",seconds,rank,finished,host\n", out);
}

/* Timing of rows [b0, b0 + nb). */
struct timing_block {
    double *seconds, *rank, *finished;
    char *host; /* [nb][LS_HOST_MAX] */
};

static int read_timing(const struct ls_results *r, uint64_t b0, size_t nb, struct timing_block *t)
{
    int rc = LS_OK;
    LS_CALL(store_reader_numeric(r->reader, "/timing/seconds", b0, nb, t->seconds));
    LS_CALL(store_reader_numeric(r->reader, "/timing/rank", b0, nb, t->rank));
    LS_CALL(store_reader_numeric(r->reader, "/timing/finished", b0, nb, t->finished));
    LS_CALL(store_reader_strings(r->reader, "/timing/host", b0, nb, LS_HOST_MAX, t->host));
cleanup:
    return rc;
}

static void export_row(const struct ls_results *r, uint64_t i, const struct timing_block *t,
                       size_t k, FILE *out)
{
    fprintf(out, "%llu", (unsigned long long)i);
    for (size_t a = 0; a < r->n_axes; a++) {
        fputc(',', out);
        csv_axis(out, &r->axis[a], r->axis[a].idx[i]);
    }
    fprintf(out, ",%s", ls_status_name(r->status[i]));
    for (size_t m = 0; m < r->n_metrics; m++) {
        fputc(',', out);
        csv_num(out, r->value[m][i]);
    }
    fputc(',', out);
    csv_num(out, t->seconds[k]);
    fprintf(out, ",%.0f,", t->rank[k]);
    csv_num(out, t->finished[k]);
    fputc(',', out);
    csv_text(out, t->host + k * LS_HOST_MAX);
    fputc('\n', out);
}

int report_export_points(const struct ls_results *r, FILE *out)
{
    int rc = LS_OK;
    struct timing_block t = {malloc(ROW_BLOCK * sizeof(double)), malloc(ROW_BLOCK * sizeof(double)),
                             malloc(ROW_BLOCK * sizeof(double)), malloc(ROW_BLOCK * LS_HOST_MAX)};
    LS_CHECK_ALLOC(t.seconds);
    LS_CHECK_ALLOC(t.rank);
    LS_CHECK_ALLOC(t.finished);
    LS_CHECK_ALLOC(t.host);
    export_header(r, out);
    for (uint64_t b0 = 0; b0 < r->n; b0 += ROW_BLOCK) {
        size_t nb = (size_t)(r->n - b0 < ROW_BLOCK ? r->n - b0 : ROW_BLOCK);
        LS_CALL(read_timing(r, b0, nb, &t));
        for (size_t k = 0; k < nb; k++)
            export_row(r, b0 + k, &t, k, out);
    }
    rc = csv_end(out);
cleanup:
    free(t.seconds);
    free(t.rank);
    free(t.finished);
    free(t.host);
    return rc;
}

/* Rows per block of a trajectory read: TRAJ_ELEMS values, at least one row. */
static size_t traj_rows(const struct ls_results *r)
{
    size_t rows = TRAJ_ELEMS / (r->T ? r->T : 1);
    return rows ? rows : 1;
}

/* Rows [b0, b0 + nb) of every trajectory into buf[n_traj][nb][T]. */
static int read_traj_block(const struct ls_results *r, uint64_t b0, size_t nb, double *buf)
{
    int rc = LS_OK;
    char name[LS_PATH_MAX + 16];
    for (size_t j = 0; j < r->n_traj; j++) {
        snprintf(name, sizeof name, "/trajectories/%s", r->traj[j]);
        LS_CALL(store_reader_numeric(r->reader, name, b0, nb, buf + j * nb * r->T));
    }
cleanup:
    return rc;
}

static void traj_header(const struct ls_results *r, FILE *out)
{
    fputs("point", out);
    for (size_t a = 0; a < r->n_axes; a++)
        if (r->axis[a].swept) {
            fputc(',', out);
            csv_text(out, r->axis[a].name);
        }
    fputs(",status,step", out);
    for (size_t j = 0; j < r->n_traj; j++) {
        fputc(',', out);
        csv_text(out, r->traj[j]);
    }
    fputc('\n', out);
}

static void traj_rows_of(const struct ls_results *r, uint64_t i, const double *buf, size_t nb,
                         size_t k, FILE *out)
{
    for (size_t t = 0; t < r->T; t++) {
        int any = 0;
        for (size_t j = 0; j < r->n_traj; j++)
            any |= !isnan(buf[(j * nb + k) * r->T + t]);
        if (!any)
            continue;
        fprintf(out, "%llu", (unsigned long long)i);
        for (size_t a = 0; a < r->n_axes; a++)
            if (r->axis[a].swept) {
                fputc(',', out);
                csv_axis(out, &r->axis[a], r->axis[a].idx[i]);
            }
        fprintf(out, ",%s,%.0f", ls_status_name(r->status[i]), r->step[t]);
        for (size_t j = 0; j < r->n_traj; j++) {
            fputc(',', out);
            csv_num(out, buf[(j * nb + k) * r->T + t]);
        }
        fputc('\n', out);
    }
}

int report_export_traj(const struct ls_results *r, FILE *out)
{
    int rc = LS_OK;
    size_t rows = traj_rows(r);
    double *buf = malloc((r->n_traj ? r->n_traj : 1) * rows * r->T * sizeof *buf);
    LS_CHECK_ALLOC(buf);
    traj_header(r, out);
    for (uint64_t b0 = 0; b0 < r->n; b0 += rows) {
        size_t nb = (size_t)(r->n - b0 < rows ? r->n - b0 : rows);
        LS_CALL(read_traj_block(r, b0, nb, buf));
        for (size_t k = 0; k < nb; k++)
            traj_rows_of(r, b0 + k, buf, nb, k, out);
    }
    rc = csv_end(out);
cleanup:
    free(buf);
    return rc;
}

/* ---- trajectories for plots ---------------------------------------------------------------- */

/* A point that stopped early has NaN between its last logged value and its last column (its
 * final state): give those steps the final value, the state its training ended in. */
/* Returns the first column that holds a carried value (T - 1 when none does). */
static size_t carry_final(double *y, size_t T)
{
    if (T < 2 || isnan(y[T - 1]))
        return T - 1;
    size_t j = T - 1;
    while (j > 0 && isnan(y[j - 1]))
        j--;
    if (j == 0)
        return T - 1; /* nothing logged before the end: leave it */
    for (size_t t = j; t < T - 1; t++)
        y[t] = y[T - 1];
    return j;
}

/* Welford's update of (count, mean, M2) at one (group, step), with min and max. */
static void accumulate(struct ls_traj_stats *st, size_t at, double v)
{
    uint64_t n = ++st->count[at];
    double d = v - st->mean[at];
    st->mean[at] += d / (double)n;
    st->std[at] += d * (v - st->mean[at]); /* M2 until finished */
    st->min[at] = n == 1 || v < st->min[at] ? v : st->min[at];
    st->max[at] = n == 1 || v > st->max[at] ? v : st->max[at];
}

static void finish_stats(struct ls_traj_stats *st, size_t n)
{
    for (size_t at = 0; at < n; at++) {
        uint64_t c = st->count[at];
        st->std[at] = c > 1 ? sqrt(st->std[at] / (double)(c - 1)) : NAN;
        if (c == 0)
            st->mean[at] = st->min[at] = st->max[at] = NAN;
    }
}

int report_traj_stats(const struct ls_results *r, const struct ls_agg *a, size_t traj,
                      struct ls_traj_stats *st)
{
    int rc = LS_OK;
    char name[LS_PATH_MAX + 16];
    size_t T = r->T, rows = traj_rows(r), n = a->n_groups * T;
    double *buf = malloc(rows * T * sizeof *buf);
    LS_CHECK_ALLOC(buf);
    memset(st->count, 0, n * sizeof *st->count);
    memset(st->mean, 0, n * sizeof *st->mean);
    memset(st->std, 0, n * sizeof *st->std);
    if (st->stops)
        memset(st->stops, 0, n * sizeof *st->stops);
    snprintf(name, sizeof name, "/trajectories/%s", r->traj[traj]);
    for (uint64_t b0 = 0; b0 < r->n; b0 += rows) {
        size_t nb = (size_t)(r->n - b0 < rows ? r->n - b0 : rows);
        LS_CALL(store_reader_numeric(r->reader, name, b0, nb, buf));
        for (size_t k = 0; k < nb; k++) {
            uint64_t i = b0 + k;
            if (a->group[i] == LS_NO_GROUP || r->status[i] != LS_ST_DONE)
                continue;
            double *y = buf + k * T;
            size_t stop = carry_final(y, T);
            if (st->stops && stop < T - 1)
                st->stops[a->group[i] * T + stop]++;
            for (size_t t = 0; t < T; t++)
                if (isfinite(y[t]))
                    accumulate(st, a->group[i] * T + t, y[t]);
        }
    }
    finish_stats(st, n);
cleanup:
    free(buf);
    return rc;
}

int report_point_traj(const struct ls_results *r, size_t traj, uint64_t point, double *x, double *y)
{
    int rc = LS_OK;
    char name[LS_PATH_MAX + 16];
    snprintf(name, sizeof name, "/trajectories/%s", r->traj[traj]);
    LS_CALL(store_reader_numeric(r->reader, name, point, 1, y));
    memcpy(x, r->step, r->T * sizeof *x);
    int steps = report_find_metric(r, "steps");
    /* The last column is the final state, reached at step `steps` (= the last logged step for a
     * point that ran to the end). */
    if (steps >= 0 && isfinite(r->value[steps][point]) && r->T > 0)
        x[r->T - 1] = r->value[steps][point];
cleanup:
    return rc;
}
