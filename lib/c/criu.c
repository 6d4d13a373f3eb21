/*
 * libcriu: builds criu_req messages from the options, sends them to criu,
 * answers its notifications and reads the criu_resp back.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu.h"

#define DEFAULT_ADDRESS "/var/run/criu_service.socket"
#define DEFAULT_BINARY "criu"
#define MAX_RESP_SIZE (1 << 20)

struct criu_opts {
	CriuOpts *rpc;
	int (*notify)(char *action, criu_notify_arg_t na);
	enum criu_service_comm comm;
	char *address; /* CRIU_COMM_SK; NULL: the default */
	char *binary;  /* CRIU_COMM_BIN; NULL: "criu" from PATH */
	int fd;	       /* CRIU_COMM_FD */
};

static criu_opts *global_opts;
static int orphan_pts_master_fd = -1;

/* ---- option sets --------------------------------------------------------- */

int criu_local_init_opts(criu_opts **out)
{
	criu_opts *o = calloc(1, sizeof(*o));

	if (!o)
		return -1;
	o->rpc = malloc(sizeof(*o->rpc));
	if (!o->rpc) {
		free(o);
		return -1;
	}
	criu_opts__init(o->rpc);
	o->rpc->images_dir_fd = -1;
	o->comm = CRIU_COMM_BIN;
	o->fd = -1;
	*out = o;
	return 0;
}

void criu_local_free_opts(criu_opts *o)
{
	if (!o)
		return;
	/* every string, array and submessage in it came from malloc */
	criu_opts__free_unpacked(o->rpc, NULL);
	free(o->address);
	free(o->binary);
	free(o);
}

int criu_init_opts(void)
{
	criu_opts *o;

	if (criu_local_init_opts(&o))
		return -1;
	criu_local_free_opts(global_opts);
	global_opts = o;
	return 0;
}

void criu_free_opts(void)
{
	criu_local_free_opts(global_opts);
	global_opts = NULL;
}

/* The global set; setters called before criu_init_opts() still take effect. */
static criu_opts *global(void)
{
	if (!global_opts)
		criu_init_opts();
	return global_opts;
}

