/*
 * Pipes keep their buffer size (F_SETPIPE_SZ 1 MiB, and one page, less
 * than the default of 16 pages) and each end its status flags: O_NONBLOCK
 * on one end only, O_DIRECT (packet mode) on another.
 */
#include "lib.h"

#include <fcntl.h>

TEST("1 MiB and one-page pipes, and the O_NONBLOCK / O_DIRECT status flags of each end");

#define BIG (1 << 20)
#define DATA 200000 /* more than the default 64 KiB fits */
#define FLAGS (O_ACCMODE | O_NONBLOCK | O_DIRECT | O_APPEND)

static int big[2], pkt[2], nb[2];
static int want_flags[6];
static int page;

static void record(void)
{
	int *fds[] = { big, pkt, nb };
	for (int i = 0; i < 6; i++)
		want_flags[i] = fcntl(fds[i / 2][i % 2], F_GETFL) & FLAGS;
}

int main(int argc, char **argv)
{
	static unsigned char buf[DATA];

	test_init(argc, argv);
	if (pipe(big) || pipe(pkt) || pipe(nb))
		setup_fail("pipe: %s", strerror(errno));
	if (fcntl(big[1], F_SETPIPE_SZ, BIG) < BIG)
		setup_fail("F_SETPIPE_SZ 1 MiB: %s", strerror(errno));
	page = (int)sysconf(_SC_PAGESIZE);
	if (fcntl(nb[1], F_SETPIPE_SZ, page) != page)
		setup_fail("F_SETPIPE_SZ %d: %s", page, strerror(errno));
	if (fcntl(big[0], F_SETFL, O_NONBLOCK) || fcntl(pkt[1], F_SETFL, O_DIRECT) ||
	    fcntl(nb[1], F_SETFL, O_NONBLOCK))
		setup_fail("F_SETFL: %s", strerror(errno));
	fill_pattern(buf, DATA, 0x919e);
	if (write(big[1], buf, DATA) != DATA)
		setup_fail("write 1 MiB pipe: %s", strerror(errno));
	record();
	test_ready();
	test_wait();

	int *fds[] = { big, pkt, nb };
	for (int i = 0; i < 6; i++) {
		int now = fcntl(fds[i / 2][i % 2], F_GETFL) & FLAGS;
		if (now != want_flags[i])
			fail("pipe %d end %d: status flags %#o, want %#o", i / 2, i % 2, now, want_flags[i]);
	}
	int sz = fcntl(big[0], F_GETPIPE_SZ);
	if (sz != BIG)
		fail("big pipe: F_GETPIPE_SZ %d, want %d", sz, BIG);
	if (fcntl(nb[0], F_GETPIPE_SZ) != page)
		fail("one-page pipe: F_GETPIPE_SZ %d, want %d", fcntl(nb[0], F_GETPIPE_SZ), page);

	/* the read end is non-blocking: all the data, then EAGAIN, not a hang */
	static unsigned char got[DATA];
	long n = 0;
	for (;;) {
		ssize_t r = read(big[0], got + n, DATA - n);
		if (r <= 0)
			break;
		n += r;
		if (n == DATA)
			break;
	}
	if (n != DATA)
		fail("big pipe: read %ld bytes, want %d", n, DATA);
	else if (check_pattern(got, DATA, 0x919e) >= 0)
		fail("big pipe: data differs at %ld", check_pattern(got, DATA, 0x919e));
	if (read(big[0], got, 1) != -1 || errno != EAGAIN)
		fail("big pipe: reading it empty does not give EAGAIN");

	/* packet mode: two writes come back as two reads */
	if (write(pkt[1], "abc", 3) != 3 || write(pkt[1], "defgh", 5) != 5)
		fail("packet pipe: write: %s", strerror(errno));
	char p1[16], p2[16];
	ssize_t a = read(pkt[0], p1, sizeof(p1)), b = read(pkt[0], p2, sizeof(p2));
	if (a != 3 || b != 5)
		fail("packet pipe: reads of %zd and %zd bytes, want 3 and 5", a, b);

	/* the write end of nb is non-blocking: filling it ends in EAGAIN */
	static char fill[1 << 16];
	if (write(nb[1], fill, page) != page)
		fail("nb pipe: first write short");
	if (write(nb[1], fill, 1) != -1 || errno != EAGAIN)
		fail("nb pipe: writing it full does not give EAGAIN");
	test_done();
}
