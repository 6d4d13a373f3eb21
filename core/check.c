/*
 * criu check: does this kernel have what criu needs?
 *
 *   criu check                 the required features; "Looks good." and exit 0
 *                              when all are there, else each missing one named
 *                              and exit 1
 *   criu check --extra|--all   also the features only some trees or options
 *                              need; exit 2 when only those are missing
 *   criu check --feature NAME  just NAME (repeatable; ours or upstream's
 *                              names): exit 0 when present, 1 when missing or
 *                              unknown; "list" prints the names
 *   criu check --ms            the same as plain check: every feature probed
 *                              here is in mainline kernels
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "kerndat.h"
#include "log.h"
#include "mem-track.h"
#include "options.h"

static void list_features(void)
{
	pr_msg("Known features:\n");
	for (int i = 0; i < KD_NR_FEATURES; i++)
		pr_msg("  %-18s %s (%s)\n", kd_features[i].name, kd_features[i].what,
		       kd_features[i].need == KD_REQUIRED ? "required" : kd_features[i].needed);
}

static int check_named(void)
{
	int missing = 0;

	for (int i = 0; i < opts.check_features.n; i++) {
		const char *name = opts.check_features.items[i];
		int f = kerndat_feature_by_name(name);

		if (f < 0) {
			pr_err("unknown feature '%s' (criu check --feature list shows the names)\n",
			       name);
			if (!strcmp(name, "list")) {
				list_features();
				return 0;
			}
			return 1;
		}
		kerndat_probe_one(f);
		if (kdat.has[f] && f == KD_SOFT_DIRTY)
			pr_msg("%s is supported: %s\n", kd_features[f].name,
			       mem_track_name(mem_track_kind(NULL)));
		else if (kdat.has[f])
			pr_msg("%s is supported\n", kd_features[f].name);
		else {
			pr_msg("%s is NOT supported: %s\n", kd_features[f].name, kdat.why[f]);
			missing++;
		}
	}
	return missing ? 1 : 0;
}

int cmd_check(void)
{
	bool extras = opts.check_all || opts.check_extra;
	int required_missing = 0, extra_missing = 0;

	for (int i = 0; i < opts.check_features.n; i++)
		if (!strcmp(opts.check_features.items[i], "list")) {
			list_features();
			return 0;
		}
	if (opts.check_features.n)
		return check_named();

	kerndat_probe();
	for (int f = 0; f < KD_NR_FEATURES; f++) {
		if (f >= KD_NR_CORE_FEATURES) {
			/* upstream's list: what some trees would need, looked at on request */
			if (!extras)
				break;
			kerndat_probe_one(f);
		}
		const struct kd_feature_desc *d = &kd_features[f];

		if (kdat.has[f]) {
			pr_info("%-18s ok\n", d->name);
			continue;
		}
		if (d->need == KD_REQUIRED) {
			pr_err("%s is missing (%s): %s; dump and restore need it\n", d->name,
			       d->what, kdat.why[f]);
			required_missing++;
		} else if (extras) {
			pr_warn("%s is missing (%s): %s; needed by %s\n", d->name, d->what,
				kdat.why[f], d->needed);
			extra_missing++;
		} else {
			pr_info("%-18s missing (%s): %s\n", d->name, d->needed, kdat.why[f]);
		}
	}
	/* At least one of the two ways to restore PIDs. */
	if (!kdat.has[KD_CLONE3_SET_TID] && !kdat.has[KD_NS_LAST_PID]) {
		pr_err("neither clone3 set_tid nor ns_last_pid works: restore cannot set PIDs\n");
		required_missing++;
	}

	if (required_missing) {
		pr_msg("The kernel lacks %d feature%s criu needs.\n", required_missing,
		       required_missing == 1 ? "" : "s");
		return 1;
	}
	if (extra_missing) {
		pr_msg("Looks good but some kernel features are missing\n"
		       "which, depending on your process tree, may cause\n"
		       "dump or restore failure.\n");
		return 2;
	}
	pr_msg("Looks good.\n");
	return 0;
}
