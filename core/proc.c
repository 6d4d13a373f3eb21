/* Parsers of /proc/PID files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

char *proc_read_file(const char *path, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			int e = errno;

			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (!r)
			break;
		n += r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static void task_path(char *buf, size_t size, pid_t pid, pid_t tid, const char *file)
{
	if (tid && tid != pid)
		snprintf(buf, size, "/proc/%d/task/%d/%s", pid, tid, file);
	else
		snprintf(buf, size, "/proc/%d/%s", pid, file);
}

int proc_read_stat(pid_t pid, pid_t tid, struct proc_stat *st)
{
	char path[96], *buf, *p, *end;
	unsigned long f[60];
	int nf = 0;

	task_path(path, sizeof(path), pid, tid, "stat");
	buf = proc_read_file(path, NULL);
	if (!buf)
		return -errno;
	memset(st, 0, sizeof(*st));
	st->pid = tid ? tid : pid;
	p = strchr(buf, '(');
	end = strrchr(buf, ')');
	if (!p || !end || end < p) {
		free(buf);
		return -EINVAL;
	}
	snprintf(st->comm, sizeof(st->comm), "%.*s", (int)(end - p - 1), p + 1);
	p = end + 2;
	st->state = *p;
	p += 2;
	/* fields from 4 (ppid) on */
	while (nf < 60 && *p) {
		f[nf++] = strtoul(p, &end, 10);
		if (end == p)
			break;
		p = end;
		while (*p == ' ')
			p++;
	}
	free(buf);
	if (nf < 49)
		return -EINVAL;
	/* field n of proc(5) is f[n - 4] */
	st->ppid = (pid_t)f[0];
	st->pgid = (pid_t)f[1];
	st->sid = (pid_t)f[2];
	st->tty_nr = (unsigned int)f[3];
	st->flags = (unsigned int)f[5];
	st->nice = (long)f[15];
	st->start_code = f[22];
	st->end_code = f[23];
	st->start_stack = f[24];
	st->exit_signal = (unsigned int)f[34];
	st->start_data = f[41];
	st->end_data = f[42];
	st->start_brk = f[43];
	st->arg_start = f[44];
	st->arg_end = f[45];
	st->env_start = f[46];
	st->env_end = f[47];
	st->exit_code = (int)f[48];
	return 0;
}

static uint64_t hex64(const char *s)
{
	return strtoull(s, NULL, 16);
}

int proc_read_status(pid_t pid, pid_t tid, struct proc_status *st)
{
	char path[96], *buf, *line;

	task_path(path, sizeof(path), pid, tid, "status");
	buf = proc_read_file(path, NULL);
	if (!buf)
		return -errno;
	memset(st, 0, sizeof(*st));
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *v = strchr(line, ':');

		if (!v)
			continue;
		*v++ = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		if (!strcmp(line, "Uid"))
			sscanf(v, "%u %u %u %u", &st->uid[0], &st->uid[1], &st->uid[2], &st->uid[3]);
		else if (!strcmp(line, "Gid"))
			sscanf(v, "%u %u %u %u", &st->gid[0], &st->gid[1], &st->gid[2], &st->gid[3]);
		else if (!strcmp(line, "Groups")) {
			char *e;

			while (st->ngroups < 64) {
				unsigned long g = strtoul(v, &e, 10);

				if (e == v)
					break;
				st->groups[st->ngroups++] = (unsigned int)g;
				v = e;
			}
		} else if (!strcmp(line, "CapInh"))
			st->cap_inh = hex64(v);
		else if (!strcmp(line, "CapPrm"))
			st->cap_prm = hex64(v);
		else if (!strcmp(line, "CapEff"))
			st->cap_eff = hex64(v);
		else if (!strcmp(line, "CapBnd"))
			st->cap_bnd = hex64(v);
		else if (!strcmp(line, "CapAmb"))
			st->cap_amb = hex64(v);
		else if (!strcmp(line, "SigBlk"))
			st->sig_blk = hex64(v);
		else if (!strcmp(line, "SigPnd"))
			st->sig_pnd = hex64(v);
		else if (!strcmp(line, "ShdPnd"))
			st->shd_pnd = hex64(v);
		else if (!strcmp(line, "Umask"))
			st->umask = (unsigned int)strtoul(v, NULL, 8);
		else if (!strcmp(line, "NoNewPrivs"))
			st->no_new_privs = atoi(v);
		else if (!strcmp(line, "Seccomp"))
			st->seccomp = atoi(v);
		else if (!strcmp(line, "Threads"))
			st->threads = atoi(v);
		else if (!strcmp(line, "TracerPid"))
			st->tracer = atoi(v);
	}
	free(buf);
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

