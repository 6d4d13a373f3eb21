/*
 * What compel needs to run code in an aarch64 task (see compel-arch.h).
 *
 * Two arm64 ptrace facts shape this file:
 *  - the kernel restarts an interrupted syscall with x0 = orig_x0, which
 *    ptrace can neither read nor write (and our syscalls overwrite), so the
 *    restart cannot be restored from registers: restart_precise is false
 *    and compel settles it first (compel/restart.c);
 *  - at a syscall stop x7 reads as 0 (entry) or 1 (exit) and writes to it
 *    are dropped: the real x7 comes from the stop before.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

#include "compel-arch.h"
#include "compel-regs-aarch64.h"

#define PSR_MODE32 0x10	/* an AArch32 task */
#define INSN_LEN 4
#define NO_SYSCALL (-1)

static const unsigned char syscall_insn[] = { 0x01, 0x00, 0x00, 0xd4 }; /* svc #0 */
static const unsigned char trap_insn[] = { 0x00, 0x00, 0x20, 0xd4 };	 /* brk #0 */

static const unsigned char exit_first[] = { 0x01 }; /* the syscall instruction */
static const unsigned char exit_g2_seed[] = { 0x68, 0x11, 0x80, 0xd2 }; /* mov x8, #139 */

const struct compel_arch_desc compel_arch = {
	.name = "aarch64",
	.syscall_insn = syscall_insn,
	.syscall_len = sizeof(syscall_insn),
	.trap_insn = trap_insn,
	.trap_len = sizeof(trap_insn),
	.insn_align = INSN_LEN,
	.red_zone = 0,
	.mmap_args_in_memory = false,
	.restart_precise = false,
	.exit_first = exit_first,
	.exit_first_len = sizeof(exit_first),
	.exit_g2_seed = exit_g2_seed,
	.exit_g2_seed_len = sizeof(exit_g2_seed),
	.exit_g2_back = 0,
};

unsigned long compel_arch_get_ip(const struct compel_regs *r)
{
	return r->gp.pc;
}

unsigned long compel_arch_get_sp(const struct compel_regs *r)
{
	return r->gp.sp;
}

int compel_arch_check_abi(const struct compel_regs *r)
{
	return r->gp.pstate & PSR_MODE32 ? -EOPNOTSUPP : 0;
}

static void set_args(struct compel_regs *r, const unsigned long *args, int nargs)
{
	for (int i = 0; i < 6; i++)
		r->gp.regs[i] = i < nargs ? args[i] : 0;
}

void compel_arch_prep_syscall(struct compel_regs *r, unsigned long ip, long nr,
			      const unsigned long *args, int nargs)
{
	set_args(r, args, nargs);
	r->gp.pc = ip;
	r->gp.regs[8] = (unsigned long)nr;
	r->syscallno = NO_SYSCALL;
}

long compel_arch_syscall_ret(const struct compel_regs *r)
{
	return (long)r->gp.regs[0];
}

void compel_arch_prep_call(struct compel_regs *r, unsigned long ip, unsigned long sp,
			   const unsigned long *args, int nargs)
{
	set_args(r, args, nargs);
	r->gp.pc = ip;
	r->gp.sp = sp;
	r->gp.regs[30] = 0; /* no return: the code ends with brk */
	r->syscallno = NO_SYSCALL;
}

long compel_arch_call_ret(const struct compel_regs *r)
{
	return (long)r->gp.regs[0];
}

long compel_arch_syscall_nr(const struct compel_regs *r)
{
	return r->syscallno;
}

long compel_arch_entry_syscall_nr(const struct compel_regs *r)
{
	return r->syscallno;
}

bool compel_arch_restart_pending(const struct compel_regs *r)
{
	long ret = (long)r->gp.regs[0];

	if (r->syscallno == NO_SYSCALL)
		return false;
	/* -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK */
	return ret == -512 || ret == -513 || ret == -514 || ret == -516;
}

/* At the entry stop x0-x5 and x8 still hold the arguments and the number. */
void compel_arch_rewind_syscall(struct compel_regs *r, const struct compel_regs *before)
{
	r->gp.pc -= INSN_LEN;
	r->gp.regs[7] = before->gp.regs[7];
	r->syscallno = NO_SYSCALL;
}

