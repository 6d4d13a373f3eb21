/* Action points: RPC notifications and --action-script (see core/include/action.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "action.h"
#include "log.h"
#include "options.h"

static const char *const names[ACT_NR] = {
	[ACT_PRE_DUMP] = "pre-dump",
	[ACT_POST_DUMP] = "post-dump",
	[ACT_PRE_RESTORE] = "pre-restore",
	[ACT_POST_RESTORE] = "post-restore",
	[ACT_NET_LOCK] = "network-lock",
	[ACT_NET_UNLOCK] = "network-unlock",
	[ACT_SETUP_NS] = "setup-namespaces",
	[ACT_POST_SETUP_NS] = "post-setup-namespaces",
	[ACT_PRE_RESUME] = "pre-resume",
	[ACT_POST_RESUME] = "post-resume",
	[ACT_ORPHAN_PTS_MASTER] = "orphan-pts-master",
};

static int rpc_sk = -1;
static action_notify_fn rpc_notify;

const char *action_name(enum action_point p)
{
	return (unsigned)p < ACT_NR ? names[p] : "unknown";
}

void action_set_rpc(int sk, action_notify_fn notify)
{
	rpc_sk = sk;
	rpc_notify = notify;
}

/* What a script sees: upstream's environment of action scripts. */
static void script_env(enum action_point p, pid_t pid)
{
	char buf[32];

	setenv("CRTOOLS_SCRIPT_ACTION", action_name(p), 1);
	if (opts.images_dir)
		setenv("CRTOOLS_IMAGE_DIR", opts.images_dir, 1);
	if (pid > 0) {
		snprintf(buf, sizeof(buf), "%d", pid);
		setenv("CRTOOLS_INIT_PID", buf, 1);
	} else {
		unsetenv("CRTOOLS_INIT_PID");
	}
}

/* sh -c script; 0 when it exits 0. */
static int run_script(const char *script, enum action_point p, pid_t pid)
{
	pid_t child;
	int st;

	pr_info("running action script for %s: %s\n", action_name(p), script);
	child = fork();
	if (child < 0) {
		pr_perror("can't fork for the action script %s", script);
		return -1;
	}
	if (child == 0) {
		script_env(p, pid);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	while (waitpid(child, &st, 0) < 0) {
		if (errno != EINTR) {
			pr_perror("can't wait for the action script %s", script);
			return -1;
		}
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		pr_err("action script '%s' failed at %s: exit status %d\n", script, action_name(p),
		       WEXITSTATUS(st));
	else
		pr_err("action script '%s' was killed at %s by signal %d\n", script,
		       action_name(p), WTERMSIG(st));
	return -1;
}

int action_run_fd(enum action_point p, pid_t pid, int fd)
{
	if ((unsigned)p >= ACT_NR)
		return -1;
	if (rpc_sk >= 0 && rpc_notify) {
		pr_info("notifying the RPC client of %s (pid %d)\n", action_name(p), pid);
		if (rpc_notify(rpc_sk, action_name(p), pid, fd)) {
			pr_err("the RPC client answered failure to the %s notification\n",
			       action_name(p));
			return -1;
		}
	}
	for (int i = 0; i < opts.action_scripts.n; i++)
		if (run_script(opts.action_scripts.items[i], p, pid))
			return -1;
	return 0;
}

int action_run(enum action_point p, pid_t pid)
{
	return action_run_fd(p, pid, -1);
}

bool action_own_netns(pid_t pid)
{
	char path[64];
	struct stat theirs, ours;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (stat(path, &theirs) || stat("/proc/self/ns/net", &ours))
		return false;
	return theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev;
}
