/*
 * Kernel feature probes about tasks, files and memory: fdinfo fields,
 * ptrace requests, timerfd ticks, aio rings, pidfds, userfaultfd events,
 * posix timer ids, PAGEMAP_SCAN guard pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kerndat-probes.h"
#include "pagemap-scan.h"

#ifndef PTRACE_O_SUSPEND_SECCOMP
#define PTRACE_O_SUSPEND_SECCOMP (1 << 21)
#endif
#define KD_PTRACE_SECCOMP_GET_FILTER 0x420c
#define KD_PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#define KD_TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#define KD_KCMP_EPOLL_TFD 7
#define KD_PR_TIMER_CREATE_RESTORE_IDS 77
#define KD_PR_TIMER_CREATE_RESTORE_IDS_GET 2
#define KD_MADV_GUARD_INSTALL 102
#define KD_PAGE_IS_GUARD (1ULL << 8)
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

int kd_read_fdinfo(int fd, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -errno;
	n = read(f, buf, size - 1);
	close(f);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

bool kd_in_child(bool (*fn)(char *why, size_t len), char *why, size_t len, int ms)
{
	int p[2], status = 0, err;
	pid_t pid;
	ssize_t n;

	why[0] = '\0';
	if (pipe2(p, O_CLOEXEC)) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		return false;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return false;
	}
	if (pid == 0) {
		char buf[128] = "";
		bool ok;

		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		ok = fn(buf, sizeof(buf));
		if (!ok && write(p[1], buf, strlen(buf)) < 0)
			_exit(2);
		_exit(ok ? 0 : 1);
	}
	close(p[1]);
	err = kd_wait_bounded(pid, &status, ms);
	if (err) {
		kill(pid, SIGKILL);
		kd_wait_bounded(pid, &status, 5000);
		snprintf(why, len, "the probe did not finish (%s)", strerror(-err));
		close(p[0]);
		return false;
	}
	n = read(p[0], why, len - 1);
	why[n > 0 ? n : 0] = '\0';
	close(p[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (!why[0])
		snprintf(why, len, "the probe died (status %#x)", status);
	return false;
}

void kd_probe_in_child(enum kd_feature f, bool (*fn)(char *why, size_t len))
{
	char why[128];

	if (kd_in_child(fn, why, sizeof(why), 5000))
		kd_set(f, true, NULL);
	else
		kd_set(f, false, "%s", why);
}

pid_t kd_seized_child(long options, void (*setup)(void))
{
	struct pollfd pfd;
	int status, err, p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setup)
			setup();
		/* ready: what setup did is in place before the parent looks */
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 2000) != 1 || read(p[0], &c, 1) != 1) {
		close(p[0]);
		kd_end_child(pid);
		return -ETIMEDOUT;
	}
	close(p[0]);
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)options) ||
	    ptrace(PTRACE_INTERRUPT, pid, NULL, NULL)) {
		err = -errno;
		kd_end_child(pid);
		return err;
	}
	err = kd_wait_bounded(pid, &status, 2000);
	if (err || !WIFSTOPPED(status)) {
		kd_end_child(pid);
		return err ? err : -ECHILD;
	}
	return pid;
}

void kd_end_child(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	kd_wait_bounded(pid, &status, 5000);
}

static void probe_fdinfo_field(enum kd_feature f, const char *field)
{
	char buf[4096];
	int fd, err;

	if (f == KD_FDINFO_LOCK) {
		fd = (int)syscall(SYS_memfd_create, "criu-probe", MFD_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX)) {
			kd_set(f, false, "flock: %s", strerror(errno));
			close(fd);
			return;
		}
	} else {
		fd = open("/", O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		kd_set(f, false, "open: %s", strerror(errno));
		return;
	}
	err = kd_read_fdinfo(fd, buf, sizeof(buf));
	close(fd);
	if (err)
		kd_set(f, false, "/proc/self/fdinfo: %s", strerror(-err));
	else
		kd_set(f, strstr(buf, field) != NULL, "/proc/PID/fdinfo has no '%s' line", field);
}

static void probe_timerfd(void)
{
	uint64_t ticks = 1;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	char buf[1024];

	if (fd < 0) {
		kd_set(KD_TIMERFD, false, "timerfd_create: %s", strerror(errno));
		return;
	}
	if (ioctl(fd, KD_TFD_IOC_SET_TICKS, &ticks)) {
		kd_set(KD_TIMERFD, false, "TFD_IOC_SET_TICKS: %s (CONFIG_CHECKPOINT_RESTORE)",
		       strerror(errno));
	} else if (kd_read_fdinfo(fd, buf, sizeof(buf)) || !strstr(buf, "it_value")) {
		kd_set(KD_TIMERFD, false, "/proc/PID/fdinfo of a timerfd has no it_value");
	} else {
		kd_set(KD_TIMERFD, true, NULL);
	}
	close(fd);
}

/* The ring's mapping length, from /proc/self/maps. */
static size_t aio_ring_size(unsigned long ctx)
{
	unsigned long s, e;
	char line[512];
	size_t size = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s == ctx) {
			size = e - s;
			break;
		}
	fclose(f);
	return size;
}

