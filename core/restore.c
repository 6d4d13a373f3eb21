/*
 * criu restore: recreate the dumped tree with the same PIDs.
 *
 * criu reads every image first, checks that this CPU can run the tasks and
 * that every PID is free, then forks the root with clone3(set_tid); each
 * task (still running criu's code) forks its own children the same way,
 * sets up its session, pipes and files, maps the restorer blob into a hole
 * that neither criu nor the dumped task uses, and jumps into it.  The
 * restorer unmaps criu, moves this kernel's vDSO where the dumped one was,
 * maps and fills the VMAs straight from pages-N.img, restores signal state,
 * timers, limits and credentials, reports to criu through shared memory
 * and waits.  criu then seizes each task (compel), unmaps the restorer,
 * writes the dumped registers and signal mask of every thread and lets it
 * go.  On any failure criu kills every task it created and says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch-image.h"
#include "blob.h"
#include "commands.h"
#include "compel-arch.h"
#include "compel.h"
#include "dump.h"
#include "image-desc.h"
#include "image.h"
#include "log.h"
#include "options.h"
#include "proc.h"
#include "proto/core.pb-c.h"
#include "proto/fdinfo.pb-c.h"
#include "proto/fs.pb-c.h"
#include "proto/mm.pb-c.h"
#include "proto/pagemap.pb-c.h"
#include "proto/pipe-data.pb-c.h"
#include "proto/pstree.pb-c.h"
#include "proto/seccomp.pb-c.h"
#include "proto/stats.pb-c.h"
#include "restorer-blob.h"
#include "show.h"
#include "vdso.h"
#include "vma.h"
#include "pie/restorer.h"

#define MAX_TASKS 4096
#define RESTORE_TIMEOUT_S 60

struct rtask {
	PstreeEntry *pe;
	CoreEntry *core;
	MmEntry *mm;
	PagemapEntry **pm;
	size_t npm;
	unsigned int pages_id;
	FdinfoEntry **fds;
	size_t nfds;
	FsEntry *fs;
	int parent;
	bool zombie;
	bool stopped;
	CoreEntry **thread_cores; /* threads[1..]: core-TID.img of each */
	unsigned long *premap;	  /* per VMA: where criu premapped it (0: not) */
	int th_status;		  /* status[] index of threads[1] */
};

static int nr_status;

struct rpipe {
	uint32_t pipe_id;
	int lca;      /* the task that creates it */
	int fds[2];   /* in the creator and, inherited, its descendants */
	const uint8_t *data;
	uint32_t bytes, size;
};

/* shared anonymous memory: one memfd per object, made by the lowest
 * common ancestor of its users before it forks them */
struct rshmem {
	uint64_t shmid;
	int lca;
	uint64_t size;
	int fd;
};

static struct rshmem *shmems;
static size_t nr_shmems;
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
static size_t nr_shared_files;
static SeccompEntry *seccomp;
static struct rtask *tasks;
static int nr_tasks;
static FileEntry **files;
static size_t nr_files;
static struct rpipe *pipes;
static size_t nr_pipes;
static uint8_t *pipes_data;
static size_t pipes_data_len;
static int images_dirfd = -1;

/* criu's shared memory with every task it creates */
static struct restorer_status *status;
static size_t status_size;

static uint32_t us_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (uint32_t)((b.tv_sec - a->tv_sec) * 1000000 + (b.tv_nsec - a->tv_nsec) / 1000);
}

/* ---- reading the images ------------------------------------------------------ */

static void missing(enum img_type type, unsigned long id)
{
	char name[256];

	img_file_name(name, sizeof(name), type, id);
	pr_err("image %s is missing from %s\n", name, opts.images_dir);
}

static int read_all(int dirfd, enum img_type type, unsigned long id, ProtobufCMessage ***out,
		    size_t *n, bool must_exist)
{
	struct cr_img *img = img_open(dirfd, type, O_RDONLY | (must_exist ? 0 : O_CREAT), id);
	ProtobufCMessage *m, **arr = NULL;
	size_t cap = 0;
	int ret;

	*out = NULL;
	*n = 0;
	if (!img) {
		if (must_exist && errno == ENOENT)
			missing(type, id);
		return must_exist ? -ENOENT : 0;
	}
	while ((ret = img_read_pb(img, NULL, &m)) > 0) {
		if (*n == cap) {
			ProtobufCMessage **na = realloc(arr, (cap = cap ? cap * 2 : 16) * sizeof(*na));

			if (!na) {
				protobuf_c_message_free_unpacked(m, NULL);
				ret = -ENOMEM;
				break;
			}
			arr = na;
		}
		arr[(*n)++] = m;
	}
	img_close(img);
	*out = arr;
	return ret < 0 ? ret : 0;
}

static int read_one(int dirfd, enum img_type type, unsigned long id, ProtobufCMessage **out)
{
	struct cr_img *img = img_open(dirfd, type, O_RDONLY, id);
	int ret;

	*out = NULL;
	if (!img) {
		if (errno == ENOENT)
			missing(type, id);
		return -ENOENT;
	}
	ret = img_read_one(img, NULL, out);
	img_close(img);
	return ret < 0 ? ret : 0;
}

static int find_task_index(uint32_t pid)
{
	for (int i = 0; i < nr_tasks; i++)
		if (tasks[i].pe->pid == pid)
			return i;
	return -1;
}

static int read_pagemap(int dirfd, struct rtask *t)
{
	struct cr_img *img = img_open(dirfd, IMG_PAGEMAP, O_RDONLY, (unsigned long)t->pe->pid);
	ProtobufCMessage *m;
	size_t cap = 0;
	int ret;

	if (!img) {
		if (errno == ENOENT)
			missing(IMG_PAGEMAP, t->pe->pid);
		return -ENOENT;
	}
	ret = img_read_pb(img, NULL, &m); /* the head */
	if (ret <= 0) {
		img_close(img);
		pr_err("pagemap-%u.img has no head\n", t->pe->pid);
		return -EINVAL;
	}
	t->pages_id = ((PagemapHead *)m)->pages_id;
	protobuf_c_message_free_unpacked(m, NULL);
	while ((ret = img_read_pb(img, &pagemap_entry__descriptor, &m)) > 0) {
		if (t->npm == cap) {
			PagemapEntry **n = realloc(t->pm, (cap = cap ? cap * 2 : 64) * sizeof(*n));

			if (!n) {
				protobuf_c_message_free_unpacked(m, NULL);
				ret = -ENOMEM;
				break;
			}
			t->pm = n;
		}
		t->pm[t->npm++] = (PagemapEntry *)m;
	}
	img_close(img);
	return ret < 0 ? ret : 0;
}

static int read_task(int dirfd, struct rtask *t)
{
	uint32_t pid = t->pe->pid;
	int ret;

	ret = read_one(dirfd, IMG_CORE, pid, (ProtobufCMessage **)&t->core);
	if (ret) {
		pr_err("can't read core-%u.img\n", pid);
		return ret;
	}
	if (!t->core->tc) {
		pr_err("core-%u.img has no task state\n", pid);
		return -EINVAL;
	}
	if (t->core->tc->n_sigactions && t->core->tc->n_sigactions != 62) {
		pr_err("core-%u.img has %zu signal actions, want 62 (1..64 without SIGKILL and "
		       "SIGSTOP)\n",
		       pid, t->core->tc->n_sigactions);
		return -EINVAL;
	}
	t->zombie = t->core->tc->task_state == TASK_STATE_DEAD;
	t->stopped = t->core->tc->task_state == TASK_STATE_STOPPED;
	if (t->zombie)
		return 0;
	if (t->core->tc->task_state != TASK_STATE_ALIVE && !t->stopped) {
		pr_err("core-%u.img: unknown task state %u\n", pid, t->core->tc->task_state);
		return -EINVAL;
	}
	if (!t->pe->n_threads || t->pe->threads[0] != pid) {
		pr_err("pstree.img: the first thread of pid %u is not the process itself\n", pid);
		return -EINVAL;
	}
	t->thread_cores = calloc(t->pe->n_threads, sizeof(CoreEntry *));
	if (!t->thread_cores)
		return -ENOMEM;
	t->th_status = nr_status;
	for (size_t i = 1; i < t->pe->n_threads; i++) {
		ret = read_one(dirfd, IMG_CORE, t->pe->threads[i],
			       (ProtobufCMessage **)&t->thread_cores[i]);
		if (ret) {
			pr_err("can't read core-%u.img (thread of %u)\n", t->pe->threads[i], pid);
			return ret;
		}
		nr_status++;
	}
	ret = read_one(dirfd, IMG_MM, pid, (ProtobufCMessage **)&t->mm);
	if (!ret)
		ret = read_pagemap(dirfd, t);
	if (!ret)
		ret = read_all(dirfd, IMG_FDINFO, pid, (ProtobufCMessage ***)&t->fds, &t->nfds, true);
	if (!ret)
		ret = read_one(dirfd, IMG_FS, pid, (ProtobufCMessage **)&t->fs);
	if (ret)
		pr_err("can't read the images of pid %u: %s\n", pid, strerror(-ret));
	return ret;
}

static const FileEntry *file_by_id(uint32_t id)
{
	for (size_t i = 0; i < nr_files; i++)
		if (files[i]->id == id)
			return files[i];
	return NULL;
}

static int read_pipes_data(int dirfd)
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

/* The lowest common ancestor of a and b in the tree. */
static int lca(int a, int b)
{
	for (int x = a; x >= 0; x = tasks[x].parent)
		for (int y = b; y >= 0; y = tasks[y].parent)
			if (x == y)
				return x;
	return 0;
}

static int plan_pipes(void)
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

static int plan_shared_files(void)
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

static int plan_shmem(void)
{
	for (int i = 0; i < nr_tasks; i++) {
		const MmEntry *mm = tasks[i].mm;

		for (size_t j = 0; mm && j < mm->n_vmas; j++) {
			const VmaEntry *e = mm->vmas[j];
			uint64_t end = e->pgoff + (e->end - e->start);
			size_t k;

			if (!(e->status & VMA_ANON_SHARED) || !e->shmid)
				continue;
			for (k = 0; k < nr_shmems; k++)
				if (shmems[k].shmid == e->shmid)
					break;
			if (k == nr_shmems) {
				struct rshmem *n = realloc(shmems, (nr_shmems + 1) * sizeof(*n));

				if (!n)
					return -ENOMEM;
				shmems = n;
				shmems[k] = (struct rshmem){ e->shmid, i, 0, -1 };
				nr_shmems++;
			} else
				shmems[k].lca = lca(shmems[k].lca, i);
			if (end > shmems[k].size)
				shmems[k].size = end;
		}
	}
	return 0;
}

static int create_shmem(int idx)
{
	for (size_t i = 0; i < nr_shmems; i++) {
		struct rshmem *m = &shmems[i];

		if (m->lca != idx)
			continue;
		m->fd = (int)syscall(SYS_memfd_create, "criu-shmem", MFD_CLOEXEC);
		if (m->fd < 0 || ftruncate(m->fd, (off_t)m->size)) {
			pr_perror("can't create shared memory of %llu bytes",
				  (unsigned long long)m->size);
			return -errno;
		}
	}
	return 0;
}

static struct rshmem *shmem_of(uint64_t shmid)
{
	for (size_t i = 0; i < nr_shmems; i++)
		if (shmems[i].shmid == shmid)
			return &shmems[i];
	return NULL;
}

