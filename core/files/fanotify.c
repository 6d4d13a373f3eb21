/*
 * fanotify: fanotify_init's flags and event_f_flags, and every mark, on an
 * inode (found again by file handle, or by the name --force-irmap
 * resolved, as inotify's watches are: core/files/fsnotify.h) or on a mount
 * (found again by its mount id in our mount namespace, else by the path it
 * had), each with its mask, ignored mask and mark flags.  Marks of other
 * kinds (a whole filesystem's, a mount namespace's) have no place in the
 * image and are refused.  Events queued and not yet read are lost (dump
 * warns): a permission event's answer included.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fdkind.h"
#include "fsnotify.h"
#include "log.h"
#include "options.h"
#include "proc.h"

/* ---- the fdinfo ---------------------------------------------------------------- */

static int parse_mark(const char *line, size_t len, struct ffy_mark *m, char *bad, size_t badsz)
{
	uint64_t v, mflags, mask, ign;

	fanotify_mark_entry__init(&m->e);
	fanotify_inode_mark_entry__init(&m->ie);
	fanotify_mount_mark_entry__init(&m->me);
	fsn_handle_init(&m->h);
	if (!fsn_token(line, len, "mflags", 16, &mflags) || !fsn_token(line, len, "mask", 16, &mask) ||
	    !fsn_token(line, len, "ignored_mask", 16, &ign) || mflags > UINT32_MAX ||
	    mask > UINT32_MAX || ign > UINT32_MAX)
		return -EINVAL;
	m->e.mflags = (uint32_t)mflags;
	m->e.mask = (uint32_t)mask;
	m->e.ignored_mask = (uint32_t)ign;
	if (fsn_token(line, len, "ino", 16, &v)) {
		uint64_t sdev;

		if (!fsn_token(line, len, "sdev", 16, &sdev) || sdev > UINT32_MAX ||
		    fsn_parse_handle(line, len, &m->h))
			return -EINVAL;
		m->e.type = MARK_TYPE__INODE;
		m->e.s_dev = (uint32_t)sdev;
		m->ie.i_ino = v;
		return 0;
	}
	if (fsn_token(line, len, "mnt_id", 16, &v)) {
		if (v > UINT32_MAX)
			return -EINVAL;
		m->e.type = MARK_TYPE__MOUNT;
		m->me.mnt_id = (uint32_t)v;
		return 0;
	}
	snprintf(bad, badsz, "%.*s", (int)(len < 80 ? len : 80), line);
	return -EOPNOTSUPP;
}

