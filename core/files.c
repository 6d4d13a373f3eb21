/* Open files at dump time: see core/include/files.h. */
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

#include "files.h"
#include "file-locks.h"
#include "image-desc.h"
#include "image.h"
#include "log.h"
#include "options.h"
#include "proc.h"
#include "proto/pipe-data.pb-c.h"
#include "proto/pipe.pb-c.h"
#include "proto/regfile.pb-c.h"

#define KCMP_FILE 0

struct dfile {
	unsigned int id;
	pid_t pid; /* a task holding it, and its fd there (for kcmp); fd -1 for paths */
	int fd;
	dev_t dev;
	ino_t ino;
	FileEntry fe;
	RegFileEntry reg;
	PipeEntry pipe;
	FownEntry fown;
	char *name;
	/* pipes: the data in flight, copied without consuming it */
	char *pipe_data;
	size_t pipe_bytes;
	unsigned int pipe_size;
	bool pipe_size_seen; /* the first description of its pipe: writes its size */
	bool pipe_taken;
};

static struct dfile **dfiles;
static size_t nr_dfiles, cap_dfiles;
static unsigned int next_id = 1;

static struct dfile *new_dfile(void)
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
	f->id = next_id++;
	file_entry__init(&f->fe);
	reg_file_entry__init(&f->reg);
	pipe_entry__init(&f->pipe);
	fown_entry__init(&f->fown);
	f->fe.id = f->id;
	dfiles[nr_dfiles++] = f;
	return f;
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

struct fdinfo_text {
	unsigned long long pos;
	unsigned int flags;
};

static int read_fdinfo(pid_t pid, int fd, struct fdinfo_text *fi)
{
	char path[64], *buf, *p;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	buf = proc_read_file(path, NULL);
	if (!buf)
		return -errno;
	fi->pos = 0;
	fi->flags = 0;
	if ((p = strstr(buf, "pos:")))
		fi->pos = strtoull(p + 4, NULL, 10);
	if ((p = strstr(buf, "flags:")))
		fi->flags = (unsigned int)strtoul(p + 6, NULL, 8);
	free(buf);
	return 0;
}

/* The task's open file description of fd, as an fd of ours. */
static int task_fd(pid_t pid, int fd)
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
static int dump_fown(pid_t pid, int fd, struct dfile *f)
{
	struct f_owner_ex ex = { 0, 0 };
	struct proc_status st;
	int tfd = task_fd(pid, fd), sig, ret = 0;

	if (tfd < 0) {
		pr_err("can't take fd %d of pid %d: %s\n", fd, pid, strerror(-tfd));
		return tfd;
	}
	sig = fcntl(tfd, F_GETSIG);
	if (fcntl(tfd, F_GETOWN_EX, &ex) < 0 || sig < 0) {
		ret = -errno;
		pr_perror("can't read the owner of fd %d of pid %d", fd, pid);
	}
	if (!ret && (f->fe.type == FD_TYPES__PIPE) && !f->pipe_size_seen) {
		int size = fcntl(tfd, F_GETPIPE_SZ);

		f->pipe_size = size > 0 ? (unsigned int)size : 0;
		f->pipe_size_seen = true;
	}
	close(tfd);
	if (ret)
		return ret;
	f->fown.signum = (uint32_t)sig;
	f->fown.pid_type = (uint32_t)ex.type;
	f->fown.pid = (uint32_t)ex.pid;
	if (ex.pid && !proc_read_status(pid, 0, &st)) {
		f->fown.uid = st.uid[0];
		f->fown.euid = st.uid[1];
	}
	return 0;
}

/* Copies what is queued in the task's pipe without taking it: tee() from
 * a duplicate of the task's fd into a pipe of ours. */
