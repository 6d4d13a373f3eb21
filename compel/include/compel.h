/*
 * compel: run code inside another process.
 *
 * The life of an infection:
 *
 *   compel_infect(pid)      seize every thread (PTRACE_SEIZE + INTERRUPT),
 *                           pick one live thread (the "victim": the leader
 *                           unless it is a zombie) and save its registers
 *                           (general + the whole FPU/vector state) and its
 *                           signal mask
 *   compel_syscall()        run one system call in the victim
 *   compel_remote_mmap()..  memory in the task, through injected syscalls
 *   compel_map_shared()     one area seen by criu and by the task
 *   compel_run_code()       run code at an address in the task until it
 *                           reaches a trap instruction
 *   compel_cure()           unmap what compel mapped, put every register and
 *                           the mask back, detach every thread; the task
 *                           runs on (or stays stopped) as if nothing happened
 *
 * Only the victim ever runs while infected; the other threads stay in
 * their ptrace stop and are only detached at cure.
 *
 * Every function returns 0 (or a documented non-negative value) or a
 * negative errno, and logs its errors once, naming the PID.  Every wait for
 * the task is bounded by the context's timeout (compel_set_timeout()).
 * When the task dies in the middle, calls return -ESRCH and compel_cure()
 * still releases everything that is left.
 */
#ifndef CRIU_COMPEL_H
#define CRIU_COMPEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What /proc/PID/status says about a process, before any seizing. */
enum compel_task_state {
	COMPEL_TASK_RUNNING, /* running or sleeping (R, S, D, I, ...) */
	COMPEL_TASK_STOPPED, /* in group-stop (T) */
	COMPEL_TASK_TRACED,  /* in a ptrace stop of some tracer (t) */
	COMPEL_TASK_ZOMBIE,  /* exited, not reaped (Z): cannot be infected */
	COMPEL_TASK_DEAD,    /* X, or no such process */
};

struct compel_task_info {
	enum compel_task_state state;
	pid_t tgid;	  /* the thread group pid (differs from pid for a thread) */
	pid_t tracer_pid; /* 0 when nobody traces it */
	int nr_threads;
};

/*
 * Reads /proc/PID/status.  Returns 0 (even for a zombie, see info->state),
 * -ESRCH when there is no such process, another negative errno otherwise.
 * Logs nothing: the caller decides whether the state is an error.
 */
int compel_probe_task(pid_t pid, struct compel_task_info *info);

/* compel_infect() flags */
#define COMPEL_F_SETTLE_RESTART 0x1u /* tests: always turn an interrupted,
				      * restartable syscall into "about to
				      * run it", even where the registers
				      * could restore the restart exactly */
#define COMPEL_F_EXITKILL 0x2u /* seize with PTRACE_O_EXITKILL: the task
				* dies if the tracer does (restore: a task
				* criu has not let go yet must not outlive it) */

struct compel_thread {
	pid_t tid;
	int status;	 /* the last wait status of its current stop */
	bool seized;	 /* attached by us (detach at cure) */
	bool stopped;	 /* in a ptrace stop right now */
};

struct compel_map {
	unsigned long remote; /* address in the task */
	size_t len;
	void *local;	      /* criu's view of a shared area, or NULL */
	struct compel_map *next;
};

struct compel_regs; /* arch-defined: see compel-arch.h */

/*
 * One infected task.  Callers read the fields; only compel writes them.
 */
/* An address range of the task. */
struct compel_span {
	unsigned long start, end;
};

/* The exit chain of a task (see compel/exit-chain.c); g1 == 0: none. */
struct compel_exit_chain {
	unsigned long g1, g2;
	unsigned int g1_arg;
};

struct infect_ctx {
	pid_t pid;
	enum compel_task_state found;	/* RUNNING or STOPPED: as we found it */
	int stop_signo;			/* the group-stop signal when STOPPED */
	unsigned int flags;		/* COMPEL_F_* */
	int timeout_ms;			/* bound on every wait for the task */

	struct compel_thread *threads;
	int nr_threads;
	struct compel_thread *victim;	/* the thread that runs our code */

