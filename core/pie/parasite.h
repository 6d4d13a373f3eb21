/*
 * The parasite's command protocol, shared by the blob (core/pie/parasite.c)
 * and compel, which fills the area.  Only fixed-size integer types: the same
 * layout is read by the blob inside the task and by criu outside it (both are
 * built for the same architecture).
 *
 * compel maps one shared memfd area into the task and into itself.  It holds
 * the blob, its bss and stack, then a struct parasite_area.  The blob's entry
 * (PARASITE_BLOB_ENTRY_HEAD) is started with the first argument register
 * pointing at the area (its address in the task) and the stack pointer inside
 * the stack region; it returns through a trap instruction so the tracer sees
 * the end, with the return value in the first return register.
 *
 * Two ways to run commands:
 *  - one-shot (PARASITE_F_ONESHOT): cmd and args are filled in before the
 *    start; the parasite runs that one command, stores ret and traps.  Only
 *    for running the blob in-process (tests): a trap reached in a task whose
 *    tracer is gone would kill it.
 *  - daemon (what compel uses): the parasite blocks in read() on ctl_fds[0],
 *    the read end of a pipe whose only write end criu holds.  criu writes
 *    cmd and args, state = PARASITE_ST_CMD, then one byte into the pipe;
 *    the parasite runs the command, writes ret, sets state =
 *    PARASITE_ST_DONE and FUTEX_WAKEs (criu waits on that futex word, a
 *    shared one: the two sides are different processes mapping the same
 *    object).  The daemon never returns: criu stops it with
 *    PTRACE_INTERRUPT.
 *
 * Every descriptor the parasite holds in the task is made by the parasite
 * itself, into the area, so that its cure can always close it: whatever
 * the moment criu dies at, the daemon either runs or starts again from
 * its head (the thread is parked there), and reaches its cure.
 *  - The control pipe: at a start with ctl_fds[0] < 0 the daemon makes it
 *    (pipe2 into ctl_fds, pipe_flags); criu, which started it with syscall
 *    stops, takes its write end (pidfd_getfd) at that pipe2's exit stop,
 *    then lets it go on: the daemon closes the task's write end at once, so
 *    criu's is the last one.
 *  - DUMP_PAGES' pipe: PARASITE_CMD_PAGE_PIPE makes it into page_pipe,
 *    criu takes the read end, PARASITE_CMD_CLOSE closes ends of it.
 *
 * Self-cure.  End of file on the control pipe means criu is gone (killed:
 * the kernel closed its write end), and PARASITE_CMD_FINI asks for the
 * same: the parasite closes its descriptors (ctl_fds, page_pipe), drops a
 * SIGPIPE it caused itself, and rt_sigreturns through the frame criu built
 * at frame_sp (arch/<arch>/infect.c), which holds the thread's own
 * registers and signal mask: the thread goes on where it was stopped.
 * criu unloads (and moves the parasite to another thread) the same way: it
 * starts the daemon with PARASITE_F_CURE, which goes straight to the cure,
 * and follows it with syscall stops up to the exit of its rt_sigreturn, where the thread is itself again with nothing of ours
 * open.  At each start the daemon stores its sigaltstack into the frame
 * (frame_altstack), so that the sigreturn leaves it as it is.  With
 * frame_sp 0 (no frame builder) it can only wait forever in ppoll().
 */
#ifndef CRIU_PIE_PARASITE_H
#define CRIU_PIE_PARASITE_H

#include <stdint.h>

#define PARASITE_MAGIC 0x50415241u /* "PARA" */
#define PARASITE_VERSION 5

#define PARASITE_F_ONESHOT 0x1u
#define PARASITE_F_CURE 0x2u /* the daemon cures itself at its start */
#define PARASITE_F_EXIT 0x4u /* with F_CURE: and leaves by the exit chain */

enum parasite_state {
	PARASITE_ST_IDLE = 0,  /* set by criu before the start */
	PARASITE_ST_READY = 1, /* the daemon is up and waits for a command */
	PARASITE_ST_CMD = 2,   /* criu posted a command */
	PARASITE_ST_DONE = 3,  /* the parasite answered it */
};

