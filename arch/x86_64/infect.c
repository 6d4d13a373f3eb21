/* What compel needs to run code in an x86_64 task (see compel-arch.h). */
#include <errno.h>
#include <stdbool.h>

#include "compel-arch.h"
#include "compel-regs-x86_64.h"

#define USER64_CS 0x33		/* 64-bit user code segment */
#define EFLAGS_DF 0x400		/* the ABI wants it clear at a call */
#define SYSCALL_INSN_LEN 2

static const unsigned char syscall_insn[] = { 0x0f, 0x05 }; /* syscall */
static const unsigned char trap_insn[] = { 0xcc };	     /* int3 */

const struct compel_arch_desc compel_arch = {
	.name = "x86_64",
	.syscall_insn = syscall_insn,
	.syscall_len = sizeof(syscall_insn),
	.trap_insn = trap_insn,
	.trap_len = sizeof(trap_insn),
	.insn_align = 1,
	.red_zone = 128,
	.mmap_args_in_memory = false,
	/* orig_ax and ax are both in user_regs_struct */
	.restart_precise = true,
};

unsigned long compel_arch_get_ip(const struct compel_regs *r)
{
	return r->gp.rip;
}

unsigned long compel_arch_get_sp(const struct compel_regs *r)
{
	return r->gp.rsp;
}

int compel_arch_check_abi(const struct compel_regs *r)
{
	return r->gp.cs == USER64_CS ? 0 : -EOPNOTSUPP;
}

/* orig_ax = -1: "not in a syscall", so no restart logic on our state. */
void compel_arch_prep_syscall(struct compel_regs *r, unsigned long ip, long nr,
			      const unsigned long *args, int nargs)
{
	unsigned long a[6] = { 0 };

	for (int i = 0; i < nargs && i < 6; i++)
		a[i] = args[i];
	r->gp.rip = ip;
	r->gp.rax = (unsigned long)nr;
	r->gp.orig_rax = (unsigned long)-1L;
	r->gp.rdi = a[0];
	r->gp.rsi = a[1];
	r->gp.rdx = a[2];
	r->gp.r10 = a[3];
	r->gp.r8 = a[4];
	r->gp.r9 = a[5];
}

long compel_arch_syscall_ret(const struct compel_regs *r)
{
	return (long)r->gp.rax;
}

void compel_arch_prep_call(struct compel_regs *r, unsigned long ip, unsigned long sp,
			   const unsigned long *args, int nargs)
{
	unsigned long a[6] = { 0 };

	for (int i = 0; i < nargs && i < 6; i++)
		a[i] = args[i];
	r->gp.rip = ip;
	r->gp.rsp = sp;
	r->gp.rax = 0;
	r->gp.orig_rax = (unsigned long)-1L;
	r->gp.eflags &= ~(unsigned long)EFLAGS_DF;
	r->gp.rdi = a[0];
	r->gp.rsi = a[1];
	r->gp.rdx = a[2];
	r->gp.rcx = a[3];
	r->gp.r8 = a[4];
	r->gp.r9 = a[5];
}

long compel_arch_call_ret(const struct compel_regs *r)
{
	return (long)r->gp.rax;
}

long compel_arch_syscall_nr(const struct compel_regs *r)
{
	return (long)r->gp.orig_rax;
}

bool compel_arch_restart_pending(const struct compel_regs *r)
{
	long ret = (long)r->gp.rax;

	if ((long)r->gp.orig_rax < 0)
		return false;
	/* -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK */
	return ret == -512 || ret == -513 || ret == -514 || ret == -516;
}

/* At a syscall-entry stop: orig_ax holds the number, ip is past the insn. */
void compel_arch_rewind_syscall(struct compel_regs *r, const struct compel_regs *before)
{
	r->gp.rip -= SYSCALL_INSN_LEN;
	r->gp.rax = r->gp.orig_rax;
	r->gp.orig_rax = (unsigned long)-1L;
}

void compel_arch_skip_syscall(struct compel_regs *r)
{
	r->gp.orig_rax = (unsigned long)-1L;
}
