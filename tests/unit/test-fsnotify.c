/*
 * The fdinfo parsers of inotify, fanotify and pidfd (core/files/inotify.c,
 * fanotify.c, pidfd.c): the kernel's lines as text, and the kernel's own
 * fdinfo of real instances, whose handles must open the watched inode again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../core/files/fsnotify.h"
#include "unit.h"

int pidfd_parse_fdinfo(const char *fdinfo, int *pid, int *nspid);

static const char ify_text[] =
	"pos:\t0\nflags:\t04000\nmnt_id:\t17\nino:\t1038\n"
	"inotify wd:2 ino:a7633c sdev:fe00001 mask:fff ignored_mask:0 fhandle-bytes:8 "
	"fhandle-type:1 f_handle:3c63a70018cc413a\n"
	"inotify wd:1a ino:10 sdev:800 mask:40000002 ignored_mask:0\n";

TEST(inotify_lines)
{
	struct ify_wd *w;
	size_t n;

	CHECK_EQ(inotify_parse_fdinfo(ify_text, &w, &n), 0);
	CHECK_EQ(n, 2);
	if (n != 2)
		return;
	CHECK_EQ(w[0].e.wd, 2);
	CHECK_EQ(w[0].e.i_ino, 0xa7633c);
	CHECK_EQ(w[0].e.s_dev, 0xfe00001);
	CHECK_EQ(w[0].e.mask, 0xfff);
	CHECK_EQ(w[0].e.ignored_mask, 0);
	CHECK(w[0].e.f_handle == &w[0].h.fh);
	CHECK_EQ(w[0].h.fh.bytes, 8);
	CHECK_EQ(w[0].h.fh.type, 1);
	CHECK_EQ(w[0].h.fh.n_handle, FSN_HANDLE_WORDS);
	CHECK(w[0].h.fh.handle == w[0].h.words);
	CHECK(!memcmp(w[0].h.words, "\x3c\x63\xa7\x00\x18\xcc\x41\x3a", 8));
	/* hex wd, a mask with IN_ONESHOT-style high bits, and no handle */
	CHECK_EQ(w[1].e.wd, 0x1a);
	CHECK_EQ(w[1].e.mask, 0x40000002);
	CHECK_EQ(w[1].h.fh.bytes, 0);
	CHECK(w[1].e.f_handle == &w[1].h.fh);
	free(w);
}

TEST(inotify_many_lines_keep_their_pointers)
{
	char text[64 * 160] = "";
	struct ify_wd *w;
	size_t n, len = 0;

	for (int i = 1; i <= 40; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"inotify wd:%x ino:%x sdev:1 mask:2 ignored_mask:0 "
					"fhandle-bytes:4 fhandle-type:1 f_handle:%08x\n",
					i, i + 100, i);
	CHECK_EQ(inotify_parse_fdinfo(text, &w, &n), 0);
	CHECK_EQ(n, 40);
	for (size_t i = 0; i < n; i++) {
		CHECK(w[i].e.f_handle == &w[i].h.fh);
		CHECK(w[i].h.fh.handle == w[i].h.words);
		CHECK_EQ(w[i].e.wd, i + 1);
	}
	free(w);
}

TEST(inotify_bad_lines)
{
	static const char *const bad[] = {
		"inotify wd:1 ino:1 sdev:1 mask:2\n",		     /* no ignored_mask */
		"inotify wd:0 ino:1 sdev:1 mask:2 ignored_mask:0\n", /* wd 0 */
		"inotify wd:zz ino:1 sdev:1 mask:2 ignored_mask:0\n",
		"inotify wd:1 ino:1 sdev:1 mask:2 ignored_mask:0 fhandle-bytes:4 fhandle-type:1 "
		"f_handle:abc\n", /* odd hex */
		"inotify wd:1 ino:1 sdev:1 mask:2 ignored_mask:0 fhandle-bytes:81 fhandle-type:1 "
		"f_handle:00\n", /* longer than MAX_HANDLE_SZ */
		"inotify wd:1 ino:1 sdev:1 mask:2 ignored_mask:0 fhandle-bytes:1 fhandle-type:1 "
		"f_handle:0g\n",
		"inotify wd:1 ino:1 sdev:1 mask:-2 ignored_mask:0\n",
		"inotify wd:1 ino:1 sdev:1 mask:100000000 ignored_mask:0\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ify_wd *w = (struct ify_wd *)1;
		size_t n = 7;

		CHECK_EQ(inotify_parse_fdinfo(bad[i], &w, &n), -EINVAL);
		CHECK(w == NULL);
		CHECK_EQ(n, 0);
	}
}

TEST(inotify_no_watches)
{
	struct ify_wd *w;
	size_t n;

	CHECK_EQ(inotify_parse_fdinfo("pos:\t0\nflags:\t02000000\n", &w, &n), 0);
	CHECK_EQ(n, 0);
	free(w);
}

