/* cfg.c — the job file: YAML tree → validated struct ls_job, grid, canonical text and hash.
 *
 * Every key is one row of `keys` below (twemproxy's config table). The same rows parse the file,
 * range-check grid values, apply a grid point's values to a copy of the job (by offset) and write
 * the canonical text whose hash identifies the experiment. The YAML itself is read by yamltree.c,
 * which already refused anchors, aliases, tags, deep nesting, long scalars and duplicate keys.
 * Every error names FILE:LINE:COL of the node at fault. */
#include "lazysweep/cfg.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lazysweep/data.h"
#include "lazysweep/error.h"
#include "lazysweep/model.h"
#include "lazysweep/optim.h"
#include "lazysweep/rng.h"
#include "lazysweep/yamltree.h"

enum key_flags {
    K_REQUIRED = 1, /* no default: the file must give it */
    K_IDENT = 2,    /* a name: [A-Za-z0-9_.-], 1..63 characters */
    K_FAMILY = 4,   /* a registered model family */
    K_KIND = 8,     /* a data kind (messages say so) */
    K_SCALED = 16,  /* a number or {base, scale: {...}} (struct ls_scaled) */
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
    size_t off;                  /* offsetof(struct ls_job, field) */
    int64_t imin, imax;          /* LS_T_INT: inclusive range */
    double rmin, rmax;           /* LS_T_REAL: range ... */
    int rmin_open, rmax_open;    /* ... with these ends excluded */
    const char *const *allowed;  /* LS_T_STR: the values allowed, or NULL */
    double def;                  /* default of a numeric key */
    const char *sdef;            /* default of a string key */
    unsigned flags;
    const char *family;          /* applies only to this model family, or NULL */
    const char *kind;            /* applies only to this data kind, or NULL */
    const char *no_axis;         /* why it cannot be a grid axis, or NULL */
    const char *canon;           /* the canonical axis that sweeps it, or NULL */
    const struct family_values *by_family; /* replaces allowed, sdef and family, or NULL */
    const char *when;            /* applies only when this string key ... */
    const char *const *when_in;  /* ... has one of these values (NULL-terminated) */
};

#define OFF(field) offsetof(struct ls_job, field)
#define SCHEDULE "it shapes the logged-step schedule that every point shares"

static const char *const diagonal_inits[] = {"constant", "random", NULL};
static const char *const mlp_inits[] = {"gaussian", "uniform", "orthogonal", NULL};
static const char *const matrix_inits[] = {"identity", "gaussian", NULL};
static const struct family_values init_values[] = {
    {"diagonal", diagonal_inits, "constant"},
    {"mlp", mlp_inits, "gaussian"},
    {"matrix", matrix_inits, "identity"},
    {NULL, NULL, NULL},
};
static const char *const activations[] = {"relu", "leaky_relu", "tanh", "linear", NULL};
static const char *const variances[] = {"he", "lecun", "xavier", "pytorch", "explicit", NULL};
static const char *const parametrizations[] = {"standard", "ntk", NULL};
static const char *const scale_modes[] = {"weights", "output", NULL};
static const char *const losses[] = {"mse", "bce", "cross_entropy", "soft_f1", "soft_accuracy",
                                     NULL};
static const char *const data_kinds[] = {"sparse_regression", "teacher_student", "points1d",
                                         "blobs", "fashion_mnist", "hdf5", "matrix_completion",
                                         "matrix_sensing", NULL};
/* Which data kinds a data key applies to (with .when = "data.kind"). */
static const char *const k_generated[] = {"sparse_regression", "teacher_student", "blobs",
                                          "matrix_completion", "matrix_sensing", NULL};
static const char *const k_sized[] = {"sparse_regression", "teacher_student", "blobs",
                                      "fashion_mnist", "hdf5", NULL};
static const char *const k_test[] = {"sparse_regression", "teacher_student", "blobs",
                                     "fashion_mnist", NULL};
static const char *const k_noise[] = {"sparse_regression", "teacher_student",
                                      "matrix_completion", "matrix_sensing", NULL};
static const char *const k_matrix[] = {"matrix_completion", "matrix_sensing", NULL};
static const char *const k_completion[] = {"matrix_completion", NULL};
static const char *const k_sensing[] = {"matrix_sensing", NULL};
static const char *const k_flips[] = {"teacher_student", "blobs", NULL};
static const char *const k_teacher[] = {"teacher_student", NULL};
static const char *const k_points[] = {"points1d", NULL};
static const char *const k_blobs[] = {"blobs", NULL};
static const char *const k_fmnist[] = {"fashion_mnist", NULL};
static const char *const k_scaled[] = {"fashion_mnist", "hdf5", NULL};
static const char *const k_hdf5[] = {"hdf5", NULL};
static const char *const scalings[] = {"unit", "standardize", "none", NULL};
static const char *const tasks[] = {"regression", "binary", "classes", NULL};
static const char *const optimizers[] = {"gd", "sgd", "momentum", "nesterov", "adam", "adamw",
                                         NULL};
static const char *const o_batched[] = {"sgd", "momentum", "nesterov", "adam", "adamw", NULL};
static const char *const o_momentum[] = {"momentum", "nesterov", NULL};
static const char *const o_adam[] = {"adam", "adamw", NULL};
static const char *const schedules[] = {"constant", "step", "halve_on_rise", NULL};
static const char *const s_step[] = {"step", NULL};
#define KIND(list) .when = "data.kind", .when_in = (list)
#define OPTIMIZER(list) .when = "train.optimizer", .when_in = (list)
#define LIST_AXIS "lists are not swept"
#define FILE_AXIS "file and dataset paths are not swept"
static const char *const spacings[] = {"log", "linear", NULL};

