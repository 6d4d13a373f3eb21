/*
 * The parasite in an infected task: see parasite-ctl.h.
 *
 * One shared area holds everything, at offsets fixed at load time:
 *
 *   [0, blob_mem_size)     the blob, its bss and its stack (see blob.h)
 *   [area_off, size)       struct parasite_area: the futex word, the
 *                          command, its result and its arguments
 *
 *   [frame_off, size)      the self-cure's signal frame (built for the
 *                          victim each time the daemon starts in another
 *                          thread), the frame of the -EINTR outcome of the
 *                          victim's interrupted syscall, and the same two
 *                          for a visit
 *
 * Every command goes through the daemon, which waits in read() on the
 * control pipe.  The victim is parked at the daemon's start (compel_park())
 * from the first start to the unload: whenever criu stops being there, the
 * daemon runs, reads end of file and cures itself (see
 * core/pie/parasite.h).  The daemon makes every descriptor of ours in the
 * task itself, so that its cure closes them whatever the moment: the
 * control pipe at its first start in a thread (start_with_pipe()), the
 * page pipe by a command.  Unload and the move to another thread let it
 * cure itself with syscall stops (daemon_retire()), so that no moment
 * exists where descriptors are open and no thread is parked.  The commands after which criu reads the victim through
 * ptrace (ECHO, GET_MISC, GET_THREAD_MISC, GET_POSIX_TIMERS) stop it after
 * their answer.  No trap instruction is ever reached.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "compel-arch.h"
#include "compel-priv.h"
#include "log.h"
#include "parasite-blob.h"
#include "parasite-ctl.h"
#include "syscall-nr.h"

/* Enough for PARASITE_IOV_MAX ranges, and so for every other command. */
#define AREA_ARGS_MIN                                  \
	(sizeof(struct parasite_dump_pages_args) + \
	 PARASITE_IOV_MAX * sizeof(struct parasite_iovec))

_Static_assert(AREA_ARGS_MIN >= sizeof(struct parasite_sigactions_args) &&
		       AREA_ARGS_MIN >= sizeof(struct parasite_itimers_args) &&
		       AREA_ARGS_MIN >= sizeof(struct parasite_task_state) &&
		       AREA_ARGS_MIN >= sizeof(struct parasite_misc) &&
		       AREA_ARGS_MIN >= sizeof(struct parasite_posix_timers_args) +
						sizeof(struct parasite_posix_timer) &&
		       AREA_ARGS_MIN >= sizeof(struct parasite_echo_args),
	       "the argument area must hold every command's arguments");

static const char *const cmd_names[PARASITE_NR_CMDS] = {
	[PARASITE_CMD_FINI] = "FINI",
	[PARASITE_CMD_ECHO] = "ECHO",
	[PARASITE_CMD_GET_SIGACTIONS] = "GET_SIGACTIONS",
	[PARASITE_CMD_GET_ITIMERS] = "GET_ITIMERS",
	[PARASITE_CMD_DUMP_PAGES] = "DUMP_PAGES",
	[PARASITE_CMD_GET_TASK_STATE] = "GET_TASK_STATE",
	[PARASITE_CMD_GET_MISC] = "GET_MISC",
	[PARASITE_CMD_GET_THREAD_MISC] = "GET_THREAD_MISC",
	[PARASITE_CMD_GET_POSIX_TIMERS] = "GET_POSIX_TIMERS",
	[PARASITE_CMD_MEMTRACK_ARM] = "MEMTRACK_ARM",
	[PARASITE_CMD_CLOSE_FD] = "CLOSE_FD",
	[PARASITE_CMD_PAGE_PIPE] = "PAGE_PIPE",
	[PARASITE_CMD_CLOSE] = "CLOSE",
};

static pid_t ctl_pid(const struct parasite_ctl *ctl)
{
	return ctl->ictx->pid;
}

/* ---- the command channel ------------------------------------------------ */

/*
 * One byte into the control pipe.  A task gone meanwhile has no reader
 * left: the SIGPIPE that write raises then is taken here, not by criu.
 */
static int post_byte(int fd)
{
	sigset_t pipe_set, old;
	ssize_t n;
	int err;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	do
		n = write(fd, "c", 1);
	while (n < 0 && errno == EINTR);
	err = errno;
	if (n < 0 && err == EPIPE && !sigismember(&old, SIGPIPE))
		sigtimedwait(&pipe_set, NULL, &(struct timespec){ 0, 0 });
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return n == 1 ? 0 : -1;
}

/*
 * Posts cmd and waits for the answer.  compel_futex_wait() watches the task
 * meanwhile and logs its death, a crash or the timeout.
 */
static int post_and_wait(struct parasite_ctl *ctl, uint32_t cmd, long *result)
{
	struct parasite_area *area = ctl->area;
	int ret;

	area->cmd = cmd;
	area->ret = -EIO;
	__atomic_store_n(&area->state, PARASITE_ST_CMD, __ATOMIC_RELEASE);
	if (post_byte(ctl->ctl_wfd)) {
		int err = errno;

		/* no reader: the task died, or the parasite is gone */
		ret = compel_futex_wait(ctl->ictx, &area->state, PARASITE_ST_CMD, 0);
		if (ret != -ESRCH)
			pr_err("can't post a command to the parasite of pid %d: %s\n", ctl_pid(ctl),
			       strerror(err));
		ctl->broken = true;
		ctl->running = false;
		return ret == -ESRCH ? ret : -EIO;
	}
	ret = compel_futex_wait(ctl->ictx, &area->state, PARASITE_ST_CMD, ctl->ictx->timeout_ms);
	if (ret) {
		ctl->broken = true;
		ctl->running = false;
		return ret;
	}
	*result = area->ret;
	return 0;
}

/*
 * The frame the daemon cures itself through, for the victim of now (its
 * registers and mask as compel saved them).  With an exit chain in the
 * task (compel/exit-chain.c) and room on the victim's stack, the frame is
 * built for that stack and the cure copies it there: a cure without criu
 * can then unmap the area.  Otherwise it is built where it is kept, in
 * the area.  Without a frame builder for this arch the daemon can only
 * wait forever when criu dies (a debug line).
 */
