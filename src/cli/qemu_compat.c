/*
 * qemu_compat.c — the table of qemu-img releases (see qemu_compat.h).
 * Each row was learned by running that release (tests/oracles/).
 */
#include "src/cli/qemu_compat.h"

#include <string.h>

#include "src/qcow2/qcow2_check.h"
#include "src/qcow2/qcow2_open.h"

#define OPEN_72 (QOPEN_B_ZSTD | QOPEN_B_READ_LIMIT)
#define CHECK_72 (QCOW2_CHECK_RESERVED_BITS | QCOW2_CHECK_SUBCLUSTERS | \
		  QCOW2_CHECK_EXACT_COMPRESSED | QCOW2_CHECK_READ_LIMIT)

const struct qemu_compat qemu_compat_table[] = {
	{ .version = "5.2", .child_node = false, .snapshots = QEMU_SNAPSHOTS_52,
	  .dirty_flag = false, .regular_file_message = false,
	  .stale_errno_suffix = true, .size_wrap_in_open = false,
	  .open_behaviour = QOPEN_B_DATA_FILE, .check_behaviour = 0 },
	{ .version = "7.2", .child_node = false, .snapshots = QEMU_SNAPSHOTS_72,
	  .dirty_flag = true, .regular_file_message = true,
	  .stale_errno_suffix = false, .size_wrap_in_open = true,
	  .open_behaviour = OPEN_72, .check_behaviour = CHECK_72 },
	{ .version = "10.0", .child_node = true, .snapshots = QEMU_SNAPSHOTS_100,
	  .dirty_flag = true, .regular_file_message = true,
	  .stale_errno_suffix = false, .size_wrap_in_open = true,
	  .open_behaviour = OPEN_72 | QOPEN_B_LUKS_NO_EXT,
	  .check_behaviour = CHECK_72 },
	{ .version = "11.1", .child_node = true, .snapshots = QEMU_SNAPSHOTS_100,
	  .dirty_flag = true, .regular_file_message = true,
	  .stale_errno_suffix = false, .size_wrap_in_open = true,
	  .open_behaviour = OPEN_72 | QOPEN_B_LUKS_NO_EXT,
	  .check_behaviour = CHECK_72 },
};

const size_t qemu_compat_count =
	sizeof(qemu_compat_table) / sizeof(qemu_compat_table[0]);

const struct qemu_compat *qemu_compat_find(const char *version)
{
	for (size_t i = 0; i < qemu_compat_count; i++) {
		if (strcmp(qemu_compat_table[i].version, version) == 0)
			return &qemu_compat_table[i];
	}
	return NULL;
}

const struct qemu_compat *qemu_compat_default(void)
{
	return &qemu_compat_table[qemu_compat_count - 1u];
}
