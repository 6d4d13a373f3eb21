/*
 * A victim seized in the middle of a syscall.
 *
 * PTRACE_INTERRUPT wakes a sleeping syscall; it returns one of the kernel's
 * -ERESTART* codes and the thread stops on its way out, before the kernel
 * decides to restart it.  Where ptrace can write back everything the
 * kernel looks at then (x86 ax and orig_ax, ppc r3, orig_gpr3 and trap,
 * s390 r2, orig_gpr2 and system_call), restoring the saved registers at
 * cure is enough: the kernel restarts it, or returns -EINTR, exactly as it
 * would have.
 *
 * (Syscalls that swap the signal mask for their duration, ppoll, pselect6,
 * epoll_pwait, rt_sigsuspend, need nothing more: while TIF_RESTORE_SIGMASK
 * is set PTRACE_GETSIGMASK returns the task's own mask from saved_sigmask,
 * and PTRACE_SETSIGMASK at cure puts it in place and drops the temporary
 * one; the restarted syscall installs its temporary mask again.)
 *
 * arm64 cannot be restored that way: its restart reloads x0 from orig_x0,
 * which ptrace can neither read nor write, and our own syscalls overwrite
 * it.  There, "settle" first: resume the thread with PTRACE_SYSCALL and no
 * change.  The kernel rewinds to the syscall instruction and runs it again;
 * we catch it at its entry and take that state, rewound to "about to
 * execute the syscall instruction", as the thread's state.  Written back at
 * the entry stop it also makes the kernel skip the syscall, so the thread
 * waits at the exit stop for our code.  At cure the thread simply executes
 * the syscall instruction: the restart, done by the task.
 * COMPEL_F_SETTLE_RESTART forces this path, so that x86_64 tests it.
 *
 * Signals are not blocked meanwhile: one that arrives now is delivered as
 * it would have been (its handler then runs, and the syscall we catch may
 * be one made by the handler: the same reasoning holds for it).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "compel-arch.h"
#include "compel-priv.h"
#include "log.h"

#define SETTLE_TRIES 3

static bool needs_settle(struct infect_ctx *ctx)
{
	if (!compel_arch_restart_pending(ctx->orig_regs))
		return false;
	return (ctx->flags & COMPEL_F_SETTLE_RESTART) || !compel_arch.restart_precise;
}

/*
 * At the entry stop of the restarted syscall: keep its rewound state, make
 * the kernel skip the syscall, and wait for the exit stop.
 */
static int take_entry_state(struct infect_ctx *ctx)
{
	struct compel_thread *v = ctx->victim;
	struct compel_regs *skip = compel_arch_regs_new();
	int status, ret = -ENOMEM;

	if (!skip)
		return ret;
	compel_arch_regs_copy(ctx->work_regs, ctx->orig_regs); /* the state before */
	ret = compel_arch_get_regs(v->tid, ctx->orig_regs);
	if (!ret) {
		compel_arch_regs_copy(skip, ctx->orig_regs);
		compel_arch_skip_syscall(skip);
		compel_arch_rewind_syscall(ctx->orig_regs, ctx->work_regs);
		ret = compel_arch_set_gregs(v->tid, skip);
	}
	compel_arch_regs_free(skip);
	if (!ret)
		ret = compel_resume(v, PTRACE_SYSCALL, 0);
	while (!ret) {
		ret = compel_wait_tid(v->tid, &status, ctx->timeout_ms);
		if (ret)
			break;
		v->stopped = true;
		v->status = status;
		if (compel_stop_kind(status) == STOP_SYSCALL)
			return 0;
		if (compel_stop_kind(status) == STOP_EXITED)
			return -ESRCH;
		ret = compel_resume(v, PTRACE_SYSCALL, 0);
	}
	return ret;
}

/* A signal on its way: let it be delivered, except SIGSTOP (held). */
static int settle_signal(struct infect_ctx *ctx, int sig)
{
	if (sig == SIGSTOP) {
		ctx->held_signals |= 1ULL << (SIGSTOP - 1);
		sig = 0;
	}
	return compel_resume(ctx->victim, PTRACE_SYSCALL, sig);
}

/*
 * One attempt: 1 when settled, 0 when the thread came back to an
 * interrupt stop instead (e.g. a handler ran without syscalls for the whole
 * timeout), -errno on failure.
 */
static int settle_once(struct infect_ctx *ctx)
{
	struct compel_thread *v = ctx->victim;
	bool interrupted = false;
	int status, ret;

	ret = compel_resume(v, PTRACE_SYSCALL, 0);
	while (!ret) {
		ret = compel_wait_tid(v->tid, &status, ctx->timeout_ms);
		if (ret == -ETIMEDOUT && !interrupted) {
			interrupted = true;
			ret = ptrace(PTRACE_INTERRUPT, v->tid, NULL, NULL) ? -errno : 0;
			continue;
		}
		if (ret)
			return ret == -ECHILD ? -ESRCH : ret;
		v->stopped = true;
		v->status = status;
		switch (compel_stop_kind(status)) {
		case STOP_EXITED:
			return -ESRCH;
		case STOP_SYSCALL:
			ret = take_entry_state(ctx);
			return ret ? ret : 1;
		case STOP_SIGNAL:
			ret = settle_signal(ctx, WSTOPSIG(status));
			break;
		case STOP_EVENT:
			if (interrupted)
				return compel_arch_get_regs(v->tid, ctx->orig_regs);
			/* a trap left over from seizing */
			ret = compel_resume(v, PTRACE_SYSCALL, 0);
			break;
		default:
			ret = compel_resume(v, PTRACE_SYSCALL, 0);
		}
	}
	return ret;
}

int compel_settle_restart(struct infect_ctx *ctx)
{
	for (int i = 0; i < SETTLE_TRIES; i++) {
		int ret;

		if (!needs_settle(ctx))
			return 0;
		pr_debug("pid %d: settling interrupted syscall %ld\n", ctx->pid,
			 compel_arch_syscall_nr(ctx->orig_regs));
		ret = settle_once(ctx);
		if (ret < 0) {
			if (ret == -ESRCH)
				ctx->dead = true;
			pr_err("can't settle the interrupted syscall of pid %d: %s\n", ctx->pid,
			       strerror(-ret));
			return ret;
		}
		if (ret == 1)
			return 0;
	}
	pr_err("pid %d keeps being in an interrupted syscall\n", ctx->pid);
	return -EAGAIN;
}
