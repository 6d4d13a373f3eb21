/*
 * Reading the words and values an arch description names out of its entry
 * message, by field name through the protobuf-c descriptors: the arch
 * tables stay plain data, and this code works for every arch's message,
 * whichever arch criu was built for.
 */
#include <string.h>

#include "cpuinfo.h"
#include "pb-fields.h"

const ProtobufCFieldDescriptor *cpu_pb_field(const ProtobufCMessage *m, const char *name)
{
	return protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
}

static bool cpu_pb_is_number(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_BOOL:
		return true;
	default:
		return false;
	}
}

static bool cpu_pb_is_64bit(const ProtobufCFieldDescriptor *f)
{
	return f->type == PROTOBUF_C_TYPE_UINT64 || f->type == PROTOBUF_C_TYPE_INT64 ||
	       f->type == PROTOBUF_C_TYPE_FIXED64;
}

static uint64_t cpu_pb_load(const ProtobufCFieldDescriptor *f, const void *p)
{
	if (cpu_pb_is_64bit(f))
		return *(const uint64_t *)p;
	if (f->type == PROTOBUF_C_TYPE_BOOL)
		return *(const protobuf_c_boolean *)p;
	return *(const uint32_t *)p;
}

static size_t cpu_pb_elem_size(const ProtobufCFieldDescriptor *f)
{
	if (cpu_pb_is_64bit(f))
		return sizeof(uint64_t);
	if (f->type == PROTOBUF_C_TYPE_BOOL)
		return sizeof(protobuf_c_boolean);
	return sizeof(uint32_t);
}

bool cpu_pb_number(const ProtobufCMessage *m, const char *name, unsigned index, uint64_t *v)
{
	const ProtobufCFieldDescriptor *f = cpu_pb_field(m, name);
	const char *base = (const char *)m;

	if (!f || !cpu_pb_is_number(f))
		return false;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(const size_t *)(base + f->quantifier_offset);
		const char *arr = *(const char *const *)(base + f->offset);

		if (index >= n || !arr)
			return false;
		*v = cpu_pb_load(f, arr + index * cpu_pb_elem_size(f));
		return true;
	}
	if (index)
		return false;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
	    !*(const protobuf_c_boolean *)(base + f->quantifier_offset))
		return false;
	*v = cpu_pb_load(f, base + f->offset);
	return true;
}

const char *cpu_pb_string(const ProtobufCMessage *m, const char *name)
{
	const ProtobufCFieldDescriptor *f = cpu_pb_field(m, name);

	if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
		return NULL;
	return *(const char *const *)((const char *)m + f->offset);
}

const ProtobufCMessage *cpu_pb_message(const ProtobufCMessage *m, const char *name, size_t *count)
{
	const ProtobufCFieldDescriptor *f = cpu_pb_field(m, name);
	const char *base = (const char *)m;
	ProtobufCMessage *const *arr;
	size_t n;

	*count = 0;
	if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED)
		return NULL;
	n = *(const size_t *)(base + f->quantifier_offset);
	arr = *(ProtobufCMessage *const *const *)(base + f->offset);
	if (!n || !arr)
		return NULL;
	*count = n;
	return arr[0];
}

int cpu_pb_value_get(const ProtobufCMessage *m, const char *name, struct cpu_pb_value *out)
{
	const ProtobufCFieldDescriptor *f = cpu_pb_field(m, name);

	memset(out, 0, sizeof(*out));
	if (!f)
		return -1;
	out->field = f;
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		out->str = cpu_pb_string(m, name);
		return out->str ? 1 : 0;
	}
	return cpu_pb_number(m, name, 0, &out->num) ? 1 : 0;
}

bool cpu_pb_value_equal(const struct cpu_pb_value *a, const struct cpu_pb_value *b)
{
	if (a->field->type == PROTOBUF_C_TYPE_STRING)
		return !strcmp(a->str, b->str);
	return a->num == b->num;
}

int cpu_pb_value_format(const struct cpu_pb_value *v, const char *unit, char *buf, size_t size)
{
	const ProtobufCFieldDescriptor *f = v->field;
	const ProtobufCEnumValue *ev;
	int n;

	if (f->type == PROTOBUF_C_TYPE_STRING)
		return snprintf(buf, size, "\"%s\"", v->str);
	if (f->type == PROTOBUF_C_TYPE_ENUM) {
		ev = protobuf_c_enum_descriptor_get_value(f->descriptor, (int)v->num);
		if (!ev)
			return snprintf(buf, size, "%llu", (unsigned long long)v->num);
		/* Enum values are shouted in the .proto; messages say them quietly. */
		n = snprintf(buf, size, "%s", ev->name);
		for (size_t i = 0; i < size && buf[i]; i++)
			if (buf[i] >= 'A' && buf[i] <= 'Z')
				buf[i] += 'a' - 'A';
		return n;
	}
	if (!unit && cpu_pb_is_64bit(f))
		return snprintf(buf, size, "0x%llx", (unsigned long long)v->num);
	return snprintf(buf, size, "%llu%s%s", (unsigned long long)v->num, unit ? " " : "",
			unit ? unit : "");
}
