/*
 * Every function of libcriu's criu.h (upstream's interface), against our
 * criu; built with -Werror against lib/c/criu.h as a program written for
 * upstream's would be.
 *   libcriu-every bin CRIU PROG SCRATCH    criu_set_service_binary(CRIU)
 *   libcriu-every path CRIU PROG SCRATCH   the default: "criu" from PATH
 *   libcriu-every sk CRIU PROG SCRATCH SOCKET   a `criu service` on SOCKET
 * For each option: a value criu implements or accepts dumps and restores
 * PROG (an e2e program: pidfile when set up, PASS in its outfile after
 * SIGTERM); one it does not is refused with -EBADE, naming it (in criu's
 * stderr, ours unless over the service).  Each setter is called through
 * the global and the local set.  Exits 0 when all passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu.h"

static const char *mode, *criu_bin, *prog, *scratch, *sock;
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

static int wait_file(const char *path, char *buf, size_t size)
{
	for (int i = 0; i < 2000; i++) {
		if (!read_small(path, buf, size))
			return 0;
		usleep(10000);
	}
	return -1;
}

static pid_t start_prog(const char *tag)
{
	char pidfile[512], outfile[512], buf[64];
	pid_t pid;

	snprintf(pidfile, sizeof(pidfile), "%s/%s.pid", scratch, tag);
	snprintf(outfile, sizeof(outfile), "%s/%s.out", scratch, tag);
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

	snprintf(path, sizeof(path), "%s/%s", scratch, name);
	if (mkdir(path, 0700) && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	return fd;
}

static void expect_pass(const char *tag)
{
	char outfile[512], buf[256];

	snprintf(outfile, sizeof(outfile), "%s/%s.out", scratch, tag);
	if (wait_file(outfile, buf, sizeof(buf)))
		die("%s: no verdict in %s", tag, outfile);
	if (strncmp(buf, "PASS", 4))
		die("%s: verdict '%s'", tag, buf);
}

/* The transport of the mode, on the global set or on o. */
static void transport(criu_opts *o)
{
	int ret = 0;

	if (!strcmp(mode, "sk"))
		ret = o ? criu_local_set_service_address(o, sock) : criu_set_service_address(sock);
	else if (!strcmp(mode, "bin"))
		ret = o ? criu_local_set_service_binary(o, criu_bin) : criu_set_service_binary(criu_bin);
	if (ret)
		die("setting the transport: %d", ret);
}

static void global_init(void)
{
	if (criu_init_opts())
		die("criu_init_opts");
	transport(NULL);
}

