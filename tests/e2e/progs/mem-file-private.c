/* A private mapping of a file: our writes stay ours, the rest is the file's. */
#include "lib.h"

#include <fcntl.h>
#include <sys/mman.h>

TEST("private file mapping: written pages are private, the others show the file");

#define FILE_PAGES 16
#define MAP_PAGES 12 /* file pages 1..12 */

static long pg;

static int written(int i)
{
	return i == 2 || i == 5;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	pg = sysconf(_SC_PAGESIZE);
	unsigned char *buf = malloc(FILE_PAGES * pg);
	for (int i = 0; i < FILE_PAGES; i++)
		fill_pattern(buf + i * pg, pg, 0xf000 + i);
	if (write_file("mapped-private.dat", buf, FILE_PAGES * pg) < 0)
		setup_fail("write mapped-private.dat: %s", strerror(errno));
	int fd = open("mapped-private.dat", O_RDWR);
	unsigned char *map = mmap(NULL, MAP_PAGES * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, pg);
	if (fd < 0 || map == MAP_FAILED)
		setup_fail("map mapped-private.dat: %s", strerror(errno));
	close(fd);
	for (int i = 0; i < MAP_PAGES; i++)
		if (written(i))
			fill_pattern(map + i * pg, pg, 0xe000 + i);
	test_ready();
	test_wait();

	char line[1024];
	unsigned long start, off;
	char perms[5], path[512];
	if (maps_line(map, line, sizeof(line)) < 0 ||
	    sscanf(line, "%lx-%*x %4s %lx %*s %*u %511s", &start, perms, &off, path) != 4)
		fail("no mapping at %p", (void *)map);
	else if (strcmp(perms, "rw-p") || off != (unsigned long)pg || !strstr(path, "/mapped-private.dat"))
		fail("mapping is '%s'", line);
	for (int i = 0; i < MAP_PAGES; i++) {
		long at = check_pattern(map + i * pg, pg, written(i) ? 0xe000 + i : 0xf000 + i + 1);
		if (at >= 0)
			fail("%s page %d differs at byte %ld", written(i) ? "written" : "file", i, at);
	}
	fd = open("mapped-private.dat", O_RDONLY);
	if (fd < 0 || pread(fd, buf, FILE_PAGES * pg, 0) != FILE_PAGES * pg)
		fail("cannot read mapped-private.dat back");
	for (int i = 0; i < FILE_PAGES; i++)
		if (check_pattern(buf + i * pg, pg, 0xf000 + i) >= 0)
			fail("page %d of the file changed: private writes leaked", i);
	test_done();
}
