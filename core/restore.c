/*
 * criu restore: recreate the dumped tree with the same PIDs.
 *
 * criu reads every image first, checks that this CPU can run the tasks and
 * that every PID is free, then forks the root with clone3(set_tid); each
 * task (still running criu's code) forks its own children the same way,
 * sets up its session, pipes and files, maps the restorer blob into a hole
 * that neither criu nor the dumped task uses, and jumps into it.  The
 * restorer unmaps criu, moves this kernel's vDSO where the dumped one was,
 * maps and fills the VMAs straight from pages-N.img, restores signal state,
 * timers, limits and credentials, reports to criu through shared memory
 * and waits.  criu then seizes each task (compel), unmaps the restorer,
 * writes the dumped registers and signal mask of every thread and lets it
 * go.  On any failure criu kills every task it created and says why.
 *
 * This file holds that flow and criu's side of it; the steps live in
 * restore-images.c (reading the images), core/files/ (open files: pipes,
 * shared files, fds), restore-mem.c (shared memory, holes, premapped memory),
 * restore-vdso.c (this kernel's vDSO) and restore-args.c (the restorer's
 * arguments and the jump into it), which share include/restore-priv.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "arch-image.h"
#include "commands.h"
#include "compel-arch.h"
#include "compel.h"
#include "dump.h"
#include "fault.h"
#include "image-desc.h"
#include "image.h"
#include "log.h"
#include "options.h"
#include "proc.h"
#include "proto/stats.pb-c.h"
#include "stats.h"
#include "restore-priv.h"
#include "pie/restorer.h"

#define RESTORE_TIMEOUT_S 60

int images_dirfd = -1;

/*
 * The lifeline: a pipe made before the first fork.  criu alone holds the
 * write end (each new task closes it at once) and never writes: when criu
 * dies the read end sees EOF, and a task it has not let go yet exits.
 */
int lifeline_rd = -1;
static int lifeline_wr = -1;
/* SIGTERM, SIGINT or SIGHUP came while we restore: undo and fail */
static volatile sig_atomic_t stop_signal;

/* criu's shared memory with every task it creates */
struct restorer_status *status;
size_t status_size;

static uint32_t us_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (uint32_t)((b.tv_sec - a->tv_sec) * 1000000 + (b.tv_nsec - a->tv_nsec) / 1000);
}

/* ---- before anything is created ------------------------------------------------ */

/* Who has a PID that restore needs: a zombie and a kernel thread are said so. */
static void report_pid_holder(uint32_t pid, const struct proc_stat *st)
{
	struct proc_stat parent;

	if (st->flags & PROC_PF_KTHREAD) {
		pr_err("PID %u is taken by a kernel thread (%s): restore needs it free\n", pid,
		       st->comm);
		return;
	}
	if (st->state == 'Z') {
		if (proc_read_stat(st->ppid, 0, &parent))
			parent.comm[0] = '\0';
		pr_err("PID %u is taken by a zombie (%s) that its parent %d (%s) has not reaped "
		       "yet: restore needs it free\n",
		       pid, st->comm, st->ppid, parent.comm);
		return;
	}
	pr_err("PID %u is taken by a running process (%s): restore needs it free\n", pid,
	       st->comm);
}

static int check_pids_free(void)
{
	for (int i = 0; i < nr_tasks; i++)
		for (size_t j = 0; j < tasks[i].pe->n_threads; j++) {
			uint32_t pid = tasks[i].pe->threads[j];
			struct proc_stat st;
			char path[32];

			snprintf(path, sizeof(path), "/proc/%u", pid);
			if (access(path, F_OK))
				continue;
			if (proc_read_stat((pid_t)pid, 0, &st))
				st.comm[0] = '\0';
			report_pid_holder(pid, &st);
			set_cr_errno(EEXIST);
			return -EEXIST;
		}
	return 0;
}

/* ---- in each new task --------------------------------------------------------------- */

static void report(int idx, long ret, uint32_t step)
{
	status[idx].ret = ret;
	status[idx].step = step;
	__atomic_store_n(&status[idx].done, 1u, __ATOMIC_RELEASE);
}

/*
 * Kernels before clone3's set_tid (5.5): write pid - 1 to ns_last_pid and
 * fork, under an flock so that other restores on the machine take turns;
 * something else may still take the pid first, which the caller sees.
 */
static pid_t fork_with_ns_last_pid(pid_t pid)
{
	int fd = open("/proc/sys/kernel/ns_last_pid", O_RDWR | O_CLOEXEC);
	char buf[16];
	pid_t r;
	int n;

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX)) {
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d", pid - 1);
	if (pwrite(fd, buf, (size_t)n, 0) != n) {
		close(fd);
		return -1;
	}
	r = fork();
	if (r == 0)
		return 0;
	flock(fd, LOCK_UN);
	close(fd);
	return r;
}

