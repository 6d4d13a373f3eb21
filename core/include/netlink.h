/*
 * A little netlink, for the kernel probes and the socket families: a
 * request with its attributes, sent on a socket of its own, the answer
 * read to its end.
 */
#ifndef CRIU_NETLINK_H
#define CRIU_NETLINK_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>

struct nl_req {
	struct nlmsghdr h;
	char buf[1024];
};

/* Appends attribute type (len bytes of data) to r; the attribute. */
struct rtattr *nl_add(struct nl_req *r, unsigned short type, const void *data, size_t len);
/* Closes the nested attribute nest opened by nl_add(r, type, NULL, 0). */
void nl_end(struct nl_req *r, struct rtattr *nest);
/*
 * Sends r (NLM_F_REQUEST added) on a new socket of proto and reads the
 * answer.  0 on an ack or a finished dump, -errno on an error; each other
 * message goes to fn (if any), whose non-zero return is the result.
 */
int nl_talk(int proto, struct nl_req *r, int (*fn)(struct nlmsghdr *h, void *arg), void *arg);

#endif
