/* cfg_table.c — the job file's key table and its lookups.
 *
 * Every key is one row of `cfgi_keys` below (twemproxy's config table): path, type, offset into
 * struct ls_job, range or allowed values, default, and to which model family, data kind or
 * optimizer it applies. The same rows parse the file (cfg.c, cfg_scalar.c), range-check grid
 * values and apply a grid point's values to a copy of the job (cfg_grid.c, cfg.c) and write the
 * canonical text (cfg_text.c). Kept apart from the code that walks the file so the table reads
 * as one list. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cfg_internal.h"

/* ---- the table --------------------------------------------------------------------------- */

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
static const char *const spline_refs[] = {"full", "span", NULL};
static const char *const prune_methods[] = {"random", "magnitude", "snip", "grasp", "synflow",
                                            NULL};
static const char *const prune_schedules[] = {"exponential", "linear", NULL};
static const char *const prune_scopes[] = {"global", "layer", NULL};

/* Sorted by path: the canonical text lists keys in this order. */
const struct key_def cfgi_keys[] = {
    {.path = "confusion.batch", .type = LS_T_INT, .off = OFF(diag.confusion_batch), .imin = 1,
     .imax = 1000000, .def = 128, .family = "mlp"},
    {.path = "confusion.pairs", .type = LS_T_INT, .off = OFF(diag.confusion_pairs), .imin = 1,
     .imax = 100000, .def = 100, .family = "mlp"},
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
    {.path = "probe.size", .type = LS_T_INT, .off = OFF(diag.probe_size), .imin = 2,
     .imax = 4096, .def = 128, .family = "mlp"},
    {.path = "prune.iterations", .type = LS_T_INT, .off = OFF(prune.iterations), .imin = 0,
     .imax = 100000, .def = 0, .family = "mlp"},
    {.path = "prune.method", .type = LS_T_STR, .off = OFF(prune.method),
     .allowed = prune_methods, .sdef = "synflow", .family = "mlp"},
    {.path = "prune.prune_bias", .type = LS_T_BOOL, .off = OFF(prune.prune_bias), .def = 0,
     .family = "mlp"},
    {.path = "prune.samples", .type = LS_T_INT, .off = OFF(prune.samples), .imin = 0,
     .imax = 1000000000, .def = 0, .family = "mlp"},
    {.path = "prune.schedule", .type = LS_T_STR, .off = OFF(prune.schedule),
     .allowed = prune_schedules, .sdef = "exponential", .family = "mlp"},
    {.path = "prune.scope", .type = LS_T_STR, .off = OFF(prune.scope), .allowed = prune_scopes,
     .sdef = "global", .family = "mlp"},
    {.path = "seed", .type = LS_T_INT, .off = OFF(seed), .imin = 0, .imax = INT64_MAX, .def = 0,
     .no_axis = "the master seed is fixed; the axis 'seed' sweeps the per-point seed"},
    /* The spline metrics' grid (mlp on points1d; docs/spline.md). */
    {.path = "spline.grid_max", .type = LS_T_REAL, .off = OFF(spline.grid_max), .rmin = -1e6,
     .rmax = 1e6, .def = 2, .family = "mlp", KIND(k_points)},
    {.path = "spline.grid_min", .type = LS_T_REAL, .off = OFF(spline.grid_min), .rmin = -1e6,
     .rmax = 1e6, .def = -2, .family = "mlp", KIND(k_points)},
    {.path = "spline.grid_step", .type = LS_T_REAL, .off = OFF(spline.grid_step), .rmin = 1e-6,
     .rmax = 1e6, .def = 0.01, .family = "mlp", KIND(k_points)},
    {.path = "spline.reference", .type = LS_T_STR, .off = OFF(spline.reference),
     .allowed = spline_refs, .sdef = "full", .family = "mlp", KIND(k_points),
     .no_axis = "every point of a sweep compares with the same reference"},
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
    {.path = "train.stop_change", .type = LS_T_REAL, .off = OFF(train.stop_change), .rmin = 0,
     .rmax = INFINITY, .def = 0},
    {.path = "train.stop_loss", .type = LS_T_REAL, .off = OFF(train.stop_loss), .rmin = 0,
     .rmax = INFINITY, .def = 0},
    /* Like train.lr: a number or {base, scale}; as an axis it sets the base. */
    {.path = "train.weight_decay", .type = LS_T_REAL, .off = OFF(train.weight_decay.base),
     .rmin = 0, .rmax = INFINITY, .def = 0, .flags = K_SCALED},
};
_Static_assert(sizeof cfgi_keys / sizeof cfgi_keys[0] == CFGI_N_KEYS,
               "CFGI_N_KEYS in cfg_internal.h must count the rows of cfgi_keys");

