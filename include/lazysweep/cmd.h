/* cmd.h — the sub-commands of the `lazysweep` program: option parsing and calls into the
 * library. Each returns the process exit code (enum ls_exit). */
#ifndef LAZYSWEEP_CMD_H
#define LAZYSWEEP_CMD_H

int cmd_run(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_status(int argc, char **argv);

#endif
