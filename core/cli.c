/*
 * The command line of criu(8).  One table of options drives the parser, the
 * config files (core/config.c), --help and the refusals; a second table does
 * the same for the commands.  The parser behaves like getopt_long_only with
 * permutation, as upstream's drivers expect: options anywhere, clustered
 * short flags ("-sj", "-vvv", "-t123"), unique prefixes of long names, a
 * long name after one dash ("-verbosity=4", "-tree 1") when it is a whole
 * name, --no-NAME for the boolean ones, "--" ends the options.  Two
 * twists: exec stops at its syscall name, because the syscall's arguments
 * are often negative numbers, and every value is checked here so that a typo
 * costs one clear line instead of a half-done dump.
 *
 * Every option of upstream's criu(8) is known.  One that this criu does not
 * carry out is refused naming it (its .refused says why; docs/options.md has
 * the table), and one given to a command it means nothing to (dump
 * --pidfile, restore -t) gets a one-line warning: never silence.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "fsafe.h"
#include "options.h"
#include "version.h"

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

struct cr_options opts;

enum arg_kind {
	ARG_NONE,
	ARG_REQUIRED, /* "-t 1", "-t1", "--tree 1", "--tree=1" */
	ARG_OPTIONAL, /* attached only: "-v4", "--cpu-cap=fpu" */
};

enum opt_group {
	GRP_COMMON,
	GRP_DUMP,
	GRP_RESTORE,
	GRP_SHOW,
	GRP_CHECK,
	GRP_PAGE_SERVER,
	GRP_EXEC,
	GRP_CPUINFO,
	GRP_LOGGING,
	NR_GROUPS,
};

/* What a value must look like; the message reads "'VAL' is not <what>". */
struct value_rule {
	const char *what;
	long min, max;		     /* numbers, inclusive */
	bool (*valid)(const char *); /* strings; NULL: a number in [min, max] */
};

struct cli_option;

/* Returns 0, -1 after printing an error, 1 when the program should exit 0. */
typedef int (*store_fn)(const struct cli_option *opt, const char *spelled, const char *val,
			struct cr_options *o);

struct cli_option {
	const char *name; /* long name without "--"; NULL: short only */
	char letter;	  /* 0: long only */
	enum arg_kind arg;
	store_fn store;
	size_t field; /* offset in struct cr_options, NO_FIELD: nothing stored */
	const struct value_rule *rule;
	enum opt_group group;
	const char *metavar;
	const char *help;
	unsigned cmds;	/* the commands it means something to (bits of CMD_*); 0: all */
	bool negatable; /* --no-NAME turns it off (a flag) */
	/* Not carried out by this criu: why.  The option is refused when given. */
	const char *refused;
	/* With .refused: the values that ask nothing of criu, which pass. */
	bool (*harmless)(const struct cr_options *o);
};

#define NO_FIELD ((size_t)-1)

static const char hint[] = "Try 'criu --help' for more information.\n";

/* The last error, for RPC (cli_last_error) and the config file's prefix. */
static char last_error[512];
static const char *error_where; /* "FILE:LINE: " while a config file is read */
static bool errors_quiet;	/* RPC: errors go to the log, not stderr */

const char *cli_last_error(void)
{
	return last_error;
}

static int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int cli_error(const char *fmt, ...)
{
	va_list args;
	int n = snprintf(last_error, sizeof(last_error), "%s", error_where ? error_where : "");

	va_start(args, fmt);
	vsnprintf(last_error + n, sizeof(last_error) - n, fmt, args);
	va_end(args);
	if (errors_quiet) {
		pr_err("%s\n", last_error);
		return -1;
	}
	fprintf(stderr, "criu: %s\n", last_error);
	fputs(hint, stderr);
	return -1;
}

static void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void cli_warn(const char *fmt, ...)
{
	char buf[512];
	va_list args;

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	if (errors_quiet)
		pr_warn("%s\n", buf);
	else
		fprintf(stderr, "criu: warning: %s\n", buf);
}

/* ---- values ---------------------------------------------------------------- */

/* Strict decimal: no blanks, no "+", no trailing junk, no overflow. */
static bool parse_number(const char *s, long *out)
{
	const char *digits = s[0] == '-' ? s + 1 : s;
	char *end;
	long n;

	if (!isdigit((unsigned char)digits[0]))
		return false;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || *end)
		return false;
	*out = n;
	return true;
}

static bool value_ok(const struct value_rule *rule, const char *val)
{
	long n;

	if (!rule)
		return true;
	if (rule->valid)
		return rule->valid(val);
	return parse_number(val, &n) && n >= rule->min && n <= rule->max;
}

static int check_value(const struct cli_option *opt, const char *spelled, const char *val)
{
	if (!val[0])
		return cli_error("%s: the value is empty", spelled);
	if (!value_ok(opt->rule, val))
		return cli_error("%s: '%s' is not %s", spelled, val, opt->rule->what);
	return 0;
}

int cli_split_inherit_fd(const char *arg, int *fd, const char **existing)
{
	char *end;
	long n;

	if (strncmp(arg, "fd[", 3) || !isdigit((unsigned char)arg[3]))
		return -1;
	errno = 0;
	n = strtol(arg + 3, &end, 10);
	if (errno || n > INT_MAX || strncmp(end, "]:", 2) || !end[2])
		return -1;
	*fd = (int)n;
	*existing = end + 2;
	return 0;
}

static bool valid_inherit_fd(const char *v)
{
	const char *existing;
	int fd;

	return !cli_split_inherit_fd(v, &fd, &existing);
}

/* Both sides of the separator must be non-empty. */
static bool valid_pair(const char *v, char sep)
{
	const char *s = strchr(v, sep);

	return s && s != v && s[1];
}

static bool valid_veth_pair(const char *v)
{
	return valid_pair(v, '=');
}

static bool valid_mount_map(const char *v)
{
	return !strcmp(v, "auto") || valid_pair(v, ':');
}

/* A path alone sets the root of every controller not named elsewhere. */
static bool valid_cgroup_root(const char *v)
{
	const char *colon = strchr(v, ':');

	if (v[0] == '/')
		return true;
	return colon && colon != v && colon[1] == '/';
}

static const struct {
	const char *name;
	unsigned long flag;
} namespace_names[] = {
	{ "uts", CLONE_NEWUTS }, { "ipc", CLONE_NEWIPC },   { "mnt", CLONE_NEWNS },
	{ "pid", CLONE_NEWPID }, { "net", CLONE_NEWNET },   { "user", CLONE_NEWUSER },
	{ "cgroup", CLONE_NEWCGROUP },
};

static int namespace_mask(const char *list, unsigned long *mask)
{
	const char *p = list, *comma;

	*mask = 0;
	for (;; p = comma + 1) {
		size_t len, i, n = sizeof(namespace_names) / sizeof(namespace_names[0]);

		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		for (i = 0; i < n; i++)
			if (strlen(namespace_names[i].name) == len &&
			    !strncmp(p, namespace_names[i].name, len))
				break;
		if (i == n)
			return -1;
		*mask |= namespace_names[i].flag;
		if (!comma)
			return 0;
	}
}

static bool valid_namespaces(const char *v)
{
	unsigned long mask;

	return !namespace_mask(v, &mask);
}

static const struct value_rule pid_rule = { "a process id (> 0)", 1, INT_MAX, NULL };
static const struct value_rule fd_rule = { "a file descriptor number (>= 0)", 0, INT_MAX, NULL };
static const struct value_rule port_rule = { "a port number (1-65535)", 1, 65535, NULL };
static const struct value_rule seconds_rule = { "a number of seconds (>= 0)", 0, INT_MAX, NULL };
static const struct value_rule level_rule = { "a log level (0-4)", LOG_MSG, LOG_DEBUG, NULL };
static const struct value_rule veth_rule = { "of the form IN=OUT", 0, 0, valid_veth_pair };
static const struct value_rule mount_map_rule = { "of the form KEY:VAL or 'auto'", 0, 0,
						  valid_mount_map };
