/*
 * amend_apply.c — copy a plan's patch ranges from the new header cluster
 * onto a target buffer, after checking every range lies inside it.
 * Trust: the plan may come from the guest (untrusted), so ranges are
 * checked before any byte is copied. Freestanding.
 */
#include "src/amend/amend_plan.h"

bool amend_apply(const struct amend_plan *plan, const uint8_t *new_cluster,
		 uint8_t *target, size_t len)
{
	if (plan->n_patches > AMEND_MAX_PATCHES)
		return false;
	for (uint32_t i = 0; i < plan->n_patches; i++) {
		uint64_t end = (uint64_t)plan->patches[i].offset +
			       plan->patches[i].length;
		if (end > len)
			return false;
	}
	for (uint32_t i = 0; i < plan->n_patches; i++) {
		const struct amend_patch *p = &plan->patches[i];
		for (uint32_t k = 0; k < p->length; k++)
			target[p->offset + k] = new_cluster[p->offset + k];
	}
	return true;
}