static pid_t clone_with_pid(pid_t pid, int exit_signal, uint64_t flags)
{
	struct clone_args args;
	pid_t r;

	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.exit_signal = (uint64_t)exit_signal;
	args.set_tid = (uintptr_t)&pid;
	args.set_tid_size = 1;
	r = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (r < 0 && (errno == ENOSYS || errno == E2BIG) && !flags && exit_signal == SIGCHLD)
		r = fork_with_ns_last_pid(pid);
	return r;
}

static void restore_task(int idx, pid_t parent) __attribute__((noreturn));

/*
 * Process groups: a child that leads one, then children that join a group
 * led by someone else already there (a sibling, this task, an ancestor).
 * The parent does it, so no child has to wait for another.
 */
static int set_child_groups(int idx)
{
	for (int pass = 0; pass < 2; pass++)
		for (int i = idx + 1; i < nr_tasks; i++) {
			struct rtask *c = &tasks[i];
			pid_t pid = (pid_t)c->pe->pid, pgid = (pid_t)c->pe->pgid;

			if (c->parent != idx || c->pe->sid == c->pe->pid)
				continue;
			if (opts.shell_job && find_task_index(c->pe->sid) < 0)
				continue;
			if ((pass == 0) != (pgid == pid) || pgid == getpgrp())
				continue;
			if (setpgid(pid, pgid) && errno != EACCES) {
				pr_perror("can't put pid %d in process group %d", pid, pgid);
				return -errno;
			}
		}
	return 0;
}

static int fork_children(int idx)
{
	for (int i = idx + 1; i < nr_tasks; i++) {
		pid_t pid;

		if (tasks[i].parent != idx)
			continue;
		pid = clone_with_pid((pid_t)tasks[i].pe->pid, SIGCHLD, 0);
		if (pid < 0) {
			pr_perror("can't create pid %u", tasks[i].pe->pid);
			return -errno;
		}
		if (pid == 0)
			restore_task(i, (pid_t)tasks[idx].pe->pid);
		if (pid != (pid_t)tasks[i].pe->pid) {
			pr_err("asked for pid %u, the kernel gave %d\n", tasks[i].pe->pid, pid);
			kill(pid, SIGKILL);
			return -EEXIST;
		}
		/* a zombie must be dead before our restorer ignores SIGCHLD, or
		 * the kernel reaps it at once: wait for that, without reaping */
		if (tasks[i].zombie) {
			siginfo_t si;

			while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) && errno == EINTR)
				;
		}
	}
	return 0;
}

static void set_session(struct rtask *t)
{
	pid_t pid = (pid_t)t->pe->pid;

	/* a shell job joins criu's session and process group */
	if (opts.shell_job && find_task_index(t->pe->sid) < 0)
		return;

	if (t->pe->sid == (uint32_t)pid)
		setsid();
	else if (t->pe->pgid == (uint32_t)pid)
		setpgid(0, 0);
}

static void zombie_exit(struct rtask *t) __attribute__((noreturn));
static void zombie_exit(struct rtask *t)
{
	uint32_t code = t->core->tc->exit_code;

	prctl(PR_SET_NAME, t->core->tc->comm);
	if (WIFSIGNALED(code)) {
		signal(WTERMSIG(code), SIG_DFL);
		prctl(PR_SET_DUMPABLE, 0); /* no core file */
		kill(getpid(), WTERMSIG(code));
	}
	_exit(WEXITSTATUS(code));
}

/* Writes v to /proc/self/NAME unless it holds v already. */
static int write_self_number(const char *name, long long v)
{
	char path[64], buf[32], *text;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/self/%s", name);
	text = proc_read_file(path, NULL);
	if (text && strtoll(text, NULL, 10) == v) {
		free(text);
		return 0;
	}
	free(text);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	n = snprintf(buf, sizeof(buf), "%lld", v);
	if (fd < 0 || write(fd, buf, (size_t)n) != n) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		return err;
	}
	close(fd);
	return 0;
}

/*
 * oom_score_adj and loginuid, in the task itself (only a task may set its
 * own loginuid; lowering oom_score_adj below criu's needs CAP_SYS_RESOURCE).
 */
