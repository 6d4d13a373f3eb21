/*
 * What /proc/PID/fdinfo tells of the anon-inode kinds (eventfd, eventpoll,
 * signalfd, timerfd): each parser is its kind's, in core/files/<kind>.c,
 * declared here for that kind's unit test (tests/unit/test-anon-fdinfo.c).
 * Each returns 0, or -EINVAL when a line it needs is missing or malformed.
 */
#ifndef CRIU_FILES_ANON_FDINFO_H
#define CRIU_FILES_ANON_FDINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* eventfd.c: "eventfd-count:" (hex) and "eventfd-semaphore:" (kernels
 * before 6.5 do not show it: semaphore_known is then false) */
struct eventfd_info {
	uint64_t counter;
	bool semaphore;
	bool semaphore_known;
};
int eventfd_parse_fdinfo(const char *fdinfo, struct eventfd_info *ei);

/* signalfd.c: "sigmask:" (hex, bit N-1 for signal N) */
int signalfd_parse_fdinfo(const char *fdinfo, uint64_t *sigmask);

/* timerfd.c: "clockid:", "ticks:", "settime flags:" (octal), "it_value:"
 * (the time left, relative even for TFD_TIMER_ABSTIME) and "it_interval:" */
struct timerfd_info {
	uint32_t clockid;
	uint64_t ticks;
	uint32_t settime_flags;
	uint64_t vsec, vnsec, isec, insec;
};
int timerfd_parse_fdinfo(const char *fdinfo, struct timerfd_info *ti);

/* eventpoll.c: one "tfd:" line of an epoll, a file it watches */
struct epoll_target {
	uint32_t tfd;	/* the fd number it was added with */
	uint32_t events;
	uint64_t data;
	uint64_t pos;
	uint64_t ino;
	uint32_t sdev;
};
/* fills up to max targets in order; *n gets how many lines there are (may
 * exceed max: call again with more room) */
int eventpoll_parse_fdinfo(const char *fdinfo, struct epoll_target *t, size_t max, size_t *n);

#endif