static criu_opts *local_init(void)
{
	criu_opts *o = NULL;

	if (criu_local_init_opts(&o) || !o)
		die("criu_local_init_opts");
	transport(o);
	return o;
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

/* ---- versions, checks, features, transports -------------------------------- */

static void versions(void)
{
	criu_opts *o = local_init();
	int v;

	global_init();
	if ((v = criu_get_version()) != 40201)
		die("criu_get_version: %d, want 40201", v);
	if (criu_check_version(40201) != 1 || criu_check_version(30000) != 1 ||
	    criu_check_version(40202) != 0)
		die("criu_check_version");
	if ((v = criu_local_get_version(o)) != 40201)
		die("criu_local_get_version: %d", v);
	if (criu_local_check_version(o, 31100) != 1 || criu_local_check_version(o, 50000) != 0)
		die("criu_local_check_version");
	if (CRIU_VERSION_MAJOR * 10000 + CRIU_VERSION_MINOR * 100 + CRIU_VERSION_SUBLEVEL != v)
		die("version.h says %d.%d.%d, criu %d", CRIU_VERSION_MAJOR, CRIU_VERSION_MINOR,
		    CRIU_VERSION_SUBLEVEL, v);
	if (criu_check() || criu_local_check(o))
		die("criu_check / criu_local_check");
	criu_local_free_opts(o);
	ok("versions 40201 (runc's 30000, podman's 31100 are met), check");
}

static void features(void)
{
	struct criu_feature_check f = { true, true, true, true };
	criu_opts *o = local_init();
	int ret;

	int track = kernel_has("mem_dirty_track"), lazy = kernel_has("uffd-noncoop");
	int store = kernel_has("pidfd_store");

	global_init();
	/* the same answers as the command line's; no compression here */
	ret = criu_feature_check(&f, sizeof(f));
	if (ret || f.mem_track != track || f.lazy_pages != lazy || f.pidfd_store != store ||
	    f.mem_compression)
		die("criu_feature_check: %d, %d%d%d%d, want %d%d%d0", ret, f.mem_track, f.lazy_pages,
		    f.pidfd_store, f.mem_compression, track, lazy, store);
	/* an older caller's shorter struct: members beyond it stay untouched */
	f.mem_track = true;
	f.lazy_pages = true;
	f.pidfd_store = true;
	f.mem_compression = true;
	ret = criu_local_feature_check(o, &f, offsetof(struct criu_feature_check, pidfd_store));
	if (ret || f.mem_track != track || f.lazy_pages != lazy || !f.pidfd_store ||
	    !f.mem_compression)
		die("criu_local_feature_check of a short struct: %d", ret);
	if (criu_feature_check(&f, sizeof(f) + 1) != -EINVAL || criu_feature_check(NULL, 0) != -EINVAL)
		die("criu_feature_check of a bad size");
	criu_local_free_opts(o);
	ok("feature checks: as criu check --feature says, short structs, bad sizes");
}

/* CRIU_COMM_FD: a swrk of our own on a socketpair. */
static void service_fd(void)
{
	int sks[2], st, v;
	pid_t pid;
	char fd[16];
	criu_opts *o;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sks))
		die("socketpair: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		close(sks[0]);
		snprintf(fd, sizeof(fd), "%d", sks[1]);
		execl(criu_bin, criu_bin, "swrk", fd, (char *)NULL);
		_exit(127);
	}
	close(sks[1]);
	global_init();
	criu_set_service_fd(sks[0]);
	if ((v = criu_get_version()) != 40201)
		die("criu_get_version over criu_set_service_fd: %d", v);
	st = wait_child(pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		die("the swrk on our fd ended with 0x%x", st);
	close(sks[0]);
	/* the local one, on a socket nobody serves: -ECOMM */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sks))
		die("socketpair: %s", strerror(errno));
	close(sks[1]);
	o = local_init();
	criu_local_set_service_fd(o, sks[0]);
	if ((v = criu_local_get_version(o)) != -ECOMM)
		die("criu_local_get_version on a dead socket: %d, want -ECOMM", v);
	close(sks[0]);
	criu_local_free_opts(o);
	ok("criu_set_service_fd: a connected swrk answers; a dead socket is -ECOMM");
}

/* ---- setters ------------------------------------------------------------ */

