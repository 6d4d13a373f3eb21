/*
 * Comparing an image's CPU with this one under the --cpu-cap modes, from
 * the arch's description alone (see cpuinfo.h for what each mode means).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpuinfo.h"
#include "pb-fields.h"

bool cpu_word_get(const ProtobufCMessage *m, const struct cpu_word *w, uint64_t *v)
{
	if (!cpu_pb_number(m, w->field, w->index, v))
		return false;
	if (w->width < 64)
		*v &= (1ull << w->width) - 1;
	return true;
}

bool cpu_word_bit(const struct cpu_word *w, unsigned bit, uint64_t *mask)
{
	unsigned pos;

	if (bit < w->first || bit - w->first >= w->width)
		return false;
	pos = bit - w->first;
	*mask = 1ull << (w->msb0 ? w->width - 1 - pos : pos);
	return true;
}

/* The number the manuals give the bit at shift pos of word w. */
static unsigned word_bit_number(const struct cpu_word *w, unsigned pos)
{
	return w->first + (w->msb0 ? w->width - 1 - pos : pos);
}

const struct cpu_feature *cpu_feature_at(const struct cpu_arch_desc *d, unsigned word, unsigned bit)
{
	for (unsigned i = 0; i < d->nr_features; i++)
		if (d->features[i].word == word && d->features[i].bit == bit)
			return &d->features[i];
	return NULL;
}

static int report_add(struct cpu_mismatch_report *r, const struct cpu_mismatch *m)
{
	if (r->n == r->alloc) {
		size_t alloc = r->alloc ? r->alloc * 2 : 16;
		struct cpu_mismatch *items = realloc(r->items, alloc * sizeof(*items));

		if (!items)
			return -ENOMEM;
		r->items = items;
		r->alloc = alloc;
	}
	r->items[r->n++] = *m;
	return 0;
}

/* The modes among `modes` that care about a feature the image has and this CPU lacks. */
static unsigned missing_modes(unsigned cls, unsigned modes)
{
	unsigned found = modes & CPU_CAP_CPU;

	if ((modes & CPU_CAP_INS) && (cls & CPU_CLASS_INS))
		found |= CPU_CAP_INS;
	if ((modes & CPU_CAP_FPU) && (cls & CPU_CLASS_FPU))
		found |= CPU_CAP_FPU;
	return found;
}

static int compare_bit(struct cpu_mismatch_report *r, unsigned word, unsigned pos, bool in_image,
		       unsigned modes)
{
	const struct cpu_word *w = &r->desc->words[word];
	struct cpu_mismatch m = { .word = word, .bit = word_bit_number(w, pos) };

	m.feat = cpu_feature_at(r->desc, word, m.bit);
	if (in_image) {
		m.kind = CPU_MISSING;
		m.modes = missing_modes(m.feat ? m.feat->cls : w->unnamed_class, modes);
	} else {
		m.kind = CPU_EXTRA;
		m.modes = modes & CPU_CAP_CPU;
	}
	return m.modes ? report_add(r, &m) : 0;
}

static int compare_word(struct cpu_mismatch_report *r, unsigned word, unsigned modes)
{
	const struct cpu_word *w = &r->desc->words[word];
	uint64_t img, here, diff;

	if (!cpu_word_get(r->image, w, &img)) {
		r->words_skipped++;
		return 0;
	}
	if (!cpu_word_get(r->here, w, &here))
		return 0;
	diff = img ^ here;
	for (unsigned pos = 0; pos < w->width; pos++) {
		int ret;

		if (!(diff & (1ull << pos)))
			continue;
		ret = compare_bit(r, word, pos, img & (1ull << pos), modes);
		if (ret)
			return ret;
	}
	return 0;
}

static bool rule_broken(enum cpu_value_rule rule, const struct cpu_pb_value *img,
			const struct cpu_pb_value *here)
{
	bool is_str = img->field->type == PROTOBUF_C_TYPE_STRING;

	switch (rule) {
	case CPU_RULE_NOT_LARGER:
		return !is_str && here->num > img->num;
	case CPU_RULE_NOT_SMALLER:
		return !is_str && here->num < img->num;
	case CPU_RULE_EQUAL:
		return !cpu_pb_value_equal(img, here);
	default:
		return false;
	}
}

