/* cmd.h — the sub-commands of the `lazysweep` program: option parsing and calls into the
 * library. Each returns the process exit code (enum ls_exit). */
#ifndef LAZYSWEEP_CMD_H
#define LAZYSWEEP_CMD_H

int cmd_run(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_status(int argc, char **argv);
/* submit.c: render the Slurm template for a job and sbatch it. */
int cmd_submit(int argc, char **argv);
int cmd_report(int argc, char **argv); /* cmd_report.c */
int cmd_export(int argc, char **argv); /* cmd_report.c */
int cmd_data(int argc, char **argv);   /* cmd_data.c: a seed's data as HDF5 */
int cmd_verify(int argc, char **argv); /* cmd_verify.c: a results file against journal and job */

#endif