/* *dst = a copy of src (NULL clears); 0 or -ENOMEM. */
static int set_string(char **dst, const char *src)
{
	char *copy = NULL;

	if (src && !(copy = strdup(src)))
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

/* Appends p to a repeated field; 0 or -ENOMEM. */
static int append(void *arrayp, size_t *n, void *p)
{
	void ***array = arrayp;
	void **a;

	if (!p)
		return -ENOMEM;
	a = realloc(*array, (*n + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	a[(*n)++] = p;
	*array = a;
	return 0;
}

static int append_string(char ***array, size_t *n, const char *s)
{
	char *copy;
	int ret;

	if (!s)
		return -EINVAL;
	copy = strdup(s);
	ret = append(array, n, copy);
	if (ret)
		free(copy);
	return ret;
}

/* ---- the transport ------------------------------------------------------- */

int criu_local_set_service_address(criu_opts *o, const char *path)
{
	o->comm = CRIU_COMM_SK;
	return set_string(&o->address, path);
}

void criu_local_set_service_fd(criu_opts *o, int fd)
{
	o->comm = CRIU_COMM_FD;
	o->fd = fd;
}

int criu_local_set_service_binary(criu_opts *o, const char *path)
{
	o->comm = CRIU_COMM_BIN;
	return set_string(&o->binary, path);
}

void criu_local_set_service_comm(criu_opts *o, enum criu_service_comm comm)
{
	o->comm = comm;
}

int criu_set_service_address(const char *path)
{
	return global() ? criu_local_set_service_address(global_opts, path) : -ENOMEM;
}

void criu_set_service_fd(int fd)
{
	if (global())
		criu_local_set_service_fd(global_opts, fd);
}

int criu_set_service_binary(const char *path)
{
	return global() ? criu_local_set_service_binary(global_opts, path) : -ENOMEM;
}

void criu_set_service_comm(enum criu_service_comm comm)
{
	if (global())
		criu_local_set_service_comm(global_opts, comm);
}

/* ---- setters, each a local one and its global twin ------------------------ */

/* void criu_local_set_NAME(opts, TYPE v) setting optional field F */
#define OPT_SET(name, type, f)                                  \
	void criu_local_set_##name(criu_opts *o, type v)        \
	{                                                       \
		o->rpc->has_##f = true;                         \
		o->rpc->f = v;                                  \
	}                                                       \
	void criu_set_##name(type v)                            \
	{                                                       \
		if (global())                                   \
			criu_local_set_##name(global_opts, v);  \
	}

/* int criu_local_set_NAME(opts, const char *s) setting string field F */
#define OPT_STRING(name, f)                                                      \
	int criu_local_set_##name(criu_opts *o, const char *s)                   \
	{                                                                        \
		return set_string(&o->rpc->f, s);                                \
	}                                                                        \
	int criu_set_##name(const char *s)                                       \
	{                                                                        \
		return global() ? criu_local_set_##name(global_opts, s) : -ENOMEM; \
	}

/* int criu_local_add_NAME(opts, const char *s) appending to repeated string field F */
#define OPT_ADD_STRING(name, f)                                                  \
	int criu_local_add_##name(criu_opts *o, const char *s)                   \
	{                                                                        \
		return append_string(&o->rpc->f, &o->rpc->n_##f, s);             \
	}                                                                        \
	int criu_add_##name(const char *s)                                       \
	{                                                                        \
		return global() ? criu_local_add_##name(global_opts, s) : -ENOMEM; \
	}

/* int criu_local_add_NAME(opts, const char *s) setting single string field F */
#define OPT_ADD_ONE(name, f)                                                     \
	int criu_local_add_##name(criu_opts *o, const char *s)                   \
	{                                                                        \
		return set_string(&o->rpc->f, s);                                \
	}                                                                        \
	int criu_add_##name(const char *s)                                       \
	{                                                                        \
		return global() ? criu_local_add_##name(global_opts, s) : -ENOMEM; \
	}

/* a global twin of a local function of one argument returning int */
#define GLOBAL_INT1(name, type)                                                  \
	int criu_##name(type v)                                                  \
	{                                                                        \
		return global() ? criu_local_##name(global_opts, v) : -ENOMEM;   \
	}

void criu_local_set_pid(criu_opts *o, int pid)
{
	o->rpc->has_pid = true;
	o->rpc->pid = pid;
}

void criu_set_pid(int pid)
{
	if (global())
		criu_local_set_pid(global_opts, pid);
}

void criu_local_set_images_dir_fd(criu_opts *o, int fd)
{
	o->rpc->images_dir_fd = fd;
}

void criu_set_images_dir_fd(int fd)
{
	if (global())
		criu_local_set_images_dir_fd(global_opts, fd);
}

OPT_SET(work_dir_fd, int, work_dir_fd)
OPT_SET(leave_running, bool, leave_running)
OPT_SET(ext_unix_sk, bool, ext_unix_sk)
OPT_SET(tcp_established, bool, tcp_established)
OPT_SET(tcp_skip_in_flight, bool, tcp_skip_in_flight)
OPT_SET(tcp_close, bool, tcp_close)
OPT_SET(weak_sysctls, bool, weak_sysctls)
OPT_SET(evasive_devices, bool, evasive_devices)
OPT_SET(shell_job, bool, shell_job)
OPT_SET(skip_file_rwx_check, bool, skip_file_rwx_check)
OPT_SET(unprivileged, bool, unprivileged)
OPT_SET(orphan_pts_master, bool, orphan_pts_master)
OPT_SET(file_locks, bool, file_locks)
OPT_SET(track_mem, bool, track_mem)
OPT_SET(auto_dedup, bool, auto_dedup)
OPT_SET(force_irmap, bool, force_irmap)
OPT_SET(link_remap, bool, link_remap)
OPT_SET(cpu_cap, unsigned int, cpu_cap)
OPT_SET(manage_cgroups, bool, manage_cgroups)
OPT_SET(timeout, unsigned int, timeout)
OPT_SET(auto_ext_mnt, bool, auto_ext_mnt)
OPT_SET(ext_sharing, bool, ext_sharing)
OPT_SET(ext_masters, bool, ext_masters)
OPT_SET(ghost_limit, unsigned int, ghost_limit)
OPT_SET(pidfd_store_sk, int, pidfd_store_sk)
OPT_SET(mntns_compat_mode, bool, mntns_compat_mode)
OPT_SET(empty_ns, int, empty_ns)

void criu_local_set_log_level(criu_opts *o, int log_level)
{
	o->rpc->has_log_level = log_level != CRIU_LOG_UNSET;
	o->rpc->log_level = log_level;
}

void criu_set_log_level(int log_level)
{
	if (global())
		criu_local_set_log_level(global_opts, log_level);
}

void criu_local_set_manage_cgroups_mode(criu_opts *o, enum criu_cg_mode mode)
{
	o->rpc->has_manage_cgroups_mode = true;
	o->rpc->manage_cgroups_mode = (CriuCgMode)mode;
}

void criu_set_manage_cgroups_mode(enum criu_cg_mode mode)
{
	if (global())
		criu_local_set_manage_cgroups_mode(global_opts, mode);
}

OPT_STRING(images_dir, images_dir)
OPT_STRING(parent_images, parent_img)
OPT_STRING(log_file, log_file)
OPT_STRING(root, root)
OPT_STRING(freeze_cgroup, freeze_cgroup)
OPT_STRING(lsm_profile, lsm_profile)
OPT_STRING(lsm_mount_context, lsm_mount_context)
OPT_STRING(config_file, config_file)

OPT_ADD_STRING(enable_fs, enable_fs)
OPT_ADD_STRING(skip_mnt, skip_mnt)
OPT_ADD_STRING(irmap_path, irmap_scan_paths)
OPT_ADD_STRING(cg_dump_controller, cgroup_dump_controller)
OPT_ADD_STRING(external, external)
OPT_ADD_ONE(cg_props, cgroup_props)
OPT_ADD_ONE(cg_props_file, cgroup_props_file)
OPT_ADD_ONE(cg_yard, cgroup_yard)

int criu_local_add_unix_sk(criu_opts *o, unsigned int inode)
{
	UnixSk *u = malloc(sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	unix_sk__init(u);
	u->inode = inode;
	ret = append(&o->rpc->unix_sk_ino, &o->rpc->n_unix_sk_ino, u);
	if (ret)
		free(u);
	return ret;
}
GLOBAL_INT1(add_unix_sk, unsigned int)

int criu_local_set_exec_cmd(criu_opts *o, int argc, char *argv[])
{
	if (argc < 1 || !argv)
		return -EINVAL;
	for (size_t i = 0; i < o->rpc->n_exec_cmd; i++)
		free(o->rpc->exec_cmd[i]);
	free(o->rpc->exec_cmd);
	o->rpc->exec_cmd = NULL;
	o->rpc->n_exec_cmd = 0;
	for (int i = 0; i < argc; i++)
		if (append_string(&o->rpc->exec_cmd, &o->rpc->n_exec_cmd, argv[i]))
			return -ENOMEM;
	return 0;
}

int criu_set_exec_cmd(int argc, char *argv[])
{
	return global() ? criu_local_set_exec_cmd(global_opts, argc, argv) : -ENOMEM;
}

/* key=value pairs: both strings copied into a new message appended to a repeated field */
static int strdup2(const char *a, const char *b, char **ca, char **cb)
{
	*ca = a ? strdup(a) : NULL;
	*cb = b ? strdup(b) : NULL;
	if ((a && !*ca) || (b && !*cb)) {
		free(*ca);
		free(*cb);
		return -ENOMEM;
	}
	return 0;
}

int criu_local_add_ext_mount(criu_opts *o, const char *key, const char *val)
{
	ExtMountMap *m;

	if (!key || !val)
		return -EINVAL;
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	ext_mount_map__init(m);
	if (strdup2(key, val, &m->key, &m->val) ||
	    append(&o->rpc->ext_mnt, &o->rpc->n_ext_mnt, m)) {
		ext_mount_map__free_unpacked(m, NULL);
		return -ENOMEM;
	}
	return 0;
}

int criu_add_ext_mount(const char *key, const char *val)
{
	return global() ? criu_local_add_ext_mount(global_opts, key, val) : -ENOMEM;
}

int criu_local_add_veth_pair(criu_opts *o, const char *in, const char *out)
{
	CriuVethPair *p;

	if (!in || !out)
		return -EINVAL;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	criu_veth_pair__init(p);
	if (strdup2(in, out, &p->if_in, &p->if_out) ||
	    append(&o->rpc->veths, &o->rpc->n_veths, p)) {
		criu_veth_pair__free_unpacked(p, NULL);
		return -ENOMEM;
	}
	return 0;
}

int criu_add_veth_pair(const char *in, const char *out)
{
	return global() ? criu_local_add_veth_pair(global_opts, in, out) : -ENOMEM;
}

int criu_local_add_cg_root(criu_opts *o, const char *ctrl, const char *path)
{
	CgroupRoot *r;

	if (!path)
		return -EINVAL;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	cgroup_root__init(r);
	if (strdup2(ctrl, path, &r->ctrl, &r->path) ||
	    append(&o->rpc->cg_root, &o->rpc->n_cg_root, r)) {
		cgroup_root__free_unpacked(r, NULL);
		return -ENOMEM;
	}
	return 0;
}

int criu_add_cg_root(const char *ctrl, const char *path)
{
	return global() ? criu_local_add_cg_root(global_opts, ctrl, path) : -ENOMEM;
}

int criu_local_add_inherit_fd(criu_opts *o, int fd, const char *key)
{
	InheritFd *f;

	if (!key || fd < 0)
		return -EINVAL;
	f = malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	inherit_fd__init(f);
	f->fd = fd;
	f->key = strdup(key);
	if (!f->key || append(&o->rpc->inherit_fd, &o->rpc->n_inherit_fd, f)) {
		inherit_fd__free_unpacked(f, NULL);
		return -ENOMEM;
	}
	return 0;
}

int criu_add_inherit_fd(int fd, const char *key)
{
	return global() ? criu_local_add_inherit_fd(global_opts, fd, key) : -ENOMEM;
}

int criu_local_join_ns_add(criu_opts *o, const char *ns, const char *ns_file, const char *extra_opt)
{
	JoinNamespace *j;

	if (!ns || !ns_file)
		return -EINVAL;
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	join_namespace__init(j);
	if (strdup2(ns, ns_file, &j->ns, &j->ns_file) ||
	    (extra_opt && !(j->extra_opt = strdup(extra_opt))) ||
	    append(&o->rpc->join_ns, &o->rpc->n_join_ns, j)) {
		join_namespace__free_unpacked(j, NULL);
		return -ENOMEM;
	}
	return 0;
}

int criu_join_ns_add(const char *ns, const char *ns_file, const char *extra_opt)
{
	return global() ? criu_local_join_ns_add(global_opts, ns, ns_file, extra_opt) : -ENOMEM;
}

int criu_local_set_page_server_address_port(criu_opts *o, const char *address, int port)
{
	CriuPageServerInfo *ps = o->rpc->ps;

	if (!ps) {
		ps = malloc(sizeof(*ps));
		if (!ps)
			return -ENOMEM;
		criu_page_server_info__init(ps);
		o->rpc->ps = ps;
	}
	if (set_string(&ps->address, address))
		return -ENOMEM;
	ps->has_port = true;
	ps->port = port;
	return 0;
}

int criu_set_page_server_address_port(const char *address, int port)
{
	return global() ? criu_local_set_page_server_address_port(global_opts, address, port)
			: -ENOMEM;
}

int criu_local_set_pre_dump_mode(criu_opts *o, enum criu_pre_dump_mode mode)
{
	if (mode != CRIU_PRE_DUMP_SPLICE && mode != CRIU_PRE_DUMP_READ)
		return -1;
	o->rpc->has_pre_dump_mode = true;
	o->rpc->pre_dump_mode = (CriuPreDumpMode)mode;
	return 0;
}
GLOBAL_INT1(set_pre_dump_mode, enum criu_pre_dump_mode)

int criu_local_set_network_lock(criu_opts *o, enum criu_network_lock_method method)
{
	if (method != CRIU_NETWORK_LOCK_IPTABLES && method != CRIU_NETWORK_LOCK_NFTABLES &&
	    method != CRIU_NETWORK_LOCK_SKIP)
		return -1;
	o->rpc->has_network_lock = true;
	o->rpc->network_lock = (CriuNetworkLockMethod)method;
	return 0;
}
GLOBAL_INT1(set_network_lock, enum criu_network_lock_method)

/*
 * Options of newer libcriu that criu's RPC protocol has no field for here:
 * their defaults are accepted, anything else is -EINVAL.
 */
int criu_local_set_image_io_mode(criu_opts *o, enum criu_image_io_mode mode)
{
	return mode == CRIU_IMAGE_IO_WRITEBACK ? 0 : -EINVAL;
}
GLOBAL_INT1(set_image_io_mode, enum criu_image_io_mode)

int criu_local_set_compress(criu_opts *o, enum criu_compress_mode mode)
{
	return mode == CRIU_COMPRESS_OFF ? 0 : -EINVAL;
}
GLOBAL_INT1(set_compress, enum criu_compress_mode)

int criu_local_set_compress_acceleration(criu_opts *o, unsigned int acceleration)
{
	return -EINVAL; /* no compression */
}
GLOBAL_INT1(set_compress_acceleration, unsigned int)

int criu_local_set_compress_block_size(criu_opts *o, unsigned int bytes)
{
	return -EINVAL; /* no compression */
}
GLOBAL_INT1(set_compress_block_size, unsigned int)

int criu_local_set_decompress_threads(criu_opts *o, unsigned int threads)
{
	return threads <= 1 ? 0 : -EINVAL; /* auto and serial are what there is */
}
GLOBAL_INT1(set_decompress_threads, unsigned int)

int criu_local_add_plugin_option(criu_opts *o, const char *option)
{
	return -EINVAL; /* no plugins */
}
GLOBAL_INT1(add_plugin_option, const char *)

/* ---- notifications ------------------------------------------------------- */

void criu_local_set_notify_cb(criu_opts *o, int (*cb)(char *action, criu_notify_arg_t na))
{
	o->notify = cb;
	o->rpc->has_notify_scripts = cb != NULL;
	o->rpc->notify_scripts = cb != NULL;
}

void criu_set_notify_cb(int (*cb)(char *action, criu_notify_arg_t na))
{
	if (global())
		criu_local_set_notify_cb(global_opts, cb);
}

int criu_notify_pid(criu_notify_arg_t na)
{
	return na && na->has_pid ? na->pid : 0;
}

int criu_get_orphan_pts_master_fd(void)
{
	return orphan_pts_master_fd;
}

/* ---- talking to criu ------------------------------------------------------ */

struct conn {
	int sk;
	pid_t swrk; /* the criu swrk we started, or 0 */
	struct sigaction old_chld;
};

static int connect_service(const criu_opts *o, struct conn *c)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = o->address ? o->address : DEFAULT_ADDRESS;
	int err;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -ECONNREFUSED;
	}
	strcpy(addr.sun_path, path);
	c->sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->sk < 0)
		return -ECONNREFUSED;
	if (connect(c->sk, (struct sockaddr *)&addr, sizeof(addr))) {
		err = errno;
		close(c->sk);
		c->sk = -1;
		errno = err;
		return -ECONNREFUSED;
	}
	return 0;
}

static int start_swrk(const criu_opts *o, struct conn *c)
{
	const char *bin = o->binary ? o->binary : DEFAULT_BINARY;
	int sks[2], err;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sks))
		return -ECONNREFUSED;
	c->swrk = fork();
	if (c->swrk < 0) {
		err = errno;
		close(sks[0]);
		close(sks[1]);
		c->swrk = 0;
		errno = err;
		return -ECONNREFUSED;
	}
	if (c->swrk == 0) {
		char fdstr[16];

		/* criu's end stays open across exec; ours goes away */
		close(sks[0]);
		if (fcntl(sks[1], F_SETFD, 0) < 0)
			_exit(127);
		snprintf(fdstr, sizeof(fdstr), "%d", sks[1]);
		execlp(bin, bin, "swrk", fdstr, (char *)NULL);
		_exit(127);
	}
	close(sks[1]);
	c->sk = sks[0];
	return 0;
}

