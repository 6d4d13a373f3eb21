/* Transparent hugepage advice (MADV_HUGEPAGE, MADV_NOHUGEPAGE) stays on the areas. */
#include "lib.h"

#include <sys/mman.h>

static const char *no_thp(void);
TEST("MADV_HUGEPAGE and MADV_NOHUGEPAGE advice and contents survive", .skip = no_thp);

#define SIZE (4ul << 20)
#define ALIGN (2ul << 20)

static const char *no_thp(void)
{
	if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK))
		return "the kernel has no transparent hugepages";
	return NULL;
}

static unsigned char *map_aligned(int advice)
{
	unsigned char *p = mmap(NULL, SIZE + ALIGN, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		setup_fail("mmap: %s", strerror(errno));
	unsigned char *a = (unsigned char *)(((unsigned long)p + ALIGN - 1) & ~(ALIGN - 1));
	if (madvise(a, SIZE, advice) < 0)
		setup_fail("madvise: %s", strerror(errno));
	return a;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	unsigned char *huge = map_aligned(MADV_HUGEPAGE);
	unsigned char *nohuge = map_aligned(MADV_NOHUGEPAGE);
	fill_pattern(huge, SIZE, 0x1f);
	fill_pattern(nohuge, SIZE, 0x2f);
	test_ready();
	test_wait();

	if (has_vma_flag(huge, "hg") != 1)
		fail("the MADV_HUGEPAGE area lost its 'hg' flag");
	if (has_vma_flag(nohuge, "nh") != 1)
		fail("the MADV_NOHUGEPAGE area lost its 'nh' flag");
	if (check_pattern(huge, SIZE, 0x1f) >= 0)
		fail("the MADV_HUGEPAGE area differs");
	if (check_pattern(nohuge, SIZE, 0x2f) >= 0)
		fail("the MADV_NOHUGEPAGE area differs");
	test_done();
}
