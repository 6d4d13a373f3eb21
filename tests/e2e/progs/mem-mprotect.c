/* One mapping split by mprotect into read-only, read-write and read-exec parts. */
#include "lib.h"

#include <setjmp.h>
#include <sys/mman.h>

TEST("mprotect'ed parts of a mapping keep their protections and contents");

static const struct {
	int prot;
	const char *perms;
} parts[] = {
	{ PROT_READ, "r--p" },
	{ PROT_READ | PROT_WRITE, "rw-p" },
	{ PROT_READ | PROT_EXEC, "r-xp" },
	{ PROT_READ, "r--p" },
	{ PROT_READ | PROT_WRITE | PROT_EXEC, "rwxp" },
};
#define NR ((int)ARRAY_SIZE(parts))

static sigjmp_buf jump;

static void on_segv(int sig)
{
	siglongjmp(jump, 1);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *p = mmap(NULL, NR * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		setup_fail("mmap: %s", strerror(errno));
	for (int i = 0; i < NR; i++) {
		fill_pattern(p + i * pg, pg, 0x3300 + i);
		if (mprotect(p + i * pg, pg, parts[i].prot) < 0)
			setup_fail("mprotect %s: %s", parts[i].perms, strerror(errno));
	}
	test_ready();
	test_wait();

	for (int i = 0; i < NR; i++) {
		char perms[5];
		if (maps_perms(p + i * pg, perms) < 0 || strcmp(perms, parts[i].perms))
			fail("part %d is '%s', want %s", i, perms, parts[i].perms);
		if (check_pattern(p + i * pg, pg, 0x3300 + i) >= 0)
			fail("part %d (%s) differs", i, parts[i].perms);
	}
	struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_NODEFER };
	sigaction(SIGSEGV, &sa, NULL);
	if (!sigsetjmp(jump, 1)) {
		*(volatile unsigned char *)p = 1;
		fail("writing the read-only part did not fault");
	}
	signal(SIGSEGV, SIG_DFL);
	test_done();
}
