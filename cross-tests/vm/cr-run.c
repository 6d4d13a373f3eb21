/*
 * cr-run: runs e2e test programs (tests/e2e/progs) through criu dump and
 * restore inside the test VMs (cross-tests/vm/), which have neither python
 * nor a shell.  The static C counterpart of tests/e2e/cr-run.py: the same
 * variants, checks and messages, one test at a time.
 *
 *   cr-run --criu PATH --progs DIR [--variants LIST] [--timeout SECONDS]
 *          [--scratch DIR] [--keep] [--no-cr] [NAME...]
 *
 * NAME is a program in DIR (default: every program there).  It also runs
 * on a host, e.g. cr-run --criu ./criu --progs build/x86_64/tests/e2e/progs.
 * Variants (comma-separated; default all four, with --no-cr plain,user):
 *
 *   plain          criu dump, then criu restore
 *   leave-running  criu dump -R; the original must still run and pass; it is
 *                  then killed, and the images restored
 *   leave-stopped  criu dump -s; the original must be stopped; it is killed,
 *                  and the images restored
 *   user           as plain, with the program running as uid/gid 65534
 *
 * --no-cr leaves dump and restore out: SIGTERM and the verdict only, which
 * checks the programs themselves on a new architecture or kernel.
 * --restore-log-has TEXT fails a variant whose restore.log has no line
 * containing TEXT (that restore took the path the test is about).
 *
 * A program (protocol in tests/e2e/progs/lib.h) runs in its own session,
 * stdin /dev/null, stdout and stderr appended to prog.log; it writes its pid
 * to its pidfile when set up and, after SIGTERM, PASS or "FAIL: ..." to its
 * outfile.  criu runs as
 *
 *   criu dump -D images -o dump.log -v4 -t PID [-R|-s]
 *   criu restore -D images -o restore.log -v4 -d
 *
 * with its stdout and stderr in criu-dump.out / criu-restore.out.  A variant
 * passes when the restored process has the dumped PID and the program's
 * binary, and after SIGTERM says PASS and exits 0.  Each variant has
 * --timeout seconds (default 120) for all of it; every wait is bounded.
 *
 * Output, one line each:
 *
 *   PASS NAME VARIANT
 *   SKIP NAME VARIANT: why       (from `NAME --describe`, or not root)
 *   FAIL NAME VARIANT: reason    then the last lines of the variant's logs
 *                                (also when `NAME --describe` fails)
 *   cr: N passed, N failed[, N skipped]
 *
 * Exit status: 0 when nothing failed, 1 when something did, 2 for a usage
 * error, 130 when interrupted by SIGTERM or SIGINT.
 *
 * Processes: the runner is a child subreaper, so everything a test starts,
 * including the tree criu restores and detaches, stays below it and is
 * reaped by it.  Since tests run one at a time, whatever is below the runner
 * when a variant ends belongs to that variant: it is killed, by PID, until
 * nothing is left (bounded).  Nothing outside the runner's descendants is
 * ever signalled.
 *
 * Files: each variant works in SCRATCH/NAME.VARIANT/ (work/ for the
 * program's pidfile and outfile, images/ for criu), removed when it passed
 * (unless --keep); SCRATCH defaults to a new /tmp/cr-run.XXXXXX, removed at
 * the end when everything passed.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOBODY 65534
/* Caps (ms) of the waits within a variant; all are also bounded by --timeout. */
#define READY_MS 30000   /* from start to the pidfile */
#define VERDICT_MS 30000 /* from SIGTERM to the exit */
#define STOPPED_MS 5000  /* for a SIGSTOP or SIGCONT of criu's to land */
#define GONE_MS 10000    /* for killed processes to disappear */
#define DESCRIBE_MS 30000
#define POLL_MS 5
/* Lines of each log shown after a failure. */
#define TAIL_LINES 15
#define MAX_IDS 1024

enum variant { V_PLAIN, V_LEAVE_RUNNING, V_LEAVE_STOPPED, V_USER, NR_VARIANTS };

static const char *const variant_names[NR_VARIANTS] = {
	[V_PLAIN] = "plain",
	[V_LEAVE_RUNNING] = "leave-running",
	[V_LEAVE_STOPPED] = "leave-stopped",
	[V_USER] = "user",
};

/* The logs of a variant, relative to its directory, in the order shown. */
static const char *const log_names[] = {
	"prog.log", "criu-dump.out", "images/dump.log", "criu-restore.out", "images/restore.log",
	"threads.txt",
};

static struct options {
	char criu[PATH_MAX];
	char progs[PATH_MAX];
	char scratch[PATH_MAX];
	bool own_scratch;
	bool variants[NR_VARIANTS];
	int timeout; /* seconds per variant */
	bool keep;
	bool no_cr;
	char restore_log_has[256]; /* --restore-log-has: text every restore.log holds */
} opt;

/* Set by SIGTERM and SIGINT: every wait gives up, the runner cleans up. */
static volatile sig_atomic_t interrupted;