static const struct value_rule cgroup_root_rule = { "of the form [CONTROLLER:]/PATH", 0, 0,
						    valid_cgroup_root };
/* TYPE[ID] or TYPE[ID]:VALUE, as criu(8) writes it */
static bool valid_external(const char *v)
{
	const char *open = strchr(v, '['), *close = open ? strchr(open, ']') : NULL;

	return open && open != v && close && (!close[1] || (close[1] == ':' && close[2]));
}

static const struct value_rule external_rule = { "of the form TYPE[ID] or TYPE[ID]:VALUE", 0, 0,
						 valid_external };
static const struct value_rule inherit_fd_rule = { "of the form fd[N]:EXISTING", 0, 0,
						   valid_inherit_fd };
static const struct value_rule namespaces_rule = {
	"a comma list of uts, ipc, mnt, pid, net, user, cgroup", 0, 0, valid_namespaces
};


static bool valid_manage_cgroups(const char *v)
{
	static const char *const modes[] = { "none", "props", "soft", "full", "strict", "ignore" };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(v, modes[i]))
			return true;
	return false;
}

static bool valid_pre_dump_mode(const char *v)
{
	return !strcmp(v, "splice") || !strcmp(v, "read");
}

static bool valid_network_lock(const char *v)
{
	return !strcmp(v, "iptables") || !strcmp(v, "nftables") || !strcmp(v, "skip");
}

static bool valid_file_validation(const char *v)
{
	return !strcmp(v, "filesize") || !strcmp(v, "buildid");
}

/* 100, 64K, 10M, 1G, as upstream's --ghost-limit reads it */
static bool valid_size(const char *v)
{
	char *end;

	if (!isdigit((unsigned char)v[0]))
		return false;
	errno = 0;
	strtoull(v, &end, 10);
	if (errno)
		return false;
	return !*end || (strchr("KMG", *end) && !end[1]);
}

static bool valid_empty_ns(const char *v)
{
	return !strcmp(v, "net");
}

/* NS:PATH[,OPTIONS] as --join-ns reads it */
static bool valid_join_ns(const char *v)
{
	return valid_pair(v, ':');
}

static bool valid_nonempty(const char *v)
{
	return v[0] != '\0';
}

/* "123" or "123,456": socket inodes */
static bool valid_sk_ids(const char *v)
{
	for (;;) {
		if (*v < '0' || *v > '9')
			return false;
		while (*v >= '0' && *v <= '9')
			v++;
		if (*v == '\0')
			return true;
		if (*v++ != ',')
			return false;
	}
}

static const struct value_rule cg_mode_rule = {
	"a cgroup mode (none, props, soft, full, strict, ignore)", 0, 0, valid_manage_cgroups
};
static const struct value_rule pre_dump_mode_rule = { "a pre-dump mode (splice or read)", 0, 0,
						      valid_pre_dump_mode };
static const struct value_rule network_lock_rule = {
	"a network lock method (iptables, nftables, skip)", 0, 0, valid_network_lock
};
static const struct value_rule file_validation_rule = {
	"a file validation method (filesize or buildid)", 0, 0, valid_file_validation
};
static const struct value_rule size_rule = { "a size (N, NK, NM or NG)", 0, 0, valid_size };
static const struct value_rule empty_ns_rule = { "a namespace criu may leave empty (net)", 0, 0,
						 valid_empty_ns };
static const struct value_rule join_ns_rule = { "of the form NS:PATH[,OPTIONS]", 0, 0,
						valid_join_ns };
static const struct value_rule any_rule = { "a value", 0, 0, valid_nonempty };
static const struct value_rule sk_ids_rule = { "a comma list of socket inodes", 0, 0,
					       valid_sk_ids };

/* ---- storing --------------------------------------------------------------- */

static void *field_of(struct cr_options *o, const struct cli_option *opt)
{
	return (char *)o + opt->field;
}

static int list_add(struct str_list *l, const char *item)
{
	char **items = realloc(l->items, (l->n + 1) * sizeof(*items));

	if (!items)
		return cli_error("out of memory");
	items[l->n++] = (char *)item;
	l->items = items;
	return 0;
}

static int store_true(const struct cli_option *opt, const char *spelled, const char *val,
		      struct cr_options *o)
{
	*(bool *)field_of(o, opt) = true;
	return 0;
}

/* An option with nothing to store: its value (if any) is only checked. */
static int store_nothing(const struct cli_option *opt, const char *spelled, const char *val,
			 struct cr_options *o)
{
	if (val && opt->rule && check_value(opt, spelled, val))
		return -1;
	return 0;
}

static int store_str(const struct cli_option *opt, const char *spelled, const char *val,
		     struct cr_options *o)
{
	if (check_value(opt, spelled, val))
		return -1;
	*(const char **)field_of(o, opt) = val;
	return 0;
}

static int store_list(const struct cli_option *opt, const char *spelled, const char *val,
		      struct cr_options *o)
{
	if (check_value(opt, spelled, val))
		return -1;
	return list_add(field_of(o, opt), val);
}

static int store_int(const struct cli_option *opt, const char *spelled, const char *val,
		     struct cr_options *o)
{
	if (check_value(opt, spelled, val))
		return -1;
	*(int *)field_of(o, opt) = (int)strtol(val, NULL, 10);
	return 0;
}

/*
 * As upstream: -v alone (and --verbosity without a value) raises the level
 * by one from where it is (the default 2 gives 3), each extra v by one more
 * ("-vvv": 5, which is everything); digits set it (-v0 .. -v4).
 */
/* 100, 64K, 10M, 1G (size_rule) as a number of bytes */
static int store_size(const struct cli_option *opt, const char *spelled, const char *val,
		      struct cr_options *o)
{
	unsigned long long v;
	char *end;

	if (check_value(opt, spelled, val))
		return -1;
	v = strtoull(val, &end, 10);
	if (*end == 'K')
		v <<= 10;
	else if (*end == 'M')
		v <<= 20;
	else if (*end == 'G')
		v <<= 30;
	*(uint64_t *)field_of(o, opt) = v;
	return 0;
}

static int store_verbosity(const struct cli_option *opt, const char *spelled, const char *val,
			   struct cr_options *o)
{
	size_t vs;
	int level;

	if (!val) {
		level = o->log_level + 1;
	} else if ((vs = strspn(val, "v")) && !val[vs]) {
		level = o->log_level + (int)vs + 1;
	} else {
		return store_int(opt, spelled, val, o);
	}
	o->log_level = level > LOG_DEBUG ? LOG_DEBUG : level;
	return 0;
}

/* The list itself is judged by cpuinfo/, which knows the modes. */
static int store_cpu_cap(const struct cli_option *opt, const char *spelled, const char *val,
			 struct cr_options *o)
{
	o->cpu_cap_given = true;
	return store_str(opt, spelled, val ? val : "all", o);
}

/* --manage-cgroups alone is upstream's soft mode. */
static int store_cg_mode(const struct cli_option *opt, const char *spelled, const char *val,
			 struct cr_options *o)
{
	o->manage_cgroups = true;
	return store_str(opt, spelled, val ? val : "soft", o);
}

/* -x alone, or -x/--ext-unix-sk=INODES */
static int store_ext_unix_sk(const struct cli_option *opt, const char *spelled, const char *val,
			     struct cr_options *o)
{
	if (val && check_value(opt, spelled, val))
		return -1;
	o->ext_unix_sk = true;
	o->ext_unix_sk_ids = val;
	return 0;
}

static int store_mount_map(const struct cli_option *opt, const char *spelled, const char *val,
			   struct cr_options *o)
{
	if (!strcmp(val, "auto")) {
		o->ext_mount_auto = true;
		return 0;
	}
	return store_list(opt, spelled, val, o);
}

static int store_namespaces(const struct cli_option *opt, const char *spelled, const char *val,
			    struct cr_options *o)
{
	if (store_str(opt, spelled, val, o))
		return -1;
	return namespace_mask(val, &o->ns_flags);
}

