/*
 * x86_64 registers in the core image (thread_info_x86), the layout upstream
 * uses: user_regs_struct field by field, the fxsave area split into its
 * fields, and the xsave components (AVX, AVX-512, PKRU) as arrays.
 *
 * The xsave area that ptrace gives is in the standard (non-compacted)
 * format; where each component lives in it comes from CPUID leaf 0xD.
 */
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "arch-image.h"
#include "compel-regs-x86_64.h"
#include "log.h"

#define FXSAVE_SIZE 512
#define XSAVE_HDR_OFF 512
#define ERESTART_RESTARTBLOCK 516
#define ERESTARTNOHAND 514

/* xsave components kept in the image: number, size in 32-bit words */
enum { XC_YMM = 2, XC_BNDREGS = 3, XC_BNDCSR = 4, XC_OPMASK = 5, XC_ZMM_H = 6, XC_HI16_ZMM = 7,
       XC_PKRU = 9 };

/* the xstate_bv bits of the components kept in the image */
#define XC_KEPT 0x2ffULL

static int xc_offset(int comp, unsigned int *size)
{
	unsigned int eax, ebx, ecx, edx;

	if (__get_cpuid_max(0, NULL) < 0xd)
		return -1;
	__cpuid_count(0xd, comp, eax, ebx, ecx, edx);
	if (!eax)
		return -1;
	*size = eax;
	return (int)ebx;
}

static uint64_t xcr0(void)
{
	uint32_t lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

int arch_core_mtype(void)
{
	return CORE_ENTRY__MARCH__X86_64;
}

/*
 * -ERESTART_RESTARTBLOCK: the kernel would restart through the thread's
 * restart block, which does not survive a restore: -EINTR instead.  But a
 * poll() without a timeout (its third argument negative) restarts as the
 * same call again, so it restarts as -ERESTARTNOHAND does (GNU tail -f
 * sleeps there, and an EINTR would end it).
 */
void arch_regs_dump_fixup(struct compel_regs *r)
{
	if ((long)r->gp.orig_rax < 0 || (long)r->gp.rax != -ERESTART_RESTARTBLOCK)
		return;
	if (r->gp.orig_rax == SYS_poll && (int)r->gp.rdx < 0)
		r->gp.rax = (unsigned long)-ERESTARTNOHAND;
	else
		r->gp.rax = (unsigned long)-EINTR;
}

static uint32_t *words(const unsigned char *p, size_t n)
{
	uint32_t *w = malloc(n * sizeof(*w));

	if (w)
		memcpy(w, p, n * sizeof(*w));
	return w;
}

/* A repeated field copied from the xsave area when the CPU has it. */
static int take_comp(const struct compel_regs *r, int comp, size_t elem, size_t *n_out,
		     void **out)
{
	unsigned int size;
	int off = xc_offset(comp, &size);

	*n_out = 0;
	*out = NULL;
	if (off < 0 || r->fp_type != NT_X86_XSTATE || (size_t)off + size > r->fp_len)
		return 0;
	*out = malloc(size);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, r->fp + off, size);
	*n_out = size / elem;
	return 0;
}

