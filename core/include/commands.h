/* Entry points of the commands; each returns the process exit code. */
#ifndef CRIU_COMMANDS_H
#define CRIU_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

int cmd_show(void);
int cmd_check(void);
int cmd_cpuinfo_dump(void);
int cmd_cpuinfo_check(void);
int cmd_exec(void);
int cmd_dump(void);
int cmd_pre_dump(void);
int cmd_dedup(void);
int cmd_restore(void);
/* the restore in this process (cmd_restore() forks a worker for it) */
int restore_here(void);
/* the RPC commands (core/rpc.c): a session on opts.swrk_fd, a listening socket */
int cmd_swrk(void);
int cmd_service(void);
/* the pid of the root cmd_restore() restored last, for the RPC answer */
#include <sys/types.h>
extern pid_t restored_root_pid;

/*
 * cpuinfo hooks for dump, restore and show (cpuinfo/).
 *
 * cpuinfo_dump_image: writes cpuinfo.img describing this CPU into the images
 * directory dirfd (criu dump always stores it).  0 or a negative errno.
 *
 * cpuinfo_check_images: restore calls it before it creates anything.  Reads
 * cpuinfo.img from dirfd and compares it with this CPU under --cpu-cap
 * (cpu_cap as given, NULL without a value; cpu_cap_given whether the option
 * was there).  Returns 0 to go on, 1 when this CPU cannot run the image's
 * tasks (each reason and the verdict already logged as errors), or a
 * negative errno (bad --cpu-cap value, unreadable image).  Images without
 * cpuinfo.img (upstream writes it only on request) are let through with a
 * warning unless --cpu-cap asked for a check.
 *
 * cpuinfo_print_features: show's extra lines after a cpuinfo_entry: its
 * features by name, grouped by the --cpu-cap mode that compares them.
 */
int cpuinfo_dump_image(int dirfd);
int cpuinfo_check_images(int dirfd, const char *cpu_cap, bool cpu_cap_given);
void cpuinfo_print_features(FILE *out, const ProtobufCMessage *entry);

#endif
