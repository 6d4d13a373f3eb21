/*
 * Terminals (core/files/tty.c): what of them other files need.  The kind
 * itself is tty_kind in the table; these are the pieces that are not about
 * one fd: the controlling terminal of a task (dump-check asks) and the
 * pure helpers the unit tests check.
 */
#ifndef CRIU_FILES_TTY_H
#define CRIU_FILES_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/tty.pb-c.h"

enum tty_class {
	TTY_CLASS_NONE,	   /* not a terminal */
	TTY_CLASS_PTMX,	   /* a pty master, opened through /dev/ptmx */
	TTY_CLASS_PTS,	   /* a pty slave, /dev/pts/N */
	TTY_CLASS_CTTY,	   /* /dev/tty: the task's controlling terminal */
	TTY_CLASS_CONSOLE, /* /dev/console */
	TTY_CLASS_VT,	   /* a virtual console, /dev/ttyN */
	TTY_CLASS_SERIAL,  /* serial lines */
	TTY_CLASS_OTHER,   /* BSD ptys and the rest of the tty majors */
};

/* the highest pty index the image ids leave room for (upstream's too) */
#define TTY_MAX_PTY_INDEX 1000u
/* the number of control characters in the kernel's termios, as stored */
#define TTY_TERMIOS_NCC 19u

enum tty_class tty_class_of(unsigned int maj, unsigned int min);
const char *tty_class_name(enum tty_class c);
/* the pty index of a slave's device numbers */
unsigned int tty_pts_index(unsigned int maj, unsigned int min);
/* tty_info_entry.id of a terminal, as upstream numbers them: a pty's index
 * twice, plus one for the master; fixed ones for console and /dev/tty */
uint32_t tty_info_id(enum tty_class c, unsigned int index);

/*
 * Whether an entry of tty-info.img is one restore can use: NULL, or why not
 * (a static string).  Checks the type against the device, the id against
 * the index, the termios sizes.
 */
const char *tty_info_invalid(const TtyInfoEntry *ie);

/*
 * Dump: the controlling terminal of a task of the seized tree (tty_nr of
 * /proc/PID/stat, 0 for none).  Admitted: none; a pty whose master and
 * session leader are in the tree; with --shell-job, any.  0 or -EOPNOTSUPP
 * after one error naming who and the terminal.
 */
int tty_check_ctty(pid_t pid, const char *who, unsigned int tty_nr, bool shell_job);

#endif
