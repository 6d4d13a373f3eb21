/* --display-stats: see core/stats.c. */
#ifndef CRIU_STATS_H
#define CRIU_STATS_H

#include "proto/stats.pb-c.h"

void stats_display(const StatsEntry *s);

#endif
