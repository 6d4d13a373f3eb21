/*
 * The version of criu, the one place it is set: `criu --version`, the RPC
 * VERSION answer, libcriu's criu_get_version() and criu.pc all read it.
 * The major and minor numbers say which upstream CRIU interface level this
 * criu provides (images, RPC, libcriu, command line of CRIU 4.2); the
 * sublevel counts our own releases of it.  Installed next to criu.h, as
 * libcriu's <criu/version.h>.
 */
#ifndef CRIU_VERSION_H
#define CRIU_VERSION_H

#define CRIU_VERSION_MAJOR 4
#define CRIU_VERSION_MINOR 2
#define CRIU_VERSION_SUBLEVEL 1
#define CRIU_VERSION "4.2.1"

#endif
