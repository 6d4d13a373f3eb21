/* Infecting a task and curing it: see compel.h. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compel-arch.h"
#include "compel-priv.h"
#include "log.h"

static int check_task(pid_t pid)
{
	struct compel_task_info info;
	int ret = compel_probe_task(pid, &info);

	if (ret == -ESRCH || (!ret && info.state == COMPEL_TASK_DEAD)) {
		pr_err("no process with pid %d\n", pid);
		return -ESRCH;
	}
	if (ret) {
		pr_err("can't read /proc/%d/status: %s\n", pid, strerror(-ret));
		return ret;
	}
	if (info.tgid != pid) {
		pr_err("%d is a thread of pid %d, not a process\n", pid, info.tgid);
		return -EINVAL;
	}
	if (info.state == COMPEL_TASK_ZOMBIE && info.nr_threads <= 1) {
		pr_err("pid %d is a zombie\n", pid);
		return -ESRCH;
	}
	if (info.tracer_pid) {
		pr_err("pid %d is traced by pid %d\n", pid, info.tracer_pid);
		return -EBUSY;
	}
	if (pid == getpid()) {
		pr_err("pid %d is criu itself\n", pid);
		return -EINVAL;
	}
	return 0;
}

static struct compel_thread *pick_victim(struct infect_ctx *ctx)
{
	struct compel_thread *first = NULL;

	for (int i = 0; i < ctx->nr_threads; i++) {
		struct compel_thread *t = &ctx->threads[i];

		if (!t->seized)
			continue;
		if (t->tid == ctx->pid)
			return t;
		if (!first)
			first = t;
	}
	return first;
}

/* A group-stop reports the stop signal, our interrupt SIGTRAP. */
static void note_found_state(struct infect_ctx *ctx)
{
	int sig = WSTOPSIG(ctx->victim->status);

	ctx->found = COMPEL_TASK_RUNNING;
	if (compel_stop_kind(ctx->victim->status) == STOP_EVENT && compel_is_stop_signal(sig)) {
		ctx->found = COMPEL_TASK_STOPPED;
		ctx->stop_signo = sig;
	}
}

