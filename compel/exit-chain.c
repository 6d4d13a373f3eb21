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
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
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
		       struct compel_exit_chain *c, bool plain, unsigned long *budget)
{
	size_t align = compel_arch.insn_align;
	unsigned char *buf = malloc(CHUNK);
	bool first[256] = { false };

	if (!buf)
		return;
	for (size_t i = 0; i < compel_arch.exit_first_len; i++)
		first[compel_arch.exit_first[i]] = true;
	for (unsigned long at = start; at < end && *budget && (!c->g1 || !c->g2);
	     at += CHUNK - OVERLAP) {
		size_t n = end - at < CHUNK ? end - at : CHUNK;

		if (n > *budget)
			n = *budget;
		if (compel_read_mem(ctx, at, buf, n))
			break;
		*budget -= n;
		for (size_t off = 0; !c->g1 && off < n; off += align) {
			unsigned int arg = 0;

			if (first[buf[off]] && compel_arch_exit_g1(buf + off, n - off, &arg) &&
			    (!plain || !arg)) {
				c->g1 = at + off;
				c->g1_arg = arg;
			}
		}
		for (size_t from = 0; !c->g2 && from < n;) {
			const unsigned char *hit = memmem(buf + from, n - from, compel_arch.exit_g2_seed,
							  compel_arch.exit_g2_seed_len);
			size_t pos;

			if (!hit)
				break;
			pos = (size_t)(hit - buf);
			for (size_t k = 0; k <= compel_arch.exit_g2_back && k <= pos && !c->g2; k++)
				if (!((pos - k) % align) &&
				    compel_arch_exit_g2(buf + pos - k, n - (pos - k)))
					c->g2 = at + pos - k;
			from = pos + 1;
		}
		if (n < CHUNK)
			break;
	}
	free(buf);
}

/* One executable mapping of the task, as /proc/PID/maps gives it. */
struct xmap {
	unsigned long start, end, pgoff, ino;
	unsigned int dev_major, dev_minor;
	bool vdso;
};

/*
 * Where a gadget was found last, in file terms (or in the vDSO's), so that
 * the next task of the same dump, which maps the same vDSO and libc,
 * costs one small read to check instead of a scan.
 */
struct place {
	bool valid, vdso;
	unsigned long ino, off; /* off: from the start of the file, or the vDSO */
	unsigned int dev_major, dev_minor;
	unsigned int arg;
};
static struct place cached_g1, cached_g1_plain, cached_g2;

static void remember(struct place *p, const struct xmap *m, unsigned long addr, unsigned int arg)
{
	*p = (struct place){ .valid = true, .vdso = m->vdso, .ino = m->ino,
			     .dev_major = m->dev_major, .dev_minor = m->dev_minor,
			     .off = addr - m->start + (m->vdso ? 0 : m->pgoff), .arg = arg };
}

/* The cached place in this task, checked against its bytes; 0 if not there. */
static unsigned long recall(struct infect_ctx *ctx, const struct place *p, const struct xmap *maps,
			    int n, bool g1, unsigned int *arg)
{
	unsigned char buf[48];

	if (!p->valid)
		return 0;
	for (int i = 0; i < n; i++) {
		const struct xmap *m = &maps[i];
		unsigned long addr;

		if (m->vdso != p->vdso || (!m->vdso && (m->ino != p->ino || m->dev_major != p->dev_major ||
							m->dev_minor != p->dev_minor)))
			continue;
		addr = m->start + p->off - (m->vdso ? 0 : m->pgoff);
		if (addr < m->start || addr >= m->end)
			continue;
		size_t len = m->end - addr < sizeof(buf) ? m->end - addr : sizeof(buf);

		if (compel_read_mem(ctx, addr, buf, len))
			return 0;
		if (g1 ? compel_arch_exit_g1(buf, len, arg) && *arg == p->arg
		       : compel_arch_exit_g2(buf, len))
			return addr;
	}
	return 0;
}

static int find_chain(struct infect_ctx *ctx, unsigned long skip, size_t skip_len,
		      struct compel_exit_chain *c, bool plain)
{
	struct place *g1_cache = plain ? &cached_g1_plain : &cached_g1;
	char path[64], line[512], perms[8], name[256];
	unsigned long budget = SCAN_LIMIT;
	struct xmap maps[256];
	int n = 0;
	FILE *f;

