/* Ids of shared kernel objects and namespaces: see core/include/kobj-ids.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kobj-ids.h"
#include "log.h"
#include "proc.h"

/* kcmp(2) types */
#define KCMP_VM 1
#define KCMP_FILES 2
#define KCMP_FS 3
#define KCMP_SIGHAND 4

enum { KOBJ_VM, KOBJ_FILES, KOBJ_FS, KOBJ_SIGHAND, NR_KOBJ };

static const int kcmp_type[NR_KOBJ] = { KCMP_VM, KCMP_FILES, KCMP_FS, KCMP_SIGHAND };

/* one task holding each object seen, with the object's id */
struct kobj_seen {
	pid_t pid;
	uint32_t id;
};

static struct kobj_seen *kobjs[NR_KOBJ];
static size_t nr_kobjs[NR_KOBJ];

/* namespaces, in upstream's order of numbering */
enum { NS_PID, NS_NET, NS_IPC, NS_UTS, NS_TIME, NS_MNT, NS_USER, NS_CGROUP, NR_NS };

static const char *const ns_name[NR_NS] = { "pid", "net", "ipc", "uts",
					    "time", "mnt", "user", "cgroup" };

struct ns_seen {
	int type;
	ino_t ino;
	uint32_t id;
};

static struct ns_seen *nss;
static size_t nr_nss;
static uint32_t next_ns_id = 1;
static unsigned int next_pages_id = 1;
/* cgroup sets: /proc/PID/cgroup of a task in each, numbered from 1 (criu's) */
static char **cg_sets;
static size_t nr_cg_sets;
static TaskKobjIdsEntry root_ids = TASK_KOBJ_IDS_ENTRY__INIT;