static int restore_proc_values(struct rtask *t)
{
	const TaskCoreEntry *tc = t->core->tc;
	int ret;

	if (tc->has_oom_score_adj) {
		ret = write_self_number("oom_score_adj", tc->oom_score_adj);
		if (ret) {
			pr_err("can't restore oom_score_adj %d of pid %u: %s\n", tc->oom_score_adj,
			       t->pe->pid, strerror(-ret));
			return ret;
		}
	}
	if (tc->has_loginuid && !access("/proc/self/loginuid", F_OK)) {
		ret = write_self_number("loginuid", tc->loginuid);
		if (ret) {
			pr_err("can't restore loginuid %u of pid %u: %s (setting a loginuid "
			       "once set needs CAP_AUDIT_CONTROL and a kernel that allows it)\n",
			       tc->loginuid, t->pe->pid, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/*
 * A new task dies with its parent until criu lets it go: SIGKILL at the
 * parent's death, and a parent that died before that was armed shows in
 * getppid().  The write end of the lifeline is criu's alone.
 */
static void tie_to_parent(pid_t parent)
{
	close(lifeline_wr);
	lifeline_wr = -1; /* its number is free now: our children must not close it */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) || getppid() != parent)
		_exit(1);
}

static int task_step(int idx, const char *what)
{
	char name[96];

	snprintf(name, sizeof(name), "restore pid %u: %s", tasks[idx].pe->pid, what);
	pr_step("%s\n", name);
	return fault_point(name);
}

static void restore_task(int idx, pid_t parent)
{
	struct rtask *t = &tasks[idx];
	int ret;

	tie_to_parent(parent);
	status[idx].pid = getpid();
	if (t->zombie) {
		status[idx].step = RESTORER_STEP_DONE;
		zombie_exit(t);
	}
	set_session(t);
	ret = task_step(idx, "pipes");
	if (!ret)
		ret = files_create(&rctx, idx);
	if (!ret)
		ret = task_step(idx, "shared memory");
	if (!ret)
		ret = create_shmem(idx);
	if (!ret)
		ret = task_step(idx, "shared files");
	if (!ret)
		ret = files_open_shared(&rctx, idx);
	if (!ret)
		ret = task_step(idx, "memory");
	if (!ret)
		ret = premap_memory(idx);
	if (!ret)
		ret = task_step(idx, "children");
	if (!ret)
		ret = fork_children(idx);
	if (!ret)
		ret = set_child_groups(idx);
	/* after the children are forked: they start from criu's values */
	if (!ret)
		ret = restore_proc_values(t);
	if (!ret)
		ret = task_step(idx, "restorer");
	if (!ret)
		ret = restore_prepare_and_jump(idx);
	/* only on failure */
	report(idx, ret ? ret : -EINVAL, RESTORER_STEP_ARGS);
	_exit(1);
}

/* ---- criu's side --------------------------------------------------------------- */

static bool task_gone(pid_t pid)
{
	struct proc_stat st;

	return proc_read_stat(pid, 0, &st) || st.state == 'Z' || st.state == 'X';
}

static const char *step_name(uint32_t step)
{
	static const char *const names[] = {
		[RESTORER_STEP_NONE] = "start",	       [RESTORER_STEP_ARGS] = "preparation",
		[RESTORER_STEP_UNMAP] = "unmapping criu", [RESTORER_STEP_MMAP] = "mapping memory",
		[RESTORER_STEP_COPY] = "copying",	       [RESTORER_STEP_MOVE] = "moving the vDSO",
		[RESTORER_STEP_PAGES] = "reading pages", [RESTORER_STEP_PROTECT] = "protecting memory",
		[RESTORER_STEP_MM] = "setting mm fields", [RESTORER_STEP_SIGNALS] = "signals",
		[RESTORER_STEP_TIMERS] = "timers",	       [RESTORER_STEP_RLIMITS] = "rlimits",
		[RESTORER_STEP_MISC] = "task state",     [RESTORER_STEP_CREDS] = "credentials",
		[RESTORER_STEP_THREADS] = "creating threads",
		[RESTORER_STEP_POSIX_TIMERS] = "POSIX timers",
		[RESTORER_STEP_DONE] = "done",
	};

	return step < sizeof(names) / sizeof(names[0]) && names[step] ? names[step] : "?";
}

/* A thread that could not get its tid: say what holds it. */
static void explain_taken_tid(const struct rtask *t, const struct restorer_status *st)
{
	struct proc_stat ps;
	uint32_t tid;

	if (st->step != RESTORER_STEP_THREADS || st->ret != -EEXIST ||
	    st->index + 1 >= t->pe->n_threads)
		return;
	tid = t->pe->threads[st->index + 1];
	if (proc_read_stat((pid_t)tid, 0, &ps))
		pr_err("tid %u was taken while the restore ran, by a task now gone\n", tid);
	else
		pr_err("tid %u is taken by pid %d (%s, state %c), which appeared while the "
		       "restore ran\n",
		       tid, ps.pid, ps.comm, ps.state);
}

/* Waits until every task reported; 0, or -errno with the culprit logged. */
static int wait_tasks(pid_t root, const struct timespec *t0, uint32_t *forking)
{
	int timeout = opts.timeout > 0 ? opts.timeout : RESTORE_TIMEOUT_S;
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int done = 0;

		if (!*forking) {
			bool all = true;

			for (int i = 0; i < nr_tasks && all; i++)
				all = status[i].pid != 0;
			if (all)
				*forking = us_since(t0);
		}
		for (int i = 0; i < nr_tasks; i++) {
			struct restorer_status *st = &status[i];

			if (tasks[i].zombie) {
				struct proc_stat ps;

				/* done once it has really exited */
				if (st->pid && !proc_read_stat(st->pid, 0, &ps) && ps.state == 'Z')
					done++;
				continue;
			}
			if (__atomic_load_n(&st->done, __ATOMIC_ACQUIRE)) {
				if (st->ret) {
					pr_err("restore of pid %u failed at %s (item %u): %s\n",
					       tasks[i].pe->pid, step_name(st->step), st->index,
					       strerror((int)-st->ret));
					explain_taken_tid(&tasks[i], st);
					return (int)st->ret;
				}
				done++;
				continue;
			}
			if (st->pid && task_gone(st->pid)) {
				pr_err("pid %u died during restore (at %s)\n", tasks[i].pe->pid,
				       step_name(st->step));
				return -ECHILD;
			}
		}
		for (int i = 0; i < nr_tasks; i++)
			for (size_t k = 1; k < tasks[i].pe->n_threads; k++) {
				struct restorer_status *st = &status[tasks[i].th_status + (int)k - 1];

				if (!__atomic_load_n(&st->done, __ATOMIC_ACQUIRE))
					continue;
				if (st->ret) {
					pr_err("restore of thread %u of pid %u failed at %s: %s\n",
					       tasks[i].pe->threads[k], tasks[i].pe->pid,
					       step_name(st->step), strerror((int)-st->ret));
					return (int)st->ret;
				}
				done++;
			}
		if (done == nr_status)
			return 0;
		if (stop_signal)
			return -EINTR;
		{
			int wst;

			if (waitpid(root, &wst, WNOHANG | __WALL) == root) {
				pr_err("the root task %d exited during restore (status %#x)\n", root, wst);
				return -ECHILD;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > timeout) {
			pr_err("restore did not finish within %d s\n", timeout);
			return -ETIMEDOUT;
		}
		usleep(500);
	}
}

struct pid_list {
	pid_t *pid;
	int n, cap;
};

/* Adds p (stopping it) unless it is there already; true when added. */
static bool stop_and_add(struct pid_list *l, pid_t p)
{
	if (p <= 0)
		return false;
	for (int i = 0; i < l->n; i++)
		if (l->pid[i] == p)
			return false;
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 64;
		pid_t *m = realloc(l->pid, (size_t)cap * sizeof(*m));

		if (!m)
			return false;
		l->pid = m;
		l->cap = cap;
	}
	l->pid[l->n++] = p;
	kill(p, SIGSTOP);
	return true;
}

/* Bounded wait until every task of l is stopped, dead or gone. */
static void wait_stopped(const struct pid_list *l)
{
	for (int tries = 0; tries < 100; tries++) {
		bool all = true;

		for (int i = 0; i < l->n && all; i++) {
			struct proc_stat st;

			if (!proc_read_stat(l->pid[i], l->pid[i], &st) && !strchr("TtZXx", st.state))
				all = false;
		}
		if (all)
			return;
		usleep(1000);
	}
}

/*
 * Every task the restore created: the tree below root (a task may not have
 * reported its pid yet, or may carry one it was not dumped with).  Each is
 * stopped as it is found, so that none forks another, and keeps its
 * children (none is reparented out of sight) until all are killed.
 */
static void kill_created(pid_t root)
{
	struct pid_list l = { 0 };
	bool grew = true;

	if (root <= 0)
		return;
	stop_and_add(&l, root);
	for (int i = 0; i < nr_tasks; i++)
		stop_and_add(&l, status[i].pid);
	{
		pid_t *kids; /* orphans of the tree, ours as subreaper */
		int nk;

		if (!proc_list_children(getpid(), &kids, &nk)) {
			for (int k = 0; k < nk; k++)
				stop_and_add(&l, kids[k]);
			free(kids);
		}
	}
	for (int round = 0; round < 50 && grew; round++) {
		grew = false;
		wait_stopped(&l);
		for (int i = 0; i < l.n; i++) {
			pid_t *kids;
			int nk;

			if (proc_list_children(l.pid[i], &kids, &nk))
				continue;
			for (int k = 0; k < nk; k++)
				grew |= stop_and_add(&l, kids[k]);
			free(kids);
		}
	}
	for (int i = l.n - 1; i >= 0; i--)
		kill(l.pid[i], SIGKILL);
	/*
	 * Reap whatever is ours until every task is gone (bounded): the root,
	 * orphans that came to us as subreaper while dying, and any thread
	 * still traced by us, which stays a zombie until we wait for it and
	 * keeps its leader from being reaped.  A zombie that is not ours (-S:
	 * the root is our parent's child) is left to its parent.
	 */
	for (int ms = 0; ms < 10000; ms++) {
		bool left = false;
		pid_t *kids;
		int nk;

		while (waitpid(-1, NULL, __WALL | WNOHANG) > 0)
			;
		/* a task that died by itself meanwhile left its children to us */
		if (!proc_list_children(getpid(), &kids, &nk)) {
			for (int k = 0; k < nk; k++)
				if (stop_and_add(&l, kids[k]))
					kill(kids[k], SIGKILL);
			free(kids);
		}
		for (int i = 0; i < l.n && !left; i++) {
			struct proc_stat st;

			left = !proc_read_stat(l.pid[i], l.pid[i], &st) &&
			       !(st.state == 'Z' && st.ppid != getpid());
		}
		if (!left)
			break;
		usleep(1000);
	}
	free(l.pid);
}

/*
 * The signal a stopped task stops by again.  SIGTSTP, SIGTTIN and SIGTTOU
 * stop it only in a process group that is not orphaned, as it was when
 * they stopped it; a shell job joins criu's group, so it gets SIGSTOP.
 */
static int restored_stop_signo(const struct rtask *t)
{
	const TaskCoreEntry *tc = t->core->tc;
	int sig = tc->has_stop_signo ? (int)tc->stop_signo : SIGSTOP;

	if (opts.shell_job || (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU))
		sig = SIGSTOP;
	return sig;
}

/*
 * Scheduling policy, real-time priority and nice of thread tid, set by
 * criu (which may raise priorities the task itself could not).
 */
static int restore_sched(uint32_t pid, pid_t tid, const ThreadCoreEntry *th)
{
	struct sched_param sp = { 0 };
	int policy;

	if (!th)
		return 0;
	if (th->has_sched_nice) {
		if (th->sched_nice < -20 || th->sched_nice > 19) {
			pr_err("core-%d.img: nice %d is out of range\n", tid, th->sched_nice);
			return -EINVAL;
		}
		if (setpriority(PRIO_PROCESS, (id_t)tid, th->sched_nice)) {
			pr_perror("can't set nice %d of thread %d of pid %u", th->sched_nice, tid,
				  pid);
			return -errno;
		}
	}
	if (!th->has_sched_policy)
		return 0;
	policy = (int)th->sched_policy;
	switch (policy & ~SCHED_RESET_ON_FORK) {
	case SCHED_FIFO:
	case SCHED_RR:
		sp.sched_priority = (int)th->sched_prio;
		break;
	case SCHED_OTHER:
	case SCHED_BATCH:
	case SCHED_IDLE:
		break;
	default:
		pr_err("core-%d.img: scheduling policy %u can't be restored\n", tid,
		       th->sched_policy);
		return -EOPNOTSUPP;
	}
	if (sched_setscheduler(tid, policy, &sp)) {
		pr_perror("can't set scheduling policy %#x (priority %d) of thread %d of pid %u",
			  policy, sp.sched_priority, tid, pid);
		return -errno;
	}
	return 0;
}

/* One syscall in the task; 0 or -errno (of the call or of running it). */
static int remote_call(struct infect_ctx *ctx, long nr, unsigned long a0, unsigned long a1)
{
	long r;
	int ret = compel_syscall(ctx, nr, (unsigned long[]){ a0, a1 }, 2, &r);

	return ret ? ret : (int)r;
}

/*
 * Seizes the task (it dies with criu from here on: PTRACE_O_EXITKILL),
 * unmaps the shared status and the restorer, closes the lifeline, gives
 * back the dumped parent-death signal and writes the dumped registers of
 * every thread.  The task is left seized and stopped: finish_release()
 * lets it go.
 */
static int finish_prepare(int idx, struct infect_ctx **ctxp)
{
	struct rtask *t = &tasks[idx];
	struct restorer_status *st = &status[idx];
	const ThreadCoreEntry *th = t->core->thread_core;
	int lifeline = st->lifeline_fd;
	struct infect_ctx *ctx;
	int ret;

	ret = compel_infect(st->pid, COMPEL_F_EXITKILL, &ctx);
	if (ret)
		return ret;
	*ctxp = ctx;
	/*
	 * The task becomes what was dumped: compel puts these back at cure.
	 * Before the syscalls below, which start from them: the task ends at
	 * the exit stop of the last one, where arm64 drops a write of x7 and
	 * puts back the value x7 had at the syscall's entry.
	 */
	ret = arch_core_to_regs(t->core, ctx->orig_regs);
	if (ret)
		return ret;
	ret = remote_call(ctx, SYS_close, (unsigned long)lifeline, 0);
	if (!ret)
		ret = remote_call(ctx, SYS_prctl, PR_SET_PDEATHSIG,
				  th && th->has_pdeath_sig ? th->pdeath_sig : 0);
	/* the shared status, then the blob, which holds the syscall
	 * instruction compel uses: last */
	if (!ret)
		ret = remote_call(ctx, SYS_munmap, (unsigned long)status, status_size);
	if (!ret)
		ret = remote_call(ctx, SYS_munmap, (unsigned long)st->blob_addr, st->blob_len);
	if (ret) {
		pr_err("can't take the restorer out of pid %d: %s\n", st->pid, strerror(-ret));
		return ret;
	}
	for (size_t k = 1; k < t->pe->n_threads && !ret; k++) {
		pid_t tid = (pid_t)t->pe->threads[k];
		const CoreEntry *c = t->thread_cores[k];
		struct compel_regs *regs = compel_arch_regs_new();
		uint64_t mask = c->thread_core && c->thread_core->has_blk_sigset
					? c->thread_core->blk_sigset
					: t->core->tc->blk_sigset;

		ret = regs ? compel_arch_get_regs(tid, regs) : -ENOMEM;
		if (!ret)
			ret = arch_core_to_regs(c, regs);
		if (!ret)
			ret = compel_arch_set_regs(tid, regs);
		if (!ret && ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask))
			ret = -errno;
		if (ret)
			pr_err("can't set the registers of thread %d: %s\n", tid, strerror(-ret));
		compel_arch_regs_free(regs);
		if (!ret)
			ret = restore_sched(t->pe->pid, tid, c->thread_core);
	}
	if (!ret)
		ret = restore_sched(t->pe->pid, st->pid, t->core->thread_core);
	ctx->orig_sigmask = th && th->has_blk_sigset ? th->blk_sigset : t->core->tc->blk_sigset;
	return ret;
}

