/*
 * ppc64le registers in the core image (thread_info_ppc64), the layout
 * upstream uses:
 *   gpregs    r0-r31 as gpr[32], then nip, msr, orig_gpr3, ctr, link, xer,
 *             ccr, trap (struct pt_regs as NT_PRSTATUS shows it);
 *   fpstate   f0-f31 and fpscr, 33 words (NT_PRFPREG);
 *   vrstate   v0-v31 and the VSCR quadword as 66 words, each quadword's two
 *             doublewords in memory order, as NT_PPC_VMX gives them; vrsave
 *             from the first word of the 34th quadword;
 *   vsxstate  the 32 doublewords of vs0-vs31 that the FPRs do not hold
 *             (NT_PPC_VSX); vs32-vs63 are v0-v31.
 * A set the dumping CPU lacked is left out of the image.
 *
 * Transactional memory: a thread stopped inside a transaction (MSR[TS] not
 * 0) has a second, checkpointed register set that ptrace only shows through
 * the NT_PPC_TM_* sets, which compel does not read.  Such a thread is
 * refused at dump, and an image with tmstate at restore.  (Debian's
 * POWER9 under qemu TCG has no TM at all: cap-htm is off.)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "arch-image.h"
#include "compel-regs-ppc64le.h"
#include "log.h"

#define NR_GPR 32
#define NR_FP_WORDS 33	 /* f0-f31, fpscr */
#define NR_VR_WORDS 66	 /* v0-v31, vscr: 33 quadwords */
#define VMX_LEN (34 * 16) /* ... and the vrsave quadword */
#define NR_VSX_WORDS 32

#define PT_CTR 35
#define PT_LINK 36
#define PT_XER 37

#define MSR_TS_MASK (3UL << 33) /* transaction state: suspended, transactional */
#define CR0_SO 0x10000000UL
#define TRAP_SC 0xc00
#define TRAP_SCV 0x3000
#define ERESTART_RESTARTBLOCK 516
#define ERESTARTNOHAND 514

int arch_core_mtype(void)
{
	return CORE_ENTRY__MARCH__PPC64;
}

/*
 * restart_syscall() would run the restart block, which stays behind in the
 * dumped kernel: report EINTR instead, except for a poll() without a
 * timeout (r5 negative), whose restart is the same call again: it restarts
 * as ERESTARTNOHAND does.  sc reports an error as a positive errno in r3
 * with CR0.SO set, scv as -errno in r3; r0 holds the syscall number.
 */
void arch_regs_dump_fixup(struct compel_regs *r)
{
	unsigned long trap = r->gp[PPC_PT_TRAP] & ~0xfUL;
	long r3 = (long)r->gp[PPC_PT_R3];
	bool again = r->gp[PPC_PT_R0] == SYS_poll && (int)r->gp[5] < 0;
	long code = again ? ERESTARTNOHAND : EINTR;

	if (trap == TRAP_SC && (r->gp[PPC_PT_CCR] & CR0_SO) && r3 == ERESTART_RESTARTBLOCK)
		r->gp[PPC_PT_R3] = (unsigned long)code;
	else if (trap == TRAP_SCV && r3 == -ERESTART_RESTARTBLOCK)
		r->gp[PPC_PT_R3] = (unsigned long)-code;
}

static uint64_t *copy_words(const void *src, size_t n)
{
	uint64_t *w = malloc(n * sizeof(*w));

	if (w)
		memcpy(w, src, n * sizeof(*w));
	return w;
}

static int fill_gpregs(UserPpc64RegsEntry *g, const struct compel_regs *r)
{
	const unsigned long *u = r->gp;

	g->n_gpr = NR_GPR;
	g->gpr = copy_words(u, NR_GPR);
	if (!g->gpr)
		return -ENOMEM;
	g->nip = u[PPC_PT_NIP];
	g->msr = u[PPC_PT_MSR];
	g->orig_gpr3 = u[PPC_PT_ORIG_R3];
	g->ctr = u[PT_CTR];
	g->link = u[PT_LINK];
	g->xer = u[PT_XER];
	g->ccr = u[PPC_PT_CCR];
	g->trap = u[PPC_PT_TRAP];
	return 0;
}

static int fill_fpstate(ThreadInfoPpc64 *ti, const struct compel_regs *r)
{
	UserPpc64FpstateEntry *f;

	if (r->fp_len < NR_FP_WORDS * sizeof(uint64_t))
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	user_ppc64_fpstate_entry__init(f);
	ti->fpstate = f;
	f->n_fpregs = NR_FP_WORDS;
	f->fpregs = copy_words(r->fp, NR_FP_WORDS);
	return f->fpregs ? 0 : -ENOMEM;
}

