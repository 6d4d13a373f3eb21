/*
 * aarch64 registers in the core image (thread_info_aarch64), the layout
 * upstream uses: x0-x30, sp, pc and pstate; the FPSIMD state as 64 words
 * (v0-v31, low word first), fpsr and fpcr; tpidr_el0 as tls.
 *
 * The image has no room for SVE: what is kept is the FPSIMD view of it
 * (the low 128 bits of z0-z31), which is all a thread has after a syscall.
 * At restore the FPSIMD state is written alone, so the kernel zeroes the
 * rest of the SVE registers and the task goes on without live SVE state.
 *
 * On CPUs with pointer authentication the keys go into pac_keys: the
 * restored task is a fork of criu with criu's keys, and the return
 * addresses on its stack were signed with its own.
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
/* PR_PAC_APIAKEY | PR_PAC_APIBKEY | PR_PAC_APDAKEY | PR_PAC_APDBKEY */
#define PAC_ALL_ADDR_KEYS 0xfUL

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

static void free_pac(PacKeys *k)
{
	if (!k)
		return;
	free(k->pac_address_keys);
	free(k->pac_generic_keys);
	free(k);
}

/* pac_keys from r: NULL in *out when the CPU has no pointer authentication. */
static int pac_to_core(const struct compel_regs *r, PacKeys **out)
{
	PacKeys *k;

	*out = NULL;
	if (!r->has_pac_addr && !r->has_pac_gen)
		return 0;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	pac_keys__init(k);
	if (r->has_pac_addr) {
		PacAddressKeys *a = calloc(1, sizeof(*a));

		if (!a) {
			free_pac(k);
			return -ENOMEM;
		}
		pac_address_keys__init(a);
		a->apiakey_lo = r->pac_addr[0], a->apiakey_hi = r->pac_addr[1];
		a->apibkey_lo = r->pac_addr[2], a->apibkey_hi = r->pac_addr[3];
		a->apdakey_lo = r->pac_addr[4], a->apdakey_hi = r->pac_addr[5];
		a->apdbkey_lo = r->pac_addr[6], a->apdbkey_hi = r->pac_addr[7];
		/* all four are enabled unless the kernel says otherwise (< 5.13) */
		a->pac_enabled_key = r->has_pac_enabled ? r->pac_enabled : PAC_ALL_ADDR_KEYS;
		k->pac_address_keys = a;
	}
	if (r->has_pac_gen) {
		PacGenericKeys *g = calloc(1, sizeof(*g));

		if (!g) {
			free_pac(k);
			return -ENOMEM;
		}
		pac_generic_keys__init(g);
		g->apgakey_lo = r->pac_gen[0], g->apgakey_hi = r->pac_gen[1];
		k->pac_generic_keys = g;
	}
	*out = k;
	return 0;
}

/*
 * The image's keys into r, which says what this CPU has.  An image without
 * keys (dumped on a CPU without pointer authentication, which then signed
 * nothing) leaves the task with the keys it has.
 */
static int pac_from_core(const PacKeys *k, struct compel_regs *r)
{
	bool want_addr = k && k->pac_address_keys, want_gen = k && k->pac_generic_keys;

	if ((want_addr && !r->has_pac_addr) || (want_gen && !r->has_pac_gen)) {
		pr_err("the image has pointer authentication keys and this CPU (or kernel) "
		       "cannot take them\n");
		return -EINVAL;
	}
	if (want_addr) {
		const PacAddressKeys *a = k->pac_address_keys;

		r->pac_addr[0] = a->apiakey_lo, r->pac_addr[1] = a->apiakey_hi;
		r->pac_addr[2] = a->apibkey_lo, r->pac_addr[3] = a->apibkey_hi;
		r->pac_addr[4] = a->apdakey_lo, r->pac_addr[5] = a->apdakey_hi;
		r->pac_addr[6] = a->apdbkey_lo, r->pac_addr[7] = a->apdbkey_hi;
		if (r->has_pac_enabled)
			r->pac_enabled = a->pac_enabled_key & PAC_ALL_ADDR_KEYS;
	} else {
		r->has_pac_addr = r->has_pac_enabled = false;
	}
	if (want_gen) {
		r->pac_gen[0] = k->pac_generic_keys->apgakey_lo;
		r->pac_gen[1] = k->pac_generic_keys->apgakey_hi;
	} else {
		r->has_pac_gen = false;
	}
	return 0;
}