static void setter_values(void)
{
	criu_opts *o = local_init();

	global_init();
#define BOTH(expr_g, expr_l, want)                                                      \
	do {                                                                            \
		int rg = (expr_g), rl = (expr_l);                                        \
		if (rg != (want) || rl != (want))                                        \
			die("%s: %d, %s: %d, want %d", #expr_g, rg, #expr_l, rl, want); \
	} while (0)
	BOTH(criu_set_compress(CRIU_COMPRESS_OFF), criu_local_set_compress(o, CRIU_COMPRESS_OFF), 0);
	BOTH(criu_set_compress(CRIU_COMPRESS_BLOCK), criu_local_set_compress(o, CRIU_COMPRESS_BLOCK),
	     -EINVAL);
	BOTH(criu_set_compress_acceleration(2), criu_local_set_compress_acceleration(o, 2), -EINVAL);
	BOTH(criu_set_compress_block_size(65536), criu_local_set_compress_block_size(o, 65536),
	     -EINVAL);
	BOTH(criu_set_decompress_threads(1), criu_local_set_decompress_threads(o, 1), 0);
	BOTH(criu_set_decompress_threads(4), criu_local_set_decompress_threads(o, 4), -EINVAL);
	BOTH(criu_set_image_io_mode(CRIU_IMAGE_IO_WRITEBACK),
	     criu_local_set_image_io_mode(o, CRIU_IMAGE_IO_WRITEBACK), 0);
	BOTH(criu_set_image_io_mode(CRIU_IMAGE_IO_DIRECT),
	     criu_local_set_image_io_mode(o, CRIU_IMAGE_IO_DIRECT), -EINVAL);
	BOTH(criu_add_plugin_option("x=1"), criu_local_add_plugin_option(o, "x=1"), -EINVAL);
	BOTH(criu_set_pre_dump_mode((enum criu_pre_dump_mode)9),
	     criu_local_set_pre_dump_mode(o, (enum criu_pre_dump_mode)9), -1);
	BOTH(criu_set_network_lock((enum criu_network_lock_method)9),
	     criu_local_set_network_lock(o, (enum criu_network_lock_method)9), -1);
	BOTH(criu_join_ns_add(NULL, "x", NULL), criu_local_join_ns_add(o, NULL, "x", NULL), -EINVAL);
	BOTH(criu_set_exec_cmd(0, NULL), criu_local_set_exec_cmd(o, 0, NULL), -EINVAL);
#undef BOTH
	if (criu_notify_pid(NULL) != 0 || criu_get_orphan_pts_master_fd() != -1)
		die("criu_notify_pid(NULL) / criu_get_orphan_pts_master_fd before any");
	criu_local_free_opts(o);
	criu_free_opts();
	ok("setters of what this criu has no counterpart for, bad values");
}

/* Runs f with our stderr (and so a swrk's) going to a file; its text in buf. */
static int with_stderr(int (*f)(criu_opts *), criu_opts *o, char *buf, size_t size)
{
	char path[512];
	int fd, saved, ret;

	snprintf(path, sizeof(path), "%s/stderr.txt", scratch);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	saved = dup(2);
	if (fd < 0 || saved < 0)
		die("stderr file: %s", strerror(errno));
	fflush(stderr);
	dup2(fd, 2);
	ret = f(o);
	dup2(saved, 2);
	close(saved);
	close(fd);
	buf[0] = '\0';
	read_small(path, buf, size);
	return ret;
}

static int dump_global(criu_opts *o)
{
	return criu_dump();
}

/*
 * Options this criu refuses, each once through the global set and once
 * through a local one: the dump is -EBADE, names the option (when criu's
 * stderr is ours), and the process runs on.
 */
#define NR_REFUSED 30
static const char *apply_refused(int i, criu_opts *o)
{
	static char *argv[] = { "true", NULL };
	int r = 0;

#define SET(g, l) (o ? (l) : (g))
	switch (i) {
	case 0: r = SET(criu_set_root("/"), criu_local_set_root(o, "/")); return r ? "" : "root";
	case 1: r = SET(criu_add_ext_mount("a", "b"), criu_local_add_ext_mount(o, "a", "b")); return r ? "" : "ext_mnt";
	case 2: r = SET(criu_add_external("mnt[x]:y"), criu_local_add_external(o, "mnt[x]:y")); return r ? "" : "external";
	case 3: r = SET(criu_join_ns_add("net", "/proc/self/ns/net", NULL), criu_local_join_ns_add(o, "net", "/proc/self/ns/net", "x")); return r ? "" : "join_ns";
	case 4: if (o) criu_local_set_empty_ns(o, CLONE_NEWNET); else criu_set_empty_ns(CLONE_NEWNET); return "empty_ns";
	case 5: r = SET(criu_add_skip_mnt("/x"), criu_local_add_skip_mnt(o, "/x")); return r ? "" : "skip_mnt";
	case 6: r = SET(criu_add_enable_fs("nfs"), criu_local_add_enable_fs(o, "nfs")); return r ? "" : "enable_fs";
	case 7: if (o) criu_local_set_auto_ext_mnt(o, true); else criu_set_auto_ext_mnt(true); return "auto_ext_mnt";
	case 8: if (o) criu_local_set_ext_sharing(o, true); else criu_set_ext_sharing(true); return "ext_sharing";
	case 9: if (o) criu_local_set_ext_masters(o, true); else criu_set_ext_masters(true); return "ext_masters";
	case 10: if (o) criu_local_set_mntns_compat_mode(o, true); else criu_set_mntns_compat_mode(true); return "mntns_compat_mode";
	case 11: r = SET(criu_add_veth_pair("a", "b"), criu_local_add_veth_pair(o, "a", "b")); return r ? "" : "veths";
	case 12: r = SET(criu_set_lsm_mount_context("x"), criu_local_set_lsm_mount_context(o, "x")); return r ? "" : "lsm_mount_context";
	case 13: if (o) criu_local_set_manage_cgroups_mode(o, CRIU_CG_MODE_FULL); else criu_set_manage_cgroups_mode(CRIU_CG_MODE_STRICT); return "manage_cgroups_mode";
	case 14: r = SET(criu_add_cg_root(NULL, "/x"), criu_local_add_cg_root(o, "cpu", "/x")); return r ? "" : "cg_root";
	case 15: r = SET(criu_add_cg_props("x"), criu_local_add_cg_props(o, "x")); return r ? "" : "cgroup_props";
	case 16: r = SET(criu_add_cg_props_file("/x"), criu_local_add_cg_props_file(o, "/x")); return r ? "" : "cgroup_props_file";
	case 17: r = SET(criu_add_cg_dump_controller("cpu"), criu_local_add_cg_dump_controller(o, "cpu")); return r ? "" : "cgroup_dump_controller";
	case 18: r = SET(criu_set_freeze_cgroup("/x"), criu_local_set_freeze_cgroup(o, "/x")); return r ? "" : "freeze_cgroup";
	case 19: r = SET(criu_add_cg_yard("/x"), criu_local_add_cg_yard(o, "/x")); return r ? "" : "cgroup_yard";
	case 20: r = SET(criu_set_page_server_address_port("127.0.0.1", 1), criu_local_set_page_server_address_port(o, "127.0.0.1", 1)); return r ? "" : "ps";
	case 21: r = SET(criu_set_exec_cmd(1, argv), criu_local_set_exec_cmd(o, 1, argv)); return r ? "" : "exec_cmd";
	case 22: r = SET(criu_add_inherit_fd(0, "x"), criu_local_add_inherit_fd(o, 0, "x")); return r ? "" : "inherit_fd";
	case 23: r = SET(criu_add_unix_sk(1), criu_local_add_unix_sk(o, 1)); return r ? "" : "unix_sk_ino";
	case 24: r = SET(criu_add_irmap_path("/"), criu_local_add_irmap_path(o, "/")); return r ? "" : "irmap_scan_paths";
	case 25: if (o) criu_local_set_tcp_skip_in_flight(o, true); else criu_set_tcp_skip_in_flight(true); return "tcp_skip_in_flight";
	case 26: if (o) criu_local_set_weak_sysctls(o, true); else criu_set_weak_sysctls(true); return "weak_sysctls";
	case 27: if (o) criu_local_set_tcp_close(o, true); else criu_set_tcp_close(true); return "tcp_close";
	case 28: r = SET(criu_set_lsm_profile("x"), criu_local_set_lsm_profile(o, "x")); return r ? "" : "lsm_profile";
	case 29: if (o) criu_local_set_pidfd_store_sk(o, 3); else criu_set_pidfd_store_sk(3); return "pidfd_store_sk";
	}
#undef SET
	return "";
}

/* skip_file_rwx_check and unprivileged: globals only in upstream's header for one of them */
static const char *apply_refused_more(int i, criu_opts *o)
{
	if (i == 0) {
		if (o)
			criu_local_set_skip_file_rwx_check(o, true);
		else
			criu_set_skip_file_rwx_check(true);
		return "skip_file_rwx_check";
	}
	if (o)
		criu_local_set_unprivileged(o, true);
	else
		criu_set_unprivileged(true);
	return "unprivileged";
}

static void refusals(void)
{
	pid_t p = start_prog("r");
	int d = make_dir("refused"), n = 0;
	char err[8192], want[128];
	bool named = strcmp(mode, "sk") != 0;

	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < NR_REFUSED + 2; i++) {
			criu_opts *o = pass ? local_init() : NULL;
			const char *name;
			int ret;

			if (!o)
				global_init();
			if (o) {
				criu_local_set_images_dir_fd(o, d);
				criu_local_set_pid(o, p);
				criu_local_set_leave_running(o, true);
			} else {
				criu_set_images_dir_fd(d);
				criu_set_pid(p);
				criu_set_leave_running(true);
			}
			name = i < NR_REFUSED ? apply_refused(i, o) : apply_refused_more(i - NR_REFUSED, o);
			if (!name[0])
				die("setter %d (%s) failed", i, pass ? "local" : "global");
			ret = o ? with_stderr(criu_local_dump, o, err, sizeof(err))
				: with_stderr(dump_global, NULL, err, sizeof(err));
			if (ret != -EBADE)
				die("dump with %s: %d, want -EBADE", name, ret);
			snprintf(want, sizeof(want), "option %s ", name);
			if (named && !strstr(err, want))
				die("dump with %s: criu did not name it: %s", name, err);
			if (kill(p, 0))
				die("pid %d is gone after a refused dump (%s)", p, name);
			criu_local_free_opts(o);
			n++;
		}
	}
	printf("   %d refusals%s\n", n, named ? ", each named" : "");
	kill(p, SIGKILL);
	wait_child(p);
	ok("every option this criu does not implement is refused by name, globally and locally");
}

