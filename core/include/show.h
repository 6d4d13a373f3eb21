#ifndef CRIU_SHOW_H
#define CRIU_SHOW_H

#include <stdbool.h>
#include <stdio.h>

#include "image.h"

/* pagemap_entry flags, as upstream defines them */
#define PAGEMAP_PE_PARENT (1u << 0)
#define PAGEMAP_PE_LAZY (1u << 1)
#define PAGEMAP_PE_PRESENT (1u << 2)

/* Prints an image file (path relative to dirfd); negative errno on failure. */
int show_image(FILE *out, int dirfd, const char *path, bool json);

/*
 * Type-specific lines printed after an entry in text mode (cpuinfo prints
 * its features by name).  Each resource kind that wants one registers it in
 * the table in show.c.
 */
void show_entry_extras(FILE *out, enum img_type type, const ProtobufCMessage *entry);

#endif
