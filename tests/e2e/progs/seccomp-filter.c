/* Two stacked seccomp filters still apply: getppid and getpgid fail with their errnos. */
#include "lib.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

TEST("two stacked seccomp filters returning errnos for getppid and getpgid");

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#elif defined(__powerpc64__)
#define ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define ARCH AUDIT_ARCH_S390X
#endif

#define ERRNO_PPID 1234
#define ERRNO_PGID 1235

static void install(int nr, int err)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { ARRAY_SIZE(code), code };

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		setup_fail("seccomp filter: %s", strerror(errno));
}

static void expect_errno(int nr, const char *name, int err)
{
	errno = 0;
	long r = syscall(nr, 0);
	if (r != -1 || errno != err)
		fail("%s returned %ld errno %d, want errno %d", name, r, errno, err);
}

int main(int argc, char **argv)
{
	char mode[16] = "", filters[16] = "";

	test_init(argc, argv);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		setup_fail("no_new_privs: %s", strerror(errno));
	install(SYS_getppid, ERRNO_PPID);
	install(SYS_getpgid, ERRNO_PGID);
	expect_errno(SYS_getppid, "getppid", ERRNO_PPID);
	if (test_failed())
		setup_fail("the filter does not work");
	test_ready();
	test_wait();

	expect_errno(SYS_getppid, "getppid", ERRNO_PPID);
	expect_errno(SYS_getpgid, "getpgid", ERRNO_PGID);
	if (syscall(SYS_getpid) != getpid())
		fail("getpid is filtered too");
	status_field(0, "Seccomp", mode, sizeof(mode));
	status_field(0, "Seccomp_filters", filters, sizeof(filters));
	if (strcmp(mode, "2"))
		fail("seccomp mode is %s, want 2", mode);
	if (filters[0] && strcmp(filters, "2"))
		fail("%s seccomp filters, want 2", filters);
	test_done();
}
