/* The saved register state of one x86_64 thread: arch/x86_64/ only. */
#ifndef CRIU_COMPEL_REGS_X86_64_H
#define CRIU_COMPEL_REGS_X86_64_H

#include <stddef.h>
#include <sys/user.h>

struct compel_regs {
	struct user_regs_struct gp;
	unsigned int fp_type; /* NT_X86_XSTATE, or NT_PRFPREG without xsave */
	size_t fp_len;	      /* what the kernel gave: what it takes back */
	size_t fp_cap;
	unsigned char *fp;
};

#endif
