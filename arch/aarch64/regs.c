/*
 * aarch64 registers through ptrace: NT_PRSTATUS (x0-x30, sp, pc, pstate),
 * NT_ARM_SYSTEM_CALL (the syscall number the kernel restarts with), the
 * FPSIMD state (NT_PRFPREG) and, on CPUs with SVE, the whole SVE state
 * (NT_ARM_SVE: z, p and ffr at the task's vector length), which a syscall
 * would otherwise discard, the thread pointer tpidr_el0 (NT_ARM_TLS) and,
 * on CPUs with pointer authentication, the task's keys: return addresses
 * on its stack are signed with them.
 * Not handled yet: SME (streaming mode, ZA, ZT0, tpidr2_el0), MTE.
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compel-arch.h"
#include "compel-regs-aarch64.h"

#ifndef NT_ARM_SYSTEM_CALL
#define NT_ARM_SYSTEM_CALL 0x404
#endif
#ifndef NT_ARM_SVE
#define NT_ARM_SVE 0x405
#endif
#ifndef NT_ARM_TLS
#define NT_ARM_TLS 0x401
#endif
#ifndef NT_ARM_PACA_KEYS
#define NT_ARM_PACA_KEYS 0x407
#endif
#ifndef NT_ARM_PACG_KEYS
#define NT_ARM_PACG_KEYS 0x408
#endif
#ifndef NT_ARM_PAC_ENABLED_KEYS
#define NT_ARM_PAC_ENABLED_KEYS 0x40a
#endif

/* struct user_sve_header: the first field is the size of the whole set. */
#define SVE_HEADER_SIZE 16

struct compel_regs *compel_arch_regs_new(void)
{
	return calloc(1, sizeof(struct compel_regs));
}

void compel_arch_regs_free(struct compel_regs *r)
{
	if (!r)
		return;
	free(r->sve);
	free(r);
}

void compel_arch_regs_copy(struct compel_regs *dst, const struct compel_regs *src)
{
	dst->gp = src->gp;
	dst->syscallno = src->syscallno;
}

int compel_arch_get_gregs(pid_t tid, struct compel_regs *r)
{
	size_t len = sizeof(r->gp);
	int ret = compel_getregset(tid, NT_PRSTATUS, &r->gp, &len);

	if (!ret) {
		len = sizeof(r->syscallno);
		ret = compel_getregset(tid, NT_ARM_SYSTEM_CALL, &r->syscallno, &len);
	}
	return ret;
}

int compel_arch_set_gregs(pid_t tid, const struct compel_regs *r)
{
	int ret = compel_setregset(tid, NT_PRSTATUS, &r->gp, sizeof(r->gp));

	if (!ret)
		ret = compel_setregset(tid, NT_ARM_SYSTEM_CALL, &r->syscallno,
				       sizeof(r->syscallno));
	return ret;
}

/* The header says how big the set is at the task's current vector length. */
static int get_sve(pid_t tid, struct compel_regs *r)
{
	unsigned char header[SVE_HEADER_SIZE];
	size_t len = sizeof(header);
	uint32_t size;
	int ret = compel_getregset(tid, NT_ARM_SVE, header, &len);

	r->sve_len = 0;
	if (ret == -EINVAL || ret == -ENODEV || ret == -EIO)
		return 0; /* no SVE on this CPU */
	if (ret)
		return ret;
	memcpy(&size, header, sizeof(size));
	if (size < SVE_HEADER_SIZE)
		return -EIO;
	if (size > r->sve_cap) {
		unsigned char *n = realloc(r->sve, size);

		if (!n)
			return -ENOMEM;
		r->sve = n;
		r->sve_cap = size;
	}
	len = size;
	ret = compel_getregset(tid, NT_ARM_SVE, r->sve, &len);
	if (!ret)
		r->sve_len = len;
	return ret;
}

/* A regset the CPU or kernel may lack: false (and 0) when it does. */
static int get_optional(pid_t tid, unsigned int type, void *buf, size_t len, bool *has)
{
	size_t got = len;
	int ret = compel_getregset(tid, type, buf, &got);

	*has = !ret && got == len;
	if (ret == -EINVAL || ret == -ENODEV || ret == -EIO || ret == -EOPNOTSUPP)
		ret = 0;
	return ret;
}

static int get_pac(pid_t tid, struct compel_regs *r)
{
	int ret = get_optional(tid, NT_ARM_PACA_KEYS, r->pac_addr, sizeof(r->pac_addr),
			       &r->has_pac_addr);

	if (!ret)
		ret = get_optional(tid, NT_ARM_PACG_KEYS, r->pac_gen, sizeof(r->pac_gen),
				   &r->has_pac_gen);
	if (!ret)
		ret = get_optional(tid, NT_ARM_PAC_ENABLED_KEYS, &r->pac_enabled,
				   sizeof(r->pac_enabled), &r->has_pac_enabled);
	return ret;
}

static int set_pac(pid_t tid, const struct compel_regs *r)
{
	int ret = 0;

	if (r->has_pac_addr)
		ret = compel_setregset(tid, NT_ARM_PACA_KEYS, r->pac_addr, sizeof(r->pac_addr));
	if (!ret && r->has_pac_gen)
		ret = compel_setregset(tid, NT_ARM_PACG_KEYS, r->pac_gen, sizeof(r->pac_gen));
	if (!ret && r->has_pac_enabled)
		ret = compel_setregset(tid, NT_ARM_PAC_ENABLED_KEYS, &r->pac_enabled,
				       sizeof(r->pac_enabled));
	return ret;
}

int compel_arch_get_regs(pid_t tid, struct compel_regs *r)
{
	size_t len = sizeof(r->fp);
	int ret = compel_arch_get_gregs(tid, r);

	if (!ret)
		ret = compel_getregset(tid, NT_PRFPREG, &r->fp, &len);
	if (!ret) {
		r->fp_len = len;
		len = sizeof(r->tls); /* the set may also hold tpidr2_el0 (SME): not kept */
		ret = compel_getregset(tid, NT_ARM_TLS, &r->tls, &len);
	}
	if (!ret)
		ret = get_pac(tid, r);
	if (!ret)
		ret = get_sve(tid, r);
	return ret;
}

/* The SVE set includes the FPSIMD registers: when there is one, it is last. */
int compel_arch_set_regs(pid_t tid, const struct compel_regs *r)
{
	int ret = compel_arch_set_gregs(tid, r);

	if (!ret && r->fp_len)
		ret = compel_setregset(tid, NT_PRFPREG, &r->fp, r->fp_len);
	if (!ret)
		ret = compel_setregset(tid, NT_ARM_TLS, &r->tls, sizeof(r->tls));
	if (!ret)
		ret = set_pac(tid, r);
	if (!ret && r->sve_len)
		ret = compel_setregset(tid, NT_ARM_SVE, r->sve, r->sve_len);
	return ret;
}
