/*
 * Running things in the victim: one syscall, or code up to a trap.
 *
 * A syscall runs from a syscall instruction that is already in the task's
 * code (syscall.c finds one), with PTRACE_SYSCALL: the task stops at the
 * syscall's entry and again at its exit, where the result is read.
 * Nothing in the task's memory is written for that, so no code page is
 * ever made private, and no other thread could run a patched instruction.
 *
 * Code in the shared area runs with PTRACE_CONT until it reaches the
 * arch's trap instruction; the kernel reports it as a SIGTRAP
 * signal-delivery-stop, which we swallow.
 *
 * While our code or syscall runs every blockable signal is blocked in the
 * victim (PTRACE_SETSIGMASK), so signals sent meanwhile stay pending and
 * are delivered after cure as if we had never been there.  SIGSTOP cannot
 * be blocked: it is held back and sent again at cure.
 *
 * After each run the victim gets its resting state back at once: its own
 * registers and mask, or the parked state (compel_park()).  A criu killed
 * at any moment then leaves it able to go on: the kernel detaches every
 * thread of a dead tracer, and a thread stopped at a syscall exit with its
 * own registers restarts its interrupted syscall then (the detach sets
 * TIF_SIGPENDING, so the restart logic runs).  What remains is the run
 * itself: a kill during the microseconds of an injected syscall or while
 * code starts leaves the work registers (see docs/compel.md).
 */
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compel-arch.h"
#include "compel-priv.h"
#include "log.h"

/* The kernel's internal restart codes never reach user space as such. */
#define KERN_ERESTARTSYS 512
#define KERN_ERESTART_RESTARTBLOCK 516

int compel_block_signals(struct infect_ctx *ctx)
{
	uint64_t all = ~0ULL;

	if (ptrace(PTRACE_SETSIGMASK, ctx->victim->tid, (void *)sizeof(all), &all)) {
		pr_perror("can't block signals in pid %d", ctx->pid);
		return -errno;
	}
	return 0;
}

static int (*fault_hook)(const char *name);

void compel_set_fault_hook(int (*hook)(const char *name))
{
	fault_hook = hook;
}

int compel_fault(const char *name)
{
	return fault_hook ? fault_hook(name) : 0;
}

static volatile int *abort_flag;

void compel_set_abort_flag(volatile int *flag)
{
	abort_flag = flag;
}

bool compel_aborted(void)
{
	return abort_flag && *abort_flag;
}

static int set_sigmask(struct infect_ctx *ctx, uint64_t mask)
{
	if (ptrace(PTRACE_SETSIGMASK, ctx->victim->tid, (void *)sizeof(mask), &mask)) {
		pr_perror("can't set the signal mask of pid %d", ctx->pid);
		return -errno;
	}
	return 0;
}

int compel_rest_victim(struct infect_ctx *ctx)
{
	int ret;

	if (ctx->dead || !ctx->victim)
		return -ESRCH;
	if (ctx->park_regs) {
		ret = compel_arch_set_gregs(ctx->victim->tid, ctx->park_regs);
		if (!ret)
			ret = compel_block_signals(ctx);
	} else {
		ret = ctx->regs_saved ? compel_arch_set_gregs(ctx->victim->tid, ctx->orig_regs) : 0;
		if (!ret && ctx->sigmask_saved)
			ret = set_sigmask(ctx, ctx->orig_sigmask);
	}
	if (ret)
		pr_err("can't put pid %d back in its resting state: %s\n", ctx->pid, strerror(-ret));
	return ret;
}

int compel_park(struct infect_ctx *ctx, unsigned long ip, unsigned long sp,
		const unsigned long *args, int nargs)
{
	struct compel_regs *r;
	int ret;

	if (ctx->dead || !ctx->victim)
		return -ESRCH;
	if (ctx->code_running)
		return -EBUSY;
	if (nargs < 0 || nargs > 6)
		return -EINVAL;
	r = ctx->park_regs ? ctx->park_regs : compel_arch_regs_new();
	if (!r)
		return -ENOMEM;
	compel_arch_regs_copy(r, ctx->orig_regs);
	compel_arch_prep_call(r, ip, sp, args, nargs);
	ctx->park_regs = r;
	ret = compel_rest_victim(ctx);
	if (ret)
		compel_unpark(ctx);
	return ret;
}