void compel_arch_skip_syscall(struct compel_regs *r)
{
	r->syscallno = NO_SYSCALL;
}

/* ---- the self-cure's signal frame ------------------------------------------
 *
 * The kernel's arm64 layout (arch/arm64/kernel/signal.c, uapi
 * asm/sigcontext.h and asm/ucontext.h): rt_sigreturn reads the frame at sp,
 * which must be 16-byte aligned: siginfo, then the ucontext, whose
 * sigcontext ends in a 4096-byte area of records, each {magic, size} and
 * 16-byte aligned, closed by a zero record.  The FPSIMD record is required.
 * When the thread's SVE registers are live (NT_ARM_SVE says SVE, not
 * FPSIMD, layout) an SVE record carries them: its payload has the layout of
 * the regset's (Z, P, FFR at the same offsets); when it does not fit in the
 * area it goes behind an extra_context record, in the space right after
 * that record's terminator (which the kernel requires to be contiguous).
 * Without SVE live, no SVE record: the kernel then leaves the thread in
 * FPSIMD state, as it was.
 */
#define FPSIMD_MAGIC 0x46508001u
#define SVE_MAGIC 0x53564501u
#define EXTRA_MAGIC 0x45585401u
#define RESERVED_SIZE 4096
#define REC_HEAD 8		/* struct _aarch64_ctx: magic, size */
#define TERMINATOR_SIZE 16	/* a zero record, 16-byte aligned */
#define EXTRA_CONTEXT_SIZE 32
#define SVE_CONTEXT_HEAD 16	/* struct sve_context before the registers */
#define SVE_PT_HEADER 16	/* struct user_sve_header before the registers */
#define SVE_PT_REGS_SVE 1	/* user_sve_header.flags: SVE layout */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516
#define EINTR_ 4

struct a64_stack {
	uint64_t sp;
	int32_t flags;
	uint32_t pad;
	uint64_t size;
};

struct a64_sigcontext {
	uint64_t fault_address;
	uint64_t regs[31];
	uint64_t sp, pc, pstate;
	uint64_t pad; /* __reserved is 16-byte aligned */
	uint8_t reserved[RESERVED_SIZE];
};

struct a64_ucontext {
	uint64_t flags;
	uint64_t link;
	struct a64_stack stack;
	uint64_t sigmask;
	uint8_t unused[128 - 8]; /* room for a 1024-bit sigset_t */
	uint64_t pad;		  /* uc_mcontext is 16-byte aligned */
	struct a64_sigcontext mcontext;
};

struct a64_rt_sigframe {
	uint8_t info[128];
	struct a64_ucontext uc;
};

struct a64_fpsimd_context {
	uint32_t magic, size;
	uint32_t fpsr, fpcr;
	uint8_t vregs[32 * 16];
};

_Static_assert(offsetof(struct a64_rt_sigframe, uc.stack) == 144, "uc_stack at 144");
_Static_assert(offsetof(struct a64_rt_sigframe, uc.sigmask) == 168, "uc_sigmask at 168");
_Static_assert(offsetof(struct a64_rt_sigframe, uc.mcontext) == 304, "uc_mcontext at 304");
_Static_assert(offsetof(struct a64_rt_sigframe, uc.mcontext.reserved) == 592, "__reserved at 592");
_Static_assert(sizeof(struct a64_rt_sigframe) == 4688, "struct rt_sigframe is 4688 bytes");
_Static_assert(sizeof(struct a64_fpsimd_context) == 528, "fpsimd_context is 528 bytes");
_Static_assert(sizeof(struct user_fpsimd_struct) == 528, "user_fpsimd_struct is 528 bytes");

static size_t align16(size_t v)
{
	return (v + 15) & ~(size_t)15;
}

/* The bytes of Z0-Z31, P0-P15 and FFR at vector length vl (bytes). */
static size_t sve_regs_size(unsigned int vl)
{
	size_t vq = vl / 16;

	return 32 * vq * 16 + 16 * vq * 2 + vq * 2;
}