/* What `prog --describe` said. */
struct description {
	bool needs_root;
	char skip[256];  /* why the program cannot run here; empty if it can */
	char criu_opts[128]; /* options for both dump and restore ("-l"), space-separated */
	char error[256]; /* why --describe itself failed: every variant fails */
};

/* One program in one variant. */
struct test {
	const char *name;
	const char *prog; /* the program's real path */
	const char *criu_opts; /* its description's, for dump and restore */
	enum variant variant;
	bool as_nobody;
	char dir[PATH_MAX];
	char work[PATH_MAX];
	char images[PATH_MAX];
	char pidfile[PATH_MAX];
	char outfile[PATH_MAX];
	char log[PATH_MAX];
	char exe[PATH_MAX]; /* what it runs when ready: prog, or a copy in work */
	long deadline; /* now_ms() by which the variant must be over */
	char why[1024]; /* the reason it failed */
};

/* A set of PIDs or TIDs. */
struct id_set {
	int n;
	pid_t id[MAX_IDS];
};

/* ---- small helpers ----------------------------------------------------- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000 };

	nanosleep(&ts, NULL);
}

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

/* One line to stdout, written at once (the VM's /init reads it from a pipe). */
static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	write_all(STDOUT_FILENO, buf, n);
}

/* Formats a path into out (PATH_MAX bytes). */
static void __attribute__((format(printf, 2, 3))) path_fmt(char *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
}

static void path_join(char *out, const char *dir, const char *name)
{
	path_fmt(out, "%s/%s", dir, name);
}

/* The first line of a file without its line end, or "" (false) if unreadable. */
static bool read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	bool ok = false;

	buf[0] = '\0';
	if (!f)
		return false;
	if (fgets(buf, size, f)) {
		buf[strcspn(buf, "\r\n")] = '\0';
		ok = true;
	}
	fclose(f);
	return ok;
}

/* Whether a line of the file contains text. */
static bool file_has(const char *path, const char *text)
{
	FILE *f = fopen(path, "re");
	char line[4096];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return found;
}

/* The last non-blank line of a file without its line end, or "". */
static void last_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	char line[1024];

	buf[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (line[strspn(line, " \t\r\n")])
			snprintf(buf, size, "%s", line);
	if (f)
		fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/* Prints the last `lines` lines of a file (read from its last 64 KiB). */
static void say_tail(const char *path, int lines)
{
	static char buf[65536 + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size, from;
	ssize_t n;
	char *p, *line;

	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
	n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* Back from the end over `lines` line ends (a final one does not count). */
	p = buf + n;
	if (p > buf && p[-1] == '\n')
		*--p = '\0';
	while (p > buf && lines > 0) {
		p--;
		if (*p == '\n')
			lines--;
	}
	if (*p == '\n')
		p++;
	for (line = strtok(p, "\n"); line; line = strtok(NULL, "\n"))
		say("    %s", line);
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	remove(path);
	return 0;
}

static void remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- reaping ------------------------------------------------------------- */

/*
 * The runner reaps every child: its own, and the orphans that come to it as
 * subreaper.  Wait statuses are kept (the last REAPED_MAX) until asked for.
 */
#define REAPED_MAX 256
static struct {
	pid_t pid;
	int status;
} reaped[REAPED_MAX];
static int reaped_next;

static void forget_status(pid_t pid)
{
	for (int i = 0; i < REAPED_MAX; i++)
		if (reaped[i].pid == pid)
			reaped[i].pid = 0;
}

static void reap_all(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG | __WALL)) > 0) {
		forget_status(pid); /* an old status of a reused pid */
		reaped[reaped_next].pid = pid;
		reaped[reaped_next].status = status;
		reaped_next = (reaped_next + 1) % REAPED_MAX;
	}
}

/* The wait status of pid if it was reaped (and forgets it). */
static bool take_status(pid_t pid, int *status)
{
	for (int i = 0; i < REAPED_MAX; i++) {
		if (reaped[i].pid == pid) {
			*status = reaped[i].status;
			reaped[i].pid = 0;
			return true;
		}
	}
	return false;
}

static void describe_status(bool known, int status, char *buf, size_t size)
{
	if (!known)
		snprintf(buf, size, "ended");
	else if (WIFEXITED(status))
		snprintf(buf, size, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "status %#x", status);
}

/* ---- processes, from /proc ------------------------------------------------ */

/* State letter and parent of a process or thread; false when it is gone. */
static bool proc_stat(pid_t pid, char *state, pid_t *ppid)
{
	char path[64], buf[1024], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* The comm in parentheses may hold anything: parse after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d", state, ppid) != 2)
		return false;
	return true;
}

static bool exists(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) == 0;
}

/* pid descends from the runner (so it was created by a test). */
static bool is_ours(pid_t pid)
{
	pid_t me = getpid(), ppid;
	char state;

	for (int depth = 0; depth < 64; depth++) {
		if (!proc_stat(pid, &state, &ppid))
			return false;
		if (ppid == me)
			return true;
		if (ppid <= 1)
			return false;
		pid = ppid;
	}
	return false;
}

