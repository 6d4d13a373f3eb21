/*
 * Shared by the e2e test programs.  Each program is started as
 *   prog --pidfile F --outfile O
 * sets up its state, calls test_ready() (which writes F), test_wait() (until
 * SIGTERM), checks its state with fail() for each difference, and ends with
 * test_done(), which writes "PASS" or "FAIL: ..." to O.
 *   prog --describe          prints "doc:", "needs-root:" and maybe "skip:" and
 *                            "criu-opts:" (for both dump and restore)
 *   --self-test-break        corrupts the recorded pid, so the test must FAIL
 * See tests/e2e/cr-run.py for the runner.
 */
#ifndef E2E_LIB_H
#define E2E_LIB_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define TEST_NEEDS_ROOT 1u

struct test_desc {
	const char *doc;
	unsigned flags;
	/* why this machine cannot run the test (e.g. a CPU feature), or NULL */
	const char *(*skip)(void);
	/* options the runners give both dump and restore ("--file-locks"), or NULL */
	const char *criu_opts;
};

/* Each program states what it checks: TEST("doc", .flags = TEST_NEEDS_ROOT) */
#define TEST(doc_, ...) const struct test_desc test_desc = { .doc = doc_, __VA_ARGS__ }
extern const struct test_desc test_desc;

extern const char *test_name;
/* set by the SIGTERM handler; busy loops poll it after test_unblock_stop() */
extern volatile int test_stop;

void test_init(int argc, char **argv);
/* records the pid and writes the pidfile: everything must be set up by now */
void test_ready(void);
/* sleeps in sigsuspend until SIGTERM */
void test_wait(void);
/* lets SIGTERM in outside sigsuspend, for programs that run code meanwhile */
void test_unblock_stop(void);
/* records one difference; the first ones end up in the verdict */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int test_failed(void);
/* checks the pid/tid, writes the verdict, exits 0 (PASS) or 1 (FAIL) */
_Noreturn void test_done(void);
/* setup could not be done: writes "FAIL: setup: ..." and exits 1 */
_Noreturn void setup_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Children: test_fork() runs fn in a child that records its own pid and
 * exits 0 when fn returns 0 and nothing failed (failures go to stderr).
 * The child calls child_wait() to sleep until its parent calls
 * check_child(), which sends SIGTERM and expects exit status 0.
 */
pid_t test_fork(int (*fn)(void *arg), void *arg);
/* tells test_fork() in the parent that this child is set up (child_wait does it too) */
void child_ready(void);
void child_wait(void);
void check_child(pid_t pid, const char *what);
/* bounded waitpid: 0 when the child ended (status set), -1 otherwise */
int wait_child(pid_t pid, int *status, int timeout_ms);

/* Threads sleep in thread_wait() until the main thread calls wake_threads();
 * it checks that the thread kept its tid. */
void thread_wait(void);
void wake_threads(void);
pid_t test_gettid(void);
/* this thread's TLS base: fs base, tpidr_el0, r13, a0:a1 */
unsigned long test_thread_pointer(void);

/* the children of every thread of pid, from /proc; their number or -1 */
int proc_children(pid_t pid, pid_t *out, int max);
/* fails unless the children of this process are exactly want[0..n) */
void check_children(const pid_t *want, int n);

/* Helpers */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
int read_text(const char *path, char *buf, size_t size);
/* the value of "Key:" in /proc/self/task/TID/status (tid 0: the process) */
int status_field(pid_t tid, const char *key, char *out, size_t size);
/* the /proc/self/maps line of the mapping holding addr */
int maps_line(const void *addr, char *line, size_t size);
/* "rw-p" etc. of the mapping holding addr */
int maps_perms(const void *addr, char perms[5]);
/* VmFlags of the mapping holding addr, from /proc/self/smaps */
int vma_flags(const void *addr, char *flags, size_t size);
int has_vma_flag(const void *addr, const char *flag);
/* a "Field:" of the mapping holding addr in /proc/self/smaps, in kB, or -1 */
long smaps_kb(const void *addr, const char *field);
void fill_pattern(void *p, size_t len, uint64_t seed);
/* offset of the first byte that differs from the pattern, or -1 */
long check_pattern(const void *p, size_t len, uint64_t seed);
uint64_t now_ns(int clock);
void sleep_ms(int ms);
/* the "tfd:" lines of epoll ep's fdinfo (fd number, events, data; not the
 * file's pos, inode and device, new after restore), sorted: the kernel lists
 * them in an order of its own */
int epoll_targets(int ep, char *out, size_t size);
/* writes all of buf to path (creating it, mode 0644) */
int write_file(const char *path, const void *buf, size_t len);

#endif
