/* File locks: see locks.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image-desc.h"
#include "image.h"
#include "file-locks.h"
#include "log.h"
#include "proc.h"

int lock_parse_line(const char *s, struct lock_line *l)
{
	char dev[64], end[32];
	int id, n = 0;
	long long start;

	memset(l, 0, sizeof(*l));
	s += strspn(s, " \t");
	if (sscanf(s, "%d: %n", &id, &n) != 1 || !n)
		return -EINVAL;
	s += n;
	if (!strncmp(s, "->", 2)) {
		l->waiter = true;
		s += 2;
	}
	n = 0;
	if (sscanf(s, "%15s %15s %15s %d %63s %lld %31s%n", l->kind, l->mode, l->type_name, &l->pid,
		   dev, &start, end, &n) != 7 ||
	    !n)
		return -EINVAL;
	if (sscanf(dev, "%x:%x:%llu", &l->maj, &l->min, &l->ino) != 3 || start < 0)
		return -EINVAL;
	l->start = start;
	if (!strcmp(end, "EOF"))
		l->len = 0;
	else {
		char *e;
		long long last = strtoll(end, &e, 10);

		if (*e || last < start)
			return -EINVAL;
		l->len = last - start + 1;
	}
	if (!strcmp(l->type_name, "WRITE"))
		l->type = F_WRLCK;
	else if (!strcmp(l->type_name, "READ"))
		l->type = F_RDLCK;
	else
		l->type = -1;
	if (!strcmp(l->kind, "POSIX"))
		l->flag = FL_POSIX;
	else if (!strcmp(l->kind, "FLOCK"))
		l->flag = FL_FLOCK;
	else if (!strcmp(l->kind, "OFDLCK"))
		l->flag = FL_OFD;
	/* leases, delegations, ACCESS probes: nothing restore can set back */
	if (l->type < 0 || strcmp(l->mode, "ADVISORY"))
		l->flag = 0;
	return 0;
}

/* ---- dump ---------------------------------------------------------------------- */

struct dumped_lock {
	FileLockEntry e;
	uint32_t file_id;
};

static struct dumped_lock *dumped;
static size_t nr_dumped, cap_dumped;

size_t locks_nr_dumped(void)
{
	return nr_dumped;
}

/* Seen already: the same description's flock/OFD lock, or the process's POSIX lock. */
static bool seen(const struct lock_line *l, pid_t pid, uint32_t file_id)
{
	for (size_t i = 0; i < nr_dumped; i++) {
		const struct dumped_lock *d = &dumped[i];

		if (d->file_id != file_id || d->e.flag != (uint32_t)l->flag ||
		    d->e.type != (uint32_t)l->type || d->e.start != l->start || d->e.len != l->len)
			continue;
		if (l->flag != FL_POSIX || d->e.pid == pid)
			return true;
	}
	return false;
}

static int note_lock(const struct lock_line *l, pid_t pid, int fd, uint32_t file_id)
{
	struct dumped_lock *d;

	if (seen(l, pid, file_id))
		return 0;
	if (nr_dumped == cap_dumped) {
		struct dumped_lock *n =
			realloc(dumped, (cap_dumped = cap_dumped ? cap_dumped * 2 : 16) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		dumped = n;
	}
	d = &dumped[nr_dumped++];
	file_lock_entry__init(&d->e);
	d->file_id = file_id;
	d->e.flag = (uint32_t)l->flag;
	d->e.type = (uint32_t)l->type;
	d->e.pid = pid;
	d->e.fd = fd;
	d->e.start = l->start;
	d->e.len = l->len;
	pr_info("pid %d fd %d: %s %s lock %" PRId64 "+%" PRId64 "\n", pid, fd, l->kind,
		l->type_name, l->start, l->len);
	return 0;
}

/*
 * Whether pid maps the file of its fd: the restorer maps files through fds
 * it closes afterwards, and closing any fd of a file drops the process's
 * POSIX locks on it, so such a lock would be lost after restore.
 */
bool locks_file_mapped(pid_t pid, int fd)
{
	char path[64], line[512];
	struct stat st;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	if (stat(path, &st))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		unsigned long ino;

		if (sscanf(line, "%*x-%*x %*s %*x %x:%x %lu", &maj, &min, &ino) == 3 && ino &&
		    ino == (unsigned long)st.st_ino && maj == major(st.st_dev) &&
		    min == minor(st.st_dev))
			found = true;
	}
	fclose(f);
	return found;
}

