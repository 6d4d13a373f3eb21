/*
 * pidfd: a process of the tree, or one that has exited and been reaped
 * (fdinfo's Pid: -1).
 *
 * A live one is pidfd_open()ed again in its holder once the process it
 * names is back (the holder's own children are forked before its fds are
 * opened; any other task of the tree is waited for a bounded moment).  A
 * dead one needs a struct pid whose task is gone: criu forks a stand-in
 * process while it reads the images, takes a pidfd of it, lets it exit
 * and reaps it (it ends as the dumped process did, when PIDFD_GET_INFO
 * told dump how); every task inherits that pidfd from criu and the holder
 * takes its copy.  Each description of a dead process gets a stand-in of
 * its own, so two pidfds that named one dead process name two after
 * restore (they differ only in their pidfs inode).  A pidfd of a process
 * outside the tree, of another pid namespace, or of one thread of a
 * process (PIDFD_THREAD; threads come back after the fds) is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdkind.h"
#include "log.h"
#include "options.h"
#include "proc.h"
#include "proto/pidfd.pb-c.h"

#define PIDFD_NONBLOCK_FLAG O_NONBLOCK /* PIDFD_NONBLOCK */
#define PIDFD_THREAD_FLAG O_EXCL       /* PIDFD_THREAD */
/* how long a holder waits for the task its pidfd names to be forked */
#define TARGET_WAIT_MS 10000

/* PIDFD_GET_INFO (Linux 6.13; the exit status from 6.15): its first 64 bytes */
struct pidfd_info_v0 {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
};
#define PIDFD_GET_INFO_V0 _IOWR(0xFF, 11, struct pidfd_info_v0)
#define PIDFD_INFO_EXIT_BIT (1ULL << 3)

extern const struct fd_kind pidfd_kind;

/* ---- the fdinfo ---------------------------------------------------------------- */

/* "Pid:" and the last (innermost) number of "NSpid:"; -EINVAL when missing */
int pidfd_parse_fdinfo(const char *fdinfo, int *pid, int *nspid);

int pidfd_parse_fdinfo(const char *fdinfo, int *pid, int *nspid)
{
	const char *p = strstr(fdinfo, "\nPid:");
	char *end;
	long v;

	if (!strncmp(fdinfo, "Pid:", 4))
		p = fdinfo;
	else if (p)
		p++;
	if (!p)
		return -EINVAL;
	errno = 0;
	v = strtol(p + 4, &end, 10);
	if (errno || end == p + 4 || v < -1 || v > INT32_MAX)
		return -EINVAL;
	*pid = (int)v;
	*nspid = (int)v;
	p = strstr(fdinfo, "\nNSpid:");
	if (p) {
		const char *s = p + 7;

		for (;;) {
			errno = 0;
			v = strtol(s, &end, 10);
			if (end == s)
				break;
			if (errno || v < -1 || v > INT32_MAX)
				return -EINVAL;
			*nspid = (int)v;
			s = end;
			if (*s == '\n' || !*s)
				break;
		}
	}
	return 0;
}

/* ---- dump ---------------------------------------------------------------------- */

struct pidfd_dump {
	struct pidfd_dump *next;
	PidfdEntry e;
	PidfsAttrEntry attr;
};

static struct pidfd_dump *dumped;

static bool pidfd_match(const struct fd_parms *p)
{
	return !strcmp(p->link, "anon_inode:[pidfd]");
}

static pid_t tgid_of(pid_t tid)
{
	char path[64], *text, *t;
	pid_t tgid = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	text = proc_read_file(path, NULL);
	if (text && (t = strstr(text, "\nTgid:")))
		tgid = (pid_t)strtol(t + 6, NULL, 10);
	free(text);
	return tgid;
}

/* whether pid is the dump's root or below it */
static bool in_tree(pid_t pid)
{
	for (int depth = 0; pid > 1 && depth < 4096; depth++) {
		struct proc_stat st;

		if (pid == opts.pid)
			return true;
		if (proc_read_stat(pid, 0, &st))
			return false;
		pid = st.ppid;
	}
	return false;
}