enum parasite_cmd {
	PARASITE_CMD_FINI = 0,		/* cure: close fds, sigreturn (no answer) */
	PARASITE_CMD_ECHO = 1,		/* struct parasite_echo_args */
	PARASITE_CMD_GET_SIGACTIONS = 2, /* struct parasite_sigactions_args */
	PARASITE_CMD_GET_ITIMERS = 3,	/* struct parasite_itimers_args */
	PARASITE_CMD_DUMP_PAGES = 4,	/* struct parasite_dump_pages_args */
	PARASITE_CMD_GET_TASK_STATE = 5, /* struct parasite_task_state */
	PARASITE_CMD_GET_MISC = 6,	/* struct parasite_misc */
	PARASITE_CMD_GET_THREAD_MISC = 7, /* struct parasite_thread_misc */
	PARASITE_CMD_GET_POSIX_TIMERS = 8, /* struct parasite_posix_timers_args */
	PARASITE_CMD_MEMTRACK_ARM = 9,	/* struct parasite_memtrack_args */
	PARASITE_CMD_CLOSE_FD = 10,	/* struct parasite_close_fd_args */
	PARASITE_CMD_PAGE_PIPE = 11,	/* none: pipe2(page_pipe, pipe_flags) */
	PARASITE_CMD_CLOSE = 12,	/* struct parasite_close_args */
	PARASITE_NR_CMDS
};

struct parasite_area {
	uint32_t magic;	  /* PARASITE_MAGIC */
	uint32_t version; /* PARASITE_VERSION */
	uint32_t flags;	  /* PARASITE_F_* */
	uint32_t state;	  /* enum parasite_state; the futex word */
	uint32_t cmd;	  /* enum parasite_cmd */
	uint32_t nr_cmds; /* answered so far (daemon), for diagnostics */
	int64_t ret;	  /* >= 0 or -errno */
	uint64_t args_size; /* bytes usable in args[] */
	int32_t ctl_fds[2];	   /* the control pipe in the task, -1: none */
	int32_t page_pipe[2];	   /* DUMP_PAGES' pipe in the task, -1: none */
	uint64_t frame_sp;	   /* the stack pointer of the cure's sigreturn */
	uint64_t frame_altstack;   /* where in the frame the stack_t goes */
	uint64_t pending_at_start; /* rt_sigpending() at the daemon's start */
	int32_t pipe_flags;	   /* pipe2()'s flags (O_CLOEXEC), set by criu */
	int32_t track_fd;	   /* MEMTRACK_ARM's userfaultfd until CLOSE_FD, -1 */
	/*
	 * frame_dst != 0: the frame is built for the thread's own stack, below
	 * what its code may use there, and kept at frame_src in the area
	 * until the cure copies it (frame_len bytes) to frame_dst; frame_sp
	 * points into that copy, frame_altstack into the area's.
	 * exit_g1 != 0: the exit chain (compel/exit-chain.c), through which a
	 * cure without criu unmaps [self_start, self_start + self_len) on its
	 * way out, leaving nothing of ours in the task.
	 */
	uint64_t frame_src;
	uint64_t frame_dst;
	uint64_t frame_len;
	uint64_t exit_g1;
	uint64_t exit_g2;
	uint64_t exit_arg;
	uint64_t self_start;
	uint64_t self_len;
	/* Visits (PARASITE_BLOB_ENTRY_VISIT, below): threads in one now. */
	uint32_t visitors;
	uint32_t pad2;
	uint64_t visit_at; /* the struct parasite_visit, in the area */
	/*
	 * restart_code != 0 (compel_arch_restart_choice()): the thread was
	 * stopped in a syscall whose end the next signal decides.  The frame
	 * at frame_src makes the call again; the one at frame_eintr_src,
	 * built for the same place, ends it with -EINTR, and the cure copies
	 * that one instead when the kernel would have: a signal waits that
	 * the thread's own mask (frame_mask) lets through, pending now or
	 * held by criu (held: criu sends it again at the release), and the
	 * first of them that is not ignored has a handler the code says
	 * -EINTR for (parasite_ends_eintr()).  Without that choice a
	 * handler would return into a fresh call (a read() that sleeps on
	 * instead of its -EINTR: the program's wakeup lost).
	 */
	uint64_t frame_eintr_src;
	uint64_t frame_mask;
	uint64_t held;
	uint32_t restart_code;
	uint32_t pad3;
	/* The command's arguments and results, in place. */
	uint64_t args[] __attribute__((aligned(16)));
};

