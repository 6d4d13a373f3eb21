/* The command line: every command and option of criu(8), and every way to get one wrong. */
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "options.h"
#include "unit.h"

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

static struct cr_options o;
static char out_buf[16384], err_buf[4096];

static const char hint[] = "Try 'criu --help' for more information.\n";

#define ARGV(...) ((char *[]){ "criu", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "criu", __VA_ARGS__ }) / sizeof(char *)))

/* Reads back what fd wrote to tmp, then puts the original fd back. */
static void restore_fd(int fd, int saved, FILE *tmp, char *buf, size_t size)
{
	size_t n;

	dup2(saved, fd);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = 0;
	fclose(tmp);
}

/* Parses into fresh options; stdout and stderr land in out_buf and err_buf. */
static int parse_argv(int argc, char **argv)
{
	FILE *out = tmpfile(), *err = tmpfile();
	int saved_out, saved_err, ret;

	if (!out || !err) {
		printf("  FAIL: tmpfile: %m\n");
		exit(1);
	}
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fileno(out), 1);
	dup2(fileno(err), 2);
	opts_free(&o);
	opts_init(&o);
	ret = cli_parse(argc, argv, &o);
	fflush(stdout);
	fflush(stderr);
	restore_fd(1, saved_out, out, out_buf, sizeof(out_buf));
	restore_fd(2, saved_err, err, err_buf, sizeof(err_buf));
	return ret;
}

#define PARSE(...) parse_argv(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

/* A good command line: returns 0 and says nothing. */
#define CHECK_OK(...)                                  \
	do {                                           \
		CHECK_EQ(PARSE(__VA_ARGS__), 0);       \
		CHECK_STR(err_buf, "");                \
	} while (0)

static char expected[1024];

/* A bad command line: -1, exactly "criu: <line>" and the hint on stderr. */
#define CHECK_ERR(line, ...)                                                        \
	do {                                                                        \
		CHECK_EQ(PARSE(__VA_ARGS__), -1);                                   \
		snprintf(expected, sizeof(expected), "criu: %s\n%s", line, hint);   \
		CHECK_STR(err_buf, expected);                                       \
		CHECK_STR(out_buf, "");                                             \
	} while (0)

/* An option parsed, then refused naming it: "<spelled> is not supported by this criu: ..." */
#define CHECK_REFUSED(spelled, ...)                                                     \
	do {                                                                            \
		CHECK_EQ(PARSE(__VA_ARGS__), -1);                                       \
		snprintf(expected, sizeof(expected), "criu: %s is not supported by this criu: ", \
			 spelled);                                                      \
		if (strncmp(err_buf, expected, strlen(expected)))                       \
			printf("  expected '%s...', got '%s'\n", expected, err_buf);     \
		CHECK(!strncmp(err_buf, expected, strlen(expected)));                   \
		CHECK(strstr(err_buf, hint) != NULL);                                   \
	} while (0)

/* Accepted with a one-line warning that names the option and the command. */
#define CHECK_WARNED(line, ...)                                                         \
	do {                                                                            \
		CHECK_EQ(PARSE(__VA_ARGS__), 0);                                        \
		snprintf(expected, sizeof(expected), "criu: warning: %s\n", line);      \
		CHECK_STR(err_buf, expected);                                           \
	} while (0)

/* No host config file may change what these tests see. */
__attribute__((constructor)) static void hermetic_configs(void)
{
	unsetenv("CRIU_CONFIG_FILE");
	cli_set_default_config_paths("/nonexistent/criu-unit/default.conf", "/nonexistent/criu-unit");
}

static bool has(const struct str_list *l, int i, const char *s)
{
	return i < l->n && !strcmp(l->items[i], s);
}

/* ---- defaults and commands ------------------------------------------------ */

TEST(defaults)
{
	opts_init(&opts);
	CHECK_EQ(opts.command, CMD_NONE);
	CHECK_STR(opts.images_dir, ".");
	CHECK(opts.work_dir == NULL);
	CHECK(opts.log_file == NULL);
	CHECK_EQ(opts.log_level, 2);
	CHECK_EQ(opts.status_fd, -1);
	CHECK_EQ(opts.swrk_fd, -1);
	CHECK_EQ(opts.port, 0);
	CHECK_EQ(opts.pid, 0);
	CHECK_EQ(opts.timeout, 0);
	CHECK(opts.cpu_cap == NULL);
	CHECK(!opts.cpu_cap_given);
	CHECK(!opts.leave_running && !opts.leave_stopped);
	CHECK_EQ(opts.nargs, 0);
	CHECK(opts.args == NULL);
	CHECK_EQ(opts.close_fds.n, 0);
}

TEST(every_command)
{
	CHECK_OK("pre-dump", "-t", "1");
	CHECK_EQ(o.command, CMD_PRE_DUMP);
	CHECK_OK("dump", "-t", "1");
	CHECK_EQ(o.command, CMD_DUMP);
	CHECK_OK("restore");
	CHECK_EQ(o.command, CMD_RESTORE);
	CHECK_OK("show", "-f", "core-1.img");
	CHECK_EQ(o.command, CMD_SHOW);
	CHECK_OK("check");
	CHECK_EQ(o.command, CMD_CHECK);
	CHECK_OK("page-server");
	CHECK_EQ(o.command, CMD_PAGE_SERVER);
	CHECK_OK("exec", "-t", "1", "close", "1");
	CHECK_EQ(o.command, CMD_EXEC);
	CHECK_OK("service");
	CHECK_EQ(o.command, CMD_SERVICE);
	CHECK_OK("swrk", "3");
	CHECK_EQ(o.command, CMD_SWRK);
	CHECK_OK("dedup");
	CHECK_EQ(o.command, CMD_DEDUP);
	CHECK_OK("cpuinfo", "dump");
	CHECK_EQ(o.command, CMD_CPUINFO_DUMP);
	CHECK_OK("cpuinfo", "check");
	CHECK_EQ(o.command, CMD_CPUINFO_CHECK);
	CHECK_EQ(o.nargs, 0);
}

TEST(options_before_between_and_after_the_command)
{
	CHECK_OK("-t", "7", "-D", "imgs", "dump", "-v4", "-o", "dump.log");
	CHECK_EQ(o.command, CMD_DUMP);
	CHECK_EQ(o.pid, 7);
	CHECK_STR(o.images_dir, "imgs");
	CHECK_EQ(o.log_level, 4);
	CHECK_STR(o.log_file, "dump.log");
	CHECK_OK("-D", "imgs", "cpuinfo", "--cpu-cap=fpu", "check", "-v0");
	CHECK_EQ(o.command, CMD_CPUINFO_CHECK);
	CHECK_STR(o.cpu_cap, "fpu");
	CHECK_EQ(o.log_level, 0);
	CHECK_OK("-d", "restore");
	CHECK(o.restore_detached);
}

TEST(no_command)
{
	CHECK_ERR("no command given", "-D", "x");
	CHECK_EQ(parse_argv(1, ARGV(NULL)), -1);
	CHECK_STR(err_buf, "criu: no command given\nTry 'criu --help' for more information.\n");
	CHECK_EQ(parse_argv(0, (char *[]){ NULL }), -1);
}

TEST(unknown_command)
{
	CHECK_ERR("unknown command 'dumb'", "dumb", "-t", "1");
	CHECK_ERR("unknown command 'Dump'", "Dump");
	CHECK_ERR("unknown command '-'", "-");
	CHECK_ERR("unknown command 'dump '", "--", "dump ");
}