/* ---- what is accepted: a dump and a restore with every such option ---------- */

static int points;

static int count_points(char *action, criu_notify_arg_t na)
{
	points++;
	return 0;
}

static void accepted(void)
{
	pid_t p = start_prog("a");
	int d = make_dir("accepted"), w = make_dir("accepted-work"), ret, st;
	criu_opts *o = local_init();

	/* the global set: a dump that leaves it running */
	global_init();
	criu_set_images_dir_fd(d);
	criu_set_work_dir_fd(w);
	criu_set_pid(p);
	criu_set_leave_running(true);
	criu_set_ext_unix_sk(true);
	criu_set_tcp_established(true);
	criu_set_evasive_devices(true);
	criu_set_shell_job(false);
	criu_set_orphan_pts_master(true);
	criu_set_file_locks(true);
	criu_set_auto_dedup(true);
	criu_set_manage_cgroups(true);
	criu_set_manage_cgroups_mode(CRIU_CG_MODE_SOFT);
	criu_set_ghost_limit(1 << 20);
	criu_set_timeout(60);
	criu_set_cpu_cap(CRIU_CPU_CAP_FPU);
	criu_set_log_level(CRIU_LOG_DEBUG);
	if (criu_set_log_file("dump.log") || criu_set_config_file("/nonexistent/runc.conf") ||
	    criu_set_network_lock(CRIU_NETWORK_LOCK_SKIP) || criu_set_pre_dump_mode(CRIU_PRE_DUMP_READ))
		die("setting the accepted options");
	criu_set_notify_cb(count_points);
	ret = criu_dump();
	if (ret)
		die("criu_dump with every accepted option: %d (errno %d)", ret, errno);
	if (kill(p, 0) || points != 2)
		die("after the dump: pid %d %s, %d notifications", p, kill(p, 0) ? "gone" : "there",
		    points);
	if (faccessat(w, "dump.log", F_OK, 0))
		die("no dump.log in the work directory");
	/* the local set: the final dump, then the restore */
	criu_local_set_images_dir_fd(o, d);
	criu_local_set_work_dir_fd(o, w);
	criu_local_set_pid(o, p);
	criu_local_set_leave_running(o, false);
	criu_local_set_ext_unix_sk(o, true);
	criu_local_set_tcp_established(o, true);
	criu_local_set_evasive_devices(o, true);
	criu_local_set_shell_job(o, false);
	criu_local_set_orphan_pts_master(o, true);
	criu_local_set_file_locks(o, true);
	criu_local_set_auto_dedup(o, true);
	criu_local_set_manage_cgroups(o, true);
	criu_local_set_manage_cgroups_mode(o, CRIU_CG_MODE_IGNORE);
	criu_local_set_ghost_limit(o, 1 << 20);
	criu_local_set_timeout(o, 60);
	criu_local_set_cpu_cap(o, CRIU_CPU_CAP_ALL);
	criu_local_set_log_level(o, CRIU_LOG_INFO);
	if (criu_local_set_log_file(o, "dump2.log") ||
	    criu_local_set_config_file(o, "/nonexistent/runc.conf") ||
	    criu_local_set_network_lock(o, CRIU_NETWORK_LOCK_IPTABLES) ||
	    criu_local_set_pre_dump_mode(o, CRIU_PRE_DUMP_SPLICE))
		die("setting the accepted options locally");
	points = 0;
	criu_local_set_notify_cb(o, count_points);
	ret = criu_local_dump(o);
	if (ret)
		die("criu_local_dump: %d (errno %d)", ret, errno);
	st = wait_child(p);
	if (!WIFSIGNALED(st) || points != 2)
		die("after the final dump: status 0x%x, %d notifications", st, points);
	criu_local_set_log_file(o, "restore.log");
	points = 0;
	ret = criu_local_restore(o);
	if (ret != p || points != 6)
		die("criu_local_restore: %d, want %d; %d notifications, want 6", ret, p, points);
	kill(p, SIGTERM);
	expect_pass("a");
	criu_local_free_opts(o);
	criu_free_opts();
	ok("a dump and a restore with every option a runtime sends for a plain process");
}