static bool set_has(const struct id_set *s, pid_t id)
{
	for (int i = 0; i < s->n; i++)
		if (s->id[i] == id)
			return true;
	return false;
}

static void set_add(struct id_set *s, pid_t id)
{
	if (s->n < MAX_IDS && !set_has(s, id))
		s->id[s->n++] = id;
}

/* The PIDs of root and its descendants, and the TIDs of all their threads. */
static void tree_of(pid_t root, struct id_set *pids, struct id_set *tids)
{
	char path[PATH_MAX], buf[4096];
	struct dirent *e;

	pids->n = tids->n = 0;
	set_add(pids, root);
	for (int i = 0; i < pids->n; i++) {
		DIR *d;

		path_fmt(path, "/proc/%d/task", (int)pids->id[i]);
		d = opendir(path);
		if (!d)
			continue;
		while ((e = readdir(d))) {
			int fd, n;

			if (!isdigit((unsigned char)e->d_name[0]))
				continue;
			set_add(tids, atoi(e->d_name));
			path_fmt(path, "/proc/%d/task/%s/children", (int)pids->id[i], e->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			buf[n > 0 ? n : 0] = '\0';
			for (char *p = buf, *end;; p = end) {
				long child = strtol(p, &end, 10);

				if (end == p)
					break;
				set_add(pids, child);
			}
		}
		closedir(d);
	}
}

/* Every process below the runner, from the parent links in /proc. */
static void descendants(struct id_set *out)
{
	static struct {
		pid_t pid, ppid;
	} procs[8192];
	int n = 0;
	bool grew = true;
	DIR *d = opendir("/proc");
	struct dirent *e;

	out->n = 0;
	if (!d)
		return;
	while ((e = readdir(d)) && n < (int)(sizeof(procs) / sizeof(procs[0]))) {
		char state;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		procs[n].pid = atoi(e->d_name);
		if (proc_stat(procs[n].pid, &state, &procs[n].ppid))
			n++;
	}
	closedir(d);
	set_add(out, getpid());
	while (grew) {
		grew = false;
		for (int i = 0; i < n; i++) {
			if (!set_has(out, procs[i].pid) && set_has(out, procs[i].ppid)) {
				set_add(out, procs[i].pid);
				grew = true;
			}
		}
	}
	/* Drop the runner itself, the first entry. */
	memmove(out->id, out->id + 1, (out->n - 1) * sizeof(out->id[0]));
	out->n--;
}

static void kill_ours(const struct id_set *pids)
{
	for (int i = 0; i < pids->n; i++)
		if (is_ours(pids->id[i]))
			kill(pids->id[i], SIGKILL);
}

/* Reaps until none of ids exists, for at most ms; returns how many are left. */
static int wait_gone(const struct id_set *ids, long ms)
{
	long end = now_ms() + ms;

	for (;;) {
		int left = 0;

		reap_all();
		for (int i = 0; i < ids->n; i++) {
			if (exists(ids->id[i]))
				left++;
			else
				forget_status(ids->id[i]);
		}
		if (!left || now_ms() >= end)
			return left;
		sleep_ms(POLL_MS);
	}
}

/* Kills everything below the runner until nothing is left; returns how many stayed. */
static int kill_everything(void)
{
	static struct id_set left;
	long end = now_ms() + GONE_MS;

	for (;;) {
		descendants(&left);
		if (!left.n || now_ms() >= end)
			return left.n;
		for (int i = 0; i < left.n; i++)
			kill(left.id[i], SIGKILL);
		sleep_ms(POLL_MS);
		reap_all();
	}
}

/*
 * fork+exec argv in cwd, in a new session, stdin /dev/null, stdout and
 * stderr appended to out_path, as uid/gid 65534 when as_nobody.
 */
static pid_t spawn(char *const argv[], const char *cwd, const char *out_path, bool as_nobody)
{
	int out = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t pid;

	if (out < 0 || null < 0) {
		if (out >= 0)
			close(out);
		if (null >= 0)
			close(null);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (chdir(cwd) || setsid() < 0 || dup2(null, STDIN_FILENO) < 0 ||
		    dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0) {
			dprintf(out, "cr-run: cannot set up %s: %s\n", argv[0], strerror(errno));
			_exit(127);
		}
		if (as_nobody && (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
				  setresuid(NOBODY, NOBODY, NOBODY))) {
			dprintf(STDERR_FILENO, "cr-run: cannot become uid %d: %s\n", NOBODY,
				strerror(errno));
			_exit(127);
		}
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "cr-run: cannot start %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out);
	close(null);
	if (pid > 0)
		forget_status(pid);
	return pid;
}

enum wait_result {
	EXITED,    /* reaped by the runner: the status is known */
	ENDED,     /* gone, or a zombie someone else reaps: no status */
	TIMED_OUT, /* still there at the deadline */
	STOPPED,   /* the runner was interrupted */
};

/* Waits until pid ends, or until `deadline` (a now_ms() value). */
static enum wait_result wait_exit(pid_t pid, long deadline, int *status)
{
	pid_t me = getpid(), ppid;
	char state;

	for (;;) {
		reap_all();
		if (take_status(pid, status))
			return EXITED;
		if (!proc_stat(pid, &state, &ppid) || (state == 'Z' && ppid != me))
			return ENDED;
		if (now_ms() >= deadline)
			return TIMED_OUT;
		if (interrupted)
			return STOPPED;
		sleep_ms(POLL_MS);
	}
}

/* ---- one variant of one program --------------------------------------- */

static int __attribute__((format(printf, 2, 3))) test_fail(struct test *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* A deadline for a wait: cap_ms from now, but no later than the variant's. */
static long until(const struct test *t, long cap_ms)
{
	long end = now_ms() + cap_ms;

	return end < t->deadline ? end : t->deadline;
}

/* Turns a wait that did not end (since `since`, a now_ms() value) into the failure. */
static int wait_failed(struct test *t, enum wait_result r, const char *what, long since)
{
	if (r == STOPPED)
		return test_fail(t, "interrupted");
	return test_fail(t, "%s after %.1f s%s", what, (now_ms() - since) / 1000.0,
			 now_ms() >= t->deadline ? " (the variant's --timeout)" : "");
}

static int prepare(struct test *t)
{
	path_fmt(t->dir, "%s/%s.%s", opt.scratch, t->name, variant_names[t->variant]);
	path_join(t->work, t->dir, "work");
	path_join(t->images, t->dir, "images");
	path_join(t->pidfile, t->work, "pid");
	path_join(t->outfile, t->work, "out");
	path_join(t->log, t->dir, "prog.log");
	remove_tree(t->dir);
	if (mkdir(t->dir, 0755) || mkdir(t->work, 0755) || mkdir(t->images, 0700) ||
	    chmod(t->dir, 0755))
		return test_fail(t, "cannot make %s: %s", t->dir, strerror(errno));
	if (t->as_nobody) {
		if (chown(t->work, NOBODY, NOBODY) || chmod(t->work, 0755))
			return test_fail(t, "cannot give %s to uid %d: %s", t->work, NOBODY,
					 strerror(errno));
	} else if (chmod(t->work, 0777)) { /* programs that change their uid write here too */
		return test_fail(t, "chmod %s: %s", t->work, strerror(errno));
	}
	return 0;
}

/* Starts the program and waits for its pidfile; its pid in *pid. */
static int start(struct test *t, pid_t *pid)
{
	char *argv[] = { (char *)t->prog, "--pidfile", t->pidfile, "--outfile", t->outfile, NULL };
	long started = now_ms(), deadline = until(t, READY_MS);
	char text[32], how[64], verdict[512];
	int status;

	*pid = spawn(argv, t->work, t->log, t->as_nobody);
	if (*pid < 0)
		return test_fail(t, "cannot start the program: %s", strerror(errno));
	while (access(t->pidfile, F_OK)) {
		reap_all();
		if (take_status(*pid, &status)) {
			describe_status(true, status, how, sizeof(how));
			read_line(t->outfile, verdict, sizeof(verdict));
			return test_fail(t, "exited before it was ready (%s): %s", how,
					 verdict[0] ? verdict : "no verdict");
		}
		if (interrupted)
			return wait_failed(t, STOPPED, "no pidfile", started);
		if (now_ms() >= deadline)
			return wait_failed(t, TIMED_OUT, "no pidfile", started);
		sleep_ms(POLL_MS);
	}
	read_line(t->pidfile, text, sizeof(text));
	if (atoi(text) != *pid)
		return test_fail(t, "pidfile says %s, the program is %d", text, (int)*pid);
	/* the program, or a copy of it that it ran from its work dir (exe-deleted) */
	{
		char link[64];
		size_t wl = strlen(t->work);
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%d/exe", (int)*pid);
		n = readlink(link, t->exe, sizeof(t->exe) - 1);
		if (n < 0)
			return test_fail(t, "pid %d when ready: %s", (int)*pid, strerror(errno));
		t->exe[n] = '\0';
		if (strcmp(t->exe, t->prog) && (strncmp(t->exe, t->work, wl) || t->exe[wl] != '/'))
			return test_fail(t, "pid %d runs %s, neither the program nor a file of its own",
					 (int)*pid, t->exe);
	}
	return 0;
}

/* Runs `criu ACTION -D images -o ACTION.log -v4 EXTRA...`, which must exit 0. */
static int run_criu(struct test *t, const char *action, const char *const extra[])
{
	char out[PATH_MAX], log[64], what[64], how[64], said[1024];
	long started = now_ms();
	char *argv[24], opts[128], *save = NULL;
	int argc = 0, status;
	enum wait_result r;
	pid_t pid;

	path_fmt(out, "%s/criu-%s.out", t->dir, action);
	snprintf(log, sizeof(log), "%s.log", action);
	argv[argc++] = opt.criu;
	argv[argc++] = (char *)action;
	argv[argc++] = "-D";
	argv[argc++] = t->images;
	argv[argc++] = "-o";
	argv[argc++] = log;
	argv[argc++] = "-v4";
	for (int i = 0; extra[i] && argc < 15; i++)
		argv[argc++] = (char *)extra[i];
	snprintf(opts, sizeof(opts), "%s", t->criu_opts ? t->criu_opts : "");
	for (char *w = strtok_r(opts, " ", &save); w && argc < 23; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;

	pid = spawn(argv, t->dir, out, false);
	if (pid < 0)
		return test_fail(t, "cannot start criu %s: %s", action, strerror(errno));
	r = wait_exit(pid, t->deadline, &status);
	if (r == TIMED_OUT || r == STOPPED) {
		static struct id_set pids, tids;

		tree_of(pid, &pids, &tids);
		kill_ours(&pids);
		wait_gone(&pids, GONE_MS);
		snprintf(what, sizeof(what), "criu %s did not finish", action);
		return wait_failed(t, r, what, started);
	}
	if (r == EXITED && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	/* criu's errors also go to its stderr: its last line says what went wrong. */
	last_line(out, said, sizeof(said));
	describe_status(r == EXITED, status, how, sizeof(how));
	return test_fail(t, "criu %s failed (%s)%s%s", action, how, said[0] ? ": " : "", said);
}

/*
 * For a program that gave no verdict: where each of its threads is (state,
 * signal masks, the syscall it sits in, wchan), into DIR/threads.txt, which
 * the failure report prints with the logs.
 */
static void record_threads(struct test *t, pid_t pid)
{
	static const char *const keys[] = { "State:", "SigBlk:", "SigPnd:", "ShdPnd:", "SigIgn:", "SigCgt:" };
	char dir[64], path[PATH_MAX], line[512];
	struct dirent *de;
	FILE *out, *f;
	DIR *d;

	path_join(path, t->dir, "threads.txt");
	out = fopen(path, "w");
	if (!out)
		return;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		fprintf(out, "tid %s:", de->d_name);
		snprintf(path, sizeof(path), "%s/%s/status", dir, de->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
				if (!strncmp(line, keys[i], strlen(keys[i]))) {
					line[strcspn(line, "\n")] = 0;
					fprintf(out, " %s", line);
				}
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "%s/%s/syscall", dir, de->d_name);
		if (read_line(path, line, sizeof(line)))
			fprintf(out, " syscall: %s", line);
		snprintf(path, sizeof(path), "%s/%s/wchan", dir, de->d_name);
		if (read_line(path, line, sizeof(line)))
			fprintf(out, " wchan: %s", line);
		fprintf(out, "\n");
	}
	if (d)
		closedir(d);
	fclose(out);
}

/* Sends SIGTERM; the program must write PASS to its outfile and exit 0. */
static int check_verdict(struct test *t, pid_t pid, const char *what)
{
	char text[1024], how[64];
	long sent = now_ms();
	enum wait_result r;
	int status = 0;

	if (kill(pid, SIGTERM))
		return test_fail(t, "%s%scannot signal %d: %s", what, what[0] ? ": " : "",
				 (int)pid, strerror(errno));
	r = wait_exit(pid, until(t, VERDICT_MS), &status);
	if (r == TIMED_OUT || r == STOPPED) {
		record_threads(t, pid);
		snprintf(text, sizeof(text), "%s%sno verdict: still running", what,
			 what[0] ? ": " : "");
		return wait_failed(t, r, text, sent);
	}
	read_line(t->outfile, text, sizeof(text));
	if (!strcmp(text, "PASS") &&
	    (r == ENDED || (WIFEXITED(status) && WEXITSTATUS(status) == 0)))
		return 0;
	if (!text[0]) {
		describe_status(r == EXITED, status, how, sizeof(how));
		snprintf(text, sizeof(text), "no verdict (%s)", how);
	}
	return test_fail(t, "%s%s%s", what, what[0] ? ": " : "", text);
}

/* The state letters of tids, in states[]. */
static void get_states(const struct id_set *tids, char *states)
{
	pid_t ppid;

	for (int i = 0; i < tids->n; i++)
		if (!proc_stat(tids->id[i], &states[i], &ppid))
			states[i] = '-';
}

/*
 * After dump -R every task must run on (and the original then pass), after
 * -s every task must be stopped; zombies stay zombies, and tasks stopped
 * before the dump stay stopped.  The originals are
 * killed afterwards, so that their PIDs are free for the restore.
 */
static int check_original(struct test *t, pid_t pid, const struct id_set *pids,
			  const struct id_set *tids, const char *before)
{
	bool running = t->variant == V_LEAVE_RUNNING;
	const char *want = running ? "RSD" : "T";
	long deadline = until(t, STOPPED_MS);
	static char now[MAX_IDS];
	char bad[512];

	for (;;) {
		size_t len = 0;

		bad[0] = '\0';
		get_states(tids, now);
		for (int i = 0; i < tids->n; i++) {
			if (strchr(want, now[i]) ||
			    ((now[i] == 'Z' || now[i] == 'T') && before[i] == now[i]))
				continue;
			if (len < sizeof(bad))
				len += snprintf(bad + len, sizeof(bad) - len, "%s%d: %c",
						len ? ", " : "", (int)tids->id[i], now[i]);
		}
		if (!bad[0] || now_ms() >= deadline)
			break;
		sleep_ms(POLL_MS);
	}
	if (bad[0])
		return test_fail(t, "after dump %s, tasks are not %s: %s", running ? "-R" : "-s",
				 running ? "running" : "stopped", bad);
	if (running && check_verdict(t, pid, "the original after dump -R"))
		return -1;
	kill_ours(pids);
	return 0;
}

/* The restored process has the dumped pid and runs the program. */
static int check_restored(struct test *t, pid_t pid)
{
	char link[64], exe[PATH_MAX], state;
	pid_t ppid;
	ssize_t n;

	if (!proc_stat(pid, &state, &ppid) || state == 'Z')
		return test_fail(t, "no process with the dumped pid %d after restore", (int)pid);
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n < 0)
		return test_fail(t, "pid %d after restore: %s", (int)pid, strerror(errno));
	exe[n] = '\0';
	if (strcmp(exe, t->exe))
		return test_fail(t, "pid %d after restore runs %s, not %s as before dump", (int)pid,
				 exe, t->exe);
	return 0;
}

/* The whole variant; the processes it leaves are the caller's to kill. */
static int run_variant(struct test *t)
{
	static const char *const restore_args[] = { "-d", NULL };
	static struct id_set pids, tids, all;
	static char before[MAX_IDS];
	const char *dump_args[4] = { "-t", NULL, NULL, NULL };
	char pid_text[16];
	pid_t pid;

	t->deadline = now_ms() + opt.timeout * 1000L;
	if (prepare(t) || start(t, &pid))
		return -1;
	if (opt.no_cr)
		return check_verdict(t, pid, "");

	tree_of(pid, &pids, &tids);
	get_states(&tids, before);
	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	dump_args[1] = pid_text;
	if (t->variant == V_LEAVE_RUNNING)
		dump_args[2] = "-R";
	else if (t->variant == V_LEAVE_STOPPED)
		dump_args[2] = "-s";
	if (run_criu(t, "dump", dump_args))
		return -1;
	if (dump_args[2] && check_original(t, pid, &pids, &tids, before))
		return -1;

	/* Every dumped PID and TID must be free before the restore. */
	all = pids;
	for (int i = 0; i < tids.n; i++)
		set_add(&all, tids.id[i]);
	if (wait_gone(&all, GONE_MS)) {
		char left[256] = "";
		size_t len = 0;

		for (int i = 0; i < all.n && len < sizeof(left); i++) {
			if (exists(all.id[i]))
				len += snprintf(left + len, sizeof(left) - len, " %d",
						(int)all.id[i]);
		}
		kill_ours(&pids);
		return test_fail(t, "the dumped tree is still there:%s", left);
	}
	unlink(t->outfile);
	unlink(t->pidfile);

	if (run_criu(t, "restore", restore_args) || check_restored(t, pid))
		return -1;
	if (opt.restore_log_has[0]) {
		char log[PATH_MAX];

		path_join(log, t->images, "restore.log");
		if (!file_has(log, opt.restore_log_has))
			return test_fail(t, "restore.log does not say \"%s\"", opt.restore_log_has);
	}
	return check_verdict(t, pid, "");
}

/* ---- the programs -------------------------------------------------------- */

/*
 * Runs `prog --describe` (bounded) and parses its "key: value" lines.  A
 * program that cannot even describe itself fails (cr-run.py skips it): in a
 * VM, where nobody reads the skips, that would hide a program broken on the
 * architecture.
 */
static void describe(const char *prog, const char *name, struct description *d)
{
	char *argv[] = { (char *)prog, "--describe", NULL };
	char out[PATH_MAX], line[512], how[64];
	enum wait_result r;
	bool has_doc = false;
	int status = 0;
	FILE *f;
	pid_t pid;

	memset(d, 0, sizeof(*d));
	path_fmt(out, "%s/%s.describe", opt.scratch, name);
	unlink(out);
	pid = spawn(argv, opt.scratch, out, false);
	if (pid < 0) {
		snprintf(d->error, sizeof(d->error), "cannot run --describe: %s", strerror(errno));
		return;
	}
	r = wait_exit(pid, now_ms() + DESCRIBE_MS, &status);
	if (r == TIMED_OUT || r == STOPPED) {
		kill(pid, SIGKILL);
		snprintf(d->error, sizeof(d->error), "--describe did not finish");
		return;
	}
	f = fopen(out, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *value = strchr(line, ':');

		if (!value)
			continue;
		*value++ = '\0';
		value += strspn(value, " \t");
		value[strcspn(value, "\r\n")] = '\0';
		if (!strcmp(line, "doc"))
			has_doc = true;
		else if (!strcmp(line, "needs-root"))
			d->needs_root = !strcmp(value, "yes");
		else if (!strcmp(line, "skip"))
			snprintf(d->skip, sizeof(d->skip), "%s", value);
		else if (!strcmp(line, "criu-opts"))
			snprintf(d->criu_opts, sizeof(d->criu_opts), "%s", value);
	}
	if (f)
		fclose(f);
	if (r != EXITED || !WIFEXITED(status) || WEXITSTATUS(status) || !has_doc) {
		describe_status(r == EXITED, status, how, sizeof(how));
		snprintf(d->error, sizeof(d->error), "--describe failed (%s%s)", how,
			 has_doc ? "" : ", no doc: line");
		return;
	}
	unlink(out);
}

/* uid 65534 can walk down to path (every directory searchable by others). */
static bool nobody_can_reach(const char *path)
{
	char p[PATH_MAX], *slash;
	struct stat st;

	if (!realpath(path, p))
		return false;
	while (p[0] && strcmp(p, "/")) {
		if (stat(p, &st))
			return false;
		if (!(st.st_mode & S_IXOTH) && !(st.st_uid == NOBODY && st.st_mode & S_IXUSR))
			return false;
		slash = strrchr(p, '/');
		if (slash == p)
			p[1] = '\0';
		else
			*slash = '\0';
	}
	return true;
}

static const char *skip_reason(const struct description *d, enum variant v)
{
	static char why[PATH_MAX + 64];

	if (d->skip[0])
		return d->skip;
	if (v == V_USER && geteuid() != 0)
		return "the runner is not root";
	if (d->needs_root && (v == V_USER || geteuid() != 0))
		return "needs root";
	if (v == V_USER && !nobody_can_reach(opt.scratch)) {
		snprintf(why, sizeof(why), "uid %d cannot reach %s", NOBODY, opt.scratch);
		return why;
	}
	return NULL;
}

enum outcome { PASSED, FAILED, SKIPPED };

/* One program in one variant, with its line(s) of output. */
static enum outcome run_test(const char *prog, const char *name, const struct description *d,
			     enum variant v)
{
	static struct test t;
	const char *why = skip_reason(d, v);
	bool passed;
	int left;

	if (d->error[0]) {
		say("FAIL %s %s: %s", name, variant_names[v], d->error);
		return FAILED;
	}
	if (why) {
		say("SKIP %s %s: %s", name, variant_names[v], why);
		return SKIPPED;
	}
	memset(&t, 0, sizeof(t));
	t.name = name;
	t.prog = prog;
	t.criu_opts = d->criu_opts;
	t.variant = v;
	t.as_nobody = v == V_USER;
	passed = run_variant(&t) == 0;
	/* Whatever is below the runner now is this variant's. */
	left = kill_everything();
	if (passed && left) {
		test_fail(&t, "%d of its processes would not die", left);
		passed = false;
	}
	if (passed) {
		say("PASS %s %s", name, variant_names[v]);
		if (!opt.keep)
			remove_tree(t.dir);
		return PASSED;
	}
	say("FAIL %s %s: %s (%s)", name, variant_names[v], t.why, t.dir);
	for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		char path[PATH_MAX];

		path_join(path, t.dir, log_names[i]);
		if (file_size(path) > 0) {
			say("--- %s %s: %s (last lines)", name, variant_names[v], log_names[i]);
			say_tail(path, TAIL_LINES);
		}
	}
	return FAILED;
}

/* ---- the command line ------------------------------------------------------ */

static _Noreturn void usage(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fprintf(stderr, "cr-run: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n");
	}
	fprintf(stderr, "usage: cr-run --criu PATH --progs DIR [--variants LIST] "
			"[--timeout SECONDS]\n"
			"              [--scratch DIR] [--keep] [--no-cr] [--restore-log-has TEXT]\n"
			"              [NAME...]\n"
			"variants: plain,leave-running,leave-stopped,user (default: all; "
			"with --no-cr: plain,user)\n");
	exit(2);
}

static void parse_variants(char *list)
{
	for (char *v = strtok(list, ","); v; v = strtok(NULL, ",")) {
		int i;

		for (i = 0; i < NR_VARIANTS && strcmp(v, variant_names[i]); i++)
			;
		if (i == NR_VARIANTS)
			usage("unknown variant %s", v);
		opt.variants[i] = true;
	}
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "criu", required_argument, NULL, 'c' },
		{ "progs", required_argument, NULL, 'p' },
		{ "variants", required_argument, NULL, 'v' },
		{ "timeout", required_argument, NULL, 't' },
		{ "scratch", required_argument, NULL, 's' },
		{ "keep", no_argument, NULL, 'k' },
		{ "no-cr", no_argument, NULL, 'n' },
		{ "restore-log-has", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool any_variant = false;
	const char *criu = "./criu", *progs = NULL;
	int c;

	opt.timeout = 120;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			criu = optarg;
			break;
		case 'p':
			progs = optarg;
			break;
		case 'v':
			parse_variants(optarg);
			any_variant = true;
			break;
		case 't':
			opt.timeout = atoi(optarg);
			if (opt.timeout <= 0)
				usage("--timeout wants seconds");
			break;
		case 's':
			snprintf(opt.scratch, sizeof(opt.scratch), "%s", optarg);
			break;
		case 'k':
			opt.keep = true;
			break;
		case 'n':
			opt.no_cr = true;
			break;
		case 'r':
			snprintf(opt.restore_log_has, sizeof(opt.restore_log_has), "%s", optarg);
			break;
		case 'h':
			usage(NULL);
		default:
			usage(NULL);
		}
	}
	if (!progs)
		usage("--progs is required");
	if (!realpath(progs, opt.progs))
		usage("no programs in %s: %s", progs, strerror(errno));
	if (!any_variant) {
		opt.variants[V_PLAIN] = opt.variants[V_USER] = true;
		opt.variants[V_LEAVE_RUNNING] = opt.variants[V_LEAVE_STOPPED] = !opt.no_cr;
	}
	if (opt.no_cr)
		return;
	if (!realpath(criu, opt.criu) || access(opt.criu, X_OK))
		usage("no criu at %s", criu);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* The programs to run: the NAMEs given, or every executable in --progs. */