int arch_regs_to_core(const struct compel_regs *r, CoreEntry *core)
{
	ThreadInfoX86 *ti = calloc(1, sizeof(*ti));
	UserX86RegsEntry *g = calloc(1, sizeof(*g));
	UserX86FpregsEntry *f = calloc(1, sizeof(*f));
	const struct user_regs_struct *u = &r->gp;
	const unsigned char *fx = r->fp;
	int ret = -ENOMEM;

	core->mtype = CORE_ENTRY__MARCH__X86_64;
	if (!ti || !g || !f)
		goto err;
	thread_info_x86__init(ti);
	user_x86_regs_entry__init(g);
	user_x86_fpregs_entry__init(f);
	ti->gpregs = g;
	ti->fpregs = f;
	core->thread_info = ti;

	g->r15 = u->r15, g->r14 = u->r14, g->r13 = u->r13, g->r12 = u->r12;
	g->bp = u->rbp, g->bx = u->rbx, g->r11 = u->r11, g->r10 = u->r10;
	g->r9 = u->r9, g->r8 = u->r8, g->ax = u->rax, g->cx = u->rcx;
	g->dx = u->rdx, g->si = u->rsi, g->di = u->rdi, g->orig_ax = u->orig_rax;
	g->ip = u->rip, g->cs = u->cs, g->flags = u->eflags, g->sp = u->rsp;
	g->ss = u->ss, g->fs_base = u->fs_base, g->gs_base = u->gs_base;
	g->ds = u->ds, g->es = u->es, g->fs = u->fs, g->gs = u->gs;
	g->has_mode = true;
	g->mode = USER_X86_REGS_MODE__NATIVE;

	if (r->fp_len < FXSAVE_SIZE) {
		pr_err("the FPU state is %zu bytes, less than an fxsave area\n", r->fp_len);
		ret = -EINVAL;
		goto err;
	}
	f->cwd = *(const uint16_t *)(fx + 0);
	f->swd = *(const uint16_t *)(fx + 2);
	f->twd = *(const uint16_t *)(fx + 4);
	f->fop = *(const uint16_t *)(fx + 6);
	f->rip = *(const uint64_t *)(fx + 8);
	f->rdp = *(const uint64_t *)(fx + 16);
	f->mxcsr = *(const uint32_t *)(fx + 24);
	f->mxcsr_mask = *(const uint32_t *)(fx + 28);
	f->n_st_space = 32;
	f->st_space = words(fx + 32, 32);
	f->n_xmm_space = 64;
	f->xmm_space = words(fx + 160, 64);
	if (!f->st_space || !f->xmm_space)
		goto err;

	if (r->fp_type == NT_X86_XSTATE && r->fp_len >= XSAVE_HDR_OFF + 64) {
		UserX86XsaveEntry *x = calloc(1, sizeof(*x));

		if (!x)
			goto err;
		user_x86_xsave_entry__init(x);
		f->xsave = x;
		x->xstate_bv = *(const uint64_t *)(fx + XSAVE_HDR_OFF);
		if (take_comp(r, XC_YMM, 4, &x->n_ymmh_space, (void **)&x->ymmh_space) ||
		    take_comp(r, XC_BNDREGS, 8, &x->n_bndreg_state, (void **)&x->bndreg_state) ||
		    take_comp(r, XC_BNDCSR, 8, &x->n_bndcsr_state, (void **)&x->bndcsr_state) ||
		    take_comp(r, XC_OPMASK, 8, &x->n_opmask_reg, (void **)&x->opmask_reg) ||
		    take_comp(r, XC_ZMM_H, 8, &x->n_zmm_upper, (void **)&x->zmm_upper) ||
		    take_comp(r, XC_HI16_ZMM, 8, &x->n_hi16_zmm, (void **)&x->hi16_zmm) ||
		    take_comp(r, XC_PKRU, 4, &x->n_pkru, (void **)&x->pkru))
			goto err;
	}
	return 0;
err:
	if (!core->thread_info) {
		free(ti);
		free(g);
		free(f);
	} else
		arch_core_free_regs(core);
	return ret;
}

void arch_core_free_regs(CoreEntry *core)
{
	ThreadInfoX86 *ti = core->thread_info;

	if (!ti)
		return;
	if (ti->fpregs) {
		UserX86XsaveEntry *x = ti->fpregs->xsave;

		if (x) {
			free(x->ymmh_space);
			free(x->bndreg_state);
			free(x->bndcsr_state);
			free(x->opmask_reg);
			free(x->zmm_upper);
			free(x->hi16_zmm);
			free(x->pkru);
			free(x);
		}
		free(ti->fpregs->st_space);
		free(ti->fpregs->xmm_space);
		free(ti->fpregs);
	}
	free(ti->gpregs);
	free(ti);
	core->thread_info = NULL;
}

static int put_comp(struct compel_regs *r, int comp, const void *src, size_t n, size_t elem,
		    const char *what)
{
	unsigned int size;
	int off;

	if (!n)
		return 0;
	off = xc_offset(comp, &size);
	if (off < 0 || r->fp_type != NT_X86_XSTATE || (size_t)off + size > r->fp_len) {
		pr_err("the image has %s state and this CPU cannot hold it\n", what);
		return -EINVAL;
	}
	if (n * elem != size) {
		pr_err("the image's %s state is %zu bytes, this CPU's %u\n", what, n * elem, size);
		return -EINVAL;
	}
	memcpy(r->fp + off, src, size);
	return 0;
}

