/* Established TCP connections through TCP_REPAIR: see sk-tcp.c. */
#ifndef CRIU_FILES_SK_TCP_H
#define CRIU_FILES_SK_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "proto/sk-opts.pb-c.h"
#include "proto/tcp-stream.pb-c.h"

struct restore_ctx;

/* dump: the connection of our duplicate tfd put in repair mode and read */
int tcp_dump_conn(int tfd, uint32_t ino, const char *who);
/* tcp-stream-<ino>.img of each connection dumped */
int tcp_dump_write(int dirfd);
/* before a tree that goes on is released: out of repair mode; after a
 * killed tree's kill: closed as they are (and the guard told either way) */
void tcp_dump_release(bool killed);

/* restore, in the task: the new socket sk (options set, not bound) made
 * the connection again, left in repair mode */
int tcp_restore_conn(struct restore_ctx *rc, int sk, uint32_t ino, const struct sockaddr *src,
		     const struct sockaddr *dst, socklen_t alen, const char *who);
/* restore, by criu once every task holds its files: fd of pid made live */
int tcp_restore_live(struct restore_ctx *rc, pid_t pid, int fd, uint32_t ino,
		     const TcpOptsEntry *t, const SkOptsEntry *o);

#endif
