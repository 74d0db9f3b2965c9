/* loss.c — the training losses on a batch's outputs, their gradients with respect to the outputs,
 * and the hard classification counts the metrics are made of.
 *
 * Every function reads outputs z [n][C] and targets y [n] and writes, on request, dL/dz into a
 * buffer the caller owns: nothing here allocates, so the training loop stays allocation-free.
 * The decomposable losses return (1/N)·Σ over the rows they are given, so a large batch can be
 * summed in row chunks; the soft-set losses (Tsoi et al. 2022) see the whole batch. */
#include "lazysweep/loss.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lazysweep/error.h"

static const char *const loss_names[] = {"mse", "bce", "cross_entropy", "soft_f1",
                                         "soft_accuracy"};
#define N_LOSSES (sizeof loss_names / sizeof loss_names[0])

int loss_find(const char *name, enum ls_loss *out)
{
    for (size_t i = 0; i < N_LOSSES; i++)
        if (strcmp(loss_names[i], name) == 0) {
            *out = (enum ls_loss)i;
            return LS_OK;
        }
    return LS_ENOTFOUND;
}

int loss_check_task(enum ls_loss loss, enum ls_task task, char *msg, size_t len)
{
    const char *need = NULL;
    if ((loss == LS_LOSS_BCE || loss == LS_LOSS_SOFT_F1 || loss == LS_LOSS_SOFT_ACCURACY) &&
        task != LS_TASK_BINARY)
        need = "binary labels (a binary data set)";
    else if (loss == LS_LOSS_CROSS_ENTROPY && task != LS_TASK_CLASSES)
        need = "class labels (a data set with classes)";
    if (need == NULL)
        return LS_OK;
    snprintf(msg, len, "train.loss '%s' needs %s, but this data is %s", loss_names[loss], need,
             task == LS_TASK_REGRESSION ? "a regression task"
             : task == LS_TASK_BINARY   ? "a binary task"
                                        : "a task with classes");
    return LS_EJOB;
}

int loss_decomposable(enum ls_loss loss)
{
    return loss != LS_LOSS_SOFT_F1 && loss != LS_LOSS_SOFT_ACCURACY;
}

/* σ(z) without overflow for either sign. */
static double sigmoid(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* ---- decomposable losses ----------------------------------------------------------------- */

/* (1/N)·Σ_c (z_c − t_c)² per row, t = y or one-hot(y); dz = (2/N)(z − t). */
static double mse_rows(const double *z, const double *y, size_t n, size_t C, double invN,
                       double *dz)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < C; c++) {
            double t = C == 1 ? y[i] : (double)(c == (size_t)y[i]);
            double r = z[i * C + c] - t;
            s += r * r;
            if (dz)
                dz[i * C + c] = 2.0 * invN * r;
        }
    return s * invN;
}

/* ℓ = softplus(z) − y·z, written as max(z, 0) − y·z + log1p(e^−|z|) so that no exponential
 * overflows; dℓ/dz = σ(z) − y. */
static double bce_rows(const double *z, const double *y, size_t n, double invN, double *dz)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        s += fmax(z[i], 0.0) - y[i] * z[i] + log1p(exp(-fabs(z[i])));
        if (dz)
            dz[i] = invN * (sigmoid(z[i]) - y[i]);
    }
    return s * invN;
}

/* ℓ = log Σ_c e^{z_c} − z_y with the maximum subtracted first; dℓ/dz = softmax(z) − one-hot(y).
 * A label outside [0, C) makes the loss NaN rather than reading out of bounds. */
static double ce_rows(const double *z, const double *y, size_t n, size_t C, double invN,
                      double *dz)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        const double *zi = z + i * C;
        if (!(y[i] >= 0 && y[i] < (double)C))
            return NAN;
        size_t k = (size_t)y[i];
        double mx = zi[0], sum = 0;
        for (size_t c = 1; c < C; c++)
            mx = fmax(mx, zi[c]);
        for (size_t c = 0; c < C; c++)
            sum += exp(zi[c] - mx);
        s += mx + log(sum) - zi[k];
        for (size_t c = 0; dz && c < C; c++)
            dz[i * C + c] = invN * (exp(zi[c] - mx) / sum - (double)(c == k));
    }
    return s * invN;
}

/* ---- soft-set confusion losses (docs/theory.md §5) ----------------------------------------- */

double softset_heaviside(double p, double tau, double *slope)
{
    double tm = fmin(tau, 1.0 - tau), d = LS_SOFTSET_DELTA;
    const double x[5] = {0.0, tau - tm / 2, tau, tau + tm / 2, 1.0};
    const double h[5] = {0.0, d, 0.5, 1.0 - d, 1.0};
    p = fmin(fmax(p, 0.0), 1.0);
    int k = 0;
    while (k < 3 && p >= x[k + 1])
        k++;
    double s = (h[k + 1] - h[k]) / (x[k + 1] - x[k]);
    if (slope)
        *slope = s;
    return h[k] + s * (p - x[k]);
}

