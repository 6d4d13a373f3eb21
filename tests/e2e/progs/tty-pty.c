/*
 * A pty pair held by the process and by a child: termios, window size, two
 * slave descriptions with their own flags, data both ways, and the slave's
 * path (ttyname, ptsname) naming the restored pair, which may have another
 * index.
 */
#include "ptyutil.h"

TEST("a pty pair: termios, window size, slave flags and path, data both ways");

static int master, slave, slave_ro;
static struct termios want_t;
static const struct winsize want_ws = { 37, 101, 640, 480 };

/* the child writes through its inherited slave and reads what the master sent */
static int child(void *arg)
{
	char buf[64];

	child_wait();
	check_slave_path(master, slave, "child");
	expect_through(slave, "from-child\n", master, "from-child\r\n", 12, "child slave->master");
	if (write(master, "to-child\n", 9) != 9 || read_for(slave, buf, sizeof(buf), 9) != 9 ||
	    strcmp(buf, "to-child\n"))
		fail("child: master->slave: read %s", buf);
	return 0;
}

int main(int argc, char **argv)
{
	struct termios t;
	struct winsize ws;
	char buf[64];
	int flags, lock = -1;

	test_init(argc, argv);
	master = pty_pair(&slave, O_RDWR, 0);
	slave_ro = open(ptsname(master), O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (slave_ro < 0)
		setup_fail("open the slave again: %s", strerror(errno));
	if (tcgetattr(slave, &t))
		setup_fail("tcgetattr: %s", strerror(errno));
	t.c_lflag &= ~(ECHO | ECHOE);
	t.c_iflag |= IUTF8;
	t.c_iflag &= ~IXON;
	t.c_cc[VINTR] = 7;
	t.c_cc[VERASE] = 8;
	t.c_cc[VKILL] = 21;
	if (tcsetattr(slave, TCSANOW, &t) || tcgetattr(slave, &want_t))
		setup_fail("tcsetattr: %s", strerror(errno));
	if (ioctl(master, TIOCSWINSZ, &want_ws))
		setup_fail("TIOCSWINSZ: %s", strerror(errno));
	pid_t kid = test_fork(child, NULL);

	test_ready();
	test_wait();

	check_slave_path(master, slave, "parent");
	check_termios(slave, &want_t, "slave");
	check_termios(master, &want_t, "through the master");
	if (ioctl(slave, TIOCGWINSZ, &ws) || ws.ws_row != want_ws.ws_row ||
	    ws.ws_col != want_ws.ws_col || ws.ws_xpixel != want_ws.ws_xpixel ||
	    ws.ws_ypixel != want_ws.ws_ypixel)
		fail("window size %ux%u (%ux%u), want 37x101 (640x480)", ws.ws_row, ws.ws_col,
		     ws.ws_xpixel, ws.ws_ypixel);
	if (ioctl(master, TIOCGPTLCK, &lock) || lock)
		fail("the pty is locked (%d)", lock);
	flags = fcntl(slave_ro, F_GETFL);
	if ((flags & (O_ACCMODE | O_NONBLOCK)) != (O_RDONLY | O_NONBLOCK))
		fail("the second slave description has flags %o", flags);
	if ((fcntl(slave, F_GETFL) & O_ACCMODE) != O_RDWR)
		fail("the slave is not O_RDWR");
	/* canonical input, no echo: a line in, a line out (ONLCR on the way back) */
	expect_through(master, "ping\n", slave, "ping\n", 5, "master->slave");
	expect_through(slave, "pong\n", master, "pong\r\n", 6, "slave->master");
	/* the two slave descriptions are of one terminal */
	if (write(master, "again\n", 6) != 6 || read_for(slave_ro, buf, sizeof(buf), 6) != 6 ||
	    strcmp(buf, "again\n"))
		fail("master->second slave description: read %s", buf);
	/* the path the task sees opens the same terminal */
	{
		int again = open(ttyname(slave), O_RDWR | O_NOCTTY);

		if (again < 0)
			fail("open %s: %s", ttyname(slave), strerror(errno));
		else {
			expect_through(again, "path\n", master, "path\r\n", 6, "reopened slave->master");
			close(again);
		}
	}
	check_child(kid, "child holding the pair");
	test_done();
}
