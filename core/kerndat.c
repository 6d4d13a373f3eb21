/*
 * Kernel feature probes.  Each probe tries the real thing on something of
 * our own (our own memory, a child we fork, a socket we open) and records
 * why it failed; none of them touches anything else on the machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/elf.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
#include <linux/sched.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kerndat.h"
#include "kerndat-probes.h"
#include "log.h"
#include "mem-track.h"
#include "pagemap-scan.h"

#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef PTRACE_SEIZE
#define PTRACE_SEIZE 0x4206
#endif
#ifndef PTRACE_INTERRUPT
#define PTRACE_INTERRUPT 0x4207
#endif
#ifndef TCP_REPAIR
#define TCP_REPAIR 19
#endif
#define KCMP_VM_TYPE 1

struct kerndat kdat;

const struct kd_feature_desc kd_features[KD_NR_FEATURES] = {
	[KD_PTRACE_SEIZE] = { "ptrace_seize", "PTRACE_SEIZE and PTRACE_INTERRUPT", "dump",
			      KD_REQUIRED },
	[KD_PTRACE_GETREGSET] = { "ptrace_getregset", "PTRACE_GETREGSET (NT_PRSTATUS)", "dump",
				  KD_REQUIRED },
	[KD_MAP_FILES] = { "map_files", "/proc/PID/map_files", "dump of file mappings",
			   KD_REQUIRED },
	[KD_KCMP] = { "kcmp", "the kcmp() system call", "dump of shared files and memory",
		      KD_REQUIRED },
	[KD_CLONE3_SET_TID] = { "clone3_set_tid", "clone3() with set_tid",
				"restore with the same PIDs (ns_last_pid is the fallback)",
				KD_EXTRA },
	[KD_NS_LAST_PID] = { "ns_last_pid", "writable /proc/sys/kernel/ns_last_pid",
			     "restore with the same PIDs when clone3 set_tid is missing",
			     KD_EXTRA },
	[KD_PROCESS_VM_READV] = { "process_vm_readv", "process_vm_readv()",
				  "dump (reading task memory)", KD_REQUIRED },
	[KD_MEMFD_CREATE] = { "memfd_create", "memfd_create()",
			      "dump and restore (the blobs' shared memory)", KD_REQUIRED },
	[KD_USERFAULTFD] = { "userfaultfd", "userfaultfd()", "lazy pages", KD_EXTRA },
	[KD_UFFD_WP_ASYNC] = { "uffd_wp_async", "userfaultfd asynchronous write-protect",
			       "memory tracking without soft-dirty (--track-mem, pre-dump)",
			       KD_EXTRA },
	[KD_PAGEMAP_SCAN] = { "pagemap_scan", "the PAGEMAP_SCAN ioctl",
			      "fast dump of present pages (pagemap reads are the fallback)",
			      KD_EXTRA },
	[KD_SOFT_DIRTY] = { "mem_dirty_track",
			    "a memory change tracker (soft-dirty, or userfaultfd async write-protect)",
			    "pre-dump and --track-mem", KD_EXTRA },
	[KD_TCP_REPAIR] = { "tcp_repair", "TCP_REPAIR socket option", "--tcp-established",
			    KD_EXTRA },
	[KD_SK_UNIX_DIAG] = { "unix_diag", "sock_diag for unix sockets",
			      "dump of unix sockets", KD_EXTRA },
	[KD_SK_INET_DIAG] = { "inet_diag", "sock_diag for TCP/UDP sockets",
			      "dump of inet sockets", KD_EXTRA },
	[KD_SK_PACKET_DIAG] = { "packet_diag", "sock_diag for packet sockets",
				"dump of packet sockets", KD_EXTRA },
	[KD_SK_NETLINK_DIAG] = { "netlink_diag", "sock_diag for netlink sockets",
				 "dump of netlink sockets", KD_EXTRA },
	[KD_TIME_NS] = { "timens", "time namespaces", "dump and restore of time namespaces",
			 KD_EXTRA },
	[KD_VDSO] = { "vdso", "a vDSO layout criu understands", "restore of the vDSO",
		      KD_REQUIRED },
#define UP(id, n, w) [id] = { n, w, "upstream's feature check", KD_EXTRA }
	UP(KD_MNT_ID, "mnt_id", "mnt_id in /proc/PID/fdinfo"),
	UP(KD_AIO_REMAP, "aio_remap", "mremap of an aio ring"),
	UP(KD_TIMERFD, "timerfd", "timerfd TFD_IOC_SET_TICKS and fdinfo"),
	UP(KD_TUN, "tun", "tun TUNSETIFINDEX"),
	UP(KD_TUN_NS, "tun_ns", "tun TUNGETDEVNETNS"),
	UP(KD_USERNS, "userns", "user namespaces and PR_SET_MM_MAP"),
	UP(KD_FDINFO_LOCK, "fdinfo_lock", "file locks in /proc/PID/fdinfo"),
	UP(KD_SECCOMP_SUSPEND, "seccomp_suspend", "PTRACE_O_SUSPEND_SECCOMP"),
	UP(KD_SECCOMP_FILTERS, "seccomp_filters", "PTRACE_SECCOMP_GET_FILTER"),
	UP(KD_LOGINUID, "loginuid", "a writable /proc/PID/loginuid"),
	UP(KD_CGROUPNS, "cgroupns", "cgroup namespaces"),
	UP(KD_AUTOFS, "autofs", "the autofs filesystem"),
	UP(KD_TCP_HALF_CLOSED, "tcp_half_closed", "TCP_REPAIR of half-closed sockets"),
	UP(KD_COMPAT_CR, "compat_cr", "C/R of 32-bit tasks"),
	UP(KD_UFFD_NONCOOP, "uffd-noncoop", "userfaultfd fork/remap/unmap/remove events"),
	UP(KD_CAN_MAP_VDSO, "can_map_vdso", "mapping a vDSO on request (ARCH_MAP_VDSO)"),
	UP(KD_SK_NS, "sk_ns", "a socket's netns (SIOCGSKNS)"),
	UP(KD_SK_UNIX_FILE, "sk_unix_file", "a unix socket's file (SIOCUNIXFILE)"),
	UP(KD_NET_DIAG_RAW, "net_diag_raw", "sock_diag for raw sockets"),
	UP(KD_NSID, "nsid", "netns ids (RTM_GETNSID)"),
	UP(KD_LINK_NSID, "link_nsid", "IFLA_LINK_NETNSID of links"),
	UP(KD_KCMP_EPOLL, "kcmp_epoll", "kcmp KCMP_EPOLL_TFD"),
	UP(KD_EXTERNAL_NET_NS, "external_net_ns", "entering a netns by its fd"),
	UP(KD_NEWIFINDEX, "newifindex", "IFLA_NEW_IFINDEX when moving links"),
	UP(KD_NFTABLES, "nftables", "nf_tables"),
	UP(KD_IPT_LEGACY, "has_ipt_legacy", "legacy iptables (ip_tables)"),
	UP(KD_PIDFD_STORE, "pidfd_store", "pidfd_open and pidfd_getfd"),
	UP(KD_NS_PID, "ns_pid", "NSpid in /proc/PID/status"),
	UP(KD_APPARMOR_STACKING, "apparmor_stacking", "AppArmor namespace stacking"),
	UP(KD_NETWORK_LOCK_NFTABLES, "network_lock_nftables", "nf_tables for the network lock"),
	UP(KD_SOCKOPT_BUF_LOCK, "sockopt_buf_lock", "SO_BUF_LOCK"),
	UP(KD_MEMFD_HUGETLB, "memfd_hugetlb", "memfd_create(MFD_HUGETLB)"),
	UP(KD_MOVE_MOUNT_SET_GROUP, "move_mount_set_group", "move_mount(MOVE_MOUNT_SET_GROUP)"),
	UP(KD_OPENAT2, "openat2", "openat2()"),
	UP(KD_GET_RSEQ_CONF, "get_rseq_conf", "PTRACE_GET_RSEQ_CONFIGURATION"),
	UP(KD_IPV6_FREEBIND, "ipv6_freebind", "IPV6_FREEBIND"),
	UP(KD_TIMER_CR_IDS, "timer_cr_ids", "posix timers created with given ids"),
	UP(KD_OVERLAYFS_MAPS, "overlayfs_maps", "map_files of overlayfs files"),
	UP(KD_PAGEMAP_SCAN_GUARD, "pagemap_scan_guard_pages", "PAGEMAP_SCAN of guard pages"),
#undef UP
};

/* Other spellings accepted by --feature (those upstream's tooling passes). */
static const struct {
	const char *alias;
	enum kd_feature f;
} aliases[] = {
	{ "uffd", KD_USERFAULTFD },
	{ "soft_dirty", KD_SOFT_DIRTY },    { "time_ns", KD_TIME_NS },
	{ "ptrace", KD_PTRACE_SEIZE },	    { "seize", KD_PTRACE_SEIZE },
};

