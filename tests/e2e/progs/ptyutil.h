/* Helpers of the terminal programs (tty-*.c): opening a pair, reading with a deadline. */
#ifndef E2E_PTYUTIL_H
#define E2E_PTYUTIL_H

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "lib.h"

/* A new pair; the slave opened with slave_flags (plus O_NOCTTY unless ctty). */
static inline int pty_pair(int *slave, int slave_flags, int ctty)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);

	if (m < 0 || grantpt(m) || unlockpt(m))
		setup_fail("posix_openpt: %s", strerror(errno));
	*slave = open(ptsname(m), slave_flags | (ctty ? 0 : O_NOCTTY));
	if (*slave < 0)
		setup_fail("open %s: %s", ptsname(m), strerror(errno));
	return m;
}

/* Reads from fd until need bytes have arrived or 2 s passed; the count, buf NUL-ended. */
static inline ssize_t read_for(int fd, char *buf, size_t size, size_t need)
{
	size_t got = 0;

	buf[0] = '\0';
	for (int waited = 0; waited < 2000 && got < need && got + 1 < size;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 50) <= 0) {
			waited += 50;
			continue;
		}
		n = read(fd, buf + got, size - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
	}
	return (ssize_t)got;
}

/* Writes s to fd, then expects exactly want (wlen bytes) to come out of from. */
static inline void expect_through(int fd, const char *s, int from, const char *want, size_t wlen,
				  const char *what)
{
	char buf[256];
	ssize_t n;

	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s)) {
		fail("%s: write: %s", what, strerror(errno));
		return;
	}
	n = read_for(from, buf, sizeof(buf), wlen);
	if (n != (ssize_t)wlen || memcmp(buf, want, wlen))
		fail("%s: read %zd bytes (%.*s), want %zu", what, n, (int)(n > 0 ? n : 0), buf, wlen);
}

/* Fails unless the slave fd's path (what ttyname sees) names the master's slave. */
static inline void check_slave_path(int master, int slave, const char *what)
{
	char path[64], *name = ptsname(master), *tn;
	struct stat a, b;
	int index = -1;

	snprintf(path, sizeof(path), "%s", name ? name : "?");
	tn = ttyname(slave);
	if (!tn || strcmp(tn, path))
		fail("%s: ttyname of the slave is %s, ptsname of the master %s", what,
		     tn ? tn : strerror(errno), path);
	if (fstat(slave, &a) || stat(path, &b) || a.st_rdev != b.st_rdev)
		fail("%s: %s is not the slave's device", what, path);
	if (ioctl(master, TIOCGPTN, &index) || (unsigned)index != (major(a.st_rdev) - 136u) * 256u +
							    minor(a.st_rdev))
		fail("%s: master index %d, slave device %u:%u", what, index, major(a.st_rdev),
		     minor(a.st_rdev));
}

static inline void check_termios(int fd, const struct termios *want, const char *what)
{
	struct termios t;

	if (tcgetattr(fd, &t)) {
		fail("%s: tcgetattr: %s", what, strerror(errno));
		return;
	}
	if (t.c_iflag != want->c_iflag || t.c_oflag != want->c_oflag ||
	    t.c_cflag != want->c_cflag || t.c_lflag != want->c_lflag)
		fail("%s: termios flags %o %o %o %o, want %o %o %o %o", what, t.c_iflag, t.c_oflag,
		     t.c_cflag, t.c_lflag, want->c_iflag, want->c_oflag, want->c_cflag,
		     want->c_lflag);
	for (int i = 0; i < NCCS; i++)
		if (t.c_cc[i] != want->c_cc[i])
			fail("%s: c_cc[%d] is %u, want %u", what, i, t.c_cc[i], want->c_cc[i]);
}

#endif
