/* cfg_internal.h — what the parts of the job-file loader share; private to src/cfg*.c.
 *
 * The loader is one module (prefix cfg_, public header include/lazysweep/cfg.h) split over files
 * for readability: cfg.c (messages, the tree walk, values, whole-job checks, the public entry
 * points), cfg_table.c (the key table and its lookups), cfg_scalar.c (one value parsed and
 * checked), cfg_grid.c (the grid section) and cfg_text.c (canonical text and cfg_diff). This
 * header holds the types they pass each other and the functions they call across files, all
 * prefixed cfgi_ so that nothing clashes in liblazysweep.a. Nothing outside src/cfg*.c includes
 * it. */
#ifndef LAZYSWEEP_CFG_INTERNAL_H
#define LAZYSWEEP_CFG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lazysweep/cfg.h"
#include "lazysweep/grid.h"
#include "lazysweep/yamltree.h"

struct ls_model_ops;

enum key_flags {
    K_REQUIRED = 1,   /* no default: the file must give it */
    K_IDENT = 2,      /* a name: [A-Za-z0-9_.-], 1..63 characters */
    K_FAMILY = 4,     /* a registered model family */
    K_KIND = 8,       /* a data kind (messages say so) */
    K_SCALED = 16,    /* a number or {base, scale: {...}} (struct ls_scaled) */
    K_PER_LAYER = 64, /* a number, or a list of them one per layer (struct ls_reals) */
    K_SEQ = 128,      /* a list of numbers (struct ls_list); never an axis */
    K_FILE = 256,     /* a string of up to LS_FILE_MAX - 1 bytes (a path) */
    K_DISTINCT = 512, /* K_SEQ: no value twice */
};

/* A string key whose allowed values and default depend on the model family: one entry per
 * family the key applies to, ended by a NULL family. */
struct family_values {
    const char *family;
    const char *const *allowed;
    const char *sdef;
};

struct key_def {
    const char *path;
    enum ls_type type;
    size_t off;                 /* offsetof(struct ls_job, field) */
    int64_t imin, imax;         /* LS_T_INT: inclusive range */
    double rmin, rmax;          /* LS_T_REAL: range ... */
    int rmin_open, rmax_open;   /* ... with these ends excluded */
    const char *const *allowed; /* LS_T_STR: the values allowed, or NULL */
    double def;                 /* default of a numeric key */
    const char *sdef;           /* default of a string key */
    unsigned flags;
    const char *family;                    /* applies only to this model family, or NULL */
    const char *kind;                      /* applies only to this data kind, or NULL */
    const char *no_axis;                   /* why it cannot be a grid axis, or NULL */
    const char *canon;                     /* the canonical axis that sweeps it, or NULL */
    const struct family_values *by_family; /* replaces allowed, sdef and family, or NULL */
    const char *when;                      /* applies only when this string key ... */
    const char *const *when_in;            /* ... has one of these values (NULL-terminated) */
};

/* Rows of cfgi_keys (cfg_table.c checks the count with a static assertion). A constant because
 * struct ctx sizes its per-key arrays by it. */
#define CFGI_N_KEYS 74
/* The key table, sorted by path: the canonical text lists keys in this order. */
extern const struct key_def cfgi_keys[];

/* Sections of the job file (sections[] in cfg.c, checked there by a static assertion). */
#define CFGI_N_SECTIONS 9

struct entry {
    const struct key_def *row;
    const struct yt_node *k, *v;
};

enum spec_kind { SP_LIST, SP_LINSPACE, SP_LOGSPACE, SP_RANGE };

/* One swept axis while it is parsed. */
struct axis_src {
    const struct key_def *row;
    const struct yt_node *k, *spec, *args; /* args: the value list, or [start, stop(, count)] */
    enum spec_kind kind;
    double a, b;    /* linspace / logspace ends */
    int64_t ia, ib; /* range ends */
    uint64_t n;
    int exponent; /* sparsity: {compression_exponent: SPEC}: value x means s = 1 − 10^(−x) */
};

struct ctx {
    const char *path;
    char *err;
    size_t errlen;
    struct ls_job *job;
    const struct yt_node *root;
    struct entry ent[CFGI_N_KEYS]; /* keys given in the file, in file order */
    size_t n_ent;
    const struct entry *slot[CFGI_N_KEYS];      /* by row */
    const struct yt_node *sec[CFGI_N_SECTIONS]; /* section key nodes */
    const struct yt_node *metrics_k, *metrics_v, *grid_k, *grid_v, *store_k, *store_v;
    const struct ls_model_ops *ops;
    struct axis_src ax[LS_MAX_AXES];
    size_t n_ax;
};