int kerndat_feature_by_name(const char *name)
{
	for (int i = 0; i < KD_NR_FEATURES; i++)
		if (!strcmp(kd_features[i].name, name))
			return i;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(aliases[i].alias, name))
			return aliases[i].f;
	return -1;
}

void kd_set(enum kd_feature f, bool ok, const char *fmt, ...)
{
	va_list ap;

	kdat.has[f] = ok;
	kdat.why[f][0] = '\0';
	if (ok || !fmt)
		return;
	va_start(ap, fmt);
	vsnprintf(kdat.why[f], sizeof(kdat.why[f]), fmt, ap);
	va_end(ap);
}

/* ---- ptrace ------------------------------------------------------------------ */

/* Waits for pid with a bound: the probes never hang `criu check'. */
int kd_wait_bounded(pid_t pid, int *status, int ms)
{
	for (int i = 0; i < ms; i++) {
		pid_t r = waitpid(pid, status, WNOHANG | __WALL);

		if (r == pid)
			return 0;
		if (r < 0)
			return -errno;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

static void probe_ptrace(void)
{
	int status, err;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		kd_set(KD_PTRACE_SEIZE, false, "fork: %s", strerror(errno));
		kd_set(KD_PTRACE_GETREGSET, false, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}

	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL)) {
		kd_set(KD_PTRACE_SEIZE, false, "PTRACE_SEIZE: %s", strerror(errno));
		kd_set(KD_PTRACE_GETREGSET, false, "needs PTRACE_SEIZE");
		goto out;
	}
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL)) {
		kd_set(KD_PTRACE_SEIZE, false, "PTRACE_INTERRUPT: %s", strerror(errno));
		kd_set(KD_PTRACE_GETREGSET, false, "needs PTRACE_INTERRUPT");
		goto out;
	}
	err = kd_wait_bounded(pid, &status, 2000);
	if (err || !WIFSTOPPED(status) || (status >> 16) != PTRACE_EVENT_STOP) {
		kd_set(KD_PTRACE_SEIZE, false, "no group-stop after PTRACE_INTERRUPT (%s, status %#x)",
		    err ? strerror(-err) : "stopped", status);
		kd_set(KD_PTRACE_GETREGSET, false, "needs PTRACE_INTERRUPT");
		goto out;
	}
	kd_set(KD_PTRACE_SEIZE, true, NULL);

	{
		unsigned long buf[512];
		struct iovec iov = { buf, sizeof(buf) };

		if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov))
			kd_set(KD_PTRACE_GETREGSET, false, "PTRACE_GETREGSET: %s", strerror(errno));
		else
			kd_set(KD_PTRACE_GETREGSET, iov.iov_len > 0, "empty NT_PRSTATUS");
	}
