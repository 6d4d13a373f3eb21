/*
 * What the two fsnotify kinds share (core/files/inotify.c has it,
 * core/files/fanotify.c uses it): their fdinfo lines, and the inodes of
 * their marks, which fdinfo names by file handle (fhandle-bytes,
 * fhandle-type, f_handle) and which restore finds again with
 * open_by_handle_at through a mount of the mark's device, or by the name
 * dump resolved with --force-irmap.
 */
#ifndef CRIU_FILES_FSNOTIFY_H
#define CRIU_FILES_FSNOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/fh.pb-c.h"
#include "proto/fsnotify.pb-c.h"

/* MAX_HANDLE_SZ bytes, as the image's at least FH_ENTRY_SIZES__min_entries words */
#define FSN_HANDLE_WORDS 16
#define FSN_HANDLE_MAX (FSN_HANDLE_WORDS * 8)

struct fsn_handle {
	FhEntry fh; /* fh.handle points at words */
	uint64_t words[FSN_HANDLE_WORDS];
};

void fsn_handle_init(struct fsn_handle *h);

/*
 * The value of the token "key:VALUE" of one fdinfo line (tokens are
 * separated by spaces or tabs; the key must match a whole token's name, so
 * "mask" is not found in "ignored_mask:"). false when it is missing or not
 * a number in base.
 */
bool fsn_token(const char *line, size_t len, const char *key, int base, uint64_t *v);

/* fhandle-bytes, fhandle-type and f_handle of a mark line; a line without
 * them (a filesystem that can't make handles) leaves bytes 0. -EINVAL when
 * they are malformed. */
int fsn_parse_handle(const char *line, size_t len, struct fsn_handle *h);

/* fdinfo prints the kernel's own s_dev (major << 20 | minor) */
dev_t fsn_kdev(uint32_t s_dev);

/*
 * An O_PATH fd of a mark's inode: by fh->path when dump resolved one
 * (--force-irmap), else by the handle through a mount of s_dev of our mount
 * namespace.  -errno, with why (for the caller's message) set.
 */
int fsn_open_mark(const FhEntry *fh, uint32_t s_dev, const char **why);

/* The path of a mark's inode now (for --force-irmap): malloc'ed, or NULL
 * with why set. */
char *fsn_mark_path(const FhEntry *fh, uint32_t s_dev, const char **why);

/* Bytes waiting to be read in an inotify or fanotify (FIONREAD), or -errno */
int fsn_queued(int fd);

/* ---- inotify ---- */

struct ify_wd {
	InotifyWdEntry e; /* e.f_handle points at h.fh */
	struct fsn_handle h;
};

/* The watches of an inotify's fdinfo ("inotify wd:..." lines), in *out
 * (free() it) and *n.  -EINVAL for a line that can't be read. */
int inotify_parse_fdinfo(const char *fdinfo, struct ify_wd **out, size_t *n);

/* ---- fanotify ---- */

struct ffy_mark {
	FanotifyMarkEntry e; /* e.ie / e.me point at ie / me */
	FanotifyInodeMarkEntry ie;
	FanotifyMountMarkEntry me;
	struct fsn_handle h;
};

struct ffy_info {
	uint32_t faflags; /* fanotify_init's flags */
	uint32_t evflags; /* its event_f_flags */
	struct ffy_mark *marks; /* free() it */
	size_t n;
	char bad[96]; /* a mark line of a kind the image has no place for */
};

/* The fdinfo of a fanotify.  -EINVAL for a line that can't be read,
 * -EOPNOTSUPP for a mark of another kind (a filesystem's, a mount
 * namespace's: bad names it). */
int fanotify_parse_fdinfo(const char *fdinfo, struct ffy_info *fi);

#endif