/* An aio ring moved with mremap still works under its new address. */
static bool aio_remap_child(char *why, size_t len)
{
	unsigned long ctx = 0;
	struct timespec zero = { 0, 0 };
	struct {
		uint64_t data, obj;
		int64_t res, res2;
	} ev;
	size_t size;
	void *dst, *moved;

	if (syscall(SYS_io_setup, 1, &ctx)) {
		snprintf(why, len, "io_setup: %s", strerror(errno));
		return false;
	}
	size = aio_ring_size(ctx);
	if (!size) {
		snprintf(why, len, "the aio ring is not in /proc/self/maps");
		return false;
	}
	dst = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED) {
		snprintf(why, len, "mmap: %s", strerror(errno));
		return false;
	}
	moved = mremap((void *)ctx, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (moved == MAP_FAILED) {
		snprintf(why, len, "mremap of the aio ring: %s", strerror(errno));
		return false;
	}
	if (syscall(SYS_io_getevents, (unsigned long)moved, 0, 1, &ev, &zero) < 0) {
		snprintf(why, len, "io_getevents on the moved ring: %s", strerror(errno));
		return false;
	}
	return true;
}

static void probe_seccomp_suspend(void)
{
	pid_t pid = kd_seized_child(PTRACE_O_SUSPEND_SECCOMP, NULL);

	if (pid < 0) {
		kd_set(KD_SECCOMP_SUSPEND, false, "PTRACE_O_SUSPEND_SECCOMP: %s", strerror(-pid));
		return;
	}
	kd_set(KD_SECCOMP_SUSPEND, true, NULL);
	kd_end_child(pid);
}

static void allow_all_filter(void)
{
	struct sock_filter insn = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &insn };

	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

static void probe_seccomp_filters(void)
{
	pid_t pid = kd_seized_child(0, allow_all_filter);
	long n;

	if (pid < 0) {
		kd_set(KD_SECCOMP_FILTERS, false, "ptrace: %s", strerror(-pid));
		return;
	}
	n = ptrace(KD_PTRACE_SECCOMP_GET_FILTER, pid, 0, NULL);
	if (n < 0)
		kd_set(KD_SECCOMP_FILTERS, false, "PTRACE_SECCOMP_GET_FILTER: %s", strerror(errno));
	else
		kd_set(KD_SECCOMP_FILTERS, n == 1, "PTRACE_SECCOMP_GET_FILTER counted %ld", n);
	kd_end_child(pid);
}

static void probe_rseq_conf(void)
{
	struct {
		uint64_t abi_pointer;
		uint32_t abi_size, signature, flags, pad;
	} conf;
	pid_t pid = kd_seized_child(0, NULL);
	long n;

	if (pid < 0) {
		kd_set(KD_GET_RSEQ_CONF, false, "ptrace: %s", strerror(-pid));
		return;
	}
	n = ptrace(KD_PTRACE_GET_RSEQ_CONFIGURATION, pid, (void *)sizeof(conf), &conf);
	if (n < 0)
		kd_set(KD_GET_RSEQ_CONF, false, "PTRACE_GET_RSEQ_CONFIGURATION: %s",
		       strerror(errno));
	else
		kd_set(KD_GET_RSEQ_CONF, n > 0, "PTRACE_GET_RSEQ_CONFIGURATION returned %ld", n);
	kd_end_child(pid);
}

static void probe_pidfd_store(void)
{
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0), fd;

	if (pidfd < 0) {
		kd_set(KD_PIDFD_STORE, false, "pidfd_open: %s", strerror(errno));
		return;
	}
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, pidfd, 0);
	if (fd < 0)
		kd_set(KD_PIDFD_STORE, false, "pidfd_getfd: %s", strerror(errno));
	else
		kd_set(KD_PIDFD_STORE, true, NULL);
	if (fd >= 0)
		close(fd);
	close(pidfd);
}

static void probe_memfd_hugetlb(void)
{
	int fd = (int)syscall(SYS_memfd_create, "criu-probe", MFD_CLOEXEC | MFD_HUGETLB);

	if (fd < 0) {
		kd_set(KD_MEMFD_HUGETLB, false, "memfd_create(MFD_HUGETLB): %s", strerror(errno));
		return;
	}
	close(fd);
	kd_set(KD_MEMFD_HUGETLB, true, NULL);
}

static void probe_uffd_noncoop(void)
{
	const uint64_t want = UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP |
			      UFFD_FEATURE_EVENT_UNMAP | UFFD_FEATURE_EVENT_REMOVE;

	kerndat_probe_one(KD_USERFAULTFD);
	if (!kdat.has[KD_USERFAULTFD])
		kd_set(KD_UFFD_NONCOOP, false, "no userfaultfd: %s", kdat.why[KD_USERFAULTFD]);
	else
		kd_set(KD_UFFD_NONCOOP, (kdat.uffd_features & want) == want,
		       "userfaultfd lacks the fork/remap/unmap/remove events (features %#llx)",
		       (unsigned long long)kdat.uffd_features);
}

