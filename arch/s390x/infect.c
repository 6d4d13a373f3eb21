/*
 * What compel needs to run code in an s390x task (see compel-arch.h).
 *
 * "svc 0" takes the number in r1 and the arguments in r2-r7; the result
 * comes back in r2.  mmap is old_mmap here: one pointer to its six
 * arguments.  The kernel restarts an interrupted syscall from r2,
 * orig_gpr2 and thread.system_call (NT_S390_SYSTEM_CALL), all writable:
 * restart_precise.  Injected state has system_call = 0, "not in a
 * syscall".  The trap is the halfword 0x0001, which the kernel reports to
 * a tracer as SIGTRAP (and as SIGILL to anyone else).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>

#include "compel-arch.h"
#include "compel-regs-s390x.h"

#define SVC_LEN 2
#define PSW_MASK_64 0x0000000180000000ULL /* EA and BA: 64-bit addressing */

static const unsigned char syscall_insn[] = { 0x0a, 0x00 }; /* svc 0 */
static const unsigned char trap_insn[] = { 0x00, 0x01 };    /* breakpoint */

static const unsigned char exit_first[] = { 0x0a }; /* the syscall instruction */
static const unsigned char exit_g2_seed[] = { 0x0a, 0xad }; /* svc 173 */

const struct compel_arch_desc compel_arch = {
	.name = "s390x",
	.syscall_insn = syscall_insn,
	.syscall_len = sizeof(syscall_insn),
	.trap_insn = trap_insn,
	.trap_len = sizeof(trap_insn),
	.insn_align = 2,
	.red_zone = 0,
	.mmap_args_in_memory = true,
	.restart_precise = true,
	.exit_first = exit_first,
	.exit_first_len = sizeof(exit_first),
	.exit_g2_seed = exit_g2_seed,
	.exit_g2_seed_len = sizeof(exit_g2_seed),
	.exit_g2_back = 0,
};

unsigned long compel_arch_get_ip(const struct compel_regs *r)
{
	return r->gp.psw_addr;
}

unsigned long compel_arch_get_sp(const struct compel_regs *r)
{
	return r->gp.gprs[15];
}

int compel_arch_check_abi(const struct compel_regs *r)
{
	return (r->gp.psw_mask & PSW_MASK_64) == PSW_MASK_64 ? 0 : -EOPNOTSUPP;
}

void compel_arch_prep_syscall(struct compel_regs *r, unsigned long ip, long nr,
			      const unsigned long *args, int nargs)
{
	for (int i = 0; i < 6; i++)
		r->gp.gprs[2 + i] = i < nargs ? args[i] : 0;
	r->gp.psw_addr = ip;
	r->gp.gprs[1] = (unsigned long)nr;
	r->system_call = 0;
}

long compel_arch_syscall_ret(const struct compel_regs *r)
{
	return (long)r->gp.gprs[2];
}

/* The C ABI has five argument registers, r2-r6. */
void compel_arch_prep_call(struct compel_regs *r, unsigned long ip, unsigned long sp,
			   const unsigned long *args, int nargs)
{
	for (int i = 0; i < 5; i++)
		r->gp.gprs[2 + i] = i < nargs ? args[i] : 0;
	r->gp.psw_addr = ip;
	r->gp.gprs[15] = sp;
	r->gp.gprs[14] = 0; /* no return: the code ends with the trap */
	r->system_call = 0;
}

long compel_arch_call_ret(const struct compel_regs *r)
{
	return (long)r->gp.gprs[2];
}

long compel_arch_syscall_nr(const struct compel_regs *r)
{
	return r->system_call ? (long)(r->system_call & 0xffff) : -1;
}

long compel_arch_entry_syscall_nr(const struct compel_regs *r)
{
	return (long)r->gp.gprs[2];
}

bool compel_arch_restart_pending(const struct compel_regs *r)
{
	long ret = (long)r->gp.gprs[2];

	if (!r->system_call)
		return false;
	/* -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK */
	return ret == -512 || ret == -513 || ret == -514 || ret == -516;
}