/*
 * A config file that exists is read over the request (upstream: the file wins);
 * the log it names takes the rest of the log.
 */
static void config_file(void)
{
	pid_t p = start_prog("cf");
	int d = make_dir("config"), fd, ret;
	char path[512];
	criu_opts *o = local_init();

	snprintf(path, sizeof(path), "%s/rpc.conf", scratch);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "log-file cfg.log\n", 17) != 17)
		die("writing %s", path);
	close(fd);
	criu_local_set_images_dir_fd(o, d);
	criu_local_set_pid(o, p);
	criu_local_set_leave_running(o, true);
	criu_local_set_log_file(o, "dump.log");
	criu_local_set_log_level(o, CRIU_LOG_DEBUG);
	if (criu_local_set_config_file(o, path))
		die("criu_local_set_config_file");
	ret = criu_local_dump(o);
	if (ret)
		die("dump with config file %s: %d (errno %d)", path, ret, errno);
	if (faccessat(d, "cfg.log", F_OK, 0))
		die("the config file's log-file cfg.log was not written");
	if (kill(p, 0))
		die("pid %d is gone after a dump with leave_running", p);
	kill(p, SIGKILL);
	wait_child(p);
	criu_local_free_opts(o);
	ok("config_file: an existing file is read, its log-file takes the log");
}

