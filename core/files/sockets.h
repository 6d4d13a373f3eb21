/* What the socket families share: see core/files/sockets.c. */
#ifndef CRIU_FILES_SOCKETS_H
#define CRIU_FILES_SOCKETS_H

#include <linux/netlink.h>
#include <stddef.h>

#include "proto/sk-opts.pb-c.h"

/*
 * One SOCK_DIAG_BY_FAMILY dump (req: the family's request, len bytes) of
 * criu's network namespace; fn gets each answer, its non-zero return ends
 * the dump as the result.  0 or -errno.
 */
int sk_diag_dump(const void *req, size_t len, int (*fn)(struct nlmsghdr *h, void *arg), void *arg);

/* 1 when socket sk belongs to another network namespace than criu's, 0
 * when to criu's (or the kernel can't tell: no SIOCGSKNS), else -errno */
int sk_netns_other(int sk);

/* The options of sk_opts_entry from socket sk (dev: room for the bound
 * device's name, which o points into); who names it in messages. */
int sk_opts_dump(int sk, SkOptsEntry *o, char *dev, size_t devlen, const char *who);
int sk_opts_restore(int sk, const SkOptsEntry *o, const char *who);

#endif
