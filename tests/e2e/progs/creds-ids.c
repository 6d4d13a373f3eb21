/* User and group ids (real, effective, saved, fs), supplementary groups, dumpable. */
#include "lib.h"

#include <grp.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>

TEST("distinct real/effective/saved/fs uids and gids, supplementary groups",
     .flags = TEST_NEEDS_ROOT);

static const gid_t groups[] = { 1001, 1002, 1003 };

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (setgroups(ARRAY_SIZE(groups), groups) < 0 || setresgid(2001, 2002, 2003) < 0 ||
	    setresuid(3001, 3002, 0) < 0)
		setup_fail("set ids: %s", strerror(errno));
	int dumpable = prctl(PR_GET_DUMPABLE);
	test_ready();
	test_wait();

	uid_t r, e, s;
	gid_t rg, eg, sg, now[16];
	getresuid(&r, &e, &s);
	if (r != 3001 || e != 3002 || s != 0)
		fail("uids are %d/%d/%d, want 3001/3002/0", r, e, s);
	getresgid(&rg, &eg, &sg);
	if (rg != 2001 || eg != 2002 || sg != 2003)
		fail("gids are %d/%d/%d, want 2001/2002/2003", rg, eg, sg);
	if (setfsuid(-1) != 3002 || setfsgid(-1) != 2002)
		fail("fsuid/fsgid are %d/%d, want 3002/2002", setfsuid(-1), setfsgid(-1));
	int n = getgroups(ARRAY_SIZE(now), now);
	if (n != (int)ARRAY_SIZE(groups) || memcmp(now, groups, sizeof(groups)))
		fail("%d supplementary groups (first %d), want 1001 1002 1003", n, n > 0 ? (int)now[0] : -1);
	if (prctl(PR_GET_DUMPABLE) != dumpable)
		fail("dumpable is %d, want %d", prctl(PR_GET_DUMPABLE), dumpable);
	test_done();
}
