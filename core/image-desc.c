/*
 * The table of image types: file name, magic and entry message of each,
 * matching upstream CRIU's (criu/image-desc.c and criu/include/magic.h) so
 * that we name, recognise and decode the files it writes, and it ours.
 *
 * Raw payloads.  Most images are nothing but length-prefixed messages.
 * These carry raw bytes after some entries (what payload_size returns):
 *
 *   pipes-data, fifo-data  pipe_data_entry.bytes
 *   sk-queues              sk_packet_entry.length
 *   tcp-stream             inq_len bytes of receive queue, then outq_len of
 *                          send queue
 *   bpfmap-data            keys_bytes of keys, then values_bytes of values
 *   ipcns-sem              nsems u16 values, zero-padded to a multiple of 8
 *   ipcns-shm              nothing when in_pagemaps is set (what criu writes
 *                          today: the data is in the shmem pagemap);
 *                          round_up(size, 4) bytes in older images
 *   ghost-file             the head ghost_file_entry of a regular file is
 *                          followed by the whole content (IMG_PAYLOAD_TO_EOF)
 *                          unless chunks is set; then ghost_chunk_entry
 *                          entries follow, each with len bytes after it.
 *                          Other file types (dirs, links, devices) carry no
 *                          data.
 *
 * Not payloads, although the upstream files are opened unbuffered: tty-data
 * keeps its bytes inside tty_data_entry.data, apparmor its policies in
 * aa_policy.blob, and memfd contents go through the shmem pagemap.
 *
 * ipcns-msg cannot be described here: each ipc_msg_entry is followed by qnum
 * messages, each a length-prefixed ipc_msg entry plus round_up(msize, 8)
 * bytes of text.  The entry alone does not tell how many bytes that is, so
 * readers of that image walk it themselves.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "image.h"

#include "proto/apparmor.pb-c.h"
#include "proto/autofs.pb-c.h"
#include "proto/binfmt-misc.pb-c.h"
#include "proto/bpfmap-data.pb-c.h"
#include "proto/bpfmap-file.pb-c.h"
#include "proto/cgroup.pb-c.h"
#include "proto/core.pb-c.h"
#include "proto/cpuinfo.pb-c.h"
#include "proto/creds.pb-c.h"
#include "proto/eventfd.pb-c.h"
#include "proto/eventpoll.pb-c.h"
#include "proto/ext-file.pb-c.h"
#include "proto/fdinfo.pb-c.h"
#include "proto/fh.pb-c.h"
#include "proto/fifo.pb-c.h"
#include "proto/file-lock.pb-c.h"
#include "proto/fs.pb-c.h"
#include "proto/fsnotify.pb-c.h"
#include "proto/ghost-file.pb-c.h"
#include "proto/inventory.pb-c.h"
#include "proto/ipc-msg.pb-c.h"
#include "proto/ipc-sem.pb-c.h"
#include "proto/ipc-shm.pb-c.h"
#include "proto/ipc-var.pb-c.h"
#include "proto/memfd.pb-c.h"
#include "proto/mm.pb-c.h"
#include "proto/mnt.pb-c.h"
#include "proto/netdev.pb-c.h"
#include "proto/ns.pb-c.h"
#include "proto/packet-sock.pb-c.h"
#include "proto/pagemap.pb-c.h"
#include "proto/pidns.pb-c.h"
#include "proto/pipe-data.pb-c.h"
#include "proto/pipe.pb-c.h"
#include "proto/pstree.pb-c.h"
#include "proto/regfile.pb-c.h"
#include "proto/remap-file-path.pb-c.h"
#include "proto/rlimit.pb-c.h"
#include "proto/sa.pb-c.h"
#include "proto/seccomp.pb-c.h"
#include "proto/siginfo.pb-c.h"
#include "proto/signalfd.pb-c.h"
#include "proto/sk-inet.pb-c.h"
#include "proto/sk-netlink.pb-c.h"
#include "proto/sk-packet.pb-c.h"
#include "proto/sk-unix.pb-c.h"
#include "proto/stats.pb-c.h"
#include "proto/tcp-stream.pb-c.h"
#include "proto/timens.pb-c.h"
#include "proto/timer.pb-c.h"
#include "proto/timerfd.pb-c.h"
#include "proto/tty.pb-c.h"
#include "proto/tun.pb-c.h"
#include "proto/userns.pb-c.h"
#include "proto/utsns.pb-c.h"
#include "proto/vma.pb-c.h"

/* Per-image magics: coordinates of Russian towns, as upstream chose them. */
#define INVENTORY_MAGIC 0x58313116u
#define PSTREE_MAGIC 0x50273030u
#define FDINFO_MAGIC 0x56213732u
#define PAGEMAP_MAGIC 0x56084025u
#define SHMEM_PAGEMAP_MAGIC PAGEMAP_MAGIC
#define CORE_MAGIC 0x55053847u
#define IDS_MAGIC 0x54432030u
#define VMAS_MAGIC 0x54123737u
#define PIPES_MAGIC 0x56513555u
#define PIPES_DATA_MAGIC 0x56453709u
#define FIFO_MAGIC 0x58364939u
#define FIFO_DATA_MAGIC 0x59333054u
#define SIGACT_MAGIC 0x55344201u
#define UNIXSK_MAGIC 0x54373943u
#define INETSK_MAGIC 0x56443851u
#define PACKETSK_MAGIC 0x60454618u
#define ITIMERS_MAGIC 0x57464056u
#define POSIX_TIMERS_MAGIC 0x52603957u
#define SK_QUEUES_MAGIC 0x56264026u
#define UTSNS_MAGIC 0x54473203u
#define CREDS_MAGIC 0x54023547u
#define IPC_VAR_MAGIC 0x53115007u
#define IPCNS_SHM_MAGIC 0x46283044u
#define IPCNS_MSG_MAGIC 0x55453737u
#define IPCNS_SEM_MAGIC 0x59573019u
#define REG_FILES_MAGIC 0x50363636u
#define EXT_FILES_MAGIC 0x59255641u
#define FS_MAGIC 0x51403912u
#define MM_MAGIC 0x57492820u
#define REMAP_FPATH_MAGIC 0x59133954u
#define GHOST_FILE_MAGIC 0x52583605u
#define TCP_STREAM_MAGIC 0x51465506u
#define EVENTFD_FILE_MAGIC 0x44523722u
#define EVENTPOLL_FILE_MAGIC 0x45023858u
#define EVENTPOLL_TFD_MAGIC 0x44433746u
#define SIGNALFD_MAGIC 0x57323820u
#define INOTIFY_FILE_MAGIC 0x48424431u
#define INOTIFY_WD_MAGIC 0x54562009u
#define MNTS_MAGIC 0x55563928u
#define NETDEV_MAGIC 0x57373951u
#define NETNS_MAGIC 0x55933752u
#define TTY_FILES_MAGIC 0x59433025u
#define TTY_INFO_MAGIC 0x59453036u
#define TTY_DATA_MAGIC 0x59413026u
#define FILE_LOCKS_MAGIC 0x54323616u
#define RLIMIT_MAGIC 0x57113925u
#define FANOTIFY_FILE_MAGIC 0x55096122u
#define FANOTIFY_MARK_MAGIC 0x56506035u
#define SIGNAL_MAGIC 0x59255647u
#define PSIGNAL_MAGIC SIGNAL_MAGIC
#define NETLINK_SK_MAGIC 0x58005614u
#define NS_FILES_MAGIC 0x61394011u
#define TUNFILE_MAGIC 0x57143751u
#define CGROUP_MAGIC 0x59383330u
#define TIMERFD_MAGIC 0x50493712u
#define CPUINFO_MAGIC 0x61404013u
#define USERNS_MAGIC 0x55474906u
#define SECCOMP_MAGIC 0x64413049u
#define BINFMT_MISC_MAGIC 0x67343323u
#define BINFMT_MISC_OLD_MAGIC BINFMT_MISC_MAGIC
#define AUTOFS_MAGIC 0x49353943u
#define FILES_MAGIC 0x56303138u
#define MEMFD_INODE_MAGIC 0x48453499u
#define TIMENS_MAGIC 0x43114433u
#define PIDNS_MAGIC 0x61157326u
#define BPFMAP_FILE_MAGIC 0x57506142u
#define BPFMAP_DATA_MAGIC 0x64324033u
#define APPARMOR_MAGIC 0x59423047u
/* service files: behind IMG_SERVICE_MAGIC instead of IMG_COMMON_MAGIC */
#define STATS_MAGIC 0x57093306u
#define IRMAP_CACHE_MAGIC 0x57004059u