static int save_victim(struct infect_ctx *ctx)
{
	pid_t tid = ctx->victim->tid;
	int ret;

	ctx->orig_regs = compel_arch_regs_new();
	ctx->work_regs = compel_arch_regs_new();
	if (!ctx->orig_regs || !ctx->work_regs)
		return -ENOMEM;
	ret = compel_arch_get_regs(tid, ctx->orig_regs);
	if (ret) {
		pr_err("can't read the registers of pid %d: %s\n", ctx->pid, strerror(-ret));
		return ret;
	}
	ctx->regs_saved = true;
	if (compel_arch_check_abi(ctx->orig_regs)) {
		pr_err("pid %d does not run the native %s ABI\n", ctx->pid, compel_arch.name);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int save_sigmask(struct infect_ctx *ctx)
{
	if (ptrace(PTRACE_GETSIGMASK, ctx->victim->tid, (void *)sizeof(ctx->orig_sigmask),
		   &ctx->orig_sigmask)) {
		pr_perror("can't read the signal mask of pid %d", ctx->pid);
		return -errno;
	}
	ctx->sigmask_saved = true;
	return 0;
}

/* The seized thread tid, or NULL (said). */
static struct compel_thread *seized_thread(struct infect_ctx *ctx, pid_t tid)
{
	for (int i = 0; i < ctx->nr_threads; i++)
		if (ctx->threads[i].tid == tid)
			return &ctx->threads[i];
	pr_err("thread %d of pid %d was not seized\n", tid, ctx->pid);
	return NULL;
}

/* ctx->victim, just set: its registers, its settled restart, its mask. */
static int take_victim(struct infect_ctx *ctx)
{
	int ret = save_victim(ctx);

	if (!ret)
		ret = compel_settle_restart(ctx);
	if (!ret)
		ret = save_sigmask(ctx);
	return ret;
}

/* Signals held while our code ran, sent again to tid. */
static void resend_held(struct infect_ctx *ctx, pid_t tid)
{
	for (int sig = 1; sig <= 64; sig++)
		if (ctx->held_signals & (1ULL << (sig - 1)))
			syscall(SYS_tgkill, ctx->pid, tid, sig);
}

/* Everything that makes the victim ready to run our code. */
static int prepare_victim(struct infect_ctx *ctx)
{
	int ret;

	ctx->victim = pick_victim(ctx);
	if (!ctx->victim)
		return -ESRCH;
	note_found_state(ctx);
	ret = take_victim(ctx);
	if (!ret)
		ret = compel_find_syscall_ip(ctx);
	return ret;
}

void compel_set_timeout(struct infect_ctx *ctx, int timeout_ms)
{
	ctx->timeout_ms = timeout_ms > 0 ? timeout_ms : COMPEL_DEFAULT_TIMEOUT_MS;
}

int compel_infect(pid_t pid, unsigned int flags, struct infect_ctx **ctxp)
{
	return compel_infect_timeout(pid, flags, 0, ctxp);
}

int compel_infect_timeout(pid_t pid, unsigned int flags, int timeout_ms,
			  struct infect_ctx **ctxp)
{
	struct infect_ctx *ctx;
	int ret = check_task(pid);

	if (ret)
		return ret;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->pid = pid;
	ctx->flags = flags;
	compel_set_timeout(ctx, timeout_ms);
	ret = compel_seize_threads(ctx);
	if (!ret)
		ret = prepare_victim(ctx);
	if (ret) {
		compel_cure(ctx, COMPEL_LEAVE_AS_FOUND);
		return ret;
	}
	*ctxp = ctx;
	return 0;
}

/* Unmaps on both sides; the remote side only while the task lives. */
static int unmap_all(struct infect_ctx *ctx)
{
	int ret = 0;

	while (ctx->maps) {
		struct compel_map *m = ctx->maps;
		int r = 0;

		if (!ctx->dead && ctx->syscall_ip)
			r = compel_remote_munmap(ctx, m->remote, m->len);
		else
			free(compel_take_map(ctx, m->remote, m->len));
		if (ctx->maps == m) { /* munmap could not run: forget it anyway */
			ctx->maps = m->next;
			if (m->local)
				munmap(m->local, m->len);
			free(m);
		}
		if (r && !ret)
			ret = r;
	}
	return ret;
}

/* Registers and mask back, held signals sent again. */
static int restore_victim(struct infect_ctx *ctx)
{
	pid_t tid = ctx->victim->tid;
	int ret = 0;

	if (ctx->regs_saved)
		ret = compel_arch_set_regs(tid, ctx->orig_regs);
	if (ret)
		pr_err("can't restore the registers of pid %d: %s\n", ctx->pid, strerror(-ret));
	if (ctx->sigmask_saved &&
	    ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(ctx->orig_sigmask), &ctx->orig_sigmask)) {
		pr_perror("can't restore the signal mask of pid %d", ctx->pid);
		if (!ret)
			ret = -errno;
	}
	resend_held(ctx, tid);
	return ret;
}

int compel_switch_victim(struct infect_ctx *ctx, pid_t tid)
{
	struct compel_thread *t = seized_thread(ctx, tid);
	int ret;

	if (!t)
		return -ESRCH;
	if (t == ctx->victim)
		return 0;
	/* compel's mappings stay: every thread of the process shares them */
	if (ctx->code_running || ctx->park_regs)
		return -EBUSY;
	ret = compel_sigtrap_finish_victim(ctx);
	if (!ret)
		ret = restore_victim(ctx);
	if (ret)
		return ret;
	compel_arch_regs_free(ctx->orig_regs);
	compel_arch_regs_free(ctx->work_regs);
	ctx->orig_regs = ctx->work_regs = NULL;
	ctx->regs_saved = ctx->sigmask_saved = false;
	ctx->held_signals = 0;
	ctx->victim = t;
	ret = take_victim(ctx);
	if (!ret)
		ret = compel_find_syscall_ip(ctx);
	return ret;
}

/*
 * A visit: thread tid runs code of ours while the victim stays stopped as
 * it is (parked or in its code).  compel's victim state is lent to tid and
 * given back by compel_visit_end(): the victim's registers, mask and park
 * are not touched.  tid's own registers and mask are read (its interrupted
 * syscall settled where the arch needs it, as for a victim); the visit's
 * code must give them back itself (the parasite's visit does, through its
 * frame); compel_visit_end() sends tid again what it held of its signals.
 */
int compel_visit_begin(struct infect_ctx *ctx, pid_t tid, struct compel_visit *save)
{
	struct compel_thread *t = seized_thread(ctx, tid);
	int ret;

	if (!t)
		return -ESRCH;
	if (t == ctx->victim)
		return -EINVAL;
	if (ctx->code_running)
		return -EBUSY;
	*save = (struct compel_visit){
		.victim = ctx->victim, .orig = ctx->orig_regs, .work = ctx->work_regs,
		.park = ctx->park_regs, .regs_saved = ctx->regs_saved,
		.sigmask_saved = ctx->sigmask_saved, .sigmask = ctx->orig_sigmask,
		.held = ctx->held_signals, .syscall_ip = ctx->syscall_ip,
		.never_traps = ctx->code_never_traps,
	};
	ctx->victim = t;
	ctx->orig_regs = ctx->work_regs = NULL;
	ctx->park_regs = NULL;
	ctx->regs_saved = ctx->sigmask_saved = false;
	ctx->held_signals = 0;
	ctx->code_never_traps = true;
	ret = take_victim(ctx);
	if (ret)
		compel_visit_end(ctx, save);
	return ret;
}

int compel_visit_end(struct infect_ctx *ctx, struct compel_visit *save)
{
	resend_held(ctx, ctx->victim->tid);
	compel_arch_regs_free(ctx->orig_regs);
	compel_arch_regs_free(ctx->work_regs);
	ctx->victim = save->victim;
	ctx->orig_regs = save->orig;
	ctx->work_regs = save->work;
	ctx->park_regs = save->park;
	ctx->regs_saved = save->regs_saved;
	ctx->sigmask_saved = save->sigmask_saved;
	ctx->orig_sigmask = save->sigmask;
	ctx->held_signals = save->held;
	ctx->syscall_ip = save->syscall_ip;
	ctx->code_never_traps = save->never_traps;
	ctx->code_running = false;
	return 0;
}

static void free_ctx(struct infect_ctx *ctx)
{
	compel_arch_regs_free(ctx->orig_regs);
	compel_arch_regs_free(ctx->work_regs);
	compel_arch_regs_free(ctx->park_regs);
	free(ctx->rw_spans);
	free(ctx->threads);
	free(ctx);
}

int compel_cure(struct infect_ctx *ctx, enum compel_leave leave)
{
	int ret = 0, r;

	if (!ctx)
		return 0;
	if (ctx->victim && ctx->code_running)
		ret = compel_stop_code(ctx);
	if (ctx->park_regs) {
		r = compel_unpark(ctx);
		if (r && !ret)
			ret = r;
	}
	/* at rest again: the task's SIGTRAP action and pending SIGTRAP back */
	if (ctx->victim && !ctx->code_running) {
		r = compel_sigtrap_finish(ctx);
		if (r && !ret)
			ret = r;
	}
	r = unmap_all(ctx);
	if (r && !ret)
		ret = r;
	if (ctx->victim && !ctx->dead) {
		r = restore_victim(ctx);
		if (r && !ret)
			ret = r;
	}
	/* stop_signo: the signal it was stopped by (the parent's waitpid tells it) */
	if (leave == COMPEL_LEAVE_STOPPED && !ctx->dead)
		kill(ctx->pid, compel_is_stop_signal(ctx->stop_signo) ? ctx->stop_signo : SIGSTOP);
	r = compel_detach_threads(ctx);
	if (r && !ret)
		ret = r;
	free_ctx(ctx);
	return ret;
}
