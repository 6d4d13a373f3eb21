/* /dev/console, held open for writing: reopened by path, with its flags. */
#include "ptyutil.h"

static const char *no_console(void)
{
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY);

	if (fd < 0)
		return "/dev/console can't be opened here";
	close(fd);
	return NULL;
}

TEST("/dev/console held open", .flags = TEST_NEEDS_ROOT, .skip = no_console);

int main(int argc, char **argv)
{
	struct stat st;
	int fd, flags;

	test_init(argc, argv);
	fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_APPEND);
	if (fd < 0)
		setup_fail("open /dev/console: %s", strerror(errno));
	test_ready();
	test_wait();
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(5, 1))
		fail("fd %d is not /dev/console", fd);
	flags = fcntl(fd, F_GETFL);
	if ((flags & (O_ACCMODE | O_APPEND)) != (O_WRONLY | O_APPEND))
		fail("flags %o, want O_WRONLY|O_APPEND", flags);
	test_done();
}
