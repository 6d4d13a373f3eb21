/*
 * The RPC protocol of `criu swrk FD` and `criu service` (proto/rpc.proto):
 * each SOCK_SEQPACKET datagram from the client is one packed criu_req, each
 * answer one packed criu_resp.
 *
 * dump.c and restore.c keep their state in globals and expect one command
 * per process, so every request that runs a command (check, dump, restore,
 * cpuinfo) runs it in a worker forked for that request, which sends its
 * result back through a pipe; the session process only answers.  One
 * exception: a restore with rst_sibling over swrk runs in the swrk process
 * itself, so that the restored root (cloned with CLONE_PARENT) becomes the
 * client's child; the session ends after it.  A session also ends after
 * any request without keep_open, as upstream's does.  `criu service` forks one
 * session process per connection; rst_sibling is refused there, since the
 * root would become the service's child, not the client's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "action.h"
#include "commands.h"
#include "dump.h"
#include "fsafe.h"
#include "kerndat.h"
#include "log.h"
#include "options.h"
#include "pb-print.h"
#include "proc.h"
#include "proto/rpc.pb-c.h"
#include "version.h"

#define DEFAULT_SERVICE_ADDRESS "/var/run/criu_service.socket"
#define MAX_REQ_SIZE (1 << 20)

enum session_kind { SESSION_SWRK, SESSION_SERVICE };

/* What a command run for a request reports back. */
struct cmd_result {
	int ok;
	int cr_errno;
	int pid;
	char errmsg[1024];
};

/* Paths of the client's directories as this process sees them. */
static char images_path[64], work_path[64], log_name[PATH_MAX];

static const char *req_type_name(int type)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&criu_req_type__descriptor, type);

	return v ? v->name : "unknown";
}

static void result_error(struct cmd_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void result_error(struct cmd_result *res, const char *fmt, ...)
{
	va_list args;

	res->ok = 0;
	va_start(args, fmt);
	vsnprintf(res->errmsg, sizeof(res->errmsg), fmt, args);
	va_end(args);
	pr_err("%s\n", res->errmsg);
}

/*
 * The name of the first option the request sets that this criu does not
 * implement, or NULL.  Setting a flag to false is not asking for anything.
 * Mount and namespace options come first: a container runtime sends them
 * with everything else, and they are what stops it.  Accepted without
 * effect, as nothing they act on can be in what this criu dumps or
 * restores: orphan_pts_master (no ptys),
 * pre_dump_mode of a dump; manage_cgroups is checked further in
 * tree_refusal(); file_locks is carried out; config_file is read by opts_init_from_config().
 */
static const char *unsupported_option(const CriuOpts *o, enum cr_command cmd, const char **why)
{
#define FLAG_ON(f) (o->has_##f && o->f)
#define CHECK(cond, name)            \
	do {                         \
		if (cond)            \
			return name; \
	} while (0)
	*why = ": it is about mounts or namespaces, which this criu does not dump or restore yet";
	/* mounts and namespaces */
	CHECK(o->root, "root");
	CHECK(o->n_ext_mnt, "ext_mnt");
	for (size_t i = 0; i < o->n_external; i++)
		CHECK(!cli_external_file(o->external[i]), "external");
	CHECK(o->n_join_ns, "join_ns");
	CHECK(o->has_empty_ns && o->empty_ns, "empty_ns");
	CHECK(o->n_skip_mnt, "skip_mnt");
	CHECK(o->n_enable_fs, "enable_fs");
	CHECK(FLAG_ON(auto_ext_mnt), "auto_ext_mnt");
	CHECK(FLAG_ON(ext_sharing), "ext_sharing");
	CHECK(FLAG_ON(ext_masters), "ext_masters");
	CHECK(FLAG_ON(mntns_compat_mode), "mntns_compat_mode");
	CHECK(o->n_veths, "veths");
	CHECK(o->lsm_mount_context, "lsm_mount_context");
	*why = ": this criu does not manage cgroups";
	/* cgroups */
	CHECK(o->has_manage_cgroups_mode && o->manage_cgroups_mode != CRIU_CG_MODE__IGNORE &&
		      o->manage_cgroups_mode != CRIU_CG_MODE__SOFT &&
		      o->manage_cgroups_mode != CRIU_CG_MODE__DEFAULT,
	      "manage_cgroups_mode");
	CHECK(o->n_cg_root, "cg_root");
	CHECK(o->cgroup_props, "cgroup_props");
	CHECK(o->cgroup_props_file, "cgroup_props_file");
	CHECK(o->n_cgroup_dump_controller, "cgroup_dump_controller");
	CHECK(o->freeze_cgroup, "freeze_cgroup");
	CHECK(o->cgroup_yard, "cgroup_yard");
	*why = "";
	/* the rest */
	CHECK(o->ps, "ps (page server)");
	CHECK(o->n_exec_cmd, "exec_cmd");
	CHECK(o->n_unix_sk_ino, "unix_sk_ino");
	CHECK(o->n_irmap_scan_paths, "irmap_scan_paths");
	CHECK(FLAG_ON(tcp_skip_in_flight), "tcp_skip_in_flight");
	CHECK(FLAG_ON(weak_sysctls), "weak_sysctls");
	CHECK(FLAG_ON(lazy_pages), "lazy_pages");
	CHECK(FLAG_ON(tcp_close), "tcp_close");
	CHECK(o->lsm_profile, "lsm_profile");
	CHECK(o->tls_cacert || o->tls_cacrl || o->tls_cert || o->tls_key || FLAG_ON(tls) ||
		      FLAG_ON(tls_no_cn_verify),
	      "tls");
	CHECK(o->has_pidfd_store_sk, "pidfd_store_sk");
	CHECK(o->has_status_fd, "status_fd");
	CHECK(FLAG_ON(skip_file_rwx_check), "skip_file_rwx_check");
	CHECK(FLAG_ON(unprivileged), "unprivileged");
	CHECK(FLAG_ON(allow_uprobes), "allow_uprobes");
#undef CHECK
#undef FLAG_ON
	return NULL;
}

/* The cgroup line of /proc/PID/cgroup (the v2 one, "0::PATH"), or "" if none. */
static void unified_cgroup(pid_t pid, char *buf, size_t size)
{
	char path[64], line[PATH_MAX + 16];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), pid ? "/proc/%d/cgroup" : "/proc/self/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			size_t len = strcspn(line + 3, "\n");

			if (len >= size)
				len = size - 1;
			memcpy(buf, line + 3, len);
			buf[len] = '\0';
			break;
		}
	fclose(f);
}

