/*
 * criu restore: the vDSO.  When this kernel's [vvar]/[vvar_vclock]/[vdso]
 * block has the dumped one's layout, the restorer moves it where the
 * dumped one was.  When it does not (a restore on another kernel), the
 * dumped vDSO's code is mapped back where it was and each of its functions
 * is patched into a jump to this kernel's function of the same name (the
 * "vDSO proxy"; the jumps are arch_vdso_jump's, the symbols core/vdso.c's).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch-image.h"
#include "log.h"
#include "restore-priv.h"
#include "vdso.h"
#include "vma.h"
#include "pie/restorer.h"

static const char *const block_names[] = { "[vvar]", "[vvar_vclock]", "[vdso]" };

/*
 * The parts of the vDSO block, [vvar], [vvar_vclock] and [vdso] in that
 * order (NULL where a kernel has none): img[] in the dumped task, cur[] in
 * this process now.
 */
static void vdso_blocks(const MmEntry *mm, const struct self_map *self, int nself,
			const VmaEntry *img[3], const struct self_map *cur[3])
{
	for (int k = 0; k < 3; k++) {
		img[k] = NULL;
		cur[k] = NULL;
	}
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *e = mm->vmas[i];

		if (e->status & VMA_AREA_VDSO)
			img[2] = e;
		else if (e->status & VMA_AREA_VVAR)
			img[img[0] ? 1 : 0] = e; /* [vvar] is below [vvar_vclock] */
	}
	for (int i = 0; i < nself; i++)
		for (int k = 0; k < 3; k++)
			if (!strcmp(self[i].name, block_names[k]))
				cur[k] = &self[i];
}

/* The dumped vDSO block, and where this kernel's is: moves in order. */
int plan_vdso(const MmEntry *mm, const struct self_map *self, int nself,
	      struct restorer_move *moves, uint32_t *nr_moves, struct restorer_range *unmaps,
	      uint32_t *nr_unmaps, unsigned long scratch)
{
	const VmaEntry *img[3];
	const struct self_map *cur[3];
	bool overlap = false;
	uint32_t n = 0;

	vdso_blocks(mm, self, nself, img, cur);
	/* vvar_vclock: on kernels without it, [vvar] is the only data area */
	if (img[1] && !cur[1] && cur[0]) {
		pr_err("the dumped task had [vvar_vclock]; this kernel has none\n");
		return -EINVAL;
	}
	if (!img[2]) {
		/* no vDSO in the image: drop ours */
		for (int k = 0; k < 3; k++)
			if (cur[k])
				unmaps[(*nr_unmaps)++] = (struct restorer_range){
					cur[k]->start, cur[k]->end - cur[k]->start
				};
		return 0;
	}
	for (int k = 0; k < 3; k++) {
		if (!img[k] && !cur[k])
			continue;
		if (!img[k] || !cur[k] ||
		    img[k]->end - img[k]->start != cur[k]->end - cur[k]->start) {
			pr_err("this kernel's %s is %lu bytes, the dumped one %llu: a vDSO of a "
			       "different layout is not supported yet\n",
			       block_names[k], cur[k] ? cur[k]->end - cur[k]->start : 0,
			       img[k] ? (unsigned long long)(img[k]->end - img[k]->start) : 0ULL);
			return -EINVAL;
		}
	}
	/* a part that is already in place is no overlap; the place of one
	 * part starting where another is now is one (mremap would unmap it,
	 * or fail to split it) */
	for (int k = 0; k < 3; k++)
		for (int j = 0; j < 3; j++)
			if (img[k] && cur[j] && img[k]->start < cur[j]->end &&
			    cur[j]->start < img[k]->end && (k != j || img[k]->start != cur[j]->start))
				overlap = true;
	if (overlap) {
		unsigned long at = scratch;

		for (int k = 0; k < 3; k++)
			if (cur[k]) {
				moves[n++] = (struct restorer_move){ cur[k]->start,
								    cur[k]->end - cur[k]->start, at };
				at += cur[k]->end - cur[k]->start;
			}
		at = scratch;
		for (int k = 0; k < 3; k++)
			if (cur[k]) {
				moves[n++] = (struct restorer_move){ at, cur[k]->end - cur[k]->start,
								    img[k]->start };
				at += cur[k]->end - cur[k]->start;
			}
	} else {
		for (int k = 0; k < 3; k++)
			if (cur[k])
				moves[n++] = (struct restorer_move){
					cur[k]->start, cur[k]->end - cur[k]->start, img[k]->start
				};
	}
	*nr_moves = n;
	return 0;
}

/* ---- a vDSO of another layout --------------------------------------------------- */

/* Whether this kernel's vDSO block has the dumped one's layout. */
bool vdso_same_layout(const MmEntry *mm, const struct self_map *self, int nself,
		      struct vdso_proxy *vp)
{
	const VmaEntry *img[3];
	const struct self_map *cur[3];
	bool same = true;