static int peek_pipe(pid_t pid, int fd, struct dfile *f)
{
	int tfd = task_fd(pid, fd), p[2] = { -1, -1 }, ret = 0;
	int size;

	if (tfd < 0)
		return tfd;
	size = fcntl(tfd, F_GETPIPE_SZ);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) || (size > 0 && fcntl(p[1], F_SETPIPE_SZ, size) < 0)) {
		ret = -errno;
		goto out;
	}
	{
		ssize_t n = tee(tfd, p[1], (size_t)(size > 0 ? size : 65536), SPLICE_F_NONBLOCK);

		if (n < 0 && errno != EAGAIN) {
			ret = -errno;
			goto out;
		}
		if (n > 0) {
			f->pipe_data = malloc((size_t)n);
			if (!f->pipe_data) {
				ret = -ENOMEM;
				goto out;
			}
			if (read(p[0], f->pipe_data, (size_t)n) != n) {
				ret = -EIO;
				goto out;
			}
			f->pipe_bytes = (size_t)n;
		}
	}
out:
	close(tfd);
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	return ret;
}

static const char *kind_of(mode_t m, const char *link)
{
	if (!strncmp(link, "socket:", 7))
		return "socket";
	if (!strncmp(link, "anon_inode:", 11))
		return link + 11;
	if (S_ISDIR(m))
		return "directory";
	if (S_ISBLK(m))
		return "block device";
	if (S_ISFIFO(m))
		return "FIFO";
	return "unknown file";
}

static int dump_one_fd(pid_t pid, int fd, FdinfoEntry *fe)
{
	char path[64], link[PATH_MAX];
	struct fdinfo_text fi = { 0, 0 };
	struct dfile *f;
	struct stat st;
	ssize_t n;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0 || stat(path, &st))
		return -errno;
	link[n] = '\0';
	ret = read_fdinfo(pid, fd, &fi);
	if (ret)
		return ret;
	fe->fd = (uint32_t)fd;
	fe->flags = (fi.flags & O_CLOEXEC) ? FD_CLOEXEC : 0;

	f = find_same(pid, fd, &st);
	if (f) {
		fe->id = f->id;
		fe->type = f->fe.type;
		return 0;
	}

	if (S_ISFIFO(st.st_mode) && !strncmp(link, "pipe:", 5)) {
		f = new_dfile();
		if (!f)
			return -ENOMEM;
		f->pid = pid;
		f->fd = fd;
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->fe.type = FD_TYPES__PIPE;
		f->fe.pipe = &f->pipe;
		f->pipe.id = f->id;
		f->pipe.pipe_id = (uint32_t)st.st_ino;
		f->pipe.flags = fi.flags & ~O_CLOEXEC;
		f->pipe.fown = &f->fown;
		for (size_t i = 0; i + 1 < nr_dfiles; i++)
			if (dfiles[i]->fe.type == FD_TYPES__PIPE && dfiles[i]->ino == st.st_ino)
				f->pipe_size_seen = true; /* written by that one */
		ret = dump_fown(pid, fd, f);
		if (ret)
			return ret;
		/* the data is taken once per pipe, from a read end: a pipe whose
		 * read end is outside the tree keeps its data for that reader */
		if ((fi.flags & O_ACCMODE) == O_WRONLY)
			goto typed;
		for (size_t i = 0; i + 1 < nr_dfiles; i++)
			if (dfiles[i]->fe.type == FD_TYPES__PIPE && dfiles[i]->ino == st.st_ino &&
			    dfiles[i]->pipe_taken)
				goto typed;
		f->pipe_taken = true;
		ret = peek_pipe(pid, fd, f);
		if (ret) {
			pr_err("can't read the data in pipe %s (fd %d of pid %d): %s\n", link, fd, pid,
			       strerror(-ret));
			return ret;
		}
typed:
		fe->id = f->id;
		fe->type = FD_TYPES__PIPE;
		return 0;
	}
	if (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)) {
		if (link[0] != '/' || strstr(link, " (deleted)")) {
			pr_err("fd %d of pid %d: %s: unlinked files are not supported yet\n", fd, pid,
			       link);
			return -EOPNOTSUPP;
		}
		f = new_dfile();
		if (!f)
			return -ENOMEM;
		f->pid = pid;
		f->fd = fd;
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->name = strdup(link);
		if (!f->name)
			return -ENOMEM;
		f->fe.type = FD_TYPES__REG;
		f->fe.reg = &f->reg;
		f->reg.id = f->id;
		f->reg.flags = fi.flags & ~O_CLOEXEC;
		f->reg.pos = S_ISREG(st.st_mode) ? fi.pos : 0;
		f->reg.fown = &f->fown;
		f->reg.name = f->name;
		ret = dump_fown(pid, fd, f);
		if (ret)
			return ret;
		f->reg.has_size = S_ISREG(st.st_mode);
		f->reg.size = (uint64_t)st.st_size;
		f->reg.has_mode = true;
		f->reg.mode = st.st_mode;
		fe->id = f->id;
		fe->type = FD_TYPES__REG;
		return 0;
	}
	pr_err("fd %d of pid %d is a %s (%s): this kind of file is not supported yet\n", fd, pid,
	       kind_of(st.st_mode, link), link);
	return -EOPNOTSUPP;
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