/* criu_local_restore_child: the restored root is our child. */
static void restore_child(void)
{
	pid_t p = start_prog("c");
	int d = make_dir("child"), ret, st;
	criu_opts *o = local_init();

	criu_local_set_images_dir_fd(o, d);
	criu_local_set_pid(o, p);
	criu_local_set_log_file(o, "dump.log");
	ret = criu_local_dump(o);
	if (ret)
		die("criu_local_dump: %d", ret);
	wait_child(p);
	criu_local_set_log_file(o, "restore.log");
	ret = criu_local_restore_child(o);
	if (ret != p)
		die("criu_local_restore_child: %d, want %d (errno %d)", ret, p, errno);
	kill(p, SIGTERM);
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
		die("the restored child %d: status 0x%x", p, st);
	expect_pass("c");
	criu_local_free_opts(o);
	ok("criu_local_restore_child: waitpid sees the restored root");
}

static int more_calls;

static char iter_dirs[2][16] = { "pre3", "final" };

/* Between the iterations: the next images go to a new directory, a child of the last. */
static int more(criu_predump_info pi)
{
	int d;

	(void)pi;
	d = make_dir(iter_dirs[more_calls]);
	criu_set_images_dir_fd(d);
	criu_set_parent_images(more_calls ? "../pre3" : "../pre2");
	return more_calls++ == 0;
}

