/* Shared by the .c files of compel/ only; users include compel.h. */
#ifndef CRIU_COMPEL_PRIV_H
#define CRIU_COMPEL_PRIV_H

#include <stdbool.h>

#include "compel.h"

/* ptrace.c: seizing, waiting, telling stops apart */

/* One waitpid() for tid, bounded: 0 and *status, -ETIMEDOUT or -errno. */
int compel_wait_tid(pid_t tid, int *status, int timeout_ms);

enum compel_stop {
	STOP_EXITED,  /* exited or killed: the status is final */
	STOP_EVENT,   /* PTRACE_EVENT_STOP: our interrupt or a group-stop */
	STOP_SYSCALL, /* syscall-entry or -exit (TRACESYSGOOD) */
	STOP_SIGNAL,  /* signal-delivery-stop */
	STOP_OTHER,   /* another PTRACE_EVENT we did not ask for */
};

enum compel_stop compel_stop_kind(int status);
bool compel_is_stop_signal(int sig);

/* Resumes a stopped thread with request (PTRACE_CONT, PTRACE_SYSCALL). */
int compel_resume(struct compel_thread *t, int request, int sig);

/* Seizes every thread of ctx->pid (ctx->pid, timeout set). */
int compel_seize_threads(struct infect_ctx *ctx);
/* Detaches every seized thread (interrupting those still running). */
int compel_detach_threads(struct infect_ctx *ctx);

/*
 * A signal-delivery-stop of the victim while our code runs: SIGSTOP is
 * held back and sent again at cure (ctx->held_signals); returns 0 to
 * resume with no signal.  A synchronous fault caused by the code returns
 * -EFAULT (logged).
 */
int compel_held_signal(struct infect_ctx *ctx, int sig);

/* restart.c */
int compel_settle_restart(struct infect_ctx *ctx);

/* syscall.c */
int compel_find_syscall_ip(struct infect_ctx *ctx);

/* mem.c: remembered mappings */
int compel_add_map(struct infect_ctx *ctx, unsigned long remote, size_t len, void *local);
struct compel_map *compel_take_map(struct infect_ctx *ctx, unsigned long remote, size_t len);

/* run.c */
int compel_block_signals(struct infect_ctx *ctx);
/* The victim's resting state (parked or its own) written back. */
int compel_rest_victim(struct infect_ctx *ctx);

/* sigtrap.c: before code runs in the victim; when it stops being the
 * victim; at cure (the action back too).  0 or -errno. */
int compel_sigtrap_prepare(struct infect_ctx *ctx);
int compel_sigtrap_finish_victim(struct infect_ctx *ctx);
int compel_sigtrap_finish(struct infect_ctx *ctx);

/* ---- exit-chain.c ---------------------------------------------------- */

/* 0 with both found, -ENOENT (none), -EOPNOTSUPP (ruled out), -errno.
 * [skip, skip + skip_len): the parasite's area, never a place for them. */
int compel_find_exit_chain(struct infect_ctx *ctx, unsigned long skip, size_t skip_len,
			   struct compel_exit_chain *c);

/* Bytes kept free below a thread's sp (more than any arch's red zone), and
 * below the frame (what x86_64's g1 may pop). */
#define EXIT_FRAME_GAP 512
#define EXIT_FRAME_BELOW 256
/*
 * Where a frame of len bytes goes on the stack of a thread whose sp is sp:
 * 64-aligned, EXIT_FRAME_GAP below sp, and all of it (with
 * EXIT_FRAME_BELOW more) inside the writable mapping that holds sp; 0 when
 * there is no such room.
 */
unsigned long compel_exit_frame_dst(struct infect_ctx *ctx, unsigned long sp, size_t len);

#endif