static int open_conn(const criu_opts *o, enum criu_service_comm comm, struct conn *c)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	c->sk = -1;
	c->swrk = 0;
	switch (comm) {
	case CRIU_COMM_FD:
		c->sk = o->fd;
		return o->fd >= 0 ? 0 : (errno = EBADF, -ECONNREFUSED);
	case CRIU_COMM_BIN:
		/* the swrk we start must stay ours to wait for, whatever the caller did to SIGCHLD */
		sigaction(SIGCHLD, &dfl, &c->old_chld);
		return start_swrk(o, c);
	default:
		return connect_service(o, c);
	}
}

static void close_conn(enum criu_service_comm comm, struct conn *c)
{
	int err = errno;

	if (comm != CRIU_COMM_FD && c->sk >= 0)
		close(c->sk);
	if (c->swrk > 0)
		while (waitpid(c->swrk, NULL, 0) < 0 && errno == EINTR)
			;
	if (comm == CRIU_COMM_BIN)
		sigaction(SIGCHLD, &c->old_chld, NULL);
	errno = err;
}

static int send_req(int sk, const CriuReq *req)
{
	size_t len = criu_req__get_packed_size(req);
	void *buf = malloc(len ? len : 1);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	criu_req__pack(req, buf);
	n = send(sk, buf, len, MSG_NOSIGNAL);
	free(buf);
	return n == (ssize_t)len ? 0 : -ECOMM;
}

