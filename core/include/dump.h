/* criu dump and restore: shared definitions. */
#ifndef CRIU_DUMP_H
#define CRIU_DUMP_H

/* task_core_entry.task_state, upstream's values */
#define TASK_STATE_ALIVE 0x1
#define TASK_STATE_DEAD 0x2
#define TASK_STATE_STOPPED 0x3
#define TASK_STATE_HELPER 0x4
#define TASK_STATE_THREAD 0x5

/* Tells --status-fd that the work is done (a zero byte), then closes it. */
int dump_status_fd_ready(void);

#endif
