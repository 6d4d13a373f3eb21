/*
 * What the kernel feature probes (core/kerndat*.c) share.  Each probe tries
 * the real thing on something of its own: its own memory and fds, a child
 * it forks, namespaces that child makes and that die with it.
 */
#ifndef CRIU_KERNDAT_PROBES_H
#define CRIU_KERNDAT_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "kerndat.h"

/* Records f as present, or missing for the printf-style reason. */
void kd_set(enum kd_feature f, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* waitpid(__WALL) with a bound in ms: 0, or -errno / -ETIMEDOUT. */
int kd_wait_bounded(pid_t pid, int *status, int ms);

/* One SOCK_DIAG_BY_FAMILY dump read to its end: 0, or -errno. */
int kd_sock_diag_dump(const void *req, size_t len);

/*
 * Runs fn in a child process, which dies when it returns (or after ms):
 * whatever it changed (namespaces, mounts, its own memory) goes with it.
 * fn returns true when the feature is there, else false with why filled in.
 */
bool kd_in_child(bool (*fn)(char *why, size_t len), char *why, size_t len, int ms);
/* kd_in_child with a 5 s bound, its answer recorded for f. */
void kd_probe_in_child(enum kd_feature f, bool (*fn)(char *why, size_t len));

/*
 * A child that runs setup (if any) and then sleeps, seized with the given
 * ptrace options and stopped by PTRACE_INTERRUPT: its pid, or -errno.
 * kd_end_child() kills and reaps it.
 */
pid_t kd_seized_child(long options, void (*setup)(void));
void kd_end_child(pid_t pid);

/* Reads /proc/self/fdinfo/FD into buf: 0 or -errno. */
int kd_read_fdinfo(int fd, char *buf, size_t size);

/* The probes of each file, for kerndat_probe_one(). */
void kerndat_probe_task(enum kd_feature f);
void kerndat_probe_net(enum kd_feature f);
void kerndat_probe_ns(enum kd_feature f);

/* Architecture-specific (arch/<arch>/kerndat.c): ARCH_MAP_VDSO and 32-bit C/R. */
bool arch_kerndat_can_map_vdso(char *why, size_t len);
bool arch_kerndat_compat_cr(char *why, size_t len);

#endif
