/*
 * zero_report.h — the host's reading of amend's report (abi/report_abi.h):
 * REPORT_T_ZERO_TABLE records, one per L2 table the guest says holds a
 * zero entry, then END (records = their number, findings = 0), nothing
 * after. Each record's length must be exactly its fixed part.
 *
 * Pure: a function over a buffer and its length (fuzzed with the
 * expansion, fuzz/expand_fuzzer.c). Trust: the bytes are the guest's;
 * the offsets are only a list for src/image/expand.c, which checks each.
 */
#ifndef INSTAR_IMAGE_ZERO_REPORT_H
#define INSTAR_IMAGE_ZERO_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The number of tables a report of `len` bytes can name at most (the
 * size of the array report_zero_tables() needs). */
size_t zero_report_max_tables(size_t len);

/* Parse; true and out[0..*n) on a well-formed report (out has room for
 * zero_report_max_tables(len) offsets). */
bool zero_report_parse(const uint8_t *buf, size_t len, uint64_t *out,
		       uint32_t *n);

#ifdef __cplusplus
}
#endif

#endif
