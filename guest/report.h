/*
 * report.h — the guest's side of the report stream (abi/report_abi.h):
 * records are appended to the report region the host gave; when the next
 * one does not fit, the region is handed over (GUEST_DOORBELL_FLUSH, one
 * exit) and filling starts again from its start. report_finish() writes
 * the END record and leaves the length for the final doorbell.
 * Freestanding; guest-only.
 *
 * Trust: the parameter page says where the region is (checked against
 * the memory map before use); the bytes appended are the inspection
 * programs' own.
 */
#ifndef INSTAR_GUEST_REPORT_H
#define INSTAR_GUEST_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/guest_abi.h"
#include "abi/report_abi.h"

/* Take the region the parameter page describes; false if there is none
 * or it is not where the memory map allows it. */
bool report_begin(const struct guest_params *p);

/* Append one record: `fixed` (fixed_len bytes, starting with a struct
 * report_hdr whose type is set and whose len this fills in), then the
 * two byte strings (either may be empty). False if the record is longer
 * than REPORT_MAX_RECORD or the region was never taken. */
bool report_put(void *fixed, uint32_t fixed_len, const uint8_t *s1,
		uint32_t len1, const uint8_t *s2, uint32_t len2);

/* Append the END record (counting what came before); false as above. */
bool report_finish(void);

/* Bytes of whole records now in the region (for the result record). */
uint32_t report_used(void);

/* Records appended so far, and of those REPORT_T_FINDING ones. */
uint64_t report_records(void);

#endif
