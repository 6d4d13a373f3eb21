/* kerndat: the vDSO layout parser and the feature names of `criu check`. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kerndat.h"
#include "unit.h"

TEST(vdso_layout_of_recent_kernels)
{
	/* 6.13+: [vvar], [vvar_vclock], [vdso] next to each other */
	const char *maps =
		"55d0a0000000-55d0a0002000 r--p 00000000 08:01 1234    /usr/bin/sleep\n"
		"7ffd4a3f8000-7ffd4a3fc000 r--p 00000000 00:00 0       [vvar]\n"
		"7ffd4a3fc000-7ffd4a3fe000 r--p 00000000 00:00 0       [vvar_vclock]\n"
		"7ffd4a3fe000-7ffd4a400000 r-xp 00000000 00:00 0       [vdso]\n"
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n";
	struct kd_vdso_layout v;

	CHECK_EQ(kerndat_parse_vdso(maps, &v), 0);
	CHECK_EQ(v.vdso_start, 0x7ffd4a3fe000UL);
	CHECK_EQ(v.vdso_end, 0x7ffd4a400000UL);
	CHECK_EQ(v.vvar_start, 0x7ffd4a3f8000UL);
	CHECK_EQ(v.vvar_end, 0x7ffd4a3fc000UL);
	CHECK_EQ(v.vvar_vclock_start, 0x7ffd4a3fc000UL);
	CHECK_EQ(v.vvar_vclock_end, 0x7ffd4a3fe000UL);
}

TEST(vdso_layout_of_older_kernels)
{
	/* 6.1: no [vvar_vclock]; no trailing newline on the last line */
	const char *maps = "7f00aa000000-7f00aa004000 r--p 00000000 00:00 0 [vvar]\n"
			   "7f00aa004000-7f00aa006000 r-xp 00000000 00:00 0 [vdso]";
	struct kd_vdso_layout v;

	CHECK_EQ(kerndat_parse_vdso(maps, &v), 0);
	CHECK_EQ(v.vvar_start, 0x7f00aa000000UL);
	CHECK_EQ(v.vdso_start, 0x7f00aa004000UL);
	CHECK_EQ(v.vvar_vclock_start, 0UL);
}

TEST(no_vdso)
{
	struct kd_vdso_layout v;

	CHECK_EQ(kerndat_parse_vdso("00400000-00401000 r-xp 00000000 08:01 1 /bin/x\n", &v),
		 -ENOENT);
	CHECK_EQ(kerndat_parse_vdso("", &v), -ENOENT);
	/* a name that only looks like it */
	CHECK_EQ(kerndat_parse_vdso("7f0000000000-7f0000002000 r-xp 0 00:00 0 [vdso]x\n", &v),
		 -ENOENT);
}

TEST(feature_names)
{
	for (int f = 0; f < KD_NR_FEATURES; f++) {
		CHECK(kd_features[f].name != NULL);
		CHECK_EQ(kerndat_feature_by_name(kd_features[f].name), f);
	}
	/* upstream's spellings */
	CHECK_EQ(kerndat_feature_by_name("uffd"), KD_USERFAULTFD);
	CHECK_EQ(kerndat_feature_by_name("mem_dirty_track"), KD_SOFT_DIRTY);
	CHECK_EQ(kerndat_feature_by_name("timens"), KD_TIME_NS);
	CHECK_EQ(kerndat_feature_by_name("no-such-feature"), -1);
	CHECK_EQ(kerndat_feature_by_name(""), -1);
}

/* Every name of upstream's `criu check --feature` list is ours too, each its own feature. */
TEST(upstream_feature_names)
{
	static const char *const names[] = {
		"mnt_id", "mem_dirty_track", "aio_remap", "timerfd", "tun", "tun_ns", "userns",
		"fdinfo_lock", "seccomp_suspend", "seccomp_filters", "loginuid", "cgroupns",
		"autofs", "tcp_half_closed", "compat_cr", "uffd", "uffd-noncoop", "can_map_vdso",
		"sk_ns", "sk_unix_file", "net_diag_raw", "nsid", "link_nsid", "kcmp_epoll",
		"timens", "external_net_ns", "clone3_set_tid", "newifindex", "nftables",
		"has_ipt_legacy", "pidfd_store", "ns_pid", "apparmor_stacking",
		"network_lock_nftables", "sockopt_buf_lock", "memfd_hugetlb",
		"move_mount_set_group", "openat2", "get_rseq_conf", "ipv6_freebind",
		"pagemap_scan", "timer_cr_ids", "overlayfs_maps", "pagemap_scan_guard_pages",
	};
	bool seen[KD_NR_FEATURES] = { false };
	size_t n = sizeof(names) / sizeof(names[0]);

	for (size_t i = 0; i < n; i++) {
		int f = kerndat_feature_by_name(names[i]);

		if (f < 0)
			printf("  unknown upstream feature '%s'\n", names[i]);
		CHECK(f >= 0);
		if (f < 0)
			continue;
		/* two names for one probe would answer one for the other */
		if (seen[f])
			printf("  '%s' shares its feature with another name\n", names[i]);
		CHECK(!seen[f]);
		seen[f] = true;
	}
	CHECK_EQ(kerndat_feature_by_name("no_such_feature"), -1);
	CHECK_EQ(kerndat_has_feature("no_such_feature"), -1);
	/* every feature has a name, a description and a class */
	for (int f = 0; f < KD_NR_FEATURES; f++) {
		CHECK(kd_features[f].name && kd_features[f].name[0]);
		CHECK(kd_features[f].what && kd_features[f].what[0]);
		CHECK_EQ(kerndat_feature_by_name(kd_features[f].name), f);
	}
}

UNIT_MAIN()