/*
 * The second frame of a thread stopped in a syscall the next signal
 * decides (compel_arch_restart_choice()): its -EINTR outcome, built in
 * buf for the same place as the first (whose stack pointer is sp).  The
 * code, or 0 when there is no choice to make.
 */
static uint32_t build_eintr_frame(struct infect_ctx *ictx, void *buf, unsigned long remote,
				  size_t room, unsigned long sp)
{
	struct compel_regs *saved = compel_arch_regs_new();
	unsigned long sp2 = 0, altstack2 = 0;
	int code;

	if (!saved)
		return 0;
	compel_arch_regs_copy(saved, ictx->orig_regs);
	code = compel_arch_restart_choice(ictx->orig_regs);
	if (code && (compel_arch_build_sigframe(ictx->orig_regs, ictx->orig_sigmask, buf, remote,
						 room, &sp2, &altstack2) ||
		     sp2 != sp))
		code = 0; /* the frame that makes the call again, whatever comes */
	compel_arch_regs_copy(ictx->orig_regs, saved); /* the general registers as seized */
	compel_arch_regs_free(saved);
	return (uint32_t)code;
}

static int build_frame(struct parasite_ctl *ctl)
{
	struct infect_ctx *ictx = ctl->ictx;
	struct parasite_area *area = ctl->area;
	unsigned long sp = 0, altstack = 0, dst = 0;
	unsigned long here = ctl->remote + ctl->frame_off;
	size_t room = ctl->frame_room;
	int ret;

	if (ctl->frame_tid == ictx->victim->tid)
		return 0;
	if (!ctl->chain_looked) {
		ret = compel_find_exit_chain(ictx, ctl->remote, ctl->size, &ctl->chain);
		ctl->chain_looked = true;
		if (ret)
			pr_debug("pid %d: no exit chain (%s): a criu killed now leaves the parasite's area\n",
				 ctl_pid(ctl), strerror(-ret));
		else
			pr_debug("pid %d: exit chain at %#lx (%u), %#lx\n", ctl_pid(ctl), ctl->chain.g1,
				 ctl->chain.g1_arg, ctl->chain.g2);
	}
	if (ctl->chain.g1)
		dst = compel_exit_frame_dst(ictx, compel_arch_get_sp(ictx->orig_regs), room);
	ret = compel_arch_build_sigframe(ictx->orig_regs, ictx->orig_sigmask,
					 (char *)ctl->local + ctl->frame_off, dst ? dst : here, room,
					 &sp, &altstack);
	if (ret == -EOPNOTSUPP) {
		pr_debug("pid %d: no self-cure frame on %s\n", ctl_pid(ctl), compel_arch.name);
		sp = altstack = dst = 0;
	} else if (ret) {
		pr_err("can't build the cure frame for thread %d of pid %d: %s\n",
		       ictx->victim->tid, ctl_pid(ctl), strerror(-ret));
		return ret;
	}
	area->restart_code = sp ? build_eintr_frame(ictx, (char *)ctl->local + ctl->frame_eintr_off,
						    dst ? dst : here, room, sp)
				: 0;
	if (area->restart_code)
		pr_debug("pid %d: thread %d in a syscall the next signal ends (-ERESTART %u): two cure frames\n",
			 ctl_pid(ctl), ictx->victim->tid, area->restart_code);
	if (dst)
		altstack = altstack - dst + here; /* stored into the area's copy */
	area->frame_sp = sp;
	area->frame_altstack = altstack;
	area->frame_src = here;
	area->frame_dst = dst;
	area->frame_len = room;
	area->frame_eintr_src = area->restart_code ? ctl->remote + ctl->frame_eintr_off : 0;
	area->frame_mask = ictx->orig_sigmask;
	area->held = 0;
	area->exit_g1 = dst ? ctl->chain.g1 : 0;
	area->exit_g2 = dst ? ctl->chain.g2 : 0;
	area->exit_arg = ctl->chain.g1_arg;
	area->self_start = ctl->remote;
	area->self_len = ctl->size;
	ctl->frame_tid = ictx->victim->tid;
	return 0;
}

static int fetch_task_fd(struct parasite_ctl *ctl, int fd, int flags);

/*
 * The daemon's first start in a thread: it makes the control pipe itself
 * (see core/pie/parasite.h), and criu takes the write end at the exit of
 * that pipe2, while the task still holds its own copy.  A criu killed at
 * any moment of this leaves a daemon that goes on by itself: it closes the
 * task's write end, reads end of file and cures itself.
 */
static int start_with_pipe(struct parasite_ctl *ctl, unsigned long arg)
{
	struct infect_ctx *ictx = ctl->ictx;
	long result = 0;
	int ret;

	ret = compel_start_code_traced(ictx, ctl->entry, ctl->stack_top, &arg, 1);
	if (!ret)
		ret = compel_code_to_syscall(ictx, SYS_pipe2, &result);
	if (ret)
		return ret;
	if (result < 0) {
		pr_err("the parasite in pid %d can't make its control pipe: %s\n", ctl_pid(ctl),
		       strerror((int)-result));
		ret = (int)result;
	}
	if (!ret)
		ret = compel_fault("parasite: control pipe made");
	if (!ret) {
		ctl->ctl_wfd = fetch_task_fd(ctl, ctl->area->ctl_fds[1], O_WRONLY);
		ret = ctl->ctl_wfd < 0 ? ctl->ctl_wfd : 0;
	}
	if (!ret)
		ret = compel_fault("parasite: control pipe taken");
	if (!ret)
		return compel_continue_code(ictx);
	/* the daemon cures itself once let go: stop it before that */
	compel_stop_code(ictx);
	return ret;
}

/* The victim parked at the daemon's head with its frame, not started. */
static int daemon_park(struct parasite_ctl *ctl)
{
	unsigned long arg = ctl->area_remote;
	int ret;

	ctl->area->flags &= ~(PARASITE_F_CURE | PARASITE_F_EXIT);
	ret = build_frame(ctl);
	if (!ret && !ctl->ictx->park_regs)
		ret = compel_park(ctl->ictx, ctl->entry, ctl->stack_top, &arg, 1);
	return ret;
}

