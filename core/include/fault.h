/*
 * Fault injection, for tests that check what a failing or killed criu
 * leaves behind.  CRIU_FAULT in the environment:
 *
 *   CRIU_FAULT=N       the Nth fault point reached fails: fault_point()
 *                      logs an error and returns -EIO, and the caller
 *                      fails as it would on a real error at that step
 *   CRIU_FAULT=N:kill  the Nth fault point reached SIGKILLs criu (the
 *                      process that ran fault_init(); a restored task still
 *                      running criu's code kills that one and goes on)
 *   CRIU_FAULT=N:pause the Nth fault point reached stops the process that
 *                      reaches it (SIGSTOP) and goes on after SIGCONT: a
 *                      test acts on the tree in exactly that window
 *   CRIU_FAULT=list    nothing fails; every point reached is also printed
 *                      on stderr, so that a test learns how many there are
 *
 * Points are counted dynamically in execution order, in criu and in every
 * process it forks (the counter is shared), and each is logged at info
 * level as "fault point N: NAME"; at exit criu logs "fault points: N".
 */
#ifndef CRIU_FAULT_H
#define CRIU_FAULT_H

#include <stdbool.h>
#include <sys/types.h>

/* Reads CRIU_FAULT; -1 (logged) for a value that means nothing. */
int fault_init(void);
/* 0, or -EIO when this is the failing point (the error is logged). */
int fault_point(const char *name);
/* Points reached so far, by every process of this criu. */
unsigned int fault_points_reached(void);
/* Logs "fault points: N" (at the end of a command). */
void fault_report(void);
bool fault_enabled(void);
/* The failing point (CRIU_FAULT=N) was reached: a fallback that would hide
 * the injected failure must not be taken. */
bool fault_hit(void);
/* pid works for criu (restore's worker): a kill kills it first, then criu. */
void fault_set_worker(pid_t pid);

#endif
