/*
 * /init of the test VMs (cross-tests/vm/run-vm.sh): a static program, so the
 * guest needs no shell and no libraries.
 *
 * It mounts /proc, /sys, /dev, /dev/pts, /dev/shm and /tmp, loads the
 * kernel modules in /modules (NN-name.ko, in the order of NN), then runs the
 * tests of /tests.list one after another, each in a fresh directory under
 * /tmp with a timeout, and reports on the console:
 *
 *   VM-INIT <arch> <kernel release>
 *   VM-RESULT <arch> module-<name> FAIL ...     a module that did not load
 *   VM-START <arch> <name>                      before each test
 *   [<name>] <line>                             the test's stdout and stderr
 *   VM-RESULT <arch> <name> PASS|FAIL rc=N ...  after each test
 *   VM-DONE <arch> N passed, N failed
 *
 * and powers the machine off.  rc is the exit code, 128+N for a signal, 124
 * for a timeout.  If /init itself dies the kernel panics and, with panic=-1
 * and qemu's -no-reboot, the VM stops: the host sees no VM-DONE.
 *
 * /tests.list, one entry a line:
 *
 *   [NAME:] COMMAND [ARG...]   a test; NAME defaults to COMMAND's basename.
 *                              Arguments are split at blanks; '...' and
 *                              "..." quote (no escapes, no variables).
 *   @timeout SECONDS           the timeout of the tests that follow (300)
 *   @env NAME=VALUE            set for the tests that follow
 *   @expect TEXT               the next test passes only if a line of its
 *                              output contains TEXT
 *   @reject TEXT               the next test fails if a line contains TEXT
 *   # ...                      a comment; blank lines are ignored
 *
 * Between tests every process left over is killed (everything in the guest
 * belongs to the tests), so a test never sees the previous one's processes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TESTS_LIST "/tests.list"
#define MAX_ARGS 256
#define MAX_TEXT 256
#define LINE_MAX_LEN 4096
/* How long a finished test's leftover children may keep its output open. */
#define DRAIN_MS 2000

static char arch[65] = "unknown";

struct test {
	char name[128];
	char *argv[MAX_ARGS + 1];
	int timeout;
	char expect[MAX_TEXT];
	char reject[MAX_TEXT];
};

/* What a running test's output has shown so far. */
struct output {
	const struct test *t;
	char line[LINE_MAX_LEN];
	size_t len;
	bool expect_seen;
	bool reject_seen;
};

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

/* One console line, written at once so that it is not torn by others. */
static void say(const char *fmt, ...)
{
	char buf[LINE_MAX_LEN + 256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	write_all(STDOUT_FILENO, buf, n);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void mount_one(const char *src, const char *dir, const char *type, const char *data)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, 0, data) && errno != EBUSY)
		say("init: mount %s on %s: %s", type, dir, strerror(errno));
}

/* lo up, for the tests that talk over loopback (127.0.0.1 and ::1 come
 * with it) */
static void loopback_up(void)
{
	struct ifreq ifr;
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (sk < 0 || ioctl(sk, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(sk, SIOCSIFFLAGS, &ifr) < 0))
		say("VM-INIT can't bring lo up: %s", strerror(errno));
	if (sk >= 0)
		close(sk);
}

static void setup_system(void)
{
	struct utsname u;
	int fd;

	mount_one("devtmpfs", "/dev", "devtmpfs", NULL);
	/* The kernel found no /dev/console in the initramfs: take it now. */
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	mount_one("proc", "/proc", "proc", NULL);
	mount_one("sysfs", "/sys", "sysfs", NULL);
	mount_one("devpts", "/dev/pts", "devpts", "ptmxmode=0666");
	mount_one("tmpfs", "/dev/shm", "tmpfs", NULL);
	mount_one("tmpfs", "/tmp", "tmpfs", NULL);
	setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin:/", 1);
	setenv("HOME", "/tmp", 1);
	setenv("TMPDIR", "/tmp", 1);
	loopback_up();
	if (uname(&u) == 0) {
		snprintf(arch, sizeof(arch), "%s", u.machine);
		say("VM-INIT %s %s", arch, u.release);
	} else {
		say("VM-INIT %s", arch);
	}
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_module(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 3 && !strcmp(d->d_name + n - 3, ".ko");
}

/* Loads /modules/NN-name.ko in order; returns how many failed. */
static int load_modules(void)
{
	char path[512], loaded[1024] = "";
	struct dirent **names;
	int n, failed = 0;

	n = scandir("/modules", &names, is_module, name_cmp);
	for (int i = 0; i < n; i++) {
		const char *name = strchr(names[i]->d_name, '-');
		int fd;

		name = name ? name + 1 : names[i]->d_name;
		snprintf(path, sizeof(path), "/modules/%s", names[i]->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST)) {
			say("VM-RESULT %s module-%.*s FAIL rc=%d (%s)", arch,
			    (int)(strlen(name) - 3), name, errno, strerror(errno));
			failed++;
		} else {
			size_t len = strlen(loaded);

			snprintf(loaded + len, sizeof(loaded) - len, " %.*s", (int)(strlen(name) - 3),
				 name);
		}
		if (fd >= 0)
			close(fd);
		free(names[i]);
	}
	if (n > 0)
		free(names);
	if (loaded[0])
		say("init: modules loaded:%s", loaded);
	return failed;
}

