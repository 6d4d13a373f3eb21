/*
 * The parasite at work inside an infected task: loading the blob
 * (core/pie/parasite.c), running its commands, unloading it.
 *
 *   compel_infect(pid, 0, &ictx);
 *   parasite_load(ictx, &ctl);          area mapped, blob installed, ECHO ok
 *   parasite_get_misc(ctl, &misc);      ... any commands, in any order
 *   parasite_dump_pages(ctl, iov, n, fd);
 *   parasite_unload(ctl);               its cure, area unmapped; frees ctl
 *   compel_cure(ictx, COMPEL_LEAVE_AS_FOUND);
 *
 * The parasite runs in the victim thread, on its own stack in the shared
 * area, with every signal blocked, as a daemon: criu posts a command in the
 * area, writes a byte into the control pipe and waits on a futex word there
 * (see core/pie/parasite.h).  Every descriptor it holds in the task it
 * makes itself (the control pipe at its first start in a thread,
 * dump_pages' pipe by a command) and its cure closes them all, so that a
 * criu killed at any moment leaves none; unloading and moving to another
 * thread run that cure under criu's eyes (syscall stops up to its
 * rt_sigreturn) instead of injected closes.  ECHO at load
 * and the GET_*MISC and GET_POSIX_TIMERS commands stop it after their
 * answer and leave the task in a ptrace stop.  If criu dies at any moment
 * while the parasite is loaded, the parasite cures itself (x86_64 today;
 * the other arches wait in the parasite: see docs/compel.md).
 *
 * Every function returns 0 or a negative errno and logs its error once,
 * naming the pid.  When the task dies in the middle, calls return -ESRCH
 * (or -EFAULT when the parasite crashed) and keep nothing open in criu;
 * parasite_unload() and compel_cure() then release the rest.
 */
#ifndef CRIU_PARASITE_CTL_H
#define CRIU_PARASITE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "compel.h"

#include "../../core/pie/parasite.h"

/*
 * What parasite_dump_pages() asks F_SETPIPE_SZ for, by default: the default
 * /proc/sys/fs/pipe-max-size, the most a criu without CAP_SYS_RESOURCE gets
 * (asked for more, it falls back to pipe-max-size).  A bigger pipe means
 * fewer command round trips: bench/bench-dump-pages.c moves about 9, 21 and
 * 35 GB/s to /dev/null through 64 KiB, 256 KiB and 1 MiB pipes; to a file,
 * copying into the page cache dominates whatever the pipe.
 */
#define PARASITE_PIPE_SIZE (1u << 20)

/* One loaded parasite.  Callers read the fields; only parasite.c writes them. */
struct parasite_ctl {
	struct infect_ctx *ictx;
	void *local;		    /* criu's view of the whole area */
	unsigned long remote;	    /* the task's view */
	size_t size;
	struct parasite_area *area; /* the command area, inside local */
	unsigned long area_remote;
	unsigned long entry;	    /* the blob's head in the task */
	unsigned long entry_visit;  /* its visit head */
	unsigned long stack_top;
	bool running;		    /* the daemon loop waits for commands */
	int ctl_wfd;		    /* criu's (the only) write end of the control pipe */
	size_t frame_off;	    /* the cure frame's room in the area */
	size_t frame_room;	    /* its size, and the visit frame's */
	size_t frame_eintr_off;	    /* the cure frame of the -EINTR outcome */
	size_t visit_off;	    /* the struct parasite_visit */
	size_t vstack_top;	    /* the top of the visit stack */
	size_t vframe_off;	    /* the visit frame's room */
	size_t vframe_eintr_off;    /* and its -EINTR outcome's */
	pid_t frame_tid;	    /* the thread the frame was built for */
	bool chain_looked;	    /* compel_find_exit_chain() ran */
	bool area_gone;		    /* the last cure unmapped it in the task */
	struct compel_exit_chain chain; /* g1 0: none */
	bool broken;		    /* it crashed or timed out: no more commands */
	int32_t task_pid;	    /* getpid() inside the task (its pid namespace) */
	size_t pipe_size;	    /* asked of F_SETPIPE_SZ by dump_pages */
	size_t pipe_size_got;	    /* what the kernel gave, at the last dump_pages */
	uint64_t nr_rounds;	    /* DUMP_PAGES commands run so far (statistics) */
};

int parasite_load(struct infect_ctx *ictx, struct parasite_ctl **out);

/* sa[sig - 1] for sig 1..64: the kernel's struct sigaction. */
int parasite_get_sigactions(struct parasite_ctl *ctl,
			    struct parasite_ksigaction sa[PARASITE_NSIG]);

/* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF. */
int parasite_get_itimers(struct parasite_ctl *ctl, struct parasite_itimerval it[3]);

/* sigaltstack, umask, prctl values and the thread pointer (see parasite.h). */
int parasite_get_task_state(struct parasite_ctl *ctl, struct parasite_task_state *st);

/*
 * What criu dump needs from inside the task (see struct parasite_misc):
 * signal actions, rlimits, itimers, prctl values, personality, brk, and the
 * victim thread's sigaltstack, clear_child_tid and pdeath signal.  Each
 * query's own result is in *m; 0 unless the command itself could not run.
 */
int parasite_get_misc(struct parasite_ctl *ctl, struct parasite_misc *m);

/*
 * The per-thread part, read in thread tid of the same task: tid becomes
 * compel's victim (compel_switch_victim(), which puts the previous
 * victim's registers back) and runs the parasite for this command; later
 * commands run in tid too.
 */
int parasite_get_thread_misc(struct parasite_ctl *ctl, pid_t tid, struct parasite_thread_misc *t);

/*
 * timer_gettime and timer_getoverrun of n POSIX timers: the caller fills
 * each id, the rest is filled in (see struct parasite_posix_timer).  Any
 * number of timers (several commands when the area cannot hold them all).
 */
int parasite_get_posix_timers(struct parasite_ctl *ctl, struct parasite_posix_timer *timers,
			      uint32_t n);

/*
 * The same three, answered by injected syscalls (compel_syscall(), one per
 * query, into a scratch page mapped for the call) in ictx's victim, for a
 * task the parasite cannot be loaded into: one that refuses a writable and
 * executable mapping (PR_SET_MDWE, an LSM), or a criu without
 * CAP_CHECKPOINT_RESTORE (no /proc/PID/map_files).  The same values as the
 * parasite's, about a hundred ptrace round trips slower
 * (compel/inject-state.c).
 */
int inject_get_misc(struct infect_ctx *ictx, struct parasite_misc *m);
int inject_get_thread_misc(struct infect_ctx *ictx, struct parasite_thread_misc *t);
int inject_get_posix_timers(struct infect_ctx *ictx, struct parasite_posix_timer *timers,
			    uint32_t n);

/*
 * A command without a wrapper of its own here (core/mem-track.c's): size
 * bytes of args go into the area, the command runs in the daemon, the
 * area's bytes come back into args.  *result is the parasite's answer (>= 0
 * or -errno).  0, -E2BIG when args do not fit, or what run_cmd gives.
 */
int parasite_run(struct parasite_ctl *ctl, uint32_t cmd, void *args, size_t size, long *result);

/*
 * Writes the bytes of the task's ranges (addresses in the task; any
 * alignment, any size), in order, to criu's out_fd at its file position.
 * Pass all ranges of a task in one call: each call pays about 70 us for
 * its pipe (see below) besides the pages.
 *
 * The parasite makes a pipe in the task (PARASITE_CMD_PAGE_PIPE), its read
 * end is fetched into criu (pidfd_getfd, or /proc/PID/fd/N on kernels
 * without it) and made pipe_size big, and the parasite closes its own;
 * the parasite vmsplices ranges into the task's write end until the pipe
 * is full, criu splices that out to out_fd, and so on.  The task's pipe
 * descriptors are closed by the parasite before returning (by injected
 * closes when it no longer answers), on success and on error.  On error out_fd holds a prefix of the bytes and
 * the log names the range that failed.
 */
int parasite_dump_pages(struct parasite_ctl *ctl, const struct iovec *remote_ranges, int n,
			int out_fd);

/* For the next dump_pages (rounded up by the kernel to a power of two pages). */
void parasite_set_pipe_size(struct parasite_ctl *ctl, size_t bytes);

/*
 * Tests: what a killed criu does to the parasite.  The daemon runs, criu's
 * end of the control pipe is closed: the parasite must cure itself
 * (registers, mask and the interrupted syscall back, its descriptors
 * closed; the area stays mapped).  compel forgets the victim (nothing is
 * written back at cure) and ctl is freed.  0 or -errno.
 */
int parasite_orphan(struct parasite_ctl *ctl);

/*
 * The daemon cures itself under criu's eyes (its descriptors closed, the
 * thread back in its own state, in a ptrace stop; without a cure frame:
 * stopped, and its pipes closed by injected closes), then the area is
 * unmapped on both sides and ctl freed.  Goes on past errors; returns the first one.  After a crash or
 * the task's death it only releases what is left (compel_cure() too).
 */
int parasite_unload(struct parasite_ctl *ctl);

#endif
