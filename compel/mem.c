/* The task's memory, and the mappings compel made in it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "compel-priv.h"
#include "log.h"

/* Word by word: slow, but also works where process_vm_* refuse. */
static int peek_mem(pid_t tid, unsigned long remote, void *buf, size_t len)
{
	unsigned char *out = buf;
	size_t done = 0;

	while (done < len) {
		unsigned long addr = (remote + done) & ~(sizeof(long) - 1);
		size_t skip = (remote + done) - addr, n = sizeof(long) - skip;
		long word;

		errno = 0;
		word = ptrace(PTRACE_PEEKDATA, tid, (void *)addr, NULL);
		if (errno)
			return -errno;
		if (n > len - done)
			n = len - done;
		memcpy(out + done, (unsigned char *)&word + skip, n);
		done += n;
	}
	return 0;
}

static int poke_mem(pid_t tid, unsigned long remote, const void *buf, size_t len)
{
	const unsigned char *in = buf;
	size_t done = 0;

	while (done < len) {
		unsigned long addr = (remote + done) & ~(sizeof(long) - 1);
		size_t skip = (remote + done) - addr, n = sizeof(long) - skip;
		long word = 0;

		if (n > len - done)
			n = len - done;
		if (skip || n < sizeof(long)) { /* a partial word: keep the rest */
			errno = 0;
			word = ptrace(PTRACE_PEEKDATA, tid, (void *)addr, NULL);
			if (errno)
				return -errno;
		}
		memcpy((unsigned char *)&word + skip, in + done, n);
		if (ptrace(PTRACE_POKEDATA, tid, (void *)addr, (void *)word))
			return -errno;
		done += n;
	}
	return 0;
}

static pid_t mem_tid(struct infect_ctx *ctx)
{
	return ctx->victim ? ctx->victim->tid : ctx->pid;
}

int compel_read_mem(struct infect_ctx *ctx, unsigned long remote, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)remote, len };
	ssize_t n = process_vm_readv(mem_tid(ctx), &l, 1, &r, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	return peek_mem(mem_tid(ctx), remote, buf, len);
}

int compel_write_mem(struct infect_ctx *ctx, unsigned long remote, const void *buf, size_t len)
{
	struct iovec l = { (void *)buf, len }, r = { (void *)remote, len };
	ssize_t n = process_vm_writev(mem_tid(ctx), &l, 1, &r, 1, 0);
	int ret;

	if (n == (ssize_t)len)
		return 0;
	ret = poke_mem(mem_tid(ctx), remote, buf, len);
	if (ret)
		pr_err("can't write %zu bytes at %#lx in pid %d: %s\n", len, remote, ctx->pid,
		       strerror(-ret));
	return ret;
}

int compel_add_map(struct infect_ctx *ctx, unsigned long remote, size_t len, void *local)
{
	struct compel_map *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	*m = (struct compel_map){ .remote = remote, .len = len, .local = local, .next = ctx->maps };
	ctx->maps = m;
	return 0;
}

struct compel_map *compel_take_map(struct infect_ctx *ctx, unsigned long remote, size_t len)
{
	for (struct compel_map **p = &ctx->maps; *p; p = &(*p)->next) {
		struct compel_map *m = *p;

		if (m->remote == remote && m->len == len) {
			*p = m->next;
			return m;
		}
	}
	return NULL;
}
