/*
 * Prints any protobuf-c message through its descriptor, as indented text for
 * people or as JSON for scripts.  Addresses, masks and registers come out in
 * hex, as crit prints them, so that the two tools read alike.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pb-print.h"

struct pb_printer {
	FILE *out;
	bool json;
};

static const char *const hex_names[] = {
	"start", "end", "vaddr", "addr", "ip", "sp", "clear_tid_addr", "blk_sigset",
	"sigset", "pending", "fs_base", "gs_base", "tls", "xstate_bv", "xfeatures_mask",
	"restorer", "handler", "mask", "sa_mask", "cap_inh", "cap_prm", "cap_eff", "cap_bnd",
	"cap_amb", "rseq_abi_pointer", "rseq_cs_pointer", "ss_sp", "exe_file_id", "flags",
	"status", "mode", "dev", "rdev", "s_dev", "persona", "hwcap", "hwcap2", "sigmask",
	"settime_flags", "mflags", "faflags", "evflags",
};

static bool name_is_hex(const char *msg, const char *field)
{
	size_t n = strlen(field);

	/* Register sets are always read in hex. */
	if (strstr(msg, "regs") || strstr(msg, "Regs"))
		return true;
	if (!strncmp(field, "mm_", 3) || !strncmp(field, "cap_", 4))
		return true;
	if ((n > 5 && !strcmp(field + n - 5, "_addr")) || (n > 5 && !strcmp(field + n - 5, "_mask")))
		return true;
	for (size_t i = 0; i < sizeof(hex_names) / sizeof(hex_names[0]); i++)
		if (!strcmp(field, hex_names[i]))
			return true;
	return false;
}

static void indent(struct pb_printer *p, int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", p->out);
}

/*
 * Length of the well-formed UTF-8 sequence at s (NUL-terminated), or 0.
 * Strings in images are whatever the kernel or the task gave us (paths,
 * names): not necessarily UTF-8, whatever the proto says.
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Quoted and escaped.  A byte that is not part of valid UTF-8 comes out as
 * \u00XX in JSON (so that the output always parses; the byte reads as its
 * Latin-1 character) and as \xXX in text.
 */
static void print_string(struct pb_printer *p, const char *s)
{
	const unsigned char *c = (const unsigned char *)s;

	if (!s) {
		fputs(p->json ? "null" : "(null)", p->out);
		return;
	}
	fputc('"', p->out);
	while (*c) {
		size_t n = utf8_len(c);

		if (*c == '"' || *c == '\\')
			fprintf(p->out, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			fprintf(p->out, "\\u%04x", *c);
		else if (!n)
			fprintf(p->out, p->json ? "\\u%04x" : "\\x%02x", *c);
		else
			fwrite(c, 1, n, p->out);
		c += n ? n : 1;
	}
	fputc('"', p->out);
}

static void print_bytes(struct pb_printer *p, const ProtobufCBinaryData *b)
{
	fputc('"', p->out);
	for (size_t i = 0; i < b->len; i++)
		fprintf(p->out, "%02x", b->data[i]);
	fputc('"', p->out);
}

static void print_message_body(struct pb_printer *p, const ProtobufCMessage *m, int depth);

static void print_unsigned(struct pb_printer *p, uint64_t v, bool hex)
{
	if (hex)
		fprintf(p->out, p->json ? "\"0x%" PRIx64 "\"" : "0x%" PRIx64, v);
	else
		fprintf(p->out, "%" PRIu64, v);
}

static void print_value(struct pb_printer *p, const ProtobufCFieldDescriptor *f, const void *v,
			bool hex, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (hex)
			print_unsigned(p, *(const uint32_t *)v, true);
		else
			fprintf(p->out, "%" PRId32, *(const int32_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		print_unsigned(p, *(const uint32_t *)v, hex);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if (hex)
			print_unsigned(p, *(const uint64_t *)v, true);
		else
			fprintf(p->out, "%" PRId64, *(const int64_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		print_unsigned(p, *(const uint64_t *)v, hex);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: {
		double d = f->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)v : *(const double *)v;

		/* JSON has no inf or nan */
		if (p->json && !isfinite(d))
			fputs("null", p->out);
		else
			fprintf(p->out, "%.17g", d);
		break;
	}
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)v ? "true" : "false", p->out);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)v);

		if (ev)
			fprintf(p->out, p->json ? "\"%s\"" : "%s", ev->name);
		else
			fprintf(p->out, "%d", *(const int *)v);
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		print_string(p, *(char *const *)v);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		print_bytes(p, v);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		print_message_body(p, *(ProtobufCMessage *const *)v, depth);
		break;
	}
}

