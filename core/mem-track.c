/*
 * The memory change tracker: which pages of a task were written since the
 * last dump, so that pre-dump and dump --track-mem copy only those.
 *
 * Soft-dirty bits where the kernel has them (CONFIG_MEM_SOFT_DIRTY): the
 * bits are cleared through /proc/PID/clear_refs and read in the pagemap.
 *
 * Otherwise userfaultfd write-protect in async mode (Linux 6.7): the
 * kernel resolves a write to a protected page by itself (no fault the task
 * sees) and the page's PTE loses its uffd-wp bit, which PAGEMAP_SCAN
 * reports as PAGE_IS_WRITTEN; PM_SCAN_WP_MATCHING protects the pages again
 * in the same walk.  The userfaultfd has to be made by the task itself (it
 * tracks the address space of whoever creates it): the parasite makes it
 * and registers the task's private anonymous memory, criu takes the
 * descriptor with pidfd_getfd and has the parasite close the task's copy,
 * so the task's descriptor table is as it was.  Registration lasts while
 * the userfaultfd is open, and criu exits between dumps: a small keeper
 * process holds the descriptors until the final dump stops it (or every
 * tracked task has exited).  Closing them unregisters everything: nothing
 * of the tracker is left in the tasks.
 *
 * The keeper answers on an abstract unix socket named after the root task
 * (pid and start time), and remembers the run id of the dump that last
 * re-armed the tracker: the next dump trusts the tracker only when its
 * parent images are that very dump's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "mem-track.h"
#include "pagemap-scan.h"
#include "parasite-ctl.h"
#include "vma.h"

#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#define MT_FEATURES (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)
#define PM_SOFT_DIRTY (1ULL << 55)

/* ---- what the kernel gives ------------------------------------------------- */

static long scan(int pm_fd, unsigned long start, unsigned long end, uint64_t flags, uint64_t mask,
		 struct cr_page_region *vec, size_t n)
{
	struct cr_pm_scan_arg arg;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.start = start;
	arg.end = end;
	arg.vec = (uintptr_t)vec;
	arg.vec_len = n;
	arg.category_mask = mask;
	arg.return_mask = mask;
	return ioctl(pm_fd, CR_PAGEMAP_SCAN, &arg);
}

static bool probe_soft_dirty(const char **why)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t pme = 0;
	bool ok = false;
	char *p = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd;

	if (p == MAP_FAILED)
		return false;
	p[0] = 1; /* a new page is soft-dirty when the kernel tracks it */
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && pread(fd, &pme, sizeof(pme), (off_t)((uintptr_t)p / psz * 8)) == 8)
		ok = pme & PM_SOFT_DIRTY;
	if (fd >= 0)
		close(fd);
	munmap(p, psz);
	if (!ok)
		*why = "no soft-dirty bits (CONFIG_MEM_SOFT_DIRTY)";
	return ok;
}

/*
 * The whole cycle in criu's own memory: register, protect, write one
 * page of four, and PAGEMAP_SCAN must report that page alone as written.
 */
static bool probe_uffd_wp(const char **why)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API, .features = MT_FEATURES };
	struct uffdio_register reg;
	struct cr_page_region r[4];
	char *p;
	int uffd, pm = -1;
	bool ok = false;
	long n;

	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (uffd < 0) {
		*why = "no userfaultfd";
		return false;
	}
	if (ioctl(uffd, UFFDIO_API, &api)) {
		*why = "userfaultfd lacks UFFD_FEATURE_WP_ASYNC and WP_UNPOPULATED (Linux 6.7)";
		close(uffd);
		return false;
	}
	p = mmap(NULL, 4 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		close(uffd);
		*why = "mmap failed";
		return false;
	}
	memset(p, 1, 4 * psz);
	reg.range.start = (uintptr_t)p;
	reg.range.len = 4 * psz;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	*why = "UFFDIO_REGISTER in write-protect mode failed";
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		goto out;
	*why = "no PAGEMAP_SCAN (Linux 6.7)";
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0 || scan(pm, (uintptr_t)p, (uintptr_t)p + 4 * psz, CR_PM_SCAN_WP_MATCHING,
			   CR_PAGE_IS_WRITTEN, NULL, 0) < 0)
		goto out;
	p[2 * psz] = 2;
	n = scan(pm, (uintptr_t)p, (uintptr_t)p + 4 * psz, 0, CR_PAGE_IS_WRITTEN, r, 4);
	ok = n == 1 && r[0].start == (uintptr_t)p + 2 * psz && r[0].end == (uintptr_t)p + 3 * psz;
	*why = ok ? NULL : "PAGEMAP_SCAN does not report the written page";
