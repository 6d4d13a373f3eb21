/* Saying whether this CPU can run an image's tasks, and what stands in the way. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "cpuinfo.h"
#include "log.h"
#include "pb-fields.h"

/* A command prints its findings; restore refuses with them. */
static void say(bool as_errors, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(bool as_errors, const char *fmt, ...)
{
	char line[1024];
	va_list args;

	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	if (as_errors)
		pr_err("%s\n", line);
	else
		pr_msg("%s\n", line);
}

/* Good news is a command's result, and only information for restore. */
static void say_ok(bool as_errors, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say_ok(bool as_errors, const char *fmt, ...)
{
	char line[256];
	va_list args;

	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	if (as_errors)
		pr_info("%s\n", line);
	else
		pr_msg("%s\n", line);
}

/* Missing features first (what breaks), then values, then what this CPU adds. */
static void say_differences(const struct cpu_mismatch_report *r, bool as_errors)
{
	static const enum cpu_mismatch_kind order[] = { CPU_MISSING, CPU_VALUE, CPU_EXTRA };
	char line[512];

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (size_t i = 0; i < r->n; i++) {
			if (r->items[i].kind != order[k])
				continue;
			cpu_mismatch_format(r, &r->items[i], line, sizeof(line));
			say(as_errors, "%s", line);
		}
}

/* "cpu: 3, fpu: 1" for the modes in effect. */
static void count_by_mode(const struct cpu_mismatch_report *r, unsigned modes, char *buf, size_t size)
{
	static const unsigned each[] = { CPU_CAP_CPU, CPU_CAP_FPU, CPU_CAP_INS };
	size_t n = 0;

	buf[0] = 0;
	for (size_t k = 0; k < sizeof(each) / sizeof(each[0]) && n < size; k++) {
		unsigned count = 0;
		char name[8];

		if (!(modes & each[k]))
			continue;
		for (size_t i = 0; i < r->n; i++)
			count += !!(r->items[i].modes & each[k]);
		n += snprintf(buf + n, size - n, "%s%s: %u", n ? ", " : "",
			      cpu_cap_name(each[k], name, sizeof(name)), count);
	}
}

static int say_verdict(const struct cpu_mismatch_report *r, unsigned modes, bool as_errors)
{
	char mode_names[32], counts[64];

	cpu_cap_name(modes, mode_names, sizeof(mode_names));
	if (r->words_skipped)
		pr_warn("cpuinfo: %u feature words are not in the image (an older or upstream "
			"one) and were not compared\n",
			r->words_skipped);
	if (!r->n) {
		say_ok(as_errors, "cpuinfo: this CPU is compatible with the image (--cpu-cap=%s)", mode_names);
		return CPUINFO_COMPATIBLE;
	}
	count_by_mode(r, modes, counts, sizeof(counts));
	say(as_errors, "cpuinfo: this CPU is NOT compatible with the image (--cpu-cap=%s): %zu %s (%s)",
	    mode_names, r->n, r->n == 1 ? "difference" : "differences", counts);
	return CPUINFO_INCOMPATIBLE;
}

static int say_other_arch(const char *img_arch, const char *here_arch, bool as_errors)
{
	say(as_errors, "cpuinfo: the image was dumped on %s and this is %s: its tasks cannot run "
		       "on another architecture",
	    img_arch, here_arch);
	say(as_errors, "cpuinfo: this CPU is NOT compatible with the image");
	return CPUINFO_INCOMPATIBLE;
}

static size_t nr_arch_entries(const struct cpu_arch_desc *d, const CpuinfoEntry *img)
{
	size_t n;

	cpu_pb_message(&img->base, d->entry_field, &n);
	return n;
}

int cpuinfo_verdict(const struct cpu_arch_desc *d, const CpuinfoEntry *img, const CpuinfoEntry *here,
		    unsigned modes, bool as_errors)
{
	struct cpu_mismatch_report r;
	const char *img_arch = cpuinfo_entry_arch(img);
	int ret;

	if (!img_arch) {
		pr_err("cpuinfo.img describes no CPU of any architecture criu knows\n");
		return CPUINFO_ERROR;
	}
	if (strcmp(img_arch, d->arch))
		return say_other_arch(img_arch, d->arch, as_errors);
	if (modes == CPU_CAP_NONE) {
		say_ok(as_errors, "cpuinfo: nothing compared (--cpu-cap=none)");
		return CPUINFO_COMPATIBLE;
	}
	if (nr_arch_entries(d, img) > 1)
		pr_info("cpuinfo: the image describes %zu CPUs; the first is compared\n",
			nr_arch_entries(d, img));
	ret = cpuinfo_compare(d, img, here, modes, &r);
	if (ret == 0) {
		say_differences(&r, as_errors);
		ret = say_verdict(&r, modes, as_errors);
	} else if (ret == -ENOMEM) {
		pr_err("cpuinfo: out of memory comparing CPUs\n");
		ret = CPUINFO_ERROR;
	} else {
		pr_err("cpuinfo: the %s feature tables do not fit the image format (a bug)\n", d->arch);
		ret = CPUINFO_ERROR;
	}
	cpu_mismatch_report_free(&r);
	return ret;
}
