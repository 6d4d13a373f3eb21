/*
 * The command line of criu(8).  One table of options drives both the parser
 * and --help; a second table does the same for the commands.  The parser
 * behaves like getopt_long with permutation (options anywhere, clustered
 * short flags, unique prefixes of long names, "--" ends the options), with
 * two twists: exec stops at its syscall name, because the syscall's
 * arguments are often negative numbers, and every value is checked here so
 * that a typo costs one clear line instead of a half-done dump.
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

#include "log.h"
#include "fsafe.h"
#include "options.h"

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
	size_t field; /* offset in struct cr_options */
	const struct value_rule *rule;
	enum opt_group group;
	const char *metavar;
	const char *help;
};

static const char hint[] = "Try 'criu --help' for more information.\n";

static int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int cli_error(const char *fmt, ...)
{
	va_list args;

	fputs("criu: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	fputs(hint, stderr);
	return -1;
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
static const struct value_rule inherit_fd_rule = { "of the form fd[N]:EXISTING", 0, 0,
						   valid_inherit_fd };
static const struct value_rule namespaces_rule = {
	"a comma list of uts, ipc, mnt, pid, net, user, cgroup", 0, 0, valid_namespaces
};

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
 * -v alone is level 1 and each extra v adds one, as criu(8) lists them;
 * more v's than levels just mean "everything".  Digits give the level.
 */
static int store_verbosity(const struct cli_option *opt, const char *spelled, const char *val,
			   struct cr_options *o)
{
	size_t vs;

	if (!val) {
		o->log_level = LOG_ERROR;
		return 0;
	}
	vs = strspn(val, "v");
	if (spelled[1] != '-' && vs && !val[vs]) {
		o->log_level = vs + 1 > LOG_DEBUG ? LOG_DEBUG : (int)vs + 1;
		return 0;
	}
	return store_int(opt, spelled, val, o);
}

/* The list itself is judged by cpuinfo/, which knows the modes. */
static int store_cpu_cap(const struct cli_option *opt, const char *spelled, const char *val,
			 struct cr_options *o)
{
	o->cpu_cap_given = true;
	return store_str(opt, spelled, val ? val : "all", o);
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

/* ---- the option table -------------------------------------------------------- */

/* An offset that only compiles when the field has the type the store expects. */
#define FIELD(f, type)                                                                        \
	__builtin_choose_expr(                                                                \
		__builtin_types_compatible_p(__typeof__(((struct cr_options *)0)->f), type), \
		offsetof(struct cr_options, f), (void)0)

#define FLAG(n, l, f, g, h) { n, l, ARG_NONE, store_true, FIELD(f, bool), NULL, g, NULL, h }
#define STR(n, l, f, g, m, h) \
	{ n, l, ARG_REQUIRED, store_str, FIELD(f, const char *), NULL, g, m, h }
#define LIST(n, l, f, r, g, m, h) \
	{ n, l, ARG_REQUIRED, store_list, FIELD(f, struct str_list), r, g, m, h }
#define NUM(n, l, f, r, g, m, h) { n, l, ARG_REQUIRED, store_int, FIELD(f, int), r, g, m, h }

static const struct cli_option options[] = {
	STR("images-dir", 'D', images_dir, GRP_COMMON, "DIR", "images directory (default: .)"),
	STR("work-dir", 'W', work_dir, GRP_COMMON, "DIR",
	    "logs, pidfiles and stats (default: -D)"),
	STR("libdir", 'L', libdir, GRP_COMMON, "DIR", "plugins directory"),
	STR("pidfile", 0, pidfile, GRP_COMMON, "FILE",
	    "write the root task's or server's pid to FILE"),
	LIST("action-script", 0, action_scripts, NULL, GRP_COMMON, "SCRIPT",
	     "run SCRIPT at action points (repeatable)"),
	LIST("close", 0, close_fds, &fd_rule, GRP_COMMON, "FD",
	     "close FD before anything else (repeatable)"),
	NUM("status-fd", 0, status_fd, &fd_rule, GRP_COMMON, "FD", "report readiness on FD"),
	{ "help", 'h', ARG_NONE, show_help, 0, NULL, GRP_COMMON, NULL, "print this help" },
	{ "version", 'V', ARG_NONE, show_version, 0, NULL, GRP_COMMON, NULL,
	  "print the version" },

	NUM("tree", 't', pid, &pid_rule, GRP_DUMP, "PID", "the root of the tree (dump, exec)"),
	FLAG("leave-stopped", 's', leave_stopped, GRP_DUMP, "leave tasks stopped after dump"),
	FLAG("leave-running", 'R', leave_running, GRP_DUMP,
	     "leave tasks running after dump (dangerous)"),
	STR("prev-images-dir", 0, prev_images_dir, GRP_DUMP, "DIR",
	    "parent images, for incremental dumps"),
	FLAG("track-mem", 0, track_mem, GRP_DUMP, "turn on the kernel's memory change tracker"),
	FLAG("page-server", 0, use_page_server, GRP_DUMP,
	     "send pages to the page server --address:--port"),
	NUM("timeout", 0, timeout, &seconds_rule, GRP_DUMP, "SEC",
	    "give up collecting the tree after SEC (0: never)"),
	{ "namespaces", 'n', ARG_REQUIRED, store_namespaces, FIELD(namespaces, const char *),
	  &namespaces_rule, GRP_DUMP, "NS[,NS...]", "uts, ipc, mnt, pid, net, user, cgroup" },
	FLAG("ext-unix-sk", 'x', ext_unix_sk, GRP_DUMP, "dump external unix sockets"),
	FLAG("tcp-established", 0, tcp_established, GRP_DUMP,
	     "dump/restore established TCP connections"),
	FLAG("shell-job", 'j', shell_job, GRP_DUMP, "dump/restore a shell job"),
	FLAG("file-locks", 'l', file_locks, GRP_DUMP, "dump/restore file locks"),
	FLAG("link-remap", 0, link_remap, GRP_DUMP, "link unlinked files back when possible"),
	FLAG("evasive-devices", 0, evasive_devices, GRP_DUMP,
	     "use any path to an inaccessible device file"),
	FLAG("force-irmap", 0, force_irmap, GRP_DUMP,
	     "force resolving names of inotify/fsnotify watches"),
	FLAG("manage-cgroups", 0, manage_cgroups, GRP_DUMP, "dump/restore the tasks' cgroups"),
	FLAG("auto-dedup", 0, auto_dedup, GRP_DUMP,
	     "dedup parent images on dump, punch restored pages"),
	{ "ext-mount-map", 'M', ARG_REQUIRED, store_mount_map, FIELD(ext_mount_map, struct str_list),
	  &mount_map_rule, GRP_DUMP, "KEY:VAL", "external mount mapping, or 'auto' (repeatable)" },
	FLAG("enable-external-sharing", 0, enable_external_sharing, GRP_DUMP,
	     "resolve external shared mounts with -M auto"),
	FLAG("enable-external-masters", 0, enable_external_masters, GRP_DUMP,
	     "resolve external slave mounts with -M auto"),

	FLAG("restore-detached", 'd', restore_detached, GRP_RESTORE,
	     "detach criu once the restore is complete"),
	FLAG("restore-sibling", 'S', restore_sibling, GRP_RESTORE,
	     "restore the root task as a sibling (with -d)"),
	STR("root", 'r', root, GRP_RESTORE, "PATH", "change the root filesystem"),
	LIST("veth-pair", 0, veth_pairs, &veth_rule, GRP_RESTORE, "IN=OUT",
	     "inside and outside veth names (repeatable)"),
	LIST("inherit-fd", 0, inherit_fds, &inherit_fd_rule, GRP_RESTORE, "fd[N]:EXISTING",
	     "use criu's fd N for the file EXISTING (repeatable)"),
	LIST("cgroup-root", 0, cgroup_roots, &cgroup_root_rule, GRP_RESTORE,
	     "[CTL:]/PATH", "put CTL's (default: all) cgroups under PATH"),

	STR("file", 'f', show_file, GRP_SHOW, "FILE", "the image file to show"),
	FLAG(NULL, 'c', show_pages_content, GRP_SHOW, "show the contents of pages in hex"),
	FLAG("json", 0, show_json, GRP_SHOW, "print JSON"),

	LIST("feature", 0, check_features, NULL, GRP_CHECK, "NAME",
	     "check only the feature NAME (repeatable)"),
	FLAG("extra", 0, check_extra, GRP_CHECK, "also check features that are not required"),
	FLAG("all", 0, check_all, GRP_CHECK, "also check extra and experimental features"),
	FLAG("ms", 0, check_ms, GRP_CHECK, "skip features not yet merged upstream"),

	STR("address", 0, address, GRP_PAGE_SERVER, "ADDR", "page server address"),
	NUM("port", 0, port, &port_rule, GRP_PAGE_SERVER, "PORT", "page server port"),

	{ "cpu-cap", 0, ARG_OPTIONAL, store_cpu_cap, FIELD(cpu_cap, const char *), NULL, GRP_CPUINFO,
	  "CAP[,CAP...]",
	  "all (if bare), cpu, fpu (default), ins, none" },

	STR("log-file", 'o', log_file, GRP_LOGGING, "FILE", "log to FILE in the work dir"),
	{ NULL, 'v', ARG_OPTIONAL, store_verbosity, FIELD(log_level, int), &level_rule, GRP_LOGGING,
	  "N|v...",
	  "log level: -v1 or -v: errors,\n-v2 or -vv: warnings (default),\n"
	  "-v3 or -vvv: info, -v4 or -vvvv: debug" },
	{ "verbosity", 0, ARG_REQUIRED, store_verbosity, FIELD(log_level, int), &level_rule,
	  GRP_LOGGING, "N",
	  "log level 0-4, like -vN" },
	FLAG("log-pid", 0, log_pid, GRP_LOGGING, "a log file per pid"),
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

struct parser {
	int argc;
	char **argv;
	int i; /* the argv element being parsed */
	struct cr_options *o;
	int *pos; /* argv indices of the non-options */
	int npos;
	bool options_done;
	/*
	 * An optional value must be attached ("-v4", "--cpu-cap=fpu"); when
	 * the user wrote it apart, the stray word gets a hint.
	 */
	int bare_next;
	const struct cli_option *bare_opt;
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

/* An exact name, or a prefix of exactly one name, as getopt_long allows. */
static const struct cli_option *find_long(const char *name, size_t len)
{
	const struct cli_option *prefix_of = NULL;
	int matches = 0;

	if (!len) {
		cli_error("unknown option '--%s'", name);
		return NULL;
	}

	for (size_t i = 0; i < NR_OPTIONS; i++) {
		const char *n = options[i].name;

		if (!n || strncmp(n, name, len))
			continue;
		if (!n[len])
			return &options[i];
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

static int parse_long(struct parser *p, const char *arg)
{
	const char *eq = strchr(arg, '='), *val = NULL;
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct cli_option *opt = find_long(arg, len);
	char spelled[64];

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
	return opt->store(opt, spelled, val, p->o);
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
			ret = opt->store(opt, spelled, NULL, p->o);
			if (ret)
				return ret;
			continue;
		}
		if (!val && opt->arg == ARG_REQUIRED && !(val = next_value(p, spelled)))
			return -1;
		if (!val)
			note_bare(p, opt);
		return opt->store(opt, spelled, val, p->o);
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
		else
			ret = parse_short(p, a + 1);
		if (ret)
			return ret;
	}
	return 0;
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
	if (o->leave_running && o->leave_stopped)
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
	return check_command(c, p->o);
}

void opts_init(struct cr_options *o)
{
	memset(o, 0, sizeof(*o));
	o->images_dir = ".";
	o->log_level = DEFAULT_LOGLEVEL;
	o->status_fd = -1;
	o->swrk_fd = -1;
}

void opts_free(struct cr_options *o)
{
	struct str_list *lists[] = {
		&o->veth_pairs,	  &o->ext_mount_map, &o->action_scripts, &o->close_fds,
		&o->cgroup_roots, &o->inherit_fds,   &o->check_features,
	};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		free(lists[i]->items);
		lists[i]->items = NULL;
		lists[i]->n = 0;
	}
	free(o->args);
	o->args = NULL;
	o->nargs = 0;
}

int cli_parse(int argc, char **argv, struct cr_options *o)
{
	struct parser p = { .argc = argc, .argv = argv, .o = o, .bare_next = -1 };
	int ret;

	p.pos = calloc(argc > 0 ? argc : 1, sizeof(int));
	if (!p.pos)
		return cli_error("out of memory");
	ret = parse_argv(&p);
	if (!ret)
		ret = resolve_command(&p);
	free(p.pos);
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
