/*
 * aarch64 SVE: a z register at its full length (beyond the 128 bits that
 * FPSIMD shares) and the thread's vector length, checked in a running loop
 * with no syscall (a syscall discards the SVE state beyond FPSIMD).
 */
#include "lib.h"

#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#include <sys/prctl.h>

static const char *skip(void)
{
	return getauxval(AT_HWCAP) & HWCAP_SVE ? NULL : "no SVE on this CPU";
}
#else
static const char *skip(void)
{
	return "SVE is aarch64 only";
}
#endif

TEST("aarch64 SVE: a full-length z register and the vector length", .skip = skip);

#if defined(__aarch64__)
#define WANT_VL 32 /* bytes: 256-bit vectors */

static unsigned char seen[256], want[256];

static void load_z8(void)
{
	/* z8.b[i] = 7 + 3 * i, over the whole vector length */
	asm volatile(".arch_extension sve\n\tindex z8.b, #7, #3" ::: "memory");
}

static void store_z8(void)
{
	asm volatile(".arch_extension sve\n\tptrue p1.b\n\tst1b {z8.b}, p1, [%0]"
		     :
		     : "r"(seen)
		     : "memory");
}
#endif

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (skip())
		setup_fail("%s", skip());
#if defined(__aarch64__)
	int vl = prctl(PR_SVE_SET_VL, WANT_VL);

	if (vl < 0)
		setup_fail("PR_SVE_SET_VL: %s", strerror(errno));
	vl &= PR_SVE_VL_LEN_MASK;
	for (int i = 0; i < vl; i++)
		want[i] = (unsigned char)(7 + 3 * i);
	test_ready();
	test_unblock_stop();
	load_z8();
	while (!test_stop) {
		store_z8();
		if (memcmp(seen, want, vl)) {
			for (int i = 0; i < vl; i++)
				if (seen[i] != want[i]) {
					fail("z8 byte %d is %#x, want %#x (vector length %d)", i,
					     seen[i], want[i], vl);
					break;
				}
			break;
		}
	}
	test_wait();
	int now = prctl(PR_SVE_GET_VL) & PR_SVE_VL_LEN_MASK;

	if (now != vl)
		fail("the vector length is %d bytes, want %d", now, vl);
#endif
	test_done();
}
