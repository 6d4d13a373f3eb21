/*
 * Creating and opening files on behalf of whoever asked for the dump or
 * restore, never with more rights than they have.
 *
 * Every file criu creates (images, logs, stats, pidfiles) goes through
 * fs_create(): the name is resolved beneath the directory without following
 * any symlink (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS where the kernel
 * has it, a component check and O_NOFOLLOW where it has not), and an existing
 * file is reused only when it is a regular file with one link (never a FIFO,
 * a device or a hard link to some other file).
 *
 * For a client of `criu service` that is not root, fs_set_requester() makes
 * every file access of the worker run with the client's fsuid, fsgid and
 * supplementary groups, so that criu can't create, truncate or read a file the
 * client could not.
 */
#ifndef CRIU_FSAFE_H
#define CRIU_FSAFE_H

#include <stdbool.h>
#include <sys/types.h>

/* From now on, file accesses are done as uid/gid with these groups. */
int fs_set_requester(uid_t uid, gid_t gid, const gid_t *groups, int ngroups);
/* Whether a requester was set (a non-root service client). */
bool fs_have_requester(void);

/*
 * Creates (or reuses, see above) name beneath dirfd for writing; flags may
 * add O_TRUNC, O_APPEND, O_EXCL.  name must be relative, without "..".
 * Returns the fd or -1 with errno set (ELOOP for a symlink, EXDEV for a
 * name that leaves the directory, EEXIST/EPERM for a file that is not a
 * plain regular one).
 */
int fs_create(int dirfd, const char *name, int flags, mode_t mode);

/*
 * The same for a user-given path (-o, --pidfile): an absolute path, or one
 * relative to dirfd; the directories on the way are the caller's choice and
 * are followed, the last component never is.  For a requester, only a plain
 * name beneath dirfd is accepted.
 */
int fs_create_path(int dirfd, const char *path, int flags, mode_t mode);

/* Opens name beneath dirfd for reading, with the requester's rights. */
int fs_open_read(int dirfd, const char *name, int flags);

/* Runs the next file access with the requester's rights (nest-safe). */
void fs_enter(void);
void fs_leave(void);

/* A message for the errno fs_create* failed with. */
const char *fs_strerror(int err);

#endif
