/* A program whose binary was removed while it runs (an upgrade, a build
 * directory cleaned): /proc/self/exe is "... (deleted)", kept as a ghost
 * (the static binaries of the other architectures are near the default
 * --ghost-limit, so this one raises it). */
#include "lib.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

TEST("a program whose binary was unlinked while it runs", .criu_opts = "--ghost-limit 16M");

static int copy(const char *from, const char *to)
{
	char buf[1 << 16];
	int in = open(from, O_RDONLY), out = open(to, O_CREAT | O_TRUNC | O_WRONLY, 0755);
	ssize_t n = 0;

	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			n = -1;
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out))
		n = -1;
	return in < 0 || out < 0 || n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	char want[PATH_MAX], now[PATH_MAX], bin[PATH_MAX], head[4];
	struct stat st_want, st_now;
	ssize_t n;
	int fd;

	test_init(argc, argv);
	if (!getenv("E2E_EXE_COPY")) {
		/* run a copy of this binary, which removes itself */
		if (!getcwd(bin, sizeof(bin) - 32))
			setup_fail("getcwd: %s", strerror(errno));
		strcat(bin, "/exe-deleted.bin");
		if (copy("/proc/self/exe", bin))
			setup_fail("copying the binary to %s: %s", bin, strerror(errno));
		setenv("E2E_EXE_COPY", bin, 1);
		execv(bin, argv);
		setup_fail("exec %s: %s", bin, strerror(errno));
	}
	snprintf(bin, sizeof(bin), "%s", getenv("E2E_EXE_COPY"));
	if (unlink(bin))
		setup_fail("unlink %s: %s", bin, strerror(errno));
	n = readlink("/proc/self/exe", want, sizeof(want) - 1);
	if (n < 0 || stat("/proc/self/exe", &st_want) < 0)
		setup_fail("/proc/self/exe: %s", strerror(errno));
	want[n] = 0;
	test_ready();
	test_wait();
	n = readlink("/proc/self/exe", now, sizeof(now) - 1);
	now[n < 0 ? 0 : n] = 0;
	if (strcmp(now, want))
		fail("exe is '%s', want '%s'", now, want);
	if (stat("/proc/self/exe", &st_now) < 0)
		fail("stat /proc/self/exe: %s", strerror(errno));
	else if (st_now.st_size != st_want.st_size || st_now.st_nlink != 0 ||
		 st_now.st_mode != st_want.st_mode)
		fail("exe: %lld bytes, mode 0%o, %lu links; want %lld bytes, mode 0%o, none",
		     (long long)st_now.st_size, st_now.st_mode, (unsigned long)st_now.st_nlink,
		     (long long)st_want.st_size, st_want.st_mode);
	fd = open("/proc/self/exe", O_RDONLY);
	if (fd < 0 || read(fd, head, 4) != 4 || memcmp(head, "\177ELF", 4))
		fail("the exe does not read as an ELF file");
	if (fd >= 0)
		close(fd);
	if (!access(bin, F_OK) || errno != ENOENT)
		fail("%s is there again after restore", bin);
	test_done();
}
