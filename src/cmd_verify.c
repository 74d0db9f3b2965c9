/* cmd_verify.c — `lazysweep verify OUT.h5`: the check a resume makes, on demand, changing nothing.
 *
 * The job comes from the journal's header (which keeps the job file's bytes), or for a journal
 * written before it did, from the file's /job, whose hash must then match the journal's. Every
 * difference is printed as "DATASET row R: what" (at most VERIFY_SHOWN rows per dataset, then a
 * count), and the exit code says whether there was any. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/cfg.h"
#include "lazysweep/cmd.h"
#include "lazysweep/error.h"
#include "lazysweep/journal.h"
#include "lazysweep/lock.h"
#include "lazysweep/resume.h"
#include "lazysweep/store.h"
#include "lazysweep/sweep.h"
#include "lazysweep/train.h"
#include "lazysweep/usage.h"

#define VERIFY_SHOWN 10     /* rows printed per dataset */
#define VERIFY_DATASETS 128 /* datasets whose counts are kept */

static const char verify_help[] =
    "usage: lazysweep verify OUT.h5\n"
    "\n"
    "Check a results file the way a resume does, without changing anything: every row of\n"
    "/status, /metrics, /trajectories, /vectors and /timing against the journal OUT.h5.journal,\n"
    "and what the job determines — /grid, /point, /trajectories/step, /job, the root attributes\n"
    "and the dimension scales — against the job kept in the journal. Each difference is printed\n"
    "with its dataset and row; rerunning `lazysweep run` on the file repairs them all.\n"
    "Refused while a sweep runs on the file.\n"
    "\n"
    "Exit codes: 0 consistent, 1 internal error, 2 bad usage, no journal, or a sweep running,\n"
    "4 differences found.\n";

/* Differences seen so far, per dataset. */
struct tally {
    size_t n;
    char name[VERIFY_DATASETS][LS_PATH_MAX + 32];
    size_t count[VERIFY_DATASETS];
    size_t total;
};

static void on_diff(void *arg, const char *dataset, int64_t row, const char *what)
{
    struct tally *t = arg;
    size_t i = 0;
    while (i < t->n && strcmp(t->name[i], dataset) != 0)
        i++;
    if (i == t->n && t->n < VERIFY_DATASETS)
        snprintf(t->name[t->n++], sizeof t->name[0], "%s", dataset);
    size_t seen = i < VERIFY_DATASETS ? ++t->count[i] : VERIFY_SHOWN + 1;
    t->total++;
    if (seen > VERIFY_SHOWN)
        return;
    if (row >= 0)
        printf("%s row %lld: %s\n", dataset, (long long)row, what);
    else
        printf("%s: %s\n", dataset, what);
}

/* The job's text: the journal's copy, else the file's /job. *text malloc'ed. */
static int job_text(const char *out, const char *jpath, char **text, size_t *len, char *err,
                    size_t errlen)
{
    struct ls_journal_scan scan;
    int rc = journal_read(jpath, NULL, NULL, &scan);
    if (rc == LS_ENOTFOUND) {
        snprintf(err, errlen, "%s: no journal, so nothing to check %s against", jpath, out);
        return rc;
    }
    if (rc == LS_OK && scan.text != NULL) {
        *text = scan.text;
        *len = scan.text_len;
        scan.text = NULL;
        journal_scan_free(&scan);
        return LS_OK;
    }
    journal_scan_free(&scan);
    rc = store_read_job_text(out, text, len);
    if (rc != LS_OK)
        snprintf(err, errlen, "%s: neither its journal's header nor its /job can be read, so "
                 "the job is unknown", out);
    return rc;
}

static int load_job(const char *out, struct ls_job *job, char *err, size_t errlen)
{
    char jpath[4200], where[4300];
    char *text = NULL;
    size_t len = 0;
    snprintf(jpath, sizeof jpath, "%s.journal", out);
    int rc = job_text(out, jpath, &text, &len, err, errlen);
    if (rc != LS_OK)
        return rc;
    snprintf(where, sizeof where, "%s (the job kept in the results)", out);
    rc = cfg_parse(where, text, len, job, err, errlen);
    free(text);
    return rc;
}

static void print_summary(const char *out, const struct ls_resume *rs, const struct tally *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->count[i] > VERIFY_SHOWN)
            printf("%s: ... %zu more\n", t->name[i], t->count[i] - VERIFY_SHOWN);
    if (t->total == 0) {
        printf("%s: consistent: %zu rows match the journal (%llu done, %llu pending); /grid, "
               "/point, /trajectories/step, /job and the attributes match the job\n",
               out, rs->verified, (unsigned long long)rs->count[LS_ST_DONE],
               (unsigned long long)rs->count[LS_ST_PENDING]);
        return;
    }
    printf("%s: %zu difference(s); rerun `lazysweep run` on it to repair them\n", out, t->total);
}

static int verify_file(const char *out)
{
    struct ls_job job = {0};
    struct ls_resume rs = {0};
    static struct tally t;
    char err[LS_ERR_MAX + 9000];
    int64_t *steps = NULL;
    size_t T = 0, n_diff = 0;
    int code = LS_EXIT_USAGE;
    memset(&t, 0, sizeof t);
    if (load_job(out, &job, err, sizeof err) != LS_OK) {
        fprintf(stderr, "lazysweep: %s\n", err);
        return LS_EXIT_USAGE;
    }
    if (train_schedule(job.max_steps_all, job.train.log_points, job.train.log_spacing, &steps,
                       &T) != LS_OK) {
        cfg_free(&job);
        return LS_EXIT_INTERNAL;
    }
    int rc = resume_verify(&job, out, steps, T, on_diff, &t, &rs, &n_diff, err, sizeof err);
    if (rc == LS_OK) {
        print_summary(out, &rs, &t);
        code = n_diff ? LS_EXIT_DIFFERS : LS_EXIT_OK;
    } else {
        fprintf(stderr, "lazysweep: %s\n", err[0] ? err : ls_strerror(rc));
        code = rc == LS_ENOTFOUND || rc == LS_EMISMATCH ? LS_EXIT_USAGE : LS_EXIT_INTERNAL;
    }
    resume_close(&rs);
    free(steps);
    cfg_free(&job);
    return code;
}

int cmd_verify(int argc, char **argv)
{
    char who[256] = "";
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(verify_help, stdout);
            return LS_EXIT_OK;
        }
    if (argc == 2 && argv[1][0] == '-')
        return usage_bad_option("verify", verify_help, argv[1]);
    if (argc != 2)
        return usage_fail("verify", "verify takes one results file");
    int code = usage_check_results_file("verify", argv[1]);
    if (code >= 0)
        return code;
    if (lock_held(argv[1], who, sizeof who)) {
        fprintf(stderr, "lazysweep: %s: a sweep is running on it (%s); verify it once that has "
                        "stopped\n", argv[1], who);
        return LS_EXIT_USAGE;
    }
    return verify_file(argv[1]);
}
