/*
 * s390x registers in the core image (thread_info_s390), the layout upstream
 * uses: the kernel's s390_regs field by field with system_call beside it,
 * fpc and the 16 FPRs, and with the vector facility the right halves of
 * v0-v15 (vxrs_low, 16 words) and v16-v31 (vxrs_high, 32 words, the left
 * word of each register first: the kernel's big-endian __vector128).
 *
 * Guarded storage and runtime instrumentation are not kept: compel refuses
 * a thread that has them on (arch/s390x/regs.c), and an image carrying
 * them is refused here.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "arch-image.h"
#include "compel-regs-s390x.h"
#include "log.h"

#define ERESTART_RESTARTBLOCK 516
#define ERESTARTNOHAND 514
#define NR_GPRS 16
#define NR_ACRS 16
#define NR_FPRS 16
#define NR_VXRS_LOW 16
#define NR_VXRS_HIGH 32
/* EA and BA: 64-bit addressing.  Anything else is a 24/31-bit task. */
#define PSW_MASK_EA 0x0000000100000000ULL
#define PSW_MASK_BA 0x0000000080000000ULL

int arch_core_mtype(void)
{
	return CORE_ENTRY__MARCH__S390;
}

/*
 * The kernel would restart such a syscall through restart_syscall and the
 * thread's restart block, which does not survive a restore: EINTR, except
 * for a poll() without a timeout (r4 negative), whose restart is the same
 * call again: it restarts as ERESTARTNOHAND does.
 */
void arch_regs_dump_fixup(struct compel_regs *r)
{
	if (!r->system_call || (long)r->gp.gprs[2] != -ERESTART_RESTARTBLOCK)
		return;
	if ((r->system_call & 0xffff) == SYS_poll && (int)r->gp.gprs[4] < 0)
		r->gp.gprs[2] = (unsigned long)-ERESTARTNOHAND;
	else
		r->gp.gprs[2] = (unsigned long)-EINTR;
}

static void *dup_array(const void *src, size_t n, size_t elem)
{
	void *p = malloc(n * elem);

	if (p)
		memcpy(p, src, n * elem);
	return p;
}

static int vxrs_to_core(const struct compel_regs *r, ThreadInfoS390 *ti)
{
	UserS390VxrsLowEntry *lo;
	UserS390VxrsHighEntry *hi;

	if (!r->vxrs_low_len && !r->vxrs_high_len)
		return 0; /* no vector facility */
	if (r->vxrs_low_len != sizeof(r->vxrs_low) || r->vxrs_high_len != sizeof(r->vxrs_high)) {
		pr_err("the vector registers are %zu + %zu bytes, not %zu + %zu\n",
		       r->vxrs_low_len, r->vxrs_high_len, sizeof(r->vxrs_low),
		       sizeof(r->vxrs_high));
		return -EINVAL;
	}
	lo = calloc(1, sizeof(*lo));
	hi = calloc(1, sizeof(*hi));
	if (!lo || !hi) {
		free(lo);
		free(hi);
		return -ENOMEM;
	}
	user_s390_vxrs_low_entry__init(lo);
	user_s390_vxrs_high_entry__init(hi);
	ti->vxrs_low = lo;
	ti->vxrs_high = hi;
	lo->regs = dup_array(r->vxrs_low, NR_VXRS_LOW, sizeof(uint64_t));
	hi->regs = dup_array(r->vxrs_high, NR_VXRS_HIGH, sizeof(uint64_t));
	if (!lo->regs || !hi->regs)
		return -ENOMEM;
	lo->n_regs = NR_VXRS_LOW;
	hi->n_regs = NR_VXRS_HIGH;
	return 0;
}

