/*
 * Pipes: PipeEntry of files.img per end's description, pipes-data.img with
 * each pipe's size and the data in flight (copied at dump without taking
 * it, from a read end).  On restore, the lowest common ancestor of every
 * holder of either end creates the pipe (create), refills it, and its
 * descendants inherit it; each holder dups its end (open).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdkind.h"
#include "image-desc.h"
#include "image.h"
#include "log.h"
#include "pipe-data.h"
#include "proto/pipe.pb-c.h"

extern const struct fd_kind pipe_kind;

/* ---- dump ------------------------------------------------------------------------ */

struct pipe_dump {
	PipeEntry pipe;
	ino_t ino;
	/* the size (of the first description of its pipe) and the data in
	 * flight (of the one it was taken from) */
	struct pipe_queue q;
	bool size_seen; /* the first description of its pipe: writes its size */
	bool taken;
};

static struct pipe_dump **pdumps;
static size_t nr_pdumps, cap_pdumps;

static bool pipe_match(const struct fd_parms *p)
{
	return S_ISFIFO(p->st.st_mode) && !strncmp(p->link, "pipe:", 5);
}

static int pipe_dump(struct dump_file *f, const struct fd_parms *p)
{
	struct pipe_dump *pd;
	int ret;

	if (nr_pdumps == cap_pdumps) {
		struct pipe_dump **n =
			realloc(pdumps, (cap_pdumps = cap_pdumps ? cap_pdumps * 2 : 16) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		pdumps = n;
	}
	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	pdumps[nr_pdumps++] = pd;
	pipe_entry__init(&pd->pipe);
	pd->ino = p->st.st_ino;
	pd->pipe.id = f->id;
	pd->pipe.pipe_id = (uint32_t)p->st.st_ino;
	pd->pipe.flags = p->flags;
	pd->pipe.fown = p->fown;
	f->fe.type = FD_TYPES__PIPE;
	f->fe.pipe = &pd->pipe;
	f->priv = pd;
	for (size_t i = 0; i + 1 < nr_pdumps; i++)
		if (pdumps[i]->ino == pd->ino)
			pd->size_seen = true; /* written by that one */
	if (!pd->size_seen) {
		int size = fcntl(p->tfd, F_GETPIPE_SZ);

		pd->q.size = size > 0 ? (unsigned int)size : 0;
		pd->size_seen = true;
	}
	/* the data is taken once per pipe, from a read end: a pipe whose
	 * read end is outside the tree keeps its data for that reader */
	if ((p->flags & O_ACCMODE) == O_WRONLY)
		return 0;
	for (size_t i = 0; i + 1 < nr_pdumps; i++)
		if (pdumps[i]->ino == pd->ino && pdumps[i]->taken)
			return 0;
	pd->taken = true;
	{
		unsigned int size = pd->q.size;

		ret = pipe_queue_peek(p->tfd, &pd->q);
		pd->q.size = size; /* the first description's says it */
	}
	if (ret)
		pr_err("can't read the data in pipe %s (fd %d of pid %d): %s\n", p->link, p->fd,
		       p->pid, strerror(-ret));
	return ret;
}

static int pipe_write(int dirfd)
{
	struct cr_img *pd = img_open(dirfd, IMG_PIPES_DATA, O_WRONLY);
	int ret = 0;

	if (!pd)
		return -EIO;
	/* one entry a pipe, from its first description: its size even when it
	 * is empty, and the data taken from a read end */
	for (size_t i = 0; i < nr_pdumps && !ret; i++) {
		struct pipe_dump *f = pdumps[i], *data = NULL;
		struct pipe_queue q;

		if (!f->q.size)
			continue;
		for (size_t j = i; j < nr_pdumps; j++)
			if (pdumps[j]->ino == f->ino && pdumps[j]->taken)
				data = pdumps[j];
		q = (struct pipe_queue){ f->q.size, data ? data->q.data : NULL,
					 data ? data->q.bytes : 0 };
		ret = pipe_queue_write(pd, f->pipe.pipe_id, &q);
	}
	if (img_close(pd) && !ret)
		ret = -EIO;
	return ret;
}

static void pipe_dump_fini(void)
{
	for (size_t i = 0; i < nr_pdumps; i++) {
		free(pdumps[i]->q.data);
		free(pdumps[i]);
	}
	free(pdumps);
	pdumps = NULL;
	nr_pdumps = cap_pdumps = 0;
}

/* ---- restore --------------------------------------------------------------------- */

struct rpipe {
	uint32_t pipe_id;
	int lca;    /* the task that creates it */
	int fds[2]; /* in the creator and, inherited, its descendants */
};

struct pipe_state {
	struct rpipe *pipes;
	size_t nr_pipes;
	struct pipe_data pd; /* pipes-data.img */
};

static struct pipe_state *state(struct restore_ctx *rc)
{
	void **slot = rc_kind_state(rc, &pipe_kind);

	if (!*slot) {
		struct pipe_state *s = calloc(1, sizeof(*s));

		if (!s)
			return NULL;
		*slot = s;
		if (pipe_data_read(rc, IMG_PIPES_DATA, &s->pd))
			return NULL;
	}
	return *slot;
}

static struct rpipe *pipe_of(struct pipe_state *s, uint32_t pipe_id)
{
	for (size_t i = 0; i < s->nr_pipes; i++)
		if (s->pipes[i].pipe_id == pipe_id)
			return &s->pipes[i];
	return NULL;
}

/* The pipe of fe is made by the lowest common ancestor of the holders of
 * every description of either end. */
static int pipe_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	struct pipe_state *s;
	struct rpipe *p;
	int lca = -1;

	if (!fe->pipe) {
		pr_err("file %u: no pipe entry in files.img\n", fe->id);
		return -EINVAL;
	}
	s = state(rc);
	if (!s) {
		pr_err("can't read pipes-data.img\n");
		return -EINVAL;
	}
	for (int i = 0; i < rc_nr_tasks(rc); i++)
		for (size_t j = 0; j < rc_task_nfds(rc, i); j++)
			if (rc_task_fd(rc, i, j)->id == fe->id)
				lca = lca < 0 ? i : rc_lca(rc, lca, i);
	if (lca < 0)
		return 0; /* nobody holds it */
	p = pipe_of(s, fe->pipe->pipe_id);
	if (p) {
		p->lca = rc_lca(rc, p->lca, lca);
		return 0;
	}
	p = realloc(s->pipes, (s->nr_pipes + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	s->pipes = p;
	s->pipes[s->nr_pipes++] = (struct rpipe){ fe->pipe->pipe_id, lca, { -1, -1 } };
	return 0;
}

static int pipe_create(struct restore_ctx *rc, int idx)
{
	struct pipe_state *s = *rc_kind_state(rc, &pipe_kind);

	for (size_t i = 0; s && i < s->nr_pipes; i++) {
		struct rpipe *p = &s->pipes[i];
		char what[32];
		int ret;

		if (p->lca != idx)
			continue;
		if (pipe2(p->fds, O_NONBLOCK)) {
			pr_perror("can't create pipe %u", p->pipe_id);
			return -errno;
		}
		snprintf(what, sizeof(what), "pipe %u", p->pipe_id);
		ret = pipe_data_refill(p->fds[1], &s->pd, pipe_data_find(&s->pd, p->pipe_id), what);
		if (ret)
			return ret;
		/* each end's own flags come with its fds (rc_restore_fown_and_flags) */
		if (fcntl(p->fds[0], F_SETFL, 0) || fcntl(p->fds[1], F_SETFL, 0)) {
			pr_perror("can't make pipe %u blocking", p->pipe_id);
			return -errno;
		}
	}
	return 0;
}

static int pipe_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	struct pipe_state *s = *rc_kind_state(rc, &pipe_kind);
	uint32_t fdnum = rc_opening_fd(rc), pid = rc_task_pid(rc, idx);
	struct rpipe *p = s && fe->pipe ? pipe_of(s, fe->pipe->pipe_id) : NULL;
	int end, fd, r;

	if (!fe->pipe) {
		pr_err("fd %u of pid %u: no pipe %u in files.img\n", fdnum, pid, fe->id);
		return -EINVAL;
	}
	end = (fe->pipe->flags & O_ACCMODE) == O_WRONLY ? 1 : 0;
	if (!p || p->fds[end] < 0) {
		pr_err("fd %u of pid %u: pipe %u was not created\n", fdnum, pid, fe->pipe->pipe_id);
		return -EINVAL;
	}
	fd = fcntl(p->fds[end], F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = rc_restore_fown_and_flags(fd, fe->pipe->flags, fe->pipe->fown, fdnum, pid);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

static uint32_t pipe_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->pipe ? fe->pipe->flags : 0;
}

static void pipe_fini(struct restore_ctx *rc)
{
	void **slot = rc_kind_state(rc, &pipe_kind);
	struct pipe_state *s = *slot;

	if (!s)
		return;
	free(s->pipes);
	pipe_data_free(&s->pd);
	free(s);
	*slot = NULL;
}

const struct fd_kind pipe_kind = {
	.name = "pipe",
	.type = FD_TYPES__PIPE,
	.match = pipe_match,
	.dump = pipe_dump,
	.write = pipe_write,
	.dump_fini = pipe_dump_fini,
	.collect = pipe_collect,
	.create = pipe_create,
	.open = pipe_open,
	.status_flags = pipe_status_flags,
	.fini = pipe_fini,
	.own_sharing = true,
};
