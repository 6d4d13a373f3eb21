/*
 * inotify: every watch (its wd number, mask and inode), and what the two
 * fsnotify kinds share (core/files/fsnotify.h).
 *
 * fdinfo names each watched inode by a file handle; restore opens the
 * inode with open_by_handle_at through a mount of its device (or by the
 * name that --force-irmap resolved at dump) and watches it through
 * /proc/self/fd/N.  The kernel gives out wd numbers in rising order
 * (idr_alloc_cyclic), so adding the watches in wd order, and removing a
 * watch that came out below the one wanted, gives back every number.  The
 * IN_IGNORED events those removals queue are read off before the task gets
 * its inotify.  Events queued and not yet read at dump are not in any
 * image: dump warns, naming how many bytes are lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fdkind.h"
#include "fsnotify.h"
#include "log.h"
#include "options.h"
#include "proc.h"

/*
 * Each wd number restore must skip to reach a watch's costs an add and a
 * remove of a watch (~0.1 ms, the removal waits for the kernel): more than
 * this many in one inotify are refused rather than taking minutes.
 */
#define WD_SKIP_MAX 65536u

/* ---- shared with fanotify ---------------------------------------------------------- */

void fsn_handle_init(struct fsn_handle *h)
{
	fh_entry__init(&h->fh);
	memset(h->words, 0, sizeof(h->words));
	h->fh.n_handle = FSN_HANDLE_WORDS;
	h->fh.handle = h->words;
}

/* the value of token key in line[0..len), and its length */
static const char *find_token(const char *line, size_t len, const char *key, size_t *vlen)
{
	size_t klen = strlen(key), i = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		end = i;
		if (end - start > klen && !memcmp(line + start, key, klen) &&
		    line[start + klen] == ':') {
			*vlen = end - start - klen - 1;
			return line + start + klen + 1;
		}
	}
	return NULL;
}

bool fsn_token(const char *line, size_t len, const char *key, int base, uint64_t *v)
{
	char buf[32], *end;
	size_t vlen;
	const char *s = find_token(line, len, key, &vlen);

	if (!s || !vlen || vlen >= sizeof(buf) || s[0] == '-')
		return false;
	memcpy(buf, s, vlen);
	buf[vlen] = '\0';
	errno = 0;
	*v = strtoull(buf, &end, base);
	return !errno && *end == '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int fsn_parse_handle(const char *line, size_t len, struct fsn_handle *h)
{
	unsigned char *bytes = (unsigned char *)h->words;
	uint64_t nbytes, type;
	const char *hex;
	size_t hlen;

	fsn_handle_init(h);
	if (!find_token(line, len, "fhandle-bytes", &hlen))
		return 0;
	if (!fsn_token(line, len, "fhandle-bytes", 16, &nbytes) ||
	    !fsn_token(line, len, "fhandle-type", 16, &type) || nbytes > FSN_HANDLE_MAX ||
	    type > INT32_MAX)
		return -EINVAL;
	hex = find_token(line, len, "f_handle", &hlen);
	if (!hex || hlen != 2 * nbytes)
		return -EINVAL;
	for (size_t i = 0; i < nbytes; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		bytes[i] = (unsigned char)(hi << 4 | lo);
	}
	h->fh.bytes = (uint32_t)nbytes;
	h->fh.type = (uint32_t)type;
	return 0;
}

dev_t fsn_kdev(uint32_t s_dev)
{
	return makedev(s_dev >> 20, s_dev & 0xfffff);
}

/* a mountinfo path with its \ooo escapes decoded, in place */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else
			*d++ = *s;
	}
	*d = '\0';
}

static char why_buf[160];

