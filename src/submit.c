/* submit.c — `lazysweep submit`: render the Slurm batch template for one job and sbatch it.
 *
 * The template (slurm/lazysweep.sbatch) holds {{PLACEHOLDERS}}; each is replaced by a value that
 * was checked here, and a line holding a placeholder whose value is empty (no --time, no
 * --partition) is dropped so that Slurm's default applies. The rendered script is written next
 * to the results file (OUT.h5.sbatch), so what ran is on disk beside what it produced, and
 * `sbatch --parsable` submits it. The job file is validated first: a bad job is refused here
 * (exit 2) rather than after waiting in the queue. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "lazysweep/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lazysweep/cfg.h"
#include "lazysweep/error.h"
#include "lazysweep/lock.h"
#include "lazysweep/sweep.h"
#include "lazysweep/usage.h"

extern char **environ;

#define SUBMIT_PATH 4096
#define TEMPLATE_NAME "lazysweep.sbatch"
#define TEMPLATE_MAX (64u << 10)
#define LEAD_MAX 120 /* s of warning before the time limit, at most (and half the limit) */

static const char submit_help[] =
    "usage: lazysweep submit JOB.yaml [-o OUT.h5] [--nodes N] [--ntasks N] [--time T]\n"
    "                        [--partition P] [--dry-run]\n"
    "\n"
    "Validate JOB.yaml, render the Slurm batch template for it, write the script to OUT.h5.sbatch\n"
    "and submit it with `sbatch --parsable`; prints the Slurm job id. The job runs the sweep on\n"
    "N tasks (rank 0 coordinates) with srun --mpi=pmix, or mpirun inside the allocation when\n"
    "Slurm has no PMIx. Slurm sends it SIGUSR1 shortly before the time limit (half the limit, at\n"
    "most 120 s); the sweep then stops cleanly, and the job requeues itself and resumes.\n"
    "Its log is OUT.h5.slurm-JOBID.log (appended to across restarts).\n"
    "\n"
    "  -o, --output OUT.h5   results file (default: results/<job name>.h5)\n"
    "  --nodes N             nodes (default 1)\n"
    "  --ntasks N            MPI ranks, coordinator included (default 2)\n"
    "  --time T              time limit per run, in Slurm's formats: MIN, MIN:SEC, H:MIN:SEC,\n"
    "                        D-H, D-H:MIN, D-H:MIN:SEC (default: the partition's)\n"
    "  --partition P         partition (default: the cluster's default)\n"
    "  --dry-run             print the rendered script instead of writing and submitting it\n"
    "\n"
    "The template is $LAZYSWEEP_SLURM_TEMPLATE, else slurm/" TEMPLATE_NAME " in the source tree\n"
    "of the binary, else PREFIX/share/lazysweep/" TEMPLATE_NAME ". $LAZYSWEEP_SBATCH replaces the\n"
    "sbatch command. Exit codes: 0 submitted, 1 sbatch failed, 2 bad usage or job file.\n";

struct submit_args {
    const char *job;
    const char *out;
    long nodes, ntasks;
    const char *time;
    const char *partition;
    int dry_run;
};

static int usage_error(const char *what, const char *arg)
{
    char line[512];
    snprintf(line, sizeof line, "%s%s%.256s", what, arg ? ": " : "", arg ? arg : "");
    return usage_fail("submit", line);
}

static int parse_count(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 1 || v > 1000000)
        return -1;
    *out = v;
    return 0;
}

/* Parse the options; returns -1 to go on, else an exit code. */
static int parse_submit(int argc, char **argv, struct submit_args *a)
{
    *a = (struct submit_args){.nodes = 1, .ntasks = 2};
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(s, "-o") || !strcmp(s, "--output") || !strcmp(s, "--nodes") ||
                    !strcmp(s, "--ntasks") || !strcmp(s, "--time") || !strcmp(s, "--partition");
        if (takes && v == NULL)
            return usage_bad_option("submit", submit_help, s);
        if (!strcmp(s, "--dry-run"))
            a->dry_run = 1;
        else if (!strcmp(s, "-o") || !strcmp(s, "--output"))
            a->out = v;
        else if (!strcmp(s, "--nodes") || !strcmp(s, "--ntasks")) {
            if (parse_count(v, !strcmp(s, "--nodes") ? &a->nodes : &a->ntasks) != 0)
                return usage_error("--nodes and --ntasks need a whole number >= 1", s);
        } else if (!strcmp(s, "--time"))
            a->time = v;
        else if (!strcmp(s, "--partition"))
            a->partition = v;
        else if (s[0] == '-')
            return usage_bad_option("submit", submit_help, s);
        else if (a->job == NULL)
            a->job = s;
        else
            return usage_error("submit takes one job file", s);
        i += takes;
    }
    if (a->job == NULL)
        return usage_error("submit needs a job file", NULL);
    if (a->nodes > a->ntasks)
        return usage_error("--nodes cannot exceed --ntasks", NULL);
    return -1;
}

