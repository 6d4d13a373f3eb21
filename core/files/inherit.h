/* --external file[...] on dump, --inherit-fd fd[N]:KEY on restore: see inherit.c. */
#ifndef CRIU_FILES_INHERIT_H
#define CRIU_FILES_INHERIT_H

#include <stdbool.h>
#include <stddef.h>

#include "fdkind.h"

/* dump: "file[MNT_ID:INODE]" in buf when --external names the file of p, else NULL */
const char *files_external_key(const struct fd_parms *p, char *buf, size_t size);

/* restore */
struct inherit_set;
/* the --inherit-fd options, checked against the images (logged errors), kept in rc */
int inherit_fds_plan(struct restore_ctx *rc);
/* a new fd (O_CLOEXEC) of the inherited description of fe; -ENOENT: none given */
int inherit_fd_open(struct restore_ctx *rc, const FileEntry *fe);
bool inherit_fd_given(struct restore_ctx *rc, const FileEntry *fe);
void inherit_fds_free(struct restore_ctx *rc);

#endif
