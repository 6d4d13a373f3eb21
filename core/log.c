#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsafe.h"
#include "log.h"

static int log_level = DEFAULT_LOGLEVEL;
static int log_fd = STDERR_FILENO;
static int log_dirfd = AT_FDCWD;
static char log_path[4096];
static struct timespec log_start;
/* for RPC answers: the last error logged and the errno a failure stands for */
static char first_error[1024], last_error[1024];
static int cr_errno;

static int log_open(const char *path)
{
	int fd = fs_create_path(log_dirfd, path, O_WRONLY | O_TRUNC | O_APPEND, 0600);

	if (fd < 0) {
		fprintf(stderr, "Error: can't create log file %s: %s\n", path, fs_strerror(errno));
		return -1;
	}
	return fd;
}

int log_init(int dirfd, const char *path, int level, int log_pid)
{
	log_level = level;
	clock_gettime(CLOCK_MONOTONIC, &log_start);
	log_close();
	if (!path || !strcmp(path, "-"))
		return 0;
	log_dirfd = dirfd;
	snprintf(log_path, sizeof(log_path), "%s", path);
	if (log_pid)
		return log_reopen_for_pid(getpid());
	log_fd = log_open(path);
	return log_fd < 0 ? -1 : 0;
}

int log_reopen_for_pid(int pid)
{
	char name[sizeof(log_path) + 16];
	int fd;

	if (!log_path[0])
		return 0;
	snprintf(name, sizeof(name), "%s.%d", log_path, pid);
	fd = log_open(name);
	if (fd < 0)
		return -1;
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	return 0;
}

void log_close(void)
{
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
}

void log_set_level(int level)
{
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

void log_printf(int level, const char *file, int line, const char *fmt, ...)
{
	char buf[4096];
	int n = 0, saved_errno = errno;
	va_list args;
	int fd = log_fd;

	if (level == LOG_STEP)
		level = (log_fd != STDERR_FILENO && log_level >= LOG_ERROR) ? LOG_WARN : LOG_INFO;
	if (level == LOG_ERROR) {
		size_t len;

		va_start(args, fmt);
		vsnprintf(last_error, sizeof(last_error), fmt, args);
		va_end(args);
		errno = saved_errno;
		if (!strncmp(last_error, "Error: ", 7))
			memmove(last_error, last_error + 7, strlen(last_error + 7) + 1);
		len = strlen(last_error);
		while (len && last_error[len - 1] == '\n')
			last_error[--len] = '\0';
		if (!first_error[0])
			memcpy(first_error, last_error, len + 1);
	}
	if (level > log_level || log_fd < 0)
		return;
	/* Results the user asked for go to stdout, whatever the log file. */
	if (level == LOG_MSG)
		fd = STDOUT_FILENO;
	if (log_level >= LOG_INFO && level != LOG_MSG) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_nsec < log_start.tv_nsec) {
			now.tv_sec--;
			now.tv_nsec += 1000000000;
		}
		n = snprintf(buf, sizeof(buf), "(%02ld.%06ld) ", (long)(now.tv_sec - log_start.tv_sec),
			     (now.tv_nsec - log_start.tv_nsec) / 1000);
	}
	if (file && level <= LOG_WARN) {
		const char *base = strrchr(file, '/');

		n += snprintf(buf + n, sizeof(buf) - n, "%s:%d: ", base ? base + 1 : file, line);
	}
	errno = saved_errno;
	va_start(args, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, args);
	va_end(args);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	for (int off = 0; off < n;) {
		ssize_t w = write(fd, buf + off, n - off);

		if (w <= 0)
			break;
		off += w;
	}
	/* errors also reach the terminal when the log goes to a file */
	if (level == LOG_ERROR && fd != STDERR_FILENO && fd != STDOUT_FILENO) {
		for (int off = 0; off < n;) {
			ssize_t w = write(STDERR_FILENO, buf + off, n - off);

			if (w <= 0)
				break;
			off += w;
		}
	}
	errno = saved_errno;
}

void log_close_fd_only(void)
{
	/* The fd number may be reused by the caller: never write to it again. */
	log_fd = -1;
}

int log_get_fd(void)
{
	return log_fd;
}

void log_peak_rss(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return;
	/* VmHWM: this process's own peak, not what a fork carried over */
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			pr_info("peak RSS %s", line + 6 + strspn(line + 6, " \t"));
	fclose(f);
}

const char *log_last_error(void)
{
	return last_error[0] ? last_error : NULL;
}

const char *log_first_error(void)
{
	return first_error[0] ? first_error : NULL;
}

void log_reset_last_error(void)
{
	first_error[0] = '\0';
	last_error[0] = '\0';
	cr_errno = 0;
}

void set_cr_errno(int err)
{
	/* the first cause counts, not the cleanup errors that follow it */
	if (!cr_errno)
		cr_errno = err;
}

int get_cr_errno(void)
{
	return cr_errno;
}
