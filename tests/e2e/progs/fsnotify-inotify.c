/* inotify: watches with their numbers and masks, reporting changes made after restore. */
#define DUMP_OPT NULL
#define HOW "found again by file handle"
#include "inotify-prog.h"
