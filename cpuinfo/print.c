/* An entry's features by name, for `criu show -f cpuinfo.img`. */
#include <string.h>

#include "commands.h"
#include "cpuinfo.h"
#include "pb-fields.h"

#define LIST_WIDTH 78

struct name_list {
	FILE *out;
	const char *title;
	int col; /* 0: nothing printed yet */
};

/* Prints names after a title, wrapped under each other like `ls`. */
static void list_add(struct name_list *l, const char *name)
{
	int len = (int)strlen(name);

	if (!l->col) {
		l->col = fprintf(l->out, "  %s:", l->title);
	} else if (l->col + 1 + len > LIST_WIDTH) {
		fputc('\n', l->out);
		l->col = fprintf(l->out, "  %*s", (int)strlen(l->title) + 1, "");
	}
	l->col += fprintf(l->out, " %s", name);
}

static void list_end(struct name_list *l)
{
	if (l->col)
		fputc('\n', l->out);
}

static bool feature_set(const ProtobufCMessage *m, const struct cpu_arch_desc *d, const struct cpu_feature *f)
{
	uint64_t v, mask;

	return cpu_word_get(m, &d->words[f->word], &v) && cpu_word_bit(&d->words[f->word], f->bit, &mask) &&
	       (v & mask);
}

static bool in_class(const struct cpu_feature *f, unsigned cls)
{
	return cls ? (f->cls & cls) : !f->cls;
}

/* A name said twice (s390: an hwcap bit and its facility) is listed once. */
static bool listed_before(const ProtobufCMessage *m, const struct cpu_arch_desc *d, unsigned i, unsigned cls)
{
	for (unsigned j = 0; j < i; j++) {
		const struct cpu_feature *g = &d->features[j];

		if (in_class(g, cls) && !strcmp(g->name, d->features[i].name) && feature_set(m, d, g))
			return true;
	}
	return false;
}

static void print_class(FILE *out, const struct cpu_arch_desc *d, const ProtobufCMessage *m, const char *title,
			unsigned cls)
{
	struct name_list l = { out, title, 0 };

	for (unsigned i = 0; i < d->nr_features; i++) {
		const struct cpu_feature *f = &d->features[i];

		if (in_class(f, cls) && feature_set(m, d, f) && !listed_before(m, d, i, cls))
			list_add(&l, f->name);
	}
	list_end(&l);
}

/* Set bits the tables have no name for, and words the image lacks. */
static void print_unnamed(FILE *out, const struct cpu_arch_desc *d, const ProtobufCMessage *m)
{
	struct name_list unnamed = { out, "unnamed", 0 }, absent = { out, "not in the image", 0 };
	char name[96];

	for (unsigned i = 0; i < d->nr_words; i++) {
		const struct cpu_word *w = &d->words[i];
		uint64_t v, mask;

		if (!cpu_word_get(m, w, &v)) {
			list_add(&absent, w->where);
			continue;
		}
		for (unsigned bit = w->first; bit < w->first + w->width; bit++) {
			if (!cpu_word_bit(w, bit, &mask) || !(v & mask) || cpu_feature_at(d, i, bit))
				continue;
			snprintf(name, sizeof(name), "%s:%u", w->where, bit);
			list_add(&unnamed, name);
		}
	}
	list_end(&unnamed);
	list_end(&absent);
}

static void print_values(FILE *out, const struct cpu_arch_desc *d, const ProtobufCMessage *m)
{
	for (unsigned i = 0; i < d->nr_values; i++) {
		const struct cpu_value *v = &d->values[i];
		struct cpu_pb_value pv;
		char text[160];

		if (cpu_pb_value_get(m, v->field, &pv) != 1)
			continue;
		cpu_pb_value_format(&pv, v->unit, text, sizeof(text));
		fprintf(out, "  %s: %s%s%s%s\n", v->name, text, v->where ? " (" : "", v->where ? v->where : "",
			v->where ? ")" : "");
	}
}

void cpuinfo_print_entry(FILE *out, const struct cpu_arch_desc *d, const CpuinfoEntry *e)
{
	const ProtobufCMessage *m = cpuinfo_arch_entry(d, e);

	if (!m)
		return;
	fprintf(out, "  %s CPU features (ins and fpu list what those --cpu-cap modes compare):\n", d->arch);
	print_class(out, d, m, "ins", CPU_CLASS_INS);
	print_class(out, d, m, "fpu", CPU_CLASS_FPU);
	print_class(out, d, m, "other", CPU_CLASS_OTHER);
	print_unnamed(out, d, m);
	print_values(out, d, m);
}

void cpuinfo_print_features(FILE *out, const ProtobufCMessage *entry)
{
	const CpuinfoEntry *e = (const CpuinfoEntry *)entry;
	const char *arch;

	if (!entry || entry->descriptor != &cpuinfo_entry__descriptor)
		return;
	arch = cpuinfo_entry_arch(e);
	if (!arch)
		fprintf(out, "  (no CPU description of an architecture criu knows)\n");
	else if (strcmp(arch, arch_cpu_desc.arch))
		fprintf(out, "  (%s CPU: criu built for %s prints its features by name)\n", arch, arch);
	else
		cpuinfo_print_entry(out, &arch_cpu_desc, e);
}
