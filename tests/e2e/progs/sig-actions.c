/* Signal actions: handlers, flags (SA_SIGINFO, SA_RESTART, ...) and masks of every signal. */
#include "lib.h"

TEST("sigactions of every signal: handler, flags and mask");

static volatile int usr1_hits, usr1_code, usr1_saw_mask;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	sigset_t now;

	usr1_hits++;
	usr1_code = si->si_code;
	sigprocmask(SIG_BLOCK, NULL, &now);
	usr1_saw_mask = sigismember(&now, SIGUSR2) && sigismember(&now, SIGHUP);
}

static void on_plain(int sig)
{
}

static void set(int sig, void *handler, int flags, int mask1, int mask2)
{
	struct sigaction sa = { .sa_flags = flags };

	if (flags & SA_SIGINFO)
		sa.sa_sigaction = handler;
	else
		sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	if (mask1)
		sigaddset(&sa.sa_mask, mask1);
	if (mask2)
		sigaddset(&sa.sa_mask, mask2);
	if (sigaction(sig, &sa, NULL) < 0)
		setup_fail("sigaction(%d): %s", sig, strerror(errno));
}

static struct sigaction saved[65];

int main(int argc, char **argv)
{
	test_init(argc, argv);
	set(SIGUSR1, on_info, SA_SIGINFO | SA_RESTART, SIGUSR2, SIGHUP);
	set(SIGUSR2, on_plain, SA_NODEFER | SA_RESETHAND, SIGINT, 0);
	set(SIGHUP, SIG_IGN, 0, 0, 0);
	set(SIGPIPE, SIG_IGN, SA_RESTART, 0, 0);
	set(SIGINT, on_plain, SA_ONSTACK | SA_RESTART, SIGQUIT, SIGRTMIN + 6);
	set(SIGCHLD, SIG_DFL, SA_NOCLDSTOP, 0, 0);
	set(SIGRTMIN + 5, on_info, SA_SIGINFO, SIGRTMIN + 6, SIGUSR1);
	set(SIGRTMAX, on_plain, 0, SIGRTMIN, 0);
	for (int sig = 1; sig <= 64; sig++)
		sigaction(sig, NULL, &saved[sig]);
	test_ready();
	test_wait();

	for (int sig = 1; sig <= 64; sig++) {
		struct sigaction now;
		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &now) < 0)
			continue;
		if (now.sa_handler != saved[sig].sa_handler)
			fail("signal %d: handler %p, want %p", sig, (void *)now.sa_handler,
			     (void *)saved[sig].sa_handler);
		if (now.sa_flags != saved[sig].sa_flags)
			fail("signal %d: flags %#x, want %#x", sig, now.sa_flags, saved[sig].sa_flags);
		for (int m = 1; m <= 64; m++)
			if (sigismember(&now.sa_mask, m) != sigismember(&saved[sig].sa_mask, m)) {
				fail("signal %d: mask differs at signal %d", sig, m);
				break;
			}
	}
	/* the handler still runs, with its mask */
	raise(SIGHUP);
	raise(SIGUSR1);
	if (usr1_hits != 1 || (usr1_code != SI_TKILL && usr1_code != SI_USER) || !usr1_saw_mask)
		fail("SIGUSR1 handler: %d runs, si_code %d, mask %s", usr1_hits, usr1_code,
		     usr1_saw_mask ? "ok" : "wrong");
	test_done();
}
