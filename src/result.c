/* result.c — the result record of one point: allocation and the byte encoding shared by the MPI
 * wire and the journal. Little-endian fixed-width fields, lengths validated on decode, so a
 * corrupted or foreign buffer is rejected instead of read past its end. */
#include "lazysweep/result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"

#define RESULT_VERSION 1u

const char *ls_status_name(int status)
{
    switch (status) {
#define LS_STATUS_CASE(up, low, v)                                                               \
    case v:                                                                                      \
        return #low;
        LS_STATUS_MAP(LS_STATUS_CASE)
#undef LS_STATUS_CASE
    }
    return "unknown";
}

static double *nan_array(size_t n)
{
    double *a = malloc((n ? n : 1) * sizeof *a);
    for (size_t i = 0; a && i < n; i++)
        a[i] = NAN;
    return a;
}

int result_init(struct ls_result *r, uint32_t n_metrics, uint32_t n_traj, uint32_t n_steps,
                uint32_t n_vec)
{
    memset(r, 0, sizeof *r);
    r->n_metrics = n_metrics;
    r->n_traj = n_traj;
    r->n_steps = n_steps;
    r->n_vec = n_vec;
    r->seconds = NAN;
    r->finished = NAN;
    r->rank = -1;
    r->metrics = nan_array(n_metrics);
    r->traj = nan_array((size_t)n_traj * n_steps);
    r->vec = nan_array(n_vec);
    if (!r->metrics || !r->traj || !r->vec) {
        result_free(r);
        return LS_ENOMEM;
    }
    return LS_OK;
}

void result_free(struct ls_result *r)
{
    free(r->metrics);
    free(r->traj);
    free(r->vec);
    r->metrics = NULL;
    r->traj = NULL;
    r->vec = NULL;
}

/* Fixed part: version, index, status, rank, seconds, finished, key len, host len, four counts. */
#define RESULT_FIXED (4 + 8 + 4 + 4 + 8 + 8 + 2 + 2 + 4 + 4 + 4 + 4)

size_t result_size(const struct ls_result *r)
{
    size_t nd = r->n_metrics + (size_t)r->n_traj * r->n_steps + r->n_vec;
    return RESULT_FIXED + strlen(r->key) + strlen(r->host) + 8 * nd;
}

static unsigned char *put(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static uint64_t get(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static unsigned char *put_f64(unsigned char *p, double x)
{
    uint64_t v;
    memcpy(&v, &x, 8);
    return put(p, v, 8);
}

static double get_f64(const unsigned char *p)
{
    uint64_t v = get(p, 8);
    double x;
    memcpy(&x, &v, 8);
    return x;
}

void result_encode(const struct ls_result *r, unsigned char *buf)
{
    size_t kl = strlen(r->key), hl = strlen(r->host);
    size_t nt = (size_t)r->n_traj * r->n_steps;
    unsigned char *p = put(buf, RESULT_VERSION, 4);
    p = put(p, r->index, 8);
    p = put(p, (uint32_t)r->status, 4);
    p = put(p, (uint32_t)r->rank, 4);
    p = put_f64(p, r->seconds);
    p = put_f64(p, r->finished);
    p = put(p, kl, 2);
    p = put(p, hl, 2);
    p = put(p, r->n_metrics, 4);
    p = put(p, r->n_traj, 4);
    p = put(p, r->n_steps, 4);
    p = put(p, r->n_vec, 4);
    memcpy(p, r->key, kl);
    p += kl;
    memcpy(p, r->host, hl);
    p += hl;
    for (uint32_t i = 0; i < r->n_metrics; i++)
        p = put_f64(p, r->metrics[i]);
    for (size_t i = 0; i < nt; i++)
        p = put_f64(p, r->traj[i]);
    for (uint32_t i = 0; i < r->n_vec; i++)
        p = put_f64(p, r->vec[i]);
}

/* Decode the counts and strings of the fixed part; the arrays follow. */
static int decode_head(const unsigned char *b, size_t len, struct ls_result *r, size_t *kl,
                       size_t *hl)
{
    if (len < RESULT_FIXED || get(b, 4) != RESULT_VERSION)
        return LS_ECORRUPT;
    r->index = get(b + 4, 8);
    r->status = (int32_t)get(b + 12, 4);
    r->rank = (int32_t)get(b + 16, 4);
    r->seconds = get_f64(b + 20);
    r->finished = get_f64(b + 28);
    *kl = get(b + 36, 2);
    *hl = get(b + 38, 2);
    uint32_t nm = (uint32_t)get(b + 40, 4), ntr = (uint32_t)get(b + 44, 4);
    uint32_t ns = (uint32_t)get(b + 48, 4), nv = (uint32_t)get(b + 52, 4);
    if (*kl >= LS_KEY_MAX || *hl >= LS_HOST_MAX || r->status < 0 || r->status >= LS_ST_COUNT)
        return LS_ECORRUPT;
    uint64_t nd = (uint64_t)nm + (uint64_t)ntr * ns + nv;
    if (nd > (len - RESULT_FIXED) / 8 || RESULT_FIXED + *kl + *hl + 8 * nd != len)
        return LS_ECORRUPT;
    if (nm != r->n_metrics || ntr != r->n_traj || ns != r->n_steps || nv != r->n_vec ||
        !r->metrics) {
        result_free(r);
        int rc = result_init(r, nm, ntr, ns, nv);
        if (rc != LS_OK)
            return rc;
        return decode_head(b, len, r, kl, hl);
    }
    return LS_OK;
}

int result_decode(const unsigned char *buf, size_t len, struct ls_result *r)
{
    size_t kl, hl;
    int rc = decode_head(buf, len, r, &kl, &hl);
    if (rc != LS_OK)
        return rc;
    const unsigned char *p = buf + RESULT_FIXED;
    memcpy(r->key, p, kl);
    r->key[kl] = '\0';
    p += kl;
    memcpy(r->host, p, hl);
    r->host[hl] = '\0';
    p += hl;
    for (uint32_t i = 0; i < r->n_metrics; i++, p += 8)
        r->metrics[i] = get_f64(p);
    size_t nt = (size_t)r->n_traj * r->n_steps;
    for (size_t i = 0; i < nt; i++, p += 8)
        r->traj[i] = get_f64(p);
    for (uint32_t i = 0; i < r->n_vec; i++, p += 8)
        r->vec[i] = get_f64(p);
    return LS_OK;
}
