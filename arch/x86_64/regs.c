/*
 * x86_64 registers through ptrace: NT_PRSTATUS (struct user_regs_struct,
 * fs_base and gs_base included) and the whole xsave area, NT_X86_XSTATE,
 * kept byte for byte so that x87, SSE, AVX, AVX-512 (opmask, upper zmm,
 * zmm16-31), PKRU and whatever else the CPU has come back exactly.  A CPU
 * without xsave falls back to the 512-byte fxsave area (NT_PRFPREG).
 */
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/user.h>

#include "compel-arch.h"
#include "compel-regs-x86_64.h"

#define FXSAVE_SIZE 512

/*
 * The kernel sizes the regset; we only need a buffer it fits in.  CPUID
 * leaf 0xD gives the largest xsave area this CPU can need (ECX), plus a
 * page of margin so that "filled to the brim" means "too small".
 */
static size_t xstate_buf_size(void)
{
	unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
	size_t size = FXSAVE_SIZE + 64;

	if (__get_cpuid_max(0, NULL) >= 0xd) {
		__cpuid_count(0xd, 0, eax, ebx, ecx, edx);
		if (ecx > size)
			size = ecx;
		if (ebx > size)
			size = ebx;
	}
	return size + 4096;
}

struct compel_regs *compel_arch_regs_new(void)
{
	struct compel_regs *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fp_cap = xstate_buf_size();
	r->fp = calloc(1, r->fp_cap);
	if (!r->fp) {
		free(r);
		return NULL;
	}
	return r;
}

void compel_arch_regs_free(struct compel_regs *r)
{
	if (!r)
		return;
	free(r->fp);
	free(r);
}

void compel_arch_regs_copy(struct compel_regs *dst, const struct compel_regs *src)
{
	dst->gp = src->gp;
}

int compel_arch_get_gregs(pid_t tid, struct compel_regs *r)
{
	size_t len = sizeof(r->gp);
	int ret = compel_getregset(tid, NT_PRSTATUS, &r->gp, &len);

	if (!ret && len != sizeof(r->gp))
		ret = -EIO;
	return ret;
}

int compel_arch_set_gregs(pid_t tid, const struct compel_regs *r)
{
	return compel_setregset(tid, NT_PRSTATUS, &r->gp, sizeof(r->gp));
}

static int get_fpregs(pid_t tid, struct compel_regs *r)
{
	size_t len = r->fp_cap;
	int ret = compel_getregset(tid, NT_X86_XSTATE, r->fp, &len);

	r->fp_type = NT_X86_XSTATE;
	if (ret == -ENODEV || ret == -EINVAL) { /* no xsave on this CPU */
		len = FXSAVE_SIZE;
		r->fp_type = NT_PRFPREG;
		ret = compel_getregset(tid, NT_PRFPREG, r->fp, &len);
	}
	if (ret)
		return ret;
	if (len >= r->fp_cap)
		return -E2BIG;
	r->fp_len = len;
	return 0;
}

int compel_arch_get_regs(pid_t tid, struct compel_regs *r)
{
	int ret = compel_arch_get_gregs(tid, r);

	return ret ? ret : get_fpregs(tid, r);
}

int compel_arch_set_regs(pid_t tid, const struct compel_regs *r)
{
	int ret = compel_arch_set_gregs(tid, r);

	if (!ret && r->fp_len)
		ret = compel_setregset(tid, r->fp_type, r->fp, r->fp_len);
	return ret;
}