/* Sorted by path: the canonical text lists keys in this order. */
static const struct key_def keys[] = {
    {.path = "data.classes", .type = LS_T_INT, .off = OFF(data.classes), .imin = 0, .imax = 9,
     .flags = K_SEQ | K_DISTINCT, KIND(k_fmnist), .no_axis = LIST_AXIS},
    {.path = "data.dim", .type = LS_T_INT, .off = OFF(data.dim), .imin = 1, .imax = 1000000000,
     .def = 1000, KIND(k_generated)},
    {.path = "data.file", .type = LS_T_STR, .off = OFF(data.file), .flags = K_FILE,
     KIND(k_hdf5), .no_axis = FILE_AXIS},
    {.path = "data.kind", .type = LS_T_STR, .off = OFF(data.kind), .allowed = data_kinds,
     .flags = K_REQUIRED | K_KIND, .no_axis = "a sweep has one data kind"},
    {.path = "data.label_noise", .type = LS_T_REAL, .off = OFF(data.label_noise), .rmin = 0,
     .rmax = 1, .rmax_open = 1, .def = 0, KIND(k_flips)},
    {.path = "data.n_classes", .type = LS_T_INT, .off = OFF(data.n_classes), .imin = 0,
     .imax = 100000, .def = 0, KIND(k_teacher)},
    {.path = "data.n_test", .type = LS_T_INT, .off = OFF(data.n_test), .imin = 0,
     .imax = 1000000000, .def = 0, KIND(k_test)},
    {.path = "data.measurements", .type = LS_T_INT, .off = OFF(data.measurements), .imin = 1,
     .imax = 1000000000, .def = 200, KIND(k_sensing)},
    {.path = "data.n_train", .type = LS_T_INT, .off = OFF(data.n_train), .imin = 1,
     .imax = 1000000000, .def = 100, KIND(k_sized)},
    {.path = "data.noise_std", .type = LS_T_REAL, .off = OFF(data.noise_std), .rmin = 0,
     .rmax = INFINITY, .def = 0.1, KIND(k_noise)},
    {.path = "data.observed", .type = LS_T_INT, .off = OFF(data.observed), .imin = 1,
     .imax = 1000000000, .def = 200, KIND(k_completion)},
    {.path = "data.one_vs_rest", .type = LS_T_INT, .off = OFF(data.one_vs_rest), .imin = -1,
     .imax = 9, .def = -1, KIND(k_fmnist)},
    {.path = "data.path", .type = LS_T_STR, .off = OFF(data.path), .flags = K_FILE,
     .sdef = "/usr/share/datasets/fashion-mnist", KIND(k_fmnist), .no_axis = FILE_AXIS},
    {.path = "data.positive_fraction", .type = LS_T_REAL, .off = OFF(data.positive_fraction),
     .rmin = 0, .rmin_open = 1, .rmax = 1, .rmax_open = 1, .def = 0.5, KIND(k_blobs)},
    {.path = "data.rank", .type = LS_T_INT, .off = OFF(data.rank), .imin = 1,
     .imax = 1000000000, .def = 2, KIND(k_matrix)},
    {.path = "data.scaling", .type = LS_T_STR, .off = OFF(data.scaling), .allowed = scalings,
     .sdef = "unit", KIND(k_scaled)},
    {.path = "data.separation", .type = LS_T_REAL, .off = OFF(data.separation), .rmin = 0,
     .rmax = INFINITY, .def = 2, KIND(k_blobs)},
    {.path = "data.support", .type = LS_T_INT, .off = OFF(data.support), .imin = 1,
     .imax = 1000000000, .def = 5, .kind = "sparse_regression"},
    {.path = "data.task", .type = LS_T_STR, .off = OFF(data.task), .allowed = tasks,
     .sdef = "regression", KIND(k_hdf5), .no_axis = "it fixes what y means"},
    {.path = "data.teacher_depth", .type = LS_T_INT, .off = OFF(data.teacher_depth), .imin = 0,
     .imax = 1000, .def = 1, KIND(k_teacher)},
    {.path = "data.teacher_width", .type = LS_T_INT, .off = OFF(data.teacher_width), .imin = 1,
     .imax = 1000000, .def = 10, KIND(k_teacher)},
    {.path = "data.test_fraction", .type = LS_T_REAL, .off = OFF(data.test_fraction), .rmin = 0,
     .rmax = 1, .rmax_open = 1, .def = 0.2, KIND(k_hdf5)},
    {.path = "data.x", .type = LS_T_REAL, .off = OFF(data.x), .rmin = -INFINITY,
     .rmax = INFINITY, .flags = K_SEQ, KIND(k_points), .no_axis = LIST_AXIS},
    {.path = "data.x_dataset", .type = LS_T_STR, .off = OFF(data.x_dataset), .flags = K_FILE,
     .sdef = "X", KIND(k_hdf5), .no_axis = FILE_AXIS},
    {.path = "data.y", .type = LS_T_REAL, .off = OFF(data.y), .rmin = -INFINITY,
     .rmax = INFINITY, .flags = K_SEQ, KIND(k_points), .no_axis = LIST_AXIS},
    {.path = "data.y_dataset", .type = LS_T_STR, .off = OFF(data.y_dataset), .flags = K_FILE,
     .sdef = "y", KIND(k_hdf5), .no_axis = FILE_AXIS},
    {.path = "model.activation", .type = LS_T_STR, .off = OFF(model.activation),
     .allowed = activations, .sdef = "relu", .family = "mlp"},
    {.path = "model.antisymmetric", .type = LS_T_BOOL, .off = OFF(model.antisymmetric), .def = 0,
     .family = "mlp"},
    {.path = "model.bias", .type = LS_T_BOOL, .off = OFF(model.bias), .def = 1, .family = "mlp"},
    {.path = "model.bias_scale", .type = LS_T_REAL, .off = OFF(model.bias_scale), .rmin = 0,
     .rmax = INFINITY, .def = 0, .flags = K_PER_LAYER, .family = "mlp"},
    {.path = "model.depth", .type = LS_T_INT, .off = OFF(model.depth), .imin = 1, .imax = 10000,
     .def = 2, .canon = "depth"},
    {.path = "model.family", .type = LS_T_STR, .off = OFF(model.family),
     .flags = K_REQUIRED | K_FAMILY, .no_axis = "a sweep has one model family"},
    {.path = "model.init", .type = LS_T_STR, .off = OFF(model.init), .by_family = init_values},
    {.path = "model.init_scale", .type = LS_T_REAL, .off = OFF(model.init_scale), .rmin = 0,
     .rmin_open = 1, .rmax = 1e12, .def = 1.0, .canon = "init_scale"},
    {.path = "model.leaky_slope", .type = LS_T_REAL, .off = OFF(model.leaky_slope), .rmin = 0,
     .rmax = 1, .def = 0.01, .family = "mlp"},
    {.path = "model.parametrization", .type = LS_T_STR, .off = OFF(model.parametrization),
     .allowed = parametrizations, .sdef = "standard", .family = "mlp"},
    {.path = "model.scale_mode", .type = LS_T_STR, .off = OFF(model.scale_mode),
     .allowed = scale_modes, .sdef = "weights", .family = "mlp"},
    {.path = "model.sparsity", .type = LS_T_REAL, .off = OFF(model.sparsity), .rmin = 0, .rmax = 1,
     .rmax_open = 1, .def = 0, .canon = "sparsity"},
    {.path = "model.variance", .type = LS_T_STR, .off = OFF(model.variance),
     .allowed = variances, .sdef = "he", .family = "mlp"},
    {.path = "model.weight_scale", .type = LS_T_REAL, .off = OFF(model.weight_scale), .rmin = 0,
     .rmax = INFINITY, .def = 1, .flags = K_PER_LAYER, .family = "mlp"},
    {.path = "model.width", .type = LS_T_INT, .off = OFF(model.width), .imin = 1,
     .imax = 1000000000, .def = 1, .canon = "width"},
    {.path = "name", .type = LS_T_STR, .off = OFF(name), .flags = K_REQUIRED | K_IDENT,
     .no_axis = "it names the whole sweep"},
    {.path = "seed", .type = LS_T_INT, .off = OFF(seed), .imin = 0, .imax = INT64_MAX, .def = 0,
     .no_axis = "the master seed is fixed; the axis 'seed' sweeps the per-point seed"},
    {.path = "train.batch_size", .type = LS_T_INT, .off = OFF(train.batch_size), .imin = 0,
     .imax = 1000000000, .def = 0, OPTIMIZER(o_batched)},
    {.path = "train.beta1", .type = LS_T_REAL, .off = OFF(train.beta1), .rmin = 0, .rmax = 1,
     .rmax_open = 1, .def = 0.9, OPTIMIZER(o_adam)},
    {.path = "train.beta2", .type = LS_T_REAL, .off = OFF(train.beta2), .rmin = 0, .rmax = 1,
     .rmax_open = 1, .def = 0.999, OPTIMIZER(o_adam)},
    {.path = "train.eps", .type = LS_T_REAL, .off = OFF(train.eps), .rmin = 0, .rmin_open = 1,
     .rmax = INFINITY, .def = 1e-8, OPTIMIZER(o_adam)},
    {.path = "train.log.points", .type = LS_T_INT, .off = OFF(train.log_points), .imin = 2,
     .imax = 100000, .def = 64, .no_axis = SCHEDULE},
    {.path = "train.log.spacing", .type = LS_T_STR, .off = OFF(train.log_spacing),
     .allowed = spacings, .sdef = "log", .no_axis = SCHEDULE},
    {.path = "train.loss", .type = LS_T_STR, .off = OFF(train.loss), .allowed = losses,
     .sdef = "mse", .family = "mlp"},
    /* As an axis train.lr sets lr.base and keeps the exponents. */
    {.path = "train.lr", .type = LS_T_REAL, .off = OFF(train.lr.base), .rmin = 0, .rmin_open = 1,
     .rmax = INFINITY, .flags = K_REQUIRED | K_SCALED},
    {.path = "train.lr_decay.at", .type = LS_T_INT, .off = OFF(train.lr_decay_at), .imin = 1,
     .imax = 1000000000000, .flags = K_SEQ | K_DISTINCT, .when = "train.lr_schedule",
     .when_in = s_step, .no_axis = LIST_AXIS},
    {.path = "train.lr_decay.factor", .type = LS_T_REAL, .off = OFF(train.lr_decay_factor),
     .rmin = 0, .rmin_open = 1, .rmax = INFINITY, .def = 0.1, .when = "train.lr_schedule",
     .when_in = s_step},
    {.path = "train.lr_schedule", .type = LS_T_STR, .off = OFF(train.lr_schedule),
     .allowed = schedules, .sdef = "constant",
     .no_axis = "a sweep has one schedule (sweep train.lr_decay.factor instead)"},
    {.path = "train.max_seconds", .type = LS_T_REAL, .off = OFF(train.max_seconds), .rmin = 0,
     .rmax = INFINITY, .def = 0},
    {.path = "train.max_steps", .type = LS_T_INT, .off = OFF(train.max_steps), .imin = 1,
     .imax = 1000000000000, .def = 1000},
    {.path = "train.momentum", .type = LS_T_REAL, .off = OFF(train.momentum), .rmin = 0,
     .rmax = 1, .rmax_open = 1, .def = 0.9, OPTIMIZER(o_momentum)},
    {.path = "train.optimizer", .type = LS_T_STR, .off = OFF(train.optimizer),
     .allowed = optimizers, .sdef = "gd", .no_axis = "a sweep has one optimizer"},
    {.path = "train.stop_loss", .type = LS_T_REAL, .off = OFF(train.stop_loss), .rmin = 0,
     .rmax = INFINITY, .def = 0},
    /* Like train.lr: a number or {base, scale}; as an axis it sets the base. */
    {.path = "train.weight_decay", .type = LS_T_REAL, .off = OFF(train.weight_decay.base),
     .rmin = 0, .rmax = INFINITY, .def = 0, .flags = K_SCALED},
};
#define N_KEYS (sizeof keys / sizeof keys[0])