int compel_unpark(struct infect_ctx *ctx)
{
	if (ctx->code_running && !ctx->dead)
		return -EBUSY;
	if (!ctx->park_regs)
		return 0;
	compel_arch_regs_free(ctx->park_regs);
	ctx->park_regs = NULL;
	if (ctx->dead)
		return 0;
	/*
	 * The mask first: a criu killed between the two leaves the parked
	 * registers, whose code cures itself (a signal let in meanwhile runs
	 * its handler over our code and comes back to it), not the thread's
	 * own registers with every signal blocked for good.
	 */
	if (ctx->sigmask_saved) {
		int ret = set_sigmask(ctx, ctx->orig_sigmask);

		if (ret)
			return ret;
	}
	return compel_rest_victim(ctx);
}

void compel_forget_victim(struct infect_ctx *ctx)
{
	compel_arch_regs_free(ctx->park_regs);
	ctx->park_regs = NULL;
	ctx->code_running = false;
	ctx->regs_saved = ctx->sigmask_saved = false;
	ctx->trap_taken = ctx->trap_action_saved = false;
	ctx->trap_victim_ready = 0;
	ctx->trap_scratch = 0;
	while (ctx->maps) {
		struct compel_map *m = ctx->maps;

		ctx->maps = m->next;
		if (m->local)
			munmap(m->local, m->len);
		free(m);
	}
}

static bool is_fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
	       sig == SIGTRAP || sig == SIGSYS;
}

static bool kernel_generated(struct infect_ctx *ctx, siginfo_t *si)
{
	memset(si, 0, sizeof(*si));
	if (ptrace(PTRACE_GETSIGINFO, ctx->victim->tid, NULL, si))
		return false;
	return si->si_code > 0;
}

int compel_held_signal(struct infect_ctx *ctx, int sig)
{
	siginfo_t si;

	if (is_fault_signal(sig) && kernel_generated(ctx, &si)) {
		struct compel_regs *r = ctx->work_regs;
		unsigned long ip = 0;

		if (!compel_arch_get_gregs(ctx->victim->tid, r))
			ip = compel_arch_get_ip(r);
		pr_err("code injected into pid %d crashed: signal %d (%s) at ip %#lx, address %p\n",
		       ctx->pid, sig, strsignal(sig), ip, si.si_addr);
		return -EFAULT;
	}
	if (sig != SIGSTOP)
		pr_warn("pid %d: signal %d arrived while blocked; sent again at cure\n", ctx->pid,
			sig);
	if (sig >= 1 && sig <= 64)
		ctx->held_signals |= 1ULL << (sig - 1);
	return 0;
}

/* Waits for the victim's next stop; the task's death is final. */
static int wait_victim(struct infect_ctx *ctx, int *status)
{
	struct compel_thread *v = ctx->victim;
	int ret = compel_wait_tid(v->tid, status, ctx->timeout_ms);

	if (ret == -ECHILD)
		ret = -ESRCH;
	if (!ret && compel_stop_kind(*status) == STOP_EXITED)
		ret = -ESRCH;
	if (ret == -ESRCH) {
		pr_err("pid %d exited while infected\n", ctx->pid);
		ctx->dead = true;
		v->seized = false;
		return ret;
	}
	if (!ret) {
		v->stopped = true;
		v->status = *status;
	}
	return ret;
}

/* Whatever stop is not the one we wait for: note it and go on. */
static int pass_stop(struct infect_ctx *ctx, int status, int request)
{
	int ret = 0;

	if (compel_stop_kind(status) == STOP_SIGNAL)
		ret = compel_held_signal(ctx, WSTOPSIG(status));
	if (!ret)
		ret = compel_resume(ctx->victim, request, 0);
	return ret;
}

/*
 * A syscall that blocks longer than the timeout (criu exec of a read on an
 * empty pipe) is interrupted once, like a signal would: its exit then
 * comes with -EINTR or a restart code.
 */
