/*
 * What compel needs to run code in an s390x task (see compel-arch.h).
 *
 * "svc 0" takes the number in r1 and the arguments in r2-r7; the result
 * comes back in r2.  mmap is old_mmap here: one pointer to its six
 * arguments.  The kernel restarts an interrupted syscall from r2,
 * orig_gpr2 and thread.system_call (NT_S390_SYSTEM_CALL), all writable:
 * restart_precise.  Injected state has system_call = 0, "not in a
 * syscall".  The trap is the halfword 0x0001, which the kernel reports to
 * a tracer as SIGTRAP (and as SIGILL to anyone else).
 */
#include <errno.h>
#include <stdint.h>
#include <stdbool.h>

#include "compel-arch.h"
#include "compel-regs-s390x.h"

#define SVC_LEN 2
#define PSW_MASK_64 0x0000000180000000ULL /* EA and BA: 64-bit addressing */

static const unsigned char syscall_insn[] = { 0x0a, 0x00 }; /* svc 0 */
static const unsigned char trap_insn[] = { 0x00, 0x01 };    /* breakpoint */

const struct compel_arch_desc compel_arch = {
	.name = "s390x",
	.syscall_insn = syscall_insn,
	.syscall_len = sizeof(syscall_insn),
	.trap_insn = trap_insn,
	.trap_len = sizeof(trap_insn),
	.insn_align = 2,
	.red_zone = 0,
	.mmap_args_in_memory = true,
	.restart_precise = true,
};

unsigned long compel_arch_get_ip(const struct compel_regs *r)
{
	return r->gp.psw_addr;
}

unsigned long compel_arch_get_sp(const struct compel_regs *r)
{
	return r->gp.gprs[15];
}

int compel_arch_check_abi(const struct compel_regs *r)
{
	return (r->gp.psw_mask & PSW_MASK_64) == PSW_MASK_64 ? 0 : -EOPNOTSUPP;
}

void compel_arch_prep_syscall(struct compel_regs *r, unsigned long ip, long nr,
			      const unsigned long *args, int nargs)
{
	for (int i = 0; i < 6; i++)
		r->gp.gprs[2 + i] = i < nargs ? args[i] : 0;
	r->gp.psw_addr = ip;
	r->gp.gprs[1] = (unsigned long)nr;
	r->system_call = 0;
}

long compel_arch_syscall_ret(const struct compel_regs *r)
{
	return (long)r->gp.gprs[2];
}

/* The C ABI has five argument registers, r2-r6. */
void compel_arch_prep_call(struct compel_regs *r, unsigned long ip, unsigned long sp,
			   const unsigned long *args, int nargs)
{
	for (int i = 0; i < 5; i++)
		r->gp.gprs[2 + i] = i < nargs ? args[i] : 0;
	r->gp.psw_addr = ip;
	r->gp.gprs[15] = sp;
	r->gp.gprs[14] = 0; /* no return: the code ends with the trap */
	r->system_call = 0;
}

long compel_arch_call_ret(const struct compel_regs *r)
{
	return (long)r->gp.gprs[2];
}

long compel_arch_syscall_nr(const struct compel_regs *r)
{
	return r->system_call ? (long)(r->system_call & 0xffff) : -1;
}

bool compel_arch_restart_pending(const struct compel_regs *r)
{
	long ret = (long)r->gp.gprs[2];

	if (!r->system_call)
		return false;
	/* -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK */
	return ret == -512 || ret == -513 || ret == -514 || ret == -516;
}

/* At the entry stop r2 holds the number, orig_gpr2 the first argument. */
void compel_arch_rewind_syscall(struct compel_regs *r, const struct compel_regs *before)
{
	r->gp.psw_addr -= SVC_LEN;
	r->gp.gprs[2] = r->gp.orig_gpr2;
	r->system_call = 0;
}

void compel_arch_skip_syscall(struct compel_regs *r)
{
	r->gp.gprs[2] = (unsigned long)-1L;
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