/* --all: --extra and --experimental */
static int store_check_all(const struct cli_option *opt, const char *spelled, const char *val,
			   struct cr_options *o)
{
	o->check_all = o->check_extra = o->check_experimental = true;
	return 0;
}

static int show_help(const struct cli_option *opt, const char *spelled, const char *val,
		     struct cr_options *o)
{
	cli_usage();
	return 1;
}

static int show_version(const struct cli_option *opt, const char *spelled, const char *val,
			struct cr_options *o)
{
	printf("Version: %s\n", CRIU_VERSION);
	return 1;
}

/* The values of the refused options that ask nothing of criu, or that it carries out. */

/* --external file[MNT_ID:INODE] (hex, as upstream): a file dump leaves to
 * restore's --inherit-fd; the other kinds (mnt, dev, tty, unix, net) are not handled */
bool cli_external_file(const char *v)
{
	unsigned long long ino;
	unsigned int mnt;
	int n = 0;

	return sscanf(v, "file[%x:%llx]%n", &mnt, &ino, &n) == 2 && n && !v[n];
}

static bool externals_are_files(const struct cr_options *o)
{
	for (int i = 0; i < o->externals.n; i++)
		if (!cli_external_file(o->externals.items[i]))
			return false;
	return true;
}

static bool cgroups_left_alone(const struct cr_options *o)
{
	return !strcmp(o->manage_cgroups_mode, "none") || !strcmp(o->manage_cgroups_mode, "ignore");
}

/* ---- the option table -------------------------------------------------------- */

/* An offset that only compiles when the field has the type the store expects. */
#define FIELD(f, type)                                                                        \
	__builtin_choose_expr(                                                                \
		__builtin_types_compatible_p(__typeof__(((struct cr_options *)0)->f), type), \
		offsetof(struct cr_options, f), (void)0)

#define OPT(n, l, a, s, fld, r, g, m, h, ...)                                             \
	{ .name = n, .letter = l, .arg = a, .store = s, .field = fld, .rule = r, .group = g, \
	  .metavar = m, .help = h, __VA_ARGS__ }
#define FLAG(n, l, f, g, h, ...) \
	OPT(n, l, ARG_NONE, store_true, FIELD(f, bool), NULL, g, NULL, h, __VA_ARGS__)
#define STR(n, l, f, g, m, h, ...) \
	OPT(n, l, ARG_REQUIRED, store_str, FIELD(f, const char *), NULL, g, m, h, __VA_ARGS__)
#define RSTR(n, l, f, r, g, m, h, ...) \
	OPT(n, l, ARG_REQUIRED, store_str, FIELD(f, const char *), r, g, m, h, __VA_ARGS__)
#define LIST(n, l, f, r, g, m, h, ...)                                                    \
	OPT(n, l, ARG_REQUIRED, store_list, FIELD(f, struct str_list), r, g, m, h, \
	    __VA_ARGS__)
#define NUM(n, l, f, r, g, m, h, ...) \
	OPT(n, l, ARG_REQUIRED, store_int, FIELD(f, int), r, g, m, h, __VA_ARGS__)
/* Upstream's options that this criu knows but keeps nothing of: all refused. */
#define NOFLAG(n, l, g, h, ...) \
	OPT(n, l, ARG_NONE, store_nothing, NO_FIELD, NULL, g, NULL, h, __VA_ARGS__)
#define NOVAL(n, l, r, g, m, h, ...) \
	OPT(n, l, ARG_REQUIRED, store_nothing, NO_FIELD, r, g, m, h, __VA_ARGS__)

#define CMD_BIT(c) (1u << (c))
#define ON_DUMP (CMD_BIT(CMD_DUMP) | CMD_BIT(CMD_PRE_DUMP))
#define ON_RESTORE CMD_BIT(CMD_RESTORE)
#define ON_DR (ON_DUMP | ON_RESTORE)
#define ON_CHECK CMD_BIT(CMD_CHECK)
#define ON_SHOW CMD_BIT(CMD_SHOW)
#define ON_PS CMD_BIT(CMD_PAGE_SERVER)
#define ON_SERVICE CMD_BIT(CMD_SERVICE)
#define ON_CPUINFO (CMD_BIT(CMD_CPUINFO_DUMP) | CMD_BIT(CMD_CPUINFO_CHECK))

/* Why an option is refused (docs/options.md says the same). */
#define NO_NETNS "network namespaces and their devices are not dumped yet"
#define NO_TCP "TCP connections are dumped established only (--tcp-established)"
#define NO_MNT "mount namespaces and external mounts are not handled yet"
#define NO_CG "cgroups are not dumped or restored yet"
#define NO_PS "the page server is not implemented yet"
#define NO_LSM "LSM profiles are not restored yet"

