/* cfg_scalar.c — one scalar of the job file: parsed as its key's type and checked against its
 * key's rule (range, allowed values, name characters).
 *
 * YAML scalars are text; here they become integers, numbers, strings or booleans under stricter
 * rules than YAML 1.1 (no octal, no hex floats, no inf/nan words, quoted means string). Separate
 * from cfg.c because the key walk, the lists and the grid (cfg_grid.c) all parse values this
 * way, and every message names FILE:LINE:COL of the scalar at fault. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_internal.h"
#include "lazysweep/error.h"
#include "lazysweep/model.h"
#include "lazysweep/numtext.h"

/* ---- scalars ----------------------------------------------------------------------------- */

static const char *type_noun(enum ls_type t)
{
    return t == LS_T_INT    ? "an integer"
           : t == LS_T_REAL ? "a number"
           : t == LS_T_BOOL ? "true or false"
                            : "a string";
}

static int is_empty_plain(const struct yt_node *n)
{
    return n->kind == YT_SCALAR && !n->quoted && n->len == 0;
}

static int need_scalar(struct ctx *c, const char *what, const struct yt_node *n, enum ls_type t)
{
    char buf[64];
    if (is_empty_plain(n))
        return FAIL(c, n, "%s has no value (expected %s)", what, type_noun(t));
    /* Quoting is how YAML says "this is a string": a quoted "3" is not a number. */
    if (n->kind != YT_SCALAR || (n->quoted && t != LS_T_STR))
        return FAIL(c, n, "%s must be %s, not %s", what, type_noun(t),
                    cfgi_describe(n, buf, sizeof buf));
    return LS_OK;
}

static size_t digits(const char *s)
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    return n;
}

/* [+-]?digits with no leading zero (YAML 1.1 reads 010 as octal; we refuse the ambiguity). */
static int is_int_text(const char *s)
{
    s += *s == '+' || *s == '-';
    size_t n = digits(s);
    return n > 0 && s[n] == '\0' && !(n > 1 && s[0] == '0');
}

/* [+-]?(d+(.d*)?|.d+)([eE][+-]?d+)?: no hex floats, no inf/nan words, no underscores. */
static int is_real_text(const char *s)
{
    s += *s == '+' || *s == '-';
    size_t n = digits(s), f = 0;
    s += n;
    if (*s == '.') {
        f = digits(++s);
        s += f;
    }
    if (n + f == 0)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        s += *s == '+' || *s == '-';
        size_t e = digits(s);
        if (e == 0)
            return 0;
        s += e;
    }
    return *s == '\0';
}

static int is_nonfinite_text(const char *s)
{
    static const char *const words[] = {".inf", "inf", "infinity", ".nan", "nan"};
    char low[16];
    size_t i = 0;
    s += *s == '+' || *s == '-';
    for (; s[i] && i + 1 < sizeof low; i++)
        low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    low[i] = '\0';
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++)
        if (strcmp(low, words[w]) == 0 && s[i] == '\0')
            return 1;
    return 0;
}

int cfgi_parse_int(struct ctx *c, const char *what, const struct yt_node *n, int64_t *out)
{
    int rc = need_scalar(c, what, n, LS_T_INT);
    if (rc != LS_OK)
        return rc;
    if (!is_int_text(n->text))
        return FAIL(c, n, "%s must be an integer, not '%.40s'", what, n->text);
    errno = 0;
    long long v = strtoll(n->text, NULL, 10);
    if (errno == ERANGE)
        return FAIL(c, n, "%s: %.40s does not fit in a 64-bit integer", what, n->text);
    *out = (int64_t)v;
    return LS_OK;
}

int cfgi_parse_real(struct ctx *c, const char *what, const struct yt_node *n, double *out)
{
    int rc = need_scalar(c, what, n, LS_T_REAL);
    if (rc != LS_OK)
        return rc;
    if (is_nonfinite_text(n->text))
        return FAIL(c, n, "%s must be a finite number, not '%s'", what, n->text);
    if (!is_real_text(n->text))
        return FAIL(c, n, "%s must be a number, not '%.40s'", what, n->text);
    errno = 0;
    double v = strtod(n->text, NULL);
    if (!isfinite(v)) /* overflow; underflow to 0 or a subnormal is left to the range check */
        return FAIL(c, n, "%s must be a finite number, not '%.40s'", what, n->text);
    *out = v;
    return LS_OK;
}