/*
 * The options that are no-ops only for some trees: manage_cgroups in soft mode
 * when the tree is in criu's own cgroup (restore puts it there: soft mode
 * would do nothing else).  0, or -1 with res filled.
 */
static int tree_refusal(const CriuOpts *o, enum cr_command cmd, pid_t pid, struct cmd_result *res)
{
	bool cg = (o->has_manage_cgroups && o->manage_cgroups) ||
		  (o->has_manage_cgroups_mode && o->manage_cgroups_mode != CRIU_CG_MODE__IGNORE);

	if (cmd != CMD_DUMP)
		return 0;
	if (cg) {
		char theirs[PATH_MAX], ours[PATH_MAX];

		unified_cgroup(pid, theirs, sizeof(theirs));
		unified_cgroup(0, ours, sizeof(ours));
		if (strcmp(theirs, ours)) {
			result_error(res, "option manage_cgroups is not supported by this criu: pid %d "
					  "is in cgroup %s, not in criu's %s",
				     pid, theirs, ours);
			return -1;
		}
	}
	return 0;
}

/* criu_opts.cpu_cap's bits (fpu 1, cpu 2, ins 4; all ones: all) as --cpu-cap. */
static int cpu_cap_words(uint32_t cap, char *buf, size_t size)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} bits[] = { { 1, "fpu" }, { 2, "cpu" }, { 4, "ins" } };
	size_t n = 0;

	if (cap == 0xffffffffu) {
		snprintf(buf, size, "all");
		return 0;
	}
	if (cap & ~7u)
		return -1;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (cap & bits[i].bit)
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "," : "", bits[i].name);
	if (!n)
		snprintf(buf, size, "none");
	return 0;
}

/*
 * Takes the client's fd N itself (pidfd_getfd: the same open directory, with
 * no reopen that could gain rights) and names it for this process.  Only
 * where the kernel lacks pidfd_getfd (before 5.6) is /proc/CLIENT/fd/N
 * reopened, and then with the client's file rights (fs_enter).
 */