static int fill_vrstate(ThreadInfoPpc64 *ti, const struct compel_regs *r)
{
	UserPpc64VrstateEntry *v;
	uint32_t vrsave;

	if (r->vmx_len < VMX_LEN)
		return 0;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	user_ppc64_vrstate_entry__init(v);
	ti->vrstate = v;
	v->n_vrregs = NR_VR_WORDS;
	v->vrregs = copy_words(r->vmx, NR_VR_WORDS);
	memcpy(&vrsave, r->vmx + 33 * 16, sizeof(vrsave));
	v->vrsave = vrsave;
	return v->vrregs ? 0 : -ENOMEM;
}

static int fill_vsxstate(ThreadInfoPpc64 *ti, const struct compel_regs *r)
{
	UserPpc64VsxstateEntry *x;

	if (r->vsx_len < NR_VSX_WORDS * sizeof(uint64_t))
		return 0;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	user_ppc64_vsxstate_entry__init(x);
	ti->vsxstate = x;
	x->n_vsxregs = NR_VSX_WORDS;
	x->vsxregs = copy_words(r->vsx, NR_VSX_WORDS);
	return x->vsxregs ? 0 : -ENOMEM;
}

int arch_regs_to_core(const struct compel_regs *r, CoreEntry *core)
{
	ThreadInfoPpc64 *ti;
	UserPpc64RegsEntry *g;
	int ret;

	core->mtype = CORE_ENTRY__MARCH__PPC64;
	if (r->gp[PPC_PT_MSR] & MSR_TS_MASK) {
		pr_err("the thread is inside a hardware transaction (MSR %#lx): "
		       "transactional memory state is not supported\n",
		       r->gp[PPC_PT_MSR]);
		return -EOPNOTSUPP;
	}
	ti = calloc(1, sizeof(*ti));
	g = calloc(1, sizeof(*g));
	if (!ti || !g) {
		free(ti);
		free(g);
		return -ENOMEM;
	}
	thread_info_ppc64__init(ti);
	user_ppc64_regs_entry__init(g);
	ti->gpregs = g;
	core->ti_ppc64 = ti;

	ret = fill_gpregs(g, r);
	if (!ret)
		ret = fill_fpstate(ti, r);
	if (!ret)
		ret = fill_vrstate(ti, r);
	if (!ret)
		ret = fill_vsxstate(ti, r);
	if (ret)
		arch_core_free_regs(core);
	return ret;
}

void arch_core_free_regs(CoreEntry *core)
{
	ThreadInfoPpc64 *ti = core->ti_ppc64;

	if (!ti)
		return;
	if (ti->gpregs)
		free(ti->gpregs->gpr);
	free(ti->gpregs);
	if (ti->fpstate)
		free(ti->fpstate->fpregs);
	free(ti->fpstate);
	if (ti->vrstate)
		free(ti->vrstate->vrregs);
	free(ti->vrstate);
	if (ti->vsxstate)
		free(ti->vsxstate->vsxregs);
	free(ti->vsxstate);
	free(ti);
	core->ti_ppc64 = NULL;
}

/* One optional set: the image's must fit this CPU's; absent, the thread
 * keeps what it has. */
static int put_set(void *dst, size_t have, const void *src, size_t n_words, size_t want,
		   const char *what)
{
	if (n_words != want) {
		pr_err("bad %s state in the image: %zu words, not %zu\n", what, n_words, want);
		return -EINVAL;
	}
	if (have < want * sizeof(uint64_t)) {
		pr_err("the image has %s state and this CPU cannot hold it\n", what);
		return -EINVAL;
	}
	memcpy(dst, src, want * sizeof(uint64_t));
	return 0;
}

