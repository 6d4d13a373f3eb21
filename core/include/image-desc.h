/*
 * The kinds of image file criu reads and writes, one per kind upstream CRIU
 * has (its criu/image-desc.c), so that every file of an upstream dump has a
 * type here.  core/image-desc.c describes each one: file name, magic, entry
 * message.  Included by image.h before struct img_desc; keep this free of
 * anything image.h defines.
 */
#ifndef CRIU_IMAGE_DESC_H
#define CRIU_IMAGE_DESC_H

#include <stdint.h>

/*
 * Several types share a magic (pagemap and shmem pagemap, the two signal
 * queues, the two stats files, both binfmt-misc files, every raw image);
 * looking a magic up gives the first of them in this order, so the type a
 * reader most likely wants comes first.
 */
enum img_type {
	/* the dump as a whole */
	IMG_INVENTORY,
	IMG_STATS_DUMP,
	IMG_STATS_RESTORE,
	IMG_IRMAP_CACHE,
	IMG_CPUINFO,
	IMG_PSTREE,
	IMG_SECCOMP,
	IMG_CGROUP,
	IMG_APPARMOR,

	/* per task */
	IMG_CORE,
	IMG_IDS,
	IMG_CREDS,  /* old images: now in core */
	IMG_FS,
	IMG_SIGACT, /* old images: now in core */
	IMG_ITIMERS, /* old images: now in core */
	IMG_POSIX_TIMERS, /* old images: now in core */
	IMG_RLIMIT, /* old images: now in core */
	IMG_SIGNAL,  /* signals pending on the process */
	IMG_PSIGNAL, /* signals pending on one thread */

	/* memory */
	IMG_MM,
	IMG_VMAS, /* old images: now in mm */
	IMG_PAGEMAP,
	IMG_SHMEM_PAGEMAP,
	IMG_PAGES,

	/* files */
	IMG_FDINFO,
	IMG_FILES,
	IMG_REG_FILES,
	IMG_EXT_FILES,
	IMG_NS_FILES,
	IMG_REMAP_FPATH,
	IMG_GHOST_FILE,
	IMG_MEMFD_INODE,
	IMG_FILE_LOCKS,
	IMG_PIPES,
	IMG_PIPES_DATA,
	IMG_FIFO,
	IMG_FIFO_DATA,
	IMG_EVENTFD_FILE,
	IMG_EVENTPOLL_FILE,
	IMG_EVENTPOLL_TFD,
	IMG_SIGNALFD,
	IMG_TIMERFD,
	IMG_INOTIFY_FILE,
	IMG_INOTIFY_WD,
	IMG_FANOTIFY_FILE,
	IMG_FANOTIFY_MARK,
	IMG_TTY_FILES,
	IMG_TTY_INFO,
	IMG_TTY_DATA,
	IMG_TUNFILE,
	IMG_BPFMAP_FILE,
	IMG_BPFMAP_DATA,

	/* sockets */
	IMG_UNIXSK,
	IMG_INETSK,
	IMG_PACKETSK,
	IMG_NETLINK_SK,
	IMG_SK_QUEUES,
	IMG_TCP_STREAM,

	/* namespaces */
	IMG_UTSNS,
	IMG_IPC_VAR,
	IMG_IPCNS_SHM,
	IMG_IPCNS_MSG,
	IMG_IPCNS_SEM,
	IMG_USERNS,
	IMG_TIMENS,
	IMG_PIDNS,
	IMG_MNTS,
	IMG_AUTOFS,
	IMG_BINFMT_MISC,
	IMG_BINFMT_MISC_OLD, /* old images: one file per mount namespace */
	IMG_NETDEV,
	IMG_NETNS,

	/* raw data written by other tools (ip, iptables, tar, ...) */
	IMG_IFADDR,
	IMG_ROUTE,
	IMG_ROUTE6,
	IMG_RULE,
	IMG_IPTABLES,
	IMG_IP6TABLES,
	IMG_NFTABLES,
	IMG_NETNF_CT,
	IMG_NETNF_EXP,
	IMG_TMPFS_DEV, /* before IMG_TMPFS_IMG: file names are matched by prefix */
	IMG_TMPFS_IMG,

	IMG_TYPE_MAX
};

/*
 * A payload_size() result meaning "everything up to the end of the file":
 * a ghost file saved without chunks is one entry followed by the whole file
 * content.  Never a real size, since no file is that long.
 */
#define IMG_PAYLOAD_TO_EOF UINT64_MAX

#endif
