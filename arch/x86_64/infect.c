/* What compel needs to run code in an x86_64 task (see compel-arch.h). */
#include <cpuid.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <elf.h>

#include "compel-arch.h"
#include "compel-regs-x86_64.h"

#define USER64_CS 0x33		/* 64-bit user code segment */
#define EFLAGS_DF 0x400		/* the ABI wants it clear at a call */
#define SYSCALL_INSN_LEN 2

static const unsigned char syscall_insn[] = { 0x0f, 0x05 }; /* syscall */
static const unsigned char trap_insn[] = { 0xcc };	     /* int3 */

static const unsigned char exit_first[] = { 0x0f }; /* the syscall instruction */
static const unsigned char exit_g2_seed[] = { 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 }; /* the $15 and the syscall */

const struct compel_arch_desc compel_arch = {
	.name = "x86_64",
	.syscall_insn = syscall_insn,
	.syscall_len = sizeof(syscall_insn),
	.trap_insn = trap_insn,
	.trap_len = sizeof(trap_insn),
	.insn_align = 1,
	.red_zone = 128,
	.mmap_args_in_memory = false,
	/* orig_ax and ax are both in user_regs_struct */
	.restart_precise = true,
	.exit_first = exit_first,
	.exit_first_len = sizeof(exit_first),
	.exit_g2_seed = exit_g2_seed,
	.exit_g2_seed_len = sizeof(exit_g2_seed),
	.exit_g2_back = 3,
	.exit_ret_on_stack = true,
};

unsigned long compel_arch_get_ip(const struct compel_regs *r)
{
	return r->gp.rip;
}

unsigned long compel_arch_get_sp(const struct compel_regs *r)
{
	return r->gp.rsp;
}

int compel_arch_check_abi(const struct compel_regs *r)
{
	return r->gp.cs == USER64_CS ? 0 : -EOPNOTSUPP;
}

/* orig_ax = -1: "not in a syscall", so no restart logic on our state. */
void compel_arch_prep_syscall(struct compel_regs *r, unsigned long ip, long nr,
			      const unsigned long *args, int nargs)
{
	unsigned long a[6] = { 0 };

	for (int i = 0; i < nargs && i < 6; i++)
		a[i] = args[i];
	r->gp.rip = ip;
	r->gp.rax = (unsigned long)nr;
	r->gp.orig_rax = (unsigned long)-1L;
	r->gp.rdi = a[0];
	r->gp.rsi = a[1];
	r->gp.rdx = a[2];
	r->gp.r10 = a[3];
	r->gp.r8 = a[4];
	r->gp.r9 = a[5];
}

long compel_arch_syscall_ret(const struct compel_regs *r)
{
	return (long)r->gp.rax;
}

void compel_arch_prep_call(struct compel_regs *r, unsigned long ip, unsigned long sp,
			   const unsigned long *args, int nargs)
{
	unsigned long a[6] = { 0 };

	for (int i = 0; i < nargs && i < 6; i++)
		a[i] = args[i];
	r->gp.rip = ip;
	r->gp.rsp = sp;
	r->gp.rax = 0;
	r->gp.orig_rax = (unsigned long)-1L;
	r->gp.eflags &= ~(unsigned long)EFLAGS_DF;
	r->gp.rdi = a[0];
	r->gp.rsi = a[1];
	r->gp.rdx = a[2];
	r->gp.rcx = a[3];
	r->gp.r8 = a[4];
	r->gp.r9 = a[5];
}

long compel_arch_call_ret(const struct compel_regs *r)
{
	return (long)r->gp.rax;
}

long compel_arch_syscall_nr(const struct compel_regs *r)
{
	return (long)r->gp.orig_rax;
}

long compel_arch_entry_syscall_nr(const struct compel_regs *r)
{
	return (long)r->gp.orig_rax;
}

bool compel_arch_restart_pending(const struct compel_regs *r)
{
	long ret = (long)r->gp.rax;

	if ((long)r->gp.orig_rax < 0)
		return false;
	/* -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK */
	return ret == -512 || ret == -513 || ret == -514 || ret == -516;
}

/* At a syscall-entry stop: orig_ax holds the number, ip is past the insn. */
void compel_arch_rewind_syscall(struct compel_regs *r, const struct compel_regs *before)
{
	r->gp.rip -= SYSCALL_INSN_LEN;
	r->gp.rax = r->gp.orig_rax;
	r->gp.orig_rax = (unsigned long)-1L;
}

void compel_arch_skip_syscall(struct compel_regs *r)
{
	r->gp.orig_rax = (unsigned long)-1L;
}

/* ---- the self-cure's signal frame ------------------------------------------
 *
 * The kernel's x86_64 layout (arch/x86/include/asm/sigframe.h, uapi
 * asm/sigcontext.h): rt_sigreturn reads the frame at %rsp - 8, i.e. just
 * past the pretcode a handler's `ret' popped; fpstate points to a 64-byte
 * aligned xsave image whose software bytes (in the fxsave area) say its
 * size, followed by a second magic word.  Ours holds the thread's whole
 * xsave image as ptrace gave it (NT_X86_XSTATE writes those software bytes
 * the way signal delivery does).
 */
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#define FXSAVE_SIZE 512
#define SW_BYTES_OFF 464

