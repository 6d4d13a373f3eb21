/*
 * aarch64 registers in the core image (thread_info_aarch64), the layout
 * upstream uses: x0-x30, sp, pc and pstate; the FPSIMD state as 64 words
 * (v0-v31, low word first), fpsr and fpcr; tpidr_el0 as tls.
 *
 * The image has no room for SVE: what is kept is the FPSIMD view of it
 * (the low 128 bits of z0-z31), which is all a thread has after a syscall.
 * At restore the FPSIMD state is written alone, so the kernel zeroes the
 * rest of the SVE registers and the task goes on without live SVE state.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch-image.h"
#include "compel-regs-aarch64.h"
#include "log.h"

#define NR_GP 31
#define NR_VWORDS 64
#define ERESTART_RESTARTBLOCK 516
#define NO_SYSCALL (-1)
#define PSR_MODE32 0x10

_Static_assert(sizeof(((struct user_fpsimd_struct *)0)->vregs) == NR_VWORDS * 8,
	       "v0-v31 are 64 words");

int arch_core_mtype(void)
{
	return CORE_ENTRY__MARCH__AARCH64;
}

/*
 * Where arm64 shows -ERESTART_RESTARTBLOCK (at a syscall-exit stop, the
 * syscall number still set) it becomes -EINTR as on x86_64.  At the
 * interrupt stop of a seized thread the kernel has already turned every
 * restart code into "execute the syscall instruction again" (pc rewound,
 * x0 reloaded from orig_x0, the syscall forgotten) before the tracer looks;
 * the restored thread then makes the same syscall again from the start,
 * which for the restart-block ones (nanosleep, clock_nanosleep, poll,
 * futex with a timeout) means the whole relative timeout once more.
 */
void arch_regs_dump_fixup(struct compel_regs *r)
{
	if (r->syscallno != NO_SYSCALL && (long)r->gp.regs[0] == -ERESTART_RESTARTBLOCK) {
		r->gp.regs[0] = (unsigned long)-EINTR;
		r->syscallno = NO_SYSCALL;
	}
}

int arch_regs_to_core(const struct compel_regs *r, CoreEntry *core)
{
	ThreadInfoAarch64 *ti = calloc(1, sizeof(*ti));
	UserAarch64RegsEntry *g = calloc(1, sizeof(*g));
	UserAarch64FpsimdContextEntry *f = calloc(1, sizeof(*f));
	uint64_t *regs = calloc(NR_GP, sizeof(*regs));
	uint64_t *vregs = calloc(NR_VWORDS, sizeof(*vregs));

	core->mtype = CORE_ENTRY__MARCH__AARCH64;
	if (!ti || !g || !f || !regs || !vregs) {
		free(ti);
		free(g);
		free(f);
		free(regs);
		free(vregs);
		return -ENOMEM;
	}
	if (r->fp_len != sizeof(r->fp)) {
		pr_err("the FPSIMD state is %zu bytes, not %zu\n", r->fp_len, sizeof(r->fp));
		free(ti);
		free(g);
		free(f);
		free(regs);
		free(vregs);
		return -EINVAL;
	}
	thread_info_aarch64__init(ti);
	user_aarch64_regs_entry__init(g);
	user_aarch64_fpsimd_context_entry__init(f);

	memcpy(regs, r->gp.regs, NR_GP * sizeof(*regs));
	g->n_regs = NR_GP;
	g->regs = regs;
	g->sp = r->gp.sp;
	g->pc = r->gp.pc;
	g->pstate = r->gp.pstate;

	memcpy(vregs, r->fp.vregs, NR_VWORDS * sizeof(*vregs));
	f->n_vregs = NR_VWORDS;
	f->vregs = vregs;
	f->fpsr = r->fp.fpsr;
	f->fpcr = r->fp.fpcr;

	ti->gpregs = g;
	ti->fpsimd = f;
	ti->tls = r->tls;
	core->ti_aarch64 = ti;
	return 0;
}

void arch_core_free_regs(CoreEntry *core)
{
	ThreadInfoAarch64 *ti = core->ti_aarch64;

	if (!ti)
		return;
	if (ti->gpregs)
		free(ti->gpregs->regs);
	if (ti->fpsimd)
		free(ti->fpsimd->vregs);
	free(ti->gpregs);
	free(ti->fpsimd);
	free(ti);
	core->ti_aarch64 = NULL;
}

int arch_core_to_regs(const CoreEntry *core, struct compel_regs *r)
{
	const ThreadInfoAarch64 *ti = core->ti_aarch64;
	const UserAarch64RegsEntry *g;
	const UserAarch64FpsimdContextEntry *f;

	if (core->mtype != CORE_ENTRY__MARCH__AARCH64 || !ti || !ti->gpregs || !ti->fpsimd) {
		pr_err("the core image holds no aarch64 registers (machine type %d)\n",
		       core->mtype);
		return -EINVAL;
	}
	g = ti->gpregs;
	f = ti->fpsimd;
	if (g->n_regs != NR_GP || f->n_vregs != NR_VWORDS) {
		pr_err("bad aarch64 registers in the image (%zu general, %zu FPSIMD words)\n",
		       g->n_regs, f->n_vregs);
		return -EINVAL;
	}
	if (g->pstate & PSR_MODE32) {
		pr_err("the image is of an AArch32 (compat) task: not supported\n");
		return -EINVAL;
	}
	if (ti->pac_keys || ti->gcs)
		pr_warn("pointer authentication keys or GCS state in the image are not "
			"restored\n");

	memcpy(r->gp.regs, g->regs, NR_GP * sizeof(g->regs[0]));
	r->gp.sp = g->sp;
	r->gp.pc = g->pc;
	r->gp.pstate = g->pstate;
	/* not in a syscall: the kernel applies no restart logic to these */
	r->syscallno = NO_SYSCALL;

	memcpy(r->fp.vregs, f->vregs, NR_VWORDS * sizeof(f->vregs[0]));
	r->fp.fpsr = f->fpsr;
	r->fp.fpcr = f->fpcr;
	r->fp_len = sizeof(r->fp);
	/* only the FPSIMD view: written alone, it drops the live SVE state */
	r->sve_len = 0;
	r->tls = ti->tls;
	return 0;
}

void arch_core_set_clear_tid(CoreEntry *core, uint64_t addr)
{
	if (core->ti_aarch64)
		core->ti_aarch64->clear_tid_addr = addr;
}

uint64_t arch_core_clear_tid(const CoreEntry *core)
{
	return core->ti_aarch64 ? core->ti_aarch64->clear_tid_addr : 0;
}

void arch_restorer_jump(unsigned long ip, unsigned long sp, unsigned long arg)
{
	register unsigned long x0 asm("x0") = arg;
	register unsigned long x16 asm("x16") = ip;
	register unsigned long x17 asm("x17") = sp;

	asm volatile("mov sp, x17\n\t"
		     "mov x29, #0\n\t"
		     "mov x30, #0\n\t"
		     "br x16"
		     :
		     : "r"(x0), "r"(x16), "r"(x17)
		     : "memory");
	__builtin_unreachable();
}

void *arch_thread_pointer(void)
{
	return __builtin_thread_pointer();
}

int arch_vdso_jump(uint8_t *buf, size_t size, uint64_t from, uint64_t to)
{
	return -EOPNOTSUPP; /* a vDSO of another layout is refused here for now */
}
