/*
 * criu dump -t PID: checkpoint the process tree rooted at PID.
 *
 *   1. seize the tree top-down with compel (every thread of every process),
 *      re-reading each task's children until the set is stable, so that a
 *      tree that forks while we work is either caught whole or refused;
 *   2. for each process: registers of every thread, what only the task can
 *      tell (signal actions, itimers, rlimits, prctl state: asked by the
 *      parasite from inside it, in one command for the process and one per
 *      further thread), /proc state, memory (mm + pagemap + pages, moved by
 *      the same parasite), files;
 *   3. pstree.img, files.img, inventory.img, cpuinfo.img;
 *   4. cure every task, then kill the tree (default), leave it running (-R)
 *      or stopped (-s).  On any error every task is cured and left running
 *      as it was, and the partial images are left for inspection.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arch-image.h"
#include "commands.h"
#include "compel-arch.h"
#include "compel.h"
#include "action.h"
#include "dump-check.h"
#include "dump.h"
#include "dump-incr.h"
#include "fault.h"
#include "files.h"
#include "image-desc.h"
#include "image.h"
#include "kerndat.h"
#include "kobj-ids.h"
#include "log.h"
#include "mem.h"
#include "options.h"
#include "parasite-ctl.h"
#include "proc.h"
#include "proto/core.pb-c.h"
#include "proto/fs.pb-c.h"
#include "proto/inventory.pb-c.h"
#include "proto/pstree.pb-c.h"
#include "proto/seccomp.pb-c.h"
#include "proto/stats.pb-c.h"
#include "stats.h"
#include "proto/timens.pb-c.h"
#include "vma.h"
#include "pie/parasite.h"

#define MAX_TREE 4096

struct dtask {
	pid_t pid;
	struct proc_stat stat;
	struct infect_ctx *ctx;
	pid_t *tids;
	int nr_threads;
	bool zombie;
	int parent; /* index in the tree, -1 for the root */
	TaskKobjIdsEntry ids; /* ids-PID.img: what it shares, its namespaces */
	uint32_t cg_set;
	struct proc_vma *pv; /* its mappings, as the checks read them */
	int nv;
};

static struct dtask tree[MAX_TREE];
static int nr_tasks;

static int find_task(pid_t pid)
{
	for (int i = 0; i < nr_tasks; i++)
		if (tree[i].pid == pid)
			return i;
	return -1;
}

/* ---- seizing ------------------------------------------------------------ */

static int seize_one(pid_t pid, int parent)
{
	struct compel_task_info info;
	struct proc_stat info_stat;
	struct dtask *t;
	int ret;

	if (nr_tasks == MAX_TREE) {
		pr_err("the tree has more than %d processes\n", MAX_TREE);
		return -E2BIG;
	}
	if (!proc_read_stat(pid, 0, &info_stat) && (info_stat.flags & PROC_PF_KTHREAD)) {
		pr_err("process %d (%s) is a kernel thread: kernel threads can't be dumped\n", pid,
		       info_stat.comm);
		return -EPERM;
	}
	ret = compel_probe_task(pid, &info);
	if (ret) {
		pr_err("process %d: %s\n", pid, ret == -ESRCH ? "no such process" : strerror(-ret));
		if (parent < 0)
			set_cr_errno(-ret);
		return ret;
	}
	t = &tree[nr_tasks];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->parent = parent;
	if (info.state == COMPEL_TASK_ZOMBIE) {
		pid_t *tids = NULL;
		int ntids = 0;

		/* a leader that called pthread_exit shows Z while its threads run */
		if (!proc_list_threads(pid, &tids, &ntids) && ntids > 1) {
			free(tids);
			pr_err("process %d: its main thread has exited while %d other threads "
			       "run: such a process can't be dumped\n",
			       pid, ntids - 1);
			return -EOPNOTSUPP;
		}
		free(tids);
		if (parent < 0) {
			pr_err("process %d is a zombie: nothing to dump\n", pid);
			return -ESRCH;
		}
		t->zombie = true;
	} else {
		/* --timeout bounds the freezing too: a task that never stops */
		ret = compel_infect_timeout(pid, 0, opts.timeout > 0 ? opts.timeout * 1000 : 0,
					    &t->ctx);
		if (ret)
			return ret;
	}
	ret = proc_read_stat(pid, 0, &t->stat);
	if (ret) {
		pr_err("can't read /proc/%d/stat: %s\n", pid, strerror(-ret));
		nr_tasks++;
		return ret;
	}
	nr_tasks++;
	return 0;
}

/*
 * Seizes children until no task has one we have not seized.  A child that
 * appears after its parent was seized can only come from a thread of the
 * parent that was not stopped yet, or from a child we have not reached:
 * each round catches it, and a tree forking faster than we seize is
 * refused after a bounded number of rounds.
 */
static int seize_tree(pid_t root)
{
	int ret = seize_one(root, -1);

	for (int round = 0; !ret && round < 16; round++) {
		bool grew = false;

		for (int i = 0; i < nr_tasks && !ret; i++) {
			pid_t *kids;
			int nk;

			if (tree[i].zombie)
				continue;
			ret = proc_list_children(tree[i].pid, &kids, &nk);
			if (ret) {
				pr_err("can't list the children of %d: %s\n", tree[i].pid, strerror(-ret));
				break;
			}
			for (int k = 0; k < nk && !ret; k++)
				if (find_task(kids[k]) < 0) {
					ret = seize_one(kids[k], i);
					grew = true;
				}
			free(kids);
		}
		if (!grew)
			return ret;
	}
	if (!ret) {
		pr_err("the process tree of %d keeps changing while it is being seized\n", root);
		ret = -EAGAIN;
	}
	return ret;
}

/*
 * A session or process group led from outside the tree cannot be made
 * again on restore, except for the job of an interactive shell (-j), which
 * joins the session criu is restored in.
 */
static int check_sessions(void)
{
	for (int i = 0; i < nr_tasks; i++) {
		struct dtask *t = &tree[i];

		if (find_task(t->stat.sid) >= 0 && find_task(t->stat.pgid) >= 0)
			continue;
		if (opts.shell_job)
			continue;
		pr_err("pid %d is in session %d / process group %d led from outside the tree: "
		       "a job of a shell? dump it with --shell-job (-j)\n",
		       t->pid, t->stat.sid, t->stat.pgid);
		return -EINVAL;
	}
	return 0;
}

static uint32_t us_since(const struct timespec *a);

/*
 * A killed thread frees its tid only when it gets the CPU to finish
 * exiting: one at SCHED_IDLE or a high nice on a busy machine can keep its
 * tid for seconds after it is gone from /proc, and a restore right after
 * the dump then finds the tid taken.  The tree is being killed: its
 * threads die at the default policy.
 */
static void unidle_threads(const struct dtask *t)
{
	struct sched_param sp = { 0 };

	for (int k = 0; k < t->nr_threads; k++) {
		sched_setscheduler(t->tids[k], SCHED_OTHER, &sp);
		setpriority(PRIO_PROCESS, (id_t)t->tids[k], 0);
	}
}

/* Before any image: what dump would not save is refused (core/dump-check.c). */
static int check_tree(void)
{
	struct dump_check_task *ct;
	int ret;

	if (nr_tasks <= 0)
		return 0;
	ct = calloc((size_t)nr_tasks, sizeof(*ct));
	if (!ct)
		return -ENOMEM;
	for (int i = 0; i < nr_tasks; i++)
		ct[i] = (struct dump_check_task){ tree[i].pid, &tree[i].stat, tree[i].zombie, NULL, 0 };
	{
		struct timespec a;

		clock_gettime(CLOCK_MONOTONIC, &a);
		ret = dump_check_tree(ct, nr_tasks, opts.shell_job, opts.file_locks);
		if (!ret)
			pr_debug("the tree holds only what dump saves (checked in %u us)\n",
				 us_since(&a));
	}
	for (int i = 0; i < nr_tasks; i++) {
		tree[i].pv = ct[i].vmas;
		tree[i].nv = ct[i].nr_vmas;
	}
	free(ct);
	return ret;
}