static int parse_string_max(struct ctx *c, const char *what, const struct yt_node *n,
                            const char **out, size_t max)
{
    int rc = need_scalar(c, what, n, LS_T_STR);
    if (rc != LS_OK)
        return rc;
    if (strlen(n->text) != n->len)
        return FAIL(c, n, "%s must not contain NUL characters", what);
    if (n->len >= max)
        return FAIL(c, n, "%s is longer than %zu characters", what, max - 1);
    *out = n->text;
    return LS_OK;
}

int cfgi_parse_string(struct ctx *c, const char *what, const struct yt_node *n, const char **out)
{
    return parse_string_max(c, what, n, out, LS_NAME_MAX);
}

int cfgi_parse_scalar(struct ctx *c, const struct key_def *row, const struct yt_node *n,
                      struct value *v)
{
    if (row->type == LS_T_INT)
        return cfgi_parse_int(c, row->path, n, &v->i);
    if (row->type == LS_T_REAL)
        return cfgi_parse_real(c, row->path, n, &v->r);
    if (row->type == LS_T_STR)
        return parse_string_max(c, row->path, n, &v->s,
                                row->flags & K_FILE ? LS_FILE_MAX : LS_NAME_MAX);
    int rc = need_scalar(c, row->path, n, LS_T_BOOL);
    if (rc == LS_OK && strcmp(n->text, "true") != 0 && strcmp(n->text, "false") != 0)
        return FAIL(c, n, "%s must be true or false, not '%.40s'", row->path, n->text);
    v->b = rc == LS_OK && strcmp(n->text, "true") == 0;
    return rc;
}

int cfgi_check_real_range(struct ctx *c, const struct key_def *row, double r, int line, int col)
{
    int lo = row->rmin_open ? r > row->rmin : r >= row->rmin;
    int hi = row->rmax_open ? r < row->rmax : r <= row->rmax;
    if (lo && hi)
        return LS_OK;
    if (isinf(row->rmax))
        return cfgi_fail_at(c, line, col, "%s must be %s %s, not %s", row->path,
                            row->rmin_open ? ">" : ">=", NUMTEXT(row->rmin), NUMTEXT(r));
    return cfgi_fail_at(c, line, col, "%s must be in %c%s, %s%c, not %s", row->path,
                        row->rmin_open ? '(' : '[', NUMTEXT(row->rmin), NUMTEXT(row->rmax),
                        row->rmax_open ? ')' : ']', NUMTEXT(r));
}

static int check_string(struct ctx *c, const struct key_def *row, const char *s, int line, int col)
{
    char list[256];
    if (row->flags & K_IDENT) {
        size_t n = strlen(s), ok = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789_.-");
        if (n == 0 || ok != n)
            return cfgi_fail_at(c, line, col,
                                "%s '%s' must be 1 to %d of the characters A-Z a-z 0-9 _ . -",
                                row->path, s, LS_NAME_MAX - 1);
    }
    if (row->flags & K_FAMILY) {
        if (model_find(s) != NULL)
            return LS_OK;
        cfgi_join_list(model_families(), list, sizeof list);
        return cfgi_fail_at(c, line, col, "unknown model family '%s' (known: %s)", s, list);
    }
    const char *const *allowed = row->allowed;
    if (row->by_family) {
        const struct family_values *f = cfgi_family_entry(row, c->job->model.family);
        allowed = f ? f->allowed : NULL;
    }
    if (allowed == NULL)
        return LS_OK;
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(allowed[i], s) == 0)
            return LS_OK;
    cfgi_join_list(allowed, list, sizeof list);
    if (row->flags & K_KIND)
        return cfgi_fail_at(c, line, col, "unknown data kind '%s' (known: %s)", s, list);
    return cfgi_fail_at(c, line, col, "%s must be one of %s, not '%s'", row->path, list, s);
}

/* A value's own rule: the range of a number, the allowed set of a string. */
int cfgi_check_value(struct ctx *c, const struct key_def *row, const struct value *v, int line,
                     int col)
{
    if (row->type == LS_T_INT && (v->i < row->imin || v->i > row->imax)) {
        if (row->imax == INT64_MAX)
            return cfgi_fail_at(c, line, col, "%s must be >= %" PRId64 ", not %" PRId64, row->path,
                                row->imin, v->i);
        return cfgi_fail_at(c, line, col,
                            "%s must be between %" PRId64 " and %" PRId64 ", not %" PRId64,
                            row->path, row->imin, row->imax, v->i);
    }
    if (row->type == LS_T_REAL)
        return cfgi_check_real_range(c, row, v->r, line, col);
    if (row->type == LS_T_STR)
        return check_string(c, row, v->s, line, col);
    return LS_OK;
}