out:
	kill(pid, SIGKILL);
	kd_wait_bounded(pid, &status, 5000);
}

/* ---- /proc and memory ------------------------------------------------------- */

static void probe_map_files(void)
{
	char path[96], target[256];
	unsigned long start, end;
	FILE *f = fopen("/proc/self/maps", "r");
	bool found = false;

	if (!f) {
		kd_set(KD_MAP_FILES, false, "/proc/self/maps: %s", strerror(errno));
		return;
	}
	while (fscanf(f, "%lx-%lx %*[^\n]\n", &start, &end) == 2) {
		found = true;
		break;
	}
	fclose(f);
	if (!found) {
		kd_set(KD_MAP_FILES, false, "no mapping in /proc/self/maps");
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", start, end);
	if (readlink(path, target, sizeof(target)) < 0)
		kd_set(KD_MAP_FILES, false, "%s: %s", path, strerror(errno));
	else
		kd_set(KD_MAP_FILES, true, NULL);
}

static void probe_kcmp(void)
{
	long r = syscall(SYS_kcmp, getpid(), getpid(), KCMP_VM_TYPE, 0, 0);

	if (r < 0)
		kd_set(KD_KCMP, false, "kcmp: %s", strerror(errno));
	else
		kd_set(KD_KCMP, r == 0, "kcmp says a task differs from itself (%ld)", r);
}

static void probe_clone3(void)
{
	/* Asks for our own PID: EEXIST proves set_tid is understood, and no
	 * task can ever be created by this probe. */
	pid_t tid = getpid();
	struct clone_args args;
	long r;

	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	args.set_tid = (uintptr_t)&tid;
	args.set_tid_size = 1;
	r = syscall(SYS_clone3, &args, sizeof(args));
	if (r == 0)
		_exit(0); /* cannot happen: our PID is taken */
	if (r > 0) {
		waitpid(r, NULL, 0);
		kd_set(KD_CLONE3_SET_TID, false, "clone3 ignored set_tid");
	} else if (errno == EEXIST)
		kd_set(KD_CLONE3_SET_TID, true, NULL);
	else if (errno == EPERM)
		kd_set(KD_CLONE3_SET_TID, false,
		    "clone3 set_tid needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN");
	else
		kd_set(KD_CLONE3_SET_TID, false, "clone3 set_tid: %s", strerror(errno));
}

static void probe_ns_last_pid(void)
{
	int fd = open("/proc/sys/kernel/ns_last_pid", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		kd_set(KD_NS_LAST_PID, false, "/proc/sys/kernel/ns_last_pid: %s", strerror(errno));
		return;
	}
	close(fd);
	kd_set(KD_NS_LAST_PID, true, NULL);
}

static void probe_process_vm_readv(void)
{
	static const char src[] = "criu probe";
	char dst[sizeof(src)] = "";
	struct iovec l = { dst, sizeof(dst) }, r = { (void *)src, sizeof(src) };
	ssize_t n = process_vm_readv(getpid(), &l, 1, &r, 1, 0);

	if (n < 0)
		kd_set(KD_PROCESS_VM_READV, false, "process_vm_readv: %s", strerror(errno));
	else
		kd_set(KD_PROCESS_VM_READV, n == sizeof(src) && !memcmp(src, dst, n),
		    "process_vm_readv read wrong data");
}

static void probe_memfd(void)
{
	int fd = (int)syscall(SYS_memfd_create, "criu-probe", MFD_CLOEXEC);

	if (fd < 0) {
		kd_set(KD_MEMFD_CREATE, false, "memfd_create: %s", strerror(errno));
		return;
	}
	close(fd);
	kd_set(KD_MEMFD_CREATE, true, NULL);
}

static int open_uffd(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
#define USERFAULTFD_IOC_NEW_NR _IO(0xAA, 0x00)
		if (dev >= 0) {
			fd = ioctl(dev, USERFAULTFD_IOC_NEW_NR, O_CLOEXEC | O_NONBLOCK);
			close(dev);
		}
	}
	return fd;
}

