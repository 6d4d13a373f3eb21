/* Files opened and then unlinked ("ghost" files): their contents, holes,
 * mode, position and flags, two descriptions of one, a write-only one, and
 * one whose path another file was renamed over. */
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>

TEST("unlinked open files: contents, holes of a sparse one, mode, position, shared inode, write-only, renamed over");

#define SMALL 100
#define HOLE_AT (512 * 1024)
#define BIG (900 * 1024)

static char small[SMALL], chunk[4096], chunk2[4096];

static int holder(const char *name, int flags, off_t pos, char *link, size_t size)
{
	int fd = open(name, flags);
	char p[64];
	ssize_t n;

	if (fd < 0 || lseek(fd, pos, SEEK_SET) != pos)
		setup_fail("open %s: %s", name, strerror(errno));
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, link, size - 1);
	link[n < 0 ? 0 : n] = 0;
	return fd;
}

static void check_link(int fd, const char *want, const char *what)
{
	char p[64], link[4096];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = 0;
	if (strcmp(link, want))
		fail("%s: fd %d is '%s', want '%s'", what, fd, link, want);
}

int main(int argc, char **argv)
{
	char l_small[4096], l_big[4096], l_wo[4096], l_two[4096];
	struct stat st, st2;
	char buf[8192];

	test_init(argc, argv);
	fill_pattern(small, SMALL, 0x6057);
	fill_pattern(chunk, sizeof(chunk), 0xb16);
	fill_pattern(chunk2, sizeof(chunk2), 0xb17);
	unlink("small");
	unlink("big");
	unlink("wo");
	if (write_file("small", small, SMALL) < 0 || chmod("small", 0640))
		setup_fail("small: %s", strerror(errno));
	/* sparse: data at 0 and at HOLE_AT, a hole between and at the end */
	int b = open("big", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (b < 0 || pwrite(b, chunk, sizeof(chunk), 0) != sizeof(chunk) ||
	    pwrite(b, chunk2, sizeof(chunk2), HOLE_AT) != sizeof(chunk2) || ftruncate(b, BIG))
		setup_fail("big: %s", strerror(errno));
	close(b);
	if (write_file("wo", "write-only", 10) < 0)
		setup_fail("wo: %s", strerror(errno));
	if (write_file("renamed", "old contents", 12) < 0)
		setup_fail("renamed: %s", strerror(errno));

	int fs = holder("small", O_RDWR, 50, l_small, sizeof(l_small));
	int fs2 = holder("small", O_RDONLY, 7, l_two, sizeof(l_two));
	int fb = holder("big", O_RDONLY, 4000, l_big, sizeof(l_big));
	int fw = holder("wo", O_WRONLY | O_APPEND, 0, l_wo, sizeof(l_wo));
	int fr = open("renamed", O_RDONLY);
	if (fr < 0 || write_file("renamed.new", "new contents!", 13) < 0 ||
	    rename("renamed.new", "renamed"))
		setup_fail("renamed: %s", strerror(errno));
	if (unlink("small") || unlink("big") || unlink("wo"))
		setup_fail("unlink: %s", strerror(errno));
	fstat(fb, &st);
	long big_blocks = (long)st.st_blocks;

	test_ready();
	test_wait();

	/* the paths as they were, deleted */
	char want[4200];
	snprintf(want, sizeof(want), "%s (deleted)", l_small);
	check_link(fs, want, "small");
	check_link(fs2, want, "small, second open");
	snprintf(want, sizeof(want), "%s (deleted)", l_big);
	check_link(fb, want, "big");
	snprintf(want, sizeof(want), "%s (deleted)", l_wo);
	check_link(fw, want, "write-only");
	if (fstat(fs, &st) || st.st_nlink != 0 || (st.st_mode & 07777) != 0640 || st.st_size != SMALL)
		fail("small: nlink %lu mode %o size %ld, want 0, 640, %d", (unsigned long)st.st_nlink,
		     st.st_mode & 07777, (long)st.st_size, SMALL);
	if (fstat(fs2, &st2) || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)
		fail("the two opens of small are no longer one file");
	if (lseek(fs, 0, SEEK_CUR) != 50 || lseek(fs2, 0, SEEK_CUR) != 7)
		fail("positions %ld and %ld, want 50 and 7", (long)lseek(fs, 0, SEEK_CUR),
		     (long)lseek(fs2, 0, SEEK_CUR));
	if (pread(fs, buf, SMALL, 0) != SMALL || memcmp(buf, small, SMALL))
		fail("small's contents differ");
	/* one file: a write through one open is read through the other */
	if (pwrite(fs, "X", 1, 3) != 1 || pread(fs2, buf, 1, 3) != 1 || buf[0] != 'X')
		fail("a write to small is not seen through its second open");
	if (fstat(fb, &st) || st.st_size != BIG)
		fail("big: size %ld, want %d", (long)st.st_size, BIG);
	if (pread(fb, buf, sizeof(chunk), 0) != sizeof(chunk) || memcmp(buf, chunk, sizeof(chunk)) ||
	    pread(fb, buf, sizeof(chunk2), HOLE_AT) != sizeof(chunk2) ||
	    memcmp(buf, chunk2, sizeof(chunk2)))
		fail("big's data differ");
	if (pread(fb, buf, 100, 100000) != 100)
		fail("big's hole can't be read");
	for (int i = 0; i < 100; i++)
		if (buf[i])
			fail("big's hole has a byte %d at %d", buf[i], 100000 + i);
	if (lseek(fb, 0, SEEK_CUR) != 4000)
		fail("big: position %ld, want 4000", (long)lseek(fb, 0, SEEK_CUR));
	/* the holes are kept (this moves the position): the data after the first hole starts at HOLE_AT */
	/* from the end of the first data block: a page on tmpfs (64 KiB on ppc64le) */
	long blk = sysconf(_SC_PAGESIZE) > (long)sizeof(chunk) ? sysconf(_SC_PAGESIZE) : (long)sizeof(chunk);
	off_t data = lseek(fb, blk, SEEK_DATA);
	if (big_blocks < BIG / 512 && data != HOLE_AT)
		fail("big: data after the first hole at %ld, want %d (holes lost)", (long)data,
		     HOLE_AT);
	if ((long)st.st_blocks > big_blocks + 64)
		fail("big takes %ld blocks, it took %ld: holes filled in", (long)st.st_blocks,
		     big_blocks);
	if ((fcntl(fw, F_GETFL) & O_ACCMODE) != O_WRONLY || !(fcntl(fw, F_GETFL) & O_APPEND))
		fail("write-only: flags %#o", fcntl(fw, F_GETFL));
	if (write(fw, "!", 1) != 1 || fstat(fw, &st) || st.st_size != 11)
		fail("write-only: an append gives size %ld, want 11", (long)st.st_size);
	if (pread(fr, buf, 12, 0) != 12 || memcmp(buf, "old contents", 12))
		fail("the renamed-over file lost its old contents");
	int now = open("renamed", O_RDONLY);
	if (now < 0 || read(now, buf, 13) != 13 || memcmp(buf, "new contents!", 13))
		fail("the file now at the renamed path changed");
	test_done();
}