TEST(token_names_whole)
{
	static const char line[] = "fanotify ino:5 sdev:1 mflags:40 mask:0 ignored_mask:2";
	uint64_t v = 99;

	CHECK(fsn_token(line, sizeof(line) - 1, "mask", 16, &v));
	CHECK_EQ(v, 0);
	CHECK(fsn_token(line, sizeof(line) - 1, "ignored_mask", 16, &v));
	CHECK_EQ(v, 2);
	CHECK(!fsn_token(line, sizeof(line) - 1, "flags", 16, &v));
	CHECK(!fsn_token(line, sizeof(line) - 1, "ask", 16, &v));
	/* the length bounds the search */
	CHECK(!fsn_token(line, 20, "mask", 16, &v));
}

TEST(kdev)
{
	CHECK(fsn_kdev(0xfe00001) == makedev(254, 1));
	CHECK(fsn_kdev(0x800012) == makedev(8, 0x12));
}

static const char ffy_text[] =
	"pos:\t0\nflags:\t04002\nmnt_id:\t17\nino:\t1038\n"
	"fanotify flags:6 event-flags:8000\n"
	"fanotify ino:a7633c sdev:fe00000 mflags:40 mask:0 ignored_mask:2 fhandle-bytes:8 "
	"fhandle-type:1 f_handle:3c63a70018cc413a\n"
	"fanotify mnt_id:1a mflags:0 mask:8 ignored_mask:0\n";

TEST(fanotify_lines)
{
	struct ffy_info fi;

	CHECK_EQ(fanotify_parse_fdinfo(ffy_text, &fi), 0);
	CHECK_EQ(fi.faflags, 6);
	CHECK_EQ(fi.evflags, 0x8000);
	CHECK_EQ(fi.n, 2);
	if (fi.n != 2)
		return;
	CHECK_EQ(fi.marks[0].e.type, MARK_TYPE__INODE);
	CHECK(fi.marks[0].e.ie == &fi.marks[0].ie && !fi.marks[0].e.me);
	CHECK(fi.marks[0].ie.f_handle == &fi.marks[0].h.fh);
	CHECK_EQ(fi.marks[0].ie.i_ino, 0xa7633c);
	CHECK_EQ(fi.marks[0].e.s_dev, 0xfe00000);
	CHECK_EQ(fi.marks[0].e.mflags, 0x40);
	CHECK_EQ(fi.marks[0].e.mask, 0);
	CHECK_EQ(fi.marks[0].e.ignored_mask, 2);
	CHECK_EQ(fi.marks[0].h.fh.bytes, 8);
	CHECK_EQ(fi.marks[1].e.type, MARK_TYPE__MOUNT);
	CHECK(fi.marks[1].e.me == &fi.marks[1].me && !fi.marks[1].e.ie);
	CHECK_EQ(fi.marks[1].me.mnt_id, 0x1a);
	CHECK_EQ(fi.marks[1].e.mask, 8);
	free(fi.marks);
}

TEST(fanotify_refused_and_bad)
{
	struct ffy_info fi;

	/* a filesystem mark: no place in the image */
	CHECK_EQ(fanotify_parse_fdinfo("fanotify flags:0 event-flags:0\n"
				       "fanotify sdev:800 mflags:0 mask:1 ignored_mask:0\n",
				       &fi),
		 -EOPNOTSUPP);
	CHECK(strstr(fi.bad, "sdev:800") != NULL);
	CHECK(fi.marks == NULL);
	/* no header line */
	CHECK_EQ(fanotify_parse_fdinfo("fanotify mnt_id:1a mflags:0 mask:8 ignored_mask:0\n", &fi),
		 -EINVAL);
	/* two header lines */
	CHECK_EQ(fanotify_parse_fdinfo("fanotify flags:0 event-flags:0\n"
				       "fanotify flags:0 event-flags:0\n",
				       &fi),
		 -EINVAL);
	CHECK_EQ(fanotify_parse_fdinfo("fanotify flags:0 event-flags:0\n"
				       "fanotify mnt_id:1a mflags:0 mask:8\n",
				       &fi),
		 -EINVAL);
	CHECK_EQ(fanotify_parse_fdinfo("fanotify flags:0 event-flags:0\nfanotify ino:1 mflags:0 "
				       "mask:8 ignored_mask:0\n",
				       &fi),
		 -EINVAL); /* an inode mark without its device */
}

TEST(pidfd_lines)
{
	int pid = 0, nspid = 0;

	CHECK_EQ(pidfd_parse_fdinfo("pos:\t0\nflags:\t02000002\nPid:\t30581\nNSpid:\t30581\n", &pid,
				    &nspid),
		 0);
	CHECK_EQ(pid, 30581);
	CHECK_EQ(nspid, 30581);
	CHECK_EQ(pidfd_parse_fdinfo("Pid:\t-1\nNSpid:\t-1\n", &pid, &nspid), 0);
	CHECK_EQ(pid, -1);
	CHECK_EQ(nspid, -1);
	/* nested pid namespaces: the innermost number */
	CHECK_EQ(pidfd_parse_fdinfo("flags:\t0\nPid:\t300\nNSpid:\t300\t12\t1\n", &pid, &nspid), 0);
	CHECK_EQ(pid, 300);
	CHECK_EQ(nspid, 1);
	/* an older kernel: no NSpid */
	CHECK_EQ(pidfd_parse_fdinfo("flags:\t0\nPid:\t42\n", &pid, &nspid), 0);
	CHECK_EQ(nspid, 42);
	CHECK_EQ(pidfd_parse_fdinfo("flags:\t0\n", &pid, &nspid), -EINVAL);
	CHECK_EQ(pidfd_parse_fdinfo("Pid:\tx\n", &pid, &nspid), -EINVAL);
	CHECK_EQ(pidfd_parse_fdinfo("Pid:\t-7\n", &pid, &nspid), -EINVAL);
}

