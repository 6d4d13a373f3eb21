/* The execution domain flags (personality) stay set. */
#include "lib.h"

#include <sys/personality.h>

TEST("personality flags ADDR_NO_RANDOMIZE and ADDR_COMPAT_LAYOUT");

int main(int argc, char **argv)
{
	test_init(argc, argv);
	int want = personality(0xffffffff) | ADDR_NO_RANDOMIZE | ADDR_COMPAT_LAYOUT;
	if (personality(want) < 0 || personality(0xffffffff) != want)
		setup_fail("personality: %s", strerror(errno));
	test_ready();
	test_wait();
	int now = personality(0xffffffff);
	if (now != want)
		fail("personality is %#x, want %#x", now, want);
	test_done();
}