struct x86_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
	uint64_t eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};

struct x86_stack {
	uint64_t sp;
	int32_t flags;
	uint32_t pad;
	uint64_t size;
};

struct x86_ucontext {
	uint64_t flags;
	uint64_t link;
	struct x86_stack stack;
	struct x86_sigcontext mcontext;
	uint64_t sigmask;
};

struct x86_rt_sigframe {
	uint64_t pretcode;
	struct x86_ucontext uc;
	uint8_t info[128];
};

struct x86_fpx_sw_bytes {
	uint32_t magic1;
	uint32_t extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size;
	uint32_t padding[7];
};

_Static_assert(sizeof(struct x86_sigcontext) == 256, "struct sigcontext is 256 bytes");
_Static_assert(offsetof(struct x86_rt_sigframe, uc.mcontext) == 48, "uc_mcontext at 48");
_Static_assert(offsetof(struct x86_rt_sigframe, uc.sigmask) == 304, "uc_sigmask at 304");

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

size_t compel_arch_sigframe_size(const struct compel_regs *r)
{
	return 64 + align_up(r->fp_len + sizeof(uint32_t), 64) + sizeof(struct x86_rt_sigframe);
}

/* The registers as the thread resumes them without a signal handler. */
static void apply_restart(struct user_regs_struct *g)
{
	long ret = (long)g->rax;

	if ((long)g->orig_rax < 0)
		return;
	/* ERESTARTSYS, NOINTR, NOHAND; and a poll() without a timeout, whose
	 * restart block is the same call again (as the dump's registers say) */
	if (ret == -512 || ret == -513 || ret == -514 ||
	    (ret == -516 && g->orig_rax == SYS_poll && (int)g->rdx < 0)) {
		g->rax = g->orig_rax;
		g->rip -= SYSCALL_INSN_LEN;
	} else if (ret == -516) { /* ERESTART_RESTARTBLOCK */
		g->rax = (unsigned long)-4L; /* -EINTR */
	}
}

static void fill_sigcontext(struct x86_sigcontext *sc, const struct user_regs_struct *g)
{
	sc->r8 = g->r8;
	sc->r9 = g->r9;
	sc->r10 = g->r10;
	sc->r11 = g->r11;
	sc->r12 = g->r12;
	sc->r13 = g->r13;
	sc->r14 = g->r14;
	sc->r15 = g->r15;
	sc->rdi = g->rdi;
	sc->rsi = g->rsi;
	sc->rbp = g->rbp;
	sc->rbx = g->rbx;
	sc->rdx = g->rdx;
	sc->rax = g->rax;
	sc->rcx = g->rcx;
	sc->rsp = g->rsp;
	sc->rip = g->rip;
	sc->eflags = g->eflags;
	sc->cs = (uint16_t)g->cs;
	sc->ss = (uint16_t)g->ss;
	sc->gs = (uint16_t)g->gs;
	sc->fs = (uint16_t)g->fs;
}

/*
 * The end of the last state component an xsave image with xstate_bv holds
 * (standard format: each component's offset and size from CPUID leaf 0xd),
 * at most len.
 */
static size_t xstate_end(uint64_t xstate_bv, size_t len)
{
	size_t end = FXSAVE_SIZE + 64; /* x87 and SSE, then the header */

	for (unsigned int i = 2; i < 63; i++) {
		unsigned int size, off, c, d;

		if (!(xstate_bv & (1ull << i)))
			continue;
		__cpuid_count(0xd, i, size, off, c, d);
		if (size && off + size > end)
			end = off + size;
	}
	return end < len ? end : len;
}

/*
 * The xsave image at fp (fp_len bytes) made what a signal frame holds:
 * its software bytes (where ptrace puts XCR0) say which features it holds
 * and how big it is, and a second magic word follows it.
 *
 * NT_X86_XSTATE is as big as every feature the CPU has (with AMX, 8 KiB
 * of tile data after the rest), but rt_sigreturn takes an xstate_size up
 * to the task's own size only, and a task that never asked for AMX has
 * the smaller default one; a bigger size makes it restore the fxsave part
 * alone, and the upper halves of the vector registers are lost.  So the
 * size is where the last feature in use ends (the whole image only for a
 * task whose tiles hold data, which has the whole size).  Returns that
 * size, 0 for an fxsave-only image.
 */
