/*
 * The arguments of the restorer blob, shared by the blob
 * (core/pie/restorer.c) and criu, which fills them.  The restorer runs in
 * the task being restored, entered at RESTORER_BLOB_ENTRY_HEAD with the first
 * argument register pointing at a struct restorer_args (its address in the
 * task).  It does, in order, what `flags' asks:
 *
 *   RESTORER_F_UNMAP      munmap(unmap_addr, unmap_len): criu's own mappings
 *   RESTORER_F_MMAP       map each struct restorer_vma at its fixed address,
 *                         copying copy_len bytes from copy_from into it
 *   RESTORER_F_EXIT       exit_group(exit_code)
 *   RESTORER_F_TASK       the whole task (struct restorer_task, below):
 *                         unmap criu, move the vDSO, map and fill the VMAs,
 *                         restore the task's state, credentials last, then
 *                         report to criu and wait for it (criu puts the
 *                         registers back through ptrace and unmaps us);
 *                         the wait is a read of criu's lifeline pipe, whose
 *                         only writer is criu: EOF means criu died before
 *                         taking the task over, and the task exits
 *
 * On failure it stores -errno in ret, the step and VMA index in failed_step
 * and failed_index, and returns (the head traps) without doing the rest.
 * Every address here is an address in the task.
 */
#ifndef CRIU_PIE_RESTORER_H
#define CRIU_PIE_RESTORER_H

#include <stdint.h>

#define RESTORER_MAGIC 0x52535452u /* "RSTR" */
#define RESTORER_VERSION 5

#define RESTORER_F_UNMAP 0x1u
#define RESTORER_F_MMAP 0x2u
#define RESTORER_F_EXIT 0x8u
#define RESTORER_F_TASK 0x10u

enum restorer_step {
	RESTORER_STEP_NONE = 0,
	RESTORER_STEP_ARGS,
	RESTORER_STEP_UNMAP,
	RESTORER_STEP_MMAP,
	RESTORER_STEP_COPY,
	RESTORER_STEP_MOVE,	/* mremap of the vDSO */
	RESTORER_STEP_PAGES,	/* reading pages from the image */
	RESTORER_STEP_PROTECT,	/* final mprotect / madvise */
	RESTORER_STEP_MM,	/* prctl(PR_SET_MM_MAP) */
	RESTORER_STEP_SIGNALS,	/* sigactions, sigaltstack, pending signals */
	RESTORER_STEP_TIMERS,
	RESTORER_STEP_RLIMITS,
	RESTORER_STEP_MISC,	/* personality, umask, comm, prctl state */
	RESTORER_STEP_CREDS,
	RESTORER_STEP_THREADS,	/* creating the other threads */
	RESTORER_STEP_POSIX_TIMERS,
	RESTORER_STEP_DONE,	/* everything restored: waiting for criu */
};

struct restorer_vma {
	uint64_t addr;
	uint64_t len;
	uint64_t pgoff; /* file offset in bytes */
	uint32_t prot;
	uint32_t flags; /* MAP_FIXED is added */
	int32_t fd;	/* -1 for anonymous */
	uint32_t pad;
	uint64_t copy_from; /* 0: nothing to copy */
	uint64_t copy_len;
	/* RESTORER_F_TASK: the final protection and advice */
	uint32_t final_prot;
	uint32_t fill; /* pages are read into it: mapped writable first */
	uint64_t madv; /* bit (1 << MADV_x) per advice */
	uint64_t premap; /* criu mapped and filled it there: mremap it */
};

struct restorer_range {
	uint64_t addr;
	uint64_t len;
};

/* mremap(from, len) to `to': the kernel's vDSO and data pages */
struct restorer_move {
	uint64_t from;
	uint64_t len;
	uint64_t to;
};

/* pread(pages_fd, addr, len, off) */
struct restorer_pages {
	uint64_t addr;
	uint64_t len;
	uint64_t off;
};

struct restorer_ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

struct restorer_posix_timer {
	int32_t id;
	int32_t clock;
	int32_t signo;
	int32_t notify; /* SIGEV_* */
	int32_t tid;	/* SIGEV_THREAD_ID */
	uint32_t pad;
	uint64_t sival;
	int64_t isec, insec, vsec, vnsec;
};

struct restorer_itimer {
	int64_t isec, iusec, vsec, vusec;
};

/* struct prctl_mm_map of <linux/prctl.h> */
struct restorer_mm_map {
	uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t auxv; /* pointer */
	uint32_t auxv_size;
	int32_t exe_fd;
};

struct restorer_creds {
	uint32_t uid, euid, suid, fsuid;
	uint32_t gid, egid, sgid, fsgid;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	uint32_t secbits;
	uint32_t no_new_privs;
	uint32_t ngroups;
	uint32_t last_cap; /* highest capability number of this kernel */
	uint32_t groups[64];
	/* seccomp, installed with the credentials: filters oldest first */
	uint64_t seccomp_filters; /* struct restorer_seccomp[nr_seccomp] */
	uint32_t nr_seccomp;
	uint32_t seccomp_strict; /* strict mode, entered after everything */
};

struct restorer_seccomp {
	uint64_t insns; /* struct sock_filter[len] */
	uint32_t len;
	uint32_t flags;
};

#define RESTORER_RLIMITS 16
#define RESTORER_SIGINFO_SIZE 128