/* open_by_handle_at through each mount of dev, mounts of the filesystem's root first */
static int open_by_handle(const FhEntry *fh, dev_t dev, const char **why)
{
	struct file_handle *fhp;
	char *mi = proc_read_file("/proc/self/mountinfo", NULL), *line, *save = NULL;
	int fd = -ENOENT, err = 0;
	bool seen = false;

	if (!fh->bytes || fh->bytes > FSN_HANDLE_MAX || fh->n_handle * 8 < fh->bytes) {
		*why = "its file handle is empty or too long";
		free(mi);
		return -EINVAL;
	}
	if (!mi) {
		*why = "/proc/self/mountinfo can't be read";
		return -EIO;
	}
	fhp = malloc(sizeof(*fhp) + FSN_HANDLE_MAX);
	if (!fhp) {
		free(mi);
		return -ENOMEM;
	}
	fhp->handle_bytes = fh->bytes;
	fhp->handle_type = (int)fh->type;
	memcpy(fhp->f_handle, fh->handle, fh->bytes);
	for (int pass = 0; pass < 2 && fd < 0; pass++) {
		char *copy = strdup(mi);

		if (!copy)
			break;
		save = NULL;
		for (line = strtok_r(copy, "\n", &save); line && fd < 0;
		     line = strtok_r(NULL, "\n", &save)) {
			char root[4096], mnt[4096];
			unsigned int maj, min;
			int mfd;

			if (sscanf(line, "%*d %*d %u:%u %4095s %4095s", &maj, &min, root, mnt) != 4 ||
			    makedev(maj, min) != dev || (pass == 0) != !strcmp(root, "/"))
				continue;
			seen = true;
			unescape(mnt);
			mfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* not O_PATH: the kernel wants a real file */
			if (mfd < 0)
				continue;
			fd = open_by_handle_at(mfd, fhp, O_PATH | O_CLOEXEC);
			if (fd < 0) {
				err = errno;
				fd = -err;
			}
			close(mfd);
		}
		free(copy);
	}
	free(fhp);
	free(mi);
	if (fd >= 0)
		return fd;
	if (!seen) {
		snprintf(why_buf, sizeof(why_buf), "no mount of its filesystem (device %u:%u) is here",
			 major(dev), minor(dev));
	} else {
		snprintf(why_buf, sizeof(why_buf), "its file handle can't be opened (%s)",
			 strerror(err ? err : ENOENT));
	}
	*why = why_buf;
	return err ? -err : -ENOENT;
}

int fsn_open_mark(const FhEntry *fh, uint32_t s_dev, const char **why)
{
	if (fh->path) {
		int fd = open(fh->path, O_PATH | O_CLOEXEC);

		if (fd < 0) {
			int err = errno;

			snprintf(why_buf, sizeof(why_buf), "its path %.100s can't be opened (%s)", fh->path,
				 strerror(err));
			*why = why_buf;
			return -err;
		}
		return fd;
	}
	return open_by_handle(fh, fsn_kdev(s_dev), why);
}

char *fsn_mark_path(const FhEntry *fh, uint32_t s_dev, const char **why)
{
	char link[64], path[4096];
	struct stat a, b;
	int fd = open_by_handle(fh, fsn_kdev(s_dev), why);
	ssize_t n;

	if (fd < 0)
		return NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0 || fstat(fd, &a)) {
		close(fd);
		*why = "its name can't be read";
		return NULL;
	}
	close(fd);
	path[n] = '\0';
	if (path[0] != '/' || stat(path, &b) || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		snprintf(why_buf, sizeof(why_buf), "it has no name that leads to it (%.100s)", path);
		*why = why_buf;
		return NULL;
	}
	return strdup(path);
}

int fsn_queued(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) < 0 ? -errno : n;
}

/* ---- the fdinfo ---------------------------------------------------------------- */

