/*
 * libcriu: the C client of criu's RPC protocol (criu swrk / criu service).
 *
 * Options are kept in one set per process (criu_init_opts() resets them);
 * the library is neither thread- nor fork-safe.  How to reach criu:
 *   CRIU_COMM_SK   connect to the service socket (criu_set_service_address,
 *                  default /var/run/criu_service.socket); the default
 *   CRIU_COMM_FD   use an already connected socket (criu_set_service_fd)
 *   CRIU_COMM_BIN  fork and exec `criu swrk` (criu_set_service_binary,
 *                  default "criu" from PATH) over a socketpair
 * criu_restore_child() always uses CRIU_COMM_BIN.
 *
 * Return values: 0 (or a pid for the restores) on success; -EBADE when criu
 * answered with a failure (errno is then criu's cr_errno, or 0); -ECONNREFUSED
 * when criu could not be reached; -ECOMM when a request or answer could not
 * be sent or read; -EINVAL when criu does not support the request;
 * -EBADMSG when its answer makes no sense.
 */
#ifndef CRIU_LIBCRIU_H
#define CRIU_LIBCRIU_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

enum criu_service_comm { CRIU_COMM_SK, CRIU_COMM_FD, CRIU_COMM_BIN };

/* --cpu-cap bits for criu_set_cpu_cap() */
#define CRIU_CPU_CAP_NONE 0u
#define CRIU_CPU_CAP_FPU (1u << 0)
#define CRIU_CPU_CAP_CPU (1u << 1)
#define CRIU_CPU_CAP_INS (1u << 2)
#define CRIU_CPU_CAP_ALL 0xffffffffu

int criu_init_opts(void);
void criu_free_opts(void);

void criu_set_service_address(const char *path);
void criu_set_service_fd(int fd);
void criu_set_service_binary(const char *path);
void criu_set_service_comm(enum criu_service_comm comm);

void criu_set_pid(int pid);
void criu_set_images_dir_fd(int fd);
int criu_set_images_dir(const char *path);
void criu_set_work_dir_fd(int fd);
void criu_set_leave_running(bool leave_running);
void criu_set_ext_unix_sk(bool ext_unix_sk);
void criu_set_tcp_established(bool tcp_established);
void criu_set_evasive_devices(bool evasive_devices);
void criu_set_shell_job(bool shell_job);
void criu_set_file_locks(bool file_locks);
void criu_set_log_level(int log_level);
int criu_set_log_file(const char *log_file);
void criu_set_cpu_cap(unsigned int cap);

int criu_check(void);
int criu_dump(void);
/* the pid of the restored root, or a negative error */
int criu_restore(void);
/* the same, the root being the caller's child */
int criu_restore_child(void);
/* major * 10000 + minor * 100 + sublevel, or a negative error */
int criu_get_version(void);

#ifdef __cplusplus
}
#endif

#endif
