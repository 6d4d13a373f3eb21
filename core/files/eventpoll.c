/*
 * eventpoll: an epoll and every file it watches, each with the fd number
 * it was added with, its events and its data; upstream's
 * eventpoll_file_entry with its targets in .tfd (FileEntry.epfd).
 *
 * The kernel knows a target by (file, fd number when added).  Dump finds
 * each target's file in the task with kcmp(KCMP_EPOLL_TFD): at that number,
 * or, when the number was closed or now holds another file, at another
 * number of the same task that holds the same file (kept in tfd_now).  A
 * target the task holds at no number (only another task has it, or it is
 * in flight in a socket) is refused, naming it.
 *
 * Restore creates the epoll empty; once all the fds of the task that
 * dumped it are at their numbers (post_open), it adds every target under
 * the number it was added with: a target held elsewhere is put at that
 * number for the moment of the add, and whatever was there put back.  An
 * epoll watched by an epoll is added like any other file; the kernel's
 * own checks (loops, depth) pass as they did.  The targets are added in
 * the first task (in the images' order) holding the epoll, the one dump
 * found them in.  Readiness is the kernel's to compute again: a level-
 * triggered target is reported as before; an edge-triggered one that was
 * ready is reported once more after restore.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "anon-fdinfo.h"
#include "fdkind.h"
#include "log.h"
#include "proto/eventpoll.pb-c.h"

#define KCMP_EPOLL_TFD 7

struct kcmp_epoll_slot {
	uint32_t efd, tfd, toff;
};

/* One "tfd: N events: X data: X  pos:N ino:X sdev:X" line. */
static int parse_target(const char *l, struct epoll_target *t)
{
	unsigned long long data, pos, ino;
	unsigned int tfd, events, sdev;

	if (sscanf(l, "tfd: %u events: %x data: %llx pos:%llu ino:%llx sdev:%x", &tfd, &events,
		   &data, &pos, &ino, &sdev) != 6)
		return -EINVAL;
	*t = (struct epoll_target){ tfd, events, data, pos, ino, sdev };
	return 0;
}

