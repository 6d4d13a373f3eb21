/*
 * Seizing and releasing the threads of a task, and bounded waits for
 * their stops.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "compel-priv.h"
#include "log.h"

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * waitpid() has no timeout and a library must not play with SIGCHLD or
 * alarms, so poll with WNOHANG.  Most stops arrive within microseconds of
 * the request: yield a few times first (the tracee may be on this very
 * CPU), then sleep with a growing interval so that a task stuck in D state
 * costs almost nothing until the deadline.
 */
static int wait_tid(pid_t tid, int *status, int timeout_ms, bool abortable)
{
	long long deadline = now_ns() + (long long)timeout_ms * 1000000LL;
	long sleep_ns = 2000;

	for (int round = 0;; round++) {
		pid_t r = waitpid(tid, status, __WALL | WNOHANG);

		if (r == tid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		if (abortable && compel_aborted())
			return -EINTR;
		if (round < 20) {
			sched_yield();
			continue;
		}
		nanosleep(&(struct timespec){ 0, sleep_ns }, NULL);
		if (sleep_ns < 1000000)
			sleep_ns *= 2;
	}
}

int compel_wait_tid(pid_t tid, int *status, int timeout_ms)
{
	return wait_tid(tid, status, timeout_ms, false);
}

enum compel_stop compel_stop_kind(int status)
{
	if (!WIFSTOPPED(status))
		return STOP_EXITED;
	if ((status >> 16) == PTRACE_EVENT_STOP)
		return STOP_EVENT;
	if (status >> 16)
		return STOP_OTHER;
	if (WSTOPSIG(status) == (SIGTRAP | 0x80))
		return STOP_SYSCALL;
	return STOP_SIGNAL;
}

bool compel_is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

int compel_resume(struct compel_thread *t, int request, int sig)
{
	if (ptrace(request, t->tid, NULL, (void *)(long)sig))
		return -errno;
	t->stopped = false;
	return 0;
}

static int add_thread(struct infect_ctx *ctx, pid_t tid)
{
	struct compel_thread *n;

	n = realloc(ctx->threads, (ctx->nr_threads + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ctx->threads = n;
	ctx->threads[ctx->nr_threads++] = (struct compel_thread){ .tid = tid };
	return 0;
}

static bool known_thread(const struct infect_ctx *ctx, pid_t tid)
{
	for (int i = 0; i < ctx->nr_threads; i++)
		if (ctx->threads[i].tid == tid)
			return true;
	return false;
}

/* A zombie leader of a live group cannot be seized: leave it out. */
static bool thread_is_zombie(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool zombie = false;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return true; /* gone already */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
		zombie = p[2] == 'Z' || p[2] == 'X';
	fclose(f);
	return zombie;
}

#ifndef PTRACE_O_SUSPEND_SECCOMP
#define PTRACE_O_SUSPEND_SECCOMP (1 << 21)
#endif

static int seize_one(struct infect_ctx *ctx, struct compel_thread *t)
{
	long opts = PTRACE_O_TRACESYSGOOD |
		    ((ctx->flags & COMPEL_F_EXITKILL) ? PTRACE_O_EXITKILL : 0);

	/*
	 * Seccomp is suspended while we hold the task: our injected syscalls
	 * must not be judged by the task's filters (nor kill a strict-mode
	 * task).  It needs CAP_SYS_ADMIN; without it we seize plainly.
	 */
	if (!ptrace(PTRACE_SEIZE, t->tid, NULL, (void *)(opts | PTRACE_O_SUSPEND_SECCOMP)))
		goto seized;
	if (ptrace(PTRACE_SEIZE, t->tid, NULL, (void *)opts)) {
		int err = -errno;

		if (err == -EPERM) {
			struct compel_task_info info;

			if (!compel_probe_task(ctx->pid, &info) && info.tracer_pid) {
				pr_err("pid %d is traced by pid %d\n", ctx->pid, info.tracer_pid);
				return -EBUSY;
			}
		}
		if (err != -ESRCH)
			pr_err("can't seize thread %d of pid %d: %s\n", t->tid, ctx->pid,
			       strerror(-err));
		return err;
	}
seized:
	t->seized = true;
	if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL)) {
		int err = -errno;

		pr_err("can't interrupt thread %d of pid %d: %s\n", t->tid, ctx->pid,
		       strerror(-err));
		return err;
	}
	return 0;
}

/*
 * Waits for the stop our PTRACE_INTERRUPT asked for.  A signal the thread
 * was about to take when we seized it shows up first as a
 * signal-delivery-stop: let the thread take it (it would have), the
 * interrupt trap follows.  Returns 0, -ESRCH when it exited meanwhile.
 */
static int wait_seized(struct infect_ctx *ctx, struct compel_thread *t)
{
	int status, ret;

	for (;;) {
		/* nothing of ours runs in it yet: a signal to criu may end the wait */
		ret = wait_tid(t->tid, &status, ctx->timeout_ms, true);
		if (ret == -EINTR)
			pr_err("stopped waiting for thread %d of pid %d to stop: criu is asked to quit\n",
			       t->tid, ctx->pid);
		if (ret == -ETIMEDOUT) {
			pr_err("thread %d of pid %d did not stop within %d ms\n", t->tid, ctx->pid,
			       ctx->timeout_ms);
			return ret;
		}
		if (ret)
			return ret == -ECHILD ? -ESRCH : ret;
		switch (compel_stop_kind(status)) {
		case STOP_EXITED:
			t->seized = false;
			return -ESRCH;
		case STOP_EVENT:
			t->status = status;
			t->stopped = true;
			return 0;
		case STOP_SIGNAL:
			ret = compel_resume(t, PTRACE_CONT, WSTOPSIG(status));
			break;
		default:
			ret = compel_resume(t, PTRACE_CONT, 0);
			break;
		}
		if (ret)
			return ret;
	}
}

static int list_threads(pid_t pid, pid_t **tids, int *n)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	pid_t *v = NULL;
	int cnt = 0, cap = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (*end || tid <= 0)
			continue;
		if (cnt == cap) {
			pid_t *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt++] = (pid_t)tid;
	}
	closedir(d);
	*tids = v;
	*n = cnt;
	return 0;
}

