/*
 * Regular files: reopened by path on restore, with their flags, position
 * and owner (RegFileEntry of files.img).  The files of cwd, root, exe and
 * file mappings are REG entries too (files_dump_path).
 *
 * A file opened and then unlinked (its link says " (deleted)") is kept as
 * upstream keeps it: remap-fpath.img maps its file id to a remap_id, and
 *  - GHOST: ghost-file-<remap_id>.img has its mode, owner, times and
 *    contents (chunks of data with the holes left out, from 12 KiB on; raw
 *    below), up to --ghost-limit of disk space (default 1 MiB).  Restore
 *    makes the file again at its old path (or beside it when that path is
 *    taken), every holder opens it, and it is unlinked once every task is
 *    ready.  A deleted directory (an fd of it, or a cwd) is a ghost too,
 *    with no contents (the kernel only removes empty ones): made again with
 *    mkdir and removed the same way.  Directories above a ghost that are
 *    gone too are made for the time of the restore (mode 0700).
 *  - LINKED (--link-remap): dump links it back as link_remap.<id> in its
 *    old directory (the kernel allows that for a file still linked
 *    elsewhere, or made with O_TMPFILE); remap_id is a REG entry of that
 *    name, which restore opens and then unlinks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdkind.h"
#include "files.h"
#include "inherit.h"
#include "log.h"
#include "image-desc.h"
#include "image.h"
#include "options.h"
#include "proto/ghost-file.pb-c.h"
#include "proto/regfile.pb-c.h"
#include "proto/remap-file-path.pb-c.h"
#include "regfile.h"
#include "restore-priv.h"

/* dump: what the entries point to, freed in dump_fini */
struct reg_dump {
	RegFileEntry reg;
	FownEntry fown; /* of paths: none */
	char *name;
	struct reg_dump *next;
};

static struct reg_dump *reg_dumps;

/* ghost-file-<id>.img to write: one per inode; its contents read through fd */
struct ghost_dump {
	uint32_t id;
	int fd;
	struct stat st;
};

static struct ghost_dump *ghosts;
static size_t nr_ghosts;
static uint32_t next_ghost_id = 1;

/* remap-fpath.img */
static RemapFilePathEntry *remaps;
static size_t nr_remaps;

/* the link_remap.<id> names dump made: removed again unless the dump
 * was written */
static char **link_remaps;
static size_t nr_link_remaps;
static bool dump_written;

#define GHOST_CHUNKS_FROM (3 * 4096)

