/*
 * --display-stats: the statistics of stats-dump / stats-restore printed at
 * the end of a dump or restore, one "Name: value" line each, in the wording
 * and order upstream criu prints them (test drivers parse these lines, e.g.
 * "Frozen time: N us").
 */
#include <inttypes.h>

#include "log.h"
#include "stats.h"

static void pages(const char *what, uint64_t n)
{
	pr_msg("%s: %" PRIu64 " (0x%" PRIx64 ")\n", what, n, n);
}

void stats_display(const StatsEntry *s)
{
	if (s->dump) {
		const DumpStatsEntry *d = s->dump;

		pr_msg("Displaying dump stats:\n");
		pr_msg("Freezing time: %u us\n", d->freezing_time);
		pr_msg("Frozen time: %u us\n", d->frozen_time);
		pr_msg("Memory dump time: %u us\n", d->memdump_time);
		pr_msg("Memory write time: %u us\n", d->memwrite_time);
		if (d->has_irmap_resolve)
			pr_msg("IRMAP resolve time: %u us\n", d->irmap_resolve);
		pages("Memory pages scanned", d->pages_scanned);
		pages("Memory pages skipped from parent", d->pages_skipped_parent);
		pages("Memory pages written", d->pages_written);
		pages("Lazy memory pages", d->pages_lazy);
	}
	if (s->restore) {
		const RestoreStatsEntry *r = s->restore;

		pr_msg("Displaying restore stats:\n");
		pages("Pages compared", r->pages_compared);
		pages("Pages skipped COW", r->pages_skipped_cow);
		if (r->has_pages_restored)
			pages("Pages restored", r->pages_restored);
		pr_msg("Restore time: %u us\n", r->restore_time);
		pr_msg("Forking time: %u us\n", r->forking_time);
	}
}