static int run_syscall(struct infect_ctx *ctx, long *result)
{
	int ret, status, syscall_stops = 0;
	bool interrupted = false;

	ret = compel_resume(ctx->victim, PTRACE_SYSCALL, 0);
	while (!ret) {
		ret = wait_victim(ctx, &status);
		if (ret == -ETIMEDOUT && syscall_stops == 1 && !interrupted) {
			pr_warn("syscall in pid %d still blocked after %d ms: interrupting it\n",
				ctx->pid, ctx->timeout_ms);
			interrupted = true;
			ret = ptrace(PTRACE_INTERRUPT, ctx->victim->tid, NULL, NULL) ? -errno : 0;
			continue;
		}
		if (ret)
			break;
		if (compel_stop_kind(status) != STOP_SYSCALL) {
			ret = pass_stop(ctx, status, PTRACE_SYSCALL);
			continue;
		}
		if (++syscall_stops == 2) {
			ret = compel_arch_get_gregs(ctx->victim->tid, ctx->work_regs);
			if (!ret)
				*result = compel_arch_syscall_ret(ctx->work_regs);
			return ret;
		}
		ret = compel_resume(ctx->victim, PTRACE_SYSCALL, 0);
	}
	if (ret == -ETIMEDOUT)
		pr_err("syscall in pid %d did not finish within %d ms\n", ctx->pid, ctx->timeout_ms);
	return ret;
}

static int check_runnable(struct infect_ctx *ctx)
{
	if (ctx->dead || !ctx->victim)
		return -ESRCH;
	if (ctx->code_running) {
		pr_err("pid %d is running injected code already\n", ctx->pid);
		return -EBUSY;
	}
	return 0;
}

int compel_syscall(struct infect_ctx *ctx, long nr, const unsigned long *args, int nargs,
		   long *result)
{
	size_t undo = ctx->undo_unmap;
	bool safe = false;
	long r = 0;
	int ret = check_runnable(ctx);

	ctx->undo_unmap = 0;
	if (ret)
		return ret;
	if (nargs < 0 || nargs > 6)
		return -EINVAL;
	compel_arch_regs_copy(ctx->work_regs, ctx->orig_regs);
	if (ctx->safe_g1) {
		/*
		 * Kill-safe (compel_make_safe()): at g1, returning to g2 and the
		 * victim's own frame should criu die now; the registers before
		 * the mask, so that a thread let go in between runs our syscall
		 * with its own mask rather than its own code with all blocked.
		 */
		compel_arch_prep_syscall(ctx->work_regs, ctx->safe_g1, nr, args, nargs);
		safe = compel_arch_chain_regs(ctx->work_regs, ctx->safe_sp, ctx->safe_g2,
					      ctx->safe_arg);
		if (!safe)
			compel_arch_prep_syscall(ctx->work_regs, ctx->syscall_ip, nr, args, nargs);
	} else {
		compel_arch_prep_syscall(ctx->work_regs, ctx->syscall_ip, nr, args, nargs);
	}
	if (safe) {
		ret = compel_arch_set_gregs(ctx->victim->tid, ctx->work_regs);
		if (!ret && !ctx->park_regs)
			ret = compel_block_signals(ctx);
	} else {
		ret = ctx->park_regs ? 0 : compel_block_signals(ctx);
		if (!ret)
			ret = compel_arch_set_gregs(ctx->victim->tid, ctx->work_regs);
	}
	if (ret) {
		pr_err("can't set registers of pid %d: %s\n", ctx->pid, strerror(-ret));
		compel_rest_victim(ctx);
		return ret;
	}
	if (safe) { /* the walk of kills: a criu killed with our registers set */
		ret = compel_fault("compel: kill-safe syscall");
		if (ret) {
			compel_rest_victim(ctx);
			return ret;
		}
	}
	ret = run_syscall(ctx, &r);
	if (!ret && safe && undo && !(r < 0 && r > -4096)) {
		/*
		 * The new area unmapped again should criu die before it takes
		 * it over; the mask stays all blocked until the chain's
		 * sigreturn gives the thread its own.
		 */
		unsigned long uargs[2] = { (unsigned long)r, undo };

		compel_arch_regs_copy(ctx->work_regs, ctx->orig_regs);
		compel_arch_prep_syscall(ctx->work_regs, ctx->safe_g1, SYS_munmap, uargs, 2);
		if (compel_arch_chain_regs(ctx->work_regs, ctx->safe_sp_base, ctx->safe_g2,
					   ctx->safe_arg) &&
		    !compel_arch_set_gregs(ctx->victim->tid, ctx->work_regs)) {
			*result = r;
			return 0;
		}
	}
	if (!ret || (ret != -ESRCH && ctx->victim->stopped))
		ret = compel_rest_victim(ctx) ?: ret;
	if (ret)
		return ret;
	if (r <= -KERN_ERESTARTSYS && r >= -KERN_ERESTART_RESTARTBLOCK)
		r = -EINTR;
	*result = r;
	return 0;
}

