/*
 * The machinery every kind of open file shares (see fdkind.h): on dump,
 * listing a task's fds, reading each one's link, stat and fdinfo, taking
 * its description (pidfd_getfd) for fown, finding descriptions seen before
 * with kcmp, files.img; on restore, planning who opens each description,
 * calling the kinds' collect/create/open, moving the fds to their numbers,
 * close-on-exec, O_ASYNC, and the rc_* accessors.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdkind.h"
#include "file-locks.h"
#include "files.h"
#include "image-desc.h"
#include "image.h"
#include "inherit.h"
#include "log.h"
#include "options.h"
#include "proc.h"
#include "restore-priv.h"

#define KCMP_FILE 0

/* ---- dump ------------------------------------------------------------------------ */

struct dfile {
	struct dump_file df;
	const struct fd_kind *kind;
	pid_t pid; /* a task holding it, and its fd there (for kcmp); fd -1 for paths */
	int fd;
	dev_t dev;
	ino_t ino;
	FownEntry fown;
};

static struct dfile **dfiles;
static size_t nr_dfiles, cap_dfiles;
static unsigned int next_id = 1;

static struct dfile *new_dfile(const struct fd_kind *k)
{
	struct dfile *f;

	if (nr_dfiles == cap_dfiles) {
		struct dfile **n = realloc(dfiles, (cap_dfiles = cap_dfiles ? cap_dfiles * 2 : 64) *
							   sizeof(*n));
		if (!n)
			return NULL;
		dfiles = n;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->df.id = next_id++;
	f->kind = k;
	f->fd = -1;
	file_entry__init(&f->df.fe);
	fown_entry__init(&f->fown);
	f->df.fe.id = f->df.id;
	f->df.fe.type = k->type;
	dfiles[nr_dfiles++] = f;
	return f;
}

struct dump_file *dump_file_new(const struct fd_kind *k)
{
	struct dfile *f = new_dfile(k);

