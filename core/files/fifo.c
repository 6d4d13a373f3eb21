/*
 * FIFOs (named pipes), as upstream keeps them: a FifoEntry in the FileEntry
 * (its pipe_id, the FIFO's inode, and regf_id, a REG entry of files.img
 * with the path, flags and owner, written by regfile.c's dump), and
 * fifo-data.img with each FIFO's size and the data in flight, in the
 * format of pipes-data.img.
 *
 * Dump copies the data without taking it: tee() from a description of our
 * own (the FIFO opened O_RDWR through /proc/PID/fd/N, which never blocks
 * and reads whatever end the task holds).
 *
 * Restore needs the FIFO file at its path: collect refuses, naming it, when
 * it is missing or is no FIFO.  The lowest common ancestor of every holder
 * of one FIFO opens it O_RDWR before it forks them (create), gives it its
 * size, refills it, and keeps that description open until its fds take
 * their numbers: the descendants inherit it, so the FIFO always has a
 * reader and a writer while they open their ends read-only or write-only
 * (which would block, or fail with ENXIO, alone), and the data stays in it.
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
#include "inherit.h"
#include "log.h"
#include "pipe-data.h"
#include "proto/fifo.pb-c.h"
#include "regfile.h"

extern const struct fd_kind fifo_kind;

/* ---- dump ------------------------------------------------------------------------ */

struct fifo_dump {
	FifoEntry fifo;
	ino_t ino;
	struct pipe_queue q; /* the first description of its FIFO: what was in it */
	bool first;
	struct fifo_dump *next;
};

static struct fifo_dump *fdumps; /* newest first */

static bool fifo_match(const struct fd_parms *p)
{
	return S_ISFIFO(p->st.st_mode) && strncmp(p->link, "pipe:", 5);
}

static int fifo_check(const struct fd_parms *p, const char *who)
{
	const char *why;
	char ext[64];

	if (files_external_key(p, ext, sizeof(ext)))
		return 0; /* --external: restore takes it from --inherit-fd */
	why = regfile_why_not_reopenable(p->link, &p->st);
	if (!why)
		return 0;
	pr_err("%s: fd %d is a FIFO restore could not open again (%s): %s\n", who, p->fd, p->link,
	       why);
	return -EOPNOTSUPP;
}

/* What sits in the FIFO, copied without taking it, through a description
 * of our own: O_RDWR never blocks, and reads whatever end the task holds. */
static int peek_fifo(const struct fd_parms *p, struct fifo_dump *d)
{
	char path[64];
	int rfd, ret;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", p->pid, p->fd);
	rfd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (rfd < 0)
		return -errno;
	ret = pipe_queue_peek(rfd, &d->q);
	close(rfd);
	return ret;
}

static int fifo_dump(struct dump_file *f, const struct fd_parms *p)
{
	struct dump_file *rf = dump_file_new(&regfile_kind);
	struct fifo_dump *d;
	int ret;

	if (!rf)
		return -ENOMEM;
	/* the path, flags and owner: a REG entry, as upstream writes it */
	ret = regfile_dump(rf, p);
	if (ret)
		return ret;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	fifo_entry__init(&d->fifo);
	d->fifo.id = f->id;
	d->fifo.pipe_id = (uint32_t)p->st.st_ino;
	d->fifo.has_regf_id = true;
	d->fifo.regf_id = rf->id;
	d->ino = p->st.st_ino;
	d->first = true;
	for (struct fifo_dump *o = fdumps; o; o = o->next)
		if (o->ino == d->ino)
			d->first = false;
	d->next = fdumps;
	fdumps = d;
	f->fe.type = FD_TYPES__FIFO;
	f->fe.fifo = &d->fifo;
	f->priv = d;
	if (!d->first)
		return 0;
	ret = peek_fifo(p, d);
	if (ret)
		pr_err("can't read the data in FIFO %s (fd %d of pid %d): %s\n", p->link, p->fd,
		       p->pid, strerror(-ret));
	return ret;
}

static int write_one(struct cr_img *img, const struct fifo_dump *d)
{
	int ret = d->next ? write_one(img, d->next) : 0; /* oldest first, as dumped */

	if (ret || !d->first)
		return ret;
	return pipe_queue_write(img, d->fifo.pipe_id, &d->q);
}