static void has_image(const char *dir, const char *name, pid_t p)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s/%s-%d.img", scratch, dir, name, p);
	if (access(path, F_OK))
		die("%s is missing", path);
}

/*
 * PRE_DUMP: criu_pre_dump (read mode, track_mem), then criu_dump_iters
 * with more() moving each iteration to a child directory: two pre-dumps
 * and the dump, which restores and passes; the local twins too.
 */
static void pre_dumps(void)
{
	pid_t p = start_prog("pd");
	int d = make_dir("pre1"), ret, st;
	char link[64], path[600];
	ssize_t n;
	criu_opts *o = local_init();

	global_init();
	criu_set_images_dir_fd(d);
	criu_set_pid(p);
	criu_set_track_mem(true);
	if (criu_set_pre_dump_mode(CRIU_PRE_DUMP_READ))
		die("criu_set_pre_dump_mode");
	criu_set_log_file("pre.log");
	if ((ret = criu_pre_dump()))
		die("criu_pre_dump: %d", ret);
	has_image("pre1", "pagemap", p);
	if (kill(p, 0))
		die("pid %d is gone after criu_pre_dump", p);
	if ((ret = criu_dump_iters(NULL)) != -EINVAL)
		die("criu_dump_iters(NULL): %d", ret);
	criu_set_images_dir_fd(make_dir("pre2"));
	criu_set_parent_images("../pre1");
	if ((ret = criu_dump_iters(more)) || more_calls != 2)
		die("criu_dump_iters: %d; more() called %d times", ret, more_calls);
	has_image("pre2", "pagemap", p);
	has_image("pre3", "pagemap", p);
	has_image("final", "core", p);
	snprintf(path, sizeof(path), "%s/final/parent", scratch);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (strcmp(link, "../pre3"))
		die("final/parent is '%s', want ../pre3", link);
	wait_child(p);
	criu_set_log_file("restore.log");
	ret = criu_restore_child();
	if (ret != p)
		die("criu_restore_child from the chain: %d, want %d", ret, p);
	kill(p, SIGTERM);
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
		die("the process restored from the chain: status 0x%x", st);
	expect_pass("pd");
	criu_free_opts();

	p = start_prog("pl");
	criu_local_set_images_dir_fd(o, make_dir("local-pre"));
	criu_local_set_pid(o, p);
	criu_local_set_pre_dump_mode(o, CRIU_PRE_DUMP_SPLICE);
	if ((ret = criu_local_pre_dump(o)))
		die("criu_local_pre_dump: %d", ret);
	has_image("local-pre", "pagemap", p);
	if ((ret = criu_local_dump_iters(o, NULL)) != -EINVAL)
		die("criu_local_dump_iters(NULL): %d", ret);
	if (kill(p, 0))
		die("pid %d gone after criu_local_pre_dump", p);
	criu_local_free_opts(o);
	kill(p, SIGKILL);
	wait_child(p);
	ok("criu_pre_dump, criu_dump_iters (a chain of 2 pre-dumps and the dump, restored) and "
	   "criu_local_pre_dump");
}

int main(int argc, char **argv)
{
	if (argc < 5 || (!strcmp(argv[1], "sk") && argc < 6))
		die("usage: libcriu-every bin|path|sk CRIU PROG SCRATCH [SOCKET]");
	mode = argv[1];
	criu_bin = argv[2];
	prog = argv[3];
	scratch = argv[4];
	sock = argc > 5 ? argv[5] : NULL;
	alarm(240);

	versions();
	features();
	service_fd();
	setter_values();
	refusals();
	accepted();
	config_file();
	restore_child();
	pre_dumps();
	printf("PASS\n");
	return 0;
}
