/* General registers hold their values while the program runs through C/R. */
#include "regs.h"

TEST("general registers, compared continuously in a running asm loop");

static struct gp_ctx ctx;

int main(int argc, char **argv)
{
	test_init(argc, argv);
	gp_prepare(&ctx, 0x6e6e);
	test_ready();
	test_unblock_stop();
	if (gp_loop(&ctx))
		gp_report(&ctx, "main thread");
	test_wait();
	test_done();
}