/* What the restorer reports in criu's shared memory. */
struct restorer_status {
	int32_t pid;
	uint32_t step;	/* enum restorer_step reached (DONE when finished) */
	int64_t ret;	/* -errno of the failing step */
	uint32_t index;
	uint32_t done;	/* futex word: 1 when finished (or failed) */
	uint64_t blob_addr; /* where the restorer and its arguments are mapped */
	uint64_t blob_len;
	/* statistics (stats-restore) */
	uint64_t pages_restored;
	uint64_t pages_compared;    /* inherited pages compared with the image */
	uint64_t pages_skipped_cow; /* ... and found equal: left shared */
	int32_t lifeline_fd; /* the task's read end of criu's lifeline pipe */
	uint32_t pad;
};

/* struct clone_args of <linux/sched.h> (clone3) */
struct restorer_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

/* One more thread of the task, made by the restorer with its TID. */
struct restorer_thread {
	struct restorer_clone_args ca; /* first: the new thread finds the rest from it */
	int32_t set_tid;	       /* ca.set_tid points here: a pid_t array */
	int32_t set_tid_pad;
	uint64_t clear_tid_addr;
	uint64_t rseq_ptr;
	uint32_t rseq_len, rseq_sig;
	uint64_t ss_sp, ss_size;
	int32_t ss_flags;
	uint32_t has_sas;
	uint32_t pdeath_sig;
	uint32_t has_creds;
	struct restorer_creds creds;
	uint64_t status; /* struct restorer_status in criu's shared memory */
	uint32_t wait_word;
	int32_t lifeline_fd; /* read end of criu's lifeline: EOF, criu died */
	uint32_t nr_siginfo; /* its own pending signals */
	uint64_t siginfo;
	char comm[16];
	uint64_t robust_list; /* set_robust_list(robust_list, robust_len) */
	uint64_t robust_len;
};

#define RESTORER_THREAD_STACK 16384

/* bytes written over code after the pages are in (vDSO proxy jumps) */
struct restorer_patch {
	uint64_t addr;
	uint32_t len;
	uint8_t bytes[32];
};

struct restorer_task {
	uint64_t unmaps; /* struct restorer_range[nr_unmaps] */
	uint32_t nr_unmaps;
	uint32_t nr_moves;
	uint64_t moves; /* struct restorer_move[nr_moves], in order */
	uint64_t pages; /* struct restorer_pages[nr_pages] */
	uint32_t nr_pages;
	int32_t pages_fd;
	uint64_t close_fds; /* int32_t[nr_close_fds]: closed before the creds */
	uint32_t nr_close_fds;
	uint32_t has_mm_map;
	struct restorer_mm_map mm_map;

	struct restorer_ksigaction sa[64]; /* sa[sig - 1] */
	uint64_t sa_valid;		   /* bit sig - 1: restore sa[sig - 1] */
	uint64_t siginfo; /* pending: RESTORER_SIGINFO_SIZE bytes each */
	uint32_t nr_siginfo_shared; /* first the process-wide ones */
	uint32_t nr_siginfo_thread; /* then the leader's own */
	struct restorer_itimer itimers[3];
	uint64_t ss_sp, ss_size;
	int32_t ss_flags;
	uint32_t has_sas;
	uint32_t personality;
	uint32_t umask;
	uint32_t pdeath_sig;
	uint32_t subreaper;
	int32_t dumpable;
	uint32_t nr_rlimits;
	uint64_t rlimits[RESTORER_RLIMITS][2];
	uint64_t clear_tid_addr;
	uint64_t rseq_ptr; /* rseq area to register, 0: none */
	uint32_t rseq_len;
	uint32_t rseq_sig;
	char comm[16];
	uint32_t has_creds;
	uint32_t pad;
	struct restorer_creds creds;

	uint64_t status; /* struct restorer_status in criu's shared memory */
	uint32_t wait_word; /* unused: the restorer waits on the lifeline */
	int32_t lifeline_fd; /* read end of criu's lifeline pipe: EOF, criu died */
	uint32_t pad2;
	uint32_t nr_threads;
	uint64_t threads; /* struct restorer_thread[nr_threads], each with its stack set */
	uint64_t posix_timers; /* struct restorer_posix_timer[nr_posix_timers], by id */
	uint32_t nr_posix_timers;
	uint32_t nr_patches;
	uint64_t patches; /* struct restorer_patch[nr_patches] */
	uint64_t robust_list; /* the leader's set_robust_list(robust_list, robust_len) */
	uint64_t robust_len;
	uint32_t thp_disable;	/* PR_SET_THP_DISABLE */
	uint32_t membarrier_regs; /* membarrier REGISTER_* commands to issue */
};

struct restorer_args {
	uint32_t magic;
	uint32_t version;
	uint32_t flags; /* RESTORER_F_* */
	int32_t exit_code;
	uint64_t unmap_addr;
	uint64_t unmap_len;
	uint64_t vmas; /* struct restorer_vma[nr_vmas] */
	uint32_t nr_vmas;
	uint32_t pad;
	/* results */
	int64_t ret;
	uint32_t failed_step; /* enum restorer_step */
	uint32_t failed_index;
	/* RESTORER_F_TASK */
	struct restorer_task task;
};

#endif
