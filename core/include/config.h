/* Config files (core/config.c): lines split into settings for core/cli.c. */
#ifndef CRIU_CONFIG_H
#define CRIU_CONFIG_H

#include <stddef.h>

/*
 * Called for each setting: name without dashes, value or NULL.  name NULL
 * means the line is malformed and value says why.  Non-zero stops reading.
 */
typedef int (*config_setting_fn)(void *arg, const char *file, int line, const char *name,
				 const char *value);

/*
 * Splits one line.  0: nothing on it (blank or comment); 1: a setting in
 * name (and value when *has_value); -1: malformed, *why says how.
 */
int config_parse_line(const char *line, char *name, size_t nsize, char *value, size_t vsize,
		      int *has_value, const char **why);

/* Reads path: 0, -ENOENT (or another -errno) when it can't be opened, -EINVAL when fn stopped. */
int config_read_file(const char *path, config_setting_fn fn, void *arg);

#endif