static int open_client_dir(pid_t client, int fd, char *path, size_t size, struct cmd_result *res,
			   const char *what)
{
	char src[64];
	struct stat st;
	int ours = -1, pfd, err;

	pfd = (int)syscall(SYS_pidfd_open, client, 0);
	if (pfd >= 0) {
		ours = (int)syscall(SYS_pidfd_getfd, pfd, fd, 0);
		err = errno;
		close(pfd);
	} else {
		err = errno;
	}
	if (ours < 0 && err != ENOSYS) {
		set_cr_errno(err);
		result_error(res, "can't take the client's %s (fd %d): %s", what, fd, strerror(err));
		return -1;
	}
	if (ours < 0) {
		snprintf(src, sizeof(src), "/proc/%d/fd/%d", client, fd);
		fs_enter();
		ours = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		err = errno;
		fs_leave();
		if (ours < 0) {
			set_cr_errno(err);
			result_error(res, "can't open the client's %s (fd %d, %s): %s", what, fd,
				     src, strerror(err));
			return -1;
		}
	}
	if (fstat(ours, &st) || !S_ISDIR(st.st_mode)) {
		set_cr_errno(ENOTDIR);
		result_error(res, "the client's %s (fd %d) is not a directory", what, fd);
		close(ours);
		return -1;
	}
	snprintf(path, size, "/proc/self/fd/%d", ours);
	return 0;
}

/*
 * A client that is not criu's own user has every file access of its request
 * done with its fsuid, fsgid and groups (SO_PEERGROUPS, or its
 * /proc/PID/status where the kernel lacks that).
 */
static int take_client_rights(int sk, const struct ucred *cr)
{
	gid_t groups[64];
	socklen_t len = sizeof(groups);
	int n;

	if (cr->uid == geteuid() || cr->uid == 0)
		return 0;
	if (!getsockopt(sk, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
		n = (int)(len / sizeof(gid_t));
	} else {
		struct proc_status st;

		if (proc_read_status(cr->pid, cr->pid, &st) || st.ngroups > 64) {
			pr_err("can't read the groups of client pid %d\n", cr->pid);
			return -1;
		}
		n = (int)st.ngroups;
		for (int i = 0; i < n; i++)
			groups[i] = st.groups[i];
	}
	if (fs_set_requester(cr->uid, cr->gid, groups, n)) {
		pr_err("can't take the file rights of client uid %u\n", cr->uid);
		return -1;
	}
	return 0;
}

/* Whether every uid of pid is uid (the rule for a non-root client). */
static int owned_by(pid_t pid, uid_t uid)
{
	struct proc_status st;

	if (proc_read_status(pid, pid, &st))
		return 0;
	for (int i = 0; i < 4; i++)
		if (st.uid[i] != uid)
			return 0;
	return 1;
}

/*
 * Whether pid and every process below it belong to uid.  The tree can still
 * change before dump freezes it; dump itself runs with criu's rights.
 */
static int tree_owned_by(pid_t pid, uid_t uid, int depth)
{
	pid_t *kids = NULL;
	int n = 0, owned;

	if (!owned_by(pid, uid))
		return 0;
	if (depth > 64 || proc_list_children(pid, &kids, &n))
		return 0;
	owned = 1;
	for (int i = 0; i < n && owned; i++)
		owned = tree_owned_by(kids[i], uid, depth + 1);
	free(kids);
	return owned;
}

/* Appends item (malloc'ed) to l; opts_free frees it with the owned strings. */
static int own_item(struct str_list *l, char *item)
{
	char **a = realloc(l->items, (l->n + 1) * sizeof(*a));
	char **b = a ? realloc(opts.owned.items, (opts.owned.n + 1) * sizeof(*b)) : NULL;

	if (a)
		l->items = a;
	if (!b) {
		free(item);
		return -1;
	}
	opts.owned.items = b;
	opts.owned.items[opts.owned.n++] = item;
	l->items[l->n++] = item;
	return 0;
}

/* Fills the global opts for cmd from the request; 0, or -1 with res filled. */
static int opts_where_from_req(const CriuReq *req, enum cr_command cmd, const struct ucred *cr,
			       struct cmd_result *res)
{
	const CriuOpts *o = req->opts;

	opts_init(&opts);
	opts.command = cmd;
	/* the service's config files first, the request over them (upstream's order) */
	if (opts_reapply_configs()) {
		result_error(res, "%s", cli_last_error());
		return -1;
	}
	if (!o) {
		if (cmd == CMD_CHECK)
			return 0;
		result_error(res, "%s request without options: images_dir_fd is required",
			     req_type_name(req->type));
		return -1;
	}
	/* who may ask, before anything of the client's is touched */
	if (cmd == CMD_DUMP || cmd == CMD_PRE_DUMP) {
		opts.pid = o->has_pid ? o->pid : cr->pid;
		if (opts.pid <= 0) {
			result_error(res, "pid %d is not a process", opts.pid);
			return -1;
		}
		if (cr->uid != 0 && !tree_owned_by(opts.pid, cr->uid, 0)) {
			set_cr_errno(EPERM);
			result_error(res,
				     "client uid %u may not dump the tree of pid %d: it does not "
				     "own every process of it",
				     cr->uid, opts.pid);
			return -1;
		}
	}
	if (cmd == CMD_RESTORE && cr->uid != 0 && geteuid() == 0) {
		/* images may hold any credentials: a root criu restores them only for root */
		set_cr_errno(EPERM);
		result_error(res, "restore is only served to root clients (client uid %u)", cr->uid);
		return -1;
	}
	if (o->images_dir_fd >= 0) {
		if (open_client_dir(cr->pid, o->images_dir_fd, images_path, sizeof(images_path), res,
				    "images directory"))
			return -1;
		opts.images_dir = images_path;
	} else if (o->images_dir) {
		/* a path is looked up by criu: only for a client that could open it itself */
		if (cr->uid != 0 && cr->uid != geteuid()) {
			result_error(res, "images_dir as a path is only accepted from root; "
					  "pass images_dir_fd");
			return -1;
		}
		opts.images_dir = o->images_dir;
	} else if (cmd != CMD_CHECK) {
		result_error(res, "images_dir_fd is required for %s", req_type_name(req->type));
		return -1;
	}
	if (o->has_work_dir_fd && o->work_dir_fd >= 0) {
		if (open_client_dir(cr->pid, o->work_dir_fd, work_path, sizeof(work_path), res,
				    "work directory"))
			return -1;
		opts.work_dir = work_path;
	}
	opts.log_level = o->has_log_level ? o->log_level : DEFAULT_LOGLEVEL;
	if (o->log_file && !(o->has_log_to_stderr && o->log_to_stderr)) {
		if (strchr(o->log_file, '/') || !strcmp(o->log_file, "..") || !o->log_file[0]) {
			result_error(res, "log_file '%s' must be a plain name in the work directory",
				     o->log_file);
			return -1;
		}
		snprintf(log_name, sizeof(log_name), "%s", o->log_file);
		opts.log_file = log_name;
	}
	return 0;
}

/* What the client asked, at -v4: which fields a runtime sends is the first question. */
static void log_request_opts(const CriuReq *req)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (log_get_level() < LOG_DEBUG || !(f = open_memstream(&text, &len)))
		return;
	pb_print(f, &req->opts->base, false, 0);
	fclose(f);
	pr_debug("RPC %s request, options %s\n", req_type_name(req->type), text ? text : "?");
	free(text);
}

