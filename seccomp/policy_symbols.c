/*
 * policy_symbols.c - the symbolic constants policy.txt may use, resolved by
 * the C compiler from the system headers when the generator is built, so the
 * policy never carries a hand-copied ioctl number or flag value.
 *
 * Trusts: the kernel and libc headers of the build machine. Negative values
 * (AT_FDCWD) are stored sign-extended to 64 bits, which is how the C library
 * passes an int argument in a 64-bit register.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "seccomp/policy_parse.h"

struct symbol {
	const char *name;
	int64_t value;
};

#define SYM(x) { #x, (int64_t)(x) }

static const struct symbol symbols[] = {
	/* KVM ioctls on /dev/kvm, the VM fd and the vCPU fd. */
	SYM(KVM_GET_API_VERSION),
	SYM(KVM_CHECK_EXTENSION),
	SYM(KVM_CREATE_VM),
	SYM(KVM_ENABLE_CAP),
	SYM(KVM_GET_VCPU_MMAP_SIZE),
	SYM(KVM_SET_USER_MEMORY_REGION),
	SYM(KVM_SET_TSS_ADDR),
	SYM(KVM_SET_IDENTITY_MAP_ADDR),
	SYM(KVM_CREATE_VCPU),
	SYM(KVM_RUN),
	SYM(KVM_GET_REGS),
	SYM(KVM_SET_REGS),
	SYM(KVM_GET_SREGS),
	SYM(KVM_SET_SREGS),
	SYM(KVM_GET_SUPPORTED_CPUID),
	SYM(KVM_SET_CPUID2),
	SYM(KVM_GET_MSRS),
	SYM(KVM_GET_FPU),
	SYM(KVM_SET_FPU),
	/* File descriptors and open flags. */
	SYM(STDIN_FILENO),
	SYM(STDOUT_FILENO),
	SYM(STDERR_FILENO),
	SYM(AT_FDCWD),
	SYM(AT_EMPTY_PATH),
	SYM(O_RDONLY),
	SYM(O_WRONLY),
	SYM(O_RDWR),
	SYM(O_CLOEXEC),
	SYM(O_NONBLOCK),
	SYM(O_NOCTTY),
	SYM(O_CREAT),
	SYM(O_TRUNC),
	SYM(O_APPEND),
	SYM(O_DIRECT),
	SYM(O_DSYNC),
	SYM(O_SYNC),
	/* fcntl commands (QEMU's image locks are OFD locks). */
	/* Terminal query glibc makes on the first output to a character device. */
	SYM(TCGETS),
	SYM(F_GETFD),
	SYM(F_SETFD),
	SYM(F_GETFL),
	SYM(F_SETFL),
	SYM(F_OFD_GETLK),
	SYM(F_OFD_SETLK),
	SYM(F_OFD_SETLKW),
	/* fallocate modes. */
	SYM(FALLOC_FL_ZERO_RANGE),
	/* lseek whence. */
	SYM(SEEK_SET),
	SYM(SEEK_CUR),
	SYM(SEEK_END),
	/* Memory mapping. */
	SYM(PROT_NONE),
	SYM(PROT_READ),
	SYM(PROT_WRITE),
	SYM(PROT_EXEC),
	SYM(MAP_SHARED),
	SYM(MAP_PRIVATE),
	SYM(MAP_FIXED),
	SYM(MAP_ANONYMOUS),
	SYM(MAP_NORESERVE),
	SYM(MAP_FIXED_NOREPLACE),
	SYM(MAP_TYPE),
	SYM(MAP_SHARED_VALIDATE),
	SYM(MADV_DONTNEED),
	SYM(MADV_DONTDUMP),
	SYM(MADV_NOHUGEPAGE),
	SYM(MADV_HUGEPAGE),
	/* Signals, timers and clocks. */
	SYM(SIG_BLOCK),
	SYM(SIG_UNBLOCK),
	SYM(SIG_SETMASK),
	SYM(SIGALRM),
	SYM(SIGSEGV),
	SYM(SIGBUS),
	SYM(SIGABRT),
	SYM(ITIMER_REAL),
	SYM(CLOCK_REALTIME),
	SYM(CLOCK_MONOTONIC),
	SYM(CLOCK_BOOTTIME),
	/* futex operations (the CLI's helper thread). */
	SYM(FUTEX_WAIT_PRIVATE),
	SYM(FUTEX_WAKE_PRIVATE),
	/* prctl and seccomp. */
	SYM(PR_SET_NO_NEW_PRIVS),
	SYM(PR_GET_NO_NEW_PRIVS),
	SYM(PR_SET_VMA),
	SYM(PR_GET_DUMPABLE),
	SYM(PR_SET_DUMPABLE),
	SYM(SECCOMP_SET_MODE_FILTER),
	SYM(SECCOMP_FILTER_FLAG_TSYNC),
	SYM(SECCOMP_FILTER_FLAG_TSYNC_ESRCH),
};

bool policy_symbol_lookup(const char *name, size_t len, uint64_t *value)
{
	for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
		const char *s = symbols[i].name;
		if (strlen(s) == len && memcmp(s, name, len) == 0) {
			*value = (uint64_t)symbols[i].value;
			return true;
		}
	}
	return false;
}

bool policy_symbol_at(size_t i, const char **name, uint64_t *value)
{
	if (i >= sizeof symbols / sizeof symbols[0])
		return false;
	*name = symbols[i].name;
	*value = (uint64_t)symbols[i].value;
	return true;
}
