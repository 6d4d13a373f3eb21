/*
 * What dump refuses, checked on the whole seized tree before any image is
 * written: state that the dumper does not save and that restore therefore
 * could not rebuild.  Each check admits only what is saved (a whitelist):
 * namespaces equal to criu's own, fds of the kinds of core/files/table.c,
 * mappings whose backing restore can map again, no file locks, no sharing
 * of memory, fd table or fs info between processes or split off by a
 * thread.  docs/dump-restore.md lists each refusal and why.
 */
#ifndef CRIU_DUMP_CHECK_H
#define CRIU_DUMP_CHECK_H

#include <stdbool.h>
#include <sys/types.h>

#include "proc.h"

struct dump_check_task {
	pid_t pid;
	const struct proc_stat *stat; /* comm, controlling terminal */
	bool zombie;		      /* nothing but its exit code is dumped */
	/* out: the mappings the check read (smaps is slow to read twice), for
	 * the caller to use while the tree stays seized and to free */
	struct proc_vma *vmas;
	int nr_vmas;
};

/*
 * 0 when every task of tasks[0..n) holds only what dump saves; otherwise
 * -EOPNOTSUPP after one error naming the first task (pid and comm) and what
 * it holds.  shell_job: --shell-job, which admits the job's own terminal.
 */
int dump_check_tree(struct dump_check_task *tasks, int n, bool shell_job, bool file_locks);

#endif