int fanotify_parse_fdinfo(const char *fdinfo, struct ffy_info *fi)
{
	const char *line = fdinfo;
	size_t cap = 0;
	bool head = false;

	memset(fi, 0, sizeof(*fi));
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		uint64_t fl, ev;
		int ret;

		if (len > 9 && !strncmp(line, "fanotify ", 9)) {
			if (fsn_token(line, len, "flags", 16, &fl) &&
			    fsn_token(line, len, "event-flags", 16, &ev)) {
				if (head || fl > UINT32_MAX || ev > UINT32_MAX)
					goto bad;
				fi->faflags = (uint32_t)fl;
				fi->evflags = (uint32_t)ev;
				head = true;
			} else {
				if (fi->n == cap) {
					struct ffy_mark *bigger =
						realloc(fi->marks, (cap = cap ? 2 * cap : 8) * sizeof(*bigger));

					if (!bigger)
						goto nomem;
					fi->marks = bigger;
				}
				ret = parse_mark(line, len, &fi->marks[fi->n], fi->bad, sizeof(fi->bad));
				if (ret == -EOPNOTSUPP) {
					free(fi->marks);
					fi->marks = NULL;
					fi->n = 0;
					return ret;
				}
				if (ret)
					goto bad;
				fi->n++;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!head)
		goto bad;
	for (size_t i = 0; i < fi->n; i++) {
		struct ffy_mark *m = &fi->marks[i];

		m->h.fh.handle = m->h.words;
		m->ie.f_handle = &m->h.fh;
		if (m->e.type == MARK_TYPE__INODE)
			m->e.ie = &m->ie;
		else
			m->e.me = &m->me;
	}
	return 0;
nomem:
	free(fi->marks);
	fi->marks = NULL;
	fi->n = 0;
	return -ENOMEM;
bad:
	free(fi->marks);
	fi->marks = NULL;
	fi->n = 0;
	return -EINVAL;
}

/* ---- mounts -------------------------------------------------------------------- */

/* the mount point of mount id in pid's mountinfo (malloc'ed), or NULL */
static char *mount_path(pid_t pid, uint32_t mnt_id)
{
	char path[64], *mi, *line, *save = NULL, *found = NULL;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/mountinfo");
	mi = proc_read_file(path, NULL);
	if (!mi)
		return NULL;
	for (line = strtok_r(mi, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		char mnt[4096], *d, *s;
		unsigned int id;

		if (sscanf(line, "%u %*d %*u:%*u %*s %4095s", &id, mnt) != 2 || id != mnt_id)
			continue;
		/* \ooo escapes */
		for (s = d = mnt; *s; s++) {
			if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
			    s[3] >= '0' && s[3] <= '7') {
				*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
				s += 3;
			} else
				*d++ = *s;
		}
		*d = '\0';
		found = strdup(mnt);
	}
	free(mi);
	return found;
}

/* ---- dump ---------------------------------------------------------------------- */

struct ffy_dump {
	struct ffy_dump *next;
	FanotifyFileEntry e;
	struct ffy_info fi;
	FanotifyMarkEntry **ptrs;
};

static struct ffy_dump *dumped;

static bool fanotify_match(const struct fd_parms *p)
{
	return !strcmp(p->link, "anon_inode:[fanotify]");
}

static int fanotify_check(const struct fd_parms *p, const char *who)
{
	struct ffy_info fi;
	int ret = fanotify_parse_fdinfo(p->fdinfo, &fi), tfd;

	if (ret == -EOPNOTSUPP) {
		pr_err("%s: fd %d is a fanotify with a mark of a kind that is not dumped (only inode "
		       "and mount marks are): '%s' in /proc/%d/fdinfo/%d\n",
		       who, p->fd, fi.bad, p->pid, p->fd);
		return ret;
	}
	if (ret) {
		pr_err("%s: fd %d is a fanotify whose /proc/%d/fdinfo/%d can't be read: %s\n", who,
		       p->fd, p->pid, p->fd, strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < fi.n && !ret; i++) {
		const struct ffy_mark *m = &fi.marks[i];
		const char *why = NULL;
		char *path = NULL;
		int fd;

		if (m->e.type == MARK_TYPE__MOUNT) {
			path = mount_path(p->pid, m->me.mnt_id);
			if (!path) {
				pr_err("%s: fd %d is a fanotify with a mark on mount %u, which is not in "
				       "/proc/%d/mountinfo\n",
				       who, p->fd, m->me.mnt_id, p->pid);
				ret = -EOPNOTSUPP;
			}
			free(path);
			continue;
		}
		if (!m->h.fh.bytes) {
			why = "its filesystem can't make file handles";
		} else if (opts.force_irmap) {
			path = fsn_mark_path(&m->h.fh, m->e.s_dev, &why);
			free(path);
		} else if ((fd = fsn_open_mark(&m->h.fh, m->e.s_dev, &why)) >= 0) {
			close(fd);
		}
		if (why) {
			dev_t dev = fsn_kdev(m->e.s_dev);

			pr_err("%s: fd %d is a fanotify with a mark on inode %llu of device %u:%u that "
			       "restore could not find again: %s\n",
			       who, p->fd, (unsigned long long)m->ie.i_ino, major(dev), minor(dev), why);
			ret = -EOPNOTSUPP;
		}
	}
	free(fi.marks);
	if (ret)
		return ret;
	tfd = p->tfd >= 0 ? fcntl(p->tfd, F_DUPFD_CLOEXEC, 0) : task_fd(p->pid, p->fd);
	if (tfd >= 0) {
		int q = fsn_queued(tfd);

		if (q > 0)
			pr_warn("%s: fd %d (fanotify): %d bytes of events not read yet are lost: the "
				"restored fanotify starts with none queued\n",
				who, p->fd, q);
		close(tfd);
	}
	return 0;
}

static int fanotify_dump(struct dump_file *f, const struct fd_parms *p)
{
	struct ffy_dump *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -ENOMEM;
	d->next = dumped;
	dumped = d;
	fanotify_file_entry__init(&d->e);
	ret = fanotify_parse_fdinfo(p->fdinfo, &d->fi);
	if (ret) {
		pr_err("fd %d of pid %d: can't read the marks of its fanotify: %s\n", p->fd, p->pid,
		       strerror(-ret));
		return ret;
	}
	d->ptrs = calloc(d->fi.n ? d->fi.n : 1, sizeof(*d->ptrs));
	if (!d->ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < d->fi.n; i++) {
		struct ffy_mark *m = &d->fi.marks[i];
		const char *why = NULL;

		m->e.id = f->id;
		d->ptrs[i] = &m->e;
		if (m->e.type == MARK_TYPE__MOUNT) {
			m->me.path = mount_path(p->pid, m->me.mnt_id);
			if (!m->me.path) {
				pr_err("fd %d of pid %d: fanotify's mount %u is gone\n", p->fd, p->pid,
				       m->me.mnt_id);
				return -ENOENT;
			}
			continue;
		}
		if (!opts.force_irmap)
			continue;
		m->h.fh.path = fsn_mark_path(&m->h.fh, m->e.s_dev, &why);
		if (!m->h.fh.path) {
			pr_err("fd %d of pid %d: the name of fanotify's inode %llu can't be found: %s\n",
			       p->fd, p->pid, (unsigned long long)m->ie.i_ino, why);
			return -ENOENT;
		}
	}
	d->e.id = f->id;
	d->e.flags = p->flags;
	d->e.fown = p->fown;
	d->e.faflags = d->fi.faflags;
	d->e.evflags = d->fi.evflags;
	d->e.n_mark = d->fi.n;
	d->e.mark = d->ptrs;
	f->fe.ffy = &d->e;
	f->priv = d;
	return 0;
}

static void fanotify_dump_fini(void)
{
	while (dumped) {
		struct ffy_dump *d = dumped;

		dumped = d->next;
		for (size_t i = 0; i < d->fi.n; i++) {
			free(d->fi.marks[i].h.fh.path);
			free(d->fi.marks[i].me.path);
		}
		free(d->fi.marks);
		free(d->ptrs);
		free(d);
	}
}

/* ---- restore ------------------------------------------------------------------- */

/* the mark flags a mark may be added with again */
#define MARK_FLAGS (FAN_MARK_IGNORED_SURV_MODIFY | FAN_MARK_EVICTABLE | FAN_MARK_IGNORE)

static int fanotify_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	const FanotifyFileEntry *fa = fe->ffy;

	if (!fa || !fa->fown) {
		pr_err("files.img: file %u is a fanotify without its fanotify entry\n", fe->id);
		return -EINVAL;
	}
	for (size_t i = 0; i < fa->n_mark; i++) {
		const FanotifyMarkEntry *m = fa->mark[i];
		const FhEntry *fh = m->ie ? m->ie->f_handle : NULL;

		if (m->mflags & ~MARK_FLAGS) {
			pr_err("files.img: fanotify %u: mark %zu has unknown mark flags %#x\n", fe->id, i,
			       m->mflags & ~MARK_FLAGS);
			return -EINVAL;
		}
		if (m->type == MARK_TYPE__INODE &&
		    (!fh || (!fh->path && (!fh->bytes || fh->bytes > FSN_HANDLE_MAX ||
					   fh->n_handle * 8 < fh->bytes || fh->type > INT32_MAX)))) {
			pr_err("files.img: fanotify %u: inode mark %zu has no usable file handle or "
			       "path\n",
			       fe->id, i);
			return -EINVAL;
		}
		if (m->type == MARK_TYPE__MOUNT && !m->me) {
			pr_err("files.img: fanotify %u: mount mark %zu has no mount\n", fe->id, i);
			return -EINVAL;
		}
		if (m->type != MARK_TYPE__INODE && m->type != MARK_TYPE__MOUNT) {
			pr_err("files.img: fanotify %u: mark %zu is of unknown type %d\n", fe->id, i,
			       m->type);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * FAN_MARK_ADD of the mask, then of the ignored mask (FAN_MARK_IGNORE
 * marks name it so, older ones FAN_MARK_IGNORED_MASK), on path; the
 * evictable flag goes with both, as a mark keeps the one it was added with.
 */
static int add_mark(int fa, const FanotifyMarkEntry *m, unsigned int where, const char *path,
		    uint32_t fdnum, uint32_t pid)
{
	unsigned int flags = FAN_MARK_ADD | where;
	unsigned int ign = (m->mflags & FAN_MARK_IGNORE) ? 0 : FAN_MARK_IGNORED_MASK;

	if (m->mask && fanotify_mark(fa, flags | (m->mflags & FAN_MARK_EVICTABLE), m->mask, AT_FDCWD,
				     path) < 0) {
		pr_perror("fd %u of pid %u: can't add the fanotify mark %#x on %s", fdnum, pid,
			  m->mask, path);
		return -errno;
	}
	if (m->ignored_mask &&
	    fanotify_mark(fa, flags | m->mflags | ign, m->ignored_mask, AT_FDCWD, path) < 0) {
		pr_perror("fd %u of pid %u: can't add the fanotify ignored mask %#x on %s", fdnum, pid,
			  m->ignored_mask, path);
		return -errno;
	}
	return 0;
}

static int restore_mark(int fa, const FanotifyMarkEntry *m, uint32_t fdnum, uint32_t pid)
{
	if (m->type == MARK_TYPE__MOUNT) {
		char *path = mount_path(0, m->me->mnt_id);
		int ret;

		if (!path && m->me->path)
			path = strdup(m->me->path);
		if (!path) {
			pr_err("fd %u of pid %u: fanotify's mount %u is not here\n", fdnum, pid,
			       m->me->mnt_id);
			return -ENOENT;
		}
		ret = add_mark(fa, m, FAN_MARK_MOUNT, path, fdnum, pid);
		free(path);
		return ret;
	} else {
		const char *why = NULL;
		char path[32];
		int tfd = fsn_open_mark(m->ie->f_handle, m->s_dev, &why), ret;

		if (tfd < 0) {
			pr_err("fd %u of pid %u: fanotify's inode %llu can't be found again: %s\n", fdnum,
			       pid, (unsigned long long)m->ie->i_ino, why);
			return tfd;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", tfd);
		ret = add_mark(fa, m, 0, path, fdnum, pid);
		close(tfd);
		return ret;
	}
}

static int fanotify_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	const FanotifyFileEntry *fa = fe->ffy;
	uint32_t pid = rc_task_pid(rc, idx), fdnum = rc_opening_fd(rc);
	int fd = fanotify_init(fa->faflags | FAN_CLOEXEC, fa->evflags), ret = 0;

	if (fd < 0) {
		pr_perror("fd %u of pid %u: can't create its fanotify (flags %#x, event flags %#x)",
			  fdnum, pid, fa->faflags, fa->evflags);
		return -errno;
	}
	/* fdinfo lists the newest mark first: added last to first, they list as they did */
	for (size_t i = fa->n_mark; i > 0 && !ret; i--)
		ret = restore_mark(fd, fa->mark[i - 1], fdnum, pid);
	if (!ret)
		ret = rc_restore_fown_and_flags(fd, fa->flags, fa->fown, fdnum, pid);
	if (ret) {
		close(fd);
		return ret;
	}
	pr_info("fd %u of pid %u: fanotify with %zu marks\n", fdnum, pid, fa->n_mark);
	return fd;
}

static uint32_t fanotify_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->ffy ? fe->ffy->flags : 0;
}

const struct fd_kind fanotify_kind = {
	.name = "fanotify",
	.type = FD_TYPES__FANOTIFY,
	.match = fanotify_match,
	.check = fanotify_check,
	.dump = fanotify_dump,
	.dump_fini = fanotify_dump_fini,
	.collect = fanotify_collect,
	.open = fanotify_open,
	.status_flags = fanotify_status_flags,
};
