/*
 * A session on a pty: a child session leader whose controlling terminal is
 * the pty's slave, a grandchild in its own group that is the foreground
 * group, both with /dev/tty open; the parent holds the master.  After
 * restore the session, the foreground group, /dev/tty and ^C (SIGINT to the
 * foreground group only) work as before.
 */
#include "ptyutil.h"

TEST("a controlling terminal: session, foreground group, /dev/tty, ^C");

static int master;
static volatile sig_atomic_t sigints;

static void on_int(int sig)
{
	sigints++;
}

static void check_ctty(int tty, int slave, pid_t sid, pid_t fg, const char *who)
{
	char stat[512], *p;
	unsigned long tty_nr = 0;
	struct stat st;

	if (tcgetsid(tty) != sid)
		fail("%s: the terminal's session is %d, want %d", who, (int)tcgetsid(tty), (int)sid);
	if (tcgetpgrp(tty) != fg)
		fail("%s: the foreground group is %d, want %d", who, (int)tcgetpgrp(tty), (int)fg);
	if (read_text("/proc/self/stat", stat, sizeof(stat)) < 0 || !(p = strrchr(stat, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %lu", &tty_nr) != 1)
		fail("%s: can't read my tty_nr", who);
	if (fstat(slave, &st) || st.st_rdev != tty_nr)
		fail("%s: my controlling terminal is %lu, the pty slave %lu", who, tty_nr,
		     (unsigned long)st.st_rdev);
}

struct job_args {
	int slave;
	pid_t sid;
};

static int job(void *arg)
{
	struct job_args *a = arg;
	int devtty, again;

	signal(SIGINT, on_int);
	if (setpgid(0, 0))
		setup_fail("setpgid: %s", strerror(errno));
	devtty = open("/dev/tty", O_RDWR);
	if (devtty < 0)
		setup_fail("open /dev/tty: %s", strerror(errno));
	child_wait();
	check_ctty(a->slave, a->slave, a->sid, getpid(), "job");
	check_ctty(devtty, a->slave, a->sid, getpid(), "job's /dev/tty");
	if (!sigints)
		fail("job: ^C on the terminal did not reach the foreground group");
	again = open("/dev/tty", O_RDWR);
	if (again < 0)
		fail("job: open /dev/tty: %s", strerror(errno));
	else
		close(again);
	if (write(devtty, "from-job\n", 9) != 9)
		fail("job: write /dev/tty: %s", strerror(errno));
	return 0;
}

static int leader(void *arg)
{
	struct job_args a;
	int devtty;

	signal(SIGINT, on_int);
	if (setsid() < 0)
		setup_fail("setsid: %s", strerror(errno));
	/* a session leader's first terminal becomes its controlling one */
	a.slave = open(ptsname(master), O_RDWR);
	if (a.slave < 0)
		setup_fail("open slave: %s", strerror(errno));
	a.sid = getpid();
	devtty = open("/dev/tty", O_RDWR);
	if (devtty < 0)
		setup_fail("open /dev/tty: %s", strerror(errno));
	pid_t kid = test_fork(job, &a);
	if (tcsetpgrp(a.slave, kid))
		setup_fail("tcsetpgrp: %s", strerror(errno));
	child_wait();
	check_ctty(a.slave, a.slave, getpid(), kid, "leader");
	check_ctty(devtty, a.slave, getpid(), kid, "leader's /dev/tty");
	if (sigints)
		fail("leader: ^C reached the session leader, which is in the background");
	check_child(kid, "job");
	if (write(devtty, "from-leader\n", 12) != 12)
		fail("leader: write /dev/tty: %s", strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	char buf[256];
	ssize_t n;

	test_init(argc, argv);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		setup_fail("posix_openpt: %s", strerror(errno));
	pid_t kid = test_fork(leader, NULL);

	test_ready();
	test_wait();

	/* ^C: SIGINT to the terminal's foreground group (and its echo "^C") */
	if (write(master, "\003", 1) != 1)
		fail("write ^C: %s", strerror(errno));
	sleep_ms(200);
	check_child(kid, "session leader");
	n = read_for(master, buf, sizeof(buf), 1000);
	if (!memmem(buf, (size_t)(n > 0 ? n : 0), "from-job\r\n", 10) ||
	    !memmem(buf, (size_t)(n > 0 ? n : 0), "from-leader\r\n", 13))
		fail("the master read %zd bytes without both children's lines: %s", n, buf);
	test_done();
}