/* Splits s in place at blanks, honouring '...' and "..."; returns argc or -1. */
static int split_args(char *s, char **argv)
{
	int argc = 0;
	char *out;

	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (argc == MAX_ARGS)
			return -1;
		argv[argc++] = out = s;
		while (*s && *s != ' ' && *s != '\t') {
			if (*s == '\'' || *s == '"') {
				char q = *s++;

				while (*s && *s != q)
					*out++ = *s++;
				if (!*s)
					return -1;
				s++;
			} else {
				*out++ = *s++;
			}
		}
		if (*s)
			s++;
		*out = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

static void set_name(struct test *t, char *line)
{
	char *colon, *sp, *base;

	sp = line + strcspn(line, " \t");
	colon = memchr(line, ':', sp - line);
	if (colon && colon + 1 == sp) {
		*colon = '\0';
		snprintf(t->name, sizeof(t->name), "%s", line);
		memmove(line, sp, strlen(sp) + 1);
		return;
	}
	snprintf(t->name, sizeof(t->name), "%.*s", (int)(sp - line), line);
	base = strrchr(t->name, '/');
	if (base && base[1])
		memmove(t->name, base + 1, strlen(base + 1) + 1);
}

/* ---- running one test ------------------------------------------------- */

static void check_line(struct output *o)
{
	o->line[o->len] = '\0';
	say("[%s] %s", o->t->name, o->line);
	if (o->t->expect[0] && strstr(o->line, o->t->expect))
		o->expect_seen = true;
	if (o->t->reject[0] && strstr(o->line, o->t->reject))
		o->reject_seen = true;
	o->len = 0;
}

static void take_output(struct output *o, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			check_line(o);
		} else if (buf[i] != '\r') {
			o->line[o->len++] = buf[i];
			if (o->len == LINE_MAX_LEN - 1)
				check_line(o);
		}
	}
}