static void release_tree(bool kill_it, bool leave_stopped)
{
	for (int i = nr_tasks - 1; i >= 0; i--) {
		struct dtask *t = &tree[i];

		if (t->ctx) {
			compel_cure(t->ctx, (kill_it || leave_stopped) ? COMPEL_LEAVE_STOPPED
								       : COMPEL_LEAVE_AS_FOUND);
			t->ctx = NULL;
		}
	}
	if (kill_it)
		for (int i = 0; i < nr_tasks; i++)
			if (!tree[i].zombie) {
				unidle_threads(&tree[i]);
				kill(tree[i].pid, SIGKILL);
			}
	for (int i = 0; i < nr_tasks; i++) {
		free(tree[i].tids);
		proc_free_vmas(tree[i].pv, tree[i].nv);
		tree[i].pv = NULL;
		tree[i].nv = 0;
	}
}

/* ---- what only the task can tell ------------------------------------------ */

/*
 * Signal actions, rlimits, itimers, POSIX timer times, prctl state,
 * personality, brk, and per thread sigaltstack, clear_child_tid and pdeath
 * signal: asked inside the task, by the parasite in a few commands, or by
 * injected syscalls (one per value, about a hundred ptrace round trips a
 * process) when the parasite cannot be loaded (see parasite-ctl.h).  Both
 * fill the same structs with the same rules; what a failed query means is
 * decided here.
 */
struct task_source {
	struct infect_ctx *ctx;
	struct parasite_ctl *ctl; /* NULL: injected syscalls */
};

static int load_parasite(struct dtask *t, struct task_source *src)
{
	src->ctx = t->ctx;
	src->ctl = NULL;
	if (parasite_load(t->ctx, &src->ctl)) {
		if (fault_hit())
			return -EIO; /* an injected failure: no fallback */
		pr_warn("pid %d: no parasite: its state comes from injected syscalls and its "
			"pages from /proc/%d/mem\n",
			t->pid, t->pid);
		src->ctl = NULL;
	}
	return 0;
}

static int unload_parasite(struct task_source *src)
{
	int ret = src->ctl && parasite_unload(src->ctl) ? -EIO : 0;

	src->ctl = NULL;
	return ret;
}

static int read_misc(struct task_source *src, struct parasite_misc *m)
{
	return src->ctl ? parasite_get_misc(src->ctl, m) : inject_get_misc(src->ctx, m);
}

/* Thread tid becomes compel's victim. */
static int read_thread_misc(struct task_source *src, pid_t tid, struct parasite_thread_misc *tm)
{
	int ret;

	if (src->ctl)
		return parasite_get_thread_misc(src->ctl, tid, tm);
	ret = compel_switch_victim(src->ctx, tid);
	if (ret) {
		pr_err("can't run syscalls in thread %d of pid %d: %s\n", tid, src->ctx->pid,
		       strerror(-ret));
		return ret;
	}
	return inject_get_thread_misc(src->ctx, tm);
}

static int read_posix_timers(struct task_source *src, struct parasite_posix_timer *pt,
			     uint32_t n)
{
	return src->ctl ? parasite_get_posix_timers(src->ctl, pt, n)
			: inject_get_posix_timers(src->ctx, pt, n);
}

/* Upstream's layout: signals 1..64 without SIGKILL and SIGSTOP, in order. */
#define NR_SAVED_SIGACTIONS (PARASITE_NSIG - 2)

static int dump_sigactions(const struct parasite_misc *m, TaskCoreEntry *tc)
{
	tc->n_sigactions = 0;
	tc->sigactions = calloc(NR_SAVED_SIGACTIONS, sizeof(SaEntry *));
	if (!tc->sigactions)
		return -ENOMEM;
	for (int sig = 1; sig <= PARASITE_NSIG; sig++) {
		const struct parasite_ksigaction *ksa = &m->sa[sig - 1];
		SaEntry *sa;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa = calloc(1, sizeof(*sa));
		if (!sa)
			return -ENOMEM;
		sa_entry__init(sa);
		tc->sigactions[tc->n_sigactions++] = sa;
		if (m->sa_ret[sig - 1] < 0)
			continue; /* a signal the kernel refuses: SIG_DFL */
		sa->sigaction = ksa->handler;
		sa->flags = ksa->flags;
		sa->restorer = ksa->restorer;
		sa->mask = ksa->mask;
		sa->has_compat_sigaction = true;
		sa->compat_sigaction = false;
	}
	return 0;
}

static ItimerEntry *itimer_entry(const struct parasite_itimerval *it)
{
	ItimerEntry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	itimer_entry__init(e);
	e->isec = it->interval.sec;
	e->iusec = it->interval.usec;
	e->vsec = it->value.sec;
	e->vusec = it->value.usec;
	return e;
}

static int dump_itimers(pid_t pid, const struct parasite_misc *m, TaskTimersEntry *t)
{
	static const char *const names[3] = { "ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF" };
	ItimerEntry **slot[3] = { &t->real, &t->virt, &t->prof };

	for (int which = 0; which < 3; which++) {
		if (m->it_ret[which] < 0) {
			pr_err("can't read %s of pid %d: %s\n", names[which], pid,
			       strerror(-m->it_ret[which]));
			return m->it_ret[which];
		}
		*slot[which] = itimer_entry(&m->it[which]);
		if (!*slot[which])
			return -ENOMEM;
	}
	return 0;
}

