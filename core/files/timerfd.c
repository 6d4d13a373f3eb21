/*
 * timerfd: its clock, the time left and the interval, its settime flags
 * (TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET), the expirations not yet
 * read and its status flags; upstream's timerfd_entry (FileEntry.tfd).
 *
 * fdinfo shows the time left, relative even for an absolute timer; an
 * absolute timer is set again at the restore's now plus that time.  An
 * interval timer that expired and was not read shows no time left and one
 * tick: the kernel counts the intervals missed since, and restarts the
 * timer, only when it is read.  Dump reads it (from its own duplicate of
 * the description), which counts them and restarts it as a read by the
 * task would, reads fdinfo again for the time left, and gives the ticks
 * back with TFD_IOC_SET_TICKS, so that a task left running loses nothing.
 * Restore sets the timer, then the ticks (TFD_IOC_SET_TICKS, a
 * CONFIG_CHECKPOINT_RESTORE ioctl).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "anon-fdinfo.h"
#include "fdkind.h"
#include "log.h"
#include "proc.h"
#include "proto/timerfd.pb-c.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif
#ifndef TFD_TIMER_CANCEL_ON_SET
#define TFD_TIMER_CANCEL_ON_SET (1 << 1)
#endif
#ifndef CLOCK_REALTIME_ALARM
#define CLOCK_REALTIME_ALARM 8
#endif
#ifndef CLOCK_BOOTTIME_ALARM
#define CLOCK_BOOTTIME_ALARM 9
#endif

#define NSEC_PER_SEC 1000000000ull

/* "(sec, nsec)" */
static int parse_pair(const char *v, uint64_t *sec, uint64_t *nsec)
{
	unsigned long long s, ns;

	if (!v || sscanf(v, "(%llu, %llu)", &s, &ns) != 2 || ns >= NSEC_PER_SEC)
		return -EINVAL;
	*sec = s;
	*nsec = ns;
	return 0;
}

int timerfd_parse_fdinfo(const char *fdinfo, struct timerfd_info *ti)
{
	const char *clk = fdinfo_field(fdinfo, "clockid");
	const char *ticks = fdinfo_field(fdinfo, "ticks");
	const char *fl = fdinfo_field(fdinfo, "settime flags");
	char *end;

	memset(ti, 0, sizeof(*ti));
	if (!clk || !ticks || !fl)
		return -EINVAL;
	errno = 0;
	ti->clockid = (uint32_t)strtoul(clk, &end, 10);
	if (end == clk || errno)
		return -EINVAL;
	ti->ticks = strtoull(ticks, &end, 10);
	if (end == ticks || errno)
		return -EINVAL;
	ti->settime_flags = (uint32_t)strtoul(fl, &end, 8);
	if (end == fl || errno)
		return -EINVAL;
	if (parse_pair(fdinfo_field(fdinfo, "it_value"), &ti->vsec, &ti->vnsec) ||
	    parse_pair(fdinfo_field(fdinfo, "it_interval"), &ti->isec, &ti->insec))
		return -EINVAL;
	return 0;
}

static bool timerfd_match(const struct fd_parms *p)
{
	return !strcmp(p->link, "anon_inode:[timerfd]");
}

static int timerfd_check(const struct fd_parms *p, const char *who)
{
	struct timerfd_info ti;

	if (timerfd_parse_fdinfo(p->fdinfo, &ti)) {
		pr_err("%s: fd %d is a timerfd whose fdinfo can't be read (no clockid, ticks or "
		       "it_value)\n",
		       who, p->fd);
		return -EINVAL;
	}
	return 0;
}

/*
 * An interval timer that expired unread: read it to count the missed
 * intervals (and restart it), take the time left from fdinfo again, and
 * give the ticks back.
 */