/* The largest multiple of align that fits when x rounded up would not. */
static uint64_t round_up_u64(uint64_t x, uint64_t align)
{
	if (x > UINT64_MAX - (align - 1))
		return UINT64_MAX & ~(align - 1);
	return (x + align - 1) & ~(align - 1);
}

/* Each of these is only ever handed its own message type; check anyway. */
#define ENTRY_AS(type, desc, m) ((m) && (m)->descriptor == &(desc) ? (const type *)(m) : NULL)

static uint64_t pipe_data_payload(const ProtobufCMessage *m)
{
	const PipeDataEntry *e = ENTRY_AS(PipeDataEntry, pipe_data_entry__descriptor, m);

	return e ? e->bytes : 0;
}

static uint64_t sk_queue_payload(const ProtobufCMessage *m)
{
	const SkPacketEntry *e = ENTRY_AS(SkPacketEntry, sk_packet_entry__descriptor, m);

	return e ? e->length : 0;
}

static uint64_t tcp_stream_payload(const ProtobufCMessage *m)
{
	const TcpStreamEntry *e = ENTRY_AS(TcpStreamEntry, tcp_stream_entry__descriptor, m);

	return e ? (uint64_t)e->inq_len + e->outq_len : 0;
}

static uint64_t bpfmap_data_payload(const ProtobufCMessage *m)
{
	const BpfmapDataEntry *e = ENTRY_AS(BpfmapDataEntry, bpfmap_data_entry__descriptor, m);

	return e ? (uint64_t)e->keys_bytes + e->values_bytes : 0;
}

