/* Deleted directories: an fd of one (mode 0751), and a cwd whose directory
 * and the directory above it (held at an O_PATH fd) were both removed.
 * After restore each is a deleted directory again, of the same mode, the
 * cwd's parent is the held directory, and nothing is left on disk. */
#include "lib.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

TEST("deleted directories: an fd of one, a cwd in one inside another one held at an O_PATH fd");

struct dir_want {
	int fd; /* AT_FDCWD: the cwd */
	const char *what;
	char link[PATH_MAX], path[PATH_MAX];
	mode_t mode;
};

static void link_of(int fd, char *buf, size_t size)
{
	char p[64];
	ssize_t n;

	if (fd == AT_FDCWD)
		snprintf(p, sizeof(p), "/proc/self/cwd");
	else
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, buf, size - 1);
	buf[n < 0 ? 0 : n] = 0;
}

static void record(struct dir_want *w, int fd, const char *what, const char *path)
{
	struct stat st;

	w->fd = fd;
	w->what = what;
	snprintf(w->path, sizeof(w->path), "%s", path);
	link_of(fd, w->link, sizeof(w->link));
	if (fstatat(fd, fd == AT_FDCWD ? "." : "", &st, fd == AT_FDCWD ? 0 : AT_EMPTY_PATH))
		setup_fail("%s: fstat: %s", what, strerror(errno));
	w->mode = st.st_mode;
}

static void check(const struct dir_want *w)
{
	char link[PATH_MAX];
	struct stat st;

	link_of(w->fd, link, sizeof(link));
	if (strcmp(link, w->link))
		fail("%s is '%s', want '%s'", w->what, link, w->link);
	if (fstatat(w->fd, w->fd == AT_FDCWD ? "." : "", &st, w->fd == AT_FDCWD ? 0 : AT_EMPTY_PATH))
		fail("%s: fstat: %s", w->what, strerror(errno));
	else if (st.st_mode != w->mode || st.st_nlink != 0)
		fail("%s: mode 0%o with %lu links, want 0%o with none (a deleted directory)",
		     w->what, st.st_mode, (unsigned long)st.st_nlink, w->mode);
	if (!access(w->path, F_OK) || errno != ENOENT)
		fail("%s: %s is there again after restore", w->what, w->path);
}

int main(int argc, char **argv)
{
	char top[2048], gone[PATH_MAX], outer[PATH_MAX], inner[PATH_MAX];
	struct dir_want w[3];
	struct stat up, held;
	int fd, ofd;

	test_init(argc, argv);
	if (!getcwd(top, sizeof(top)))
		setup_fail("getcwd: %s", strerror(errno));
	snprintf(gone, sizeof(gone), "%s/gone.fd", top);
	snprintf(outer, sizeof(outer), "%s/gone.outer", top);
	snprintf(inner, sizeof(inner), "%s/gone.outer/inner", top);
	rmdir(inner);
	rmdir(outer);
	rmdir(gone);
	if (mkdir(gone, 0751) || chmod(gone, 0751) || mkdir(outer, 0705) || chmod(outer, 0705) ||
	    mkdir(inner, 0755))
		setup_fail("mkdir: %s", strerror(errno));
	fd = open(gone, O_RDONLY | O_DIRECTORY);
	ofd = open(outer, O_PATH | O_DIRECTORY);
	if (fd < 0 || ofd < 0 || chdir(inner))
		setup_fail("open: %s", strerror(errno));
	if (rmdir(inner) || rmdir(outer) || rmdir(gone))
		setup_fail("rmdir: %s", strerror(errno));
	record(&w[0], fd, "the fd of gone.fd", gone);
	record(&w[1], AT_FDCWD, "the cwd", inner);
	record(&w[2], ofd, "the O_PATH fd of gone.outer", outer);
	if (stat("..", &up) || fstatat(ofd, "", &held, AT_EMPTY_PATH) || up.st_ino != held.st_ino)
		setup_fail("the cwd's parent is not gone.outer");

	test_ready();
	test_wait();

	for (size_t i = 0; i < ARRAY_SIZE(w); i++)
		check(&w[i]);
	if (stat("..", &up) || fstatat(ofd, "", &held, AT_EMPTY_PATH))
		fail("stat of the cwd's parent: %s", strerror(errno));
	else if (up.st_ino != held.st_ino || up.st_dev != held.st_dev)
		fail("the cwd's parent is no longer the directory at the O_PATH fd");
	/* a deleted directory takes no new entries */
	if (openat(fd, "new", O_CREAT | O_WRONLY, 0600) >= 0 || errno != ENOENT)
		fail("creating a file in the deleted gone.fd: %s, want ENOENT", strerror(errno));
	test_done();
}