TEST(cpuinfo_needs_a_subcommand)
{
	CHECK_ERR("cpuinfo needs a subcommand: dump or check", "cpuinfo");
	CHECK_ERR("cpuinfo needs a subcommand: dump or check", "cpuinfo", "-D", "x");
	CHECK_ERR("unknown cpuinfo subcommand 'show' (dump or check)", "cpuinfo", "show");
	CHECK_ERR("cpuinfo dump: unexpected argument 'now'", "cpuinfo", "dump", "now");
	/* "dump" alone is the dump command, which wants -t. */
	CHECK_ERR("dump needs -t PID", "dump");
}

TEST(commands_without_their_arguments)
{
	CHECK_ERR("dump needs -t PID", "dump", "-D", "x");
	CHECK_ERR("pre-dump needs -t PID", "pre-dump");
	CHECK_ERR("show needs -f FILE", "show", "-c");
	CHECK_ERR("exec needs -t PID", "exec", "close", "1");
	CHECK_ERR("exec needs a syscall name: criu exec -t PID SYSCALL [ARG...]", "exec", "-t",
		  "1");
	CHECK_ERR("swrk needs the fd number of its RPC socket", "swrk");
}

TEST(stray_arguments)
{
	CHECK_ERR("dump: unexpected argument 'extra'", "dump", "-t", "1", "extra");
	CHECK_ERR("restore: unexpected argument 'x'", "restore", "x", "y");
	CHECK_ERR("check: unexpected argument 'now'", "check", "now");
	CHECK_ERR("swrk: unexpected argument '4'", "swrk", "3", "4");
	CHECK_ERR("show: unexpected argument 'core-1.img'", "show", "core-1.img");
	/* After "--" nothing is an option. */
	CHECK_ERR("dump: unexpected argument '-x'", "dump", "-t", "1", "--", "-x");
}

/* ---- swrk and exec ------------------------------------------------------------ */

TEST(swrk_fd)
{
	CHECK_OK("swrk", "3");
	CHECK_EQ(o.swrk_fd, 3);
	CHECK_EQ(o.nargs, 1);
	CHECK_STR(o.args[0], "3");
	CHECK(o.args[1] == NULL);
	CHECK_OK("swrk", "0");
	CHECK_EQ(o.swrk_fd, 0);
	CHECK_OK("-v4", "swrk", "--log-file=-", "12");
	CHECK_EQ(o.swrk_fd, 12);
	CHECK_ERR("swrk: 'x' is not a file descriptor number (>= 0)", "swrk", "x");
	CHECK_ERR("swrk: '3x' is not a file descriptor number (>= 0)", "swrk", "3x");
	CHECK_ERR("unknown option '-1'", "swrk", "-1");
	CHECK_ERR("swrk: '-1' is not a file descriptor number (>= 0)", "swrk", "--", "-1");
}

TEST(exec_syscall_and_negative_arguments)
{
	CHECK_OK("exec", "-t", "1234", "close", "-1");
	CHECK_EQ(o.command, CMD_EXEC);
	CHECK_EQ(o.pid, 1234);
	CHECK_EQ(o.nargs, 2);
	CHECK_STR(o.args[0], "close");
	CHECK_STR(o.args[1], "-1");
	CHECK(o.args[2] == NULL);

	CHECK_OK("-t", "1234", "exec", "open", "&/foo/bar", "2");
	CHECK_EQ(o.nargs, 3);
	CHECK_STR(o.args[1], "&/foo/bar");
	CHECK_STR(o.args[2], "2");

	/* Everything after the syscall name is the syscall's, even option look-alikes. */
	CHECK_OK("exec", "-v4", "-t1", "lseek", "3", "-100", "-t", "--", "-v");
	CHECK_EQ(o.log_level, 4);
	CHECK_EQ(o.nargs, 6);
	CHECK_STR(o.args[2], "-100");
	CHECK_STR(o.args[3], "-t");
	CHECK_STR(o.args[4], "--");
	CHECK_STR(o.args[5], "-v");

	CHECK_OK("exec", "-t", "1", "--", "kill", "-1", "-9");
	CHECK_EQ(o.nargs, 3);
	CHECK_STR(o.args[0], "kill");
	CHECK_STR(o.args[2], "-9");

	CHECK_OK("exec", "-t", "1", "getpid");
	CHECK_EQ(o.nargs, 1);
	/* -t after the syscall name is an argument of the syscall, so -t is missing. */
	CHECK_ERR("exec needs -t PID", "exec", "close", "-1", "-t", "1");
	/* A negative number before the syscall name is still an option. */
	CHECK_ERR("unknown option '-1'", "exec", "-t", "1", "-1");
}

/* ---- the common options ----------------------------------------------------- */

TEST(images_and_work_dirs)
{
	CHECK_OK("restore", "-D", "/img");
	CHECK_STR(o.images_dir, "/img");
	CHECK(o.work_dir == NULL);
	CHECK_OK("restore", "-D/img2", "-W/work");
	CHECK_STR(o.images_dir, "/img2");
	CHECK_STR(o.work_dir, "/work");
	CHECK_OK("restore", "--images-dir", "a", "--work-dir", "b");
	CHECK_STR(o.images_dir, "a");
	CHECK_STR(o.work_dir, "b");
	CHECK_OK("restore", "--images-dir=c", "--work-dir=d");
	CHECK_STR(o.images_dir, "c");
	CHECK_STR(o.work_dir, "d");
	CHECK_OK("pre-dump", "-t", "1", "--prev-images-dir", "../1");
	CHECK_STR(o.prev_images_dir, "../1");
	CHECK_WARNED("--prev-images-dir means nothing to restore; ignored", "restore",
		     "--prev-images-dir=../p");
	/* The last one wins. */
	CHECK_OK("restore", "-D", "a", "-D", "b");
	CHECK_STR(o.images_dir, "b");
	/* A value is taken as it is, even when it starts with '-'. */
	CHECK_OK("restore", "-D", "-odd-dir");
	CHECK_STR(o.images_dir, "-odd-dir");
}

TEST(libdir_pidfile_action_scripts)
{
	CHECK_OK("restore", "--pidfile", "/run/x.pid", "--action-script", "a.sh",
		 "--action-script=b.sh");
	CHECK_STR(o.pidfile, "/run/x.pid");
	CHECK_EQ(o.action_scripts.n, 2);
	CHECK(has(&o.action_scripts, 0, "a.sh"));
	CHECK(has(&o.action_scripts, 1, "b.sh"));
	CHECK_OK("restore", "--pidfile=pf");
	CHECK_STR(o.pidfile, "pf");
	CHECK_OK("dump", "-t", "1", "--action-script", "s.sh");
	CHECK_EQ(o.action_scripts.n, 1);
	/* No plugins: a plugins dir is refused, however it is spelled. */
	CHECK_REFUSED("-L", "restore", "-L", "/plugins");
	CHECK_REFUSED("--libdir", "restore", "-L/p", "--libdir=/q");
	CHECK_REFUSED("--libdir", "dump", "-t", "1", "--libdir", "/r");
	/* The pidfile of a dump is nobody's: said, not silently dropped. */
	CHECK_WARNED("--pidfile means nothing to dump; ignored", "dump", "-t", "1", "--pidfile",
		     "f");
}

TEST(close_fds)
{
	CHECK_OK("restore", "--close", "3", "--close=4", "--close", "0");
	CHECK_EQ(o.close_fds.n, 3);
	CHECK(has(&o.close_fds, 0, "3"));
	CHECK(has(&o.close_fds, 1, "4"));
	CHECK(has(&o.close_fds, 2, "0"));
	CHECK_ERR("--close: '-1' is not a file descriptor number (>= 0)", "restore", "--close",
		  "-1");
	CHECK_ERR("--close: 'stdin' is not a file descriptor number (>= 0)", "restore",
		  "--close=stdin");
	CHECK_ERR("--close needs a value", "restore", "--close");
}

