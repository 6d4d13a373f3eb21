/*
 * What this kernel can do, probed once (kerndat_probe) and used by check,
 * dump and restore to pick their paths (PAGEMAP_SCAN or pagemap, clone3
 * set_tid or ns_last_pid, ...).
 */
#ifndef CRIU_KERNDAT_H
#define CRIU_KERNDAT_H

#include <stdbool.h>
#include <stddef.h>

/* One named kernel feature. */
enum kd_feature {
	KD_PTRACE_SEIZE,
	KD_PTRACE_GETREGSET,
	KD_MAP_FILES,
	KD_KCMP,
	KD_CLONE3_SET_TID,
	KD_NS_LAST_PID,
	KD_PROCESS_VM_READV,
	KD_MEMFD_CREATE,
	KD_USERFAULTFD,
	KD_UFFD_WP_ASYNC,
	KD_PAGEMAP_SCAN,
	KD_SOFT_DIRTY,
	KD_TCP_REPAIR,
	KD_SK_UNIX_DIAG,
	KD_SK_INET_DIAG,
	KD_SK_PACKET_DIAG,
	KD_SK_NETLINK_DIAG,
	KD_TIME_NS,
	KD_VDSO,
	/* upstream's check --feature names, each a probe of this kernel */
	KD_MNT_ID,
	KD_AIO_REMAP,
	KD_TIMERFD,
	KD_TUN,
	KD_TUN_NS,
	KD_USERNS,
	KD_FDINFO_LOCK,
	KD_SECCOMP_SUSPEND,
	KD_SECCOMP_FILTERS,
	KD_LOGINUID,
	KD_CGROUPNS,
	KD_AUTOFS,
	KD_TCP_HALF_CLOSED,
	KD_COMPAT_CR,
	KD_UFFD_NONCOOP,
	KD_CAN_MAP_VDSO,
	KD_SK_NS,
	KD_SK_UNIX_FILE,
	KD_NET_DIAG_RAW,
	KD_NSID,
	KD_LINK_NSID,
	KD_KCMP_EPOLL,
	KD_EXTERNAL_NET_NS,
	KD_NEWIFINDEX,
	KD_NFTABLES,
	KD_IPT_LEGACY,
	KD_PIDFD_STORE,
	KD_NS_PID,
	KD_APPARMOR_STACKING,
	KD_NETWORK_LOCK_NFTABLES,
	KD_SOCKOPT_BUF_LOCK,
	KD_MEMFD_HUGETLB,
	KD_MOVE_MOUNT_SET_GROUP,
	KD_OPENAT2,
	KD_GET_RSEQ_CONF,
	KD_IPV6_FREEBIND,
	KD_TIMER_CR_IDS,
	KD_OVERLAYFS_MAPS,
	KD_PAGEMAP_SCAN_GUARD,
	KD_NR_FEATURES
};

/* What needs a feature: it decides whether its absence fails `criu check'. */
enum kd_need {
	KD_REQUIRED, /* dump or restore of any tree fails without it */
	KD_EXTRA,    /* only some trees or options need it */
};

struct kd_feature_desc {
	const char *name;   /* for --feature NAME */
	const char *what;   /* one line of description */
	const char *needed; /* who needs it: "dump", "restore", "--track-mem", ... */
	enum kd_need need;
};

extern const struct kd_feature_desc kd_features[KD_NR_FEATURES];

/* The vDSO and the data pages the kernel maps next to it. */
struct kd_vdso_layout {
	unsigned long vdso_start, vdso_end;
	unsigned long vvar_start, vvar_end;		/* [vvar], 0 if absent */
	unsigned long vvar_vclock_start, vvar_vclock_end; /* [vvar_vclock] (6.13+) */
};

struct kerndat {
	bool probed;
	bool has[KD_NR_FEATURES];
	/* why a feature is missing, for the report ("" when present) */
	char why[KD_NR_FEATURES][128];
	struct kd_vdso_layout vdso;
	unsigned long uffd_features; /* from UFFDIO_API */
	size_t page_size;
};

extern struct kerndat kdat;

/* Probes everything (once; later calls return at once).  Never fails: a
 * probe that cannot run records the feature as missing with a reason. */
void kerndat_probe(void);
/* The features `criu check` and `check --extra/--all` look at (the first ones). */
#define KD_NR_CORE_FEATURES (KD_VDSO + 1)
/* Probes one feature only. */
void kerndat_probe_one(enum kd_feature f);

/* The feature named NAME (ours or upstream's spelling), or -1. */
int kerndat_feature_by_name(const char *name);

/*
 * Whether this kernel has the feature NAME (check --feature NAME and RPC's
 * FEATURE_CHECK both ask this): 1, 0, or -1 for an unknown name.
 */
int kerndat_has_feature(const char *name);

/* Parses /proc/PID/maps text for [vdso], [vvar] and [vvar_vclock]; 0, or
 * -ENOENT when there is no [vdso].  Exposed for tests. */
int kerndat_parse_vdso(const char *maps, struct kd_vdso_layout *out);

#endif