/* The `seed` axis is the per-point seed, not the master `seed:` key. */
static const struct key_def seed_axis = {.path = "seed", .type = LS_T_INT, .off = OFF(point_seed),
                                         .imin = 0, .imax = INT64_MAX, .canon = "seed"};

static const char *const canon_names[] = {
#define LS_CANON_NAME(n) #n,
    LS_CANONICAL_AXES(LS_CANON_NAME)
#undef LS_CANON_NAME
};
#define N_CANON (sizeof canon_names / sizeof canon_names[0])

/* Sections are mappings of keys; the required ones hold required keys. */
static const char *const sections[] = {"model", "data", "train", "train.log", "train.lr_decay"};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

#define MAX_EXACT_INT 9007199254740992.0 /* 2^53: larger integers do not survive a double */
#define MAX_EXACT_I64 (INT64_C(1) << 53)

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
};

struct ctx {
    const char *path;
    char *err;
    size_t errlen;
    struct ls_job *job;
    const struct yt_node *root;
    struct entry ent[N_KEYS]; /* keys given in the file, in file order */
    size_t n_ent;
    const struct entry *slot[N_KEYS];        /* by row */
    const struct yt_node *sec[N_SECTIONS];   /* section key nodes */
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

/* ---- messages ---------------------------------------------------------------------------- */

static int fail_at(struct ctx *c, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int fail_at(struct ctx *c, int line, int col, const char *fmt, ...)
{
    char msg[LS_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return yt_fail(c->err, c->errlen, c->path, line, col, "%s", msg);
}

#define FAIL(c, node, ...) fail_at((c), (node)->line, (node)->col, __VA_ARGS__)

/* How a node looks, for "must be X, not Y". */
static const char *describe(const struct yt_node *n, char *buf, size_t len)
{
    if (n->kind == YT_MAP)
        return "a mapping";
    if (n->kind == YT_SEQ)
        return "a list";
    snprintf(buf, len, n->quoted ? "the quoted string \"%.40s\"" : "'%.40s'", n->text);
    return buf;
}

static const char *type_noun(enum ls_type t)
{
    return t == LS_T_INT    ? "an integer"
           : t == LS_T_REAL ? "a number"
           : t == LS_T_BOOL ? "true or false"
                            : "a string";
}

static const char *type_name(enum ls_type t)
{
    return t == LS_T_INT ? "int" : t == LS_T_REAL ? "real" : t == LS_T_BOOL ? "bool" : "string";
}

static void join_list(const char *const *list, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; list && list[i] && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", list[i]);
}

/* ---- the table --------------------------------------------------------------------------- */

static const struct key_def *find_row(const char *path)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].path, path) == 0)
            return &keys[i];
    return NULL;
}

