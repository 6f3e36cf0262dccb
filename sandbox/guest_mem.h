/*
 * guest_mem.h — the guest's RAM as the host sees it, and the one helper
 * through which the host turns any guest-physical range into a pointer.
 *
 * Trust: every guest-physical address and length handed to
 * guest_mem_range() is hostile; it checks the start AND the end (with
 * overflow checks) before returning a pointer. No other code in sandbox/
 * computes a host pointer from a guest address.
 */
#ifndef INSTAR_SANDBOX_GUEST_MEM_H
#define INSTAR_SANDBOX_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct guest_mem {
	uint8_t *base;   /* host address of guest-physical 0 */
	uint64_t size;   /* bytes of RAM from guest-physical 0 */
	bool mapped;     /* base came from guest_mem_map() */
};

/* Map `size` bytes (a positive multiple of the page size) of zeroed,
 * private anonymous memory. Returns false (and leaves *m empty) on error. */
bool guest_mem_map(struct guest_mem *m, uint64_t size);

/* Unmap what guest_mem_map() mapped; safe on an empty or wrapped *m. */
void guest_mem_unmap(struct guest_mem *m);

/* Use an existing host buffer as guest memory (unit tests). */
void guest_mem_wrap(struct guest_mem *m, void *base, uint64_t size);

/* Host pointer to guest-physical [gpa, gpa + len), or NULL unless that
 * whole range lies inside guest RAM. len must be at least 1. */
void *guest_mem_range(const struct guest_mem *m, uint64_t gpa, uint64_t len);

#ifdef __cplusplus
}
#endif

#endif