/*
 * The rest of the options, once the log is open (so that a refusal is in
 * the log the client will read, as runc points its users to it).
 */
static int opts_what_from_req(const CriuReq *req, enum cr_command cmd, const struct ucred *cr,
			      enum session_kind kind, struct cmd_result *res)
{
	const CriuOpts *o = req->opts;
	const char *bad, *why;
	static char cpu_cap[32];

	if (!o)
		return 0;
	log_request_opts(req);
	bad = unsupported_option(o, cmd, &why);
	if (bad) {
		result_error(res, "option %s is not supported by this criu%s", bad, why);
		return -1;
	}
	if (cmd == CMD_DUMP && tree_refusal(o, cmd, opts.pid, res))
		return -1;
	if (o->parent_img) {
		/* relative to the images directory, as --prev-images-dir */
		static char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%s", o->parent_img);
		opts.prev_images_dir = parent;
	}
	opts.track_mem = o->has_track_mem && o->track_mem;
	opts.auto_dedup = o->has_auto_dedup && o->auto_dedup;
	if (opts.auto_dedup && cr->uid != 0 && (o->parent_img || cmd == CMD_RESTORE)) {
		/* the parent link may lead anywhere: criu would punch what it finds there */
		result_error(res, "auto_dedup is only served to root clients");
		return -1;
	}
	if (o->has_pre_dump_mode)
		opts.pre_dump_mode =
			o->pre_dump_mode == CRIU_PRE_DUMP_MODE__VM_READ ? "read" : "splice";
	opts.leave_running = o->has_leave_running && o->leave_running;
	opts.leave_stopped = o->has_leave_stopped && o->leave_stopped;
	opts.shell_job = o->has_shell_job && o->shell_job;
	opts.force_irmap = o->has_force_irmap && o->force_irmap;
	opts.link_remap = o->has_link_remap && o->link_remap;
	opts.evasive_devices = o->has_evasive_devices && o->evasive_devices;
	if (o->has_ghost_limit)
		opts.ghost_limit = o->ghost_limit;
	opts.file_locks = o->has_file_locks && o->file_locks;
	opts.tcp_established = o->has_tcp_established && o->tcp_established;
	if (o->has_network_lock)
		opts.network_lock = o->network_lock == CRIU_NETWORK_LOCK_METHOD__SKIP	   ? "skip"
				    : o->network_lock == CRIU_NETWORK_LOCK_METHOD__NFTABLES ? "nftables"
											    : "iptables";
	opts.ext_unix_sk = o->has_ext_unix_sk && o->ext_unix_sk;
	opts.display_stats = o->has_display_stats && o->display_stats; /* to the log */
	if (o->has_timeout)
		opts.timeout = (int)o->timeout;
	if (o->has_cpu_cap) {
		if (cpu_cap_words(o->cpu_cap, cpu_cap, sizeof(cpu_cap))) {
			result_error(res, "cpu_cap 0x%x has bits this criu does not know", o->cpu_cap);
			return -1;
		}
		opts.cpu_cap = cpu_cap;
		opts.cpu_cap_given = true;
	}
	if (o->has_rst_sibling && o->rst_sibling) {
		if (kind != SESSION_SWRK) {
			result_error(res, "rst_sibling is only possible with swrk: the root would be "
					  "the service's child");
			return -1;
		}
		if (cmd != CMD_RESTORE) {
			result_error(res, "rst_sibling only applies to restore");
			return -1;
		}
		opts.restore_sibling = true;
	} else if (cmd == CMD_RESTORE) {
		opts.restore_detached = true;
	}
	/* inherit_fd: the fd is the swrk worker's, inherited from its caller */
	if (o->n_inherit_fd && (kind != SESSION_SWRK || cmd != CMD_RESTORE)) {
		result_error(res, "option inherit_fd is not supported by this criu but on a swrk "
				  "restore: the fds are the caller's, inherited by the worker");
		return -1;
	}
	for (size_t i = 0; i < o->n_inherit_fd; i++) {
		char *item = NULL;

		if (asprintf(&item, "fd[%d]:%s", o->inherit_fd[i]->fd, o->inherit_fd[i]->key) < 0 ||
		    own_item(&opts.inherit_fds, item)) {
			result_error(res, "out of memory");
			return -1;
		}
	}
	for (size_t i = 0; i < o->n_external; i++) {
		char *item = strdup(o->external[i]);

		if (!item || own_item(&opts.externals, item)) {
			result_error(res, "out of memory");
			return -1;
		}
	}
	/* Over the request's options, as upstream has it; a file may name any path: root only. */
	if (o->config_file && cr->uid != 0 && cr->uid != geteuid()) {
		result_error(res, "config_file is only accepted from root");
		return -1;
	}
	if (o->config_file && opts_init_from_config(o->config_file)) {
		result_error(res, "%s", cli_last_error());
		return -1;
	}
	return 0;
}