static const struct cli_option options[] = {
	STR("images-dir", 'D', images_dir, GRP_COMMON, "DIR", "images directory (default: .)"),
	STR("work-dir", 'W', work_dir, GRP_COMMON, "DIR",
	    "logs, pidfiles and stats (default: -D)"),
	STR("config", 0, config_file, GRP_COMMON, "FILE",
	    "read options from FILE (no default configs then)"),
	FLAG("no-default-config", 0, no_default_config, GRP_COMMON,
	     "skip /etc/criu/ and ~/.criu/default.conf"),
	STR("libdir", 'L', libdir, GRP_COMMON, "DIR", "plugins directory",
	    .refused = "plugins are not supported"),
	STR("pidfile", 0, pidfile, GRP_COMMON, "FILE",
	    "write the root task's or server's pid to FILE",
	    .cmds = ON_RESTORE | ON_SERVICE | ON_PS),
	LIST("action-script", 0, action_scripts, NULL, GRP_COMMON, "SCRIPT",
	     "run SCRIPT at action points (repeatable)"),
	LIST("close", 0, close_fds, &fd_rule, GRP_COMMON, "FD",
	     "close FD before anything else (repeatable)"),
	NUM("status-fd", 0, status_fd, &fd_rule, GRP_COMMON, "FD", "report readiness on FD"),
	FLAG("deprecated", 0, deprecated, GRP_COMMON, "allow deprecated features (none here)",
	     .negatable = true),
	NOFLAG("unprivileged", 0, GRP_COMMON, "run without root, with CAP_CHECKPOINT_RESTORE",
	       .negatable = true, .refused = "the unprivileged mode is not implemented"),
	FLAG("display-stats", 0, display_stats, GRP_COMMON, "print the statistics at the end",
	     .cmds = ON_DR, .negatable = true),
	NOFLAG("stream", 0, GRP_COMMON, "stream images through criu-image-streamer",
	       .cmds = ON_DR, .negatable = true, .refused = "image streaming is not implemented"),
	OPT("help", 'h', ARG_NONE, show_help, 0, NULL, GRP_COMMON, NULL, "print this help"),
	OPT("version", 'V', ARG_NONE, show_version, 0, NULL, GRP_COMMON, NULL,
	    "print the version"),

	NUM("tree", 't', pid, &pid_rule, GRP_DUMP, "PID", "the root of the tree (dump, exec)",
	    .cmds = ON_DUMP | CMD_BIT(CMD_EXEC)),
	FLAG("leave-stopped", 's', leave_stopped, GRP_DUMP,
	     "leave tasks stopped after dump or restore", .cmds = ON_DR),
	FLAG("leave-running", 'R', leave_running, GRP_DUMP,
	     "leave tasks running after dump (dangerous)", .cmds = ON_DUMP),
	STR("prev-images-dir", 0, prev_images_dir, GRP_DUMP, "DIR",
	    "parent images, for incremental dumps", .cmds = ON_DUMP | ON_PS),
	FLAG("track-mem", 0, track_mem, GRP_DUMP, "turn on the kernel's memory change tracker",
	     .cmds = ON_DUMP, .negatable = true),
	RSTR("pre-dump-mode", 0, pre_dump_mode, &pre_dump_mode_rule, GRP_DUMP, "splice|read",
	     "how pre-dump reads memory", .cmds = ON_DUMP),
	FLAG("page-server", 0, use_page_server, GRP_DUMP,
	     "send pages to the page server --address:--port", .cmds = ON_DUMP,
	     .negatable = true, .refused = NO_PS),
	NUM("timeout", 0, timeout, &seconds_rule, GRP_DUMP, "SEC",
	    "give up collecting the tree after SEC (0: never)",
	    .cmds = ON_DR | CMD_BIT(CMD_EXEC) | ON_PS),
	OPT("namespaces", 'n', ARG_REQUIRED, store_namespaces, FIELD(namespaces, const char *),
	    &namespaces_rule, GRP_DUMP, "NS[,NS...]", "uts, ipc, mnt, pid, net, user, cgroup",
	    .cmds = ON_DUMP, .refused = "namespaces are not dumped yet"),
	OPT("ext-unix-sk", 'x', ARG_OPTIONAL, store_ext_unix_sk, NO_FIELD, &sk_ids_rule,
	    GRP_DUMP, "INODE,...", "allow datagram peers outside the tree", .cmds = ON_DR),
	FLAG("tcp-established", 0, tcp_established, GRP_DUMP,
	     "dump/restore established TCP connections", .cmds = ON_DR, .negatable = true),
	NOFLAG("skip-in-flight", 0, GRP_DUMP, "skip connections not yet accepted",
	       .cmds = ON_DUMP, .negatable = true, .refused = NO_TCP),
	NOFLAG("tcp-close", 0, GRP_RESTORE, "restore TCP connections closed", .cmds = ON_RESTORE,
	       .negatable = true, .refused = NO_TCP),
	RSTR("network-lock", 0, network_lock, &network_lock_rule, GRP_DUMP, "METHOD",
	     "iptables, nftables or skip", .cmds = ON_DR),
	FLAG("shell-job", 'j', shell_job, GRP_DUMP, "dump/restore a shell job", .cmds = ON_DR,
	     .negatable = true),
	FLAG("file-locks", 'l', file_locks, GRP_DUMP, "dump/restore file locks", .cmds = ON_DR,
	     .negatable = true),
	FLAG("link-remap", 0, link_remap, GRP_DUMP, "link unlinked files back when possible",
	     .cmds = ON_DR, .negatable = true),
	OPT("ghost-limit", 0, ARG_REQUIRED, store_size, FIELD(ghost_limit, uint64_t), &size_rule,
	    GRP_DUMP, "SIZE", "most of a deleted file kept in the images (1M)",
	    .cmds = ON_DUMP),
	NOFLAG("ghost-fiemap", 0, GRP_DUMP, "dump sparse deleted files by extents",
	       .cmds = ON_DUMP, .negatable = true),
	FLAG("evasive-devices", 0, evasive_devices, GRP_DUMP,
	     "use any path to an inaccessible device file", .cmds = ON_DR, .negatable = true),
	FLAG("force-irmap", 0, force_irmap, GRP_DUMP,
	     "force resolving names of inotify/fsnotify watches", .cmds = ON_DUMP,
	     .negatable = true),
	NOVAL("irmap-scan-path", 0, &any_rule, GRP_DUMP, "PATH",
	      "where to look for inotify watch names", .cmds = ON_DUMP,
	      .refused = "watch names are found through their file handles, never by scanning"),
	OPT("manage-cgroups", 0, ARG_OPTIONAL, store_cg_mode, FIELD(manage_cgroups_mode, const char *),
	    &cg_mode_rule, GRP_DUMP, "MODE",
	    "dump/restore cgroups: none, props, soft (if bare),\nfull, strict, ignore",
	    .cmds = ON_DR, .refused = NO_CG, .harmless = cgroups_left_alone),
	NOVAL("cgroup-props", 0, &any_rule, GRP_DUMP, "STRING", "cgroup properties to dump",
	      .cmds = ON_DUMP, .refused = NO_CG),
	NOVAL("cgroup-props-file", 0, &any_rule, GRP_DUMP, "FILE",
	      "cgroup properties to dump, from FILE", .cmds = ON_DUMP, .refused = NO_CG),
	NOVAL("cgroup-dump-controller", 0, &any_rule, GRP_DUMP, "NAME",
	      "dump this cgroup controller", .cmds = ON_DUMP, .refused = NO_CG),
	NOVAL("cgroup-yard", 0, &any_rule, GRP_DUMP, "PATH", "where to mount cgroups",
	      .cmds = ON_DR, .refused = NO_CG),
	NOVAL("freeze-cgroup", 0, &any_rule, GRP_DUMP, "PATH",
	      "freeze the tree with this freezer cgroup", .cmds = ON_DUMP, .refused = NO_CG),
	FLAG("auto-dedup", 0, auto_dedup, GRP_DUMP,
	     "dedup parent images on dump, punch restored pages", .cmds = ON_DR,
	     .negatable = true),
	OPT("ext-mount-map", 'M', ARG_REQUIRED, store_mount_map,
	    FIELD(ext_mount_map, struct str_list), &mount_map_rule, GRP_DUMP, "KEY:VAL",
	    "external mount mapping, or 'auto' (repeatable)", .cmds = ON_DR, .refused = NO_MNT),
	FLAG("enable-external-sharing", 0, enable_external_sharing, GRP_DUMP,
	     "resolve external shared mounts with -M auto", .cmds = ON_DR, .refused = NO_MNT),
	FLAG("enable-external-masters", 0, enable_external_masters, GRP_DUMP,
	     "resolve external slave mounts with -M auto", .cmds = ON_DR, .refused = NO_MNT),
	LIST("external", 0, externals, &external_rule, GRP_DUMP, "RES",
	     "an external resource (repeatable)", .cmds = ON_DR,
	     .refused = "external resources other than files (file[MNT_ID:INODE]) are not "
			"handled yet",
	     .harmless = externals_are_files),
	NOVAL("skip-mnt", 0, &any_rule, GRP_DUMP, "PATH", "don't dump the mount at PATH",
	      .cmds = ON_DUMP, .refused = NO_MNT),
	NOVAL("enable-fs", 0, &any_rule, GRP_DUMP, "FS[,FS...]",
	      "dump these filesystems as external", .cmds = ON_DUMP, .refused = NO_MNT),
	NOVAL("empty-ns", 0, &empty_ns_rule, GRP_DUMP, "net",
	      "leave this namespace empty (for a script)", .cmds = ON_DR,
	      .refused = NO_NETNS),
	NOFLAG("lazy-pages", 0, GRP_DUMP, "leave pages to the lazy-pages daemon", .cmds = ON_DR,
	       .refused = "lazy pages are not implemented"),
	NOVAL("file-validation", 0, &file_validation_rule, GRP_DUMP, "METHOD",
	      "how restore checks files: filesize or buildid", .cmds = ON_DR,
	      .refused = "the file validation method cannot be chosen yet"),
	NOFLAG("allow-uprobes", 0, GRP_DUMP, "dump tasks with uprobes", .cmds = ON_DR,
	       .negatable = true, .refused = "uprobes mappings are not dumped"),
	NOFLAG("exec-cmd", 0, GRP_RESTORE, "exec a command after restore (swrk only)",
	       .cmds = ON_RESTORE, .refused = "--exec-cmd is not implemented"),

	FLAG("restore-detached", 'd', restore_detached, GRP_RESTORE,
	     "detach criu once the restore is complete", .cmds = ON_RESTORE, .negatable = true),
	FLAG("daemon", 0, restore_detached, GRP_RESTORE, "the same as --restore-detached",
	     .cmds = ON_RESTORE, .negatable = true),
	FLAG("restore-sibling", 'S', restore_sibling, GRP_RESTORE,
	     "restore the root task as a sibling (with -d)", .cmds = ON_RESTORE,
	     .negatable = true),
	STR("root", 'r', root, GRP_RESTORE, "PATH", "change the root filesystem",
	    .cmds = ON_DR, .refused = NO_MNT),
	LIST("veth-pair", 0, veth_pairs, &veth_rule, GRP_RESTORE, "IN=OUT",
	     "inside and outside veth names (repeatable)", .cmds = ON_RESTORE,
	     .refused = NO_NETNS),
	NOVAL("join-ns", 'J', &join_ns_rule, GRP_RESTORE, "NS:PATH",
	      "restore into an existing namespace", .cmds = ON_RESTORE,
	      .refused = "namespaces are not restored yet"),
	LIST("inherit-fd", 0, inherit_fds, &inherit_fd_rule, GRP_RESTORE, "fd[N]:EXISTING",
	     "use criu's fd N for the file EXISTING (repeatable)", .cmds = ON_RESTORE),
	LIST("cgroup-root", 0, cgroup_roots, &cgroup_root_rule, GRP_RESTORE, "[CTL:]/PATH",
	     "put CTL's (default: all) cgroups under PATH", .cmds = ON_RESTORE, .refused = NO_CG),
	NOVAL("lsm-profile", 0, &any_rule, GRP_RESTORE, "TYPE:NAME",
	      "restore tasks under this LSM profile", .cmds = ON_RESTORE, .refused = NO_LSM),
	NOVAL("lsm-mount-context", 0, &any_rule, GRP_RESTORE, "CTX",
	      "the SELinux context of restored mounts", .cmds = ON_RESTORE, .refused = NO_LSM),
	FLAG("weak-sysctls", 0, weak_sysctls, GRP_RESTORE,
	     "skip sysctls the kernel lacks (none are restored)", .cmds = ON_RESTORE,
	     .negatable = true),
	FLAG("skip-file-rwx-check", 0, skip_file_rwx_check, GRP_RESTORE,
	     "don't check files' permission bits", .cmds = ON_RESTORE, .negatable = true),
	NOFLAG("mntns-compat-mode", 0, GRP_RESTORE, "restore mounts the pre-4.0 way",
	       .cmds = ON_RESTORE, .negatable = true, .refused = NO_MNT),

	STR("file", 'f', show_file, GRP_SHOW, "FILE", "the image file to show", .cmds = ON_SHOW),
	FLAG("contents", 'c', show_pages_content, GRP_SHOW, "show the contents of pages in hex",
	     .cmds = ON_SHOW),
	FLAG("json", 0, show_json, GRP_SHOW, "print JSON", .cmds = ON_SHOW),

	LIST("feature", 0, check_features, NULL, GRP_CHECK, "NAME",
	     "check only the feature NAME (repeatable; 'list')", .cmds = ON_CHECK),
	FLAG("extra", 0, check_extra, GRP_CHECK, "also check features that are not required",
	     .cmds = ON_CHECK, .negatable = true),
	FLAG("experimental", 0, check_experimental, GRP_CHECK,
	     "also check experimental features", .cmds = ON_CHECK, .negatable = true),
	OPT("all", 0, ARG_NONE, store_check_all, 0, NULL, GRP_CHECK, NULL,
	    "also check extra and experimental features", .cmds = ON_CHECK),
	FLAG("ms", 0, check_ms, GRP_CHECK, "skip features not yet merged upstream",
	     .cmds = ON_CHECK),

	STR("address", 0, address, GRP_PAGE_SERVER, "ADDR",
	    "page server address; service socket path", .cmds = ON_PS | ON_SERVICE),
	NUM("port", 0, port, &port_rule, GRP_PAGE_SERVER, "PORT", "page server port",
	    .cmds = ON_PS),
	NOVAL("ps-socket", 0, &fd_rule, GRP_PAGE_SERVER, "FD",
	      "talk to the page server over this socket", .cmds = ON_DUMP | ON_PS,
	      .refused = NO_PS),
	NOFLAG("tls", 0, GRP_PAGE_SERVER, "encrypt page server traffic", .cmds = ON_DUMP | ON_PS,
	       .negatable = true, .refused = NO_PS),
	NOVAL("tls-cacert", 0, &any_rule, GRP_PAGE_SERVER, "FILE", "TLS CA certificate",
	      .cmds = ON_DUMP | ON_PS, .refused = NO_PS),
	NOVAL("tls-cacrl", 0, &any_rule, GRP_PAGE_SERVER, "FILE", "TLS revocation list",
	      .cmds = ON_DUMP | ON_PS, .refused = NO_PS),
	NOVAL("tls-cert", 0, &any_rule, GRP_PAGE_SERVER, "FILE", "TLS certificate",
	      .cmds = ON_DUMP | ON_PS, .refused = NO_PS),
	NOVAL("tls-key", 0, &any_rule, GRP_PAGE_SERVER, "FILE", "TLS private key",
	      .cmds = ON_DUMP | ON_PS, .refused = NO_PS),
	NOFLAG("tls-no-cn-verify", 0, GRP_PAGE_SERVER, "don't verify the peer's common name",
	       .cmds = ON_DUMP | ON_PS, .refused = NO_PS),

	OPT("cpu-cap", 0, ARG_OPTIONAL, store_cpu_cap, FIELD(cpu_cap, const char *), NULL,
	    GRP_CPUINFO, "CAP[,CAP...]", "all (if bare), cpu, fpu (default), ins, none",
	    .cmds = ON_DR | ON_CPUINFO),

	STR("log-file", 'o', log_file, GRP_LOGGING, "FILE", "log to FILE in the work dir"),
	OPT(NULL, 'v', ARG_OPTIONAL, store_verbosity, FIELD(log_level, int), &level_rule,
	    GRP_LOGGING, "N|v...",
	    "log level: -v0 messages only, -v1 errors,\n-v2 warnings (default), -v3 info,\n"
	    "-v4 debug; -v alone or -vv...: one more a v"),
	OPT("verbosity", 0, ARG_OPTIONAL, store_verbosity, FIELD(log_level, int), &level_rule,
	    GRP_LOGGING, "N", "log level 0-4, like -vN; bare: one more"),
	FLAG("log-pid", 0, log_pid, GRP_LOGGING, "a log file per pid", .negatable = true),
};