/* The family's entry of a key whose values depend on the family, or NULL. */
static const struct family_values *family_entry(const struct key_def *row, const char *family)
{
    for (const struct family_values *f = row->by_family; f && f->family; f++)
        if (strcmp(f->family, family) == 0)
            return f;
    return NULL;
}

static int applies_to_family(const struct key_def *row, const char *family)
{
    if (row->by_family)
        return family_entry(row, family) != NULL;
    return row->family == NULL || strcmp(row->family, family) == 0;
}

/* Does the `when` key (a string key: data.kind, train.optimizer, ...) hold one of when_in? */
static int applies_when(const struct ls_job *job, const struct key_def *row)
{
    const struct key_def *gate = row->when ? find_row(row->when) : NULL;
    if (gate == NULL)
        return 1;
    const char *value = (const char *)job + gate->off;
    for (const char *const *w = row->when_in; w && *w; w++)
        if (strcmp(*w, value) == 0)
            return 1;
    return 0;
}

/* Does the key mean anything for this job's model family, data kind, optimizer, schedule? */
static int row_applies(const struct ls_job *job, const struct key_def *row)
{
    return applies_to_family(row, job->model.family) &&
           (row->kind == NULL || strcmp(row->kind, job->data.kind) == 0) &&
           applies_when(job, row);
}

/* Axis name → row: a canonical name, else the dotted path of a key. */
static const struct key_def *axis_row(const char *name)
{
    if (strcmp(name, "seed") == 0)
        return &seed_axis;
    for (size_t i = 0; i < N_KEYS; i++)
        if (keys[i].canon && strcmp(keys[i].canon, name) == 0)
            return &keys[i];
    return find_row(name);
}

static int is_canonical(const char *name)
{
    for (size_t i = 0; i < N_CANON; i++)
        if (strcmp(canon_names[i], name) == 0)
            return 1;
    return 0;
}

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