out:
	if (pm >= 0)
		close(pm);
	munmap(p, 4 * psz);
	close(uffd);
	return ok;
}

enum mem_tracker mem_track_kind(const char **why)
{
	static int kind = -1;
	static const char *reason;
	const char *sd = NULL, *wp = NULL;

	if (kind < 0) {
		if (probe_soft_dirty(&sd))
			kind = MT_SOFT_DIRTY;
		else if (probe_uffd_wp(&wp))
			kind = MT_UFFD_WP;
		else {
			static char buf[256];

			snprintf(buf, sizeof(buf), "%s, and %s", sd, wp);
			reason = buf;
			kind = MT_NONE;
		}
	}
	if (why)
		*why = reason;
	return (enum mem_tracker)kind;
}

const char *mem_track_name(enum mem_tracker t)
{
	switch (t) {
	case MT_SOFT_DIRTY:
		return "soft-dirty bits";
	case MT_UFFD_WP:
		return "userfaultfd async write-protect, read with PAGEMAP_SCAN";
	default:
		return "none";
	}
}

uint64_t mem_track_written_category(enum mem_tracker t)
{
	return t == MT_SOFT_DIRTY ? CR_PAGE_IS_SOFT_DIRTY : CR_PAGE_IS_WRITTEN;
}

int mem_track_clear_soft_dirty(pid_t pid)
{
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "4", 1) != 1) {
		pr_perror("can't clear the soft-dirty bits of %d", pid);
		ret = -errno;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ---- the keeper's protocol ---------------------------------------------------- */

#define MT_MAX 64   /* tasks per tree the tracker follows */
#define MT_RUN 40

enum { MT_OP_HELLO = 1, MT_OP_STATE, MT_OP_ADD, MT_OP_ARMED, MT_OP_QUIT, MT_OP_OK };

struct mt_msg {
	uint32_t op;
	uint32_t n;
	char run[MT_RUN];
	int32_t pid[MT_MAX];
};

struct mt_task {
	pid_t pid;
	int uffd, pidfd;
};

struct mem_track {
	enum mem_tracker kind;
	struct sockaddr_un addr;
	socklen_t addr_len;
	int sk; /* to the keeper; -1: there is none */
	char run[MT_RUN];
	pid_t kept[MT_MAX];
	int nkept;
	struct mt_task fresh[MT_MAX]; /* armed by this dump */
	int nfresh;
};

static int send_msg(int sk, const struct mt_msg *m, const int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 2 * MT_MAX)];
	struct iovec iov = { (void *)m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(sk, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(*m) ? 0 : -1;
}

/* A message and the descriptors it carries (*nfds in: room, out: got). */
static int recv_msg(int sk, struct mt_msg *m, int *fds, int *nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 2 * MT_MAX)];
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	int room = nfds ? *nfds : 0, got = 0;
	ssize_t n = recvmsg(sk, &mh, MSG_CMSG_CLOEXEC);

	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n > 0 && c; c = CMSG_NXTHDR(&mh, c)) {
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int *in = (int *)CMSG_DATA(c);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (int i = 0; i < k; i++) {
			if (got < room)
				fds[got++] = in[i];
			else
				close(in[i]);
		}
	}
	if (nfds)
		*nfds = got;
	if (n != (ssize_t)sizeof(*m) || m->n > MT_MAX) {
		for (int i = 0; i < got; i++)
			close(fds[i]);
		return -1;
	}
	return 0;
}

static int sock_name(pid_t root, struct sockaddr_un *a, socklen_t *len)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* field 22, the start time; p is at field 2's end */
	for (i = 2; p && i < 21; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return -EIO;
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "criu-mem-track-%d-%llu", root,
		     start);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	return 0;
}

/* ---- the keeper ------------------------------------------------------------- */