static int count_missed_ticks(const struct fd_parms *p, struct timerfd_info *ti)
{
	struct pollfd pfd = { .fd = p->tfd, .events = POLLIN };
	char path[64], *text;
	uint64_t ticks;
	int ret;

	/* someone outside the tree may have read it meanwhile: never block */
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
		return 0;
	if (read(p->tfd, &ticks, sizeof(ticks)) != sizeof(ticks)) {
		pr_perror("fd %d of pid %d: can't count the expirations of its timerfd", p->fd,
			  p->pid);
		return -errno ? -errno : -EIO;
	}
	ret = ticks ? ioctl(p->tfd, TFD_IOC_SET_TICKS, &ticks) : 0;
	if (ret < 0) {
		pr_perror("fd %d of pid %d: can't give its timerfd back its %" PRIu64
			  " expirations",
			  p->fd, p->pid, ticks);
		return -errno;
	}
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", p->tfd);
	text = proc_read_file(path, NULL);
	ret = text ? timerfd_parse_fdinfo(text, ti) : -errno;
	free(text);
	if (ret) {
		pr_err("fd %d of pid %d: can't read its timerfd again\n", p->fd, p->pid);
		return ret;
	}
	ti->ticks = ticks;
	return 0;
}

struct tfd_dump {
	struct tfd_dump *next;
	TimerfdEntry e;
};
static struct tfd_dump *tfd_dumped;