static size_t fill_fpstate(unsigned char *fp, const struct compel_regs *r)
{
	struct x86_fpx_sw_bytes sw;
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	uint64_t xstate_bv;
	size_t size;

	memcpy(fp, r->fp, r->fp_len);
	if (r->fp_type != NT_X86_XSTATE || r->fp_len < FXSAVE_SIZE + 64)
		return 0; /* fxsave only: the kernel takes it as such */
	memcpy(&xstate_bv, fp + FXSAVE_SIZE, sizeof(xstate_bv));
	size = xstate_end(xstate_bv, r->fp_len);
	memset(&sw, 0, sizeof(sw));
	sw.magic1 = FP_XSTATE_MAGIC1;
	sw.xstate_size = (uint32_t)size;
	sw.extended_size = (uint32_t)size + sizeof(magic2);
	sw.xfeatures = xstate_bv;
	memcpy(fp + SW_BYTES_OFF, &sw, sizeof(sw));
	memcpy(fp + size, &magic2, sizeof(magic2));
	return size;
}

int compel_arch_build_sigframe(const struct compel_regs *r, uint64_t mask, void *buf,
			       unsigned long remote, size_t room, unsigned long *sp_out,
			       unsigned long *altstack_out)
{
	size_t fp_off = align_up(remote, 64) - remote;
	size_t frame_off = fp_off + align_up(r->fp_len + sizeof(uint32_t), 64);
	struct user_regs_struct g = r->gp;
	struct x86_rt_sigframe *f;
	size_t xstate;

	if (!r->fp || !r->fp_len || frame_off + sizeof(*f) > room)
		return -ENOSPC;
	memset(buf, 0, frame_off + sizeof(*f));
	xstate = fill_fpstate((unsigned char *)buf + fp_off, r);
	f = (struct x86_rt_sigframe *)((char *)buf + frame_off);
	apply_restart(&g);
	fill_sigcontext(&f->uc.mcontext, &g);
	f->uc.mcontext.fpstate = remote + fp_off;
	f->uc.mcontext.oldmask = mask;
	f->uc.sigmask = mask;
	f->uc.flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | (xstate ? UC_FP_XSTATE : 0);
	f->uc.stack.flags = 2; /* SS_DISABLE until the parasite stores the real one */
	*sp_out = remote + frame_off + sizeof(f->pretcode);
	*altstack_out = remote + frame_off + offsetof(struct x86_rt_sigframe, uc.stack);
	return 0;
}

/*
 * syscall, then xor reg32, reg32 (with or without a REX prefix) and pop
 * reg64 (not %rsp) in any order, then ret: the shape of the vDSO's
 * fallbacks (6.18: syscall, five xors, ret; Debian 12's 6.1: syscall, ret).
 */
bool compel_arch_exit_g1(const unsigned char *p, size_t avail, unsigned int *arg)
{
	unsigned int pops = 0;
	size_t i = 2;

	if (avail < 3 || p[0] != 0x0f || p[1] != 0x05)
		return false;
	while (i < avail && i < 40) {
		size_t rex = (p[i] & 0xf0) == 0x40 ? 1 : 0;

		if (p[i] == 0xc3) {
			*arg = pops;
			return true;
		}
		if (i + rex + 1 < avail && p[i + rex] == 0x31 && p[i + rex + 1] >= 0xc0 &&
		    (p[i + rex + 1] & 7) != 4) {
			i += rex + 2; /* xor reg, reg; never into %esp (nor %r12d) */
			continue;
		}
		if (!rex && p[i] >= 0x58 && p[i] <= 0x5f && p[i] != 0x5c) {
			pops++; /* pop reg64, not pop %rsp */
			i++;
			continue;
		}
		if (p[i] == 0x41 && i + 1 < avail && p[i + 1] >= 0x58 && p[i + 1] <= 0x5f) {
			pops++; /* pop %r8..%r15 */
			i += 2;
			continue;
		}
		return false;
	}
	return false;
}

/* mov $15, %rax; syscall (libc's and Go's restorers) or mov $15, %eax; syscall */
bool compel_arch_exit_g2(const unsigned char *p, size_t avail)
{
	static const unsigned char a[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
	static const unsigned char b[] = { 0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };

	return (avail >= sizeof(a) && !memcmp(p, a, sizeof(a))) ||
	       (avail >= sizeof(b) && !memcmp(p, b, sizeof(b)));
}

/* Every interrupted syscall: orig_ax and ax say all the kernel needs. */
bool compel_arch_rest_by_ptrace(const struct compel_regs *r)
{
	return compel_arch_restart_pending(r);
}

/* The code, and rax = -EINTR in r (compel-arch.h). */
int compel_arch_restart_choice(struct compel_regs *r)
{
	long ret = (long)r->gp.rax;
	int code;

	if ((long)r->gp.orig_rax < 0)
		return 0;
	if (ret == -512 || ret == -514)
		code = (int)-ret;
	else if (ret == -516 && r->gp.orig_rax == SYS_poll && (int)r->gp.rdx < 0)
		code = 516;
	else
		return 0;
	r->gp.rax = (unsigned long)-4L; /* -EINTR */
	return code;
}

/* The exit chain's return for an injected syscall at g1 (compel/syscall.c). */
bool compel_arch_chain_regs(struct compel_regs *r, unsigned long frame_sp, unsigned long g2,
			    unsigned int g1_arg)
{
	r->gp.rsp = frame_sp - 8 - 8UL * g1_arg; /* g2 is the frame's pretcode */
	return true;
}
