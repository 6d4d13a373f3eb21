/* PTRACE_GETREGSET/SETREGSET with the iovec the kernel sizes for us. */
#include <errno.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "compel-arch.h"

int compel_getregset(pid_t tid, unsigned int type, void *buf, size_t *len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = *len };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)(unsigned long)type, &iov))
		return -errno;
	*len = iov.iov_len;
	return 0;
}

int compel_setregset(pid_t tid, unsigned int type, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	if (ptrace(PTRACE_SETREGSET, tid, (void *)(unsigned long)type, &iov))
		return -errno;
	return 0;
}