static int open_log(void)
{
	int dirfd = AT_FDCWD, ret;

	if (opts.log_file) {
		dirfd = opts_open_work_dir();
		if (dirfd < 0)
			return -1;
	}
	ret = log_init(dirfd, opts.log_file, opts.log_level, 0);
	if (dirfd >= 0)
		close(dirfd);
	return ret;
}

static enum cr_command req_command(int type)
{
	switch (type) {
	case CRIU_REQ_TYPE__DUMP:
		return CMD_DUMP;
	case CRIU_REQ_TYPE__PRE_DUMP:
		return CMD_PRE_DUMP;
	case CRIU_REQ_TYPE__RESTORE:
		return CMD_RESTORE;
	case CRIU_REQ_TYPE__CHECK:
		return CMD_CHECK;
	case CRIU_REQ_TYPE__CPUINFO_DUMP:
		return CMD_CPUINFO_DUMP;
	case CRIU_REQ_TYPE__CPUINFO_CHECK:
		return CMD_CPUINFO_CHECK;
	default:
		return CMD_NONE;
	}
}

/*
 * cr_errmsg: the last error criu logged, which sums the failure up, after
 * the first one, which usually names its cause.
 */
static void describe_failure(struct cmd_result *res)
{
	const char *first = log_first_error(), *last = log_last_error();

	if (!last)
		snprintf(res->errmsg, sizeof(res->errmsg), "the command failed; see the log");
	else if (first && strcmp(first, last))
		snprintf(res->errmsg, sizeof(res->errmsg), "%s (%s)", last, first);
	else
		snprintf(res->errmsg, sizeof(res->errmsg), "%s", last);
}

