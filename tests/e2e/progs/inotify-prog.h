/*
 * The inotify program, dumped as fsnotify-inotify.c or
 * fsnotify-inotify-irmap.c says: each defines DUMP_OPT (criu's extra
 * option, or NULL) and HOW (how the watches are found again), then
 * includes this.
 */
#include "lib.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>


TEST("inotify: watches on a directory and a file (wd numbers with a gap, masks, IN_ONESHOT, "
     "IN_NONBLOCK), " HOW ", that report changes made after restore",
     .criu_opts = DUMP_OPT);

/* the "inotify wd:" lines of fd's fdinfo */
static void watch_lines(int fd, char *buf, size_t size)
{
	char path[64], text[8192], *line, *save = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	buf[0] = '\0';
	if (read_text(path, text, sizeof(text)) < 0)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "inotify ", 8))
			len += (size_t)snprintf(buf + len, size - len, "%s\n", line);
}

/* the next event of ifd within 5 s (a read may bring several); NULL when none */
static const struct inotify_event *next_event(int ifd)
{
	static struct {
		int fd;
		ssize_t len, off;
		char buf[4096] __attribute__((aligned(8)));
	} q[2];
	const struct inotify_event *ev;
	int i = q[0].fd == ifd || !q[0].fd ? 0 : 1;

	q[i].fd = ifd;
	if (q[i].off >= q[i].len) {
		struct pollfd p = { .fd = ifd, .events = POLLIN };

		if (poll(&p, 1, 5000) != 1)
			return NULL;
		q[i].len = read(ifd, q[i].buf, sizeof(q[i].buf));
		q[i].off = 0;
		if (q[i].len < (ssize_t)sizeof(*ev))
			return NULL;
	}
	ev = (const struct inotify_event *)(q[i].buf + q[i].off);
	q[i].off += (ssize_t)(sizeof(*ev) + ev->len);
	return ev;
}

static void expect(int ifd, int wd, uint32_t mask, const char *name, const char *what)
{
	const struct inotify_event *ev = next_event(ifd);

	if (!ev) {
		fail("%s: no event within 5 s", what);
		return;
	}
	if (ev->wd != wd || !(ev->mask & mask) || (name && (!ev->len || strcmp(ev->name, name))))
		fail("%s: event wd %d mask %#x name '%s', want wd %d mask %#x name '%s'", what, ev->wd,
		     ev->mask, ev->len ? ev->name : "", wd, mask, name ? name : "");
}

int main(int argc, char **argv)
{
	static char before[2][4096], after[2][4096];
	int ifd, ifd2, wd_dir, wd_file, wd_gap, wd_once, fl[2], fd;
	char junk[4096];

	test_init(argc, argv);
	if (mkdir("watched", 0755) || write_file("watched/file", "x", 1) < 0 ||
	    write_file("other", "y", 1) < 0)
		setup_fail("files: %s", strerror(errno));
	ifd = inotify_init1(IN_NONBLOCK);
	ifd2 = inotify_init1(0);
	if (ifd < 0 || ifd2 < 0)
		setup_fail("inotify_init1: %s", strerror(errno));
	wd_dir = inotify_add_watch(ifd, "watched", IN_CREATE | IN_DELETE | IN_MOVED_TO);
	/* a number given out and taken back: the next watch is one above it */
	wd_gap = inotify_add_watch(ifd, "other", IN_ATTRIB);
	if (wd_gap < 0 || inotify_rm_watch(ifd, wd_gap))
		setup_fail("the gap watch: %s", strerror(errno));
	wd_file = inotify_add_watch(ifd, "watched/file", IN_MODIFY | IN_CLOSE_WRITE);
	wd_once = inotify_add_watch(ifd2, "watched", IN_ATTRIB | IN_ONESHOT);
	if (wd_dir < 0 || wd_file < 0 || wd_once < 0)
		setup_fail("inotify_add_watch: %s", strerror(errno));
	while (read(ifd, junk, sizeof(junk)) > 0) /* the gap's IN_IGNORED */
		;
	watch_lines(ifd, before[0], sizeof(before[0]));
	watch_lines(ifd2, before[1], sizeof(before[1]));
	fl[0] = fcntl(ifd, F_GETFL);
	fl[1] = fcntl(ifd2, F_GETFL);
	test_ready();
	test_wait();

	watch_lines(ifd, after[0], sizeof(after[0]));
	watch_lines(ifd2, after[1], sizeof(after[1]));
	for (int i = 0; i < 2; i++) {
		if (strcmp(before[i], after[i])) {
			/* the first line that differs (the whole would not fit a verdict) */
			size_t k = 0, b, a;

			while (before[i][k] && before[i][k] == after[i][k])
				k++;
			while (k && before[i][k - 1] != '\n')
				k--;
			b = strcspn(before[i] + k, "\n");
			a = strcspn(after[i] + k, "\n");
			fail("inotify %d: watch '%.*s' is now '%.*s'", i, (int)b, before[i] + k, (int)a,
			     after[i] + k);
		}
		if (fcntl(i ? ifd2 : ifd, F_GETFL) != fl[i])
			fail("inotify %d: flags %#o, want %#o", i, fcntl(i ? ifd2 : ifd, F_GETFL), fl[i]);
	}
	if (read(ifd, junk, sizeof(junk)) >= 0 || errno != EAGAIN)
		fail("the restored inotify has events queued already (or blocks): %s",
		     strerror(errno));

	/* a new name: after dump -R the original has made one already */
	char name[64], path[96];
	snprintf(name, sizeof(name), "new.%llx", (unsigned long long)now_ns(CLOCK_MONOTONIC));
	snprintf(path, sizeof(path), "watched/%s", name);
	if (write_file(path, "z", 1) < 0)
		fail("create %s: %s", path, strerror(errno));
	expect(ifd, wd_dir, IN_CREATE, name, "create in the watched directory");
	fd = open("watched/file", O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, "more", 4) != 4)
		fail("append to watched/file: %s", strerror(errno));
	expect(ifd, wd_file, IN_MODIFY, NULL, "write to the watched file");
	close(fd);
	expect(ifd, wd_file, IN_CLOSE_WRITE, NULL, "close of the watched file");
	if (chmod("watched", 0700))
		fail("chmod watched: %s", strerror(errno));
	expect(ifd2, wd_once, IN_ATTRIB, NULL, "chmod of the directory (IN_ONESHOT watch)");
	expect(ifd2, wd_once, IN_IGNORED, NULL, "the IN_ONESHOT watch's end");
	/* the kernel goes on numbering where it was */
	int wd_next = inotify_add_watch(ifd, "other", IN_ATTRIB);
	if (wd_next != wd_file + 1)
		fail("a new watch got number %d, want %d", wd_next, wd_file + 1);
	test_done();
}