static int timerfd_dump(struct dump_file *f, const struct fd_parms *p)
{
	struct timerfd_info ti;
	struct tfd_dump *d;

	if (timerfd_parse_fdinfo(p->fdinfo, &ti)) {
		pr_err("fd %d of pid %d: can't read its timerfd's fdinfo\n", p->fd, p->pid);
		return -EINVAL;
	}
	if (ti.ticks && (ti.isec || ti.insec) && !ti.vsec && !ti.vnsec) {
		int ret = count_missed_ticks(p, &ti);

		if (ret)
			return ret;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	timerfd_entry__init(&d->e);
	d->e.id = f->id;
	d->e.flags = p->flags;
	d->e.fown = p->fown;
	d->e.clockid = ti.clockid;
	d->e.ticks = ti.ticks;
	d->e.settime_flags = ti.settime_flags;
	d->e.vsec = ti.vsec;
	d->e.vnsec = ti.vnsec;
	d->e.isec = ti.isec;
	d->e.insec = ti.insec;
	d->next = tfd_dumped;
	tfd_dumped = d;
	f->fe.tfd = &d->e;
	return 0;
}

static void timerfd_dump_fini(void)
{
	while (tfd_dumped) {
		struct tfd_dump *d = tfd_dumped;

		tfd_dumped = d->next;
		free(d);
	}
}

static bool clock_ok(uint32_t c)
{
	return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC || c == CLOCK_BOOTTIME ||
	       c == CLOCK_REALTIME_ALARM || c == CLOCK_BOOTTIME_ALARM;
}

static int timerfd_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	const TimerfdEntry *e = fe->tfd;

	if (!e || !e->fown) {
		pr_err("files.img: file %u is a timerfd without its timerfd entry\n", fe->id);
		return -EINVAL;
	}
	if (!clock_ok(e->clockid)) {
		pr_err("files.img: timerfd %u has clock %u, which timerfds do not take\n", fe->id,
		       e->clockid);
		return -EINVAL;
	}
	if (e->vnsec >= NSEC_PER_SEC || e->insec >= NSEC_PER_SEC || e->vsec > INT64_MAX / 2 ||
	    e->isec > INT64_MAX / 2) {
		pr_err("files.img: timerfd %u has a time out of range (%llu.%09llu, interval "
		       "%llu.%09llu)\n",
		       fe->id, (unsigned long long)e->vsec, (unsigned long long)e->vnsec,
		       (unsigned long long)e->isec, (unsigned long long)e->insec);
		return -EINVAL;
	}
	if (e->settime_flags & ~(uint32_t)(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) {
		pr_err("files.img: timerfd %u has unknown settime flags %#x\n", fe->id,
		       e->settime_flags);
		return -EINVAL;
	}
	return 0;
}

static const char *clock_name(uint32_t c)
{
	switch (c) {
	case CLOCK_REALTIME: return "CLOCK_REALTIME";
	case CLOCK_MONOTONIC: return "CLOCK_MONOTONIC";
	case CLOCK_BOOTTIME: return "CLOCK_BOOTTIME";
	case CLOCK_REALTIME_ALARM: return "CLOCK_REALTIME_ALARM";
	case CLOCK_BOOTTIME_ALARM: return "CLOCK_BOOTTIME_ALARM";
	}
	return "an unknown clock";
}

/* Sets the timer: the time left from now, or from the clock's now when absolute. */
static int arm(int fd, const TimerfdEntry *e, uint32_t fdnum, uint32_t pid)
{
	struct itimerspec its = {
		.it_value = { (time_t)e->vsec, (long)e->vnsec },
		.it_interval = { (time_t)e->isec, (long)e->insec },
	};

	if (!e->vsec && !e->vnsec) {
		/* expired unread, and (see count_missed_ticks) not restarted:
		 * the next interval starts now */
		if (!e->isec && !e->insec)
			return 0;
		its.it_value = its.it_interval;
	}
	if (e->settime_flags & TFD_TIMER_ABSTIME) {
		struct timespec now;

		if (clock_gettime((clockid_t)e->clockid, &now)) {
			pr_perror("fd %u of pid %u: can't read %s", fdnum, pid,
				  clock_name(e->clockid));
			return -errno;
		}
		its.it_value.tv_sec += now.tv_sec;
		its.it_value.tv_nsec += now.tv_nsec;
		if (its.it_value.tv_nsec >= (long)NSEC_PER_SEC) {
			its.it_value.tv_nsec -= (long)NSEC_PER_SEC;
			its.it_value.tv_sec++;
		}
	}
	if (timerfd_settime(fd, (int)e->settime_flags, &its, NULL)) {
		pr_perror("fd %u of pid %u: can't set its timerfd (%s, %llu.%09llus left, every "
			  "%llu.%09llus, flags %#x)",
			  fdnum, pid, clock_name(e->clockid), (unsigned long long)e->vsec,
			  (unsigned long long)e->vnsec, (unsigned long long)e->isec,
			  (unsigned long long)e->insec, e->settime_flags);
		return -errno;
	}
	return 0;
}

static int timerfd_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	const TimerfdEntry *e = fe->tfd;
	uint32_t fdnum = rc_opening_fd(rc), pid = rc_task_pid(rc, idx);
	int fd, ret;

	fd = timerfd_create((clockid_t)e->clockid, TFD_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret == -EPERM)
			pr_err("fd %u of pid %u: a timerfd on %s needs CAP_WAKE_ALARM, which criu "
			       "lacks here\n",
			       fdnum, pid, clock_name(e->clockid));
		else
			pr_perror("fd %u of pid %u: can't create a timerfd on %s", fdnum, pid,
				  clock_name(e->clockid));
		return ret;
	}
	ret = arm(fd, e, fdnum, pid);
	if (!ret && e->ticks && ioctl(fd, TFD_IOC_SET_TICKS, &e->ticks) < 0) {
		ret = -errno;
		pr_perror("fd %u of pid %u: can't give its timerfd its %llu unread expirations%s",
			  fdnum, pid, (unsigned long long)e->ticks,
			  ret == -ENOTTY ? " (the kernel lacks CONFIG_CHECKPOINT_RESTORE)" : "");
	}
	if (!ret)
		ret = rc_restore_fown_and_flags(fd, e->flags, e->fown, fdnum, pid);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static uint32_t timerfd_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->tfd ? fe->tfd->flags : 0;
}

const struct fd_kind timerfd_kind = {
	.name = "timerfd",
	.type = FD_TYPES__TIMERFD,
	.match = timerfd_match,
	.check = timerfd_check,
	.dump = timerfd_dump,
	.dump_fini = timerfd_dump_fini,
	.collect = timerfd_collect,
	.open = timerfd_open,
	.status_flags = timerfd_status_flags,
};