size_t pb_value_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return 4;
	}
}

/* Whether an optional or oneof field is set in this message. */
static bool field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	if (f->label != PROTOBUF_C_LABEL_OPTIONAL)
		return true;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING) {
		const void *ptr = *(void *const *)(base + f->offset);

		return ptr && ptr != f->default_value;
	}
	return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

static void print_field_name(struct pb_printer *p, const char *name, bool *first, int depth)
{
	if (p->json) {
		fputs(*first ? "\n" : ",\n", p->out);
		indent(p, depth);
		fprintf(p->out, "\"%s\": ", name);
	} else {
		indent(p, depth);
		fprintf(p->out, "%s: ", name);
	}
	*first = false;
}

static void print_field(struct pb_printer *p, const ProtobufCMessage *m,
			const ProtobufCFieldDescriptor *f, bool *first, int depth)
{
	const char *base = (const char *)m;
	bool hex = name_is_hex(m->descriptor->name, f->name);

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(const size_t *)(base + f->quantifier_offset);
		const char *arr = *(const char *const *)(base + f->offset);
		size_t sz = pb_value_size(f->type);
		bool nested = f->type == PROTOBUF_C_TYPE_MESSAGE;

		if (!n)
			return;
		print_field_name(p, f->name, first, depth);
		fputc('[', p->out);
		for (size_t i = 0; i < n; i++) {
			if (nested) {
				fputs(i ? ",\n" : "\n", p->out);
				indent(p, depth + 1);
			} else if (i) {
				fputs(", ", p->out);
			}
			print_value(p, f, arr + i * sz, hex, depth + 1);
		}
		if (nested) {
			fputc('\n', p->out);
			indent(p, depth);
		}
		fputc(']', p->out);
	} else {
		if (!field_present(m, f))
			return;
		print_field_name(p, f->name, first, depth);
		print_value(p, f, base + f->offset, hex, depth);
	}
	if (!p->json)
		fputc('\n', p->out);
}

static void print_message_body(struct pb_printer *p, const ProtobufCMessage *m, int depth)
{
	bool first = true;

	if (!m) {
		fputs(p->json ? "null" : "(none)", p->out);
		return;
	}
	fputs(p->json ? "{" : "{\n", p->out);
	for (unsigned i = 0; i < m->descriptor->n_fields; i++)
		print_field(p, m, &m->descriptor->fields[i], &first, depth + 1);
	if (m->n_unknown_fields) {
		if (p->json) {
			fputs(first ? "\n" : ",\n", p->out);
			indent(p, depth + 1);
			fprintf(p->out, "\"_unknown_fields\": %u", m->n_unknown_fields);
		} else {
			indent(p, depth + 1);
			fprintf(p->out, "(%u unknown fields)\n", m->n_unknown_fields);
		}
		first = false;
	}
	if (p->json && !first) {
		fputc('\n', p->out);
		indent(p, depth);
	} else if (!p->json) {
		indent(p, depth);
	}
	fputc('}', p->out);
}

void pb_print(FILE *out, const ProtobufCMessage *m, bool json, int depth)
{
	struct pb_printer p = { .out = out, .json = json };

	print_message_body(&p, m, depth);
}

void pb_print_json_string(FILE *out, const char *s)
{
	struct pb_printer p = { .out = out, .json = true };

	print_string(&p, s);
}
