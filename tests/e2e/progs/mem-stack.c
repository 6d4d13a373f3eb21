/* A big stack: 4 MiB of locals in the main thread keep their contents. */
#include "lib.h"

TEST("a 4 MiB deep main-thread stack keeps its contents");

#define BIG (4 << 20)

static __attribute__((noinline)) void deep(void)
{
	unsigned char big[BIG];
	char line[1024];

	fill_pattern(big, BIG, 0x57ac);
	test_ready();
	test_wait();
	long at = check_pattern(big, BIG, 0x57ac);
	if (at >= 0)
		fail("stack differs at byte %ld", at);
	if (maps_line(big, line, sizeof(line)) < 0 || !strstr(line, "[stack]"))
		fail("the deep end of the stack is in '%s', not [stack]", line);
	if (maps_line(line, line, sizeof(line)) < 0 || !strstr(line, "[stack]"))
		fail("the top of the stack is in '%s', not [stack]", line);
	__asm__ volatile("" : : "r"(big) : "memory");
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	deep();
	test_done();
}