/* One answer; a descriptor criu passes along with it lands in *fd (else -1). */
static int recv_resp(int sk, CriuResp **resp, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t len, n;
	uint8_t *buf;

	*fd = -1;
	*resp = NULL;
	len = recv(sk, NULL, 0, MSG_PEEK | MSG_TRUNC);
	if (len <= 0) {
		if (len == 0)
			errno = ECONNRESET;
		return -ECOMM;
	}
	if (len > MAX_RESP_SIZE)
		return -EBADMSG;
	buf = malloc((size_t)len);
	if (!buf)
		return -ENOMEM;
	iov.iov_base = buf;
	iov.iov_len = (size_t)len;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	n = recvmsg(sk, &mh, MSG_CMSG_CLOEXEC);
	for (c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	*resp = n == len ? criu_resp__unpack(NULL, (size_t)len, buf) : NULL;
	free(buf);
	if (n != len)
		return -ECOMM;
	return *resp ? 0 : -EBADMSG;
}

/* Calls the callback for a NOTIFY and sends criu its verdict. */
static int answer_notify(const criu_opts *o, int sk, CriuResp *resp, int fd)
{
	CriuReq req = CRIU_REQ__INIT;
	int ret = 0;

	if (fd >= 0) {
		if (resp->notify && resp->notify->script &&
		    !strcmp(resp->notify->script, "orphan-pts-master")) {
			if (orphan_pts_master_fd >= 0)
				close(orphan_pts_master_fd);
			orphan_pts_master_fd = fd;
		} else {
			close(fd);
		}
	}
	if (o->notify && resp->notify)
		ret = o->notify(resp->notify->script ? resp->notify->script : (char *)"",
				resp->notify);
	req.type = CRIU_REQ_TYPE__NOTIFY;
	req.has_notify_success = true;
	req.notify_success = ret == 0;
	return send_req(sk, &req);
}

/*
 * Sends req on an open connection and reads criu's answer to it, answering
 * the notifications that come first: 0 with *resp set, or a negative error.
 */
static int exchange_on(const criu_opts *o, int sk, CriuReq *req, CriuResp **resp)
{
	int ret = send_req(sk, req), fd;

	while (!ret) {
		ret = recv_resp(sk, resp, &fd);
		if (ret) {
			if (fd >= 0)
				close(fd);
			break;
		}
		if ((*resp)->type != CRIU_REQ_TYPE__NOTIFY)
			break;
		ret = answer_notify(o, sk, *resp, fd);
		criu_resp__free_unpacked(*resp, NULL);
		*resp = NULL;
	}
	if (ret)
		return ret;
	if ((*resp)->type != req->type) {
		ret = (*resp)->type == CRIU_REQ_TYPE__EMPTY && !(*resp)->success ? -EINVAL : -EBADMSG;
	} else if (!(*resp)->success) {
		errno = (*resp)->has_cr_errno ? (*resp)->cr_errno : 0;
		ret = -EBADE;
	}
	if (ret) {
		int err = errno;

		criu_resp__free_unpacked(*resp, NULL);
		*resp = NULL;
		errno = err;
	}
	return ret;
}

/* One request on a connection of its own. */
static int exchange(const criu_opts *o, enum criu_service_comm comm, CriuReq *req,
		    CriuResp **resp)
{
	struct conn c;
	int ret;

	*resp = NULL;
	ret = open_conn(o, comm, &c);
	if (!ret)
		ret = exchange_on(o, c.sk, req, resp);
	close_conn(comm, &c);
	return ret;
}

static int simple_request(criu_opts *o, CriuReqType type, bool with_opts)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	int ret;

	if (!o)
		return -ENOMEM;
	req.type = type;
	if (with_opts)
		req.opts = o->rpc;
	ret = exchange(o, o->comm, &req, &resp);
	if (!ret)
		criu_resp__free_unpacked(resp, NULL);
	return ret;
}

