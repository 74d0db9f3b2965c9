/* usage.h — how every sub-command reports a usage mistake: one line naming it, a did-you-mean
 * when a word is close to a known one, and where the full help is; never the whole help text,
 * which buries the one line that matters. */
#ifndef LAZYSWEEP_USAGE_H
#define LAZYSWEEP_USAGE_H

#include <stddef.h>

/* Print "lazysweep CMD: WHAT" and "see 'lazysweep CMD --help'" on stderr; returns
 * LS_EXIT_USAGE (2). cmd may be NULL for the program itself. */
int usage_fail(const char *cmd, const char *what);

/* An option argument the command did not accept: when `arg` appears in the command's help text
 * it was given without its value ("'-o' needs a value"); otherwise it is unknown, with the
 * closest option of the help text suggested. Returns LS_EXIT_USAGE. */
int usage_bad_option(const char *cmd, const char *help, const char *arg);

/* The candidate closest to `word` by edit distance (insert, delete, substitute, swap two
 * neighbours) when within max(1, strlen(word) / 3) edits; else the one candidate that `word`
 * (3 characters or more) abbreviates; else NULL. */
const char *usage_closest(const char *word, const char *const *cands, size_t n);

/* Commands that read a results file call this first: when PATH exists but holds no HDF5
 * signature (e.g. a job file given by mistake) it prints one line saying what PATH is and
 * returns LS_EXIT_USAGE; otherwise -1 (go on, and let the reader report other problems). */
int usage_check_results_file(const char *cmd, const char *path);

#endif
