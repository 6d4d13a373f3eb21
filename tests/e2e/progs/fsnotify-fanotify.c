/* fanotify: init flags, event flags, inode and mount marks, reporting after restore. */
#include "lib.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

TEST("fanotify: init and event flags, marks on a file, on a directory with an ignored mask "
     "(FAN_MARK_IGNORED_SURV_MODIFY) and on a mount, reporting a write made after restore",
     .flags = TEST_NEEDS_ROOT);

/* the "fanotify " lines of fd's fdinfo */
static void mark_lines(int fd, char *buf, size_t size)
{
	char path[64], text[8192], *line, *save = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	buf[0] = '\0';
	if (read_text(path, text, sizeof(text)) < 0)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "fanotify ", 9))
			len += (size_t)snprintf(buf + len, size - len, "%s\n", line);
}

/* whether an event with mask on the file want comes within 5 s (others are skipped) */
static int saw_event(int fa, uint64_t mask, const char *want)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) + 5000000000ull;
	char buf[8192];

	while (now_ns(CLOCK_MONOTONIC) < end) {
		struct pollfd p = { .fd = fa, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) != 1)
			continue;
		n = read(fa, buf, sizeof(buf));
		for (struct fanotify_event_metadata *m = (void *)buf; FAN_EVENT_OK(m, n);
		     m = FAN_EVENT_NEXT(m, n)) {
			char link[64], path[4096] = "";
			ssize_t l;

			if (m->fd < 0)
				continue;
			snprintf(link, sizeof(link), "/proc/self/fd/%d", m->fd);
			l = readlink(link, path, sizeof(path) - 1);
			path[l > 0 ? l : 0] = '\0';
			close(m->fd);
			if ((m->mask & mask) && !strcmp(path, want))
				return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char before[8192], after[8192];
	char file[4096], junk[8192];
	int fa, fl, fd;

	test_init(argc, argv);
	if (mkdir("watched", 0755) || write_file("watched/file", "x", 1) < 0 ||
	    write_file("watched/quiet", "q", 1) < 0 || !realpath("watched/file", file))
		setup_fail("files: %s", strerror(errno));
	fa = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE);
	if (fa < 0)
		setup_fail("fanotify_init: %s", strerror(errno));
	if (fanotify_mark(fa, FAN_MARK_ADD, FAN_MODIFY | FAN_CLOSE_WRITE, AT_FDCWD, "watched/file") ||
	    fanotify_mark(fa, FAN_MARK_ADD, FAN_OPEN | FAN_EVENT_ON_CHILD, AT_FDCWD, "watched") ||
	    fanotify_mark(fa, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY,
			  FAN_OPEN, AT_FDCWD, "watched/quiet") ||
	    fanotify_mark(fa, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_EXEC, AT_FDCWD, "."))
		setup_fail("fanotify_mark: %s", strerror(errno));
	mark_lines(fa, before, sizeof(before));
	fl = fcntl(fa, F_GETFL);
	test_ready();
	test_wait();

	mark_lines(fa, after, sizeof(after));
	if (strcmp(before, after)) {
		/* the first line that differs (the whole would not fit a verdict) */
		size_t i = 0, b, a;

		while (before[i] && before[i] == after[i])
			i++;
		while (i && before[i - 1] != '\n')
			i--;
		b = strcspn(before + i, "\n");
		a = strcspn(after + i, "\n");
		fail("mark '%.*s' is now '%.*s'", (int)b, before + i, (int)a, after + i);
	}
	if (fcntl(fa, F_GETFL) != fl)
		fail("flags %#o, want %#o", fcntl(fa, F_GETFL), fl);
	while (read(fa, junk, sizeof(junk)) > 0) /* what the mount mark saw meanwhile */
		;
	fd = open("watched/file", O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, "more", 4) != 4)
		fail("append to watched/file: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	if (!saw_event(fa, FAN_MODIFY, file))
		fail("no FAN_MODIFY event for %s within 5 s", file);
	test_done();
}
