/* Capability sets: effective, permitted, inheritable, bounding and ambient. */
#include "lib.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

TEST("capability sets: effective, permitted, inheritable, bounding, ambient",
     .flags = TEST_NEEDS_ROOT);

#define BIT(c) (1u << (c))

static struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
static struct __user_cap_data_struct want[2];
static const char *const fields[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
static char want_status[5][32];

int main(int argc, char **argv)
{
	test_init(argc, argv);
	const int drop[] = { CAP_SYS_BOOT, CAP_MKNOD, CAP_AUDIT_WRITE };
	for (unsigned i = 0; i < ARRAY_SIZE(drop); i++)
		if (prctl(PR_CAPBSET_DROP, drop[i], 0, 0, 0) < 0)
			setup_fail("PR_CAPBSET_DROP: %s", strerror(errno));
	want[0].effective = BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_KILL) | BIT(CAP_FOWNER);
	want[0].permitted = want[0].effective | BIT(CAP_NET_ADMIN) | BIT(CAP_SYS_PTRACE) | BIT(CAP_SETUID);
	want[0].inheritable = BIT(CAP_KILL) | BIT(CAP_NET_RAW);
	want[1].permitted = BIT(CAP_SYSLOG - 32);
	if (syscall(SYS_capset, &hdr, want) < 0)
		setup_fail("capset: %s", strerror(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0) < 0)
		setup_fail("ambient: %s", strerror(errno));
	for (int i = 0; i < 5; i++)
		status_field(0, fields[i], want_status[i], sizeof(want_status[i]));
	test_ready();
	test_wait();

	struct __user_cap_data_struct now[2];
	if (syscall(SYS_capget, &hdr, now) < 0)
		fail("capget: %s", strerror(errno));
	else
		for (int i = 0; i < 2; i++)
			if (memcmp(&now[i], &want[i], sizeof(now[i])))
				fail("caps[%d] eff/prm/inh are %#x/%#x/%#x, want %#x/%#x/%#x", i,
				     now[i].effective, now[i].permitted, now[i].inheritable,
				     want[i].effective, want[i].permitted, want[i].inheritable);
	for (int i = 0; i < 5; i++) {
		char v[32] = "";
		status_field(0, fields[i], v, sizeof(v));
		if (strcmp(v, want_status[i]))
			fail("%s is %s, want %s", fields[i], v, want_status[i]);
	}
	if (prctl(PR_CAPBSET_READ, CAP_MKNOD, 0, 0, 0) != 0)
		fail("CAP_MKNOD is back in the bounding set");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0) != 1)
		fail("CAP_KILL is not ambient any more");
	test_done();
}