static char **find_progs(int argc, char **argv, int *count)
{
	char **names = calloc(argc > 0 ? argc + 1 : 1024, sizeof(char *));
	struct dirent **ents;
	int n = 0;

	if (!names) {
		fprintf(stderr, "cr-run: out of memory\n");
		exit(1);
	}
	if (argc > 0) {
		for (int i = 0; i < argc; i++) {
			char path[PATH_MAX];

			path_join(path, opt.progs, argv[i]);
			if (strchr(argv[i], '/') || access(path, X_OK))
				usage("no such program: %s in %s", argv[i], opt.progs);
			names[n++] = argv[i];
		}
	} else {
		int found = scandir(opt.progs, &ents, NULL, by_name);

		for (int i = 0; i < found; i++) {
			const char *e = ents[i]->d_name;
			size_t len = strlen(e);
			char path[PATH_MAX];
			struct stat st;

			path_join(path, opt.progs, e);
			if (e[0] != '.' && !(len > 2 && !strcmp(e + len - 2, ".o")) &&
			    !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK) &&
			    n < 1023)
				names[n++] = strdup(e);
			free(ents[i]);
		}
		if (found > 0)
			free(ents);
	}
	*count = n;
	return names;
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void setup_runner(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
		fprintf(stderr, "cr-run: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
		exit(1);
	}
	if (!opt.scratch[0]) {
		snprintf(opt.scratch, sizeof(opt.scratch), "/tmp/cr-run.XXXXXX");
		if (!mkdtemp(opt.scratch)) {
			fprintf(stderr, "cr-run: mkdtemp: %s\n", strerror(errno));
			exit(1);
		}
		opt.own_scratch = true;
	} else if (mkdir(opt.scratch, 0755) && errno != EEXIST) {
		fprintf(stderr, "cr-run: mkdir %s: %s\n", opt.scratch, strerror(errno));
		exit(1);
	}
	/* The user variant runs as uid 65534 below it. */
	chmod(opt.scratch, 0755);
}

