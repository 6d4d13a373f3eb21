/* Every open flag a regular file keeps (O_APPEND, O_DIRECT, O_NONBLOCK,
 * O_NOATIME, O_LARGEFILE, O_SYNC, O_DSYNC) with a position past 4 GiB. */
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>

TEST("open flags O_APPEND, O_DIRECT, O_NONBLOCK, O_NOATIME, O_LARGEFILE, O_SYNC, O_DSYNC and a position past 4 GiB");

static const struct {
	int flags;
	off_t pos;
} files[] = {
	{ O_WRONLY | O_APPEND, 0 },
	{ O_RDWR | O_DIRECT, 4096 },
	{ O_RDONLY | O_NONBLOCK, 77 },
	{ O_RDONLY | O_NOATIME, 99 },
	{ O_RDONLY | O_LARGEFILE, (off_t)5 << 30 },
	{ O_WRONLY | O_SYNC, 12 },
	{ O_WRONLY | O_DSYNC, 13 },
};
#define NR ((int)ARRAY_SIZE(files))

int main(int argc, char **argv)
{
	int fds[NR], fl[NR];
	off_t pos[NR];
	static char data[8192];

	test_init(argc, argv);
	fill_pattern(data, sizeof(data), 0xf1a9);
	if (write_file("data.bin", data, sizeof(data)) < 0 || write_file("log.bin", data, 100) < 0)
		setup_fail("data.bin: %s", strerror(errno));
	/* appended to after restore: only this fd has it, so its size is not checked */
	int logfd = open("log.bin", O_WRONLY | O_APPEND);
	if (logfd < 0)
		setup_fail("log.bin: %s", strerror(errno));
	for (int i = 0; i < NR; i++) {
		fds[i] = open("data.bin", files[i].flags);
		/* a file system without O_DIRECT (or O_NOATIME for a user): that flag is left out */
		if (fds[i] < 0 && (errno == EINVAL || errno == EPERM))
			fds[i] = open("data.bin", files[i].flags & ~(O_DIRECT | O_NOATIME));
		if (fds[i] < 0 || lseek(fds[i], files[i].pos, SEEK_SET) < 0)
			setup_fail("open data.bin %#o: %s", files[i].flags, strerror(errno));
		fl[i] = fcntl(fds[i], F_GETFL);
		pos[i] = lseek(fds[i], 0, SEEK_CUR);
	}
	test_ready();
	test_wait();

	for (int i = 0; i < NR; i++) {
		if (fcntl(fds[i], F_GETFL) != fl[i])
			fail("fd %d: flags %#o, want %#o", fds[i], fcntl(fds[i], F_GETFL), fl[i]);
		if (lseek(fds[i], 0, SEEK_CUR) != pos[i])
			fail("fd %d: position %lld, want %lld", fds[i],
			     (long long)lseek(fds[i], 0, SEEK_CUR), (long long)pos[i]);
	}
	/* O_APPEND still appends */
	struct stat st;
	off_t was = lseek(logfd, 0, SEEK_END);
	if (write(logfd, "tail", 4) != 4 || fstat(logfd, &st) || st.st_size != was + 4)
		fail("an O_APPEND write does not land at the end");
	test_done();
}
