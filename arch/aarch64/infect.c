/*
 * What compel needs to run code in an aarch64 task (see compel-arch.h).
 *
 * Two arm64 ptrace facts shape this file:
 *  - the kernel restarts an interrupted syscall with x0 = orig_x0, which
 *    ptrace can neither read nor write (and our syscalls overwrite), so the
 *    restart cannot be restored from registers: restart_precise is false
 *    and compel settles it first (compel/restart.c);
 *  - at a syscall stop x7 reads as 0 (entry) or 1 (exit) and writes to it
 *    are dropped: the real x7 comes from the stop before.
 */
#include <errno.h>
#include <stdint.h>
#include <stdbool.h>

#include "compel-arch.h"
#include "compel-regs-aarch64.h"

#define PSR_MODE32 0x10	/* an AArch32 task */
#define INSN_LEN 4
#define NO_SYSCALL (-1)

static const unsigned char syscall_insn[] = { 0x01, 0x00, 0x00, 0xd4 }; /* svc #0 */
static const unsigned char trap_insn[] = { 0x00, 0x00, 0x20, 0xd4 };	 /* brk #0 */

const struct compel_arch_desc compel_arch = {
	.name = "aarch64",
	.syscall_insn = syscall_insn,
	.syscall_len = sizeof(syscall_insn),
	.trap_insn = trap_insn,
	.trap_len = sizeof(trap_insn),
	.insn_align = INSN_LEN,
	.red_zone = 0,
	.mmap_args_in_memory = false,
	.restart_precise = false,
};

unsigned long compel_arch_get_ip(const struct compel_regs *r)
{
	return r->gp.pc;
}

unsigned long compel_arch_get_sp(const struct compel_regs *r)
{
	return r->gp.sp;
}

int compel_arch_check_abi(const struct compel_regs *r)
{
	return r->gp.pstate & PSR_MODE32 ? -EOPNOTSUPP : 0;
}

static void set_args(struct compel_regs *r, const unsigned long *args, int nargs)
{
	for (int i = 0; i < 6; i++)
		r->gp.regs[i] = i < nargs ? args[i] : 0;
}

void compel_arch_prep_syscall(struct compel_regs *r, unsigned long ip, long nr,
			      const unsigned long *args, int nargs)
{
	set_args(r, args, nargs);
	r->gp.pc = ip;
	r->gp.regs[8] = (unsigned long)nr;
	r->syscallno = NO_SYSCALL;
}

long compel_arch_syscall_ret(const struct compel_regs *r)
{
	return (long)r->gp.regs[0];
}

void compel_arch_prep_call(struct compel_regs *r, unsigned long ip, unsigned long sp,
			   const unsigned long *args, int nargs)
{
	set_args(r, args, nargs);
	r->gp.pc = ip;
	r->gp.sp = sp;
	r->gp.regs[30] = 0; /* no return: the code ends with brk */
	r->syscallno = NO_SYSCALL;
}

long compel_arch_call_ret(const struct compel_regs *r)
{
	return (long)r->gp.regs[0];
}

long compel_arch_syscall_nr(const struct compel_regs *r)
{
	return r->syscallno;
}

bool compel_arch_restart_pending(const struct compel_regs *r)
{
	long ret = (long)r->gp.regs[0];

	if (r->syscallno == NO_SYSCALL)
		return false;
	/* -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK */
	return ret == -512 || ret == -513 || ret == -514 || ret == -516;
}

/* At the entry stop x0-x5 and x8 still hold the arguments and the number. */
void compel_arch_rewind_syscall(struct compel_regs *r, const struct compel_regs *before)
{
	r->gp.pc -= INSN_LEN;
	r->gp.regs[7] = before->gp.regs[7];
	r->syscallno = NO_SYSCALL;
}

void compel_arch_skip_syscall(struct compel_regs *r)
{
	r->syscallno = NO_SYSCALL;
}

/* Not written for this arch yet: a parasite here cannot cure itself. */
int compel_arch_build_sigframe(const struct compel_regs *r, uint64_t mask, void *buf,
			       unsigned long remote, size_t room, unsigned long *sp_out,
			       unsigned long *altstack_out)
{
	return -EOPNOTSUPP;
}

size_t compel_arch_sigframe_size(const struct compel_regs *r)
{
	return 0;
}
