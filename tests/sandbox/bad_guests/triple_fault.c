/* triple_fault.c — test-only bad guest: tries to load an empty IDT
 * (privileged: #GP at CPL3) and executes ud2. No exception can be
 * delivered without an IDT: the CPU shuts down (triple fault), which KVM
 * reports as KVM_EXIT_SHUTDOWN. */
#include "tests/sandbox/bad_guests/report.h"

struct __attribute__((packed)) idt_ptr {
	uint16_t limit;
	uint64_t base;
};

void guest_main(void)
{
	static const struct idt_ptr null_idt = { 0, 0 };
	__asm__ volatile("lidt %0\n\tud2" : : "m"(null_idt) : "memory");
	guest_stop();
}