int files_dump_path(pid_t pid, const char *link, const char *path, unsigned int *id)
{
	struct dfile *f = new_dfile();
	struct stat st;

	if (!f)
		return -ENOMEM;
	f->pid = pid;
	f->fd = -1;
	f->name = strdup(path);
	if (!f->name)
		return -ENOMEM;
	f->fe.type = FD_TYPES__REG;
	f->fe.reg = &f->reg;
	f->reg.id = f->id;
	f->reg.flags = O_RDONLY;
	f->reg.fown = &f->fown;
	f->reg.name = f->name;
	if (link && !stat(link, &st)) {
		f->reg.has_size = true;
		f->reg.size = (uint64_t)st.st_size;
		f->reg.has_mode = true;
		f->reg.mode = st.st_mode;
	}
	*id = f->id;
	return 0;
}

int files_write_images(int dirfd)
{
	struct cr_img *img = img_open(dirfd, IMG_FILES, O_WRONLY), *pd;
	int ret = 0;

	if (!img)
		return -EIO;
	for (size_t i = 0; i < nr_dfiles && !ret; i++)
		ret = img_write_pb(img, &dfiles[i]->fe.base);
	if (img_close(img) && !ret)
		ret = -EIO;
	if (ret)
		return ret;
	pd = img_open(dirfd, IMG_PIPES_DATA, O_WRONLY);
	if (!pd)
		return -EIO;
	/* one entry a pipe, from its first description: its size even when it
	 * is empty, and the data taken from a read end */
	for (size_t i = 0; i < nr_dfiles && !ret; i++) {
		struct dfile *f = dfiles[i], *data = NULL;
		PipeDataEntry e = PIPE_DATA_ENTRY__INIT;

		if (f->fe.type != FD_TYPES__PIPE || !f->pipe_size)
			continue;
		for (size_t j = i; j < nr_dfiles; j++)
			if (dfiles[j]->fe.type == FD_TYPES__PIPE && dfiles[j]->ino == f->ino &&
			    dfiles[j]->pipe_taken)
				data = dfiles[j];
		e.pipe_id = f->pipe.pipe_id;
		e.bytes = data ? (uint32_t)data->pipe_bytes : 0;
		e.has_size = true;
		e.size = f->pipe_size;
		ret = img_write_pb(pd, &e.base);
		if (!ret && e.bytes)
			ret = img_write_raw(pd, data->pipe_data, data->pipe_bytes);
	}
	if (img_close(pd) && !ret)
		ret = -EIO;
	if (!ret)
		ret = locks_write(dirfd);
	return ret;
}

void files_dump_fini(void)
{
	for (size_t i = 0; i < nr_dfiles; i++) {
		free(dfiles[i]->name);
		free(dfiles[i]->pipe_data);
		free(dfiles[i]);
	}
	free(dfiles);
	dfiles = NULL;
	nr_dfiles = cap_dfiles = 0;
	next_id = 1;
	locks_dump_fini();
}