static int kobj_id(int kind, pid_t pid, uint32_t *id)
{
	struct kobj_seen *n;

	for (size_t i = 0; i < nr_kobjs[kind]; i++) {
		struct kobj_seen *s = &kobjs[kind][i];
		long r = s->pid == pid ? 0
				       : syscall(SYS_kcmp, s->pid, pid, kcmp_type[kind], 0, 0);

		if (r < 0) {
			pr_perror("kcmp of pids %d and %d failed", s->pid, pid);
			return -errno;
		}
		if (r == 0) {
			*id = s->id;
			return 0;
		}
	}
	n = realloc(kobjs[kind], (nr_kobjs[kind] + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	kobjs[kind] = n;
	*id = (uint32_t)nr_kobjs[kind] + 1;
	n[nr_kobjs[kind]++] = (struct kobj_seen){ pid, *id };
	return 0;
}

/* The id of namespace type of pid; 0 when this kernel has no such type. */
static int ns_id(int type, pid_t pid, uint32_t *id)
{
	char path[64];
	struct stat st;
	struct ns_seen *n;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns_name[type]);
	if (stat(path, &st)) {
		if (errno == ENOENT) {
			*id = 0;
			return 0;
		}
		pr_perror("can't stat %s", path);
		return -errno;
	}
	for (size_t i = 0; i < nr_nss; i++)
		if (nss[i].type == type && nss[i].ino == st.st_ino) {
			*id = nss[i].id;
			return 0;
		}
	n = realloc(nss, (nr_nss + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	nss = n;
	*id = next_ns_id++;
	n[nr_nss++] = (struct ns_seen){ type, st.st_ino, *id };
	return 0;
}

static int fill_ids(pid_t pid, TaskKobjIdsEntry *e)
{
	uint32_t *kobj[NR_KOBJ] = { &e->vm_id, &e->files_id, &e->fs_id, &e->sighand_id };
	struct {
		uint32_t *id;
		protobuf_c_boolean *has;
	} ns[NR_NS] = {
		[NS_PID] = { &e->pid_ns_id, &e->has_pid_ns_id },
		[NS_NET] = { &e->net_ns_id, &e->has_net_ns_id },
		[NS_IPC] = { &e->ipc_ns_id, &e->has_ipc_ns_id },
		[NS_UTS] = { &e->uts_ns_id, &e->has_uts_ns_id },
		[NS_TIME] = { &e->time_ns_id, &e->has_time_ns_id },
		[NS_MNT] = { &e->mnt_ns_id, &e->has_mnt_ns_id },
		[NS_USER] = { &e->user_ns_id, &e->has_user_ns_id },
		[NS_CGROUP] = { &e->cgroup_ns_id, &e->has_cgroup_ns_id },
	};
	int ret;

	task_kobj_ids_entry__init(e);
	for (int k = 0; k < NR_KOBJ; k++) {
		ret = kobj_id(k, pid, kobj[k]);
		if (ret)
			return ret;
	}
	for (int t = 0; t < NR_NS; t++) {
		ret = ns_id(t, pid, ns[t].id);
		if (ret)
			return ret;
		*ns[t].has = *ns[t].id != 0;
	}
	return 0;
}

int kobj_cg_set_of(pid_t pid, uint32_t *id)
{
	char path[64], *text, **n;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	text = proc_read_file(path, NULL);
	if (!text) {
		pr_perror("can't read %s", path);
		return -errno;
	}
	for (size_t i = 0; i < nr_cg_sets; i++)
		if (!strcmp(cg_sets[i], text)) {
			free(text);
			*id = (uint32_t)i + 1;
			return 0;
		}
	n = realloc(cg_sets, (nr_cg_sets + 1) * sizeof(*n));
	if (!n) {
		free(text);
		return -ENOMEM;
	}
	cg_sets = n;
	cg_sets[nr_cg_sets++] = text;
	*id = (uint32_t)nr_cg_sets;
	return 0;
}

int kobj_ids_init(void)
{
	uint32_t cg;
	int ret;

	kobj_ids_fini();
	ret = fill_ids(getpid(), &root_ids);
	if (!ret)
		ret = kobj_cg_set_of(getpid(), &cg);
	return ret;
}

void kobj_ids_root(TaskKobjIdsEntry *e)
{
	*e = root_ids;
}

int kobj_ids_of(pid_t pid, TaskKobjIdsEntry *e)
{
	int ret = fill_ids(pid, e);

	if (ret)
		pr_err("can't number the objects pid %d shares: %s\n", pid, strerror(-ret));
	return ret;
}

unsigned int kobj_next_pages_id(void)
{
	return next_pages_id++;
}

void kobj_ids_fini(void)
{
	for (int k = 0; k < NR_KOBJ; k++) {
		free(kobjs[k]);
		kobjs[k] = NULL;
		nr_kobjs[k] = 0;
	}
	for (size_t i = 0; i < nr_cg_sets; i++)
		free(cg_sets[i]);
	free(cg_sets);
	cg_sets = NULL;
	nr_cg_sets = 0;
	free(nss);
	nss = NULL;
	nr_nss = 0;
	next_ns_id = 1;
	next_pages_id = 1;
}

void kobj_ids_ns_diff(const TaskKobjIdsEntry *e, const TaskKobjIdsEntry *root, char *buf,
		      size_t size)
{
	const struct {
		const char *name;
		protobuf_c_boolean has, root_has;
		uint32_t id, root_id;
	} ns[NR_NS] = {
		{ "pid", e->has_pid_ns_id, root->has_pid_ns_id, e->pid_ns_id, root->pid_ns_id },
		{ "net", e->has_net_ns_id, root->has_net_ns_id, e->net_ns_id, root->net_ns_id },
		{ "ipc", e->has_ipc_ns_id, root->has_ipc_ns_id, e->ipc_ns_id, root->ipc_ns_id },
		{ "uts", e->has_uts_ns_id, root->has_uts_ns_id, e->uts_ns_id, root->uts_ns_id },
		{ "time", e->has_time_ns_id, root->has_time_ns_id, e->time_ns_id,
		  root->time_ns_id },
		{ "mnt", e->has_mnt_ns_id, root->has_mnt_ns_id, e->mnt_ns_id, root->mnt_ns_id },
		{ "user", e->has_user_ns_id, root->has_user_ns_id, e->user_ns_id,
		  root->user_ns_id },
		{ "cgroup", e->has_cgroup_ns_id, root->has_cgroup_ns_id, e->cgroup_ns_id,
		  root->cgroup_ns_id },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (int t = 0; t < NR_NS; t++) {
		/* a type one side does not record says nothing */
		if (!ns[t].has || !ns[t].root_has || ns[t].id == ns[t].root_id)
			continue;
		used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s",
					 used ? ", " : "", ns[t].name);
		if (used >= size)
			break;
	}
}