int main(int argc, char **argv)
{
	int counts[3] = { 0 }, nprogs, left;
	char summary[128];
	char **names;

	parse_args(argc, argv);
	names = find_progs(argc - optind, argv + optind, &nprogs);
	if (!nprogs)
		usage("no programs in %s (make e2e-progs)", opt.progs);
	setup_runner();

	for (int i = 0; i < nprogs && !interrupted; i++) {
		char prog[PATH_MAX], path[PATH_MAX];
		struct description d;

		path_join(path, opt.progs, names[i]);
		if (!realpath(path, prog))
			snprintf(prog, sizeof(prog), "%s", path);
		describe(prog, names[i], &d);
		for (int v = 0; v < NR_VARIANTS && !interrupted; v++)
			if (opt.variants[v])
				counts[run_test(prog, names[i], &d, v)]++;
	}
	left = kill_everything();
	if (left)
		say("cr: %d processes would not die", left);
	if (interrupted) {
		say("cr: interrupted (files in %s)", opt.scratch);
		return 130;
	}
	snprintf(summary, sizeof(summary), "cr: %d passed, %d failed", counts[PASSED],
		 counts[FAILED]);
	if (counts[SKIPPED])
		snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
			 ", %d skipped", counts[SKIPPED]);
	if (counts[FAILED] || left) {
		say("%s (files in %s)", summary, opt.scratch);
		return 1;
	}
	if (opt.own_scratch && !opt.keep)
		remove_tree(opt.scratch);
	say("%s", summary);
	return 0;
}