static int read_images(int dirfd)
{
	PstreeEntry **pe;
	size_t n;
	int ret;

	ret = read_all(dirfd, IMG_PSTREE, 0, (ProtobufCMessage ***)&pe, &n, true);
	if (ret) {
		pr_err("can't read pstree.img from %s\n", opts.images_dir);
		return ret;
	}
	if (!n || n > MAX_TASKS) {
		pr_err("pstree.img lists %zu processes\n", n);
		return -EINVAL;
	}
	tasks = calloc(n, sizeof(*tasks));
	if (!tasks)
		return -ENOMEM;
	nr_tasks = (int)n;
	for (int i = 0; i < nr_tasks; i++) {
		tasks[i].pe = pe[i];
		if (!pe[i]->pid || find_task_index(pe[i]->pid) != i) {
			pr_err("pstree.img: bad or repeated pid %u\n", pe[i]->pid);
			return -EINVAL;
		}
	}
	free(pe);
	for (int i = 0; i < nr_tasks; i++) {
		if (i == 0) {
			tasks[i].parent = -1;
			continue;
		}
		tasks[i].parent = find_task_index(tasks[i].pe->ppid);
		/* parents come first: the dump writes the tree top-down */
		if (tasks[i].parent < 0 || tasks[i].parent >= i) {
			pr_err("pstree.img: the parent %u of pid %u is not listed before it\n",
			       tasks[i].pe->ppid, tasks[i].pe->pid);
			return -EINVAL;
		}
	}
	nr_status = nr_tasks;
	for (int i = 0; i < nr_tasks; i++) {
		ret = read_task(dirfd, &tasks[i]);
		if (ret)
			return ret;
	}
	if (tasks[0].zombie) {
		pr_err("the root of the tree (%u) is a zombie\n", tasks[0].pe->pid);
		return -EINVAL;
	}
	ret = read_all(dirfd, IMG_FILES, 0, (ProtobufCMessage ***)&files, &nr_files, true);
	if (ret) {
		pr_err("can't read files.img\n");
		return ret;
	}
	{
		struct cr_img *img = img_open(dirfd, IMG_SECCOMP, O_RDONLY | O_CREAT);

		if (img) {
			ret = img_read_one(img, NULL, (ProtobufCMessage **)&seccomp);
			img_close(img);
			if (ret < 0) {
				pr_err("can't read seccomp.img\n");
				return ret;
			}
		}
	}
	ret = plan_pipes();
	if (!ret)
		ret = plan_shmem();
	if (!ret)
		ret = plan_shared_files();
	if (!ret)
		ret = read_pipes_data(dirfd);
	return ret;
}

/* ---- before anything is created ------------------------------------------------ */

static int check_pids_free(void)
{
	for (int i = 0; i < nr_tasks; i++)
		for (size_t j = 0; j < tasks[i].pe->n_threads; j++) {
			uint32_t pid = tasks[i].pe->threads[j];
			struct proc_stat st;
			char path[32];

			snprintf(path, sizeof(path), "/proc/%u", pid);
			if (access(path, F_OK))
				continue;
			if (proc_read_stat((pid_t)pid, 0, &st))
				st.comm[0] = '\0';
			pr_err("PID %u is taken by a running process (%s): restore needs it free\n", pid,
			       st.comm);
			return -EEXIST;
		}
	return 0;
}

/* ---- in each new task --------------------------------------------------------------- */

static void report(int idx, long ret, uint32_t step)
{
	status[idx].ret = ret;
	status[idx].step = step;
	__atomic_store_n(&status[idx].done, 1u, __ATOMIC_RELEASE);
}

/*
 * Kernels before clone3's set_tid (5.5): write pid - 1 to ns_last_pid and
 * fork, under an flock so that other restores on the machine take turns;
 * something else may still take the pid first, which the caller sees.
 */
static pid_t fork_with_ns_last_pid(pid_t pid)
{
	int fd = open("/proc/sys/kernel/ns_last_pid", O_RDWR | O_CLOEXEC);
	char buf[16];
	pid_t r;
	int n;

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX)) {
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d", pid - 1);
	if (pwrite(fd, buf, (size_t)n, 0) != n) {
		close(fd);
		return -1;
	}
	r = fork();
	if (r == 0)
		return 0;
	flock(fd, LOCK_UN);
	close(fd);
	return r;
}

static pid_t clone_with_pid(pid_t pid, int exit_signal, uint64_t flags)
{
	struct clone_args args;
	pid_t r;

	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.exit_signal = (uint64_t)exit_signal;
	args.set_tid = (uintptr_t)&pid;
	args.set_tid_size = 1;
	r = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (r < 0 && (errno == ENOSYS || errno == E2BIG) && !flags && exit_signal == SIGCHLD)
		r = fork_with_ns_last_pid(pid);
	return r;
}

static void restore_task(int idx) __attribute__((noreturn));

/*
 * Process groups: a child that leads one, then children that join a group
 * led by someone else already there (a sibling, this task, an ancestor).
 * The parent does it, so no child has to wait for another.
 */
static int set_child_groups(int idx)
{
	for (int pass = 0; pass < 2; pass++)
		for (int i = idx + 1; i < nr_tasks; i++) {
			struct rtask *c = &tasks[i];
			pid_t pid = (pid_t)c->pe->pid, pgid = (pid_t)c->pe->pgid;

			if (c->parent != idx || c->pe->sid == c->pe->pid)
				continue;
			if (opts.shell_job && find_task_index(c->pe->sid) < 0)
				continue;
			if ((pass == 0) != (pgid == pid) || pgid == getpgrp())
				continue;
			if (setpgid(pid, pgid) && errno != EACCES) {
				pr_perror("can't put pid %d in process group %d", pid, pgid);
				return -errno;
			}
		}
	return 0;
}

static int fork_children(int idx)
{
	for (int i = idx + 1; i < nr_tasks; i++) {
		pid_t pid;

		if (tasks[i].parent != idx)
			continue;
		pid = clone_with_pid((pid_t)tasks[i].pe->pid, SIGCHLD, 0);
		if (pid < 0) {
			pr_perror("can't create pid %u", tasks[i].pe->pid);
			return -errno;
		}
		if (pid == 0)
			restore_task(i);
		if (pid != (pid_t)tasks[i].pe->pid) {
			pr_err("asked for pid %u, the kernel gave %d\n", tasks[i].pe->pid, pid);
			kill(pid, SIGKILL);
			return -EEXIST;
		}
		/* a zombie must be dead before our restorer ignores SIGCHLD, or
		 * the kernel reaps it at once: wait for that, without reaping */
		if (tasks[i].zombie) {
			siginfo_t si;

			while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) && errno == EINTR)
				;
		}
	}
	return 0;
}

static int open_reg(const FileEntry *fe, uint32_t fdnum, uint32_t pid);

static int create_shared_files(int idx)
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

static int create_pipes(int idx)
{
	for (size_t i = 0; i < nr_pipes; i++) {
		struct rpipe *p = &pipes[i];

		if (p->lca != idx)
			continue;
		if (pipe2(p->fds, 0)) {
			pr_perror("can't create pipe %u", p->pipe_id);
			return -errno;
		}
		if (p->size)
			fcntl(p->fds[1], F_SETPIPE_SZ, (int)p->size);
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
	if (fe->reg->pos && lseek(fd, (off_t)fe->reg->pos, SEEK_SET) < 0) {
		pr_perror("fd %u of pid %u: can't seek %s to %llu", fdnum, pid, fe->reg->name,
			  (unsigned long long)fe->reg->pos);
		close(fd);
		return -errno;
	}
	return fd;
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
		if (ret >= 0 && (fe->pipe->flags & O_NONBLOCK))
			fcntl(ret, F_SETFL, O_NONBLOCK);
		return ret < 0 ? -errno : ret;
	}
	if (fe->type == FD_TYPES__REG && fe->reg) {
		for (size_t i = 0; i < nr_shared_files; i++)
			if (shared_files[i].id == fe->id && shared_files[i].fd >= 0) {
				ret = fcntl(shared_files[i].fd, F_DUPFD_CLOEXEC, 0);
				return ret < 0 ? -errno : ret;
			}
		return open_reg(fe, fd->fd, pid);
	}
	pr_err("fd %u of pid %u: files of type %d are not supported yet\n", fd->fd, pid, fe->type);
	return -EOPNOTSUPP;
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
static int place_fds(int idx, int *keep, int nkeep)
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
	}
	for (size_t i = 0; i < t->nfds; i++) {
		bool again = false;

		for (size_t j = 0; j < i; j++)
			again |= plan[j].src == plan[i].src;
		if (!again)
			close(plan[i].src);
	}
out:
	free(plan);
	return ret;
}

static void set_session(struct rtask *t)
{
	pid_t pid = (pid_t)t->pe->pid;

	/* a shell job joins criu's session and process group */
	if (opts.shell_job && find_task_index(t->pe->sid) < 0)
		return;

	if (t->pe->sid == (uint32_t)pid)
		setsid();
	else if (t->pe->pgid == (uint32_t)pid)
		setpgid(0, 0);
}

static void zombie_exit(struct rtask *t) __attribute__((noreturn));
static void zombie_exit(struct rtask *t)
{
	uint32_t code = t->core->tc->exit_code;

	prctl(PR_SET_NAME, t->core->tc->comm);
	if (WIFSIGNALED(code)) {
		signal(WTERMSIG(code), SIG_DFL);
		prctl(PR_SET_DUMPABLE, 0); /* no core file */
		kill(getpid(), WTERMSIG(code));
	}
	_exit(WEXITSTATUS(code));
}

/* ---- the restorer's arguments ---------------------------------------------------- */

#define MAX_UNMAPS 2048
#define MAX_MOVES 8
#define MAX_KEEP 1024

struct interval {
	unsigned long start, end;
};