/* PARASITE_CMD_CLOSE: which of the page pipe's ends to close. */
#define PARASITE_CLOSE_PAGE_R 0x1u
#define PARASITE_CLOSE_PAGE_W 0x2u
struct parasite_close_args {
	uint32_t mask;
	uint32_t pad;
};

/* PARASITE_CMD_ECHO: proves the round trip; ret is the pid. */
struct parasite_echo_args {
	uint64_t in;
	uint64_t out; /* = in + 1 */
	int32_t pid;  /* getpid() in the task */
	int32_t tid;  /* gettid() of the thread running the parasite */
};

/* The kernel's struct sigaction for rt_sigaction (all four arches have
 * sa_restorer and a 64-bit sigset here). */
struct parasite_ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

#define PARASITE_NSIG 64

/* PARASITE_CMD_GET_SIGACTIONS: sa[sig - 1] for sig 1..64. */
struct parasite_sigactions_args {
	struct parasite_ksigaction sa[PARASITE_NSIG];
	int32_t failed_sig; /* the signal whose rt_sigaction failed, or 0 */
	uint32_t pad;
};

struct parasite_timeval {
	int64_t sec;
	int64_t usec;
};

struct parasite_itimerval {
	struct parasite_timeval interval;
	struct parasite_timeval value;
};

/* PARASITE_CMD_GET_ITIMERS: ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF. */
struct parasite_itimers_args {
	struct parasite_itimerval it[3];
};

struct parasite_iovec {
	uint64_t base; /* address in the task */
	uint64_t len;
};

/* At most this many iovecs per vmsplice call (the kernel's UIO_MAXIOV). */
#define PARASITE_IOV_MAX 1024

/*
 * PARASITE_CMD_DUMP_PAGES: vmsplice every iovec, in order, into pipe_fd (a
 * descriptor of the task, passed to it beforehand).  The pipe must be big
 * enough or drained meanwhile.  ret is the number of bytes spliced; on error
 * ret is -errno and `spliced' says how far it got.
 */
struct parasite_dump_pages_args {
	int32_t pipe_fd;
	uint32_t splice_flags; /* e.g. SPLICE_F_GIFT */
	uint32_t nr_iovs;
	uint32_t pad;
	uint64_t spliced;
	struct parasite_iovec iov[];
};

/* The kernel's stack_t on all four architectures (64-bit). */
struct parasite_stack {
	uint64_t sp;
	int32_t flags; /* SS_DISABLE, SS_AUTODISARM (never SS_ONSTACK: the
			* parasite runs on its own stack) */
	uint32_t pad;
	uint64_t size;
};

/* Which query of PARASITE_CMD_GET_TASK_STATE failed. */
enum parasite_task_state_step {
	PARASITE_TS_OK = 0,
	PARASITE_TS_SIGALTSTACK,
	PARASITE_TS_PDEATHSIG,
	PARASITE_TS_SUBREAPER,
	PARASITE_TS_SECUREBITS,
	PARASITE_TS_NO_NEW_PRIVS,
	PARASITE_TS_DUMPABLE,
	PARASITE_TS_TID_ADDRESS,
	PARASITE_TS_TLS,
};

/*
 * PARASITE_CMD_GET_TASK_STATE: per-process and per-thread state that only
 * the task itself can ask for, read in the thread that runs the parasite.
 * tls[] is the thread pointer as the task's own code sees it (arch hook
 * pie_get_tls() in arch/<arch>/pie-head.S):
 *   x86_64   fs base, gs base (arch_prctl ARCH_GET_FS / ARCH_GET_GS)
 *   aarch64  tpidr_el0, 0
 *   ppc64le  r13, 0
 *   s390x    a0:a1 (a0 the high half), 0
 */
