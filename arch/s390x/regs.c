/*
 * s390x registers through ptrace: NT_PRSTATUS (psw, r0-r15, access
 * registers, orig_gpr2), NT_S390_SYSTEM_CALL (what the kernel restarts
 * with), the FPRs and fpc (NT_PRFPREG) and, with the vector facility,
 * the rest of v0-v15 (NT_S390_VXRS_LOW) and v16-v31 (NT_S390_VXRS_HIGH).
 * Guarded storage and runtime instrumentation control blocks are not
 * kept: a thread that has either on is refused (our own code never turns
 * them on, and glibc does not either).
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compel-arch.h"
#include "compel-regs-s390x.h"
#include "log.h"

#ifndef NT_S390_SYSTEM_CALL
#define NT_S390_SYSTEM_CALL 0x307
#endif
#ifndef NT_S390_VXRS_LOW
#define NT_S390_VXRS_LOW 0x309
#endif
#ifndef NT_S390_VXRS_HIGH
#define NT_S390_VXRS_HIGH 0x30a
#endif
#ifndef NT_S390_GS_CB
#define NT_S390_GS_CB 0x30b
#endif
#ifndef NT_S390_GS_BC
#define NT_S390_GS_BC 0x30c
#endif
#ifndef NT_S390_RI_CB
#define NT_S390_RI_CB 0x30d
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

/*
 * The kernel gives these sets only while the thread has the facility on
 * (-ENODATA otherwise, -ENODEV without the facility).
 */
static int refuse_unsupported(pid_t tid)
{
	static const struct {
		unsigned int type;
		const char *what;
	} sets[] = {
		{ NT_S390_GS_CB, "guarded storage" },
		{ NT_S390_GS_BC, "a guarded-storage broadcast block" },
		{ NT_S390_RI_CB, "runtime instrumentation" },
	};
	uint64_t buf[8];

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		size_t len = sizeof(buf);

		if (!compel_getregset(tid, sets[i].type, buf, &len)) {
			pr_err("thread %d has %s on, which cannot be saved\n", tid, sets[i].what);
			return -EOPNOTSUPP;
		}
	}
	return 0;
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
	if (!ret)
		ret = refuse_unsupported(tid);
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