static int cmp_interval(const void *a, const void *b)
{
	const struct interval *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Our own mappings, named: the vDSO block is told apart. */
struct self_map {
	unsigned long start, end;
	char name[32];
};

static int read_self_maps(struct self_map **out, int *n)
{
	struct proc_vma *pv;
	int nv, ret = proc_read_vmas(getpid(), &pv, &nv);

	if (ret)
		return ret;
	*out = calloc(nv ? nv : 1, sizeof(**out));
	if (!*out) {
		proc_free_vmas(pv, nv);
		return -ENOMEM;
	}
	for (int i = 0; i < nv; i++) {
		(*out)[i].start = pv[i].start;
		(*out)[i].end = pv[i].end;
		snprintf((*out)[i].name, sizeof((*out)[i].name), "%s", pv[i].path);
	}
	*n = nv;
	proc_free_vmas(pv, nv);
	return 0;
}

/* The highest gap of size bytes that neither we nor the dumped task use. */
static unsigned long find_hole(const MmEntry *mm, const struct self_map *self, int nself,
			       size_t size, const struct interval *extra, size_t nextra)
{
	size_t n = mm->n_vmas + (size_t)nself + nextra;
	struct interval *iv = calloc(n + 1, sizeof(*iv));
	unsigned long hole = 0, low = 1UL << 20, psz = (unsigned long)sysconf(_SC_PAGESIZE);

	if (!iv)
		return 0;
	n = 0;
	/* [vsyscall] sits far above user space: not a ceiling to go under */
	for (size_t i = 0; i < mm->n_vmas; i++)
		if (!(mm->vmas[i]->status & VMA_AREA_VSYSCALL))
			iv[n++] = (struct interval){ mm->vmas[i]->start, mm->vmas[i]->end };
	for (int i = 0; i < nself; i++)
		if (strcmp(self[i].name, "[vsyscall]"))
			iv[n++] = (struct interval){ self[i].start, self[i].end };
	for (size_t i = 0; i < nextra; i++)
		iv[n++] = extra[i];
	qsort(iv, n, sizeof(*iv), cmp_interval);
	/* walk down from the top; never above the highest area in use */
	for (size_t i = n; i-- > 1;) {
		unsigned long top = iv[i].start, bottom = iv[i - 1].end;

		for (size_t j = 0; j < i; j++)
			if (iv[j].end > bottom)
				bottom = iv[j].end;
		if (top > bottom && top - bottom >= size + 2 * psz && top - size - psz >= low) {
			hole = (top - size - psz) & ~(psz - 1);
			break;
		}
	}
	free(iv);
	return hole;
}

/*
 * The status area stays mapped in every task while its restorer maps the
 * dumped memory: it goes where no dumped VMA of any task is, or a restorer
 * would map over it and its reports would never reach criu (likely where
 * mmap randomization is small, e.g. 11 bits on s390x).
 */
static struct restorer_status *map_status(size_t size)
{
	MmEntry none = MM_ENTRY__INIT;
	struct interval *all;
	struct self_map *self;
	size_t n = 0;
	unsigned long hole;
	int nself;
	void *p;

	for (int i = 0; i < nr_tasks; i++)
		n += tasks[i].mm ? tasks[i].mm->n_vmas : 0;
	all = calloc(n + 1, sizeof(*all));
	if (!all || read_self_maps(&self, &nself)) {
		free(all);
		errno = ENOMEM;
		return MAP_FAILED;
	}
	n = 0;
	for (int i = 0; i < nr_tasks; i++)
		for (size_t j = 0; tasks[i].mm && j < tasks[i].mm->n_vmas; j++)
			if (!(tasks[i].mm->vmas[j]->status & VMA_AREA_VSYSCALL))
				all[n++] = (struct interval){ tasks[i].mm->vmas[j]->start,
							      tasks[i].mm->vmas[j]->end };
	hole = find_hole(&none, self, nself, size, all, n);
	free(self);
	free(all);
	if (!hole) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	p = mmap((void *)hole, size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != MAP_FAILED && p != (void *)hole) {
		munmap(p, size); /* a kernel without MAP_FIXED_NOREPLACE */
		errno = EEXIST;
		return MAP_FAILED;
	}
	return p;
}

static bool is_kernel_map(const char *name)
{
	return !strcmp(name, "[vdso]") || !strcmp(name, "[vvar]") ||
	       !strcmp(name, "[vvar_vclock]") || !strcmp(name, "[vsyscall]");
}

/* The dumped vDSO block, and where this kernel's is: moves in order. */
static int plan_vdso(const MmEntry *mm, const struct self_map *self, int nself,
		     struct restorer_move *moves, uint32_t *nr_moves, struct restorer_range *unmaps,
		     uint32_t *nr_unmaps, unsigned long scratch)
{
	const char *names[] = { "[vvar]", "[vvar_vclock]", "[vdso]" };
	const VmaEntry *img[3] = { NULL, NULL, NULL };
	const struct self_map *cur[3] = { NULL, NULL, NULL };
	bool overlap = false;
	uint32_t n = 0;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *e = mm->vmas[i];

		if (e->status & VMA_AREA_VDSO)
			img[2] = e;
		else if (e->status & VMA_AREA_VVAR)
			img[img[0] ? 1 : 0] = e; /* [vvar] is below [vvar_vclock] */
	}
	for (int i = 0; i < nself; i++)
		for (int k = 0; k < 3; k++)
			if (!strcmp(self[i].name, names[k]))
				cur[k] = &self[i];
	/* vvar_vclock: on kernels without it, [vvar] is the only data area */
	if (img[1] && !cur[1] && cur[0]) {
		pr_err("the dumped task had [vvar_vclock]; this kernel has none\n");
		return -EINVAL;
	}
	if (!img[2]) {
		/* no vDSO in the image: drop ours */
		for (int k = 0; k < 3; k++)
			if (cur[k])
				unmaps[(*nr_unmaps)++] = (struct restorer_range){
					cur[k]->start, cur[k]->end - cur[k]->start
				};
		return 0;
	}
	for (int k = 0; k < 3; k++) {
		if (!img[k] && !cur[k])
			continue;
		if (!img[k] || !cur[k] ||
		    img[k]->end - img[k]->start != cur[k]->end - cur[k]->start) {
			pr_err("this kernel's %s is %lu bytes, the dumped one %llu: a vDSO of a "
			       "different layout is not supported yet\n",
			       names[k], cur[k] ? cur[k]->end - cur[k]->start : 0,
			       img[k] ? (unsigned long long)(img[k]->end - img[k]->start) : 0ULL);
			return -EINVAL;
		}
	}
	/* a part that is already in place is no overlap; the place of one
	 * part starting where another is now is one (mremap would unmap it,
	 * or fail to split it) */
	for (int k = 0; k < 3; k++)
		for (int j = 0; j < 3; j++)
			if (img[k] && cur[j] && img[k]->start < cur[j]->end &&
			    cur[j]->start < img[k]->end && (k != j || img[k]->start != cur[j]->start))
				overlap = true;
	if (overlap) {
		unsigned long at = scratch;

		for (int k = 0; k < 3; k++)
			if (cur[k]) {
				moves[n++] = (struct restorer_move){ cur[k]->start,
								    cur[k]->end - cur[k]->start, at };
				at += cur[k]->end - cur[k]->start;
			}
		at = scratch;
		for (int k = 0; k < 3; k++)
			if (cur[k]) {
				moves[n++] = (struct restorer_move){ at, cur[k]->end - cur[k]->start,
								    img[k]->start };
				at += cur[k]->end - cur[k]->start;
			}
	} else {
		for (int k = 0; k < 3; k++)
			if (cur[k])
				moves[n++] = (struct restorer_move){
					cur[k]->start, cur[k]->end - cur[k]->start, img[k]->start
				};
	}
	*nr_moves = n;
	return 0;
}