struct parasite_task_state {
	struct parasite_stack altstack; /* sigaltstack() */
	uint32_t umask;			/* umask(), set back at once */
	int32_t pdeath_sig;		/* PR_GET_PDEATHSIG */
	int32_t child_subreaper;	/* PR_GET_CHILD_SUBREAPER */
	int32_t securebits;		/* PR_GET_SECUREBITS */
	int32_t no_new_privs;		/* PR_GET_NO_NEW_PRIVS */
	int32_t dumpable;		/* PR_GET_DUMPABLE */
	uint64_t tid_address;		/* PR_GET_TID_ADDRESS; 0 when the kernel
					 * lacks it (no CONFIG_CHECKPOINT_RESTORE) */
	uint64_t tls[2];
	uint32_t failed_step;		/* enum parasite_task_state_step */
	uint32_t pad2;
};

/* RLIM_NLIMITS on all four architectures. */
#define PARASITE_NR_RLIMITS 16

/* The kernel's struct rlimit64 (prlimit64). */
struct parasite_rlimit {
	uint64_t cur;
	uint64_t max;
};

/*
 * The per-thread part of PARASITE_CMD_GET_MISC, and all of
 * PARASITE_CMD_GET_THREAD_MISC: what the calling thread alone can tell.
 * A value whose query failed is 0 (what dump stores then); its *_ret says
 * why (0 or -errno).
 */
struct parasite_thread_misc {
	struct parasite_stack altstack; /* sigaltstack() */
	uint64_t tid_address;		/* PR_GET_TID_ADDRESS (clear_child_tid) */
	int32_t pdeath_sig;		/* PR_GET_PDEATHSIG */
	int32_t altstack_ret;
	int32_t tid_address_ret;
	int32_t pdeath_sig_ret;
};

/*
 * A visit: a thread that is not the daemon's runs PARASITE_BLOB_ENTRY_VISIT
 * on the visit stack, started by criu with the area as its argument while
 * the daemon's thread stays stopped.  It blocks every signal, reads its
 * own struct parasite_thread_misc into misc, stores its sigaltstack into
 * its frame (at frame_altstack), copies the frame (built by
 * criu for its own stack, kept at frame_src) to frame_dst, and leaves by
 * the exit chain with a FUTEX_WAKE_OP that takes one from area->visitors
 * (criu added it before starting the visit): the kernel counts it down
 * once the thread runs code of its own, never in the area, so that a
 * daemon curing itself without criu can wait for visitors to be 0 before
 * it unmaps the area.  The rt_sigreturn through its frame gives the thread
 * back its registers and mask.
 */
struct parasite_visit {
	uint64_t frame_altstack; /* the frame's stack_t, in the area's copy */
	uint64_t frame_sp;
	uint64_t frame_src;
	uint64_t frame_dst;
	uint64_t frame_len;
	/* the visiting thread's own, as in struct parasite_area */
	uint64_t frame_eintr_src;
	uint64_t frame_mask;
	uint64_t held;
	uint32_t restart_code;
	uint32_t pad;
	struct parasite_thread_misc misc;
};

/*
 * PARASITE_CMD_GET_MISC: in one command, everything about the task that
 * only the task itself can tell, for criu dump: the process-wide state and
 * the calling thread's (thread).  Every query runs, whatever the others
 * gave, and the command answers 0: each result is kept, and criu decides
 * which failures matter (a failed rlimit does, a failed rt_sigaction means
 * SIG_DFL).  Raw results (a value, or -errno) are int64_t; values read
 * through a pointer are 0 where their *_ret is not.
 */
/* membarrier commands (linux/membarrier.h) */
#define PARASITE_MEMBARRIER_GET_REGISTRATIONS (1 << 9)
#define PARASITE_MEMBARRIER_GUESSED (1ll << 40)

/*
 * Before GET_REGISTRATIONS: a private expedited command of a kind works
 * only when the address space registered for it (-EPERM otherwise), so
 * issuing it (a harmless barrier) tells; global expedited registration
 * cannot be seen.  mb(cmd) runs membarrier(cmd, 0, 0) in the task.
 */