/*
 * block: the victim's signals blocked from outside before its registers
 * are set (a visit blocks them itself: see compel_start_visit()).
 */
static int start_code(struct infect_ctx *ctx, unsigned long ip, unsigned long sp,
		      const unsigned long *args, int nargs, int request, bool block)
{
	int ret = check_runnable(ctx);

	if (ret)
		return ret;
	if (nargs < 0 || nargs > 6)
		return -EINVAL;
	ret = ctx->code_never_traps ? 0 : compel_sigtrap_prepare(ctx);
	if (ret)
		return ret;
	compel_arch_regs_copy(ctx->work_regs, ctx->orig_regs);
	compel_arch_prep_call(ctx->work_regs, ip, sp, args, nargs);
	ret = block ? compel_block_signals(ctx) : 0;
	if (!ret)
		ret = compel_arch_set_gregs(ctx->victim->tid, ctx->work_regs);
	if (!ret)
		ret = compel_resume(ctx->victim, request, 0);
	if (ret) {
		pr_err("can't start code in pid %d: %s\n", ctx->pid, strerror(-ret));
		if (ctx->victim->stopped)
			compel_rest_victim(ctx);
		return ret;
	}
	ctx->code_running = true;
	return 0;
}

int compel_start_code(struct infect_ctx *ctx, unsigned long ip, unsigned long sp,
		      const unsigned long *args, int nargs)
{
	return start_code(ctx, ip, sp, args, nargs, PTRACE_CONT, true);
}

int compel_start_code_traced(struct infect_ctx *ctx, unsigned long ip, unsigned long sp,
			     const unsigned long *args, int nargs)
{
	return start_code(ctx, ip, sp, args, nargs, PTRACE_SYSCALL, true);
}

int compel_start_visit(struct infect_ctx *ctx, unsigned long ip, unsigned long sp,
		       const unsigned long *args, int nargs)
{
	return start_code(ctx, ip, sp, args, nargs, PTRACE_SYSCALL, false);
}

/* More syscall stops than any code of ours makes on its way. */
#define CODE_SYSCALL_STOPS_MAX 512

/*
 * Syscall stops come in pairs, entry then exit, from the first stop after
 * a resume from a non-syscall stop or a syscall's exit (where compel
 * always leaves the victim).  Whatever else stops the code meanwhile is
 * handled as compel_wait_code() does.
 */
static int code_to_syscall(struct infect_ctx *ctx, long nr, bool at_entry, long *result);

int compel_code_to_syscall(struct infect_ctx *ctx, long nr, long *result)
{
	return code_to_syscall(ctx, nr, false, result);
}

/*
 * From a syscall stop of the victim to an interrupt stop, before any code
 * of the thread's runs: there every register reads as it is (arm64 hides
 * x7 at syscall stops) and the kernel's restart of an interrupted syscall
 * follows a resume, as at seize.  A criu killed meanwhile leaves the
 * thread to go on from where it is.
 */
static int to_interrupt_stop(struct infect_ctx *ctx, int request)
{
	int status, ret;

	ret = ptrace(PTRACE_INTERRUPT, ctx->victim->tid, NULL, NULL) ? -errno : 0;
	if (!ret)
		ret = compel_resume(ctx->victim, request, 0);
	while (!ret) {
		ret = wait_victim(ctx, &status);
		if (ret || compel_stop_kind(status) == STOP_EVENT)
			break;
		ret = pass_stop(ctx, status, PTRACE_CONT);
	}
	return ret;
}

int compel_code_rest(struct infect_ctx *ctx)
{
	int ret;

	if (!ctx->victim->stopped || compel_stop_kind(ctx->victim->status) != STOP_SYSCALL)
		return 0;
	ret = to_interrupt_stop(ctx, PTRACE_CONT);
	if (ret)
		pr_err("can't bring thread %d of pid %d to rest: %s\n", ctx->victim->tid, ctx->pid,
		       strerror(-ret));
	return ret;
}

/*
 * The code's last syscall is an rt_sigreturn that would give the thread
 * rest (registers) and mask; rt_sigreturn also resets the thread's
 * restart block, so an interrupted nanosleep, clock_nanosleep, timed poll
 * or futex wait (-ERESTART_RESTARTBLOCK) would end with -EINTR.  Instead,
 * at its entry: mask first, then the registers of the interrupted syscall
 * about to be made afresh with the rt_sigreturn skipped (what a criu
 * killed from there on leaves: the call made again in full, never a
 * thread running with our registers or mask); then, from an interrupt
 * stop, rest itself, from which the kernel restarts the call with its
 * restart block intact.
 */
