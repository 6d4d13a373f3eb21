/* Action points (core/action.c): names, the RPC notification first, then each script in order. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "action.h"
#include "options.h"
#include "unit.h"

static char calls[8][32];
static pid_t call_pid[8];
static int nr_calls, notify_sk, notify_ret;

static int fake_notify(int sk, const char *name, pid_t pid, int fd)
{
	notify_sk = sk;
	if (nr_calls < 8) {
		snprintf(calls[nr_calls], sizeof(calls[0]), "%s", name);
		call_pid[nr_calls++] = pid;
	}
	return notify_ret;
}

TEST(names)
{
	static const char *const want[] = { "pre-dump", "post-dump", "pre-restore", "post-restore",
					    "network-lock", "network-unlock", "setup-namespaces",
					    "post-setup-namespaces", "pre-resume", "post-resume",
					    "orphan-pts-master" };

	CHECK_EQ(ACT_NR, 11);
	for (int i = 0; i < ACT_NR; i++)
		CHECK_STR(action_name((enum action_point)i), want[i]);
	CHECK_STR(action_name(ACT_NR), "unknown");
	CHECK_EQ(action_run(ACT_NR, 1), -1);
}

TEST(rpc_notification)
{
	opts_init(&opts);
	action_set_rpc(-1, fake_notify);
	nr_calls = 0;
	/* no session asked: nothing is sent, the point passes */
	CHECK_EQ(action_run(ACT_PRE_DUMP, 42), 0);
	CHECK_EQ(nr_calls, 0);
	action_set_rpc(7, fake_notify);
	notify_ret = 0;
	CHECK_EQ(action_run(ACT_POST_DUMP, 42), 0);
	CHECK_EQ(nr_calls, 1);
	CHECK_STR(calls[0], "post-dump");
	CHECK_EQ(call_pid[0], 42);
	CHECK_EQ(notify_sk, 7);
	/* the client's failure fails the point */
	notify_ret = -1;
	CHECK_EQ(action_run(ACT_PRE_RESUME, 43), -1);
	CHECK_STR(calls[1], "pre-resume");
	action_set_rpc(-1, NULL);
}

TEST(scripts_in_order_with_the_environment)
{
	char dir[] = "/tmp/test-action-XXXXXX", path[128], buf[512] = "";
	char *scripts[2];
	int fd;
	ssize_t n;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	opts_init(&opts);
	opts.images_dir = "/images/here";
	snprintf(path, sizeof(path), "%s/out", dir);
	scripts[0] = malloc(256);
	scripts[1] = malloc(256);
	snprintf(scripts[0], 256, "echo a $CRTOOLS_SCRIPT_ACTION $CRTOOLS_INIT_PID "
				  "$CRTOOLS_IMAGE_DIR >>%s", path);
	snprintf(scripts[1], 256, "echo b $CRTOOLS_SCRIPT_ACTION >>%s; "
				  "[ $CRTOOLS_SCRIPT_ACTION != post-restore ]", path);
	opts.action_scripts.items = scripts;
	opts.action_scripts.n = 2;
	CHECK_EQ(action_run(ACT_SETUP_NS, 99), 0);
	/* the second one fails here: so does the point */
	CHECK_EQ(action_run(ACT_POST_RESTORE, 99), -1);
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n > 0)
		buf[n] = '\0';
	CHECK_STR(buf, "a setup-namespaces 99 /images/here\nb setup-namespaces\n"
		       "a post-restore 99 /images/here\nb post-restore\n");
	if (fd >= 0)
		close(fd);
	unlink(path);
	rmdir(dir);
	free(scripts[0]);
	free(scripts[1]);
	opts.action_scripts.items = NULL;
	opts.action_scripts.n = 0;
}

UNIT_MAIN()