#define PARASITE_MEMBARRIER_PROBE(mb)                                                         \
	((mb(1 << 3) == 0 ? 1 << 4 : 0) | (mb(1 << 5) == 0 ? 1 << 6 : 0) |                \
	 (mb(1 << 7) == 0 ? 1 << 8 : 0) | PARASITE_MEMBARRIER_GUESSED)

struct parasite_misc {
	struct parasite_ksigaction sa[PARASITE_NSIG]; /* sa[sig - 1] */
	int32_t sa_ret[PARASITE_NSIG];		      /* rt_sigaction */
	struct parasite_rlimit rlim[PARASITE_NR_RLIMITS];
	int32_t rlim_ret[PARASITE_NR_RLIMITS];	      /* prlimit64(0, i, NULL, &rlim[i]) */
	struct parasite_itimerval it[3];	      /* REAL, VIRTUAL, PROF */
	int32_t it_ret[3];			      /* getitimer */
	int32_t child_subreaper;		      /* PR_GET_CHILD_SUBREAPER */
	int32_t child_subreaper_ret;
	int32_t pad;
	int64_t securebits;  /* prctl(PR_GET_SECUREBITS) */
	int64_t dumpable;    /* prctl(PR_GET_DUMPABLE) */
	int64_t personality; /* personality(0xffffffff): the current one */
	int64_t brk;	     /* brk(0): the current break */
	int64_t thp_disable; /* prctl(PR_GET_THP_DISABLE) */
	/* the membarrier REGISTER_* commands done on this address space, from
	 * MEMBARRIER_CMD_GET_REGISTRATIONS; before Linux 6.3, probed (see
	 * parasite_membarrier_probe) with PARASITE_MEMBARRIER_GUESSED set */
	int64_t membarrier_regs;
	struct parasite_thread_misc thread;
};

/* The kernel's struct __kernel_itimerspec (64-bit fields on all four). */
struct parasite_itimerspec {
	int64_t interval_sec;
	int64_t interval_nsec;
	int64_t value_sec;
	int64_t value_nsec;
};

struct parasite_posix_timer {
	int32_t id;	     /* in: the timer's id */
	int32_t gettime_ret; /* timer_gettime: 0 or -errno */
	int64_t overrun;     /* timer_getoverrun: the count or -errno */
	struct parasite_itimerspec spec; /* 0 when gettime_ret is not */
};

/*
 * PARASITE_CMD_GET_POSIX_TIMERS: timer_gettime and timer_getoverrun of
 * each of nr timers (ids from /proc/PID/timers).  Like GET_MISC it answers
 * 0 and keeps each result; -E2BIG when nr does not fit in the area.
 */
struct parasite_posix_timers_args {
	uint32_t nr;
	uint32_t pad;
	struct parasite_posix_timer t[];
};


/*
 * PARASITE_CMD_MEMTRACK_ARM: the memory change tracker of core/mem-track.c.
 * A userfaultfd is made in the task (its address space is the one it
 * tracks), its API is asked for `features' (the kernel's answer goes back
 * there), and each range is registered in write-protect mode.  ret is the
 * descriptor, which criu takes with pidfd_getfd and then has closed with
 * PARASITE_CMD_CLOSE_FD; on any error the descriptor is closed here and ret
 * is -errno, `failed' the range that failed (nr: the API call).  The ioctl
 * numbers come from criu, built for the same architecture: the blob has
 * no kernel headers.
 */
struct parasite_memtrack_args {
	uint64_t api_ioctl;	 /* UFFDIO_API */
	uint64_t register_ioctl; /* UFFDIO_REGISTER */
	uint64_t features;	 /* in: wanted; out: what the kernel offers */
	uint32_t flags;		 /* of userfaultfd() */
	uint32_t nr;
	uint32_t failed;
	uint32_t pad;
	struct parasite_iovec range[];
};

/* PARASITE_CMD_CLOSE_FD: close(fd) in the task. */
struct parasite_close_fd_args {
	int32_t fd;
	uint32_t pad;
};

#endif