static int rpc_notify(int sk, const char *name, pid_t pid, int fd);

/* Runs the request's command in this process, as the command line would. */
static void run_command(int sk, const CriuReq *req, const struct ucred *cr, enum session_kind kind,
			struct cmd_result *res)
{
	enum cr_command cmd = req_command(req->type);
	char *log_file_was;
	int ret, log_level_was;

	memset(res, 0, sizeof(*res));
	log_reset_last_error();
	restored_root_pid = 0;
	if (opts_where_from_req(req, cmd, cr, res) || open_log()) {
		res->ok = 0;
		if (!res->errmsg[0])
			snprintf(res->errmsg, sizeof(res->errmsg), "%s",
				 log_last_error() ? log_last_error() : "can't open the log");
		res->cr_errno = get_cr_errno();
		return;
	}
	log_file_was = opts.log_file ? strdup(opts.log_file) : NULL;
	log_level_was = opts.log_level;
	if (opts_what_from_req(req, cmd, cr, kind, res)) {
		res->cr_errno = get_cr_errno();
		log_close();
		free(log_file_was);
		return;
	}
	/* a config file may name another log: the rest goes there */
	if (opts.log_level != log_level_was || (opts.log_file && !log_file_was) ||
	    (!opts.log_file && log_file_was) ||
	    (opts.log_file && log_file_was && strcmp(opts.log_file, log_file_was))) {
		log_close();
		if (open_log()) {
			res->ok = 0;
			snprintf(res->errmsg, sizeof(res->errmsg), "can't open the log %s named by %s",
				 opts.log_file ? opts.log_file : "-", req->opts->config_file);
			free(log_file_was);
			return;
		}
	}
	free(log_file_was);
	action_set_rpc(req->opts && req->opts->has_notify_scripts && req->opts->notify_scripts ? sk
												: -1,
		       rpc_notify);
	switch (cmd) {
	case CMD_DUMP:
		ret = cmd_dump();
		break;
	case CMD_PRE_DUMP:
		ret = cmd_pre_dump();
		break;
	case CMD_RESTORE:
		ret = restore_here(); /* in this worker already */
		break;
	case CMD_CHECK:
		ret = cmd_check();
		break;
	case CMD_CPUINFO_DUMP:
		ret = cmd_cpuinfo_dump();
		break;
	default:
		ret = cmd_cpuinfo_check();
		break;
	}
	res->ok = ret == 0;
	res->pid = restored_root_pid;
	res->cr_errno = get_cr_errno();
	if (!res->ok)
		describe_failure(res);
	log_close();
}

/* The same in a worker forked for it, so that its global state dies with it. */
static void run_command_in_worker(int sk, const CriuReq *req, const struct ucred *cr,
				  enum session_kind kind, struct cmd_result *res)
{
	int p[2], st;
	pid_t pid;
	ssize_t n;

