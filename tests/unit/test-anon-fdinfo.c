/*
 * The fdinfo parsers of the anon-inode kinds (core/files/eventfd.c,
 * signalfd.c, timerfd.c, eventpoll.c): on the text the kernel writes (as
 * 6.x writes it), on broken text, and on this kernel's own fdinfo of files
 * made here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../../core/files/anon-fdinfo.h"
#include "proc.h"
#include "unit.h"

static char *self_fdinfo(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return proc_read_file(path, NULL);
}

TEST(eventfd_text)
{
	struct eventfd_info ei;

	CHECK_EQ(eventfd_parse_fdinfo("pos:\t0\nflags:\t04002\nmnt_id:\t17\nino:\t1038\n"
				      "eventfd-count:                5\neventfd-id: 1\n"
				      "eventfd-semaphore: 1\n",
				      &ei),
		 0);
	CHECK_EQ(ei.counter, 5);
	CHECK(ei.semaphore && ei.semaphore_known);
	/* the count is hex; kernels before 6.5 show no semaphore line */
	CHECK_EQ(eventfd_parse_fdinfo("pos:\t0\nflags:\t02\neventfd-count: fffffffffffffffe\n", &ei),
		 0);
	CHECK_EQ(ei.counter, 0xfffffffffffffffeull);
	CHECK(!ei.semaphore && !ei.semaphore_known);
	CHECK_EQ(eventfd_parse_fdinfo("eventfd-count: 10\neventfd-semaphore: 0\n", &ei), 0);
	CHECK_EQ(ei.counter, 16);
	CHECK(!ei.semaphore && ei.semaphore_known);
	CHECK_EQ(eventfd_parse_fdinfo("pos:\t0\nflags:\t02\n", &ei), -EINVAL);
	CHECK_EQ(eventfd_parse_fdinfo("eventfd-count: zz\n", &ei), -EINVAL);
	CHECK_EQ(eventfd_parse_fdinfo("", &ei), -EINVAL);
}

TEST(eventfd_live)
{
	struct eventfd_info ei = { 0 };
	int fd = eventfd(7, EFD_SEMAPHORE | EFD_CLOEXEC);
	uint64_t more = 0x100000000ull;
	char *text;

	CHECK(fd >= 0);
	CHECK(write(fd, &more, sizeof(more)) == sizeof(more));
	text = self_fdinfo(fd);
	CHECK(text != NULL);
	CHECK_EQ(text ? eventfd_parse_fdinfo(text, &ei) : -1, 0);
	CHECK_EQ(ei.counter, 0x100000007ull);
	if (ei.semaphore_known)
		CHECK(ei.semaphore);
	free(text);
	close(fd);
}

TEST(signalfd_text)
{
	uint64_t mask = 1;

	CHECK_EQ(signalfd_parse_fdinfo("pos:\t0\nflags:\t04002\nmnt_id:\t17\nino:\t1038\n"
				       "sigmask:\t0000000800000200\n",
				       &mask),
		 0);
	/* SIGUSR1 (10) and SIGRTMIN+2 (36) */
	CHECK_EQ(mask, (1ull << 9) | (1ull << 35));
	CHECK_EQ(signalfd_parse_fdinfo("sigmask:\tffffffffffffffff\n", &mask), 0);
	CHECK_EQ(mask, UINT64_MAX);
	CHECK_EQ(signalfd_parse_fdinfo("pos:\t0\n", &mask), -EINVAL);
	CHECK_EQ(signalfd_parse_fdinfo("sigmask:\t\n", &mask), -EINVAL);
}