	struct compel_regs *orig_regs;	/* the victim's, restored at cure */
	bool regs_saved;		/* orig_regs holds them */
	struct compel_regs *work_regs;	/* scratch for injected runs */
	uint64_t orig_sigmask;		/* the victim's, restored at cure */
	bool sigmask_saved;
	bool code_running;		/* compel_start_code() is in flight */
	struct compel_regs *park_regs;	/* non-NULL: parked (compel_park()) */
	bool code_never_traps;		/* the code we start never reaches a
					 * trap (the parasite's daemon): no
					 * SIGTRAP bookkeeping (sigtrap.c) */
	unsigned long syscall_ip;	/* a syscall instruction in the task */

	uint64_t held_signals;		/* bit sig-1: signals that stopped
					 * the victim while our code ran (a
					 * SIGSTOP, which cannot be blocked):
					 * sent again at cure */
	bool dead;			/* the task is gone */
	struct compel_span *rw_spans;	/* its writable mappings (exit-chain.c) */
	/* safe_g1 != 0: injected syscalls run at g1 and return through the
	 * exit chain into the victim's frame at safe_sp (compel_make_safe()) */
	unsigned long safe_g1, safe_g2, safe_sp;
	unsigned long safe_sp_base;	/* compel_make_safe()'s own frame
					 * (safe_sp: compel_make_safe_undo()'s
					 * below it, when there is one) */
	unsigned int safe_arg;
	/* != 0: the next kill-safe syscall is an mmap whose area criu may
	 * not have taken over when it dies: at its exit the victim is left
	 * set to munmap(result, undo_unmap) at g1, through the same chain,
	 * until criu sets its registers again (compel_map_shared()) */
	size_t undo_unmap;
	int nr_rw_spans;
	bool rw_spans_loaded;
	struct compel_map *maps;	/* unmapped at cure */

	/* SIGTRAP kept from our traps (sigtrap.c) */
	unsigned long trap_scratch;	/* a page of ours in the task, or 0 */
	pid_t trap_victim_ready;	/* the victim whose SIGTRAP is set aside */
	bool trap_taken;		/* its pending SIGTRAP is in trap_info */
	bool trap_action_saved;		/* trap_action is the task's */
	uint8_t trap_info[128];
	uint8_t trap_action[32];	/* the kernel's struct sigaction */
};

/* compel_visit_begin(): the victim's state while another thread visits. */
struct compel_visit {
	struct compel_thread *victim;
	struct compel_regs *orig, *work, *park;
	bool regs_saved, sigmask_saved, never_traps;
	uint64_t sigmask, held;
	unsigned long syscall_ip;
};

#define COMPEL_DEFAULT_TIMEOUT_MS 10000

/*
 * Seizes every thread of process pid and prepares one of them to run
 * code.  Refuses (with one logged line) a zombie or a dead process
 * (-ESRCH), a thread id that is not a process (-EINVAL), a task traced by
 * someone else (-EBUSY, naming the tracer), a task of another ABI
 * (-EOPNOTSUPP, e.g. a 32-bit task).  On failure nothing stays seized.
 */
int compel_infect(pid_t pid, unsigned int flags, struct infect_ctx **ctxp);

/* The same with timeout_ms (<= 0: the default) for every wait from the
 * seizing on, as compel_set_timeout() sets it afterwards. */
int compel_infect_timeout(pid_t pid, unsigned int flags, int timeout_ms,
			  struct infect_ctx **ctxp);

void compel_set_timeout(struct infect_ctx *ctx, int timeout_ms);

/*
 * Makes thread tid (seized with the others) the one that runs our code:
 * the current victim gets its registers and mask back, tid's are saved
 * (orig_regs, orig_sigmask now describe tid).  Not while code runs
 * (-EBUSY); compel's mappings (a loaded parasite) stay, shared by every
 * thread.  0 or -errno.
 */
/*
 * A visit of thread tid (not the victim) while the victim stays stopped:
 * from begin to end, compel's victim is tid (its registers and mask read,
 * its interrupted syscall settled), for compel_start_visit() and
 * compel_code_to_syscall().  end gives the victim back untouched; tid keeps
 * the registers and mask it has then.
 */
int compel_visit_begin(struct infect_ctx *ctx, pid_t tid, struct compel_visit *save);
int compel_visit_end(struct infect_ctx *ctx, struct compel_visit *save);
/*
 * Starts code at ip with stack sp and args in the visiting thread, traced
 * for its syscalls, with its own signal mask: no signal is blocked from
 * outside first (a criu killed in between would leave the thread running
 * its own code with every signal blocked); the code blocks them itself.
 */
