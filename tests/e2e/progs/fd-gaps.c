/* Descriptor numbers with gaps: exactly the same numbers are open, each with its file. */
#include "lib.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

TEST("descriptors at 5, 17, 100, 1000, 1001 and nothing else");

static const int wanted[] = { 0, 1, 2, 5, 17, 100, 1000, 1001 };

static int is_wanted(int fd)
{
	for (unsigned i = 0; i < ARRAY_SIZE(wanted); i++)
		if (wanted[i] == fd)
			return 1;
	return 0;
}

static void link_of(int fd, char *out, size_t size)
{
	char link[64];

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, out, size - 1);
	out[n < 0 ? 0 : n] = 0;
}

static void move(int from, int to)
{
	if (dup2(from, to) != to)
		setup_fail("dup2 %d: %s", to, strerror(errno));
	close(from);
}

int main(int argc, char **argv)
{
	int p[2];
	char want5[4096], now[4096];

	test_init(argc, argv);
	/* only what this program opens, whatever the starter leaked */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	if (write_file("gaps.txt", "0123456789", 10) < 0)
		setup_fail("gaps.txt: %s", strerror(errno));
	move(open("gaps.txt", O_RDONLY), 5);
	if (dup2(5, 17) != 17 || lseek(5, 3, SEEK_SET) != 3)
		setup_fail("dup2 17: %s", strerror(errno));
	move(open("/dev/null", O_RDONLY), 100);
	if (pipe(p) < 0)
		setup_fail("pipe: %s", strerror(errno));
	move(p[0], 1000);
	move(p[1], 1001);
	link_of(5, want5, sizeof(want5));
	test_ready();
	test_wait();

	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (fd == dirfd(d))
			continue;
		if (!is_wanted(fd))
			fail("fd %d is open", fd);
		n++;
	}
	if (d)
		closedir(d);
	if (n != (int)ARRAY_SIZE(wanted))
		fail("%d descriptors are open, want %d", n, (int)ARRAY_SIZE(wanted));
	link_of(17, now, sizeof(now));
	if (strcmp(now, want5))
		fail("fd 17 is '%s', want '%s'", now, want5);
	if (lseek(17, 0, SEEK_CUR) != 3)
		fail("fd 17 does not share fd 5's offset");
	link_of(100, now, sizeof(now));
	if (strcmp(now, "/dev/null"))
		fail("fd 100 is '%s'", now);
	struct stat r, w;
	if (fstat(1000, &r) < 0 || fstat(1001, &w) < 0 || !S_ISFIFO(r.st_mode) || r.st_ino != w.st_ino)
		fail("fds 1000 and 1001 are not the two ends of one pipe");
	char c;
	if (write(1001, "z", 1) != 1 || read(1000, &c, 1) != 1 || c != 'z')
		fail("the pipe at 1000/1001 does not work");
	test_done();
}