/* The `seed` axis is the per-point seed, not the master `seed:` key. */
static const struct key_def seed_axis = {.path = "seed", .type = LS_T_INT, .off = OFF(point_seed),
                                         .imin = 0, .imax = INT64_MAX, .canon = "seed"};

/* ---- lookups ------------------------------------------------------------------------------ */

const struct key_def *cfgi_find_row(const char *path)
{
    for (size_t i = 0; i < CFGI_N_KEYS; i++)
        if (strcmp(cfgi_keys[i].path, path) == 0)
            return &cfgi_keys[i];
    return NULL;
}

/* The family's entry of a key whose values depend on the family, or NULL. */
const struct family_values *cfgi_family_entry(const struct key_def *row, const char *family)
{
    for (const struct family_values *f = row->by_family; f && f->family; f++)
        if (strcmp(f->family, family) == 0)
            return f;
    return NULL;
}

int cfgi_applies_to_family(const struct key_def *row, const char *family)
{
    if (row->by_family)
        return cfgi_family_entry(row, family) != NULL;
    return row->family == NULL || strcmp(row->family, family) == 0;
}

/* Does the `when` key (a string key: data.kind, train.optimizer, ...) hold one of when_in? */
int cfgi_applies_when(const struct ls_job *job, const struct key_def *row)
{
    const struct key_def *gate = row->when ? cfgi_find_row(row->when) : NULL;
    if (gate == NULL)
        return 1;
    const char *value = (const char *)job + gate->off;
    for (const char *const *w = row->when_in; w && *w; w++)
        if (strcmp(*w, value) == 0)
            return 1;
    return 0;
}

/* Does the key mean anything for this job's model family, data kind, optimizer, schedule? */
int cfgi_row_applies(const struct ls_job *job, const struct key_def *row)
{
    return cfgi_applies_to_family(row, job->model.family) &&
           (row->kind == NULL || strcmp(row->kind, job->data.kind) == 0) &&
           cfgi_applies_when(job, row);
}

/* Axis name → row: a canonical name, else the dotted path of a key. */
const struct key_def *cfgi_axis_row(const char *name)
{
    if (strcmp(name, "seed") == 0)
        return &seed_axis;
    for (size_t i = 0; i < CFGI_N_KEYS; i++)
        if (cfgi_keys[i].canon && strcmp(cfgi_keys[i].canon, name) == 0)
            return &cfgi_keys[i];
    return cfgi_find_row(name);
}

void cfgi_put_value(struct ls_job *job, const struct key_def *row, const struct value *v)
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

int64_t cfgi_get_int(const struct ls_job *job, const struct key_def *row)
{
    int64_t i;
    memcpy(&i, (const char *)job + row->off, sizeof i);
    return i;
}

double cfgi_get_real(const struct ls_job *job, const struct key_def *row)
{
    double r;
    memcpy(&r, (const char *)job + row->off, sizeof r);
    return r;
}

void cfgi_apply_axis(struct ls_job *job, const struct key_def *row, const struct ls_axis *a,
                     size_t j)
{
    struct value v = {0};
    if (a->type == LS_T_STR)
        v.s = a->str[j];
    v.i = a->num ? (int64_t)a->num[j] : 0;
    v.r = a->num ? a->num[j] : 0;
    v.b = a->num ? a->num[j] != 0 : 0;
    cfgi_put_value(job, row, &v);
}
