/* Pipes inside one process: data in flight, a full pipe, O_NONBLOCK ends. */
#include "lib.h"

#include <fcntl.h>

TEST("pipes held by one process: unread data, a full pipe, non-blocking ends");

#define SOME 5000

static int read_all(int fd, unsigned char *buf, int max)
{
	int got = 0;
	ssize_t r;

	while (got < max && (r = read(fd, buf + got, max - got)) > 0)
		got += r;
	return got;
}

int main(int argc, char **argv)
{
	static unsigned char data[1 << 20], buf[1 << 20];
	int some[2], full[2];

	test_init(argc, argv);
	if (pipe2(some, O_NONBLOCK) < 0 || pipe(full) < 0)
		setup_fail("pipe: %s", strerror(errno));
	fcntl(full[1], F_SETFL, O_NONBLOCK);
	fill_pattern(data, sizeof(data), 0x5e1f);
	if (write(some[1], data, SOME) != SOME)
		setup_fail("write: %s", strerror(errno));
	int in_full = 0;
	ssize_t r;
	while ((r = write(full[1], data + in_full, 4096)) > 0)
		in_full += r;
	int fl[4], fds[4] = { some[0], some[1], full[0], full[1] };
	for (int i = 0; i < 4; i++)
		fl[i] = fcntl(fds[i], F_GETFL);
	test_ready();
	test_wait();

	for (int i = 0; i < 4; i++)
		if (fcntl(fds[i], F_GETFL) != fl[i])
			fail("fd %d: flags %#o, want %#o", fds[i], fcntl(fds[i], F_GETFL), fl[i]);
	if (write(full[1], "x", 1) != -1 || errno != EAGAIN)
		fail("the full pipe is not full any more");
	int got = read_all(some[0], buf, sizeof(buf));
	if (got != SOME || memcmp(buf, data, SOME))
		fail("the first pipe gave %d bytes, want %d%s", got, SOME, got == SOME ? " (differ)" : "");
	fcntl(full[0], F_SETFL, O_NONBLOCK);
	got = read_all(full[0], buf, sizeof(buf));
	if (got != in_full || memcmp(buf, data, in_full))
		fail("the full pipe gave %d bytes, want %d%s", got, in_full, got == in_full ? " (differ)" : "");
	if (write(some[1], "ping", 4) != 4 || read(some[0], buf, 8) != 4 || memcmp(buf, "ping", 4))
		fail("the first pipe's ends are not connected");
	test_done();
}