#define NR_OPTIONS (sizeof(options) / sizeof(options[0]))

/* ---- the command table -------------------------------------------------------- */

enum {
	NEEDS_PID = 1,	/* -t */
	NEEDS_FILE = 2, /* -f */
};

struct cli_command {
	const char *name;
	const char *sub; /* second word, or NULL */
	enum cr_command cmd;
	int min_args, max_args; /* max -1: no limit */
	unsigned needs;
	const char *args_usage;
	const char *args_missing; /* "exec needs <this>" */
	const char *help;
};

static const struct cli_command commands[] = {
	{ .name = "pre-dump", .cmd = CMD_PRE_DUMP, .needs = NEEDS_PID,
	  .help = "snapshot memory changed since the last pre-dump" },
	{ .name = "dump", .cmd = CMD_DUMP, .needs = NEEDS_PID,
	  .help = "checkpoint the tree of -t PID" },
	{ .name = "restore", .cmd = CMD_RESTORE, .help = "restore a checkpointed tree" },
	{ .name = "show", .cmd = CMD_SHOW, .needs = NEEDS_FILE, .help = "decode the image -f FILE" },
	{ .name = "check", .cmd = CMD_CHECK, .help = "check that the kernel supports criu" },
	{ .name = "page-server", .cmd = CMD_PAGE_SERVER, .help = "launch a page server" },
	{ .name = "exec", .cmd = CMD_EXEC, .min_args = 1, .max_args = -1, .needs = NEEDS_PID,
	  .args_usage = "SYSCALL [ARG...]",
	  .args_missing = "a syscall name: criu exec -t PID SYSCALL [ARG...]",
	  .help = "run a syscall in the context of task -t PID" },
	{ .name = "service", .cmd = CMD_SERVICE, .help = "start the RPC service" },
	{ .name = "swrk", .cmd = CMD_SWRK, .min_args = 1, .max_args = 1, .args_usage = "FD",
	  .args_missing = "the fd number of its RPC socket",
	  .help = "serve RPC requests on the socket FD" },
	{ .name = "dedup", .cmd = CMD_DEDUP, .help = "deduplicate pagemaps against the parent" },
	{ .name = "cpuinfo", .sub = "dump", .cmd = CMD_CPUINFO_DUMP,
	  .help = "write this CPU's features to an image" },
	{ .name = "cpuinfo", .sub = "check", .cmd = CMD_CPUINFO_CHECK,
	  .help = "check this CPU against the image's" },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* ---- usage ------------------------------------------------------------------ */

static const struct {
	const char *title;
	const char *note;
} groups[NR_GROUPS] = {
	[GRP_COMMON] = { "Common options", NULL },
	[GRP_DUMP] = { "Dump and pre-dump options (most also apply to restore)", NULL },
	[GRP_RESTORE] = { "Restore options", NULL },
	[GRP_SHOW] = { "Show options", NULL },
	[GRP_CHECK] = { "Check options", NULL },
	[GRP_PAGE_SERVER] = { "Page server options (also dump --page-server)", NULL },
	[GRP_EXEC] = { "Exec",
		       "  criu exec -t PID SYSCALL [ARG...]: an ARG starting with '&' is copied\n"
		       "  into the task and passed as a pointer, any other is a number.  Options\n"
		       "  end at SYSCALL, so ARGs may be negative.\n" },
	[GRP_CPUINFO] = { "CPU options (dump, restore, cpuinfo check)",
			  "  A CAP prefixed with ^ is inverted.\n" },
	[GRP_LOGGING] = { "Logging options", NULL },
};

#define HELP_COLUMN 30

static void print_option(const struct cli_option *opt)
{
	char left[80];
	int n = snprintf(left, sizeof(left), "  %s", opt->letter ? "" : "    ");

	if (opt->letter)
		n += snprintf(left + n, sizeof(left) - n, "-%c%s", opt->letter,
			      opt->name ? ", " : "");
	if (opt->name)
		n += snprintf(left + n, sizeof(left) - n, "--%s", opt->name);
	if (opt->arg == ARG_REQUIRED)
		snprintf(left + n, sizeof(left) - n, " %s", opt->metavar);
	else if (opt->arg == ARG_OPTIONAL)
		snprintf(left + n, sizeof(left) - n, opt->name ? "[=%s]" : "[%s]", opt->metavar);
	if (strlen(left) + 2 > HELP_COLUMN)
		printf("%s\n%*s", left, HELP_COLUMN, "");
	else
		printf("%-*s", HELP_COLUMN, left);
	for (const char *h = opt->help; *h; h++) {
		putchar(*h);
		if (*h == '\n')
			printf("%*s", HELP_COLUMN, "");
	}
	putchar('\n');
}

static void print_commands(void)
{
	printf("Usage:\n  criu COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < NR_COMMANDS; i++) {
		const struct cli_command *c = &commands[i];
		char left[80];

		snprintf(left, sizeof(left), "  %s%s%s%s%s", c->name, c->sub ? " " : "",
			 c->sub ? c->sub : "", c->args_usage ? " " : "",
			 c->args_usage ? c->args_usage : "");
		printf("%-*s%s\n", HELP_COLUMN, left, c->help);
	}
}

void cli_usage(void)
{
	print_commands();
	for (int g = 0; g < NR_GROUPS; g++) {
		printf("\n%s:\n", groups[g].title);
		if (groups[g].note)
			fputs(groups[g].note, stdout);
		for (size_t i = 0; i < NR_OPTIONS; i++)
			if (options[i].group == (enum opt_group)g)
				print_option(&options[i]);
	}
}


/* ---- parsing ---------------------------------------------------------------- */

/* How an option was last set: what to name in a refusal or a warning. */
struct given {
	char spelled[72]; /* "" when not given, or turned off by --no-NAME */
	bool from_config; /* set by a config file, not the command line */
};

struct parser {
	int argc;
	char **argv;
	int i; /* the argv element being parsed */
	struct cr_options *o;
	int *pos; /* argv indices of the non-options */
	int npos;
	bool options_done;
	bool in_config; /* the settings come from a config file */
	/*
	 * An optional value must be attached ("-v4", "--cpu-cap=fpu"); when
	 * the user wrote it apart, the stray word gets a hint.
	 */
	int bare_next;
	const struct cli_option *bare_opt;
	struct given given[NR_OPTIONS];
};

static const struct cli_option *find_short(char letter)
{
	for (size_t i = 0; i < NR_OPTIONS; i++)
		if (options[i].letter == letter)
			return &options[i];
	return NULL;
}

static const struct cli_option *ambiguous(const char *name, size_t len)
{
	char list[512];
	size_t n = 0;

	for (size_t i = 0; i < NR_OPTIONS && n < sizeof(list); i++)
		if (options[i].name && !strncmp(options[i].name, name, len))
			n += snprintf(list + n, sizeof(list) - n, "%s--%s", n ? ", " : "",
				      options[i].name);
	cli_error("option '--%.*s' is ambiguous: %s", (int)len, name, list);
	return NULL;
}

/* The option named exactly name[0..len), or NULL. */
static const struct cli_option *find_exact(const char *name, size_t len)
{
	for (size_t i = 0; i < NR_OPTIONS; i++)
		if (options[i].name && strlen(options[i].name) == len &&
		    !strncmp(options[i].name, name, len))
			return &options[i];
	return NULL;
}

/* An exact name, or a prefix of exactly one name, as getopt_long allows. */
static const struct cli_option *find_long(const char *name, size_t len)
{
	const struct cli_option *prefix_of = NULL, *exact;
	int matches = 0;

	if (!len) {
		cli_error("unknown option '--%s'", name);
		return NULL;
	}
	exact = find_exact(name, len);
	if (exact)
		return exact;
	for (size_t i = 0; i < NR_OPTIONS; i++) {
		const char *n = options[i].name;

		if (!n || strncmp(n, name, len))
			continue;
		prefix_of = &options[i];
		matches++;
	}
	if (matches == 1)
		return prefix_of;
	if (matches > 1)
		return ambiguous(name, len);
	cli_error("unknown option '--%.*s'", (int)len, name);
	return NULL;
}

/* --no-NAME of a negatable NAME (whole names only, as upstream lists them). */
static const struct cli_option *find_negated(const char *name, size_t len)
{
	const struct cli_option *opt;

	if (len <= 3 || strncmp(name, "no-", 3))
		return NULL;
	opt = find_exact(name + 3, len - 3);
	return opt && opt->negatable ? opt : NULL;
}

static void note_given(struct parser *p, const struct cli_option *opt, const char *spelled)
{
	struct given *g = &p->given[opt - options];

	snprintf(g->spelled, sizeof(g->spelled), "%s", spelled);
	g->from_config = p->in_config;
}

static int negate(struct parser *p, const struct cli_option *opt, const char *eq)
{
	if (eq)
		return cli_error("--no-%s takes no value", opt->name);
	if (opt->field != NO_FIELD && opt->store == store_true)
		*(bool *)field_of(p->o, opt) = false;
	p->given[opt - options].spelled[0] = '\0';
	return 0;
}

/* The value of a required argument given apart: the next argv element. */
static const char *next_value(struct parser *p, const char *spelled)
{
	if (p->i + 1 >= p->argc) {
		cli_error("%s needs a value", spelled);
		return NULL;
	}
	return p->argv[++p->i];
}

static void note_bare(struct parser *p, const struct cli_option *opt)
{
	p->bare_next = p->i + 1;
	p->bare_opt = opt;
}

static int store_given(struct parser *p, const struct cli_option *opt, const char *spelled,
		       const char *val)
{
	int ret = opt->store(opt, spelled, val, p->o);

	if (!ret)
		note_given(p, opt, spelled);
	return ret;
}

static int parse_long(struct parser *p, const char *arg)
{
	const char *eq = strchr(arg, '='), *val = NULL;
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct cli_option *opt = find_negated(arg, len);
	char spelled[72];

	if (opt)
		return negate(p, opt, eq);
	opt = find_long(arg, len);
	if (!opt)
		return -1;
	snprintf(spelled, sizeof(spelled), "--%s", opt->name);
	if (eq && opt->arg == ARG_NONE)
		return cli_error("%s takes no value", spelled);
	if (eq)
		val = eq + 1;
	else if (opt->arg == ARG_REQUIRED && !(val = next_value(p, spelled)))
		return -1;
	else if (opt->arg == ARG_OPTIONAL)
		note_bare(p, opt);
	return store_given(p, opt, spelled, val);
}

/*
 * getopt_long_only's reading of one dash: "-verbosity=4", "-tree 1" and
 * "-no-NAME" are long options when the word (up to '=') is a whole name of
 * at least two letters; anything else is short options ("-vvv", "-t1").
 */
static bool one_dash_long(const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);

	return len >= 2 && (find_exact(arg, len) || find_negated(arg, len));
}