/*
 * The criu process the user runs, when the restore runs in its worker
 * (cmd_restore()); 0 when it runs here (-S, RPC).
 */
static pid_t restore_parent;

/*
 * The worker dies with criu (PR_SET_PDEATHSIG), and its tasks with it
 * (PTRACE_O_EXITKILL), except while it lets them go: open, criu's death
 * no longer stops the loop of releases, so a kill leaves the whole tree
 * or nothing.  A criu gone before the window opened fails the restore
 * (nothing is let go); one gone while it was open: the tree runs whole,
 * and the worker ends as criu did.
 */
static int release_window(bool open)
{
	if (!restore_parent)
		return 0;
	if (prctl(PR_SET_PDEATHSIG, open ? 0 : SIGKILL, 0, 0, 0)) {
		pr_perror("can't set the worker's parent-death signal");
		return open ? -errno : 0;
	}
	if (getppid() == restore_parent)
		return 0;
	if (open) {
		pr_err("criu (pid %d) is gone: no task is let go\n", (int)restore_parent);
		return -ESRCH;
	}
	log_close();
	_exit(1);
}

/* Lets a prepared task go, as it was dumped (or stopped). */
static int finish_release(int idx, struct infect_ctx *ctx)
{
	struct rtask *t = &tasks[idx];

	if (t->stopped)
		ctx->stop_signo = restored_stop_signo(t);
	return compel_cure(ctx, (t->stopped || opts.leave_stopped) ? COMPEL_LEAVE_STOPPED
								   : COMPEL_LEAVE_AS_FOUND);
}

