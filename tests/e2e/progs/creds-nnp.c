/* The no_new_privs flag stays set. */
#include "lib.h"

#include <sys/prctl.h>

TEST("the no_new_privs flag");

int main(int argc, char **argv)
{
	char status[16] = "";

	test_init(argc, argv);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		setup_fail("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	test_ready();
	test_wait();
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		fail("no_new_privs is not set");
	status_field(0, "NoNewPrivs", status, sizeof(status));
	if (strcmp(status, "1"))
		fail("NoNewPrivs in /proc is '%s'", status);
	test_done();
}