int compel_start_visit(struct infect_ctx *ctx, unsigned long ip, unsigned long sp,
		       const unsigned long *args, int nargs);
int compel_switch_victim(struct infect_ctx *ctx, pid_t tid);

/*
 * The task's SIGTRAP action (the kernel's struct sigaction, len bytes) as
 * it was before our code first ran: that code's traps reset it, and cure
 * puts it back.  false when no code ran (the action is then as it was).
 */
bool compel_sigtrap_action(const struct infect_ctx *ctx, void *out, size_t len);

enum compel_leave {
	COMPEL_LEAVE_AS_FOUND, /* running stays running, stopped stays stopped */
	COMPEL_LEAVE_STOPPED,  /* leave the whole task in group-stop (SIGSTOP) */
};

/*
 * Where the victim rests between our runs.  Unparked (the default) it
 * rests with its own registers and signal mask: each injected syscall and
 * each run of code blocks every signal, and puts both back when it ends.
 * So whenever criu stops being there (killed: the kernel detaches every
 * thread), the victim carries on as it was.
 *
 * compel_park() makes the resting state "start the code at ip with sp and
 * args, every signal blocked" instead (a loaded parasite: if criu dies,
 * the parasite starts, finds its control pipe closed and cures itself).
 * The state is written at once, and after every syscall or code run and
 * every compel_stop_code().  compel_unpark() puts the victim's own
 * registers and mask back.  Not while code runs (-EBUSY).  0 or -errno.
 */
int compel_park(struct infect_ctx *ctx, unsigned long ip, unsigned long sp,
		const unsigned long *args, int nargs);
int compel_unpark(struct infect_ctx *ctx);

/*
 * The victim left our code on its own and runs its own again (a parasite
 * that cured itself): at cure nothing is written back to it, and compel's
 * mappings are forgotten, not unmapped (they stay in the task).
 */
void compel_forget_victim(struct infect_ctx *ctx);

/*
 * A flag (set by criu's SIGTERM/SIGINT/SIGHUP handler) that makes compel's
 * long waits (a thread that does not stop at seize, an answer of code
 * running in the task) return -EINTR promptly.  NULL: none.
 */
void compel_set_abort_flag(volatile int *flag);
bool compel_aborted(void);

/*
 * Undoes everything and detaches every thread; frees ctx.  Goes on past
 * errors so that no thread stays stopped; returns the first error.
 */
int compel_cure(struct infect_ctx *ctx, enum compel_leave leave);

/*
 * Runs system call nr with up to 6 arguments in the victim.  Returns 0 when
 * the syscall ran, *ret being its raw result (>= 0 or -errno); a negative
 * errno when it could not be run (the task died: -ESRCH; timeout:
 * -ETIMEDOUT).
 */
/*
 * Makes the injected syscalls of the victim kill-safe until
 * compel_unmake_safe(): a frame of its own registers and mask is written
 * on its stack, and each syscall runs at the task's own g1 of the exit
 * chain (compel/exit-chain.c) with the registers set so that, should criu
 * die before it puts the victim's registers back, g1 returns to g2 and
 * rt_sigreturn gives the thread its own state.  -EOPNOTSUPP and nothing
 * changed when the task has no exit chain or its stack no room.
 */
int compel_make_safe(struct infect_ctx *ctx);
int compel_make_safe_undo(struct infect_ctx *ctx, size_t len, unsigned long *addr);
void compel_unmake_safe(struct infect_ctx *ctx);
int compel_syscall(struct infect_ctx *ctx, long nr, const unsigned long *args, int nargs,
		   long *ret);

/*
 * mmap/munmap in the task.  compel_remote_mmap() stores the address in
 * *addr_out and remembers the mapping: whatever is still mapped at cure is
 * unmapped then.  Both return 0 or the syscall's -errno.
 */
int compel_remote_mmap(struct infect_ctx *ctx, unsigned long addr, size_t len, int prot,
		       int flags, int fd, off_t off, unsigned long *addr_out);
int compel_remote_munmap(struct infect_ctx *ctx, unsigned long addr, size_t len);

/*
 * The task's memory, through process_vm_readv/writev, or PTRACE_PEEK/POKE
 * when those fail (a kernel without them, or a page they refuse: POKEDATA
 * also writes read-only mappings).  0 or a negative errno.
 */
int compel_read_mem(struct infect_ctx *ctx, unsigned long remote, void *buf, size_t len);
int compel_write_mem(struct infect_ctx *ctx, unsigned long remote, const void *buf, size_t len);