/*
 * Every task is prepared before any is let go: until the last one is
 * ready, criu's death (or a failure) leaves none running half restored.
 * The releases then follow in a tight loop, with nothing that can fail
 * between them but the tasks themselves.  On failure the prepared tasks
 * are left stopped, for kill_created().
 */
static int finish_tasks(void)
{
	struct infect_ctx **ctx = calloc((size_t)nr_tasks, sizeof(*ctx));
	char name[64];
	int ret = 0, r;

	if (!ctx)
		return -ENOMEM;
	for (int i = 0; i < nr_tasks && !ret; i++) {
		if (tasks[i].zombie)
			continue;
		snprintf(name, sizeof(name), "restore pid %u: finish", tasks[i].pe->pid);
		pr_step("%s\n", name);
		ret = fault_point(name);
		if (!ret)
			ret = finish_prepare(i, &ctx[i]);
		if (!ret && stop_signal)
			ret = -EINTR;
	}
	/* every peer exists now: what waited for them goes live (TCP) */
	for (int i = 0; i < nr_tasks && !ret; i++)
		if (!tasks[i].zombie)
			ret = files_restore_live(&rctx, i);
	if (!ret) {
		pr_step("restore: releasing %d tasks\n", nr_tasks);
		ret = fault_point("restore: release");
	}
	if (!ret)
		ret = release_window(true);
	if (ret) {
		for (int i = 0; i < nr_tasks; i++)
			if (ctx[i])
				compel_cure(ctx[i], COMPEL_LEAVE_STOPPED);
		free(ctx);
		return ret;
	}
	for (int i = 0; i < nr_tasks; i++)
		if (ctx[i]) {
			r = finish_release(i, ctx[i]);
			if (r && !ret)
				ret = r;
		}
	free(ctx);
	release_window(false);
	return ret;
}