static int pidfd_check(const struct fd_parms *p, const char *who)
{
	int pid, nspid, ret = pidfd_parse_fdinfo(p->fdinfo, &pid, &nspid);
	pid_t tgid;

	if (ret) {
		pr_err("%s: fd %d is a pidfd whose /proc/%d/fdinfo/%d has no Pid: line\n", who, p->fd,
		       p->pid, p->fd);
		return ret;
	}
	if (pid == -1)
		return 0;
	if (pid == 0) {
		pr_err("%s: fd %d is a pidfd of a process of another pid namespace (/proc/%d/fd/%d): "
		       "pid namespaces are not dumped yet\n",
		       who, p->fd, p->pid, p->fd);
		return -EOPNOTSUPP;
	}
	tgid = tgid_of(pid);
	if (tgid > 0 && tgid != pid) {
		pr_err("%s: fd %d is a pidfd of thread %d of pid %d (/proc/%d/fd/%d): pidfds of "
		       "threads are not dumped yet\n",
		       who, p->fd, pid, tgid, p->pid, p->fd);
		return -EOPNOTSUPP;
	}
	if (!in_tree(pid)) {
		pr_err("%s: fd %d is a pidfd of pid %d, which is not in the dumped tree "
		       "(/proc/%d/fd/%d): restore could not give it that process\n",
		       who, p->fd, pid, p->pid, p->fd);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int pidfd_dump(struct dump_file *f, const struct fd_parms *p)
{
	struct pidfd_dump *d = calloc(1, sizeof(*d));
	int pid, nspid, ret;

	if (!d)
		return -ENOMEM;
	d->next = dumped;
	dumped = d;
	pidfd_entry__init(&d->e);
	ret = pidfd_parse_fdinfo(p->fdinfo, &pid, &nspid);
	if (ret) {
		pr_err("fd %d of pid %d: its pidfd's fdinfo has no Pid: line\n", p->fd, p->pid);
		return ret;
	}
	d->e.id = f->id;
	d->e.ino = (uint64_t)p->st.st_ino;
	d->e.flags = p->flags;
	d->e.nspid = pid == -1 ? -1 : nspid;
	d->e.fown = p->fown;
	if (pid == -1 && p->tfd >= 0) {
		struct pidfd_info_v0 info = { .mask = PIDFD_INFO_EXIT_BIT };

		/* how it ended, where the kernel tells (the stand-in ends so) */
		if (!ioctl(p->tfd, PIDFD_GET_INFO_V0, &info) && (info.mask & PIDFD_INFO_EXIT_BIT)) {
			pidfs_attr_entry__init(&d->attr);
			d->attr.has_exit_code = true;
			d->attr.exit_code = info.exit_code;
			d->e.attr = &d->attr;
		}
	}
	f->fe.pidfd = &d->e;
	f->priv = d;
	pr_info("fd %d of pid %d: pidfd of %s %d\n", p->fd, p->pid, pid == -1 ? "a dead process" : "pid",
		pid);
	return 0;
}

static void pidfd_dump_fini(void)
{
	while (dumped) {
		struct pidfd_dump *d = dumped;

		dumped = d->next;
		free(d);
	}
}

/* ---- restore ------------------------------------------------------------------- */

/* the pidfds of dead processes, made by criu while it reads the images */
struct dead_pidfd {
	uint32_t id; /* the file's */
	int fd;
};

struct pidfd_state {
	struct dead_pidfd *dead;
	size_t n, cap;
};

/* how the stand-in ends: as the dumped process did (a wait status) */
static _Noreturn void stand_in_exit(int status)
{
	if (WIFSIGNALED(status)) {
		struct rlimit none = { 0, 0 };

		prctl(PR_SET_DUMPABLE, 0);
		setrlimit(RLIMIT_CORE, &none);
		signal(WTERMSIG(status), SIG_DFL);
		kill(getpid(), WTERMSIG(status));
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 0);
}

/*
 * A pidfd whose process has exited and been reaped: of a child that waits
 * on a pipe, so that it is surely alive when pidfd_open names it, then
 * exits (as the wait status how says) when the pipe closes and is reaped
 * here.
 */
static int dead_pidfd(unsigned int flags, int how)
{
	int p[2], fd, status;
	pid_t kid;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	kid = fork();
	if (kid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (kid == 0) {
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		stand_in_exit(how);
	}
	close(p[0]);
	fd = (int)syscall(SYS_pidfd_open, kid, flags);
	if (fd < 0)
		fd = -errno;
	close(p[1]);
	while (waitpid(kid, &status, 0) < 0 && errno == EINTR)
		;
	return fd;
}

static int pidfd_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	const PidfdEntry *e = fe->pidfd;
	struct pidfd_state **sp = (struct pidfd_state **)rc_kind_state(rc, &pidfd_kind), *s;
	int fd;

	if (!e || !e->fown) {
		pr_err("files.img: file %u is a pidfd without its pidfd entry\n", fe->id);
		return -EINVAL;
	}
	if (e->flags & PIDFD_THREAD_FLAG) {
		pr_err("files.img: pidfd %u is of one thread (PIDFD_THREAD): not restored\n", fe->id);
		return -EINVAL;
	}
	if (e->nspid >= 0) {
		for (int i = 0; i < rc_nr_tasks(rc); i++)
			if (rc_task_pid(rc, i) == (uint32_t)e->nspid)
				return 0;
		pr_err("files.img: pidfd %u refers to pid %d, which is not in the tree\n", fe->id,
		       e->nspid);
		return -EINVAL;
	}
	if (e->nspid != -1) {
		pr_err("files.img: pidfd %u refers to pid %d\n", fe->id, e->nspid);
		return -EINVAL;
	}
	if (e->attr && e->attr->has_exit_code && WIFSIGNALED(e->attr->exit_code)) {
		int sig = WTERMSIG(e->attr->exit_code);

		if (sig >= NSIG || sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
		    sig == SIGTTOU) {
			pr_err("files.img: pidfd %u: its process died of signal %d, which ends no "
			       "process\n",
			       fe->id, sig);
			return -EINVAL;
		}
	}
	s = *sp;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		*sp = s;
	}
	if (s->n == s->cap) {
		struct dead_pidfd *bigger = realloc(s->dead, (s->cap = s->cap ? 2 * s->cap : 8) *
								     sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		s->dead = bigger;
	}
	fd = dead_pidfd(e->flags & PIDFD_NONBLOCK_FLAG,
			e->attr && e->attr->has_exit_code ? e->attr->exit_code : 0);
	if (fd < 0) {
		pr_err("pidfd %u: can't make a pidfd of a dead process: %s\n", fe->id, strerror(-fd));
		return fd;
	}
	s->dead[s->n].id = fe->id;
	s->dead[s->n].fd = fd;
	s->n++;
	return 0;
}

/* pidfd_open(pid), waiting a bounded moment for pid to be forked */
static int open_live(pid_t pid, unsigned int flags)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int fd = (int)syscall(SYS_pidfd_open, pid, flags);

		if (fd >= 0 || errno != ESRCH)
			return fd < 0 ? -errno : fd;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >
		    TARGET_WAIT_MS)
			return -ESRCH;
		usleep(1000);
	}
}

