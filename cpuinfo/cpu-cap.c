/* --cpu-cap: the list of modes criu(8) defines, to a mask and back. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cpuinfo.h"
#include "log.h"

struct cpu_cap_word {
	const char *name;
	unsigned modes;
};

/* In the order cpu_cap_name() lists them. */
static const struct cpu_cap_word cpu_cap_words[] = {
	{ "cpu", CPU_CAP_CPU },
	{ "fpu", CPU_CAP_FPU },
	{ "ins", CPU_CAP_INS },
	{ "all", CPU_CAP_ALL },
	{ "none", CPU_CAP_NONE },
};

#define NR_CPU_CAP_WORDS (sizeof(cpu_cap_words) / sizeof(cpu_cap_words[0]))

static const struct cpu_cap_word *cpu_cap_lookup(const char *s, size_t len)
{
	for (size_t i = 0; i < NR_CPU_CAP_WORDS; i++)
		if (strlen(cpu_cap_words[i].name) == len && !strncmp(s, cpu_cap_words[i].name, len))
			return &cpu_cap_words[i];
	return NULL;
}

static int cpu_cap_bad(const char *arg, const char *item, size_t len, const char *why)
{
	pr_err("--cpu-cap=%s: %s '%.*s'; use a comma list of all, cpu, fpu, ins, none, "
	       "each may be inverted with ^\n",
	       arg, why, (int)len, item);
	return -EINVAL;
}

/* Applies one item of the list ("fpu", "^cpu") to *modes. */
static int cpu_cap_apply(const char *arg, const char *item, size_t len, unsigned *modes)
{
	bool invert = len && item[0] == '^';
	const struct cpu_cap_word *w;

	if (!len)
		return cpu_cap_bad(arg, item, len, "empty item");
	w = cpu_cap_lookup(item + invert, len - invert);
	if (!w)
		return cpu_cap_bad(arg, item, len, "unknown mode");
	/* "none" sets rather than adds: "^none" is therefore everything. */
	if (w->modes == CPU_CAP_NONE)
		*modes = invert ? CPU_CAP_ALL : CPU_CAP_NONE;
	else if (invert)
		*modes &= ~w->modes;
	else
		*modes |= w->modes;
	return 0;
}

int cpu_cap_parse(const char *arg, bool given, unsigned *modes)
{
	const char *p, *comma;

	if (!arg) {
		*modes = given ? CPU_CAP_ALL : CPU_CAP_DEFAULT;
		return 0;
	}
	/* "^fpu" alone reads "everything but fpu". */
	*modes = arg[0] == '^' ? CPU_CAP_ALL : CPU_CAP_NONE;
	for (p = arg;; p = comma + 1) {
		comma = strchr(p, ',');
		if (cpu_cap_apply(arg, p, comma ? (size_t)(comma - p) : strlen(p), modes))
			return -EINVAL;
		if (!comma)
			return 0;
	}
}

const char *cpu_cap_name(unsigned modes, char *buf, size_t size)
{
	size_t n = 0;

	if (!size)
		return buf;
	buf[0] = 0;
	if (modes == CPU_CAP_NONE || modes == CPU_CAP_ALL) {
		snprintf(buf, size, "%s", modes ? "all" : "none");
		return buf;
	}
	for (size_t i = 0; i < NR_CPU_CAP_WORDS && n < size; i++) {
		const struct cpu_cap_word *w = &cpu_cap_words[i];

		if (w->modes == CPU_CAP_ALL || w->modes == CPU_CAP_NONE || !(modes & w->modes))
			continue;
		n += snprintf(buf + n, size - n, "%s%s", n ? "," : "", w->name);
	}
	return buf;
}
