/* fixtures.h — helpers the model unit tests share (header-only; cmocka must be included first). */
#ifndef LAZYSWEEP_TEST_FIXTURES_H
#define LAZYSWEEP_TEST_FIXTURES_H

#include "lazysweep/data.h"
#include "lazysweep/model.h"

/* Data and model of a job for one family, asserting both build. */
static inline void fx_build(const struct ls_model_ops *ops, const struct ls_job *job,
                            struct ls_data **data, struct ls_model **m)
{
    assert_int_equal(data_create(job, data), LS_OK);
    assert_int_equal(ops->create(job, *data, m), LS_OK);
}

/* `steps` full-batch GD updates, exactly the update train.c makes for optimizer gd. */
static inline void fx_gd_steps(struct ls_model *m, const struct ls_data *d, double lr, int steps)
{
    for (int s = 0; s < steps; s++) {
        m->ops->loss(m, d, 1);
        for (size_t i = 0; i < m->n_params; i++)
            m->params[i] -= lr * m->grad[i];
    }
}

#endif