int inotify_parse_fdinfo(const char *fdinfo, struct ify_wd **out, size_t *n)
{
	struct ify_wd *arr = NULL;
	size_t nr = 0, cap = 0;
	const char *line = fdinfo;

	*out = NULL;
	*n = 0;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		uint64_t wd, ino, sdev, mask, ign;

		if (len > 8 && !strncmp(line, "inotify ", 8)) {
			struct ify_wd *w;

			if (nr == cap) {
				struct ify_wd *bigger = realloc(arr, (cap = cap ? 2 * cap : 8) * sizeof(*arr));

				if (!bigger) {
					free(arr);
					return -ENOMEM;
				}
				arr = bigger;
			}
			w = &arr[nr];
			inotify_wd_entry__init(&w->e);
			if (!fsn_token(line, len, "wd", 16, &wd) || !fsn_token(line, len, "ino", 16, &ino) ||
			    !fsn_token(line, len, "sdev", 16, &sdev) ||
			    !fsn_token(line, len, "mask", 16, &mask) ||
			    !fsn_token(line, len, "ignored_mask", 16, &ign) || wd == 0 || wd > INT32_MAX ||
			    sdev > UINT32_MAX || mask > UINT32_MAX || ign > UINT32_MAX ||
			    fsn_parse_handle(line, len, &w->h)) {
				free(arr);
				return -EINVAL;
			}
			w->e.wd = (uint32_t)wd;
			w->e.i_ino = ino;
			w->e.s_dev = (uint32_t)sdev;
			w->e.mask = (uint32_t)mask;
			w->e.ignored_mask = (uint32_t)ign;
			nr++;
		}
		line = nl ? nl + 1 : NULL;
	}
	/* the array has moved while it grew: its inner pointers are set last */
	for (size_t i = 0; i < nr; i++) {
		arr[i].h.fh.handle = arr[i].h.words;
		arr[i].e.f_handle = &arr[i].h.fh;
	}
	*out = arr;
	*n = nr;
	return 0;
}

/* ---- dump ---------------------------------------------------------------------- */

struct ify_dump {
	struct ify_dump *next;
	InotifyFileEntry e;
	struct ify_wd *wds;
	InotifyWdEntry **ptrs;
	size_t n;
};

static struct ify_dump *dumped;

static bool inotify_match(const struct fd_parms *p)
{
	return !strcmp(p->link, "anon_inode:inotify");
}

static int our_copy(const struct fd_parms *p)
{
	return p->tfd >= 0 ? fcntl(p->tfd, F_DUPFD_CLOEXEC, 0) : task_fd(p->pid, p->fd);
}