static int add_remap(uint32_t orig, uint32_t remap, RemapType type)
{
	RemapFilePathEntry *n = realloc(remaps, (nr_remaps + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	remaps = n;
	remap_file_path_entry__init(&remaps[nr_remaps]);
	remaps[nr_remaps].orig_id = orig;
	remaps[nr_remaps].remap_id = remap;
	remaps[nr_remaps].has_remap_type = true;
	remaps[nr_remaps].remap_type = type;
	nr_remaps++;
	return 0;
}

static struct reg_dump *new_reg(struct dump_file *f, const char *name)
{
	struct reg_dump *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->name = strdup(name);
	if (!r->name) {
		free(r);
		return NULL;
	}
	r->next = reg_dumps;
	reg_dumps = r;
	reg_file_entry__init(&r->reg);
	fown_entry__init(&r->fown);
	r->reg.id = f->id;
	r->reg.name = r->name;
	r->reg.fown = &r->fown;
	f->fe.type = FD_TYPES__REG;
	f->fe.reg = &r->reg;
	f->priv = r;
	return r;
}

bool regfile_is_deleted(const char *path)
{
	size_t n = strlen(path), s = strlen(" (deleted)");

	return n >= s && !strcmp(path + n - s, " (deleted)");
}

/* regular files, directories (open(".")), and O_PATH fds of anything
 * reached by a path (symlinks too, opened with O_NOFOLLOW) */
static bool reg_match(const struct fd_parms *p)
{
	if (S_ISREG(p->st.st_mode) || S_ISDIR(p->st.st_mode))
		return true;
	return (p->flags & O_PATH) && p->link[0] == '/';
}

/*
 * A path restore would open again: absolute, not deleted, and naming the
 * very file the task has (not one renamed over it since).
 */
const char *regfile_why_not_reopenable(const char *link, const struct stat *st)
{
	struct stat now;

	if (link[0] != '/')
		return "it has no path";
	if (regfile_is_deleted(link))
		return "it is deleted";
	if ((S_ISLNK(st->st_mode) ? lstat(link, &now) : stat(link, &now)))
		return "its path can't be opened";
	if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		return "its path now names another file";
	return NULL;
}

/* the disk space a ghost takes in the images: what --ghost-limit counts */
static uint64_t ghost_bytes(const struct stat *st)
{
	return (uint64_t)st->st_blocks * 512;
}

int regfile_check_deleted(const struct stat *st, const char *who, const char *what,
			  const char *link)
{
	if (S_ISDIR(st->st_mode))
		return 0; /* an empty ghost, whatever the options */
	if (!S_ISREG(st->st_mode)) {
		pr_err("%s: %s is deleted (%s): deleted files other than regular ones are not "
		       "dumped yet\n",
		       who, what, link);
		return -EOPNOTSUPP;
	}
	if (st->st_nlink && !opts.link_remap) {
		pr_err("%s: %s is a file whose path was unlinked but which is still linked "
		       "elsewhere (%s): dump it with --link-remap\n",
		       who, what, link);
		return -EOPNOTSUPP;
	}
	if (!st->st_nlink && !opts.link_remap && ghost_bytes(st) > opts.ghost_limit) {
		pr_err("%s: %s is a deleted file (%s) of %llu bytes, more than the --ghost-limit "
		       "of %llu that dump keeps in the images: raise --ghost-limit, or use "
		       "--link-remap\n",
		       who, what, link, (unsigned long long)ghost_bytes(st),
		       (unsigned long long)opts.ghost_limit);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int reg_check(const struct fd_parms *p, const char *who)
{
	char ext[64];
	const char *why;

	if (files_external_key(p, ext, sizeof(ext)))
		return 0; /* --external: not ours */

	/* opened, then unlinked: a ghost, or a link remap */
	if (p->link[0] == '/' && regfile_is_deleted(p->link) &&
	    (S_ISREG(p->st.st_mode) || S_ISDIR(p->st.st_mode))) {
		char what[32];

		snprintf(what, sizeof(what), "fd %d", p->fd);
		return regfile_check_deleted(&p->st, who, what, p->link);
	}
	why = regfile_why_not_reopenable(p->link, &p->st);

	if (why) {
		pr_err("%s: fd %d is a file restore could not open again (%s): %s\n", who, p->fd,
		       p->link, why);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Keeps an unlinked file's contents: ghost-file-<id>.img, written by
 * reg_write from our own read-only open of it (src: a path to it). */
static int dump_ghost(uint32_t file_id, const char *src, const struct stat *st, const char *name)
{
	struct ghost_dump *g = NULL, *n;
	int fd;

	if (!S_ISDIR(st->st_mode) && ghost_bytes(st) > opts.ghost_limit) {
		pr_err("%s is a deleted file of %llu bytes, more than the --ghost-limit of %llu that "
		       "dump keeps in the images: raise --ghost-limit, or use --link-remap\n",
		       name, (unsigned long long)ghost_bytes(st), (unsigned long long)opts.ghost_limit);
		return -EFBIG;
	}
	for (size_t i = 0; i < nr_ghosts; i++)
		if (ghosts[i].st.st_dev == st->st_dev && ghosts[i].st.st_ino == st->st_ino)
			g = &ghosts[i];
	if (!g) {
		/* its own open: the task's may be write-only */
		fd = open(src, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			pr_perror("can't open the deleted file %s to keep it", name);
			return -errno;
		}
		n = realloc(ghosts, (nr_ghosts + 1) * sizeof(*n));
		if (!n) {
			close(fd);
			return -ENOMEM;
		}
		ghosts = n;
		g = &ghosts[nr_ghosts++];
		g->id = next_ghost_id++;
		g->fd = fd;
		g->st = *st;
	}
	return add_remap(file_id, g->id, REMAP_TYPE__GHOST);
}

/* --link-remap: the unlinked file linked back as link_remap.<id> beside its
 * old path; 1 when the kernel does not allow it (a file linked nowhere) */
static int dump_link_remap(uint32_t file_id, const char *src, const char *name)
{
	struct dump_file *lf = dump_file_new(&regfile_kind);
	char path[PATH_MAX];
	const char *slash = strrchr(name, '/');
	struct reg_dump *r;
	char **n;

	if (!lf || !slash)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%.*s/link_remap.%u", (int)(slash - name), name, lf->id);
	if (linkat(AT_FDCWD, src, AT_FDCWD, path, AT_SYMLINK_FOLLOW)) {
		if (errno == ENOENT) {
			pr_info("%s can't be linked back (it is linked nowhere): kept as a ghost\n",
				name);
			/* the entry stays in files.img, named but not used */
			r = new_reg(lf, path);
			return r ? 1 : -ENOMEM;
		}
		pr_perror("can't link %s back as %s", name, path);
		return -errno;
	}
	n = realloc(link_remaps, (nr_link_remaps + 1) * sizeof(*n));
	r = new_reg(lf, path);
	if (!n || !r || !(n[nr_link_remaps] = strdup(path))) {
		unlink(path);
		if (n)
			link_remaps = n;
		return -ENOMEM;
	}
	link_remaps = n;
	nr_link_remaps++;
	r->reg.flags = O_RDONLY;
	return add_remap(file_id, lf->id, REMAP_TYPE__LINKED);
}

/* An unlinked file of file f: name is its old path, src a path to it. */
static int dump_unlinked(struct dump_file *f, const char *src, const struct stat *st,
			 const char *name)
{
	if (S_ISDIR(st->st_mode))
		return dump_ghost(f->id, src, st, name); /* a directory can't be linked */
	if (!S_ISREG(st->st_mode)) {
		pr_err("%s: deleted files other than regular ones and directories are not "
		       "dumped yet\n",
		       name);
		return -EOPNOTSUPP;
	}
	if (opts.link_remap) {
		int ret = dump_link_remap(f->id, src, name);

		if (ret <= 0)
			return ret;
	} else if (st->st_nlink) {
		pr_err("%s was unlinked but is still linked elsewhere: dump it with --link-remap\n",
		       name);
		return -EOPNOTSUPP;
	}
	return dump_ghost(f->id, src, st, name);
}

/* "/a/b (deleted)" -> "/a/b" in buf; false when link is not deleted */
static bool strip_deleted(const char *link, char *buf, size_t size)
{
	size_t n = strlen(link), s = strlen(" (deleted)");

	if (!regfile_is_deleted(link))
		return false;
	snprintf(buf, size, "%.*s", (int)(n - s), link);
	return true;
}

int regfile_dump(struct dump_file *f, const struct fd_parms *p)
{
	char name[PATH_MAX], src[64], ext_buf[64];
	const char *ext = files_external_key(p, ext_buf, sizeof(ext_buf));
	bool deleted = !ext && strip_deleted(p->link, name, sizeof(name));
	struct reg_dump *r;
	int ret;

	if (!ext && (p->link[0] != '/' ||
		     (deleted && !S_ISREG(p->st.st_mode) && !S_ISDIR(p->st.st_mode)))) {
		pr_err("fd %d of pid %d: %s: unlinked files other than regular ones and "
		       "directories are not supported yet\n",
		       p->fd, p->pid, p->link);
		return -EOPNOTSUPP;
	}
	/* --external file[MNT_ID:INODE]: named so, restore takes it from --inherit-fd */
	r = new_reg(f, ext ? ext : deleted ? name : p->link);
	if (!r)
		return -ENOMEM;
	r->reg.has_ext = ext != NULL;
	r->reg.ext = ext != NULL;
	if (deleted) {
		snprintf(src, sizeof(src), "/proc/self/fd/%d", p->tfd);
		ret = dump_unlinked(f, src, &p->st, name);
		if (ret)
			return ret;
	}
	r->reg.flags = p->flags;
	/* a directory's position is where its reading (getdents) is */
	r->reg.pos = (S_ISREG(p->st.st_mode) || S_ISDIR(p->st.st_mode)) && !(p->flags & O_PATH)
			     ? p->pos
			     : 0;
	r->reg.fown = p->fown;
	/* restore checks the size of a file read through this fd; one written
	 * through it may change meanwhile (a log, or what the tree writes
	 * after dump --leave-running) */
	r->reg.has_size = S_ISREG(p->st.st_mode) && (p->flags & O_ACCMODE) == O_RDONLY;
	r->reg.size = (uint64_t)p->st.st_size;
	r->reg.has_mode = true;
	r->reg.mode = p->st.st_mode;
	return 0;
}

int files_dump_path(pid_t pid, const char *link, const char *path, unsigned int *id)
{
	struct dump_file *f = dump_file_new(&regfile_kind);
	struct reg_dump *r;
	struct stat st;

	(void)pid;
	if (!f)
		return -ENOMEM;
	r = new_reg(f, path);
	if (!r)
		return -ENOMEM;
	r->reg.flags = O_RDONLY;
	if (link && !stat(link, &st)) {
		char name[PATH_MAX];

		if (strip_deleted(path, name, sizeof(name))) {
			/* a mapping of an unlinked file: its contents are kept */
			free(r->name);
			r->name = strdup(name);
			if (!r->name)
				return -ENOMEM;
			r->reg.name = r->name;
			int ret = dump_unlinked(f, link, &st, name);

			if (ret)
				return ret;
		}
		r->reg.has_size = true;
		r->reg.size = (uint64_t)st.st_size;
		r->reg.has_mode = true;
		r->reg.mode = st.st_mode;
	}
	*id = f->id;
	return 0;
}

/* A ghost's contents: chunks of data (holes skipped with SEEK_DATA and
 * SEEK_HOLE) from GHOST_CHUNKS_FROM bytes on, raw to the end below. */
static int write_ghost(struct cr_img *img, const struct ghost_dump *g, bool chunks)
{
	static char buf[1 << 16];
	off_t size = g->st.st_size, off = 0;

	while (off < size) {
		off_t data = chunks ? lseek(g->fd, off, SEEK_DATA) : off, end;
		GhostChunkEntry ce = GHOST_CHUNK_ENTRY__INIT;

		if (data < 0 && errno == ENXIO)
			break; /* a hole to the end */
		if (data < 0)
			return -errno;
		end = chunks ? lseek(g->fd, data, SEEK_HOLE) : size;
		if (end < 0)
			return -errno;
		if (end > size)
			end = size;
		if (chunks) {
			ce.off = (uint64_t)data;
			ce.len = (uint64_t)(end - data);
			if (img_write_pb(img, &ce.base))
				return -EIO;
		}
		for (off = data; off < end;) {
			size_t want = (size_t)(end - off) < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
			ssize_t n = pread(g->fd, buf, want, off);

			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			if (img_write_raw(img, buf, (size_t)n))
				return -EIO;
			off += n;
		}
	}
	return 0;
}

static int reg_write(int dirfd)
{
	struct cr_img *img;
	int ret = 0;

	for (size_t i = 0; i < nr_ghosts && !ret; i++) {
		const struct ghost_dump *g = &ghosts[i];
		GhostFileEntry ge = GHOST_FILE_ENTRY__INIT;
		Timeval at = TIMEVAL__INIT, mt = TIMEVAL__INIT;
		bool dir = S_ISDIR(g->st.st_mode);
		bool chunks = !dir && g->st.st_size >= GHOST_CHUNKS_FROM;

		ge.uid = g->st.st_uid;
		ge.gid = g->st.st_gid;
		ge.mode = g->st.st_mode;
		ge.has_dev = ge.has_ino = true;
		ge.dev = (uint32_t)g->st.st_dev;
		ge.ino = g->st.st_ino;
		at.tv_sec = (uint64_t)g->st.st_atim.tv_sec;
		at.tv_usec = (uint64_t)g->st.st_atim.tv_nsec / 1000;
		mt.tv_sec = (uint64_t)g->st.st_mtim.tv_sec;
		mt.tv_usec = (uint64_t)g->st.st_mtim.tv_nsec / 1000;
		ge.atim = &at;
		ge.mtim = &mt;
		if (chunks) {
			ge.has_chunks = ge.chunks = true;
			ge.has_size = true;
			ge.size = (uint64_t)g->st.st_size;
		}
		img = img_open(dirfd, IMG_GHOST_FILE, O_WRONLY, (unsigned long)g->id);
		if (!img)
			return -EIO;
		ret = img_write_pb(img, &ge.base);
		if (!ret && !dir)
			ret = write_ghost(img, g, chunks);
		if (ret)
			pr_err("can't keep the deleted file of ghost %u: %s\n", g->id, strerror(-ret));
		if (img_close(img) && !ret)
			ret = -EIO;
	}
	if (ret)
		return ret;
	if (nr_remaps) {
		img = img_open(dirfd, IMG_REMAP_FPATH, O_WRONLY);
		if (!img)
			return -EIO;
		for (size_t i = 0; i < nr_remaps && !ret; i++)
			ret = img_write_pb(img, &remaps[i].base);
		if (img_close(img) && !ret)
			ret = -EIO;
	}
	dump_written = !ret;
	return ret;
}

static void reg_dump_fini(void)
{
	for (size_t i = 0; i < nr_ghosts; i++)
		close(ghosts[i].fd);
	free(ghosts);
	ghosts = NULL;
	nr_ghosts = 0;
	next_ghost_id = 1;
	free(remaps);
	remaps = NULL;
	nr_remaps = 0;
	for (size_t i = 0; i < nr_link_remaps; i++) {
		if (!dump_written && unlink(link_remaps[i]))
			pr_perror("can't remove the link remap %s", link_remaps[i]);
		free(link_remaps[i]);
	}
	free(link_remaps);
	link_remaps = NULL;
	nr_link_remaps = 0;
	dump_written = false;
	while (reg_dumps) {
		struct reg_dump *r = reg_dumps;

		reg_dumps = r->next;
		free(r->name);
		free(r);
	}
}

static const char *alt_path(struct restore_ctx *rc, const FileEntry *fe);

/* A regular file or device of the images, opened as it was (position, flags). */
int regfile_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	uint32_t fdnum = rc_opening_fd(rc), pid = rc_task_pid(rc, idx);
	int flags, fd, ret;

	if (!fe->reg) {
		pr_err("fd %u of pid %u: files of type %d are not supported yet\n", fdnum, pid,
		       fe->type);
		return -EOPNOTSUPP;
	}
	flags = rc_open_flags(fe->reg->flags);
	/* a file made with O_TMPFILE keeps that (with O_DIRECTORY) in its
	 * flags: it is opened as the regular file it is */
	if ((flags & O_TMPFILE) == O_TMPFILE)
		flags &= ~O_TMPFILE;
	fd = open(alt_path(rc, fe), flags | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		pr_perror("fd %u of pid %u: can't open %s", fdnum, pid, alt_path(rc, fe));
		return -errno;
	}
	ret = rc_restore_fown_and_flags(fd, fe->reg->flags, fe->reg->fown, fdnum, pid);
	if (ret) {
		close(fd);
		return ret;
	}
	if (fe->reg->pos && !(fe->reg->flags & O_PATH) &&
	    lseek(fd, (off_t)fe->reg->pos, SEEK_SET) < 0) {
		pr_perror("fd %u of pid %u: can't seek %s to %llu", fdnum, pid, fe->reg->name,
			  (unsigned long long)fe->reg->pos);
		close(fd);
		return -errno;
	}
	return fd;
}

int regfile_open_id(struct restore_ctx *rc, const FileEntry *fe, int flags)
{
	int fd;

	if (!fe->reg) {
		pr_err("file %u is not in files.img\n", fe->id);
		return -EINVAL;
	}
	fd = open(alt_path(rc, fe), (flags & O_ACCMODE) | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", alt_path(rc, fe));
		return -errno;
	}
	return fd;
}

/* ---- restore --------------------------------------------------------------------- */

/* a ghost made again, or a link remap to open instead of the old path */
struct reg_remap {
	uint32_t file_id;
	const char *path; /* what to open: a ghost's path, or the link remap's */
};

/* what criu made on disk, removed by reg_fini: a ghost (id), or a
 * directory above one that was gone too (id 0) */
struct ghost_made {
	uint32_t id;
	bool dir;
	char *path;
};

struct reg_state {
	RemapFilePathEntry **remaps; /* remap-fpath.img */
	size_t nr_remaps;
	struct reg_remap *alt;
	size_t nr_alt;
	struct ghost_made *ghosts; /* made by criu, unlinked by reg_fini */
	size_t nr_ghosts;
	const char **linked; /* link remaps, unlinked after a restore */
	size_t nr_linked;
};

static struct reg_state *reg_state(struct restore_ctx *rc)
{
	void **slot = rc_kind_state(rc, &regfile_kind);
	struct reg_state *s = *slot;
	struct cr_img *img;
	ProtobufCMessage *m;
	int ret;

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	*slot = s;
	img = img_open(rc_images_dirfd(rc), IMG_REMAP_FPATH, O_RDONLY | O_CREAT);
	if (!img)
		return s;
	while ((ret = img_read_pb(img, NULL, &m)) > 0) {
		RemapFilePathEntry **n = realloc(s->remaps, (s->nr_remaps + 1) * sizeof(*n));

		if (!n) {
			protobuf_c_message_free_unpacked(m, NULL);
			ret = -ENOMEM;
			break;
		}
		s->remaps = n;
		s->remaps[s->nr_remaps++] = (RemapFilePathEntry *)m;
	}
	img_close(img);
	if (ret < 0) {
		pr_err("can't read remap-fpath.img\n");
		return NULL;
	}
	return s;
}

static int add_alt(struct reg_state *s, uint32_t file_id, const char *path)
{
	struct reg_remap *n = realloc(s->alt, (s->nr_alt + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	s->alt = n;
	s->alt[s->nr_alt++] = (struct reg_remap){ file_id, path };
	return 0;
}

static const char *alt_path(struct restore_ctx *rc, const FileEntry *fe)
{
	struct reg_state *s = *rc_kind_state(rc, &regfile_kind);

	for (size_t i = 0; s && i < s->nr_alt; i++)
		if (s->alt[i].file_id == fe->id)
			return s->alt[i].path;
	return fe->reg->name;
}

const char *regfile_restore_path(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->reg ? alt_path(rc, fe) : NULL;
}

static struct ghost_made *add_made(struct reg_state *s, uint32_t id, bool dir, const char *path)
{
	struct ghost_made *n = realloc(s->ghosts, (s->nr_ghosts + 1) * sizeof(*n));
	char *p = strdup(path);

	if (!n || !p) {
		free(p);
		if (n)
			s->ghosts = n;
		return NULL;
	}
	s->ghosts = n;
	n[s->nr_ghosts] = (struct ghost_made){ id, dir, p };
	return &n[s->nr_ghosts++];
}

/* The directories above path that are gone (a ghost in a deleted
 * directory), made with mode 0700 for reg_fini to remove. */
static int make_parents(struct reg_state *s, const char *path)
{
	char dir[PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *c = strchr(dir + 1, '/'); c; c = strchr(c + 1, '/')) {
		*c = 0;
		if (lstat(dir, &st)) {
			if (errno != ENOENT || mkdir(dir, 0700)) {
				pr_perror("can't make the directory %s above the ghost %s", dir, path);
				return -errno;
			}
			if (!add_made(s, 0, true, dir)) {
				rmdir(dir);
				return -ENOMEM;
			}
			pr_info("made %s, gone since dump, for the ghost %s\n", dir, path);
		}
		*c = '/';
	}
	return 0;
}

/* a directory reg_fini removes: made above a ghost, and now that ghost */
static struct ghost_made *made_parent(struct reg_state *s, const char *path)
{
	for (size_t i = 0; i < s->nr_ghosts; i++)
		if (!s->ghosts[i].id && !strcmp(s->ghosts[i].path, path))
			return &s->ghosts[i];
	return NULL;
}

/* ghost-file-<id>.img's contents into fd: chunks at their offsets, or raw */
static int fill_ghost(struct cr_img *img, const GhostFileEntry *ge, int fd, const char *path)
{
	static char buf[1 << 16];
	bool chunks = ge->has_chunks && ge->chunks;
	uint64_t off = 0, len = chunks ? 0 : img_bytes_left(img);
	ProtobufCMessage *m;
	int ret;

	for (;;) {
		if (chunks) {
			ret = img_read_pb(img, &ghost_chunk_entry__descriptor, &m);
			if (ret <= 0)
				break;
			off = ((GhostChunkEntry *)m)->off;
			len = ((GhostChunkEntry *)m)->len;
			protobuf_c_message_free_unpacked(m, NULL);
			if (off > (uint64_t)1 << 62 || len > img_bytes_left(img)) {
				pr_err("ghost file %s: a chunk of %llu bytes at %llu is not in the "
				       "image\n",
				       path, (unsigned long long)len, (unsigned long long)off);
				return -EINVAL;
			}
		}
		while (len) {
			size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);

			ret = img_read_raw(img, buf, n);
			if (ret)
				return ret;
			if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
				pr_perror("can't write the ghost file %s", path);
				return -errno ? -errno : -EIO;
			}
			off += n;
			len -= n;
		}
		if (!chunks) {
			ret = 0;
			break;
		}
	}
	if (ret < 0)
		return ret;
	if (chunks && ge->has_size && ftruncate(fd, (off_t)ge->size)) {
		pr_perror("can't give the ghost file %s its size", path);
		return -errno;
	}
	return 0;
}

/*
 * The deleted file of ghost id, made again by criu before any task: at
 * name when that path is free (the restored fds then show it as it was),
 * else beside it.  Every holder opens it; reg_fini unlinks it.
 */
static const char *make_ghost(struct restore_ctx *rc, struct reg_state *s, uint32_t id,
			      const char *name)
{
	GhostFileEntry *ge = NULL;
	struct ghost_made *g;
	struct timespec ts[2];
	bool dir;
	char path[PATH_MAX];
	struct cr_img *img;
	struct stat st;
	int fd = -1, ret;

	for (size_t i = 0; i < s->nr_ghosts; i++)
		if (s->ghosts[i].id == id)
			return s->ghosts[i].path;
	img = img_open(rc_images_dirfd(rc), IMG_GHOST_FILE, O_RDONLY, (unsigned long)id);
	if (!img) {
		pr_err("the deleted file %s: no ghost-file-%x.img\n", name, id);
		return NULL;
	}
	ret = img_read_pb(img, NULL, (ProtobufCMessage **)&ge);
	if (ret <= 0 || (!S_ISREG(ge->mode) && !S_ISDIR(ge->mode))) {
		pr_err("the deleted file %s: ghost-file-%x.img %s\n", name, id,
		       ret <= 0 ? "has no ghost entry" : "is not of a regular file or directory");
		goto out;
	}
	dir = S_ISDIR(ge->mode);
	if (name[0] != '/' || make_parents(s, name))
		goto out;
	snprintf(path, sizeof(path), "%s", name);
	g = dir ? made_parent(s, path) : NULL;
	if (g) {
		/* made above another ghost: it is this one (fds of a deleted
		 * directory and of what was in it) */
		g->id = id;
	} else {
		if (!lstat(path, &st) || errno != ENOENT)
			snprintf(path, sizeof(path), "%s.cr.%x.ghost", name, id);
		if (dir && mkdir(path, 0700)) {
			pr_perror("can't make the deleted directory %s again as %s", name, path);
			goto out;
		}
		fd = dir ? -1 : open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (!dir && fd < 0) {
			pr_perror("can't make the deleted file %s again as %s", name, path);
			goto out;
		}
		g = add_made(s, id, dir, path);
		if (!g) {
			if (dir ? rmdir(path) : unlink(path))
				pr_perror("can't remove %s", path);
			goto out;
		}
	}
	if (dir)
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open the ghost %s", path);
		goto out;
	}
	ret = dir ? 0 : fill_ghost(img, ge, fd, path);
	if (ret)
		goto out;
	if (fchown(fd, ge->uid, ge->gid) && errno != EPERM) {
		pr_perror("can't give the ghost file %s its owner", path);
		goto out;
	}
	if (fchmod(fd, ge->mode & 07777)) {
		pr_perror("can't give the ghost file %s its mode", path);
		goto out;
	}
	ts[0].tv_sec = ge->atim ? (time_t)ge->atim->tv_sec : 0;
	ts[0].tv_nsec = ge->atim ? (long)ge->atim->tv_usec * 1000 : UTIME_OMIT;
	ts[1].tv_sec = ge->mtim ? (time_t)ge->mtim->tv_sec : 0;
	ts[1].tv_nsec = ge->mtim ? (long)ge->mtim->tv_usec * 1000 : UTIME_OMIT;
	futimens(fd, ts);
	close(fd);
	protobuf_c_message_free_unpacked(&ge->base, NULL);
	img_close(img);
	return g->path;
out:
	if (fd >= 0)
		close(fd);
	if (ge)
		protobuf_c_message_free_unpacked(&ge->base, NULL);
	img_close(img);
	return NULL;
}

/* fe's entry of remap-fpath.img: its ghost made again, or its link remap */
static int collect_remap(struct restore_ctx *rc, struct reg_state *s, const FileEntry *fe,
			 const RemapFilePathEntry *re)
{
	/* images of old upstream versions mark a ghost in remap_id's top bit */
	bool ghost = re->has_remap_type ? re->remap_type == REMAP_TYPE__GHOST
					: (re->remap_id & 0x80000000u);
	uint32_t rid = re->has_remap_type ? re->remap_id : re->remap_id & ~0x80000000u;
	const FileEntry *lf;
	const char *path;

	if (ghost) {
		path = make_ghost(rc, s, rid, fe->reg->name);
		return path ? add_alt(s, fe->id, path) : -EINVAL;
	}
	if (re->has_remap_type && re->remap_type != REMAP_TYPE__LINKED) {
		pr_err("file %s: remaps of type %d (files of exited tasks under /proc) are not "
		       "restored yet\n",
		       fe->reg->name, re->remap_type);
		return -EOPNOTSUPP;
	}
	lf = rc_file(rc, rid);
	if (!lf || !lf->reg) {
		pr_err("file %s: its link remap %u is not in files.img\n", fe->reg->name, rid);
		return -EINVAL;
	}
	for (size_t i = 0; i < s->nr_linked; i++)
		if (!strcmp(s->linked[i], lf->reg->name))
			return add_alt(s, fe->id, lf->reg->name);
	{
		const char **n = realloc(s->linked, (s->nr_linked + 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->linked = n;
		s->linked[s->nr_linked++] = lf->reg->name;
	}
	return add_alt(s, fe->id, lf->reg->name);
}

/*
 * The file restore opens by path must be the one dumped: a size or mode
 * that changed since is refused before anything is created, naming it.
 * Paths under /proc name tasks that are not there yet.
 */
static int reg_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	const RegFileEntry *r = fe->reg;
	struct reg_state *s;
	struct stat st;

	if (!r) {
		pr_err("file %u: no regular file entry in files.img\n", fe->id);
		return -EINVAL;
	}
	if (r->has_ext && r->ext)
		return 0; /* --external: --inherit-fd gives it */
	s = reg_state(rc);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < s->nr_remaps; i++)
		if (s->remaps[i]->orig_id == fe->id)
			return collect_remap(rc, s, fe, s->remaps[i]);
	if (!strncmp(r->name, "/proc/", 6) || (!r->has_size && !r->has_mode))
		return 0;
	if ((r->has_mode && S_ISLNK(r->mode)) ? lstat(r->name, &st) : stat(r->name, &st)) {
		pr_perror("file %s (file %u of files.img) can't be found", r->name, fe->id);
		return -ENOENT;
	}
	if (r->has_mode && st.st_mode != r->mode) {
		pr_err("file %s changed since dump: its mode is 0%o, it was 0%o\n", r->name,
		       st.st_mode, r->mode);
		return -ESTALE;
	}
	if (r->has_size && S_ISREG(st.st_mode) && (uint64_t)st.st_size != r->size) {
		pr_err("file %s changed since dump: its size is %lld bytes, it was %llu\n", r->name,
		       (long long)st.st_size, (unsigned long long)r->size);
		return -ESTALE;
	}
	return 0;
}

static int deeper_first(const void *a, const void *b)
{
	size_t la = strlen(((const struct ghost_made *)a)->path);
	size_t lb = strlen(((const struct ghost_made *)b)->path);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

/* Ghosts are unlinked once every task holds them (or the restore failed);
 * link remaps once the restore succeeded. */
static void reg_fini(struct restore_ctx *rc)
{
	void **slot = rc_kind_state(rc, &regfile_kind);
	struct reg_state *s = *slot;

	if (!s)
		return;
	/* the deepest first: what is in a directory goes before it */
	qsort(s->ghosts, s->nr_ghosts, sizeof(*s->ghosts), deeper_first);
	for (size_t i = 0; i < s->nr_ghosts; i++) {
		const struct ghost_made *g = &s->ghosts[i];

		if (g->dir ? rmdir(g->path) : unlink(g->path))
			pr_perror("can't remove the %s %s", g->id ? "ghost" : "directory made for a ghost",
				  g->path);
		free(g->path);
	}
	for (size_t i = 0; rc->restored && i < s->nr_linked; i++)
		if (unlink(s->linked[i]))
			pr_perror("can't remove the link remap %s", s->linked[i]);
	for (size_t i = 0; i < s->nr_remaps; i++)
		protobuf_c_message_free_unpacked(&s->remaps[i]->base, NULL);
	free(s->remaps);
	free(s->alt);
	free(s->ghosts);
	free(s->linked);
	free(s);
	*slot = NULL;
}

uint32_t regfile_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->reg ? fe->reg->flags : 0;
}

const struct fd_kind regfile_kind = {
	.name = "regular file",
	.type = FD_TYPES__REG,
	.match = reg_match,
	.check = reg_check,
	.dump = regfile_dump,
	.write = reg_write,
	.dump_fini = reg_dump_fini,
	.collect = reg_collect,
	.fini = reg_fini,
	.open = regfile_open,
	.open_id = regfile_open_id,
	.status_flags = regfile_status_flags,
};
