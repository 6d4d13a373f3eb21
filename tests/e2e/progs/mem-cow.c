/* Pages shared copy-on-write between parent and child after fork stay shared. */
#include "lib.h"

#include <sys/mman.h>

TEST("copy-on-write pages after fork stay shared, and writes stay private");

#define NR_PAGES 256
#define CHILD_WROTE 16   /* the child wrote pages 0..15 before the dump */
#define CHILD_WRITES 100 /* and writes this one after restore */

static unsigned char *area;
static long pg;

static int child(void *arg)
{
	for (int i = 0; i < CHILD_WROTE; i++)
		fill_pattern(area + i * pg, pg, 0xc100 + i);
	child_wait();
	for (int i = 0; i < NR_PAGES; i++) {
		long at = check_pattern(area + i * pg, pg, i < CHILD_WROTE ? 0xc100 + i : 0xc000 + i);
		if (at >= 0)
			fail("child: page %d differs at byte %ld", i, at);
	}
	fill_pattern(area + CHILD_WRITES * pg, pg, 0xc1c1);
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	pg = sysconf(_SC_PAGESIZE);
	area = mmap(NULL, NR_PAGES * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		setup_fail("mmap: %s", strerror(errno));
	madvise(area, NR_PAGES * pg, MADV_NOHUGEPAGE);
	for (int i = 0; i < NR_PAGES; i++)
		fill_pattern(area + i * pg, pg, 0xc000 + i);
	pid_t kid = test_fork(child, NULL);
	test_ready();
	test_wait();

	/* the pages neither side wrote are mapped by both processes */
	long shared = smaps_kb(area, "Shared_Dirty") + smaps_kb(area, "Shared_Clean");
	long want = (NR_PAGES - CHILD_WROTE) * (pg / 1024);
	if (shared < want)
		fail("%ld kB of the area are shared with the child, want %ld", shared, want);
	check_child(kid, "child");
	for (int i = 0; i < NR_PAGES; i++) {
		long at = check_pattern(area + i * pg, pg, 0xc000 + i);
		if (at >= 0)
			fail("parent: page %d differs at byte %ld%s", i, at,
			     i == CHILD_WRITES ? " (the child's write leaked)" : "");
	}
	test_done();
}