/* "-sj", "-t123", "-sjt 123", "-vvv": flags until one that takes a value. */
static int parse_short(struct parser *p, const char *arg)
{
	for (const char *c = arg; *c; c++) {
		const struct cli_option *opt = find_short(*c);
		const char *val = c[1] ? c + 1 : NULL;
		char spelled[3] = { '-', *c, 0 };
		int ret;

		if (!opt && arg[1])
			return cli_error("unknown option '-%c' in '-%s'", *c, arg);
		if (!opt)
			return cli_error("unknown option '-%c'", *c);
		if (opt->arg == ARG_NONE) {
			ret = store_given(p, opt, spelled, NULL);
			if (ret)
				return ret;
			continue;
		}
		if (!val && opt->arg == ARG_REQUIRED && !(val = next_value(p, spelled)))
			return -1;
		if (!val)
			note_bare(p, opt);
		return store_given(p, opt, spelled, val);
	}
	return 0;
}

static void add_positional(struct parser *p)
{
	p->pos[p->npos++] = p->i;
	/* exec's syscall name: what follows belongs to the syscall. */
	if (p->npos == 2 && !strcmp(p->argv[p->pos[0]], "exec"))
		p->options_done = true;
}

static int parse_argv(struct parser *p)
{
	for (p->i = 1; p->i < p->argc; p->i++) {
		const char *a = p->argv[p->i];
		int ret = 0;

		if (p->options_done || a[0] != '-' || !a[1])
			add_positional(p);
		else if (!strcmp(a, "--"))
			p->options_done = true;
		else if (a[1] == '-')
			ret = parse_long(p, a + 2);
		else if (one_dash_long(a + 1))
			ret = parse_long(p, a + 1);
		else
			ret = parse_short(p, a + 1);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- config files ----------------------------------------------------------- */

static const char *global_config = "/etc/criu/default.conf";
static const char *config_home; /* NULL: $HOME */

void cli_set_default_config_paths(const char *global, const char *home)
{
	global_config = global;
	config_home = home;
}

/* One line of a config file, applied as --NAME=VALUE would be. */
static int config_setting(void *arg, const char *file, int line, const char *name,
			  const char *value)
{
	struct parser *p = arg;
	const struct cli_option *opt;
	char where[PATH_MAX + 32], *word;
	size_t len;
	int ret;

	snprintf(where, sizeof(where), "%s:%d: ", file, line);
	error_where = where;
	if (!name) {
		ret = cli_error("%s", value);
		goto out;
	}
	len = strlen(name) + (value ? strlen(value) + 1 : 0) + 1;
	word = malloc(len);
	if (!word || list_add(&p->o->owned, word)) {
		free(word);
		ret = cli_error("out of memory");
		goto out;
	}
	snprintf(word, len, "%s%s%s", name, value ? "=" : "", value ? value : "");
	opt = find_exact(name, strlen(name));
	if (opt && (opt->store == show_help || opt->store == show_version)) {
		ret = cli_error("--%s can't be set in a config file", name);
		goto out;
	}
	if (opt && !strcmp(opt->name ? opt->name : "", "config")) {
		ret = cli_error("--config can't be set in a config file");
		goto out;
	}
	if (opt && !strcmp(opt->name ? opt->name : "", "no-default-config")) {
		ret = cli_error("--no-default-config can't be set in a config file");
		goto out;
	}
	if (!opt && !find_negated(name, strlen(name))) {
		ret = cli_error("unknown option '%s'", name);
		goto out;
	}
	/* the value is on the line or nowhere: never the command line's next word */
	if (opt && opt->arg == ARG_REQUIRED && !value) {
		ret = cli_error("--%s needs a value", name);
		goto out;
	}
	ret = parse_long(p, word);
	p->bare_opt = NULL;
out:
	error_where = NULL;
	return ret;
}

/* missing_ok: a file that isn't there is skipped (the default ones). */
static int read_config(struct parser *p, const char *path, bool missing_ok)
{
	int ret;

	p->in_config = true;
	ret = config_read_file(path, config_setting, p);
	p->in_config = false;
	if (ret == -EINVAL)
		return -1;
	if (ret == -ENOENT && missing_ok)
		return 0;
	if (ret)
		return cli_error("can't read the config file %s: %s", path, strerror(-ret));
	return 0;
}

/*
 * As upstream orders them, each over the one before: /etc/criu/default.conf,
 * ~/.criu/default.conf (neither with --no-default-config or --config), the
 * file in $CRIU_CONFIG_FILE, the --config file; then the command line.
 */
/* The config files the command line chose, for opts_reapply_configs(). */
static struct {
	bool parsed;
	bool defaults;
	const char *env, *cfg;
} chosen;

static int read_chosen_configs(struct parser *p)
{
	if (chosen.defaults) {
		const char *home = config_home ? config_home : getenv("HOME");

		if (global_config && read_config(p, global_config, true))
			return -1;
		if (home && home[0]) {
			char path[PATH_MAX];

			snprintf(path, sizeof(path), "%s/.criu/default.conf", home);
			if (read_config(p, path, true))
				return -1;
		}
	}
	if (chosen.env && chosen.env[0] && read_config(p, chosen.env, false))
		return -1;
	if (chosen.cfg && chosen.cfg[0] && read_config(p, chosen.cfg, false))
		return -1;
	return 0;
}

static int read_configs(struct parser *p)
{
	const char *cfg = NULL, *env = getenv("CRIU_CONFIG_FILE");
	bool no_default = false;

	for (int i = 1; i < p->argc; i++) {
		const char *a = p->argv[i];

		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "--no-default-config") || !strcmp(a, "-no-default-config"))
			no_default = true;
		else if ((!strcmp(a, "--config") || !strcmp(a, "-config")) && i + 1 < p->argc)
			cfg = p->argv[++i];
		else if (!strncmp(a, "--config=", 9))
			cfg = a + 9;
		else if (!strncmp(a, "-config=", 8))
			cfg = a + 8;
	}
	chosen.parsed = true;
	chosen.defaults = !no_default && !cfg;
	chosen.env = env;
	chosen.cfg = cfg;
	return read_chosen_configs(p);
}

