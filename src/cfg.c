/* cfg.c — the job file: YAML tree → validated struct ls_job, grid, canonical text and hash.
 *
 * The YAML itself is read by yamltree.c, which already refused anchors, aliases, tags, deep
 * nesting, long scalars and duplicate keys. This file walks the tree (structure and unknown
 * keys), loads the values in the order their dependencies need, runs the whole-job checks and
 * holds the public entry points. The rest of the loader is split by concept: the key table
 * (cfg_table.c), one scalar (cfg_scalar.c), the grid (cfg_grid.c) and the canonical text
 * (cfg_text.c); cfg_internal.h is what they share. Every error names FILE:LINE:COL of the node
 * at fault. */
#include "lazysweep/cfg.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg_internal.h"
#include "lazysweep/data.h"
#include "lazysweep/error.h"
#include "lazysweep/model.h"
#include "lazysweep/optim.h"
#include "lazysweep/yamltree.h"
#include "lazysweep/numtext.h"

/* ---- messages ---------------------------------------------------------------------------- */

int cfgi_fail_at(struct ctx *c, int line, int col, const char *fmt, ...)
{
    char msg[LS_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return yt_fail(c->err, c->errlen, c->path, line, col, "%s", msg);
}

/* How a node looks, for "must be X, not Y". */
const char *cfgi_describe(const struct yt_node *n, char *buf, size_t len)
{
    if (n->kind == YT_MAP)
        return "a mapping";
    if (n->kind == YT_SEQ)
        return "a list";
    snprintf(buf, len, n->quoted ? "the quoted string \"%.40s\"" : "'%.40s'", n->text);
    return buf;
}

void cfgi_join_list(const char *const *list, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; list && list[i] && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", list[i]);
}

/* ---- the tree walk: structure and unknown keys ------------------------------------------- */

/* Sections are mappings of keys; the required ones hold required keys. */
static const char *const sections[] = {"model",          "data",   "train",     "train.log",
                                       "train.lr_decay", "spline", "confusion", "probe",
                                       "prune"};
#define N_SECTIONS (sizeof sections / sizeof sections[0])
_Static_assert(N_SECTIONS == CFGI_N_SECTIONS,
               "CFGI_N_SECTIONS in cfg_internal.h must count the sections");

/* Section of a path ("model.depth" → model), or -1 for a top-level key. */
static int section_of(const char *path)
{
    int best = -1;
    for (size_t i = 0; i < N_SECTIONS; i++) {
        size_t n = strlen(sections[i]);
        if (strncmp(path, sections[i], n) == 0 && path[n] == '.')
            best = (int)i; /* the longest prefix wins: train.log over train */
    }
    return best;
}

static int find_section(const char *path)
{
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (strcmp(sections[i], path) == 0)
            return (int)i;
    return -1;
}

/* The keys a section takes, for the message about one it does not. */
static void child_list(const char *prefix, char *list, size_t len)
{
    size_t pl = strlen(prefix), off = 0;
    const char *last = NULL;
    size_t last_len = 0;
    for (size_t i = 0; i < CFGI_N_KEYS && off < len; i++) {
        if (strncmp(cfgi_keys[i].path, prefix, pl) != 0)
            continue;
        const char *child = cfgi_keys[i].path + pl;
        size_t cl = strcspn(child, "."); /* train.log.points → log */
        if (last && cl == last_len && strncmp(child, last, cl) == 0)
            continue;
        off += (size_t)snprintf(list + off, len - off, "%s%.*s", off ? ", " : "", (int)cl, child);
        last = child;
        last_len = cl;
    }
    if (pl == 0 && off < len)
        snprintf(list + off, len - off, ", metrics, store, grid");
}

static int unknown_key(struct ctx *c, const char *path, const struct yt_node *k, const char *prefix)
{
    char list[512];
    child_list(prefix, list, sizeof list);
    return FAIL(c, k, "unknown key '%.80s' (expected one of: %s)", path, list);
}

static int walk_map(struct ctx *c, const struct yt_node *map, const char *prefix);

static int walk_key(struct ctx *c, const char *path, const struct yt_node *k,
                    const struct yt_node *v, const char *prefix)
{
    char buf[64];
    if (strcmp(path, "metrics") == 0 || strcmp(path, "grid") == 0) {
        *(path[0] == 'm' ? &c->metrics_k : &c->grid_k) = k;
        *(path[0] == 'm' ? &c->metrics_v : &c->grid_v) = v;
        return LS_OK;
    }
    if (strcmp(path, "store") == 0) {
        c->store_k = k;
        c->store_v = v;
        return LS_OK;
    }
    const struct key_def *row = cfgi_find_row(path);
    if (row) {
        c->slot[row - cfgi_keys] = &c->ent[c->n_ent];
        c->ent[c->n_ent++] = (struct entry){row, k, v};
        return LS_OK;
    }
    int s = find_section(path);
    if (s < 0)
        return unknown_key(c, path, k, prefix);
    if (v->kind != YT_MAP)
        return FAIL(c, v, "'%s' must be a mapping of keys, not %s", path,
                    cfgi_describe(v, buf, sizeof buf));
    c->sec[s] = k;
    char sub[2 * LS_PATH_MAX + 2];
    snprintf(sub, sizeof sub, "%s.", path);
    return walk_map(c, v, sub);
}

static int walk_map(struct ctx *c, const struct yt_node *map, const char *prefix)
{
    for (size_t i = 0; i < map->n; i++) {
        const struct yt_node *k = map->kid[2 * i], *v = map->kid[2 * i + 1];
        char path[2 * LS_PATH_MAX];
        /* A key with a NUL in it or longer than any path can only be unknown. */
        if (strlen(k->text) != k->len || k->len >= LS_PATH_MAX)
            return FAIL(c, k, "unknown key '%.40s'", k->text);
        snprintf(path, sizeof path, "%s%s", prefix, k->text);
        int rc = walk_key(c, path, k, v, prefix);
        if (rc != LS_OK)
            return rc;
    }
    return LS_OK;
}

/* Where to point when a key is missing or wrong but was not written: its section, else 1:1. */
static const struct yt_node *section_node(const struct ctx *c, const char *path)
{
    int s = section_of(path);
    while (s >= 0 && c->sec[s] == NULL)
        s = section_of(sections[s]); /* train.log missing → train */
    return s >= 0 ? c->sec[s] : c->root;
}

static int check_required(struct ctx *c)
{
    for (size_t s = 0; s < 3; s++) /* model, data, train */
        if (c->sec[s] == NULL)
            return FAIL(c, c->root, "missing required key '%s'", sections[s]);
    for (size_t i = 0; i < CFGI_N_KEYS; i++)
        if ((cfgi_keys[i].flags & K_REQUIRED) && c->slot[i] == NULL)
            return FAIL(c, section_node(c, cfgi_keys[i].path), "missing required key '%s'",
                        cfgi_keys[i].path);
    return LS_OK;
}

/* ---- values ------------------------------------------------------------------------------ */

static void set_defaults(struct ls_job *job)
{
    for (size_t i = 0; i < CFGI_N_KEYS; i++) {
        const struct key_def *row = &cfgi_keys[i];
        struct value v = {.i = (int64_t)row->def, .r = row->def, .s = row->sdef,
                          .b = row->def != 0};
        if (!(row->flags & (K_REQUIRED | K_SEQ)) && (row->type != LS_T_STR || row->sdef))
            cfgi_put_value(job, row, &v); /* a list's default is the empty list of the zeroed job */
    }
}

/* The defaults that depend on the model family, once it is known. */
static void set_family_defaults(struct ls_job *job)
{
    for (size_t i = 0; i < CFGI_N_KEYS; i++) {
        const struct family_values *f = cfgi_family_entry(&cfgi_keys[i], job->model.family);
        struct value v = {.s = f ? f->sdef : NULL};
        if (v.s)
            cfgi_put_value(job, &cfgi_keys[i], &v);
    }
}

static const char *last_part(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

/* A key meant for another family or data kind would be silently ignored: refuse it. */
int cfgi_check_applies(struct ctx *c, const struct key_def *row, const struct yt_node *k)
{
    const struct ls_job *job = c->job;
    if (!cfgi_applies_to_family(row, job->model.family))
        return FAIL(c, k, "key '%s' does not apply to model family '%s'", last_part(row->path),
                    job->model.family);
    if (row->kind && strcmp(row->kind, job->data.kind) != 0)
        return FAIL(c, k, "key '%s' does not apply to data kind '%s'", last_part(row->path),
                    job->data.kind);
    if (!cfgi_applies_when(job, row)) {
        char list[256];
        cfgi_join_list(row->when_in, list, sizeof list);
        return FAIL(c, k, "key '%s' does not apply to %s '%s' (only to %s)", row->path,
                    strcmp(row->when, "data.kind") == 0 ? "data kind" : row->when,
                    (const char *)job + cfgi_find_row(row->when)->off, list);
    }
    return LS_OK;
}

static int parse_lr_scale(struct ctx *c, const char *path, const struct yt_node *m,
                          struct ls_scaled *out)
{
    static const char *const names[] = {"init_scale", "width", "depth", "init_scale_per_depth",
                                        NULL};
    double *exp[] = {&out->exp[0], &out->exp[1], &out->exp[2], &out->per_depth};
    char buf[64], what[LS_PATH_MAX + 32];
    if (m->kind != YT_MAP)
        return FAIL(c, m, "%s.scale must be a mapping of exponents, not %s", path,
                    cfgi_describe(m, buf, sizeof buf));
    for (size_t i = 0; i < m->n; i++) {
        const struct yt_node *k = m->kid[2 * i], *v = m->kid[2 * i + 1];
        size_t j = 0;
        while (names[j] && strcmp(names[j], k->text) != 0)
            j++;
        if (names[j] == NULL)
            return FAIL(c, k, "unknown key '%s.scale.%.40s' (expected one of: init_scale, "
                              "width, depth, init_scale_per_depth)", path, k->text);
        snprintf(what, sizeof what, "%s.scale.%s", path, names[j]);
        int rc = cfgi_parse_real(c, what, v, exp[j]);
        if (rc != LS_OK)
            return rc;
    }
    return LS_OK;
}

/* max: a cap on the scaled value, positive like the value itself. */
static int parse_lr_max(struct ctx *c, const struct key_def *row, const struct yt_node *v,
                        struct ls_scaled *out)
{
    char what[LS_PATH_MAX + 8];
    snprintf(what, sizeof what, "%s.max", row->path);
    int rc = cfgi_parse_real(c, what, v, &out->max);
    if (rc == LS_OK && !(out->max > 0))
        rc = FAIL(c, v, "%s must be > 0, not %s", what, NUMTEXT(out->max));
    return rc;
}

/* `lr: 0.1` or `lr: {base: 0.1, scale: {init_scale: -2, width: -1}, max: 0.05}`. */
static int parse_lr(struct ctx *c, const struct key_def *row, const struct yt_node *v,
                    struct ls_scaled *out)
{
    const struct yt_node *base = NULL;
    char buf[64];
    int rc = LS_OK;
    memset(out, 0, sizeof *out);
    if (v->kind == YT_SEQ)
        return FAIL(c, v, "%s must be a number or {base: ..., scale: {...}}, not %s", row->path,
                    cfgi_describe(v, buf, sizeof buf));
    if (v->kind == YT_SCALAR)
        base = v;
    for (size_t i = 0; v->kind == YT_MAP && i < v->n && rc == LS_OK; i++) {
        const struct yt_node *k = v->kid[2 * i], *val = v->kid[2 * i + 1];
        if (strcmp(k->text, "base") == 0)
            base = val;
        else if (strcmp(k->text, "scale") == 0)
            rc = parse_lr_scale(c, row->path, val, out);
        else if (strcmp(k->text, "max") == 0)
            rc = parse_lr_max(c, row, val, out);
        else
            rc = FAIL(c, k, "unknown key '%s.%.40s' (expected one of: base, scale, max)",
                      row->path, k->text);
    }
    if (rc != LS_OK)
        return rc;
    char what[LS_PATH_MAX + 8];
    snprintf(what, sizeof what, "%s.base", row->path);
    if (base == NULL)
        return FAIL(c, v, "missing required key '%s'", what);
    rc = cfgi_parse_real(c, base == v ? row->path : what, base, &out->base);
    if (rc == LS_OK)
        rc = cfgi_check_real_range(c, row, out->base, base->line, base->col);
    return rc;
}

/* `[a, b, ...]` for a per-layer key: each value checked like the scalar form. */
static int parse_list(struct ctx *c, const struct key_def *row, const struct yt_node *seq)
{
    struct ls_reals *out = (struct ls_reals *)(void *)((char *)c->job + row->off);
    if (seq->n == 0 || seq->n > LS_MAX_LAYER_SCALES)
        return FAIL(c, seq, "%s must be a number or a list of 1 to %d numbers (one per layer), "
                    "not a list of %zu", row->path, LS_MAX_LAYER_SCALES, seq->n);
    for (size_t i = 0; i < seq->n; i++) {
        struct value v = {0};
        const struct yt_node *n = seq->kid[i];
        int rc = cfgi_parse_scalar(c, row, n, &v);
        if (rc == LS_OK)
            rc = cfgi_check_value(c, row, &v, n->line, n->col);
        if (rc != LS_OK)
            return rc;
        out->v[i] = v.r;
    }
    out->n = (int64_t)seq->n;
    return LS_OK;
}

/* `[a, b, ...]` for a list key (K_SEQ): every value at its own mark, parsed and range-checked
 * like a scalar of the key's type; K_DISTINCT refuses repeats. */
static int parse_seq(struct ctx *c, const struct key_def *row, const struct yt_node *seq)
{
    struct ls_list *out = (struct ls_list *)(void *)((char *)c->job + row->off);
    char buf[64], what[LS_PATH_MAX + 24];
    if (seq->kind != YT_SEQ)
        return FAIL(c, seq, "%s must be a list of %s, not %s", row->path,
                    row->type == LS_T_INT ? "integers" : "numbers",
                    cfgi_describe(seq, buf, sizeof buf));
    if (seq->n > LS_LIST_MAX)
        return FAIL(c, seq->kid[LS_LIST_MAX], "%s has more than %d values", row->path,
                    LS_LIST_MAX);
    out->n = 0;
    for (size_t i = 0; i < seq->n; i++) {
        const struct yt_node *n = seq->kid[i];
        struct value v = {0};
        snprintf(what, sizeof what, "%s[%zu]", row->path, i);
        int rc = row->type == LS_T_INT ? cfgi_parse_int(c, what, n, &v.i)
                                       : cfgi_parse_real(c, what, n, &v.r);
        if (rc == LS_OK)
            rc = cfgi_check_value(c, row, &v, n->line, n->col);
        if (rc != LS_OK)
            return rc;
        double x = row->type == LS_T_INT ? (double)v.i : v.r;
        for (size_t j = 0; j < i && (row->flags & K_DISTINCT); j++)
            if (out->v[j] == x)
                return FAIL(c, n, "duplicate value %s in %s (first at %d:%d)", NUMTEXT(x), row->path,
                            seq->kid[j]->line, seq->kid[j]->col);
        out->v[out->n++] = x;
    }
    return LS_OK;
}

static int load_entry(struct ctx *c, const struct entry *e)
{
    struct value v = {0};
    int rc = cfgi_check_applies(c, e->row, e->k);
    if (rc != LS_OK)
        return rc;
    if (e->row->flags & K_SCALED) /* the row's offset is that of the struct's first member */
        return parse_lr(c, e->row, e->v,
                        (struct ls_scaled *)(void *)((char *)c->job + e->row->off));
    if (e->row->flags & K_SEQ)
        return parse_seq(c, e->row, e->v);
    if ((e->row->flags & K_PER_LAYER) && e->v->kind == YT_SEQ)
        return parse_list(c, e->row, e->v);
    rc = cfgi_parse_scalar(c, e->row, e->v, &v);
    if (rc == LS_OK)
        rc = cfgi_check_value(c, e->row, &v, e->v->line, e->v->col);
    if (rc == LS_OK)
        cfgi_put_value(c->job, e->row, &v);
    return rc;
}

/* Keys whose value decides whether other keys apply (`when`), loaded right after the family
 * and the data kind. */
static const char *const gates[] = {"train.optimizer", "train.lr_schedule"};
#define N_GATES (sizeof gates / sizeof gates[0])

static int is_gate(const struct ctx *c, const struct entry *e)
{
    for (size_t g = 0; g < N_GATES; g++)
        if (c->slot[cfgi_find_row(gates[g]) - cfgi_keys] == e)
            return 1;
    return 0;
}

/* The family and data kind first: whether the other keys apply depends on them; then the data
 * kind's own defaults, the other gates, and the rest in file order. */
static int load_values(struct ctx *c)
{
    const struct entry *fam = c->slot[cfgi_find_row("model.family") - cfgi_keys];
    const struct entry *kind = c->slot[cfgi_find_row("data.kind") - cfgi_keys];
    set_defaults(c->job);
    int rc = load_entry(c, fam);
    set_family_defaults(c->job);
    if (rc == LS_OK)
        rc = load_entry(c, kind);
    if (rc == LS_OK)
        data_defaults(c->job);
    c->ops = model_find(c->job->model.family);
    for (size_t g = 0; g < N_GATES && rc == LS_OK; g++)
        if (c->slot[cfgi_find_row(gates[g]) - cfgi_keys])
            rc = load_entry(c, c->slot[cfgi_find_row(gates[g]) - cfgi_keys]);
    for (size_t i = 0; i < c->n_ent && rc == LS_OK; i++)
        if (&c->ent[i] != fam && &c->ent[i] != kind && !is_gate(c, &c->ent[i]))
            rc = load_entry(c, &c->ent[i]);
    return rc;
}

static void default_metrics(struct ls_job *job, const struct ls_model_ops *ops)
{
    for (const char *const *m = ops->default_metrics; m && *m && job->n_metrics < LS_MAX_METRICS;
         m++)
        snprintf(job->metrics[job->n_metrics++], LS_NAME_MAX, "%s", *m);
}

static int load_metric(struct ctx *c, const struct yt_node *seq, size_t i)
{
    struct ls_job *job = c->job;
    const struct yt_node *n = seq->kid[i];
    const char *name;
    char list[512];
    int rc = cfgi_parse_string(c, "each metric", n, &name);
    if (rc != LS_OK)
        return rc;
    if (!model_has_metric(c->ops, name)) {
        cfgi_join_list(c->ops->metrics, list, sizeof list);
        return FAIL(c, n, "unknown metric '%s' for model family '%s' (known: %s)", name,
                    job->model.family, list);
    }
    for (size_t j = 0; j < i; j++)
        if (strcmp(seq->kid[j]->text, name) == 0)
            return FAIL(c, n, "duplicate metric '%s' (first at %d:%d)", name, seq->kid[j]->line,
                        seq->kid[j]->col);
    snprintf(job->metrics[job->n_metrics++], LS_NAME_MAX, "%s", name);
    return LS_OK;
}

/* metrics: the listed ones, else the family's defaults; trajectories for all but `steps`. */
static int load_metrics(struct ctx *c)
{
    struct ls_job *job = c->job;
    const struct yt_node *v = c->metrics_v;
    char buf[64];
    int rc = LS_OK;
    if (v == NULL)
        default_metrics(job, c->ops);
    else if (v->kind != YT_SEQ)
        return FAIL(c, v, "metrics must be a list of metric names, not %s",
                    cfgi_describe(v, buf, sizeof buf));
    else if (v->n == 0)
        return FAIL(c, v, "metrics is an empty list (leave it out for the family's defaults)");
    else if (v->n > LS_MAX_METRICS)
        return FAIL(c, v->kid[LS_MAX_METRICS], "more than %d metrics", LS_MAX_METRICS);
    for (size_t i = 0; v && i < v->n && rc == LS_OK; i++)
        rc = load_metric(c, v, i);
    for (size_t i = 0; i < job->n_metrics; i++)
        if (strcmp(job->metrics[i], "steps") != 0)
            memcpy(job->traj[job->n_traj++], job->metrics[i], LS_NAME_MAX);
    return rc;
}

/* store: per-point vectors the family can produce, each at most once. */
static int load_store(struct ctx *c)
{
    struct ls_job *job = c->job;
    const struct yt_node *v = c->store_v;
    char buf[64], list[512];
    if (v == NULL)
        return LS_OK;
    if (v->kind != YT_SEQ)
        return FAIL(c, v, "store must be a list of vector names, not %s",
                    cfgi_describe(v, buf, sizeof buf));
    if (v->n > LS_MAX_VECTORS)
        return FAIL(c, v->kid[LS_MAX_VECTORS], "more than %d stored vectors", LS_MAX_VECTORS);
    for (size_t i = 0; i < v->n; i++) {
        const char *name;
        int rc = cfgi_parse_string(c, "each stored vector", v->kid[i], &name);
        if (rc != LS_OK)
            return rc;
        if (!c->ops->vector_len || c->ops->vector_len(job, name) == 0) {
            cfgi_join_list(c->ops->vectors, list, sizeof list);
            return FAIL(c, v->kid[i], "model family '%s' cannot store '%s' (known: %s)",
                        job->model.family, name, list);
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(v->kid[j]->text, name) == 0)
                return FAIL(c, v->kid[i], "duplicate stored vector '%s' (first at %d:%d)", name,
                            v->kid[j]->line, v->kid[j]->col);
        snprintf(job->store[job->n_store++], LS_NAME_MAX, "%s", name);
    }
    return LS_OK;
}

/* ---- whole-job checks -------------------------------------------------------------------- */

static void copy_scalars(struct ls_job *dst, const struct ls_job *src)
{
    memcpy(dst, src, sizeof *dst);
    dst->text = NULL;
    dst->text_len = 0;
    dst->canonical = NULL;
    memset(&dst->grid, 0, sizeof dst->grid);
}

static const struct yt_node *blame(const struct ctx *c, const char *key);

/* Sizes that come from data files or lists, once, before any point is checked. */
static int resolve_data(struct ctx *c)
{
    const char *key = NULL;
    char msg[LS_ERR_MAX / 2];
    if (data_resolve(c->job, &key, msg, sizeof msg) == LS_OK)
        return LS_OK;
    return FAIL(c, blame(c, key), "%s", msg);
}

/* The learning rate and weight decay a point's axes make: a positive finite step, a finite
 * non-negative decay (extreme exponents can give +inf, NaN or an underflow to 0). */
static int check_rates(const struct ls_job *pt, const char **key, char *msg, size_t len)
{
    double lr = cfg_scaled(pt, &pt->train.lr), wd = cfg_scaled(pt, &pt->train.weight_decay);
    if (!isfinite(lr) || !(lr > 0)) {
        *key = "train.lr";
        snprintf(msg, len, "train.lr evaluates to %g here; it must be a positive finite number",
                 lr);
        return LS_EJOB;
    }
    if (!isfinite(wd) || wd < 0) {
        *key = "train.weight_decay";
        snprintf(msg, len, "train.weight_decay evaluates to %g here; it must be finite and >= 0",
                 wd);
        return LS_EJOB;
    }
    return LS_OK;
}

/* Which checks a pass over the grid's combinations runs (check_points). */
enum check_pass {
    PASS_ALL,       /* everything: the first point */
    PASS_STRUCTURE, /* the family's, the data's and the optimizer's rules */
    PASS_RATES,     /* the learning rate and weight decay rules (check_rates) */
};

/* The family's rules, the data's and the optimizer's, on one candidate point. */
static int check_job(const struct ctx *c, const struct ls_job *pt, enum check_pass pass,
                     const char **key, char *msg, size_t len)
{
    *key = NULL;
    if (pass == PASS_RATES)
        return check_rates(pt, key, msg, len);
    if (strcmp(pt->data.kind, "sparse_regression") == 0 && pt->data.support > pt->data.dim) {
        *key = "data.support";
        snprintf(msg, len, "data.support (%" PRId64 ") must be <= data.dim (%" PRId64 ")",
                 pt->data.support, pt->data.dim);
        return LS_EJOB;
    }
    if (pass == PASS_ALL && check_rates(pt, key, msg, len) != LS_OK)
        return LS_EJOB;
    if (data_validate(pt, key, msg, len) != LS_OK)
        return LS_EJOB;
    *key = NULL;
    if (optim_check(pt, key, msg, len) != LS_OK)
        return LS_EJOB;
    *key = NULL;
    return c->ops->check(pt, key, msg, len);
}

/* Where to point for a failed check on the first point: the axis that set the key, else the key
 * as written, else its section (support > dim with support unwritten: at dim). */
static const struct yt_node *blame(const struct ctx *c, const char *key)
{
    const struct key_def *row = key ? cfgi_find_row(key) : NULL;
    for (size_t i = 0; row && i < c->n_ax; i++)
        if (c->ax[i].row == row)
            return cfgi_value_node(&c->ax[i], 0);
    if (row && c->slot[row - cfgi_keys])
        return c->slot[row - cfgi_keys]->k;
    if (key && strcmp(key, "data.support") == 0)
        return blame(c, "data.dim");
    if (key && find_section(key) >= 0 && c->sec[find_section(key)])
        return c->sec[find_section(key)];
    return key ? section_node(c, key) : c->sec[0];
}

static int run_check(struct ctx *c, const struct ls_job *pt, const struct axis_src *a, size_t j)
{
    const char *key = NULL;
    char msg[LS_ERR_MAX / 2];
    if (check_job(c, pt, PASS_ALL, &key, msg, sizeof msg) == LS_OK)
        return LS_OK;
    const struct yt_node *at = a ? cfgi_value_node(a, j) : blame(c, key);
    if (key && strstr(msg, key) == NULL && strcmp(key, "data") != 0)
        return FAIL(c, at, "%s: %s", key, msg);
    return FAIL(c, at, "%s", msg);
}

static size_t argmax(const struct ls_axis *a)
{
    size_t best = 0;
    for (size_t j = 1; j < a->n; j++)
        if (a->num[j] > a->num[best])
            best = j;
    return best;
}

/* A copy of the job at one corner of the grid: every axis at its first value (largest = 0), or
 * every numeric axis at its largest value (largest = 1: sizes grow with it). NULL if out of
 * memory; free() it. */
static struct ls_job *corner_point(struct ctx *c, int largest)
{
    const struct ls_grid *g = &c->job->grid;
    struct ls_job *pt = malloc(sizeof *pt);
    if (pt == NULL)
        return NULL;
    copy_scalars(pt, c->job);
    for (size_t i = 0; i < c->n_ax; i++)
        if (!largest || g->axes[i].num)
            cfgi_apply_axis(pt, c->ax[i].row, &g->axes[i], largest ? argmax(&g->axes[i]) : 0);
    return pt;
}

/* Does a pass read this axis? The seed axis changes the draws, never whether a point is valid;
 * init_scale enters only the rates (no family, data or optimizer check reads model.init_scale:
 * a check that comes to read it must drop it from the exclusion below), and the rates read only
 * init_scale, width, depth and the rates' own bases. Skipping what a pass does not read is what
 * keeps 10^7 points cheap: the passes see the distinct combinations of the axes they read. */
static int check_reads(const struct ls_axis *ax, enum check_pass pass)
{
    static const char *const rates[] = {"init_scale", "width", "depth", "train.lr",
                                        "train.weight_decay"};
    if (pass == PASS_STRUCTURE)
        return strcmp(ax->name, "seed") != 0 && strcmp(ax->name, "init_scale") != 0;
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        if (strcmp(ax->name, rates[i]) == 0)
            return 1;
    return 0;
}

/* The axis to blame for a failed combination: the one that set the failing key, else the one
 * whose value just changed. */
static size_t blame_axis(const struct ctx *c, const char *key, size_t changed)
{
    const struct key_def *row = key ? cfgi_find_row(key) : NULL;
    for (size_t i = 0; row && i < c->n_ax; i++)
        if (c->ax[i].row == row)
            return i;
    return changed;
}

/* A failed check on the combination idx[] of axis values: at the blamed axis's value, naming
 * every swept value of the point. */
static int fail_combination(struct ctx *c, enum check_pass pass, const size_t *idx,
                            size_t changed, const char *key, const char *msg)
{
    const struct ls_grid *g = &c->job->grid;
    char at[LS_ERR_MAX / 2] = "";
    size_t off = 0;
    for (size_t i = 0; i < c->n_ax && off < sizeof at; i++) {
        const struct ls_axis *ax = &g->axes[i];
        if (!check_reads(ax, pass) || ax->n < 2)
            continue;
        int w = ax->type == LS_T_STR
                    ? snprintf(at + off, sizeof at - off, "%s%s: %s", off ? ", " : "", ax->name,
                               ax->str[idx[i]])
                    : snprintf(at + off, sizeof at - off, "%s%s: %.15g", off ? ", " : "",
                               ax->name, ax->num[idx[i]]);
        off += w > 0 ? (size_t)w : 0;
    }
    size_t b = blame_axis(c, key, changed);
    const struct yt_node *node = cfgi_value_node(&c->ax[b], idx[b]);
    if (key && strstr(msg, key) == NULL && strcmp(key, "data") != 0)
        return FAIL(c, node, "%s: %s (at the grid point {%s})", key, msg, at);
    return FAIL(c, node, "%s (at the grid point {%s})", msg, at);
}

/* Step the mixed-radix counter idx[] over the axes that checks read (the last fastest); returns
 * the most significant axis that changed, or n_ax when every combination has been seen. */
static size_t next_combination(struct ctx *c, enum check_pass pass, struct ls_job *pt,
                               size_t *idx)
{
    const struct ls_grid *g = &c->job->grid;
    for (size_t i = c->n_ax; i-- > 0;) {
        if (!check_reads(&g->axes[i], pass) || g->axes[i].n < 2)
            continue;
        idx[i] = idx[i] + 1 < g->axes[i].n ? idx[i] + 1 : 0;
        cfgi_apply_axis(pt, c->ax[i].row, &g->axes[i], idx[i]);
        if (idx[i] != 0)
            return i;
    }
    return c->n_ax;
}

/* One pass over the distinct combinations of the axes `pass` reads, from the first point (every
 * axis at its first value; the counter wraps back to it at the end). */
static int check_pass(struct ctx *c, struct ls_job *pt, enum check_pass pass)
{
    size_t idx[LS_MAX_AXES] = {0};
    const char *key = NULL;
    char msg[LS_ERR_MAX / 2];
    for (size_t changed; (changed = next_combination(c, pass, pt, idx)) < c->n_ax;)
        if (check_job(c, pt, pass, &key, msg, sizeof msg) != LS_OK)
            return fail_combination(c, pass, idx, changed, key, msg);
    return LS_OK;
}

/* Every point's effective job is checked when the job is read, so a combination that only the
 * product of two axes makes invalid (support > dim, n_train >= dim, an lr that overflows) is
 * refused then, at the value that broke it, naming the point. The first point goes first, so
 * what the file's own keys break is blamed on the keys. */
static int check_points(struct ctx *c)
{
    struct ls_job *pt = corner_point(c, 0);
    if (pt == NULL)
        return LS_ENOMEM;
    int rc = run_check(c, pt, NULL, 0);
    if (rc == LS_OK)
        rc = check_pass(c, pt, PASS_STRUCTURE);
    if (rc == LS_OK)
        rc = check_pass(c, pt, PASS_RATES);
    free(pt);
    return rc;
}

/* Refuse up front a model that cannot fit, rather than let every worker fail on it. */
static int check_memory(struct ctx *c)
{
    struct ls_job *pt = corner_point(c, 1);
    if (pt == NULL)
        return LS_ENOMEM;
    /* The optimizer's state is per parameter whatever the family; every family reports its
     * parameter count as the length of params_init (model.h). */
    double need = (double)c->ops->memory(pt) + (double)data_memory(pt) +
                  optim_state_per_param(pt) * (double)c->ops->vector_len(pt, "params_init") *
                      sizeof(double);
    /* Vector lengths grow with sizes, so the largest point gives every slot's length. */
    double vec = 0;
    for (size_t i = 0; i < c->job->n_store; i++)
        vec += (double)(c->job->store_len[i] = c->ops->vector_len(pt, c->job->store[i]));
    free(pt);
    if (vec > LS_MAX_VECTOR_TOTAL)
        return FAIL(c, c->store_k, "stored vectors of the largest point hold %.0f numbers, more "
                    "than the limit of %d", vec, LS_MAX_VECTOR_TOTAL);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    double have = (double)pages * (double)page, gib = 1024.0 * 1024.0 * 1024.0;
    if (pages > 0 && page > 0 && need > have)
        return FAIL(c, c->sec[0], "model needs an estimated %.1f GiB at its largest grid point, "
                    "more than this machine's %.1f GiB", need / gib, have / gib);
    return LS_OK;
}

static void set_max_steps_all(struct ls_job *job)
{
    const struct ls_axis *a = grid_find(&job->grid, "train.max_steps");
    job->max_steps_all = job->train.max_steps;
    for (size_t j = 0; a && j < a->n; j++)
        if ((int64_t)a->num[j] > job->max_steps_all)
            job->max_steps_all = (int64_t)a->num[j];
}

/* ---- public ------------------------------------------------------------------------------ */

static int load_tree(struct ctx *c, const struct yt_node *root)
{
    char buf[64];
    int rc = LS_OK;
    c->root = root;
    if (root->kind != YT_MAP)
        return FAIL(c, root,
                    "a job file must be a mapping of keys (name, model, data, train, "
                    "...), not %s",
                    cfgi_describe(root, buf, sizeof buf));
    LS_CALL(walk_map(c, root, ""));
    LS_CALL(check_required(c));
    LS_CALL(load_values(c));
    LS_CALL(load_metrics(c));
    LS_CALL(load_store(c));
    LS_CALL(cfgi_load_grid(c));
    LS_CALL(resolve_data(c));
    LS_CALL(check_points(c));
    LS_CALL(check_memory(c));
    set_max_steps_all(c->job);
    LS_CALL(cfgi_build_canonical(c->job));
cleanup:
    return rc;
}

int cfg_parse(const char *path, const char *text, size_t len, struct ls_job *job, char *err,
              size_t errlen)
{
    struct ctx c = {.path = path, .err = err, .errlen = errlen, .job = job};
    struct yt_node *root = NULL;
    int rc = LS_OK;
    memset(job, 0, sizeof *job);
    if (err && errlen)
        err[0] = '\0';
    snprintf(job->path, sizeof job->path, "%s", path);
    if (len > LS_JOB_MAX_BYTES)
        return yt_fail(err, errlen, path, 1, 1, "job file is larger than 1 MiB (%zu bytes)", len);
    if (len == 0)
        return yt_fail(err, errlen, path, 1, 1, "empty job file");
    if (len >= 8 && !memcmp(text, "\x89HDF\r\n\x1a\n", 8))
        return yt_fail(err, errlen, path, 1, 1,
                       "this is an HDF5 results file, not a YAML job file (`lazysweep status` "
                       "and `lazysweep report` read it)");
    job->text = malloc(len + 1);
    LS_CHECK_ALLOC(job->text);
    memcpy(job->text, text, len);
    job->text[len] = '\0';
    job->text_len = len;
    LS_CALL(yt_parse(path, job->text, len, &root, err, errlen));
    LS_CALL(load_tree(&c, root));
cleanup:
    yt_free(&root);
    if (rc == LS_ENOMEM && err && errlen && err[0] == '\0')
        snprintf(err, errlen, "%s: out of memory", path);
    if (rc != LS_OK)
        cfg_free(job);
    return rc;
}

int cfg_load(const char *path, struct ls_job *job, char *err, size_t errlen)
{
    memset(job, 0, sizeof *job);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return LS_EIO;
    }
    /* One byte more than the limit tells "too large" apart from "exactly 1 MiB", also for
     * pipes and /dev/stdin whose size stat cannot tell. */
    char *buf = malloc(LS_JOB_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, LS_JOB_MAX_BYTES + 1, f) : 0;
    int bad = buf && ferror(f), e = errno;
    fclose(f);
    int rc = LS_OK;
    if (buf == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = LS_ENOMEM;
    } else if (bad) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
        rc = LS_EIO;
    } else {
        rc = cfg_parse(path, buf, n, job, err, errlen);
    }
    free(buf);
    return rc;
}