int arch_regs_to_core(const struct compel_regs *r, CoreEntry *core)
{
	ThreadInfoS390 *ti = calloc(1, sizeof(*ti));
	UserS390RegsEntry *g = calloc(1, sizeof(*g));
	UserS390FpregsEntry *f = calloc(1, sizeof(*f));
	int ret = -ENOMEM;

	core->mtype = CORE_ENTRY__MARCH__S390;
	if (!ti || !g || !f) {
		free(ti);
		free(g);
		free(f);
		return -ENOMEM;
	}
	thread_info_s390__init(ti);
	user_s390_regs_entry__init(g);
	user_s390_fpregs_entry__init(f);
	ti->gpregs = g;
	ti->fpregs = f;
	core->ti_s390 = ti;

	g->psw_mask = r->gp.psw_mask;
	g->psw_addr = r->gp.psw_addr;
	g->orig_gpr2 = r->gp.orig_gpr2;
	g->system_call = r->system_call;
	g->gprs = dup_array(r->gp.gprs, NR_GPRS, sizeof(uint64_t));
	g->acrs = dup_array(r->gp.acrs, NR_ACRS, sizeof(uint32_t));
	if (!g->gprs || !g->acrs)
		goto err;
	g->n_gprs = NR_GPRS;
	g->n_acrs = NR_ACRS;

	if (r->fp_len != sizeof(r->fp)) {
		pr_err("the FP state is %zu bytes, not %zu\n", r->fp_len, sizeof(r->fp));
		ret = -EINVAL;
		goto err;
	}
	f->fpc = r->fp.fpc;
	f->fprs = dup_array(r->fp.fprs, NR_FPRS, sizeof(uint64_t));
	if (!f->fprs)
		goto err;
	f->n_fprs = NR_FPRS;

	ret = vxrs_to_core(r, ti);
	if (ret)
		goto err;
	return 0;
err:
	arch_core_free_regs(core);
	return ret;
}

void arch_core_free_regs(CoreEntry *core)
{
	ThreadInfoS390 *ti = core->ti_s390;

	if (!ti)
		return;
	if (ti->gpregs) {
		free(ti->gpregs->gprs);
		free(ti->gpregs->acrs);
		free(ti->gpregs);
	}
	if (ti->fpregs) {
		free(ti->fpregs->fprs);
		free(ti->fpregs);
	}
	if (ti->vxrs_low) {
		free(ti->vxrs_low->regs);
		free(ti->vxrs_low);
	}
	if (ti->vxrs_high) {
		free(ti->vxrs_high->regs);
		free(ti->vxrs_high);
	}
	free(ti);
	core->ti_s390 = NULL;
}

/*
 * An image without vector registers (taken on a CPU without them) leaves
 * their right halves and v16-v31 zero; an image with them needs a CPU that
 * has them.
 */
static int core_to_vxrs(const ThreadInfoS390 *ti, struct compel_regs *r)
{
	const UserS390VxrsLowEntry *lo = ti->vxrs_low;
	const UserS390VxrsHighEntry *hi = ti->vxrs_high;

	if (!lo && !hi) {
		memset(r->vxrs_low, 0, sizeof(r->vxrs_low));
		memset(r->vxrs_high, 0, sizeof(r->vxrs_high));
		return 0;
	}
	if (!lo || !hi || lo->n_regs != NR_VXRS_LOW || hi->n_regs != NR_VXRS_HIGH) {
		pr_err("bad vector registers in the image (%zu low and %zu high words, want %d and %d)\n",
		       lo ? lo->n_regs : 0, hi ? hi->n_regs : 0, NR_VXRS_LOW, NR_VXRS_HIGH);
		return -EINVAL;
	}
	if (r->vxrs_low_len != sizeof(r->vxrs_low) || r->vxrs_high_len != sizeof(r->vxrs_high)) {
		pr_err("the image has vector registers and this CPU has no vector facility\n");
		return -EINVAL;
	}
	memcpy(r->vxrs_low, lo->regs, sizeof(r->vxrs_low));
	memcpy(r->vxrs_high, hi->regs, sizeof(r->vxrs_high));
	return 0;
}

static int check_image(const CoreEntry *core)
{
	const ThreadInfoS390 *ti = core->ti_s390;
	const UserS390RegsEntry *g;

	if (core->mtype != CORE_ENTRY__MARCH__S390 || !ti || !ti->gpregs || !ti->fpregs) {
		pr_err("the core image holds no s390x registers (machine type %d)\n", core->mtype);
		return -EINVAL;
	}
	g = ti->gpregs;
	if (g->n_gprs != NR_GPRS || g->n_acrs != NR_ACRS || ti->fpregs->n_fprs != NR_FPRS) {
		pr_err("bad registers in the image (%zu gprs, %zu acrs, %zu fprs; want %d, %d, %d)\n",
		       g->n_gprs, g->n_acrs, ti->fpregs->n_fprs, NR_GPRS, NR_ACRS, NR_FPRS);
		return -EINVAL;
	}
	if ((g->psw_mask & (PSW_MASK_EA | PSW_MASK_BA)) != (PSW_MASK_EA | PSW_MASK_BA)) {
		pr_err("31-bit (compat) tasks are not supported (psw mask %#llx)\n",
		       (unsigned long long)g->psw_mask);
		return -EINVAL;
	}
	if (ti->gs_cb || ti->gs_bc) {
		pr_err("the image has guarded-storage state, which is not supported\n");
		return -EINVAL;
	}
	if (ti->ri_cb) {
		pr_err("the image has runtime-instrumentation state, which is not supported\n");
		return -EINVAL;
	}
	return 0;
}

