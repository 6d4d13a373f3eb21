/* Shared anonymous memory between parent and child stays shared both ways. */
#include "lib.h"

#include <sys/mman.h>

TEST("shared anonymous memory between parent and child stays shared both ways");

#define NR_PAGES 64
#define PARENT_PAGE 7 /* the parent writes here after restore */
#define CHILD_PAGE 9  /* the child writes here after restore */

static unsigned char *area;
static long pg;

static int child(void *arg)
{
	child_wait();
	for (int i = 0; i < NR_PAGES; i++) {
		if (i == PARENT_PAGE || i == CHILD_PAGE)
			continue;
		long off = check_pattern(area + i * pg, pg, 0xb000 + i);
		if (off >= 0)
			fail("child: page %d differs at byte %ld", i, off);
	}
	if (check_pattern(area + PARENT_PAGE * pg, pg, 0xbeef) >= 0)
		fail("child does not see what the parent wrote: not shared any more");
	fill_pattern(area + CHILD_PAGE * pg, pg, 0xcafe);
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	pg = sysconf(_SC_PAGESIZE);
	area = mmap(NULL, NR_PAGES * pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		setup_fail("mmap: %s", strerror(errno));
	for (int i = 0; i < NR_PAGES; i++)
		fill_pattern(area + i * pg, pg, 0xb000 + i);
	pid_t kid = test_fork(child, NULL);
	test_ready();
	test_wait();

	char perms[5];
	if (maps_perms(area, perms) < 0 || strcmp(perms, "rw-s"))
		fail("mapping is '%s', want rw-s", perms);
	for (int i = 0; i < NR_PAGES; i++) {
		long off = check_pattern(area + i * pg, pg, 0xb000 + i);
		if (off >= 0)
			fail("parent: page %d differs at byte %ld", i, off);
	}
	fill_pattern(area + PARENT_PAGE * pg, pg, 0xbeef);
	check_child(kid, "child");
	if (check_pattern(area + CHILD_PAGE * pg, pg, 0xcafe) >= 0)
		fail("parent does not see what the child wrote: not shared any more");
	test_done();
}