static void probe_kcmp_epoll(void)
{
	struct {
		uint32_t efd, tfd, toff;
	} slot;
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC), efd = eventfd(0, EFD_CLOEXEC);
	long r;

	if (ep < 0 || efd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev)) {
		kd_set(KD_KCMP_EPOLL, false, "epoll: %s", strerror(errno));
		goto out;
	}
	slot.efd = (uint32_t)ep;
	slot.tfd = (uint32_t)efd;
	slot.toff = 0;
	r = syscall(SYS_kcmp, getpid(), getpid(), KD_KCMP_EPOLL_TFD, efd, &slot);
	if (r < 0)
		kd_set(KD_KCMP_EPOLL, false, "kcmp(KCMP_EPOLL_TFD): %s", strerror(errno));
	else
		kd_set(KD_KCMP_EPOLL, r == 0, "kcmp(KCMP_EPOLL_TFD) says the target differs");
out:
	if (ep >= 0)
		close(ep);
	if (efd >= 0)
		close(efd);
}

static void probe_timer_cr_ids(void)
{
	int r = prctl(KD_PR_TIMER_CREATE_RESTORE_IDS, KD_PR_TIMER_CREATE_RESTORE_IDS_GET, 0, 0, 0);

	if (r < 0)
		kd_set(KD_TIMER_CR_IDS, false, "prctl(PR_TIMER_CREATE_RESTORE_IDS): %s",
		       strerror(errno));
	else
		kd_set(KD_TIMER_CR_IDS, true, NULL);
}

static void probe_pagemap_scan_guard(void)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	struct cr_page_region regs[4];
	struct cr_pm_scan_arg arg;
	char *p;
	long n;
	int fd;

	p = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		kd_set(KD_PAGEMAP_SCAN_GUARD, false, "mmap: %s", strerror(errno));
		return;
	}
	if (madvise(p, psz, KD_MADV_GUARD_INSTALL)) {
		kd_set(KD_PAGEMAP_SCAN_GUARD, false, "MADV_GUARD_INSTALL: %s", strerror(errno));
		munmap(p, 2 * psz);
		return;
	}
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		kd_set(KD_PAGEMAP_SCAN_GUARD, false, "/proc/self/pagemap: %s", strerror(errno));
		munmap(p, 2 * psz);
		return;
	}
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.start = (uintptr_t)p;
	arg.end = (uintptr_t)p + 2 * psz;
	arg.vec = (uintptr_t)regs;
	arg.vec_len = 4;
	arg.category_mask = KD_PAGE_IS_GUARD;
	arg.return_mask = KD_PAGE_IS_GUARD;
	n = ioctl(fd, CR_PAGEMAP_SCAN, &arg);
	if (n < 0)
		kd_set(KD_PAGEMAP_SCAN_GUARD, false, "PAGEMAP_SCAN with PAGE_IS_GUARD: %s",
		       strerror(errno));
	else
		kd_set(KD_PAGEMAP_SCAN_GUARD,
		       n == 1 && regs[0].start == (uintptr_t)p && regs[0].end == (uintptr_t)p + psz,
		       "PAGEMAP_SCAN did not report the guard page (%ld regions)", n);
	close(fd);
	munmap(p, 2 * psz);
}

static bool can_map_vdso_child(char *why, size_t len)
{
	return arch_kerndat_can_map_vdso(why, len);
}

static bool compat_cr_child(char *why, size_t len)
{
	return arch_kerndat_compat_cr(why, len);
}

static void probe_in_child(enum kd_feature f, bool (*fn)(char *, size_t))
{
	char why[128];

	if (kd_in_child(fn, why, sizeof(why), 5000))
		kd_set(f, true, NULL);
	else
		kd_set(f, false, "%s", why);
}

void kerndat_probe_task(enum kd_feature f)
{
	switch (f) {
	case KD_MNT_ID:
		probe_fdinfo_field(f, "mnt_id:");
		break;
	case KD_FDINFO_LOCK:
		probe_fdinfo_field(f, "lock:");
		break;
	case KD_TIMERFD:
		probe_timerfd();
		break;
	case KD_AIO_REMAP:
		probe_in_child(f, aio_remap_child);
		break;
	case KD_SECCOMP_SUSPEND:
		probe_seccomp_suspend();
		break;
	case KD_SECCOMP_FILTERS:
		probe_seccomp_filters();
		break;
	case KD_GET_RSEQ_CONF:
		probe_rseq_conf();
		break;
	case KD_PIDFD_STORE:
		probe_pidfd_store();
		break;
	case KD_MEMFD_HUGETLB:
		probe_memfd_hugetlb();
		break;
	case KD_UFFD_NONCOOP:
		probe_uffd_noncoop();
		break;
	case KD_KCMP_EPOLL:
		probe_kcmp_epoll();
		break;
	case KD_TIMER_CR_IDS:
		probe_timer_cr_ids();
		break;
	case KD_PAGEMAP_SCAN_GUARD:
		probe_pagemap_scan_guard();
		break;
	case KD_CAN_MAP_VDSO:
		probe_in_child(f, can_map_vdso_child);
		break;
	case KD_COMPAT_CR:
		probe_in_child(f, compat_cr_child);
		break;
	default:
		break;
	}
}
