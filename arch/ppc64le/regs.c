/*
 * ppc64le registers through ptrace: NT_PRSTATUS (gpr0-31, nip, msr,
 * orig_gpr3, ctr, link, xer, ccr, softe, trap, ...), the FPRs (NT_PRFPREG),
 * Altivec (NT_PPC_VMX) and the VSX halves not aliased with the FPRs
 * (NT_PPC_VSX).  Sets the CPU lacks are skipped.  Not handled yet: the
 * transactional-memory checkpointed sets, DSCR, PPR, TAR and the EBB/PMU
 * registers (our code does not touch them).
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compel-arch.h"
#include "compel-regs-ppc64le.h"

#ifndef NT_PPC_VMX
#define NT_PPC_VMX 0x100
#endif
#ifndef NT_PPC_VSX
#define NT_PPC_VSX 0x102
#endif

struct compel_regs *compel_arch_regs_new(void)
{
	return calloc(1, sizeof(struct compel_regs));
}

void compel_arch_regs_free(struct compel_regs *r)
{
	free(r);
}

void compel_arch_regs_copy(struct compel_regs *dst, const struct compel_regs *src)
{
	memcpy(dst->gp, src->gp, sizeof(dst->gp));
}

int compel_arch_get_gregs(pid_t tid, struct compel_regs *r)
{
	size_t len = sizeof(r->gp);

	return compel_getregset(tid, NT_PRSTATUS, r->gp, &len);
}

int compel_arch_set_gregs(pid_t tid, const struct compel_regs *r)
{
	return compel_setregset(tid, NT_PRSTATUS, r->gp, sizeof(r->gp));
}

/* An optional set: absent on this CPU gives length 0. */
static int get_optional(pid_t tid, unsigned int type, void *buf, size_t cap, size_t *len)
{
	int ret;

	*len = cap;
	ret = compel_getregset(tid, type, buf, len);
	if (ret == -ENODEV || ret == -EINVAL || ret == -EIO) {
		*len = 0;
		return 0;
	}
	return ret;
}

int compel_arch_get_regs(pid_t tid, struct compel_regs *r)
{
	int ret = compel_arch_get_gregs(tid, r);

	if (!ret)
		ret = get_optional(tid, NT_PRFPREG, r->fp, sizeof(r->fp), &r->fp_len);
	if (!ret)
		ret = get_optional(tid, NT_PPC_VMX, r->vmx, sizeof(r->vmx), &r->vmx_len);
	if (!ret)
		ret = get_optional(tid, NT_PPC_VSX, r->vsx, sizeof(r->vsx), &r->vsx_len);
	return ret;
}

int compel_arch_set_regs(pid_t tid, const struct compel_regs *r)
{
	int ret = compel_arch_set_gregs(tid, r);

	if (!ret && r->fp_len)
		ret = compel_setregset(tid, NT_PRFPREG, r->fp, r->fp_len);
	if (!ret && r->vmx_len)
		ret = compel_setregset(tid, NT_PPC_VMX, r->vmx, r->vmx_len);
	if (!ret && r->vsx_len)
		ret = compel_setregset(tid, NT_PPC_VSX, r->vsx, r->vsx_len);
	return ret;
}
