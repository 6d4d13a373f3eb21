/*
 * criu restore: open files.  Pipes (refilled with the data they held) and
 * open file descriptions held by several tasks are created once, by the
 * lowest common ancestor of their holders before it forks them, so that
 * the holders share them as they did; each task then opens the rest of its
 * files, puts every fd at its number, and opens the files that the restorer
 * maps (and the exe) by their ids in files.img.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-desc.h"
#include "file-locks.h"
#include "image.h"
#include "log.h"
#include "options.h"
#include "proto/pipe-data.pb-c.h"
#include "restore-priv.h"

struct rpipe {
	uint32_t pipe_id;
	int lca;      /* the task that creates it */
	int fds[2];   /* in the creator and, inherited, its descendants */
	const uint8_t *data;
	uint32_t bytes, size;
};

static struct rpipe *pipes;
static size_t nr_pipes;
static uint8_t *pipes_data;
static size_t pipes_data_len;

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

static struct rshared_file *shared_files;

static int open_memfd(const FileEntry *fe, int flags, uint64_t pos);
static size_t nr_shared_files;

int plan_pipes(void)
{
	for (int i = 0; i < nr_tasks; i++)
		for (size_t j = 0; j < tasks[i].nfds; j++) {
			const FdinfoEntry *fd = tasks[i].fds[j];
			const FileEntry *fe;
			size_t k;

			if (fd->type != FD_TYPES__PIPE)
				continue;
			fe = file_by_id(fd->id);
			if (!fe || !fe->pipe) {
				pr_err("fd %u of pid %u: no pipe %u in files.img\n", fd->fd,
				       tasks[i].pe->pid, fd->id);
				return -EINVAL;
			}
			for (k = 0; k < nr_pipes; k++)
				if (pipes[k].pipe_id == fe->pipe->pipe_id)
					break;
			if (k == nr_pipes) {
				struct rpipe *n = realloc(pipes, (nr_pipes + 1) * sizeof(*n));

				if (!n)
					return -ENOMEM;
				pipes = n;
				memset(&pipes[k], 0, sizeof(pipes[k]));
				pipes[k].pipe_id = fe->pipe->pipe_id;
				pipes[k].lca = i;
				pipes[k].fds[0] = pipes[k].fds[1] = -1;
				nr_pipes++;
			} else
				pipes[k].lca = lca(pipes[k].lca, i);
		}
	return 0;
}

int read_pipes_data(int dirfd)
{
	struct cr_img *img = img_open(dirfd, IMG_PIPES_DATA, O_RDONLY | O_CREAT);
	ProtobufCMessage *m;
	int ret;

	if (!img)
		return 0;
	pipes_data_len = (size_t)img_bytes_left(img);
	pipes_data = malloc(pipes_data_len + 1);
	if (!pipes_data) {
		img_close(img);
		return -ENOMEM;
	}
	{
		size_t used = 0;

		while ((ret = img_read_pb(img, NULL, &m)) > 0) {
			PipeDataEntry *e = (PipeDataEntry *)m;

			for (size_t i = 0; i < nr_pipes; i++)
				if (pipes[i].pipe_id == e->pipe_id) {
					pipes[i].data = pipes_data + used;
					pipes[i].bytes = e->bytes;
					pipes[i].size = e->has_size ? e->size : 0;
				}
			ret = img_read_raw(img, pipes_data + used, e->bytes);
			used += e->bytes;
			protobuf_c_message_free_unpacked(m, NULL);
			if (ret)
				break;
		}
	}
	img_close(img);
	return ret < 0 ? ret : 0;
}

int plan_shared_files(void)
{
	for (int i = 0; i < nr_tasks; i++)
		for (size_t j = 0; j < tasks[i].nfds; j++) {
			const FdinfoEntry *fd = tasks[i].fds[j];
			size_t k;

			if (fd->type != FD_TYPES__REG)
				continue;
			for (k = 0; k < nr_shared_files; k++)
				if (shared_files[k].id == fd->id)
					break;
			if (k == nr_shared_files) {
				struct rshared_file *n =
					realloc(shared_files, (nr_shared_files + 1) * sizeof(*n));

				if (!n)
					return -ENOMEM;
				shared_files = n;
				shared_files[k] = (struct rshared_file){ fd->id, i, i, false, -1 };
				nr_shared_files++;
			} else if (shared_files[k].first != i) {
				shared_files[k].shared = true;
				shared_files[k].lca = lca(shared_files[k].lca, i);
			}
		}
	return 0;
}

