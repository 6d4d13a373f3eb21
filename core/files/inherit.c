/*
 * Files that are not criu's to open: --external file[MNT_ID:INODE] on dump
 * and --inherit-fd fd[N]:KEY on restore (criu(8)).
 *
 * Dump: a regular file (or FIFO) whose mount id (fdinfo's mnt_id) and
 * inode, in hex, match an --external file[...] is written as upstream does
 * it: a REG entry named "file[MNT_ID:INODE]" with ext set, nothing of it
 * checked (it may be deleted, or on a mount restore won't have).
 *
 * Restore: criu's own fd N (given by whoever runs criu) becomes every
 * description of the images that KEY names, in place of opening it:
 *   a regular file or FIFO: its path, with or without the leading '/'
 *   (upstream's keys have none); an external one: "file[MNT_ID:INODE]";
 *   a pipe: "pipe:[INODE]", either end.
 * Each --inherit-fd must name some description a task holds, and fd N must
 * be open; an external file needs one.  Otherwise restore stops before it
 * creates anything, with one message.  The description is used as it is:
 * its flags, position and owner are the giver's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdkind.h"
#include "inherit.h"
#include "log.h"
#include "options.h"
#include "restore-priv.h"

/* ---- dump ------------------------------------------------------------------------ */

const char *files_external_key(const struct fd_parms *p, char *buf, size_t size)
{
	const char *mnt = p->fdinfo ? fdinfo_field(p->fdinfo, "mnt_id") : NULL;

	if (!opts.externals.n || !mnt)
		return NULL;
	snprintf(buf, size, "file[%x:%llx]", (unsigned int)strtoul(mnt, NULL, 10),
		 (unsigned long long)p->st.st_ino);
	for (int i = 0; i < opts.externals.n; i++)
		if (!strcmp(opts.externals.items[i], buf))
			return buf;
	return NULL;
}

/* ---- restore --------------------------------------------------------------------- */

struct inherit_fd {
	int fd;		 /* criu's */
	const char *key;
	const char *arg; /* as given, for messages */
	bool used;
};

struct inherit_set {
	struct inherit_fd *v;
	int n;
};

/* Whether key names file fe (type REG, PIPE or FIFO). */
static bool key_names(struct restore_ctx *rc, const char *key, const FileEntry *fe)
{
	char buf[32];

	if (fe->type == FD_TYPES__FIFO && fe->fifo && fe->fifo->has_regf_id)
		fe = rc_file(rc, fe->fifo->regf_id);
	if (!fe)
		return false;
	if (fe->type == FD_TYPES__REG && fe->reg && fe->reg->name) {
		const char *name = fe->reg->name;

		if (fe->reg->ext)
			return !strcmp(key, name);
		return !strcmp(key, name) || (name[0] == '/' && !strcmp(key, name + 1));
	}
	if (fe->type == FD_TYPES__PIPE && fe->pipe) {
		snprintf(buf, sizeof(buf), "pipe:[%u]", fe->pipe->pipe_id);
		return !strcmp(key, buf);
	}
	return false;
}

static struct inherit_fd *find(struct restore_ctx *rc, struct inherit_set *s, const FileEntry *fe)
{
	for (int i = 0; s && i < s->n; i++)
		if (key_names(rc, s->v[i].key, fe))
			return &s->v[i];
	return NULL;
}

static bool is_external(struct restore_ctx *rc, const FileEntry *fe)
{
	if (fe->type == FD_TYPES__FIFO && fe->fifo && fe->fifo->has_regf_id)
		fe = rc_file(rc, fe->fifo->regf_id);
	return fe && fe->type == FD_TYPES__REG && fe->reg && fe->reg->ext;
}

int inherit_fds_plan(struct restore_ctx *rc)
{
	struct inherit_set *s;

	rc->inherit = NULL;
	s = calloc(1, sizeof(*s));
	if (!s || (opts.inherit_fds.n && !(s->v = calloc((size_t)opts.inherit_fds.n, sizeof(*s->v))))) {
		free(s);
		return -ENOMEM;
	}
	rc->inherit = s;
	for (int i = 0; i < opts.inherit_fds.n; i++) {
		struct inherit_fd *h = &s->v[s->n];
		const char *arg = opts.inherit_fds.items[i];

		if (cli_split_inherit_fd(arg, &h->fd, &h->key)) {
			pr_err("--inherit-fd %s: not of the form fd[N]:EXISTING\n", arg);
			return -EINVAL;
		}
		h->arg = arg;
		if (fcntl(h->fd, F_GETFD) < 0) {
			pr_err("--inherit-fd %s: criu has no fd %d open\n", arg, h->fd);
			return -EBADF;
		}
		s->n++;
	}
	/* every one names a description some task holds; every external file is given */
	for (int t = 0; t < rc_nr_tasks(rc); t++)
		for (size_t j = 0; j < rc_task_nfds(rc, t); j++) {
			const FdinfoEntry *fd = rc_task_fd(rc, t, j);
			const FileEntry *fe = rc_file(rc, fd->id);
			struct inherit_fd *h = fe ? find(rc, s, fe) : NULL;

			if (h)
				h->used = true;
			else if (fe && is_external(rc, fe)) {
				const FileEntry *r = fe->type == FD_TYPES__FIFO
							     ? rc_file(rc, fe->fifo->regf_id)
							     : fe;

				pr_err("fd %u of pid %u is the external file %s: restore needs it "
				       "given with --inherit-fd fd[N]:%s\n",
				       fd->fd, rc_task_pid(rc, t), r->reg->name, r->reg->name);
				return -ENOENT;
			}
		}
	for (int i = 0; i < s->n; i++)
		if (!s->v[i].used) {
			pr_err("--inherit-fd %s: no file of the images is '%s' (a path without "
			       "the leading /, pipe:[INODE] or file[MNT_ID:INODE])\n",
			       s->v[i].arg, s->v[i].key);
			return -ENOENT;
		}
	return 0;
}

int inherit_fd_open(struct restore_ctx *rc, const FileEntry *fe)
{
	struct inherit_fd *h = find(rc, rc->inherit, fe);
	int fd;

	if (!h)
		return -ENOENT;
	fd = fcntl(h->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		pr_perror("--inherit-fd %s: can't take criu's fd %d", h->arg, h->fd);
		return -EBADF;
	}
	pr_info("file %u is criu's fd %d (--inherit-fd %s)\n", fe->id, h->fd, h->arg);
	return fd;
}

bool inherit_fd_given(struct restore_ctx *rc, const FileEntry *fe)
{
	return find(rc, rc->inherit, fe) != NULL;
}

void inherit_fds_free(struct restore_ctx *rc)
{
	if (!rc->inherit)
		return;
	free(rc->inherit->v);
	free(rc->inherit);
	rc->inherit = NULL;
}
