/* sweep.h — one sweep over MPI: a coordinator that owns the journal and the file, workers that
 * train. With one rank the same process does both.
 *
 * Protocol (docs/architecture.md §1): workers pull. A worker sends READY with the results of its last batch;
 * the coordinator answers with a batch of point indices (most expensive first; batches grow while
 * points are cheap so that messaging never dominates) or STOP. The coordinator sleeps while it
 * waits instead of spinning in MPI. On SIGINT/SIGTERM/SIGUSR1 it stops handing out points,
 * abandons in-flight work, closes the file and returns LS_EXIT_INCOMPLETE. Knows nothing of the
 * models' insides. */
#ifndef LAZYSWEEP_SWEEP_H
#define LAZYSWEEP_SWEEP_H

#include "lazysweep/cfg.h"

/* Process exit codes (docs/architecture.md §1). */
enum ls_exit {
    LS_EXIT_OK = 0,         /* sweep complete */
    LS_EXIT_INTERNAL = 1,   /* internal error */
    LS_EXIT_USAGE = 2,      /* bad usage or bad job file, changed experiment, locked output */
    LS_EXIT_INCOMPLETE = 3, /* stopped early: rerun the same command to resume */
    LS_EXIT_DIFFERS = 4,    /* lazysweep verify: the file differs from its journal or job */
};

struct ls_sweep_opts {
    const char *out;        /* results file path */
    int fresh;              /* 1: discard journal and file, start over */
    double progress_every;  /* seconds between progress lines on stderr */
    int quiet;              /* no progress lines */
};

/* Run or resume a sweep; every rank of MPI_COMM_WORLD calls it (MPI already initialized).
 * Returns an enum ls_exit code, identical on every rank. */
int sweep_run(const struct ls_job *job, const struct ls_sweep_opts *opts);

/* Estimated cost of the whole grid in flops (sum over points of flops per step × max_steps). */
double sweep_total_cost(const struct ls_job *job);

/* Install the SIGINT/SIGTERM/SIGUSR1 handlers that make sweep_run stop cleanly. */
void sweep_install_signals(void);

#endif