static int daemon_start(struct parasite_ctl *ctl)
{
	unsigned long arg = ctl->area_remote;
	int ret;

	ctl->area->state = PARASITE_ST_IDLE;
	ctl->area->flags &= ~(PARASITE_F_CURE | PARASITE_F_EXIT);
	ret = build_frame(ctl);
	if (!ret && !ctl->ictx->park_regs)
		ret = compel_park(ctl->ictx, ctl->entry, ctl->stack_top, &arg, 1);
	if (!ret && ctl->ctl_wfd < 0)
		ret = start_with_pipe(ctl, arg);
	else if (!ret)
		ret = compel_start_code(ctl->ictx, ctl->entry, ctl->stack_top, &arg, 1);
	if (!ret)
		ret = compel_futex_wait(ctl->ictx, &ctl->area->state, PARASITE_ST_IDLE,
					ctl->ictx->timeout_ms);
	if (ret) {
		ctl->broken = true;
		return ret;
	}
	ctl->running = true;
	return 0;
}

/* The victim back in a ptrace stop, parked at the daemon's start. */
static int daemon_stop(struct parasite_ctl *ctl)
{
	int ret;

	if (ctl->ictx->dead)
		return -ESRCH;
	ctl->running = false;
	if (!ctl->ictx->code_running)
		return 0;
	ret = compel_stop_code(ctl->ictx);
	if (ret)
		ctl->broken = true;
	return ret;
}

/*
 * The daemon leaves the victim as its self-cure does, under our eyes: it
 * starts with PARASITE_F_CURE (straight to its cure) and syscall stops,
 * and is followed to the exit of its rt_sigreturn.  It closes every descriptor of ours in the task on
 * the way, and the thread stops there with its own registers and mask, in
 * a ptrace stop (at rest: compel_unpark() then sets the same state).  A
 * criu killed meanwhile leaves the same cure to finish by itself.
 * -EOPNOTSUPP without a cure frame (the daemon could not give the thread
 * back): the caller does it the old way.
 */
static int daemon_retire(struct parasite_ctl *ctl, bool leave)
{
	struct infect_ctx *ictx = ctl->ictx;
	unsigned long arg = ctl->area_remote;
	/* a restart block to keep: no sigreturn under criu's eyes (compel/run.c) */
	bool by_ptrace = compel_arch_rest_by_ptrace(ictx->orig_regs);
	long result = 0;
	int ret;

	if (!ctl->area->frame_sp || ctl->frame_tid != ictx->victim->tid || ctl->ctl_wfd < 0)
		return -EOPNOTSUPP;
	ret = daemon_stop(ctl);
	if (ret)
		return ret;
	leave = leave && ctl->area->exit_g1;
	ctl->area->flags |= PARASITE_F_CURE | (leave ? PARASITE_F_EXIT : 0);
	ctl->area->held = ictx->held_signals; /* sent again at the release */
	ret = compel_start_code_traced(ictx, ctl->entry, ctl->stack_top, &arg, 1);
	if (!ret && by_ptrace)
		ret = compel_code_leave_by_ptrace(ictx, SYS_rt_sigreturn, ictx->orig_regs,
						  ictx->orig_sigmask);
	else if (!ret)
		ret = compel_code_to_syscall(ictx, SYS_rt_sigreturn, &result);
	if (ret) {
		ctl->broken = true;
		return ret;
	}
	compel_code_left(ictx);
	close(ctl->ctl_wfd);
	ctl->ctl_wfd = -1;
	ctl->frame_tid = 0; /* its resting state changes below: a new frame next time */
	ctl->area_gone = leave; /* it unmapped the area on its way: criu's view is left */
	if (by_ptrace)
		return 0; /* at rest with the registers it was seized with */
	/*
	 * The thread is itself again, as its frame says: an interrupted
	 * syscall already rewound for its restart (or -EINTR).  That is its
	 * resting state from now on.  Writing the saved registers back
	 * instead would ask the kernel for the restart a second time, after a
	 * sigreturn, which ppc64 then does not do (most likely the trap's
	 * no-restart flag, which ptrace's write of trap keeps): the
	 * -ERESTART* code reached the program.
	 */
	ret = compel_arch_get_regs(ictx->victim->tid, ictx->orig_regs);
	if (ret) {
		pr_err("can't read the registers of thread %d of pid %d after its cure: %s\n",
		       ictx->victim->tid, ctl_pid(ctl), strerror(-ret));
		ctl->broken = true;
		return ret;
	}
	return 0;
}

static int check_usable(struct parasite_ctl *ctl, const char *what)
{
	if (ctl->ictx->dead) {
		pr_err("%s in pid %d: the task is gone\n", what, ctl_pid(ctl));
		return -ESRCH;
	}
	if (ctl->broken) {
		pr_err("%s in pid %d: the parasite failed before\n", what, ctl_pid(ctl));
		return -EIO;
	}
	return 0;
}

/* Runs one command; *result is the parasite's answer (>= 0 or -errno). */
static int run_cmd(struct parasite_ctl *ctl, uint32_t cmd, long *result)
{
	int ret = check_usable(ctl, cmd_names[cmd]);

	if (!ret && compel_aborted()) {
		pr_err("%s in pid %d: criu is asked to quit\n", cmd_names[cmd], ctl_pid(ctl));
		return -EINTR;
	}
	if (!ret && !ctl->running)
		ret = daemon_start(ctl);
	if (!ret)
		ret = post_and_wait(ctl, cmd, result);
	return ret;
}

/*
 * Runs one command and stops the daemon after it: the task is left in a
 * ptrace stop, where criu can go on with PEEKSIGINFO and the like.
 */
static int run_oneshot(struct parasite_ctl *ctl, uint32_t cmd, long *result)
{
	int ret = run_cmd(ctl, cmd, result);

	if (!ret)
		ret = daemon_stop(ctl);
	return ret;
}