static int open_file_id(uint32_t id, int flags)
{
	const FileEntry *fe = file_by_id(id);
	int fd;

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

static size_t seccomp_bytes(void)
{
	size_t n = 0;

	for (size_t i = 0; seccomp && i < seccomp->n_seccomp_filters; i++)
		n += seccomp->seccomp_filters[i]->filter.len + sizeof(struct restorer_seccomp) * 4 + 16;
	return n;
}

/*
 * The filters of a thread, oldest first, into *area (the insns copied once
 * per task into insns_copy).  Returns 0 or -EINVAL for a broken chain.
 */
static int fill_seccomp(const ThreadCoreEntry *th, struct restorer_creds *rc, uint8_t **area,
			uint64_t *insns_at)
{
	uint32_t chain[512];
	int n = 0;

	if (!th || !th->has_seccomp_mode || th->seccomp_mode == SECCOMP_MODE__disabled)
		return 0;
	if (th->seccomp_mode == SECCOMP_MODE__strict) {
		rc->seccomp_strict = 1;
		return 0;
	}
	if (!seccomp || !th->has_seccomp_filter) {
		pr_err("a thread uses seccomp filters and seccomp.img has none\n");
		return -EINVAL;
	}
	for (uint32_t at = th->seccomp_filter;; n++) {
		const SeccompFilter *f;

		if (at >= seccomp->n_seccomp_filters || n == 512) {
			pr_err("seccomp.img: broken filter chain at %u\n", at);
			return -EINVAL;
		}
		chain[n] = at;
		f = seccomp->seccomp_filters[at];
		if (!f->filter.len || f->filter.len % 8 || f->filter.len / 8 > 4096) {
			pr_err("seccomp.img: filter %u has %zu bytes\n", at, f->filter.len);
			return -EINVAL;
		}
		if (!f->has_prev)
			break;
		at = f->prev;
	}
	n++;
	{
		struct restorer_seccomp *rs = (struct restorer_seccomp *)(((uintptr_t)*area + 7) & ~(uintptr_t)7);

		rc->seccomp_filters = (uintptr_t)rs;
		rc->nr_seccomp = (uint32_t)n;
		for (int i = 0; i < n; i++) {
			const SeccompFilter *f = seccomp->seccomp_filters[chain[n - 1 - i]];

			rs[i].insns = insns_at[chain[n - 1 - i]];
			rs[i].len = (uint32_t)(f->filter.len / 8);
			rs[i].flags = f->has_flags ? f->flags : 0;
		}
		*area = (uint8_t *)(rs + n);
	}
	return 0;
}

static size_t queue_len(const SignalQueueEntry *q)
{
	return q ? q->n_signals : 0;
}

static size_t count_siginfos(const struct rtask *t)
{
	size_t n = queue_len(t->core->tc->signals_s);

	for (size_t i = 0; i < t->pe->n_threads; i++) {
		const CoreEntry *c = i ? t->thread_cores[i] : t->core;

		if (c->thread_core)
			n += queue_len(c->thread_core->signals_p);
	}
	return n;
}

/* Copies a queue's siginfos to *at; the count. */
static uint32_t put_siginfos(const SignalQueueEntry *q, uint8_t **at)
{
	uint32_t n = 0;

	for (size_t i = 0; q && i < q->n_signals; i++) {
		const SiginfoEntry *e = q->signals[i];

		if (e->siginfo.len != RESTORER_SIGINFO_SIZE)
			continue;
		memcpy(*at, e->siginfo.data, RESTORER_SIGINFO_SIZE);
		*at += RESTORER_SIGINFO_SIZE;
		n++;
	}
	return n;
}

static uint32_t fill_creds(const CredsEntry *c, struct restorer_creds *rc)
{
	char *last = proc_read_file("/proc/sys/kernel/cap_last_cap", NULL);

	rc->uid = c->uid, rc->euid = c->euid, rc->suid = c->suid, rc->fsuid = c->fsuid;
	rc->gid = c->gid, rc->egid = c->egid, rc->sgid = c->sgid, rc->fsgid = c->fsgid;
#define CAP64(f) (c->n_##f >= 2 ? ((uint64_t)c->f[1] << 32) | c->f[0] : c->n_##f ? c->f[0] : 0)
	rc->cap_inh = CAP64(cap_inh);
	rc->cap_prm = CAP64(cap_prm);
	rc->cap_eff = CAP64(cap_eff);
	rc->cap_bnd = CAP64(cap_bnd);
	rc->cap_amb = CAP64(cap_amb);
#undef CAP64
	rc->secbits = c->secbits;
	rc->no_new_privs = c->has_no_new_privs && c->no_new_privs;
	rc->ngroups = c->n_groups < 64 ? (uint32_t)c->n_groups : 64;
	memcpy(rc->groups, c->groups, rc->ngroups * sizeof(uint32_t));
	rc->last_cap = last ? (uint32_t)atoi(last) : 40;
	free(last);
	return 1;
}

static void fill_thread(struct rtask *t, size_t i, struct restorer_thread *rt, unsigned long stack,
			int st_idx)
{
	const CoreEntry *core = t->thread_cores[i];
	const ThreadCoreEntry *th = core->thread_core;

	memset(rt, 0, sizeof(*rt));
	rt->set_tid = t->pe->threads[i];
	rt->ca.stack = stack;
	rt->ca.stack_size = RESTORER_THREAD_STACK;
	rt->clear_tid_addr = arch_core_clear_tid(core);
	rt->status = (uintptr_t)&status[st_idx];
	if (!th)
		return;
	if (th->rseq_entry && th->rseq_entry->rseq_abi_size) {
		rt->rseq_ptr = th->rseq_entry->rseq_abi_pointer;
		rt->rseq_len = th->rseq_entry->rseq_abi_size;
		rt->rseq_sig = th->rseq_entry->signature;
	}
	if (th->sas && th->sas->ss_size) {
		rt->has_sas = 1;
		rt->ss_sp = th->sas->ss_sp;
		rt->ss_size = th->sas->ss_size;
		rt->ss_flags = (int32_t)th->sas->ss_flags & ~1;
	}
	rt->pdeath_sig = th->has_pdeath_sig ? th->pdeath_sig : 0;
	if (th->comm)
		snprintf(rt->comm, sizeof(rt->comm), "%s", th->comm);
	if (th->creds)
		rt->has_creds = fill_creds(th->creds, &rt->creds);
}

static void fill_state(struct rtask *t, struct restorer_task *rt)
{
	const TaskCoreEntry *tc = t->core->tc;
	const ThreadCoreEntry *th = t->core->thread_core;

	/* upstream's layout: signals 1..64 without SIGKILL and SIGSTOP */
	for (int sig = 1, i = 0; sig <= 64 && (size_t)i < tc->n_sigactions; sig++) {
		const SaEntry *sa;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa = tc->sigactions[i++];
		rt->sa[sig - 1] = (struct restorer_ksigaction){ sa->sigaction, sa->flags,
								sa->restorer, sa->mask };
		rt->sa_valid |= 1ULL << (sig - 1);
	}
	if (tc->timers) {
		const ItimerEntry *it[3] = { tc->timers->real, tc->timers->virt, tc->timers->prof };

		for (int k = 0; k < 3; k++)
			if (it[k])
				rt->itimers[k] = (struct restorer_itimer){
					(int64_t)it[k]->isec, (int64_t)it[k]->iusec,
					(int64_t)it[k]->vsec, (int64_t)it[k]->vusec
				};
	}
	if (tc->rlimits)
		for (size_t i = 0; i < tc->rlimits->n_rlimits && i < RESTORER_RLIMITS; i++) {
			rt->rlimits[i][0] = tc->rlimits->rlimits[i]->cur;
			rt->rlimits[i][1] = tc->rlimits->rlimits[i]->max;
			rt->nr_rlimits = (uint32_t)i + 1;
		}
	rt->personality = tc->personality;
	rt->subreaper = tc->has_child_subreaper && tc->child_subreaper;
	snprintf(rt->comm, sizeof(rt->comm), "%s", tc->comm);
	rt->umask = t->fs && t->fs->has_umask ? t->fs->umask : 022;
	rt->dumpable = t->mm->has_dumpable ? t->mm->dumpable : -1;
	rt->clear_tid_addr = arch_core_clear_tid(t->core);
	if (th && th->rseq_entry && th->rseq_entry->rseq_abi_size) {
		rt->rseq_ptr = th->rseq_entry->rseq_abi_pointer;
		rt->rseq_len = th->rseq_entry->rseq_abi_size;
		rt->rseq_sig = th->rseq_entry->signature;
	}
	if (th) {
		rt->pdeath_sig = th->has_pdeath_sig ? th->pdeath_sig : 0;
		if (th->sas && th->sas->ss_size) {
			rt->has_sas = 1;
			rt->ss_sp = th->sas->ss_sp;
			rt->ss_size = th->sas->ss_size;
			rt->ss_flags = (int32_t)th->sas->ss_flags & ~1; /* not SS_ONSTACK */
		}
		if (th->creds)
			rt->has_creds = fill_creds(th->creds, &rt->creds);
	}
}


/* ---- premapping: copy-on-write sharing with the parent ------------------------ */

/*
 * Private anonymous memory is mapped and filled by criu's code in each task
 * before it forks its children, in a "premap" area, and moved to its place
 * by the restorer (mremap keeps the pages).  A child whose mapping is the
 * same as its parent's starts from the inherited copy and only writes the
 * pages that differ: what was shared copy-on-write after fork stays shared.
 */
static bool premappable(const VmaEntry *e)
{
	return (e->status & VMA_ANON_PRIVATE) && !(e->status & (VMA_ANON_SHARED | VMA_KERNEL_AREA)) &&
	       (e->flags & MAP_ANONYMOUS);
}

/* The parent's premapped copy of this very mapping, or 0. */
static unsigned long inherited_premap(int idx, const VmaEntry *e)
{
	int p = tasks[idx].parent;

	if (p < 0 || !tasks[p].mm || !tasks[p].premap)
		return 0;
	for (size_t j = 0; j < tasks[p].mm->n_vmas; j++) {
		const VmaEntry *pe = tasks[p].mm->vmas[j];

		if (pe->start == e->start && pe->end == e->end && tasks[p].premap[j])
			return tasks[p].premap[j];
	}
	return 0;
}

/* The final mappings of idx and of every task below it. */
static int subtree_intervals(int idx, struct interval **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	for (int i = idx; i < nr_tasks; i++) {
		bool below = false;

		for (int x = i; x >= 0 && !below; x = tasks[x].parent)
			below = x == idx;
		if (!below || !tasks[i].mm)
			continue;
		for (size_t j = 0; j < tasks[i].mm->n_vmas; j++) {
			if (tasks[i].mm->vmas[j]->status & VMA_AREA_VSYSCALL)
				continue;
			if (*n == cap) {
				struct interval *na = realloc(*out, (cap = cap ? cap * 2 : 256) * sizeof(*na));

				if (!na)
					return -ENOMEM;
				*out = na;
			}
			(*out)[(*n)++] = (struct interval){ tasks[i].mm->vmas[j]->start,
							   tasks[i].mm->vmas[j]->end };
		}
	}
	return 0;
}

/* Pages of pagemap entries inside [start, end) of the task: read, and
 * written where they differ from what is there (the inherited copy). */
/*
 * Fresh memory filled from the image: allocated in one go, not page by page
 * in the copy (MADV_POPULATE_WRITE, Linux 5.14+), then read straight into
 * place.  Large runs are split with a second thread: allocation (zeroing)
 * and the copy are CPU-bound, and a restore has the machine to itself.
 */
struct fill_job {
	int fd;
	char *dst;
	uint64_t len, off;
	int err;
};

static void *fill_fresh(void *arg)
{
	struct fill_job *j = arg;

	madvise(j->dst, j->len, 23 /* MADV_POPULATE_WRITE */);
	for (uint64_t done = 0; done < j->len;) {
		size_t n = j->len - done > (64u << 20) ? (64u << 20) : (size_t)(j->len - done);
		ssize_t r = pread(j->fd, j->dst + done, n, (off_t)(j->off + done));

		if (r <= 0) {
			j->err = r < 0 ? errno : EIO;
			return NULL;
		}
		done += (uint64_t)r;
	}
	return NULL;
}

#define FILL_SPLIT (32ull << 20)

static int fill_run(int fd, char *dst, uint64_t len, uint64_t off, size_t psz)
{
	struct fill_job a = { fd, dst, len, off, 0 }, b;
	pthread_t th;
	bool two = false;

	if (len >= FILL_SPLIT) {
		uint64_t half = (len / 2) & ~((uint64_t)psz - 1);

		b = (struct fill_job){ fd, dst + half, len - half, off + half, 0 };
		a.len = half;
		two = !pthread_create(&th, NULL, fill_fresh, &b);
		if (!two)
			a.len = len;
	}
	fill_fresh(&a);
	if (two) {
		pthread_join(th, NULL);
		if (!a.err)
			a.err = b.err;
	}
	return -a.err;
}

static int fill_premapped(struct rtask *t, int pages_fd, const VmaEntry *e, unsigned long at,
			  bool inherited, char *buf, size_t bufsz, struct restorer_status *st)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t off = 0, covered = e->start;

	for (size_t i = 0; i < t->npm; i++) {
		const PagemapEntry *pe = t->pm[i];
		uint64_t nr = pe->has_nr_pages && pe->nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		uint64_t len = nr * psz;

		if (pe->vaddr >= e->start && pe->vaddr + len <= e->end && !inherited) {
			int err = fill_run(pages_fd, (char *)(at + (pe->vaddr - e->start)), len, off,
					   psz);

			if (err) {
				pr_err("pages-%u.img: can't read %llu bytes at %llu: %s\n", t->pages_id,
				       (unsigned long long)len, (unsigned long long)off,
				       strerror(-err));
				return -EIO;
			}
			st->pages_restored += nr;
		} else if (pe->vaddr >= e->start && pe->vaddr + len <= e->end) {
			/* pages the task did not have read as zero */
			if (inherited && pe->vaddr > covered)
				madvise((void *)(at + (covered - e->start)), pe->vaddr - covered,
					MADV_DONTNEED);
			for (uint64_t done = 0; done < len;) {
				size_t n = len - done > bufsz ? bufsz : (size_t)(len - done);
				char *dst = (char *)(at + (pe->vaddr - e->start) + done);
				ssize_t r = pread(pages_fd, buf, n, (off_t)(off + done));

				if (r != (ssize_t)n) {
					pr_perror("pages-%u.img: short read at %llu", t->pages_id,
						  (unsigned long long)(off + done));
					return -EIO;
				}
				for (size_t k = 0; k < n; k += psz) {
					st->pages_compared++;
					if (memcmp(dst + k, buf + k, psz))
						memcpy(dst + k, buf + k, psz);
					else
						st->pages_skipped_cow++;
				}
				st->pages_restored += n / psz;
				done += n;
			}
			covered = pe->vaddr + len;
		}
		off += len;
	}
	if (inherited && covered < e->end)
		madvise((void *)(at + (covered - e->start)), e->end - covered, MADV_DONTNEED);
	return 0;
}

#define PREMAP_ALIGN (2UL << 20)

