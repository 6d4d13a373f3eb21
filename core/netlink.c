/* A little netlink: see core/include/netlink.h. */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "netlink.h"

struct rtattr *nl_add(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)&r->h + NLMSG_ALIGN(r->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

void nl_end(struct nl_req *r, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)&r->h + r->h.nlmsg_len - (char *)nest);
}

/*
 * Sends r on a new socket of proto and reads the answer.  0 on an ack or a
 * finished dump, -errno on an error; each other message goes to fn (if any),
 * whose non-zero return is the result.
 */
int nl_talk(int proto, struct nl_req *r, int (*fn)(struct nlmsghdr *h, void *arg), void *arg)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { 2, 0 };
	char buf[16384];
	int sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto), ret = -EIO;

	if (sk < 0)
		return -errno;
	setsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r->h.nlmsg_flags |= NLM_F_REQUEST;
	r->h.nlmsg_seq = 1;
	if (sendto(sk, &r->h, r->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	for (int rounds = 0; rounds < 100000; rounds++) {
		ssize_t n = recv(sk, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0) {
			ret = -errno;
			goto out;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				ret = 0;
				goto out;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				ret = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				goto out;
			}
			if (fn && (ret = fn(h, arg)))
				goto out;
			if (!(r->h.nlmsg_flags & NLM_F_DUMP) && !(r->h.nlmsg_flags & NLM_F_ACK)) {
				ret = 0;
				goto out;
			}
		}
	}
out:
	close(sk);
	return ret;
}
