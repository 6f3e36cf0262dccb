/*
 * lockdown_demo.c - test-only stand-in for `instar amend`'s host side, in
 * the order DESIGN.md gives: open and lock the image, read its header,
 * lock down, open /dev/kvm, build a VM, tighten, run a one-instruction
 * guest under a timer, commit an unchanged byte, print, exit. The strace
 * test traces it; once the CLI exists the same test traces `instar amend`.
 * Usage: lockdown_demo IMAGE. Trusts nothing it reads; prints its errors.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "seccomp/lockdown.h"

#define GUEST_MEM 0x10000u
#define GUEST_CODE 0x1000u

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static int fail(const char *what)
{
	fprintf(stderr, "lockdown_demo: %s\n", what);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return fail("usage: lockdown_demo IMAGE");
	int img = open(argv[1], O_RDWR | O_CLOEXEC);
	if (img < 0)
		return fail("cannot open the image");
	/* A read lock on one byte, the way QEMU marks an image in use. */
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 1 };
	if (fcntl(img, F_OFD_SETLK, &fl) != 0)
		return fail("cannot lock the image");
	uint8_t header[512];
	if (pread(img, header, sizeof header, 0) != (ssize_t)sizeof header)
		return fail("cannot read the header");

	const struct lockdown_binding b = { .image_fd = img };
	enum lockdown_err e = lockdown_apply(LOCKDOWN_PROFILE_SETUP, &b);
	if (e != LOCKDOWN_OK)
		return fail(lockdown_strerror(e));

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("cannot open /dev/kvm");
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return fail("unexpected KVM API version");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	uint8_t *mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return fail("cannot map guest memory");
	mem[GUEST_CODE] = 0xf4; /* hlt */
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = GUEST_MEM,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) != 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0UL);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("cannot map kvm_run");
	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) != 0)
		return fail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) != 0)
		return fail("KVM_SET_SREGS");
	struct kvm_regs regs;
	memset(&regs, 0, sizeof regs);
	regs.rip = GUEST_CODE;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) != 0)
		return fail("KVM_SET_REGS");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		return fail("sigaction");

	e = lockdown_tighten(&b);
	if (e != LOCKDOWN_OK)
		return fail(lockdown_strerror(e));

	struct itimerval budget;
	memset(&budget, 0, sizeof budget);
	budget.it_value.tv_sec = 2;
	if (setitimer(ITIMER_REAL, &budget, NULL) != 0)
		return fail("setitimer");
	if (ioctl(vcpu, KVM_RUN, 0) != 0 || timed_out)
		return fail("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_HLT)
		return fail("the guest did not halt");
	memset(&budget, 0, sizeof budget);
	if (setitimer(ITIMER_REAL, &budget, NULL) != 0)
		return fail("setitimer");

	/* Commit: rewrite one byte with its own value, make it durable. */
	struct stat st;
	if (fstat(img, &st) != 0 || st.st_size < (off_t)sizeof header)
		return fail("fstat");
	if (pwrite(img, header, 1, 0) != 1 || fdatasync(img) != 0)
		return fail("commit");
	printf("No change.\n");
	if (munmap(run, (size_t)run_size) != 0 || munmap(mem, GUEST_MEM) != 0)
		return fail("munmap");
	if (close(vcpu) != 0 || close(vm) != 0 || close(kvm) != 0 || close(img) != 0)
		return fail("close");
	return 0;
}
