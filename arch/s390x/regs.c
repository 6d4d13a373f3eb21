/*
 * s390x registers through ptrace: NT_PRSTATUS (psw, r0-r15, access
 * registers, orig_gpr2), NT_S390_SYSTEM_CALL (what the kernel restarts
 * with), the FPRs and fpc (NT_PRFPREG) and, with the vector facility,
 * the rest of v0-v15 (NT_S390_VXRS_LOW) and v16-v31 (NT_S390_VXRS_HIGH).
 * Not handled yet: guarded storage and runtime instrumentation control
 * blocks (our code does not touch them).
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compel-arch.h"
#include "compel-regs-s390x.h"

#ifndef NT_S390_SYSTEM_CALL
#define NT_S390_SYSTEM_CALL 0x307
#endif
#ifndef NT_S390_VXRS_LOW
#define NT_S390_VXRS_LOW 0x309
#endif
#ifndef NT_S390_VXRS_HIGH
#define NT_S390_VXRS_HIGH 0x30a
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
	dst->gp = src->gp;
	dst->system_call = src->system_call;
}

int compel_arch_get_gregs(pid_t tid, struct compel_regs *r)
{
	size_t len = sizeof(r->gp);
	int ret = compel_getregset(tid, NT_PRSTATUS, &r->gp, &len);

	if (!ret) {
		len = sizeof(r->system_call);
		ret = compel_getregset(tid, NT_S390_SYSTEM_CALL, &r->system_call, &len);
	}
	return ret;
}

int compel_arch_set_gregs(pid_t tid, const struct compel_regs *r)
{
	int ret = compel_setregset(tid, NT_PRSTATUS, &r->gp, sizeof(r->gp));

	if (!ret)
		ret = compel_setregset(tid, NT_S390_SYSTEM_CALL, &r->system_call,
				       sizeof(r->system_call));
	return ret;
}

/* Without the vector facility the vector sets are refused: length 0. */
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
		ret = get_optional(tid, NT_PRFPREG, &r->fp, sizeof(r->fp), &r->fp_len);
	if (!ret)
		ret = get_optional(tid, NT_S390_VXRS_LOW, r->vxrs_low, sizeof(r->vxrs_low),
				   &r->vxrs_low_len);
	if (!ret)
		ret = get_optional(tid, NT_S390_VXRS_HIGH, r->vxrs_high, sizeof(r->vxrs_high),
				   &r->vxrs_high_len);
	return ret;
}

/* The FPRs are the left halves of v0-v15: set them before the right halves. */
int compel_arch_set_regs(pid_t tid, const struct compel_regs *r)
{
	int ret = compel_arch_set_gregs(tid, r);

	if (!ret && r->fp_len)
		ret = compel_setregset(tid, NT_PRFPREG, &r->fp, r->fp_len);
	if (!ret && r->vxrs_low_len)
		ret = compel_setregset(tid, NT_S390_VXRS_LOW, r->vxrs_low, r->vxrs_low_len);
	if (!ret && r->vxrs_high_len)
		ret = compel_setregset(tid, NT_S390_VXRS_HIGH, r->vxrs_high, r->vxrs_high_len);
	return ret;
}