int criu_local_check(criu_opts *o)
{
	return simple_request(o, CRIU_REQ_TYPE__CHECK, false);
}

int criu_local_dump(criu_opts *o)
{
	return simple_request(o, CRIU_REQ_TYPE__DUMP, true);
}

int criu_local_pre_dump(criu_opts *o)
{
	return simple_request(o, CRIU_REQ_TYPE__PRE_DUMP, true);
}

static int restore(criu_opts *o, bool as_child)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	int ret;

	if (!o)
		return -ENOMEM;
	req.type = CRIU_REQ_TYPE__RESTORE;
	req.opts = o->rpc;
	o->rpc->has_rst_sibling = as_child;
	o->rpc->rst_sibling = as_child;
	/* the root becomes the child of the swrk's parent: only a swrk can do that */
	ret = exchange(o, as_child ? CRIU_COMM_BIN : o->comm, &req, &resp);
	o->rpc->has_rst_sibling = false;
	o->rpc->rst_sibling = false;
	if (ret)
		return ret;
	ret = resp->restore ? resp->restore->pid : -EBADMSG;
	criu_resp__free_unpacked(resp, NULL);
	return ret;
}

int criu_local_restore(criu_opts *o)
{
	return restore(o, false);
}

int criu_local_restore_child(criu_opts *o)
{
	return restore(o, true);
}