/* {TP, FN, FP, TN} from probabilities v, or from logits v (p = σ(v)) when `logits`. */
static void counts(const double *v, int logits, const double *y, size_t n, double tau,
                   double out[4])
{
    out[0] = out[1] = out[2] = out[3] = 0;
    for (size_t i = 0; i < n; i++) {
        double H = softset_heaviside(logits ? sigmoid(v[i]) : v[i], tau, NULL);
        out[0] += y[i] * H;
        out[1] += y[i] * (1.0 - H);
        out[2] += (1.0 - y[i]) * H;
        out[3] += (1.0 - y[i]) * (1.0 - H);
    }
}

void softset_counts(const double *p, const double *y, size_t n, double tau, double out[4])
{
    counts(p, 0, y, n, tau, out);
}

/* F₁ from soft counts {TP, FN, FP, TN}, and its partial derivatives with respect to TP, FP and
 * FN in g[0..2]: P = a/(a+b+ε), R = a/(a+c+ε), F = 2PR/(P+R+ε) with a = TP, b = FP, c = FN. */
static double soft_f1(const double cnt[4], double g[3])
{
    const double e = LS_SOFTSET_EPS, a = cnt[0], c = cnt[1], b = cnt[2];
    double dp = a + b + e, dr = a + c + e;
    double P = a / dp, R = a / dr, den = P + R + e;
    double dF_dP = 2.0 * R * (R + e) / (den * den), dF_dR = 2.0 * P * (P + e) / (den * den);
    g[0] = dF_dP * (b + e) / (dp * dp) + dF_dR * (c + e) / (dr * dr);
    g[1] = -dF_dP * a / (dp * dp);
    g[2] = -dF_dR * a / (dr * dr);
    return 2.0 * P * R / den;
}

/* 1 − mean over τ of the metric (F₁ or accuracy) of the soft counts of p = σ(z).
 * dz_i = −(1/9)·Σ_τ ∂M_τ/∂H_i · H_τ′(p_i) · p_i(1 − p_i), where TP and FP grow with H_i by y_i and
 * 1 − y_i and FN and TN shrink by the same. */
static double softset_batch(enum ls_loss loss, const double *z, const double *y, size_t n,
                            double *dz)
{
    double total = 0;
    if (dz)
        memset(dz, 0, n * sizeof *dz);
    for (int k = 1; k <= LS_SOFTSET_N_TAU; k++) {
        double tau = k / 10.0, cnt[4], g[3] = {0, 0, 0}, M;
        counts(z, 1, y, n, tau, cnt);
        if (loss == LS_LOSS_SOFT_F1)
            M = soft_f1(cnt, g);
        else
            M = (cnt[0] + cnt[3]) / (double)n;
        total += M;
        for (size_t i = 0; dz && i < n; i++) {
            double p = sigmoid(z[i]), slope;
            softset_heaviside(p, tau, &slope);
            double dM_dH = loss == LS_LOSS_SOFT_F1
                               ? y[i] * (g[0] - g[2]) + (1.0 - y[i]) * g[1]
                               : (2.0 * y[i] - 1.0) / (double)n;
            dz[i] -= dM_dH * slope * p * (1.0 - p) / LS_SOFTSET_N_TAU;
        }
    }
    return 1.0 - total / LS_SOFTSET_N_TAU;
}

double loss_value(enum ls_loss loss, const double *z, const double *y, size_t n, size_t C,
                  size_t N, double *dz)
{
    double invN = 1.0 / (double)N;
    switch (loss) {
    case LS_LOSS_MSE:
        return mse_rows(z, y, n, C, invN, dz);
    case LS_LOSS_BCE:
        return C == 1 ? bce_rows(z, y, n, invN, dz) : NAN;
    case LS_LOSS_CROSS_ENTROPY:
        return ce_rows(z, y, n, C, invN, dz);
    case LS_LOSS_SOFT_F1:
    case LS_LOSS_SOFT_ACCURACY:
        return C == 1 && n == N && n > 0 ? softset_batch(loss, z, y, n, dz) : NAN;
    }
    return NAN;
}

/* ---- hard counts ------------------------------------------------------------------------- */

/* σ(z) >= ½ ⇔ z >= 0 for a logit; under mse the output itself is the probability estimate. */
static int predicted_positive(enum ls_loss loss, double z)
{
    return loss == LS_LOSS_MSE ? z >= 0.5 : z >= 0.0;
}

void loss_confusion(enum ls_loss loss, const double *z, const double *y, size_t n, double out[4])
{
    out[0] = out[1] = out[2] = out[3] = 0;
    for (size_t i = 0; i < n; i++) {
        int pos = y[i] >= 0.5, pred = predicted_positive(loss, z[i]);
        out[pos ? (pred ? 0 : 1) : (pred ? 2 : 3)] += 1;
    }
}

size_t loss_correct(enum ls_loss loss, enum ls_task task, const double *z, const double *y,
                    size_t n, size_t C)
{
    size_t right = 0;
    for (size_t i = 0; i < n; i++) {
        if (task == LS_TASK_BINARY) {
            right += predicted_positive(loss, z[i]) == (y[i] >= 0.5);
            continue;
        }
        size_t best = 0;
        for (size_t c = 1; c < C; c++)
            if (z[i * C + c] > z[i * C + best])
                best = c;
        right += task == LS_TASK_CLASSES && (double)best == y[i];
    }
    return right;
}
