/* What /proc/PID/status says about a task before we touch it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compel.h"

static enum compel_task_state state_from_letter(char c)
{
	switch (c) {
	case 'T':
		return COMPEL_TASK_STOPPED;
	case 't':
		return COMPEL_TASK_TRACED;
	case 'Z':
		return COMPEL_TASK_ZOMBIE;
	case 'X':
		return COMPEL_TASK_DEAD;
	default:
		return COMPEL_TASK_RUNNING;
	}
}

static void parse_status_line(const char *line, struct compel_task_info *info)
{
	const char *v = strchr(line, ':');

	if (!v)
		return;
	v++;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!strncmp(line, "State:", 6))
		info->state = state_from_letter(*v);
	else if (!strncmp(line, "Tgid:", 5))
		info->tgid = (pid_t)strtol(v, NULL, 10);
	else if (!strncmp(line, "TracerPid:", 10))
		info->tracer_pid = (pid_t)strtol(v, NULL, 10);
	else if (!strncmp(line, "Threads:", 8))
		info->nr_threads = (int)strtol(v, NULL, 10);
}

int compel_probe_task(pid_t pid, struct compel_task_info *info)
{
	char path[64], line[256];
	FILE *f;

	memset(info, 0, sizeof(*info));
	info->state = COMPEL_TASK_DEAD;
	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f))
		parse_status_line(line, info);
	fclose(f);
	return 0;
}
