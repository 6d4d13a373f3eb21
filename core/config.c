/*
 * Config files as criu(8) describes them: one option a line, its long name
 * without the dashes, then its value if it takes one; blanks around; '#'
 * starts a comment; a value may be quoted ("a b", with \" for a quote).
 *
 *     # /etc/criu/default.conf
 *     tcp-established
 *     log-file "/var/log/criu dump.log"
 *     verbosity 4
 *
 * This file only splits lines; core/cli.c applies each setting as if it had
 * been given as --NAME=VALUE, so a config file accepts and refuses exactly
 * what the command line does.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* Copies one word (quoted or not) from *p into out; advances *p.  -1 on an unclosed quote. */
static int next_word(const char **p, char *out, size_t size, size_t *len)
{
	const char *s = *p;
	size_t n = 0;

	if (*s == '"') {
		for (s++; *s && *s != '"'; s++) {
			if (s[0] == '\\' && (s[1] == '"' || s[1] == '\\'))
				s++;
			if (n + 1 < size)
				out[n++] = *s;
		}
		if (*s != '"')
			return -1;
		s++;
	} else {
		for (; *s && !isspace((unsigned char)*s); s++)
			if (n + 1 < size)
				out[n++] = *s;
	}
	out[n] = '\0';
	*len = n;
	*p = s;
	return 0;
}

static const char *skip_blanks(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

int config_parse_line(const char *line, char *name, size_t nsize, char *value, size_t vsize,
		      int *has_value, const char **why)
{
	const char *p = skip_blanks(line);
	size_t len;

	*has_value = 0;
	name[0] = value[0] = '\0';
	if (!*p || *p == '#')
		return 0;
	if (*p == '"') {
		*why = "an option name can't be quoted";
		return -1;
	}
	if (next_word(&p, name, nsize, &len) || len >= nsize - 1) {
		*why = "the option name is too long";
		return -1;
	}
	if (name[0] == '-') {
		*why = "write the option without its dashes";
		return -1;
	}
	p = skip_blanks(p);
	if (!*p || *p == '#')
		return 1;
	if (next_word(&p, value, vsize, &len)) {
		*why = "a quote is not closed";
		return -1;
	}
	if (len >= vsize - 1) {
		*why = "the value is too long";
		return -1;
	}
	*has_value = 1;
	p = skip_blanks(p);
	if (*p && *p != '#') {
		*why = "more than one value (quote a value that has blanks)";
		return -1;
	}
	return 1;
}

int config_read_file(const char *path, config_setting_fn fn, void *arg)
{
	char name[128], value[4096];
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, ret = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) >= 0) {
		const char *why = NULL;
		int has_value, r;

		lineno++;
		r = config_parse_line(line, name, sizeof(name), value, sizeof(value), &has_value,
				      &why);
		if (r < 0) {
			ret = fn(arg, path, lineno, NULL, why);
			break;
		}
		if (r == 0)
			continue;
		ret = fn(arg, path, lineno, name, has_value ? value : NULL);
		if (ret)
			break;
	}
	free(line);
	fclose(f);
	return ret ? -EINVAL : 0;
}