/* stats-restore, as upstream writes it. */
static void write_stats(uint32_t forking, uint32_t total)
{
	StatsEntry s = STATS_ENTRY__INIT;
	RestoreStatsEntry r = RESTORE_STATS_ENTRY__INIT;
	int dirfd = opts_open_work_dir();
	struct cr_img *img = dirfd < 0 ? NULL : img_open(dirfd, IMG_STATS_RESTORE, O_WRONLY);

	if (dirfd >= 0)
		close(dirfd);
	for (int i = 0; i < nr_status; i++) {
		r.pages_compared += status[i].pages_compared;
		r.pages_skipped_cow += status[i].pages_skipped_cow;
		r.pages_restored += status[i].pages_restored;
	}
	r.has_pages_restored = true;
	r.forking_time = forking;
	r.restore_time = total;
	s.restore = &r;
	if (opts.display_stats)
		stats_display(&s);
	if (img) {
		img_write_pb(img, &s.base);
		img_close(img);
	}
}

pid_t restored_root_pid;

static const int stop_sigs[] = { SIGTERM, SIGINT, SIGHUP };

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* SIGTERM, SIGINT and SIGHUP while tasks exist: kill them, then fail. */
static void catch_stop_signals(struct sigaction saved[3])
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	stop_signal = 0;
	for (int i = 0; i < 3; i++)
		sigaction(stop_sigs[i], &sa, &saved[i]);
}