int eventpoll_parse_fdinfo(const char *fdinfo, struct epoll_target *t, size_t max, size_t *n)
{
	*n = 0;
	for (const char *l = fdinfo; l && *l;) {
		if (!strncmp(l, "tfd:", 4)) {
			struct epoll_target one;

			if (parse_target(l, &one))
				return -EINVAL;
			if (*n < max)
				t[*n] = one;
			(*n)++;
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return 0;
}

static bool eventpoll_match(const struct fd_parms *p)
{
	return !strcmp(p->link, "anon_inode:[eventpoll]");
}

/* the epoll's targets from its fdinfo, in a new array (*n of them) */
static int read_targets(const struct fd_parms *p, struct epoll_target **out, size_t *n)
{
	size_t max = 0;

	*out = NULL;
	for (;;) {
		struct epoll_target *t = max ? calloc(max, sizeof(*t)) : NULL;

		if (max && !t)
			return -ENOMEM;
		if (eventpoll_parse_fdinfo(p->fdinfo, t, max, n)) {
			free(t);
			pr_err("fd %d of pid %d: can't read the targets of its epoll\n", p->fd,
			       p->pid);
			return -EINVAL;
		}
		if (*n <= max) {
			*out = t;
			return 0;
		}
		free(t);
		max = *n;
	}
}

static int kcmp_target(pid_t pid, int fd, struct kcmp_epoll_slot *slot)
{
	return (int)syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, fd, (unsigned long)slot);
}

/*
 * The fd number of task p->pid holding target i of the epoll: its own
 * number when it still holds it, another one else; -ENOENT when the task
 * holds it at no number.
 */
static int find_target(const struct fd_parms *p, const struct epoll_target *t, size_t i)
{
	struct kcmp_epoll_slot slot = { (uint32_t)p->fd, t[i].tfd, 0 };
	char path[64];
	struct dirent *de;
	int found = -ENOENT, r;
	DIR *d;

	/* the kernel tells targets added with one number apart by their order */
	for (size_t j = 0; j < i; j++)
		if (t[j].tfd == t[i].tfd)
			slot.toff++;
	r = kcmp_target(p->pid, (int)t[i].tfd, &slot);
	if (r == 0)
		return (int)t[i].tfd;
	/* EBADF: the number is closed; else the kernel could not compare */
	if (r < 0 && errno != EBADF) {
		pr_perror("fd %d of pid %d: can't compare its epoll's target %u", p->fd, p->pid,
			  t[i].tfd);
		return -errno;
	}
	snprintf(path, sizeof(path), "/proc/%d/fd", p->pid);
	d = opendir(path);
	if (!d) {
		pr_perror("can't list %s", path);
		return -errno;
	}
	while (found < 0 && (de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd == (int)t[i].tfd)
			continue;
		if (kcmp_target(p->pid, fd, &slot) == 0)
			found = fd;
	}
	closedir(d);
	return found;
}

/* Every target of the epoll in fd p->fd: where the task holds it (now[i]). */
static int resolve_targets(const struct fd_parms *p, const char *who, struct epoll_target **t,
			   size_t *n, int **now)
{
	int ret = read_targets(p, t, n);

	*now = NULL;
	if (ret)
		return ret;
	*now = calloc(*n + 1, sizeof(**now));
	if (!*now) {
		free(*t);
		*t = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < *n; i++) {
		(*now)[i] = find_target(p, *t, i);
		if ((*now)[i] == -ENOENT) {
			char w[64];

			if (!who)
				snprintf(w, sizeof(w), "pid %d", p->pid);
			pr_err("%s: fd %d is an epoll watching a file (added as fd %u, inode %#" PRIx64
			       ", device %#x) that this task no longer holds at any fd (another "
			       "task holds it, or it is in flight): restore could not add it "
			       "back\n",
			       who ? who : w, p->fd, (*t)[i].tfd, (*t)[i].ino, (*t)[i].sdev);
			ret = -EOPNOTSUPP;
			break;
		}
		if ((*now)[i] < 0) {
			ret = (*now)[i];
			break;
		}
	}
	if (ret) {
		free(*t);
		free(*now);
		*t = NULL;
		*now = NULL;
	}
	return ret;
}

static int eventpoll_check(const struct fd_parms *p, const char *who)
{
	struct epoll_target *t;
	size_t n;
	int *now, ret;

	ret = resolve_targets(p, who, &t, &n, &now);
	free(t);
	free(now);
	return ret;
}

struct epfd_dump {
	struct epfd_dump *next;
	EventpollFileEntry e;
	EventpollTfdEntry *tfds;
	EventpollTfdEntry **ptrs;
};
static struct epfd_dump *epfd_dumped;

static int eventpoll_dump(struct dump_file *f, const struct fd_parms *p)
{
	struct epoll_target *t;
	struct epfd_dump *d;
	size_t n;
	int *now, ret;

	ret = resolve_targets(p, NULL, &t, &n, &now);
	if (ret)
		return ret;
	d = calloc(1, sizeof(*d));
	if (d) {
		d->tfds = calloc(n + 1, sizeof(*d->tfds));
		d->ptrs = calloc(n + 1, sizeof(*d->ptrs));
	}
	if (!d || !d->tfds || !d->ptrs) {
		if (d) {
			free(d->tfds);
			free(d->ptrs);
		}
		free(d);
		free(t);
		free(now);
		return -ENOMEM;
	}
	eventpoll_file_entry__init(&d->e);
	d->e.id = f->id;
	d->e.flags = p->flags;
	d->e.fown = p->fown;
	for (size_t i = 0; i < n; i++) {
		EventpollTfdEntry *e = &d->tfds[i];

		eventpoll_tfd_entry__init(e);
		e->id = f->id;
		e->tfd = t[i].tfd;
		e->events = t[i].events;
		e->data = t[i].data;
		e->has_dev = e->has_inode = e->has_pos = true;
		e->dev = t[i].sdev;
		e->inode = t[i].ino;
		e->pos = t[i].pos;
		if (now[i] != (int)t[i].tfd) {
			e->has_tfd_now = true;
			e->tfd_now = (uint32_t)now[i];
		}
		d->ptrs[i] = e;
	}
	d->e.n_tfd = n;
	d->e.tfd = d->ptrs;
	d->next = epfd_dumped;
	epfd_dumped = d;
	f->fe.epfd = &d->e;
	free(t);
	free(now);
	return 0;
}

static void eventpoll_dump_fini(void)
{
	while (epfd_dumped) {
		struct epfd_dump *d = epfd_dumped;

		epfd_dumped = d->next;
		free(d->tfds);
		free(d->ptrs);
		free(d);
	}
}

static int eventpoll_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	const EventpollFileEntry *e = fe->epfd;

	if (!e || !e->fown) {
		pr_err("files.img: file %u is an epoll without its eventpoll entry\n", fe->id);
		return -EINVAL;
	}
	for (size_t i = 0; i < e->n_tfd; i++)
		if (!e->tfd[i] || e->tfd[i]->tfd > INT32_MAX ||
		    (e->tfd[i]->has_tfd_now && e->tfd[i]->tfd_now > INT32_MAX)) {
			pr_err("files.img: epoll %u: target %zu has no valid fd number\n", fe->id,
			       i);
			return -EINVAL;
		}
	return 0;
}

