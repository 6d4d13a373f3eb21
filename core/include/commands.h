/* Entry points of the commands; each returns the process exit code. */
#ifndef CRIU_COMMANDS_H
#define CRIU_COMMANDS_H

int cmd_show(void);
int cmd_check(void);
int cmd_cpuinfo_dump(void);
int cmd_cpuinfo_check(void);

#endif