static void probe_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	int fd = open_uffd();

	if (fd < 0) {
		kd_set(KD_USERFAULTFD, false, "userfaultfd: %s", strerror(errno));
		kd_set(KD_UFFD_WP_ASYNC, false, "no userfaultfd");
		return;
	}
	if (ioctl(fd, UFFDIO_API, &api)) {
		kd_set(KD_USERFAULTFD, false, "UFFDIO_API: %s", strerror(errno));
		kd_set(KD_UFFD_WP_ASYNC, false, "no userfaultfd");
		close(fd);
		return;
	}
	close(fd);
	kdat.uffd_features = api.features;
	kd_set(KD_USERFAULTFD, true, NULL);
	kd_set(KD_UFFD_WP_ASYNC,
	    (api.features & UFFD_FEATURE_WP_ASYNC) && (api.features & UFFD_FEATURE_WP_UNPOPULATED),
	    "userfaultfd features %#llx lack WP_ASYNC/WP_UNPOPULATED",
	    (unsigned long long)api.features);
}

static void probe_pagemap_scan(void)
{
	size_t psz = kdat.page_size;
	struct cr_page_region regs[4];
	struct cr_pm_scan_arg arg;
	char *p;
	long n;
	int fd;

	p = mmap(NULL, 4 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		kd_set(KD_PAGEMAP_SCAN, false, "mmap: %s", strerror(errno));
		return;
	}
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		kd_set(KD_PAGEMAP_SCAN, false, "/proc/self/pagemap: %s", strerror(errno));
		munmap(p, 4 * psz);
		return;
	}
	p[psz] = 1; /* only page 1 of 4 present */
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.start = (uintptr_t)p;
	arg.end = (uintptr_t)p + 4 * psz;
	arg.vec = (uintptr_t)regs;
	arg.vec_len = 4;
	arg.category_mask = CR_PAGE_IS_PRESENT;
	arg.return_mask = CR_PAGE_IS_PRESENT;
	n = ioctl(fd, CR_PAGEMAP_SCAN, &arg);
	if (n < 0)
		kd_set(KD_PAGEMAP_SCAN, false, "PAGEMAP_SCAN: %s", strerror(errno));
	else
		kd_set(KD_PAGEMAP_SCAN,
		    n == 1 && regs[0].start == (uintptr_t)p + psz &&
			    regs[0].end == (uintptr_t)p + 2 * psz,
		    "PAGEMAP_SCAN gave %ld unexpected regions", n);
	close(fd);
	munmap(p, 4 * psz);
}

