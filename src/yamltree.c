/* yamltree.c — libyaml events → a small node tree, with the job-file limits enforced while the
 * input streams.
 *
 * libyaml's document loader would happily expand aliases (billion laughs) and build a 10^5-deep
 * tree before we could look at it, so the tree is built here from the event stream instead: each
 * event is checked before any node is made for it, and the first problem ends the parse. */
#include "lazysweep/yamltree.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lazysweep/cfg.h"
#include "lazysweep/error.h"

struct builder {
    const char *path;
    const char *text;
    size_t len;
    char *err;
    size_t errlen;
    struct yt_node *root;
    int docs;                            /* documents started so far */
    size_t depth;                        /* open collections */
    struct yt_node *open[LS_MAX_DEPTH];  /* the open collections, outermost first */
    size_t nkid[LS_MAX_DEPTH];           /* children attached to each (keys and values) */
    size_t cap[LS_MAX_DEPTH];            /* room in each one's kid array */
};

int yt_fail(char *err, size_t errlen, const char *path, int line, int col, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return LS_EJOB;
    int n = snprintf(err, errlen, "%s:%d:%d: ", path, line, col);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return LS_EJOB;
}

void yt_free(struct yt_node **root)
{
    struct yt_node *n = root ? *root : NULL;
    if (n == NULL)
        return;
    size_t kids = n->kind == YT_MAP ? 2 * n->n : n->kind == YT_SEQ ? n->n : 0;
    for (size_t i = 0; i < kids; i++)
        yt_free(&n->kid[i]);
    free(n->kid);
    free(n->text);
    free(n);
    *root = NULL;
}

/* libyaml marks are 0-based; ours are 1-based. */
static int mark_fail(struct builder *b, yaml_mark_t m, const char *msg)
{
    return yt_fail(b->err, b->errlen, b->path, (int)m.line + 1, (int)m.column + 1, "%s", msg);
}

/* Reader errors (bad UTF-8, control characters) carry a byte offset instead of a mark; count
 * lines and characters up to it the way libyaml's marks do. */
static void offset_to_mark(const struct builder *b, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < b->len; i++) {
        unsigned char c = (unsigned char)b->text[i];
        if (c == '\n') {
            ++*line;
            *col = 1;
        } else if ((c & 0xC0) != 0x80) { /* UTF-8 continuation bytes are not characters */
            ++*col;
        }
    }
}

static int syntax_error(struct builder *b, const yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "unknown problem";
    if (p->error == YAML_MEMORY_ERROR) {
        snprintf(b->err, b->errlen, "%s: out of memory while parsing", b->path);
        return LS_ENOMEM;
    }
    if (p->error == YAML_READER_ERROR) {
        int line, col;
        offset_to_mark(b, p->problem_offset, &line, &col);
        return yt_fail(b->err, b->errlen, b->path, line, col, "YAML syntax error: %s (value 0x%X)",
                       problem, (unsigned)p->problem_value);
    }
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    if (p->context)
        return yt_fail(b->err, b->errlen, b->path, line, col, "YAML syntax error: %s (%s at %d:%d)",
                       problem, p->context, (int)p->context_mark.line + 1,
                       (int)p->context_mark.column + 1);
    return yt_fail(b->err, b->errlen, b->path, line, col, "YAML syntax error: %s", problem);
}

/* Hang a new node under the innermost open collection (or make it the root). The tree owns it
 * from here on, so every later error path frees it with the tree. */
static int attach(struct builder *b, struct yt_node *node)
{
    if (b->depth == 0) {
        b->root = node;
        return LS_OK;
    }
    size_t d = b->depth - 1;
    struct yt_node *parent = b->open[d];
    if (b->nkid[d] == b->cap[d]) {
        size_t cap = b->cap[d] ? 2 * b->cap[d] : 8;
        struct yt_node **kid = realloc(parent->kid, cap * sizeof *kid);
        if (kid == NULL) {
            yt_free(&node);
            return LS_ENOMEM;
        }
        parent->kid = kid;
        b->cap[d] = cap;
    }
    parent->kid[b->nkid[d]++] = node;
    parent->n = b->nkid[d];
    if (parent->kind == YT_MAP) {
        /* Count a key still waiting for its value as a pair with a NULL value, so a tree freed
         * mid-parse frees that key too (cap is even, so the slot exists). */
        parent->n = (b->nkid[d] + 1) / 2;
        if (b->nkid[d] % 2 == 1)
            parent->kid[b->nkid[d]] = NULL;
    }
    /* A key that is itself a collection could never name a job-file key. */
    if (parent->kind == YT_MAP && b->nkid[d] % 2 == 1 && node->kind != YT_SCALAR)
        return yt_fail(b->err, b->errlen, b->path, node->line, node->col,
                       "mapping keys must be scalars, not a %s",
                       node->kind == YT_MAP ? "mapping" : "sequence");
    return LS_OK;
}

static struct yt_node *new_node(enum yt_kind kind, yaml_mark_t m)
{
    struct yt_node *n = calloc(1, sizeof *n);
    if (n) {
        n->kind = kind;
        n->line = (int)m.line + 1;
        n->col = (int)m.column + 1;
    }
    return n;
}

/* Anchors, aliases and tags are refused: a job file is plain data, and refusing them outright
 * is what makes alias bombs impossible. */