static int premap_memory(int idx)
{
	struct rtask *t = &tasks[idx];
	const MmEntry *mm = t->mm;
	struct self_map *self = NULL;
	struct interval *sub = NULL;
	size_t nsub = 0, own = 0, bufsz = 4 << 20;
	unsigned long area = 0, at;
	char name[64], *buf = NULL;
	int nself = 0, fd = -1, ret;

	t->premap = calloc(mm->n_vmas ? mm->n_vmas : 1, sizeof(*t->premap));
	if (!t->premap)
		return -ENOMEM;
	/* each mapping at the same offset in a 2 MiB frame as its final place,
	 * so that huge pages move whole */
	for (size_t i = 0; i < mm->n_vmas; i++)
		if (premappable(mm->vmas[i]) && !inherited_premap(idx, mm->vmas[i]))
			own += mm->vmas[i]->end - mm->vmas[i]->start + PREMAP_ALIGN;
	ret = subtree_intervals(idx, &sub, &nsub);
	if (!ret)
		ret = read_self_maps(&self, &nself);
	if (ret)
		goto out;
	if (own) {
		/* clear of this subtree's final mappings: moves never hit it.
		 * Reserved here, mapped below one mapping at a time. */
		area = find_hole(mm, self, nself, own + PREMAP_ALIGN, sub, nsub);
		if (area)
			area = (area + PREMAP_ALIGN - 1) & ~(PREMAP_ALIGN - 1);
		if (!area || mmap((void *)area, own, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1,
				  0) != (void *)area) {
			pr_perror("pid %u: no room to premap %zu bytes of memory", t->pe->pid, own);
			ret = -ENOMEM;
			goto out;
		}
	}
	snprintf(name, sizeof(name), "pages-%u.img", t->pages_id);
	fd = openat(images_dirfd, name, O_RDONLY | O_CLOEXEC);
	buf = malloc(bufsz);
	if (fd < 0 || !buf) {
		pr_perror("can't open %s", name);
		ret = -EIO;
		goto out;
	}
	at = area;
	for (size_t i = 0; i < mm->n_vmas && !ret; i++) {
		const VmaEntry *e = mm->vmas[i];
		unsigned long inh;

		if (!premappable(e))
			continue;
		inh = inherited_premap(idx, e);
		if (inh) {
			t->premap[i] = inh;
		} else {
			unsigned long len = e->end - e->start;
			int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
				    (e->flags & MAP_NORESERVE ? MAP_NORESERVE : 0);

			/* the first address from here with the final one's offset in
			 * its 2 MiB frame: at most PREMAP_ALIGN further */
			at += (e->start - at) & (PREMAP_ALIGN - 1);
			if (mmap((void *)at, len, PROT_READ | PROT_WRITE, flags, -1, 0) != (void *)at) {
				pr_perror("pid %u: can't premap %lu bytes", t->pe->pid, len);
				ret = -ENOMEM;
				break;
			}
			/* the task's huge page advice before its pages arrive:
			 * with THP "always", a sparse area filled without its
			 * no-hugepage advice would become huge pages */
			if (e->has_madv && (e->madv & VMA_MADV_BIT(MADV_NOHUGEPAGE)))
				madvise((void *)at, len, MADV_NOHUGEPAGE);
			else if (e->has_madv && (e->madv & VMA_MADV_BIT(MADV_HUGEPAGE)))
				madvise((void *)at, len, MADV_HUGEPAGE);
			t->premap[i] = at;
			at += len;
		}
		pr_debug("pid %u: %llx-%llx premapped at %lx%s\n", t->pe->pid,
			 (unsigned long long)e->start, (unsigned long long)e->end, t->premap[i],
			 inh ? " (the parent's copy)" : "");
		ret = fill_premapped(t, fd, e, t->premap[i], inh != 0, buf, bufsz, &status[idx]);
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	free(self);
	free(sub);
	return ret;
}

static bool premapped_page(const struct rtask *t, uint64_t vaddr)
{
	for (size_t i = 0; t->premap && i < t->mm->n_vmas; i++)
		if (t->premap[i] && vaddr >= t->mm->vmas[i]->start && vaddr < t->mm->vmas[i]->end)
			return true;
	return false;
}

/* Pieces of [s, e) outside every keep interval (sorted), appended to unmaps. */
static int subtract(unsigned long s, unsigned long e, const struct interval *keep, size_t nkeep,
		    struct restorer_range *unmaps, uint32_t *n)
{
	unsigned long cur = s;

	for (size_t k = 0; k < nkeep && cur < e; k++) {
		if (keep[k].end <= cur || keep[k].start >= e)
			continue;
		if (keep[k].start > cur) {
			if (*n >= MAX_UNMAPS - 8)
				return -E2BIG;
			unmaps[(*n)++] = (struct restorer_range){ cur, keep[k].start - cur };
		}
		if (keep[k].end > cur)
			cur = keep[k].end;
	}
	if (cur < e) {
		if (*n >= MAX_UNMAPS - 8)
			return -E2BIG;
		unmaps[(*n)++] = (struct restorer_range){ cur, e - cur };
	}
	return 0;
}


static bool in_vdso(const MmEntry *mm, uint64_t vaddr)
{
	for (size_t i = 0; i < mm->n_vmas; i++)
		if ((mm->vmas[i]->status & VMA_AREA_VDSO) && vaddr >= mm->vmas[i]->start &&
		    vaddr < mm->vmas[i]->end)
			return true;
	return false;
}

/* ---- a vDSO of another layout --------------------------------------------------- */

#define MAX_PATCHES 64

struct vdso_proxy {
	bool on;		   /* the dumped vDSO is mapped back and patched */
	unsigned long lo, hi;	   /* this kernel's [vvar]..[vdso] block now */
	unsigned long vdso;	   /* this kernel's [vdso] now */
	unsigned long dest;	   /* where the block goes (lo: it stays) */
};

/* Whether this kernel's vDSO block has the dumped one's layout. */
static bool vdso_same_layout(const MmEntry *mm, const struct self_map *self, int nself,
			     struct vdso_proxy *vp)
{
	const char *names[] = { "[vvar]", "[vvar_vclock]", "[vdso]" };
	const VmaEntry *img[3] = { NULL, NULL, NULL };
	const struct self_map *cur[3] = { NULL, NULL, NULL };
	bool same = true;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *e = mm->vmas[i];

		if (e->status & VMA_AREA_VDSO)
			img[2] = e;
		else if (e->status & VMA_AREA_VVAR)
			img[img[0] ? 1 : 0] = e;
	}
	for (int i = 0; i < nself; i++)
		for (int k = 0; k < 3; k++)
			if (!strcmp(self[i].name, names[k]))
				cur[k] = &self[i];
	vp->lo = vp->hi = vp->vdso = 0;
	for (int k = 0; k < 3; k++)
		if (cur[k]) {
			if (!vp->lo || cur[k]->start < vp->lo)
				vp->lo = cur[k]->start;
			if (cur[k]->end > vp->hi)
				vp->hi = cur[k]->end;
		}
	if (cur[2])
		vp->vdso = cur[2]->start;
	if (!img[2])
		return true; /* nothing to match: plan_vdso drops ours */
	for (int k = 0; k < 3; k++)
		if (!img[k] != !cur[k] ||
		    (img[k] && img[k]->end - img[k]->start != cur[k]->end - cur[k]->start))
			same = false;
	/* tests take the path of another kernel's vDSO on this one */
	if (getenv("CRIU_TEST_VDSO_PROXY"))
		same = false;
	return same;
}

/* The dumped vDSO's bytes, from the pages image. */
static int read_old_vdso(struct rtask *t, const VmaEntry *e, int pages_fd, uint8_t *buf)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t off = 0, got = 0;

	memset(buf, 0, e->end - e->start);
	for (size_t i = 0; i < t->npm; i++) {
		const PagemapEntry *pe = t->pm[i];
		uint64_t nr = pe->has_nr_pages && pe->nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		uint64_t len = nr * psz;

		if (pe->vaddr >= e->start && pe->vaddr + len <= e->end) {
			if (pread(pages_fd, buf + (pe->vaddr - e->start), len, (off_t)off) != (ssize_t)len)
				return -EIO;
			got += len;
		}
		off += len;
	}
	if (!got) {
		pr_err("pid %u: the images hold no vDSO contents (dumped by another tool?): "
		       "can't adapt them to this kernel's vDSO\n",
		       t->pe->pid);
		return -EINVAL;
	}
	return 0;
}

/*
 * Jumps from each function of the dumped vDSO (at its dumped address) to
 * the function of the same name in this kernel's vDSO at its final place.
 */
static int vdso_patches(struct rtask *t, const struct vdso_proxy *vp, int pages_fd,
			struct restorer_patch *patches, uint32_t *n)
{
	const MmEntry *mm = t->mm;
	const VmaEntry *old = NULL;
	struct vdso_sym *os = NULL, *ns = NULL;
	unsigned long new_vdso = vp->vdso - vp->lo + vp->dest;
	uint8_t *buf;
	int no, nn, ret = 0;

	for (size_t i = 0; i < mm->n_vmas; i++)
		if (mm->vmas[i]->status & VMA_AREA_VDSO)
			old = mm->vmas[i];
	buf = malloc(old->end - old->start);
	os = calloc(256, sizeof(*os));
	ns = calloc(256, sizeof(*ns));
	if (!buf || !os || !ns) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_old_vdso(t, old, pages_fd, buf);
	if (ret)
		goto out;
	no = vdso_symbols(buf, old->end - old->start, os, 256);
	nn = vdso_symbols((const uint8_t *)vp->vdso, vp->hi - vp->vdso, ns, 256);
	if (no < 0 || nn < 0) {
		ret = -EINVAL;
		goto out;
	}
	*n = 0;
	for (int i = 0; i < no; i++) {
		const struct vdso_sym *to = NULL;
		int len;

		for (int j = 0; j < nn && !to; j++)
			if (!strcmp(os[i].name, ns[j].name))
				to = &ns[j];
		if (!to) {
			pr_warn("vDSO function %s is gone from this kernel: calls to it will fail\n",
				os[i].name);
			continue;
		}
		if (*n == MAX_PATCHES) {
			ret = -E2BIG;
			goto out;
		}
		len = arch_vdso_jump(os[i].name, patches[*n].bytes, sizeof(patches[*n].bytes),
				     old->start + os[i].value, new_vdso + to->value);
		if (len == 0)
			continue; /* keeps its dumped code */
		if (len < 0 || (uint64_t)len > os[i].size) {
			pr_err("can't redirect vDSO function %s (%llu bytes) to this kernel's: %s\n",
			       os[i].name, (unsigned long long)os[i].size,
			       len < 0 ? strerror(-len) : "too short");
			ret = len < 0 ? len : -ENOSPC;
			goto out;
		}
		patches[*n].addr = old->start + os[i].value;
		patches[*n].len = (uint32_t)len;
		(*n)++;
	}
	pr_info("pid %u: the dumped vDSO at %llx jumps to this kernel's at %lx (%u functions)\n",
		t->pe->pid, (unsigned long long)old->start, new_vdso, *n);
out:
	free(buf);
	free(os);
	free(ns);
	return ret;
}

