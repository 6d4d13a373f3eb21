/* Directories: open("."), a subdirectory read part way (its position), and
 * O_PATH fds of a file, a directory and a symlink (O_NOFOLLOW). */
#include "lib.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

TEST("directories (open(\".\"), a position in one), O_PATH fds of a file, a directory and a symlink");

struct fd_want {
	int fd;
	const char *what;
	char path[4096];
	int flags;
	off_t pos;
	struct stat st;
};

/* the names in a getdents64 buffer, one after another */
static void names_of(const char *buf, long n, char *out, size_t size)
{
	size_t used = 0;

	out[0] = 0;
	for (long off = 0; off < n;) {
		const struct dirent64 *d = (const void *)(buf + off);

		used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s/", d->d_name);
		off += d->d_reclen;
	}
}

static void record(struct fd_want *w, int fd, const char *what)
{
	char link[64];
	ssize_t n;

	w->fd = fd;
	w->what = what;
	if (fd < 0)
		setup_fail("%s: %s", what, strerror(errno));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, w->path, sizeof(w->path) - 1);
	w->path[n < 0 ? 0 : n] = 0;
	w->flags = fcntl(fd, F_GETFL);
	w->pos = (w->flags & O_PATH) ? 0 : lseek(fd, 0, SEEK_CUR);
	if (fstatat(fd, "", &w->st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		setup_fail("%s: fstat: %s", what, strerror(errno));
}

static void check(const struct fd_want *w)
{
	char link[64], path[4096];
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", w->fd);
	n = readlink(link, path, sizeof(path) - 1);
	path[n < 0 ? 0 : n] = 0;
	if (strcmp(path, w->path))
		fail("%s: fd %d is '%s', want '%s'", w->what, w->fd, path, w->path);
	if (fcntl(w->fd, F_GETFL) != w->flags)
		fail("%s: flags %#o, want %#o", w->what, fcntl(w->fd, F_GETFL), w->flags);
	if (!(w->flags & O_PATH) && lseek(w->fd, 0, SEEK_CUR) != w->pos)
		fail("%s: position %ld, want %ld", w->what, (long)lseek(w->fd, 0, SEEK_CUR),
		     (long)w->pos);
	if (fstatat(w->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		fail("%s: fstat: %s", w->what, strerror(errno));
	else if (st.st_ino != w->st.st_ino || st.st_dev != w->st.st_dev ||
		 (st.st_mode & S_IFMT) != (w->st.st_mode & S_IFMT))
		fail("%s: another file (inode %lu mode %o, want %lu mode %o)", w->what,
		     (unsigned long)st.st_ino, st.st_mode, (unsigned long)w->st.st_ino, w->st.st_mode);
}

int main(int argc, char **argv)
{
	struct fd_want w[5];
	char buf[4096];
	long n;
	int sub;

	test_init(argc, argv);
	if (mkdir("sub", 0755) && errno != EEXIST)
		setup_fail("mkdir sub: %s", strerror(errno));
	for (int i = 0; i < 40; i++) {
		char name[64];

		snprintf(name, sizeof(name), "sub/entry-%02d", i);
		if (write_file(name, "x", 1) < 0)
			setup_fail("%s: %s", name, strerror(errno));
	}
	if (write_file("file", "data", 4) < 0)
		setup_fail("file: %s", strerror(errno));
	unlink("link");
	if (symlink("file", "link"))
		setup_fail("symlink: %s", strerror(errno));

	record(&w[0], open(".", O_RDONLY | O_DIRECTORY), "open(\".\")");
	sub = open("sub", O_RDONLY | O_DIRECTORY);
	/* read a few entries: the position is then inside the directory */
	n = syscall(SYS_getdents64, sub, buf, 200);
	if (n <= 0)
		setup_fail("getdents64 sub: %s", strerror(errno));
	record(&w[1], sub, "sub read part way");
	record(&w[2], open("file", O_PATH), "O_PATH file");
	record(&w[3], open("sub", O_PATH | O_DIRECTORY), "O_PATH directory");
	record(&w[4], open("link", O_PATH | O_NOFOLLOW), "O_PATH symlink");
	if (!S_ISLNK(w[4].st.st_mode))
		setup_fail("O_PATH|O_NOFOLLOW of link is not the symlink");
	/* what the rest of sub's reading gives now */
	off_t at = lseek(sub, 0, SEEK_CUR);
	char rest[8192];
	long nrest = syscall(SYS_getdents64, sub, rest, sizeof(rest));
	if (nrest < 0 || lseek(sub, at, SEEK_SET) != at)
		setup_fail("getdents64 sub: %s", strerror(errno));
	static char want_names[16384], names[16384];
	names_of(rest, nrest, want_names, sizeof(want_names));

	test_ready();
	test_wait();

	for (size_t i = 0; i < ARRAY_SIZE(w); i++)
		check(&w[i]);
	/* the directory fds work: openat relative to them, fstatat on O_PATH */
	int f = openat(w[0].fd, "file", O_RDONLY);
	if (f < 0 || read(f, buf, 4) != 4 || memcmp(buf, "data", 4))
		fail("openat(open(\".\"), \"file\") does not read the file");
	char target[64];
	ssize_t tl = readlinkat(w[4].fd, "", target, sizeof(target) - 1);
	if (tl != 4 || memcmp(target, "file", 4))
		fail("readlinkat on the O_PATH symlink gives %zd", tl);
	char again[8192];
	long nagain = syscall(SYS_getdents64, sub, again, sizeof(again));
	names_of(again, nagain, names, sizeof(names));
	if (strcmp(names, want_names))
		fail("reading sub on gives '%.200s', want '%.200s'", names, want_names);
	test_done();
}