static int fifo_write(int dirfd)
{
	struct cr_img *img;
	int ret;

	if (!fdumps)
		return 0;
	img = img_open(dirfd, IMG_FIFO_DATA, O_WRONLY);
	if (!img)
		return -EIO;
	ret = write_one(img, fdumps);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

static void fifo_dump_fini(void)
{
	while (fdumps) {
		struct fifo_dump *d = fdumps;

		fdumps = d->next;
		free(d->q.data);
		free(d);
	}
}

/* ---- restore --------------------------------------------------------------------- */

struct rfifo {
	uint32_t pipe_id;
	const char *path; /* of one of its entries */
	int lca;	  /* opens it first and keeps it open for the others */
	int keeper;
};

struct fifo_state {
	struct rfifo *fifos;
	size_t nr;
	struct pipe_data pd; /* fifo-data.img */
	bool data_read;
};

static struct fifo_state *state(struct restore_ctx *rc)
{
	void **slot = rc_kind_state(rc, &fifo_kind);

	if (!*slot)
		*slot = calloc(1, sizeof(struct fifo_state));
	return *slot;
}

static struct rfifo *fifo_of(struct fifo_state *s, uint32_t pipe_id)
{
	for (size_t i = 0; i < s->nr; i++)
		if (s->fifos[i].pipe_id == pipe_id)
			return &s->fifos[i];
	return NULL;
}

/* The REG entry of a FIFO entry: its path, flags and owner. */
static const FileEntry *fifo_reg(struct restore_ctx *rc, const FileEntry *fe)
{
	const FileEntry *r;

	if (!fe->fifo || !fe->fifo->has_regf_id)
		return NULL;
	r = rc_file(rc, fe->fifo->regf_id);
	return r && r->type == FD_TYPES__REG && r->reg ? r : NULL;
}

static int fifo_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	struct fifo_state *s = state(rc);
	const FileEntry *reg = fifo_reg(rc, fe);
	struct rfifo *f;
	struct stat st;
	int lca = -1;

	if (!s)
		return -ENOMEM;
	if (!fe->fifo || !reg) {
		pr_err("files.img: FIFO %u has no %s\n", fe->id,
		       !fe->fifo ? "fifo entry" : "regular-file entry (regf_id) with its path");
		return -EINVAL;
	}
	for (int i = 0; i < rc_nr_tasks(rc); i++)
		for (size_t j = 0; j < rc_task_nfds(rc, i); j++)
			if (rc_task_fd(rc, i, j)->id == fe->id)
				lca = lca < 0 ? i : rc_lca(rc, lca, i);
	/* nobody holds it, or it is not criu's to open (--inherit-fd, --external) */
	if (lca < 0 || reg->reg->ext || inherit_fd_given(rc, fe))
		return 0;
	if (stat(reg->reg->name, &st) || !S_ISFIFO(st.st_mode)) {
		pr_err("FIFO %s (file %u of pid %u) %s: restore opens the FIFO by its path (mkfifo "
		       "it)\n",
		       reg->reg->name, fe->id, rc_task_pid(rc, lca),
		       errno == ENOENT ? "does not exist" : "is not a FIFO now");
		return -ENOENT;
	}
	f = fifo_of(s, fe->fifo->pipe_id);
	if (f) {
		f->lca = rc_lca(rc, f->lca, lca);
		return 0;
	}
	f = realloc(s->fifos, (s->nr + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	s->fifos = f;
	s->fifos[s->nr++] = (struct rfifo){ .pipe_id = fe->fifo->pipe_id,
					    .path = reg->reg->name,
					    .lca = lca,
					    .keeper = -1 };
	return 0;
}

static int fifo_create(struct restore_ctx *rc, int idx)
{
	struct fifo_state *s = *rc_kind_state(rc, &fifo_kind);
	int ret;

	if (!s)
		return 0;
	if (!s->data_read) {
		s->data_read = true;
		ret = pipe_data_read(rc, IMG_FIFO_DATA, &s->pd);
		if (ret) {
			pr_err("can't read fifo-data.img\n");
			return ret;
		}
	}
	for (size_t i = 0; i < s->nr; i++) {
		struct rfifo *f = &s->fifos[i];
		char what[224];

		if (f->lca != idx)
			continue;
		/* non-blocking: data that does not fit (an image's size too small)
		 * fails the restore instead of hanging it */
		f->keeper = open(f->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (f->keeper < 0) {
			pr_perror("can't open FIFO %s", f->path);
			return -errno;
		}
		snprintf(what, sizeof(what), "FIFO %.200s", f->path);
		ret = pipe_data_refill(f->keeper, &s->pd, pipe_data_find(&s->pd, f->pipe_id), what);
		if (ret)
			return ret;
	}
	return 0;
}

static int fifo_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	struct fifo_state *s = *rc_kind_state(rc, &fifo_kind);
	const FileEntry *reg = fifo_reg(rc, fe);
	struct rfifo *f = s && fe->fifo ? fifo_of(s, fe->fifo->pipe_id) : NULL;

	if (!reg || !f || f->keeper < 0) {
		pr_err("fd %u of pid %u: FIFO %u was not prepared\n", rc_opening_fd(rc),
		       rc_task_pid(rc, idx), fe->id);
		return -EINVAL;
	}
	/* f->keeper is open in this task (its own or inherited): no blocking */
	return regfile_open(rc, reg, idx);
}

/* the REG entry's: regfile_open sets them, and fdcommon O_ASYNC from them */
static uint32_t fifo_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	const FileEntry *reg = fifo_reg(rc, fe);

	return reg ? regfile_status_flags(rc, reg) : 0;
}

static void fifo_fini(struct restore_ctx *rc)
{
	void **slot = rc_kind_state(rc, &fifo_kind);
	struct fifo_state *s = *slot;

	if (!s)
		return;
	free(s->fifos);
	pipe_data_free(&s->pd);
	free(s);
	*slot = NULL;
}

const struct fd_kind fifo_kind = {
	.name = "FIFO",
	.type = FD_TYPES__FIFO,
	.match = fifo_match,
	.check = fifo_check,
	.dump = fifo_dump,
	.write = fifo_write,
	.dump_fini = fifo_dump_fini,
	.collect = fifo_collect,
	.create = fifo_create,
	.open = fifo_open,
	.status_flags = fifo_status_flags,
	.fini = fifo_fini,
};