static uint64_t ipc_sem_payload(const ProtobufCMessage *m)
{
	const IpcSemEntry *e = ENTRY_AS(IpcSemEntry, ipc_sem_entry__descriptor, m);

	return e ? round_up_u64((uint64_t)e->nsems * sizeof(uint16_t), sizeof(uint64_t)) : 0;
}

static uint64_t ipc_shm_payload(const ProtobufCMessage *m)
{
	const IpcShmEntry *e = ENTRY_AS(IpcShmEntry, ipc_shm_entry__descriptor, m);

	if (!e || (e->has_in_pagemaps && e->in_pagemaps))
		return 0;
	return round_up_u64(e->size, sizeof(uint32_t));
}

static uint64_t ghost_file_payload(const ProtobufCMessage *m)
{
	const GhostChunkEntry *chunk = ENTRY_AS(GhostChunkEntry, ghost_chunk_entry__descriptor, m);
	const GhostFileEntry *gf = ENTRY_AS(GhostFileEntry, ghost_file_entry__descriptor, m);

	if (chunk)
		return chunk->len;
	if (!gf || !S_ISREG(gf->mode) || (gf->has_chunks && gf->chunks))
		return 0;
	return IMG_PAYLOAD_TO_EOF;
}

#define PB(msg) (&msg##__descriptor)

/* An image of length-prefixed messages behind IMG_COMMON_MAGIC. */
#define COMMON(_type, _name, _fmt, _magic, _pb) \
	[_type] = { .name = _name, .fmt = _fmt, .magic = _magic, .set = IMG_SET_COMMON, .pb = PB(_pb) }