/* the status flags F_SETFL sets: a dup'ed pipe end has none; O_ASYNC is
 * set last, at the fd's own number (see restore_async) */
#define SETFL_FLAGS (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)

/*
 * The owner for signal-driven I/O (F_SETOWN_EX, F_SETSIG), then the
 * status flags.  The owner must exist: a process group its holder joins
 * is made by the holder's parent just after the fork, so ESRCH is retried
 * for a moment.
 */
static int restore_fown_and_flags(int fd, uint32_t flags, const FownEntry *fown, uint32_t fdnum,
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

/* A regular file or device of the images, opened as it was (position, flags). */
static int open_reg(const FileEntry *fe, uint32_t fdnum, uint32_t pid)
{
	int flags = (int)(fe->reg->flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC));
	int fd;

	/* a shell job's terminal becomes the one criu runs on */
	if (opts.shell_job && fe->reg->has_mode && S_ISCHR(fe->reg->mode) &&
	    (!strncmp(fe->reg->name, "/dev/pts/", 9) || !strncmp(fe->reg->name, "/dev/tty", 8)) &&
	    isatty(STDIN_FILENO)) {
		fd = open(ttyname(STDIN_FILENO), (flags & ~O_ACCMODE) | O_RDWR | O_CLOEXEC);
		if (fd < 0)
			pr_perror("fd %u of pid %u: can't open this terminal", fdnum, pid);
		return fd < 0 ? -errno : fd;
	}
	fd = open(fe->reg->name, flags | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		pr_perror("fd %u of pid %u: can't open %s", fdnum, pid, fe->reg->name);
		return -errno;
	}
	{
		int ret = restore_fown_and_flags(fd, fe->reg->flags, fe->reg->fown, fdnum, pid);

		if (ret) {
			close(fd);
			return ret;
		}
	}
	if (fe->reg->pos && lseek(fd, (off_t)fe->reg->pos, SEEK_SET) < 0) {
		pr_perror("fd %u of pid %u: can't seek %s to %llu", fdnum, pid, fe->reg->name,
			  (unsigned long long)fe->reg->pos);
		close(fd);
		return -errno;
	}
	return fd;
}

int create_shared_files(int idx)
{
	for (size_t i = 0; i < nr_shared_files; i++) {
		struct rshared_file *f = &shared_files[i];
		const FileEntry *fe;

		if (!f->shared || f->lca != idx)
			continue;
		fe = file_by_id(f->id);
		if (!fe || !fe->reg) {
			pr_err("file %u is not in files.img\n", f->id);
			return -EINVAL;
		}
		f->fd = open_reg(fe, 0, tasks[idx].pe->pid);
		if (f->fd < 0)
			return f->fd;
	}
	return 0;
}

int create_pipes(int idx)
{
	for (size_t i = 0; i < nr_pipes; i++) {
		struct rpipe *p = &pipes[i];

		if (p->lca != idx)
			continue;
		if (pipe2(p->fds, 0)) {
			pr_perror("can't create pipe %u", p->pipe_id);
			return -errno;
		}
		if (p->size && fcntl(p->fds[1], F_SETPIPE_SZ, (int)p->size) < (int)p->size) {
			pr_perror("can't give pipe %u its size of %u bytes", p->pipe_id, p->size);
			return -errno ? -errno : -EINVAL;
		}
		if (p->bytes && write(p->fds[1], p->data, p->bytes) != (ssize_t)p->bytes) {
			pr_perror("can't refill pipe %u with %u bytes", p->pipe_id, p->bytes);
			return -EIO;
		}
	}
	return 0;
}

static struct rpipe *pipe_of(uint32_t pipe_id)
{
	for (size_t i = 0; i < nr_pipes; i++)
		if (pipes[i].pipe_id == pipe_id)
			return &pipes[i];
	return NULL;
}

