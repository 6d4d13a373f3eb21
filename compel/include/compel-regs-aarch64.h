/* The saved register state of one aarch64 thread: arch/aarch64/ only. */
#ifndef CRIU_COMPEL_REGS_AARCH64_H
#define CRIU_COMPEL_REGS_AARCH64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

struct compel_regs {
	struct user_regs_struct gp;	/* x0-x30, sp, pc, pstate */
	int syscallno;			/* NT_ARM_SYSTEM_CALL; -1: not in one */
	struct user_fpsimd_struct fp;	/* v0-v31, fpsr, fpcr */
	size_t fp_len;
	unsigned long tls;		/* NT_ARM_TLS: tpidr_el0 */
	/* pointer authentication: the keys (NT_ARM_PACA_KEYS: ia, ib, da, db;
	 * NT_ARM_PACG_KEYS: ga; each low word first) and the enabled address
	 * keys (NT_ARM_PAC_ENABLED_KEYS); has_*: this kernel and CPU have them */
	uint64_t pac_addr[8];
	uint64_t pac_gen[2];
	unsigned long pac_enabled;
	bool has_pac_addr, has_pac_gen, has_pac_enabled;
	unsigned char *sve;		/* NT_ARM_SVE as the kernel gave it */
	size_t sve_len, sve_cap;
};

#endif
