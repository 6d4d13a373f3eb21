/*
 * SIGTRAP and our trap.  Code we run in the victim ends at the arch's trap
 * instruction, which the kernel delivers as a forced SIGTRAP.  Two things
 * of the task's own would be lost to it:
 *
 *  - its SIGTRAP action: a forced signal that finds the signal blocked (we
 *    block every signal while our code runs) or ignored resets the action
 *    to SIG_DFL and unblocks the signal.  So the action is read before our
 *    first run (an injected rt_sigaction, which needs no trap) and written
 *    back at cure; the signal is blocked again after each trap.
 *  - a SIGTRAP pending on the victim thread: a standard signal is queued
 *    once, so our trap would merge into it, and the stop it reports would
 *    carry the task's siginfo, not the kernel's: our code would run on past
 *    its end.  So it is taken out of the queue first (an injected
 *    rt_sigtimedwait, which takes the thread's own queue before the
 *    process's) and queued again, with its siginfo, by the same thread
 *    (rt_tgsigqueueinfo: only the thread itself may queue a siginfo that
 *    claims to come from the kernel or tgkill) before it stops being the
 *    victim.  A SIGTRAP pending on the whole process stays where it is:
 *    our traps go to the thread, and the signal stays blocked meanwhile.
 *
 * The syscalls' arguments live in one scratch page, unmapped at cure.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compel-priv.h"
#include "log.h"

#define PEEKSIGINFO 0x4209
#define SIGINFO_BYTES 128
#define KSIGSET_BYTES 8

/* the scratch page: sigset, zero timespec, a siginfo, the saved action */
#define AT_SET 0
#define AT_TIMEOUT 16
#define AT_INFO 64
#define AT_ACTION (AT_INFO + SIGINFO_BYTES)

static int scratch(struct infect_ctx *ctx, unsigned long *at)
{
	static const uint8_t zero[16];
	uint64_t set = 1ULL << (SIGTRAP - 1);
	int ret;

	if (ctx->trap_scratch) {
		*at = ctx->trap_scratch;
		return 0;
	}
	ret = compel_remote_mmap(ctx, 0, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, at);
	if (!ret)
		ret = compel_write_mem(ctx, *at + AT_SET, &set, sizeof(set));
	if (!ret)
		ret = compel_write_mem(ctx, *at + AT_TIMEOUT, zero, sizeof(zero));
	if (ret) {
		pr_err("pid %d: no scratch page for SIGTRAP: %s\n", ctx->pid, strerror(-ret));
		return ret;
	}
	ctx->trap_scratch = *at;
	return 0;
}

/* A syscall that must succeed; 0 or -errno. */
static int call(struct infect_ctx *ctx, long nr, unsigned long a0, unsigned long a1,
		unsigned long a2, unsigned long a3, long *res)
{
	int ret = compel_syscall(ctx, nr, (unsigned long[]){ a0, a1, a2, a3 }, 4, res);

	return ret ? ret : *res < 0 ? (int)*res : 0;
}

/* Does the victim thread's own queue hold a SIGTRAP?  Its siginfo in info. */
static int private_trap(struct infect_ctx *ctx, uint8_t info[SIGINFO_BYTES])
{
	struct {
		uint64_t off;
		uint32_t flags;
		int32_t nr;
	} arg = { 0, 0, 1 };

	for (;; arg.off++) {
		long n = ptrace(PEEKSIGINFO, ctx->victim->tid, &arg, info);
		int signo;

		if (n < 0) {
			pr_perror("can't read the pending signals of thread %d", ctx->victim->tid);
			return -errno;
		}
		if (n == 0)
			return 0;
		memcpy(&signo, info, sizeof(signo));
		if (signo == SIGTRAP)
			return 1;
	}
}

int compel_sigtrap_prepare(struct infect_ctx *ctx)
{
	unsigned long at;
	long res;
	int ret;

	int pending;

	if (ctx->trap_victim_ready == ctx->victim->tid)
		return 0;
	pending = private_trap(ctx, ctx->trap_info);
	if (pending < 0)
		return pending;
	if (pending || !ctx->trap_action_saved) {
		ret = scratch(ctx, &at);
		if (ret)
			return ret;
	}
	if (!ctx->trap_action_saved) {
		ret = call(ctx, SYS_rt_sigaction, SIGTRAP, 0, at + AT_ACTION, KSIGSET_BYTES, &res);
		if (!ret)
			ret = compel_read_mem(ctx, at + AT_ACTION, ctx->trap_action,
					      sizeof(ctx->trap_action));
		if (ret) {
			pr_err("pid %d: can't read its SIGTRAP action: %s\n", ctx->pid, strerror(-ret));
			return ret;
		}
		ctx->trap_action_saved = true;
	}
	if (pending) {
		ret = call(ctx, SYS_rt_sigtimedwait, at + AT_SET, at + AT_INFO, at + AT_TIMEOUT,
			   KSIGSET_BYTES, &res);
		if (!ret && res != SIGTRAP)
			ret = -EAGAIN;
		if (ret) {
			pr_err("thread %d of pid %d: can't set its pending SIGTRAP aside: %s\n",
			       ctx->victim->tid, ctx->pid, strerror(-ret));
			return ret;
		}
		ctx->trap_taken = true;
	}
	ctx->trap_victim_ready = ctx->victim->tid;
	return 0;
}

int compel_sigtrap_finish_victim(struct infect_ctx *ctx)
{
	long res;
	int ret;

	ctx->trap_victim_ready = 0;
	if (!ctx->trap_taken || ctx->dead)
		return 0;
	ctx->trap_taken = false;
	ret = compel_write_mem(ctx, ctx->trap_scratch + AT_INFO, ctx->trap_info, SIGINFO_BYTES);
	if (!ret)
		ret = compel_block_signals(ctx);
	if (!ret)
		ret = call(ctx, SYS_rt_tgsigqueueinfo, (unsigned long)ctx->pid,
			   (unsigned long)ctx->victim->tid, SIGTRAP, ctx->trap_scratch + AT_INFO,
			   &res);
	if (ret)
		pr_err("thread %d of pid %d: its pending SIGTRAP is lost: %s\n", ctx->victim->tid,
		       ctx->pid, strerror(-ret));
	return ret;
}

int compel_sigtrap_finish(struct infect_ctx *ctx)
{
	int ret = compel_sigtrap_finish_victim(ctx), r;
	long res;

	if (!ctx->trap_action_saved || ctx->dead)
		return ret;
	ctx->trap_action_saved = false;
	r = compel_write_mem(ctx, ctx->trap_scratch + AT_ACTION, ctx->trap_action,
			     sizeof(ctx->trap_action));
	if (!r)
		r = call(ctx, SYS_rt_sigaction, SIGTRAP, ctx->trap_scratch + AT_ACTION, 0,
			 KSIGSET_BYTES, &res);
	if (r)
		pr_err("pid %d: can't give its SIGTRAP action back: %s\n", ctx->pid, strerror(-r));
	return ret ? ret : r;
}

bool compel_sigtrap_action(const struct infect_ctx *ctx, void *out, size_t len)
{
	if (!ctx->trap_action_saved || len != sizeof(ctx->trap_action))
		return false;
	memcpy(out, ctx->trap_action, len);
	return true;
}
