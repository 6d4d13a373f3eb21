/* The parsed command line: one global, filled by cli_parse(). */
#ifndef CRIU_OPTIONS_H
#define CRIU_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum cr_command {
	CMD_NONE,
	CMD_PRE_DUMP,
	CMD_DUMP,
	CMD_RESTORE,
	CMD_SHOW,
	CMD_CHECK,
	CMD_PAGE_SERVER,
	CMD_EXEC,
	CMD_SERVICE,
	CMD_SWRK,
	CMD_DEDUP,
	CMD_CPUINFO_DUMP,
	CMD_CPUINFO_CHECK,
};

struct str_list {
	char **items;
	int n;
};

struct cr_options {
	enum cr_command command;
	/*
	 * Arguments after the command, NULL-terminated: exec's syscall name
	 * and its arguments, swrk's fd.  The strings point into argv.
	 */
	char **args;
	int nargs;
	int swrk_fd;		     /* swrk's RPC socket, -1 otherwise */

	const char *images_dir;	     /* -D, default "." */
	const char *prev_images_dir; /* --prev-images-dir */
	const char *work_dir;	     /* -W, default images_dir */
	const char *log_file;	     /* -o, relative to the work dir */
	int log_level;		     /* -v, --verbosity */
	bool log_pid;		     /* --log-pid */

	int pid;		     /* -t */
	bool leave_stopped;	     /* -s */
	bool leave_running;	     /* -R */
	const char *cpu_cap;	     /* --cpu-cap[=list]; "all" when bare, NULL: not given */
	bool cpu_cap_given;
	const char *show_file;	     /* -f */
	bool show_pages_content;     /* -c */
	bool show_json;		     /* --json (ours, for scripts) */
	bool ext_unix_sk;	     /* -x */
	const char *ext_unix_sk_ids; /* -x=INODE,...: only these peers */
	bool restore_detached;	     /* -d */
	bool restore_sibling;	     /* -S */
	const char *namespaces;	     /* -n, as given */
	unsigned long ns_flags;	     /* -n as CLONE_NEW* bits */
	const char *root;	     /* -r */
	bool evasive_devices;
	const char *pidfile;
	struct str_list veth_pairs;  /* IN=OUT */
	struct str_list ext_mount_map; /* KEY:VAL */
	bool ext_mount_auto;	     /* -M auto */
	bool enable_external_sharing;
	bool enable_external_masters;
	struct str_list action_scripts;
	bool link_remap;
	uint64_t ghost_limit;	     /* --ghost-limit, bytes (default 1 MiB) */
	struct str_list close_fds;   /* --close N */
	bool tcp_established;
	bool shell_job;		     /* -j */
	bool file_locks;	     /* -l */
	bool check_ms;		     /* --ms */
	bool track_mem;
	bool auto_dedup;
	bool use_page_server;	     /* --page-server */
	const char *address;	     /* --address */
	int port;		     /* --port */
	const char *libdir;	     /* -L */
	bool force_irmap;
	bool manage_cgroups;
	struct str_list cgroup_roots; /* --cgroup-root */
	struct str_list inherit_fds; /* fd[N]:existing, see cli_split_inherit_fd() */
	struct str_list externals;   /* --external TYPE[ID]:VAL; only file[MNT_ID:INODE] works */
	int status_fd;		     /* --status-fd, -1 if not given */
	int timeout;		     /* --timeout SEC, 0: none */
	struct str_list check_features; /* check --feature NAME */
	bool check_all;		     /* check --all: extra and experimental checks */
	bool check_extra;	     /* check --extra */
	bool check_experimental;     /* check --experimental */

	/* Config files (core/config.c) */
	const char *config_file;     /* --config FILE */
	bool no_default_config;	     /* --no-default-config */
	struct str_list owned;	     /* strings read from config files, freed by opts_free() */

	/* Accepted with the value checked; see docs/options.md */
	const char *manage_cgroups_mode; /* --manage-cgroups[=MODE]: NULL, "soft" when bare */
	const char *pre_dump_mode;   /* --pre-dump-mode splice|read */
	const char *network_lock;    /* --network-lock iptables|nftables|skip */
	bool deprecated;	     /* --deprecated */
	bool weak_sysctls;	     /* --weak-sysctls */
	bool skip_file_rwx_check;    /* --skip-file-rwx-check */
	bool display_stats;	     /* --display-stats */
};

extern struct cr_options opts;

/* Sets the defaults. */
void opts_init(struct cr_options *o);

/*
 * Parses argv into o.  Returns 0 to go on, 1 when it printed help or the
 * version (exit 0), -1 on a bad command line (a one-line error and a usage
 * hint are already printed on stderr; exit 1).
 */
int cli_parse(int argc, char **argv, struct cr_options *o);

/* Prints the usage, grouped by command. */
void cli_usage(void);

/* Frees what cli_parse() allocated (lists, args); o can be parsed again after opts_init(). */
void opts_free(struct cr_options *o);

/*
 * The work directory (-W, else -D), where logs, pidfiles and statistics go:
 * a new O_CLOEXEC fd of it, or -errno (logged).
 */
int opts_open_work_dir(void);

/* open(2) of path, relative to the work directory unless absolute. */
int opts_open_in_work_dir(const char *path, int flags, mode_t mode);

/*
 * --pidfile (relative to the work directory): opened (created, emptied)
 * by opts_open_pidfile(), early, so that a path that can't be written fails
 * before anything is done; -1 when there is none or on error (logged, check
 * opts.pidfile).  opts_write_pidfile() writes pid and closes it; 0 when
 * fd < 0 (no pidfile).
 */
int opts_open_pidfile(void);
int opts_write_pidfile(int fd, pid_t pid);

/*
 * Reads one config file (criu(8)'s format: an option a line without the
 * dashes, a value after blanks, '#' comments) over the global opts, as RPC's
 * criu_opts.config_file asks: after the RPC options, so the file wins, as
 * upstream has it.  A file that does not exist is no error (runc always names
 * /etc/criu/runc.conf).  Options the file names that this criu refuses fail
 * it.  0, or -1 with the reason in cli_last_error() (also logged).
 */
int opts_init_from_config(const char *file);

/*
 * For each RPC request, after opts_init() and before the request's options:
 * the config files criu swrk/service read at its start (the default ones
 * unless --no-default-config or --config, CRIU_CONFIG_FILE, --config) read
 * again into the global opts, as upstream's requests start from them.
 * 0, or -1 with the reason in cli_last_error().
 */
int opts_reapply_configs(void);

/* The text of the last command-line or config error, "" if none. */
const char *cli_last_error(void);

/*
 * Where the default config files are looked for: the global file and the
 * home directory whose .criu/default.conf is read (NULL: $HOME).  For tests;
 * the defaults are /etc/criu/default.conf and $HOME.
 */
void cli_set_default_config_paths(const char *global, const char *home);

/* Splits an --inherit-fd value "fd[N]:existing".  0, or -1 if malformed. */
int cli_split_inherit_fd(const char *arg, int *fd, const char **existing);
/* whether an --external value is file[MNT_ID:INODE] (hex) */
bool cli_external_file(const char *v);

#endif
