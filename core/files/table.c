/*
 * The one table of the kinds of open files (see fdkind.h): one line per
 * kind, in the order dump asks their match() and restore their owns().
 */
#include <stddef.h>

#include "fdkind.h"

/* one line each, so that kinds added side by side merge */
extern const struct fd_kind chrdev_kind;
extern const struct fd_kind regfile_kind;
extern const struct fd_kind pipe_kind;
extern const struct fd_kind memfd_kind;
extern const struct fd_kind fifo_kind;
extern const struct fd_kind unix_sk_kind;
extern const struct fd_kind inet_sk_kind;
extern const struct fd_kind netlink_sk_kind;
extern const struct fd_kind packet_sk_kind;
extern const struct fd_kind eventfd_kind;
extern const struct fd_kind eventpoll_kind;
extern const struct fd_kind signalfd_kind;
extern const struct fd_kind timerfd_kind;
extern const struct fd_kind inotify_kind;
extern const struct fd_kind fanotify_kind;
extern const struct fd_kind pidfd_kind;
extern const struct fd_kind tty_kind;

const struct fd_kind *const fd_kinds[] = {
	&tty_kind,     /* terminals: ptys, /dev/tty, /dev/console, -j's terminal (TTY) */
	&chrdev_kind,  /* character devices by path, -j's terminal (REG entries) */
	&regfile_kind, /* regular files (REG) */
	&pipe_kind,    /* pipes, pipes-data.img (PIPE) */
	&fifo_kind,    /* FIFOs, their path in a REG entry, fifo-data.img (FIFO) */
	&memfd_kind,   /* memfd files of upstream's images (MEMFD) */
	&unix_sk_kind, /* unix sockets, sk-queues.img (UNIXSK) */
	&inet_sk_kind, /* IPv4 and IPv6 sockets not connected by TCP (INETSK) */
	&netlink_sk_kind, /* netlink sockets (NETLINKSK) */
	&packet_sk_kind,  /* packet sockets (PACKETSK) */
	&eventfd_kind,   /* eventfd (EVENTFD) */
	&eventpoll_kind, /* epoll and its targets (EVENTPOLL) */
	&signalfd_kind,  /* signalfd (SIGNALFD) */
	&timerfd_kind,   /* timerfd (TIMERFD) */
	&inotify_kind,  /* inotify and its watches (INOTIFY) */
	&fanotify_kind, /* fanotify and its marks (FANOTIFY) */
	&pidfd_kind,    /* pidfds of the tree's tasks and of dead ones (PIDFD) */
};

const unsigned int nr_fd_kinds = sizeof(fd_kinds) / sizeof(fd_kinds[0]);

const struct fd_kind *fd_kind_of_type(FdTypes type)
{
	for (unsigned int i = 0; i < nr_fd_kinds; i++)
		if (fd_kinds[i]->type == type)
			return fd_kinds[i];
	return NULL;
}

const struct fd_kind *fd_kind_match(const struct fd_parms *p)
{
	for (unsigned int i = 0; i < nr_fd_kinds; i++)
		if (fd_kinds[i]->match && fd_kinds[i]->match(p))
			return fd_kinds[i];
	return NULL;
}

const struct fd_kind *fd_kind_of_file(const FileEntry *fe)
{
	if (!fe)
		return NULL;
	for (unsigned int i = 0; i < nr_fd_kinds; i++)
		if (fd_kinds[i]->type == fe->type && (!fd_kinds[i]->owns || fd_kinds[i]->owns(fe)))
			return fd_kinds[i];
	return NULL;
}
