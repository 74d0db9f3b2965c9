/* main.c — the `lazysweep` program: pick the sub-command, hand it the arguments. */
#include <stdio.h>
#include <string.h>

#include "lazysweep/cmd.h"
#include "lazysweep/sweep.h"
#include "lazysweep/usage.h"
#include "lazysweep/version.h"

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"run", cmd_run, "run or resume a sweep (serial, under mpirun, or under srun)"},
    {"plan", cmd_plan, "validate a job file; print its axes, point count and cost estimate"},
    {"status", cmd_status, "progress of a results file: counts per status, rate, ETA"},
    {"submit", cmd_submit, "submit a sweep to Slurm as a self-requeueing batch job"},
    {"report", cmd_report, "statistics over seeds per group, CSV, and plots (gnuplot)"},
    {"export", cmd_export, "a results file as CSV: one row per point, or trajectories"},
    {"data", cmd_data, "write the exact data a seed of a sweep trains on (X, y, beta*) as HDF5"},
    {"verify", cmd_verify, "check a results file against its journal and job; change nothing"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: lazysweep COMMAND [ARGS]   (lazysweep help COMMAND for details)\n\n"
                 "Sweeps of small training runs over init scale, width, depth, seed and sparsity,\n"
                 "farmed over MPI ranks into one journaled HDF5 file.\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nexit codes: 0 complete, 1 internal error, 2 bad usage or job file,\n"
                 "            3 incomplete (rerun the same command to resume),\n"
                 "            4 verify found differences (rerun `run` to repair them)\n");
}

/* `lazysweep help COMMAND` is `lazysweep COMMAND --help`. */
static int help_of(const char *name)
{
    char help[] = "--help";
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(name, commands[i].name)) {
            char *args[] = {(char *)commands[i].name, help, NULL};
            return commands[i].fn(2, args);
        }
    return -1;
}

static int unknown_command(const char *name)
{
    const char *names[N_COMMANDS];
    char what[256];
    for (size_t i = 0; i < N_COMMANDS; i++)
        names[i] = commands[i].name;
    const char *near = usage_closest(name, names, N_COMMANDS);
    if (near)
        snprintf(what, sizeof what, "unknown command '%.64s'; did you mean '%s'?", name, near);
    else
        snprintf(what, sizeof what, "unknown command '%.64s'", name);
    return usage_fail(NULL, what);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return LS_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "help") && argc == 3) {
        int code = help_of(argv[2]);
        return code >= 0 ? code : unknown_command(argv[2]);
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return LS_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("lazysweep %s\n", LS_VERSION);
        return LS_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    return unknown_command(argv[1]);
}
