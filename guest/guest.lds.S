/*
 * guest.lds.S — linker script of the sandbox guests (guest.bin and the
 * test-only guests), preprocessed into guest.ld so the load address and
 * size limit come from abi/guest_abi.h. The flat binary starts with
 * _start at GUEST_IMAGE_GPA; .bss follows it and is zeroed by entry.S.
 * The ASSERTs make an over-large guest a link error.
 *
 * Trust: n/a (build input).
 */
#include "abi/guest_abi.h"

OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(_start)

SECTIONS
{
	. = GUEST_IMAGE_GPA;
	__image_start = .;

	.text : {
		KEEP(*(.text.entry))
		*(.text .text.*)
	}
	. = ALIGN(4096);
	__text_end = .;
	.rodata : ALIGN(16) {
		*(.rodata .rodata.*)
	}
	. = ALIGN(4096);
	__ro_end = .;
	.data : ALIGN(16) {
		*(.data .data.*)
	}
	.bss : ALIGN(4096) {
		__bss_start = .;
		*(.bss .bss.*)
		*(COMMON)
		. = ALIGN(16);
		__bss_end = .;
	}
	__image_end = .;

	/DISCARD/ : {
		*(.comment)
		*(.note .note.*)
		*(.eh_frame .eh_frame_hdr)
		*(.got .got.plt .plt .dynamic .dynsym .dynstr .interp .rela.*)
	}
}

ASSERT(_start == GUEST_IMAGE_GPA, "guest entry must be at GUEST_IMAGE_GPA")
ASSERT(__image_end <= GUEST_IMAGE_GPA + GUEST_IMAGE_MAX, "guest image (with .bss) exceeds GUEST_IMAGE_MAX")