static int check_props(struct builder *b, const yaml_event_t *ev, const yaml_char_t *anchor,
                       const yaml_char_t *tag)
{
    if (anchor)
        return mark_fail(b, ev->start_mark, "anchors and aliases are not allowed");
    if (tag)
        return mark_fail(b, ev->start_mark, "tags are not allowed");
    return LS_OK;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    int rc = check_props(b, ev, ev->data.scalar.anchor, ev->data.scalar.tag);
    if (rc != LS_OK)
        return rc;
    size_t len = ev->data.scalar.length;
    if (len > YT_SCALAR_MAX) {
        char msg[64];
        snprintf(msg, sizeof msg, "scalar longer than %d bytes", YT_SCALAR_MAX);
        return mark_fail(b, ev->start_mark, msg);
    }
    struct yt_node *n = new_node(YT_SCALAR, ev->start_mark);
    if (n == NULL)
        return LS_ENOMEM;
    n->text = malloc(len + 1);
    if (n->text == NULL) {
        free(n);
        return LS_ENOMEM;
    }
    memcpy(n->text, ev->data.scalar.value, len);
    n->text[len] = '\0';
    n->len = len;
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    return attach(b, n);
}

static int on_start(struct builder *b, const yaml_event_t *ev)
{
    int is_map = ev->type == YAML_MAPPING_START_EVENT;
    int rc = is_map ? check_props(b, ev, ev->data.mapping_start.anchor, ev->data.mapping_start.tag)
                    : check_props(b, ev, ev->data.sequence_start.anchor,
                                  ev->data.sequence_start.tag);
    if (rc != LS_OK)
        return rc;
    /* Checked before the node exists, so a 10^5-deep input costs 33 nodes, not 10^5. */
    if (b->depth >= LS_MAX_DEPTH) {
        char msg[64];
        snprintf(msg, sizeof msg, "nesting deeper than %d levels", LS_MAX_DEPTH);
        return mark_fail(b, ev->start_mark, msg);
    }
    struct yt_node *n = new_node(is_map ? YT_MAP : YT_SEQ, ev->start_mark);
    if (n == NULL)
        return LS_ENOMEM;
    rc = attach(b, n);
    if (rc != LS_OK)
        return rc;
    b->open[b->depth] = n;
    b->nkid[b->depth] = 0;
    b->cap[b->depth] = 0;
    b->depth++;
    return LS_OK;
}

struct keyref {
    const struct yt_node *key;
    size_t i; /* position in the mapping */
};

static int keyref_cmp(const void *pa, const void *pb)
{
    const struct keyref *a = pa, *b = pb;
    size_t n = a->key->len < b->key->len ? a->key->len : b->key->len;
    int c = memcmp(a->key->text, b->key->text, n);
    if (c == 0 && a->key->len != b->key->len)
        c = a->key->len < b->key->len ? -1 : 1;
    if (c == 0)
        c = a->i < b->i ? -1 : a->i > b->i;
    return c;
}

/* Duplicate keys, by sorting so a hostile 10^5-key mapping stays O(n log n). Reports the
 * repeated key that comes first in the file, naming where that key was first given. */
static int check_dups(struct builder *b, const struct yt_node *map)
{
    if (map->n < 2)
        return LS_OK;
    struct keyref *r = malloc(map->n * sizeof *r);
    if (r == NULL)
        return LS_ENOMEM;
    for (size_t i = 0; i < map->n; i++)
        r[i] = (struct keyref){map->kid[2 * i], i};
    qsort(r, map->n, sizeof *r, keyref_cmp);
    size_t best = map->n, first = 0, group = 0;
    for (size_t i = 1; i < map->n; i++) {
        struct keyref a = r[group], c = r[i];
        if (a.key->len != c.key->len || memcmp(a.key->text, c.key->text, a.key->len) != 0) {
            group = i;
            continue;
        }
        if (i == group + 1 && c.i < best) { /* the second of a group is its earliest repeat */
            best = c.i;
            first = a.i;
        }
    }
    free(r);
    if (best == map->n)
        return LS_OK;
    const struct yt_node *k = map->kid[2 * best], *f = map->kid[2 * first];
    return yt_fail(b->err, b->errlen, b->path, k->line, k->col,
                   "duplicate key '%.80s' (first at %d:%d)", k->text, f->line, f->col);
}

static int on_end(struct builder *b)
{
    struct yt_node *n = b->open[--b->depth];
    return n->kind == YT_MAP ? check_dups(b, n) : LS_OK;
}

static int on_event(struct builder *b, const yaml_event_t *ev, int *done)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (b->docs++ > 0)
            return mark_fail(b, ev->start_mark,
                             "more than one YAML document (a job file is one document)");
        return LS_OK;
    case YAML_ALIAS_EVENT:
        return mark_fail(b, ev->start_mark, "anchors and aliases are not allowed");
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        return on_start(b, ev);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(b);
    case YAML_STREAM_END_EVENT:
        *done = 1;
        return LS_OK;
    default:
        return LS_OK;
    }
}

int yt_parse(const char *path, const char *text, size_t len, struct yt_node **root, char *err,
             size_t errlen)
{
    struct builder b = {.path = path, .text = text, .len = len, .err = err, .errlen = errlen};
    yaml_parser_t p;
    int rc = LS_OK, done = 0;
    *root = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!yaml_parser_initialize(&p)) {
        snprintf(err, errlen, "%s: out of memory", path);
        return LS_ENOMEM;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (rc == LS_OK && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = syntax_error(&b, &p);
            break;
        }
        rc = on_event(&b, &ev, &done);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (rc == LS_OK && b.root == NULL)
        rc = yt_fail(err, errlen, path, 1, 1, "empty job file (no YAML document)");
    if (rc == LS_ENOMEM && err && errlen && err[0] == '\0')
        snprintf(err, errlen, "%s: out of memory", path);
    if (rc != LS_OK)
        yt_free(&b.root);
    *root = b.root;
    return rc;
}
