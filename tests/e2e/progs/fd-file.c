/* Regular files: positions, open flags (O_APPEND, O_NONBLOCK, O_NOATIME) and dup'ed offsets. */
#include "lib.h"

#include <fcntl.h>

TEST("regular files with positions, O_APPEND and other flags, a dup sharing the offset");

#define SIZE 16384

static const struct {
	int flags;
	off_t pos;
} files[] = {
	{ O_RDONLY, 1234 },
	{ O_WRONLY | O_APPEND, 0 },
	{ O_RDWR | O_NONBLOCK, 4321 },
	{ O_RDONLY | O_NOATIME, 8000 },
};
#define NR ((int)ARRAY_SIZE(files))

int main(int argc, char **argv)
{
	static unsigned char data[SIZE];
	int fds[NR], fl[NR + 1];
	off_t pos[NR + 1];
	char want_path[4096];

	test_init(argc, argv);
	fill_pattern(data, SIZE, 0xf11e);
	if (write_file("data.bin", data, SIZE) < 0 || !realpath("data.bin", want_path))
		setup_fail("data.bin: %s", strerror(errno));
	for (int i = 0; i < NR; i++) {
		fds[i] = open("data.bin", files[i].flags);
		if (fds[i] < 0 || lseek(fds[i], files[i].pos, SEEK_SET) < 0)
			setup_fail("open data.bin %#o: %s", files[i].flags, strerror(errno));
	}
	int dup_fd = dup(fds[0]);
	for (int i = 0; i <= NR; i++) {
		int fd = i < NR ? fds[i] : dup_fd;
		fl[i] = fcntl(fd, F_GETFL);
		pos[i] = lseek(fd, 0, SEEK_CUR);
	}
	test_ready();
	test_wait();

	for (int i = 0; i <= NR; i++) {
		int fd = i < NR ? fds[i] : dup_fd;
		char link[64], path[4096];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, path, sizeof(path) - 1);
		path[n < 0 ? 0 : n] = 0;
		if (strcmp(path, want_path))
			fail("fd %d is '%s', want '%s'", fd, path, want_path);
		if (fcntl(fd, F_GETFL) != fl[i])
			fail("fd %d: flags %#o, want %#o", fd, fcntl(fd, F_GETFL), fl[i]);
		if (lseek(fd, 0, SEEK_CUR) != pos[i])
			fail("fd %d: position %ld, want %ld", fd, (long)lseek(fd, 0, SEEK_CUR), (long)pos[i]);
	}
	unsigned char buf[64];
	if (read(fds[0], buf, sizeof(buf)) != sizeof(buf) || memcmp(buf, data + 1234, sizeof(buf)))
		fail("reading at the position gives the wrong bytes");
	if (lseek(dup_fd, 0, SEEK_CUR) != 1234 + (off_t)sizeof(buf))
		fail("the dup no longer shares the offset");
	test_done();
}