/* 0, or the size of the SVE record r needs (its registers are live). */
static size_t sve_record_size(const struct compel_regs *r, uint16_t *vl_out)
{
	uint16_t vl, flags;

	if (!r->sve || r->sve_len < SVE_PT_HEADER)
		return 0;
	memcpy(&vl, r->sve + 8, sizeof(vl));
	memcpy(&flags, r->sve + 12, sizeof(flags));
	if (!(flags & SVE_PT_REGS_SVE) || !vl || vl % 16 ||
	    r->sve_len < SVE_PT_HEADER + sve_regs_size(vl))
		return 0;
	*vl_out = vl;
	return align16(SVE_CONTEXT_HEAD + sve_regs_size(vl));
}

/* Bytes from the frame's start: the frame plus what goes behind it. */
static size_t frame_bytes(size_t sve_size)
{
	size_t inline_end = sizeof(struct a64_fpsimd_context) + sve_size + TERMINATOR_SIZE;

	if (inline_end <= RESERVED_SIZE)
		return sizeof(struct a64_rt_sigframe);
	return offsetof(struct a64_rt_sigframe, uc.mcontext.reserved) +
	       sizeof(struct a64_fpsimd_context) + EXTRA_CONTEXT_SIZE + TERMINATOR_SIZE +
	       sve_size + TERMINATOR_SIZE;
}

/*
 * Room for the largest frame of any thread of the task: the frame is built
 * again for each thread the parasite moves to, whose SVE registers may be
 * live when r's are not, at up to the maximum vector length.
 */
size_t compel_arch_sigframe_size(const struct compel_regs *r)
{
	uint16_t max_vl = 0;

	if (r->sve && r->sve_len >= SVE_PT_HEADER)
		memcpy(&max_vl, r->sve + 10, sizeof(max_vl));
	if (!max_vl || max_vl % 16)
		return 16 + frame_bytes(0);
	return 16 + frame_bytes(align16(SVE_CONTEXT_HEAD + sve_regs_size(max_vl)));
}

static void put_record_head(uint8_t *at, uint32_t magic, uint32_t size)
{
	memcpy(at, &magic, sizeof(magic));
	memcpy(at + 4, &size, sizeof(size));
}

/*
 * The registers as the thread resumes them without a handler.  compel has
 * settled an interrupted syscall before (restart_precise is false: orig_x0
 * is out of ptrace's reach), so a pending restart is one it cannot redo.
 */
static int apply_restart(const struct compel_regs *r, uint64_t *x0)
{
	long ret = (long)r->gp.regs[0];

	if (r->syscallno == NO_SYSCALL)
		return 0;
	if (ret == -ERESTART_RESTARTBLOCK) {
		*x0 = (uint64_t)-EINTR_;
		return 0;
	}
	if (ret == -ERESTARTSYS || ret == -ERESTARTNOINTR || ret == -ERESTARTNOHAND)
		return -EOPNOTSUPP;
	return 0;
}