int compel_code_leave_by_ptrace(struct infect_ctx *ctx, long sigreturn_nr,
				const struct compel_regs *rest, uint64_t mask)
{
	pid_t tid = ctx->victim->tid;
	struct compel_regs *again = compel_arch_regs_new();
	int status, ret;
	long dummy;

	if (!again)
		return -ENOMEM;
	ret = code_to_syscall(ctx, sigreturn_nr, true, &dummy);
	if (!ret && ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask))
		ret = -errno;
	if (!ret) {
		compel_arch_regs_copy(again, rest);
		compel_arch_rewind_syscall(again, rest);
		ret = compel_arch_set_regs(tid, again);
	}
	compel_arch_regs_free(again);
	if (!ret)
		ret = compel_resume(ctx->victim, PTRACE_SYSCALL, 0);
	while (!ret) { /* to the skipped call's exit */
		ret = wait_victim(ctx, &status);
		if (ret || compel_stop_kind(status) == STOP_SYSCALL)
			break;
		ret = pass_stop(ctx, status, PTRACE_SYSCALL);
	}
	if (!ret)
		ret = to_interrupt_stop(ctx, PTRACE_CONT);
	if (!ret)
		ret = compel_arch_set_regs(tid, rest);
	if (!ret && ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask))
		ret = -errno;
	if (ret) {
		pr_err("can't give thread %d of pid %d its registers back: %s\n", tid, ctx->pid,
		       strerror(-ret));
		return ret;
	}
	ctx->code_running = false;
	return 0;
}

static int code_to_syscall(struct infect_ctx *ctx, long nr, bool at_entry, long *result)
{
	bool in_syscall = false, target = false;
	int status, ret, stops = 0;

	if (!ctx->code_running)
		return -EINVAL;
	for (;;) {
		ret = wait_victim(ctx, &status);
		if (ret)
			break;
		if (compel_stop_kind(status) != STOP_SYSCALL) {
			ret = pass_stop(ctx, status, PTRACE_SYSCALL);
			if (ret == -EFAULT) {
				ctx->code_running = false; /* stopped at its fault */
				compel_rest_victim(ctx);
			}
			if (ret)
				break;
			continue;
		}
		if (++stops > CODE_SYSCALL_STOPS_MAX) {
			pr_err("code in pid %d made %d syscalls without reaching syscall %ld\n",
			       ctx->pid, stops / 2, nr);
			ret = -ELOOP;
			break;
		}
		ret = compel_arch_get_gregs(ctx->victim->tid, ctx->work_regs);
		if (ret)
			break;
		if (in_syscall && target) {
			*result = compel_arch_syscall_ret(ctx->work_regs);
			return 0; /* stopped at its exit, the code still ours */
		}
		if (!in_syscall)
			target = compel_arch_entry_syscall_nr(ctx->work_regs) == nr;
		if (!in_syscall && target && at_entry) {
			*result = 0;
			return 0; /* stopped at its entry */
		}
		in_syscall = !in_syscall;
		ret = compel_resume(ctx->victim, PTRACE_SYSCALL, 0);
		if (ret)
			break;
	}
	if (ret == -ETIMEDOUT)
		pr_err("code in pid %d did not reach syscall %ld within %d ms\n", ctx->pid, nr,
		       ctx->timeout_ms);
	if (ret < 0 && ret != -ESRCH && ctx->code_running)
		compel_stop_code(ctx);
	return ret;
}

int compel_continue_code(struct infect_ctx *ctx)
{
	int ret;

	if (!ctx->code_running || !ctx->victim->stopped)
		return -EINVAL;
	ret = compel_resume(ctx->victim, PTRACE_CONT, 0);
	if (ret) {
		pr_err("can't resume the code in pid %d: %s\n", ctx->pid, strerror(-ret));
		ctx->code_running = false;
		compel_rest_victim(ctx);
	}
	return ret;
}

void compel_code_left(struct infect_ctx *ctx)
{
	ctx->code_running = false;
}

/*
 * One stop of the victim while code runs.  Returns 1 when the code reached
 * its trap (its result in *result), 0 when it runs on, or -errno.
 */
