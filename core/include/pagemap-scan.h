/*
 * The PAGEMAP_SCAN ioctl on /proc/PID/pagemap (Linux 6.7+).  Debian 12's
 * kernel headers predate it, so its ABI is spelled out here; the ioctl
 * number comes from the target's own <linux/ioctl.h> encoding.
 */
#ifndef CRIU_PAGEMAP_SCAN_H
#define CRIU_PAGEMAP_SCAN_H

#include <linux/ioctl.h>
#include <stdint.h>

struct cr_page_region {
	uint64_t start;
	uint64_t end;
	uint64_t categories;
};

struct cr_pm_scan_arg {
	uint64_t size; /* sizeof(struct cr_pm_scan_arg) */
	uint64_t flags;
	uint64_t start;
	uint64_t end;
	uint64_t walk_end; /* out: where the walk stopped */
	uint64_t vec;	   /* struct cr_page_region array */
	uint64_t vec_len;
	uint64_t max_pages;
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};

#define CR_PAGEMAP_SCAN _IOWR('f', 16, struct cr_pm_scan_arg)

#define CR_PM_SCAN_WP_MATCHING (1ULL << 0)
#define CR_PM_SCAN_CHECK_WPASYNC (1ULL << 1)

#define CR_PAGE_IS_WPALLOWED (1ULL << 0)
#define CR_PAGE_IS_WRITTEN (1ULL << 1)
#define CR_PAGE_IS_FILE (1ULL << 2)
#define CR_PAGE_IS_PRESENT (1ULL << 3)
#define CR_PAGE_IS_SWAPPED (1ULL << 4)
#define CR_PAGE_IS_PFNZERO (1ULL << 5)
#define CR_PAGE_IS_HUGE (1ULL << 6)
#define CR_PAGE_IS_SOFT_DIRTY (1ULL << 7)
#define CR_PAGE_IS_GUARD (1ULL << 8) /* Linux 6.14: MADV_GUARD_INSTALL markers */

#endif
