/* A shared mapping of a file: writes reach the file and file writes reach the map. */
#include "lib.h"

#include <fcntl.h>
#include <sys/mman.h>

TEST("shared file mapping stays coherent with the file in both directions");

#define FILE_PAGES 16
#define MAP_PAGES 12 /* file pages 1..12 */
#define WRITTEN 3    /* a mapping page written before the dump */

int main(int argc, char **argv)
{
	test_init(argc, argv);
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *buf = malloc(FILE_PAGES * pg);
	for (int i = 0; i < FILE_PAGES; i++)
		fill_pattern(buf + i * pg, pg, 0xd000 + i);
	if (write_file("mapped-shared.dat", buf, FILE_PAGES * pg) < 0)
		setup_fail("write mapped-shared.dat: %s", strerror(errno));
	int fd = open("mapped-shared.dat", O_RDWR);
	unsigned char *map = mmap(NULL, MAP_PAGES * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pg);
	if (fd < 0 || map == MAP_FAILED)
		setup_fail("map mapped-shared.dat: %s", strerror(errno));
	close(fd);
	fill_pattern(map + WRITTEN * pg, pg, 0xdddd);
	test_ready();
	test_wait();

	char line[1024], perms[5], path[512];
	unsigned long off;
	if (maps_line(map, line, sizeof(line)) < 0 ||
	    sscanf(line, "%*x-%*x %4s %lx %*s %*u %511s", perms, &off, path) != 3)
		fail("no mapping at %p", (void *)map);
	else if (strcmp(perms, "rw-s") || off != (unsigned long)pg || !strstr(path, "/mapped-shared.dat"))
		fail("mapping is '%s'", line);
	for (int i = 0; i < MAP_PAGES; i++) {
		long at = check_pattern(map + i * pg, pg, i == WRITTEN ? 0xdddd : 0xd000 + i + 1);
		if (at >= 0)
			fail("page %d of the mapping differs at byte %ld", i, at);
	}
	fd = open("mapped-shared.dat", O_RDWR);
	if (fd < 0 || pread(fd, buf, pg, (WRITTEN + 1) * pg) != pg)
		fail("cannot read mapped-shared.dat");
	else if (check_pattern(buf, pg, 0xdddd) >= 0)
		fail("the page written through the mapping is not in the file");

	/* still coherent: change a byte each way, then put it back */
	unsigned char old = map[6 * pg], mark = old ^ 0x5a, got = 0;
	if (fd >= 0 && pwrite(fd, &mark, 1, 7 * pg) == 1) {
		if (map[6 * pg] != mark)
			fail("a write to the file does not show in the mapping");
		pwrite(fd, &old, 1, 7 * pg);
	}
	old = map[8 * pg];
	map[8 * pg] = old ^ 0xa5;
	if (fd >= 0 && (pread(fd, &got, 1, 9 * pg) != 1 || got != (unsigned char)(old ^ 0xa5)))
		fail("a write to the mapping does not show in the file");
	map[8 * pg] = old;
	test_done();
}