static int restore_prepare_and_jump(int idx)
{
	struct rtask *t = &tasks[idx];
	const MmEntry *mm = t->mm;
	size_t psz = (size_t)sysconf(_SC_PAGESIZE), blob_size, args_size, total;
	struct restorer_args *args;
	struct restorer_vma *vmas;
	struct restorer_pages *pages;
	struct restorer_range *unmaps;
	struct restorer_move *moves;
	int32_t *close_fds;
	uint64_t *auxv;
	struct self_map *self = NULL;
	int nself = 0, keep[MAX_KEEP], nkeep = 0, vma_keep[MAX_KEEP], exe_keep = -1, pages_keep;
	unsigned long base, scratch, threads_area = 0;
	struct vdso_proxy vp = { 0 };
	uint8_t *siginfo_area = NULL;
	uint64_t off = 0;
	char name[64];
	int ret;

	if (mm->n_vmas >= MAX_KEEP - 2) {
		pr_err("pid %u has %zu mappings: too many\n", t->pe->pid, mm->n_vmas);
		return -E2BIG;
	}
	/* the restorer's fds: the pages image, mapped files, the exe */
	snprintf(name, sizeof(name), "pages-%u.img", t->pages_id);
	keep[nkeep] = openat(images_dirfd, name, O_RDONLY | O_CLOEXEC);
	if (keep[nkeep] < 0) {
		pr_perror("can't open %s", name);
		return -errno;
	}
	pages_keep = nkeep++;
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *e = mm->vmas[i];

		vma_keep[i] = -1;
		if (!(e->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)))
			continue;
		for (size_t j = 0; j < i; j++)
			if (vma_keep[j] >= 0 && mm->vmas[j]->shmid == e->shmid &&
			    mm->vmas[j]->fdflags == e->fdflags)
				vma_keep[i] = vma_keep[j];
		if (vma_keep[i] >= 0)
			continue;
		keep[nkeep] = open_file_id((uint32_t)e->shmid, e->has_fdflags ? (int)e->fdflags : O_RDONLY);
		if (keep[nkeep] < 0)
			return keep[nkeep];
		vma_keep[i] = nkeep++;
	}
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *e = mm->vmas[i];
		struct rshmem *m;

		if (!(e->status & VMA_ANON_SHARED) || !e->shmid)
			continue;
		for (size_t j = 0; j < i; j++)
			if (vma_keep[j] >= 0 && mm->vmas[j]->shmid == e->shmid &&
			    (mm->vmas[j]->status & VMA_ANON_SHARED))
				vma_keep[i] = vma_keep[j];
		if (vma_keep[i] >= 0)
			continue;
		m = shmem_of(e->shmid);
		if (!m || m->fd < 0) {
			pr_err("shared memory %llu of pid %u was not created\n",
			       (unsigned long long)e->shmid, t->pe->pid);
			return -EINVAL;
		}
		keep[nkeep] = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
		if (keep[nkeep] < 0)
			return -errno;
		vma_keep[i] = nkeep++;
	}
	if (mm->exe_file_id) {
		keep[nkeep] = open_file_id(mm->exe_file_id, O_RDONLY);
		if (keep[nkeep] < 0)
			return keep[nkeep];
		exe_keep = nkeep++;
	}

	/* sizes */
	blob_size = (blob_mem_size(&restorer_blob) + psz - 1) & ~(psz - 1);
	args_size = sizeof(*args) + mm->n_vmas * sizeof(*vmas) + t->npm * sizeof(*pages) +
		    MAX_UNMAPS * sizeof(*unmaps) + MAX_MOVES * sizeof(*moves) +
		    MAX_KEEP * sizeof(*close_fds) + (mm->n_mm_saved_auxv + 2) * sizeof(*auxv) + 64 +
		    t->pe->n_threads * (sizeof(struct restorer_thread) + RESTORER_THREAD_STACK + 16) +
		    count_siginfos(t) * RESTORER_SIGINFO_SIZE + 64 +
		    seccomp_bytes() * (t->pe->n_threads + 1) + 4096 +
		    (t->core->tc->timers ? t->core->tc->timers->n_posix : 0) *
			    sizeof(struct restorer_posix_timer) +
		    MAX_PATCHES * sizeof(struct restorer_patch) + 16;
	args_size = (args_size + psz - 1) & ~(psz - 1);
	/* plus room to park the vDSO block when it must move over itself */
	total = blob_size + args_size + 64 * psz;

	ret = read_self_maps(&self, &nself);
	if (ret)
		return ret;
	base = find_hole(mm, self, nself, total, NULL, 0);
	free(self);
	self = NULL;
	if (!base) {
		pr_err("no room for the restorer in the address space of pid %u\n", t->pe->pid);
		return -ENOMEM;
	}
	if (mmap((void *)base, total, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)base) {
		pr_perror("can't map the restorer at %lx", base);
		return -errno;
	}
	ret = blob_install((void *)base, blob_size, base, &restorer_blob);
	if (ret)
		return ret;
	scratch = base + blob_size + args_size;

	ret = read_self_maps(&self, &nself);
	if (ret)
		return ret;
	if (!vdso_same_layout(mm, self, nself, &vp)) {
		/* this kernel's block stays where it is unless the task needs
		 * the place; then it goes to a hole clear of everything */
		vp.on = true;
		vp.dest = vp.lo;
		for (size_t i = 0; i < mm->n_vmas; i++)
			if (mm->vmas[i]->start < vp.hi && vp.lo < mm->vmas[i]->end)
				vp.dest = 0;
		if (!vp.dest) {
			struct interval blob = { base, base + total };

			vp.dest = find_hole(mm, self, nself, vp.hi - vp.lo, &blob, 1);
		}
		if (!vp.dest) {
			free(self);
			pr_err("no room for this kernel's vDSO in pid %u\n", t->pe->pid);
			return -ENOMEM;
		}
	}
	free(self);
	self = NULL;

	args = (struct restorer_args *)(base + blob_size);
	vmas = (struct restorer_vma *)(args + 1);
	pages = (struct restorer_pages *)(vmas + mm->n_vmas);
	unmaps = (struct restorer_range *)(pages + t->npm);
	moves = (struct restorer_move *)(unmaps + MAX_UNMAPS);
	close_fds = (int32_t *)(moves + MAX_MOVES);
	auxv = (uint64_t *)(((uintptr_t)(close_fds + MAX_KEEP) + 7) & ~(uintptr_t)7);
	{
		struct restorer_thread *ths =
			(struct restorer_thread *)(((uintptr_t)(auxv + mm->n_mm_saved_auxv + 2) + 15) &
						   ~(uintptr_t)15);
		unsigned long stacks = ((uintptr_t)(ths + t->pe->n_threads) + 15) & ~15UL;

		uint8_t *si = (uint8_t *)(stacks + t->pe->n_threads * (RESTORER_THREAD_STACK + 16));

		for (size_t i = 1; i < t->pe->n_threads; i++) {
			const ThreadCoreEntry *tcore = t->thread_cores[i]->thread_core;

			fill_thread(t, i, &ths[i - 1],
				    stacks + (i - 1) * (RESTORER_THREAD_STACK + 16),
				    t->th_status + (int)i - 1);
			ths[i - 1].siginfo = (uintptr_t)si;
			ths[i - 1].nr_siginfo = put_siginfos(tcore ? tcore->signals_p : NULL, &si);
		}
		threads_area = (uintptr_t)ths;
		siginfo_area = si;
	}

	memset(args, 0, sizeof(*args));
	args->magic = RESTORER_MAGIC;
	args->version = RESTORER_VERSION;
	args->flags = RESTORER_F_TASK;
	args->vmas = (uintptr_t)vmas;
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *e = mm->vmas[i];
		struct restorer_vma *v;

		if ((e->status & VMA_KERNEL_AREA) &&
		    !(vp.on && (e->status & (VMA_AREA_VDSO | VMA_AREA_VVAR))))
			continue;
		if (e->end <= e->start || (e->start | e->end) & (psz - 1)) {
			pr_err("mm-%u.img: bad mapping %llx-%llx\n", t->pe->pid,
			       (unsigned long long)e->start, (unsigned long long)e->end);
			return -EINVAL;
		}
		v = &vmas[args->nr_vmas++];
		memset(v, 0, sizeof(*v));
		v->addr = e->start;
		v->len = e->end - e->start;
		v->final_prot = e->prot;
		v->prot = e->prot;
		v->flags = e->flags & ~(uint32_t)MAP_GROWSDOWN;
		v->fd = -1;
		v->madv = e->has_madv ? e->madv : 0;
		v->fill = !(e->status & VMA_FILE_SHARED);
		v->premap = t->premap ? t->premap[i] : 0;
		if (e->status & (VMA_AREA_VDSO | VMA_AREA_VVAR)) {
			/* the dumped vDSO's code comes back as plain memory; its
			 * data pages become zeroes nobody reads */
			v->flags = MAP_PRIVATE | MAP_ANONYMOUS;
			v->fill = (e->status & VMA_AREA_VDSO) != 0;
			if (e->status & VMA_AREA_VVAR)
				v->final_prot = v->prot = PROT_READ;
			v->madv = 0;
		}
		if ((e->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)) ||
		    ((e->status & VMA_ANON_SHARED) && e->shmid)) {
			v->flags &= ~(uint32_t)MAP_ANONYMOUS;
			v->pgoff = e->pgoff;
			v->fd = vma_keep[i]; /* an index for now: renumbered below */
		} else
			v->flags |= MAP_ANONYMOUS;
	}
	args->task.pages = (uintptr_t)pages;
	for (size_t i = 0; i < t->npm; i++) {
		const PagemapEntry *pe = t->pm[i];
		uint64_t nr = pe->has_nr_pages && pe->nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		uint64_t len = nr * psz, end = pe->vaddr + len;
		bool inside = false;

		if (!vp.on && in_vdso(mm, pe->vaddr)) {
			off += len; /* the kernel's own vDSO is used as is */
			continue;
		}
		if ((pe->has_in_parent && pe->in_parent) ||
		    (pe->has_flags && !(pe->flags & PAGEMAP_PE_PRESENT))) {
			pr_err("pagemap-%u.img: pages in a parent image or lazy pages are not "
			       "supported yet\n",
			       t->pe->pid);
			return -EOPNOTSUPP;
		}
		for (uint32_t k = 0; k < args->nr_vmas && !inside; k++)
			inside = pe->vaddr >= vmas[k].addr && end <= vmas[k].addr + vmas[k].len &&
				 end > pe->vaddr;
		if (!inside) {
			pr_err("pagemap-%u.img: pages at %llx (%llu) are outside every mapping\n",
			       t->pe->pid, (unsigned long long)pe->vaddr, (unsigned long long)nr);
			return -EINVAL;
		}
		if (!premapped_page(t, pe->vaddr)) {
			pages[args->task.nr_pages++] = (struct restorer_pages){ pe->vaddr, len, off };
			status[idx].pages_restored += nr;
		}
		off += len;
	}
	{
		struct stat st;

		if (fstat(keep[pages_keep], &st) || (uint64_t)st.st_size < off) {
			pr_err("pages-%u.img holds %lld bytes, its pagemap needs %llu\n", t->pages_id,
			       (long long)st.st_size, (unsigned long long)off);
			return -EINVAL;
		}
	}
	if (mm->n_mm_saved_auxv) {
		memcpy(auxv, mm->mm_saved_auxv, mm->n_mm_saved_auxv * sizeof(*auxv));
		args->task.mm_map.auxv = (uintptr_t)auxv;
		args->task.mm_map.auxv_size = (uint32_t)(mm->n_mm_saved_auxv * sizeof(*auxv));
	}
	args->task.has_mm_map = 1;
	args->task.mm_map.start_code = mm->mm_start_code;
	args->task.mm_map.end_code = mm->mm_end_code;
	args->task.mm_map.start_data = mm->mm_start_data;
	args->task.mm_map.end_data = mm->mm_end_data;
	args->task.mm_map.start_brk = mm->mm_start_brk;
	args->task.mm_map.brk = mm->mm_brk;
	args->task.mm_map.start_stack = mm->mm_start_stack;
	args->task.mm_map.arg_start = mm->mm_arg_start;
	args->task.mm_map.arg_end = mm->mm_arg_end;
	args->task.mm_map.env_start = mm->mm_env_start;
	args->task.mm_map.env_end = mm->mm_env_end;
	args->task.mm_map.exe_fd = -1;
	fill_state(t, &args->task);
	args->task.status = (uintptr_t)&status[idx];
	args->task.threads = threads_area;
	args->task.siginfo = (uintptr_t)siginfo_area;
	args->task.nr_siginfo_shared = put_siginfos(t->core->tc->signals_s, &siginfo_area);
	args->task.nr_siginfo_thread =
		put_siginfos(t->core->thread_core ? t->core->thread_core->signals_p : NULL,
			     &siginfo_area);
	if (t->core->tc->timers && t->core->tc->timers->n_posix) {
		const TaskTimersEntry *tt = t->core->tc->timers;
		struct restorer_posix_timer *pt =
			(struct restorer_posix_timer *)(((uintptr_t)siginfo_area + 7) & ~(uintptr_t)7);

		for (size_t i = 0; i < tt->n_posix; i++) {
			const PosixTimerEntry *e = tt->posix[i];

			pt[i] = (struct restorer_posix_timer){
				(int32_t)e->it_id, (int32_t)e->clock_id, (int32_t)e->si_signo,
				(int32_t)e->it_sigev_notify,
				e->has_notify_thread_id ? e->notify_thread_id : 0, 0, e->sival_ptr,
				(int64_t)e->isec, (int64_t)e->insec, (int64_t)e->vsec, (int64_t)e->vnsec
			};
			if (i && pt[i].id <= pt[i - 1].id) {
				pr_err("core-%u.img: POSIX timers are not in id order\n", t->pe->pid);
				return -EINVAL;
			}
		}
		args->task.posix_timers = (uintptr_t)pt;
		args->task.nr_posix_timers = (uint32_t)tt->n_posix;
		siginfo_area = (uint8_t *)(pt + tt->n_posix);
	}
	if (seccomp && seccomp->n_seccomp_filters) {
		uint64_t *insns_at = calloc(seccomp->n_seccomp_filters, sizeof(*insns_at));
		uint8_t *area = (uint8_t *)(((uintptr_t)siginfo_area + 7) & ~(uintptr_t)7);

		if (!insns_at)
			return -ENOMEM;
		for (size_t i = 0; i < seccomp->n_seccomp_filters; i++) {
			memcpy(area, seccomp->seccomp_filters[i]->filter.data,
			       seccomp->seccomp_filters[i]->filter.len);
			insns_at[i] = (uintptr_t)area;
			area += (seccomp->seccomp_filters[i]->filter.len + 7) & ~(size_t)7;
		}
		ret = fill_seccomp(t->core->thread_core, &args->task.creds, &area, insns_at);
		for (size_t k = 1; !ret && k < t->pe->n_threads; k++) {
			struct restorer_thread *rth = (struct restorer_thread *)threads_area + (k - 1);

			ret = fill_seccomp(t->thread_cores[k]->thread_core, &rth->creds, &area, insns_at);
		}
		free(insns_at);
		if (ret)
			return ret;
	} else {
		ret = fill_seccomp(t->core->thread_core, &args->task.creds, NULL, NULL);
		for (size_t k = 1; !ret && k < t->pe->n_threads; k++) {
			struct restorer_thread *rth = (struct restorer_thread *)threads_area + (k - 1);

			ret = fill_seccomp(t->thread_cores[k]->thread_core, &rth->creds, NULL, NULL);
		}
		if (ret)
			return ret;
	}
	args->task.nr_threads = (uint32_t)t->pe->n_threads - 1;
	args->task.moves = (uintptr_t)moves;
	args->task.unmaps = (uintptr_t)unmaps;
	args->task.close_fds = (uintptr_t)close_fds;

	if (t->fs) {
		const FileEntry *cwd = file_by_id(t->fs->cwd_id);

		if (cwd && cwd->reg && chdir(cwd->reg->name)) {
			pr_perror("pid %u: can't change to its directory %s", t->pe->pid,
				  cwd->reg->name);
			return -errno;
		}
	}

	if (vp.on) {
		struct restorer_patch *patches =
			(struct restorer_patch *)(((uintptr_t)siginfo_area + 15) & ~(uintptr_t)15);

		ret = vdso_patches(t, &vp, keep[pages_keep], patches, &args->task.nr_patches);
		if (ret)
			return ret;
		args->task.patches = (uintptr_t)patches;
		siginfo_area = (uint8_t *)(patches + args->task.nr_patches);
	}

	/* From here on no logging: the task's fds take their numbers. */
	ret = place_fds(idx, keep, nkeep);
	if (ret)
		return ret;
	args->task.pages_fd = keep[pages_keep];
	for (uint32_t i = 0; i < args->nr_vmas; i++)
		if (vmas[i].fd >= 0)
			vmas[i].fd = keep[vmas[i].fd];
	if (exe_keep >= 0)
		args->task.mm_map.exe_fd = keep[exe_keep];
	for (int k = 0; k < nkeep; k++)
		close_fds[args->task.nr_close_fds++] = keep[k];

	ret = read_self_maps(&self, &nself);
	if (ret)
		return ret;
	{
		struct interval *keep = calloc(mm->n_vmas + 8, sizeof(*keep));
		size_t nk = 0;

		if (!keep) {
			free(self);
			return -ENOMEM;
		}
		keep[nk++] = (struct interval){ base, base + total };
		keep[nk++] = (struct interval){ (unsigned long)status,
						(unsigned long)status + status_size };
		for (size_t i = 0; i < mm->n_vmas; i++)
			if (t->premap && t->premap[i])
				keep[nk++] = (struct interval){
					t->premap[i], t->premap[i] + (mm->vmas[i]->end - mm->vmas[i]->start)
				};
		ret = 0;
		qsort(keep, nk, sizeof(*keep), cmp_interval);
		for (int i = 0; i < nself && !ret; i++)
			if (!is_kernel_map(self[i].name))
				ret = subtract(self[i].start, self[i].end, keep, nk, unmaps,
					       &args->task.nr_unmaps);
		free(keep);
		if (ret) {
			free(self);
			return ret;
		}
	}
	if (vp.on) {
		/* this kernel's block moves as a whole if it must; nothing else */
		for (int i = 0; i < nself && vp.dest != vp.lo; i++)
			if (is_kernel_map(self[i].name) && strcmp(self[i].name, "[vsyscall]"))
				moves[args->task.nr_moves++] = (struct restorer_move){
					self[i].start, self[i].end - self[i].start,
					vp.dest + (self[i].start - vp.lo)
				};
		ret = 0;
	} else
		/* the parking space is unmapped first: mremap may move into it */
		ret = plan_vdso(mm, self, nself, moves, &args->task.nr_moves, unmaps,
				&args->task.nr_unmaps, scratch);
	free(self);
	if (ret)
		return ret;

	/* glibc registered rseq for criu's thread: its area goes away with
	 * criu's memory, and the kernel would fault on it at the next switch */
	if (__rseq_size > 0) {
		void *area = (char *)arch_thread_pointer() + __rseq_offset;

		if (syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) &&
		    syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG))
			return -errno;
	}
	if (t->fs) {
		const FileEntry *root = file_by_id(t->fs->root_id);

		/* last: nothing is opened by path after this */
		if (root && root->reg && strcmp(root->reg->name, "/") && chroot(root->reg->name))
			return -errno;
	}
	status[idx].blob_addr = base;
	status[idx].blob_len = total;
	{
		sigset_t all;

		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
	}
	arch_restorer_jump(base + RESTORER_BLOB_ENTRY_HEAD, base + blob_mem_size(&restorer_blob),
			   (unsigned long)args);
}

