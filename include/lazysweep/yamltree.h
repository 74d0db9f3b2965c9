/* yamltree.h — one YAML document as a small tree of scalars, sequences and mappings.
 *
 * Built from libyaml *events* rather than its document loader so that the job-file limits hold
 * while the input streams: anchors, aliases and tags are refused where they appear, nesting is
 * capped at LS_MAX_DEPTH before a deeper node is built, scalars are capped at YT_SCALAR_MAX bytes,
 * a second document and duplicate mapping keys are errors. Every error is "FILE:LINE:COL: message"
 * (1-based). Used by cfg only; knows nothing of what the keys mean. */
#ifndef LAZYSWEEP_YAMLTREE_H
#define LAZYSWEEP_YAMLTREE_H

#include <stddef.h>

#define YT_SCALAR_MAX 4096 /* longest scalar, in bytes */

enum yt_kind { YT_SCALAR = 1, YT_SEQ, YT_MAP };

struct yt_node {
    enum yt_kind kind;
    int line, col;         /* 1-based position where the node starts */
    char *text;            /* YT_SCALAR: value, NUL-terminated (may hold NULs: see len) */
    size_t len;            /* YT_SCALAR: bytes in text */
    int quoted;            /* YT_SCALAR: quoted or block style, so a string, never a number */
    size_t n;              /* YT_SEQ: items; YT_MAP: key/value pairs */
    struct yt_node **kid;  /* YT_SEQ: kid[n]; YT_MAP: kid[2n] = key0, value0, key1, value1, ... */
};

/* Parse `text` [len] (one document) into *root. On error returns LS_EJOB (LS_ENOMEM when out of
 * memory) with the message in err, and *root is NULL. An empty stream is an error at 1:1. */
int yt_parse(const char *path, const char *text, size_t len, struct yt_node **root, char *err,
             size_t errlen);

/* Release a tree; safe on NULL and twice (sets *root to NULL). */
void yt_free(struct yt_node **root);

/* Format "PATH:LINE:COL: message" into err; returns LS_EJOB, so `return yt_fail(...)` works. */
int yt_fail(char *err, size_t errlen, const char *path, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

#endif
