/* The lock lines of /proc/locks and fdinfo (core/files/locks.c), and the real ones. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "file-locks.h"
#include "unit.h"

TEST(posix_write_range)
{
	struct lock_line l;

	CHECK_EQ(lock_parse_line("1: POSIX  ADVISORY  WRITE 1234 08:01:567890 100 199", &l), 0);
	CHECK_EQ(l.flag, FL_POSIX);
	CHECK_EQ(l.type, F_WRLCK);
	CHECK_EQ(l.pid, 1234);
	CHECK_EQ(l.maj, 8);
	CHECK_EQ(l.min, 1);
	CHECK_EQ(l.ino, 567890);
	CHECK_EQ(l.start, 100);
	CHECK_EQ(l.len, 100);
	CHECK(!l.waiter);
}

TEST(flock_and_ofd_to_eof)
{
	struct lock_line l;

	/* fdinfo's text after "lock:" starts with a tab */
	CHECK_EQ(lock_parse_line("\t2: FLOCK  ADVISORY  READ 77 00:2a:12 0 EOF\n", &l), 0);
	CHECK_EQ(l.flag, FL_FLOCK);
	CHECK_EQ(l.type, F_RDLCK);
	CHECK_EQ(l.maj, 0);
	CHECK_EQ(l.min, 0x2a);
	CHECK_EQ(l.len, 0);
	CHECK_EQ(lock_parse_line("3: OFDLCK ADVISORY  WRITE -1 fd:00:9 300 EOF", &l), 0);
	CHECK_EQ(l.flag, FL_OFD);
	CHECK_EQ(l.pid, -1);
	CHECK_EQ(l.maj, 0xfd);
	CHECK_EQ(l.start, 300);
	CHECK_EQ(l.len, 0);
}

TEST(waiters_leases_and_garbage)
{
	struct lock_line l;

	CHECK_EQ(lock_parse_line("1: -> POSIX  ADVISORY  WRITE 99 08:01:5 0 EOF", &l), 0);
	CHECK(l.waiter);
	CHECK_EQ(l.flag, FL_POSIX);
	/* what restore can't set has no flag */
	CHECK_EQ(lock_parse_line("4: LEASE  ACTIVE    READ 5 08:01:5 0 EOF", &l), 0);
	CHECK_EQ(l.flag, 0);
	CHECK_STR(l.kind, "LEASE");
	CHECK_EQ(lock_parse_line("5: DELEG  ACTIVE    READ 5 08:01:5 0 EOF", &l), 0);
	CHECK_EQ(l.flag, 0);
	CHECK_EQ(lock_parse_line("", &l), -EINVAL);
	CHECK_EQ(lock_parse_line("1: POSIX ADVISORY WRITE 1 08:01:5 10", &l), -EINVAL);
	CHECK_EQ(lock_parse_line("1: POSIX ADVISORY WRITE 1 0801 0 EOF", &l), -EINVAL);
	CHECK_EQ(lock_parse_line("1: POSIX ADVISORY WRITE 1 08:01:5 10 9", &l), -EINVAL);
	CHECK_EQ(lock_parse_line("1: POSIX ADVISORY WRITE 1 08:01:5 -1 EOF", &l), -EINVAL);
	CHECK_EQ(lock_parse_line("1: POSIX ADVISORY WRITE 1 08:01:5 10 2x", &l), -EINVAL);
}

/* What this kernel writes in fdinfo parses, and dump notes each lock once. */
TEST(this_kernels_fdinfo)
{
	char path[] = "/tmp/criu-unit-locks.XXXXXX";
	int fd = mkstemp(path), dup_fd;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 5 };

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	unlink(path);
	dup_fd = dup(fd);
	CHECK_EQ(fcntl(fd, F_SETLK, &fl), 0);
	CHECK_EQ(locks_dump_fd(getpid(), fd, 1), 0);
	CHECK_EQ(locks_dump_fd(getpid(), dup_fd, 1), 0);
	CHECK_EQ(locks_nr_dumped(), 1);
	locks_dump_fini();
	CHECK_EQ(locks_nr_dumped(), 0);
	close(dup_fd);
	close(fd);

	/* a lease is refused (it needs the file to be ours and read-only) */
	fd = open("/proc/self/exe", O_RDONLY);
	if (fd >= 0 && !fcntl(fd, F_SETLEASE, F_RDLCK)) {
		CHECK_EQ(locks_dump_fd(getpid(), fd, 2), -EOPNOTSUPP);
		fcntl(fd, F_SETLEASE, F_UNLCK);
	}
	if (fd >= 0)
		close(fd);
	locks_dump_fini();
}

UNIT_MAIN()
