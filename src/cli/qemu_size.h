/*
 * qemu_size.h — sizes written as qemu-img writes them for people
 * ("64 MiB", "0.977 KiB", "1e+03 KiB"): the value times 1.024 picks the
 * unit (so the unit changes where the number would reach 1000), then the
 * value in that unit with three significant digits (C's %.3g, ties to
 * even). Learned by running each qemu-img release on many sizes
 * (docs/info.md, "Sizes"). Trust: none needed; pure arithmetic.
 */
#ifndef INSTAR_QEMU_SIZE_H
#define INSTAR_QEMU_SIZE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest result: "0.999 KiB" (9) ... "1e+03 EiB"; 16 bytes hold any. */
#define QEMU_SIZE_BUF 16u

/* Write the human form of `v` (NUL-terminated) into out[QEMU_SIZE_BUF]. */
void qemu_size_str(uint64_t v, char out[QEMU_SIZE_BUF]);

#ifdef __cplusplus
}
#endif

#endif
