/* cmd.c — the sub-commands: options, help texts, and calls into the library. */
#include "lazysweep/cmd.h"

#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lazysweep/cfg.h"
#include "lazysweep/error.h"
#include "lazysweep/lock.h"
#include "lazysweep/model.h"
#include "lazysweep/pace.h"
#include "lazysweep/store.h"
#include "lazysweep/sweep.h"
#include "lazysweep/train.h"
#include "lazysweep/usage.h"
#include "lazysweep/numtext.h"

/* Rough sustained rate of one worker on these models, for the plan's time estimate only. */
#define PLAN_FLOPS_PER_CORE 2e9

static const char run_help[] =
    "usage: lazysweep run JOB.yaml [-o OUT.h5] [--fresh] [--quiet] [--progress SECONDS]\n"
    "\n"
    "Run the sweep described by JOB.yaml, or resume it: rerunning the same command continues\n"
    "where it stopped and never trains a finished point again. Without mpirun the one process\n"
    "coordinates and trains; under `mpirun -np P` (or srun) rank 0 coordinates and P-1 ranks train.\n"
    "\n"
    "  -o, --output OUT.h5   results file (default: results/<job name>.h5); its journal is\n"
    "                        OUT.h5.journal and its lock OUT.h5.lock\n"
    "  --fresh               delete OUT.h5 and its journal first and start over\n"
    "  --quiet               no progress lines\n"
    "  --progress SECONDS    seconds between progress lines on stderr (default 5)\n"
    "\n"
    "SIGINT, SIGTERM and SIGUSR1 stop the sweep cleanly within seconds (exit 3).\n"
    "Exit codes: 0 complete, 1 internal error, 2 bad usage, job file or output, 3 incomplete.\n";

static const char plan_help[] =
    "usage: lazysweep plan JOB.yaml\n"
    "\n"
    "Validate JOB.yaml and print its axes, the number of grid points, the logged steps and an\n"
    "estimate of the cost. Writes nothing. Exit 0 if the job is valid, 2 if not.\n";

static const char status_help[] =
    "usage: lazysweep status OUT.h5\n"
    "\n"
    "Print how many points of a results file are pending, done, diverged, timed out or failed,\n"
    "whether a sweep is running on it, and its rate and ETA. Safe while the sweep runs.\n";

static int wants_help(int argc, char **argv, const char *help)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(help, stdout);
            return 1;
        }
    return 0;
}

struct run_args {
    const char *job;
    char out[4096];
    struct ls_sweep_opts opts;
};

/* Parse `run` options; returns -1 to go on, else an exit code. */
static int parse_run(int argc, char **argv, struct run_args *a)
{
    a->opts = (struct ls_sweep_opts){.progress_every = 5};
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if ((!strcmp(s, "-o") || !strcmp(s, "--output")) && i + 1 < argc)
            snprintf(a->out, sizeof a->out, "%s", argv[++i]);
        else if (!strcmp(s, "--fresh"))
            a->opts.fresh = 1;
        else if (!strcmp(s, "--quiet"))
            a->opts.quiet = 1;
        else if (!strcmp(s, "--progress") && i + 1 < argc) {
            char *end;
            a->opts.progress_every = strtod(argv[++i], &end);
            if (*end || !(a->opts.progress_every >= 0))
                return usage_fail("run", "--progress needs a number of seconds >= 0");
        } else if (s[0] == '-') {
            return usage_bad_option("run", run_help, s);
        } else if (!a->job)
            a->job = s;
        else
            return usage_fail("run", "run takes one job file");
    }
    return a->job ? -1 : usage_fail("run", "run needs a job file");
}

/* Every rank loads the job; all must agree on it (one file on a shared file system). */
static int load_everywhere(const char *path, struct ls_job *job, int rank)
{
    char err[LS_ERR_MAX];
    int rc = cfg_load(path, job, err, sizeof err), worst = 0;
    int mine = rc == LS_OK ? 0 : 1;
    MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rc != LS_OK && (rank == 0 || worst))
        fprintf(stderr, "%s\n", err);
    if (worst)
        return LS_EXIT_USAGE;
    unsigned long long h = job->hash;
    MPI_Bcast(&h, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    if (h != job->hash) {
        fprintf(stderr, "lazysweep: rank %d read a different %s than rank 0\n", rank, path);
        mine = 1;
    }
    MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return worst ? LS_EXIT_USAGE : -1;
}

