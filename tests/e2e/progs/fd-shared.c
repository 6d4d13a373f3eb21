/* A file description shared by parent and child (inherited): one position. */
#include "lib.h"

#include <fcntl.h>

TEST("a file opened before fork keeps one shared position in parent and child");

static int fd;

static int child(void *arg)
{
	child_wait();
	/* after restore: the child moves the shared position */
	if (write(fd, "child", 5) != 5)
		fail("child: write: %s", strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	char path[] = "shared-file";
	off_t before, after;

	test_init(argc, argv);
	/* 20 bytes, the position at 10: the child's write after restore keeps
	 * the size (restore refuses a file whose size changed since dump, and
	 * with -R the first process has written before the restore) */
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "0123456789abcdefghij", 20) != 20 || lseek(fd, 10, SEEK_SET) != 10)
		setup_fail("open/write %s: %s", path, strerror(errno));
	pid_t kid = test_fork(child, NULL);
	test_ready();
	test_wait();
	before = lseek(fd, 0, SEEK_CUR);
	if (before != 10)
		fail("the position is %lld, want 10", (long long)before);
	check_child(kid, "child writing through the shared fd");
	after = lseek(fd, 0, SEEK_CUR);
	if (after != 15)
		fail("after the child wrote 5 bytes the parent's position is %lld, want 15 (not "
		     "shared)",
		     (long long)after);
	test_done();
}