/* At the entry stop r2 holds the number, orig_gpr2 the first argument. */
void compel_arch_rewind_syscall(struct compel_regs *r, const struct compel_regs *before)
{
	r->gp.psw_addr -= SVC_LEN;
	r->gp.gprs[2] = r->gp.orig_gpr2;
	r->system_call = 0;
}

void compel_arch_skip_syscall(struct compel_regs *r)
{
	r->gp.gprs[2] = (unsigned long)-1L;
}

/* ---- the self-cure's signal frame ------------------------------------------
 *
 * The kernel's s390x layout (arch/s390/kernel/signal.c, uapi
 * asm/sigcontext.h and asm/ucontext.h): rt_sigreturn reads the frame at
 * r15: a 160-byte save area for the handler's callees, the 2-byte svc of
 * the old sigreturn trampoline, siginfo, then struct ucontext_extended:
 * _sigregs (psw, r0-r15, the access registers, fpc and f0-f15, which are
 * the left halves of v0-v15), the mask, and _sigregs_ext (the right halves
 * of v0-v15 and v16-v31, read when the machine has the vector facility).
 * Of the PSW mask the kernel takes only the user bits.
 */
#define SIGNAL_FRAMESIZE 160
#define UC_VXRS 2
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516
#define EINTR_ 4

struct s390_stack {
	uint64_t sp;
	int32_t flags;
	uint32_t pad;
	uint64_t size;
};

struct s390_sigregs {
	uint64_t psw_mask, psw_addr;
	uint64_t gprs[16];
	uint32_t acrs[16];
	uint32_t fpc, pad;
	uint64_t fprs[16];
};

struct s390_sigregs_ext {
	uint64_t vxrs_low[16];
	unsigned char vxrs_high[16 * 16];
	unsigned char reserved[128];
};

struct s390_ucontext_extended {
	uint64_t flags;
	uint64_t link;
	struct s390_stack stack;
	struct s390_sigregs mcontext;
	uint64_t sigmask;
	unsigned char unused[128 - 8];
	struct s390_sigregs_ext mcontext_ext;
};

struct s390_rt_sigframe {
	unsigned char callee_used_stack[SIGNAL_FRAMESIZE];
	uint16_t svc_insn;
	uint16_t pad[3];
	unsigned char info[128];
	struct s390_ucontext_extended uc;
};

_Static_assert(sizeof(struct s390_sigregs) == 344, "_sigregs is 344 bytes");
_Static_assert(offsetof(struct s390_rt_sigframe, info) == 168, "info at 168");
_Static_assert(offsetof(struct s390_rt_sigframe, uc.stack) == 312, "uc_stack at 312");
_Static_assert(offsetof(struct s390_rt_sigframe, uc.mcontext) == 336, "uc_mcontext at 336");
_Static_assert(offsetof(struct s390_rt_sigframe, uc.sigmask) == 680, "uc_sigmask at 680");
_Static_assert(offsetof(struct s390_rt_sigframe, uc.mcontext_ext) == 808,
	       "uc_mcontext_ext at 808");
_Static_assert(sizeof(struct s390_rt_sigframe) == 1320, "struct rt_sigframe is 1320 bytes");

size_t compel_arch_sigframe_size(const struct compel_regs *r)
{
	return 8 + sizeof(struct s390_rt_sigframe);
}

/* The registers as the thread resumes them without a handler. */
static void apply_restart(const struct compel_regs *r, struct s390_sigregs *sr)
{
	long ret = (long)sr->gprs[2];
	unsigned long ilc = r->system_call >> 16; /* the svc's length */

	if (!r->system_call)
		return;
	/* ... and a poll() without a timeout, whose restart block is the same
	 * call again (as the dump's registers say) */
	if (ret == -ERESTARTSYS || ret == -ERESTARTNOINTR || ret == -ERESTARTNOHAND ||
	    (ret == -ERESTART_RESTARTBLOCK && (r->system_call & 0xffff) == SYS_poll &&
	     (int)r->gp.gprs[4] < 0)) {
		sr->gprs[2] = r->gp.orig_gpr2;
		sr->psw_addr -= ilc ? ilc : SVC_LEN;
	} else if (ret == -ERESTART_RESTARTBLOCK) {
		sr->gprs[2] = (uint64_t)-EINTR_;
	}
}