static void put_value(struct ls_job *job, const struct key_def *row, const struct value *v)
{
    char *p = (char *)job + row->off;
    if (row->type == LS_T_INT)
        memcpy(p, &v->i, sizeof v->i);
    else if (row->type == LS_T_REAL)
        memcpy(p, &v->r, sizeof v->r);
    else if (row->type == LS_T_BOOL)
        memcpy(p, &v->b, sizeof v->b);
    else
        snprintf(p, row->flags & K_FILE ? LS_FILE_MAX : LS_NAME_MAX, "%s", v->s);
    if (row->flags & K_PER_LAYER) /* one number: the scalar form, whatever was listed before */
        memset(p + offsetof(struct ls_reals, n), 0, sizeof(int64_t));
}

static int64_t get_int(const struct ls_job *job, const struct key_def *row)
{
    int64_t i;
    memcpy(&i, (const char *)job + row->off, sizeof i);
    return i;
}

static double get_real(const struct ls_job *job, const struct key_def *row)
{
    double r;
    memcpy(&r, (const char *)job + row->off, sizeof r);
    return r;
}

static void apply_axis(struct ls_job *job, const struct key_def *row, const struct ls_axis *a,
                       size_t j)
{
    struct value v = {0};
    if (a->type == LS_T_STR)
        v.s = a->str[j];
    v.i = a->num ? (int64_t)a->num[j] : 0;
    v.r = a->num ? a->num[j] : 0;
    v.b = a->num ? a->num[j] != 0 : 0;
    put_value(job, row, &v);
}

/* ---- scalars ----------------------------------------------------------------------------- */

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
                    describe(n, buf, sizeof buf));
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

static int parse_int(struct ctx *c, const char *what, const struct yt_node *n, int64_t *out)
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

static int parse_real(struct ctx *c, const char *what, const struct yt_node *n, double *out)
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

static int parse_string(struct ctx *c, const char *what, const struct yt_node *n, const char **out)
{
    return parse_string_max(c, what, n, out, LS_NAME_MAX);
}

static int parse_scalar(struct ctx *c, const struct key_def *row, const struct yt_node *n,
                        struct value *v)
{
    if (row->type == LS_T_INT)
        return parse_int(c, row->path, n, &v->i);
    if (row->type == LS_T_REAL)
        return parse_real(c, row->path, n, &v->r);
    if (row->type == LS_T_STR)
        return parse_string_max(c, row->path, n, &v->s,
                                row->flags & K_FILE ? LS_FILE_MAX : LS_NAME_MAX);
    int rc = need_scalar(c, row->path, n, LS_T_BOOL);
    if (rc == LS_OK && strcmp(n->text, "true") != 0 && strcmp(n->text, "false") != 0)
        return FAIL(c, n, "%s must be true or false, not '%.40s'", row->path, n->text);
    v->b = rc == LS_OK && strcmp(n->text, "true") == 0;
    return rc;
}

static int check_real_range(struct ctx *c, const struct key_def *row, double r, int line, int col)
{
    int lo = row->rmin_open ? r > row->rmin : r >= row->rmin;
    int hi = row->rmax_open ? r < row->rmax : r <= row->rmax;
    if (lo && hi)
        return LS_OK;
    if (isinf(row->rmax))
        return fail_at(c, line, col, "%s must be %s %g, not %.17g", row->path,
                       row->rmin_open ? ">" : ">=", row->rmin, r);
    return fail_at(c, line, col, "%s must be in %c%g, %g%c, not %.17g", row->path,
                   row->rmin_open ? '(' : '[', row->rmin, row->rmax, row->rmax_open ? ')' : ']', r);
}

static int check_string(struct ctx *c, const struct key_def *row, const char *s, int line, int col)
{
    char list[256];
    if (row->flags & K_IDENT) {
        size_t n = strlen(s), ok = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789_.-");
        if (n == 0 || ok != n)
            return fail_at(c, line, col,
                           "%s '%s' must be 1 to %d of the characters A-Z a-z 0-9 _ . -",
                           row->path, s, LS_NAME_MAX - 1);
    }
    if (row->flags & K_FAMILY) {
        if (model_find(s) != NULL)
            return LS_OK;
        join_list(model_families(), list, sizeof list);
        return fail_at(c, line, col, "unknown model family '%s' (known: %s)", s, list);
    }
    const char *const *allowed = row->allowed;
    if (row->by_family) {
        const struct family_values *f = family_entry(row, c->job->model.family);
        allowed = f ? f->allowed : NULL;
    }
    if (allowed == NULL)
        return LS_OK;
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(allowed[i], s) == 0)
            return LS_OK;
    join_list(allowed, list, sizeof list);
    if (row->flags & K_KIND)
        return fail_at(c, line, col, "unknown data kind '%s' (known: %s)", s, list);
    return fail_at(c, line, col, "%s must be one of %s, not '%s'", row->path, list, s);
}

/* A value's own rule: the range of a number, the allowed set of a string. */
static int check_value(struct ctx *c, const struct key_def *row, const struct value *v, int line,
                       int col)
{
    if (row->type == LS_T_INT && (v->i < row->imin || v->i > row->imax)) {
        if (row->imax == INT64_MAX)
            return fail_at(c, line, col, "%s must be >= %" PRId64 ", not %" PRId64, row->path,
                           row->imin, v->i);
        return fail_at(c, line, col, "%s must be between %" PRId64 " and %" PRId64 ", not %" PRId64,
                       row->path, row->imin, row->imax, v->i);
    }
    if (row->type == LS_T_REAL)
        return check_real_range(c, row, v->r, line, col);
    if (row->type == LS_T_STR)
        return check_string(c, row, v->s, line, col);
    return LS_OK;
}