	memset(res, 0, sizeof(*res));
	if (pipe2(p, O_CLOEXEC)) {
		result_error(res, "can't create a pipe for the worker: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		result_error(res, "can't fork a worker: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		struct cmd_result r;

		close(p[0]);
		run_command(sk, req, cr, kind, &r);
		n = write(p[1], &r, sizeof(r));
		_exit(n == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	do
		n = read(p[0], res, sizeof(*res));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(*res)) {
		memset(res, 0, sizeof(*res));
		snprintf(res->errmsg, sizeof(res->errmsg),
			 "the worker for %s died without an answer (status 0x%x)",
			 req_type_name(req->type), st);
	}
	res->errmsg[sizeof(res->errmsg) - 1] = '\0';
}

static int send_resp(int sk, const CriuResp *resp)
{
	size_t len = criu_resp__get_packed_size(resp);
	uint8_t *buf = malloc(len ? len : 1);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	criu_resp__pack(resp, buf);
	n = send(sk, buf, len, MSG_NOSIGNAL);
	free(buf);
	if (n != (ssize_t)len) {
		pr_perror("can't send the RPC answer");
		return -EIO;
	}
	return 0;
}

/* One packed request; NULL at the end of the session (or on an error, logged). */
static CriuReq *recv_req(int sk)
{
	ssize_t len, n;
	uint8_t *buf;
	CriuReq *req;

	len = recv(sk, NULL, 0, MSG_PEEK | MSG_TRUNC);
	if (len <= 0) {
		if (len < 0)
			pr_perror("can't read an RPC request");
		return NULL;
	}
	if (len > MAX_REQ_SIZE) {
		pr_err("an RPC request of %zd bytes is too big\n", len);
		return NULL;
	}
	buf = malloc((size_t)len);
	if (!buf)
		return NULL;
	n = recv(sk, buf, (size_t)len, 0);
	req = n == len ? criu_req__unpack(NULL, (size_t)len, buf) : NULL;
	if (!req)
		pr_err("can't decode an RPC request of %zd bytes\n", len);
	free(buf);
	return req;
}

/* Sends resp with fd attached (SCM_RIGHTS) when fd >= 0. */
static int send_resp_fd(int sk, const CriuResp *resp, int fd)
{
	size_t len = criu_resp__get_packed_size(resp);
	uint8_t *buf = malloc(len ? len : 1);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	criu_resp__pack(resp, buf);
	iov.iov_base = buf;
	iov.iov_len = len;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	n = sendmsg(sk, &mh, MSG_NOSIGNAL);
	free(buf);
	if (n != (ssize_t)len) {
		pr_perror("can't send the RPC notification");
		return -EIO;
	}
	return 0;
}

/*
 * An action point over RPC: a NOTIFY answer with the point's name and the
 * root pid, then the client's NOTIFY request back; 0 when it says success.
 */
static int rpc_notify(int sk, const char *name, pid_t pid, int fd)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuNotify cn = CRIU_NOTIFY__INIT;
	CriuReq *req;
	int ret;

	resp.type = CRIU_REQ_TYPE__NOTIFY;
	resp.success = true;
	cn.script = (char *)name;
	if (pid > 0) {
		cn.has_pid = true;
		cn.pid = pid;
	}
	resp.notify = &cn;
	if (send_resp_fd(sk, &resp, fd))
		return -1;
	req = recv_req(sk);
	if (!req) {
		pr_err("the RPC client went away instead of answering the %s notification\n", name);
		return -1;
	}
	if (req->type != CRIU_REQ_TYPE__NOTIFY) {
		pr_err("the RPC client answered the %s notification with a %s request\n", name,
		       req_type_name(req->type));
		ret = -1;
	} else {
		ret = req->has_notify_success && req->notify_success ? 0 : -1;
	}
	criu_req__free_unpacked(req, NULL);
	return ret;
}

static void answer_version(CriuResp *resp, CriuVersion *v)
{
	static char name[] = "criu (wire-compatible implementation)";

	v->major_number = CRIU_VERSION_MAJOR;
	v->minor_number = CRIU_VERSION_MINOR;
	v->has_sublevel = true;
	v->sublevel = CRIU_VERSION_SUBLEVEL;
	v->name = name;
	resp->version = v;
	resp->success = true;
}

/* The same answers as `criu check --feature NAME` (kerndat_has_feature). */
static void answer_features(const CriuReq *req, CriuResp *resp, CriuFeatures *f)
{
	if (req->features) {
		f->has_mem_track = req->features->has_mem_track;
		f->mem_track = f->has_mem_track && kerndat_has_feature("mem_dirty_track") == 1;
		f->has_lazy_pages = req->features->has_lazy_pages;
		f->lazy_pages = f->has_lazy_pages && kerndat_has_feature("uffd-noncoop") == 1;
		f->has_pidfd_store = req->features->has_pidfd_store;
		f->pidfd_store = f->has_pidfd_store && kerndat_has_feature("pidfd_store") == 1;
	}
	resp->features = f;
	resp->success = true;
}

/* Serves requests on sk until the client closes it; 0, or 1 on an error. */
static int serve_session(int sk, enum session_kind kind)
{
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	int ret = 0;

	if (getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &cr, &crlen)) {
		pr_perror("can't get the credentials of the RPC client");
		return 1;
	}
	if (take_client_rights(sk, &cr))
		return 1;
	for (;;) {
		CriuResp resp = CRIU_RESP__INIT;
		CriuDumpResp dump = CRIU_DUMP_RESP__INIT;
		CriuRestoreResp rst = CRIU_RESTORE_RESP__INIT;
		CriuVersion ver = CRIU_VERSION__INIT;
		CriuFeatures feat = CRIU_FEATURES__INIT;
		struct cmd_result res;
		bool last = false;
		CriuReq *req = recv_req(sk);

		if (!req)
			break;
		resp.type = req->type;
		memset(&res, 0, sizeof(res));
		switch (req->type) {
		case CRIU_REQ_TYPE__VERSION:
			answer_version(&resp, &ver);
			break;
		case CRIU_REQ_TYPE__FEATURE_CHECK:
			answer_features(req, &resp, &feat);
			break;
		case CRIU_REQ_TYPE__DUMP:
		case CRIU_REQ_TYPE__PRE_DUMP:
		case CRIU_REQ_TYPE__RESTORE:
		case CRIU_REQ_TYPE__CHECK:
		case CRIU_REQ_TYPE__CPUINFO_DUMP:
		case CRIU_REQ_TYPE__CPUINFO_CHECK:
			if (kind == SESSION_SWRK && req->type == CRIU_REQ_TYPE__RESTORE && req->opts &&
			    req->opts->has_rst_sibling && req->opts->rst_sibling) {
				run_command(sk, req, &cr, kind, &res);
				last = true;
			} else {
				run_command_in_worker(sk, req, &cr, kind, &res);
			}
			resp.success = res.ok;
			if (res.cr_errno) {
				resp.has_cr_errno = true;
				resp.cr_errno = res.cr_errno;
			}
			if (!res.ok)
				resp.cr_errmsg = res.errmsg;
			if (req->type == CRIU_REQ_TYPE__DUMP) {
				dump.has_restored = true;
				dump.restored = false;
				resp.dump = &dump;
			}
			if (req->type == CRIU_REQ_TYPE__RESTORE && res.ok) {
				rst.pid = res.pid;
				resp.restore = &rst;
			}
			break;
		default:
			/* libcriu reads an EMPTY failure as "not supported" (-EINVAL) */
			resp.type = CRIU_REQ_TYPE__EMPTY;
			resp.success = false;
			snprintf(res.errmsg, sizeof(res.errmsg),
				 "request type %d (%s) is not supported by this criu", req->type,
				 req_type_name(req->type));
			resp.cr_errmsg = res.errmsg;
			pr_err("%s\n", res.errmsg);
			break;
		}
		if (send_resp(sk, &resp))
			ret = 1;
		if (!req->keep_open)
			last = true;
		criu_req__free_unpacked(req, NULL);
		if (ret || last)
			break;
	}
	return ret;
}