/* mem_dirty_track: a memory change tracker, whichever (core/mem-track.c). */
static void probe_soft_dirty(void)
{
	const char *why = NULL;
	enum mem_tracker t = mem_track_kind(&why);

	kd_set(KD_SOFT_DIRTY, t != MT_NONE, "%s", why ? why : "no tracker");
}

/* ---- networking ------------------------------------------------------------- */

static void probe_tcp_repair(void)
{
	int one = 1, sk = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (sk < 0) {
		kd_set(KD_TCP_REPAIR, false, "socket: %s", strerror(errno));
		return;
	}
	if (setsockopt(sk, SOL_TCP, TCP_REPAIR, &one, sizeof(one)))
		kd_set(KD_TCP_REPAIR, false, "TCP_REPAIR: %s", strerror(errno));
	else
		kd_set(KD_TCP_REPAIR, true, NULL);
	close(sk);
}

static void diag_result(enum kd_feature f, int err)
{
	if (err == -ENOENT)
		kd_set(f, false, "the kernel has no diag module for this family");
	else
		kd_set(f, err == 0, "sock_diag: %s", strerror(-err));
}

static void probe_sock_diag(enum kd_feature f)
{
	switch (f) {
	case KD_SK_UNIX_DIAG: {
		struct unix_diag_req r = { .sdiag_family = AF_UNIX, .udiag_states = ~0U,
					   .udiag_show = UDIAG_SHOW_NAME };
		diag_result(f, kd_sock_diag_dump(&r, sizeof(r)));
		break;
	}
	case KD_SK_INET_DIAG: {
		struct inet_diag_req_v2 r = { .sdiag_family = AF_INET,
					      .sdiag_protocol = IPPROTO_TCP,
					      .idiag_states = ~0U };
		diag_result(f, kd_sock_diag_dump(&r, sizeof(r)));
		break;
	}
	case KD_SK_PACKET_DIAG: {
		struct packet_diag_req r = { .sdiag_family = AF_PACKET,
					     .pdiag_show = PACKET_SHOW_INFO };
		diag_result(f, kd_sock_diag_dump(&r, sizeof(r)));
		break;
	}
	case KD_SK_NETLINK_DIAG: {
		struct netlink_diag_req r = { .sdiag_family = AF_NETLINK,
					      .sdiag_protocol = NDIAG_PROTO_ALL,
					      .ndiag_show = NDIAG_SHOW_MEMINFO };
		diag_result(f, kd_sock_diag_dump(&r, sizeof(r)));
		break;
	}
	default:
		break;
	}
}

/* ---- namespaces and the vDSO --------------------------------------------- */

static void probe_time_ns(void)
{
	if (access("/proc/self/ns/time", F_OK))
		kd_set(KD_TIME_NS, false, "/proc/self/ns/time: %s", strerror(errno));
	else
		kd_set(KD_TIME_NS, true, NULL);
}

