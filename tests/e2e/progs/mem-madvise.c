/*
 * Anonymous private memory after mprotect/madvise sequences: pages dropped
 * with MADV_DONTNEED read as zeros, a PROT_NONE hole keeps its contents
 * (seen once it is made readable again), a write-only part, MADV_DONTFORK
 * and MADV_WIPEONFORK on parts of one mapping split it, and each part keeps
 * its flags, protections and contents.
 */
#include "lib.h"

#include <setjmp.h>
#include <sys/mman.h>
#include <sys/wait.h>

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif

TEST("anonymous memory after MADV_DONTNEED, PROT_NONE holes, DONTFORK/WIPEONFORK parts");

#define PAGES 12

static long pg;
static unsigned char *p;

static sigjmp_buf jump;
static void on_segv(int sig)
{
	siglongjmp(jump, 1);
}

static int faults(volatile unsigned char *a, int write)
{
	struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_NODEFER }, old;
	int faulted = 0;

	sigaction(SIGSEGV, &sa, &old);
	if (!sigsetjmp(jump, 1)) {
		if (write)
			*a = 1;
		else
			(void)*a;
	} else {
		faulted = 1;
	}
	sigaction(SIGSEGV, &old, NULL);
	return faulted;
}

static int zero(const unsigned char *a, long len)
{
	for (long i = 0; i < len; i++)
		if (a[i])
			return 0;
	return 1;
}

/* page i: what it holds and how it is mapped */
static const char *perms_of(int i)
{
	switch (i) {
	case 4: return "---p";
	case 5: return "-w-p";
	case 6: return "r--p";
	default: return "rw-p";
	}
}

static int dropped(int i)
{
	return i == 2 || i == 3 || i == 9;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	pg = sysconf(_SC_PAGESIZE);
	p = mmap(NULL, PAGES * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		setup_fail("mmap: %s", strerror(errno));
	fill_pattern(p, PAGES * pg, 0xad);
	if (madvise(p + 2 * pg, 2 * pg, MADV_DONTNEED) || madvise(p + 9 * pg, pg, MADV_DONTNEED) ||
	    mprotect(p + 4 * pg, pg, PROT_NONE) || mprotect(p + 5 * pg, pg, PROT_WRITE) ||
	    mprotect(p + 6 * pg, pg, PROT_READ) || madvise(p + 7 * pg, pg, MADV_DONTFORK) ||
	    madvise(p + 8 * pg, 2 * pg, MADV_WIPEONFORK))
		setup_fail("madvise/mprotect: %s", strerror(errno));
	test_ready();
	test_wait();

	for (int i = 0; i < PAGES; i++) {
		char perms[5] = "";
		if (maps_perms(p + i * pg, perms) || strcmp(perms, perms_of(i)))
			fail("page %d is %s, want %s", i, perms, perms_of(i));
	}
	if (!faults(p + 4 * pg, 0))
		fail("reading the PROT_NONE page does not fault");
	if (!faults(p + 6 * pg, 1))
		fail("writing the read-only page does not fault");
	if (has_vma_flag(p + 7 * pg, "dc") != 1 || has_vma_flag(p + 6 * pg, "dc") != 0 ||
	    has_vma_flag(p + 10 * pg, "dc") != 0)
		fail("only page 7 should be MADV_DONTFORK");
	if (has_vma_flag(p + 8 * pg, "wf") != 1 || has_vma_flag(p + 9 * pg, "wf") != 1 ||
	    has_vma_flag(p + 10 * pg, "wf") != 0)
		fail("only pages 8-9 should be MADV_WIPEONFORK");

	/* a child sees page 8 zeroed and page 7 unmapped */
	pid_t kid = fork();
	if (kid == 0) {
		int bad = !zero(p + 8 * pg, pg) || !faults(p + 7 * pg, 0);
		_exit(bad);
	}
	int st;
	if (kid < 0 || wait_child(kid, &st, 10000) || !WIFEXITED(st) || WEXITSTATUS(st))
		fail("a new child does not see WIPEONFORK zeros and DONTFORK holes");

	if (mprotect(p, PAGES * pg, PROT_READ | PROT_WRITE))
		fail("mprotect back: %s", strerror(errno));
	unsigned char *copy = malloc(PAGES * pg);
	fill_pattern(copy, PAGES * pg, 0xad);
	for (int i = 0; i < PAGES; i++) {
		if (dropped(i)) {
			if (!zero(p + i * pg, pg))
				fail("page %d was dropped with MADV_DONTNEED, it is not zero now", i);
		} else {
			if (memcmp(copy + i * pg, p + i * pg, pg))
				fail("page %d (%s) differs", i, perms_of(i));
		}
	}
	test_done();
}