static int code_stop(struct infect_ctx *ctx, int status, long *result)
{
	siginfo_t si;
	int ret;

	if (compel_stop_kind(status) == STOP_SIGNAL && WSTOPSIG(status) == SIGTRAP &&
	    kernel_generated(ctx, &si)) {
		ret = compel_arch_get_gregs(ctx->victim->tid, ctx->work_regs);
		ctx->code_running = false;
		/* the forced trap unblocked SIGTRAP in the mask: the task's own
		 * mask goes back at rest; its action comes back at cure */
		if (!ret)
			*result = compel_arch_call_ret(ctx->work_regs);
		return compel_rest_victim(ctx) ?: (ret ? ret : 1);
	}
	ret = pass_stop(ctx, status, PTRACE_CONT);
	if (ret == -EFAULT) {
		ctx->code_running = false; /* stopped at its fault: back to rest */
		compel_rest_victim(ctx);
	}
	return ret;
}

int compel_wait_code(struct infect_ctx *ctx, long *result)
{
	int status, ret = 0;
	long r = 0;

	if (!ctx->code_running)
		return -EINVAL;
	while (!ret) {
		ret = wait_victim(ctx, &status);
		if (!ret)
			ret = code_stop(ctx, status, &r);
	}
	if (ret == -ETIMEDOUT)
		pr_err("code in pid %d did not finish within %d ms\n", ctx->pid, ctx->timeout_ms);
	if (ret < 0) {
		if (ret != -ESRCH)
			compel_stop_code(ctx);
		return ret;
	}
	*result = r;
	return 0;
}

int compel_run_code(struct infect_ctx *ctx, unsigned long ip, unsigned long sp,
		    const unsigned long *args, int nargs, long *result)
{
	int ret = compel_start_code(ctx, ip, sp, args, nargs);

	return ret ? ret : compel_wait_code(ctx, result);
}

int compel_stop_code(struct infect_ctx *ctx)
{
	int status, ret;
	long r;

	if (ctx->dead)
		ctx->code_running = false;
	if (!ctx->code_running)
		return 0;
	if (ctx->victim->stopped) {
		/* at a stop of compel_code_to_syscall(): stopped already */
		ctx->code_running = false;
		return compel_rest_victim(ctx);
	}
	if (ptrace(PTRACE_INTERRUPT, ctx->victim->tid, NULL, NULL))
		return -errno;
	for (;;) {
		ret = wait_victim(ctx, &status);
		if (ret)
			return ret;
		if (compel_stop_kind(status) == STOP_EVENT)
			break;
		ret = code_stop(ctx, status, &r);
		if (ret == 1 || ret == -EFAULT)
			break; /* stopped at its trap or its fault: good enough */
		if (ret)
			return ret;
	}
	ctx->code_running = false;
	return compel_rest_victim(ctx);
}

/*
 * The answer did not come within a slice: find out whether the code is
 * still alive.  0: it runs (or was resumed past a foreign stop).
 */
static int check_code_alive(struct infect_ctx *ctx)
{
	int status, ret;
	long r;
	pid_t w = waitpid(ctx->victim->tid, &status, __WALL | WNOHANG);

	if (w == 0)
		return 0;
	if (w < 0 || compel_stop_kind(status) == STOP_EXITED) {
		pr_err("pid %d exited while infected\n", ctx->pid);
		ctx->dead = true;
		ctx->victim->seized = false;
		return -ESRCH;
	}
	ctx->victim->stopped = true;
	ctx->victim->status = status;
	ret = code_stop(ctx, status, &r);
	if (ret == 1) {
		pr_err("code in pid %d ended (returned %ld) without answering\n", ctx->pid, r);
		return -EFAULT;
	}
	return ret;
}

void compel_futex_wake(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

int compel_futex_wait(struct infect_ctx *ctx, uint32_t *word, uint32_t old, int timeout_ms)
{
	struct timespec start, now, slice = { 0, 50 * 1000000L };
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != old)
			return 0;
		if (syscall(SYS_futex, word, FUTEX_WAIT, old, &slice, NULL, 0) == 0 ||
		    errno == EAGAIN)
			continue; /* woken, or changed before we slept: re-read */
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != old)
			return 0;
		if (!ctx->code_running)
			return -EINVAL;
		if (compel_aborted())
			return -EINTR;
		ret = check_code_alive(ctx);
		if (ret)
			return ret;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    timeout_ms) {
			pr_err("no answer from the code in pid %d within %d ms\n", ctx->pid,
			       timeout_ms);
			return -ETIMEDOUT;
		}
	}
}
