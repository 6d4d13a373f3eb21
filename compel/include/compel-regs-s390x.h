/* The saved register state of one s390x thread: arch/s390x/ only. */
#ifndef CRIU_COMPEL_REGS_S390X_H
#define CRIU_COMPEL_REGS_S390X_H

#include <stddef.h>
#include <stdint.h>

struct s390x_gregs { /* the kernel's s390_regs, NT_PRSTATUS */
	uint64_t psw_mask;
	uint64_t psw_addr;
	uint64_t gprs[16];
	uint32_t acrs[16];
	uint64_t orig_gpr2;
};

struct s390x_fpregs { /* NT_PRFPREG */
	uint32_t fpc;
	uint32_t pad;
	uint64_t fprs[16];
};

struct compel_regs {
	struct s390x_gregs gp;
	uint32_t system_call;	    /* NT_S390_SYSTEM_CALL: 0 = not in one */
	struct s390x_fpregs fp;
	size_t fp_len;
	uint64_t vxrs_low[16];	    /* the right halves of v0-v15 */
	size_t vxrs_low_len;
	unsigned char vxrs_high[16 * 16]; /* v16-v31 */
	size_t vxrs_high_len;
};

#endif
