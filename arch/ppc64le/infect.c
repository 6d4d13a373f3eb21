/*
 * What compel needs to run code in a ppc64le task (see compel-arch.h).
 *
 * sc takes the number in r0 and the arguments in r3-r8; an error comes back
 * as a positive errno in r3 with CR0.SO set.  Whether the kernel restarts a
 * syscall depends on trap (0xc00: a syscall, 0x3000: scv), r3, CR0.SO and
 * orig_gpr3, all in NT_PRSTATUS and writable: restart_precise.  Injected
 * state has trap = 0, "not in a syscall".
 */
#include <errno.h>
#include <stdint.h>
#include <stdbool.h>

#include "compel-arch.h"
#include "compel-regs-ppc64le.h"

#define INSN_LEN 4
#define MSR_SF (1UL << 63) /* 64-bit mode */
#define MSR_LE 1UL	   /* little-endian */
#define CR0_SO 0x10000000UL
#define TRAP_SC 0xc00
#define TRAP_SCV 0x3000

static const unsigned char syscall_insn[] = { 0x02, 0x00, 0x00, 0x44 }; /* sc */
static const unsigned char trap_insn[] = { 0x08, 0x00, 0xe0, 0x7f };	 /* trap */

const struct compel_arch_desc compel_arch = {
	.name = "ppc64le",
	.syscall_insn = syscall_insn,
	.syscall_len = sizeof(syscall_insn),
	.trap_insn = trap_insn,
	.trap_len = sizeof(trap_insn),
	.insn_align = INSN_LEN,
	.red_zone = 288, /* the ELFv2 protected zone below r1 */
	.mmap_args_in_memory = false,
	.restart_precise = true,
};

unsigned long compel_arch_get_ip(const struct compel_regs *r)
{
	return r->gp[PPC_PT_NIP];
}

unsigned long compel_arch_get_sp(const struct compel_regs *r)
{
	return r->gp[PPC_PT_R1];
}

int compel_arch_check_abi(const struct compel_regs *r)
{
	unsigned long msr = r->gp[PPC_PT_MSR];

	return (msr & MSR_SF) && (msr & MSR_LE) ? 0 : -EOPNOTSUPP;
}

static void set_args(struct compel_regs *r, const unsigned long *args, int nargs)
{
	for (int i = 0; i < 6; i++)
		r->gp[PPC_PT_R3 + i] = i < nargs ? args[i] : 0;
}

void compel_arch_prep_syscall(struct compel_regs *r, unsigned long ip, long nr,
			      const unsigned long *args, int nargs)
{
	set_args(r, args, nargs);
	r->gp[PPC_PT_NIP] = ip;
	r->gp[PPC_PT_R0] = (unsigned long)nr;
	r->gp[PPC_PT_CCR] &= ~CR0_SO;
	r->gp[PPC_PT_TRAP] = 0;
}

long compel_arch_syscall_ret(const struct compel_regs *r)
{
	long r3 = (long)r->gp[PPC_PT_R3];

	if ((r->gp[PPC_PT_TRAP] & ~0xfUL) == TRAP_SCV)
		return r3; /* scv returns -errno as is */
	return r->gp[PPC_PT_CCR] & CR0_SO ? -r3 : r3;
}

/* ELFv2: a global entry point computes its TOC from r12. */
void compel_arch_prep_call(struct compel_regs *r, unsigned long ip, unsigned long sp,
			   const unsigned long *args, int nargs)
{
	set_args(r, args, nargs);
	r->gp[PPC_PT_NIP] = ip;
	r->gp[PPC_PT_R12] = ip;
	r->gp[PPC_PT_R1] = sp;
	r->gp[PPC_PT_TRAP] = 0;
}

long compel_arch_call_ret(const struct compel_regs *r)
{
	return (long)r->gp[PPC_PT_R3];
}

static bool in_syscall(const struct compel_regs *r)
{
	unsigned long trap = r->gp[PPC_PT_TRAP] & ~0xfUL;

	return trap == TRAP_SC || trap == TRAP_SCV;
}

long compel_arch_syscall_nr(const struct compel_regs *r)
{
	return in_syscall(r) ? (long)r->gp[PPC_PT_R0] : -1;
}

bool compel_arch_restart_pending(const struct compel_regs *r)
{
	long err;

	if (!in_syscall(r))
		return false;
	if ((r->gp[PPC_PT_TRAP] & ~0xfUL) == TRAP_SCV)
		err = -(long)r->gp[PPC_PT_R3];
	else if (r->gp[PPC_PT_CCR] & CR0_SO)
		err = (long)r->gp[PPC_PT_R3];
	else
		return false;
	/* ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK */
	return err == 512 || err == 513 || err == 514 || err == 516;
}

void compel_arch_rewind_syscall(struct compel_regs *r, const struct compel_regs *before)
{
	r->gp[PPC_PT_NIP] -= INSN_LEN;
	r->gp[PPC_PT_R3] = r->gp[PPC_PT_ORIG_R3];
	r->gp[PPC_PT_TRAP] = 0;
}

/* An invalid number at the entry stop makes the kernel skip the syscall. */
void compel_arch_skip_syscall(struct compel_regs *r)
{
	r->gp[PPC_PT_R0] = (unsigned long)-1L;
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