/*
 * Pre-dumps on one connection (keep_open) while more() asks for them, then
 * the dump.  A criu without PRE_DUMP answers the first with -EINVAL.
 */
int criu_local_dump_iters(criu_opts *o, int (*more)(criu_predump_info pi))
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	struct conn c;
	int ret, next;

	if (!o || !more)
		return -EINVAL;
	req.opts = o->rpc;
	req.has_keep_open = true;
	req.keep_open = true;
	ret = open_conn(o, o->comm, &c);
	for (next = 1; !ret && next > 0;) {
		req.type = CRIU_REQ_TYPE__PRE_DUMP;
		ret = exchange_on(o, c.sk, &req, &resp);
		if (ret)
			break;
		criu_resp__free_unpacked(resp, NULL);
		next = more(NULL);
		if (next < 0)
			ret = next;
	}
	if (!ret) {
		req.type = CRIU_REQ_TYPE__DUMP;
		req.keep_open = false;
		ret = exchange_on(o, c.sk, &req, &resp);
		if (!ret)
			criu_resp__free_unpacked(resp, NULL);
	}
	close_conn(o->comm, &c);
	return ret;
}

int criu_local_get_version(criu_opts *o)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	int ret;

	if (!o)
		return -ENOMEM;
	req.type = CRIU_REQ_TYPE__VERSION;
	ret = exchange(o, o->comm, &req, &resp);
	if (ret)
		return ret;
	if (!resp->version)
		ret = -EBADMSG;
	else
		ret = resp->version->major_number * 10000 + resp->version->minor_number * 100 +
		      (resp->version->has_sublevel ? resp->version->sublevel : 0);
	criu_resp__free_unpacked(resp, NULL);
	return ret;
}