/* Raw data, no magic, no entries. */
#define RAW(_type, _name, _fmt) \
	[_type] = { .name = _name, .fmt = _fmt, .magic = RAW_IMAGE_MAGIC, .set = IMG_SET_RAW }

const struct img_desc img_descs[IMG_TYPE_MAX] = {
	[IMG_INVENTORY] = {
		.name = "inventory",
		.fmt = "inventory.img",
		.magic = INVENTORY_MAGIC,
		.set = IMG_SET_NONE,
		.pb = PB(inventory_entry),
	},
	/*
	 * Both stats files have crit's name "stats"; looking the name up
	 * gives the dump one.
	 */
	[IMG_STATS_DUMP] = {
		.name = "stats",
		.fmt = "stats-dump",
		.magic = STATS_MAGIC,
		.set = IMG_SET_SERVICE,
		.pb = PB(stats_entry),
	},
	[IMG_STATS_RESTORE] = {
		.name = "stats",
		.fmt = "stats-restore",
		.magic = STATS_MAGIC,
		.set = IMG_SET_SERVICE,
		.pb = PB(stats_entry),
	},
	[IMG_IRMAP_CACHE] = {
		.name = "irmap-cache",
		.fmt = "irmap-cache",
		.magic = IRMAP_CACHE_MAGIC,
		.set = IMG_SET_SERVICE,
		.pb = PB(irmap_cache_entry),
	},
	COMMON(IMG_CPUINFO, "cpuinfo", "cpuinfo.img", CPUINFO_MAGIC, cpuinfo_entry),
	COMMON(IMG_PSTREE, "pstree", "pstree.img", PSTREE_MAGIC, pstree_entry),
	COMMON(IMG_SECCOMP, "seccomp", "seccomp.img", SECCOMP_MAGIC, seccomp_entry),
	COMMON(IMG_CGROUP, "cgroup", "cgroup.img", CGROUP_MAGIC, cgroup_entry),
	COMMON(IMG_APPARMOR, "apparmor", "apparmor.img", APPARMOR_MAGIC, apparmor_entry),

	COMMON(IMG_CORE, "core", "core-%u.img", CORE_MAGIC, core_entry),
	COMMON(IMG_IDS, "ids", "ids-%u.img", IDS_MAGIC, task_kobj_ids_entry),
	COMMON(IMG_CREDS, "creds", "creds-%u.img", CREDS_MAGIC, creds_entry),
	COMMON(IMG_FS, "fs", "fs-%u.img", FS_MAGIC, fs_entry),
	COMMON(IMG_SIGACT, "sigact", "sigacts-%u.img", SIGACT_MAGIC, sa_entry),
	COMMON(IMG_ITIMERS, "itimers", "itimers-%u.img", ITIMERS_MAGIC, itimer_entry),
	COMMON(IMG_POSIX_TIMERS, "posix-timers", "posix-timers-%u.img", POSIX_TIMERS_MAGIC,
	       posix_timer_entry),
	COMMON(IMG_RLIMIT, "rlimit", "rlimit-%u.img", RLIMIT_MAGIC, rlimit_entry),
	COMMON(IMG_SIGNAL, "signal", "signal-s-%u.img", SIGNAL_MAGIC, signal_queue_entry),
	COMMON(IMG_PSIGNAL, "psignal", "signal-p-%u.img", PSIGNAL_MAGIC, signal_queue_entry),

	COMMON(IMG_MM, "mm", "mm-%u.img", MM_MAGIC, mm_entry),
	COMMON(IMG_VMAS, "vmas", "vmas-%u.img", VMAS_MAGIC, vma_entry),
	[IMG_PAGEMAP] = {
		.name = "pagemap",
		.fmt = "pagemap-%lu.img",
		.magic = PAGEMAP_MAGIC,
		.set = IMG_SET_COMMON,
		.pb = PB(pagemap_entry),
		.head_pb = PB(pagemap_head),
	},
	[IMG_SHMEM_PAGEMAP] = {
		.name = "shmem-pagemap",
		.fmt = "pagemap-shmem-%lu.img",
		.magic = SHMEM_PAGEMAP_MAGIC,
		.set = IMG_SET_COMMON,
		.pb = PB(pagemap_entry),
		.head_pb = PB(pagemap_head),
	},
	RAW(IMG_PAGES, "pages", "pages-%u.img"),

	COMMON(IMG_FDINFO, "fdinfo", "fdinfo-%u.img", FDINFO_MAGIC, fdinfo_entry),
	COMMON(IMG_FILES, "files", "files.img", FILES_MAGIC, file_entry),
	COMMON(IMG_REG_FILES, "reg-files", "reg-files.img", REG_FILES_MAGIC, reg_file_entry),
	COMMON(IMG_EXT_FILES, "ext-files", "ext-files.img", EXT_FILES_MAGIC, ext_file_entry),
	COMMON(IMG_NS_FILES, "ns-files", "ns-files.img", NS_FILES_MAGIC, ns_file_entry),
	COMMON(IMG_REMAP_FPATH, "remap-fpath", "remap-fpath.img", REMAP_FPATH_MAGIC,
	       remap_file_path_entry),
	[IMG_GHOST_FILE] = {
		.name = "ghost-file",
		.fmt = "ghost-file-%x.img",
		.magic = GHOST_FILE_MAGIC,
		.set = IMG_SET_COMMON,
		.pb = PB(ghost_chunk_entry),
		.head_pb = PB(ghost_file_entry),
		.payload_size = ghost_file_payload,
	},
	COMMON(IMG_MEMFD_INODE, "memfd-inode", "memfd.img", MEMFD_INODE_MAGIC, memfd_inode_entry),
	COMMON(IMG_FILE_LOCKS, "file-locks", "filelocks.img", FILE_LOCKS_MAGIC, file_lock_entry),
	COMMON(IMG_PIPES, "pipes", "pipes.img", PIPES_MAGIC, pipe_entry),
	[IMG_PIPES_DATA] = {
		.name = "pipes-data",
		.fmt = "pipes-data.img",
		.magic = PIPES_DATA_MAGIC,
		.set = IMG_SET_COMMON,
		.pb = PB(pipe_data_entry),
		.payload_size = pipe_data_payload,
	},
	COMMON(IMG_FIFO, "fifo", "fifo.img", FIFO_MAGIC, fifo_entry),
	[IMG_FIFO_DATA] = {
		.name = "fifo-data",
		.fmt = "fifo-data.img",
		.magic = FIFO_DATA_MAGIC,
		.set = IMG_SET_COMMON,
		.pb = PB(pipe_data_entry),
		.payload_size = pipe_data_payload,
	},
	COMMON(IMG_EVENTFD_FILE, "eventfd-file", "eventfd.img", EVENTFD_FILE_MAGIC,
	       eventfd_file_entry),
	COMMON(IMG_EVENTPOLL_FILE, "eventpoll-file", "eventpoll.img", EVENTPOLL_FILE_MAGIC,
	       eventpoll_file_entry),
	COMMON(IMG_EVENTPOLL_TFD, "eventpoll-tfd", "eventpoll-tfd.img", EVENTPOLL_TFD_MAGIC,
	       eventpoll_tfd_entry),
	COMMON(IMG_SIGNALFD, "signalfd", "signalfd.img", SIGNALFD_MAGIC, signalfd_entry),
	COMMON(IMG_TIMERFD, "timerfd", "timerfd.img", TIMERFD_MAGIC, timerfd_entry),
	COMMON(IMG_INOTIFY_FILE, "inotify-file", "inotify.img", INOTIFY_FILE_MAGIC,
	       inotify_file_entry),
	COMMON(IMG_INOTIFY_WD, "inotify-wd", "inotify-wd.img", INOTIFY_WD_MAGIC, inotify_wd_entry),
	COMMON(IMG_FANOTIFY_FILE, "fanotify-file", "fanotify.img", FANOTIFY_FILE_MAGIC,
	       fanotify_file_entry),
	COMMON(IMG_FANOTIFY_MARK, "fanotify-mark", "fanotify-mark.img", FANOTIFY_MARK_MAGIC,
	       fanotify_mark_entry),
	COMMON(IMG_TTY_FILES, "tty-files", "tty.img", TTY_FILES_MAGIC, tty_file_entry),
	COMMON(IMG_TTY_INFO, "tty-info", "tty-info.img", TTY_INFO_MAGIC, tty_info_entry),
	COMMON(IMG_TTY_DATA, "tty-data", "tty-data.img", TTY_DATA_MAGIC, tty_data_entry),
	COMMON(IMG_TUNFILE, "tunfile", "tunfile.img", TUNFILE_MAGIC, tunfile_entry),
	COMMON(IMG_BPFMAP_FILE, "bpfmap-file", "bpfmap-file.img", BPFMAP_FILE_MAGIC,
	       bpfmap_file_entry),
	[IMG_BPFMAP_DATA] = {
		.name = "bpfmap-data",
		.fmt = "bpfmap-data.img",
		.magic = BPFMAP_DATA_MAGIC,
		.set = IMG_SET_COMMON,
		.pb = PB(bpfmap_data_entry),
		.payload_size = bpfmap_data_payload,
	},

	COMMON(IMG_UNIXSK, "unixsk", "unixsk.img", UNIXSK_MAGIC, unix_sk_entry),
	COMMON(IMG_INETSK, "inetsk", "inetsk.img", INETSK_MAGIC, inet_sk_entry),
	COMMON(IMG_PACKETSK, "packetsk", "packetsk.img", PACKETSK_MAGIC, packet_sock_entry),
	COMMON(IMG_NETLINK_SK, "netlink-sk", "netlinksk.img", NETLINK_SK_MAGIC, netlink_sk_entry),
	[IMG_SK_QUEUES] = {
		.name = "sk-queues",
		.fmt = "sk-queues.img",
		.magic = SK_QUEUES_MAGIC,
		.set = IMG_SET_COMMON,
		.pb = PB(sk_packet_entry),
		.payload_size = sk_queue_payload,
	},
	[IMG_TCP_STREAM] = {
		.name = "tcp-stream",
		.fmt = "tcp-stream-%x.img",
		.magic = TCP_STREAM_MAGIC,
		.set = IMG_SET_COMMON,
		.pb = PB(tcp_stream_entry),
		.payload_size = tcp_stream_payload,
	},

	COMMON(IMG_UTSNS, "utsns", "utsns-%u.img", UTSNS_MAGIC, utsns_entry),
	COMMON(IMG_IPC_VAR, "ipc-var", "ipcns-var-%u.img", IPC_VAR_MAGIC, ipc_var_entry),
	[IMG_IPCNS_SHM] = {
		.name = "ipcns-shm",
		.fmt = "ipcns-shm-%u.img",
		.magic = IPCNS_SHM_MAGIC,
		.set = IMG_SET_COMMON,
		.pb = PB(ipc_shm_entry),
		.payload_size = ipc_shm_payload,
	},
	/* Nested entries after each queue: see the top of this file. */
	COMMON(IMG_IPCNS_MSG, "ipcns-msg", "ipcns-msg-%u.img", IPCNS_MSG_MAGIC, ipc_msg_entry),
	[IMG_IPCNS_SEM] = {
		.name = "ipcns-sem",
		.fmt = "ipcns-sem-%u.img",
		.magic = IPCNS_SEM_MAGIC,
		.set = IMG_SET_COMMON,
		.pb = PB(ipc_sem_entry),
		.payload_size = ipc_sem_payload,
	},
	COMMON(IMG_USERNS, "userns", "userns-%u.img", USERNS_MAGIC, userns_entry),
	COMMON(IMG_TIMENS, "timens", "timens-%u.img", TIMENS_MAGIC, timens_entry),
	COMMON(IMG_PIDNS, "pidns", "pidns-%u.img", PIDNS_MAGIC, pidns_entry),
	COMMON(IMG_MNTS, "mnts", "mountpoints-%u.img", MNTS_MAGIC, mnt_entry),
	COMMON(IMG_AUTOFS, "autofs", "autofs-%u.img", AUTOFS_MAGIC, autofs_entry),
	COMMON(IMG_BINFMT_MISC, "binfmt-misc", "binfmt-misc.img", BINFMT_MISC_MAGIC,
	       binfmt_misc_entry),
	COMMON(IMG_BINFMT_MISC_OLD, "binfmt-misc-old", "binfmt-misc-%u.img", BINFMT_MISC_OLD_MAGIC,
	       binfmt_misc_entry),
	COMMON(IMG_NETDEV, "netdev", "netdev-%u.img", NETDEV_MAGIC, net_device_entry),
	COMMON(IMG_NETNS, "netns", "netns-%u.img", NETNS_MAGIC, netns_entry),

	RAW(IMG_IFADDR, "ifaddr", "ifaddr-%u.img"),
	RAW(IMG_ROUTE, "route", "route-%u.img"),
	RAW(IMG_ROUTE6, "route6", "route6-%u.img"),
	RAW(IMG_RULE, "rule", "rule-%u.img"),
	RAW(IMG_IPTABLES, "iptables", "iptables-%u.img"),
	RAW(IMG_IP6TABLES, "ip6tables", "ip6tables-%u.img"),
	RAW(IMG_NFTABLES, "nftables", "nftables-%u.img"),
	RAW(IMG_NETNF_CT, "netnf-ct", "netns-ct-%u.img"),
	RAW(IMG_NETNF_EXP, "netnf-exp", "netns-exp-%u.img"),
	RAW(IMG_TMPFS_DEV, "tmpfs-dev", "tmpfs-dev-%u.tar.gz.img"),
	RAW(IMG_TMPFS_IMG, "tmpfs-img", "tmpfs-%u.tar.gz.img"),
};

