/* A 64 MiB area with a few written pages: contents, zeros, and no extra pages. */
#include "lib.h"

#include <sys/mman.h>

TEST("a 64 MiB mostly-zero area keeps its few pages and gains no resident ones");

#define SIZE (64ul << 20)

int main(int argc, char **argv)
{
	test_init(argc, argv);
	long pg = sysconf(_SC_PAGESIZE);
	long nr = SIZE / pg;
	const long pages[] = { 0, 1, 17, nr / 3, nr / 2, nr / 2 + 1, nr - 2, nr - 1 };
	/* guard pages on both sides keep the area from merging with neighbours */
	unsigned char *p = mmap(NULL, SIZE + 2 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		setup_fail("mmap: %s", strerror(errno));
	p += pg;
	if (mprotect(p, SIZE, PROT_READ | PROT_WRITE) < 0)
		setup_fail("mprotect: %s", strerror(errno));
	madvise(p, SIZE, MADV_NOHUGEPAGE);
	for (unsigned i = 0; i < ARRAY_SIZE(pages); i++)
		fill_pattern(p + pages[i] * pg, pg, 0x5a00 + i);
	test_ready();
	test_wait();

	long rss = smaps_kb(p, "Rss"), size = smaps_kb(p, "Size");
	if (size != (long)(SIZE >> 10))
		fail("the area is %ld kB, want %lu", size, SIZE >> 10);
	if (rss > (long)(ARRAY_SIZE(pages) * pg / 1024))
		fail("%ld kB of the area are resident, want at most %ld", rss,
		     (long)(ARRAY_SIZE(pages) * pg / 1024));
	for (unsigned i = 0; i < ARRAY_SIZE(pages); i++)
		if (check_pattern(p + pages[i] * pg, pg, 0x5a00 + i) >= 0)
			fail("page %ld differs", pages[i]);
	for (long i = 2; i < nr; i += 61) {
		int written = 0;
		for (unsigned j = 0; j < ARRAY_SIZE(pages); j++)
			written |= pages[j] == i;
		for (long b = 0; !written && b < pg; b += 8)
			if (*(uint64_t *)(p + i * pg + b)) {
				fail("page %ld is not zero", i);
				break;
			}
	}
	test_done();
}
