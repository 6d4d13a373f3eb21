/*
 * File locks (-l, --file-locks; core/files/locks.c): flock, POSIX (fcntl) and OFD locks, in
 * filelocks.img (file_lock_entry, as upstream: flag FL_*, type F_RDLCK or
 * F_WRLCK, the holding task's pid and one of its fds, start and length).
 *
 * Dump reads every fd's "lock:" lines of /proc/PID/fdinfo: the kernel lists
 * there the locks set through that open file description and owned by the
 * task's fd table (POSIX) or by the description itself (flock, OFD), so
 * each lock is found with its owner.  A flock or OFD lock belongs to the
 * description: it is written once, for the first fd that shows it; a POSIX
 * lock once per process.
 *
 * Restore sets each lock in the task that held it, on its fd, once every
 * fd is at its number and criu closed the rest (closing any fd of a file
 * drops the process's POSIX locks on it).
 */
#ifndef CRIU_FILES_LOCKS_H
#define CRIU_FILES_LOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/file-lock.pb-c.h"

/* file_lock_entry.flag, as upstream */
#define FL_POSIX 1
#define FL_FLOCK 2
#define FL_OFD 4
#define FL_LEASE 8

/* One "lock:" line of fdinfo or line of /proc/locks. */
struct lock_line {
	int flag;		/* FL_*, 0 for a kind restore can't set (its name in kind) */
	int type;		/* F_RDLCK, F_WRLCK (or -1: a lease's, "UNLCK") */
	char kind[16];		/* "POSIX", "FLOCK", "OFDLCK", "LEASE", ... */
	char mode[16];		/* "ADVISORY", "ACTIVE", ... */
	char type_name[16];	/* "READ", "WRITE", ... */
	int pid;
	unsigned int maj, min;
	unsigned long long ino;
	int64_t start;
	int64_t len;		/* 0: to the end of the file */
	bool waiter;		/* "->": a blocked request, not a lock held */
};

/* Parses the text after "lock:" (fdinfo) or a whole /proc/locks line. 0 or -EINVAL. */
int lock_parse_line(const char *s, struct lock_line *l);

/* dump: every lock fd of pid shows (file_id: its description in files.img);
 * refuses (logged) a lock restore could not set */
int locks_dump_fd(pid_t pid, int fd, uint32_t file_id);
int locks_write(int dirfd);
void locks_dump_fini(void);
/* the locks noted so far (tests) */
size_t locks_nr_dumped(void);

/* restore */
struct lock_set {
	FileLockEntry **e;
	size_t n;
};
/* filelocks.img (absent: no locks); each entry checked */
int locks_read(int dirfd, struct lock_set *set);
/* each lock's task and fd must be in the images: has_fd(pid, fd) */
int locks_validate(const struct lock_set *set, bool (*has_fd)(uint32_t pid, uint32_t fd));
/* in task pid, once its fds are at their numbers; no logging (criu's log
 * fd is gone by then): -errno of the first lock that could not be set */
int locks_restore_task(const struct lock_set *set, uint32_t pid);
void locks_free(struct lock_set *set);

/* Whether pid maps the file of its fd (a POSIX lock on it can't be kept). */
bool locks_file_mapped(pid_t pid, int fd);

#endif