static int add_posix_timer(TaskTimersEntry *t, PosixTimerEntry *e)
{
	PosixTimerEntry **n = realloc(t->posix, (t->n_posix + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	t->posix = n;
	t->posix[t->n_posix++] = e;
	return 0;
}

/* What /proc/PID/timers says of each timer (all but its times). */
static int parse_posix_timers(pid_t pid, TaskTimersEntry *t)
{
	char path[64], *buf, *p;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/timers", pid);
	buf = proc_read_file(path, NULL);
	if (!buf)
		return 0; /* no CONFIG_CHECKPOINT_RESTORE: no timers to see */
	/* records start with "ID:" at the start of a line ("ClockID:" does not) */
	for (p = !strncmp(buf, "ID:", 3) ? buf : strstr(buf, "\nID:"); p && !err;
	     p = strstr(p + 1, "\nID:")) {
		PosixTimerEntry *e;
		char how[16] = "", who[8] = "";
		unsigned long long sival = 0;
		int id, sig = 0, target = 0, clock = 0;
		char *q;

		if (*p == '\n')
			p++;
		if (sscanf(p, "ID: %d", &id) != 1)
			break;
		if ((q = strstr(p, "signal:")))
			sscanf(q, "signal: %d/%llx", &sig, &sival);
		if ((q = strstr(p, "notify:")))
			sscanf(q, "notify: %15[a-z]/%7[a-z].%d", how, who, &target);
		if ((q = strstr(p, "ClockID:")))
			sscanf(q, "ClockID: %d", &clock);
		e = calloc(1, sizeof(*e));
		if (!e) {
			err = -ENOMEM;
			break;
		}
		posix_timer_entry__init(e);
		e->it_id = (uint32_t)id;
		e->clock_id = (uint32_t)clock;
		e->si_signo = (uint32_t)sig;
		e->it_sigev_notify = !strcmp(how, "none") ? 1 : !strcmp(how, "thread") ? 2 : 0;
		if (!strcmp(who, "tid")) {
			e->it_sigev_notify |= 4; /* SIGEV_THREAD_ID */
			e->has_notify_thread_id = true;
			e->notify_thread_id = target;
		}
		e->sival_ptr = sival;
		err = add_posix_timer(t, e);
		if (err)
			free(e);
	}
	free(buf);
	return err;
}

/* The times of the parsed timers, from inside the task. */
static int read_posix_timer_times(struct task_source *src, pid_t pid, TaskTimersEntry *t)
{
	struct parasite_posix_timer *pt = calloc(t->n_posix, sizeof(*pt));
	int ret;

	if (!pt)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_posix; i++)
		pt[i].id = (int32_t)t->posix[i]->it_id;
	ret = read_posix_timers(src, pt, (uint32_t)t->n_posix);
	for (size_t i = 0; i < t->n_posix && !ret; i++) {
		PosixTimerEntry *e = t->posix[i];

		if (pt[i].gettime_ret) {
			pr_err("can't read POSIX timer %d of pid %d: %s\n", pt[i].id, pid,
			       strerror(-pt[i].gettime_ret));
			ret = pt[i].gettime_ret;
			break;
		}
		e->overrun = (uint32_t)pt[i].overrun;
		e->isec = (uint64_t)pt[i].spec.interval_sec;
		e->insec = (uint64_t)pt[i].spec.interval_nsec;
		e->vsec = (uint64_t)pt[i].spec.value_sec;
		e->vnsec = (uint64_t)pt[i].spec.value_nsec;
	}
	free(pt);
	return ret;
}

static int dump_posix_timers(struct task_source *src, pid_t pid, TaskTimersEntry *t)
{
	int err = parse_posix_timers(pid, t);

	if (!err && t->n_posix)
		err = read_posix_timer_times(src, pid, t);
	/* the kernel lists them newest first; restore creates them by id */
	for (size_t i = 1; i < t->n_posix; i++)
		for (size_t j = i; j > 0 && t->posix[j - 1]->it_id > t->posix[j]->it_id; j--) {
			PosixTimerEntry *x = t->posix[j];

			t->posix[j] = t->posix[j - 1];
			t->posix[j - 1] = x;
		}
	return err;
}

static int dump_timers(struct task_source *src, pid_t pid, const struct parasite_misc *m,
		       TaskCoreEntry *tc)
{
	TaskTimersEntry *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return -ENOMEM;
	task_timers_entry__init(t);
	tc->timers = t;
	err = dump_itimers(pid, m, t);
	if (!err)
		err = dump_posix_timers(src, pid, t);
	return err;
}

_Static_assert(RLIM_NLIMITS == PARASITE_NR_RLIMITS, "the parasite reads every rlimit");

static int dump_rlimits(pid_t pid, const struct parasite_misc *m, TaskCoreEntry *tc)
{
	TaskRlimitsEntry *rl = calloc(1, sizeof(*rl));

	if (!rl)
		return -ENOMEM;
	task_rlimits_entry__init(rl);
	tc->rlimits = rl;
	rl->rlimits = calloc(RLIM_NLIMITS, sizeof(RlimitEntry *));
	if (!rl->rlimits)
		return -ENOMEM;
	for (int i = 0; i < RLIM_NLIMITS; i++) {
		RlimitEntry *e;

		if (m->rlim_ret[i] < 0) {
			pr_err("can't read rlimit %d of pid %d: %s\n", i, pid,
			       strerror(-m->rlim_ret[i]));
			return m->rlim_ret[i];
		}
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		rlimit_entry__init(e);
		e->cur = m->rlim[i].cur;
		e->max = m->rlim[i].max;
		rl->rlimits[rl->n_rlimits++] = e;
	}
	return 0;
}

/* A failed PR_GET_SECUREBITS is stored as no bits. */
static uint32_t misc_securebits(const struct parasite_misc *m)
{
	return m->securebits > 0 ? (uint32_t)m->securebits : 0;
}

/* The membarrier registrations of the address space (parasite_misc). */
static void dump_membarrier(pid_t pid, int64_t regs, TaskCoreEntry *tc)
{
	if (regs < 0) {
		pr_warn("pid %d: can't read its membarrier registrations: %s\n", pid,
			strerror((int)-regs));
		return;
	}
	if (regs & PARASITE_MEMBARRIER_GUESSED)
		pr_info("pid %d: membarrier registrations probed (no GET_REGISTRATIONS before "
			"Linux 6.3): a global expedited one can't be seen\n",
			pid);
	regs &= ~PARASITE_MEMBARRIER_GUESSED;
	if (!regs)
		return;
	tc->has_membarrier_registration_mask = true;
	tc->membarrier_registration_mask = (uint32_t)regs;
}

/* A number in /proc/PID/NAME; -errno when it can't be read. */
static int read_proc_number(pid_t pid, const char *name, long long *v)
{
	char path[64], *text, *end;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	text = proc_read_file(path, NULL);
	if (!text)
		return -errno;
	errno = 0;
	*v = strtoll(text, &end, 10);
	if (errno || end == text) {
		free(text);
		return -EINVAL;
	}
	free(text);
	return 0;
}

/* oom_score_adj and loginuid (when this kernel has audit), as upstream has them. */
static int dump_proc_values(pid_t pid, TaskCoreEntry *tc)
{
	long long v;
	int ret = read_proc_number(pid, "oom_score_adj", &v);

	if (ret) {
		pr_err("can't read /proc/%d/oom_score_adj: %s\n", pid, strerror(-ret));
		return ret;
	}
	tc->has_oom_score_adj = true;
	tc->oom_score_adj = (int32_t)v;
	ret = read_proc_number(pid, "loginuid", &v);
	if (!ret) {
		tc->has_loginuid = true;
		tc->loginuid = (uint32_t)v;
	} else if (ret != -ENOENT) {
		pr_err("can't read /proc/%d/loginuid: %s\n", pid, strerror(-ret));
		return ret;
	}
	return 0;
}

/*
 * The process-wide part of the task core, and m for the rest (the victim
 * thread's part, mm's brk and dumpable).
 */
static int dump_task_state(struct task_source *src, struct dtask *t, TaskCoreEntry *tc,
			   struct parasite_misc *m)
{
	int ret = read_misc(src, m);

	/* the parasite saw the SIGTRAP action its own traps had reset */
	if (!ret)
		compel_sigtrap_action(t->ctx, &m->sa[SIGTRAP - 1], sizeof(m->sa[0]));
	if (!ret)
		ret = dump_sigactions(m, tc);
	if (!ret)
		ret = dump_timers(src, t->pid, m, tc);
	if (!ret)
		ret = dump_rlimits(t->pid, m, tc);
	if (ret)
		return ret;
	tc->task_state =
		t->ctx->found == COMPEL_TASK_STOPPED ? TASK_STATE_STOPPED : TASK_STATE_ALIVE;
	if (t->ctx->found == COMPEL_TASK_STOPPED) {
		tc->has_stop_signo = true;
		tc->stop_signo = (uint32_t)t->ctx->stop_signo;
	}
	tc->personality = (uint32_t)m->personality;
	tc->flags = t->stat.flags;
	tc->blk_sigset = t->ctx->orig_sigmask;
	tc->comm = t->stat.comm;
	tc->has_child_subreaper = true;
	tc->child_subreaper = m->child_subreaper != 0;
	tc->exit_code = 0;
	dump_membarrier(t->pid, m->membarrier_regs, tc);
	return dump_proc_values(t->pid, tc);
}

/* ---- pending signals ---- */

#define PEEKSIGINFO 0x4209
#define PEEKSIGINFO_SHARED 1
#define SIGINFO_SIZE 128

static void free_sigq(SignalQueueEntry *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n_signals; i++) {
		free(q->signals[i]->siginfo.data);
		free(q->signals[i]);
	}
	free(q->signals);
	free(q);
}