TEST(status_fd_and_timeout)
{
	CHECK_OK("page-server", "--status-fd", "5", "--timeout", "10");
	CHECK_EQ(o.status_fd, 5);
	CHECK_EQ(o.timeout, 10);
	CHECK_OK("dump", "-t", "1", "--status-fd=0", "--timeout=0");
	CHECK_EQ(o.status_fd, 0);
	CHECK_EQ(o.timeout, 0);
	CHECK_ERR("--status-fd: '-1' is not a file descriptor number (>= 0)", "restore",
		  "--status-fd", "-1");
	CHECK_ERR("--status-fd: the value is empty", "restore", "--status-fd=");
	CHECK_ERR("--timeout: '-5' is not a number of seconds (>= 0)", "dump", "-t", "1",
		  "--timeout=-5");
	CHECK_ERR("--timeout: '1.5' is not a number of seconds (>= 0)", "dump", "-t", "1",
		  "--timeout", "1.5");
	CHECK_ERR("--timeout needs a value", "dump", "-t", "1", "--timeout");
}

TEST(help)
{
	CHECK_EQ(PARSE("--help"), 1);
	CHECK_STR(err_buf, "");
	CHECK(!strncmp(out_buf, "Usage:\n  criu COMMAND [OPTIONS]\n", 30));
	CHECK_EQ(PARSE("-h"), 1);
	CHECK(strstr(out_buf, "Commands:") != NULL);
	CHECK_EQ(PARSE("dump", "-h"), 1);
	CHECK(strstr(out_buf, "Usage:") != NULL);
	CHECK_EQ(PARSE("-sh"), 1);
	CHECK_EQ(PARSE("--he"), 1);
	/* Help wins over what would be errors later on the line. */
	CHECK_EQ(PARSE("-h", "nonsense", "--port=0"), 1);
	/* But not over an error before it. */
	CHECK_ERR("unknown option '--nonsense'", "--nonsense", "-h");
	CHECK_ERR("--help takes no value", "--help=all");
}

TEST(help_lists_commands_then_groups_in_order)
{
	const char *order[] = {
		"Commands:",	      "  pre-dump",	   "  dump ",	       "  restore",
		"  show",	      "  check",	   "  page-server",    "  exec SYSCALL",
		"  service",	      "  swrk FD",	   "  dedup",	       "  cpuinfo dump",
		"  cpuinfo check",    "Common options:",   "Dump and pre-dump", "Restore options:",
		"Show options:",      "Check options:",	   "Page server",      "Exec:",
		"CPU options",	      "Logging options:",
	};
	const char *p;

	CHECK_EQ(PARSE("--help"), 1);
	p = out_buf;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *q = strstr(p, order[i]);

		if (!q)
			printf("  missing or out of order in --help: '%s'\n", order[i]);
		CHECK(q != NULL);
		if (q)
			p = q;
	}
}

TEST(help_mentions_every_option_and_fits_80_columns)
{
	const char *names[] = {
		"-c",
		"-D, --images-dir DIR",
		"--prev-images-dir DIR",
		"-W, --work-dir DIR",
		"-s, --leave-stopped",
		"-R, --leave-running",
		"--cpu-cap[=CAP[,CAP...]]",
		"-f, --file FILE",
		"-x, --ext-unix-sk",
		"-t, --tree PID",
		"-d, --restore-detached",
		"-S, --restore-sibling",
		"-n, --namespaces",
		"-r, --root PATH",
		"--evasive-devices",
		"--pidfile FILE",
		"--veth-pair IN=OUT",
		"-M, --ext-mount-map KEY:VAL",
		"--enable-external-sharing",
		"--enable-external-masters",
		"--action-script",
		"--link-remap",
		"-o, --log-file FILE",
		"-v[N|v...]",
		"--config FILE",
		"--no-default-config",
		"--pre-dump-mode splice|read",
		"--manage-cgroups[=MODE]",
		"--log-pid",
		"--close FD",
		"--tcp-established",
		"-j, --shell-job",
		"-l, --file-locks",
		"--ms",
		"--track-mem",
		"--auto-dedup",
		"--page-server",
		"--address ADDR",
		"--port PORT",
		"-L, --libdir DIR",
		"--force-irmap",
		"--manage-cgroups",
		"--cgroup-root",
		"--inherit-fd fd[N]:EXISTING",
		"-V, --version",
		"-h, --help",
		"--verbosity[=N]",
		"--status-fd FD",
		"--timeout SEC",
		"--feature NAME",
		"--all",
		"--extra",
		"--json",
	};
	const char *line;

	CHECK_EQ(PARSE("--help"), 1);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strstr(out_buf, names[i]))
			printf("  --help lacks '%s'\n", names[i]);
		CHECK(strstr(out_buf, names[i]) != NULL);
	}
	for (line = out_buf; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len > 80)
			printf("  too long: %.*s\n", (int)len, line);
		CHECK(len <= 80);
		line += len + (nl ? 1 : 0);
	}
}

TEST(version)
{
	CHECK_EQ(PARSE("-V"), 1);
	CHECK_STR(out_buf, "Version: 4.2.1\n");
	CHECK_STR(err_buf, "");
	CHECK_EQ(PARSE("--version"), 1);
	CHECK_STR(out_buf, "Version: 4.2.1\n");
	CHECK_EQ(PARSE("dump", "--version"), 1);
	CHECK_STR(out_buf, "Version: 4.2.1\n");
}

/* ---- dump options ----------------------------------------------------------- */

TEST(tree)
{
	CHECK_OK("dump", "-t", "42");
	CHECK_EQ(o.pid, 42);
	CHECK_OK("dump", "-t42");
	CHECK_EQ(o.pid, 42);
	CHECK_OK("dump", "--tree", "43");
	CHECK_EQ(o.pid, 43);
	CHECK_OK("dump", "--tree=44");
	CHECK_EQ(o.pid, 44);
	CHECK_OK("dump", "-t", "2147483647");
	CHECK_EQ(o.pid, 2147483647);
	CHECK_OK("dump", "-t", "1", "-t", "9");
	CHECK_EQ(o.pid, 9);
}

TEST(tree_malformed)
{
	CHECK_ERR("-t: '0' is not a process id (> 0)", "dump", "-t", "0");
	CHECK_ERR("-t: '-1' is not a process id (> 0)", "dump", "-t", "-1");
	CHECK_ERR("-t: '-1' is not a process id (> 0)", "dump", "-t-1");
	CHECK_ERR("--tree: 'abc' is not a process id (> 0)", "dump", "--tree", "abc");
	CHECK_ERR("--tree: '12abc' is not a process id (> 0)", "dump", "--tree=12abc");
	CHECK_ERR("-t: ' 1' is not a process id (> 0)", "dump", "-t", " 1");
	CHECK_ERR("-t: '+1' is not a process id (> 0)", "dump", "-t", "+1");
	CHECK_ERR("-t: '0x10' is not a process id (> 0)", "dump", "-t", "0x10");
	CHECK_ERR("-t: '2147483648' is not a process id (> 0)", "dump", "-t", "2147483648");
	CHECK_ERR("-t: '99999999999999999999' is not a process id (> 0)", "dump", "-t",
		  "99999999999999999999");
	CHECK_ERR("--tree: the value is empty", "dump", "--tree=");
	CHECK_ERR("-t: the value is empty", "dump", "-t", "");
	CHECK_ERR("-t needs a value", "dump", "-t");
	CHECK_ERR("--tree needs a value", "dump", "--tree");
	/* A required value is the next word, whatever it looks like. */
	CHECK_ERR("-t: '-D' is not a process id (> 0)", "dump", "-t", "-D", "x");
}

