/*
 * The fd side of memfd (MemfdFileEntry of files.img, as upstream's images
 * have them): each description is opened again from the memfd that
 * restore-mem.c creates for its inode (memfd.img: name, size, contents,
 * seals), with its flags and position.  Dump does not make them yet: a
 * memfd's fd is a deleted file there, refused by regfile's check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "fdkind.h"
#include "log.h"
#include "restore-priv.h"

/* A description of its own of the memfd of file fe, with its flags and position. */
static int open_memfd(const FileEntry *fe, int flags, uint64_t pos)
{
	struct rshmem *m;
	char path[64];
	int fd;

	if (!fe->memfd) {
		pr_err("file %u: no memfd entry in files.img\n", fe->id);
		return -EINVAL;
	}
	m = memfd_of_file(fe->id);
	if (!m)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", m->fd);
	fd = open(path, rc_open_flags((uint32_t)flags) | O_CLOEXEC);
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

static int memfd_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	(void)rc;
	(void)idx;
	if (!fe->memfd)
		return open_memfd(fe, 0, 0);
	return open_memfd(fe, (int)fe->memfd->flags, fe->memfd->pos);
}

static int memfd_open_id(struct restore_ctx *rc, const FileEntry *fe, int flags)
{
	(void)rc;
	return open_memfd(fe, flags, 0);
}

const struct fd_kind memfd_kind = {
	.name = "memfd",
	.type = FD_TYPES__MEMFD,
	.open = memfd_open,
	.open_id = memfd_open_id,
};
