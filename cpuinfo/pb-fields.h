/* Generic access to the fields of a protobuf-c message by name (cpuinfo only). */
#ifndef CRIU_CPUINFO_PB_FIELDS_H
#define CRIU_CPUINFO_PB_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

const ProtobufCFieldDescriptor *cpu_pb_field(const ProtobufCMessage *m, const char *name);

/* Element index of a number (or enum, bool) field; false when absent. */
bool cpu_pb_number(const ProtobufCMessage *m, const char *name, unsigned index, uint64_t *v);

/* A non-repeated string field, NULL when absent. */
const char *cpu_pb_string(const ProtobufCMessage *m, const char *name);

/* The first element of a repeated message field and how many there are. */
const ProtobufCMessage *cpu_pb_message(const ProtobufCMessage *m, const char *name, size_t *count);

/* A number, enum or string field as one thing. */
struct cpu_pb_value {
	const ProtobufCFieldDescriptor *field;
	uint64_t num;
	const char *str;
};

/* 1 present, 0 absent, -1 no such field. */
int cpu_pb_value_get(const ProtobufCMessage *m, const char *name, struct cpu_pb_value *out);
bool cpu_pb_value_equal(const struct cpu_pb_value *a, const struct cpu_pb_value *b);

/*
 * "832 bytes", "xsave" (an enum value, lower case), "\"power9\"", and
 * 64-bit numbers without a unit in hex (register contents such as MIDR).
 */
int cpu_pb_value_format(const struct cpu_pb_value *v, const char *unit, char *buf, size_t size);

#endif