	memset(c, 0, sizeof(*c));
	if (!status_allows(ctx->pid))
		return -EOPNOTSUPP;
	snprintf(path, sizeof(path), "/proc/%d/maps", ctx->pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (n < (int)(sizeof(maps) / sizeof(maps[0])) && fgets(line, sizeof(line), f)) {
		struct xmap m = { 0 };

		name[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %255s", &m.start, &m.end, perms, &m.pgoff,
			   &m.dev_major, &m.dev_minor, &m.ino, name) < 7)
			continue;
		if (perms[0] != 'r' || perms[2] != 'x')
			continue;
		m.vdso = !strcmp(name, "[vdso]");
		/* the vDSO and mapped files (not [vsyscall], no anonymous code) */
		if (!m.vdso && name[0] != '/')
			continue;
		if (m.start < skip + skip_len && skip < m.end)
			continue; /* the area itself: it holds stubs of ours */
		maps[n++] = m;
	}
	fclose(f);
	c->g1 = recall(ctx, g1_cache, maps, n, true, &c->g1_arg);
	c->g2 = recall(ctx, &cached_g2, maps, n, false, NULL);
	/* the vDSO first, then the files in their order */
	for (int pass = 0; pass < 2 && (!c->g1 || !c->g2); pass++)
		for (int i = 0; i < n && (!c->g1 || !c->g2) && budget; i++) {
			bool had1 = c->g1, had2 = c->g2;

			if (maps[i].vdso != (pass == 0))
				continue;
			scan_range(ctx, maps[i].start, maps[i].end, c, plain, &budget);
			if (!had1 && c->g1)
				remember(g1_cache, &maps[i], c->g1, c->g1_arg);
			if (!had2 && c->g2)
				remember(&cached_g2, &maps[i], c->g2, 0);
		}
	if (!c->g1 || !c->g2) {
		memset(c, 0, sizeof(*c));
		return -ENOENT;
	}
	return 0;
}

int compel_find_exit_chain(struct infect_ctx *ctx, unsigned long skip, size_t skip_len,
			   struct compel_exit_chain *c)
{
	return find_chain(ctx, skip, skip_len, c, false);
}

/* The task's writable mappings, read once per infection: the task is stopped. */
static int load_rw_spans(struct infect_ctx *ctx)
{
	char path[64], line[512], perms[8];
	unsigned long start, end;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", ctx->pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct compel_span *s;

		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) < 3 || perms[0] != 'r' ||
		    perms[1] != 'w')
			continue;
		s = realloc(ctx->rw_spans, (ctx->nr_rw_spans + 1) * sizeof(*s));
		if (!s) {
			fclose(f);
			return -ENOMEM;
		}
		ctx->rw_spans = s;
		s[ctx->nr_rw_spans++] = (struct compel_span){ start, end };
	}
	fclose(f);
	ctx->rw_spans_loaded = true;
	return 0;
}

unsigned long compel_exit_frame_dst(struct infect_ctx *ctx, unsigned long sp, size_t len)
{
	unsigned long dst;

	if (sp < EXIT_FRAME_GAP + len + EXIT_FRAME_BELOW)
		return 0;
	if (!ctx->rw_spans_loaded && load_rw_spans(ctx))
		return 0;
	dst = (sp - EXIT_FRAME_GAP - len) & ~63UL;
	/* the whole of [dst - below, sp) in the writable mapping sp is in */
	for (int i = 0; i < ctx->nr_rw_spans; i++)
		if (ctx->rw_spans[i].start < sp && sp <= ctx->rw_spans[i].end)
			return dst - EXIT_FRAME_BELOW >= ctx->rw_spans[i].start ? dst : 0;
	return 0;
}

/*
 * The frame of compel_make_safe(): the victim's registers and mask as
 * compel_arch_build_sigframe() makes them, but a stack_t that
 * do_sigaltstack() refuses (flags SS_ONSTACK | SS_DISABLE), which
 * rt_sigreturn then ignores: the thread's sigaltstack, which criu can't
 * read from outside, stays as it is.
 */
int compel_make_safe(struct infect_ctx *ctx)
{
	struct compel_exit_chain c;
	size_t len = (compel_arch_sigframe_size(ctx->orig_regs) + 63) & ~63UL;
	unsigned long dst, sp = 0, alt = 0;
	unsigned char *buf;
	int ret;

	if (!ctx->regs_saved || !ctx->sigmask_saved)
		return -EOPNOTSUPP;
	/*
	 * A plain g1 (arg 0): criu sets the registers here, and can't sign
	 * aarch64's link register for a g1 with autiasp (the vDSO's have it;
	 * libc's syscall wrappers that can't fail, getpid's, have not).
	 */
	ret = find_chain(ctx, 0, 0, &c, true);
	if (ret)
		return ret;
	dst = compel_exit_frame_dst(ctx, compel_arch_get_sp(ctx->orig_regs), len);
	if (!dst)
		return -EOPNOTSUPP;
	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	ret = compel_arch_build_sigframe(ctx->orig_regs, ctx->orig_sigmask, buf, dst, len, &sp, &alt);
	if (!ret && (alt < dst || alt + 24 > dst + len))
		ret = -EOPNOTSUPP;
	if (!ret) {
		uint32_t refused = 3; /* SS_ONSTACK | SS_DISABLE */

		memcpy(buf + (alt - dst) + 8, &refused, sizeof(refused)); /* ss_flags */
		ret = compel_write_mem(ctx, dst, buf, len);
	}
	/* a g1 that returns to the stack finds g2 in the word below the frame */
	if (!ret && compel_arch.exit_ret_on_stack)
		ret = compel_write_mem(ctx, sp - 8, &c.g2, sizeof(c.g2));
	free(buf);
	if (ret)
		return ret == -ENOSPC ? -EOPNOTSUPP : ret;
	ctx->safe_g1 = c.g1;
	ctx->safe_g2 = c.g2;
	ctx->safe_arg = c.g1_arg;
	ctx->safe_sp = ctx->safe_sp_base = sp;
	return 0;
}