/* An fd (any number) for the file of fdinfo entry fd. */
static int open_fd(const FdinfoEntry *fd, uint32_t pid)
{
	const FileEntry *fe = file_by_id(fd->id);
	int ret;

	if (!fe) {
		pr_err("fd %u of pid %u: file %u is not in files.img\n", fd->fd, pid, fd->id);
		return -EINVAL;
	}
	if (fe->type == FD_TYPES__PIPE && fe->pipe) {
		struct rpipe *p = pipe_of(fe->pipe->pipe_id);
		int end = (fe->pipe->flags & O_ACCMODE) == O_WRONLY ? 1 : 0;

		if (!p || p->fds[end] < 0) {
			pr_err("fd %u of pid %u: pipe %u was not created\n", fd->fd, pid,
			       fe->pipe->pipe_id);
			return -EINVAL;
		}
		ret = fcntl(p->fds[end], F_DUPFD_CLOEXEC, 0);
		if (ret < 0)
			return -errno;
		{
			int r = restore_fown_and_flags(ret, fe->pipe->flags, fe->pipe->fown, fd->fd,
						       pid);

			if (r) {
				close(ret);
				return r;
			}
		}
		return ret;
	}
	if (fe->type == FD_TYPES__REG && fe->reg) {
		for (size_t i = 0; i < nr_shared_files; i++)
			if (shared_files[i].id == fe->id && shared_files[i].fd >= 0) {
				ret = fcntl(shared_files[i].fd, F_DUPFD_CLOEXEC, 0);
				return ret < 0 ? -errno : ret;
			}
		return open_reg(fe, fd->fd, pid);
	}
	if (fe->type == FD_TYPES__MEMFD && fe->memfd)
		return open_memfd(fe, (int)fe->memfd->flags, fe->memfd->pos);
	pr_err("fd %u of pid %u: files of type %d are not supported yet\n", fd->fd, pid, fe->type);
	return -EOPNOTSUPP;
}

/*
 * O_ASYNC: the kernel tells the fd number in SIGIO's si_fd as it was when
 * O_ASYNC was set, so it is set (open() ignores it) once the fd is at its
 * number.
 */
static int restore_async(const FdinfoEntry *fd, uint32_t pid)
{
	const FileEntry *fe = file_by_id(fd->id);
	uint32_t flags = fe && fe->pipe ? fe->pipe->flags : fe && fe->reg ? fe->reg->flags : 0;
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
	int src;   /* opened at any number */
	bool cloexec;
};

/*
 * Puts the task's fds in place and closes every other one, except keep[]
 * (the restorer's: pages image, mapped files, exe), which are moved above
 * every target and returned renumbered.
 */
int place_fds(int idx, int *keep, int nkeep)
{
	struct rtask *t = &tasks[idx];
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
			plan[i].src = open_fd(t->fds[i], t->pe->pid);
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
		ret = restore_async(t->fds[i], t->pe->pid);
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
	/* last: closing any other fd of a file would drop a POSIX lock on it */
	ret = locks_restore_task(&file_locks, t->pe->pid);
out:
	free(plan);
	return ret;
}

int open_file_id(uint32_t id, int flags)
{
	const FileEntry *fe = file_by_id(id);
	int fd;

	if (fe && fe->type == FD_TYPES__MEMFD && fe->memfd)
		return open_memfd(fe, flags, 0);
	if (!fe || !fe->reg) {
		pr_err("file %u is not in files.img\n", id);
		return -EINVAL;
	}
	fd = open(fe->reg->name, (flags & O_ACCMODE) | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", fe->reg->name);
		return -errno;
	}
	return fd;
}

/* A description of its own of the memfd of file fe, with its flags and position. */
static int open_memfd(const FileEntry *fe, int flags, uint64_t pos)
{
	struct rshmem *m = memfd_of_file(fe->id);
	char path[64];
	int fd;

	if (!m)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", m->fd);
	fd = open(path, (flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC)) | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open memfd %s", m->inode->name);
		return -errno;
	}
	if (pos && lseek(fd, (off_t)pos, SEEK_SET) < 0) {
		pr_perror("can't seek memfd %s to %llu", m->inode->name, (unsigned long long)pos);
		close(fd);
		return -errno;
	}
	return fd;
}