int compel_arch_build_sigframe(const struct compel_regs *r, uint64_t mask, void *buf,
			       unsigned long remote, size_t room, unsigned long *sp_out,
			       unsigned long *altstack_out)
{
	size_t off = ((remote + 7) & ~7UL) - remote;
	struct s390_rt_sigframe *f;
	struct s390_sigregs *sr;

	if (r->fp_len != sizeof(r->fp))
		return -EOPNOTSUPP;
	if (off + sizeof(*f) > room)
		return -ENOSPC;
	f = (struct s390_rt_sigframe *)((char *)buf + off);
	memset(f, 0, sizeof(*f));
	sr = &f->uc.mcontext;
	sr->psw_mask = r->gp.psw_mask;
	sr->psw_addr = r->gp.psw_addr;
	memcpy(sr->gprs, r->gp.gprs, sizeof(sr->gprs));
	memcpy(sr->acrs, r->gp.acrs, sizeof(sr->acrs));
	apply_restart(r, sr);
	sr->fpc = r->fp.fpc;
	memcpy(sr->fprs, r->fp.fprs, sizeof(sr->fprs));
	if (r->vxrs_low_len == sizeof(r->vxrs_low) && r->vxrs_high_len == sizeof(r->vxrs_high)) {
		memcpy(f->uc.mcontext_ext.vxrs_low, r->vxrs_low, sizeof(r->vxrs_low));
		memcpy(f->uc.mcontext_ext.vxrs_high, r->vxrs_high, sizeof(r->vxrs_high));
		f->uc.flags = UC_VXRS;
	}
	f->uc.sigmask = mask;
	f->uc.stack.flags = 2; /* SS_DISABLE until the parasite stores the real one */
	*sp_out = remote + off;
	*altstack_out = remote + off + offsetof(struct s390_rt_sigframe, uc.stack);
	return 0;
}

/*
 * svc 0 (the number in r1), an optional lgfr %r2,%r2, then br %r14: the
 * vDSO's fallbacks (Debian 12's 6.1: svc 0; lgfr %r2,%r2; br %r14).
 */
bool compel_arch_exit_g1(const unsigned char *p, size_t avail, unsigned int *arg)
{
	static const unsigned char lgfr[] = { 0xb9, 0x14, 0x00, 0x22 };
	size_t i = 2;

	if (avail < 4 || p[0] != 0x0a || p[1] != 0x00)
		return false;
	if (avail >= i + 4 && !memcmp(p + i, lgfr, sizeof(lgfr)))
		i += 4;
	if (avail >= i + 2 && p[i] == 0x07 && p[i + 1] == 0xfe) {
		*arg = 0;
		return true;
	}
	return false;
}

/* svc 173: the vDSO's __kernel_rt_sigreturn */
bool compel_arch_exit_g2(const unsigned char *p, size_t avail)
{
	return avail >= 2 && p[0] == 0x0a && p[1] == 0xad;
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

/* The code, and r2 = -EINTR in r (compel-arch.h). */
int compel_arch_restart_choice(struct compel_regs *r)
{
	long ret = (long)r->gp.gprs[2];
	int code;

	if (!r->system_call)
		return 0;
	if (ret == -ERESTARTSYS || ret == -ERESTARTNOHAND)
		code = (int)-ret;
	else if (ret == -ERESTART_RESTARTBLOCK && (r->system_call & 0xffff) == SYS_poll &&
		 (int)r->gp.gprs[4] < 0)
		code = ERESTART_RESTARTBLOCK;
	else
		return 0;
	r->gp.gprs[2] = (uint64_t)-EINTR_;
	return code;
}

/* The exit chain's return for an injected syscall at g1 (compel/syscall.c). */
bool compel_arch_chain_regs(struct compel_regs *r, unsigned long frame_sp, unsigned long g2,
			    unsigned int g1_arg)
{
	r->gp.gprs[15] = frame_sp;
	r->gp.gprs[14] = g2;
	return true;
}
