/*
 * zero_report.c — amend's report, checked record by record (see
 * zero_report.h).
 * Trust: the buffer is the guest's; every length is checked before a
 * byte of the record is read.
 */
#include "src/image/zero_report.h"

#include <string.h>

#include "abi/report_abi.h"

size_t zero_report_max_tables(size_t len)
{
	return len / sizeof(struct report_zero_table);
}

bool zero_report_parse(const uint8_t *buf, size_t len, uint64_t *out,
		       uint32_t *n)
{
	size_t off = 0;
	uint64_t count = 0;

	*n = 0;
	if (buf == NULL || out == NULL)
		return false;
	while (off < len) {
		struct report_hdr h;

		if (len - off < sizeof(h))
			return false;
		memcpy(&h, buf + off, sizeof(h));
		if (h.type == REPORT_T_ZERO_TABLE) {
			struct report_zero_table z;

			if (h.len != sizeof(z) || len - off < sizeof(z) ||
			    count >= UINT32_MAX)
				return false;
			memcpy(&z, buf + off, sizeof(z));
			out[count++] = z.l2_offset;
			off += sizeof(z);
			continue;
		}
		if (h.type == REPORT_T_END) {
			struct report_end e;

			if (h.len != sizeof(e) || len - off != sizeof(e))
				return false;
			memcpy(&e, buf + off, sizeof(e));
			if (e.records != count || e.findings != 0)
				return false;
			*n = (uint32_t)count;
			return true;
		}
		return false;
	}
	return false;   /* no END */
}