int cmd_swrk(void)
{
	int sk = opts.swrk_fd;
	int type;
	socklen_t len = sizeof(type);

	if (getsockopt(sk, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_SEQPACKET) {
		pr_err("swrk: fd %d is not a SOCK_SEQPACKET socket\n", sk);
		return 1;
	}
	/* restored tasks and workers' children must not keep the client's socket */
	fcntl(sk, F_SETFD, FD_CLOEXEC);
	return serve_session(sk, SESSION_SWRK);
}

static void reap_sessions(int sig)
{
	int saved_errno = errno;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved_errno;
}

int cmd_service(void)
{
	const char *path = opts.address ? opts.address : DEFAULT_SERVICE_ADDRESS;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int sk;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		pr_err("service address %s is too long for a unix socket\n", path);
		return 1;
	}
	strcpy(addr.sun_path, path);
	sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sk < 0) {
		pr_perror("can't create the service socket");
		return 1;
	}
	unlink(path);
	if (bind(sk, (struct sockaddr *)&addr, sizeof(addr)) || listen(sk, 16)) {
		pr_perror("can't listen on %s", path);
		close(sk);
		return 1;
	}
	if (opts_write_pidfile(opts_open_pidfile(), getpid())) {
		close(sk);
		return 1;
	}
	{
		/* sessions are reaped as they end; each restores the default for its workers */
		struct sigaction sa = { .sa_handler = reap_sessions, .sa_flags = SA_RESTART };

		sigaction(SIGCHLD, &sa, NULL);
	}
	pr_info("criu service listens on %s\n", path);
	dump_status_fd_ready();
	for (;;) {
		int c = accept4(sk, NULL, NULL, SOCK_CLOEXEC);
		pid_t pid;

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			pr_perror("accept on %s failed", path);
			break;
		}
		pid = fork();
		if (pid == 0) {
			signal(SIGCHLD, SIG_DFL);
			close(sk);
			_exit(serve_session(c, SESSION_SERVICE));
		}
		if (pid < 0)
			pr_perror("can't fork a session for a client");
		close(c);
	}
	close(sk);
	return 1;
}