/* The queued siginfos of tid (shared: the process's), without dequeuing. */
static int dump_sigqueue(pid_t tid, bool shared, SignalQueueEntry **out)
{
	struct {
		uint64_t off;
		uint32_t flags;
		int32_t nr;
	} arg = { 0, shared ? PEEKSIGINFO_SHARED : 0, 32 };
	uint8_t buf[32 * SIGINFO_SIZE];
	SignalQueueEntry *q = calloc(1, sizeof(*q));

	*out = NULL;
	if (!q)
		return -ENOMEM;
	signal_queue_entry__init(q);
	for (;;) {
		long n = ptrace(PEEKSIGINFO, tid, &arg, buf);

		if (n < 0) {
			free_sigq(q);
			pr_perror("can't read the pending signals of %d", tid);
			return -errno;
		}
		if (n == 0)
			break;
		{
			SiginfoEntry **ns = realloc(q->signals, (q->n_signals + (size_t)n) * sizeof(*ns));

			if (!ns) {
				free_sigq(q);
				return -ENOMEM;
			}
			q->signals = ns;
		}
		for (long i = 0; i < n; i++) {
			SiginfoEntry *e = calloc(1, sizeof(*e));

			if (!e) {
				free_sigq(q);
				return -ENOMEM;
			}
			siginfo_entry__init(e);
			e->siginfo.len = SIGINFO_SIZE;
			e->siginfo.data = malloc(SIGINFO_SIZE);
			if (!e->siginfo.data) {
				free(e);
				free_sigq(q);
				return -ENOMEM;
			}
			memcpy(e->siginfo.data, buf + i * SIGINFO_SIZE, SIGINFO_SIZE);
			q->signals[q->n_signals++] = e;
		}
		arg.off += (uint64_t)n;
	}
	*out = q;
	return 0;
}

/* ---- seccomp ---- */

#define SECCOMP_GET_FILTER 0x420c
#define SOCK_FILTER_SIZE 8

static SeccompFilter **sc_filters;
static size_t nr_sc_filters;

static void free_seccomp(void)
{
	for (size_t i = 0; i < nr_sc_filters; i++) {
		free(sc_filters[i]->filter.data);
		free(sc_filters[i]);
	}
	free(sc_filters);
	sc_filters = NULL;
	nr_sc_filters = 0;
}

/*
 * The filter chain of thread tid, stored oldest first with prev links;
 * a chain already stored (threads sharing it) is reused.  *newest is the
 * index of its newest filter.
 */
static int dump_seccomp_chain(pid_t tid, uint32_t *newest)
{
	SeccompFilter *chain[512];
	int n = 0, ret = 0;

	for (; n < 512; n++) {
		long len = ptrace(SECCOMP_GET_FILTER, tid, (void *)(long)n, NULL);
		SeccompFilter *f;

		if (len < 0) {
			if (errno == ENOENT)
				break;
			pr_perror("can't read seccomp filter %d of thread %d", n, tid);
			ret = -errno;
			goto err;
		}
		f = calloc(1, sizeof(*f));
		if (f)
			seccomp_filter__init(f);
		if (!f || !(f->filter.data = malloc((size_t)len * SOCK_FILTER_SIZE))) {
			free(f);
			ret = -ENOMEM;
			goto err;
		}
		f->filter.len = (size_t)len * SOCK_FILTER_SIZE;
		if (ptrace(SECCOMP_GET_FILTER, tid, (void *)(long)n, f->filter.data) != len) {
			ret = -EIO;
			free(f->filter.data);
			free(f);
			goto err;
		}
		chain[n] = f;
	}
	if (!n) {
		pr_err("thread %d is in seccomp filter mode but has no filter\n", tid);
		return -EINVAL;
	}
	/* already stored? compare from the newest down */
	for (size_t k = 0; k < nr_sc_filters; k++) {
		size_t at = k;
		bool same = true;
		int i;

		for (i = 0; i < n && same; i++) {
			const SeccompFilter *f = sc_filters[at];
			bool last = i == n - 1;

			same = f->filter.len == chain[i]->filter.len &&
			       !memcmp(f->filter.data, chain[i]->filter.data, f->filter.len) &&
			       last == !f->has_prev;
			if (same && !last)
				at = f->prev;
		}
		if (same) {
			*newest = (uint32_t)k;
			for (int j = 0; j < n; j++) {
				free(chain[j]->filter.data);
				free(chain[j]);
			}
			return 0;
		}
	}
	{
		SeccompFilter **na = realloc(sc_filters, (nr_sc_filters + (size_t)n) * sizeof(*na));

		if (!na) {
			ret = -ENOMEM;
			goto err;
		}
		sc_filters = na;
	}
	for (int i = n - 1; i >= 0; i--) {
		if (i != n - 1) {
			chain[i]->has_prev = true;
			chain[i]->prev = (uint32_t)nr_sc_filters - 1;
		}
		sc_filters[nr_sc_filters++] = chain[i];
	}
	*newest = (uint32_t)nr_sc_filters - 1;
	return 0;
err:
	while (n-- > 0) {
		free(chain[n]->filter.data);
		free(chain[n]);
	}
	return ret;
}