static void keeper_drop(struct mt_task *t, int *n, int i)
{
	close(t[i].uffd);
	close(t[i].pidfd);
	t[i] = t[--*n];
}

static void keeper_serve(int c, struct mt_task *t, int *n, char *run)
{
	struct timeval tv = { 10, 0 };
	struct mt_msg m, r;

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		int fds[2 * MT_MAX], nfds = 2 * MT_MAX;

		if (recv_msg(c, &m, fds, &nfds))
			return;
		memset(&r, 0, sizeof(r));
		r.op = MT_OP_OK;
		switch (m.op) {
		case MT_OP_HELLO:
			r.op = MT_OP_STATE;
			memcpy(r.run, run, MT_RUN);
			for (int i = 0; i < *n; i++)
				r.pid[r.n++] = t[i].pid;
			break;
		case MT_OP_ADD:
			for (uint32_t i = 0; i < m.n && 2 * (int)i + 1 < nfds; i++) {
				if (*n < MT_MAX) {
					t[*n] = (struct mt_task){ m.pid[i], fds[2 * i], fds[2 * i + 1] };
					(*n)++;
				} else {
					close(fds[2 * i]);
					close(fds[2 * i + 1]);
				}
			}
			break;
		case MT_OP_ARMED:
			memcpy(run, m.run, MT_RUN);
			run[MT_RUN - 1] = '\0';
			break;
		case MT_OP_QUIT:
			while (*n)
				keeper_drop(t, n, 0);
			send_msg(c, &r, NULL, 0);
			_exit(0);
		default:
			return;
		}
		if (send_msg(c, &r, NULL, 0))
			return;
	}
}

static void __attribute__((noreturn)) keeper_main(int lsk, struct mt_task *t, int n, char *run)
{
	struct pollfd pfd[MT_MAX + 1];

	for (;;) {
		pfd[0] = (struct pollfd){ lsk, POLLIN, 0 };
		for (int i = 0; i < n; i++)
			pfd[i + 1] = (struct pollfd){ t[i].pidfd, POLLIN, 0 };
		if (poll(pfd, (nfds_t)n + 1, -1) < 0)
			continue;
		/* a task that exited takes its tracker with it */
		for (int i = n; i-- > 0;)
			if (pfd[i + 1].revents)
				keeper_drop(t, &n, i);
		if (!n)
			_exit(0);
		if (pfd[0].revents & POLLIN) {
			int c = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0) {
				keeper_serve(c, t, &n, run);
				close(c);
			}
		}
	}
}

static bool kept_fd(int fd, int lsk, const struct mt_task *t, int n)
{
	if (fd == lsk)
		return true;
	for (int i = 0; i < n; i++)
		if (fd == t[i].uffd || fd == t[i].pidfd)
			return true;
	return false;
}