int arch_core_to_regs(const CoreEntry *core, struct compel_regs *r)
{
	const ThreadInfoS390 *ti = core->ti_s390;
	const UserS390RegsEntry *g;
	int ret = check_image(core);

	if (ret)
		return ret;
	g = ti->gpregs;
	if (r->fp_len != sizeof(r->fp)) {
		pr_err("this thread's FP state is %zu bytes, not %zu\n", r->fp_len, sizeof(r->fp));
		return -EINVAL;
	}
	ret = core_to_vxrs(ti, r);
	if (ret)
		return ret;
	r->gp.psw_mask = g->psw_mask;
	r->gp.psw_addr = g->psw_addr;
	r->gp.orig_gpr2 = g->orig_gpr2;
	memcpy(r->gp.gprs, g->gprs, sizeof(r->gp.gprs));
	memcpy(r->gp.acrs, g->acrs, sizeof(r->gp.acrs));
	r->system_call = g->system_call;
	r->fp.fpc = ti->fpregs->fpc;
	memcpy(r->fp.fprs, ti->fpregs->fprs, sizeof(r->fp.fprs));
	return 0;
}

void arch_core_set_clear_tid(CoreEntry *core, uint64_t addr)
{
	if (core->ti_s390)
		core->ti_s390->clear_tid_addr = addr;
}

uint64_t arch_core_clear_tid(const CoreEntry *core)
{
	return core->ti_s390 ? core->ti_s390->clear_tid_addr : 0;
}

/*
 * The entry gets %r15 = sp less the 160-byte register save area that every
 * s390x callee may write into, with a null back chain.
 */
void arch_restorer_jump(unsigned long ip, unsigned long sp, unsigned long arg)
{
	register unsigned long r2 asm("r2") = arg;
	register unsigned long r3 asm("r3") = sp;
	register unsigned long r4 asm("r4") = ip;

	asm volatile("lgr	%%r15, %%r3\n\t"
		     "nill	%%r15, 0xfff8\n\t"
		     "aghi	%%r15, -160\n\t"
		     "xc	0(8, %%r15), 0(%%r15)\n\t"
		     "br	%%r4"
		     :
		     : "d"(r2), "d"(r3), "d"(r4)
		     : "memory");
	__builtin_unreachable();
}

void *arch_thread_pointer(void)
{
	return __builtin_thread_pointer();
}

/* Big-endian stores of instruction fields. */
static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

/*
 * brcl 15 (jg) when the target is within its +-4 GiB, else lgrl %r1 from a
 * doubleword-aligned literal after br %r1 (%r1 is volatile across calls).
 * The syscall trampolines the kernel returns into (sigreturn,
 * rt_sigreturn, restart_syscall: one svc each) keep their code.
 */
int arch_vdso_jump(const char *name, uint8_t *buf, size_t size, uint64_t from, uint64_t to)
{
	int64_t off = (int64_t)(to - from);
	uint64_t lit;
	size_t len, at;

	if (strstr(name, "sigreturn") || strstr(name, "restart_syscall"))
		return 0;
	if ((from | to) & 1)
		return -EINVAL;
	if (off >= -(1LL << 32) && off < (1LL << 32)) {
		if (size < 6)
			return -ENOSPC;
		put_be16(buf, 0xc0f4);			      /* brcl 15, */
		put_be32(buf + 2, (uint32_t)(off / 2));	      /* halfwords */
		return 6;
	}
	lit = (from + 8 + 7) & ~7ULL;
	len = (size_t)(lit + 8 - from);
	if (size < len)
		return -ENOSPC;
	put_be16(buf, 0xc418);				      /* lgrl %r1, */
	put_be32(buf + 2, (uint32_t)((lit - from) / 2));
	put_be16(buf + 6, 0x07f1);			      /* br %r1 */
	for (at = 8; at < lit - from; at += 2)
		put_be16(buf + at, 0x0707);		      /* nopr %r7 */
	for (int i = 0; i < 8; i++)
		buf[lit - from + (size_t)i] = (uint8_t)(to >> (56 - 8 * i));
	return (int)len;
}