/* ---- the tree walk: structure and unknown keys ------------------------------------------- */

/* The keys a section takes, for the message about one it does not. */
static void child_list(const char *prefix, char *list, size_t len)
{
    size_t pl = strlen(prefix), off = 0;
    const char *last = NULL;
    size_t last_len = 0;
    for (size_t i = 0; i < N_KEYS && off < len; i++) {
        if (strncmp(keys[i].path, prefix, pl) != 0)
            continue;
        const char *child = keys[i].path + pl;
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
    const struct key_def *row = find_row(path);
    if (row) {
        c->slot[row - keys] = &c->ent[c->n_ent];
        c->ent[c->n_ent++] = (struct entry){row, k, v};
        return LS_OK;
    }
    int s = find_section(path);
    if (s < 0)
        return unknown_key(c, path, k, prefix);
    if (v->kind != YT_MAP)
        return FAIL(c, v, "'%s' must be a mapping of keys, not %s", path,
                    describe(v, buf, sizeof buf));
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
    for (size_t i = 0; i < N_KEYS; i++)
        if ((keys[i].flags & K_REQUIRED) && c->slot[i] == NULL)
            return FAIL(c, section_node(c, keys[i].path), "missing required key '%s'",
                        keys[i].path);
    return LS_OK;
}

/* ---- values ------------------------------------------------------------------------------ */

static void set_defaults(struct ls_job *job)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const struct key_def *row = &keys[i];
        struct value v = {.i = (int64_t)row->def, .r = row->def, .s = row->sdef,
                          .b = row->def != 0};
        if (!(row->flags & (K_REQUIRED | K_SEQ)) && (row->type != LS_T_STR || row->sdef))
            put_value(job, row, &v); /* a list's default is the empty list of the zeroed job */
    }
}

/* The defaults that depend on the model family, once it is known. */
static void set_family_defaults(struct ls_job *job)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const struct family_values *f = family_entry(&keys[i], job->model.family);
        struct value v = {.s = f ? f->sdef : NULL};
        if (v.s)
            put_value(job, &keys[i], &v);
    }
}

static const char *last_part(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

/* A key meant for another family or data kind would be silently ignored: refuse it. */
static int check_applies(struct ctx *c, const struct key_def *row, const struct yt_node *k)
{
    const struct ls_job *job = c->job;
    if (!applies_to_family(row, job->model.family))
        return FAIL(c, k, "key '%s' does not apply to model family '%s'", last_part(row->path),
                    job->model.family);
    if (row->kind && strcmp(row->kind, job->data.kind) != 0)
        return FAIL(c, k, "key '%s' does not apply to data kind '%s'", last_part(row->path),
                    job->data.kind);
    if (!applies_when(job, row)) {
        char list[256];
        join_list(row->when_in, list, sizeof list);
        return FAIL(c, k, "key '%s' does not apply to %s '%s' (only to %s)", row->path,
                    strcmp(row->when, "data.kind") == 0 ? "data kind" : row->when,
                    (const char *)job + find_row(row->when)->off, list);
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
                    describe(m, buf, sizeof buf));
    for (size_t i = 0; i < m->n; i++) {
        const struct yt_node *k = m->kid[2 * i], *v = m->kid[2 * i + 1];
        size_t j = 0;
        while (names[j] && strcmp(names[j], k->text) != 0)
            j++;
        if (names[j] == NULL)
            return FAIL(c, k, "unknown key '%s.scale.%.40s' (expected one of: init_scale, "
                              "width, depth, init_scale_per_depth)", path, k->text);
        snprintf(what, sizeof what, "%s.scale.%s", path, names[j]);
        int rc = parse_real(c, what, v, exp[j]);
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
    int rc = parse_real(c, what, v, &out->max);
    if (rc == LS_OK && !(out->max > 0))
        rc = FAIL(c, v, "%s must be > 0, not %.17g", what, out->max);
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
                    describe(v, buf, sizeof buf));
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
    rc = parse_real(c, base == v ? row->path : what, base, &out->base);
    if (rc == LS_OK)
        rc = check_real_range(c, row, out->base, base->line, base->col);
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
        int rc = parse_scalar(c, row, n, &v);
        if (rc == LS_OK)
            rc = check_value(c, row, &v, n->line, n->col);
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
                    row->type == LS_T_INT ? "integers" : "numbers", describe(seq, buf, sizeof buf));
    if (seq->n > LS_LIST_MAX)
        return FAIL(c, seq->kid[LS_LIST_MAX], "%s has more than %d values", row->path,
                    LS_LIST_MAX);
    out->n = 0;
    for (size_t i = 0; i < seq->n; i++) {
        const struct yt_node *n = seq->kid[i];
        struct value v = {0};
        snprintf(what, sizeof what, "%s[%zu]", row->path, i);
        int rc = row->type == LS_T_INT ? parse_int(c, what, n, &v.i) : parse_real(c, what, n, &v.r);
        if (rc == LS_OK)
            rc = check_value(c, row, &v, n->line, n->col);
        if (rc != LS_OK)
            return rc;
        double x = row->type == LS_T_INT ? (double)v.i : v.r;
        for (size_t j = 0; j < i && (row->flags & K_DISTINCT); j++)
            if (out->v[j] == x)
                return FAIL(c, n, "duplicate value %.17g in %s (first at %d:%d)", x, row->path,
                            seq->kid[j]->line, seq->kid[j]->col);
        out->v[out->n++] = x;
    }
    return LS_OK;
}