/* ---- the command and its arguments ------------------------------------------ */

/* Names the stray word; if it was meant as an optional value, says how. */
static int stray_word(struct parser *p, int k, const char *fmt_prefix)
{
	const char *word = p->argv[p->pos[k]];
	const struct cli_option *opt = p->bare_opt;

	if (opt && p->pos[k] == p->bare_next && opt->name)
		return cli_error("%s'%s' (to give --%s a value, write --%s=%s)", fmt_prefix, word,
				 opt->name, opt->name, word);
	if (opt && p->pos[k] == p->bare_next)
		return cli_error("%s'%s' (to give -%c a value, write -%c%s)", fmt_prefix, word,
				 opt->letter, opt->letter, word);
	return cli_error("%s'%s'", fmt_prefix, word);
}

static const struct cli_command *find_command(struct parser *p)
{
	const char *name = p->argv[p->pos[0]];
	const char *sub = p->npos > 1 ? p->argv[p->pos[1]] : NULL;
	bool two_words = false;

	for (size_t i = 0; i < NR_COMMANDS; i++) {
		if (strcmp(commands[i].name, name))
			continue;
		if (!commands[i].sub || (sub && !strcmp(commands[i].sub, sub)))
			return &commands[i];
		two_words = true;
	}
	if (!two_words)
		stray_word(p, 0, "unknown command ");
	else if (!sub)
		cli_error("%s needs a subcommand: dump or check", name);
	else
		cli_error("unknown %s subcommand '%s' (dump or check)", name, sub);
	return NULL;
}

