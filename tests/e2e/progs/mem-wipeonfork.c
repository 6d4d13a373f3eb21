/* MADV_WIPEONFORK: the area keeps its contents; new children see zeros. */
#include "lib.h"

#include <sys/mman.h>
#include <sys/wait.h>

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif

TEST("a MADV_WIPEONFORK area is kept but new children see it zeroed");

int main(int argc, char **argv)
{
	test_init(argc, argv);
	long pg = sysconf(_SC_PAGESIZE), size = 4 * pg;
	unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || madvise(p, size, MADV_WIPEONFORK) < 0)
		setup_fail("mmap/madvise: %s", strerror(errno));
	fill_pattern(p, size, 0x3f);
	test_ready();
	test_wait();

	if (has_vma_flag(p, "wf") != 1)
		fail("the area lost its 'wf' (MADV_WIPEONFORK) flag");
	if (check_pattern(p, size, 0x3f) >= 0)
		fail("the area's contents differ");
	pid_t pid = fork();
	if (pid == 0) {
		for (long i = 0; i < size; i++)
			if (p[i])
				_exit(1);
		_exit(0);
	}
	int status;
	if (pid < 0 || wait_child(pid, &status, 10000) < 0)
		fail("fork/wait: %s", strerror(errno));
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("a new child did not see the area zeroed (status %#x)", status);
	test_done();
}
