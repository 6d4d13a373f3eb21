/* The saved register state of one aarch64 thread: arch/aarch64/ only. */
#ifndef CRIU_COMPEL_REGS_AARCH64_H
#define CRIU_COMPEL_REGS_AARCH64_H

#include <stddef.h>
#include <sys/user.h>

struct compel_regs {
	struct user_regs_struct gp;	/* x0-x30, sp, pc, pstate */
	int syscallno;			/* NT_ARM_SYSTEM_CALL; -1: not in one */
	struct user_fpsimd_struct fp;	/* v0-v31, fpsr, fpcr */
	size_t fp_len;
	unsigned long tls;		/* NT_ARM_TLS: tpidr_el0 */
	unsigned char *sve;		/* NT_ARM_SVE as the kernel gave it */
	size_t sve_len, sve_cap;
};

#endif