/* ---- load and unload ---------------------------------------------------- */

static size_t round_up(size_t v, size_t to)
{
	return (v + to - 1) / to * to;
}

static int install_blob(struct parasite_ctl *ctl)
{
	size_t blob_size = blob_mem_size(&parasite_blob);
	size_t area_off = round_up(blob_size, 64);
	struct parasite_area *area;
	int ret;

	ret = blob_install(ctl->local, area_off, ctl->remote, &parasite_blob);
	if (ret) {
		pr_err("can't install the parasite blob at %#lx in pid %d\n", ctl->remote,
		       ctl_pid(ctl));
		return ret;
	}
	/* the task has never run this memory; arm64 and ppc want it said */
	__builtin___clear_cache((char *)ctl->local, (char *)ctl->local + parasite_blob.size);
	area = (struct parasite_area *)((char *)ctl->local + area_off);
	memset(area, 0, ctl->size - area_off);
	area->magic = PARASITE_MAGIC;
	area->version = PARASITE_VERSION;
	area->flags = 0; /* the daemon */
	area->state = PARASITE_ST_IDLE;
	area->args_size = ctl->frame_off - area_off - sizeof(*area);
	area->visit_at = ctl->remote + ctl->visit_off;
	area->ctl_fds[0] = area->ctl_fds[1] = -1;
	area->page_pipe[0] = area->page_pipe[1] = -1;
	area->pipe_flags = O_CLOEXEC;
	area->track_fd = -1;
	ctl->area = area;
	ctl->area_remote = ctl->remote + area_off;
	ctl->entry = ctl->remote + PARASITE_BLOB_ENTRY_HEAD;
	ctl->entry_visit = ctl->remote + PARASITE_BLOB_ENTRY_VISIT;
	ctl->stack_top = ctl->remote + blob_size;
	return 0;
}

/*
 * The first round trip: the blob runs and the area works both ways.  One
 * shot: the daemon starts at the first command that wants it.
 */
static int check_echo(struct parasite_ctl *ctl)
{
	struct parasite_echo_args *e = (void *)ctl->area->args;
	struct timespec now;
	uint64_t nonce;
	long result = 0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &now);
	nonce = (uint64_t)now.tv_nsec * 2654435761u + (uint64_t)now.tv_sec;
	memset(e, 0, sizeof(*e));
	e->in = nonce;
	ret = run_oneshot(ctl, PARASITE_CMD_ECHO, &result);
	if (ret)
		return ret;
	if (e->out != nonce + 1 || result != e->pid || e->pid <= 0) {
		pr_err("the parasite in pid %d answered ECHO wrongly (ret %ld, %llu for %llu)\n",
		       ctl_pid(ctl), result, (unsigned long long)e->out,
		       (unsigned long long)nonce);
		return -EPROTO;
	}
	ctl->task_pid = e->pid;
	return 0;
}

int parasite_load(struct infect_ctx *ictx, struct parasite_ctl **out)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t need = round_up(blob_mem_size(&parasite_blob), 64) +
		      sizeof(struct parasite_area) + AREA_ARGS_MIN;
	struct parasite_ctl *ctl;
	int ret;

	if (ictx->dead) {
		pr_err("can't load the parasite: pid %d is gone\n", ictx->pid);
		return -ESRCH;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->ictx = ictx;
	ctl->ctl_wfd = -1;
	ictx->code_never_traps = true; /* the daemon ends by PTRACE_INTERRUPT */
	/*
	 * [blob, its stack][area, args][frame][its -EINTR frame][visit]
	 * [visit stack][visit frame][its -EINTR frame]: two frame slots for the
	 * daemon's thread and two for a visiting thread.
	 */
	ctl->frame_off = round_up(need, 64);
	ctl->frame_room = round_up(compel_arch_sigframe_size(ictx->orig_regs), 64);
	ctl->frame_eintr_off = ctl->frame_off + ctl->frame_room;
	ctl->visit_off = ctl->frame_eintr_off + ctl->frame_room;
	ctl->vstack_top = round_up(ctl->visit_off + sizeof(struct parasite_visit), 64) +
			  parasite_blob.stack_size;
	ctl->vframe_off = ctl->vstack_top;
	ctl->vframe_eintr_off = ctl->vframe_off + ctl->frame_room;
	ctl->size = round_up(ctl->vframe_eintr_off + ctl->frame_room, page);
	ctl->pipe_size = PARASITE_PIPE_SIZE;
	/*
	 * The area's mmap kill-safe: a criu killed in it leaves no thread with
	 * our registers, and one killed after it, before the park, leaves the
	 * thread set to unmap the area and return (compel_syscall()'s undo).
	 */
	ret = compel_make_safe(ictx);
	if (ret)
		pr_debug("pid %d: the area's mmap is not kill-safe (%s)\n", ctl_pid(ctl),
			 strerror(-ret));
	ret = compel_map_shared(ictx, ctl->size, &ctl->local, &ctl->remote);
	compel_unmake_safe(ictx);
	if (ret) {
		free(ctl);
		return ret;
	}
	ret = install_blob(ctl);
	/*
	 * Parked at the daemon's head from the start, with its frame: a criu
	 * killed from here on leaves a daemon that starts by itself, finds
	 * no criu at its control pipe and cures itself, area and all.
	 */
	if (!ret)
		ret = daemon_park(ctl);
	if (!ret)
		ret = compel_fault("parasite: area mapped");
	if (!ret)
		ret = check_echo(ctl);
	if (ret) {
		parasite_unload(ctl);
		return ret;
	}
	*out = ctl;
	return 0;
}

/* A descriptor of the task closed by an injected close; *fd = -1 after. */
static int close_task_fd(struct parasite_ctl *ctl, int32_t *fd)
{
	unsigned long args[1] = { (unsigned long)*fd };
	long result = 0;
	int ret;

	if (*fd < 0 || ctl->ictx->dead)
		return 0;
	ret = daemon_stop(ctl);
	if (!ret)
		ret = compel_syscall(ctl->ictx, SYS_close, args, 1, &result);
	if (!ret && result < 0) {
		pr_err("close(%d) in pid %d failed: %s\n", *fd, ctl_pid(ctl),
		       strerror((int)-result));
		ret = (int)result;
	}
	if (!ret)
		*fd = -1;
	return ret;
}