static int push(pid_t **arr, int *n, int *cap, pid_t v)
{
	if (*n == *cap) {
		pid_t *na = realloc(*arr, (*cap = *cap ? *cap * 2 : 16) * sizeof(pid_t));

		if (!na)
			return -ENOMEM;
		*arr = na;
	}
	(*arr)[(*n)++] = v;
	return 0;
}

int proc_list_threads(pid_t pid, pid_t **tids, int *n)
{
	char path[64];
	struct dirent *de;
	int cap = 0;
	DIR *d;

	*tids = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t t = atoi(de->d_name);

		if (t > 0 && push(tids, n, &cap, t)) {
			closedir(d);
			return -ENOMEM;
		}
	}
	closedir(d);
	qsort(*tids, *n, sizeof(pid_t), cmp_pid);
	/* leader first */
	for (int i = 0; i < *n; i++)
		if ((*tids)[i] == pid) {
			memmove(*tids + 1, *tids, i * sizeof(pid_t));
			(*tids)[0] = pid;
			break;
		}
	return 0;
}

int proc_list_children(pid_t pid, pid_t **kids, int *n)
{
	pid_t *tids;
	int nt, ret, cap = 0;

	*kids = NULL;
	*n = 0;
	ret = proc_list_threads(pid, &tids, &nt);
	if (ret)
		return ret;
	for (int i = 0; i < nt; i++) {
		char path[96], *buf, *p, *e;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, tids[i]);
		buf = proc_read_file(path, NULL);
		if (!buf)
			continue; /* the thread is gone */
		for (p = buf;; p = e) {
			long k = strtol(p, &e, 10);

			if (e == p)
				break;
			if (push(kids, n, &cap, (pid_t)k)) {
				free(buf);
				free(tids);
				return -ENOMEM;
			}
		}
		free(buf);
	}
	free(tids);
	if (*n)
		qsort(*kids, *n, sizeof(pid_t), cmp_pid);
	return 0;
}

static uint64_t parse_vmflags(const char *s)
{
	static const struct {
		char name[3];
		uint64_t bit;
	} flags[] = {
		{ "dc", PROC_VMF_DONTFORK },	{ "wf", PROC_VMF_WIPEONFORK },
		{ "hg", PROC_VMF_HUGEPAGE },	{ "nh", PROC_VMF_NOHUGEPAGE },
		{ "gd", PROC_VMF_GROWSDOWN },	{ "sr", PROC_VMF_SEQ_READ },
		{ "rr", PROC_VMF_RAND_READ },	{ "dd", PROC_VMF_DONTDUMP },
		{ "mg", PROC_VMF_MERGEABLE },	{ "lo", PROC_VMF_LOCKED },
		{ "nr", PROC_VMF_NORESERVE },	{ "ss", PROC_VMF_SHADOW_STACK },
		{ "mt", PROC_VMF_MTE },		{ "sl", PROC_VMF_SEALED },
	};
	uint64_t v = 0;

	while (*s) {
		while (*s == ' ')
			s++;
		if (!s[0] || !s[1])
			break;
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (s[0] == flags[i].name[0] && s[1] == flags[i].name[1])
				v |= flags[i].bit;
		s += 2;
	}
	return v;
}

void proc_free_vmas(struct proc_vma *vmas, int n)
{
	for (int i = 0; i < n; i++)
		free(vmas[i].path);
	free(vmas);
}

/* /proc/PID/smaps: the maps lines, each followed by key: value lines. */
int proc_read_vmas(pid_t pid, struct proc_vma **out, int *nout)
{
	char path[64], *buf, *line, *save;
	struct proc_vma *v = NULL;
	int n = 0, cap = 0;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	buf = proc_read_file(path, NULL);
	if (!buf)
		return -errno;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long s, e, off, ino;
		unsigned int ma, mi;
		char perms[8];
		int pos = 0;

		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &s, &e, perms, &off, &ma, &mi, &ino,
			   &pos) >= 7 &&
		    pos) {
			struct proc_vma *x;

			if (n == cap) {
				struct proc_vma *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));

				if (!nv)
					goto nomem;
				v = nv;
			}
			x = &v[n++];
			memset(x, 0, sizeof(*x));
			x->start = s;
			x->end = e;
			x->pgoff = off;
			x->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
				  (perms[2] == 'x' ? PROT_EXEC : 0);
			x->shared = perms[3] == 's';
			x->dev_major = ma;
			x->dev_minor = mi;
			x->ino = ino;
			x->path = strdup(line + pos);
			if (!x->path)
				goto nomem;
		} else if (n && !strncmp(line, "VmFlags:", 8)) {
			v[n - 1].vmflags = parse_vmflags(line + 8);
		}
	}
	free(buf);
	*out = v;
	*nout = n;
	return 0;
nomem:
	free(buf);
	proc_free_vmas(v, n);
	return -ENOMEM;
}