int kerndat_parse_vdso(const char *maps, struct kd_vdso_layout *out)
{
	const char *line = maps;

	memset(out, 0, sizeof(*out));
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		unsigned long s, e;
		char name[64] = "";
		char tmp[512];

		if (len >= sizeof(tmp))
			len = sizeof(tmp) - 1;
		memcpy(tmp, line, len);
		tmp[len] = '\0';
		if (sscanf(tmp, "%lx-%lx %*s %*s %*s %*s %63s", &s, &e, name) >= 2) {
			if (!strcmp(name, "[vdso]")) {
				out->vdso_start = s;
				out->vdso_end = e;
			} else if (!strcmp(name, "[vvar]")) {
				out->vvar_start = s;
				out->vvar_end = e;
			} else if (!strcmp(name, "[vvar_vclock]")) {
				out->vvar_vclock_start = s;
				out->vvar_vclock_end = e;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return out->vdso_start ? 0 : -ENOENT;
}

static void probe_vdso(void)
{
	char *buf = NULL;
	size_t cap = 0, len = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f) {
		kd_set(KD_VDSO, false, "/proc/self/maps: %s", strerror(errno));
		return;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *n = realloc(buf, cap = cap * 2 + 8192);

			if (!n) {
				free(buf);
				fclose(f);
				kd_set(KD_VDSO, false, "out of memory");
				return;
			}
			buf = n;
		}
		size_t r = fread(buf + len, 1, 4096, f);
		if (!r)
			break;
		len += r;
	}
	fclose(f);
	buf[len] = '\0';
	if (kerndat_parse_vdso(buf, &kdat.vdso)) {
		/* A kernel without a vDSO is fine too: nothing to remap. */
		kd_set(KD_VDSO, true, NULL);
	} else {
		const struct kd_vdso_layout *v = &kdat.vdso;

		/* The data pages must sit next to the code: that is how the
		 * restorer finds and moves them as one block. */
		bool ok = (!v->vvar_start || v->vvar_end == v->vdso_start ||
			   v->vvar_start == v->vdso_end || v->vvar_end == v->vvar_vclock_start) &&
			  (!v->vvar_vclock_start || v->vvar_vclock_end == v->vdso_start ||
			   v->vvar_vclock_start == v->vdso_end ||
			   v->vvar_vclock_end == v->vvar_start ||
			   v->vvar_vclock_start == v->vvar_end);
		kd_set(KD_VDSO, ok, "[vvar] and [vdso] are not adjacent (%lx-%lx, %lx-%lx)",
		    v->vvar_start, v->vvar_end, v->vdso_start, v->vdso_end);
		pr_info("vdso %lx-%lx vvar %lx-%lx vvar_vclock %lx-%lx\n", v->vdso_start,
			v->vdso_end, v->vvar_start, v->vvar_end, v->vvar_vclock_start,
			v->vvar_vclock_end);
	}
	free(buf);
}

/* ---- entry points ------------------------------------------------------------ */

void kerndat_probe_one(enum kd_feature f)
{
	if (!kdat.page_size)
		kdat.page_size = (size_t)sysconf(_SC_PAGESIZE);
	switch (f) {
	case KD_PTRACE_SEIZE:
	case KD_PTRACE_GETREGSET:
		probe_ptrace();
		break;
	case KD_MAP_FILES:
		probe_map_files();
		break;
	case KD_KCMP:
		probe_kcmp();
		break;
	case KD_CLONE3_SET_TID:
		probe_clone3();
		break;
	case KD_NS_LAST_PID:
		probe_ns_last_pid();
		break;
	case KD_PROCESS_VM_READV:
		probe_process_vm_readv();
		break;
	case KD_MEMFD_CREATE:
		probe_memfd();
		break;
	case KD_USERFAULTFD:
	case KD_UFFD_WP_ASYNC:
		probe_uffd();
		break;
	case KD_PAGEMAP_SCAN:
		probe_pagemap_scan();
		break;
	case KD_SOFT_DIRTY:
		probe_soft_dirty();
		break;
	case KD_TCP_REPAIR:
		probe_tcp_repair();
		break;
	case KD_SK_UNIX_DIAG:
	case KD_SK_INET_DIAG:
	case KD_SK_PACKET_DIAG:
	case KD_SK_NETLINK_DIAG:
		probe_sock_diag(f);
		break;
	case KD_TIME_NS:
		probe_time_ns();
		break;
	case KD_VDSO:
		probe_vdso();
		break;
	case KD_NR_FEATURES:
		break;
	default:
		kerndat_probe_task(f);
		kerndat_probe_net(f);
		kerndat_probe_ns(f);
		break;
	}
}

int kerndat_has_feature(const char *name)
{
	int f = kerndat_feature_by_name(name);

	if (f < 0)
		return -1;
	kerndat_probe_one(f);
	return kdat.has[f] ? 1 : 0;
}

void kerndat_probe(void)
{
	if (kdat.probed)
		return;
	for (int f = 0; f < KD_NR_CORE_FEATURES; f++) {
		if (f == KD_PTRACE_GETREGSET || f == KD_UFFD_WP_ASYNC)
			continue; /* probed with their partner */
		kerndat_probe_one(f);
	}
	kdat.probed = true;
}
