/* libcriu: builds criu_req messages, sends them to criu, reads criu_resp back. */
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
#include "proto/rpc.pb-c.h"

#define DEFAULT_ADDRESS "/var/run/criu_service.socket"
#define MAX_RESP_SIZE (1 << 20)

static CriuOpts *rq_opts;
static char *service_address;
static char *service_binary;
static int service_fd = -1;
static enum criu_service_comm service_comm = CRIU_COMM_SK;

void criu_free_opts(void)
{
	if (!rq_opts)
		return;
	free(rq_opts->images_dir);
	free(rq_opts->log_file);
	free(rq_opts);
	rq_opts = NULL;
}

int criu_init_opts(void)
{
	criu_free_opts();
	rq_opts = malloc(sizeof(*rq_opts));
	if (!rq_opts)
		return -1;
	criu_opts__init(rq_opts);
	rq_opts->images_dir_fd = -1;
	return 0;
}

/* Setters called before criu_init_opts() still take effect. */
static CriuOpts *opts(void)
{
	if (!rq_opts)
		criu_init_opts();
	return rq_opts;
}

static void replace_string(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
}

void criu_set_service_address(const char *path)
{
	replace_string(&service_address, path);
}

void criu_set_service_fd(int fd)
{
	service_fd = fd;
}

void criu_set_service_binary(const char *path)
{
	replace_string(&service_binary, path);
}

void criu_set_service_comm(enum criu_service_comm comm)
{
	service_comm = comm;
}

#define SET_FLAG(fn, field)                      \
	void criu_set_##fn(bool value)           \
	{                                        \
		CriuOpts *o = opts();            \
		if (!o)                          \
			return;                  \
		o->has_##field = true;           \
		o->field = value;                \
	}

SET_FLAG(leave_running, leave_running)
SET_FLAG(ext_unix_sk, ext_unix_sk)
SET_FLAG(tcp_established, tcp_established)
SET_FLAG(evasive_devices, evasive_devices)
SET_FLAG(shell_job, shell_job)
SET_FLAG(file_locks, file_locks)

void criu_set_pid(int pid)
{
	if (!opts())
		return;
	rq_opts->has_pid = true;
	rq_opts->pid = pid;
}

void criu_set_images_dir_fd(int fd)
{
	if (opts())
		rq_opts->images_dir_fd = fd;
}

int criu_set_images_dir(const char *path)
{
	if (!opts())
		return -ENOMEM;
	replace_string(&rq_opts->images_dir, path);
	return path && !rq_opts->images_dir ? -ENOMEM : 0;
}

void criu_set_work_dir_fd(int fd)
{
	if (!opts())
		return;
	rq_opts->has_work_dir_fd = true;
	rq_opts->work_dir_fd = fd;
}

void criu_set_log_level(int log_level)
{
	if (!opts())
		return;
	rq_opts->has_log_level = true;
	rq_opts->log_level = log_level;
}

int criu_set_log_file(const char *log_file)
{
	if (!opts())
		return -ENOMEM;
	replace_string(&rq_opts->log_file, log_file);
	return log_file && !rq_opts->log_file ? -ENOMEM : 0;
}

void criu_set_cpu_cap(unsigned int cap)
{
	if (!opts())
		return;
	rq_opts->has_cpu_cap = true;
	rq_opts->cpu_cap = cap;
}

/* ---- talking to criu ------------------------------------------------------ */

struct conn {
	int sk;
	pid_t swrk; /* the criu swrk we started, or 0 */
};

static int connect_service(struct conn *c)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = service_address ? service_address : DEFAULT_ADDRESS;
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
		errno = err;
		return -ECONNREFUSED;
	}
	return 0;
}

static int start_swrk(struct conn *c)
{
	const char *bin = service_binary ? service_binary : "criu";
	int sks[2], err;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sks))
		return -ECONNREFUSED;
	c->swrk = fork();
	if (c->swrk < 0) {
		err = errno;
		close(sks[0]);
		close(sks[1]);
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

static int open_conn(struct conn *c, enum criu_service_comm comm)
{
	c->sk = -1;
	c->swrk = 0;
	switch (comm) {
	case CRIU_COMM_FD:
		c->sk = service_fd;
		return service_fd >= 0 ? 0 : (errno = EBADF, -ECONNREFUSED);
	case CRIU_COMM_BIN:
		return start_swrk(c);
	default:
		return connect_service(c);
	}
}

static void close_conn(struct conn *c, enum criu_service_comm comm)
{
	int err = errno;

	if (comm != CRIU_COMM_FD && c->sk >= 0)
		close(c->sk);
	if (c->swrk > 0)
		while (waitpid(c->swrk, NULL, 0) < 0 && errno == EINTR)
			;
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

static int recv_resp(int sk, CriuResp **resp)
{
	ssize_t len, n;
	uint8_t *buf;

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
	n = recv(sk, buf, (size_t)len, 0);
	*resp = n == len ? criu_resp__unpack(NULL, (size_t)len, buf) : NULL;
	free(buf);
	if (n != len)
		return -ECOMM;
	return *resp ? 0 : -EBADMSG;
}

/* Sends req and reads the answer: 0 with *resp set, or a negative error. */
static int exchange(CriuReq *req, CriuResp **resp, enum criu_service_comm comm)
{
	struct conn c;
	int ret;

	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;

	*resp = NULL;
	/* the swrk we start must stay ours to wait for, whatever the caller did to SIGCHLD */
	if (comm == CRIU_COMM_BIN)
		sigaction(SIGCHLD, &dfl, &old);
	ret = open_conn(&c, comm);
	if (!ret) {
		ret = send_req(c.sk, req);
		if (!ret)
			ret = recv_resp(c.sk, resp);
		close_conn(&c, comm);
	}
	if (comm == CRIU_COMM_BIN) {
		int err = errno;

		sigaction(SIGCHLD, &old, NULL);
		errno = err;
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

static int simple_request(CriuReqType type, bool with_opts)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	int ret;

	req.type = type;
	if (with_opts)
		req.opts = opts();
	ret = exchange(&req, &resp, service_comm);
	if (!ret)
		criu_resp__free_unpacked(resp, NULL);
	return ret;
}

int criu_check(void)
{
	return simple_request(CRIU_REQ_TYPE__CHECK, false);
}

int criu_dump(void)
{
	if (!opts())
		return -ENOMEM;
	return simple_request(CRIU_REQ_TYPE__DUMP, true);
}

static int restore(enum criu_service_comm comm, bool as_child)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	int ret;

	if (!opts())
		return -ENOMEM;
	req.type = CRIU_REQ_TYPE__RESTORE;
	req.opts = rq_opts;
	rq_opts->has_rst_sibling = as_child;
	rq_opts->rst_sibling = as_child;
	ret = exchange(&req, &resp, comm);
	rq_opts->has_rst_sibling = false;
	rq_opts->rst_sibling = false;
	if (ret)
		return ret;
	ret = resp->restore ? resp->restore->pid : -EBADMSG;
	criu_resp__free_unpacked(resp, NULL);
	return ret;
}

int criu_restore(void)
{
	return restore(service_comm, false);
}

int criu_restore_child(void)
{
	return restore(CRIU_COMM_BIN, true);
}

int criu_get_version(void)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	int ret;

	req.type = CRIU_REQ_TYPE__VERSION;
	ret = exchange(&req, &resp, service_comm);
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