static int compare_value(struct cpu_mismatch_report *r, const struct cpu_value *v, unsigned modes)
{
	struct cpu_pb_value img, here;
	struct cpu_mismatch m = { .kind = CPU_VALUE, .value = v };

	if (cpu_pb_value_get(r->image, v->field, &img) != 1 ||
	    cpu_pb_value_get(r->here, v->field, &here) != 1)
		return 0;
	if ((modes & CPU_CAP_CPU) && v->cpu_equal && !cpu_pb_value_equal(&img, &here))
		m.modes |= CPU_CAP_CPU;
	if (rule_broken(v->rule, &img, &here))
		m.modes |= missing_modes(v->cls, modes) & (CPU_CAP_INS | CPU_CAP_FPU);
	return m.modes ? report_add(r, &m) : 0;
}

/* Every field the description names must exist, or the tables are wrong. */
static int check_desc_fields(const struct cpu_arch_desc *d, const ProtobufCMessage *m)
{
	for (unsigned i = 0; i < d->nr_words; i++)
		if (!cpu_pb_field(m, d->words[i].field))
			return -EINVAL;
	for (unsigned i = 0; i < d->nr_values; i++)
		if (!cpu_pb_field(m, d->values[i].field))
			return -EINVAL;
	return 0;
}

int cpuinfo_compare(const struct cpu_arch_desc *d, const CpuinfoEntry *img, const CpuinfoEntry *here,
		    unsigned modes, struct cpu_mismatch_report *out)
{
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->desc = d;
	out->image = cpuinfo_arch_entry(d, img);
	out->here = cpuinfo_arch_entry(d, here);
	if (!out->image)
		return -EXDEV;
	if (!out->here || check_desc_fields(d, out->image))
		return -EINVAL;
	for (unsigned i = 0; i < d->nr_words && !ret; i++)
		ret = compare_word(out, i, modes);
	for (unsigned i = 0; i < d->nr_values && !ret; i++)
		ret = compare_value(out, &d->values[i], modes);
	return ret;
}

void cpu_mismatch_report_free(struct cpu_mismatch_report *r)
{
	free(r->items);
	r->items = NULL;
	r->n = r->alloc = 0;
}

/* "avx512f (CPUID.7.0:EBX bit 16)", or "CPUID.1:ECX bit 31" for an unnamed bit. */
static void format_feature(const struct cpu_arch_desc *d, const struct cpu_mismatch *m, char *buf,
			   size_t size)
{
	const struct cpu_word *w = &d->words[m->word];

	if (!m->feat)
		snprintf(buf, size, "%s %s %u", w->where, w->unit, m->bit);
	else if (m->feat->where)
		snprintf(buf, size, "%s (%s)", m->feat->name, m->feat->where);
	else
		snprintf(buf, size, "%s (%s %s %u)", m->feat->name, w->where, w->unit, m->bit);
}

static int format_value(const struct cpu_mismatch_report *r, const struct cpu_mismatch *m, char *buf,
			size_t size)
{
	const struct cpu_value *v = m->value;
	struct cpu_pb_value img, here;
	char a[128], b[128];
	const char *how = "differs";

	cpu_pb_value_get(r->image, v->field, &img);
	cpu_pb_value_get(r->here, v->field, &here);
	cpu_pb_value_format(&img, v->unit, a, sizeof(a));
	cpu_pb_value_format(&here, v->unit, b, sizeof(b));
	if (!(m->modes & CPU_CAP_CPU) && v->rule == CPU_RULE_NOT_LARGER)
		how = "is larger";
	else if (!(m->modes & CPU_CAP_CPU) && v->rule == CPU_RULE_NOT_SMALLER)
		how = "is smaller";
	return snprintf(buf, size, "image has %s %s%s%s%s; this CPU's %s: %s", v->name, a,
			v->where ? " (" : "", v->where ? v->where : "", v->where ? ")" : "", how, b);
}

int cpu_mismatch_format(const struct cpu_mismatch_report *r, const struct cpu_mismatch *m, char *buf,
			size_t size)
{
	char what[256];

	if (m->kind == CPU_VALUE)
		return format_value(r, m, buf, size);
	format_feature(r->desc, m, what, sizeof(what));
	if (m->kind == CPU_MISSING)
		return snprintf(buf, size, "image needs %s; this CPU lacks it", what);
	return snprintf(buf, size, "this CPU has %s that the image lacks", what);
}
