/* criu: parse the command line, set up logging, run the command. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "commands.h"
#include "fault.h"
#include "log.h"
#include "options.h"

struct command_entry {
	enum cr_command cmd;
	const char *name;
	int (*run)(void);
	/* whether the log goes to a file in the work dir by default */
	bool logs_to_workdir;
};

static const struct command_entry commands[] = {
	{ CMD_SHOW, "show", cmd_show, false },
	{ CMD_CHECK, "check", cmd_check, false },
	{ CMD_CPUINFO_DUMP, "cpuinfo dump", cmd_cpuinfo_dump, false },
	{ CMD_CPUINFO_CHECK, "cpuinfo check", cmd_cpuinfo_check, false },
	{ CMD_PRE_DUMP, "pre-dump", cmd_pre_dump, true },
	{ CMD_DUMP, "dump", cmd_dump, true },
	{ CMD_RESTORE, "restore", cmd_restore, true },
	{ CMD_PAGE_SERVER, "page-server", NULL, true },
	{ CMD_EXEC, "exec", cmd_exec, false },
	{ CMD_SERVICE, "service", cmd_service, false },
	{ CMD_SWRK, "swrk", cmd_swrk, false },
	{ CMD_DEDUP, "dedup", cmd_dedup, true },
};

static const struct command_entry *find_command(enum cr_command cmd)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].cmd == cmd)
			return &commands[i];
	return NULL;
}

/* -o is relative to the work dir, which defaults to the images dir. */
static int setup_logging(void)
{
	const char *dir = opts.work_dir ? opts.work_dir : opts.images_dir;
	int dirfd = AT_FDCWD, ret;

	if (opts.log_file && strcmp(opts.log_file, "-") && opts.log_file[0] != '/') {
		dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0) {
			fprintf(stderr, "Error: can't open work directory %s: %s\n", dir,
				strerror(errno));
			return -1;
		}
	}
	ret = log_init(dirfd, opts.log_file, opts.log_level, opts.log_pid);
	if (dirfd >= 0)
		close(dirfd);
	return ret;
}

/*
 * A process may map thousands of files, which restore opens all at once:
 * the soft limit of open files goes up to the hard one.  Restored tasks get
 * their own limits back from the images.
 */
static void raise_nofile_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void close_requested_fds(void)
{
	for (int i = 0; i < opts.close_fds.n; i++)
		close(atoi(opts.close_fds.items[i]));
}

int main(int argc, char **argv)
{
	const struct command_entry *ce;
	int ret;

	opts_init(&opts);
	ret = cli_parse(argc, argv, &opts);
	if (ret)
		return ret > 0 ? 0 : 1;
	close_requested_fds();
	raise_nofile_limit();
	if (setup_logging())
		return 1;
	if (fault_init())
		return 1;
	ce = find_command(opts.command);
	if (!ce) {
		pr_err("no command given\n");
		return 1;
	}
	if (!ce->run) {
		pr_err("'%s' is not available in this build yet\n", ce->name);
		return 1;
	}
	ret = ce->run();
	fault_report();
	log_close();
	return ret;
}
