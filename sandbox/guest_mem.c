/*
 * guest_mem.c — guest RAM mapping and the bounds-checked guest-physical
 * to host-pointer translation (see guest_mem.h).
 *
 * Trust: gpa/len come from the guest; both ends are checked.
 */
#define _GNU_SOURCE /* pread, MAP_ANONYMOUS, sigaction, setitimer under -std=c11 */
#include "sandbox/guest_mem.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

bool guest_mem_map(struct guest_mem *m, uint64_t size)
{
	m->base = NULL;
	m->size = 0;
	m->mapped = false;
	if (size == 0 || (size & 0xfffu) != 0 || size > SIZE_MAX)
		return false;
	void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	m->base = p;
	m->size = size;
	m->mapped = true;
	return true;
}

void guest_mem_unmap(struct guest_mem *m)
{
	if (m->mapped && m->base != NULL)
		(void)munmap(m->base, (size_t)m->size);
	m->base = NULL;
	m->size = 0;
	m->mapped = false;
}

void guest_mem_wrap(struct guest_mem *m, void *base, uint64_t size)
{
	m->base = base;
	m->size = base != NULL ? size : 0;
	m->mapped = false;
}

void *guest_mem_range(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t end;
	if (m->base == NULL || len == 0)
		return NULL;
	if (__builtin_add_overflow(gpa, len, &end))
		return NULL;
	if (gpa >= m->size || end > m->size)
		return NULL;
	return m->base + gpa;
}
