/*
 * libcriu against our criu, over `criu swrk` (bin) or a `criu service`
 * socket (sk):
 *   libcriu-test bin CRIU PROG SCRATCH
 *   libcriu-test sk SOCKET CRIU PROG SCRATCH
 * PROG is an e2e program (tests/e2e/progs): it writes its pidfile when set
 * up and "PASS" to its outfile after SIGTERM.  Prints one line per check;
 * exits 0 when all passed.  Only processes started here are signalled.
 */
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "criu.h"
#include "proto/rpc.pb-c.h"

static const char *criu_bin, *prog, *scratch;
static pid_t started[16];
static int nr_started;

static void cleanup(void)
{
	for (int i = 0; i < nr_started; i++)
		if (started[i] > 0)
			kill(started[i], SIGKILL);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	cleanup();
	exit(1);
}

static void ok(const char *what)
{
	printf("ok: %s\n", what);
	fflush(stdout);
}

static void path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", scratch, name);
}

/* Reads a small file into buf; 0 if it exists and is not empty. */
static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Polls for path to have contents, up to 20 s. */
static int wait_file(const char *path, char *buf, size_t size)
{
	for (int i = 0; i < 2000; i++) {
		if (!read_small(path, buf, size))
			return 0;
		usleep(10000);
	}
	return -1;
}

/* Starts PROG in its own session; returns its pid once it is set up. */
static pid_t start_prog(const char *tag)
{
	char pidfile[512], outfile[512], buf[64];
	pid_t pid;

	snprintf(buf, sizeof(buf), "%s.pid", tag);
	path_of(pidfile, sizeof(pidfile), buf);
	snprintf(buf, sizeof(buf), "%s.out", tag);
	path_of(outfile, sizeof(outfile), buf);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		setsid();
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		execl(prog, prog, "--pidfile", pidfile, "--outfile", outfile, (char *)NULL);
		_exit(127);
	}
	started[nr_started++] = pid;
	if (wait_file(pidfile, buf, sizeof(buf)))
		die("%s (pid %d) never wrote %s", prog, pid, pidfile);
	return pid;
}

/* waitpid with a bound; the status, or dies. */
static int wait_child(pid_t pid)
{
	int st;

	for (int i = 0; i < 2000; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG | __WALL);

		if (r == pid)
			return st;
		if (r < 0)
			die("waitpid(%d): %s", pid, strerror(errno));
		usleep(10000);
	}
	die("pid %d did not end", pid);
}

static int make_dir(const char *name)
{
	char path[512];
	int fd;

	path_of(path, sizeof(path), name);
	if (mkdir(path, 0700) && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	return fd;
}

static void expect_pass(const char *tag)
{
	char outfile[512], buf[256], name[64];

	snprintf(name, sizeof(name), "%s.out", tag);
	path_of(outfile, sizeof(outfile), name);
	if (wait_file(outfile, buf, sizeof(buf)))
		die("%s: no verdict in %s", tag, outfile);
	if (strncmp(buf, "PASS", 4))
		die("%s: verdict '%s'", tag, buf);
}

static int use_sk;
static const char *sock;

/* criu_init_opts() resets the transport too (to "criu" from PATH): set it after. */
static void init_opts(void)
{
	if (criu_init_opts())
		die("criu_init_opts");
	if (use_sk)
		criu_set_service_address(sock);
	else
		criu_set_service_binary(criu_bin);
}

static void dump_opts(int dirfd, pid_t pid, int leave_running)
{
	init_opts();
	criu_set_images_dir_fd(dirfd);
	criu_set_pid(pid);
	criu_set_leave_running(leave_running);
	criu_set_log_file("dump.log");
	criu_set_log_level(4);
}

/*
 * Requests over one raw swrk connection: the answer to each (resps[i]), or
 * dies.  The last request goes without keep_open: swrk must end after it.
 */
static void raw_swrk_session(CriuReq **reqs, CriuResp **resps, int nr)
{
	int sks[2];
	char fd[16];
	pid_t pid;
	uint8_t buf[4096];
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sks))
		die("socketpair: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		close(sks[0]);
		snprintf(fd, sizeof(fd), "%d", sks[1]);
		execl(criu_bin, criu_bin, "swrk", fd, (char *)NULL);
		_exit(127);
	}
	started[nr_started++] = pid;
	close(sks[1]);
	for (int i = 0; i < nr; i++) {
		size_t len = criu_req__get_packed_size(reqs[i]);

		if (len > sizeof(buf))
			die("request too big");
		criu_req__pack(reqs[i], buf);
		if (send(sks[0], buf, len, 0) != (ssize_t)len)
			die("send to swrk: %s", strerror(errno));
		n = recv(sks[0], buf, sizeof(buf), 0);
		if (n <= 0)
			die("no answer from swrk to request %d", i);
		resps[i] = criu_resp__unpack(NULL, (size_t)n, buf);
		if (!resps[i])
			die("undecodable answer from swrk");
	}
	/* without keep_open, swrk closes its end: we read the end of the stream */
	if (recv(sks[0], buf, sizeof(buf), 0) != 0)
		die("swrk did not end its session after a request without keep_open");
	close(sks[0]);
	wait_child(pid);
}