/* Seizes the threads not seen before; returns how many, or -errno. */
static int seize_new_threads(struct infect_ctx *ctx)
{
	pid_t *tids = NULL;
	int n = 0, ret, first = ctx->nr_threads, added = 0;

	ret = list_threads(ctx->pid, &tids, &n);
	if (ret)
		return ret;
	for (int i = 0; i < n && !ret; i++) {
		if (known_thread(ctx, tids[i]) || thread_is_zombie(ctx->pid, tids[i]))
			continue;
		ret = add_thread(ctx, tids[i]);
		if (!ret)
			ret = seize_one(ctx, &ctx->threads[ctx->nr_threads - 1]);
		if (ret == -ESRCH) /* exited meanwhile */
			ret = 0;
		added++;
	}
	free(tids);
	for (int i = first; i < ctx->nr_threads && !ret; i++) {
		if (!ctx->threads[i].seized)
			continue;
		ret = wait_seized(ctx, &ctx->threads[i]);
		if (ret == -ESRCH)
			ret = 0;
	}
	return ret ? ret : added;
}

/*
 * Threads can be created while we seize; only a running thread can create
 * one, so once a pass over /proc/PID/task finds nothing new (and everything
 * seen is stopped) the set is complete.
 */
int compel_seize_threads(struct infect_ctx *ctx)
{
	int ret;

	do
		ret = seize_new_threads(ctx);
	while (ret > 0);
	if (ret)
		return ret;
	for (int i = 0; i < ctx->nr_threads; i++)
		if (ctx->threads[i].seized)
			return 0;
	pr_err("pid %d has no thread left to seize\n", ctx->pid);
	return -ESRCH;
}

/*
 * A thread still running (code we started, a timed-out wait) is
 * interrupted first: PTRACE_DETACH needs a stopped tracee.  If what stops
 * it is a signal on its way, the signal goes with the detach.
 */
static int stop_for_detach(struct infect_ctx *ctx, struct compel_thread *t, int *sig)
{
	int status, ret;

	if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL))
		return -errno;
	ret = compel_wait_tid(t->tid, &status, ctx->timeout_ms);
	if (ret == -ETIMEDOUT)
		pr_err("thread %d of pid %d does not stop; it stays traced until criu exits\n",
		       t->tid, ctx->pid);
	if (ret)
		return ret;
	if (compel_stop_kind(status) == STOP_EXITED)
		return -ESRCH;
	if (compel_stop_kind(status) == STOP_SIGNAL)
		*sig = WSTOPSIG(status);
	t->stopped = true;
	return 0;
}

static int detach_one(struct infect_ctx *ctx, struct compel_thread *t)
{
	int sig = 0, ret;

	if (!t->seized)
		return 0;
	if (!t->stopped) {
		ret = stop_for_detach(ctx, t, &sig);
		if (ret) {
			t->seized = false;
			return ret == -ESRCH || ret == -ECHILD ? 0 : ret;
		}
	}
	t->seized = false;
	if (ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)sig) && errno != ESRCH) {
		pr_perror("can't detach thread %d of pid %d", t->tid, ctx->pid);
		return -errno;
	}
	return 0;
}

int compel_detach_threads(struct infect_ctx *ctx)
{
	int ret = 0;

	for (int i = 0; i < ctx->nr_threads; i++) {
		int r = detach_one(ctx, &ctx->threads[i]);

		if (r && !ret)
			ret = r;
	}
	return ret;
}
