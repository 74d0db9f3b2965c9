/* cfg_text.c — the canonical text of a job (whose hash identifies the experiment) and
 * cfg_diff, which names the keys in which two canonical texts differ.
 *
 * The text is one "key=value" line per key that applies to the job, plus metrics, store and the
 * swept axes' names and types, sorted by key, numbers as %.17g so that the text round-trips.
 * Separate from cfg.c because it only reads a finished struct ls_job: nothing here parses. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_internal.h"
#include "lazysweep/error.h"
#include "lazysweep/rng.h"

/* ---- canonical text ---------------------------------------------------------------------- */

static const char *type_name(enum ls_type t)
{
    return t == LS_T_INT ? "int" : t == LS_T_REAL ? "real" : t == LS_T_BOOL ? "bool" : "string";
}

static char *fmt_alloc(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static char *fmt_alloc(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

/* "path=[v0,v1,...]" (%.17g each, so the text round-trips). */
static char *seq_line(const char *path, const struct ls_list *l)
{
    char *list = malloc((size_t)l->n * 26 + 1), *line;
    size_t off = 0;
    if (list == NULL)
        return NULL;
    list[0] = '\0';
    for (int64_t i = 0; i < l->n; i++)
        off += (size_t)snprintf(list + off, 27, "%s%.17g", i ? "," : "", l->v[i]);
    line = fmt_alloc("%s=[%s]", path, list);
    free(list);
    return line;
}

static char *key_line(const struct ls_job *job, const struct key_def *row)
{
    const char *p = (const char *)job + row->off;
    if (row->flags & K_SEQ)
        return seq_line(row->path, (const struct ls_list *)(const void *)p);
    if (row->flags & K_SCALED) {
        const struct ls_scaled *s = (const struct ls_scaled *)(const void *)p;
        char extra[96] = ""; /* only when used, so jobs without them keep their hashes */
        if (s->per_depth != 0 || s->max != 0)
            snprintf(extra, sizeof extra, ",init_scale_per_depth:%.17g,max:%.17g", s->per_depth,
                     s->max);
        return fmt_alloc("%s=base:%.17g,init_scale:%.17g,width:%.17g,depth:%.17g%s", row->path,
                         s->base, s->exp[0], s->exp[1], s->exp[2], extra);
    }
    if (row->type == LS_T_INT)
        return fmt_alloc("%s=%" PRId64, row->path, cfgi_get_int(job, row));
    if ((row->flags & K_PER_LAYER) && ((const struct ls_reals *)(const void *)p)->n > 0) {
        const struct ls_reals *r = (const struct ls_reals *)(const void *)p;
        char list[LS_MAX_LAYER_SCALES * 26 + 1];
        size_t off = 0;
        for (int64_t i = 0; i < r->n && i < LS_MAX_LAYER_SCALES; i++)
            off += (size_t)snprintf(list + off, sizeof list - off, "%s%.17g", i ? "," : "",
                                    r->v[i]);
        return fmt_alloc("%s=[%s]", row->path, list);
    }
    if (row->type == LS_T_REAL)
        return fmt_alloc("%s=%.17g", row->path, cfgi_get_real(job, row));
    if (row->type == LS_T_BOOL)
        return fmt_alloc("%s=%s", row->path, *(const int *)(const void *)p ? "true" : "false");
    return fmt_alloc("%s=%s", row->path, p);
}

static char *names_line(const char *key, const char (*names)[LS_NAME_MAX], size_t n)
{
    char list[LS_MAX_METRICS * LS_NAME_MAX + 1] = "";
    size_t off = 0;
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? "," : "", names[i]);
    return fmt_alloc("%s=%s", key, list);
}

/* Lines sort by their key only ("a.b=" before "a.bc="). */
static int cmp_lines(const void *pa, const void *pb)
{
    const char *a = *(char *const *)pa, *b = *(char *const *)pb;
    size_t la = strcspn(a, "="), lb = strcspn(b, "=");
    int c = strncmp(a, b, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

/* Everything that defines the experiment except the grid's values, so a grid that only gained
 * values keeps its hash (and its finished points). */
int cfgi_build_canonical(struct ls_job *job)
{
    char *lines[CFGI_N_KEYS + 2 + LS_MAX_AXES] = {0};
    size_t n = 0, total = 1;
    int rc = LS_OK;
    /* A key of another family or kind means nothing here. */
    for (size_t i = 0; i < CFGI_N_KEYS; i++)
        if (cfgi_row_applies(job, &cfgi_keys[i]))
            lines[n++] = key_line(job, &cfgi_keys[i]);
    lines[n++] = names_line("metrics", job->metrics, job->n_metrics);
    lines[n++] = names_line("store", job->store, job->n_store);
    for (size_t i = 0; i < job->grid.n_axes; i++)
        if (job->grid.axes[i].swept)
            lines[n++] = fmt_alloc("grid.%s=%s", job->grid.axes[i].name,
                                   type_name(job->grid.axes[i].type));
    for (size_t i = 0; i < n; i++) {
        LS_CHECK_ALLOC(lines[i]);
        total += strlen(lines[i]) + 1;
    }
    qsort(lines, n, sizeof lines[0], cmp_lines);
    job->canonical = malloc(total);
    LS_CHECK_ALLOC(job->canonical);
    for (size_t i = 0, off = 0; i < n; i++)
        off += (size_t)snprintf(job->canonical + off, total - off, "%s\n", lines[i]);
    job->hash = ls_hash(LS_HASH_INIT, job->canonical, strlen(job->canonical));
    snprintf(job->hash_hex, sizeof job->hash_hex, "%016llx", (unsigned long long)job->hash);
cleanup:
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    return rc;
}

/* ---- cfg_diff ---------------------------------------------------------------------------- */

struct kv {
    const char *k, *v;
    size_t kl, vl;
};

static int cmp_kv(const void *pa, const void *pb)
{
    const struct kv *a = pa, *b = pb;
    int c = memcmp(a->k, b->k, a->kl < b->kl ? a->kl : b->kl);
    return c ? c : (a->kl > b->kl) - (a->kl < b->kl);
}

/* "key=value" lines → sorted array (pointing into text); NULL only when out of memory. */
static struct kv *split_lines(const char *text, size_t *n)
{
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == '\n';
    struct kv *a = malloc(cap * sizeof *a);
    *n = 0;
    for (const char *p = text; a && *p;) {
        size_t len = strcspn(p, "\n"), kl = strcspn(p, "=\n");
        size_t vl = kl < len ? len - kl - 1 : 0; /* a line without '=' is a key, empty value */
        if (len > 0)
            a[(*n)++] = (struct kv){p, p + len - vl, kl, vl};
        p += len + (p[len] == '\n');
    }
    if (a)
        qsort(a, *n, sizeof *a, cmp_kv);
    return a;
}

static void diff_add(char *out, size_t len, size_t *off, const struct kv *e)
{
    if (*off < len)
        *off += (size_t)snprintf(out + *off, len - *off, "%s%.*s", *off ? ", " : "", (int)e->kl,
                                 e->k);
}

void cfg_diff(const char *old_canonical, const char *new_canonical, char *out, size_t len)
{
    size_t na = 0, nb = 0, i = 0, j = 0, off = 0;
    if (out == NULL || len == 0)
        return;
    out[0] = '\0';
    struct kv *a = split_lines(old_canonical ? old_canonical : "", &na);
    struct kv *b = split_lines(new_canonical ? new_canonical : "", &nb);
    if (a == NULL || b == NULL)
        snprintf(out, len, "(unknown: out of memory)");
    while (a && b && (i < na || j < nb)) {
        int c = i == na ? 1 : j == nb ? -1 : cmp_kv(&a[i], &b[j]);
        if (c < 0)
            diff_add(out, len, &off, &a[i++]);
        else if (c > 0)
            diff_add(out, len, &off, &b[j++]);
        else if (a[i].vl != b[j].vl || memcmp(a[i].v, b[j].v, a[i].vl) != 0)
            diff_add(out, len, &off, &a[i++]), j++;
        else
            i++, j++;
    }
    free(a);
    free(b);
}