int cfg_point(const struct ls_job *base, uint64_t index, struct ls_job *out)
{
    if (index >= base->grid.n_points)
        return LS_EINVAL;
    copy_scalars(out, base);
    return cfg_point_axes(base, index, out);
}

int cfg_point_axes(const struct ls_job *base, uint64_t index, struct ls_job *out)
{
    size_t idx[LS_MAX_AXES];
    const struct ls_grid *g = &base->grid;
    if (index >= g->n_points)
        return LS_EINVAL;
    grid_unravel(g, index, idx);
    for (size_t i = 0; i < g->n_axes; i++) {
        const struct key_def *row = cfgi_axis_row(g->axes[i].name);
        if (row == NULL)
            return LS_EINVAL;
        cfgi_apply_axis(out, row, &g->axes[i], idx[i]);
    }
    return LS_OK;
}

double cfg_scaled(const struct ls_job *job, const struct ls_scaled *s)
{
    const double x[3] = {job->model.init_scale, (double)job->model.width,
                         (double)job->model.depth};
    double v = s->base;
    for (int i = 0; i < 3; i++)
        if (s->exp[i] != 0) /* leaves the base exact when nothing scales */
            v *= pow(x[i], s->exp[i]);
    if (s->per_depth != 0)
        v *= pow(x[0], s->per_depth * x[2]);
    return s->max > 0 && v > s->max ? s->max : v;
}

void cfg_free(struct ls_job *job)
{
    if (job == NULL)
        return;
    free(job->text);
    free(job->canonical);
    job->text = NULL;
    job->canonical = NULL;
    job->text_len = 0;
    grid_free(&job->grid);
}

uint32_t cfg_vector_total(const struct ls_job *job)
{
    size_t total = 0;
    for (size_t i = 0; i < job->n_store; i++)
        total += job->store_len[i];
    return (uint32_t)total;
}