static CriuResp *raw_swrk(CriuReq *req)
{
	CriuResp *resp;

	raw_swrk_session(&req, &resp, 1);
	return resp;
}

/* ---- notifications ---- */
static char seen[32][32];
static pid_t seen_pid[32];
static int nr_seen;
static const char *fail_at;

static int notify_cb(char *action, criu_notify_arg_t na)
{
	if (nr_seen < 32) {
		snprintf(seen[nr_seen], sizeof(seen[0]), "%s", action);
		seen_pid[nr_seen++] = criu_notify_pid(na);
	}
	return fail_at && !strcmp(action, fail_at) ? -1 : 0;
}

/* The points seen since the last call, comma-separated, and whether each carried pid. */
static void expect_points(const char *want, pid_t pid, int pid_from)
{
	char got[512] = "";

	for (int i = 0; i < nr_seen; i++) {
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "", seen[i]);
		if (i >= pid_from && seen_pid[i] != pid)
			die("notification %s carried pid %d, want %d", seen[i], seen_pid[i], pid);
	}
	if (strcmp(got, want))
		die("notifications: '%s', want '%s'", got, want);
	nr_seen = 0;
}

/* Waits up to 10 s for pid to be gone. */
static int gone_soon(pid_t pid)
{
	for (int i = 0; i < 1000; i++) {
		if (kill(pid, 0) && errno == ESRCH)
			return 1;
		usleep(10000);
	}
	return 0;
}

/*
 * The notify callback sees every point of a dump and of a restore, with the
 * root's pid; a callback that fails post-dump leaves the tree running, one
 * that fails pre-resume gets the restored tree killed.
 */
static void notifications(void)
{
	pid_t p = start_prog("p4"), q;
	int d = make_dir("d4"), ret;

	dump_opts(d, p, 0);
	criu_set_notify_cb(notify_cb);
	ret = criu_dump();
	if (ret)
		die("criu_dump with a notify callback: %d (errno %d)", ret, errno);
	wait_child(p);
	expect_points("pre-dump,post-dump", p, 0);
	init_opts();
	criu_set_images_dir_fd(d);
	criu_set_log_file("restore.log");
	criu_set_log_level(CRIU_LOG_DEBUG);
	criu_set_notify_cb(notify_cb);
	criu_set_orphan_pts_master(true);
	ret = criu_restore();
	if (ret != p)
		die("criu_restore with a notify callback: %d, want %d (errno %d)", ret, p, errno);
	expect_points("pre-restore,setup-namespaces,post-setup-namespaces,pre-resume,"
		      "post-restore,post-resume",
		      p, 1);
	if (criu_get_orphan_pts_master_fd() != -1)
		die("an orphan pts master fd without a pty");
	kill(p, SIGTERM);
	expect_pass("p4");
	ok("notify callback: every point of a dump and a restore, with the root pid");

	q = start_prog("p5");
	d = make_dir("d5");
	dump_opts(d, q, 0);
	criu_set_notify_cb(notify_cb);
	fail_at = "post-dump";
	ret = criu_dump();
	if (ret != -EBADE)
		die("dump whose callback fails post-dump: %d, want -EBADE", ret);
	expect_points("pre-dump,post-dump", q, 0);
	if (kill(q, 0))
		die("pid %d is gone after a dump that failed at post-dump", q);
	ok("a callback failing post-dump fails the dump, the tree runs on");
	fail_at = NULL;
	dump_opts(d, q, 0);
	ret = criu_dump();
	if (ret)
		die("criu_dump of %d: %d (errno %d)", q, ret, errno);
	wait_child(q);
	init_opts();
	criu_set_images_dir_fd(d);
	criu_set_log_file("restore.log");
	criu_set_notify_cb(notify_cb);
	fail_at = "pre-resume";
	ret = criu_restore();
	fail_at = NULL;
	if (ret != -EBADE)
		die("restore whose callback fails pre-resume: %d, want -EBADE", ret);
	expect_points("pre-restore,setup-namespaces,post-setup-namespaces,pre-resume", q, 1);
	if (!gone_soon(q))
		die("pid %d is alive after a restore that failed at pre-resume", q);
	ok("a callback failing pre-resume fails the restore, the tree is killed");
}

