/* inotify, dumped with --force-irmap: the watches are restored by the names dump resolved. */
#define DUMP_OPT "--force-irmap"
#define HOW "dumped with --force-irmap (restored by name)"
#include "inotify-prog.h"