TEST(leave_stopped_and_running)
{
	CHECK_OK("dump", "-t", "1", "-s");
	CHECK(o.leave_stopped && !o.leave_running);
	CHECK_OK("dump", "-t", "1", "--leave-stopped");
	CHECK(o.leave_stopped);
	CHECK_OK("dump", "-t", "1", "-R");
	CHECK(o.leave_running && !o.leave_stopped);
	CHECK_OK("dump", "-t", "1", "--leave-running");
	CHECK(o.leave_running);
	CHECK_ERR("-R/--leave-running and -s/--leave-stopped exclude each other", "dump", "-t",
		  "1", "-R", "-s");
	CHECK_ERR("-R/--leave-running and -s/--leave-stopped exclude each other", "pre-dump",
		  "-Rst", "1");
	CHECK_ERR("-R/--leave-running and -s/--leave-stopped exclude each other", "dump", "-t",
		  "1", "--leave-stopped", "--leave-running");
	CHECK_ERR("--leave-running takes no value", "dump", "-t", "1", "--leave-running=yes");
}

TEST(dump_flags_long_and_short)
{
	static const char *const refused[][2] = {
		{ "--manage-cgroups", "--manage-cgroups" },
		{ "--page-server", "--page-server" },
		{ "--enable-external-sharing", "--enable-external-sharing" },
		{ "--enable-external-masters", "--enable-external-masters" },
		{ "--skip-in-flight", "--skip-in-flight" },
		{ "--lazy-pages", "--lazy-pages" },
		{ "--stream", "--stream" },
		{ "--manage-cgroups=full", "--manage-cgroups" },
		{ "--freeze-cgroup=/sys/fs/cgroup/freezer/x", "--freeze-cgroup" },
		{ "--external=mnt[]", "--external" },
		{ "--allow-uprobes", "--allow-uprobes" },
	};

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		CHECK_REFUSED(refused[i][1], "dump", "-t", "1", (char *)refused[i][0]);
	CHECK_OK("dump", "-t", "1", "--track-mem", "--auto-dedup");
	CHECK(o.track_mem && o.auto_dedup);
	CHECK_OK("dump", "-t", "1", "--tcp-established", "--network-lock", "skip");
	CHECK(o.tcp_established && o.network_lock && !strcmp(o.network_lock, "skip"));
	CHECK_OK("dump", "-t", "1", "-j");
	CHECK(o.shell_job);
	CHECK_OK("dump", "-t", "1", "--ext-unix-sk=123,456");
	CHECK(o.ext_unix_sk && !strcmp(o.ext_unix_sk_ids, "123,456"));
	CHECK_OK("dump", "-t", "1", "--display-stats");
	CHECK(o.display_stats);
	CHECK_OK("dump", "-t", "1", "--shell-job");
	CHECK(o.shell_job);
	CHECK_OK("dump", "-t", "1", "-l");
	CHECK(o.file_locks);
	CHECK_OK("restore", "--file-locks");
	CHECK(o.file_locks);
	CHECK_OK("dump", "-t", "1", "--force-irmap");
	CHECK(o.force_irmap);
	CHECK_REFUSED("--irmap-scan-path", "dump", "-t", "1", "--irmap-scan-path", "/");
	CHECK_OK("dump", "-t", "1");
	CHECK(!o.ext_unix_sk && !o.shell_job && !o.file_locks && !o.tcp_established);
	CHECK(!o.link_remap && o.ghost_limit == 1u << 20);
	CHECK_OK("dump", "-t", "1", "--link-remap", "--ghost-limit=64K");
	CHECK(o.link_remap && o.ghost_limit == 64u << 10);
	CHECK_OK("dump", "-t", "1", "--ghost-limit", "2G");
	CHECK(o.ghost_limit == 2ull << 30);
	CHECK_OK("dump", "-t", "1", "--ghost-limit=100");
	CHECK(o.ghost_limit == 100);
}

TEST(no_prefix_turns_a_flag_off)
{
	CHECK_OK("dump", "-t", "1", "-j", "--no-shell-job");
	CHECK(!o.shell_job);
	CHECK_OK("dump", "-t", "1", "--no-shell-job", "-j");
	CHECK(o.shell_job);
	/* Off is what this criu does anyway: no refusal. */
	CHECK_OK("dump", "-t", "1", "--tcp-established", "--no-tcp-established", "--no-link-remap",
		 "--no-file-locks", "--no-track-mem", "--no-auto-dedup", "--no-page-server",
		 "--no-display-stats", "--no-stream", "--no-skip-in-flight", "--no-ghost-fiemap");
	CHECK(!o.tcp_established);
	CHECK_OK("restore", "-d", "--no-restore-detached", "--no-tcp-close", "--no-weak-sysctls");
	CHECK(!o.restore_detached);
	CHECK_OK("restore", "--no-daemon", "--daemon");
	CHECK(o.restore_detached);
	CHECK_OK("dump", "-t", "1", "--log-pid", "-no-log-pid");
	CHECK(!o.log_pid);
	CHECK_ERR("--no-shell-job takes no value", "dump", "-t", "1", "--no-shell-job=1");
	/* Only booleans have a --no- form. */
	CHECK_ERR("unknown option '--no-tree'", "dump", "-t", "1", "--no-tree");
	CHECK_ERR("unknown option '--no-leave-running'", "dump", "-t", "1", "--no-leave-running");
}

TEST(manage_cgroups_modes)
{
	CHECK_OK("dump", "-t", "1", "--manage-cgroups=ignore");
	CHECK_STR(o.manage_cgroups_mode, "ignore");
	CHECK_OK("restore", "--manage-cgroups=none");
	CHECK_STR(o.manage_cgroups_mode, "none");
	CHECK_REFUSED("--manage-cgroups", "restore", "--manage-cgroups");
	CHECK_REFUSED("--manage-cgroups", "restore", "--manage-cgroups=soft");
	CHECK_REFUSED("--manage-cgroups", "restore", "--manage-cgroups=props");
	CHECK_REFUSED("--manage-cgroups", "restore", "--manage-cgroups=strict");
	CHECK_ERR("--manage-cgroups: 'hard' is not a cgroup mode (none, props, soft, full, strict, "
		  "ignore)",
		  "restore", "--manage-cgroups=hard");
}

TEST(pre_dump_mode_and_network_lock)
{
	CHECK_OK("dump", "-t", "1", "--pre-dump-mode", "splice");
	CHECK_STR(o.pre_dump_mode, "splice");
	CHECK_OK("pre-dump", "-t", "1", "--pre-dump-mode=read");
	CHECK_STR(o.pre_dump_mode, "read");
	CHECK_ERR("--pre-dump-mode: 'copy' is not a pre-dump mode (splice or read)", "dump", "-t",
		  "1", "--pre-dump-mode=copy");
	CHECK_OK("dump", "-t", "1", "--network-lock", "skip");
	CHECK_STR(o.network_lock, "skip");
	CHECK_OK("restore", "--network-lock=nftables");
	CHECK_ERR("--network-lock: 'pf' is not a network lock method (iptables, nftables, skip)",
		  "restore", "--network-lock=pf");
}