int locks_dump_fd(pid_t pid, int fd, uint32_t file_id)
{
	char path[64], *buf, *p;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	buf = proc_read_file(path, NULL);
	if (!buf) {
		ret = -errno;
		pr_err("pid %d: can't read %s: %s\n", pid, path, strerror(-ret));
		return ret;
	}
	for (p = buf; !ret && (p = strstr(p, "lock:")); p += 5) {
		struct lock_line l;

		if (p != buf && p[-1] != '\n')
			continue;
		if (lock_parse_line(p + 5, &l)) {
			pr_err("pid %d fd %d: can't parse its lock line '%.*s'\n", pid, fd,
			       (int)strcspn(p, "\n"), p);
			ret = -EINVAL;
		} else if (!l.flag) {
			pr_err("pid %d holds a %s (%s %s) through fd %d: it can't be restored\n", pid,
			       !strcmp(l.kind, "LEASE") ? "lease" : "file lock", l.kind, l.type_name,
			       fd);
			ret = -EOPNOTSUPP;
		} else if (!l.waiter && l.flag == FL_POSIX && locks_file_mapped(pid, fd)) {
			pr_err("pid %d holds a POSIX lock (%s) through fd %d on a file it also maps: "
			       "restore maps files through descriptors it closes, which would drop "
			       "the lock; not dumped yet\n",
			       pid, l.type_name, fd);
			ret = -EOPNOTSUPP;
		} else if (!l.waiter)
			ret = note_lock(&l, pid, fd, file_id);
	}
	free(buf);
	return ret;
}

int locks_write(int dirfd)
{
	struct cr_img *img;
	int ret = 0;

	if (!nr_dumped)
		return 0;
	img = img_open(dirfd, IMG_FILE_LOCKS, O_WRONLY);
	if (!img)
		return -EIO;
	for (size_t i = 0; i < nr_dumped && !ret; i++)
		ret = img_write_pb(img, &dumped[i].e.base);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

void locks_dump_fini(void)
{
	free(dumped);
	dumped = NULL;
	nr_dumped = cap_dumped = 0;
}

/* ---- restore ------------------------------------------------------------------- */

static int check_entry(const FileLockEntry *e, size_t i)
{
	const char *why = NULL;

	if (e->flag != FL_POSIX && e->flag != FL_FLOCK && e->flag != FL_OFD)
		why = "its kind is not POSIX, flock or OFD";
	else if (e->type != F_RDLCK && e->type != F_WRLCK)
		why = "its type is neither read nor write";
	else if (e->pid <= 0 || e->fd < 0)
		why = "its pid or fd is out of range";
	else if (e->start < 0 || e->len < 0 || (e->len && e->start > INT64_MAX - e->len))
		why = "its range is out of range";
	else if (e->flag == FL_FLOCK && (e->start || e->len))
		why = "a flock lock covers the whole file";
	if (!why)
		return 0;
	pr_err("filelocks.img: entry %zu (flag %u type %u pid %d fd %d %" PRId64 "+%" PRId64
	       "): %s\n",
	       i, e->flag, e->type, e->pid, e->fd, e->start, e->len, why);
	return -EINVAL;
}

int locks_read(int dirfd, struct lock_set *set)
{
	struct cr_img *img;
	ProtobufCMessage *m;
	int ret;

	set->e = NULL;
	set->n = 0;
	img = img_open(dirfd, IMG_FILE_LOCKS, O_RDONLY);
	if (!img)
		return errno == ENOENT ? 0 : -EIO;
	while ((ret = img_read_pb(img, NULL, &m)) > 0) {
		FileLockEntry **n = realloc(set->e, (set->n + 1) * sizeof(*n));

		if (!n) {
			protobuf_c_message_free_unpacked(m, NULL);
			ret = -ENOMEM;
			break;
		}
		set->e = n;
		set->e[set->n++] = (FileLockEntry *)m;
		ret = check_entry((FileLockEntry *)m, set->n - 1);
		if (ret)
			break;
	}
	img_close(img);
	if (ret < 0)
		locks_free(set);
	return ret < 0 ? ret : 0;
}

int locks_validate(const struct lock_set *set, bool (*has_fd)(uint32_t pid, uint32_t fd))
{
	for (size_t i = 0; i < set->n; i++) {
		const FileLockEntry *e = set->e[i];

		if (!has_fd((uint32_t)e->pid, (uint32_t)e->fd)) {
			pr_err("filelocks.img: entry %zu: pid %d has no fd %d in the images\n", i,
			       e->pid, e->fd);
			return -EINVAL;
		}
	}
	return 0;
}

static int set_lock(const FileLockEntry *e)
{
	struct flock fl = {
		.l_type = (short)e->type,
		.l_whence = SEEK_SET,
		.l_start = (off_t)e->start,
		.l_len = (off_t)e->len,
	};

	switch (e->flag) {
	case FL_FLOCK:
		return flock(e->fd, (e->type == F_WRLCK ? LOCK_EX : LOCK_SH) | LOCK_NB);
	case FL_POSIX:
		return fcntl(e->fd, F_SETLK, &fl);
	case FL_OFD:
		return fcntl(e->fd, F_OFD_SETLK, &fl);
	}
	errno = EINVAL;
	return -1;
}

int locks_restore_task(const struct lock_set *set, uint32_t pid)
{
	for (size_t i = 0; set && i < set->n; i++)
		if ((uint32_t)set->e[i]->pid == pid && set_lock(set->e[i]))
			return errno == EWOULDBLOCK || errno == EACCES ? -EAGAIN : -errno;
	return 0;
}

void locks_free(struct lock_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		protobuf_c_message_free_unpacked(&set->e[i]->base, NULL);
	free(set->e);
	set->e = NULL;
	set->n = 0;
}