/*
 * Stop, close the task's pipe ends, unpark (the victim's own registers and
 * mask back), unmap; criu's write end last, so that until then a criu
 * killed meanwhile still makes the parasite cure itself.
 */
int parasite_unload(struct parasite_ctl *ctl)
{
	int ret = -EOPNOTSUPP, r;

	if (!ctl)
		return 0;
	if (!ctl->broken && !ctl->ictx->dead)
		ret = daemon_retire(ctl, true);
	if (!ret)
		ret = compel_fault("parasite: cured");
	if (ret == -EOPNOTSUPP)
		ret = daemon_stop(ctl);
	if (ctl->area_gone) {
		struct compel_map *m = compel_take_map(ctl->ictx, ctl->remote, ctl->size);

		r = compel_unpark(ctl->ictx);
		if (!ret)
			ret = r;
		if (!ret)
			ret = compel_fault("parasite: unparked");
		if (m && m->local)
			munmap(m->local, m->len);
		free(m);
		ctl->ictx->code_never_traps = false;
		free(ctl);
		return ret;
	}
	for (int i = 0; i < 2; i++) {
		r = close_task_fd(ctl, &ctl->area->page_pipe[i]);
		if (r && !ret)
			ret = r;
	}
	for (int i = 1; i >= 0; i--) {
		r = close_task_fd(ctl, &ctl->area->ctl_fds[i]);
		if (r && !ret)
			ret = r;
	}
	r = close_task_fd(ctl, &ctl->area->track_fd);
	if (r && !ret)
		ret = r;
	r = compel_unpark(ctl->ictx);
	if (r && !ret && !ctl->ictx->dead)
		ret = r;
	if (!ret)
		ret = compel_fault("parasite: unparked");
	/* also unmaps criu's view, and forgets the area when the task is gone */
	r = compel_remote_munmap(ctl->ictx, ctl->remote, ctl->size);
	if (r && !ret)
		ret = r;
	if (ctl->ctl_wfd >= 0)
		close(ctl->ctl_wfd);
	ctl->ictx->code_never_traps = false;
	free(ctl);
	return ret;
}

int parasite_orphan(struct parasite_ctl *ctl)
{
	int ret = check_usable(ctl, "orphaning");

	if (!ret && !ctl->running)
		ret = daemon_start(ctl);
	if (ret)
		return ret;
	close(ctl->ctl_wfd);
	compel_forget_victim(ctl->ictx);
	free(ctl);
	return 0;
}

/* ---- state commands ----------------------------------------------------- */

int parasite_get_sigactions(struct parasite_ctl *ctl,
			    struct parasite_ksigaction sa[PARASITE_NSIG])
{
	struct parasite_sigactions_args *a = (void *)ctl->area->args;
	long result = 0;
	int ret = run_cmd(ctl, PARASITE_CMD_GET_SIGACTIONS, &result);

	if (ret)
		return ret;
	if (result < 0) {
		pr_err("can't read the action of signal %d in pid %d: %s\n", a->failed_sig,
		       ctl_pid(ctl), strerror((int)-result));
		return (int)result;
	}
	memcpy(sa, a->sa, sizeof(a->sa));
	return 0;
}

int parasite_get_itimers(struct parasite_ctl *ctl, struct parasite_itimerval it[3])
{
	struct parasite_itimers_args *a = (void *)ctl->area->args;
	long result = 0;
	int ret = run_cmd(ctl, PARASITE_CMD_GET_ITIMERS, &result);

	if (ret)
		return ret;
	if (result < 0) {
		pr_err("can't read the itimers of pid %d: %s\n", ctl_pid(ctl),
		       strerror((int)-result));
		return (int)result;
	}
	memcpy(it, a->it, sizeof(a->it));
	return 0;
}

static const char *task_state_step_name(uint32_t step)
{
	static const char *const names[] = {
		[PARASITE_TS_OK] = "nothing",
		[PARASITE_TS_SIGALTSTACK] = "sigaltstack",
		[PARASITE_TS_PDEATHSIG] = "PR_GET_PDEATHSIG",
		[PARASITE_TS_SUBREAPER] = "PR_GET_CHILD_SUBREAPER",
		[PARASITE_TS_SECUREBITS] = "PR_GET_SECUREBITS",
		[PARASITE_TS_NO_NEW_PRIVS] = "PR_GET_NO_NEW_PRIVS",
		[PARASITE_TS_DUMPABLE] = "PR_GET_DUMPABLE",
		[PARASITE_TS_TID_ADDRESS] = "PR_GET_TID_ADDRESS",
		[PARASITE_TS_TLS] = "the thread pointer",
	};

	return step < sizeof(names) / sizeof(names[0]) ? names[step] : "an unknown step";
}

int parasite_get_task_state(struct parasite_ctl *ctl, struct parasite_task_state *st)
{
	struct parasite_task_state *a = (void *)ctl->area->args;
	long result = 0;
	int ret = run_cmd(ctl, PARASITE_CMD_GET_TASK_STATE, &result);

	if (ret)
		return ret;
	if (result < 0) {
		pr_err("can't read %s of pid %d: %s\n", task_state_step_name(a->failed_step),
		       ctl_pid(ctl), strerror((int)-result));
		return (int)result;
	}
	memcpy(st, a, sizeof(*st));
	return 0;
}

/* ---- what criu dump reads from inside the task ---------------------------- */

int parasite_get_misc(struct parasite_ctl *ctl, struct parasite_misc *m)
{
	long result = 0;
	int ret = run_oneshot(ctl, PARASITE_CMD_GET_MISC, &result);

	if (ret)
		return ret;
	if (result < 0) {
		pr_err("GET_MISC in pid %d failed: %s\n", ctl_pid(ctl), strerror((int)-result));
		return (int)result;
	}
	memcpy(m, ctl->area->args, sizeof(*m));
	return 0;
}

