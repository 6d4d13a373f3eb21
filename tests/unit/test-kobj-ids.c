/* Ids of shared objects and namespaces, numbered as upstream does (core/kobj-ids.c). */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kobj-ids.h"
#include "unit.h"

static int pipe_fds[2];

static int child_main(void *arg)
{
	char c;

	(void)arg;
	/* until the test closes the write end (or this child is killed) */
	while (read(pipe_fds[0], &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* A child sharing what flags says with us; -1 on failure. */
static pid_t start_child(int flags)
{
	size_t size = 256 << 10;
	char *stack = malloc(size);

	if (!stack)
		return -1;
	/* the stack is leaked: the child may use it until it is reaped */
	return clone(child_main, stack + size, flags | SIGCHLD, NULL);
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

TEST(criu_is_one_and_children_count_on)
{
	TaskKobjIdsEntry root, a, b;
	pid_t plain, files_shared;

	CHECK(pipe(pipe_fds) == 0);
	CHECK_EQ(kobj_ids_init(), 0);
	kobj_ids_root(&root);
	CHECK_EQ(root.vm_id, 1);
	CHECK_EQ(root.files_id, 1);
	CHECK_EQ(root.fs_id, 1);
	CHECK_EQ(root.sighand_id, 1);
	if (!access("/proc/self/ns/pid", F_OK)) {
		CHECK(root.has_pid_ns_id);
		CHECK_EQ(root.pid_ns_id, 1);
	}
	if (!access("/proc/self/ns/net", F_OK))
		CHECK_EQ(root.net_ns_id, 2);

	plain = start_child(0);
	CHECK(plain > 0);
	/* qemu-user makes no such child (only forks and threads): not checked there */
	files_shared = start_child(CLONE_FILES | CLONE_FS);
	if (files_shared < 0)
		printf("  note: no CLONE_FILES|CLONE_FS child here (%s): not checked\n",
		       strerror(errno));
	if (plain > 0) {
		CHECK_EQ(kobj_ids_of(plain, &a), 0);
		CHECK_EQ(a.vm_id, 2);
		CHECK_EQ(a.files_id, 2);
		CHECK_EQ(a.fs_id, 2);
		CHECK_EQ(a.sighand_id, 2);
		CHECK_EQ(a.net_ns_id, root.net_ns_id);
		CHECK_EQ(a.pid_ns_id, root.pid_ns_id);
	}
	if (plain > 0 && files_shared > 0) {
		CHECK_EQ(kobj_ids_of(files_shared, &b), 0);
		CHECK_EQ(b.vm_id, 3);
		CHECK_EQ(b.files_id, 1); /* ours */
		CHECK_EQ(b.fs_id, 1);
		CHECK_EQ(b.sighand_id, 3);
		/* asked again: the same ids */
		CHECK_EQ(kobj_ids_of(plain, &a), 0);
		CHECK_EQ(a.vm_id, 2);
		CHECK_EQ(a.files_id, 2);
	}
	{
		uint32_t cg = 0;

		CHECK_EQ(kobj_cg_set_of(getpid(), &cg), 0);
		CHECK_EQ(cg, 1);
	}
	CHECK_EQ(kobj_next_pages_id(), 1);
	CHECK_EQ(kobj_next_pages_id(), 2);
	if (plain > 0)
		stop_child(plain);
	if (files_shared > 0)
		stop_child(files_shared);
	kobj_ids_fini();
	CHECK_EQ(kobj_next_pages_id(), 1);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
}

TEST(namespaces_of_their_own_are_named)
{
	TaskKobjIdsEntry root = TASK_KOBJ_IDS_ENTRY__INIT, e;
	char buf[64];

	root.has_net_ns_id = root.has_mnt_ns_id = root.has_pid_ns_id = true;
	root.net_ns_id = 2;
	root.mnt_ns_id = 6;
	root.pid_ns_id = 1;
	e = root;
	kobj_ids_ns_diff(&e, &root, buf, sizeof(buf));
	CHECK_STR(buf, "");
	e.net_ns_id = 9;
	kobj_ids_ns_diff(&e, &root, buf, sizeof(buf));
	CHECK_STR(buf, "net");
	e.mnt_ns_id = 10;
	kobj_ids_ns_diff(&e, &root, buf, sizeof(buf));
	CHECK_STR(buf, "net, mnt");
	/* a type one side does not record is no difference */
	e.has_pid_ns_id = false;
	e.pid_ns_id = 5;
	kobj_ids_ns_diff(&e, &root, buf, sizeof(buf));
	CHECK_STR(buf, "net, mnt");
	/* a short buffer is cut, never overrun */
	kobj_ids_ns_diff(&e, &root, buf, 4);
	CHECK_STR(buf, "net");
}

UNIT_MAIN();