int img_type_by_name(const char *name)
{
	if (!name)
		return -1;
	for (int t = 0; t < IMG_TYPE_MAX; t++)
		if (img_descs[t].name && !strcmp(img_descs[t].name, name))
			return t;
	return -1;
}

int img_type_by_magic(enum img_set set, uint32_t magic)
{
	for (int t = 0; t < IMG_TYPE_MAX; t++)
		if (img_descs[t].name && img_descs[t].set == set && img_descs[t].magic == magic)
			return t;
	return -1;
}

/*
 * The formats hold at most one conversion: %u, %d or %x, maybe with l.  The
 * id is formatted here rather than by handing fmt to printf, so that the
 * argument type always matches whatever length modifier fmt has.
 */
int img_file_name(char *buf, size_t size, enum img_type type, unsigned long id)
{
	const char *fmt, *pct, *conv;

	if ((unsigned)type >= IMG_TYPE_MAX || !img_descs[type].fmt)
		return -EINVAL;
	fmt = img_descs[type].fmt;
	pct = strchr(fmt, '%');
	if (!pct)
		return snprintf(buf, size, "%s", fmt);
	for (conv = pct + 1; *conv == 'l'; conv++)
		;
	switch (*conv) {
	case 'u':
	case 'd':
		return snprintf(buf, size, "%.*s%lu%s", (int)(pct - fmt), fmt, id, conv + 1);
	case 'x':
		return snprintf(buf, size, "%.*s%lx%s", (int)(pct - fmt), fmt, id, conv + 1);
	default:
		return -EINVAL;
	}
}