/*
 * GET_THREAD_MISC of a thread that is not the daemon's, as a visit (see
 * struct parasite_visit): the daemon's thread stays stopped where it is,
 * so that whatever the moment criu dies at, one thread cures itself with
 * the area unmapped after any visitor has left.  -EOPNOTSUPP when a visit
 * can't be made (no exit chain, no room on tid's stack, no frame for its
 * registers): the caller moves the daemon instead.
 */
static int visit_thread_misc(struct parasite_ctl *ctl, pid_t tid, struct parasite_thread_misc *t)
{
	struct infect_ctx *ictx = ctl->ictx;
	struct parasite_area *area = ctl->area;
	struct parasite_visit *v = (void *)((char *)ctl->local + ctl->visit_off);
	unsigned long here = ctl->remote + ctl->vframe_off, dst, sp = 0, altstack = 0;
	unsigned long arg = ctl->area_remote;
	struct compel_visit save;
	long result = 0;
	int ret, fault;

	if (!area->exit_g1 || !area->exit_g2 || !area->frame_dst)
		return -EOPNOTSUPP;
	ret = daemon_stop(ctl);
	if (ret)
		return ret;
	ret = compel_visit_begin(ictx, tid, &save);
	if (ret)
		return ret;
	dst = compel_exit_frame_dst(ictx, compel_arch_get_sp(ictx->orig_regs), ctl->frame_room);
	ret = dst ? compel_arch_build_sigframe(ictx->orig_regs, ictx->orig_sigmask,
						(char *)ctl->local + ctl->vframe_off, dst,
						ctl->frame_room, &sp, &altstack)
		  : -EOPNOTSUPP;
	if (ret) {
		compel_visit_end(ictx, &save);
		return ret == -ENOSPC ? -EOPNOTSUPP : ret;
	}
	memset(v, 0, sizeof(*v));
	v->frame_altstack = altstack - dst + here; /* the visit stores its own there */
	v->frame_sp = sp;
	v->frame_src = here;
	v->frame_dst = dst;
	v->frame_len = ctl->frame_room;
	v->restart_code = build_eintr_frame(ictx, (char *)ctl->local + ctl->vframe_eintr_off, dst,
					    ctl->frame_room, sp);
	v->frame_eintr_src = v->restart_code ? ctl->remote + ctl->vframe_eintr_off : 0;
	v->frame_mask = ictx->orig_sigmask;
	v->held = ictx->held_signals;
	/*
	 * Counted before the thread can enter the area: a daemon curing itself
	 * without criu waits for the count to go down before it unmaps (up
	 * to 2 s: a criu killed between this store and the start below, a
	 * window of one ptrace call, leaves the area rather than a thread
	 * that would run into it unmapped).
	 */
	__atomic_store_n(&area->visitors, 1, __ATOMIC_SEQ_CST);
	ret = compel_start_visit(ictx, ctl->entry_visit, ctl->remote + ctl->vstack_top, &arg, 1);
	if (ret) { /* it never entered */
		__atomic_store_n(&area->visitors, 0, __ATOMIC_SEQ_CST);
		compel_visit_end(ictx, &save);
		return ret;
	}
	/* a failure now still lets the visit end: the thread leaves the area */
	fault = compel_fault("parasite: visit started");
	if (compel_arch_rest_by_ptrace(ictx->orig_regs)) {
		ret = compel_code_leave_by_ptrace(ictx, SYS_rt_sigreturn, ictx->orig_regs,
						  ictx->orig_sigmask);
	} else {
		ret = compel_code_to_syscall(ictx, SYS_rt_sigreturn, &result);
		if (!ret) /* at rest where its registers read whole (arm64's x7) */
			ret = compel_code_rest(ictx);
	}
	if (!ret)
		compel_code_left(ictx);
	else
		ctl->broken = true;
	compel_visit_end(ictx, &save);
	if (!ret)
		ret = fault;
	if (ret)
		return ret;
	if (__atomic_load_n(&area->visitors, __ATOMIC_SEQ_CST)) {
		pr_err("the visit of thread %d of pid %d left its count up\n", tid, ctl_pid(ctl));
		ctl->broken = true;
		return -EPROTO;
	}
	memcpy(t, &v->misc, sizeof(*t));
	return 0;
}

int parasite_get_thread_misc(struct parasite_ctl *ctl, pid_t tid, struct parasite_thread_misc *t)
{
	long result = 0;
	int ret = check_usable(ctl, cmd_names[PARASITE_CMD_GET_THREAD_MISC]);

	if (ret)
		return ret;
	if (tid != ctl->ictx->victim->tid) {
		ret = visit_thread_misc(ctl, tid, t);
		if (ret != -EOPNOTSUPP)
			return ret;
	}
	if (tid != ctl->ictx->victim->tid) {
		/*
		 * Cured first, with its descriptors closed: no thread is parked
		 * between the unpark and tid's start, and a parasite whose criu
		 * died then would have left them open.  The daemon's first start
		 * in tid makes a new control pipe.
		 */
		ret = daemon_retire(ctl, false);
		if (ret == -EOPNOTSUPP)
			ret = daemon_stop(ctl);
		if (!ret)
			ret = compel_unpark(ctl->ictx);
		if (!ret)
			ret = compel_switch_victim(ctl->ictx, tid);
		if (!ret)
			ret = daemon_park(ctl); /* at once: a kill from here on is cured */
		if (!ret)
			ret = compel_fault("parasite: moved");
	} else {
		ret = daemon_stop(ctl);
	}
	if (ret) {
		pr_err("can't move the parasite of pid %d to thread %d: %s\n", ctl_pid(ctl), tid,
		       strerror(-ret));
		return ret;
	}
	ret = run_oneshot(ctl, PARASITE_CMD_GET_THREAD_MISC, &result);
	if (ret)
		return ret;
	if (result < 0) {
		pr_err("GET_THREAD_MISC in thread %d of pid %d failed: %s\n", tid, ctl_pid(ctl),
		       strerror((int)-result));
		return (int)result;
	}
	memcpy(t, ctl->area->args, sizeof(*t));
	return 0;
}

