/*
 * criu exec -t PID SYSCALL [ARG...]: run one system call in another task's
 * context (criu(8), "SYSCALLS EXECUTION").  An ARG starting with '&' is a
 * string copied into the task (into a mapping made for it and removed
 * afterwards) and passed as a pointer; any other ARG is a number.
 *
 * Prints the result as a number, or "-errno (ENAME: message)".  Exits 0
 * when the syscall ran, whatever it returned; 1 when it could not be run.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "commands.h"
#include "compel.h"
#include "log.h"
#include "options.h"
#include "syscall-table.h"

#define MAX_SYSCALL_ARGS 6

struct exec_call {
	const struct syscall_info *sc;
	int nargs;
	unsigned long args[MAX_SYSCALL_ARGS];
	size_t strings_size; /* bytes of the '&' strings, NULs included */
};

/* strtol base 0, whole word; unsigned values up to ULONG_MAX too (masks,
 * addresses). */
static int parse_number(const char *word, unsigned long *out)
{
	char *end;
	long v;

	if (!*word)
		return -EINVAL;
	errno = 0;
	v = strtol(word, &end, 0);
	if (!*end && errno == ERANGE && word[0] != '-') {
		errno = 0;
		*out = strtoul(word, &end, 0);
		return *end || errno ? -EINVAL : 0;
	}
	if (*end || errno)
		return -EINVAL;
	*out = (unsigned long)v;
	return 0;
}

static int parse_call(struct exec_call *call)
{
	const char *name = opts.args[0];

	call->sc = syscall_lookup(name);
	if (!call->sc) {
		pr_err("unknown syscall '%s' (on %s)\n", name, CRIU_ARCH);
		return -EINVAL;
	}
	call->nargs = opts.nargs - 1;
	if (call->nargs > call->sc->nargs) {
		pr_err("%s takes %d argument%s, %d given\n", name, call->sc->nargs,
		       call->sc->nargs == 1 ? "" : "s", call->nargs);
		return -EINVAL;
	}
	for (int i = 0; i < call->nargs; i++) {
		const char *word = opts.args[i + 1];

		if (word[0] == '&') {
			call->strings_size += strlen(word + 1) + 1;
			continue;
		}
		if (parse_number(word, &call->args[i])) {
			pr_err("argument %d of %s: '%s' is not a number (a string starts with &)\n",
			       i + 1, name, word);
			return -EINVAL;
		}
	}
	return 0;
}

/* The strings go into one private mapping in the task; *area is its address. */
static int copy_strings(struct infect_ctx *ctx, struct exec_call *call, unsigned long *area,
			size_t *area_len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), off = 0;
	int ret;

	*area_len = (call->strings_size + page - 1) & ~(page - 1);
	ret = compel_remote_mmap(ctx, 0, *area_len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, area);
	if (ret)
		return ret;
	for (int i = 0; i < call->nargs && !ret; i++) {
		const char *s = opts.args[i + 1];

		if (s[0] != '&')
			continue;
		ret = compel_write_mem(ctx, *area + off, s + 1, strlen(s + 1) + 1);
		call->args[i] = *area + off;
		off += strlen(s + 1) + 1;
	}
	return ret;
}

/* *ran: the syscall ran (its result in *result); then 0 unless cure failed. */
static int run_call(struct exec_call *call, long *result, bool *ran)
{
	struct infect_ctx *ctx;
	unsigned long area = 0;
	size_t area_len = 0;
	int ret, cured;

	ret = compel_infect(opts.pid, 0, &ctx);
	if (ret)
		return ret;
	if (opts.timeout > 0)
		compel_set_timeout(ctx, opts.timeout * 1000);
	if (call->strings_size)
		ret = copy_strings(ctx, call, &area, &area_len);
	if (!ret) {
		ret = compel_syscall(ctx, call->sc->nr, call->args, call->sc->nargs, result);
		*ran = !ret;
		if (ret)
			pr_err("can't run %s in pid %d: %s\n", call->sc->name, opts.pid,
			       strerror(-ret));
	}
	if (area && !ctx->dead)
		compel_remote_munmap(ctx, area, area_len);
	cured = compel_cure(ctx, COMPEL_LEAVE_AS_FOUND);
	return ret ? ret : cured;
}

static void print_result(long result)
{
	if (result < 0 && result >= -4095) {
		const char *name = strerrorname_np((int)-result);

		pr_msg("%ld (%s: %s)\n", result, name ? name : "?", strerror((int)-result));
		return;
	}
	pr_msg("%ld\n", result);
}

int cmd_exec(void)
{
	struct exec_call call = { 0 };
	long result = 0;
	bool ran = false;
	int ret;

	if (opts.nargs < 1) {
		pr_err("exec needs a syscall name: criu exec -t PID SYSCALL [ARG...]\n");
		return 1;
	}
	if (opts.pid <= 0) {
		pr_err("exec needs -t PID\n");
		return 1;
	}
	if (parse_call(&call))
		return 1;
	ret = run_call(&call, &result, &ran);
	if (ran)
		print_result(result);
	return ret ? 1 : 0;
}