/* Every watch must be one restore finds again; queued events are lost. */
static int inotify_check(const struct fd_parms *p, const char *who)
{
	struct ify_wd *wds;
	size_t n;
	int ret = inotify_parse_fdinfo(p->fdinfo, &wds, &n), tfd;

	if (ret) {
		pr_err("%s: fd %d is an inotify whose /proc/%d/fdinfo/%d can't be read: %s\n", who,
		       p->fd, p->pid, p->fd, strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		const InotifyWdEntry *w = &wds[i].e;
		dev_t dev = fsn_kdev(w->s_dev);
		const char *why = NULL;
		char *path = NULL;
		int fd;

		if (!w->f_handle->bytes) {
			pr_err("%s: fd %d is an inotify whose watch %u (inode %llu of device %u:%u) has no "
			       "file handle: its filesystem can't make one, so restore could not find it\n",
			       who, p->fd, w->wd, (unsigned long long)w->i_ino, major(dev), minor(dev));
			ret = -EOPNOTSUPP;
			break;
		}
		if (opts.force_irmap)
			path = fsn_mark_path(w->f_handle, w->s_dev, &why);
		else if ((fd = fsn_open_mark(w->f_handle, w->s_dev, &why)) >= 0)
			close(fd);
		if (why) {
			pr_err("%s: fd %d is an inotify whose watch %u (inode %llu of device %u:%u) "
			       "restore could not find again: %s\n",
			       who, p->fd, w->wd, (unsigned long long)w->i_ino, major(dev), minor(dev), why);
			ret = -EOPNOTSUPP;
		}
		free(path);
	}
	if (!ret) {
		uint32_t top = 0;

		for (size_t i = 0; i < n; i++)
			if (wds[i].e.wd > top)
				top = wds[i].e.wd;
		if (top > n + WD_SKIP_MAX) {
			pr_err("%s: fd %d is an inotify whose watch numbers reach %u with %zu watches: "
			       "restore would have to skip more than %u numbers to give them back\n",
			       who, p->fd, top, n, WD_SKIP_MAX);
			ret = -EOPNOTSUPP;
		}
	}
	free(wds);
	if (ret)
		return ret;
	tfd = our_copy(p);
	if (tfd >= 0) {
		int q = fsn_queued(tfd);

		if (q > 0)
			pr_warn("%s: fd %d (inotify): %d bytes of events not read yet are lost: the "
				"restored inotify starts with none queued\n",
				who, p->fd, q);
		close(tfd);
	}
	return 0;
}

static int inotify_dump(struct dump_file *f, const struct fd_parms *p)
{
	struct ify_dump *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -ENOMEM;
	d->next = dumped;
	dumped = d;
	inotify_file_entry__init(&d->e);
	ret = inotify_parse_fdinfo(p->fdinfo, &d->wds, &d->n);
	if (ret) {
		pr_err("fd %d of pid %d: can't read the watches of its inotify: %s\n", p->fd, p->pid,
		       strerror(-ret));
		return ret;
	}
	d->ptrs = calloc(d->n ? d->n : 1, sizeof(*d->ptrs));
	if (!d->ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++) {
		InotifyWdEntry *w = &d->wds[i].e;
		const char *why = NULL;

		w->id = f->id;
		d->ptrs[i] = w;
		if (!opts.force_irmap)
			continue;
		w->f_handle->path = fsn_mark_path(w->f_handle, w->s_dev, &why);
		if (!w->f_handle->path) {
			pr_err("fd %d of pid %d: the name of inotify watch %u can't be found: %s\n",
			       p->fd, p->pid, w->wd, why);
			return -ENOENT;
		}
		pr_info("fd %d of pid %d: inotify watch %u is on %s\n", p->fd, p->pid, w->wd,
			w->f_handle->path);
	}
	d->e.id = f->id;
	d->e.flags = p->flags;
	d->e.fown = p->fown;
	d->e.n_wd = d->n;
	d->e.wd = d->ptrs;
	f->fe.ify = &d->e;
	f->priv = d;
	return 0;
}

static void inotify_dump_fini(void)
{
	while (dumped) {
		struct ify_dump *d = dumped;

		dumped = d->next;
		for (size_t i = 0; i < d->n; i++)
			free(d->wds[i].h.fh.path);
		free(d->wds);
		free(d->ptrs);
		free(d);
	}
}

/* ---- restore ------------------------------------------------------------------- */

/* An image's watch, checked before anything is created from it. */
static int check_wd_entry(const FileEntry *fe, const InotifyWdEntry *w)
{
	const FhEntry *fh = w->f_handle;

	if (!w->wd || w->wd > INT32_MAX) {
		pr_err("files.img: inotify %u: watch number %u is out of range\n", fe->id, w->wd);
		return -EINVAL;
	}
	if (!fh || (!fh->path && (!fh->bytes || fh->bytes > FSN_HANDLE_MAX ||
				  fh->n_handle * 8 < fh->bytes || fh->type > INT32_MAX))) {
		pr_err("files.img: inotify %u: watch %u has no usable file handle or path\n", fe->id,
		       w->wd);
		return -EINVAL;
	}
	if (fh->path && fh->path[0] != '/') {
		pr_err("files.img: inotify %u: watch %u has the relative path '%s'\n", fe->id, w->wd,
		       fh->path);
		return -EINVAL;
	}
	if (!(w->mask & IN_ALL_EVENTS)) {
		pr_err("files.img: inotify %u: watch %u has mask %#x, which asks for no event\n",
		       fe->id, w->wd, w->mask);
		return -EINVAL;
	}
	return 0;
}

static int inotify_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	const InotifyFileEntry *ie = fe->ify;
	uint32_t top = 0;

	if (!ie || !ie->fown) {
		pr_err("files.img: file %u is an inotify without its inotify entry\n", fe->id);
		return -EINVAL;
	}
	for (size_t i = 0; i < ie->n_wd; i++) {
		int ret = check_wd_entry(fe, ie->wd[i]);

		if (ret)
			return ret;
		for (size_t j = 0; j < i; j++)
			if (ie->wd[j]->wd == ie->wd[i]->wd) {
				pr_err("files.img: inotify %u has watch %u twice\n", fe->id, ie->wd[i]->wd);
				return -EINVAL;
			}
		if (ie->wd[i]->wd > top)
			top = ie->wd[i]->wd;
	}
	if (top > ie->n_wd + WD_SKIP_MAX) {
		pr_err("files.img: inotify %u: watch number %u is more than %u numbers beyond its %zu "
		       "watches\n",
		       fe->id, top, WD_SKIP_MAX, ie->n_wd);
		return -EINVAL;
	}
	return 0;
}

