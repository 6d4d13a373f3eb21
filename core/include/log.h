/* Logging as criu(8) describes it: levels 0-4, default 2. */
#ifndef CRIU_LOG_H
#define CRIU_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_MSG = 0,   /* always printed: results the user asked for */
	LOG_ERROR = 1, /* -v1: messages and errors */
	LOG_WARN = 2,  /* -v2: also warnings (default) */
	LOG_INFO = 3,  /* -v3: also information and timestamps */
	LOG_DEBUG = 4, /* -v4: lots of debug */
};

#define DEFAULT_LOGLEVEL LOG_WARN
/*
 * A step of dump or restore: written to a log file at every level (as a
 * warning would be), so that the log of a criu killed midway shows the
 * last step it reached; on the terminal only from -v3 (as information).
 */
#define LOG_STEP 5

/* Opens the log file (NULL or "-" means stderr) relative to dirfd. */
int log_init(int dirfd, const char *path, int level, int log_pid);
void log_set_level(int level);
int log_get_level(void);
void log_close(void);
/* Stops logging without touching the fd (a restored task took its number). */
void log_close_fd_only(void);
/* the fd the log is written to (stderr when there is no -o file) */
int log_get_fd(void);
/* Logs this process's peak RSS (VmHWM) at info level. */
void log_peak_rss(void);
/* Switches to a per-pid file "<path>.<pid>" when --log-pid was given. */
int log_reopen_for_pid(int pid);

/*
 * What an RPC answer reports of a failure: the text of the last error logged
 * (without "Error: " and the newline; NULL if none) and the errno a failure
 * stands for (set_cr_errno: ESRCH for a pid that is not there, EEXIST for a
 * pid that is taken; 0 if nobody said).
 */
const char *log_last_error(void);
/* the first error logged since log_reset_last_error(): usually the cause */
const char *log_first_error(void);
void log_reset_last_error(void);
void set_cr_errno(int err);
int get_cr_errno(void);

void log_printf(int level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define pr_msg(fmt, ...) log_printf(LOG_MSG, NULL, 0, fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...) log_printf(LOG_ERROR, __FILE__, __LINE__, "Error: " fmt, ##__VA_ARGS__)
#define pr_perror(fmt, ...) \
	log_printf(LOG_ERROR, __FILE__, __LINE__, "Error: " fmt ": %m\n", ##__VA_ARGS__)
#define pr_warn(fmt, ...) log_printf(LOG_WARN, __FILE__, __LINE__, "Warn: " fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) log_printf(LOG_INFO, NULL, 0, fmt, ##__VA_ARGS__)
#define pr_step(fmt, ...) log_printf(LOG_STEP, NULL, 0, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) log_printf(LOG_DEBUG, NULL, 0, fmt, ##__VA_ARGS__)

#endif
