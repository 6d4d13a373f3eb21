/*
 * Files created and opened for the requester: no symlink followed, nothing
 * outside the directory, and for a non-root service client nothing that
 * client could not do itself (see fsafe.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fsafe.h"
#include "log.h"

#ifndef __NR_openat2
#define __NR_openat2 437 /* the same number on every architecture */
#endif

#define MAX_GROUPS 64

static struct {
	bool set;
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[MAX_GROUPS];
	/* what the worker had before, restored by fs_leave */
	int saved_ngroups;
	gid_t saved_groups[MAX_GROUPS];
	int depth;
} req;

static int openat2_missing; /* the kernel has no openat2 (before 5.6) */

int fs_set_requester(uid_t uid, gid_t gid, const gid_t *groups, int ngroups)
{
	int n;

	if (ngroups < 0 || ngroups > MAX_GROUPS) {
		pr_err("the requester has %d supplementary groups; at most %d are supported\n",
		       ngroups, MAX_GROUPS);
		return -1;
	}
	n = getgroups(MAX_GROUPS, req.saved_groups);
	if (n < 0) {
		pr_perror("can't read criu's own groups");
		return -1;
	}
	req.saved_ngroups = n;
	req.uid = uid;
	req.gid = gid;
	req.ngroups = ngroups;
	memcpy(req.groups, groups, (size_t)ngroups * sizeof(gid_t));
	req.set = true;
	req.depth = 0;
	return 0;
}

bool fs_have_requester(void)
{
	return req.set;
}

/*
 * The fs ids are per thread (raw syscalls, not glibc's broadcasting
 * wrappers): criu does its file work on one thread.  Moving fsuid away from
 * 0 drops CAP_DAC_OVERRIDE and the other file capabilities from the
 * effective set; moving it back raises them again.
 */
void fs_enter(void)
{
	if (!req.set || req.depth++)
		return;
	if (syscall(SYS_setgroups, req.ngroups, req.groups))
		pr_warn("can't take the requester's groups: %s\n", strerror(errno));
	syscall(SYS_setfsgid, req.gid);
	syscall(SYS_setfsuid, req.uid);
}

void fs_leave(void)
{
	if (!req.set || --req.depth)
		return;
	syscall(SYS_setfsuid, geteuid());
	syscall(SYS_setfsgid, getegid());
	if (syscall(SYS_setgroups, req.saved_ngroups, req.saved_groups))
		pr_warn("can't take criu's groups back: %s\n", strerror(errno));
}

/* Whether name is relative and has no ".." component. */
static bool name_is_beneath(const char *name)
{
	const char *p = name;

	if (!name[0] || name[0] == '/')
		return false;
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += len;
		while (*p == '/')
			p++;
	}
	return true;
}

/* openat beneath dirfd with no symlink on the way; flags include O_NOFOLLOW. */
static int open_beneath(int dirfd, const char *name, int flags, mode_t mode)
{
	if (!name_is_beneath(name)) {
		errno = EXDEV;
		return -1;
	}
	if (!openat2_missing) {
		struct open_how how = {
			.flags = (unsigned long long)flags,
			.mode = (flags & O_CREAT) ? mode : 0,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
		};
		long fd = syscall(__NR_openat2, dirfd, name, &how, sizeof(how));

		if (fd >= 0 || (errno != ENOSYS && errno != E2BIG))
			return (int)fd;
		openat2_missing = 1;
	}
	/*
	 * Without openat2, a directory on the way could be a symlink: accept
	 * only plain names then (criu's own names are), the last component
	 * with O_NOFOLLOW.
	 */
	if (strchr(name, '/')) {
		errno = EXDEV;
		return -1;
	}
	return openat(dirfd, name, flags, mode);
}

static int check_plain_file(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISLNK(st.st_mode) ? ELOOP : EPERM;
		return -1;
	}
	if (st.st_nlink > 1) {
		errno = EMLINK;
		return -1;
	}
	return 0;
}

int fs_create(int dirfd, const char *name, int flags, mode_t mode)
{
	int base = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (flags & O_APPEND);
	int fd, err;

	if ((flags & O_ACCMODE) == O_RDWR)
		base = (base & ~O_WRONLY) | O_RDWR;
	fs_enter();
	fd = open_beneath(dirfd, name, base | O_CREAT | O_EXCL, mode);
	if (fd < 0 && errno == EEXIST && !(flags & O_EXCL)) {
		/* reused only when it is a plain file of its own: looked at first */
		fd = open_beneath(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd >= 0) {
			err = check_plain_file(fd) ? errno : 0;
			close(fd);
			fd = -1;
			errno = err;
			if (!err)
				fd = open_beneath(dirfd, name, base, 0);
			if (fd < 0 && errno == ENXIO) /* it became a FIFO */
				errno = EPERM;
		}
		if (fd >= 0 && check_plain_file(fd)) {
			err = errno;
			close(fd);
			fd = -1;
			errno = err;
		}
		if (fd >= 0 && (flags & O_TRUNC) && ftruncate(fd, 0)) {
			err = errno;
			close(fd);
			fd = -1;
			errno = err;
		}
	}
	err = errno;
	fs_leave();
	if (fd >= 0 && fcntl(fd, F_SETFL, flags & O_APPEND)) {
		err = errno;
		close(fd);
		fd = -1;
	}
	errno = err;
	return fd;
}

int fs_create_path(int dirfd, const char *path, int flags, mode_t mode)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int dfd, fd, err;

	if (!slash)
		return fs_create(dirfd, path, flags, mode);
	if (req.set) {
		/* a client names files in its work directory only */
		errno = EXDEV;
		return -1;
	}
	if ((size_t)(slash - path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (!dir[0])
		snprintf(dir, sizeof(dir), "/");
	dfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	fd = fs_create(dfd, slash + 1, flags, mode);
	err = errno;
	close(dfd);
	errno = err;
	return fd;
}

int fs_open_read(int dirfd, const char *name, int flags)
{
	int fd, err;

	fs_enter();
	if (req.set)
		fd = open_beneath(dirfd, name, O_RDONLY | O_CLOEXEC | (flags & ~O_ACCMODE), 0);
	else
		fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | (flags & ~O_ACCMODE));
	err = errno;
	fs_leave();
	errno = err;
	return fd;
}

const char *fs_strerror(int err)
{
	switch (err) {
	case ELOOP:
		return "it is a symlink, which criu does not follow";
	case EXDEV:
		return "the name leads outside the directory (absolute, \"..\" or a symlink on the way)";
	case EPERM:
		return "it exists and is not a regular file";
	case EMLINK:
		return "it exists and is a hard link to another name";
	default:
		return strerror(err);
	}
}
