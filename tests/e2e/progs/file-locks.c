/*
 * File locks with --file-locks: a flock (exclusive, and a shared one on a
 * description two fds share), POSIX read and write locks on ranges, an OFD
 * lock, and a POSIX lock of a child on a file its parent locks elsewhere.
 * After restore a process that was not dumped still can't take them, and
 * the kernel names the same owners (the parent, the child) and ranges.
 */
#include "lib.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>

TEST("flock, POSIX and OFD locks keep their owners and ranges (--file-locks)",
     .criu_opts = "--file-locks");

static int fd_ex, fd_sh, fd_sh_dup, fd_posix, fd_ofd, fd_child_file;

static int open_file(const char *name)
{
	int fd = open(name, O_RDWR | O_CREAT, 0644);

	if (fd < 0)
		setup_fail("open %s: %s", name, strerror(errno));
	return fd;
}

static int posix_lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

static int child_holds(void *arg)
{
	int fd = open("child.lock", O_RDWR);

	if (fd < 0 || posix_lock(fd, F_SETLK, F_WRLCK, 0, 50)) {
		fprintf(stderr, "child: lock child.lock: %s\n", strerror(errno));
		return 1;
	}
	child_wait();
	/* its own lock: the kernel shows it in the fd's fdinfo */
	{
		char path[64], buf[4096];

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		if (read_text(path, buf, sizeof(buf)) < 0 || !strstr(buf, "lock:") ||
		    !strstr(buf, "POSIX") || !strstr(buf, " 0 49")) {
			fprintf(stderr, "child: its lock is not in its fdinfo: %s\n", buf);
			return 1;
		}
	}
	return 0;
}

/* What a process that was not dumped sees; a bit per difference. */
static int outsider(pid_t parent, pid_t child)
{
	int bad = 0, fd;
	struct flock fl;

#define EXPECT(cond, bit)                    \
	do {                                 \
		if (!(cond))                 \
			bad |= 1 << (bit);   \
	} while (0)
	fd = open("ex.lock", O_RDWR);
	EXPECT(fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK, 0);
	close(fd);
	fd = open("sh.lock", O_RDWR);
	EXPECT(fd >= 0 && !flock(fd, LOCK_SH | LOCK_NB), 1);
	close(fd);
	fd = open("sh.lock", O_RDWR);
	EXPECT(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK, 2);
	close(fd);

	fd = open("posix.lock", O_RDWR);
	fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 150, .l_len = 1 };
	EXPECT(fd >= 0 && !fcntl(fd, F_GETLK, &fl) && fl.l_type == F_WRLCK && fl.l_pid == parent &&
		       fl.l_start == 100 && fl.l_len == 100,
	       3);
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5000, .l_len = 1 };
	EXPECT(!fcntl(fd, F_GETLK, &fl) && fl.l_type == F_RDLCK && fl.l_pid == parent &&
		       fl.l_start == 300 && fl.l_len == 0,
	       4);
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 250, .l_len = 10 };
	EXPECT(!fcntl(fd, F_GETLK, &fl) && fl.l_type == F_UNLCK, 5);
	/* a read lock next to the read-locked range is still possible */
	EXPECT(!posix_lock(fd, F_SETLK, F_RDLCK, 400, 10), 6);
	close(fd);

	fd = open("ofd.lock", O_RDWR);
	fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1 };
	EXPECT(fd >= 0 && !fcntl(fd, F_OFD_GETLK, &fl) && fl.l_type == F_WRLCK && fl.l_pid == -1 &&
		       fl.l_start == 0 && fl.l_len == 10,
	       7);
	close(fd);

	fd = open("child.lock", O_RDWR);
	fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 1 };
	EXPECT(fd >= 0 && !fcntl(fd, F_GETLK, &fl) && fl.l_type == F_WRLCK && fl.l_pid == child &&
		       fl.l_start == 0 && fl.l_len == 50,
	       8);
	fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 60, .l_len = 1 };
	EXPECT(!fcntl(fd, F_GETLK, &fl) && fl.l_type == F_WRLCK && fl.l_pid == parent, 9);
	close(fd);
#undef EXPECT
	return bad;
}

static const char *const what[] = {
	"the exclusive flock can be taken",
	"the shared flock can't be shared",
	"the shared flock can be taken exclusive",
	"the POSIX write lock 100+100 is not the parent's",
	"the POSIX read lock 300..EOF is not the parent's",
	"a lock stands where none was (250+10)",
	"a read lock beside the read lock can't be taken",
	"the OFD write lock 0+10 is not there",
	"the child's POSIX lock 0+50 is not the child's",
	"the parent's POSIX lock on the child's file is gone",
};

int main(int argc, char **argv)
{
	pid_t child, checker;
	int status;

	test_init(argc, argv);
	fd_ex = open_file("ex.lock");
	fd_sh = open_file("sh.lock");
	fd_posix = open_file("posix.lock");
	fd_ofd = open_file("ofd.lock");
	fd_child_file = open_file("child.lock");
	fd_sh_dup = dup(fd_sh);
	if (flock(fd_ex, LOCK_EX) || flock(fd_sh, LOCK_SH))
		setup_fail("flock: %s", strerror(errno));
	if (posix_lock(fd_posix, F_SETLK, F_WRLCK, 100, 100) ||
	    posix_lock(fd_posix, F_SETLK, F_RDLCK, 300, 0))
		setup_fail("POSIX lock: %s", strerror(errno));
	if (posix_lock(fd_ofd, F_OFD_SETLK, F_WRLCK, 0, 10))
		setup_fail("OFD lock: %s", strerror(errno));
	if (posix_lock(fd_child_file, F_SETLK, F_WRLCK, 60, 10))
		setup_fail("POSIX lock of child.lock: %s", strerror(errno));
	child = test_fork(child_holds, NULL);
	test_ready();
	test_wait();

	checker = fork();
	if (checker == 0)
		_exit(outsider(getppid(), child));
	if (checker < 0 || wait_child(checker, &status, 10000))
		fail("the outside checker did not finish");
	else if (!WIFEXITED(status))
		fail("the outside checker ended with status %#x", status);
	else
		for (size_t i = 0; i < ARRAY_SIZE(what); i++)
			if (WEXITSTATUS(status) & (1 << i) & 0xff)
				fail("%s", what[i]);
	/* bits 8 and 9 don't fit an exit status: the checker runs again for them */
	checker = fork();
	if (checker == 0)
		_exit(outsider(getppid(), child) >> 8);
	if (checker < 0 || wait_child(checker, &status, 10000) || !WIFEXITED(status))
		fail("the second outside checker did not finish");
	else
		for (size_t i = 8; i < ARRAY_SIZE(what); i++)
			if (WEXITSTATUS(status) & (1 << (i - 8)))
				fail("%s", what[i]);
	check_child(child, "the lock-holding child");
	test_done();
}