	return f ? &f->df : NULL;
}

/* The same open file description as one already seen? */
static struct dfile *find_same(pid_t pid, int fd, const struct stat *st)
{
	for (size_t i = 0; i < nr_dfiles; i++) {
		struct dfile *f = dfiles[i];

		if (f->fd < 0 || f->dev != st->st_dev || f->ino != st->st_ino)
			continue;
		if (syscall(SYS_kcmp, f->pid, pid, KCMP_FILE, f->fd, fd) == 0)
			return f;
	}
	return NULL;
}

const char *fdinfo_field(const char *fdinfo, const char *key)
{
	size_t n = strlen(key);

	for (const char *l = fdinfo; l && *l;) {
		if (!strncmp(l, key, n) && l[n] == ':') {
			l += n + 1;
			return l + strspn(l, " \t");
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return NULL;
}

uint64_t fdinfo_u64(const char *fdinfo, const char *key, int base)
{
	const char *v = fdinfo_field(fdinfo, key);

	return v ? strtoull(v, NULL, base) : 0;
}

int fd_parms_read(pid_t pid, int fd, struct fd_parms *p, char **fdinfo)
{
	char path[64];
	ssize_t n;

	memset(p, 0, sizeof(*p));
	*fdinfo = NULL;
	p->pid = pid;
	p->fd = fd;
	p->tfd = -1;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, p->link, sizeof(p->link) - 1);
	p->link[n > 0 ? n : 0] = '\0';
	if (n < 0 || stat(path, &p->st))
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	*fdinfo = proc_read_file(path, NULL);
	if (!*fdinfo)
		return -errno;
	p->fdinfo = *fdinfo;
	p->pos = fdinfo_u64(p->fdinfo, "pos", 10);
	p->flags = (uint32_t)fdinfo_u64(p->fdinfo, "flags", 8);
	p->cloexec = p->flags & O_CLOEXEC;
	p->flags &= ~(uint32_t)O_CLOEXEC;
	return 0;
}

const char *fd_kind_name(const struct fd_parms *p)
{
	mode_t m = p->st.st_mode;

	if (!strncmp(p->link, "socket:", 7))
		return "socket";
	if (!strncmp(p->link, "anon_inode:", 11))
		return p->link + 11;
	if (S_ISDIR(m))
		return "directory";
	if (S_ISBLK(m))
		return "block device";
	if (S_ISFIFO(m))
		return "FIFO";
	return "unknown file";
}

/* The task's open file description of fd, as an fd of ours. */
int task_fd(pid_t pid, int fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), tfd;

	if (pidfd < 0)
		return -errno;
	tfd = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (tfd < 0)
		tfd = -errno;
	close(pidfd);
	return tfd;
}

/*
 * Who gets SIGIO/SIGURG for the file (F_GETOWN_EX) and which signal
 * (F_GETSIG), read on a duplicate of the task's fd: they belong to the
 * open file description.  uid and euid are the task's: the kernel keeps
 * the setter's, and shows them nowhere.
 */
static int dump_fown(const struct fd_parms *p, FownEntry *fown)
{
	struct f_owner_ex ex = { 0, 0 };
	struct proc_status st;
	int sig;

	sig = fcntl(p->tfd, F_GETSIG);
	if (fcntl(p->tfd, F_GETOWN_EX, &ex) < 0 || sig < 0) {
		int ret = -errno;

		pr_perror("can't read the owner of fd %d of pid %d", p->fd, p->pid);
		return ret;
	}
	fown->signum = (uint32_t)sig;
	fown->pid_type = (uint32_t)ex.type;
	fown->pid = (uint32_t)ex.pid;
	if (ex.pid && !proc_read_status(p->pid, 0, &st)) {
		fown->uid = st.uid[0];
		fown->euid = st.uid[1];
	}
	return 0;
}

static int dump_one_fd(pid_t pid, int fd, FdinfoEntry *fe)
{
	const struct fd_kind *k;
	struct fd_parms p;
	struct dfile *f;
	char *fdinfo;
	int ret;

	ret = fd_parms_read(pid, fd, &p, &fdinfo);
	if (ret)
		goto out;
	fe->fd = (uint32_t)fd;
	fe->flags = p.cloexec ? FD_CLOEXEC : 0;

	f = find_same(pid, fd, &p.st);
	if (f) {
		fe->id = f->df.id;
		fe->type = f->df.fe.type;
		goto out;
	}
	k = fd_kind_match(&p);
	if (!k) {
		pr_err("fd %d of pid %d is a %s (%s): this kind of file is not supported yet\n", fd,
		       pid, fd_kind_name(&p), p.link);
		ret = -EOPNOTSUPP;
		goto out;
	}
	f = new_dfile(k);
	if (!f) {
		ret = -ENOMEM;
		goto out;
	}
	f->pid = pid;
	f->fd = fd;
	f->dev = p.st.st_dev;
	f->ino = p.st.st_ino;
	p.tfd = task_fd(pid, fd);
	if (p.tfd < 0) {
		ret = p.tfd;
		pr_err("can't take fd %d of pid %d: %s\n", fd, pid, strerror(-ret));
		goto out;
	}
	/* an O_PATH fd has no owner: fcntl refuses F_GETOWN_EX on it */
	ret = (p.flags & O_PATH) ? 0 : dump_fown(&p, &f->fown);
	if (ret)
		goto out;
	p.fown = &f->fown;
	ret = k->dump(&f->df, &p);
	if (ret)
		goto out;
	fe->id = f->df.id;
	fe->type = f->df.fe.type;
out:
	if (p.tfd >= 0)
		close(p.tfd);
	free(fdinfo);
	return ret;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int files_dump_task(pid_t pid, unsigned int files_id, int dirfd)
{
	struct cr_img *img;
	int *fds = NULL, nfds = 0, cap = 0, ret = 0;

	{
		char dpath[64];
		struct dirent *de;
		DIR *d;

		snprintf(dpath, sizeof(dpath), "/proc/%d/fd", pid);
		d = opendir(dpath);
		if (!d) {
			pr_perror("can't list %s", dpath);
			return -errno;
		}
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			if (nfds == cap) {
				int *n = realloc(fds, (cap = cap ? cap * 2 : 64) * sizeof(int));

				if (!n) {
					closedir(d);
					free(fds);
					return -ENOMEM;
				}
				fds = n;
			}
			fds[nfds++] = atoi(de->d_name);
		}
		closedir(d);
	}
	qsort(fds, nfds, sizeof(int), cmp_int);
	img = img_open(dirfd, IMG_FDINFO, O_WRONLY, (unsigned long)files_id);
	if (!img) {
		free(fds);
		return -EIO;
	}
	for (int i = 0; i < nfds && !ret; i++) {
		FdinfoEntry fe = FDINFO_ENTRY__INIT;

		ret = dump_one_fd(pid, fds[i], &fe);
		if (!ret && opts.file_locks)
			ret = locks_dump_fd(pid, fds[i], fe.id);
		if (!ret)
			ret = img_write_pb(img, &fe.base);
	}
	if (img_close(img) && !ret)
		ret = -EIO;
	free(fds);
	return ret;
}

int files_write_images(int dirfd)
{
	struct cr_img *img;
	int ret = 0;

	/* the kinds first: what they write may add files (an external peer) */
	for (unsigned int k = 0; k < nr_fd_kinds && !ret; k++)
		if (fd_kinds[k]->write)
			ret = fd_kinds[k]->write(dirfd);
	if (ret)
		return ret;
	img = img_open(dirfd, IMG_FILES, O_WRONLY);
	if (!img)
		return -EIO;
	for (size_t i = 0; i < nr_dfiles && !ret; i++)
		ret = img_write_pb(img, &dfiles[i]->df.fe.base);
	if (img_close(img) && !ret)
		ret = -EIO;
	if (!ret)
		ret = locks_write(dirfd);
	return ret;
}

void files_dump_fini(void)
{
	for (unsigned int k = 0; k < nr_fd_kinds; k++)
		if (fd_kinds[k]->dump_fini)
			fd_kinds[k]->dump_fini();
	for (size_t i = 0; i < nr_dfiles; i++)
		free(dfiles[i]);
	free(dfiles);
	dfiles = NULL;
	nr_dfiles = cap_dfiles = 0;
	next_id = 1;
	locks_dump_fini();
}

void files_dump_release(bool killed)
{
	for (unsigned int k = 0; k < nr_fd_kinds; k++)
		if (fd_kinds[k]->dump_release)
			fd_kinds[k]->dump_release(killed);
}

/* ---- restore: the accessors ------------------------------------------------------ */

const FileEntry *rc_file(struct restore_ctx *rc, uint32_t id)
{
	for (size_t i = 0; i < rc->nr_files; i++)
		if (rc->files[i]->id == id)
			return rc->files[i];
	return NULL;
}

int rc_nr_tasks(struct restore_ctx *rc)
{
	return rc->nr_tasks;
}

uint32_t rc_task_pid(struct restore_ctx *rc, int idx)
{
	return rc->tasks[idx].pe->pid;
}

int rc_task_parent(struct restore_ctx *rc, int idx)
{
	return rc->tasks[idx].parent;
}

int rc_lca(struct restore_ctx *rc, int a, int b)
{
	while (a != b) {
		if (a > b)
			a = rc->tasks[a].parent;
		else
			b = rc->tasks[b].parent;
		if (a < 0 || b < 0)
			return 0;
	}
	return a;
}

size_t rc_task_nfds(struct restore_ctx *rc, int idx)
{
	return rc->tasks[idx].nfds;
}

const FdinfoEntry *rc_task_fd(struct restore_ctx *rc, int idx, size_t i)
{
	return rc->tasks[idx].fds[i];
}

int rc_images_dirfd(struct restore_ctx *rc)
{
	return rc->images_dirfd;
}

uint32_t rc_opening_fd(struct restore_ctx *rc)
{
	return rc->opening_fd;
}

void **rc_kind_state(struct restore_ctx *rc, const struct fd_kind *k)
{
	for (unsigned int i = 0; i < nr_fd_kinds && i < RC_MAX_KINDS; i++)
		if (fd_kinds[i] == k)
			return &rc->kind_state[i];
	return NULL;
}

/* the status flags F_SETFL sets: a dup'ed pipe end has none; O_ASYNC is
 * set last, at the fd's own number (see restore_async) */
#define SETFL_FLAGS (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)

int rc_open_flags(uint32_t dumped)
{
	return (int)(dumped & ~(uint32_t)(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC | O_ASYNC));
}

/*
 * The owner for signal-driven I/O (F_SETOWN_EX, F_SETSIG), then the
 * status flags.  The owner must exist: a process group its holder joins
 * is made by the holder's parent just after the fork, so ESRCH is retried
 * for a moment.
 */
int rc_restore_fown_and_flags(int fd, uint32_t flags, const FownEntry *fown, uint32_t fdnum,
			      uint32_t pid)
{
	if (fown && fown->pid) {
		struct f_owner_ex ex = { (enum __pid_type)fown->pid_type, (pid_t)fown->pid };
		int r, tries = 0;

		while ((r = fcntl(fd, F_SETOWN_EX, &ex)) < 0 && errno == ESRCH && tries++ < 1000)
			usleep(1000);
		if (r < 0) {
			pr_perror("fd %u of pid %u: can't give it owner %u (type %u)", fdnum, pid,
				  fown->pid, fown->pid_type);
			return -errno;
		}
	}
	if (fown && fown->signum && fcntl(fd, F_SETSIG, (int)fown->signum) < 0) {
		pr_perror("fd %u of pid %u: can't set its signal %u", fdnum, pid, fown->signum);
		return -errno;
	}
	if ((fcntl(fd, F_GETFL) & SETFL_FLAGS) != (int)(flags & SETFL_FLAGS) &&
	    fcntl(fd, F_SETFL, (int)(flags & SETFL_FLAGS)) < 0) {
		pr_perror("fd %u of pid %u: can't set its status flags %#o", fdnum, pid, flags);
		return -errno;
	}
	return 0;
}

/* ---- restore: planning ----------------------------------------------------------- */

/* open file descriptions held by several tasks: opened once, by the lowest
 * common ancestor of the holders, before it forks them, so that they share
 * the description (its position and flags) as they did */
struct rshared_file {
	uint32_t id;
	int lca;
	int first; /* the first holder: one holder only is not shared */
	bool shared;
	int fd;
};

int files_plan(struct restore_ctx *rc)
{
	int ret = inherit_fds_plan(rc);

	if (ret)
		return ret;

	/* every fd names a file of files.img that a kind restores */
	for (int i = 0; i < rc->nr_tasks; i++)
		for (size_t j = 0; j < rc->tasks[i].nfds; j++) {
			const FdinfoEntry *fd = rc->tasks[i].fds[j];
			const FileEntry *fe = rc_file(rc, fd->id);

			if (!fe) {
				pr_err("fd %u of pid %u: file %u is not in files.img\n", fd->fd,
				       rc->tasks[i].pe->pid, fd->id);
				return -EINVAL;
			}
			if (!fd_kind_of_file(fe)) {
				pr_err("fd %u of pid %u: files of type %d are not supported yet\n",
				       fd->fd, rc->tasks[i].pe->pid, fe->type);
				return -EOPNOTSUPP;
			}
		}
	for (size_t i = 0; i < rc->nr_files && !ret; i++) {
		const struct fd_kind *k = fd_kind_of_file(rc->files[i]);

		if (k && k->collect)
			ret = k->collect(rc, rc->files[i]);
	}
	if (ret)
		return ret;
	for (int i = 0; i < rc->nr_tasks; i++)
		for (size_t j = 0; j < rc->tasks[i].nfds; j++) {
			const FdinfoEntry *fd = rc->tasks[i].fds[j];
			const struct fd_kind *k = fd_kind_of_file(rc_file(rc, fd->id));
			size_t s;

			if (k->own_sharing)
				continue;
			for (s = 0; s < rc->nr_shared; s++)
				if (rc->shared[s].id == fd->id)
					break;
			if (s == rc->nr_shared) {
				struct rshared_file *n =
					realloc(rc->shared, (rc->nr_shared + 1) * sizeof(*n));

				if (!n)
					return -ENOMEM;
				rc->shared = n;
				rc->shared[s] = (struct rshared_file){ fd->id, i, i, false, -1 };
				rc->nr_shared++;
			} else if (rc->shared[s].first != i) {
				rc->shared[s].shared = true;
				rc->shared[s].lca = rc_lca(rc, rc->shared[s].lca, i);
			}
		}
	return 0;
}

int files_create(struct restore_ctx *rc, int idx)
{
	int ret = 0;

	for (unsigned int k = 0; k < nr_fd_kinds && !ret; k++)
		if (fd_kinds[k]->create)
			ret = fd_kinds[k]->create(rc, idx);
	return ret;
}

/* An fd (any number) for file fe, opened by its kind for task idx. */
static int open_file(struct restore_ctx *rc, const FileEntry *fe, uint32_t fdnum, int idx)
{
	const struct fd_kind *k = fd_kind_of_file(fe);

	if (!k || !k->open) {
		pr_err("fd %u of pid %u: files of type %d are not supported yet\n", fdnum,
		       rc_task_pid(rc, idx), fe->type);
		return -EOPNOTSUPP;
	}
	rc->opening_fd = fdnum;
	{
		int fd = inherit_fd_open(rc, fe); /* --inherit-fd */

		if (fd != -ENOENT)
			return fd;
	}
	return k->open(rc, fe, idx);
}

int files_open_shared(struct restore_ctx *rc, int idx)
{
	for (size_t i = 0; i < rc->nr_shared; i++) {
		struct rshared_file *f = &rc->shared[i];
		const FileEntry *fe;

		if (!f->shared || f->lca != idx)
			continue;
		fe = rc_file(rc, f->id);
		if (!fe) {
			pr_err("file %u is not in files.img\n", f->id);
			return -EINVAL;
		}
		f->fd = open_file(rc, fe, 0, idx);
		if (f->fd < 0)
			return f->fd;
	}
	return 0;
}

/* An fd (any number) for the file of fdinfo entry fd. */
static int open_fd(struct restore_ctx *rc, const FdinfoEntry *fd, int idx)
{
	const FileEntry *fe = rc_file(rc, fd->id);
	int ret;

	if (!fe) {
		pr_err("fd %u of pid %u: file %u is not in files.img\n", fd->fd,
		       rc_task_pid(rc, idx), fd->id);
		return -EINVAL;
	}
	for (size_t i = 0; i < rc->nr_shared; i++)
		if (rc->shared[i].id == fe->id && rc->shared[i].fd >= 0) {
			ret = fcntl(rc->shared[i].fd, F_DUPFD_CLOEXEC, 0);
			return ret < 0 ? -errno : ret;
		}
	return open_file(rc, fe, fd->fd, idx);
}

/*
 * O_ASYNC: the kernel tells the fd number in SIGIO's si_fd as it was when
 * O_ASYNC was set, so it is set (open() ignores it) once the fd is at its
 * number.
 */
static int restore_async(struct restore_ctx *rc, const FdinfoEntry *fd, uint32_t pid)
{
	const FileEntry *fe = rc_file(rc, fd->id);
	const struct fd_kind *k = fe ? fd_kind_of_file(fe) : NULL;
	uint32_t flags = k && k->status_flags ? k->status_flags(rc, fe) : 0;
	int now;

	if (!(flags & O_ASYNC))
		return 0;
	now = fcntl((int)fd->fd, F_GETFL);
	if (now < 0 || fcntl((int)fd->fd, F_SETFL, now & ~O_ASYNC) < 0 ||
	    fcntl((int)fd->fd, F_SETFL, now | O_ASYNC) < 0) {
		pr_perror("fd %u of pid %u: can't set O_ASYNC", fd->fd, pid);
		return -errno;
	}
	return 0;
}

struct fd_plan {
	int target;
	int src; /* opened at any number */
	bool cloexec;
};

/*
 * Puts the task's fds in place and closes every other one, except keep[]
 * (the restorer's: pages image, mapped files, exe), which are moved above
 * every target and returned renumbered.
 */
int place_fds(struct restore_ctx *rc, int idx, int *keep, int nkeep)
{
	struct rtask *t = &rc->tasks[idx];
	struct fd_plan *plan = calloc(t->nfds + 1, sizeof(*plan));
	int base = 3, ret = 0;
	DIR *d;

	if (!plan)
		return -ENOMEM;
	for (size_t i = 0; i < t->nfds; i++) {
		plan[i].target = (int)t->fds[i]->fd;
		plan[i].cloexec = t->fds[i]->flags & FD_CLOEXEC;
		if (plan[i].target >= base)
			base = plan[i].target + 1;
		/* fds sharing one description share one open */
		plan[i].src = -1;
		for (size_t j = 0; j < i; j++)
			if (t->fds[j]->id == t->fds[i]->id) {
				plan[i].src = plan[j].src;
				break;
			}
		if (plan[i].src < 0) {
			plan[i].src = open_fd(rc, t->fds[i], idx);
			if (plan[i].src < 0) {
				ret = plan[i].src;
				goto out;
			}
		}
	}
	/* everything we need above every target */
	for (size_t i = 0; i < t->nfds; i++) {
		int hi = fcntl(plan[i].src, F_DUPFD_CLOEXEC, base);
		int old = plan[i].src;

		if (hi < 0) {
			ret = -errno;
			goto out;
		}
		for (size_t j = i; j < t->nfds; j++)
			if (plan[j].src == old)
				plan[j].src = hi;
		base = hi + 1;
	}
	for (int k = 0; k < nkeep; k++) {
		int hi = fcntl(keep[k], F_DUPFD_CLOEXEC, base);

		if (hi < 0) {
			ret = -errno;
			goto out;
		}
		keep[k] = hi;
		base = hi + 1;
	}
	/* close all the rest (criu's fds, pipes of other tasks, the opens above) */
	d = opendir("/proc/self/fd");
	if (!d) {
		ret = -errno;
		goto out;
	}
	{
		int dfd = dirfd(d);
		struct dirent *de;
		int *to_close = NULL, nclose = 0, cap = 0;

		while ((de = readdir(d))) {
			int fd = atoi(de->d_name);
			bool ours = false;

			if (de->d_name[0] == '.' || fd == dfd)
				continue;
			for (size_t i = 0; i < t->nfds && !ours; i++)
				ours = plan[i].src == fd;
			for (int k = 0; k < nkeep && !ours; k++)
				ours = keep[k] == fd;
			if (ours)
				continue;
			if (nclose == cap) {
				int *n = realloc(to_close, (cap = cap ? cap * 2 : 64) * sizeof(int));

				if (!n)
					break;
				to_close = n;
			}
			to_close[nclose++] = fd;
		}
		closedir(d);
		for (int i = 0; i < nclose; i++)
			close(to_close[i]);
		free(to_close);
	}
	log_close_fd_only();
	for (size_t i = 0; i < t->nfds; i++) {
		if (dup2(plan[i].src, plan[i].target) < 0) {
			ret = -errno;
			goto out;
		}
		fcntl(plan[i].target, F_SETFD, plan[i].cloexec ? FD_CLOEXEC : 0);
		ret = restore_async(rc, t->fds[i], t->pe->pid);
		if (ret)
			goto out;
	}
	for (size_t i = 0; i < t->nfds; i++) {
		bool again = false;

		for (size_t j = 0; j < i; j++)
			again |= plan[j].src == plan[i].src;
		if (!again)
			close(plan[i].src);
	}
	/* what needs the task's other fds at their numbers (epoll targets);
	 * before the locks: it may close an fd of a file for a moment */
	for (unsigned int k = 0; k < nr_fd_kinds && !ret; k++)
		if (fd_kinds[k]->post_open)
			ret = fd_kinds[k]->post_open(rc, idx);
	if (ret)
		goto out;
	/* last: closing any other fd of a file would drop a POSIX lock on it */
	if (!ret)
		ret = locks_restore_task(&rc->locks, t->pe->pid);
out:
	free(plan);
	return ret;
}

void files_restore_fini(struct restore_ctx *rc, bool restored)
{
	rc->restored = restored;
	for (unsigned int k = 0; k < nr_fd_kinds; k++)
		if (fd_kinds[k]->fini)
			fd_kinds[k]->fini(rc);
	free(rc->shared);
	rc->shared = NULL;
	rc->nr_shared = 0;
}

int files_restore_live(struct restore_ctx *rc, int idx)
{
	int ret = 0;

	for (unsigned int k = 0; k < nr_fd_kinds && !ret; k++)
		if (fd_kinds[k]->live)
			ret = fd_kinds[k]->live(rc, idx);
	return ret;
}

int open_file_id(struct restore_ctx *rc, uint32_t id, int flags)
{
	const FileEntry *fe = rc_file(rc, id);
	const struct fd_kind *k = fe ? fd_kind_of_file(fe) : NULL;

	if (!k || !k->open_id) {
		pr_err("file %u is not in files.img\n", id);
		return -EINVAL;
	}
	return k->open_id(rc, fe, flags);
}
