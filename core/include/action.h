/*
 * Action points of dump and restore (upstream's "action scripts"): at each,
 * criu tells an RPC client that asked for notify_scripts (a NOTIFY answer
 * naming the point and the root pid, and waits for its reply), then runs
 * every --action-script with CRTOOLS_SCRIPT_ACTION set to the point's name.
 * A client that answers failure, or a script that exits non-zero, fails
 * the point; dump and restore then undo what they did (the dumped tree is
 * left running, a restored tree killed).
 */
#ifndef CRIU_ACTION_H
#define CRIU_ACTION_H

#include <stdbool.h>
#include <sys/types.h>

enum action_point {
	ACT_PRE_DUMP,
	ACT_POST_DUMP,
	ACT_PRE_RESTORE,
	ACT_POST_RESTORE,
	ACT_NET_LOCK,
	ACT_NET_UNLOCK,
	ACT_SETUP_NS,
	ACT_POST_SETUP_NS,
	ACT_PRE_RESUME,
	ACT_POST_RESUME,
	ACT_ORPHAN_PTS_MASTER,
	ACT_NR,
};

/* The point's name, as scripts and RPC clients see it ("pre-dump", ...). */
const char *action_name(enum action_point p);

/*
 * The RPC session to notify (rpc.c sets it when the request has
 * notify_scripts; -1: none) and how: notify(sk, name, pid, fd) sends the
 * NOTIFY and reads the client's answer, 0 when it answered success.
 */
typedef int (*action_notify_fn)(int sk, const char *name, pid_t pid, int fd);
void action_set_rpc(int sk, action_notify_fn notify);

/*
 * Runs point p: 0, or -1 with the reason logged.  pid: the root task (0
 * when there is none yet); fd: a file descriptor to hand the RPC client
 * with the notification (orphan-pts-master), -1 otherwise.
 */
int action_run(enum action_point p, pid_t pid);
int action_run_fd(enum action_point p, pid_t pid, int fd);

/*
 * Whether pid lives in a network namespace of its own (not criu's): the
 * network-lock and network-unlock points are announced only then, as
 * upstream locks the network only of a tree with its own netns.
 */
bool action_own_netns(pid_t pid);

#endif
