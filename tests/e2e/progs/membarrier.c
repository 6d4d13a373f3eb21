/*
 * membarrier registrations of the address space (private expedited, its
 * sync-core and rseq flavours, global expedited) come back: the expedited
 * commands work after restore, and GET_REGISTRATIONS reports the same set.
 */
#include "lib.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>


#define CMD_GET_REGISTRATIONS (1 << 9)

static int membarrier(int cmd, unsigned flags)
{
	return (int)syscall(__NR_membarrier, cmd, flags, 0);
}

static const struct {
	int reg, use;
	const char *name;
} kinds[] = {
	{ MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, MEMBARRIER_CMD_PRIVATE_EXPEDITED, "private expedited" },
	{ MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
	  "sync core" },
	{ MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, "rseq" },
	{ MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, MEMBARRIER_CMD_GLOBAL_EXPEDITED, "global expedited" },
};

static const char *no_membarrier(void)
{
	int q = membarrier(MEMBARRIER_CMD_QUERY, 0);
	if (q < 0 || !(q & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED))
		return "the kernel has no private expedited membarrier";
	return NULL;
}

TEST("membarrier registrations survive: the expedited commands still work", .skip = no_membarrier);

int main(int argc, char **argv)
{
	int registered = 0;

	test_init(argc, argv);
	int q = membarrier(MEMBARRIER_CMD_QUERY, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (!(q & kinds[i].reg))
			continue;
		if (membarrier(kinds[i].reg, 0) < 0)
			setup_fail("register %s: %s", kinds[i].name, strerror(errno));
		registered |= kinds[i].reg;
	}
	int regs = membarrier(CMD_GET_REGISTRATIONS, 0);
	test_ready();
	test_wait();

	for (unsigned i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (!(registered & kinds[i].reg))
			continue;
		if (membarrier(kinds[i].use, 0) < 0)
			fail("%s membarrier: %s (not registered any more?)", kinds[i].name, strerror(errno));
	}
	if (regs >= 0 && membarrier(CMD_GET_REGISTRATIONS, 0) != regs)
		fail("GET_REGISTRATIONS is %#x, want %#x", membarrier(CMD_GET_REGISTRATIONS, 0), regs);
	test_done();
}
