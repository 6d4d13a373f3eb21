#pragma GCC diagnostic ignored "-Wformat-truncation" /* paths are short here; a cut one fails the test */
/*
 * fault-walk CRIU FAULT_TREE SCRATCH MODE [N...]: what a failing or killed
 * criu leaves behind, on the tree of fault-tree.c.  MODE:
 *
 *   dump-fail, dump-kill        every fault point of `criu dump -R` in turn
 *                               (CRIU_FAULT=N, N:kill): after each, the
 *                               tree must be running as before (its own
 *                               check, see fault-tree.c) and criu must have
 *                               made no file outside the images dir
 *   restore-fail, restore-kill  every fault point of `criu restore -d`:
 *                               before the tasks are released the tree must
 *                               be entirely gone (every pid free) and a
 *                               second restore must succeed; after, the
 *                               tree must be restored whole
 *   restore-timed               kill -9 of criu restore after a random
 *                               delay, COUNT times: the tree is gone or
 *                               whole, never in between, and the next
 *                               restore succeeds
 *
 * N... (optional) walks only those points.  Environment: FAULT_MEM (MiB per
 * process, default 8), FAULT_THREADS (per process, default 2), FAULT_COUNT
 * (restore-timed, default 30), FAULT_DELAYS (restore-timed: kill after
 * these ms, comma-separated, instead of COUNT random delays), FAULT_SIGNAL
 * (restore-timed: the signal instead of SIGKILL; criu may then fail, and
 * must leave nothing), FAULT_STRIDE (walk every k-th point only),
 * FAULT_SECOND_RESTORE (restore walks: the second restore after every k-th
 * point only; every pid must be free after each), FAULT_SEED.  Prints one line per case and
 * "fault-walk MODE: N cases passed" at the end; exits 1 at the first
 * failure, with what went wrong.  It is a child subreaper: the orphans of a
 * dead criu come to it and are reaped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *criu, *tree_bin, *scratch, *mode;
static char tree_dir[4096], img_dir[4096];
static const char *mem_mb = "8", *threads = "2";
static int kill_sig = SIGKILL; /* restore-timed: FAULT_SIGNAL */
/* FAULT_STRIDE: walk points 1, 1 + k, ...; FAULT_SECOND_RESTORE: after
 * every k-th point only (the pids must be free after each) */