/* whether task idx has fd number fd */
static bool task_has_fd(struct restore_ctx *rc, int idx, uint32_t fd)
{
	for (size_t i = 0; i < rc_task_nfds(rc, idx); i++)
		if (rc_task_fd(rc, idx, i)->fd == fd)
			return true;
	return false;
}

/* the first task (in the images' order) holding file id: the one that adds its targets */
static int first_holder(struct restore_ctx *rc, uint32_t id)
{
	for (int j = 0; j < rc_nr_tasks(rc); j++)
		for (size_t i = 0; i < rc_task_nfds(rc, j); i++)
			if (rc_task_fd(rc, j, i)->id == id)
				return j;
	return -1;
}

/*
 * Every target names an fd of the task that will add it.  Checked here,
 * while messages still reach the log: post_open runs once the task's fds
 * have their numbers, the log's among them.
 */
static int check_targets(struct restore_ctx *rc, const FileEntry *fe)
{
	int h = first_holder(rc, fe->id);

	for (size_t i = 0; h >= 0 && i < fe->epfd->n_tfd; i++) {
		const EventpollTfdEntry *t = fe->epfd->tfd[i];
		uint32_t src = t->has_tfd_now ? t->tfd_now : t->tfd;

		if (!task_has_fd(rc, h, src)) {
			pr_err("epoll %u of pid %u watches fd %u%s, which the task does not have\n",
			       fe->id, rc_task_pid(rc, h), src,
			       t->has_tfd_now ? " (where its target is now)" : "");
			return -EINVAL;
		}
	}
	return 0;
}

static int eventpoll_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	uint32_t fdnum = rc_opening_fd(rc), pid = rc_task_pid(rc, idx);
	int fd, ret = check_targets(rc, fe);

	if (ret)
		return ret;
	fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0) {
		pr_perror("fd %u of pid %u: can't create its epoll", fdnum, pid);
		return -errno;
	}
	ret = rc_restore_fown_and_flags(fd, fe->epfd->flags, fe->epfd->fown, fdnum, pid);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * Adds target t under its number, with the file at number src (another
 * one): src is put at t->tfd for the add, and what was there put back.
 */
