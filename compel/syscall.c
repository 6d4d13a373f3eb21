/*
 * Where injected syscalls run from, and the memory syscalls built on
 * compel_syscall().
 *
 * compel never writes code into the task to run a syscall: it looks for
 * the arch's syscall instruction in code the task has already mapped
 * executable, in this order:
 *   1. just before the victim's instruction pointer: a thread stopped in a
 *      syscall sits right after the instruction that entered it;
 *   2. the vDSO (its fallback paths make real syscalls on every arch);
 *   3. any other readable, executable mapping (libc's text has plenty).
 * Any occurrence at an instruction-aligned address works, even inside a
 * longer instruction: execution starts there, and the syscall-exit stop
 * comes before the bytes after it would run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compel-arch.h"
#include "compel-priv.h"
#include "log.h"

#define SCAN_CHUNK 65536

static bool has_insn_at(struct infect_ctx *ctx, unsigned long addr)
{
	unsigned char buf[16];

	if (compel_read_mem(ctx, addr, buf, compel_arch.syscall_len))
		return false;
	return !memcmp(buf, compel_arch.syscall_insn, compel_arch.syscall_len);
}

/* The first aligned occurrence in [start, end), or 0. */
static unsigned long scan_range(struct infect_ctx *ctx, unsigned long start, unsigned long end)
{
	size_t len = compel_arch.syscall_len, align = compel_arch.insn_align;
	unsigned char *buf = malloc(SCAN_CHUNK);
	unsigned long found = 0;

	if (!buf)
		return 0;
	for (unsigned long at = start; at < end && !found; at += SCAN_CHUNK - len) {
		size_t n = end - at < SCAN_CHUNK ? end - at : SCAN_CHUNK;

		if (compel_read_mem(ctx, at, buf, n))
			break;
		for (size_t off = 0; off + len <= n; off += align)
			if (!memcmp(buf + off, compel_arch.syscall_insn, len)) {
				found = at + off;
				break;
			}
		if (n < SCAN_CHUNK)
			break;
	}
	free(buf);
	return found;
}

/* vdso_only: look at [vdso] alone; otherwise every other r-x mapping. */
static unsigned long scan_maps(struct infect_ctx *ctx, bool vdso_only)
{
	char path[64], line[512], perms[8], name[256];
	unsigned long start, end, found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", ctx->pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		name[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &start, &end, perms, name) < 3)
			continue;
		if (perms[0] != 'r' || perms[2] != 'x' || !strcmp(name, "[vsyscall]"))
			continue;
		if (vdso_only != !strcmp(name, "[vdso]"))
			continue;
		found = scan_range(ctx, start, end);
	}
	fclose(f);
	return found;
}

int compel_find_syscall_ip(struct infect_ctx *ctx)
{
	unsigned long ip = compel_arch_get_ip(ctx->orig_regs);
	unsigned long before = ip - compel_arch.syscall_len;
	unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE);

	if (before / page == ip / page && !(before % compel_arch.insn_align) &&
	    has_insn_at(ctx, before)) {
		ctx->syscall_ip = before;
		return 0;
	}
	ctx->syscall_ip = scan_maps(ctx, true);
	if (!ctx->syscall_ip)
		ctx->syscall_ip = scan_maps(ctx, false);
	if (!ctx->syscall_ip) {
		pr_err("no %s syscall instruction found in the code of pid %d\n", compel_arch.name,
		       ctx->pid);
		return -ENOEXEC;
	}
	return 0;
}

/*
 * s390x's mmap takes a pointer to its six arguments.  Before any mapping of
 * ours exists they go on the victim's stack, below what the ABI lets the
 * task use there; the bytes are put back afterwards.
 */
static int mmap_via_block(struct infect_ctx *ctx, const unsigned long args[6], long *ret)
{
	unsigned long sp = compel_arch_get_sp(ctx->orig_regs);
	unsigned long block = (sp - compel_arch.red_zone - 256) & ~15UL;
	unsigned long saved[6], arg;
	int err;

	err = compel_read_mem(ctx, block, saved, sizeof(saved));
	if (!err)
		err = compel_write_mem(ctx, block, args, sizeof(saved));
	if (err)
		return err;
	arg = block;
	err = compel_syscall(ctx, SYS_mmap, &arg, 1, ret);
	if (!ctx->dead)
		compel_write_mem(ctx, block, saved, sizeof(saved));
	return err;
}

int compel_remote_mmap(struct infect_ctx *ctx, unsigned long addr, size_t len, int prot,
		       int flags, int fd, off_t off, unsigned long *addr_out)
{
	unsigned long args[6] = { addr, len, (unsigned long)prot, (unsigned long)flags,
				  (unsigned long)(long)fd, (unsigned long)off };
	long ret;
	int err;

	if (compel_arch.mmap_args_in_memory)
		err = mmap_via_block(ctx, args, &ret);
	else
		err = compel_syscall(ctx, SYS_mmap, args, 6, &ret);
	if (err)
		return err;
	if (ret < 0 && ret > -4096) {
		pr_err("mmap of %zu bytes in pid %d failed: %s\n", len, ctx->pid, strerror((int)-ret));
		return (int)ret;
	}
	err = compel_add_map(ctx, (unsigned long)ret, len, NULL);
	if (err) {
		long ignored;

		compel_syscall(ctx, SYS_munmap, (unsigned long[]){ (unsigned long)ret, len }, 2,
			       &ignored);
		return err;
	}
	*addr_out = (unsigned long)ret;
	return 0;
}

int compel_remote_munmap(struct infect_ctx *ctx, unsigned long addr, size_t len)
{
	struct compel_map *m = compel_take_map(ctx, addr, len);
	long ret;
	int err;

	if (m && m->local)
		munmap(m->local, m->len);
	free(m);
	err = compel_syscall(ctx, SYS_munmap, (unsigned long[]){ addr, len }, 2, &ret);
	if (err)
		return err;
	if (ret < 0) {
		pr_err("munmap of %#lx in pid %d failed: %s\n", addr, ctx->pid, strerror((int)-ret));
		return (int)ret;
	}
	return 0;
}
