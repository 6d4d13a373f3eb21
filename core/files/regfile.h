/* Regular files (regfile.c), whose entries chrdev.c shares: RegFileEntry. */
#ifndef CRIU_FILES_REGFILE_H
#define CRIU_FILES_REGFILE_H

#include "fdkind.h"

extern const struct fd_kind regfile_kind;

/* fills f's RegFileEntry (type REG) from p: path, flags, position, size, mode */
int regfile_dump(struct dump_file *f, const struct fd_parms *p);
/* opens a REG entry as it was (flags, fown, position) */
int regfile_open(struct restore_ctx *rc, const FileEntry *fe, int idx);
int regfile_open_id(struct restore_ctx *rc, const FileEntry *fe, int flags);
uint32_t regfile_status_flags(struct restore_ctx *rc, const FileEntry *fe);
/* dump-check of an unlinked file (st) that what ("fd 3", "its shared
 * mapping 7f..-7f..") of who holds: 0 when dump keeps it (a ghost within
 * --ghost-limit, or --link-remap), else the logged refusal */
int regfile_check_deleted(const struct stat *st, const char *who, const char *what,
			  const char *link);
/* whether a /proc link names an unlinked file ("... (deleted)") */
bool regfile_is_deleted(const char *link);
/* why restore could not open link again by path (st: the file dumped), or
 * NULL when its path still names that very file */
const char *regfile_why_not_reopenable(const char *link, const struct stat *st);
/* the path restore opens for fe: its own, or its ghost's or link remap's */
const char *regfile_restore_path(struct restore_ctx *rc, const FileEntry *fe);

#endif