int arch_core_to_regs(const CoreEntry *core, struct compel_regs *r)
{
	const ThreadInfoX86 *ti = core->thread_info;
	const UserX86RegsEntry *g;
	const UserX86FpregsEntry *f;
	struct user_regs_struct *u = &r->gp;
	unsigned char *fx = r->fp;

	if (core->mtype != CORE_ENTRY__MARCH__X86_64 || !ti || !ti->gpregs || !ti->fpregs) {
		pr_err("the core image holds no x86_64 registers (machine type %d)\n", core->mtype);
		return -EINVAL;
	}
	g = ti->gpregs;
	f = ti->fpregs;
	if (g->has_mode && g->mode != USER_X86_REGS_MODE__NATIVE) {
		pr_err("32-bit (compat) tasks are not supported\n");
		return -EINVAL;
	}
	u->r15 = g->r15, u->r14 = g->r14, u->r13 = g->r13, u->r12 = g->r12;
	u->rbp = g->bp, u->rbx = g->bx, u->r11 = g->r11, u->r10 = g->r10;
	u->r9 = g->r9, u->r8 = g->r8, u->rax = g->ax, u->rcx = g->cx;
	u->rdx = g->dx, u->rsi = g->si, u->rdi = g->di, u->orig_rax = g->orig_ax;
	u->rip = g->ip, u->cs = g->cs, u->eflags = g->flags, u->rsp = g->sp;
	u->ss = g->ss, u->fs_base = g->fs_base, u->gs_base = g->gs_base;
	u->ds = g->ds, u->es = g->es, u->fs = g->fs, u->gs = g->gs;

	if (r->fp_len < FXSAVE_SIZE || f->n_st_space != 32 || f->n_xmm_space != 64) {
		pr_err("bad FPU state in the image (%zu st words, %zu xmm words)\n", f->n_st_space,
		       f->n_xmm_space);
		return -EINVAL;
	}
	*(uint16_t *)(fx + 0) = f->cwd;
	*(uint16_t *)(fx + 2) = f->swd;
	*(uint16_t *)(fx + 4) = f->twd;
	*(uint16_t *)(fx + 6) = f->fop;
	*(uint64_t *)(fx + 8) = f->rip;
	*(uint64_t *)(fx + 16) = f->rdp;
	*(uint32_t *)(fx + 24) = f->mxcsr;
	*(uint32_t *)(fx + 28) = f->mxcsr_mask;
	memcpy(fx + 32, f->st_space, 128);
	memcpy(fx + 160, f->xmm_space, 256);

	if (f->xsave && r->fp_type == NT_X86_XSTATE && r->fp_len >= XSAVE_HDR_OFF + 64) {
		const UserX86XsaveEntry *x = f->xsave;
		uint64_t *bv = (uint64_t *)(fx + XSAVE_HDR_OFF);
		int ret;

		if ((ret = put_comp(r, XC_YMM, x->ymmh_space, x->n_ymmh_space, 4, "AVX")) ||
		    (ret = put_comp(r, XC_BNDREGS, x->bndreg_state, x->n_bndreg_state, 8,
				    "MPX bounds")) ||
		    (ret = put_comp(r, XC_BNDCSR, x->bndcsr_state, x->n_bndcsr_state, 8,
				    "MPX configuration")) ||
		    (ret = put_comp(r, XC_OPMASK, x->opmask_reg, x->n_opmask_reg, 8,
				    "AVX-512 opmask")) ||
		    (ret = put_comp(r, XC_ZMM_H, x->zmm_upper, x->n_zmm_upper, 8, "AVX-512 ZMM")) ||
		    (ret = put_comp(r, XC_HI16_ZMM, x->hi16_zmm, x->n_hi16_zmm, 8,
				    "AVX-512 ZMM16-31")) ||
		    (ret = put_comp(r, XC_PKRU, x->pkru, x->n_pkru, 4, "PKRU")))
			return ret;
		/* The image's own bits, for the components kept in it and enabled
		 * on this CPU (XCR0): the others start in their initial state,
		 * and the kernel refuses bits of components it does not manage. */
		*bv = x->xstate_bv & XC_KEPT & xcr0();
		memset(fx + XSAVE_HDR_OFF + 8, 0, 56); /* xcomp_bv and reserved: standard format */
	}
	return 0;
}

void arch_core_set_clear_tid(CoreEntry *core, uint64_t addr)
{
	if (core->thread_info)
		core->thread_info->clear_tid_addr = addr;
}

uint64_t arch_core_clear_tid(const CoreEntry *core)
{
	return core->thread_info ? core->thread_info->clear_tid_addr : 0;
}

void arch_restorer_jump(unsigned long ip, unsigned long sp, unsigned long arg)
{
	asm volatile("movq %0, %%rsp\n\t"
		     "xorl %%ebp, %%ebp\n\t"
		     "jmpq *%1"
		     :
		     : "a"(sp), "c"(ip), "D"(arg)
		     : "memory");
	__builtin_unreachable();
}

void *arch_thread_pointer(void)
{
	return __builtin_thread_pointer();
}

int arch_vdso_jump(const char *name, uint8_t *buf, size_t size, uint64_t from, uint64_t to)
{
	/* jmp *0(%rip); .quad to: no register touched */
	static const uint8_t jmp[6] = { 0xff, 0x25, 0, 0, 0, 0 };

	if (size < 14)
		return -ENOSPC;
	memcpy(buf, jmp, sizeof(jmp));
	memcpy(buf + 6, &to, 8);
	return 14;
}