/*
 * A shared area of size bytes (rounded up to pages): *local in criu and
 * *remote in the task are the same memory; readable, writable and
 * executable in the task.  The task maps it MAP_SHARED|MAP_ANONYMOUS and
 * criu maps the same object through /proc/PID/map_files (see shared.c for
 * why).  Unmapped on both sides at cure.
 */
int compel_map_shared(struct infect_ctx *ctx, size_t size, void **local, unsigned long *remote);

/*
 * Starts the victim at ip with the stack pointer sp and up to 6 integer
 * arguments in the arch's argument registers, with every blockable signal
 * blocked.  When the code ends (its trap, a crash, compel_stop_code()) the
 * victim is put back in its resting state (see compel_park()).  The code must end with the arch's trap instruction
 * (compel_arch.trap); its return value is read from the return register
 * then.  compel_run_code() waits for the trap; compel_start_code() returns
 * at once and compel_wait_code() waits later (meanwhile criu talks to the
 * code through shared memory, e.g. with compel_futex_wait()).  A crash of
 * the code (SIGSEGV, SIGILL, ...) returns -EFAULT, logged with the address;
 * the task is intact after cure.
 */
int compel_run_code(struct infect_ctx *ctx, unsigned long ip, unsigned long sp,
		    const unsigned long *args, int nargs, long *ret);
int compel_start_code(struct infect_ctx *ctx, unsigned long ip, unsigned long sp,
		      const unsigned long *args, int nargs);
int compel_wait_code(struct infect_ctx *ctx, long *ret);
/* Stops code started by compel_start_code() wherever it is (then cure). */
int compel_stop_code(struct infect_ctx *ctx);

/*
 * compel_start_code() with syscall stops: compel_code_to_syscall() then
 * follows the code, syscall by syscall, up to the exit of its next
 * syscall nr and leaves it stopped there (*ret: what that syscall
 * returned), still running our code as far as compel knows;
 * compel_continue_code() lets it go on without syscall stops (its end is
 * then waited for as after compel_start_code()), compel_stop_code() stops
 * it.  When that syscall ended our code (the parasite's rt_sigreturn into
 * the thread's own state), compel_code_left() says so: the victim is at
 * rest where it is.  Other stops on the way are handled as
 * compel_wait_code() does; on an error the code is stopped (-ESRCH: the
 * task is gone).
 */
/*
 * Fault injection (core/fault.c, CRIU_FAULT): hook(name) is called at the
 * steps inside compel where a criu killed at that moment tests what the
 * task is left with (a pipe made, a descriptor taken, the parasite cured,
 * ...); it may kill criu, or return -errno, which compel takes as a
 * failure there.  compel_fault() is 0 without a hook.
 */
void compel_set_fault_hook(int (*hook)(const char *name));
int compel_fault(const char *name);

int compel_start_code_traced(struct infect_ctx *ctx, unsigned long ip, unsigned long sp,
			     const unsigned long *args, int nargs);
int compel_code_to_syscall(struct infect_ctx *ctx, long nr, long *ret);
/*
 * Follows the code to the entry of its rt_sigreturn (sigreturn_nr), skips
 * it, and gives the thread rest and mask with ptrace at an interrupt stop
 * instead, with its restart block intact (see compel/run.c).
 */
int compel_code_leave_by_ptrace(struct infect_ctx *ctx, long sigreturn_nr,
				const struct compel_regs *rest, uint64_t mask);
/* A victim left at a syscall stop (its code ended by a syscall) brought to
 * an interrupt stop, where its registers read whole (arm64's x7). */
int compel_code_rest(struct infect_ctx *ctx);
int compel_continue_code(struct infect_ctx *ctx);
void compel_code_left(struct infect_ctx *ctx);

/*
 * The command channel: a 32-bit word in a shared area.  compel_futex_wait()
 * sleeps until *word != old, watching the task meanwhile: returns 0, or
 * -ETIMEDOUT, -ESRCH (died), -EFAULT (the code crashed or trapped without
 * answering).  compel_futex_wake() wakes the task side.  The futex is a
 * shared one: the two sides are different processes mapping one object.
 */
int compel_futex_wait(struct infect_ctx *ctx, uint32_t *word, uint32_t old, int timeout_ms);
void compel_futex_wake(uint32_t *word);

#endif