TEST(options_irrelevant_to_the_command)
{
	CHECK_WARNED("-t means nothing to restore; ignored", "restore", "-t", "5");
	CHECK_WARNED("--tree means nothing to show; ignored", "show", "-f", "x", "--tree=5");
	CHECK_WARNED("--feature means nothing to dump; ignored", "dump", "-t", "1", "--feature",
		     "mnt_id");
	CHECK_WARNED("-R means nothing to restore; ignored", "restore", "-R");
	CHECK_WARNED("--port means nothing to cpuinfo dump; ignored", "cpuinfo", "dump",
		     "--port=5");
	/* Irrelevant comes before refused: restore has no use for a dump's --track-mem. */
	CHECK_WARNED("--track-mem means nothing to restore; ignored", "restore", "--track-mem");
	/* restore -s leaves the restored tree stopped: it means something there. */
	CHECK_OK("restore", "-s");
	CHECK(o.leave_stopped);
}

TEST(clustered_short_options)
{
	CHECK_OK("dump", "-sj", "-t", "1");
	CHECK(o.leave_stopped && o.shell_job);
	CHECK_OK("dump", "-jt123");
	CHECK(o.shell_job);
	CHECK_EQ(o.pid, 123);
	CHECK_OK("dump", "-sjt", "124");
	CHECK(o.leave_stopped && o.shell_job);
	CHECK_EQ(o.pid, 124);
	CHECK_OK("restore", "-dS", "-jD/imgs");
	CHECK(o.restore_detached && o.restore_sibling && o.shell_job);
	CHECK_STR(o.images_dir, "/imgs");
	CHECK_OK("dump", "-t1", "-jvvv");
	CHECK(o.shell_job);
	CHECK_EQ(o.log_level, 4);
	/* -x takes an optional value, so what follows it in a cluster is that value. */
	CHECK_ERR("-x: 'jl' is not a comma list of socket inodes", "dump", "-t1", "-xjl");
	CHECK_ERR("-x: '12,' is not a comma list of socket inodes", "dump", "-t1", "-x12,");
	CHECK_OK("dump", "-t1", "-x12,34");
	CHECK(o.ext_unix_sk && !strcmp(o.ext_unix_sk_ids, "12,34"));
	CHECK_ERR("unknown option '-q' in '-sq'", "dump", "-t", "1", "-sq");
	CHECK_ERR("-t needs a value", "dump", "-st");
}

TEST(namespaces)
{
	CHECK_REFUSED("-n", "dump", "-t", "1", "-n", "uts,ipc");
	CHECK_REFUSED("--namespaces", "dump", "-t", "1", "--namespaces=mnt,pid,net,user,cgroup");
	CHECK_REFUSED("-n", "dump", "-t", "1", "-nmnt");
	CHECK_ERR("-n: 'uts,foo' is not a comma list of uts, ipc, mnt, pid, net, user, cgroup",
		  "dump", "-t", "1", "-n", "uts,foo");
	CHECK_ERR("--namespaces: 'uts,' is not a comma list of uts, ipc, mnt, pid, net, user, "
		  "cgroup",
		  "dump", "-t", "1", "--namespaces=uts,");
	CHECK_ERR("-n: 'UTS' is not a comma list of uts, ipc, mnt, pid, net, user, cgroup",
		  "dump", "-t", "1", "-n", "UTS");
}

TEST(ext_mount_map)
{
	CHECK_REFUSED("-M", "dump", "-t", "1", "-M", "/mnt/data:data", "--ext-mount-map=/b:b",
		      "--ext-mount-map", "/c:c:d", "-M/e:e");
	CHECK_REFUSED("--enable-external-sharing", "restore", "--enable-external-sharing");
	CHECK_REFUSED("-M", "restore", "-M", "auto");
	CHECK_ERR("-M: 'data' is not of the form KEY:VAL or 'auto'", "restore", "-M", "data");
	CHECK_ERR("--ext-mount-map: ':v' is not of the form KEY:VAL or 'auto'", "restore",
		  "--ext-mount-map=:v");
	CHECK_ERR("--ext-mount-map: 'k:' is not of the form KEY:VAL or 'auto'", "restore",
		  "--ext-mount-map", "k:");
	CHECK_ERR("-M needs a value", "restore", "-M");
}

TEST(page_server_address_and_port)
{
	CHECK_OK("page-server", "--address", "10.0.0.1", "--port", "1234");
	CHECK_STR(o.address, "10.0.0.1");
	CHECK_EQ(o.port, 1234);
	CHECK_OK("service", "--address", "/run/criu.sock");
	CHECK_STR(o.address, "/run/criu.sock");
	CHECK_REFUSED("--page-server", "dump", "-t", "1", "--page-server", "--address=::1",
		      "--port=65535");
	CHECK_REFUSED("--ps-socket", "dump", "-t", "1", "--ps-socket=3");
	CHECK_REFUSED("--tls", "page-server", "--tls");
	CHECK_OK("page-server", "--port", "1");
	CHECK_EQ(o.port, 1);
	CHECK_ERR("--port: '70000' is not a port number (1-65535)", "page-server", "--port",
		  "70000");
	CHECK_ERR("--port: '65536' is not a port number (1-65535)", "page-server",
		  "--port=65536");
	CHECK_ERR("--port: '0' is not a port number (1-65535)", "page-server", "--port", "0");
	CHECK_ERR("--port: 'http' is not a port number (1-65535)", "page-server", "--port",
		  "http");
	CHECK_ERR("--port: '-80' is not a port number (1-65535)", "page-server", "--port=-80");
	CHECK_ERR("--port needs a value", "page-server", "--port");
	CHECK_ERR("--address needs a value", "page-server", "--address");
	CHECK_ERR("--address: the value is empty", "page-server", "--address=");
}

TEST(cpu_cap)
{
	CHECK_OK("restore");
	CHECK(o.cpu_cap == NULL);
	CHECK(!o.cpu_cap_given);
	CHECK_OK("restore", "--cpu-cap");
	CHECK_STR(o.cpu_cap, "all");
	CHECK(o.cpu_cap_given);
	CHECK_OK("--cpu-cap", "restore");
	CHECK_EQ(o.command, CMD_RESTORE);
	CHECK_STR(o.cpu_cap, "all");
	CHECK_OK("restore", "--cpu-cap=fpu,^ins");
	CHECK_STR(o.cpu_cap, "fpu,^ins");
	CHECK(o.cpu_cap_given);
	CHECK_OK("dump", "--cpu-cap=none", "-t", "1");
	CHECK_STR(o.cpu_cap, "none");
	/* The list's words are judged later, by cpuinfo. */
	CHECK_OK("cpuinfo", "check", "--cpu-cap=whatever");
	CHECK_STR(o.cpu_cap, "whatever");
	/* The value is attached or absent: a separate word is not the list. */
	CHECK_ERR("restore: unexpected argument 'fpu' (to give --cpu-cap a value, write "
		  "--cpu-cap=fpu)",
		  "restore", "--cpu-cap", "fpu");
	CHECK_ERR("--cpu-cap: the value is empty", "restore", "--cpu-cap=");
}

/* ---- restore options -------------------------------------------------------- */