static int load_entry(struct ctx *c, const struct entry *e)
{
    struct value v = {0};
    int rc = check_applies(c, e->row, e->k);
    if (rc != LS_OK)
        return rc;
    if (e->row->flags & K_SCALED) /* the row's offset is that of the struct's first member */
        return parse_lr(c, e->row, e->v,
                        (struct ls_scaled *)(void *)((char *)c->job + e->row->off));
    if (e->row->flags & K_SEQ)
        return parse_seq(c, e->row, e->v);
    if ((e->row->flags & K_PER_LAYER) && e->v->kind == YT_SEQ)
        return parse_list(c, e->row, e->v);
    rc = parse_scalar(c, e->row, e->v, &v);
    if (rc == LS_OK)
        rc = check_value(c, e->row, &v, e->v->line, e->v->col);
    if (rc == LS_OK)
        put_value(c->job, e->row, &v);
    return rc;
}

/* Keys whose value decides whether other keys apply (`when`), loaded right after the family
 * and the data kind. */
static const char *const gates[] = {"train.optimizer", "train.lr_schedule"};
#define N_GATES (sizeof gates / sizeof gates[0])

static int is_gate(const struct ctx *c, const struct entry *e)
{
    for (size_t g = 0; g < N_GATES; g++)
        if (c->slot[find_row(gates[g]) - keys] == e)
            return 1;
    return 0;
}

/* The family and data kind first: whether the other keys apply depends on them; then the data
 * kind's own defaults, the other gates, and the rest in file order. */
