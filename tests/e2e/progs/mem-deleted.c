/* Mappings of files unlinked since: a shared one (also reached through an
 * fd of the same file) and a private one with a page written (copied) and
 * one not. */
#include "lib.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

TEST("shared and private mappings of deleted files, the shared one also open as an fd");

#define PG 4096

static void *map_file(const char *name, size_t len, int flags, uint64_t seed, char *maps,
		      size_t size)
{
	static char data[4 * PG];
	int fd;
	void *p;

	fill_pattern(data, len, seed);
	if (write_file(name, data, len) < 0 || (fd = open(name, O_RDWR)) < 0)
		setup_fail("%s: %s", name, strerror(errno));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED)
		setup_fail("mmap %s: %s", name, strerror(errno));
	close(fd);
	if (maps_line(p, maps, size) < 0)
		setup_fail("maps of %s", name);
	return p;
}

/* a maps line without its inode (a ghost comes back as a new inode) */
static void drop_inode(char *line)
{
	char addr[64], perms[8], off[32], dev[32], path[400] = "";
	unsigned long ino;

	if (sscanf(line, "%63s %7s %31s %31s %lu %399[^\n]", addr, perms, off, dev, &ino, path) >= 5)
		snprintf(line, 512, "%s %s %s %s %s", addr, perms, off, dev, path);
}

int main(int argc, char **argv)
{
	char shared_maps[512], private_maps[512], now[512];
	char *sh, *pr;
	int fd;

	test_init(argc, argv);
	sh = map_file("shared.map", 2 * PG, MAP_SHARED, 0x5a, shared_maps, sizeof(shared_maps));
	pr = map_file("private.map", 4 * PG, MAP_PRIVATE, 0x9a, private_maps, sizeof(private_maps));
	fd = open("shared.map", O_RDWR);
	if (fd < 0 || unlink("shared.map") || unlink("private.map"))
		setup_fail("unlink: %s", strerror(errno));
	memcpy(sh + 100, "written shared", 14);
	memset(pr, 0x77, PG); /* page 0 copied; pages 1-3 still the file's */
	/* the maps lines now say (deleted) */
	maps_line(sh, shared_maps, sizeof(shared_maps));
	maps_line(pr, private_maps, sizeof(private_maps));
	drop_inode(shared_maps);
	drop_inode(private_maps);

	test_ready();
	test_wait();

	if (maps_line(sh, now, sizeof(now)) < 0 || (drop_inode(now), strcmp(now, shared_maps)))
		fail("shared: maps '%s', want '%s'", now, shared_maps);
	if (maps_line(pr, now, sizeof(now)) < 0 || (drop_inode(now), strcmp(now, private_maps)))
		fail("private: maps '%s', want '%s'", now, private_maps);
	if (memcmp(sh + 100, "written shared", 14))
		fail("the shared mapping lost what was written to it");
	char buf[32];
	if (pread(fd, buf, 14, 100) != 14 || memcmp(buf, "written shared", 14))
		fail("the fd of the shared file does not see the mapping's write");
	memcpy(sh + 200, "after", 5);
	if (pread(fd, buf, 5, 200) != 5 || memcmp(buf, "after", 5))
		fail("a write to the shared mapping after restore is not in its file");
	for (int i = 0; i < PG; i++)
		if ((unsigned char)pr[i] != 0x77) {
			fail("private page 0 byte %d is %#x, want 0x77", i, (unsigned char)pr[i]);
			break;
		}
	static char want[4 * PG];
	fill_pattern(want, 4 * PG, 0x9a);
	if (memcmp(pr + PG, want + PG, 3 * PG))
		fail("the private mapping's untouched pages differ from the file's");
	test_done();
}
