/*
 * Regular files: reopened by path on restore, with their flags, position
 * and owner (RegFileEntry of files.img).  The files of cwd, root, exe and
 * file mappings are REG entries too (files_dump_path).
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
#include "proto/regfile.pb-c.h"
#include "regfile.h"

/* dump: what the entries point to, freed in dump_fini */
struct reg_dump {
	RegFileEntry reg;
	FownEntry fown; /* of paths: none */
	char *name;
	struct reg_dump *next;
};

static struct reg_dump *reg_dumps;

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

static bool is_deleted(const char *path)
{
	size_t n = strlen(path), s = strlen(" (deleted)");

	return n >= s && !strcmp(path + n - s, " (deleted)");
}

static bool reg_match(const struct fd_parms *p)
{
	return S_ISREG(p->st.st_mode);
}

/*
 * A path restore would open again: absolute, not deleted, and naming the
 * very file the task has (not one renamed over it since).
 */
static const char *why_not_reopenable(const char *link, const struct stat *st)
{
	struct stat now;

	if (link[0] != '/')
		return "it has no path";
	if (is_deleted(link))
		return "it is deleted";
	if (stat(link, &now))
		return "its path can't be opened";
	if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		return "its path now names another file";
	return NULL;
}

static int reg_check(const struct fd_parms *p, const char *who)
{
	char ext[64];
	const char *why = files_external_key(p, ext, sizeof(ext)) /* --external: not ours */
				  ? NULL
				  : why_not_reopenable(p->link, &p->st);

	if (why) {
		pr_err("%s: fd %d is a file restore could not open again (%s): %s\n", who, p->fd,
		       p->link, why);
		return -EOPNOTSUPP;
	}
	return 0;
}

int regfile_dump(struct dump_file *f, const struct fd_parms *p)
{
	char ext_buf[64];
	const char *ext = files_external_key(p, ext_buf, sizeof(ext_buf));
	struct reg_dump *r;

	if (!ext && (p->link[0] != '/' || strstr(p->link, " (deleted)"))) {
		pr_err("fd %d of pid %d: %s: unlinked files are not supported yet\n", p->fd, p->pid,
		       p->link);
		return -EOPNOTSUPP;
	}
	/* --external file[MNT_ID:INODE]: named so, restore takes it from --inherit-fd */
	r = new_reg(f, ext ? ext : p->link);
	if (!r)
		return -ENOMEM;
	r->reg.has_ext = ext != NULL;
	r->reg.ext = ext != NULL;
	r->reg.flags = p->flags;
	r->reg.pos = S_ISREG(p->st.st_mode) ? p->pos : 0;
	r->reg.fown = p->fown;
	r->reg.has_size = S_ISREG(p->st.st_mode);
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
		r->reg.has_size = true;
		r->reg.size = (uint64_t)st.st_size;
		r->reg.has_mode = true;
		r->reg.mode = st.st_mode;
	}
	*id = f->id;
	return 0;
}

static void reg_dump_fini(void)
{
	while (reg_dumps) {
		struct reg_dump *r = reg_dumps;

		reg_dumps = r->next;
		free(r->name);
		free(r);
	}
}

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
	flags = (int)(fe->reg->flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC));
	fd = open(fe->reg->name, flags | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		pr_perror("fd %u of pid %u: can't open %s", fdnum, pid, fe->reg->name);
		return -errno;
	}
	ret = rc_restore_fown_and_flags(fd, fe->reg->flags, fe->reg->fown, fdnum, pid);
	if (ret) {
		close(fd);
		return ret;
	}
	if (fe->reg->pos && lseek(fd, (off_t)fe->reg->pos, SEEK_SET) < 0) {
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

	(void)rc;
	if (!fe->reg) {
		pr_err("file %u is not in files.img\n", fe->id);
		return -EINVAL;
	}
	fd = open(fe->reg->name, (flags & O_ACCMODE) | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", fe->reg->name);
		return -errno;
	}
	return fd;
}

uint32_t regfile_status_flags(const FileEntry *fe)
{
	return fe->reg ? fe->reg->flags : 0;
}

const struct fd_kind regfile_kind = {
	.name = "regular file",
	.type = FD_TYPES__REG,
	.match = reg_match,
	.check = reg_check,
	.dump = regfile_dump,
	.dump_fini = reg_dump_fini,
	.open = regfile_open,
	.open_id = regfile_open_id,
	.status_flags = regfile_status_flags,
};
