/*
 * signalfd: the set of signals it reads (fdinfo "sigmask:", bit N-1 for
 * signal N) and its status flags (O_NONBLOCK); upstream's signalfd_entry
 * (FileEntry.sgfd).  The signals it would read are pending on the task and
 * restored with them, not with the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "anon-fdinfo.h"
#include "fdkind.h"
#include "log.h"
#include "proto/signalfd.pb-c.h"

int signalfd_parse_fdinfo(const char *fdinfo, uint64_t *sigmask)
{
	const char *v = fdinfo_field(fdinfo, "sigmask");
	char *end;

	*sigmask = 0;
	if (!v)
		return -EINVAL;
	errno = 0;
	*sigmask = strtoull(v, &end, 16);
	if (end == v || errno)
		return -EINVAL;
	return 0;
}

static bool signalfd_match(const struct fd_parms *p)
{
	return !strcmp(p->link, "anon_inode:[signalfd]");
}

static int signalfd_check(const struct fd_parms *p, const char *who)
{
	uint64_t mask;

	if (signalfd_parse_fdinfo(p->fdinfo, &mask)) {
		pr_err("%s: fd %d is a signalfd whose fdinfo has no sigmask\n", who, p->fd);
		return -EINVAL;
	}
	return 0;
}

struct sgfd_dump {
	struct sgfd_dump *next;
	SignalfdEntry e;
};
static struct sgfd_dump *sgfd_dumped;

static int signalfd_dump(struct dump_file *f, const struct fd_parms *p)
{
	struct sgfd_dump *d;
	uint64_t mask;

	if (signalfd_parse_fdinfo(p->fdinfo, &mask)) {
		pr_err("fd %d of pid %d: can't read the mask of its signalfd\n", p->fd, p->pid);
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	signalfd_entry__init(&d->e);
	d->e.id = f->id;
	d->e.flags = p->flags;
	d->e.fown = p->fown;
	d->e.sigmask = mask;
	d->next = sgfd_dumped;
	sgfd_dumped = d;
	f->fe.sgfd = &d->e;
	return 0;
}

static void signalfd_dump_fini(void)
{
	while (sgfd_dumped) {
		struct sgfd_dump *d = sgfd_dumped;

		sgfd_dumped = d->next;
		free(d);
	}
}

static int signalfd_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	if (!fe->sgfd || !fe->sgfd->fown) {
		pr_err("files.img: file %u is a signalfd without its signalfd entry\n", fe->id);
		return -EINVAL;
	}
	return 0;
}

static int signalfd_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	const SignalfdEntry *e = fe->sgfd;
	uint32_t fdnum = rc_opening_fd(rc), pid = rc_task_pid(rc, idx);
	uint64_t mask;
	int fd, ret;

	/* the kernel's sigset: 64 signals, bit N-1 for signal N, on every
	 * architecture we build for (glibc's sigaddset refuses its own 32 and
	 * 33, which a task may still have asked for); the kernel drops SIGKILL
	 * and SIGSTOP itself */
	mask = e->sigmask;
	fd = (int)syscall(SYS_signalfd4, -1, &mask, sizeof(mask), SFD_CLOEXEC);
	if (fd < 0) {
		pr_perror("fd %u of pid %u: can't create its signalfd (mask %#llx)", fdnum, pid,
			  (unsigned long long)e->sigmask);
		return -errno;
	}
	ret = rc_restore_fown_and_flags(fd, e->flags, e->fown, fdnum, pid);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static uint32_t signalfd_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->sgfd ? fe->sgfd->flags : 0;
}

const struct fd_kind signalfd_kind = {
	.name = "signalfd",
	.type = FD_TYPES__SIGNALFD,
	.match = signalfd_match,
	.check = signalfd_check,
	.dump = signalfd_dump,
	.dump_fini = signalfd_dump_fini,
	.collect = signalfd_collect,
	.open = signalfd_open,
	.status_flags = signalfd_status_flags,
};
