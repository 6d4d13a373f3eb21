/*
 * Kernel feature probes about namespaces, mounts and credentials.  The
 * probes that mount run in a child with a private mount namespace of its
 * own, on a tmpfs it mounts there: the host's mounts never see them.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kerndat-probes.h"

#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#define MOVE_MOUNT_SET_GROUP_FLAG 0x00000100
#define KD_RESOLVE_NO_SYMLINKS 0x04

static void probe_path(enum kd_feature f, const char *path)
{
	kd_set(f, !access(path, F_OK), "%s: %s", path, strerror(errno));
}

static void probe_userns(void)
{
	unsigned int size = 0;

	if (access("/proc/self/ns/user", F_OK)) {
		kd_set(KD_USERNS, false, "/proc/self/ns/user: %s", strerror(errno));
		return;
	}
	if (prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, (unsigned long)&size, 0, 0) < 0)
		kd_set(KD_USERNS, false, "prctl(PR_SET_MM_MAP_SIZE): %s", strerror(errno));
	else
		kd_set(KD_USERNS, size > 0, "PR_SET_MM_MAP_SIZE gave 0");
}

static void probe_file_has(enum kd_feature f, const char *path, const char *text)
{
	char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		kd_set(f, false, "%s: %s", path, strerror(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	kd_set(f, strstr(buf, text) != NULL, "%s has no '%s'", path, text);
}

static void probe_move_mount_set_group(void)
{
	/* The flag is checked before the paths: ENOENT says it is known. */
	long r = syscall(SYS_move_mount, AT_FDCWD, "/nonexistent/criu-probe-a", AT_FDCWD,
			 "/nonexistent/criu-probe-b", MOVE_MOUNT_SET_GROUP_FLAG);

	kd_set(KD_MOVE_MOUNT_SET_GROUP, r < 0 && errno == ENOENT,
	       "move_mount(MOVE_MOUNT_SET_GROUP): %s", strerror(errno));
}

static void probe_openat2(void)
{
	struct {
		uint64_t flags, mode, resolve;
	} how = { O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, KD_RESOLVE_NO_SYMLINKS };
	long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));

	if (fd < 0) {
		kd_set(KD_OPENAT2, false, "openat2: %s", strerror(errno));
		return;
	}
	close((int)fd);
	kd_set(KD_OPENAT2, true, NULL);
}

/* A mapping of a file on overlayfs shows, in map_files, the overlay file itself. */
static bool overlayfs_maps_child(char *why, size_t len)
{
	struct stat want, got;
	char link[128];
	void *p;
	int fd;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		snprintf(why, len, "a private mount namespace: %s", strerror(errno));
		return false;
	}
	if (mount("criu-probe", "/tmp", "tmpfs", 0, "size=1m") ||
	    mkdir("/tmp/l", 0700) || mkdir("/tmp/u", 0700) || mkdir("/tmp/w", 0700) ||
	    mkdir("/tmp/m", 0700)) {
		snprintf(why, len, "tmpfs: %s", strerror(errno));
		return false;
	}
	if (mount("overlay", "/tmp/m", "overlay", 0, "lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w")) {
		snprintf(why, len, "overlayfs: %s", strerror(errno));
		return false;
	}
	fd = open("/tmp/m/f", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 4096) || fstat(fd, &want)) {
		snprintf(why, len, "a file on overlayfs: %s", strerror(errno));
		return false;
	}
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(why, len, "mmap: %s", strerror(errno));
		return false;
	}
	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)p,
		 (unsigned long)p + 4096);
	if (stat(link, &got)) {
		snprintf(why, len, "%s: %s", link, strerror(errno));
		return false;
	}
	if (got.st_dev != want.st_dev || got.st_ino != want.st_ino) {
		snprintf(why, len, "map_files shows the upper file, not the overlay one");
		return false;
	}
	return true;
}

/* Writing one's own loginuid back (in a child) works. */
static bool loginuid_child(char *why, size_t len)
{
	char buf[32];
	ssize_t n;
	int fd = open("/proc/self/loginuid", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, len, "/proc/self/loginuid: %s (CONFIG_AUDITSYSCALL)", strerror(errno));
		return false;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0 || lseek(fd, 0, SEEK_SET)) {
		snprintf(why, len, "reading /proc/self/loginuid: %s", strerror(errno));
		return false;
	}
	if (write(fd, buf, (size_t)n) != n) {
		snprintf(why, len, "writing /proc/self/loginuid: %s", strerror(errno));
		return false;
	}
	return true;
}

void kerndat_probe_ns(enum kd_feature f)
{
	switch (f) {
	case KD_USERNS:
		probe_userns();
		break;
	case KD_CGROUPNS:
		probe_path(f, "/proc/self/ns/cgroup");
		break;
	case KD_NS_PID:
		probe_file_has(f, "/proc/self/status", "NSpid:");
		break;
	case KD_AUTOFS:
		probe_file_has(f, "/proc/filesystems", "autofs");
		break;
	case KD_APPARMOR_STACKING:
		probe_file_has(f, "/sys/kernel/security/apparmor/features/domain/stack", "yes");
		break;
	case KD_MOVE_MOUNT_SET_GROUP:
		probe_move_mount_set_group();
		break;
	case KD_OPENAT2:
		probe_openat2();
		break;
	case KD_OVERLAYFS_MAPS:
		kd_probe_in_child(f, overlayfs_maps_child);
		break;
	case KD_LOGINUID:
		kd_probe_in_child(f, loginuid_child);
		break;
	default:
		break;
	}
}