static int load_values(struct ctx *c)
{
    const struct entry *fam = c->slot[find_row("model.family") - keys];
    const struct entry *kind = c->slot[find_row("data.kind") - keys];
    set_defaults(c->job);
    int rc = load_entry(c, fam);
    set_family_defaults(c->job);
    if (rc == LS_OK)
        rc = load_entry(c, kind);
    if (rc == LS_OK)
        data_defaults(c->job);
    c->ops = model_find(c->job->model.family);
    for (size_t g = 0; g < N_GATES && rc == LS_OK; g++)
        if (c->slot[find_row(gates[g]) - keys])
            rc = load_entry(c, c->slot[find_row(gates[g]) - keys]);
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
    int rc = parse_string(c, "each metric", n, &name);
    if (rc != LS_OK)
        return rc;
    if (!model_has_metric(c->ops, name)) {
        join_list(c->ops->metrics, list, sizeof list);
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
                    describe(v, buf, sizeof buf));
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
                    describe(v, buf, sizeof buf));
    if (v->n > LS_MAX_VECTORS)
        return FAIL(c, v->kid[LS_MAX_VECTORS], "more than %d stored vectors", LS_MAX_VECTORS);
    for (size_t i = 0; i < v->n; i++) {
        const char *name;
        int rc = parse_string(c, "each stored vector", v->kid[i], &name);
        if (rc != LS_OK)
            return rc;
        if (!c->ops->vector_len || c->ops->vector_len(job, name) == 0) {
            join_list(c->ops->vectors, list, sizeof list);
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

/* ---- grid: axis names and spec shapes ---------------------------------------------------- */

static int resolve_axis(struct ctx *c, const struct yt_node *k, const struct key_def **out)
{
    const char *name = k->text;
    const struct key_def *row = axis_row(name);
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
    return check_applies(c, row, k);
}

static const char *spec_name(enum spec_kind k)
{
    return k == SP_LINSPACE ? "linspace" : k == SP_LOGSPACE ? "logspace" : "range";
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
        if ((rc = parse_int(c, "range start", args->kid[0], &a->ia)) != LS_OK ||
            (rc = parse_int(c, "range stop", args->kid[1], &a->ib)) != LS_OK)
            return rc;
        if (a->ia >= a->ib)
            return FAIL(c, args, "range [%" PRId64 ", %" PRId64 "] is empty (needs start < stop)",
                        a->ia, a->ib);
        a->n = (uint64_t)a->ib - (uint64_t)a->ia; /* exact: the difference is below 2^64 */
        return LS_OK;
    }
    int64_t n;
    if ((rc = parse_real(c, "start", args->kid[0], &a->a)) != LS_OK ||
        (rc = parse_real(c, "stop", args->kid[1], &a->b)) != LS_OK ||
        (rc = parse_int(c, "count", args->kid[2], &n)) != LS_OK)
        return rc;
    if (n < 1)
        return FAIL(c, args->kid[2], "%s count must be >= 1, not %" PRId64, k->text, n);
    a->n = (uint64_t)n;
    return LS_OK;
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
        return FAIL(c, s, "axis '%s' must be a list of values or {linspace|logspace|range: [...]}, "
                          "not %s", name, describe(s, buf, sizeof buf));
    const char *what = s->n == 1 ? s->kid[0]->text : "";
    if (strcmp(what, "linspace") == 0)
        a->kind = SP_LINSPACE;
    else if (strcmp(what, "logspace") == 0)
        a->kind = SP_LOGSPACE;
    else if (strcmp(what, "range") == 0)
        a->kind = SP_RANGE;
    else
        return FAIL(c, s->n ? s->kid[0] : s, "axis '%s' must be a list, or a mapping with exactly "
                    "one of linspace, logspace, range", name);
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
                    describe(g, buf, sizeof buf));
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

static const struct yt_node *value_node(const struct axis_src *a, uint64_t j)
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

/* Value j of an axis, parsed (listed) or generated, not yet range-checked. */
static int value_at(struct ctx *c, const struct axis_src *a, uint64_t j, struct value *v)
{
    memset(v, 0, sizeof *v);
    if (a->kind == SP_LIST) {
        int rc = parse_scalar(c, a->row, a->args->kid[j], v);
        if (rc == LS_OK && a->row->type == LS_T_INT &&
            (v->i > MAX_EXACT_I64 || v->i < -MAX_EXACT_I64))
            return FAIL(c, a->args->kid[j],
                        "%s: axis values must be at most 2^53 in magnitude, not %" PRId64,
                        a->row->path, v->i);
        return rc;
    }
    if (a->kind == SP_RANGE) {
        v->i = a->ia + (int64_t)j;
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
    const struct yt_node *f = value_node(a, first), *s = value_node(a, second);
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
        const struct yt_node *at = value_node(a, j);
        LS_CALL(value_at(c, a, j, &v));
        LS_CALL(check_value(c, a->row, &v, at->line, at->col));
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
        const struct key_def *row = axis_row(canon_names[i]);
        if (grid_find(&job->grid, canon_names[i]) != NULL)
            continue;
        struct ls_axis ax = {.type = row->type, .n = 1, .num = malloc(sizeof(double))};
        if (ax.num == NULL)
            return LS_ENOMEM;
        snprintf(ax.name, sizeof ax.name, "%s", canon_names[i]);
        ax.num[0] = row->type == LS_T_INT ? (double)get_int(job, row) : get_real(job, row);
        int rc = grid_add_axis(&job->grid, &ax);
        if (rc != LS_OK) {
            free(ax.num);
            return rc;
        }
    }
    return LS_OK;
}

static int load_grid(struct ctx *c)
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

/* The family's rules, the data's and the optimizer's, on one candidate point. */
static int check_job(const struct ctx *c, const struct ls_job *pt, const char **key, char *msg,
                     size_t len)
{
    *key = NULL;
    if (strcmp(pt->data.kind, "sparse_regression") == 0 && pt->data.support > pt->data.dim) {
        *key = "data.support";
        snprintf(msg, len, "data.support (%" PRId64 ") must be <= data.dim (%" PRId64 ")",
                 pt->data.support, pt->data.dim);
        return LS_EJOB;
    }
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
    const struct key_def *row = key ? find_row(key) : NULL;
    for (size_t i = 0; row && i < c->n_ax; i++)
        if (c->ax[i].row == row)
            return value_node(&c->ax[i], 0);
    if (row && c->slot[row - keys])
        return c->slot[row - keys]->k;
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
    if (check_job(c, pt, &key, msg, sizeof msg) == LS_OK)
        return LS_OK;
    const struct yt_node *at = a ? value_node(a, j) : blame(c, key);
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
            apply_axis(pt, c->ax[i].row, &g->axes[i], largest ? argmax(&g->axes[i]) : 0);
    return pt;
}

/* The family's check on the first grid point and then on each single axis value in turn (the
 * sum of the axis sizes, not their product): what one axis value breaks is found at its mark. */
static int check_points(struct ctx *c)
{
    const struct ls_grid *g = &c->job->grid;
    struct ls_job *pt = corner_point(c, 0);
    if (pt == NULL)
        return LS_ENOMEM;
    int rc = run_check(c, pt, NULL, 0);
    for (size_t i = 0; i < c->n_ax && rc == LS_OK; i++) {
        for (size_t j = 1; j < g->axes[i].n && rc == LS_OK; j++) {
            apply_axis(pt, c->ax[i].row, &g->axes[i], j);
            rc = run_check(c, pt, &c->ax[i], j);
        }
        apply_axis(pt, c->ax[i].row, &g->axes[i], 0);
    }
    free(pt);
    return rc;
}

/* Refuse up front a model that cannot fit, rather than let every worker fail on it. */
static int check_memory(struct ctx *c)
{
    struct ls_job *pt = corner_point(c, 1);
    if (pt == NULL)
        return LS_ENOMEM;
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

/* ---- canonical text ---------------------------------------------------------------------- */

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
        return fmt_alloc("%s=%" PRId64, row->path, get_int(job, row));
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
        return fmt_alloc("%s=%.17g", row->path, get_real(job, row));
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
static int build_canonical(struct ls_job *job)
{
    char *lines[N_KEYS + 2 + LS_MAX_AXES] = {0};
    size_t n = 0, total = 1;
    int rc = LS_OK;
    for (size_t i = 0; i < N_KEYS; i++) /* a key of another family or kind means nothing here */
        if (row_applies(job, &keys[i]))
            lines[n++] = key_line(job, &keys[i]);
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

/* ---- public ------------------------------------------------------------------------------ */

static int load_tree(struct ctx *c, const struct yt_node *root)
{
    char buf[64];
    int rc = LS_OK;
    c->root = root;
    if (root->kind != YT_MAP)
        return FAIL(c, root, "a job file must be a mapping of keys (name, model, data, train, "
                    "...), not %s", describe(root, buf, sizeof buf));
    LS_CALL(walk_map(c, root, ""));
    LS_CALL(check_required(c));
    LS_CALL(load_values(c));
    LS_CALL(load_metrics(c));
    LS_CALL(load_store(c));
    LS_CALL(load_grid(c));
    LS_CALL(resolve_data(c));
    LS_CALL(check_points(c));
    LS_CALL(check_memory(c));
    set_max_steps_all(c->job);
    LS_CALL(build_canonical(c->job));
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
    size_t idx[LS_MAX_AXES];
    const struct ls_grid *g = &base->grid;
    if (index >= g->n_points)
        return LS_EINVAL;
    copy_scalars(out, base);
    grid_unravel(g, index, idx);
    for (size_t i = 0; i < g->n_axes; i++) {
        const struct key_def *row = axis_row(g->axes[i].name);
        if (row == NULL)
            return LS_EINVAL;
        apply_axis(out, row, &g->axes[i], idx[i]);
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
