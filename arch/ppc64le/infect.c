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
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>

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

static const unsigned char exit_first[] = { 0x02 }; /* the syscall instruction */
static const unsigned char exit_g2_seed[] = { 0xac, 0x00, 0x00, 0x38 }; /* li r0, 172 */

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
	.exit_first = exit_first,
	.exit_first_len = sizeof(exit_first),
	.exit_g2_seed = exit_g2_seed,
	.exit_g2_seed_len = sizeof(exit_g2_seed),
	.exit_g2_back = 0,
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

long compel_arch_entry_syscall_nr(const struct compel_regs *r)
{
	return (long)r->gp[PPC_PT_R0];
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

/* ---- the self-cure's signal frame ------------------------------------------
 *
 * The kernel's ppc64 layout (arch/powerpc/kernel/signal_64.c, uapi
 * asm/ucontext.h and asm/sigcontext.h): rt_sigreturn reads the ucontext at
 * r1 (a handler runs with r1 __SIGNAL_FRAMESIZE below it; its trampoline
 * pops that before the sc).  The sigcontext holds the 48 registers of
 * pt_regs as ptrace shows them, f0-f31 and fpscr, and v_regs, a pointer to
 * a 16-byte aligned block inside vmx_reserve: v0-v31, vscr and vrsave (the
 * NT_PPC_VMX layout), then the low halves of vs0-vs31 (NT_PPC_VSX).  The
 * MSR in the frame says which are there (MSR_VEC, MSR_VSX; without them
 * the kernel zeroes those registers); of its other bits only LE is taken.
 * Its TS bits must be clear: a transactional frame is read differently.
 */
#define PT_RESULT 43
#define PPC_MSR_VSX (1UL << 23)
#define PPC_MSR_VEC (1UL << 25)
#define PPC_MSR_TS_MASK (3UL << 33)
#define ELF_NVRREG 34
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516
#define EINTR_ 4

struct ppc_stack {
	uint64_t sp;
	int32_t flags;
	uint32_t pad;
	uint64_t size;
};

struct ppc_sigcontext {
	uint64_t unused[4];
	int32_t signal;
	int32_t pad0;
	uint64_t handler;
	uint64_t oldmask;
	uint64_t regs;
	uint64_t gp_regs[PPC_NGREG];
	uint64_t fp_regs[33];
	uint64_t v_regs;
	int64_t vmx_reserve[ELF_NVRREG + ELF_NVRREG + 1 + 32];
};

struct ppc_ucontext {
	uint64_t flags;
	uint64_t link;
	struct ppc_stack stack;
	uint64_t sigmask;
	uint64_t unused[15];
	struct ppc_sigcontext mcontext;
};

_Static_assert(offsetof(struct ppc_ucontext, stack) == 16, "uc_stack at 16");
_Static_assert(offsetof(struct ppc_ucontext, sigmask) == 40, "uc_sigmask at 40");
_Static_assert(offsetof(struct ppc_ucontext, mcontext) == 168, "uc_mcontext at 168");
_Static_assert(offsetof(struct ppc_sigcontext, gp_regs) == 64, "gp_regs at 64");
_Static_assert(offsetof(struct ppc_sigcontext, v_regs) == 712, "v_regs at 712");
_Static_assert(sizeof(struct ppc_ucontext) == 1696, "struct ucontext is 1696 bytes");

size_t compel_arch_sigframe_size(const struct compel_regs *r)
{
	return 16 + sizeof(struct ppc_ucontext);
}

/* The registers as the thread resumes them without a handler. */
static void apply_restart(const struct compel_regs *r, uint64_t *g)
{
	bool scv = (r->gp[PPC_PT_TRAP] & ~0xfUL) == TRAP_SCV;
	long err;

	if (!compel_arch_restart_pending(r))
		return;
	err = scv ? -(long)g[PPC_PT_R3] : (long)g[PPC_PT_R3];
	/* ... and a poll() without a timeout, whose restart block is the same
	 * call again (as the dump's registers say) */
	if (err == ERESTARTSYS || err == ERESTARTNOINTR || err == ERESTARTNOHAND ||
	    (err == ERESTART_RESTARTBLOCK && g[PPC_PT_R0] == SYS_poll && (int)g[5] < 0)) {
		g[PPC_PT_R3] = g[PPC_PT_ORIG_R3];
		g[PPC_PT_NIP] -= INSN_LEN;
		g[PT_RESULT] = 0;
		/* no error any more: nothing the kernel could take for a
		 * restart code if these registers are written back later */
		g[PPC_PT_CCR] &= ~CR0_SO;
	} else if (err == ERESTART_RESTARTBLOCK) {
		/* sc: a positive errno with CR0.SO; scv: -errno */
		g[PPC_PT_R3] = scv ? (uint64_t)-EINTR_ : EINTR_;
		if (!scv)
			g[PPC_PT_CCR] |= CR0_SO;
		g[PT_RESULT] = (uint64_t)-EINTR_;
	}
}

int compel_arch_build_sigframe(const struct compel_regs *r, uint64_t mask, void *buf,
			       unsigned long remote, size_t room, unsigned long *sp_out,
			       unsigned long *altstack_out)
{
	size_t off = ((remote + 15) & ~15UL) - remote;
	unsigned long uc_remote = remote + off;
	struct ppc_ucontext *uc;
	struct ppc_sigcontext *sc;
	unsigned long vregs_remote;
	unsigned char *vregs;
	uint64_t msr;

	if (r->fp_len != sizeof(r->fp))
		return -EOPNOTSUPP;
	if (off + sizeof(*uc) > room)
		return -ENOSPC;
	uc = (struct ppc_ucontext *)((char *)buf + off);
	memset(uc, 0, sizeof(*uc));
	sc = &uc->mcontext;
	memcpy(sc->gp_regs, r->gp, sizeof(sc->gp_regs));
	apply_restart(r, sc->gp_regs);
	memcpy(sc->fp_regs, r->fp, sizeof(sc->fp_regs));
	vregs_remote = (uc_remote + offsetof(struct ppc_ucontext, mcontext.vmx_reserve) + 15) &
		       ~15UL;
	vregs = (unsigned char *)uc + (vregs_remote - uc_remote);
	msr = sc->gp_regs[PPC_PT_MSR] & ~(PPC_MSR_VEC | PPC_MSR_VSX | PPC_MSR_TS_MASK);
	sc->v_regs = vregs_remote;
	if (r->vmx_len == sizeof(r->vmx)) {
		memcpy(vregs, r->vmx, sizeof(r->vmx)); /* vrsave: the first word of the last */
		msr |= PPC_MSR_VEC;
	}
	if (r->vsx_len == sizeof(r->vsx)) {
		memcpy(vregs + ELF_NVRREG * 16, r->vsx, sizeof(r->vsx));
		msr |= PPC_MSR_VSX;
	}
	sc->gp_regs[PPC_PT_MSR] = msr;
	sc->regs = uc_remote + offsetof(struct ppc_ucontext, mcontext.gp_regs);
	sc->oldmask = mask;
	uc->sigmask = mask;
	uc->stack.flags = 2; /* SS_DISABLE until the parasite stores the real one */
	*sp_out = uc_remote;
	*altstack_out = uc_remote + offsetof(struct ppc_ucontext, stack);
	return 0;
}

static uint32_t word_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * sc, then what the vDSO's fallbacks do with r3 (bns+ over a neg r3,r3;
 * extsw r3,r3; nops), then blr (Debian 12's 6.1: sc; bns+ 8; neg r3,r3;
 * extsw r3,r3; blr).  None touches memory, LR or r1.
 */
