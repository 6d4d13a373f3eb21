/*
 * Pty modes: packet mode on the master, an exclusive slave, a pty locked
 * again after its slave was opened, one never unlocked.
 */
#include "ptyutil.h"

#include <poll.h>
#include <stdbool.h>

TEST("pty packet mode, exclusive mode and the lock (TIOCGPTLCK)");

static int get(int fd, unsigned long req, const char *what)
{
	int v = -1;

	if (ioctl(fd, req, &v))
		fail("%s: %s", what, strerror(errno));
	return v;
}

/* Data packets from master m (status byte 0 each) until need data bytes, into buf. */
static bool read_packets(int m, char *buf, size_t size, size_t need)
{
	size_t got = 0;

	buf[0] = '\0';
	for (int waited = 0; waited < 2000 && got < need;) {
		struct pollfd p = { m, POLLIN, 0 };
		char pkt[64];
		ssize_t n;

		if (poll(&p, 1, 50) <= 0) {
			waited += 50;
			continue;
		}
		n = read(m, pkt, sizeof(pkt));
		if (n <= 0 || pkt[0] != 0 || got + (size_t)n > size)
			return false;
		memcpy(buf + got, pkt + 1, (size_t)n - 1);
		got += (size_t)n - 1;
		buf[got] = '\0';
	}
	return got == need;
}

int main(int argc, char **argv)
{
	int a_slave, b_slave, on = 1, fd;
	char buf[64];

	test_init(argc, argv);
	/* a: packet mode, exclusive slave */
	int a = pty_pair(&a_slave, O_RDWR, 0);
	if (ioctl(a, TIOCPKT, &on) || ioctl(a_slave, TIOCEXCL))
		setup_fail("TIOCPKT/TIOCEXCL: %s", strerror(errno));
	/* b: locked again with its slave open */
	int b = pty_pair(&b_slave, O_RDWR, 0);
	if (ioctl(b, TIOCSPTLCK, &on))
		setup_fail("TIOCSPTLCK: %s", strerror(errno));
	/* c: never unlocked */
	int c = posix_openpt(O_RDWR | O_NOCTTY);
	if (c < 0)
		setup_fail("posix_openpt: %s", strerror(errno));

	test_ready();
	test_wait();

	if (get(a, TIOCGPKT, "TIOCGPKT") != 1)
		fail("pty a is not in packet mode");
	if (get(a_slave, TIOCGEXCL, "TIOCGEXCL slave") != 1)
		fail("pty a's slave is not exclusive");
	if (get(a, TIOCGEXCL, "TIOCGEXCL master") != 0)
		fail("pty a's master is exclusive");
	if (get(a, TIOCGPTLCK, "TIOCGPTLCK a") != 0)
		fail("pty a is locked");
	/*
	 * packet mode: each read of the master starts with a status byte (0:
	 * data).  The line may come in more than one read (the tty layer
	 * hands it over in pieces on a slow machine): each piece is a packet.
	 */
	if (write(a_slave, "pk\n", 3) != 3 || !read_packets(a, buf, sizeof(buf), 4) ||
	    strcmp(buf, "pk\r\n"))
		fail("pty a: the master did not read a data packet ('%s')", buf);
	if (geteuid()) {
		/* exclusive: nobody but CAP_SYS_ADMIN opens the slave again */
		fd = open(ptsname(a), O_RDWR | O_NOCTTY);
		if (fd >= 0 || errno != EBUSY)
			fail("pty a's exclusive slave opened again (%s)", fd >= 0 ? "ok" : strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	check_slave_path(a, a_slave, "pty a");

	if (get(b, TIOCGPTLCK, "TIOCGPTLCK b") != 1)
		fail("pty b is not locked");
	expect_through(b_slave, "lk\n", b, "lk\r\n", 4, "pty b slave->master");
	fd = open(ptsname(b), O_RDWR | O_NOCTTY);
	if (fd >= 0 || errno != EIO)
		fail("pty b's slave opened while locked (%s)", fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);

	if (get(c, TIOCGPTLCK, "TIOCGPTLCK c") != 1)
		fail("pty c is not locked");
	fd = open(ptsname(c), O_RDWR | O_NOCTTY);
	if (fd >= 0 || errno != EIO)
		fail("pty c's slave opened while locked (%s)", fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);
	test_done();
}
