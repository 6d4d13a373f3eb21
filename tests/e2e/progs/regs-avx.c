/* x86 AVX: ymm0-14 (the upper halves included) hold their values in a running loop. */
#include "regs.h"

static const char *skip(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx") ? NULL : "the CPU has no AVX";
#else
	return "x86_64 only (regs-vec covers this architecture's vectors)";
#endif
}

TEST("x86 AVX ymm registers, compared in a running loop", .skip = skip);

#if defined(__x86_64__)
static struct vec_ctx ctx;

static __attribute__((noinline, target("avx"))) long avx_loop(struct vec_ctx *c)
{
	long r = (long)c;

	asm volatile(".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n vmovdqu 64*\\n(%%rax), %%ymm\\n\n .endr\n"
		     "1: cmpl $0, %[stop]\n jne 2f\n"
		     ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n"
		     " vxorps 64*\\n(%%rax), %%ymm\\n, %%ymm15\n vptest %%ymm15, %%ymm15\n jnz 3f\n .endr\n"
		     "jmp 1b\n"
		     "3: .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n vmovdqu %%ymm\\n, 4096+64*\\n(%%rax)\n .endr\n"
		     "mov $1, %%eax\n jmp 4f\n"
		     /* stopped: one more full pass, so every register is compared after restore */
		     "2:\n"
		     ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n"
		     " vxorps 64*\\n(%%rax), %%ymm\\n, %%ymm15\n vptest %%ymm15, %%ymm15\n jnz 3b\n .endr\n"
		     "xor %%eax, %%eax\n"
		     "4: vzeroupper\n"
		     : "+a"(r)
		     : [stop] "m"(test_stop)
		     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
		       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
	return r;
}
#endif

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (skip())
		setup_fail("%s", skip());
#if defined(__x86_64__)
	vec_prepare(&ctx, 0xa7a7);
	test_ready();
	test_unblock_stop();
	if (avx_loop(&ctx))
		vec_report(&ctx, 15, 32, "ymm");
	test_wait();
#endif
	test_done();
}