int criu_local_check_version(criu_opts *o, int minimum)
{
	int version = criu_local_get_version(o);

	if (version < 0)
		return version;
	return version >= minimum;
}

/* Members of struct criu_feature_check, and whether the caller's struct has them. */
#define HAS_MEMBER(size, m) \
	((size) >= offsetof(struct criu_feature_check, m) + sizeof(((struct criu_feature_check *)0)->m))

int criu_local_feature_check(criu_opts *o, struct criu_feature_check *features, size_t size)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuFeatures ask = CRIU_FEATURES__INIT;
	CriuResp *resp;
	int ret;

	if (!o)
		return -ENOMEM;
	if (!features || size > sizeof(*features))
		return -EINVAL;
#define ASK(m)                                                \
	do {                                                  \
		if (HAS_MEMBER(size, m) && features->m) {     \
			ask.has_##m = true;                   \
			ask.m = true;                         \
		}                                             \
	} while (0)
	ASK(mem_track);
	ASK(lazy_pages);
	ASK(pidfd_store);
#undef ASK
	req.type = CRIU_REQ_TYPE__FEATURE_CHECK;
	req.features = &ask;
	ret = exchange(o, o->comm, &req, &resp);
	if (ret)
		return ret;
	if (!resp->features) {
		criu_resp__free_unpacked(resp, NULL);
		return -EBADMSG;
	}
