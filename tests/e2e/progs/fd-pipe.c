/* Pipes between parent and child with data in flight both ways, still connected. */
#include "lib.h"

#include <fcntl.h>

TEST("pipes between parent and child with unread data both ways and a custom size");

#define DOWN 3000 /* parent -> child, unread */
#define UP 100    /* child -> parent, unread */
#define MORE 10   /* written after restore, each way */
#define PIPE_SIZE (128 << 10)

static int down[2], up[2];

/* reads exactly n bytes, then expects no more */
static int read_exactly(int fd, unsigned char *buf, int n)
{
	int got = 0;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			return got;
		got += r;
	}
	return read(fd, buf, 1) > 0 ? got + 1 : got;
}

static int child(void *arg)
{
	static unsigned char buf[DOWN + MORE + 1], want[DOWN];

	close(down[1]);
	close(up[0]);
	fill_pattern(want, UP, 0x0b);
	if (write(up[1], want, UP) != UP)
		setup_fail("child: write: %s", strerror(errno));
	child_wait();
	fill_pattern(want, DOWN, 0xd0);
	if (fcntl(down[0], F_GETPIPE_SZ) != PIPE_SIZE)
		fail("child: pipe size is %d, want %d", fcntl(down[0], F_GETPIPE_SZ), PIPE_SIZE);
	int got = read_exactly(down[0], buf, DOWN + MORE);
	if (got != DOWN + MORE)
		fail("child: read %d bytes, want %d", got, DOWN + MORE);
	else if (memcmp(buf, want, DOWN) || memcmp(buf + DOWN, "0123456789", MORE))
		fail("child: the bytes differ");
	if (write(up[1], "abcdefghij", MORE) != MORE)
		fail("child: write: %s", strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	static unsigned char buf[UP + MORE + 1], data[DOWN];

	test_init(argc, argv);
	if (pipe(down) < 0 || pipe(up) < 0 || fcntl(down[1], F_SETPIPE_SZ, PIPE_SIZE) < 0)
		setup_fail("pipe: %s", strerror(errno));
	pid_t kid = test_fork(child, NULL);
	close(down[0]);
	close(up[1]);
	fill_pattern(data, DOWN, 0xd0);
	if (write(down[1], data, DOWN) != DOWN)
		setup_fail("write: %s", strerror(errno));
	test_ready();
	test_wait();

	if (write(down[1], "0123456789", MORE) != MORE)
		fail("parent: write: %s", strerror(errno));
	check_child(kid, "child");
	int got = read_exactly(up[0], buf, UP + MORE);
	fill_pattern(data, UP, 0x0b);
	if (got != UP + MORE)
		fail("parent: read %d bytes, want %d", got, UP + MORE);
	else if (memcmp(buf, data, UP) || memcmp(buf + UP, "abcdefghij", MORE))
		fail("parent: the bytes differ");
	test_done();
}
