/* The saved register state of one ppc64le thread: arch/ppc64le/ only. */
#ifndef CRIU_COMPEL_REGS_PPC64LE_H
#define CRIU_COMPEL_REGS_PPC64LE_H

#include <stddef.h>
#include <stdint.h>

#define PPC_NGREG 48 /* ELF_NGREG: struct pt_regs as ptrace shows it */
#define PPC_PT_R0 0
#define PPC_PT_R1 1 /* the stack pointer */
#define PPC_PT_R3 3
#define PPC_PT_R12 12
#define PPC_PT_NIP 32
#define PPC_PT_MSR 33
#define PPC_PT_ORIG_R3 34
#define PPC_PT_CCR 38
#define PPC_PT_TRAP 40

struct compel_regs {
	unsigned long gp[PPC_NGREG];
	uint64_t fp[33];	  /* f0-f31, fpscr (NT_PRFPREG) */
	size_t fp_len;
	unsigned char vmx[34 * 16]; /* v0-v31, vscr, vrsave (NT_PPC_VMX) */
	size_t vmx_len;
	uint64_t vsx[32];	  /* the low halves of vs0-vs31 (NT_PPC_VSX) */
	size_t vsx_len;
};

#endif
