/* --link-remap: an unlinked file still linked elsewhere, and an O_TMPFILE
 * file bigger than --ghost-limit, both linked back by dump and reopened. */
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>

TEST("--link-remap: an unlinked file with another link, a 2 MiB O_TMPFILE file", .criu_opts = "--link-remap");

#define BIG (2 << 20)

int main(int argc, char **argv)
{
	static char big[BIG], buf[BIG];
	struct stat st, now;

	test_init(argc, argv);
	fill_pattern(big, BIG, 0x11ea);
	unlink("hl");
	unlink("hl2");
	if (write_file("hl", "hard linked", 11) < 0 || link("hl", "hl2"))
		setup_fail("hl: %s", strerror(errno));
	int fh = open("hl", O_RDWR);
	if (fh < 0 || lseek(fh, 3, SEEK_SET) != 3 || unlink("hl"))
		setup_fail("hl: %s", strerror(errno));
	struct stat hl;
	fstat(fh, &hl);
	int ft = open(".", O_TMPFILE | O_RDWR, 0600);
	if (ft < 0) {
		if (errno == EOPNOTSUPP || errno == EISDIR)
			setup_fail("this file system has no O_TMPFILE");
		setup_fail("O_TMPFILE: %s", strerror(errno));
	}
	if (write(ft, big, BIG) != BIG || lseek(ft, 1000, SEEK_SET) != 1000)
		setup_fail("tmpfile: %s", strerror(errno));
	fstat(ft, &st);

	test_ready();
	test_wait();

	if (fstat(fh, &now) || stat("hl2", &hl) || now.st_ino != hl.st_ino || now.st_dev != hl.st_dev)
		fail("the unlinked file is no longer the one hl2 names");
	if (lseek(fh, 0, SEEK_CUR) != 3)
		fail("hl: position %ld, want 3", (long)lseek(fh, 0, SEEK_CUR));
	if (pwrite(fh, "H", 1, 0) != 1 || read_text("hl2", buf, 64) < 0 || buf[0] != 'H')
		fail("a write through the unlinked file is not seen through hl2");
	/* (linked as link_remap.N from dump to restore: nlink 1 meanwhile) */
	if (fstat(ft, &now) || now.st_size != BIG || now.st_ino != st.st_ino)
		fail("tmpfile: size %ld inode %lu, want %d, %lu", (long)now.st_size,
		     (unsigned long)now.st_ino, BIG, (unsigned long)st.st_ino);
	if (lseek(ft, 0, SEEK_CUR) != 1000)
		fail("tmpfile: position %ld, want 1000", (long)lseek(ft, 0, SEEK_CUR));
	if (pread(ft, buf, BIG, 0) != BIG || memcmp(buf, big, BIG))
		fail("tmpfile: contents differ");
	test_done();
}
