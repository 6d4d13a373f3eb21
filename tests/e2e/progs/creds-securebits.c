/* Securebits, some of them locked. */
#include "lib.h"

#include <linux/securebits.h>
#include <sys/prctl.h>

TEST("securebits, including locked ones", .flags = TEST_NEEDS_ROOT);

int main(int argc, char **argv)
{
	int want = SECBIT_KEEP_CAPS | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
		   SECBIT_NOROOT | SECBIT_NO_CAP_AMBIENT_RAISE;

	test_init(argc, argv);
	if (prctl(PR_SET_SECUREBITS, want, 0, 0, 0) < 0)
		setup_fail("PR_SET_SECUREBITS: %s", strerror(errno));
	test_ready();
	test_wait();
	int now = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (now != want)
		fail("securebits are %#x, want %#x", now, want);
	test_done();
}
