/*
 * Vector registers hold their values in a running loop: SSE xmm0-14 on x86,
 * NEON v0-v30 on aarch64, VSX vs0-vs61 on ppc64le, vector v0-v30 on s390x.
 */
#include "regs.h"

static const char *skip(void)
{
	return vec_skip();
}

TEST("vector registers (SSE/NEON/VSX/s390 vector), compared in a running loop", .skip = skip);

static struct vec_ctx ctx;

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (skip())
		setup_fail("%s", skip());
	vec_prepare(&ctx, 0x5e5e);
	test_ready();
	test_unblock_stop();
	if (vec_loop(&ctx))
		vec_report(&ctx, NR_VEC_CHECKED, VEC_BYTES, VEC_NAME);
	test_wait();
	test_done();
}
