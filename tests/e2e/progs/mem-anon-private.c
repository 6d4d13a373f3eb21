/* Private anonymous memory: written pages keep their contents, the rest stays zero. */
#include "lib.h"

#include <sys/mman.h>

TEST("private anonymous memory keeps written pages and untouched zero pages");

#define NR_PAGES 256

int main(int argc, char **argv)
{
	long pg = sysconf(_SC_PAGESIZE);

	test_init(argc, argv);
	unsigned char *p = mmap(NULL, NR_PAGES * pg, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		setup_fail("mmap: %s", strerror(errno));
	for (int i = 0; i < NR_PAGES; i++)
		if (i % 3 != 2)
			fill_pattern(p + i * pg, pg, 0xa000 + i);
	test_ready();
	test_wait();

	char perms[5];
	if (maps_perms(p, perms) < 0 || strcmp(perms, "rw-p"))
		fail("mapping at %p is '%s', want rw-p", (void *)p, perms);
	for (int i = 0; i < NR_PAGES; i++) {
		unsigned char *page = p + i * pg;
		if (i % 3 != 2) {
			long off = check_pattern(page, pg, 0xa000 + i);
			if (off >= 0)
				fail("page %d differs at byte %ld", i, off);
			continue;
		}
		for (long b = 0; b < pg; b++)
			if (page[b]) {
				fail("untouched page %d is not zero at byte %ld", i, b);
				break;
			}
	}
	test_done();
}
