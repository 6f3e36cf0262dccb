/*
 * qemu_size.c — qemu-img's human sizes (see qemu_size.h).
 */
#include "src/cli/qemu_size.h"

#include <math.h>
#include <stdio.h>

void qemu_size_str(uint64_t v, char out[QEMU_SIZE_BUF])
{
	static const char *const units[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
	int e = 0;
	int i;

	(void)frexp((double)v / (1000.0 / 1024.0), &e);
	i = (e - 1) / 10;   /* C division: -1 / 10 == 0 for v == 0 */
	if (i < 0)
		i = 0;
	if (i > 6)
		i = 6;
	(void)snprintf(out, QEMU_SIZE_BUF, "%0.3g %sB",
		       (double)v / (double)(1ULL << (i * 10)), units[i]);
}