int arch_regs_to_core(const struct compel_regs *r, CoreEntry *core)
{
	ThreadInfoAarch64 *ti;
	UserAarch64RegsEntry *g;
	UserAarch64FpsimdContextEntry *f;
	uint64_t *regs, *vregs;

	core->mtype = CORE_ENTRY__MARCH__AARCH64;
	if (r->fp_len != sizeof(r->fp)) {
		pr_err("the FPSIMD state is %zu bytes, not %zu\n", r->fp_len, sizeof(r->fp));
		return -EINVAL;
	}
	ti = calloc(1, sizeof(*ti));
	g = calloc(1, sizeof(*g));
	f = calloc(1, sizeof(*f));
	regs = calloc(NR_GP, sizeof(*regs));
	vregs = calloc(NR_VWORDS, sizeof(*vregs));
	if (!ti || !g || !f || !regs || !vregs) {
		free(ti);
		free(g);
		free(f);
		free(regs);
		free(vregs);
		return -ENOMEM;
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
	if (pac_to_core(r, &ti->pac_keys)) {
		arch_core_free_regs(core);
		return -ENOMEM;
	}
	if (r->sve_len) {
		/* the whole SVE state and the thread's vector length */
		ti->sve.data = malloc(r->sve_len);
		if (!ti->sve.data) {
			arch_core_free_regs(core);
			return -ENOMEM;
		}
		memcpy(ti->sve.data, r->sve, r->sve_len);
		ti->sve.len = r->sve_len;
		ti->has_sve = true;
	}
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
	free_pac(ti->pac_keys);
	if (ti->has_sve)
		free(ti->sve.data);
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
	if (ti->gcs)
		pr_warn("the guarded control stack state in the image is not restored\n");
	if (pac_from_core(ti->pac_keys, r))
		return -EINVAL;

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
	if (ti->has_sve) {
		/* written last, over the FPSIMD view: z, p, ffr and the vector
		 * length; a CPU that cannot take that length refuses it then */
		if (ti->sve.len < 16) {
			pr_err("the image's SVE state is %zu bytes, not even a header\n", ti->sve.len);
			return -EINVAL;
		}
		if (ti->sve.len > r->sve_cap) {
			unsigned char *n = realloc(r->sve, ti->sve.len);

			if (!n)
				return -ENOMEM;
			r->sve = n;
			r->sve_cap = ti->sve.len;
		}
		memcpy(r->sve, ti->sve.data, ti->sve.len);
		r->sve_len = ti->sve.len;
	}
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

/*
 * A b when the target is within its +-128 MiB, else ldr x16, 8; br x16 and
 * the address: x16 (IP0) is free at a function's entry, any veneer may
 * clobber it, and a br through x16 lands on a BTI "bti c" too.
 */
int arch_vdso_jump(const char *name, uint8_t *buf, size_t size, uint64_t from, uint64_t to)
{
	int64_t off = (int64_t)(to - from);
	uint32_t insn[2];

	if ((from | to) & 3)
		return -EINVAL;
	if (off >= -(1LL << 27) && off < (1LL << 27)) {
		if (size < 4)
			return -ENOSPC;
		insn[0] = 0x14000000u | (((uint64_t)off >> 2) & 0x03ffffffu); /* b */
		memcpy(buf, insn, 4);
		return 4;
	}
	if (size < 16)
		return -ENOSPC;
	insn[0] = 0x58000050u; /* ldr x16, .+8 */
	insn[1] = 0xd61f0200u; /* br x16 */
	memcpy(buf, insn, 8);
	memcpy(buf + 8, &to, 8);
	return 16;
}
