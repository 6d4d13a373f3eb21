/*
 * What compel needs from each architecture: implemented by
 * arch/<arch>/regs.c (ptrace access to the registers) and
 * arch/<arch>/infect.c (instructions, calling conventions, the syscall
 * restart bookkeeping).  Portable code in compel/ sees registers only
 * through these functions.
 *
 * The register set is everything a task can observe: the general registers,
 * the "syscall state" the kernel keeps next to them (x86 orig_ax, arm64
 * syscallno, ppc orig_gpr3/trap, s390 orig_gpr2 and system_call) and the
 * whole FPU/vector state (x86 xsave area, arm64 FPSIMD + SVE, ppc
 * FPR/VMX/VSX, s390 FPR + vector registers).
 */
#ifndef CRIU_COMPEL_ARCH_H
#define CRIU_COMPEL_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct compel_regs;

/* ---- regs.c ---------------------------------------------------------- */

struct compel_regs *compel_arch_regs_new(void);
void compel_arch_regs_free(struct compel_regs *r);
/* Copies the general registers and the syscall state (not the FPU). */
void compel_arch_regs_copy(struct compel_regs *dst, const struct compel_regs *src);

/* Everything: general, syscall state, FPU/vector. 0 or -errno. */
int compel_arch_get_regs(pid_t tid, struct compel_regs *r);
int compel_arch_set_regs(pid_t tid, const struct compel_regs *r);
/* Only the general registers and the syscall state: the injection path. */
int compel_arch_get_gregs(pid_t tid, struct compel_regs *r);
int compel_arch_set_gregs(pid_t tid, const struct compel_regs *r);

/* ---- infect.c -------------------------------------------------------- */

struct compel_arch_desc {
	const char *name;
	/* the syscall instruction, searched for in the task's code */
	const unsigned char *syscall_insn;
	size_t syscall_len;
	/* the instruction that ends injected code (reported as SIGTRAP) */
	const unsigned char *trap_insn;
	size_t trap_len;
	size_t insn_align;	/* instructions start at multiples of this */
	size_t red_zone;	/* bytes below sp the ABI lets code use */
	/* mmap takes its six arguments in a memory block (s390x old_mmap) */
	bool mmap_args_in_memory;
	/*
	 * Whether writing the saved registers back restores an interrupted
	 * syscall's restart exactly.  When false (arm64: orig_x0 is not
	 * visible to ptrace) compel first lets the kernel restart the syscall
	 * and catches it at its entry (see restart.c).
	 */
	bool restart_precise;
	/* the bytes a g1 of the exit chain can start with (exit-chain.c) */
	const unsigned char *exit_first;
	size_t exit_first_len;
	/* bytes every g2 holds, at most exit_g2_back bytes from its start:
	 * what memmem() looks for before compel_arch_exit_g2() checks */
	const unsigned char *exit_g2_seed;
	size_t exit_g2_seed_len;
	size_t exit_g2_back;
	/* g1 returns to the word on the stack (x86_64: the frame's pretcode),
	 * not to a link register */
	bool exit_ret_on_stack;
};

extern const struct compel_arch_desc compel_arch;

unsigned long compel_arch_get_ip(const struct compel_regs *r);
unsigned long compel_arch_get_sp(const struct compel_regs *r);

/* 0 when compel can run code in this task; -EOPNOTSUPP (logged by the
 * caller) for another ABI, e.g. a 32-bit x86 task. */
int compel_arch_check_abi(const struct compel_regs *r);

/*
 * Sets up r to run syscall nr from the syscall instruction at ip, with the
 * syscall state saying "not in a syscall" so that the kernel applies no
 * restart logic to the injected state.
 */
void compel_arch_prep_syscall(struct compel_regs *r, unsigned long ip, long nr,
			      const unsigned long *args, int nargs);
/* The result of a syscall at its exit: >= 0 or -errno. */
long compel_arch_syscall_ret(const struct compel_regs *r);

/* Sets up r to start a function-like blob at ip with stack pointer sp. */
void compel_arch_prep_call(struct compel_regs *r, unsigned long ip, unsigned long sp,
			   const unsigned long *args, int nargs);
/* The blob's return value when it reached its trap. */
long compel_arch_call_ret(const struct compel_regs *r);

/*
 * The syscall the thread was stopped in, or -1 when it was not in one,
 * and whether its return register holds one of the kernel's -ERESTART*
 * codes (the kernel will restart it when it resumes without a handler).
 */
long compel_arch_syscall_nr(const struct compel_regs *r);

/*
 * The syscall a thread at a syscall-entry stop is about to make.  Not
 * always where compel_arch_syscall_nr() looks: s390x tells an interrupted
 * syscall in system_call, which the kernel fills in only on its way to a
 * signal, while at an entry stop the number is in r2.
 */
