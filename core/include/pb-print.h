/* Prints protobuf-c messages generically, as text or JSON. */
#ifndef CRIU_PB_PRINT_H
#define CRIU_PB_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

/* Prints m (its body in braces) indented by depth levels; no newline after. */
void pb_print(FILE *out, const ProtobufCMessage *m, bool json, int depth);

/* The size of one value of type t in a protobuf-c message struct (an
 * element of a repeated field's array). */
size_t pb_value_size(ProtobufCType t);

/* Prints s as a quoted, escaped JSON string. */
void pb_print_json_string(FILE *out, const char *s);

#endif