TEST(restore_flags_and_root)
{
	CHECK_OK("restore", "-d", "-S");
	CHECK(o.restore_detached && o.restore_sibling);
	CHECK_OK("restore", "--restore-detached", "--restore-sibling", "-j");
	CHECK(o.restore_detached && o.restore_sibling && o.shell_job);
	CHECK_OK("restore", "--daemon");
	CHECK(o.restore_detached);
	CHECK_REFUSED("-r", "restore", "-r", "/newroot");
	CHECK_REFUSED("--root", "restore", "--root=/r2");
	CHECK_REFUSED("-r", "restore", "--root", "/r3", "-r/r4");
	CHECK_OK("restore", "--tcp-established", "-j");
	CHECK(o.tcp_established && o.shell_job);
	CHECK_REFUSED("--tcp-close", "restore", "--tcp-close");
	CHECK_REFUSED("-J", "restore", "-J", "net:/proc/1/ns/net");
	CHECK_REFUSED("--lsm-profile", "restore", "--lsm-profile", "apparmor:x");
	CHECK_REFUSED("--exec-cmd", "restore", "--exec-cmd");
	/* Permissions for what this criu never does: nothing to refuse. */
	CHECK_OK("restore", "--weak-sysctls", "--skip-file-rwx-check", "--deprecated");
	CHECK(o.weak_sysctls && o.skip_file_rwx_check && o.deprecated);
}

TEST(veth_pair)
{
	CHECK_REFUSED("--veth-pair", "restore", "--veth-pair", "eth0=veth101",
		      "--veth-pair=eth1=veth102");
	CHECK_ERR("--veth-pair: 'eth0' is not of the form IN=OUT", "restore", "--veth-pair",
		  "eth0");
	CHECK_ERR("--veth-pair: '=veth0' is not of the form IN=OUT", "restore",
		  "--veth-pair==veth0");
	CHECK_ERR("--veth-pair: 'eth0=' is not of the form IN=OUT", "restore", "--veth-pair",
		  "eth0=");
	CHECK_ERR("--veth-pair needs a value", "restore", "--veth-pair");
}

TEST(external_files_only)
{
	CHECK_OK("dump", "-t", "1", "--external", "file[1a:2b3c]", "--external=file[0:1]");
	CHECK_EQ(o.externals.n, 2);
	CHECK(cli_external_file("file[1a:2b3c]"));
	CHECK(!cli_external_file("file[1a]"));
	CHECK(!cli_external_file("file[1a:zz]"));
	CHECK(!cli_external_file("mnt[/a]:b"));
	CHECK_REFUSED("--external", "dump", "-t", "1", "--external", "file[1:2]", "--external",
		      "tty[88:5]");
	CHECK_ERR("--external: 'file' is not of the form TYPE[ID] or TYPE[ID]:VALUE", "dump", "-t",
		  "1", "--external", "file");
}

TEST(inherit_fd)
{
	int fd = -1;
	const char *existing = NULL;

	CHECK_OK("restore", "--inherit-fd", "fd[3]:pipe:[12345]", "--inherit-fd=fd[0]:/a/b");
	CHECK_EQ(o.inherit_fds.n, 2);
	CHECK_STR(o.inherit_fds.items[1], "fd[0]:/a/b");
	CHECK_EQ(cli_split_inherit_fd("fd[3]:pipe:[12345]", &fd, &existing), 0);
	CHECK_EQ(fd, 3);
	CHECK_STR(existing, "pipe:[12345]");
	CHECK_EQ(cli_split_inherit_fd("fd[17]:tty[88:5]", &fd, &existing), 0);
	CHECK_EQ(fd, 17);
	CHECK_STR(existing, "tty[88:5]");

	const char *bad[] = { "fd3:x",	"fd[]:x", "fd[x]:y",	      "fd[3]x",	  "fd[3]:",
			      "fd[-1]:x", "FD[3]:x", "fd[99999999999]:x", "fd[3]",	  "[3]:x",
			      "fd[ 3]:x", "fd[3]]:x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[128];

		CHECK_EQ(cli_split_inherit_fd(bad[i], &fd, &existing), -1);
		snprintf(line, sizeof(line), "--inherit-fd: '%s' is not of the form fd[N]:EXISTING",
			 bad[i]);
		CHECK_ERR(line, "restore", "--inherit-fd", (char *)bad[i]);
	}
	CHECK_ERR("--inherit-fd needs a value", "restore", "--inherit-fd");
}

TEST(cgroup_root)
{
	CHECK_REFUSED("--cgroup-root", "restore", "--cgroup-root", "/newroot",
		      "--cgroup-root=cpu,cpuacct:/ct1", "--cgroup-root", "memory:/a:b");
	CHECK_ERR("--cgroup-root: 'relative' is not of the form [CONTROLLER:]/PATH", "restore",
		  "--cgroup-root", "relative");
	CHECK_ERR("--cgroup-root: 'cpu:' is not of the form [CONTROLLER:]/PATH", "restore",
		  "--cgroup-root=cpu:");
	CHECK_ERR("--cgroup-root: 'cpu:rel' is not of the form [CONTROLLER:]/PATH", "restore",
		  "--cgroup-root=cpu:rel");
	CHECK_ERR("--cgroup-root: ':/a' is not of the form [CONTROLLER:]/PATH", "restore",
		  "--cgroup-root", ":/a");
}

/* ---- show, check -------------------------------------------------------------- */

TEST(show_options)
{
	CHECK_OK("show", "-f", "pages-1.img", "-c");
	CHECK_STR(o.show_file, "pages-1.img");
	CHECK(o.show_pages_content);
	CHECK(!o.show_json);
	CHECK_OK("show", "--file", "a.img", "--json");
	CHECK_STR(o.show_file, "a.img");
	CHECK(o.show_json);
	CHECK_OK("show", "--file=b.img");
	CHECK_STR(o.show_file, "b.img");
	CHECK_OK("show", "-fc.img", "-c");
	CHECK_STR(o.show_file, "c.img");
	CHECK_OK("-cf", "d.img", "show");
	CHECK(o.show_pages_content);
	CHECK_STR(o.show_file, "d.img");
	CHECK_ERR("--json takes no value", "show", "-f", "x", "--json=1");
	CHECK_ERR("-f needs a value", "show", "-f");
}

TEST(check_options)
{
	CHECK_OK("check", "--feature", "mnt_id", "--feature=tun");
	CHECK_EQ(o.check_features.n, 2);
	CHECK(has(&o.check_features, 0, "mnt_id"));
	CHECK(has(&o.check_features, 1, "tun"));
	CHECK(!o.check_all && !o.check_extra && !o.check_ms);
	CHECK_OK("check", "--all");
	CHECK(o.check_all);
	CHECK_OK("check", "--extra", "--ms");
	CHECK(o.check_extra && o.check_ms);
	CHECK_ERR("--feature needs a value", "check", "--feature");
	CHECK_ERR("--all takes no value", "check", "--all=yes");
}

/* ---- logging ---------------------------------------------------------------- */

TEST(log_file_and_pid)
{
	CHECK_OK("restore", "-o", "restore.log", "--log-pid");
	CHECK_STR(o.log_file, "restore.log");
	CHECK(o.log_pid);
	CHECK_OK("restore", "--log-file", "a.log");
	CHECK_STR(o.log_file, "a.log");
	CHECK_OK("restore", "--log-file=b.log");
	CHECK_STR(o.log_file, "b.log");
	CHECK_OK("restore", "-oc.log");
	CHECK_STR(o.log_file, "c.log");
	/* "-" is stderr, a value like any other. */
	CHECK_OK("restore", "-o", "-");
	CHECK_STR(o.log_file, "-");
	CHECK(!o.log_pid);
}

