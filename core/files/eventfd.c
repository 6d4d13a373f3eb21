/*
 * eventfd: its counter, EFD_SEMAPHORE and its status flags (O_NONBLOCK).
 * The counter and the semaphore flag come from fdinfo (the flag from Linux
 * 6.5; before, dump asks the eventfd: see probe_semaphore); the image keeps
 * them in upstream's eventfd_file_entry (FileEntry.efd).  The status flags
 * of an eventfd are always O_RDWR plus what fcntl may change, so the
 * semaphore flag is kept in bit 0 of flags (EFD_SEMAPHORE's own value),
 * which O_RDWR leaves free: upstream's restore sets flags with F_SETFL,
 * which ignores that bit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "anon-fdinfo.h"
#include "fdkind.h"
#include "log.h"
#include "proto/eventfd.pb-c.h"

#define EFD_IMG_SEMAPHORE 1u /* EFD_SEMAPHORE, in the image's flags */

int eventfd_parse_fdinfo(const char *fdinfo, struct eventfd_info *ei)
{
	const char *v = fdinfo_field(fdinfo, "eventfd-count");
	char *end;

	memset(ei, 0, sizeof(*ei));
	if (!v)
		return -EINVAL;
	errno = 0;
	ei->counter = strtoull(v, &end, 16);
	if (end == v || errno)
		return -EINVAL;
	v = fdinfo_field(fdinfo, "eventfd-semaphore");
	if (v) {
		ei->semaphore_known = true;
		ei->semaphore = *v == '1';
	}
	return 0;
}

/* one read of our duplicate of the task's eventfd, never blocking */
static int efd_read(int fd, uint64_t *v)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
		return -EAGAIN;
	return read(fd, v, sizeof(*v)) == sizeof(*v) ? 0 : -EIO;
}

static int efd_write(int fd, uint64_t v)
{
	return write(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -EIO;
}

/*
 * Kernels before 6.5 do not show EFD_SEMAPHORE: ask the eventfd itself,
 * through our duplicate of the description.  A read takes 1 from a
 * semaphore and everything from a counter; with at least 2 counted the
 * first read tells them apart, and writing back what it took restores
 * the count.  With 0 or 1, it is brought to 2 first, and back after.
 * Waiters and pollers of the eventfd may see a wakeup with nothing new.
 */
static int probe_semaphore(const struct fd_parms *p, struct eventfd_info *ei)
{
	uint64_t c = ei->counter, v = 0;
	int ret = 0;

	if (c < 2)
		ret = efd_write(p->tfd, 2 - c);
	if (!ret)
		ret = efd_read(p->tfd, &v);
	if (ret) {
		pr_err("fd %d of pid %d: can't tell whether its eventfd is a semaphore "
		       "(EFD_SEMAPHORE): %s\n",
		       p->fd, p->pid, strerror(-ret));
		return ret;
	}
	ei->semaphore = v == 1;
	ei->semaphore_known = true;
	pr_info("fd %d of pid %d: its eventfd says it is %sa semaphore\n", p->fd, p->pid,
		ei->semaphore ? "" : "not ");
	if (c >= 2)
		ret = efd_write(p->tfd, v);
	else if (ei->semaphore)
		ret = c == 0 ? efd_read(p->tfd, &v) : 0; /* 1 left: take it when c was 0 */
	else
		ret = c ? efd_write(p->tfd, c) : 0;
	if (ret)
		pr_err("fd %d of pid %d: can't give its eventfd back its counter %llu\n", p->fd,
		       p->pid, (unsigned long long)c);
	return ret;
}

static bool eventfd_match(const struct fd_parms *p)
{
	return !strcmp(p->link, "anon_inode:[eventfd]");
}

static int eventfd_check(const struct fd_parms *p, const char *who)
{
	struct eventfd_info ei;

	if (eventfd_parse_fdinfo(p->fdinfo, &ei)) {
		pr_err("%s: fd %d is an eventfd whose fdinfo has no counter\n", who, p->fd);
		return -EINVAL;
	}
	return 0;
}

/* the entries this kind allocated, freed by dump_fini */
struct efd_dump {
	struct efd_dump *next;
	EventfdFileEntry e;
};
static struct efd_dump *efd_dumped;

static int eventfd_dump(struct dump_file *f, const struct fd_parms *p)
{
	struct eventfd_info ei;
	struct efd_dump *d;

	if (eventfd_parse_fdinfo(p->fdinfo, &ei)) {
		pr_err("fd %d of pid %d: can't read the counter of its eventfd\n", p->fd, p->pid);
		return -EINVAL;
	}
	if (!ei.semaphore_known) {
		int ret = probe_semaphore(p, &ei);

		if (ret)
			return ret;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	eventfd_file_entry__init(&d->e);
	d->e.id = f->id;
	d->e.flags = (p->flags & ~(uint32_t)O_ACCMODE) | O_RDWR |
		     (ei.semaphore ? EFD_IMG_SEMAPHORE : 0);
	d->e.fown = p->fown;
	d->e.counter = ei.counter;
	d->next = efd_dumped;
	efd_dumped = d;
	f->fe.efd = &d->e;
	return 0;
}

static void eventfd_dump_fini(void)
{
	while (efd_dumped) {
		struct efd_dump *d = efd_dumped;

		efd_dumped = d->next;
		free(d);
	}
}

static int eventfd_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	if (!fe->efd || !fe->efd->fown) {
		pr_err("files.img: file %u is an eventfd without its eventfd entry\n", fe->id);
		return -EINVAL;
	}
	/* eventfd_write refuses ULLONG_MAX: the counter never holds it */
	if (fe->efd->counter == UINT64_MAX) {
		pr_err("files.img: eventfd %u has the counter %llu, more than an eventfd holds\n",
		       fe->id, (unsigned long long)fe->efd->counter);
		return -EINVAL;
	}
	return 0;
}

static int eventfd_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	const EventfdFileEntry *e = fe->efd;
	uint32_t fdnum = rc_opening_fd(rc), pid = rc_task_pid(rc, idx);
	int flags = EFD_CLOEXEC | ((e->flags & EFD_IMG_SEMAPHORE) ? EFD_SEMAPHORE : 0);
	int fd, ret;

	/* eventfd() takes an unsigned int: the rest is written after */
	fd = eventfd(0, flags);
	if (fd < 0) {
		pr_perror("fd %u of pid %u: can't create its eventfd", fdnum, pid);
		return -errno;
	}
	if (e->counter && write(fd, &e->counter, sizeof(e->counter)) != sizeof(e->counter)) {
		pr_perror("fd %u of pid %u: can't set its eventfd's counter to %llu", fdnum, pid,
			  (unsigned long long)e->counter);
		close(fd);
		return -EIO;
	}
	ret = rc_restore_fown_and_flags(fd, e->flags & ~EFD_IMG_SEMAPHORE, e->fown, fdnum, pid);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static uint32_t eventfd_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->efd ? fe->efd->flags & ~EFD_IMG_SEMAPHORE : 0;
}

const struct fd_kind eventfd_kind = {
	.name = "eventfd",
	.type = FD_TYPES__EVENTFD,
	.match = eventfd_match,
	.check = eventfd_check,
	.dump = eventfd_dump,
	.dump_fini = eventfd_dump_fini,
	.collect = eventfd_collect,
	.open = eventfd_open,
	.status_flags = eventfd_status_flags,
};