TEST(timerfd_text)
{
	struct timerfd_info ti;

	CHECK_EQ(timerfd_parse_fdinfo("pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1038\nclockid: 7\n"
				      "ticks: 0\nsettime flags: 01\nit_value: (2, 999992353)\n"
				      "it_interval: (1, 5)\n",
				      &ti),
		 0);
	CHECK_EQ(ti.clockid, 7);
	CHECK_EQ(ti.ticks, 0);
	CHECK_EQ(ti.settime_flags, 1);
	CHECK_EQ(ti.vsec, 2);
	CHECK_EQ(ti.vnsec, 999992353);
	CHECK_EQ(ti.isec, 1);
	CHECK_EQ(ti.insec, 5);
	/* the flags are octal: TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET */
	CHECK_EQ(timerfd_parse_fdinfo("clockid: 0\nticks: 12345678901\nsettime flags: 03\n"
				      "it_value: (0, 0)\nit_interval: (0, 1000000)\n",
				      &ti),
		 0);
	CHECK_EQ(ti.settime_flags, 3);
	CHECK_EQ(ti.ticks, 12345678901ull);
	CHECK_EQ(ti.insec, 1000000);
	/* a missing line, or nanoseconds that are not below a second */
	CHECK_EQ(timerfd_parse_fdinfo("clockid: 0\nticks: 1\nit_value: (0, 0)\n"
				      "it_interval: (0, 0)\n",
				      &ti),
		 -EINVAL);
	CHECK_EQ(timerfd_parse_fdinfo("clockid: 0\nticks: 1\nsettime flags: 00\n"
				      "it_value: (0, 1000000000)\nit_interval: (0, 0)\n",
				      &ti),
		 -EINVAL);
	CHECK_EQ(timerfd_parse_fdinfo("clockid: 0\nticks: 1\nsettime flags: 00\n"
				      "it_value: 5\nit_interval: (0, 0)\n",
				      &ti),
		 -EINVAL);
}

TEST(timerfd_live)
{
	struct itimerspec its = { .it_value = { 100, 0 }, .it_interval = { 3, 500 } };
	struct timerfd_info ti = { 0 };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	char *text;

	CHECK(fd >= 0);
	CHECK_EQ(timerfd_settime(fd, 0, &its, NULL), 0);
	text = self_fdinfo(fd);
	CHECK(text != NULL);
	CHECK_EQ(text ? timerfd_parse_fdinfo(text, &ti) : -1, 0);
	CHECK_EQ(ti.clockid, CLOCK_MONOTONIC);
	CHECK_EQ(ti.ticks, 0);
	CHECK_EQ(ti.settime_flags, 0);
	CHECK(ti.vsec >= 90 && ti.vsec <= 100);
	CHECK_EQ(ti.isec, 3);
	CHECK_EQ(ti.insec, 500);
	free(text);
	close(fd);
}

TEST(eventpoll_text)
{
	static const char text[] =
		"pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1038\n"
		"tfd:        3 events: 80000019 data:             1234  pos:0 ino:40e sdev:10\n"
		"tfd:        4 events: 40000019 data: ffffffffffffffff  pos:0 ino:40e sdev:10\n"
		"tfd:      100 events:       1c data:                0  pos:77 ino:1234abcd sdev:fd01\n";
	struct epoll_target t[3];
	size_t n = 0;

	CHECK_EQ(eventpoll_parse_fdinfo(text, t, 3, &n), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(t[0].tfd, 3);
	CHECK_EQ(t[0].events, 0x80000019u);
	CHECK_EQ(t[0].data, 0x1234);
	CHECK_EQ(t[1].events, 0x40000019u);
	CHECK(t[1].data == UINT64_MAX);
	CHECK_EQ(t[2].tfd, 100);
	CHECK_EQ(t[2].pos, 77);
	CHECK_EQ(t[2].ino, 0x1234abcd);
	CHECK_EQ(t[2].sdev, 0xfd01);
	/* too little room: the count tells how much to ask for */
	CHECK_EQ(eventpoll_parse_fdinfo(text, t, 1, &n), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(eventpoll_parse_fdinfo(text, NULL, 0, &n), 0);
	CHECK_EQ(n, 3);
	/* no targets */
	CHECK_EQ(eventpoll_parse_fdinfo("pos:\t0\nflags:\t02\n", t, 3, &n), 0);
	CHECK_EQ(n, 0);
	/* a target line cut short */
	CHECK_EQ(eventpoll_parse_fdinfo("tfd:        3 events: 19 data:\n", t, 3, &n), -EINVAL);
}

TEST(eventpoll_live)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), efd = eventfd(0, EFD_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 0xfeedface12345678ull };
	struct epoll_target t[2];
	size_t n = 0;
	char *text;

	CHECK(ep >= 0 && efd >= 0);
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev), 0);
	text = self_fdinfo(ep);
	CHECK(text != NULL);
	CHECK_EQ(text ? eventpoll_parse_fdinfo(text, t, 2, &n) : -1, 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(t[0].tfd, efd);
	CHECK(t[0].events & EPOLLIN);
	CHECK(t[0].events & EPOLLET);
	CHECK(t[0].data == 0xfeedface12345678ull);
	free(text);
	close(efd);
	close(ep);
}

UNIT_MAIN();
