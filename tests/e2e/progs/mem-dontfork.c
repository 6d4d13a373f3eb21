/* MADV_DONTFORK: the area keeps its contents but is not inherited by children. */
#include "lib.h"

#include <sys/mman.h>
#include <sys/wait.h>

TEST("a MADV_DONTFORK area is kept but not inherited by new children");

int main(int argc, char **argv)
{
	test_init(argc, argv);
	long pg = sysconf(_SC_PAGESIZE), size = 4 * pg;
	unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || madvise(p, size, MADV_DONTFORK) < 0)
		setup_fail("mmap/madvise: %s", strerror(errno));
	fill_pattern(p, size, 0xdf);
	test_ready();
	test_wait();

	if (has_vma_flag(p, "dc") != 1)
		fail("the area lost its 'dc' (MADV_DONTFORK) flag");
	if (check_pattern(p, size, 0xdf) >= 0)
		fail("the area's contents differ");
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		*(volatile unsigned char *)p;
		_exit(0);
	}
	int status;
	if (pid < 0 || wait_child(pid, &status, 10000) < 0)
		fail("fork/wait: %s", strerror(errno));
	else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV)
		fail("a new child could read the area (status %#x)", status);
	test_done();
}