int arch_core_to_regs(const CoreEntry *core, struct compel_regs *r)
{
	const ThreadInfoPpc64 *ti = core->ti_ppc64;
	const UserPpc64RegsEntry *g;
	unsigned long *u = r->gp;
	int ret;

	if (core->mtype != CORE_ENTRY__MARCH__PPC64 || !ti || !ti->gpregs) {
		pr_err("the core image holds no ppc64 registers (machine type %d)\n", core->mtype);
		return -EINVAL;
	}
	g = ti->gpregs;
	if (ti->tmstate || g->has_texasr || g->has_tfhar || g->has_tfiar) {
		pr_err("the image holds transactional memory state: not supported\n");
		return -EINVAL;
	}
	if (g->n_gpr != NR_GPR) {
		pr_err("bad general registers in the image: %zu, not %d\n", g->n_gpr, NR_GPR);
		return -EINVAL;
	}
	if (g->msr & MSR_TS_MASK) {
		pr_err("the image's MSR %#llx is inside a transaction: not supported\n",
		       (unsigned long long)g->msr);
		return -EINVAL;
	}
	if (ti->fpstate && (ret = put_set(r->fp, r->fp_len, ti->fpstate->fpregs,
					  ti->fpstate->n_fpregs, NR_FP_WORDS, "FP")))
		return ret;
	if (ti->vrstate) {
		uint32_t vrsave = ti->vrstate->vrsave;

		ret = put_set(r->vmx, r->vmx_len < VMX_LEN ? 0 : r->vmx_len, ti->vrstate->vrregs,
			      ti->vrstate->n_vrregs, NR_VR_WORDS, "Altivec");
		if (ret)
			return ret;
		memset(r->vmx + 33 * 16, 0, 16);
		memcpy(r->vmx + 33 * 16, &vrsave, sizeof(vrsave));
	}
	if (ti->vsxstate && (ret = put_set(r->vsx, r->vsx_len, ti->vsxstate->vsxregs,
					   ti->vsxstate->n_vsxregs, NR_VSX_WORDS, "VSX")))
		return ret;

	memcpy(u, g->gpr, NR_GPR * sizeof(*u));
	u[PPC_PT_NIP] = g->nip;
	/* ptrace takes only MSR's LE and single-step bits; the rest is the kernel's */
	u[PPC_PT_MSR] = g->msr;
	u[PPC_PT_ORIG_R3] = g->orig_gpr3;
	u[PT_CTR] = g->ctr;
	u[PT_LINK] = g->link;
	u[PT_XER] = g->xer;
	u[PPC_PT_CCR] = g->ccr;
	u[PPC_PT_TRAP] = g->trap;
	return 0;
}

void arch_core_set_clear_tid(CoreEntry *core, uint64_t addr)
{
	if (core->ti_ppc64)
		core->ti_ppc64->clear_tid_addr = addr;
}

uint64_t arch_core_clear_tid(const CoreEntry *core)
{
	return core->ti_ppc64 ? core->ti_ppc64->clear_tid_addr : 0;
}

/*
 * ELFv2: r1 points to a frame whose first doubleword is the back chain
 * (null: the outermost frame) and whose 16(r1) slot takes the callee's LR;
 * 112 bytes also give a parameter save area.  A global entry point derives
 * its TOC from r12, its own address.
 */
void arch_restorer_jump(unsigned long ip, unsigned long sp, unsigned long arg)
{
	register unsigned long r3 asm("r3") = arg;
	register unsigned long r12 asm("r12") = ip;

	asm volatile("clrrdi 1, %[sp], 4\n\t"
		     "li 0, 0\n\t"
		     "stdu 0, -112(1)\n\t"
		     "mtctr 12\n\t"
		     "bctr"
		     :
		     : [sp] "b"(sp), "r"(r3), "r"(r12)
		     : "r0", "memory");
	__builtin_unreachable();
}

void *arch_thread_pointer(void)
{
	void *tp;

	/* r13 holds the thread pointer (GCC 12 has no builtin for it here) */
	asm("mr %0, 13" : "=r"(tp));
	return tp;
}

/*
 * lis/ori/sldi/oris/ori build the target in r12, then mtctr; bctr.  r12
 * is what the ELFv2 ABI wants at a function's global entry (it may derive
 * its TOC from it) and is volatile across calls, as is ctr.  The signal
 * trampolines (the kernel enters __kernel_start_sigtramp_rt64 and returns
 * into __kernel_sigtramp_rt64 right after it) keep their code.
 */
int arch_vdso_jump(const char *name, uint8_t *buf, size_t size, uint64_t from, uint64_t to)
{
	uint32_t insn[7] = {
		0x3d800000u | (uint32_t)((to >> 48) & 0xffff), /* lis 12, to@highest */
		0x618c0000u | (uint32_t)((to >> 32) & 0xffff), /* ori 12, 12, to@higher */
		0x798c07c6u,				       /* sldi 12, 12, 32 */
		0x658c0000u | (uint32_t)((to >> 16) & 0xffff), /* oris 12, 12, to@h */
		0x618c0000u | (uint32_t)(to & 0xffff),	       /* ori 12, 12, to@l */
		0x7d8903a6u,				       /* mtctr 12 */
		0x4e800420u,				       /* bctr */
	};

	if (strstr(name, "sigtramp"))
		return 0;
	if ((from | to) & 3)
		return -EINVAL;
	if (size < sizeof(insn))
		return -ENOSPC;
	memcpy(buf, insn, sizeof(insn));
	return (int)sizeof(insn);
}
