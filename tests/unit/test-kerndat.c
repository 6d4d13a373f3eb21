/* kerndat: the vDSO layout parser and the feature names of `criu check`. */
#include <errno.h>
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

UNIT_MAIN()
