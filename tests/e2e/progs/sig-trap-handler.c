/*
 * A SIGTRAP handler (and one for SIGSEGV) survives: criu's parasite ends
 * each of its runs at a trap instruction, and a forced SIGTRAP that meets
 * a blocked or ignored SIGTRAP resets its handler to SIG_DFL.
 */
#include "lib.h"

TEST("handlers of SIGTRAP and SIGSEGV are kept, and SIGTRAP still reaches its handler");

static volatile int traps, trap_code;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	traps++;
	trap_code = si->si_code;
}

static void on_segv(int sig)
{
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_trap, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct sigaction sv = { .sa_handler = on_segv, .sa_flags = SA_NODEFER };

	test_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR1);
	sigemptyset(&sv.sa_mask);
	if (sigaction(SIGTRAP, &sa, NULL) || sigaction(SIGSEGV, &sv, NULL))
		setup_fail("sigaction: %s", strerror(errno));
	test_ready();
	test_wait();

	struct sigaction now;
	sigaction(SIGTRAP, NULL, &now);
	if (now.sa_sigaction != on_trap || !(now.sa_flags & SA_SIGINFO) ||
	    !sigismember(&now.sa_mask, SIGUSR1))
		fail("SIGTRAP action is %p flags %#x, want %p with SA_SIGINFO and SIGUSR1 masked",
		     (void *)now.sa_sigaction, now.sa_flags, (void *)on_trap);
	sigaction(SIGSEGV, NULL, &now);
	if (now.sa_handler != on_segv)
		fail("SIGSEGV handler is %p, want %p", (void *)now.sa_handler, (void *)on_segv);
	raise(SIGTRAP);
	if (traps != 1 || trap_code != SI_TKILL)
		fail("raise(SIGTRAP): the handler ran %d times (si_code %d), want once", traps, trap_code);
	test_done();
}