/* Reads what is there within wait_ms: 1 if something, 0 if nothing, -1 at end of file. */
static int pump(int fd, struct output *o, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[4096];
	ssize_t n;

	if (poll(&p, 1, wait_ms) <= 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	take_output(o, buf, n);
	return 1;
}

/* Reaps every zombie; true when pid was among them (its status in *status). */
static bool reap_all(pid_t pid, int *status)
{
	bool found = false;
	pid_t r;
	int st;

	while ((r = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
		if (r == pid) {
			*status = st;
			found = true;
		}
	}
	return found;
}

/* Kills whatever the test left running and waits (bounded) until it is gone. */
static void sweep(const struct test *t)
{
	int st, left = 0;

	kill(-1, SIGKILL);
	for (int i = 0; i < 500; i++) {
		pid_t r = waitpid(-1, &st, WNOHANG | __WALL);

		if (r > 0) {
			left++;
			continue;
		}
		if (r < 0 && errno == ECHILD)
			break;
		usleep(10000);
	}
	if (left)
		say("[%s] init: killed %d leftover process%s", t->name, left, left == 1 ? "" : "es");
}

static void child(const struct test *t, int out_fd, const char *dir)
{
	int null = open("/dev/null", O_RDONLY);

	setpgid(0, 0);
	if (null >= 0)
		dup2(null, STDIN_FILENO);
	dup2(out_fd, STDOUT_FILENO);
	dup2(out_fd, STDERR_FILENO);
	if (chdir(dir))
		dprintf(STDERR_FILENO, "init: chdir %s: %s\n", dir, strerror(errno));
	execvp(t->argv[0], t->argv);
	dprintf(STDERR_FILENO, "init: exec %s: %s\n", t->argv[0], strerror(errno));
	_exit(127);
}

static bool run_test(const struct test *t, int index)
{
	static struct output o;
	long start = now_ms(), deadline = start + t->timeout * 1000L, end;
	bool timed_out = false, exited = false, open_out = true;
	char dir[64], why[MAX_TEXT + 64] = "";
	int fds[2], status = 0, rc;
	pid_t pid;

	memset(&o, 0, sizeof(o));
	o.t = t;
	say("VM-START %s %s", arch, t->name);
	snprintf(dir, sizeof(dir), "/tmp/test-%d", index);
	mkdir(dir, 0755);
	if (pipe2(fds, O_CLOEXEC)) {
		say("[%s] init: pipe: %s", t->name, strerror(errno));
		say("VM-RESULT %s %s FAIL rc=127", arch, t->name);
		return false;
	}
	pid = fork();
	if (pid == 0)
		child(t, fds[1], dir);
	close(fds[1]);
	if (pid < 0) {
		say("[%s] init: fork: %s", t->name, strerror(errno));
		close(fds[0]);
		say("VM-RESULT %s %s FAIL rc=127", arch, t->name);
		return false;
	}
	setpgid(pid, pid);

	/* Until the test exits or its time is up, and its output is closed. */
	end = deadline;
	while (open_out || !exited) {
		long left = end - now_ms();

		if (left <= 0) {
			if (!exited) {
				timed_out = true;
				say("[%s] init: timed out after %d s, killing it", t->name,
				    t->timeout);
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				end = now_ms() + 10000;
				/* Never wait on the output again: only for the exit. */
				if (open_out)
					close(fds[0]);
				open_out = false;
				while (!reap_all(pid, &status) && now_ms() < end)
					usleep(10000);
				exited = true;
			}
			break;
		}
		if (open_out)
			open_out = pump(fds[0], &o, left < 100 ? left : 100) >= 0;
		else
			usleep(10000);
		if (!exited && reap_all(pid, &status)) {
			exited = true;
			/* Leftover children may hold the output: not for long. */
			if (end > now_ms() + DRAIN_MS)
				end = now_ms() + DRAIN_MS;
		}
	}
	sweep(t);
	/* The writers are gone now: what is left in the pipe, then its end. */
	if (open_out) {
		for (int i = 0; i < 100 && pump(fds[0], &o, 100) >= 0; i++)
			;
		close(fds[0]);
	}
	if (o.len)
		check_line(&o);

	if (timed_out)
		rc = 124;
	else if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	else
		rc = 125;
	if (timed_out)
		snprintf(why, sizeof(why), " (timed out after %d s)", t->timeout);
	else if (rc == 0 && t->expect[0] && !o.expect_seen)
		snprintf(why, sizeof(why), " (no \"%s\" in the output)", t->expect);
	else if (rc == 0 && o.reject_seen)
		snprintf(why, sizeof(why), " (\"%s\" in the output)", t->reject);
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), " (killed by signal %d, %s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	bool pass = rc == 0 && !why[0];
	say("VM-RESULT %s %s %s rc=%d time=%.1fs%s", arch, t->name, pass ? "PASS" : "FAIL", rc,
	    (now_ms() - start) / 1000.0, why);
	return pass;
}

/* ---- the list ------------------------------------------------------------ */

static char *read_list(void)
{
	struct stat st;
	char *buf;
	int fd = open(TESTS_LIST, O_RDONLY);
	ssize_t n = 0, r;

	if (fd < 0 || fstat(fd, &st)) {
		say("init: %s: %s", TESTS_LIST, strerror(errno));
		return NULL;
	}
	buf = malloc(st.st_size + 1);
	if (!buf)
		return NULL;
	while (n < st.st_size && (r = read(fd, buf + n, st.st_size - n)) > 0)
		n += r;
	buf[n] = '\0';
	close(fd);
	return buf;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Handles an @ line; false if it is not understood. */
static bool directive(char *line, struct test *next, int *timeout)
{
	char *arg = line + strcspn(line, " \t");

	if (*arg)
		*arg++ = '\0';
	if (!strcmp(line, "@timeout")) {
		*timeout = atoi(arg);
		return *timeout > 0;
	}
	if (!strcmp(line, "@env")) {
		char *eq = strchr(arg, '=');

		if (!eq)
			return false;
		*eq = '\0';
		return setenv(arg, eq + 1, 1) == 0;
	}
	if (!strcmp(line, "@expect")) {
		snprintf(next->expect, sizeof(next->expect), "%s", arg);
		return true;
	}
	if (!strcmp(line, "@reject")) {
		snprintf(next->reject, sizeof(next->reject), "%s", arg);
		return true;
	}
	return false;
}

static void run_list(char *list, int *passed, int *failed)
{
	static struct test t;
	int timeout = 300, index = 0;
	char *save = NULL, *line;

	memset(&t, 0, sizeof(t));
	for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line = trim(line);
		if (!*line || *line == '#')
			continue;
		if (*line == '@') {
			char copy[LINE_MAX_LEN];

			snprintf(copy, sizeof(copy), "%s", line);
			if (!directive(line, &t, &timeout)) {
				say("VM-RESULT %s tests.list FAIL rc=2 (bad line: %s)", arch, copy);
				(*failed)++;
			}
			continue;
		}
		index++;
		set_name(&t, line);
		t.timeout = timeout;
		if (split_args(line, t.argv) <= 0) {
			say("VM-START %s %s", arch, t.name);
			say("VM-RESULT %s %s FAIL rc=2 (cannot split the command line)", arch,
			    t.name);
			(*failed)++;
		} else if (run_test(&t, index)) {
			(*passed)++;
		} else {
			(*failed)++;
		}
		memset(&t, 0, sizeof(t));
	}
}

int main(void)
{
	int passed = 0, failed = 0;
	char *list;

	setup_system();
	failed += load_modules();
	list = read_list();
	if (list) {
		run_list(list, &passed, &failed);
	} else {
		say("VM-RESULT %s tests.list FAIL rc=2 (cannot read %s)", arch, TESTS_LIST);
		failed++;
	}
	say("VM-DONE %s %d passed, %d failed", arch, passed, failed);
	sync();
	reboot(RB_POWER_OFF);
	say("init: reboot(RB_POWER_OFF): %s", strerror(errno));
	for (;;)
		pause();
}
