/*
 * Character devices, reopened by path (REG entries of files.img, as
 * upstream has them): the devices that hold no state (/dev/null, zero,
 * full, random, urandom) and, with --shell-job, the job's terminal, which
 * becomes the one criu restores on.  With --evasive-devices, a device
 * whose own path is gone is dumped by another path under /dev.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fdkind.h"
#include "log.h"
#include "options.h"
#include "regfile.h"

static bool is_tty(unsigned int maj, unsigned int min)
{
	/* ttys, /dev/tty, /dev/console, /dev/ptmx, pty slaves */
	return maj == 4 || (maj == 5 && min <= 2) || (maj >= 136 && maj <= 143);
}

/* The devices restore reopens by path with nothing lost: they hold no state. */
static bool is_stateless_dev(unsigned int maj, unsigned int min)
{
	/* /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom */
	return maj == 1 && (min == 3 || min == 5 || min == 7 || min == 8 || min == 9);
}

/*
 * With --shell-job the job's terminal becomes the one criu restores on:
 * admitted are the task's controlling terminal and /dev/tty.
 */
static bool is_job_terminal(const struct fd_parms *p)
{
	if (!p->shell_job)
		return false;
	return (p->ctty && p->st.st_rdev == p->ctty) || p->st.st_rdev == makedev(5, 0);
}

/*
 * --evasive-devices: a path under /dev (two levels deep) of the character
 * device rdev, for a device whose own path is gone (deleted, renamed, or
 * made outside /dev); false when there is none.
 */
static bool find_dev_path(dev_t rdev, const char *dir, int depth, char *out, size_t size)
{
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st))
			continue;
		if (S_ISCHR(st.st_mode) && st.st_rdev == rdev) {
			snprintf(out, size, "%s", path);
			found = true;
		} else if (S_ISDIR(st.st_mode) && depth > 0) {
			found = find_dev_path(rdev, path, depth - 1, out, size);
		}
	}
	closedir(d);
	return found;
}

/* Whether restore can open the device by its own path. */
static bool path_names_it(const struct fd_parms *p)
{
	struct stat now;

	return p->link[0] == '/' && !stat(p->link, &now) && S_ISCHR(now.st_mode) &&
	       now.st_rdev == p->st.st_rdev;
}

static bool chr_match(const struct fd_parms *p)
{
	return S_ISCHR(p->st.st_mode) && !(p->flags & O_PATH);
}

static int chr_check(const struct fd_parms *p, const char *who)
{
	unsigned int maj = major(p->st.st_rdev), min = minor(p->st.st_rdev);

	if (is_tty(maj, min) && !is_job_terminal(p)) {
		const char *what = maj == 5 && min == 2 ? "a pty master"
				   : maj >= 136		? "a pty"
							: "a terminal";

		pr_err("%s: fd %d is %s (%s): terminals are not dumped yet (a shell job's "
		       "own terminal is, with --shell-job)\n",
		       who, p->fd, what, p->link);
		return -EOPNOTSUPP;
	}
	if (!is_tty(maj, min) && !is_stateless_dev(maj, min)) {
		pr_err("%s: fd %d is the character device %s (%u:%u): devices are not dumped "
		       "yet\n",
		       who, p->fd, p->link, maj, min);
		return -EOPNOTSUPP;
	}
	if (!path_names_it(p)) {
		char other[PATH_MAX];

		if (opts.evasive_devices && find_dev_path(p->st.st_rdev, "/dev", 2, other,
							  sizeof(other)))
			return 0;
		pr_err("%s: fd %d is a device restore could not open again (%s): its path "
		       "does not name it%s\n",
		       who, p->fd, p->link,
		       opts.evasive_devices ? ", nor does any under /dev"
					    : " (--evasive-devices would look for another)");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* A device's entry: by its own path, or (--evasive-devices) by another one
 * under /dev when its own is gone. */
static int chr_dump(struct dump_file *f, const struct fd_parms *p)
{
	static struct fd_parms other;

	if (path_names_it(p) || !opts.evasive_devices)
		return regfile_dump(f, p);
	other = *p;
	if (!find_dev_path(p->st.st_rdev, "/dev", 2, other.link, sizeof(other.link))) {
		pr_err("fd %d of pid %d: no path under /dev names the device %s\n", p->fd, p->pid,
		       p->link);
		return -ENOENT;
	}
	pr_info("fd %d of pid %d: the device %s is dumped as %s (--evasive-devices)\n", p->fd,
		p->pid, p->link, other.link);
	return regfile_dump(f, &other);
}

static bool chr_owns(const FileEntry *fe)
{
	return fe->reg && fe->reg->has_mode && S_ISCHR(fe->reg->mode);
}

static int chr_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	int flags = rc_open_flags(fe->reg->flags);
	int fd;

	/* a shell job's terminal becomes the one criu runs on */
	if (opts.shell_job &&
	    (!strncmp(fe->reg->name, "/dev/pts/", 9) || !strncmp(fe->reg->name, "/dev/tty", 8)) &&
	    isatty(STDIN_FILENO)) {
		fd = open(ttyname(STDIN_FILENO), (flags & ~O_ACCMODE) | O_RDWR | O_CLOEXEC);
		if (fd < 0)
			pr_perror("fd %u of pid %u: can't open this terminal", rc_opening_fd(rc),
				  rc_task_pid(rc, idx));
		return fd < 0 ? -errno : fd;
	}
	return regfile_open(rc, fe, idx);
}

const struct fd_kind chrdev_kind = {
	.name = "character device",
	.type = FD_TYPES__REG,
	.match = chr_match,
	.check = chr_check,
	.dump = chr_dump,
	.owns = chr_owns,
	.open = chr_open,
	.open_id = regfile_open_id,
	.status_flags = regfile_status_flags,
};