static void restore_task(int idx)
{
	struct rtask *t = &tasks[idx];
	int ret;

	status[idx].pid = getpid();
	if (t->zombie) {
		status[idx].step = RESTORER_STEP_DONE;
		zombie_exit(t);
	}
	set_session(t);
	ret = create_pipes(idx);
	if (!ret)
		ret = create_shmem(idx);
	if (!ret)
		ret = create_shared_files(idx);
	if (!ret)
		ret = premap_memory(idx);
	if (!ret)
		ret = fork_children(idx);
	if (!ret)
		ret = set_child_groups(idx);
	if (!ret)
		ret = restore_prepare_and_jump(idx);
	/* only on failure */
	report(idx, ret ? ret : -EINVAL, RESTORER_STEP_ARGS);
	_exit(1);
}

/* ---- criu's side --------------------------------------------------------------- */

static bool task_gone(pid_t pid)
{
	struct proc_stat st;

	return proc_read_stat(pid, 0, &st) || st.state == 'Z' || st.state == 'X';
}

static const char *step_name(uint32_t step)
{
	static const char *const names[] = {
		[RESTORER_STEP_NONE] = "start",	       [RESTORER_STEP_ARGS] = "preparation",
		[RESTORER_STEP_UNMAP] = "unmapping criu", [RESTORER_STEP_MMAP] = "mapping memory",
		[RESTORER_STEP_COPY] = "copying",	       [RESTORER_STEP_MOVE] = "moving the vDSO",
		[RESTORER_STEP_PAGES] = "reading pages", [RESTORER_STEP_PROTECT] = "protecting memory",
		[RESTORER_STEP_MM] = "setting mm fields", [RESTORER_STEP_SIGNALS] = "signals",
		[RESTORER_STEP_TIMERS] = "timers",	       [RESTORER_STEP_RLIMITS] = "rlimits",
		[RESTORER_STEP_MISC] = "task state",     [RESTORER_STEP_CREDS] = "credentials",
		[RESTORER_STEP_THREADS] = "creating threads",
		[RESTORER_STEP_POSIX_TIMERS] = "POSIX timers",
		[RESTORER_STEP_DONE] = "done",
	};

	return step < sizeof(names) / sizeof(names[0]) && names[step] ? names[step] : "?";
}

/* Waits until every task reported; 0, or -errno with the culprit logged. */
static int wait_tasks(pid_t root, const struct timespec *t0, uint32_t *forking)
{
	int timeout = opts.timeout > 0 ? opts.timeout : RESTORE_TIMEOUT_S;
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int done = 0;

		if (!*forking) {
			bool all = true;

			for (int i = 0; i < nr_tasks && all; i++)
				all = status[i].pid != 0;
			if (all)
				*forking = us_since(t0);
		}
		for (int i = 0; i < nr_tasks; i++) {
			struct restorer_status *st = &status[i];

			if (tasks[i].zombie) {
				struct proc_stat ps;

				/* done once it has really exited */
				if (st->pid && !proc_read_stat(st->pid, 0, &ps) && ps.state == 'Z')
					done++;
				continue;
			}
			if (__atomic_load_n(&st->done, __ATOMIC_ACQUIRE)) {
				if (st->ret) {
					pr_err("restore of pid %u failed at %s (item %u): %s\n",
					       tasks[i].pe->pid, step_name(st->step), st->index,
					       strerror((int)-st->ret));
					return (int)st->ret;
				}
				done++;
				continue;
			}
			if (st->pid && task_gone(st->pid)) {
				pr_err("pid %u died during restore (at %s)\n", tasks[i].pe->pid,
				       step_name(st->step));
				return -ECHILD;
			}
		}
		for (int i = 0; i < nr_tasks; i++)
			for (size_t k = 1; k < tasks[i].pe->n_threads; k++) {
				struct restorer_status *st = &status[tasks[i].th_status + (int)k - 1];

				if (!__atomic_load_n(&st->done, __ATOMIC_ACQUIRE))
					continue;
				if (st->ret) {
					pr_err("restore of thread %u of pid %u failed at %s: %s\n",
					       tasks[i].pe->threads[k], tasks[i].pe->pid,
					       step_name(st->step), strerror((int)-st->ret));
					return (int)st->ret;
				}
				done++;
			}
		if (done == nr_status)
			return 0;
		{
			int wst;

			if (waitpid(root, &wst, WNOHANG | __WALL) == root) {
				pr_err("the root task %d exited during restore (status %#x)\n", root, wst);
				return -ECHILD;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > timeout) {
			pr_err("restore did not finish within %d s\n", timeout);
			return -ETIMEDOUT;
		}
		usleep(500);
	}
}