/* Forks the keeper (a grandchild, in a session of its own) with lsk and the trackers. */
static int start_keeper(int lsk, struct mt_task *t, int n, const char *run_id)
{
	pid_t child = fork();
	int st;

	if (child < 0)
		return -errno;
	if (child == 0) {
		char run[MT_RUN];
		DIR *d;
		int null = open("/dev/null", O_RDWR);

		setsid();
		if (fork())
			_exit(0);
		snprintf(run, sizeof(run), "%s", run_id);
		signal(SIGPIPE, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		prctl(PR_SET_NAME, "criu-mem-track");
		if (chdir("/"))
			_exit(1);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		/* nothing of criu's but the trackers and the socket */
		d = opendir("/proc/self/fd");
		if (d) {
			struct dirent *e;
			int dfd = dirfd(d);

			while ((e = readdir(d))) {
				int fd = atoi(e->d_name);

				if (e->d_name[0] != '.' && fd > 2 && fd != dfd &&
				    !kept_fd(fd, lsk, t, n))
					close(fd);
			}
			closedir(d);
		}
		keeper_main(lsk, t, n, run);
	}
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* ---- one dump's view ------------------------------------------------------------ */

static int keeper_call(struct mem_track *mt, struct mt_msg *m, const int *fds, int nfds)
{
	if (send_msg(mt->sk, m, fds, nfds) || recv_msg(mt->sk, m, NULL, NULL)) {
		pr_perror("the memory tracker's keeper does not answer");
		return -EIO;
	}
	return 0;
}

int mem_track_begin(pid_t root, struct mem_track **out)
{
	struct mem_track *mt = calloc(1, sizeof(*mt));
	struct timeval tv = { 10, 0 };
	struct mt_msg m = { .op = MT_OP_HELLO };

	if (!mt)
		return -ENOMEM;
	mt->sk = -1;
	mt->kind = mem_track_kind(NULL);
	*out = mt;
	if (mt->kind != MT_UFFD_WP || sock_name(root, &mt->addr, &mt->addr_len))
		return 0;
	mt->sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (mt->sk < 0)
		return -errno;
	setsockopt(mt->sk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(mt->sk, (struct sockaddr *)&mt->addr, mt->addr_len)) {
		close(mt->sk);
		mt->sk = -1;
		return 0; /* no tracker yet */
	}
	if (keeper_call(mt, &m, NULL, 0) || m.op != MT_OP_STATE)
		return -EIO;
	memcpy(mt->run, m.run, MT_RUN);
	mt->run[MT_RUN - 1] = '\0';
	for (uint32_t i = 0; i < m.n; i++)
		mt->kept[mt->nkept++] = m.pid[i];
	pr_info("memory tracker: %d tasks tracked since the dump %s\n", mt->nkept, mt->run);
	return 0;
}

static bool is_kept(const struct mem_track *mt, pid_t pid)
{
	for (int i = 0; i < mt->nkept; i++)
		if (mt->kept[i] == pid)
			return true;
	return false;
}

bool mem_track_valid(struct mem_track *mt, pid_t pid, const char *parent_run)
{
	if (!mt || !parent_run)
		return false;
	if (mt->kind == MT_SOFT_DIRTY)
		return true; /* bits the kernel keeps: at worst too many are set */
	return mt->kind == MT_UFFD_WP && is_kept(mt, pid) && !strcmp(mt->run, parent_run);
}

bool mem_track_armed(struct mem_track *mt, pid_t pid)
{
	if (!mt)
		return false;
	if (mt->kind == MT_SOFT_DIRTY)
		return true;
	if (is_kept(mt, pid))
		return true;
	for (int i = 0; i < mt->nfresh; i++)
		if (mt->fresh[i].pid == pid)
			return true;
	return false;
}

/* Private anonymous memory: what userfaultfd write-protects. */
static bool trackable(const VmaEntry *e)
{
	return (e->status & VMA_ANON_PRIVATE) && !(e->status & (VMA_ANON_SHARED | VMA_KERNEL_AREA)) &&
	       (e->flags & MAP_ANONYMOUS);
}

static int take_task_fd(pid_t pid, int fd, int *pidfd)
{
	int local;

	*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (*pidfd < 0) {
		pr_perror("pidfd_open(%d)", pid);
		return -errno;
	}
	local = (int)syscall(SYS_pidfd_getfd, *pidfd, fd, 0);
	if (local < 0) {
		pr_perror("can't take the userfaultfd %d of pid %d", fd, pid);
		close(*pidfd);
		*pidfd = -1;
		return -errno;
	}
	fcntl(local, F_SETFD, FD_CLOEXEC);
	fcntl(*pidfd, F_SETFD, FD_CLOEXEC);
	return local;
}

int mem_track_arm(struct mem_track *mt, struct parasite_ctl *ctl, pid_t pid, const MmEntry *mm)
{
	struct parasite_memtrack_args *a;
	struct parasite_close_fd_args c = { 0 };
	size_t nr = 0, size;
	long fd = -1, r = 0;
	int uffd, pidfd, ret;

	if (!mt || mt->kind != MT_UFFD_WP || mem_track_armed(mt, pid))
		return 0;
	if (!ctl || mt->nfresh + mt->nkept >= MT_MAX) {
		pr_warn("pid %d: no memory tracker (%s): its pages are all copied next time\n", pid,
			ctl ? "too many tasks" : "no parasite");
		return 0;
	}
	for (size_t i = 0; i < mm->n_vmas; i++)
		nr += trackable(mm->vmas[i]);
	size = sizeof(*a) + nr * sizeof(a->range[0]);
	a = calloc(1, size);
	if (!a)
		return -ENOMEM;
	a->api_ioctl = UFFDIO_API;
	a->register_ioctl = UFFDIO_REGISTER;
	a->features = MT_FEATURES;
	a->flags = O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY;
	for (size_t i = 0; i < mm->n_vmas; i++)
		if (trackable(mm->vmas[i])) {
			a->range[a->nr].base = mm->vmas[i]->start;
			a->range[a->nr].len = mm->vmas[i]->end - mm->vmas[i]->start;
			a->nr++;
		}
	ret = parasite_run(ctl, PARASITE_CMD_MEMTRACK_ARM, a, size, &fd);
	if (!ret && fd < 0) {
		/* e.g. a seccomp filter of the task's: it is dumped whole each time */
		if (a->failed < a->nr)
			pr_warn("pid %d: can't write-protect %llx-%llx with userfaultfd (%s): no "
				"memory tracker, its pages are all copied next time\n",
				pid, (unsigned long long)a->range[a->failed].base,
				(unsigned long long)(a->range[a->failed].base + a->range[a->failed].len),
				strerror((int)-fd));
		else
			pr_warn("pid %d: no userfaultfd in the task (%s): no memory tracker, its "
				"pages are all copied next time\n",
				pid, strerror((int)-fd));
		free(a);
		return 0;
	}
	free(a);
	if (ret)
		return ret;
	uffd = take_task_fd(pid, (int)fd, &pidfd);
	c.fd = (int32_t)fd;
	ret = parasite_run(ctl, PARASITE_CMD_CLOSE_FD, &c, sizeof(c), &r);
	if (!ret && r < 0)
		ret = (int)r;
	if (uffd < 0 || ret) {
		if (uffd >= 0) {
			close(uffd);
			close(pidfd);
		}
		pr_err("pid %d: can't move the memory tracker out of the task\n", pid);
		return uffd < 0 ? uffd : ret;
	}
	mt->fresh[mt->nfresh++] = (struct mt_task){ pid, uffd, pidfd };
	pr_info("pid %d: memory tracker armed on %zu mappings\n", pid, nr);
	return 0;
}

static void close_fresh(struct mem_track *mt)
{
	for (int i = 0; i < mt->nfresh; i++) {
		close(mt->fresh[i].uffd);
		close(mt->fresh[i].pidfd);
	}
	mt->nfresh = 0;
}

static int keep_tracker(struct mem_track *mt, const char *run_id)
{
	struct mt_msg m = { .op = MT_OP_ADD };
	int fds[2 * MT_MAX], lsk, ret;

	if (mt->sk < 0) {
		if (!mt->nfresh)
			return 0;
		/* the first: a keeper of its own */
		lsk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (lsk < 0 || bind(lsk, (struct sockaddr *)&mt->addr, mt->addr_len) ||
		    listen(lsk, 4)) {
			pr_perror("can't make the memory tracker's socket");
			if (lsk >= 0)
				close(lsk);
			return -EIO;
		}
		ret = start_keeper(lsk, mt->fresh, mt->nfresh, run_id);
		close(lsk);
		return ret;
	}
	for (int i = 0; i < mt->nfresh; i++) {
		m.pid[m.n++] = mt->fresh[i].pid;
		fds[2 * i] = mt->fresh[i].uffd;
		fds[2 * i + 1] = mt->fresh[i].pidfd;
	}
	if (m.n && keeper_call(mt, &m, fds, 2 * mt->nfresh))
		return -EIO;
	memset(&m, 0, sizeof(m));
	m.op = MT_OP_ARMED;
	snprintf(m.run, sizeof(m.run), "%s", run_id);
	return keeper_call(mt, &m, NULL, 0);
}

int mem_track_end(struct mem_track *mt, bool keep, const char *run_id)
{
	struct mt_msg m = { .op = MT_OP_QUIT };
	int ret = 0;

	if (!mt)
		return 0;
	if (keep)
		ret = keep_tracker(mt, run_id);
	else if (mt->sk >= 0)
		ret = keeper_call(mt, &m, NULL, 0);
	close_fresh(mt);
	if (mt->sk >= 0)
		close(mt->sk);
	free(mt);
	return ret;
}
