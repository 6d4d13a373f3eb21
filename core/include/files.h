/*
 * Open files of dumped tasks: fdinfo-<files_id>.img per task, files.img
 * with one file_entry per open file description (shared descriptions,
 * e.g. inherited over fork, are stored once), pipes-data.img with what
 * sits in pipes.  The kinds handled: regular files, character devices
 * reopened by path (/dev/null, terminals), pipes.  Anything else is
 * refused at dump, naming the fd and its kind.
 */
#ifndef CRIU_FILES_H
#define CRIU_FILES_H

#include <stdbool.h>
#include <sys/types.h>

#include "proto/fdinfo.pb-c.h"

/* Dump side.  files_dump_task writes fdinfo-<files_id>.img for pid (whose
 * fds must not change: the task is seized). */
int files_dump_task(pid_t pid, unsigned int files_id, int dirfd);
/* A file entry for a path (exe, cwd, root, file mappings); its id. */
int files_dump_path(pid_t pid, const char *link, const char *path, unsigned int *id);
/* files.img and pipes-data.img, after every task. */
int files_write_images(int dirfd);
void files_dump_fini(void);

#endif
