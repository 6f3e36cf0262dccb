/*
 * report.c — the guest's report writer (see report.h).
 *
 * Trust: as report.h. The region's address and size come from the host's
 * parameter page and are checked against the memory map (after the
 * scratch, inside RAM the host promised) before the first byte is
 * written.
 */
#include "guest/report.h"

#include <stddef.h>

#include "guest/lib.h"

static uint8_t *region;
static uint32_t region_bytes;
static uint32_t used;
static uint64_t records;
static uint64_t findings;

bool report_begin(const struct guest_params *p)
{
	uint64_t scratch_end;

	region = NULL;
	used = 0;
	records = 0;
	findings = 0;
	if (p->report_gpa == 0 || p->report_bytes < REPORT_MAX_RECORD ||
	    p->report_bytes > GUEST_REPORT_BYTES ||
	    __builtin_add_overflow(p->scratch_gpa, p->scratch_bytes,
				   &scratch_end) ||
	    p->report_gpa < scratch_end || (p->report_gpa % REPORT_ALIGN) != 0)
		return false;
	region = (uint8_t *)(uintptr_t)p->report_gpa;
	region_bytes = (uint32_t)p->report_bytes;
	return true;
}

/* Hand the full region to the host; it returns once it has copied it. */
static void flush(void)
{
	volatile struct guest_result *r =
		(volatile struct guest_result *)(uintptr_t)GUEST_RESULT_GPA;

	r->report_len = used;
	guest_barrier();
	*(volatile uint32_t *)(uintptr_t)GUEST_DOORBELL_GPA = GUEST_DOORBELL_FLUSH;
	guest_barrier();
	used = 0;
}

bool report_put(void *fixed, uint32_t fixed_len, const uint8_t *s1,
		uint32_t len1, const uint8_t *s2, uint32_t len2)
{
	struct report_hdr *h = fixed;
	uint64_t total = (uint64_t)fixed_len + len1 + len2;
	uint32_t padded;

	if (region == NULL || fixed_len < sizeof(*h) ||
	    total > REPORT_MAX_RECORD)
		return false;
	padded = (uint32_t)((total + REPORT_ALIGN - 1u) & ~(uint64_t)(REPORT_ALIGN - 1u));
	if (padded > region_bytes - used)
		flush();
	h->len = padded;
	memcpy(region + used, fixed, fixed_len);
	if (len1 != 0)
		memcpy(region + used + fixed_len, s1, len1);
	if (len2 != 0)
		memcpy(region + used + fixed_len + len1, s2, len2);
	memset(region + used + total, 0, padded - (uint32_t)total);
	used += padded;
	records++;
	if (h->type == REPORT_T_FINDING)
		findings++;
	return true;
}

bool report_finish(void)
{
	struct report_end e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = REPORT_T_END;
	e.records = records;
	e.findings = findings;
	return report_put(&e, sizeof(e), NULL, 0, NULL, 0);
}

uint32_t report_used(void)
{
	return used;
}

uint64_t report_records(void)
{
	return records;
}