static int take_args(struct parser *p, const struct cli_command *c)
{
	int first = c->sub ? 2 : 1, n = p->npos - first;
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "%s%s%s: unexpected argument ", c->name,
		 c->sub ? " " : "", c->sub ? c->sub : "");
	if (c->max_args >= 0 && n > c->max_args)
		return stray_word(p, first + c->max_args, prefix);
	if (n < c->min_args)
		return cli_error("%s needs %s", c->name, c->args_missing);
	p->o->args = calloc(n + 1, sizeof(char *));
	if (!p->o->args)
		return cli_error("out of memory");
	for (int k = 0; k < n; k++)
		p->o->args[k] = p->argv[p->pos[first + k]];
	p->o->nargs = n;
	return 0;
}

static const char *command_name(enum cr_command cmd)
{
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (commands[i].cmd == cmd)
			return commands[i].sub ? (cmd == CMD_CPUINFO_DUMP ? "cpuinfo dump"
									  : "cpuinfo check")
					       : commands[i].name;
	return "this command";
}

/*
 * What was given and will not be done: an option this criu refuses fails
 * the command, naming it; one the command has no use for gets a warning
 * (from a config file, meant for every command, it is just left out).
 */
static int check_given(struct parser *p)
{
	unsigned bit = CMD_BIT(p->o->command);

	for (size_t i = 0; i < NR_OPTIONS; i++) {
		const struct cli_option *opt = &options[i];
		const struct given *g = &p->given[i];

		if (!g->spelled[0])
			continue;
		if (opt->cmds && !(opt->cmds & bit)) {
			if (!g->from_config)
				cli_warn("%s means nothing to %s; ignored", g->spelled,
					 command_name(p->o->command));
			continue;
		}
		if (opt->refused && !(opt->harmless && opt->harmless(p->o)))
			return cli_error("%s%s is not supported by this criu: %s", g->spelled,
					 g->from_config ? " (from a config file)" : "",
					 opt->refused);
	}
	return 0;
}

static int check_command(const struct cli_command *c, struct cr_options *o)
{
	if ((c->needs & NEEDS_PID) && !o->pid)
		return cli_error("%s needs -t PID", c->name);
	if ((c->needs & NEEDS_FILE) && !o->show_file)
		return cli_error("%s needs -f FILE", c->name);
	if (c->cmd == CMD_SWRK) {
		if (!value_ok(&fd_rule, o->args[0]))
			return cli_error("swrk: '%s' is not %s", o->args[0], fd_rule.what);
		o->swrk_fd = (int)strtol(o->args[0], NULL, 10);
	}
	if ((CMD_BIT(c->cmd) & ON_DUMP) && o->leave_running && o->leave_stopped)
		return cli_error("-R/--leave-running and -s/--leave-stopped exclude each other");
	return 0;
}

static int resolve_command(struct parser *p)
{
	const struct cli_command *c;

	if (!p->npos)
		return cli_error("no command given");
	c = find_command(p);
	if (!c || take_args(p, c))
		return -1;
	p->o->command = c->cmd;
	if (check_given(p))
		return -1;
	return check_command(c, p->o);
}

void opts_init(struct cr_options *o)
{
	memset(o, 0, sizeof(*o));
	o->images_dir = ".";
	o->log_level = DEFAULT_LOGLEVEL;
	o->status_fd = -1;
	o->swrk_fd = -1;
	o->ghost_limit = 1 << 20;
}

void opts_free(struct cr_options *o)
{
	struct str_list *lists[] = {
		&o->veth_pairs,	  &o->ext_mount_map, &o->action_scripts, &o->close_fds,
		&o->cgroup_roots, &o->inherit_fds,   &o->check_features, &o->owned,
		&o->externals,
	};

	for (int i = 0; i < o->owned.n; i++)
		free(o->owned.items[i]);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		free(lists[i]->items);
		lists[i]->items = NULL;
		lists[i]->n = 0;
	}
	free(o->args);
	o->args = NULL;
	o->nargs = 0;
}

static struct parser *new_parser(int argc, char **argv, struct cr_options *o)
{
	struct parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->argc = argc;
	p->argv = argv;
	p->o = o;
	p->bare_next = -1;
	p->pos = calloc(argc > 0 ? argc : 1, sizeof(int));
	if (!p->pos) {
		free(p);
		return NULL;
	}
	return p;
}

static void free_parser(struct parser *p)
{
	free(p->pos);
	free(p);
}

int cli_parse(int argc, char **argv, struct cr_options *o)
{
	struct parser *p = new_parser(argc, argv, o);
	int ret;

	errors_quiet = false;
	last_error[0] = '\0';
	if (!p)
		return cli_error("out of memory");
	ret = read_configs(p);
	if (!ret)
		ret = parse_argv(p);
	if (!ret)
		ret = resolve_command(p);
	free_parser(p);
	return ret;
}

int opts_reapply_configs(void)
{
	struct parser *p;
	int ret;

	last_error[0] = '\0';
	if (!chosen.parsed)
		return 0;
	p = new_parser(0, NULL, &opts);
	if (!p) {
		snprintf(last_error, sizeof(last_error), "out of memory");
		return -1;
	}
	errors_quiet = true;
	ret = read_chosen_configs(p);
	if (!ret)
		ret = check_given(p);
	errors_quiet = false;
	free_parser(p);
	return ret;
}

int opts_init_from_config(const char *file)
{
	struct parser *p;
	int ret;

	last_error[0] = '\0';
	if (!file || !file[0])
		return 0;
	p = new_parser(0, NULL, &opts);
	if (!p) {
		snprintf(last_error, sizeof(last_error), "out of memory");
		return -1;
	}
	errors_quiet = true;
	p->in_config = true;
	ret = config_read_file(file, config_setting, p);
	p->in_config = false;
	if (ret == -ENOENT) {
		pr_info("The config file %s does not exist: nothing to read\n", file);
		ret = 0;
	} else if (ret == -EINVAL) {
		ret = -1;
	} else if (ret) {
		ret = cli_error("can't read the config file %s: %s", file, strerror(-ret));
	}
	if (!ret)
		ret = check_given(p);
	errors_quiet = false;
	free_parser(p);
	return ret;
}

int opts_open_work_dir(void)
{
	const char *dir = opts.work_dir ? opts.work_dir : opts.images_dir;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		pr_perror("can't open the work directory %s", dir);
		return -errno;
	}
	return fd;
}

int opts_open_in_work_dir(const char *path, int flags, mode_t mode)
{
	int dirfd, fd, err;

	if (path[0] == '/')
		return open(path, flags, mode);
	dirfd = opts_open_work_dir();
	if (dirfd < 0) {
		errno = -dirfd;
		return -1;
	}
	fd = openat(dirfd, path, flags, mode);
	err = errno;
	close(dirfd);
	errno = err;
	return fd;
}

int opts_open_pidfile(void)
{
	int fd;

	if (!opts.pidfile)
		return -1;
	{
		int dirfd = opts_open_work_dir();

		if (dirfd < 0)
			return -1;
		fd = fs_create_path(dirfd, opts.pidfile, O_WRONLY | O_TRUNC, 0644);
		if (fd < 0)
			pr_err("can't create the pidfile %s: %s\n", opts.pidfile, fs_strerror(errno));
		close(dirfd);
	}
	return fd;
}

int opts_write_pidfile(int fd, pid_t pid)
{
	char buf[32];
	int n;

	if (fd < 0)
		return opts.pidfile ? -1 : 0;
	n = snprintf(buf, sizeof(buf), "%d", pid);
	if (write(fd, buf, (size_t)n) != n) {
		pr_perror("can't write the pidfile %s", opts.pidfile);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