static int pidfd_open_file(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	const PidfdEntry *e = fe->pidfd;
	uint32_t pid = rc_task_pid(rc, idx), fdnum = rc_opening_fd(rc);
	int fd = -ENOENT, ret;

	if (e->nspid >= 0) {
		fd = open_live((pid_t)e->nspid, e->flags & PIDFD_NONBLOCK_FLAG);
		if (fd < 0) {
			pr_err("fd %u of pid %u: can't open a pidfd of pid %d: %s\n", fdnum, pid,
			       e->nspid, strerror(-fd));
			return fd;
		}
	} else {
		struct pidfd_state *s = *(struct pidfd_state **)rc_kind_state(rc, &pidfd_kind);

		for (size_t i = 0; s && i < s->n; i++)
			if (s->dead[i].id == fe->id) {
				fd = fcntl(s->dead[i].fd, F_DUPFD_CLOEXEC, 0);
				if (fd < 0)
					fd = -errno;
				break;
			}
		if (fd < 0) {
			pr_err("fd %u of pid %u: the pidfd of a dead process was not made: %s\n", fdnum,
			       pid, strerror(-fd));
			return fd;
		}
	}
	ret = rc_restore_fown_and_flags(fd, e->flags, e->fown, fdnum, pid);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static void pidfd_fini(struct restore_ctx *rc)
{
	struct pidfd_state **sp = (struct pidfd_state **)rc_kind_state(rc, &pidfd_kind), *s = *sp;

	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		close(s->dead[i].fd);
	free(s->dead);
	free(s);
	*sp = NULL;
}

static uint32_t pidfd_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->pidfd ? fe->pidfd->flags : 0;
}

const struct fd_kind pidfd_kind = {
	.name = "pidfd",
	.type = FD_TYPES__PIDFD,
	.match = pidfd_match,
	.check = pidfd_check,
	.dump = pidfd_dump,
	.dump_fini = pidfd_dump_fini,
	.collect = pidfd_collect,
	.open = pidfd_open_file,
	.fini = pidfd_fini,
	.status_flags = pidfd_status_flags,
};
