/*
 * Open files of dumped tasks: fdinfo-<files_id>.img per task, files.img
 * with one file_entry per open file description (shared descriptions,
 * e.g. inherited over fork, are stored once), and each kind's own images
 * (pipes-data.img, ...).  The kinds are in core/files/, one file each,
 * registered in core/files/table.c (see core/files/fdkind.h); what no kind
 * matches is refused at dump, naming the fd and its kind.
 */
#ifndef CRIU_FILES_H
#define CRIU_FILES_H

#include <stdbool.h>
#include <sys/types.h>

#include "proto/fdinfo.pb-c.h"

struct fd_parms;

/* Dump side.  files_dump_task writes fdinfo-<files_id>.img for pid (whose
 * fds must not change: the task is seized). */
int files_dump_task(pid_t pid, unsigned int files_id, int dirfd);
/* A file entry for a path (exe, cwd, root, file mappings); its id. */
int files_dump_path(pid_t pid, const char *link, const char *path, unsigned int *id);
/* files.img and every kind's images, after every task. */
int files_write_images(int dirfd);
void files_dump_fini(void);
/* right before the dumped tree is released to go on, or right after it
 * was killed */
void files_dump_release(bool killed);

/* fd of pid as struct fd_parms: link, fstat, fdinfo (pos, flags); tfd -1,
 * fown NULL.  *fdinfo is the text p->fdinfo points into, for the caller
 * to free.  -errno when the fd can't be seen. */
int fd_parms_read(pid_t pid, int fd, struct fd_parms *p, char **fdinfo);
/* "socket", "eventfd", "directory", ...: what an fd no kind matches is */
const char *fd_kind_name(const struct fd_parms *p);

#endif