/* reads off the events restore itself queued (IN_IGNORED of removed watches) */
static void drain(int ifd)
{
	char buf[4096];

	while (read(ifd, buf, sizeof(buf)) > 0)
		;
}

/* Watches w's inode with w's mask and gets w's number, in ifd (non-blocking). */
static int add_watch(int ifd, const InotifyWdEntry *w, uint32_t fdnum, uint32_t pid)
{
	uint32_t mask = w->mask & ~(uint32_t)(IN_MASK_ADD | IN_MASK_CREATE);
	const char *why = NULL;
	char path[32];
	int tfd = fsn_open_mark(w->f_handle, w->s_dev, &why), ret = 0;
	long tries = 0;

	if (tfd < 0) {
		pr_err("fd %u of pid %u: inotify watch %u (inode %llu) can't be found again: %s\n",
		       fdnum, pid, w->wd, (unsigned long long)w->i_ino, why);
		return tfd;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", tfd);
	for (;;) {
		int got = inotify_add_watch(ifd, path, mask);

		if (got < 0) {
			ret = -errno;
			pr_perror("fd %u of pid %u: can't add inotify watch %u (mask %#x)", fdnum, pid,
				  w->wd, mask);
			break;
		}
		if ((uint32_t)got == w->wd)
			break;
		/* the kernel's numbers only rise: one above means another watch has it */
		if ((uint32_t)got > w->wd || ++tries > (long)WD_SKIP_MAX + 1) {
			pr_err("fd %u of pid %u: inotify watch %u came back as number %d\n", fdnum, pid,
			       w->wd, got);
			ret = -EEXIST;
			break;
		}
		inotify_rm_watch(ifd, got);
		if (!(tries & 1023))
			drain(ifd);
	}
	close(tfd);
	return ret;
}

static int cmp_wd(const void *a, const void *b)
{
	const InotifyWdEntry *x = *(const InotifyWdEntry *const *)a;
	const InotifyWdEntry *y = *(const InotifyWdEntry *const *)b;

	return x->wd < y->wd ? -1 : x->wd > y->wd;
}

static int inotify_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	const InotifyFileEntry *ie = fe->ify;
	uint32_t pid = rc_task_pid(rc, idx), fdnum = rc_opening_fd(rc);
	InotifyWdEntry **order = NULL;
	int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), ret = 0;

	if (ifd < 0) {
		pr_perror("fd %u of pid %u: can't create its inotify", fdnum, pid);
		return -errno;
	}
	if (ie->n_wd) {
		order = malloc(ie->n_wd * sizeof(*order));
		if (!order) {
			close(ifd);
			return -ENOMEM;
		}
		memcpy(order, ie->wd, ie->n_wd * sizeof(*order));
		qsort(order, ie->n_wd, sizeof(*order), cmp_wd);
	}
	for (size_t i = 0; i < ie->n_wd && !ret; i++)
		ret = add_watch(ifd, order[i], fdnum, pid);
	free(order);
	drain(ifd);
	if (!ret)
		ret = rc_restore_fown_and_flags(ifd, ie->flags, ie->fown, fdnum, pid);
	if (ret) {
		close(ifd);
		return ret;
	}
	pr_info("fd %u of pid %u: inotify with %zu watches\n", fdnum, pid, ie->n_wd);
	return ifd;
}

static uint32_t inotify_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->ify ? fe->ify->flags : 0;
}

const struct fd_kind inotify_kind = {
	.name = "inotify",
	.type = FD_TYPES__INOTIFY,
	.match = inotify_match,
	.check = inotify_check,
	.dump = inotify_dump,
	.dump_fini = inotify_dump_fini,
	.collect = inotify_collect,
	.open = inotify_open,
	.status_flags = inotify_status_flags,
};
