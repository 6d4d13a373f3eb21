/*
 * The area criu and the task share (the blob, its stack, its arguments and
 * the command channel).
 *
 * The task creates it, with one injected mmap(MAP_SHARED|MAP_ANONYMOUS):
 * that is a shmem object, and criu maps the very same object by opening
 * /proc/PID/map_files/<start>-<end>.  Why not a memfd made by criu and
 * handed over:
 *  - opening /proc/<criu>/fd/N, or pidfd_getfd() on criu, from inside the
 *    task needs the task to have ptrace rights over criu: a task of another
 *    user, or in another pid or mount namespace, has not;
 *  - passing it with SCM_RIGHTS needs a socket, a connect, a recvmsg and
 *    memory for the message in the task: five syscalls and a scratch page;
 *  - a memfd made in the task (memfd_create, then /proc/PID/fd/N) needs its
 *    name in the task's memory and a free slot in its fd table, visible
 *    meanwhile in /proc/PID/fd.
 * This way costs one syscall, leaves the task's fd table alone and needs no
 * scratch memory in the task.  Its price is that map_files needs
 * CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN), which dumping needs anyway.
 *
 * The task maps it read, write and execute: it holds code and the stack
 * the code runs on.  (A task that denies W+X mappings, e.g. through
 * prctl(PR_SET_MDWE) or a seccomp filter, refuses it.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compel-priv.h"
#include "log.h"

static void *map_local(struct infect_ctx *ctx, unsigned long remote, size_t size)
{
	char path[96];
	void *local;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", ctx->pid, remote,
		 remote + size);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s (criu needs CAP_CHECKPOINT_RESTORE)", path);
		return NULL;
	}
	local = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (local == MAP_FAILED) {
		pr_perror("can't map the area shared with pid %d", ctx->pid);
		local = NULL;
	}
	close(fd);
	return local;
}

int compel_map_shared(struct infect_ctx *ctx, size_t size, void **local, unsigned long *remote)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned long addr;
	struct compel_map *m;
	int ret, fixed = 0;
	void *here;

	if (!size)
		return -EINVAL;
	size = (size + page - 1) & ~(page - 1);
	/*
	 * Kill-safe (parasite_load()): where the thread unmaps the area by
	 * itself should criu die while the mmap runs (a fixed hole), and in
	 * any case from its end until criu sets the registers again.
	 */
	if (ctx->safe_g1 && !compel_make_safe_undo(ctx, size, &addr)) {
		fixed = MAP_FIXED_NOREPLACE;
		pr_debug("pid %d: the area goes at %lx, and unmaps itself should criu die in its mmap\n",
			 ctx->pid, addr);
	} else {
		addr = 0;
	}
	ctx->undo_unmap = ctx->safe_g1 ? size : 0;
	ret = compel_remote_mmap(ctx, addr, size, PROT_READ | PROT_WRITE | PROT_EXEC,
				 MAP_SHARED | MAP_ANONYMOUS | fixed, -1, 0, &addr);
	ctx->safe_sp = ctx->safe_sp_base;
	if (ret == -EEXIST && fixed) { /* the hole was not one after all */
		ctx->undo_unmap = ctx->safe_g1 ? size : 0;
		ret = compel_remote_mmap(ctx, 0, size, PROT_READ | PROT_WRITE | PROT_EXEC,
					 MAP_SHARED | MAP_ANONYMOUS, -1, 0, &addr);
	}
	if (ret)
		return ret;
	/* the walk of kills: a criu killed here leaves the munmap set to run */
	ret = compel_fault("compel: area mapped");
	here = ret ? NULL : map_local(ctx, addr, size);
	if (!here) {
		compel_remote_munmap(ctx, addr, size);
		return ret ?: -EACCES;
	}
	for (m = ctx->maps; m; m = m->next)
		if (m->remote == addr && m->len == size)
			m->local = here; /* cure unmaps it on both sides */
	*local = here;
	*remote = addr;
	return 0;
}
