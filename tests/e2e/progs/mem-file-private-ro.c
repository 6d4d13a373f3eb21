/*
 * A MAP_PRIVATE file mapping written and then mprotect'ed read-only (or
 * PROT_NONE and back): the written pages keep what we wrote, the others
 * the file's contents; a written page dropped with MADV_DONTNEED shows the
 * file again; a written page made PROT_NONE keeps what we wrote; the
 * protections are as we left them.
 */
#include "lib.h"

#include <fcntl.h>
#include <setjmp.h>
#include <sys/mman.h>

TEST("private file mapping written, then read-only; a DONTNEED'ed page shows the file again");

#define PAGES 8

static long pg;
static sigjmp_buf jump;
static void on_segv(int sig)
{
	siglongjmp(jump, 1);
}

static int written(int i)
{
	return i == 1 || i == 3 || i == 6;
}

/* 5: never written, 6: written, both then PROT_NONE */
static const char *perms_of(int i)
{
	return i == 5 || i == 6 ? "---p" : i >= 4 ? "rw-p" : "r--p";
}

int main(int argc, char **argv)
{
	const char *path = "mapped-private-ro.dat"; /* in the test's own directory */

	test_init(argc, argv);
	pg = sysconf(_SC_PAGESIZE);
	unsigned char *file = malloc(PAGES * pg);
	fill_pattern(file, PAGES * pg, 0xf11e);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, file, PAGES * pg) != PAGES * pg)
		setup_fail("write %s: %s", path, strerror(errno));
	unsigned char *p = mmap(NULL, PAGES * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		setup_fail("mmap: %s", strerror(errno));
	close(fd);
	for (int i = 0; i < PAGES; i++)
		if (written(i) || i == 2)
			fill_pattern(p + i * pg, pg, 0x1000 + i);
	/* page 2 was written, then dropped: the file's again */
	if (madvise(p + 2 * pg, pg, MADV_DONTNEED) || mprotect(p, 4 * pg, PROT_READ) ||
	    mprotect(p + 5 * pg, 2 * pg, PROT_NONE))
		setup_fail("madvise/mprotect: %s", strerror(errno));
	test_ready();
	test_wait();

	for (int i = 0; i < PAGES; i++) {
		char perms[5] = "";
		if (maps_perms(p + i * pg, perms) || strcmp(perms, perms_of(i)))
			fail("page %d is %s, want %s", i, perms, perms_of(i));
	}
	struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_NODEFER };
	sigaction(SIGSEGV, &sa, NULL);
	if (!sigsetjmp(jump, 1)) {
		*(volatile unsigned char *)(p + pg) = 1;
		fail("writing the read-only part did not fault");
	}
	if (!sigsetjmp(jump, 1)) {
		(void)*(volatile unsigned char *)(p + 5 * pg);
		fail("reading the PROT_NONE page did not fault");
	}
	signal(SIGSEGV, SIG_DFL);
	if (mprotect(p + 5 * pg, 2 * pg, PROT_READ))
		fail("mprotect: %s", strerror(errno));
	for (int i = 0; i < PAGES; i++) {
		long bad = written(i) ? check_pattern(p + i * pg, pg, 0x1000 + i)
				      : memcmp(p + i * pg, file + i * pg, pg) ? 0 : -1;
		if (bad >= 0)
			fail("page %d differs (%s)", i, written(i) ? "ours" : "the file's");
	}
	/* private: the file itself never saw our writes */
	fd = open(path, O_RDONLY);
	unsigned char *now = malloc(PAGES * pg);
	if (fd < 0 || read(fd, now, PAGES * pg) != PAGES * pg || memcmp(now, file, PAGES * pg))
		fail("the file changed");
	close(fd);
	test_done();
}