/* The default output goes to results/<name>.h5, creating results/ if needed. */
static int default_output(const struct ls_job *job, char *out, size_t len, int rank)
{
    if (out[0])
        return 0;
    snprintf(out, len, "results/%s.h5", job->name);
    if (rank == 0 && mkdir("results", 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "lazysweep: cannot create results/: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    struct run_args a = {0};
    struct ls_job job = {0};
    int rank = 0;
    if (wants_help(argc, argv, run_help))
        return LS_EXIT_OK;
    int code = parse_run(argc, argv, &a);
    if (code >= 0)
        return code;
    /* Before MPI_Init: Slurm's early-warning SIGUSR1 (or a SIGTERM) can arrive while the ranks
     * start, and must then mean "stop early" (exit 3), not the default action, death. */
    sweep_install_signals();
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    code = load_everywhere(a.job, &job, rank);
    if (code < 0) {
        int bad = default_output(&job, a.out, sizeof a.out, rank) != 0;
        MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
        code = bad ? LS_EXIT_USAGE : code;
    }
    if (code < 0) {
        a.opts.out = a.out;
        code = sweep_run(&job, &a.opts);
    }
    cfg_free(&job);
    MPI_Finalize();
    return code;
}

/* One axis's values, shortened to its ends when long. */
static void print_values(const struct ls_axis *ax)
{
    for (size_t i = 0; i < ax->n; i++) {
        if (ax->n > 8 && i == 3) {
            printf(" ...");
            i = ax->n - 3;
        }
        if (ax->type == LS_T_STR)
            printf(" %s", ax->str[i]);
        else
            printf(" %s", NUMTEXT(ax->num[i]));
    }
    printf("\n");
}

static const char *type_name(enum ls_type t)
{
    return t == LS_T_INT ? "int" : t == LS_T_REAL ? "real" : t == LS_T_STR ? "string" : "bool";
}

int cmd_plan(int argc, char **argv)
{
    struct ls_job job = {0};
    char err[LS_ERR_MAX];
    if (wants_help(argc, argv, plan_help))
        return LS_EXIT_OK;
    if (argc == 2 && argv[1][0] == '-')
        return usage_bad_option("plan", plan_help, argv[1]);
    if (argc != 2)
        return usage_fail("plan", "plan takes one job file");
    if (cfg_load(argv[1], &job, err, sizeof err) != LS_OK) {
        fprintf(stderr, "%s\n", err);
        return LS_EXIT_USAGE;
    }
    printf("job %s (hash %s) from %s\n", job.name, job.hash_hex, job.path);
    printf("model %s, data %s, optimizer %s\n", job.model.family, job.data.kind,
           job.train.optimizer);
    printf("axes:\n");
    for (size_t i = 0; i < job.grid.n_axes; i++) {
        const struct ls_axis *ax = &job.grid.axes[i];
        printf("  %-16s %-6s %4zu value%s%s:", ax->name, type_name(ax->type), ax->n,
               ax->n == 1 ? " " : "s", ax->swept ? "" : " (fixed)");
        print_values(ax);
    }
    printf("points: %llu\n", (unsigned long long)job.grid.n_points);
    int64_t *steps = NULL;
    size_t logged = 0; /* as the sweep will log them: at most max_steps + 1 */
    if (train_schedule(job.max_steps_all, job.train.log_points, job.train.log_spacing, &steps,
                       &logged) != LS_OK)
        logged = 0;
    free(steps);
    printf("steps: up to %lld per point, %zu logged (%s spacing)\n", (long long)job.max_steps_all,
           logged, job.train.log_spacing);
    printf("metrics:");
    for (size_t i = 0; i < job.n_metrics; i++)
        printf(" %s", job.metrics[i]);
    double flops = sweep_total_cost(&job);
    printf("\nestimated cost: %.3g flop, about %.3g core-hours at %.0f GFLOP/s per core\n", flops,
           flops / PLAN_FLOPS_PER_CORE / 3600, PLAN_FLOPS_PER_CORE / 1e9);
    cfg_free(&job);
    return LS_EXIT_OK;
}

static void print_state(const char *path, const struct ls_store_summary *s)
{
    char who[256] = "";
    uint64_t pending = s->count[LS_ST_PENDING];
    if (lock_held(path, who, sizeof who)) {
        char eta[64] = "unknown", pace[48];
        if (s->recent_rate > 0)
            pace_duration(eta, sizeof eta, (double)pending / s->recent_rate);
        pace_rate(pace, sizeof pace, s->recent_rate);
        printf("state: running (%s), %s over the last minute, ETA %s\n", who, pace, eta);
    } else if (pending == 0) {
        printf("state: complete\n");
    } else {
        printf("state: stopped with %llu points pending; rerun `lazysweep run` to resume\n",
               (unsigned long long)pending);
    }
}

int cmd_status(int argc, char **argv)
{
    struct ls_store_summary s;
    if (wants_help(argc, argv, status_help))
        return LS_EXIT_OK;
    if (argc == 2 && argv[1][0] == '-')
        return usage_bad_option("status", status_help, argv[1]);
    if (argc != 2)
        return usage_fail("status", "status takes one results file");
    int code = usage_check_results_file("status", argv[1]);
    if (code >= 0)
        return code;
    int rc = store_summary(argv[1], &s);
    if (rc != LS_OK) {
        fprintf(stderr, "lazysweep: %s: cannot read it as a results file: %s\n", argv[1],
                ls_strerror(rc));
        return LS_EXIT_USAGE;
    }
    printf("%s: job %s (hash %s), %llu points\n", argv[1], s.job_name, s.job_hash,
           (unsigned long long)s.n_points);
    for (int st = 0; st < LS_ST_COUNT; st++)
        printf("  %-9s %llu\n", ls_status_name(st), (unsigned long long)s.count[st]);
    print_state(argv[1], &s);
    return LS_EXIT_OK;
}