/* What `criu check --feature NAME` says: 1 when this kernel has it. */
static int kernel_has(const char *name)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);

		dup2(nul, 1);
		dup2(nul, 2);
		execl(criu_bin, criu_bin, "check", "--feature", name, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) > 1)
		die("criu check --feature %s did not answer", name);
	return WEXITSTATUS(st) == 0;
}

static pid_t free_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	wait_child(pid);
	return pid;
}

/*
 * Over the service (which runs as root): a client of uid 65534 may not dump
 * a process of root's, and is refused a restore.
 */
static void non_root_client(int dirfd)
{
	pid_t target = start_prog("p3"), child;
	int st;

	child = fork();
	if (child == 0) {
		int ret;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(2);
		dump_opts(dirfd, target, 1);
		errno = 0;
		ret = criu_dump();
		if (ret != -EBADE || errno != EPERM) {
			printf("FAIL: dump of root's %d by uid 65534: %d errno %d\n", target, ret,
			       errno);
			_exit(1);
		}
		init_opts();
		criu_set_images_dir_fd(dirfd);
		ret = criu_restore();
		if (ret != -EBADE || errno != EPERM) {
			printf("FAIL: restore by uid 65534: %d errno %d\n", ret, errno);
			_exit(1);
		}
		_exit(0);
	}
	started[nr_started++] = child;
	st = wait_child(child);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		die("the uid 65534 client failed (status 0x%x)", st);
	if (kill(target, 0))
		die("pid %d is gone after a refused dump", target);
	ok("a uid 65534 client may not dump root's process nor restore");
	kill(target, SIGKILL);
	wait_child(target);
}

/*
 * inherit_fd (swrk): a child writing into a pipe to us is dumped; its
 * restore gets a new pipe of ours for that one, by key "pipe:[INODE]".
 */
static void inherit_fd(void)
{
	int p[2], q[2], d, ret;
	struct stat sb;
	char key[64], buf[64];
	pid_t c;
	ssize_t n = 0;

	if (pipe(p) || fstat(p[1], &sb))
		die("pipe: %s", strerror(errno));
	c = fork();
	if (c < 0)
		die("fork: %s", strerror(errno));
	if (c == 0) {
		int nul = open("/dev/null", O_RDWR);

		setsid();
		dup2(nul, 0);
		dup2(p[1], 1);
		dup2(nul, 2);
		for (int i = 3; i < 1024; i++)
			close(i);
		for (;;) {
			if (write(1, "tick\n", 5) < 0)
				_exit(1);
			usleep(50000);
		}
	}
	started[nr_started++] = c;
	close(p[1]);
	if (read(p[0], buf, 5) != 5)
		die("the writer does not write");
	d = make_dir("inh");
	dump_opts(d, c, 0);
	ret = criu_dump();
	if (ret)
		die("criu_dump of the pipe writer %d: %d (errno %d)", c, ret, errno);
	wait_child(c);
	close(p[0]);
	if (pipe(q))
		die("pipe: %s", strerror(errno));
	snprintf(key, sizeof(key), "pipe:[%lu]", (unsigned long)sb.st_ino);
	init_opts();
	criu_set_images_dir_fd(d);
	criu_set_log_file("restore-inh.log");
	criu_set_log_level(4);
	if (criu_add_inherit_fd(q[1], key))
		die("criu_add_inherit_fd");
	ret = criu_restore();
	close(q[1]);
	if (ret != c)
		die("criu_restore with inherit_fd %s: %d, want pid %d (errno %d)", key, ret, c, errno);
	{
		struct pollfd pf = { q[0], POLLIN, 0 };

		if (poll(&pf, 1, 5000) == 1)
			n = read(q[0], buf, sizeof(buf));
	}
	kill(c, SIGKILL);
	close(q[0]);
	close(d);
	if (n < 5 || strncmp(buf, "tick\n", 5))
		die("the restored writer wrote %zd bytes into the pipe given by inherit_fd", n);
	ok("inherit_fd: the restored writer writes into the pipe given for pipe:[INODE]");
}

