/* What dump reads from /proc/PID. */
#ifndef CRIU_PROC_H
#define CRIU_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_stat {
	pid_t pid, ppid, pgid, sid;
	char state;
	char comm[64];
	unsigned int flags;
	unsigned int tty_nr; /* the controlling terminal's device, 0 for none */
	long nice;
	unsigned int exit_signal;
	unsigned long start_code, end_code, start_stack;
	unsigned long start_data, end_data, start_brk;
	unsigned long arg_start, arg_end, env_start, env_end;
	int exit_code;
};

/* PF_KTHREAD in proc_stat.flags: a kernel thread */
#define PROC_PF_KTHREAD 0x00200000u

struct proc_status {
	unsigned int uid[4], gid[4]; /* real, effective, saved, fs */
	unsigned int ngroups;
	unsigned int groups[64];
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	uint64_t sig_blk, sig_pnd, shd_pnd;
	unsigned int umask;
	int no_new_privs;
	int seccomp;
	int threads;
	pid_t tracer;
};

int proc_read_stat(pid_t pid, pid_t tid, struct proc_stat *st);
int proc_read_status(pid_t pid, pid_t tid, struct proc_status *st);

/* Thread ids of pid, sorted, leader first; *n entries, malloc'ed. */
int proc_list_threads(pid_t pid, pid_t **tids, int *n);
/* Children of every thread of pid, malloc'ed. */
int proc_list_children(pid_t pid, pid_t **kids, int *n);

/* One line of /proc/PID/maps plus what smaps adds. */
struct proc_vma {
	unsigned long start, end, pgoff;
	unsigned int prot;   /* PROT_* */
	bool shared;	     /* 's' in the permissions */
	unsigned int dev_major, dev_minor;
	unsigned long ino;
	char *path;	     /* "" for anonymous, "[heap]", ... */
	uint64_t vmflags;    /* PROC_VMF_* from smaps VmFlags */
};

#define PROC_VMF_DONTFORK (1u << 0) /* dc */
#define PROC_VMF_WIPEONFORK (1u << 1) /* wf */
#define PROC_VMF_HUGEPAGE (1u << 2) /* hg */
#define PROC_VMF_NOHUGEPAGE (1u << 3) /* nh */
#define PROC_VMF_GROWSDOWN (1u << 4) /* gd */
#define PROC_VMF_SEQ_READ (1u << 5) /* sr */
#define PROC_VMF_RAND_READ (1u << 6) /* rr */
#define PROC_VMF_DONTDUMP (1u << 7) /* dd */
#define PROC_VMF_MERGEABLE (1u << 8) /* mg */
#define PROC_VMF_LOCKED (1u << 9) /* lo */
#define PROC_VMF_NORESERVE (1u << 10) /* nr */
#define PROC_VMF_SHADOW_STACK (1u << 11) /* ss */
#define PROC_VMF_MTE (1u << 12) /* mt */
#define PROC_VMF_SEALED (1u << 13) /* sl */

int proc_read_vmas(pid_t pid, struct proc_vma **vmas, int *n);
void proc_free_vmas(struct proc_vma *vmas, int n);

/* The whole content of a small /proc file, NUL-terminated; *len bytes. */
char *proc_read_file(const char *path, size_t *len);

#endif