long compel_arch_entry_syscall_nr(const struct compel_regs *r);
bool compel_arch_restart_pending(const struct compel_regs *r);
/*
 * r (as seized, or as settled where restart_precise is false) is a
 * syscall the kernel itself must restart or end with -EINTR when the
 * thread resumes: the thread goes back to rest from an interrupt stop
 * with r written back (compel_code_leave_by_ptrace()), never through the
 * cure's rt_sigreturn.  That rt_sigreturn resets the restart block
 * (nanosleep, clock_nanosleep, a timed poll or futex wait would end with
 * -EINTR), and it leaves the thread at the syscall instruction already
 * rewound, so that a signal arriving before the thread runs again (one
 * held during the dump and sent back at the release, or one sent just
 * then) would have its handler return into a fresh call instead of
 * ending the interrupted one with -EINTR.
 */
bool compel_arch_rest_by_ptrace(const struct compel_regs *r);
/*
 * r, a syscall interrupted with a code whose outcome the next signal
 * decides: that code (512 ERESTARTSYS: -EINTR for a handler without
 * SA_RESTART; 514 ERESTARTNOHAND, and 516 for a poll() without a timeout,
 * whose restart block is the same call again: -EINTR for any handler), with
 * r's general registers turned into what they are had the call returned
 * -EINTR (the caller keeps a copy).  0, r untouched, for anything else:
 * not interrupted, ERESTARTNOINTR (always made again), another
 * ERESTART_RESTARTBLOCK (a cure frame ends it with -EINTR anyway), or a
 * state that no longer tells (arm64's settled restart).  The parasite's
 * cure picks between the two frames with the signals waiting for the
 * thread (core/pie/parasite.c), as the kernel would have.
 */
int compel_arch_restart_choice(struct compel_regs *r);

/*
 * r was read at a syscall-entry stop: turns it into "about to execute the
 * syscall instruction" (ip back over the instruction, the number and first
 * argument back in their registers, the syscall state "not in a
 * syscall").  before: the same thread's registers at the stop before, for
 * what a syscall stop hides (arm64 uses x7 to say entry or exit there).
 */
void compel_arch_rewind_syscall(struct compel_regs *r, const struct compel_regs *before);
/* r read at a syscall-entry stop: written back, makes the kernel skip it. */
void compel_arch_skip_syscall(struct compel_regs *r);

/*
 * The parasite's self-cure (core/pie/parasite.h): a signal frame that
 * rt_sigreturn, run with the stack pointer *sp_out, turns into registers r
 * (general and FPU/vector) and signal mask mask, with the kernel's restart
 * of an interrupted syscall applied as if the thread resumed without a
 * handler (-ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND: back to the
 * syscall instruction with its number and first argument;
 * -ERESTART_RESTARTBLOCK: -EINTR, since rt_sigreturn makes the restart
 * block do_no_restart_syscall).  Built in buf, criu's view of room bytes
 * at remote in the task.  *altstack_out: where in the task the frame's
 * stack_t is (the parasite stores sigaltstack(NULL) there: the sigreturn
 * sets the alternate stack from it).  0, -ENOSPC when room is too small,
 * -EOPNOTSUPP when no frame can say what r holds (e.g. an arm64 restart
 * compel did not settle): the parasite then cannot cure itself.
 */
int compel_arch_build_sigframe(const struct compel_regs *r, uint64_t mask, void *buf,
			       unsigned long remote, size_t room, unsigned long *sp_out,
			       unsigned long *altstack_out);
/* The room compel_arch_build_sigframe() needs for r, alignment included. */
size_t compel_arch_sigframe_size(const struct compel_regs *r);

/*
 * The exit chain (compel/exit-chain.c): code the task has mapped already,
 * through which a parasite whose criu is gone unmaps its own area and then
 * rt_sigreturns, neither from the area.  Both take the bytes at p (avail
 * of them readable, at an address aligned for an instruction).
 *  - compel_arch_exit_g1: the syscall instruction, then only instructions
 *    that touch no memory and do not branch, then a return to the link
 *    register or to the word on the stack.  *arg: what pie_exit_chain()
 *    must know of it (x86_64: the stack words it pops before the return;
 *    aarch64: 1 when it authenticates the link register with autiasp).
 *  - compel_arch_exit_g2: an rt_sigreturn stub: the syscall number set,
 *    then the syscall instruction.
 */
bool compel_arch_exit_g1(const unsigned char *p, size_t avail, unsigned int *arg);
bool compel_arch_exit_g2(const unsigned char *p, size_t avail);
/*
 * r prepared for a syscall at g1: the stack and link register that make
 * g1's return go to g2, which rt_sigreturns with the frame at frame_sp
 * (x86_64: g2 in the frame's pretcode word already).  false when the arch
 * can't for this g1 (aarch64's autiasp: criu can't sign the link register).
 */
bool compel_arch_chain_regs(struct compel_regs *r, unsigned long frame_sp, unsigned long g2,
			    unsigned int g1_arg);

/* ---- helpers for the arch code (compel/regset.c) --------------------- */

/* PTRACE_GETREGSET: *len in = buffer size, out = bytes the kernel gave. */
int compel_getregset(pid_t tid, unsigned int type, void *buf, size_t *len);
int compel_setregset(pid_t tid, unsigned int type, const void *buf, size_t len);

#endif