struct pid_list {
	pid_t *pid;
	int n, cap;
};

/* Adds p (stopping it) unless it is there already; true when added. */
static bool stop_and_add(struct pid_list *l, pid_t p)
{
	if (p <= 0)
		return false;
	for (int i = 0; i < l->n; i++)
		if (l->pid[i] == p)
			return false;
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 64;
		pid_t *m = realloc(l->pid, (size_t)cap * sizeof(*m));

		if (!m)
			return false;
		l->pid = m;
		l->cap = cap;
	}
	l->pid[l->n++] = p;
	kill(p, SIGSTOP);
	return true;
}

/* Bounded wait until every task of l is stopped, dead or gone. */
static void wait_stopped(const struct pid_list *l)
{
	for (int tries = 0; tries < 100; tries++) {
		bool all = true;

		for (int i = 0; i < l->n && all; i++) {
			struct proc_stat st;

			if (!proc_read_stat(l->pid[i], l->pid[i], &st) && !strchr("TtZXx", st.state))
				all = false;
		}
		if (all)
			return;
		usleep(1000);
	}
}

/*
 * Every task the restore created: the tree below root (a task may not have
 * reported its pid yet, or may carry one it was not dumped with).  Each is
 * stopped as it is found, so that none forks another, and keeps its
 * children (none is reparented out of sight) until all are killed.
 */
static void kill_created(pid_t root)
{
	struct pid_list l = { 0 };
	bool grew = true;

	if (root <= 0)
		return;
	stop_and_add(&l, root);
	for (int i = 0; i < nr_tasks; i++)
		stop_and_add(&l, status[i].pid);
	{
		pid_t *kids; /* orphans of the tree, ours as subreaper */
		int nk;

		if (!proc_list_children(getpid(), &kids, &nk)) {
			for (int k = 0; k < nk; k++)
				stop_and_add(&l, kids[k]);
			free(kids);
		}
	}
	for (int round = 0; round < 50 && grew; round++) {
		grew = false;
		wait_stopped(&l);
		for (int i = 0; i < l.n; i++) {
			pid_t *kids;
			int nk;

			if (proc_list_children(l.pid[i], &kids, &nk))
				continue;
			for (int k = 0; k < nk; k++)
				grew |= stop_and_add(&l, kids[k]);
			free(kids);
		}
	}
	for (int i = l.n - 1; i >= 0; i--)
		kill(l.pid[i], SIGKILL);
	/*
	 * Reap whatever is ours until every task is gone (bounded): the root,
	 * orphans that came to us as subreaper while dying, and any thread
	 * still traced by us, which stays a zombie until we wait for it and
	 * keeps its leader from being reaped.  A zombie that is not ours (-S:
	 * the root is our parent's child) is left to its parent.
	 */
	for (int ms = 0; ms < 10000; ms++) {
		bool left = false;
		pid_t *kids;
		int nk;

		while (waitpid(-1, NULL, __WALL | WNOHANG) > 0)
			;
		/* a task that died by itself meanwhile left its children to us */
		if (!proc_list_children(getpid(), &kids, &nk)) {
			for (int k = 0; k < nk; k++)
				if (stop_and_add(&l, kids[k]))
					kill(kids[k], SIGKILL);
			free(kids);
		}
		for (int i = 0; i < l.n && !left; i++) {
			struct proc_stat st;

			left = !proc_read_stat(l.pid[i], l.pid[i], &st) &&
			       !(st.state == 'Z' && st.ppid != getpid());
		}
		if (!left)
			break;
		usleep(1000);
	}
	free(l.pid);
}

/* Unmaps the restorer, writes the dumped registers and lets the task go. */
static int finish_task(int idx)
{
	struct rtask *t = &tasks[idx];
	struct restorer_status *st = &status[idx];
	struct infect_ctx *ctx;
	long r;
	int ret;

	ret = compel_infect(st->pid, 0, &ctx);
	if (ret)
		return ret;
	/*
	 * The task becomes what was dumped: compel puts these back at cure.
	 * Before the syscalls below, which start from them: the task ends at
	 * the exit stop of the last one, where arm64 drops a write of x7 and
	 * puts back the value x7 had at the syscall's entry.
	 */
	ret = arch_core_to_regs(t->core, ctx->orig_regs);
	if (ret) {
		compel_cure(ctx, COMPEL_LEAVE_AS_FOUND);
		return ret;
	}
	/* the shared status first: the blob holds the syscall instruction
	 * compel uses, so it goes last */
	ret = compel_syscall(ctx, SYS_munmap,
			     (unsigned long[]){ (unsigned long)status, status_size }, 2, &r);
	if (!ret && r)
		ret = (int)r;
	if (!ret) {
		ret = compel_syscall(ctx, SYS_munmap,
				     (unsigned long[]){ (unsigned long)st->blob_addr, st->blob_len },
				     2, &r);
		if (!ret && r)
			ret = (int)r;
	}
	if (ret) {
		pr_err("can't unmap the restorer from pid %d: %s\n", st->pid, strerror(-ret));
		compel_cure(ctx, COMPEL_LEAVE_AS_FOUND);
		return ret;
	}
	for (size_t k = 1; k < t->pe->n_threads && !ret; k++) {
		pid_t tid = (pid_t)t->pe->threads[k];
		const CoreEntry *c = t->thread_cores[k];
		struct compel_regs *regs = compel_arch_regs_new();
		uint64_t mask = c->thread_core && c->thread_core->has_blk_sigset
					? c->thread_core->blk_sigset
					: t->core->tc->blk_sigset;

		ret = regs ? compel_arch_get_regs(tid, regs) : -ENOMEM;
		if (!ret)
			ret = arch_core_to_regs(c, regs);
		if (!ret)
			ret = compel_arch_set_regs(tid, regs);
		if (!ret && ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask))
			ret = -errno;
		if (ret)
			pr_err("can't set the registers of thread %d: %s\n", tid, strerror(-ret));
		compel_arch_regs_free(regs);
	}
	if (ret) {
		compel_cure(ctx, COMPEL_LEAVE_AS_FOUND);
		return ret;
	}
	ctx->orig_sigmask = t->core->thread_core && t->core->thread_core->has_blk_sigset
				    ? t->core->thread_core->blk_sigset
				    : t->core->tc->blk_sigset;
	return compel_cure(ctx, (t->stopped || opts.leave_stopped) ? COMPEL_LEAVE_STOPPED
								   : COMPEL_LEAVE_AS_FOUND);
}

/*
 * --pidfile, relative to the work dir: created before anything is
 * restored, so that a path that cannot be written fails the restore while
 * nothing runs yet; the pid is written at the end.
 */
static int open_pidfile(void)
{
	int fd;

	if (!opts.pidfile)
		return -1;
	fd = opts_open_in_work_dir(opts.pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		pr_perror("can't create the pidfile %s", opts.pidfile);
	return fd;
}

static int write_pidfile(int fd, pid_t pid)
{
	char buf[32];
	int n;

	if (fd < 0)
		return 0;
	n = snprintf(buf, sizeof(buf), "%d", pid);
	if (write(fd, buf, (size_t)n) != n) {
		pr_perror("can't write the pidfile %s", opts.pidfile);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* stats-restore, as upstream writes it. */
static void write_stats(uint32_t forking, uint32_t total)
{
	StatsEntry s = STATS_ENTRY__INIT;
	RestoreStatsEntry r = RESTORE_STATS_ENTRY__INIT;
	int dirfd = opts_open_work_dir();
	struct cr_img *img = dirfd < 0 ? NULL : img_open(dirfd, IMG_STATS_RESTORE, O_WRONLY);

	if (dirfd >= 0)
		close(dirfd);
	if (!img)
		return;
	for (int i = 0; i < nr_status; i++) {
		r.pages_compared += status[i].pages_compared;
		r.pages_skipped_cow += status[i].pages_skipped_cow;
		r.pages_restored += status[i].pages_restored;
	}
	r.has_pages_restored = true;
	r.forking_time = forking;
	r.restore_time = total;
	s.restore = &r;
	img_write_pb(img, &s.base);
	img_close(img);
}

int cmd_restore(void)
{
	struct timespec t0;
	uint32_t forking = 0;
	pid_t root;
	int ret, pidfile_fd;

	clock_gettime(CLOCK_MONOTONIC, &t0);

	images_dirfd = open(opts.images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (images_dirfd < 0) {
		pr_perror("can't open the images directory %s", opts.images_dir);
		return 1;
	}
	ret = cpuinfo_check_images(images_dirfd, opts.cpu_cap, opts.cpu_cap_given);
	if (ret) {
		if (ret > 0)
			pr_err("this CPU cannot run the dumped tasks; nothing was restored\n");
		return 1;
	}
	ret = read_images(images_dirfd);
	if (!ret)
		ret = check_pids_free();
	if (ret)
		return 1;
	pidfile_fd = open_pidfile();
	if (opts.pidfile && pidfile_fd < 0)
		return 1;
	/* a task orphaned while the restore fails comes to us, to be killed */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		pr_warn("can't become a child subreaper: %s\n", strerror(errno));

	/* whole pages: the restorers unmap everything of criu's around it */
	status_size = (size_t)sysconf(_SC_PAGESIZE);
	status_size = ((size_t)nr_status * sizeof(*status) + status_size - 1) & ~(status_size - 1);
	status = map_status(status_size);
	if (status == MAP_FAILED) {
		pr_perror("can't map the status area");
		return 1;
	}
	/* children of criu that die are seen through status, not signals */
	/* -S: criu's sibling, which signals criu's parent as criu would
	 * (clone3 takes no exit signal with CLONE_PARENT) */
	root = clone_with_pid((pid_t)tasks[0].pe->pid, opts.restore_sibling ? 0 : SIGCHLD,
			      opts.restore_sibling ? CLONE_PARENT : 0);
	if (root < 0) {
		pr_perror("can't create the root task with pid %u", tasks[0].pe->pid);
		return 1;
	}
	if (root == 0)
		restore_task(0);
	if (root != (pid_t)tasks[0].pe->pid) {
		pr_err("asked for pid %u, the kernel gave %d\n", tasks[0].pe->pid, root);
		kill(root, SIGKILL);
		waitpid(root, NULL, 0);
		return 1;
	}

	ret = wait_tasks(root, &t0, &forking);
	for (int i = 0; i < nr_tasks && !ret; i++)
		if (!tasks[i].zombie)
			ret = finish_task(i);
	if (ret) {
		kill_created(root);
		pr_err("restore failed; every task it created was killed\n");
		return 1;
	}
	write_stats(forking, us_since(&t0));
	log_peak_rss();
	pr_info("restored %d processes\n", nr_tasks);
	if (write_pidfile(pidfile_fd, root))
		return 1;
	dump_status_fd_ready();
	if (opts.restore_detached || opts.restore_sibling)
		return 0;
	{
		int wst;

		if (waitpid(root, &wst, 0) != root)
			return 1;
		if (WIFEXITED(wst))
			return WEXITSTATUS(wst);
		return 128 + WTERMSIG(wst);
	}
}