static int stride = 1, second_every = 1;
static pid_t root, tree_root; /* root: as a child of ours, negative once reaped */
static int pids[4096], npids;
static char listing[8192];

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void kill_leftovers(void)
{
	/* ours only: the pids of the tree this walk made */
	for (int i = 0; i < npids; i++)
		kill(pids[i], SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FAIL fault-walk %s: ", mode);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	kill_leftovers();
	exit(1);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void reap(void)
{
	int st;
	pid_t p;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		if (p == root)
			root = -root; /* gone: its pid may be taken again by a restore */
}

static char *read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static void path_in(char *out, const char *d, const char *name)
{
	snprintf(out, 4096, "%s/%s", d, name);
}

/* names in a directory, sorted, one string; temporary files left out */
static void list_dir(const char *d, char *out, size_t len)
{
	struct dirent **ents;
	int n = scandir(d, &ents, NULL, alphasort);

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;

		if (strcmp(nm, ".") && strcmp(nm, "..") && !strstr(nm, ".tmp") &&
		    strlen(out) + strlen(nm) + 2 < len) {
			strcat(out, nm);
			strcat(out, " ");
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

static void both_listings(char *out, size_t len)
{
	char a[4096], b[4096];

	list_dir(scratch, a, sizeof(a));
	list_dir(tree_dir, b, sizeof(b));
	snprintf(out, len, "%s| %s", a, b);
}

static void clear_images(bool all)
{
	struct dirent **ents;
	int n = scandir(img_dir, &ents, NULL, NULL);

	for (int i = 0; i < n; i++) {
		char p[4096];

		if (ents[i]->d_name[0] != '.' &&
		    (all || strstr(ents[i]->d_name, "log") || strstr(ents[i]->d_name, "stats")) &&
		    (all || !strstr(ents[i]->d_name, "dump.log"))) {
			path_in(p, img_dir, ents[i]->d_name);
			unlink(p);
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

/*
 * Runs criu with CRIU_FAULT=fault (NULL: none), SIGKILLs it after
 * kill_us (0: never); its stderr goes to img_dir/criu.err.  Returns the
 * wait status; orphans met meanwhile are reaped.
 */
static int run_criu(const char *fault, long kill_us, char *const args[])
{
	char *argv[32];
	int n = 0, st = 0;
	long t0 = now_ms();
	pid_t pid;

	argv[n++] = (char *)criu;
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		char p[4096];
		int fd;

		path_in(p, img_dir, "criu.err");
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		if (fault)
			setenv("CRIU_FAULT", fault, 1);
		else
			unsetenv("CRIU_FAULT");
		execv(criu, argv);
		_exit(127);
	}
	if (kill_us > 0) {
		struct timespec ts = { kill_us / 1000000, (kill_us % 1000000) * 1000 };

		nanosleep(&ts, NULL);
		kill(pid, kill_sig);
	}
	for (;;) {
		pid_t p = waitpid(-1, &st, WNOHANG);

		if (p == pid)
			return st;
		if (p == root)
			root = -root;
		if (p <= 0) {
			if (now_ms() - t0 > 300000) {
				kill(pid, SIGKILL);
				die("criu %s (CRIU_FAULT=%s) did not end in 300 s", args[0],
				    fault ? fault : "");
			}
			usleep(2000);
		}
	}
}

static bool pid_exists(int pid)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d", pid);
	return access(p, F_OK) == 0;
}

static void read_pids(void)
{
	static char buf[65536];
	char p[4096], *s, *save;

	path_in(p, tree_dir, "pids");
	if (!read_file(p, buf, sizeof(buf)))
		die("no %s", p);
	npids = 0;
	for (s = strtok_r(buf, "\n", &save); s && npids < 4096; s = strtok_r(NULL, "\n", &save))
		pids[npids++] = atoi(s);
}

/* 0 when no pid of the tree is in use any more (within ms) */
static int wait_pids_free(long ms)
{
	long t0 = now_ms();

	for (;;) {
		int left = 0;

		reap();
		for (int i = 0; i < npids && !left; i++)
			if (pid_exists(pids[i]))
				left = pids[i];
		if (!left)
			return 0;
		if (now_ms() - t0 > ms)
			return left;
		usleep(2000);
	}
}

static unsigned verdict_seq(char *text, size_t len)
{
	char p[4096];

	path_in(p, tree_dir, "verdict");
	if (!read_file(p, text, len))
		return 0;
	return (unsigned)strtoul(text, NULL, 10);
}

/* the tree's own check: NULL when all is well, else what it said */
static const char *check_tree(void)
{
	static char text[1024];
	unsigned seq = verdict_seq(text, sizeof(text));
	long t0 = now_ms();
	pid_t r = root > 0 ? root : -root;

	if (kill(r, SIGUSR1))
		return "the root of the tree is gone";
	while (verdict_seq(text, sizeof(text)) == seq) {
		reap();
		if (now_ms() - t0 > 90000)
			return "the tree does not answer (stopped, hung or dead)";
		usleep(5000);
	}
	return strstr(text, " OK") ? NULL : text;
}

static void start_tree(void)
{
	char p[4096], buf[64];
	long t0 = now_ms();

	mkdir(tree_dir, 0700);
	path_in(p, tree_dir, "ready");
	unlink(p);
	root = fork();
	if (root == 0) {
		execl(tree_bin, tree_bin, tree_dir, mem_mb, threads, (char *)NULL);
		_exit(127);
	}
	while (!read_file(p, buf, sizeof(buf))) {
		int st;

		if (waitpid(root, &st, WNOHANG) == root)
			die("fault-tree exited (status %#x)", st);
		if (now_ms() - t0 > 300000)
			die("fault-tree not ready in 300 s");
		usleep(10000);
	}
	read_pids();
	tree_root = root;
}

/* SIGTERM: its last check, and it ends; then every pid is free */
static void stop_tree(void)
{
	const char *bad;
	pid_t r = root > 0 ? root : -root;
	char text[1024];
	unsigned seq = verdict_seq(text, sizeof(text));
	long t0 = now_ms();

	kill(r, SIGTERM);
	while (verdict_seq(text, sizeof(text)) == seq && now_ms() - t0 < 90000)
		usleep(5000);
	bad = strstr(text, " OK") ? NULL : text;
	if (wait_pids_free(20000))
		die("the tree did not end after SIGTERM");
	if (bad)
		die("at its end the tree said: %s", bad);
}

static int count_points(char *const args[], int *release_at)
{
	char p[4096], *buf = malloc(1 << 20), *s;
	int st = run_criu("list", 0, args), n;

	path_in(p, img_dir, "criu.err");
	if (!WIFEXITED(st) || WEXITSTATUS(st) || !read_file(p, buf, 1 << 20))
		die("criu %s with CRIU_FAULT=list failed (status %#x)", args[0], st);
	s = strstr(buf, "fault points: ");
	if (!s)
		die("criu %s printed no 'fault points: N'", args[0]);
	n = atoi(s + 14);
	*release_at = n + 1;
	s = strstr(buf, ": restore: release");
	if (!s)
		s = strstr(buf, ": dump: release");
	if (s) {
		while (s > buf && s[-1] != '\n')
			s--;
		*release_at = atoi(s + strlen("fault point "));
	}
	free(buf);
	return n;
}

/*
 * The log of a criu killed at point n shows that point, and nothing that
 * criu itself did after it (a task still running criu's code may log a
 * step or two more before it dies with criu).
 */
static void check_log(const char *log, int n)
{
	char p[4096], *buf = malloc(1 << 22), want[64], *at, *k, *s;
	int criu_pid;

	path_in(p, img_dir, log);
	if (!buf || !read_file(p, buf, 1 << 22))
		die("point %d: no log %s", n, p);
	snprintf(want, sizeof(want), "fault point %d: ", n);
	at = strstr(buf, want);
	k = strstr(buf, "killing criu (pid ");
	if (!at || !k)
		die("point %d: %s does not show the point and the kill", n, log);
	criu_pid = atoi(k + strlen("killing criu (pid "));
	for (s = at + 1; (s = strstr(s, "fault point ")); s++) {
		char *e = strchr(s, '\n'), *pid = strstr(s, "(pid ");

		if (pid && (!e || pid < e) && atoi(pid + 5) == criu_pid)
			die("point %d: criu logged another step after it was killed: %.80s", n, s);
	}
	free(buf);
}

static bool killed(int st)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

static void check_no_new_files(int n)
{
	char now[8192];

	both_listings(now, sizeof(now));
	if (strcmp(now, listing))
		die("point %d: files outside the images dir: was '%s', now '%s'", n, listing, now);
}

static bool area_allowed; /* allow_area(): the area may stay after any kill */

/*
 * A criu killed while a parasite is loaded leaves nothing when compel found
 * the task's exit chain (compel/exit-chain.c), which it has on every arch
 * we test on.  Where it did not (criu's log says "no exit chain"), the
 * area stays: the tree then accepts exactly that, one rwx shared anonymous
 * mapping per kill, and nothing else.
 */
static void allow_area(void)
{
	char p[4096], *buf = malloc(1 << 22);
	int fd;

	path_in(p, img_dir, "dump.log");
	if (!buf || !read_file(p, buf, 1 << 22))
		die("no log of the dump without faults (%s)", p);
	fd = !strstr(buf, "no exit chain");
	free(buf);
	if (fd)
		return;
	printf("fault-walk: a task without an exit chain: its parasite's area may stay after a kill\n");
	area_allowed = true;

	path_in(p, tree_dir, "allow-area");
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		die("can't create %s: %s", p, strerror(errno));
	close(fd);
}

/*
 * A criu killed inside the area's own mmap (compel's point "kill-safe
 * syscall", which only that mmap has) leaves a victim that makes the mmap
 * and then goes back to its own state through the exit chain.  When
 * compel found a hole for it (its log says the area "unmaps itself"), the
 * chain unmaps it first; otherwise the area stays, accepted at that point
 * only (unless allow_area() holds for the whole walk).
 */
static bool killed_in_area_mmap(int n)
{
	char p[4096], want[96], *buf = malloc(1 << 22);
	bool hit;
	int fd;

	snprintf(want, sizeof(want), "fault point %d: compel: kill-safe syscall", n);
	path_in(p, img_dir, "dump.log");
	hit = buf && read_file(p, buf, 1 << 22) && strstr(buf, want);
	if (hit && strstr(buf, "unmaps itself should criu die in its mmap")) {
		printf("point %d: criu killed inside the area's mmap, an area that unmaps itself\n", n);
		hit = false;
	}
	free(buf);
	if (hit)
		printf("point %d: criu killed inside the area's kill-safe mmap\n", n);
	if (!hit || area_allowed)
		return false;
	path_in(p, tree_dir, "allow-area");
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		die("can't create %s: %s", p, strerror(errno));
	close(fd);
	return true;
}

static void forbid_area(void)
{
	char p[4096];

	path_in(p, tree_dir, "allow-area");
	unlink(p);
}

static int walk_dump(bool kill_mode, int argc, char **argv)
{
	char root_s[16], *args[16], fault[32];
	int n, rel, cases = 0;
	const char *bad;

	start_tree();
	if ((bad = check_tree()))
		die("the fresh tree: %s", bad);
	snprintf(root_s, sizeof(root_s), "%d", root);
	args[0] = "dump";
	args[1] = "-t";
	args[2] = root_s;
	args[3] = "-D";
	args[4] = img_dir;
	args[5] = "-R";
	args[6] = "-o";
	args[7] = "dump.log";
	args[8] = "-v4";
	args[9] = NULL;
	n = count_points(args, &rel);
	if ((bad = check_tree()))
		die("after a dump -R without faults: %s", bad);
	if (kill_mode)
		allow_area();
	clear_images(true);
	both_listings(listing, sizeof(listing));
	printf("fault-walk %s: %d fault points, the tree is released after point %d\n", mode, n,
	       rel - 1);
	for (int i = 1; i <= n; i += stride) {
		bool once;
		int st;

		if (argc) {
			bool want = false;

			for (int k = 0; k < argc; k++)
				want |= atoi(argv[k]) == i;
			if (!want)
				continue;
		}
		snprintf(fault, sizeof(fault), kill_mode ? "%d:kill" : "%d", i);
		st = run_criu(fault, 0, args);
		/* after the release (statistics) a failure is no failure of the dump */
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && i <= rel)
			die("point %d: criu dump exited 0", i);
		if (kill_mode && !killed(st))
			die("point %d: criu was not killed (status %#x)", i, st);
		once = kill_mode && killed_in_area_mmap(i);
		if ((bad = check_tree()))
			die("point %d (CRIU_FAULT=%s): the tree after it: %s", i, fault, bad);
		if (once)
			forbid_area();
		if (kill_mode)
			check_log("dump.log", i);
		clear_images(true);
		check_no_new_files(i);
		printf("ok point %d\n", i);
		fflush(stdout);
		cases++;
	}
	stop_tree();
	return cases;
}

static int dump_for_restore(char **rargs)
{
	char root_s[16];
	char *args[] = { "dump", "-t", root_s, "-D", img_dir, "-o", "dump.log", NULL };
	const char *bad;
	int st;

	start_tree();
	if ((bad = check_tree()))
		die("the fresh tree: %s", bad);
	snprintf(root_s, sizeof(root_s), "%d", root);
	st = run_criu(NULL, 0, args);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		die("the dump to restore from failed (status %#x)", st);
	if (wait_pids_free(20000))
		die("the dumped tree did not go away");
	rargs[0] = "restore";
	rargs[1] = "-D";
	rargs[2] = img_dir;
	rargs[3] = "-d";
	rargs[4] = "-o";
	rargs[5] = "restore.log";
	rargs[6] = "-v4";
	rargs[7] = NULL;
	return 0;
}

/* a restore without faults: it succeeds, the tree is whole, it ends;
 * returns how long criu took (ms) */
static long restore_clean(const char *why, char **args)
{
	long t0 = now_ms();
	int st = run_criu(NULL, 0, args);
	long took = now_ms() - t0;
	const char *bad;

	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		char p[4096], buf[2048] = "";

		path_in(p, img_dir, "criu.err");
		read_file(p, buf, sizeof(buf));
		die("%s: the next restore failed (status %#x): %s", why, st, buf);
	}
	root = tree_root;
	if ((bad = check_tree()))
		die("%s: the restored tree: %s", why, bad);
	stop_tree();
	return took;
}

static int walk_restore(bool kill_mode, int argc, char **argv)
{
	char *args[16], fault[32], what[64];
	int n, rel, cases = 0;
	const char *bad;

	dump_for_restore(args);
	n = count_points(args, &rel);
	root = tree_root;
	if ((bad = check_tree()))
		die("after a restore without faults: %s", bad);
	stop_tree();
	clear_images(false);
	both_listings(listing, sizeof(listing));
	printf("fault-walk %s: %d fault points, the tasks are released after point %d\n", mode,
	       n, rel - 1);
	for (int i = 1; i <= n; i += stride) {
		int st, left;

		if (argc) {
			bool want = false;

			for (int k = 0; k < argc; k++)
				want |= atoi(argv[k]) == i;
			if (!want)
				continue;
		}
		snprintf(fault, sizeof(fault), kill_mode ? "%d:kill" : "%d", i);
		st = run_criu(fault, 0, args);
		if (kill_mode && !killed(st))
			die("point %d: criu was not killed (status %#x)", i, st);
		if (kill_mode)
			check_log("restore.log", i);
		if (i <= rel) {
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				die("point %d: criu restore exited 0", i);
			left = wait_pids_free(10000);
			if (left)
				die("point %d (CRIU_FAULT=%s): pid %d of the tree is still there", i,
				    fault, left);
			clear_images(false);
			check_no_new_files(i);
			snprintf(what, sizeof(what), "point %d", i);
			/* the last point before the release always */
			if (cases % second_every == 0 || i + stride > rel)
				restore_clean(what, args);
		} else {
			/* released already: the tree is whole, criu or not */
			root = tree_root;
			if ((bad = check_tree()))
				die("point %d (after the release): the tree: %s", i, bad);
			stop_tree();
		}
		clear_images(false);
		printf("ok point %d\n", i);
		fflush(stdout);
		cases++;
	}
	return cases;
}

/*
 * After a kill: 0 once every pid of the tree is free, 1 once all are there
 * (for a while, or at once when criu finished); half a tree for 10 s fails.
 */
static int settle(const char *what, bool finished)
{
	long t0 = now_ms();

	for (;;) {
		int there = 0, missing = 0;

		reap();
		for (int k = 0; k < npids; k++) {
			if (pid_exists(pids[k]))
				there = pids[k];
			else
				missing = pids[k];
		}
		if (!there)
			return 0;
		if (!missing && (finished || now_ms() - t0 > 300))
			return 1;
		if (now_ms() - t0 > 10000)
			die("%s: pid %d is there, pid %d is not: half a tree", what, there, missing);
		usleep(2000);
	}
}

static int restore_timed(void)
{
	char *args[16], what[64];
	const char *env = getenv("FAULT_COUNT"), *delays = getenv("FAULT_DELAYS");
	int count = env ? atoi(env) : 30, cases = 0, gone = 0, whole = 0, interrupted = 0;
	long span, fixed[64];
	int nfixed = 0;
	char *save, *tok, dbuf[512];

	dump_for_restore(args);
	span = restore_clean("a first restore", args);
	span += span / 4 + 1; /* kills after the end too */
	clear_images(false);
	printf("fault-walk %s: kill -9 of criu restore within %ld ms\n", mode, span);
	if (delays) {
		snprintf(dbuf, sizeof(dbuf), "%s", delays);
		for (tok = strtok_r(dbuf, ", ", &save); tok && nfixed < 64;
		     tok = strtok_r(NULL, ", ", &save))
			fixed[nfixed++] = atol(tok) * 1000;
		count = nfixed;
	}
	for (int i = 1; i <= count; i++) {
		long delay = nfixed ? fixed[i - 1] : (long)(random() % (span * 1000 + 1));
		int st = run_criu(NULL, delay, args), left;
		const char *bad;

		snprintf(what, sizeof(what), "signal %d %d after %ld us", kill_sig, i, delay);
		/* a caught signal: criu kills what it made and fails */
		if (WIFEXITED(st) && WEXITSTATUS(st) && kill_sig == SIGKILL)
			die("%s: criu restore failed by itself (status %#x)", what, st);
		/* a killed criu's tree dies at once, or was let go whole */
		left = settle(what, WIFEXITED(st) && !WEXITSTATUS(st));
		if (left && WIFEXITED(st) && WEXITSTATUS(st))
			die("%s: criu restore failed, and left the tree", what);
		if (WIFEXITED(st) && WEXITSTATUS(st)) {
			char p[4096], buf[8192] = "";

			path_in(p, img_dir, "criu.err");
			read_file(p, buf, sizeof(buf));
			if (!strstr(buf, "interrupted by signal"))
				die("%s: criu failed but does not say it was interrupted: %s", what,
				    buf);
			interrupted++;
		}
		if (left) {
			root = tree_root;
			if ((bad = check_tree()))
				die("%s: a tree was left, and it says: %s", what, bad);
			stop_tree();
			whole++;
		} else {
			gone++;
		}
		clear_images(false);
		restore_clean(what, args);
		clear_images(false);
		cases++;
	}
	printf("fault-walk %s: %d kills (signal %d): the tree was gone %d times (criu said it was "
	       "interrupted %d times), whole %d times\n",
	       mode, count, kill_sig, gone, interrupted, whole);
	return cases;
}

int main(int argc, char **argv)
{
	int cases;
	const char *seed = getenv("FAULT_SEED");

	if (argc < 5) {
		fprintf(stderr, "usage: fault-walk CRIU FAULT_TREE SCRATCH MODE [N...]\n");
		return 2;
	}
	criu = argv[1];
	tree_bin = argv[2];
	scratch = argv[3];
	mode = argv[4];
	if (getenv("FAULT_MEM"))
		mem_mb = getenv("FAULT_MEM");
	if (getenv("FAULT_THREADS"))
		threads = getenv("FAULT_THREADS");
	if (getenv("FAULT_SIGNAL"))
		kill_sig = atoi(getenv("FAULT_SIGNAL"));
	if (getenv("FAULT_STRIDE") && atoi(getenv("FAULT_STRIDE")) > 0)
		stride = atoi(getenv("FAULT_STRIDE"));
	if (getenv("FAULT_SECOND_RESTORE") && atoi(getenv("FAULT_SECOND_RESTORE")) > 0)
		second_every = atoi(getenv("FAULT_SECOND_RESTORE"));
	srandom(seed ? (unsigned)atol(seed) : (unsigned)time(NULL));
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		die("can't become a child subreaper: %s", strerror(errno));
	path_in(tree_dir, scratch, "tree");
	path_in(img_dir, scratch, "images");
	mkdir(img_dir, 0700);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(mode, "dump-fail") || !strcmp(mode, "dump-kill"))
		cases = walk_dump(!strcmp(mode, "dump-kill"), argc - 5, argv + 5);
	else if (!strcmp(mode, "restore-fail") || !strcmp(mode, "restore-kill"))
		cases = walk_restore(!strcmp(mode, "restore-kill"), argc - 5, argv + 5);
	else if (!strcmp(mode, "restore-timed"))
		cases = restore_timed();
	else
		die("unknown mode (dump-fail, dump-kill, restore-fail, restore-kill, restore-timed)");
	printf("fault-walk %s: %d cases passed\n", mode, cases);
	return 0;
}
