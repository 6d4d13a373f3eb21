/*
 * The exit chain: how a parasite whose criu is gone leaves nothing behind.
 *
 * The cure of a parasite without criu (core/pie/parasite.c) ends in two
 * syscalls: munmap of its own area, then rt_sigreturn into the thread's
 * frame.  Neither may run from the area: munmap returns to the
 * instruction after it, which would be gone.  So both run from code the
 * task has mapped already, found here in its memory (the vDSO first, then
 * its other executable file mappings):
 *   g1: the syscall instruction, register-only work, a return (the vDSO's
 *       syscall fallbacks have that shape on every arch);
 *   g2: an rt_sigreturn stub (the vDSO's signal trampoline on aarch64,
 *       ppc64le and s390x; libc's or Go's restorer on x86_64, whose vDSO
 *       has none).
 * The frame moves out of the area too, onto the thread's own stack below
 * what its code may use there (compel/parasite.c builds it for that
 * address); pie_exit_chain (arch/<arch>/pie-head.S) sets the munmap's
 * registers, g1's return to g2, and jumps.
 *
 * Not taken (the area then stays after a kill, as before): no g1 or g2
 * found; a seccomp filter or strict mode in the task (munmap could be what
 * it kills for); an x86 shadow stack (g1's ret would not match it); a
 * stack pointer outside a writable mapping with room for the frame.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compel-arch.h"
#include "compel-priv.h"
#include "log.h"

#define CHUNK 65536
#define OVERLAP 64
#define SCAN_LIMIT (64UL << 20) /* bytes of code read at most per task */

/* The task's status says nothing that rules the chain out. */
static bool status_allows(pid_t pid)
{
	char path[64], line[256];
	bool ok = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (ok && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Seccomp:", 8))
			ok = atoi(line + 8) == 0;
		else if (!strncmp(line, "x86_Thread_features:", 20))
			ok = !strstr(line, "shstk");
	}
	fclose(f);
	return ok;
}

static void scan_range(struct infect_ctx *ctx, unsigned long start, unsigned long end,
		       struct compel_exit_chain *c, unsigned long *budget)
{
	size_t align = compel_arch.insn_align;
	unsigned char *buf = malloc(CHUNK);

	if (!buf)
		return;
	for (unsigned long at = start; at < end && *budget && (!c->g1 || !c->g2);
	     at += CHUNK - OVERLAP) {
		size_t n = end - at < CHUNK ? end - at : CHUNK;

		if (n > *budget)
			n = *budget;
		if (compel_read_mem(ctx, at, buf, n))
			break;
		*budget -= n;
		for (size_t off = 0; off < n; off += align) {
			unsigned int arg = 0;

			if (!c->g1 && compel_arch_exit_g1(buf + off, n - off, &arg)) {
				c->g1 = at + off;
				c->g1_arg = arg;
			}
			if (!c->g2 && compel_arch_exit_g2(buf + off, n - off))
				c->g2 = at + off;
		}
		if (n < CHUNK)
			break;
	}
	free(buf);
}

int compel_find_exit_chain(struct infect_ctx *ctx, unsigned long skip, size_t skip_len,
			   struct compel_exit_chain *c)
{
	char path[64], line[512], perms[8], name[256];
	unsigned long start, end, budget = SCAN_LIMIT;

	memset(c, 0, sizeof(*c));
	if (!status_allows(ctx->pid))
		return -EOPNOTSUPP;
	for (int pass = 0; pass < 2 && (!c->g1 || !c->g2); pass++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/maps", ctx->pid);
		f = fopen(path, "re");
		if (!f)
			return -errno;
		while ((!c->g1 || !c->g2) && budget && fgets(line, sizeof(line), f)) {
			name[0] = 0;
			if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &start, &end, perms, name) < 3)
				continue;
			if (perms[0] != 'r' || perms[2] != 'x')
				continue;
			/* pass 0: the vDSO; pass 1: mapped files (not [vsyscall], no anon code) */
			if (pass == 0 ? strcmp(name, "[vdso]") != 0 : name[0] != '/')
				continue;
			if (start < skip + skip_len && skip < end)
				continue; /* the area itself: it holds stubs of ours */
			scan_range(ctx, start, end, c, &budget);
		}
		fclose(f);
	}
	if (!c->g1 || !c->g2) {
		memset(c, 0, sizeof(*c));
		return -ENOENT;
	}
	return 0;
}

unsigned long compel_exit_frame_dst(struct infect_ctx *ctx, unsigned long sp, size_t len)
{
	char path[64], line[512], perms[8];
	unsigned long start, end, dst, found = 0;
	FILE *f;

	if (sp < EXIT_FRAME_GAP + len + EXIT_FRAME_BELOW)
		return 0;
	dst = (sp - EXIT_FRAME_GAP - len) & ~63UL;
	snprintf(path, sizeof(path), "/proc/%d/maps", ctx->pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) < 3)
			continue;
		/* the whole of [dst - below, sp) in the mapping sp is in */
		if (start < sp && sp <= end && perms[0] == 'r' && perms[1] == 'w' &&
		    dst - EXIT_FRAME_BELOW >= start)
			found = dst;
	}
	fclose(f);
	return found;
}