static int write_seccomp(int dirfd)
{
	SeccompEntry e = SECCOMP_ENTRY__INIT;
	struct cr_img *img;
	int ret;

	/* written even empty, as upstream does */
	e.n_seccomp_filters = nr_sc_filters;
	e.seccomp_filters = sc_filters;
	img = img_open(dirfd, IMG_SECCOMP, O_WRONLY);
	if (!img)
		return -EIO;
	ret = img_write_pb(img, &e.base);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

/* ---- per-thread core ---------------------------------------------------------- */

static uint32_t *cap_words(uint64_t caps, size_t *n)
{
	uint32_t *w = malloc(2 * sizeof(*w));

	if (w) {
		w[0] = (uint32_t)caps;
		w[1] = (uint32_t)(caps >> 32);
	}
	*n = w ? 2 : 0;
	return w;
}

static CredsEntry *make_creds(const struct proc_status *st, uint32_t securebits)
{
	CredsEntry *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	creds_entry__init(c);
	c->uid = st->uid[0], c->euid = st->uid[1], c->suid = st->uid[2], c->fsuid = st->uid[3];
	c->gid = st->gid[0], c->egid = st->gid[1], c->sgid = st->gid[2], c->fsgid = st->gid[3];
	c->cap_inh = cap_words(st->cap_inh, &c->n_cap_inh);
	c->cap_prm = cap_words(st->cap_prm, &c->n_cap_prm);
	c->cap_eff = cap_words(st->cap_eff, &c->n_cap_eff);
	c->cap_bnd = cap_words(st->cap_bnd, &c->n_cap_bnd);
	c->cap_amb = cap_words(st->cap_amb, &c->n_cap_amb);
	c->secbits = securebits;
	c->n_groups = st->ngroups;
	c->groups = malloc((st->ngroups + 1) * sizeof(uint32_t));
	if (c->groups)
		memcpy(c->groups, st->groups, st->ngroups * sizeof(uint32_t));
	c->has_no_new_privs = true;
	c->no_new_privs = (uint32_t)st->no_new_privs;
	return c;
}

static void free_creds(CredsEntry *c)
{
	if (!c)
		return;
	free(c->cap_inh);
	free(c->cap_prm);
	free(c->cap_eff);
	free(c->cap_bnd);
	free(c->cap_amb);
	free(c->groups);
	free(c);
}

static void free_core(CoreEntry *core)
{
	TaskCoreEntry *tc = core->tc;
	ThreadCoreEntry *th = core->thread_core;

	arch_core_free_regs(core);
	if (tc) {
		for (size_t i = 0; i < tc->n_sigactions; i++)
			free(tc->sigactions[i]);
		free(tc->sigactions);
		free_sigq(tc->signals_s);
		if (tc->timers) {
			free(tc->timers->real);
			free(tc->timers->virt);
			free(tc->timers->prof);
			for (size_t i = 0; i < tc->timers->n_posix; i++)
				free(tc->timers->posix[i]);
			free(tc->timers->posix);
			free(tc->timers);
		}
		if (tc->rlimits) {
			for (size_t i = 0; i < tc->rlimits->n_rlimits; i++)
				free(tc->rlimits->rlimits[i]);
			free(tc->rlimits->rlimits);
			free(tc->rlimits);
		}
		free(tc);
	}
	if (th) {
		free_creds(th->creds);
		free(th->sas);
		free(th->rseq_entry);
		free_sigq(th->signals_p);
		free(th);
	}
	free(core->ids);
}

/* Registers of thread tid (the victim's were saved by compel at seize). */
static int thread_regs(struct dtask *t, pid_t tid, struct compel_regs **out, uint64_t *sigmask)
{
	struct compel_regs *r;
	int ret;

	if (tid == t->ctx->victim->tid) {
		*out = t->ctx->orig_regs;
		*sigmask = t->ctx->orig_sigmask;
		return 0;
	}
	r = compel_arch_regs_new();
	if (!r)
		return -ENOMEM;
	ret = compel_arch_get_regs(tid, r);
	if (!ret && ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(*sigmask), sigmask))
		ret = -errno;
	if (ret) {
		pr_err("can't read the registers of thread %d: %s\n", tid, strerror(-ret));
		compel_arch_regs_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

/* The thread's robust futex list head (set_robust_list), read from outside. */
static int dump_robust_list(pid_t tid, ThreadCoreEntry *th)
{
	void *head = NULL;
	size_t len = 0;

	if (syscall(SYS_get_robust_list, tid, &head, &len)) {
		pr_perror("can't read the robust futex list of thread %d", tid);
		return -errno;
	}
	th->futex_rla = (uint64_t)(uintptr_t)head;
	th->futex_rla_len = (uint32_t)len;
	return 0;
}

/* Policy (with SCHED_RESET_ON_FORK), real-time priority and nice of tid. */
static int dump_sched(pid_t tid, const struct proc_stat *pst, ThreadCoreEntry *th)
{
	struct sched_param sp;
	int policy = sched_getscheduler(tid);

	if (policy < 0 || sched_getparam(tid, &sp)) {
		pr_perror("can't read the scheduling policy of thread %d", tid);
		return -errno;
	}
	th->has_sched_nice = true;
	th->sched_nice = (int32_t)pst->nice;
	th->has_sched_policy = true;
	th->sched_policy = (uint32_t)policy;
	switch (policy & ~SCHED_RESET_ON_FORK) {
	case SCHED_FIFO:
	case SCHED_RR:
		th->has_sched_prio = true;
		th->sched_prio = (uint32_t)sp.sched_priority;
		break;
	}
	return 0;
}

static int write_thread_core(int dirfd, struct dtask *t, pid_t tid, TaskCoreEntry *tc,
			     const struct parasite_thread_misc *tm, uint32_t securebits,
			     SignalQueueEntry **sigq)
{
	CoreEntry core = CORE_ENTRY__INIT;
	ThreadCoreEntry *th = calloc(1, sizeof(*th));
	struct proc_status st;
	struct proc_stat pst;
	struct compel_regs *regs = NULL;
	uint64_t sigmask = 0;
	struct cr_img *img;
	int ret;

	if (!th)
		return -ENOMEM;
	thread_core_entry__init(th);
	core.thread_core = th;
	core.tc = tc;
	ret = proc_read_status(t->pid, tid, &st);
	if (!ret)
		ret = proc_read_stat(t->pid, tid, &pst);
	if (ret) {
		pr_err("can't read /proc of thread %d: %s\n", tid, strerror(-ret));
		goto out;
	}
	ret = thread_regs(t, tid, &regs, &sigmask);
	if (ret)
		goto out;
	{
		/* the victim's are compel's, which the cure writes back: the
		 * fixup (general registers only) is for the image alone */
		struct compel_regs *keep = compel_arch_regs_new();

		if (!keep) {
			ret = -ENOMEM;
			goto out;
		}
		compel_arch_regs_copy(keep, regs);
		arch_regs_dump_fixup(regs);
		ret = arch_regs_to_core(regs, &core);
		compel_arch_regs_copy(regs, keep);
		compel_arch_regs_free(keep);
	}
	if (ret)
		goto out;
	th->has_blk_sigset = true;
	th->blk_sigset = sigmask;
	ret = dump_sched(tid, &pst, th);
	if (ret)
		goto out;
	th->has_cg_set = true;
	th->cg_set = t->cg_set;
	{
		struct {
			uint64_t ptr;
			uint32_t size, sig, flags, pad;
		} rc = { 0 };

		/* PTRACE_GET_RSEQ_CONFIGURATION */
		if (ptrace(0x420f, tid, (void *)sizeof(rc), &rc) == (long)sizeof(rc) && rc.size) {
			th->rseq_entry = calloc(1, sizeof(*th->rseq_entry));
			if (!th->rseq_entry) {
				ret = -ENOMEM;
				goto out;
			}
			rseq_entry__init(th->rseq_entry);
			th->rseq_entry->rseq_abi_pointer = rc.ptr;
			th->rseq_entry->rseq_abi_size = rc.size;
			th->rseq_entry->signature = rc.sig;
		}
	}
	th->signals_p = *sigq; /* now the core's */
	*sigq = NULL;
	if (st.seccomp) {
		th->has_seccomp_mode = true;
		th->seccomp_mode = st.seccomp == 1 ? SECCOMP_MODE__strict : SECCOMP_MODE__filter;
		if (st.seccomp == 2) {
			ret = dump_seccomp_chain(tid, &th->seccomp_filter);
			if (ret)
				goto out;
			th->has_seccomp_filter = true;
		}
	}
	th->creds = make_creds(&st, securebits);
	if (!th->creds) {
		ret = -ENOMEM;
		goto out;
	}
	th->comm = pst.comm;
	ret = dump_robust_list(tid, th);
	if (ret)
		goto out;
	{
		th->has_pdeath_sig = true;
		th->pdeath_sig = (uint32_t)tm->pdeath_sig;
		th->sas = calloc(1, sizeof(*th->sas));
		if (!th->sas) {
			ret = -ENOMEM;
			goto out;
		}
		thread_sas_entry__init(th->sas);
		th->sas->ss_sp = tm->altstack.sp;
		th->sas->ss_size = tm->altstack.size;
		th->sas->ss_flags = (uint32_t)tm->altstack.flags;
		arch_core_set_clear_tid(&core, tm->tid_address);
	}
	img = img_open(dirfd, IMG_CORE, O_WRONLY, (unsigned long)tid);
	if (!img) {
		ret = -EIO;
		goto out;
	}
	ret = img_write_pb(img, &core.base);
	if (img_close(img) && !ret)
		ret = -EIO;
out:
	if (regs && regs != t->ctx->orig_regs)
		compel_arch_regs_free(regs);
	core.tc = NULL; /* owned by the caller */
	th->comm = NULL;
	free_core(&core);
	return ret;
}

/* ---- mm ------------------------------------------------------------------------ */

/*
 * pv: the task's mappings, read before the parasite was loaded (its area is
 * no mapping of the task's).  ctl moves the pages; NULL: /proc/PID/mem.
 */
static int dump_mm(int dirfd, struct dtask *t, const struct proc_vma *pv, int nv,
		   const struct parasite_misc *misc, struct parasite_ctl *ctl, unsigned int id,
		   struct mem_dump_stats *stats)
{
	MmEntry mm = MM_ENTRY__INIT;
	VmaEntry *vmas = NULL;
	char path[64], link[PATH_MAX];
	uint64_t *auxv = NULL;
	size_t auxv_len = 0;
	struct cr_img *img;
	int ret = 0;

	vmas = calloc(nv ? nv : 1, sizeof(*vmas));
	mm.vmas = calloc(nv ? nv : 1, sizeof(VmaEntry *));
	if (!vmas || !mm.vmas) {
		ret = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < nv; i++) {
		vma_entry__init(&vmas[i]);
		ret = vma_classify(t->pid, &pv[i], &vmas[i]);
		if (ret)
			goto out;
		if ((vmas[i].status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)) && !incr_pre_dump()) {
			unsigned int fid;

			snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", t->pid, pv[i].start,
				 pv[i].end);
			ret = files_dump_path(t->pid, path, pv[i].path, &fid);
			if (ret)
				goto out;
			vmas[i].shmid = fid;
			vmas[i].has_fdflags = true;
			vmas[i].fdflags = (pv[i].prot & PROT_WRITE) && pv[i].shared ? O_RDWR : O_RDONLY;
		}
		mm.vmas[mm.n_vmas++] = &vmas[i];
	}
	mm.mm_start_code = t->stat.start_code;
	mm.mm_end_code = t->stat.end_code;
	mm.mm_start_data = t->stat.start_data;
	mm.mm_end_data = t->stat.end_data;
	mm.mm_start_stack = t->stat.start_stack;
	mm.mm_start_brk = t->stat.start_brk;
	mm.mm_brk = (uint64_t)misc->brk;
	mm.mm_arg_start = t->stat.arg_start;
	mm.mm_arg_end = t->stat.arg_end;
	mm.mm_env_start = t->stat.env_start;
	mm.mm_env_end = t->stat.env_end;
	mm.has_dumpable = true;
	mm.dumpable = (int)misc->dumpable;
	if (misc->thp_disable > 0) {
		mm.has_thp_disabled = true;
		mm.thp_disabled = true;
	}

	if (incr_pre_dump())
		goto pages; /* memory only */
	snprintf(path, sizeof(path), "/proc/%d/auxv", t->pid);
	auxv = (uint64_t *)proc_read_file(path, &auxv_len);
	if (auxv) {
		mm.mm_saved_auxv = auxv;
		mm.n_mm_saved_auxv = auxv_len / sizeof(uint64_t);
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", t->pid);
	{
		ssize_t n = readlink(path, link, sizeof(link) - 1);

		if (n > 0) {
			link[n] = '\0';
			ret = files_dump_path(t->pid, path, link, &mm.exe_file_id);
			if (ret)
				goto out;
		}
	}

	img = img_open(dirfd, IMG_MM, O_WRONLY, (unsigned long)t->pid);
	if (!img) {
		ret = -EIO;
		goto out;
	}
	ret = img_write_pb(img, &mm.base);
	if (img_close(img) && !ret)
		ret = -EIO;
pages:
	if (!ret) {
		struct timespec a, b;
		struct mem_dump_opts mo;

		clock_gettime(CLOCK_MONOTONIC, &a);
		ret = incr_task_opts(t->pid, ctl, &mm, &mo);
		if (!ret)
			ret = mem_dump_pages(t->pid, dirfd, &mm, id, ctl, stats, &mo);
		incr_task_done(&mo);
		for (size_t i = 0; i < mm.n_vmas && !ret && !incr_pre_dump(); i++)
			ret = mem_dump_shmem(t->pid, dirfd, mm.vmas[i], kobj_next_pages_id, stats);
		clock_gettime(CLOCK_MONOTONIC, &b);
		stats->memdump_us += (uint64_t)((b.tv_sec - a.tv_sec) * 1000000 +
						(b.tv_nsec - a.tv_nsec) / 1000);
	}
out:
	free(auxv);
	free(mm.vmas);
	free(vmas);
	return ret;
}

/* ---- one process ------------------------------------------------------------- */

static int dump_fs(int dirfd, struct dtask *t, unsigned int id, unsigned int umask_v)
{
	FsEntry fs = FS_ENTRY__INIT;
	char path[64], link[PATH_MAX];
	struct cr_img *img;
	ssize_t n;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/cwd", t->pid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	ret = files_dump_path(t->pid, path, link, &fs.cwd_id);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/proc/%d/root", t->pid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	ret = files_dump_path(t->pid, path, link, &fs.root_id);
	if (ret)
		return ret;
	fs.has_umask = true;
	fs.umask = umask_v;
	img = img_open(dirfd, IMG_FS, O_WRONLY, (unsigned long)id);
	if (!img)
		return -EIO;
	ret = img_write_pb(img, &fs.base);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

static int dump_zombie(int dirfd, struct dtask *t)
{
	CoreEntry core = CORE_ENTRY__INIT;
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	struct cr_img *img;
	int ret;

	core.mtype = arch_core_mtype();
	core.tc = &tc;
	tc.task_state = TASK_STATE_DEAD;
	tc.exit_code = (uint32_t)t->stat.exit_code;
	tc.comm = t->stat.comm;
	img = img_open(dirfd, IMG_CORE, O_WRONLY, (unsigned long)t->pid);
	if (!img)
		return -EIO;
	ret = img_write_pb(img, &core.base);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

/*
 * The core image of every thread.  The first is compel's victim, whose part
 * of the state misc holds already; each other thread becomes the victim in
 * turn and answers for itself (alternate stack, clear_tid and pdeath signal
 * are per thread), and its core is written while it is (its registers are
 * then the ones compel saved and settled).
 */
static int dump_threads(int dirfd, struct task_source *src, struct dtask *t, TaskCoreEntry *tc,
			const struct parasite_misc *misc, SignalQueueEntry **sigq)
{
	int ret = 0;

	for (int i = 0; i < t->nr_threads && !ret; i++) {
		struct parasite_thread_misc tm = misc->thread;
		pid_t tid = t->tids[i];

		if (i > 0)
			ret = read_thread_misc(src, tid, &tm);
		if (!ret)
			ret = write_thread_core(dirfd, t, tid, tc, &tm, misc_securebits(misc),
						&sigq[i]);
	}
	return ret;
}

/*
 * SIGTERM, SIGINT and SIGHUP during a dump: the dump stops at the next step
 * (compel's long waits end too), every task is cured and left running, and
 * criu exits 1.  No SA_RESTART: a blocking write of an image ends as well.
 */
static volatile int dump_quit_signal;

static void dump_quit(int sig)
{
	dump_quit_signal = sig;
}

static void catch_quit_signals(void)
{
	struct sigaction sa = { .sa_handler = dump_quit };
	const int sigs[] = { SIGTERM, SIGINT, SIGHUP };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	compel_set_abort_flag(&dump_quit_signal);
}

/* logged once, where the dump fails */
static int check_quit(void)
{
	return dump_quit_signal ? -EINTR : 0;
}

/* a step of one task's dump: logged, and a fault point (CRIU_FAULT) */
static int dump_step(const struct dtask *t, const char *what)
{
	char name[96];

	snprintf(name, sizeof(name), "dump pid %d: %s", t->pid, what);
	pr_step("%s\n", name);
	return check_quit() ?: fault_point(name);
}

/*
 * The pending signals of the process and of each thread, read before any
 * code of ours runs in the task (compel sets a pending SIGTRAP aside
 * while its traps come).
 */
static int dump_sigqueues(struct dtask *t, TaskCoreEntry *tc, SignalQueueEntry ***sigq)
{
	int ret;

	*sigq = calloc((size_t)t->nr_threads, sizeof(**sigq));
	if (!*sigq)
		return -ENOMEM;
	ret = dump_sigqueue(t->pid, true, &tc->signals_s);
	for (int i = 0; i < t->nr_threads && !ret; i++)
		ret = dump_sigqueue(t->tids[i], false, &(*sigq)[i]);
	return ret;
}

static void free_sigqueues(SignalQueueEntry **sigq, int n)
{
	for (int i = 0; sigq && i < n; i++)
		free_sigq(sigq[i]);
	free(sigq);
}

/* Processes sharing an fd table (CLONE_FILES) have one fdinfo image. */
static bool files_table_dumped(const struct dtask *t)
{
	for (const struct dtask *o = tree; o < t; o++)
		if (!o->zombie && o->ids.files_id == t->ids.files_id)
			return true;
	return false;
}

static int dump_task(int dirfd, struct dtask *t, struct mem_dump_stats *stats)
{
	TaskCoreEntry *tc = calloc(1, sizeof(*tc));
	CoreEntry holder = CORE_ENTRY__INIT;
	struct task_source src = { .ctx = t->ctx };
	struct parasite_misc misc;
	struct proc_status st;
	struct proc_vma *pv = NULL;
	SignalQueueEntry **sigq = NULL;
	int nv = 0, ret, r;

	if (!tc)
		return -ENOMEM;
	task_core_entry__init(tc);
	holder.tc = tc;
	ret = proc_list_threads(t->pid, &t->tids, &t->nr_threads);
	if (!ret && t->nr_threads != t->ctx->nr_threads) {
		pr_err("pid %d has %d threads, %d were seized\n", t->pid, t->nr_threads,
		       t->ctx->nr_threads);
		ret = -EAGAIN;
	}
	if (!ret)
		ret = proc_read_status(t->pid, 0, &st);
	/* the mappings before the parasite's area joins them */
	if (!ret && t->pv) {
		pv = t->pv;
		nv = t->nv;
		t->pv = NULL;
		t->nv = 0;
	} else if (!ret) {
		ret = proc_read_vmas(t->pid, &pv, &nv);
		if (ret)
			pr_err("can't read the mappings of %d: %s\n", t->pid, strerror(-ret));
	}
	if (!ret && incr_pre_dump()) {
		/* pre-dump: memory only */
		load_parasite(t, &src);
		memset(&misc, 0, sizeof(misc));
		ret = dump_mm(dirfd, t, pv, nv, &misc, src.ctl, kobj_next_pages_id(), stats);
		r = unload_parasite(&src);
		ret = ret ? ret : r;
		goto out;
	}
	if (!ret)
		ret = dump_sigqueues(t, tc, &sigq);
	if (ret)
		goto out;
	ret = dump_step(t, "parasite");
	if (ret)
		goto out;
	ret = load_parasite(t, &src);
	if (!ret)
		ret = dump_step(t, "task state");
	if (!ret)
		ret = dump_task_state(&src, t, tc, &misc);
	if (!ret)
		ret = dump_step(t, "threads");
	if (!ret)
		ret = dump_threads(dirfd, &src, t, tc, &misc, sigq);
	if (!ret)
		ret = dump_step(t, "memory");
	if (!ret)
		ret = dump_mm(dirfd, t, pv, nv, &misc, src.ctl, kobj_next_pages_id(), stats);
	r = unload_parasite(&src);
	if (!ret)
		ret = r;
	if (!ret)
		ret = dump_step(t, "files");
	if (!ret && !files_table_dumped(t))
		ret = files_dump_task(t->pid, t->ids.files_id, dirfd);
	if (!ret)
		ret = dump_fs(dirfd, t, (unsigned int)t->pid, st.umask);
out:
	free_sigqueues(sigq, t->nr_threads);
	proc_free_vmas(pv, nv);
	tc->comm = NULL;
	free_core(&holder);
	return ret;
}

/* ---- tree images ---------------------------------------------------------------- */

static int write_pstree(int dirfd)
{
	struct cr_img *img = img_open(dirfd, IMG_PSTREE, O_WRONLY);
	int ret = 0;

	if (!img)
		return -EIO;
	for (int i = 0; i < nr_tasks && !ret; i++) {
		PstreeEntry e = PSTREE_ENTRY__INIT;
		struct dtask *t = &tree[i];
		uint32_t self = (uint32_t)t->pid;

		e.pid = (uint32_t)t->pid;
		e.ppid = t->parent < 0 ? 0 : (uint32_t)tree[t->parent].pid;
		e.pgid = (uint32_t)t->stat.pgid;
		e.sid = (uint32_t)t->stat.sid;
		if (t->zombie) {
			e.n_threads = 1;
			e.threads = &self;
		} else {
			e.n_threads = (size_t)t->nr_threads;
			e.threads = (uint32_t *)t->tids;
		}
		ret = img_write_pb(img, &e.base);
	}
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

/* The LSM upstream would name, from what the kernel shows of it. */
static Lsmtype host_lsm(void)
{
	if (!access("/sys/kernel/security/apparmor", F_OK))
		return LSMTYPE__APPARMOR;
	if (!access("/sys/fs/selinux", F_OK) || !access("/sys/kernel/security/selinux", F_OK))
		return LSMTYPE__SELINUX;
	return LSMTYPE__NO_LSM;
}

/* A random (version 4) UUID naming this dump, as upstream's run id. */
static int make_run_id(char *buf)
{
	uint8_t u[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, u, sizeof(u)) != (ssize_t)sizeof(u)) {
		pr_perror("can't read /dev/urandom");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	sprintf(buf,
		"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		u[13], u[14], u[15]);
	return 0;
}

/*
 * timens-0.img: this host's monotonic and boot clocks, which upstream
 * writes with every dump (a restore into a new time namespace starts its
 * clocks from them).
 */
static int write_timens(int dirfd)
{
	TimensEntry e = TIMENS_ENTRY__INIT;
	Timespec mono = TIMESPEC__INIT, boot = TIMESPEC__INIT;
	struct timespec ts;
	struct cr_img *img;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	mono.tv_sec = (uint64_t)ts.tv_sec;
	mono.tv_nsec = (uint64_t)ts.tv_nsec;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	boot.tv_sec = (uint64_t)ts.tv_sec;
	boot.tv_nsec = (uint64_t)ts.tv_nsec;
	e.monotonic = &mono;
	e.boottime = &boot;
	img = img_open(dirfd, IMG_TIMENS, O_WRONLY, 0UL);
	if (!img)
		return -EIO;
	ret = img_write_pb(img, &e.base);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

/* This dump's run id: in its inventory, and what the memory tracker is armed for. */
static char run_id[40];

static int write_inventory(int dirfd)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	TaskKobjIdsEntry ids;
	PluginsEntry plugins = PLUGINS_ENTRY__INIT;
	struct cr_img *img;
	int ret;

	img = img_open(dirfd, IMG_INVENTORY, O_WRONLY);
	if (!img)
		return -EIO;
	inv.img_version = 2;
	inv.has_fdinfo_per_id = true;
	inv.fdinfo_per_id = true;
	/* criu's own, as upstream: restore compares each task's with them */
	kobj_ids_root(&ids);
	inv.root_ids = &ids;
	inv.has_ns_per_id = true;
	inv.ns_per_id = true;
	inv.has_root_cg_set = true;
	inv.root_cg_set = 1;
	inv.has_lsmtype = true;
	inv.lsmtype = host_lsm();
	inv.has_network_lock_method = true;
	inv.network_lock_method = 0; /* upstream's default, iptables */
	inv.plugins_entry = &plugins;
	inv.dump_criu_run_id = run_id;
	ret = img_write_pb(img, &inv.base);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

static int write_ids(int dirfd, struct dtask *t)
{
	struct cr_img *img = img_open(dirfd, IMG_IDS, O_WRONLY, (unsigned long)t->pid);
	int ret;

	if (!img)
		return -EIO;
	ret = img_write_pb(img, &t->ids.base);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

int dump_status_fd_ready(void)
{
	if (opts.status_fd < 0)
		return 0;
	if (write(opts.status_fd, "\0", 1) != 1) {
		pr_perror("can't write to the status fd %d", opts.status_fd);
		return -1;
	}
	close(opts.status_fd);
	return 0;
}

static uint32_t us_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (uint32_t)((b.tv_sec - a->tv_sec) * 1000000 + (b.tv_nsec - a->tv_nsec) / 1000);
}

/* stats-dump, as upstream writes it (crit and `criu show` read it). */
static void write_stats(int dirfd, const struct mem_dump_stats *ms, uint32_t freezing,
			uint32_t frozen)
{
	StatsEntry s = STATS_ENTRY__INIT;
	DumpStatsEntry d = DUMP_STATS_ENTRY__INIT;
	struct cr_img *img = dirfd < 0 ? NULL : img_open(dirfd, IMG_STATS_DUMP, O_WRONLY);

	d.freezing_time = freezing;
	d.frozen_time = frozen;
	d.memdump_time = (uint32_t)ms->memdump_us;
	d.memwrite_time = 0; /* pages are spliced straight into the image */
	d.pages_scanned = ms->pages_scanned;
	d.pages_skipped_parent = ms->pages_skipped_parent;
	d.pages_written = ms->pages_written;
	d.pages_lazy = 0;
	/* what upstream always writes, which tools read without checking */
	d.has_irmap_resolve = true;
	d.irmap_resolve = 0;
	d.has_page_pipes = true;
	d.page_pipes = ms->page_pipes;
	d.has_page_pipe_bufs = true;
	d.page_pipe_bufs = ms->page_pipe_bufs;
	d.has_shpages_scanned = true;
	d.shpages_scanned = ms->shpages_scanned;
	d.has_shpages_skipped_parent = true;
	d.shpages_skipped_parent = 0;
	d.has_shpages_written = true;
	d.shpages_written = ms->shpages_written;
	s.dump = &d;
	if (opts.display_stats)
		stats_display(&s);
	if (img) {
		img_write_pb(img, &s.base);
		img_close(img);
	}
}

static int dump_tree(bool pre);

int cmd_dump(void)
{
	return dump_tree(false);
}

int cmd_pre_dump(void)
{
	return dump_tree(true);
}

static int dump_tree(bool pre)
{
	struct mem_dump_stats stats = { 0 };
	struct timespec t0, t1;
	uint32_t freezing = 0, frozen;
	int dirfd, ret;
	bool netns;

	catch_quit_signals();
	if (opts.pid <= 0) {
		pr_err("dump needs the root of the tree: -t PID\n");
		return 1;
	}
	if (opts.leave_running && opts.leave_stopped) {
		pr_err("--leave-running and --leave-stopped cannot be used together\n");
		return 1;
	}
	dirfd = open(opts.images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		pr_perror("can't open the images directory %s", opts.images_dir);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kerndat_probe_one(KD_PAGEMAP_SCAN);
	/* every dump: one without --track-mem also stops a tracker left running */
	if (make_run_id(run_id) || incr_begin(dirfd, pre)) {
		incr_end(false, NULL);
		close(dirfd);
		return 1;
	}
	if (kobj_ids_init()) {
		pr_err("can't read criu's own namespaces and ids\n");
		close(dirfd);
		return 1;
	}

	if (action_run(ACT_PRE_DUMP, opts.pid)) {
		pr_err("dump of the tree of %d stopped at pre-dump; nothing was done\n", opts.pid);
		close(dirfd);
		return 1;
	}
	netns = !pre && action_own_netns(opts.pid);
	pr_step("dump: seizing the tree of %d\n", opts.pid);
	ret = fault_point("dump: seize");
	if (!ret)
		ret = seize_tree(opts.pid);
	if (!ret) {
		pr_step("dump: %d tasks seized\n", nr_tasks);
		ret = fault_point("dump: seized");
	}
	freezing = us_since(&t0);
	if (!ret && netns)
		ret = action_run(ACT_NET_LOCK, opts.pid);
	if (!ret)
		ret = check_sessions();
	if (!ret)
		ret = check_tree();
	for (int i = 0; i < nr_tasks && !ret; i++) {
		if (tree[i].zombie && pre)
			continue;
		if (tree[i].zombie)
			ret = dump_zombie(dirfd, &tree[i]);
		else if (pre)
			ret = dump_task(dirfd, &tree[i], &stats);
		else {
			ret = kobj_ids_of(tree[i].pid, &tree[i].ids);
			if (!ret)
				ret = kobj_cg_set_of(tree[i].pid, &tree[i].cg_set);
			if (!ret)
				ret = dump_task(dirfd, &tree[i], &stats);
			if (!ret)
				ret = write_ids(dirfd, &tree[i]);
		}
	}
	if (pre) {
		/* pre-dump: the pagemaps, and the inventory for its run id */
		free_seccomp();
		if (!ret)
			ret = write_inventory(dirfd);
		goto written;
	}
	if (!ret)
		ret = write_pstree(dirfd);
	if (!ret)
		ret = files_write_images(dirfd);
	if (!ret)
		ret = write_seccomp(dirfd);
	free_seccomp();
	if (!ret)
		ret = write_timens(dirfd);
	if (!ret)
		ret = write_inventory(dirfd);
	if (!ret && cpuinfo_dump_image(dirfd))
		ret = -EIO;
written:
	files_dump_fini();
	mem_dump_fini();
	kobj_ids_fini();
	if (!ret) {
		pr_step("dump: releasing the tree\n");
		ret = check_quit() ?: fault_point("dump: release");
	}
	if (!ret)
		ret = action_run(ACT_POST_DUMP, opts.pid);
	if ((ret || opts.leave_running) && netns && action_run(ACT_NET_UNLOCK, opts.pid))
		ret = ret ? ret : -EIO;

	if (ret) {
		if (dump_quit_signal)
			pr_err("dump interrupted by signal %d (%s)\n", dump_quit_signal,
			       strsignal(dump_quit_signal));
		files_dump_release(false);
		release_tree(false, false);
		incr_end(false, NULL);
		pr_err("%s of the tree of %d failed; the tree is left running\n",
		       pre ? "pre-dump" : "dump", opts.pid);
		close(dirfd);
		return 1;
	}
	{
		/* a tree that goes on gets its files back (TCP out of repair)
		 * before it runs; a killed one lets go of them once it is dead */
		bool kill_it = !pre && !opts.leave_running && !opts.leave_stopped;

		if (!kill_it)
			files_dump_release(false);
		release_tree(kill_it, !pre && opts.leave_stopped);
		if (kill_it)
			files_dump_release(true);
	}
	frozen = us_since(&t0);
	ret = incr_after_release(&stats);
	if (incr_end(!ret, run_id) || ret) {
		pr_err("%s of the tree of %d failed after the tree was released\n",
		       pre ? "pre-dump" : "dump", opts.pid);
		close(dirfd);
		return 1;
	}
	{
		int wd = opts_open_work_dir(); /* logs, pidfiles and statistics */

		write_stats(wd, &stats, freezing, frozen);
		if (wd >= 0)
			close(wd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_peak_rss();
	pr_info("dumped %d processes, %llu pages in %.3f s\n", nr_tasks,
		(unsigned long long)stats.pages_written,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	close(dirfd);
	return 0;
}
