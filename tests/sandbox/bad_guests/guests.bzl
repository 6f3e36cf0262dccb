"""guests.bzl — the names of the test-only misbehaving guests: one list for
bad_guests/BUILD (which builds each NAME.c into NAME_embedded) and the
tests that embed them all (tests/sandbox/BUILD)."""

BAD_GUESTS = [
    "spin",
    "triple_fault",
    "halt",
    "bad_doorbell",
    "other_port",
    "mmio_storm",
    "mmio_outside",
    "write_outside",
    "lie_l1",
    "lie_cluster_bits",
    "claim_no_write",
    "desc_loop",
    "replay_tail",
    "replay_report",
    "replay_expand",
    "write_page_table",
    "read_page_table",
    "write_gdt",
    "forged_iret",
    "syscall_insn",
    "exec_data",
    "write_code",
    "write_params",
    "notify_storm",
    "touch_lapic",
    "apic_msr",
    "remember",
]