	vdso_blocks(mm, self, nself, img, cur);
	vp->lo = vp->hi = vp->vdso = 0;
	for (int k = 0; k < 3; k++)
		if (cur[k]) {
			if (!vp->lo || cur[k]->start < vp->lo)
				vp->lo = cur[k]->start;
			if (cur[k]->end > vp->hi)
				vp->hi = cur[k]->end;
		}
	if (cur[2])
		vp->vdso = cur[2]->start;
	if (!img[2])
		return true; /* nothing to match: plan_vdso drops ours */
	for (int k = 0; k < 3; k++)
		if (!img[k] != !cur[k] ||
		    (img[k] && img[k]->end - img[k]->start != cur[k]->end - cur[k]->start))
			same = false;
	/* tests take the path of another kernel's vDSO on this one */
	if (getenv("CRIU_TEST_VDSO_PROXY"))
		same = false;
	return same;
}

/* The dumped vDSO's bytes, from the pages image. */
static int read_old_vdso(struct rtask *t, const VmaEntry *e, int pages_fd, uint8_t *buf)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t off = 0, got = 0;

	memset(buf, 0, e->end - e->start);
	for (size_t i = 0; i < t->npm; i++) {
		const PagemapEntry *pe = t->pm[i];
		uint64_t nr = pe->has_nr_pages && pe->nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		uint64_t len = nr * psz;

		if (pe->vaddr >= e->start && pe->vaddr + len <= e->end) {
			if (pread(pages_fd, buf + (pe->vaddr - e->start), len, (off_t)off) != (ssize_t)len)
				return -EIO;
			got += len;
		}
		off += len;
	}
	if (!got) {
		pr_err("pid %u: the images hold no vDSO contents (dumped by another tool?): "
		       "can't adapt them to this kernel's vDSO\n",
		       t->pe->pid);
		return -EINVAL;
	}
	return 0;
}

/*
 * Jumps from each function of the dumped vDSO (at its dumped address) to
 * the function of the same name in this kernel's vDSO at its final place.
 */
int vdso_patches(struct rtask *t, const struct vdso_proxy *vp, int pages_fd,
		 struct restorer_patch *patches, uint32_t *n)
{
	const MmEntry *mm = t->mm;
	const VmaEntry *old = NULL;
	struct vdso_sym *os = NULL, *ns = NULL;
	unsigned long new_vdso = vp->vdso - vp->lo + vp->dest;
	uint8_t *buf;
	int no, nn, ret = 0;

	for (size_t i = 0; i < mm->n_vmas; i++)
		if (mm->vmas[i]->status & VMA_AREA_VDSO)
			old = mm->vmas[i];
	buf = malloc(old->end - old->start);
	os = calloc(256, sizeof(*os));
	ns = calloc(256, sizeof(*ns));
	if (!buf || !os || !ns) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_old_vdso(t, old, pages_fd, buf);
	if (ret)
		goto out;
	no = vdso_symbols(buf, old->end - old->start, os, 256);
	nn = vdso_symbols((const uint8_t *)vp->vdso, vp->hi - vp->vdso, ns, 256);
	if (no < 0 || nn < 0) {
		ret = -EINVAL;
		goto out;
	}
	*n = 0;
	for (int i = 0; i < no; i++) {
		const struct vdso_sym *to = NULL;
		int len;

		for (int j = 0; j < nn && !to; j++)
			if (!strcmp(os[i].name, ns[j].name))
				to = &ns[j];
		if (!to) {
			pr_warn("vDSO function %s is gone from this kernel: calls to it will fail\n",
				os[i].name);
			continue;
		}
		if (*n == MAX_PATCHES) {
			ret = -E2BIG;
			goto out;
		}
		len = arch_vdso_jump(os[i].name, patches[*n].bytes, sizeof(patches[*n].bytes),
				     old->start + os[i].value, new_vdso + to->value);
		if (len == 0)
			continue; /* keeps its dumped code */
		if (len < 0 || (uint64_t)len > os[i].size) {
			pr_err("can't redirect vDSO function %s (%llu bytes) to this kernel's: %s\n",
			       os[i].name, (unsigned long long)os[i].size,
			       len < 0 ? strerror(-len) : "too short");
			ret = len < 0 ? len : -ENOSPC;
			goto out;
		}
		patches[*n].addr = old->start + os[i].value;
		patches[*n].len = (uint32_t)len;
		(*n)++;
	}
	pr_info("pid %u: the dumped vDSO at %llx jumps to this kernel's at %lx (%u functions)\n",
		t->pe->pid, (unsigned long long)old->start, new_vdso, *n);
out:
	free(buf);
	free(os);
	free(ns);
	return ret;
}