int parasite_get_posix_timers(struct parasite_ctl *ctl, struct parasite_posix_timer *timers,
			      uint32_t n)
{
	struct parasite_posix_timers_args *a = (void *)ctl->area->args;
	uint32_t room = (uint32_t)((ctl->area->args_size - sizeof(*a)) / sizeof(a->t[0]));

	for (uint32_t done = 0; done < n;) {
		uint32_t nr = n - done < room ? n - done : room;
		long result = 0;
		int ret;

		a->nr = nr;
		memcpy(a->t, timers + done, nr * sizeof(a->t[0]));
		ret = run_oneshot(ctl, PARASITE_CMD_GET_POSIX_TIMERS, &result);
		if (ret)
			return ret;
		if (result < 0) {
			pr_err("GET_POSIX_TIMERS in pid %d failed: %s\n", ctl_pid(ctl),
			       strerror((int)-result));
			return (int)result;
		}
		memcpy(timers + done, a->t, nr * sizeof(a->t[0]));
		done += nr;
	}
	return 0;
}

int parasite_run(struct parasite_ctl *ctl, uint32_t cmd, void *args, size_t size, long *result)
{
	int ret;

	if (cmd == PARASITE_CMD_FINI || cmd >= PARASITE_NR_CMDS)
		return -EINVAL;
	if (size > ctl->area->args_size)
		return -E2BIG;
	memcpy(ctl->area->args, args, size);
	ret = run_cmd(ctl, cmd, result);
	if (!ret)
		memcpy(args, ctl->area->args, size);
	return ret;
}

/* ---- pages -------------------------------------------------------------- */

/* The pipe of one parasite_dump_pages() call: -1 where there is none. */
struct dump_pipe {
	int task_r, task_w; /* descriptors in the task */
	int local;	    /* criu's read end */
};

void parasite_set_pipe_size(struct parasite_ctl *ctl, size_t bytes)
{
	ctl->pipe_size = bytes;
}

/* The task's descriptor fd, as a descriptor of criu (the same open file). */
static int fetch_task_fd(struct parasite_ctl *ctl, int fd, int flags)
{
	char path[64];
	int pidfd, local = -1;

	int err;

	pidfd = (int)syscall(__NR_pidfd_open, ctl_pid(ctl), 0);
	err = errno;
	if (pidfd >= 0) {
		local = (int)syscall(__NR_pidfd_getfd, pidfd, fd, 0);
		err = errno;
		close(pidfd);
		if (local >= 0)
			return local;
	}
	if (err != ENOSYS) {
		errno = err;
		pr_perror("can't take descriptor %d of pid %d", fd, ctl_pid(ctl));
		return -err;
	}
	/* before Linux 5.6: reopen the pipe through /proc */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", ctl_pid(ctl), fd);
	local = open(path, flags | O_CLOEXEC);
	if (local < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	return local;
}

/* /proc/sys/fs/pipe-max-size: the most F_SETPIPE_SZ gives without
 * CAP_SYS_RESOURCE; 0 when unknown. */
static size_t pipe_max_size(void)
{
	unsigned long max = 0;
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "re");

	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 0;
		fclose(f);
	}
	return max;
}

static void size_pipe(struct parasite_ctl *ctl, int fd)
{
	size_t want = ctl->pipe_size, max;
	long got;

	if (fcntl(fd, F_SETPIPE_SZ, (int)want) < 0) {
		int err = errno;

		max = err == EPERM ? pipe_max_size() : 0;
		if (!max || max >= want || fcntl(fd, F_SETPIPE_SZ, (int)max) < 0) {
			errno = err;
			pr_warn("can't make the pipe of pid %d %zu bytes big: %m\n", ctl_pid(ctl),
				want);
		}
	}
	got = fcntl(fd, F_GETPIPE_SZ);
	ctl->pipe_size_got = got > 0 ? (size_t)got : (size_t)sysconf(_SC_PAGESIZE);
}

/* PARASITE_CMD_CLOSE of the page pipe's ends in mask. */
static int close_page_ends(struct parasite_ctl *ctl, uint32_t mask)
{
	struct parasite_close_args *a = (void *)ctl->area->args;
	long result = 0;
	int ret;

	a->mask = mask;
	a->pad = 0;
	ret = run_cmd(ctl, PARASITE_CMD_CLOSE, &result);
	return ret ? ret : (int)result;
}

/*
 * The parasite makes the pipe (its ends in the area, closed by its cure if
 * criu dies), criu takes the read end, the parasite closes its copy.
 */
static int open_task_pipe(struct parasite_ctl *ctl, struct dump_pipe *p)
{
	int32_t *fds = ctl->area->page_pipe;
	long result = 0;
	int ret;

	ret = run_cmd(ctl, PARASITE_CMD_PAGE_PIPE, &result);
	if (ret)
		return ret;
	if (result < 0) {
		pr_err("pipe2 in pid %d failed: %s\n", ctl_pid(ctl), strerror((int)-result));
		return (int)result;
	}
	ret = compel_fault("parasite: page pipe made");
	if (ret)
		return ret;
	p->task_r = fds[0];
	p->task_w = fds[1];
	p->local = fetch_task_fd(ctl, p->task_r, O_RDONLY);
	if (p->local < 0)
		return p->local;
	/* criu's copy is the only read end the pipe needs */
	ret = close_page_ends(ctl, PARASITE_CLOSE_PAGE_R);
	if (ret)
		return ret;
	p->task_r = -1;
	size_pipe(ctl, p->local);
	return 0;
}

/*
 * Closes what is open, on both sides, whatever happened before: through
 * the parasite while it answers, by injected closes when it can't.
 */
