/* The heap: brk, start_brk and the contents above the program's data. */
#include "lib.h"

#include <sys/syscall.h>

TEST("heap (brk area): start_brk, brk and contents");

#define HEAP_SIZE (256 << 10)

/* field 47 of /proc/self/stat */
static unsigned long start_brk(void)
{
	char buf[2048];

	if (read_text("/proc/self/stat", buf, sizeof(buf)) < 0)
		return 0;
	char *p = strrchr(buf, ')');
	for (int field = 2; p && field < 47; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoul(p + 1, NULL, 10) : 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	unsigned char *heap = sbrk(HEAP_SIZE);
	if (heap == (void *)-1)
		setup_fail("sbrk: %s", strerror(errno));
	fill_pattern(heap, HEAP_SIZE, 0x4ea9);
	unsigned long brk = syscall(SYS_brk, 0);
	unsigned long start = start_brk();
	test_ready();
	test_wait();

	if (syscall(SYS_brk, 0) != (long)brk)
		fail("brk is %#lx, want %#lx", (unsigned long)syscall(SYS_brk, 0), brk);
	if (start_brk() != start)
		fail("start_brk is %#lx, want %#lx", start_brk(), start);
	long at = check_pattern(heap, HEAP_SIZE, 0x4ea9);
	if (at >= 0)
		fail("heap differs at byte %ld", at);
	/* and it still grows */
	unsigned char *more = (unsigned char *)syscall(SYS_brk, brk + 65536);
	if ((unsigned long)more != brk + 65536)
		fail("brk cannot grow any more");
	else
		memset((void *)brk, 0x77, 65536);
	test_done();
}