int main(int argc, char **argv)
{
	int ret, d1, d2, st;
	pid_t p1, p2, gone;

	if (argc < 5)
		die("usage: libcriu-test bin CRIU PROG SCRATCH | sk SOCKET CRIU PROG SCRATCH");
	use_sk = !strcmp(argv[1], "sk");
	if (use_sk) {
		if (argc < 6)
			die("sk needs SOCKET CRIU PROG SCRATCH");
		sock = argv[2];
		argv++;
	}
	criu_bin = argv[2];
	prog = argv[3];
	scratch = argv[4];
	alarm(240);

	init_opts();
	ret = criu_check();
	if (ret)
		die("criu_check: %d (errno %d)", ret, errno);
	ok("criu_check");
	ret = criu_get_version();
	if (ret != 40201)
		die("criu_get_version: %d, want 40201 (4.2.1)", ret);
	ok("criu_get_version");

	/* dump with leave_running: the process runs on */
	p1 = start_prog("p1");
	d1 = make_dir("d1");
	dump_opts(d1, p1, 1);
	ret = criu_dump();
	if (ret)
		die("criu_dump -R of %d: %d (errno %d)", p1, ret, errno);
	if (kill(p1, 0))
		die("pid %d is gone after a dump with leave_running", p1);
	ok("criu_dump leave_running");
	kill(p1, SIGKILL);
	wait_child(p1);

	/* dump without: the process is gone; criu_restore brings it back */
	p2 = start_prog("p2");
	d2 = make_dir("d2");
	dump_opts(d2, p2, 0);
	ret = criu_dump();
	if (ret)
		die("criu_dump of %d: %d (errno %d)", p2, ret, errno);
	st = wait_child(p2);
	if (!WIFSIGNALED(st))
		die("pid %d was not killed by the dump (status 0x%x)", p2, st);
	ok("criu_dump");
	init_opts();
	criu_set_images_dir_fd(d2);
	criu_set_log_file("restore.log");
	criu_set_log_level(4);
	ret = criu_restore();
	if (ret != p2)
		die("criu_restore: %d, want pid %d (errno %d)", ret, p2, errno);
	kill(p2, SIGTERM);
	expect_pass("p2");
	ok("criu_restore: the pid came back and the process works");
	if (!use_sk)
		inherit_fd();

	/* criu_restore_child: the restored root is our child */
	init_opts();
	criu_set_images_dir_fd(d1);
	criu_set_log_file("restore-child.log");
	criu_set_log_level(4);
	ret = criu_restore_child();
	if (ret != p1)
		die("criu_restore_child: %d, want pid %d (errno %d)", ret, p1, errno);
	if (getppid() == p1)
		die("confused");
	kill(p1, SIGTERM);
	/* a plain waitpid, as a caller would: no __WALL */
	if (waitpid(p1, &st, 0) != p1)
		die("waitpid of the restored child %d: %s", p1, strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("restored child %d ended with status 0x%x", p1, st);
	expect_pass("p1");
	ok("criu_restore_child: waitpid sees the restored child");

	notifications();

	/* errors */
	init_opts();
	criu_set_pid(getpid());
	ret = criu_dump();
	if (ret != -EBADE)
		die("dump without images_dir_fd: %d, want -EBADE", ret);
	ok("dump without images_dir_fd: -EBADE");

	gone = free_pid();
	dump_opts(d1, gone, 0);
	errno = 0;
	ret = criu_dump();
	if (ret != -EBADE || errno != ESRCH)
		die("dump of missing pid %d: %d errno %d, want -EBADE, ESRCH", gone, ret, errno);
	ok("dump of a pid that does not exist: -EBADE, errno ESRCH");

	dump_opts(d1, getpid(), 0);
	criu_set_weak_sysctls(true);
	ret = criu_dump();
	if (ret != -EBADE)
		die("dump with weak_sysctls: %d, want -EBADE", ret);
	ok("unsupported option weak_sysctls: -EBADE");

	if (!use_sk) {
		CriuReq req = CRIU_REQ__INIT;
		CriuOpts o = CRIU_OPTS__INIT;
		CriuResp *resp;

		req.type = CRIU_REQ_TYPE__WAIT_PID;
		resp = raw_swrk(&req);
		if (resp->type != CRIU_REQ_TYPE__EMPTY || resp->success || !resp->cr_errmsg ||
		    !strstr(resp->cr_errmsg, "not supported by this criu"))
			die("WAIT_PID over swrk: type %d success %d msg '%s'", resp->type,
			    resp->success, resp->cr_errmsg ? resp->cr_errmsg : "");
		criu_resp__free_unpacked(resp, NULL);
		ok("unsupported request type over raw swrk");

		req.type = CRIU_REQ_TYPE__DUMP;
		req.opts = &o;
		o.images_dir_fd = d1;
		o.has_pid = true;
		o.pid = free_pid();
		resp = raw_swrk(&req);
		if (resp->type != CRIU_REQ_TYPE__DUMP || resp->success || !resp->has_cr_errno ||
		    resp->cr_errno != ESRCH || !resp->cr_errmsg ||
		    !strstr(resp->cr_errmsg, "no such process") || !resp->dump ||
		    resp->dump->restored)
			die("DUMP of a missing pid over swrk: success %d errno %d msg '%s'",
			    resp->success, resp->cr_errno, resp->cr_errmsg ? resp->cr_errmsg : "");
		printf("   cr_errmsg: %s\n", resp->cr_errmsg);
		criu_resp__free_unpacked(resp, NULL);
		ok("cr_errno and cr_errmsg of a failed dump over raw swrk");

		{
			CriuReq v = CRIU_REQ__INIT, f = CRIU_REQ__INIT, c = CRIU_REQ__INIT;
			CriuReq cd = CRIU_REQ__INIT, cc = CRIU_REQ__INIT;
			CriuOpts co = CRIU_OPTS__INIT;
			CriuFeatures want = CRIU_FEATURES__INIT;
			CriuReq *reqs[] = { &v, &f, &cd, &cc, &c };
			CriuResp *resps[5];
			char img[512];
			struct stat sb;

			v.type = CRIU_REQ_TYPE__VERSION;
			v.has_keep_open = v.keep_open = true;
			f.type = CRIU_REQ_TYPE__FEATURE_CHECK;
			f.has_keep_open = f.keep_open = true;
			want.has_mem_track = true;
			want.mem_track = true;
			f.features = &want;
			/* each command in its own worker: the session goes on after them */
			co.images_dir_fd = make_dir("cpu");
			cd.type = CRIU_REQ_TYPE__CPUINFO_DUMP;
			cd.has_keep_open = cd.keep_open = true;
			cd.opts = &co;
			cc.type = CRIU_REQ_TYPE__CPUINFO_CHECK;
			cc.has_keep_open = cc.keep_open = true;
			cc.opts = &co;
			c.type = CRIU_REQ_TYPE__CHECK;
			raw_swrk_session(reqs, resps, 5);
			if (!resps[0]->success || !resps[0]->version ||
			    resps[0]->version->major_number != 4 ||
			    resps[0]->version->minor_number != 2 || resps[0]->version->sublevel != 1)
				die("VERSION over a kept connection");
			if (!resps[1]->success || !resps[1]->features ||
			    !resps[1]->features->has_mem_track ||
			    resps[1]->features->mem_track != kernel_has("mem_dirty_track"))
				die("FEATURE_CHECK: mem_track should be answered as criu check says");
			path_of(img, sizeof(img), "cpu/cpuinfo.img");
			if (!resps[2]->success || stat(img, &sb))
				die("CPUINFO_DUMP: success %d, %s %s", resps[2]->success, img,
				    stat(img, &sb) ? "missing" : "there");
			if (!resps[3]->success)
				die("CPUINFO_CHECK of this CPU's own image: %s",
				    resps[3]->cr_errmsg ? resps[3]->cr_errmsg : "failed");
			if (!resps[4]->success || resps[4]->type != CRIU_REQ_TYPE__CHECK)
				die("CHECK after four kept requests");
			for (int i = 0; i < 5; i++)
				criu_resp__free_unpacked(resps[i], NULL);
			close(co.images_dir_fd);
			ok("keep_open: version, feature check, cpuinfo dump and check, check "
			   "on one connection");
		}
	} else {
		non_root_client(d1);
	}
	criu_free_opts();
	printf("PASS\n");
	return 0;
}