void compel_unmake_safe(struct infect_ctx *ctx)
{
	ctx->safe_g1 = ctx->safe_g2 = ctx->safe_sp = ctx->safe_sp_base = 0;
}

/*
 * The highest hole of /proc/PID/maps below the main stack's mapping that
 * takes len bytes with 1 MiB free on each side, and whose upper neighbour
 * is not that stack (its room to grow): where the kernel itself would
 * put an mmap, near enough.  0 when there is none.
 */
static unsigned long free_hole(struct infect_ctx *ctx, size_t len)
{
	const unsigned long margin = 1UL << 20;
	unsigned long start, end, prev_end = 0, best = 0, stack = 0;
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", ctx->pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	/* the main stack first: the holes above it are not all user space */
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &start, &end) == 2)
			stack = start;
	rewind(f);
	while (stack && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		if (start > stack)
			break;
		if (prev_end && start != stack && start - prev_end >= len + 2 * margin)
			best = start - margin - len;
		prev_end = end;
	}
	fclose(f);
	return best;
}

/*
 * The mmap that makes the parasite's area kill-safe even while it runs:
 * below the frame of compel_make_safe() a second one, whose registers
 * are munmap(addr, len) at g1 returning to g2 and the first frame, with
 * every signal blocked.  The next syscall's chain goes through it, so a
 * criu killed while the mmap runs leaves a thread that makes the area,
 * unmaps it and returns to its own state.  *addr: where the caller must
 * map it (MAP_FIXED_NOREPLACE: the tree is frozen, so the hole stays
 * free).  -EOPNOTSUPP (and nothing changed) when there is no hole or room.
 */
int compel_make_safe_undo(struct infect_ctx *ctx, size_t len, unsigned long *addr)
{
	size_t room = (compel_arch_sigframe_size(ctx->orig_regs) + 63) & ~63UL;
	unsigned long args[2], dst, sp = 0, alt = 0, hole;
	struct compel_regs *r;
	unsigned char *buf;
	int ret = -EOPNOTSUPP;

	if (!ctx->safe_g1 || ctx->safe_sp != ctx->safe_sp_base)
		return -EOPNOTSUPP;
	hole = free_hole(ctx, len);
	dst = hole ? compel_exit_frame_dst(ctx, ctx->safe_sp - 64, room) : 0;
	if (!dst)
		return -EOPNOTSUPP;
	r = compel_arch_regs_new(); /* the general registers kept while the frame's are made */
	buf = calloc(1, room);
	if (r && buf) {
		struct compel_regs *o = ctx->orig_regs; /* its other registers go in the frame too */

		args[0] = hole;
		args[1] = len;
		compel_arch_regs_copy(r, o);
		compel_arch_prep_syscall(o, ctx->safe_g1, SYS_munmap, args, 2);
		if (compel_arch_chain_regs(o, ctx->safe_sp_base, ctx->safe_g2, ctx->safe_arg))
			ret = compel_arch_build_sigframe(o, ~0ULL, buf, dst, room, &sp, &alt);
		compel_arch_regs_copy(o, r);
	} else {
		ret = -ENOMEM;
	}
	if (!ret && (alt < dst || alt + 24 > dst + room))
		ret = -EOPNOTSUPP;
	if (!ret) {
		uint32_t refused = 3; /* SS_ONSTACK | SS_DISABLE, as compel_make_safe()'s */

		memcpy(buf + (alt - dst) + 8, &refused, sizeof(refused));
		ret = compel_write_mem(ctx, dst, buf, room);
	}
	if (!ret && compel_arch.exit_ret_on_stack)
		ret = compel_write_mem(ctx, sp - 8, &ctx->safe_g2, sizeof(ctx->safe_g2));
	free(buf);
	compel_arch_regs_free(r);
	if (ret)
		return ret == -ENOSPC ? -EOPNOTSUPP : ret;
	ctx->safe_sp = sp;
	*addr = hole;
	return 0;
}