static int lifeline_open(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC)) {
		pr_perror("can't make the lifeline pipe");
		return -1;
	}
	lifeline_rd = p[0];
	lifeline_wr = p[1];
	return 0;
}

/* criu's side of the lifeline closed, its signal handlers back */
static void restore_cleanup(struct sigaction saved[3])
{
	for (int i = 0; i < 3; i++)
		sigaction(stop_sigs[i], &saved[i], NULL);
	if (lifeline_rd >= 0)
		close(lifeline_rd);
	if (lifeline_wr >= 0)
		close(lifeline_wr);
	lifeline_rd = lifeline_wr = -1;
}

static int restore_run(void)
{
	struct timespec t0;
	uint32_t forking = 0;
	struct sigaction saved[3];
	pid_t root, parent;
	int ret, pidfile_fd;

	clock_gettime(CLOCK_MONOTONIC, &t0);

	images_dirfd = open(opts.images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (images_dirfd < 0) {
		pr_perror("can't open the images directory %s", opts.images_dir);
		return 1;
	}
	/* nothing to restore without the tree: said before anything else */
	if (faccessat(images_dirfd, img_descs[IMG_PSTREE].fmt, F_OK, 0)) {
		pr_err("image %s is missing from %s: nothing to restore\n",
		       img_descs[IMG_PSTREE].fmt, opts.images_dir);
		return 1;
	}
	if (action_run(ACT_PRE_RESTORE, 0))
		return 1;
	ret = cpuinfo_check_images(images_dirfd, opts.cpu_cap, opts.cpu_cap_given);
	if (ret) {
		if (ret > 0)
			pr_err("this CPU cannot run the dumped tasks; nothing was restored\n");
		return 1;
	}
	pr_step("restore: reading images\n");
	ret = fault_point("restore: read images");
	if (!ret)
		ret = read_images(images_dirfd);
	if (!ret)
		ret = check_pids_free();
	if (ret)
		return 1;
	pidfile_fd = opts_open_pidfile();
	if (opts.pidfile && pidfile_fd < 0)
		return 1;
	/* a task orphaned while the restore fails comes to us, to be killed */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		pr_warn("can't become a child subreaper: %s\n", strerror(errno));

	/* whole pages: the restorers unmap everything of criu's around it */
	status_size = (size_t)sysconf(_SC_PAGESIZE);
	status_size = ((size_t)nr_status * sizeof(*status) + status_size - 1) & ~(status_size - 1);
	status = map_status(status_size);
	if (status == MAP_FAILED) {
		pr_perror("can't map the status area");
		return 1;
	}
	pr_step("restore: creating %d tasks\n", nr_tasks);
	if (fault_point("restore: fork root") || lifeline_open())
		return 1;
	catch_stop_signals(saved);
	/* children of criu that die are seen through status, not signals */
	/* -S: criu's sibling, which signals criu's parent as criu would
	 * (clone3 takes no exit signal with CLONE_PARENT) */
	parent = opts.restore_sibling ? getppid() : getpid();
	root = clone_with_pid((pid_t)tasks[0].pe->pid, opts.restore_sibling ? 0 : SIGCHLD,
			      opts.restore_sibling ? CLONE_PARENT : 0);
	if (root < 0) {
		pr_perror("can't create the root task with pid %u", tasks[0].pe->pid);
		restore_cleanup(saved);
		return 1;
	}
	if (root == 0)
		restore_task(0, parent);
	if (root != (pid_t)tasks[0].pe->pid) {
		pr_err("asked for pid %u, the kernel gave %d\n", tasks[0].pe->pid, root);
		kill(root, SIGKILL);
		waitpid(root, NULL, 0);
		restore_cleanup(saved);
		return 1;
	}

	ret = wait_tasks(root, &t0, &forking);
	/* every task holds its files: the ghosts made for them go */
	files_restore_fini(&rctx, !ret);
	if (!ret) {
		pr_step("restore: every task is ready\n");
		ret = fault_point("restore: tasks ready");
	}
	/* the tree is whole, in criu's namespaces (the only ones restored yet) */
	if (!ret)
		ret = action_run(ACT_SETUP_NS, root);
	if (!ret)
		ret = action_run(ACT_POST_SETUP_NS, root);
	if (!ret)
		ret = action_run(ACT_PRE_RESUME, root);
	if (!ret)
		ret = action_run(ACT_POST_RESTORE, root);
	if (!ret)
		ret = finish_tasks();
	if (ret) {
		if (stop_signal)
			pr_err("restore interrupted by signal %d\n", (int)stop_signal);
		kill_created(root);
		restore_cleanup(saved);
		pr_err("restore failed; every task it created was killed\n");
		return 1;
	}
	if (opts.auto_dedup)
		punch_restored_pages();
	restore_cleanup(saved);
	pr_step("restore: %d tasks released\n", nr_tasks);
	write_stats(forking, us_since(&t0));
	log_peak_rss();
	pr_info("restored %d processes\n", nr_tasks);
	/* as upstream: the tree runs already, a failure here is only reported */
	if (action_run(ACT_POST_RESUME, root))
		pr_warn("post-resume failed; the restored tree keeps running\n");
	restored_root_pid = root;
	if (opts_write_pidfile(pidfile_fd, root))
		return 1;
	dump_status_fd_ready();
	if (opts.restore_detached || opts.restore_sibling)
		return 0;
	{
		int wst;

		if (waitpid(root, &wst, 0) != root)
			return 1;
		if (WIFEXITED(wst))
			return WEXITSTATUS(wst);
		return 128 + WTERMSIG(wst);
	}
}

int restore_here(void)
{
	int ret = restore_run();

	/* a restore that failed before its tasks were ready: its ghosts go */
	files_restore_fini(&rctx, false);
	return ret;
}

static volatile pid_t worker_pid;

static void forward_signal(int sig)
{
	if (worker_pid > 0)
		kill(worker_pid, sig);
}

/*
 * The command line's restore runs in a worker child, which traces the
 * tasks and dies with criu (release_window()): a criu killed at any
 * moment leaves nothing or, if the worker was letting the tasks go, the
 * whole tree; never part of it.  criu passes SIGTERM, SIGINT and SIGHUP on
 * to it and ends as it ended: its exit status, or its signal.  -S keeps
 * the restore here (the root must be criu's sibling, not the worker's):
 * there a kill during the releases still leaves those let go.
 */
int cmd_restore(void)
{
	struct sigaction sa, saved[3];
	pid_t me = getpid(), w;
	int st, sig;

	if (opts.restore_sibling)
		return restore_here();
	fflush(NULL);
	w = fork();
	if (w < 0) {
		pr_perror("can't fork the restore's worker");
		return 1;
	}
	if (w == 0) {
		int ret;

		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) || getppid() != me)
			_exit(1);
		restore_parent = me;
		fault_set_worker(getpid());
		ret = restore_here();
		fflush(NULL);
		log_close();
		_exit(ret);
	}
	worker_pid = w;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(stop_sigs[i], &sa, &saved[i]);
	while (waitpid(w, &st, 0) < 0)
		if (errno != EINTR) {
			pr_perror("can't wait for the restore's worker %d", w);
			st = 1 << 8;
			break;
		}
	worker_pid = 0;
	for (int i = 0; i < 3; i++)
		sigaction(stop_sigs[i], &saved[i], NULL);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	/* killed: criu ends the same way */
	sig = WTERMSIG(st);
	pr_err("the restore's worker (pid %d) was killed by signal %d\n", w, sig);
	log_close();
	signal(sig, SIG_DFL);
	raise(sig);
	return 1;
}
