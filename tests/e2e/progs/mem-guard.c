/* A guard page (PROT_NONE) inside a mapping stays inaccessible. */
#include "lib.h"

#include <setjmp.h>
#include <sys/mman.h>

TEST("a PROT_NONE guard page between two writable ones still faults");

static sigjmp_buf jump;

static void on_segv(int sig)
{
	siglongjmp(jump, 1);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *p = mmap(NULL, 5 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		setup_fail("mmap: %s", strerror(errno));
	for (int i = 0; i < 5; i++)
		fill_pattern(p + i * pg, pg, 0x6a00 + i);
	if (mprotect(p + 2 * pg, pg, PROT_NONE) < 0)
		setup_fail("mprotect: %s", strerror(errno));
	test_ready();
	test_wait();

	for (int i = 0; i < 5; i++) {
		char perms[5];
		const char *want = i == 2 ? "---p" : "rw-p";
		if (maps_perms(p + i * pg, perms) < 0 || strcmp(perms, want))
			fail("page %d is '%s', want %s", i, perms, want);
		if (i != 2 && check_pattern(p + i * pg, pg, 0x6a00 + i) >= 0)
			fail("page %d differs", i);
	}
	struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_NODEFER };
	sigaction(SIGSEGV, &sa, NULL);
	if (!sigsetjmp(jump, 1)) {
		*(volatile unsigned char *)(p + 2 * pg);
		fail("reading the guard page did not fault");
	}
	signal(SIGSEGV, SIG_DFL);
	test_done();
}