static int close_task_pipe(struct parasite_ctl *ctl, struct dump_pipe *p)
{
	int32_t *fds = ctl->area->page_pipe;
	int ret = 0;

	if ((fds[0] >= 0 || fds[1] >= 0) && !ctl->broken && !ctl->ictx->dead)
		ret = close_page_ends(ctl, PARASITE_CLOSE_PAGE_R | PARASITE_CLOSE_PAGE_W);
	for (int i = 0; i < 2; i++) {
		int r = close_task_fd(ctl, &fds[i]);

		if (r && !ret)
			ret = r;
	}
	p->task_r = p->task_w = -1;
	if (p->local >= 0)
		close(p->local);
	return ret;
}

/* For an out_fd that splice() refuses (EINVAL: an O_APPEND file, ...). */
static int copy_out(struct parasite_ctl *ctl, int from, int to, size_t len)
{
	enum { CHUNK = 1 << 16 };
	char *buf = malloc(CHUNK);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (len && !ret) {
		ssize_t n = read(from, buf, len < CHUNK ? len : CHUNK);
		size_t done = 0;

		if (n <= 0) {
			pr_perror("can't read the pipe of pid %d", ctl_pid(ctl));
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		while (done < (size_t)n && !ret) {
			ssize_t w = write(to, buf + done, (size_t)n - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				pr_perror("can't write the pages of pid %d", ctl_pid(ctl));
				ret = w < 0 ? -errno : -EIO;
			}
			done += w > 0 ? (size_t)w : 0;
		}
		len -= (size_t)n;
	}
	free(buf);
	return ret;
}

/* Moves len bytes, all already in the pipe, to out_fd. */
static int drain_pipe(struct parasite_ctl *ctl, int pipe_fd, int out_fd, size_t len)
{
	while (len) {
		ssize_t n = splice(pipe_fd, NULL, out_fd, NULL, len, SPLICE_F_MOVE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL)
			return copy_out(ctl, pipe_fd, out_fd, len);
		if (n <= 0) {
			pr_perror("can't write the pages of pid %d", ctl_pid(ctl));
			return n < 0 ? -errno : -EIO;
		}
		len -= (size_t)n;
	}
	return 0;
}

/* Where dump_pages is: range idx, off bytes into it. */
struct range_cursor {
	const struct iovec *ranges;
	int n, idx;
	size_t off;
};

static void cursor_skip_empty(struct range_cursor *c)
{
	while (c->idx < c->n && c->ranges[c->idx].iov_len == c->off) {
		c->idx++;
		c->off = 0;
	}
}

static void cursor_advance(struct range_cursor *c, uint64_t done)
{
	while (done && c->idx < c->n) {
		size_t left = c->ranges[c->idx].iov_len - c->off;

		if (done < left) {
			c->off += done;
			return;
		}
		done -= left;
		c->idx++;
		c->off = 0;
	}
	cursor_skip_empty(c);
}

/*
 * Fills the command with the ranges from the cursor on: at most one per
 * pipe slot, since a round moves at most a pipe's worth.
 */
static uint32_t fill_iovs(struct parasite_ctl *ctl, const struct range_cursor *c,
			  struct parasite_dump_pages_args *a)
{
	size_t room = (ctl->area->args_size - sizeof(*a)) / sizeof(a->iov[0]);
	size_t slots = ctl->pipe_size_got / (size_t)sysconf(_SC_PAGESIZE);
	uint32_t nr = 0;

	if (slots && slots < room)
		room = slots;
	for (int i = c->idx; i < c->n && nr < room; i++) {
		size_t skip = i == c->idx ? c->off : 0;

		if (c->ranges[i].iov_len == skip)
			continue;
		a->iov[nr].base = (uint64_t)(uintptr_t)c->ranges[i].iov_base + skip;
		a->iov[nr].len = c->ranges[i].iov_len - skip;
		nr++;
	}
	return nr;
}

/*
 * Rounds of: the parasite vmsplices until the pipe is full (-EAGAIN) or
 * the ranges end, then criu moves what it spliced to out_fd.
 */
static int pump_pages(struct parasite_ctl *ctl, struct dump_pipe *p,
		      struct range_cursor *c, int out_fd)
{
	struct parasite_dump_pages_args *a = (void *)ctl->area->args;
	long result;
	int ret;

	cursor_skip_empty(c);
	while (c->idx < c->n) {
		a->pipe_fd = p->task_w;
		a->splice_flags = SPLICE_F_NONBLOCK;
		a->nr_iovs = fill_iovs(ctl, c, a);
		a->spliced = 0;
		ret = run_cmd(ctl, PARASITE_CMD_DUMP_PAGES, &result);
		if (ret)
			return ret;
		ctl->nr_rounds++;
		if (a->spliced) {
			ret = drain_pipe(ctl, p->local, out_fd, a->spliced);
			if (ret)
				return ret;
			cursor_advance(c, a->spliced);
		}
		if (a->spliced && (result >= 0 || result == -EAGAIN))
			continue;
		if (result >= 0 || result == -EAGAIN)
			result = -EIO; /* no progress: an empty pipe cannot be full */
		pr_err("can't read %zu bytes at %p (range %d of %d) in pid %d: %s\n",
		       c->ranges[c->idx].iov_len - c->off,
		       (char *)c->ranges[c->idx].iov_base + c->off, c->idx, c->n, ctl_pid(ctl),
		       strerror((int)-result));
		return (int)result;
	}
	return 0;
}

int parasite_dump_pages(struct parasite_ctl *ctl, const struct iovec *remote_ranges, int n,
			int out_fd)
{
	struct dump_pipe p = { .task_r = -1, .task_w = -1, .local = -1 };
	struct range_cursor c = { .ranges = remote_ranges, .n = n };
	int ret, r;

	if (n < 0 || (n && !remote_ranges)) {
		pr_err("bad list of ranges for the pages of pid %d\n", ctl_pid(ctl));
		return -EINVAL;
	}
	ret = check_usable(ctl, cmd_names[PARASITE_CMD_DUMP_PAGES]);
	if (ret || !n)
		return ret;
	ret = open_task_pipe(ctl, &p);
	if (!ret)
		ret = pump_pages(ctl, &p, &c, out_fd);
	r = close_task_pipe(ctl, &p);
	return ret ? ret : r;
}