static char *read_fdinfo(int fd)
{
	char path[64];
	static char buf[8192];
	int f;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0)
		return NULL;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* The kernel's own lines: every watch read back, its handle opens the inode. */
TEST(inotify_real)
{
	char dir[] = "/tmp/criu-unit-ify.XXXXXX", file[64];
	struct stat st, got;
	struct ify_wd *w;
	const char *why = NULL;
	size_t n;
	int ifd, wd1, wd2, fd;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	snprintf(file, sizeof(file), "%s/f", dir);
	close(open(file, O_CREAT | O_WRONLY, 0600));
	ifd = inotify_init1(IN_CLOEXEC);
	wd1 = inotify_add_watch(ifd, dir, IN_CREATE | IN_DELETE);
	wd2 = inotify_add_watch(ifd, file, IN_MODIFY | IN_ONESHOT);
	CHECK(ifd >= 0 && wd1 > 0 && wd2 > wd1);
	CHECK_EQ(inotify_parse_fdinfo(read_fdinfo(ifd), &w, &n), 0);
	CHECK_EQ(n, 2);
	stat(file, &st);
	for (size_t i = 0; i < n; i++) {
		if ((int)w[i].e.wd != wd2)
			continue;
		CHECK_EQ(w[i].e.i_ino, st.st_ino);
		CHECK(w[i].e.mask & IN_MODIFY);
		CHECK(w[i].e.mask & IN_ONESHOT);
		if (!w[i].h.fh.bytes) {
			printf("  (no file handles on this filesystem: not opened again)\n");
			continue;
		}
		fd = fsn_open_mark(&w[i].h.fh, w[i].e.s_dev, &why);
		if (fd < 0 && (fd == -EPERM || fd == -ENOSYS)) {
			printf("  (open_by_handle_at: %s: not checked)\n", strerror(-fd));
			continue;
		}
		if (fd < 0)
			printf("  fsn_open_mark: %s (%s)\n", why, strerror(-fd));
		CHECK(fd >= 0);
		if (fd >= 0) {
			char *path;

			CHECK(!fstat(fd, &got) && got.st_ino == st.st_ino && got.st_dev == st.st_dev);
			close(fd);
			path = fsn_mark_path(&w[i].h.fh, w[i].e.s_dev, &why);
			CHECK_STR(path, file);
			free(path);
		}
	}
	free(w);
	close(ifd);
	unlink(file);
	rmdir(dir);
}

TEST(fanotify_real)
{
	struct ffy_info fi;
	int fa = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY);

	if (fa < 0) {
		printf("  (fanotify_init: %s: not checked)\n", strerror(errno));
		return;
	}
	CHECK(!fanotify_mark(fa, FAN_MARK_ADD, FAN_CLOSE_WRITE, AT_FDCWD, "/tmp"));
	CHECK(!fanotify_mark(fa, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN, AT_FDCWD, "/"));
	CHECK_EQ(fanotify_parse_fdinfo(read_fdinfo(fa), &fi), 0);
	CHECK_EQ(fi.faflags & (FAN_CLASS_NOTIF | FAN_NONBLOCK), FAN_NONBLOCK);
	CHECK_EQ(fi.n, 2);
	for (size_t i = 0; i < fi.n; i++) {
		if (fi.marks[i].e.type == MARK_TYPE__INODE)
			CHECK_EQ(fi.marks[i].e.mask, FAN_CLOSE_WRITE);
		else
			CHECK_EQ(fi.marks[i].e.mask, FAN_OPEN);
	}
	free(fi.marks);
	close(fa);
}

TEST(pidfd_real)
{
	int pid, nspid, pfd;
	pid_t kid = fork();

	if (kid == 0)
		_exit(0);
	pfd = (int)syscall(SYS_pidfd_open, kid, 0);
	if (pfd < 0) {
		printf("  (pidfd_open: %s: not checked)\n", strerror(errno));
		waitpid(kid, NULL, 0);
		return;
	}
	CHECK_EQ(pidfd_parse_fdinfo(read_fdinfo(pfd), &pid, &nspid), 0);
	CHECK_EQ(pid, kid);
	waitpid(kid, NULL, 0);
	CHECK_EQ(pidfd_parse_fdinfo(read_fdinfo(pfd), &pid, &nspid), 0);
	CHECK_EQ(pid, -1);
	CHECK_EQ(nspid, -1);
	close(pfd);
}

UNIT_MAIN();
