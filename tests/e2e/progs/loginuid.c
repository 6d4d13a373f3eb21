/* The audit login uid stays what the process set. */
#include "lib.h"

#include <fcntl.h>

#define UNSET 4294967295u
#define WANT 4242u

static long long read_luid(void)
{
	char buf[32] = "";
	int fd = open("/proc/self/loginuid", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	return n > 0 ? strtoll(buf, NULL, 10) : -1;
}

/* Once set, a loginuid can't be changed (where the kernel allows at all):
 * the runner's must be unset, as the restored task starts from criu's. */
static const char *skip(void)
{
	long long v = read_luid();

	if (v < 0)
		return "no /proc/self/loginuid (a kernel without audit)";
	if (v != UNSET)
		return "the runner has a loginuid already";
	return NULL;
}

TEST("loginuid 4242, set by the process", .flags = TEST_NEEDS_ROOT, .skip = skip);

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (skip())
		setup_fail("%s", skip());
	int fd = open("/proc/self/loginuid", O_WRONLY);
	if (fd < 0 || write(fd, "4242", 4) != 4)
		setup_fail("can't write loginuid: %s", strerror(errno));
	close(fd);
	test_ready();
	test_wait();
	if (read_luid() != WANT)
		fail("loginuid is %lld, want %u", read_luid(), WANT);
	test_done();
}
