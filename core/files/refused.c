/*
 * The kinds of open file the kernel can't give back, and every kind no
 * table entry knows: dump refuses them (from dump-check, while the tree is
 * only seized, so it keeps running), with one message naming the task, the
 * fd, the kind and the fd's path in /proc.
 *
 * io_uring: its rings, its registered files and buffers and the requests in
 * flight have no interface to be read back or made again; userfaultfd: its
 * registered ranges and the faults waiting on it; perf events: counters the
 * kernel attached to tasks and CPUs; bpf maps, programs and links: objects
 * criu could copy only in part (a map's data, not a program's attachments).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fdkind.h"
#include "log.h"

static const struct {
	const char *link; /* readlink of the fd, or its start when it ends in '*' */
	const char *what;
	const char *why;
} refused[] = {
	{ "anon_inode:[io_uring]", "an io_uring",
	  "its rings and the requests in flight can't be read back or made again" },
	{ "anon_inode:[userfaultfd]", "a userfaultfd",
	  "its registered ranges and the faults waiting on it can't be read back" },
	{ "anon_inode:[perf_event]", "a perf event",
	  "the counter the kernel attached can't be read back and attached again" },
	{ "anon_inode:bpf-map", "a bpf map",
	  "bpf objects are not dumped (their kernel state can't all be given back)" },
	{ "anon_inode:bpf-prog", "a bpf program",
	  "a loaded program and where it is attached can't be given back" },
	{ "anon_inode:bpf_link", "a bpf link",
	  "a bpf program's attachment can't be given back" },
	{ "anon_inode:bpf*", "a bpf object",
	  "bpf objects are not dumped (their kernel state can't all be given back)" },
	{ "anon_inode:btf", "a bpf type format object (btf)",
	  "bpf objects are not dumped (their kernel state can't all be given back)" },
	{ "anon_inode:kvm-*", "a KVM object", "a virtual machine's state is not dumped" },
};

static bool link_is(const char *link, const char *pat)
{
	size_t n = strlen(pat);

	if (n && pat[n - 1] == '*')
		return !strncmp(link, pat, n - 1);
	return !strcmp(link, pat);
}

static const char *kind_of(const struct fd_parms *p)
{
	mode_t m = p->st.st_mode;

	if (!strncmp(p->link, "anon_inode:", 11))
		return "an anonymous-inode file of a kind criu does not know";
	if (S_ISSOCK(m) || !strncmp(p->link, "socket:", 7))
		return "a socket of a kind criu does not dump";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISLNK(m))
		return "a symlink (O_PATH)";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device criu does not dump";
	return "a file of a kind criu does not know";
}

/*
 * For an fd no kind of the table matched: its one message, and
 * -EOPNOTSUPP.  who is "pid 12 (comm)".
 */
int fd_refuse(const struct fd_parms *p, const char *who)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (!link_is(p->link, refused[i].link))
			continue;
		pr_err("%s: fd %d is %s (%s, /proc/%d/fd/%d): %s, so it is not dumped\n", who, p->fd,
		       refused[i].what, p->link, p->pid, p->fd, refused[i].why);
		return -EOPNOTSUPP;
	}
	pr_err("%s: fd %d is %s (%s, /proc/%d/fd/%d): it is not dumped\n", who, p->fd, kind_of(p),
	       p->link, p->pid, p->fd);
	return -EOPNOTSUPP;
}