static int add_moved(int ep, const EventpollTfdEntry *t, int src, struct epoll_event *ev)
{
	int tfd = (int)t->tfd, was = fcntl(tfd, F_GETFD), saved = -1, ret = 0;
	int epc = fcntl(ep, F_DUPFD_CLOEXEC, 0);

	if (epc < 0)
		return -errno;
	if (was >= 0) {
		saved = fcntl(tfd, F_DUPFD_CLOEXEC, 0);
		if (saved < 0) {
			ret = -errno;
			goto out;
		}
	}
	if (dup2(src, tfd) < 0 || epoll_ctl(epc, EPOLL_CTL_ADD, tfd, ev))
		ret = -errno;
	if (saved >= 0) {
		if (dup2(saved, tfd) < 0 || fcntl(tfd, F_SETFD, was) < 0)
			ret = ret ? ret : -errno;
		close(saved);
	} else
		close(tfd);
out:
	close(epc);
	return ret;
}

/* (in the task, its fds at their numbers: errors go nowhere but the return) */
static int add_targets(struct restore_ctx *rc, int idx, const FdinfoEntry *ep)
{
	const FileEntry *fe = rc_file(rc, ep->id);
	uint32_t pid = rc_task_pid(rc, idx);

	if (!fe || !fe->epfd) {
		pr_err("fd %u of pid %u: epoll %u is not in files.img\n", ep->fd, pid, ep->id);
		return -EINVAL;
	}

	for (size_t i = 0; i < fe->epfd->n_tfd; i++) {
		const EventpollTfdEntry *t = fe->epfd->tfd[i];
		uint32_t src = t->has_tfd_now ? t->tfd_now : t->tfd;
		struct epoll_event ev = { .events = t->events, .data.u64 = t->data };
		int ret;

		if (!task_has_fd(rc, idx, src)) {
			pr_err("fd %u of pid %u: its epoll watches fd %u, which the task does not "
			       "have\n",
			       ep->fd, pid, src);
			return -EINVAL;
		}
		if (src == t->tfd)
			ret = epoll_ctl((int)ep->fd, EPOLL_CTL_ADD, (int)t->tfd, &ev) ? -errno : 0;
		else
			ret = add_moved((int)ep->fd, t, (int)src, &ev);
		if (ret) {
			errno = -ret;
			pr_perror("fd %u of pid %u: can't add fd %u%s to its epoll (events %#x)",
				  ep->fd, pid, t->tfd, src == t->tfd ? "" : " (held at another fd)",
				  t->events);
			return ret;
		}
	}
	return 0;
}

/* whether the description of file id was met before: at an earlier fd of
 * task idx, or in an earlier task */
static bool seen_before(struct restore_ctx *rc, int idx, size_t fdi, uint32_t id)
{
	for (int j = 0; j <= idx; j++)
		for (size_t i = 0; i < (j == idx ? fdi : rc_task_nfds(rc, j)); i++)
			if (rc_task_fd(rc, j, i)->id == id)
				return true;
	return false;
}

static int eventpoll_post_open(struct restore_ctx *rc, int idx)
{
	for (size_t i = 0; i < rc_task_nfds(rc, idx); i++) {
		const FdinfoEntry *fd = rc_task_fd(rc, idx, i);
		int ret;

		if (fd->type != FD_TYPES__EVENTPOLL || seen_before(rc, idx, i, fd->id))
			continue;
		ret = add_targets(rc, idx, fd);
		if (ret)
			return ret;
	}
	return 0;
}

static uint32_t eventpoll_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->epfd ? fe->epfd->flags : 0;
}

const struct fd_kind eventpoll_kind = {
	.name = "eventpoll",
	.type = FD_TYPES__EVENTPOLL,
	.match = eventpoll_match,
	.check = eventpoll_check,
	.dump = eventpoll_dump,
	.dump_fini = eventpoll_dump_fini,
	.collect = eventpoll_collect,
	.open = eventpoll_open,
	.post_open = eventpoll_post_open,
	.status_flags = eventpoll_status_flags,
};