int compel_arch_build_sigframe(const struct compel_regs *r, uint64_t mask, void *buf,
			       unsigned long remote, size_t room, unsigned long *sp_out,
			       unsigned long *altstack_out)
{
	size_t off = align16(remote) - remote;
	uint16_t vl = 0;
	size_t sve_size = sve_record_size(r, &vl), total = frame_bytes(sve_size);
	struct a64_rt_sigframe *f;
	struct a64_fpsimd_context fpsimd;
	uint8_t *rec, *sve;
	uint64_t x0 = r->gp.regs[0];
	int ret;

	if (r->fp_len != sizeof(struct user_fpsimd_struct))
		return -EOPNOTSUPP;
	if (off + total > room)
		return -ENOSPC;
	ret = apply_restart(r, &x0);
	if (ret)
		return ret;
	memset((char *)buf + off, 0, total);
	f = (struct a64_rt_sigframe *)((char *)buf + off);
	memcpy(f->uc.mcontext.regs, r->gp.regs, sizeof(f->uc.mcontext.regs));
	f->uc.mcontext.regs[0] = x0;
	f->uc.mcontext.sp = r->gp.sp;
	f->uc.mcontext.pc = r->gp.pc;
	f->uc.mcontext.pstate = r->gp.pstate;
	f->uc.sigmask = mask;
	f->uc.stack.flags = 2; /* SS_DISABLE until the parasite stores the real one */

	rec = f->uc.mcontext.reserved;
	memset(&fpsimd, 0, sizeof(fpsimd));
	fpsimd.magic = FPSIMD_MAGIC;
	fpsimd.size = sizeof(fpsimd);
	fpsimd.fpsr = r->fp.fpsr;
	fpsimd.fpcr = r->fp.fpcr;
	memcpy(fpsimd.vregs, r->fp.vregs, sizeof(fpsimd.vregs));
	memcpy(rec, &fpsimd, sizeof(fpsimd));
	rec += sizeof(fpsimd);
	if (sve_size) {
		if (total > sizeof(*f)) { /* behind an extra_context record */
			unsigned long datap = remote + off + (size_t)(rec - (uint8_t *)f) +
					      EXTRA_CONTEXT_SIZE + TERMINATOR_SIZE;
			uint32_t extra_size = (uint32_t)(sve_size + TERMINATOR_SIZE);
			uint64_t d = datap;

			put_record_head(rec, EXTRA_MAGIC, EXTRA_CONTEXT_SIZE);
			memcpy(rec + REC_HEAD, &d, sizeof(d));
			memcpy(rec + REC_HEAD + 8, &extra_size, sizeof(extra_size));
			rec += EXTRA_CONTEXT_SIZE + TERMINATOR_SIZE; /* the zero record */
		}
		sve = rec;
		put_record_head(sve, SVE_MAGIC, (uint32_t)sve_size);
		memcpy(sve + REC_HEAD, &vl, sizeof(vl)); /* flags 0: not streaming */
		memcpy(sve + SVE_CONTEXT_HEAD, r->sve + SVE_PT_HEADER, sve_regs_size(vl));
		rec += sve_size;
	}
	/* rec: the closing zero record, already zero */
	*sp_out = remote + off;
	*altstack_out = remote + off + offsetof(struct a64_rt_sigframe, uc.stack);
	return 0;
}

static uint32_t word_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * svc #0, then nops and at most one autiasp, then ret: the vDSO's
 * fallbacks (Debian 12's 6.1: svc #0; autiasp; ret).  With autiasp the
 * chain signs its link register first (paciasp, the same key and sp).
 */
bool compel_arch_exit_g1(const unsigned char *p, size_t avail, unsigned int *arg)
{
	unsigned int auth = 0;

	if (avail < 8 || word_at(p) != 0xd4000001)
		return false;
	for (size_t i = 4; i + 4 <= avail && i < 24; i += 4) {
		uint32_t w = word_at(p + i);

		if (w == 0xd65f03c0) { /* ret */
			*arg = auth;
			return true;
		}
		if (w == 0xd50323bf && !auth) /* autiasp */
			auth = 1;
		else if (w != 0xd503201f) /* nop */
			return false;
	}
	return false;
}

/* mov x8, #139; svc #0: the vDSO's __kernel_rt_sigreturn (and libc's) */
bool compel_arch_exit_g2(const unsigned char *p, size_t avail)
{
	return avail >= 8 && word_at(p) == 0xd2801168 && word_at(p + 4) == 0xd4000001;
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

/*
 * None: an interrupted syscall was settled before (restart_precise is
 * false), and its state, about to make the call again, says no more which
 * code the kernel gave (compel-arch.h).
 */
int compel_arch_restart_choice(struct compel_regs *r)
{
	return 0;
}

/*
 * The exit chain's return for an injected syscall at g1 (compel/syscall.c):
 * not with an autiasp in g1, which wants x30 signed with the task's key.
 */
bool compel_arch_chain_regs(struct compel_regs *r, unsigned long frame_sp, unsigned long g2,
			    unsigned int g1_arg)
{
	if (g1_arg)
		return false;
	r->gp.sp = frame_sp;
	r->gp.regs[30] = g2;
	return true;
}