TEST(verbosity_short)
{
	/* As upstream: -v alone is one above the default (2), each more v one more. */
	static const struct {
		const char *arg;
		int level;
	} cases[] = {
		{ "-v", 3 },	{ "-vv", 4 },	{ "-vvv", 4 },	{ "-vvvv", 4 }, { "-vvvvvv", 4 },
		{ "-v0", 0 },	{ "-v1", 1 },	{ "-v2", 2 },	{ "-v3", 3 },	{ "-v4", 4 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_OK("check", (char *)cases[i].arg);
		CHECK_EQ(o.log_level, cases[i].level);
	}
	/* -v takes no separate value, so a command may follow it. */
	CHECK_OK("-v", "dump", "-t", "1");
	CHECK_EQ(o.command, CMD_DUMP);
	CHECK_EQ(o.log_level, 3);
	CHECK_OK("-vvvv", "restore");
	CHECK_EQ(o.log_level, 4);
	/* Counting goes on from where the level is. */
	CHECK_OK("-v0", "-v", "restore");
	CHECK_EQ(o.log_level, 1);
	CHECK_OK("-v1", "-vv", "restore");
	CHECK_EQ(o.log_level, 3);
	CHECK_OK("-sv", "dump", "-t", "1");
	CHECK(o.leave_stopped);
	CHECK_EQ(o.log_level, 3);
}

TEST(verbosity_short_malformed)
{
	CHECK_ERR("-v: '5' is not a log level (0-4)", "check", "-v5");
	CHECK_ERR("-v: '-1' is not a log level (0-4)", "check", "-v-1");
	CHECK_ERR("-v: 'v3' is not a log level (0-4)", "check", "-vv3");
	CHECK_ERR("-v: 's' is not a log level (0-4)", "check", "-vs");
	CHECK_ERR("unknown command '3' (to give -v a value, write -v3)", "-v", "3", "check");
	CHECK_ERR("check: unexpected argument '3' (to give -v a value, write -v3)", "check",
		  "-v", "3");
	CHECK_ERR("check: unexpected argument '3'", "check", "-v", "-s", "3");
}

TEST(verbosity_long)
{
	CHECK_OK("check", "--verbosity=3");
	CHECK_EQ(o.log_level, 3);
	CHECK_OK("--verbosity=4", "check");
	CHECK_EQ(o.log_level, 4);
	CHECK_OK("check", "--verbosity");
	CHECK_EQ(o.log_level, 3);
	CHECK_OK("check", "--verbosity=vv");
	CHECK_EQ(o.log_level, 4);
	/* getopt_long_only's one dash, as zdtm and runtimes write it */
	CHECK_OK("check", "-verbosity=0");
	CHECK_EQ(o.log_level, 0);
	CHECK_OK("-verbosity=1", "dump", "-tree", "7", "-log-file", "d.log", "-images-dir=/i");
	CHECK_EQ(o.log_level, 1);
	CHECK_EQ(o.pid, 7);
	CHECK_STR(o.log_file, "d.log");
	CHECK_STR(o.images_dir, "/i");
	CHECK_ERR("--verbosity: '5' is not a log level (0-4)", "check", "--verbosity=5");
	CHECK_ERR("--verbosity: 'check' is not a log level (0-4)", "--verbosity=check");
	CHECK_ERR("check: unexpected argument '0' (to give --verbosity a value, write "
		  "--verbosity=0)",
		  "check", "--verbosity", "0");
	CHECK_ERR("--verbosity: the value is empty", "check", "--verbosity=");
}

/* ---- how options are spelled ---------------------------------------------------- */

TEST(unknown_options)
{
	CHECK_ERR("unknown option '--frobnicate'", "dump", "-t", "1", "--frobnicate");
	CHECK_ERR("unknown option '--frobnicate'", "dump", "--frobnicate=3");
	CHECK_ERR("unknown option '-q'", "dump", "-q");
	CHECK_ERR("unknown option '-T'", "-T", "1", "dump");
	CHECK_ERR("unknown option '--Tree'", "dump", "--Tree", "1");
	CHECK_ERR("unknown option '---'", "dump", "-t", "1", "---");
	CHECK_ERR("unknown option '--=1'", "dump", "--=1");
}

TEST(long_option_prefixes)
{
	CHECK_OK("dump", "--tre", "5", "--leave-run", "--images=/x");
	CHECK_EQ(o.pid, 5);
	CHECK(o.leave_running);
	CHECK_STR(o.images_dir, "/x");
	CHECK_OK("page-server", "--po=99");
	CHECK_EQ(o.port, 99);
	CHECK_ERR("option '--ext' is ambiguous: --ext-unix-sk, --ext-mount-map, --external, "
		  "--extra",
		  "dump", "-t", "1", "--ext");
	CHECK_ERR("option '--tr' is ambiguous: --tree, --track-mem", "dump", "--tr", "5");
	CHECK_ERR("option '--leave' is ambiguous: --leave-stopped, --leave-running", "dump",
		  "-t", "1", "--leave");
	CHECK_ERR("option '--log' is ambiguous: --log-file, --log-pid", "restore", "--log=x");
	/* Messages name the option in full, whatever prefix was typed. */
	CHECK_ERR("--port: '0' is not a port number (1-65535)", "page-server", "--por=0");
}

TEST(opts_free_resets_lists)
{
	struct cr_options x;

	opts_init(&x);
	CHECK_EQ(cli_parse(ARGC("exec", "-t", "1", "--close", "3", "kill", "-9"),
			   ARGV("exec", "-t", "1", "--close", "3", "kill", "-9"), &x),
		 0);
	CHECK_EQ(x.close_fds.n, 1);
	CHECK_EQ(x.nargs, 2);
	opts_free(&x);
	CHECK_EQ(x.close_fds.n, 0);
	CHECK(x.close_fds.items == NULL);
	CHECK(x.args == NULL);
	CHECK_EQ(x.nargs, 0);
}

/* ---- config files ----------------------------------------------------------------- */

static char cfg_dir[64];

static const char *write_cfg(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	if (!cfg_dir[0]) {
		snprintf(cfg_dir, sizeof(cfg_dir), "/tmp/criu-unit-cfg.XXXXXX");
		if (!mkdtemp(cfg_dir)) {
			printf("  FAIL: mkdtemp: %m\n");
			exit(1);
		}
		snprintf(path, sizeof(path), "%s/.criu", cfg_dir);
		mkdir(path, 0755);
	}
	snprintf(path, sizeof(path), "%s/%s", cfg_dir, name);
	f = fopen(path, "w");
	if (!f) {
		printf("  FAIL: %s: %m\n", path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	return path;
}

static void rm_cfgs(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", cfg_dir);
	if (cfg_dir[0] && system(cmd) != 0)
		printf("  warning: %s failed\n", cmd);
	cfg_dir[0] = 0;
}

TEST(config_file_syntax)
{
	const char *f = write_cfg("a.conf", "# a comment\n\n  tree 12   # the root\n"
					    "shell-job\nlog-file \"my dump.log\"\n"
					    "images-dir \"/a \\\"b\\\"\"\nverbosity\n");

	CHECK_OK("dump", "--config", (char *)f);
	CHECK_EQ(o.pid, 12);
	CHECK(o.shell_job);
	CHECK_STR(o.log_file, "my dump.log");
	CHECK_STR(o.images_dir, "/a \"b\"");
	CHECK_EQ(o.log_level, 3);
	/* The command line goes over the file. */
	CHECK_ERR("--config: the value is empty", "dump", "--config=", "-t", "5");
	CHECK_OK("dump", "--config", (char *)f, "-t", "13", "--no-shell-job", "-o", "x.log");
	CHECK_EQ(o.pid, 13);
	CHECK(!o.shell_job);
	CHECK_STR(o.log_file, "x.log");
	/* One dash, as drivers spell it, names the file too. */
	CHECK_OK("dump", "-config", (char *)f);
	CHECK_EQ(o.pid, 12);
	rm_cfgs();
}

TEST(config_file_errors)
{
	char line[512];
	const char *f;

	f = write_cfg("bad1.conf", "tree 1\nfrobnicate\n");
	snprintf(line, sizeof(line), "%s:2: unknown option 'frobnicate'", f);
	CHECK_ERR(line, "dump", "--config", (char *)f);
	f = write_cfg("bad2.conf", "--tree 1\n");
	snprintf(line, sizeof(line), "%s:1: write the option without its dashes", f);
	CHECK_ERR(line, "dump", "--config", (char *)f);
	f = write_cfg("bad3.conf", "tree 1 2\n");
	snprintf(line, sizeof(line), "%s:1: more than one value (quote a value that has blanks)", f);
	CHECK_ERR(line, "dump", "--config", (char *)f);
	f = write_cfg("bad4.conf", "log-file \"x\n");
	snprintf(line, sizeof(line), "%s:1: a quote is not closed", f);
	CHECK_ERR(line, "dump", "-t", "1", "--config", (char *)f);
	f = write_cfg("bad5.conf", "tree x\n");
	snprintf(line, sizeof(line), "%s:1: --tree: 'x' is not a process id (> 0)", f);
	CHECK_ERR(line, "dump", "--config", (char *)f);
	f = write_cfg("bad6.conf", "shell-job yes\n");
	snprintf(line, sizeof(line), "%s:1: --shell-job takes no value", f);
	CHECK_ERR(line, "dump", "-t", "1", "--config", (char *)f);
	/* a value missing in the file is not taken from the command line */
	f = write_cfg("bad8.conf", "images-dir\n");
	snprintf(line, sizeof(line), "%s:1: --images-dir needs a value", f);
	CHECK_ERR(line, "--config", (char *)f, "dump", "-t", "1");
	f = write_cfg("bad7.conf", "config /etc/x\n");
	snprintf(line, sizeof(line), "%s:1: --config can't be set in a config file", f);
	CHECK_ERR(line, "dump", "-t", "1", "--config", (char *)f);
	CHECK_ERR("can't read the config file /nonexistent/x.conf: No such file or directory",
		  "dump", "-t", "1", "--config", "/nonexistent/x.conf");
	/* A refused option from a file is refused, saying where it came from. */
	f = write_cfg("tcp.conf", "skip-in-flight\n");
	CHECK_REFUSED("--skip-in-flight (from a config file)", "dump", "-t", "1", "--config",
		      (char *)f);
	/* ...unless the command line turns it off, or the command has no use for it. */
	CHECK_OK("dump", "-t", "1", "--config", (char *)f, "--no-skip-in-flight");
	CHECK_OK("check", "--config", (char *)f);
	rm_cfgs();
}

TEST(config_file_order)
{
	char global[128];
	const char *env;

	/* /etc/criu/default.conf, then ~/.criu/default.conf, then $CRIU_CONFIG_FILE, then --config */
	snprintf(global, sizeof(global), "%s", write_cfg("global.conf", "tree 1\nshell-job\nlog-pid\n"));
	write_cfg(".criu/default.conf", "tree 2\nverbosity 4\n");
	cli_set_default_config_paths(global, cfg_dir);
	CHECK_OK("dump");
	CHECK_EQ(o.pid, 2);
	CHECK(o.shell_job && o.log_pid);
	CHECK_EQ(o.log_level, 4);
	env = write_cfg("env.conf", "tree 3\n");
	setenv("CRIU_CONFIG_FILE", env, 1);
	CHECK_OK("dump");
	CHECK_EQ(o.pid, 3);
	CHECK(o.shell_job);
	/* --no-default-config: only the env file */
	CHECK_OK("dump", "--no-default-config");
	CHECK_EQ(o.pid, 3);
	CHECK(!o.shell_job && !o.log_pid);
	CHECK_EQ(o.log_level, 2);
	/* --config: no default files either, and it goes over the env file */
	CHECK_OK("dump", "--config", (char *)write_cfg("cmd.conf", "tree 4\n"));
	CHECK_EQ(o.pid, 4);
	CHECK(!o.shell_job);
	unsetenv("CRIU_CONFIG_FILE");
	CHECK_OK("dump", "--no-default-config", "-t", "9");
	CHECK_EQ(o.pid, 9);
	CHECK(!o.shell_job);
	/* A CRIU_CONFIG_FILE that isn't there is an error, not silence. */
	setenv("CRIU_CONFIG_FILE", "/nonexistent/env.conf", 1);
	CHECK_ERR("can't read the config file /nonexistent/env.conf: No such file or directory",
		  "dump", "-t", "1");
	unsetenv("CRIU_CONFIG_FILE");
	cli_set_default_config_paths("/nonexistent/criu-unit/default.conf", "/nonexistent/criu-unit");
	rm_cfgs();
}

TEST(config_for_rpc)
{
	const char *f = write_cfg("rpc.conf", "shell-job\nlog-file rpc.log\n");

	opts_free(&opts);
	opts_init(&opts);
	opts.command = CMD_DUMP;
	opts.log_file = "client.log";
	CHECK_EQ(opts_init_from_config(f), 0);
	/* The file goes over what the client asked for, as upstream has it. */
	CHECK(opts.shell_job);
	CHECK_STR(opts.log_file, "rpc.log");
	/* runc names /etc/criu/runc.conf whether or not it exists. */
	CHECK_EQ(opts_init_from_config("/nonexistent/runc.conf"), 0);
	CHECK_STR(cli_last_error(), "");
	f = write_cfg("rpc-tcp.conf", "skip-in-flight\n");
	CHECK_EQ(opts_init_from_config(f), -1);
	CHECK(strstr(cli_last_error(), "--skip-in-flight (from a config file) is not supported") !=
	      NULL);
	f = write_cfg("rpc-bad.conf", "nonsense\n");
	CHECK_EQ(opts_init_from_config(f), -1);
	CHECK(strstr(cli_last_error(), "unknown option 'nonsense'") != NULL);
	opts_free(&opts);
	rm_cfgs();
}

TEST(config_again_for_each_rpc_request)
{
	char global[128];

	snprintf(global, sizeof(global), "%s", write_cfg("g.conf", "shell-job\nlog-file g.log\n"));
	cli_set_default_config_paths(global, "/nonexistent/criu-unit");
	/* swrk read the default files at its start; each request starts from them */
	CHECK_OK("swrk", "3");
	opts_free(&opts);
	opts_init(&opts);
	opts.command = CMD_DUMP;
	CHECK_EQ(opts_reapply_configs(), 0);
	CHECK(opts.shell_job);
	CHECK_STR(opts.log_file, "g.log");
	/* ...unless it was told not to read them */
	CHECK_OK("swrk", "--no-default-config", "3");
	opts_free(&opts);
	opts_init(&opts);
	opts.command = CMD_DUMP;
	CHECK_EQ(opts_reapply_configs(), 0);
	CHECK(!opts.shell_job);
	CHECK(opts.log_file == NULL);
	/* a refused option there refuses the request it would apply to */
	write_cfg("g.conf", "lazy-pages\n");
	CHECK_OK("swrk", "3");
	opts_free(&opts);
	opts_init(&opts);
	opts.command = CMD_RESTORE;
	CHECK_EQ(opts_reapply_configs(), -1);
	CHECK(strstr(cli_last_error(), "--lazy-pages (from a config file) is not supported") != NULL);
	opts.command = CMD_CHECK;
	CHECK_EQ(opts_reapply_configs(), 0);
	opts_free(&opts);
	cli_set_default_config_paths("/nonexistent/criu-unit/default.conf", "/nonexistent/criu-unit");
	CHECK_OK("swrk", "3");
	rm_cfgs();
}

UNIT_MAIN()
