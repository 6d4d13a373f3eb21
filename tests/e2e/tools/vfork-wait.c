/*
 * vfork-wait: a parent that can't be stopped by ptrace: it sits in vfork()
 * (a killable, not interruptible, wait) while its child pauses.  Dump's
 * --timeout must bound the wait for it.  Both end when killed (the child
 * by its own pid).
 */
#include <unistd.h>

int main(void)
{
	if (vfork() == 0)
		for (;;)
			pause();
	return 0;
}