#define ANSWER(m)                                                                             \
	do {                                                                                  \
		if (HAS_MEMBER(size, m) && features->m)                                       \
			features->m = resp->features->has_##m && resp->features->m;           \
	} while (0)
	ANSWER(mem_track);
	ANSWER(lazy_pages);
	ANSWER(pidfd_store);
#undef ANSWER
	/* the protocol has no compression to ask about: there is none */
	if (HAS_MEMBER(size, mem_compression))
		features->mem_compression = false;
	criu_resp__free_unpacked(resp, NULL);
	return 0;
}

/* ---- the global twins of the requests ------------------------------------ */

int criu_check(void)
{
	return criu_local_check(global());
}

int criu_dump(void)
{
	return criu_local_dump(global());
}

int criu_pre_dump(void)
{
	return criu_local_pre_dump(global());
}

int criu_restore(void)
{
	return criu_local_restore(global());
}

int criu_restore_child(void)
{
	return criu_local_restore_child(global());
}

int criu_dump_iters(int (*more)(criu_predump_info pi))
{
	return criu_local_dump_iters(global(), more);
}

int criu_get_version(void)
{
	return criu_local_get_version(global());
}

int criu_check_version(int minimum)
{
	return criu_local_check_version(global(), minimum);
}

int criu_feature_check(struct criu_feature_check *features, size_t size)
{
	return criu_local_feature_check(global(), features, size);
}