bool compel_arch_exit_g1(const unsigned char *p, size_t avail, unsigned int *arg)
{
	if (avail < 8 || word_at(p) != 0x44000002)
		return false;
	for (size_t i = 4; i + 4 <= avail && i < 28; i += 4) {
		uint32_t w = word_at(p + i);

		if (w == 0x4e800020) { /* blr */
			*arg = 0;
			return true;
		}
		if (w != 0x40e30008 && w != 0x7c6300d0 && w != 0x7c6307b4 && w != 0x60000000)
			return false; /* bns+ .+8, neg r3,r3, extsw r3,r3, nop */
	}
	return false;
}

/* li r0, 172; sc: the vDSO's __kernel_sigtramp_rt64 after its addi */
bool compel_arch_exit_g2(const unsigned char *p, size_t avail)
{
	return avail >= 8 && word_at(p) == 0x380000ac && word_at(p + 4) == 0x44000002;
}

/*
 * Not used here yet: compel_code_leave_by_ptrace() is checked on x86_64
 * only, so on this arch a sleep the dump interrupted still ends with
 * -EINTR in a thread the parasite left through its sigreturn
 * (docs/dump-restore.md).
 */
bool compel_arch_rest_by_ptrace(const struct compel_regs *r)
{
	return false;
}

/* The code, and -EINTR as sc or scv reports it in r (compel-arch.h). */
int compel_arch_restart_choice(struct compel_regs *r)
{
	bool scv = (r->gp[PPC_PT_TRAP] & ~0xfUL) == TRAP_SCV;
	long err;
	int code;

	if (!compel_arch_restart_pending(r))
		return 0;
	err = scv ? -(long)r->gp[PPC_PT_R3] : (long)r->gp[PPC_PT_R3];
	if (err == ERESTARTSYS || err == ERESTARTNOHAND)
		code = (int)err;
	else if (err == ERESTART_RESTARTBLOCK && r->gp[PPC_PT_R0] == SYS_poll && (int)r->gp[5] < 0)
		code = ERESTART_RESTARTBLOCK;
	else
		return 0;
	r->gp[PPC_PT_R3] = scv ? (uint64_t)-EINTR_ : EINTR_;
	if (!scv)
		r->gp[PPC_PT_CCR] |= CR0_SO;
	r->gp[PT_RESULT] = (uint64_t)-EINTR_;
	return code;
}

#define PPC_PT_LNK 36

/* The exit chain's return for an injected syscall at g1 (compel/syscall.c). */
bool compel_arch_chain_regs(struct compel_regs *r, unsigned long frame_sp, unsigned long g2,
			    unsigned int g1_arg)
{
	r->gp[PPC_PT_R1] = frame_sp;
	r->gp[PPC_PT_LNK] = g2;
	return true;
}