/* Seconds in a Slurm time limit (MIN, MIN:SEC, H:MIN:SEC, D-H, D-H:MIN, D-H:MIN:SEC), or -1. */
static long slurm_seconds(const char *t)
{
    long f[4] = {0, 0, 0, 0}, days = 0;
    int n = 0, has_days = strchr(t, '-') != NULL;
    const char *p = t;
    if (has_days) {
        char *end;
        days = strtol(p, &end, 10);
        if (end == p || *end != '-' || days < 0 || days > 365)
            return -1;
        p = end + 1;
    }
    while (n < 3) {
        char *end;
        if (*p < '0' || *p > '9')
            return -1;
        f[n++] = strtol(p, &end, 10);
        if (f[n - 1] > 1000000)
            return -1;
        p = end;
        if (*p != ':')
            break;
        p++;
    }
    if (*p)
        return -1;
    long s;
    if (has_days) /* D-H, D-H:M, D-H:M:S */
        s = f[0] * 3600 + f[1] * 60 + f[2];
    else if (n == 1) /* M */
        s = f[0] * 60;
    else if (n == 2) /* M:S */
        s = f[0] * 60 + f[1];
    else /* H:M:S */
        s = f[0] * 3600 + f[1] * 60 + f[2];
    return days * 86400 + s;
}

/* ---- paths ----------------------------------------------------------------------------------- */

/* The absolute path of an output file whose directory exists (the file need not). */
static int absolute_output(const char *out, char *abs, size_t len)
{
    char dir[SUBMIT_PATH], real[PATH_MAX];
    const char *slash = strrchr(out, '/');
    const char *base = slash ? slash + 1 : out;
    if (!*base)
        return -1;
    if (slash == out)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - out) : 1, slash ? out : ".");
    if (realpath(dir, real) == NULL)
        return -1;
    return snprintf(abs, len, "%s/%s", strcmp(real, "/") ? real : "", base) < (int)len ? 0 : -1;
}

/* The default output results/<name>.h5 (results/ is made by `submit`, once all is checked). */
static int default_output(const struct ls_job *job, char *abs, size_t len)
{
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL)
        return -1;
    return snprintf(abs, len, "%s/results/%s.h5", cwd, job->name) < (int)len ? 0 : -1;
}

static int readable(const char *path)
{
    return access(path, R_OK) == 0;
}

