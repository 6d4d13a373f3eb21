/* cpuinfo_entry: which architecture wrote it, and a new one for collection. */
#include <stdlib.h>

#include "cpuinfo.h"
#include "pb-fields.h"

struct entry_arch {
	const char *field; /* of cpuinfo_entry */
	const char *arch;
};

/* Which architecture writes which entry; ppc64 also says its byte order. */
static const struct entry_arch entry_archs[] = {
	{ "x86_entry", "x86_64" },
	{ "aarch64_entry", "aarch64" },
	{ "ppc64_entry", "ppc64le" },
	{ "s390_entry", "s390x" },
};

const char *cpuinfo_entry_arch(const CpuinfoEntry *e)
{
	for (size_t i = 0; i < sizeof(entry_archs) / sizeof(entry_archs[0]); i++) {
		const ProtobufCMessage *m;
		uint64_t endian;
		size_t n;

		m = cpu_pb_message(&e->base, entry_archs[i].field, &n);
		if (!m)
			continue;
		if (cpu_pb_number(m, "endian", 0, &endian) &&
		    endian == CPUINFO_PPC64_ENTRY__ENDIANNESS__BIGENDIAN)
			return "ppc64 (big-endian)";
		return entry_archs[i].arch;
	}
	return NULL;
}

const ProtobufCMessage *cpuinfo_arch_entry(const struct cpu_arch_desc *d, const CpuinfoEntry *e)
{
	size_t n;

	return cpu_pb_message(&e->base, d->entry_field, &n);
}

ProtobufCMessage *cpuinfo_entry_new(const struct cpu_arch_desc *d, const ProtobufCMessageDescriptor *sub,
				    CpuinfoEntry **out)
{
	const ProtobufCFieldDescriptor *f;
	CpuinfoEntry *e = calloc(1, sizeof(*e));
	ProtobufCMessage **arr = calloc(1, sizeof(*arr));
	ProtobufCMessage *m = calloc(1, sub->sizeof_message);

	if (!e || !arr || !m)
		goto fail;
	cpuinfo_entry__init(e);
	f = cpu_pb_field(&e->base, d->entry_field);
	if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED ||
	    f->descriptor != sub)
		goto fail;
	sub->message_init(m);
	arr[0] = m;
	*(size_t *)((char *)e + f->quantifier_offset) = 1;
	*(ProtobufCMessage ***)((char *)e + f->offset) = arr;
	*out = e;
	return m;
fail:
	free(m);
	free(arr);
	free(e);
	return NULL;
}