struct value {
    int64_t i;
    double r;
    const char *s;
    int b;
};

/* ---- messages (cfg.c) -------------------------------------------------------------------- */

/* Formats "FILE:LINE:COL: message" into c->err; returns LS_EJOB (via yt_fail). */
int cfgi_fail_at(struct ctx *c, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#define FAIL(c, node, ...) cfgi_fail_at((c), (node)->line, (node)->col, __VA_ARGS__)

/* How a node looks, for "must be X, not Y" (may write into buf). */
const char *cfgi_describe(const struct yt_node *n, char *buf, size_t len);
/* A NULL-terminated list as "a, b, c" into buf. */
void cfgi_join_list(const char *const *list, char *buf, size_t len);

/* ---- the table (cfg_table.c) ------------------------------------------------------------- */

/* The row of a dotted key path, or NULL. */
const struct key_def *cfgi_find_row(const char *path);
/* The family's entry of a key whose values depend on the family, or NULL. */
const struct family_values *cfgi_family_entry(const struct key_def *row, const char *family);
/* Does the key apply to this model family? */
int cfgi_applies_to_family(const struct key_def *row, const char *family);
/* Does the `when` key (a string key: data.kind, train.optimizer, ...) hold one of when_in? */
int cfgi_applies_when(const struct ls_job *job, const struct key_def *row);
/* Does the key mean anything for this job's model family, data kind, optimizer, schedule? */
int cfgi_row_applies(const struct ls_job *job, const struct key_def *row);
/* Axis name → row: a canonical name, else the dotted path of a key; NULL if neither. */
const struct key_def *cfgi_axis_row(const char *name);
/* Stores a value into the job at the row's offset. */
void cfgi_put_value(struct ls_job *job, const struct key_def *row, const struct value *v);
/* The job's integer value of an LS_T_INT row. */
int64_t cfgi_get_int(const struct ls_job *job, const struct key_def *row);
/* The job's number of an LS_T_REAL row. */
double cfgi_get_real(const struct ls_job *job, const struct key_def *row);
/* Sets the row's key of the job to value j of the axis. */
void cfgi_apply_axis(struct ls_job *job, const struct key_def *row, const struct ls_axis *a,
                     size_t j);

/* ---- scalars (cfg_scalar.c) -------------------------------------------------------------- */

/* An integer scalar (no leading zeros, fits in 64 bits), named `what` in messages. */
int cfgi_parse_int(struct ctx *c, const char *what, const struct yt_node *n, int64_t *out);
/* A finite number scalar, named `what` in messages. */
int cfgi_parse_real(struct ctx *c, const char *what, const struct yt_node *n, double *out);
/* A string scalar of fewer than LS_NAME_MAX bytes, without NULs. */
int cfgi_parse_string(struct ctx *c, const char *what, const struct yt_node *n, const char **out);
/* A scalar of the row's type into v, not yet checked against the row's rule. */
int cfgi_parse_scalar(struct ctx *c, const struct key_def *row, const struct yt_node *n,
                      struct value *v);
/* A number against the row's range, with the open/closed ends of the row. */
int cfgi_check_real_range(struct ctx *c, const struct key_def *row, double r, int line, int col);
/* A value's own rule: the range of a number, the allowed set of a string. */
int cfgi_check_value(struct ctx *c, const struct key_def *row, const struct value *v, int line,
                     int col);

/* ---- values (cfg.c) ---------------------------------------------------------------------- */

/* A key meant for another family, data kind or `when` value would be silently ignored: refuse
 * it at node k. */
int cfgi_check_applies(struct ctx *c, const struct key_def *row, const struct yt_node *k);

/* ---- grid (cfg_grid.c) ------------------------------------------------------------------- */

/* The node to blame for value j of an axis: its list item, or the generator spec. */
const struct yt_node *cfgi_value_node(const struct axis_src *a, uint64_t j);
/* The grid section into c->job->grid: swept axes checked value by value, plus singletons. */
int cfgi_load_grid(struct ctx *c);

/* ---- canonical text (cfg_text.c) --------------------------------------------------------- */

/* job->canonical, job->hash and job->hash_hex from the job's keys, metrics, store and axes. */
int cfgi_build_canonical(struct ls_job *job);

#endif