/* The directory of the running binary (so the template is found beside its source tree). */
static int exe_path(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

/* $LAZYSWEEP_SLURM_TEMPLATE, else slurm/lazysweep.sbatch in the binary's directory or up to
 * three levels above it (build/, build/asan/), else ../share/lazysweep/ beside the binary. */
static int find_template(const char *exe, char *path, size_t len)
{
    const char *env = getenv("LAZYSWEEP_SLURM_TEMPLATE");
    char dir[SUBMIT_PATH];
    if (env && *env) {
        snprintf(path, len, "%s", env);
        return readable(path) ? 0 : -1;
    }
    snprintf(dir, sizeof dir, "%s", exe);
    for (int up = 0; up < 4; up++) {
        char *slash = strrchr(dir, '/');
        if (slash == NULL)
            break;
        *slash = '\0';
        if (snprintf(path, len, "%s/slurm/" TEMPLATE_NAME, dir) < (int)len && readable(path))
            return 0;
        if (up == 0 &&
            snprintf(path, len, "%s/../share/lazysweep/" TEMPLATE_NAME, dir) < (int)len &&
            readable(path))
            return 0;
    }
    snprintf(path, len, "slurm/" TEMPLATE_NAME " (set LAZYSWEEP_SLURM_TEMPLATE)");
    return -1;
}

/* ---- rendering ------------------------------------------------------------------------------- */

struct subst {
    const char *name;
    char value[SUBMIT_PATH + 64];
};

enum {
    S_NAME,
    S_NODES,
    S_NTASKS,
    S_TIME,
    S_PARTITION,
    S_LEAD,
    S_WORKDIR,
    S_LOG,
    S_LAZYSWEEP,
    S_JOB,
    S_OUT,
    N_SUBST
};
static const char *const subst_names[N_SUBST] = {"NAME",      "NODES", "NTASKS",  "TIME",
                                                 "PARTITION", "LEAD",  "WORKDIR", "LOG",
                                                 "LAZYSWEEP", "JOB",   "OUT"};

/* Values go into #SBATCH lines (split at blanks by Slurm) and single-quoted shell words: refuse
 * what would break either. */
static int safe_value(const char *v)
{
    return strpbrk(v, " \t'\n\r\\\"`$") == NULL;
}

static const struct subst *lookup(const struct subst *s, const char *name, size_t len)
{
    for (int i = 0; i < N_SUBST; i++)
        if (strlen(s[i].name) == len && !strncmp(s[i].name, name, len))
            return &s[i];
    return NULL;
}

/* Render one template line into out; *drop is set when a placeholder in it is empty. Returns -1
 * (with the placeholder in err) on an unknown or unterminated placeholder. */
static int render_line(const char *line, const struct subst *s, FILE *out, int *drop, char *err,
                       size_t errlen)
{
    *drop = 0;
    for (const char *p = line; *p;) {
        const char *open = strstr(p, "{{");
        if (open == NULL) {
            fputs(p, out);
            break;
        }
        const char *close = strstr(open + 2, "}}");
        const struct subst *v = close ? lookup(s, open + 2, (size_t)(close - open - 2)) : NULL;
        if (v == NULL) {
            snprintf(err, errlen, "unknown placeholder %.40s", open);
            return -1;
        }
        fwrite(p, 1, (size_t)(open - p), out);
        fputs(v->value, out);
        *drop |= v->value[0] == '\0';
        p = close + 2;
    }
    return 0;
}

/* The whole template rendered into a malloc'ed string *text. */
static int render(const char *template_path, const struct subst *s, char **text, char *err,
                  size_t errlen)
{
    FILE *in = fopen(template_path, "r"), *out = NULL;
    char line[TEMPLATE_MAX], *pending = NULL;
    size_t plen = 0;
    int rc = -1, drop = 0;
    if (in == NULL) {
        snprintf(err, errlen, "cannot open %s: %s", template_path, strerror(errno));
        return -1;
    }
    out = open_memstream(text, &plen);
    while (out && fgets(line, sizeof line, in)) {
        FILE *one = open_memstream(&pending, &plen);
        if (one == NULL || render_line(line, s, one, &drop, err, errlen) != 0) {
            if (one)
                fclose(one);
            goto cleanup;
        }
        fclose(one);
        if (!drop)
            fputs(pending, out);
        free(pending);
        pending = NULL;
    }
    rc = out ? 0 : -1;
cleanup:
    free(pending);
    if (out)
        fclose(out);
    fclose(in);
    if (rc != 0) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

/* ---- submitting ------------------------------------------------------------------------------ */

/* Run `sbatch --parsable script`, reading the job id from its stdout. sbatch's stderr goes
 * straight to ours, so its own reason for a refusal reaches the user. */
static int run_sbatch(const char *script, char *jobid, size_t len)
{
    const char *sbatch = getenv("LAZYSWEEP_SBATCH");
    char *argv[] = {(char *)(sbatch && *sbatch ? sbatch : "sbatch"), "--parsable", (char *)script,
                    NULL};
    int fds[2], status = 0;
    pid_t pid;
    posix_spawn_file_actions_t fa;
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (err != 0) {
        close(fds[0]);
        fprintf(stderr, "lazysweep submit: cannot run %s: %s\n", argv[0], strerror(err));
        return -1;
    }
    size_t n = 0;
    ssize_t got;
    while (n < len - 1 && (got = read(fds[0], jobid + n, len - 1 - n)) > 0)
        n += (size_t)got;
    jobid[n] = '\0';
    close(fds[0]);
    waitpid(pid, &status, 0);
    jobid[strcspn(jobid, ";\n")] = '\0'; /* "id" or "id;cluster" */
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && jobid[0] ? 0 : -1;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    return bad ? -1 : 0;
}

/* ---- the command ----------------------------------------------------------------------------- */

/* Fill the placeholder values; returns -1 to go on, else an exit code. */
static int fill_values(const struct submit_args *a, const struct ls_job *job, struct subst *s)
{
    char exe[SUBMIT_PATH], real[PATH_MAX];
    long limit = a->time ? slurm_seconds(a->time) : 0;
    for (int i = 0; i < N_SUBST; i++)
        s[i].name = subst_names[i];
    if (a->time && limit <= 0)
        return usage_error("--time is not a Slurm time limit (MIN, MIN:SEC, H:MIN:SEC, D-H, "
                           "D-H:MIN, D-H:MIN:SEC) above zero",
                           a->time);
    long lead = limit > 0 && limit / 2 < LEAD_MAX ? limit / 2 : LEAD_MAX;
    if (exe_path(exe, sizeof exe) != 0 || realpath(a->job, real) == NULL ||
        getcwd(s[S_WORKDIR].value, sizeof s[S_WORKDIR].value) == NULL) {
        fprintf(stderr,
                "lazysweep submit: cannot resolve the paths of the binary, %s or the "
                "working directory\n",
                a->job);
        return LS_EXIT_INTERNAL;
    }
    /* SUBMIT_PATH, not the buffer's size: the output's name must leave room for suffixes. */
    int bad_out = a->out ? absolute_output(a->out, s[S_OUT].value, SUBMIT_PATH)
                         : default_output(job, s[S_OUT].value, SUBMIT_PATH);
    if (bad_out)
        return usage_error("the output's directory does not exist or cannot be made",
                           a->out ? a->out : "results/");
    snprintf(s[S_NAME].value, sizeof s[S_NAME].value, "%s", job->name);
    snprintf(s[S_NODES].value, sizeof s[S_NODES].value, "%ld", a->nodes);
    snprintf(s[S_NTASKS].value, sizeof s[S_NTASKS].value, "%ld", a->ntasks);
    snprintf(s[S_TIME].value, sizeof s[S_TIME].value, "%s", a->time ? a->time : "");
    snprintf(s[S_PARTITION].value, sizeof s[S_PARTITION].value, "%s",
             a->partition ? a->partition : "");
    snprintf(s[S_LEAD].value, sizeof s[S_LEAD].value, "%ld", lead);
    snprintf(s[S_LOG].value, sizeof s[S_LOG].value, "%.4096s.slurm-%%j.log", s[S_OUT].value);
    snprintf(s[S_LAZYSWEEP].value, sizeof s[S_LAZYSWEEP].value, "%s", exe);
    snprintf(s[S_JOB].value, sizeof s[S_JOB].value, "%s", real);
    for (int i = 0; i < N_SUBST; i++)
        if (!safe_value(s[i].value))
            return usage_error("a value cannot go into a batch script (it holds a blank, quote, "
                               "backslash, $, ` or newline)",
                               s[i].value);
    return -1;
}

/* Write the script beside the output and submit it. */
static int submit(const char *text, const char *out, int default_out)
{
    char script[SUBMIT_PATH + 64], jobid[128];
    char who[256];
    if (lock_held(out, who, sizeof who)) {
        fprintf(stderr, "lazysweep submit: %s is in use by a running sweep (%s)\n", out, who);
        return LS_EXIT_USAGE;
    }
    snprintf(script, sizeof script, "%.4096s.sbatch", out);
    if (default_out && mkdir("results", 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "lazysweep submit: cannot create results/: %s\n", strerror(errno));
        return LS_EXIT_USAGE;
    }
    if (write_file(script, text) != 0) {
        fprintf(stderr, "lazysweep submit: cannot write %s: %s\n", script, strerror(errno));
        return LS_EXIT_USAGE;
    }
    if (run_sbatch(script, jobid, sizeof jobid) != 0) {
        fprintf(stderr, "lazysweep submit: sbatch did not accept %s\n", script);
        return LS_EXIT_INTERNAL;
    }
    printf("%s\n", jobid);
    fprintf(stderr, "lazysweep submit: job %s: %s, log %s.slurm-%s.log\n", jobid, script, out,
            jobid);
    return LS_EXIT_OK;
}

int cmd_submit(int argc, char **argv)
{
    struct submit_args a;
    struct ls_job job = {0};
    struct subst s[N_SUBST];
    char err[LS_ERR_MAX], tpl[SUBMIT_PATH] = "", exe[SUBMIT_PATH];
    char *text = NULL;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(submit_help, stdout);
            return LS_EXIT_OK;
        }
    int code = parse_submit(argc, argv, &a);
    if (code >= 0)
        return code;
    if (cfg_load(a.job, &job, err, sizeof err) != LS_OK) {
        fprintf(stderr, "%s\n", err);
        return LS_EXIT_USAGE;
    }
    memset(s, 0, sizeof s);
    code = fill_values(&a, &job, s);
    if (code < 0 && (exe_path(exe, sizeof exe) != 0 || find_template(exe, tpl, sizeof tpl))) {
        fprintf(stderr, "lazysweep submit: no readable Slurm template: %s\n", tpl);
        code = LS_EXIT_USAGE;
    }
    if (code < 0 && render(tpl, s, &text, err, sizeof err) != 0) {
        fprintf(stderr, "lazysweep submit: %s: %s\n", tpl, err);
        code = LS_EXIT_USAGE;
    }
    if (code < 0 && a.dry_run) {
        fputs(text, stdout);
        code = LS_EXIT_OK;
    }
    if (code < 0)
        code = submit(text, s[S_OUT].value, a.out == NULL);
    free(text);
    cfg_free(&job);
    return code;
}
