// lockdown_test.cc - lockdown_apply()/lockdown_tighten() in forked children
// of this test binary: syscalls outside the policy kill the process with
// SIGSYS, the ones the host needs still work (including a real KVM guest),
// capability sets are empty afterwards, and errors are reported without side
// effects. Trusts the kernel's /proc/self/status as the witness.
#include <gtest/gtest.h>

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "seccomp/lockdown.h"
#include "tests/seccomp/child.h"

namespace {

constexpr size_t kImageSize = 65536;

// The one pathname the policy lets openat() take: by address, so the tests
// open exactly this array (the CLI binds the sandbox's own).
const char kKvmPath[] = "/dev/kvm";
constexpr uint64_t kLastSector = kImageSize - 512;

lockdown_binding Bind(int image_fd) { return lockdown_binding{image_fd, kKvmPath, kLastSector, false}; }

// A stand-in for the opened image: an unlinked temporary file.
int OpenImage() {
  const char* dir = getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/imageXXXXXX";
  int fd = mkostemp(&path[0], O_CLOEXEC);
  if (fd < 0) return -1;
  unlink(path.c_str());
  if (ftruncate(fd, static_cast<off_t>(kImageSize)) != 0) return -1;
  return fd;
}

int Lock(int image_fd) {
  const lockdown_binding b = Bind(image_fd);
  lockdown_err e = lockdown_apply(LOCKDOWN_PROFILE_SETUP, &b);
  if (e != LOCKDOWN_OK) {
    Say("lockdown_apply failed: ");
    Say(lockdown_strerror(e));
    return 100 + static_cast<int>(e);
  }
  Say("locked\n");
  return 0;
}

int Tighten(int image_fd) {
  const lockdown_binding b = Bind(image_fd);
  lockdown_err e = lockdown_tighten(&b);
  if (e != LOCKDOWN_OK) {
    Say("lockdown_tighten failed: ");
    Say(lockdown_strerror(e));
    return 100 + static_cast<int>(e);
  }
  Say("tightened\n");
  return 0;
}

// --- Syscalls outside the policy --------------------------------------------

struct Forbidden {
  const char* name;
  bool tighten;                      // also install the second filter first
  std::function<int()> prep;         // runs before lockdown; returns aux fd
  std::function<void(int, int)> call;  // (image fd, aux fd), after lockdown
};

int NoPrep() { return -1; }
int PipeWriteEnd() {
  int p[2];
  if (pipe(p) != 0) return -1;
  return p[1];
}
int DevNull() { return open("/dev/null", O_RDWR | O_CLOEXEC); }

class ForbiddenSyscall : public ::testing::TestWithParam<Forbidden> {};

TEST_P(ForbiddenSyscall, KillsTheProcessWithSigsys) {
  const Forbidden& f = GetParam();
  ChildResult r = RunInChild([&f]() {
    int img = OpenImage();
    if (img < 0) return 90;
    int aux = f.prep();
    int rc = Lock(img);
    if (rc != 0) return rc;
    if (f.tighten && (rc = Tighten(img)) != 0) return rc;
    f.call(img, aux);
    Say("survived\n");
    return 0;
  });
  EXPECT_TRUE(r.KilledBy(SIGSYS)) << r.Describe();
  EXPECT_EQ(r.out, f.tighten ? "locked\ntightened\n" : "locked\n");
}

char* const kArgv[] = {const_cast<char*>("/bin/true"), nullptr};

void I386ExitGroup() {
  // exit_group(0) through the 32-bit entry point: must be refused, not
  // treated as the x86-64 syscall with the same number (252).
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(252L), "b"(0L) : "memory");
  (void)ret;
}

INSTANTIATE_TEST_SUITE_P(
    AfterLockdown, ForbiddenSyscall,
    ::testing::Values(
        Forbidden{"socket", false, NoPrep,
                  [](int, int) { syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); }},
        Forbidden{"socket_unix", false, NoPrep,
                  [](int, int) { syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0); }},
        Forbidden{"execve", false, NoPrep,
                  [](int, int) { syscall(SYS_execve, "/bin/true", kArgv, environ); }},
        Forbidden{"execveat", false, NoPrep,
                  [](int, int) { syscall(SYS_execveat, AT_FDCWD, "/bin/true", kArgv, environ, 0); }},
        Forbidden{"ptrace", false, NoPrep,
                  [](int, int) { syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0); }},
        // openat takes one pathname, by address: the same bytes elsewhere,
        // or the right flags with another path, are refused.
        Forbidden{"openat_other_path", false, NoPrep,
                  [](int, int) { syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDWR | O_CLOEXEC); }},
        Forbidden{"openat_copy_of_kvm_path", false, NoPrep,
                  [](int, int) {
                    static char copy[sizeof kKvmPath];
                    std::memcpy(copy, kKvmPath, sizeof copy);
                    syscall(SYS_openat, AT_FDCWD, copy, O_RDWR | O_CLOEXEC);
                  }},
        Forbidden{"openat_reused_number", false, NoPrep,
                  // The attack the old policy allowed: close the image's
                  // number, open another file on it, write through it.
                  [](int img, int) {
                    syscall(SYS_close, img);
                    syscall(SYS_openat, AT_FDCWD, "/tmp/victim", O_RDWR | O_CLOEXEC);
                  }},
        // futex: the helper thread's private wait and wake only.
        Forbidden{"futex_shared_wait", false, NoPrep,
                  [](int, int) {
                    static uint32_t word = 1;
                    struct timespec ts = {0, 1000};
                    syscall(SYS_futex, &word, FUTEX_WAIT, 1, &ts, nullptr, 0);
                  }},
        Forbidden{"futex_requeue", false, NoPrep,
                  [](int, int) {
                    static uint32_t a = 0, b = 0;
                    syscall(SYS_futex, &a, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, &b, 0);
                  }},
        Forbidden{"futex_shared_wake", false, NoPrep,
                  [](int, int) {
                    static uint32_t word = 0;
                    syscall(SYS_futex, &word, FUTEX_WAKE, 1, nullptr, nullptr, 0);
                  }},
        Forbidden{"munmap_kvm_path_page", false, NoPrep,
                  [](int, int) {
                    uintptr_t page = reinterpret_cast<uintptr_t>(kKvmPath) & ~uintptr_t{4095};
                    syscall(SYS_munmap, page, 4096);
                  }},
#ifndef INSTAR_SANITIZER_BUILD
        // Shipped policy only: ASan's allocator needs MAP_FIXED, so the
        // sanitizer builds allow it (seccomp/policy_sanitizer.txt).
        Forbidden{"mmap_fixed", false, NoPrep,
                  [](int, int) {
                    uintptr_t page = reinterpret_cast<uintptr_t>(kKvmPath) & ~uintptr_t{4095};
                    syscall(SYS_mmap, page, 4096, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
                  }},
        Forbidden{"mmap_fixed_noreplace", false, NoPrep,
                  [](int, int) {
                    syscall(SYS_mmap, 0x100000000L, 4096, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
                  }},
#endif
        Forbidden{"mmap_shared_image", false, NoPrep,
                  [](int img, int) {
                    syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, img, 0);
                  }},
        Forbidden{"mmap_shared_image_fd_high_bits", false, NoPrep,
                  [](int img, int) {
                    syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
                            (1L << 32) | img, 0);
                  }},
        Forbidden{"mmap_shared_stdout", false, NoPrep,
                  [](int, int) {
                    syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 1, 0);
                  }},
        Forbidden{"mmap_shared_validate_image", false, NoPrep,
                  [](int img, int) {
                    syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE, img, 0);
                  }},
        Forbidden{"mmap_private_file", false, NoPrep,
                  [](int img, int) {
                    syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, img, 0);
                  }},
        Forbidden{"pwrite64_past_header", false, NoPrep,
                  [](int img, int) {
                    static char sector[512];
                    syscall(SYS_pwrite64, img, sector, 512, kLastSector + 512);
                  }},
        Forbidden{"pwrite64_not_a_sector", false, NoPrep,
                  [](int img, int) { syscall(SYS_pwrite64, img, "x", 1, 0); }},
        Forbidden{"pwrite64_two_sectors", false, NoPrep,
                  [](int img, int) {
                    static char two[1024];
                    syscall(SYS_pwrite64, img, two, 1024, 0);
                  }},
        Forbidden{"pwrite64_negative_offset", false, NoPrep,
                  [](int img, int) {
                    static char sector[512];
                    syscall(SYS_pwrite64, img, sector, 512, -512L);
                  }},
        Forbidden{"lseek_set", false, NoPrep,
                  [](int img, int) { syscall(SYS_lseek, img, 0, SEEK_SET); }},
        Forbidden{"lseek_end_offset", false, NoPrep,
                  [](int img, int) { syscall(SYS_lseek, img, -512L, SEEK_END); }},
        Forbidden{"lseek_other_fd", false, DevNull,
                  [](int, int aux) { syscall(SYS_lseek, aux, 0, SEEK_END); }},
        Forbidden{"newfstatat_image", false, NoPrep,
                  [](int img, int) {
                    struct stat st;
                    syscall(SYS_newfstatat, img, "", &st, AT_EMPTY_PATH);
                  }},
        Forbidden{"newfstatat_absolute_path_with_stdout", false, NoPrep,
                  // An absolute path makes the kernel ignore the descriptor.
                  [](int, int) {
                    struct stat st;
                    syscall(SYS_newfstatat, 1, "/etc/shadow", &st, 0);
                  }},
        Forbidden{"ioctl_tcgets_on_stdout", false, NoPrep,
                  [](int, int) {
                    struct termios t;
                    syscall(SYS_ioctl, 1, TCGETS, &t);
                  }},
        Forbidden{"rt_sigprocmask_setmask", false, NoPrep,
                  [](int, int) {
                    sigset_t all;
                    sigfillset(&all);
                    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, nullptr, 8);
                  }},
        // A descriptor above the image (one the sandbox made, in the CLI)
        // may be mapped shared only while the VM is being built.
        Forbidden{"tight_mmap_shared", true, DevNull,
                  [](int, int aux) {
                    syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, aux, 0);
                  }},
        Forbidden{"tight_rt_sigprocmask_setmask", true, NoPrep,
                  [](int, int) { syscall(SYS_rt_sigprocmask, SIG_SETMASK, nullptr, nullptr, 8); }},
        Forbidden{"openat_read_only", false, NoPrep,
                  [](int, int) { syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC); }},
        Forbidden{"openat_without_cloexec", false, NoPrep,
                  [](int, int) { syscall(SYS_openat, AT_FDCWD, kKvmPath, O_RDWR); }},
        Forbidden{"openat_create", false, NoPrep,
                  [](int, int) {
                    syscall(SYS_openat, AT_FDCWD, "/tmp/x", O_RDWR | O_CLOEXEC | O_CREAT, 0600);
                  }},
        Forbidden{"openat_relative_to_fd", false, NoPrep,
                  [](int img, int) { syscall(SYS_openat, img, "x", O_RDWR | O_CLOEXEC); }},
        Forbidden{"open_legacy", false, NoPrep,
                  [](int, int) { syscall(SYS_open, kKvmPath, O_RDWR | O_CLOEXEC); }},
        Forbidden{"mmap_exec", false, NoPrep,
                  [](int, int) {
                    syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                  }},
        Forbidden{"mmap_rwx", false, NoPrep,
                  [](int, int) {
                    syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                  }},
        Forbidden{"mprotect", false, NoPrep,
                  [](int, int) { syscall(SYS_mprotect, 0, 4096, PROT_READ | PROT_EXEC); }},
        Forbidden{"write_other_fd", false, PipeWriteEnd,
                  [](int, int aux) { syscall(SYS_write, aux, "x", 1); }},
        Forbidden{"write_stdin", false, NoPrep, [](int, int) { syscall(SYS_write, 0, "x", 1); }},
        Forbidden{"write_image", false, NoPrep, [](int img, int) { syscall(SYS_write, img, "x", 1); }},
        Forbidden{"read", false, NoPrep,
                  [](int img, int) {
                    char c;
                    syscall(SYS_read, img, &c, 1);
                  }},
        // fallocate: only FALLOC_FL_ZERO_RANGE of at most 2 MiB, on the
        // image, starting inside the bound.
        Forbidden{"fallocate_punch_hole", false, NoPrep,
                  [](int img, int) {
                    syscall(SYS_fallocate, img, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0L, 4096L);
                  }},
        Forbidden{"fallocate_allocate", false, NoPrep,
                  [](int img, int) { syscall(SYS_fallocate, img, 0, 0L, 4096L); }},
        Forbidden{"fallocate_past_bound", false, NoPrep,
                  [](int img, int) {
                    syscall(SYS_fallocate, img, FALLOC_FL_ZERO_RANGE, static_cast<long>(kLastSector + 512), 512L);
                  }},
        Forbidden{"fallocate_over_2m", false, NoPrep,
                  [](int img, int) { syscall(SYS_fallocate, img, FALLOC_FL_ZERO_RANGE, 0L, (2L << 20) + 512); }},
        Forbidden{"fallocate_other_fd", false, DevNull,
                  [](int, int aux) { syscall(SYS_fallocate, aux, FALLOC_FL_ZERO_RANGE, 0L, 512L); }},
        Forbidden{"pwrite64_other_fd", false, DevNull,
                  [](int, int aux) { syscall(SYS_pwrite64, aux, "x", 1, 0); }},
        Forbidden{"pread64_other_fd", false, DevNull,
                  [](int, int aux) {
                    char c;
                    syscall(SYS_pread64, aux, &c, 1, 0);
                  }},
        Forbidden{"fdatasync_other_fd", false, DevNull,
                  [](int, int aux) { syscall(SYS_fdatasync, aux); }},
        Forbidden{"fsync", false, NoPrep, [](int img, int) { syscall(SYS_fsync, img); }},
        Forbidden{"newfstatat_other_fd", false, DevNull,
                  [](int, int aux) {
                    struct stat st;
                    syscall(SYS_newfstatat, aux, "", &st, AT_EMPTY_PATH);
                  }},
        Forbidden{"newfstatat_path", false, NoPrep,
                  [](int, int) {
                    struct stat st;
                    syscall(SYS_newfstatat, AT_FDCWD, "/etc/passwd", &st, 0);
                  }},
        Forbidden{"fstat_legacy", false, NoPrep,
                  [](int img, int) {
                    struct stat st;
                    syscall(SYS_fstat, img, &st);
                  }},
        Forbidden{"ioctl_not_kvm", false, NoPrep,
                  [](int img, int) {
                    int n;
                    syscall(SYS_ioctl, img, FIONREAD, &n);
                  }},
        Forbidden{"ioctl_tcgets_on_image", false, NoPrep,
                  [](int img, int) {
                    struct termios t;
                    syscall(SYS_ioctl, img, TCGETS, &t);
                  }},
        Forbidden{"ioctl_tcsets_on_stdout", false, NoPrep,
                  [](int, int) {
                    struct termios t = {};
                    syscall(SYS_ioctl, 1, TCSETS, &t);
                  }},
        Forbidden{"ioctl_kvm_unlisted", false, NoPrep,
                  [](int img, int) { syscall(SYS_ioctl, img, KVM_GET_SUPPORTED_CPUID, 0); }},
        Forbidden{"ioctl_kvm_number_in_high_half", false, NoPrep,
                  // The kernel reads only the low 32 bits of the request:
                  // KVM_RUN up high must not smuggle FIONREAD through.
                  [](int img, int) {
                    syscall(SYS_ioctl, img,
                            (static_cast<unsigned long>(KVM_RUN) << 32) | FIONREAD, 0);
                  }},
        Forbidden{"write_fd_with_high_bits", false, PipeWriteEnd,
                  [](int, int aux) {
                    syscall(SYS_write, (1L << 32) | aux, "x", 1);
                  }},
        Forbidden{"rt_sigaction_other_signal", false, NoPrep,
                  [](int, int) { syscall(SYS_rt_sigaction, SIGSEGV, nullptr, nullptr, 8); }},
        Forbidden{"rt_sigprocmask_block", false, NoPrep,
                  [](int, int) { syscall(SYS_rt_sigprocmask, SIG_BLOCK, nullptr, nullptr, 8); }},
        Forbidden{"setitimer_virtual", false, NoPrep,
                  [](int, int) {
                    struct itimerval v = {};
                    syscall(SYS_setitimer, ITIMER_VIRTUAL, &v, nullptr);
                  }},
        Forbidden{"clock_gettime_realtime", false, NoPrep,
                  [](int, int) {
                    struct timespec ts;
                    syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
                  }},
        Forbidden{"getpid", false, NoPrep, [](int, int) { syscall(SYS_getpid); }},
        Forbidden{"kill", false, NoPrep, [](int, int) { syscall(SYS_kill, 0, 0); }},
        Forbidden{"fork", false, NoPrep, [](int, int) { syscall(SYS_fork); }},
        Forbidden{"clone", false, NoPrep,
                  [](int, int) { syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); }},
        Forbidden{"prctl", false, NoPrep,
                  [](int, int) { syscall(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0); }},
        Forbidden{"capset", false, NoPrep, [](int, int) { syscall(SYS_capset, 0, 0); }},
        Forbidden{"setuid", false, NoPrep, [](int, int) { syscall(SYS_setuid, 0); }},
        Forbidden{"seccomp_strict", false, NoPrep,
                  [](int, int) { syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, nullptr); }},
        Forbidden{"seccomp_listener", false, NoPrep,
                  [](int, int) {
                    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                            SECCOMP_FILTER_FLAG_NEW_LISTENER, nullptr);
                  }},
        Forbidden{"x32_exit_group", false, NoPrep,
                  [](int, int) { syscall(0x40000000L | SYS_exit_group, 0); }},
        Forbidden{"i386_exit_group", false, NoPrep, [](int, int) { I386ExitGroup(); }},
        // After lockdown_tighten(): the setup-only rules are gone.
        Forbidden{"tight_openat_kvm_flags", true, NoPrep,
                  [](int, int) { syscall(SYS_openat, AT_FDCWD, kKvmPath, O_RDWR | O_CLOEXEC); }},
        Forbidden{"tight_kvm_create_vm", true, NoPrep,
                  [](int img, int) { syscall(SYS_ioctl, img, KVM_CREATE_VM, 0); }},
        Forbidden{"tight_kvm_create_vcpu", true, NoPrep,
                  [](int img, int) { syscall(SYS_ioctl, img, KVM_CREATE_VCPU, 0); }},
        Forbidden{"tight_kvm_set_memory", true, NoPrep,
                  [](int img, int) { syscall(SYS_ioctl, img, KVM_SET_USER_MEMORY_REGION, 0); }},
        Forbidden{"tight_kvm_set_regs", true, NoPrep,
                  [](int img, int) { syscall(SYS_ioctl, img, KVM_SET_REGS, 0); }},
        Forbidden{"tight_kvm_get_sregs", true, NoPrep,
                  [](int img, int) { syscall(SYS_ioctl, img, KVM_GET_SREGS, 0); }},
        Forbidden{"tight_kvm_set_sregs", true, NoPrep,
                  [](int img, int) { syscall(SYS_ioctl, img, KVM_SET_SREGS, 0); }},
        // The run loop restores SIGALRM's handler and the mask after the
        // run, so those two stay, narrowed exactly as in the first filter.
        Forbidden{"tight_rt_sigaction_other_signal", true, NoPrep,
                  [](int, int) { syscall(SYS_rt_sigaction, SIGSEGV, nullptr, nullptr, 8); }},
        Forbidden{"tight_rt_sigprocmask_block", true, NoPrep,
                  [](int, int) { syscall(SYS_rt_sigprocmask, SIG_BLOCK, nullptr, nullptr, 8); }},
        Forbidden{"tight_second_tighten", true, NoPrep,
                  [](int img, int) {
                    const lockdown_binding b = Bind(img);
                    (void)lockdown_tighten(&b);
                  }},
        Forbidden{"tight_socket", true, NoPrep,
                  [](int, int) { syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); }}),
    [](const ::testing::TestParamInfo<Forbidden>& i) { return std::string(i.param.name); });

// --- Syscalls the host needs --------------------------------------------------

volatile sig_atomic_t g_alarm = 0;
void OnAlarm(int) { g_alarm = 1; }

long MonotonicMs() {
  struct timespec ts;
  if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0) return -1;
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

TEST(Lockdown, AllowedSyscallsStillWork) {
  ChildResult r = RunInChild([]() {
    int img = OpenImage();
    if (img < 0) return 90;
    static char out_buf[BUFSIZ];
    if (setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf) != 0) return 93;
    int rc = Lock(img);
    if (rc != 0) return rc;

    if (write(2, "", 0) != 0) return 1;
    char buf[512];
    std::memset(buf, 0x5a, sizeof buf);
    if (pwrite(img, buf, sizeof buf, 4096) != static_cast<ssize_t>(sizeof buf)) return 2;
    char back[512];
    if (pread(img, back, sizeof back, 4096) != static_cast<ssize_t>(sizeof back)) return 3;
    if (std::memcmp(buf, back, sizeof buf) != 0) return 4;
    if (fdatasync(img) != 0) return 5;
    if (lseek(img, 0, SEEK_END) != static_cast<off_t>(kImageSize)) return 6;
    // The last sector of the header cluster is the highest a write may start.
    if (pwrite(img, buf, sizeof buf, kLastSector) != static_cast<ssize_t>(sizeof buf)) return 17;
    // A cluster of zeros (a zero-cluster downgrade), inside the bound; a
    // file system without ZERO_RANGE says so rather than killing us.
    if (fallocate(img, FALLOC_FL_ZERO_RANGE, 4096, 4096) != 0 && errno != EOPNOTSUPP) return 18;
    Say("image io\n");

    void* m = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 7;
    static_cast<char*>(m)[12345] = 1;
    if (munmap(m, 1 << 20) != 0) return 8;
    void* big = malloc(8 << 20);  // mmap'd by malloc
    void* small = malloc(100);    // from the brk heap
    if (big == nullptr || small == nullptr) {
      free(big);
      free(small);
      return 9;
    }
    std::memset(big, 1, 8 << 20);
    free(big);
    free(small);
    Say("memory\n");

    // The helper thread's futex calls: private wake and (timed) wait.
    static uint32_t word = 0;
    if (syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0) != 0) return 18;
    struct timespec tiny = {0, 1000};
    if (syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &tiny, nullptr, 0) != -1 ||
        errno != ETIMEDOUT)
      return 19;
    if (MonotonicMs() < 0) return 10;
    struct sigaction sa = {};
    sa.sa_handler = OnAlarm;
    if (sigaction(SIGALRM, &sa, nullptr) != 0) return 11;
    struct itimerval it = {};
    it.it_value.tv_usec = 20000;
    if (setitimer(ITIMER_REAL, &it, nullptr) != 0) return 12;
    long deadline = MonotonicMs() + 5000;
    while (!g_alarm && MonotonicMs() < deadline) {
    }
    if (!g_alarm) return 13;  // the handler ran and returned: rt_sigreturn
    Say("timer\n");

    // stdio got its buffer before lockdown (as the CLI's
    // process_stdio_setup() does): no fstat, no isatty now.
    printf("stdio %d\n", 42);
    if (fflush(stdout) != 0) return 14;
    if (close(img) != 0) return 15;
    return 0;  // _exit -> exit_group
  });
  EXPECT_TRUE(r.ExitedWith(0)) << r.Describe();
  EXPECT_EQ(r.out, "locked\nimage io\nmemory\ntimer\nstdio 42\n");
}

// What a taken-over process can still do with the descriptor rules, as
// SECURITY.md states it: a closed bound number comes back only as
// /dev/kvm, and the image- and stdio-bound calls then fail on /dev/kvm
// instead of writing anywhere.
TEST(Lockdown, AReusedDescriptorNumberCanOnlyBeDevKvm) {
  ChildResult r = RunInChild([]() {
    int img = OpenImage();
    if (img < 0) return 90;
    int rc = Lock(img);
    if (rc != 0) return rc;
    if (close(img) != 0) return 1;
    int again = open(kKvmPath, O_RDWR | O_CLOEXEC);
    if (again != img) return 2;  // the lowest free number: the image's
    static char sector[512];
    if (pwrite(again, sector, sizeof sector, 0) >= 0) return 3;  // /dev/kvm refuses
    if (lseek(again, 0, SEEK_END) > 0) return 4;
    Say("reused number is /dev/kvm\n");
    return 0;
  });
  EXPECT_TRUE(r.ExitedWith(0)) << r.Describe();
  EXPECT_EQ(r.out, "locked\nreused number is /dev/kvm\n");
}

// The pinned pathname's bytes are in the binary's read-only data.
TEST(Lockdown, KvmPathLivesInReadOnlyMemory) {
  std::ifstream maps("/proc/self/maps");
  ASSERT_TRUE(maps.good());
  uintptr_t a = reinterpret_cast<uintptr_t>(kKvmPath);
  std::string line;
  bool found = false;
  while (std::getline(maps, line)) {
    uintptr_t lo = 0, hi = 0;
    char perms[8] = {};
    // NOLINTNEXTLINE(cert-err34-c): the kernel's own maps lines; one that does not match is skipped
    if (sscanf(line.c_str(), "%lx-%lx %7s", &lo, &hi, perms) != 3) continue;
    if (a < lo || a >= hi) continue;
    found = true;
    EXPECT_EQ(perms[1], '-') << "writable mapping: " << line;
    EXPECT_EQ(perms[3], 'p') << line;
  }
  EXPECT_TRUE(found);
}

// A 32-bit argument is compared as the kernel reads it: whatever the caller
// leaves in the high half of the register (zero- or sign-extension, junk),
// the same low half means the same call.
TEST(Lockdown, IntArgumentsMatchWhateverTheHighHalf) {
  ChildResult r = RunInChild([]() {
    int img = OpenImage();
    if (img < 0) return 90;
    int rc = Lock(img);
    if (rc != 0) return rc;
    const long flags = O_RDWR | O_CLOEXEC;
    const long sign_extended = -100L;                      // 0xffffffffffffff9c
    const long zero_extended = 0xffffff9cL;                // what a 32-bit mov leaves
    long fd1 = syscall(SYS_openat, sign_extended, kKvmPath, flags);
    long fd2 = syscall(SYS_openat, zero_extended, kKvmPath, flags | (1L << 40));
    if (fd1 < 0 || fd2 < 0) return 1;
    if (syscall(SYS_write, (7L << 32) | 1L, "high\n", 5) != 5) return 2;
    Say("ok\n");
    return 0;
  });
  EXPECT_TRUE(r.ExitedWith(0)) << r.Describe();
  EXPECT_EQ(r.out, "locked\nhigh\nok\n");
}

// The whole KVM sequence the host runs, with a one-instruction guest.
TEST(Lockdown, RealGuestRunsInsideThePolicy) {
  if (access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/kvm on this machine";
  ChildResult r = RunInChild([]() {
    int img = OpenImage();
    if (img < 0) return 90;
    int rc = Lock(img);
    if (rc != 0) return rc;
    int kvm = open(kKvmPath, O_RDWR | O_CLOEXEC);
    if (kvm < 0) return 1;
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) return 2;
    if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0) return 3;
    int vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
    if (vm < 0) return 4;
    const size_t mem_size = 0x10000;
    auto* mem = static_cast<uint8_t*>(
        mmap(nullptr, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (mem == MAP_FAILED) return 5;
    const uint8_t code[] = {0xb0, 0x2a, 0xf4};  // mov $42, %al; hlt
    std::memcpy(mem + 0x1000, code, sizeof code);
    struct kvm_userspace_memory_region region = {};
    region.guest_phys_addr = 0;
    region.memory_size = mem_size;
    region.userspace_addr = reinterpret_cast<uintptr_t>(mem);
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) != 0) return 6;
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0UL);
    if (vcpu < 0) return 7;
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size <= 0) return 8;
    auto* run = static_cast<struct kvm_run*>(mmap(nullptr, static_cast<size_t>(run_size),
                                                  PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0));
    if (run == MAP_FAILED) return 9;
    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) != 0) return 10;
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) != 0) return 11;
    struct kvm_regs regs = {};
    regs.rip = 0x1000;
    regs.rflags = 0x2;
    if (ioctl(vcpu, KVM_SET_REGS, &regs) != 0) return 12;
    Say("built\n");
    if ((rc = Tighten(img)) != 0) return rc;
    if (ioctl(vcpu, KVM_RUN, 0) != 0) return 13;
    if (run->exit_reason != KVM_EXIT_HLT) return 14;
    if (ioctl(vcpu, KVM_GET_REGS, &regs) != 0) return 15;
    if ((regs.rax & 0xff) != 42 || regs.rip != 0x1003) return 16;
    // What the run loop does around the run, still allowed after tighten:
    // install and restore the SIGALRM handler, unblock SIGALRM.
    struct sigaction sa = {}, old_sa;
    sa.sa_handler = OnAlarm;
    if (sigaction(SIGALRM, &sa, &old_sa) != 0 || sigaction(SIGALRM, &old_sa, nullptr) != 0)
      return 19;
    sigset_t alrm, old_mask;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    if (sigprocmask(SIG_UNBLOCK, &alrm, &old_mask) != 0) return 20;
    Say("halted\n");
    if (munmap(run, static_cast<size_t>(run_size)) != 0 || munmap(mem, mem_size) != 0) return 17;
    if (close(vcpu) != 0 || close(vm) != 0 || close(kvm) != 0) return 18;
    return 0;
  });
  EXPECT_TRUE(r.ExitedWith(0)) << r.Describe();
  EXPECT_EQ(r.out, "locked\nbuilt\ntightened\nhalted\n");
}

// --- What /proc/self/status says after lockdown ------------------------------

std::map<std::string, std::string> ParseStatus(const std::string& s) {
  std::map<std::string, std::string> m;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    std::string line = s.substr(pos, nl - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      size_t v = line.find_first_not_of(" \t", colon + 1);
      m[line.substr(0, colon)] = v == std::string::npos ? "" : line.substr(v);
    }
    pos = nl + 1;
  }
  return m;
}

// Reads /proc/self/status through a descriptor opened before lockdown and
// bound as $image_fd, so pread64 on it is inside the policy.
int SayStatus(int status_fd) {
  char buf[8192];
  ssize_t n = pread(status_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 80;
  buf[n] = '\0';
  Say(buf);
  return 0;
}

const char kZero[] = "0000000000000000";

ChildResult StatusAfterLockdown(const std::function<int()>& before, bool tighten) {
  return RunInChild([&before, tighten]() {
    int st = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (st < 0) return 90;
    int rc = before();
    if (rc != 0) return rc;
    const lockdown_binding b = Bind(st);
    if (lockdown_apply(LOCKDOWN_PROFILE_SETUP, &b) != LOCKDOWN_OK) return 91;
    if (tighten && lockdown_tighten(&b) != LOCKDOWN_OK) return 92;
    return SayStatus(st);
  });
}

TEST(Lockdown, RootEndsWithEveryCapabilitySetEmpty) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to start with capabilities";
  // Start from a real root with full sets (the test runner's).
  ChildResult before = RunInChild([]() {
    int st = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    return st < 0 ? 90 : SayStatus(st);
  });
  ASSERT_TRUE(before.ExitedWith(0)) << before.Describe();
  auto b = ParseStatus(before.out);
  ASSERT_NE(b["CapEff"], kZero) << "the test needs to start with capabilities";
  ASSERT_NE(b["CapBnd"], kZero);
  EXPECT_EQ(b["NoNewPrivs"], "0");
  EXPECT_EQ(b["Seccomp"], "0");

  ChildResult r = StatusAfterLockdown([]() { return 0; }, false);
  ASSERT_TRUE(r.ExitedWith(0)) << r.Describe();
  auto s = ParseStatus(r.out);
  for (const char* k : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
    EXPECT_EQ(s[k], kZero) << k;
  EXPECT_EQ(s["NoNewPrivs"], "1");
  EXPECT_EQ(s["Seccomp"], "2");
  EXPECT_EQ(s["Seccomp_filters"], "1");
}

TEST(Lockdown, TightenStacksASecondFilter) {
  ChildResult r = StatusAfterLockdown([]() { return 0; }, true);
  ASSERT_TRUE(r.ExitedWith(0)) << r.Describe();
  auto s = ParseStatus(r.out);
  EXPECT_EQ(s["Seccomp"], "2");
  EXPECT_EQ(s["Seccomp_filters"], "2");
  EXPECT_EQ(s["CapEff"], kZero);
}

TEST(Lockdown, AmbientCapabilitiesAreCleared) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to raise an ambient capability";
  ChildResult r = StatusAfterLockdown(
      []() {
        // Put CAP_NET_RAW in the inheritable and then the ambient set.
        if (capng_get_caps_process() != 0) return 81;
        if (capng_update(CAPNG_ADD, CAPNG_INHERITABLE, CAP_NET_RAW) != 0) return 82;
        if (capng_apply(CAPNG_SELECT_CAPS) != 0) return 83;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) != 0) return 84;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0) != 1) return 85;
        return 0;
      },
      false);
  ASSERT_TRUE(r.ExitedWith(0)) << r.Describe();
  auto s = ParseStatus(r.out);
  EXPECT_EQ(s["CapAmb"], kZero);
  EXPECT_EQ(s["CapInh"], kZero);
}

// An ordinary user (e.g. in the kvm group) has no CAP_SETPCAP and cannot
// shrink its bounding set; lockdown must still succeed and empty the rest.
TEST(Lockdown, UnprivilegedUserLocksDownToo) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  ChildResult r = StatusAfterLockdown(
      []() {
        if (setresgid(65534, 65534, 65534) != 0) return 81;
        if (setgroups(0, nullptr) != 0 && errno != EPERM) return 82;
        if (setresuid(65534, 65534, 65534) != 0) return 83;
        return 0;
      },
      true);
  ASSERT_TRUE(r.ExitedWith(0)) << r.Describe();
  auto s = ParseStatus(r.out);
  for (const char* k : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) EXPECT_EQ(s[k], kZero) << k;
  EXPECT_NE(s["CapBnd"], kZero) << "an unprivileged process cannot drop its bounding set";
  EXPECT_EQ(s["NoNewPrivs"], "1");
  EXPECT_EQ(s["Seccomp"], "2");
  EXPECT_EQ(s["Seccomp_filters"], "2");
}

// --- Every thread, and the whole process ------------------------------------

std::atomic<int> g_go{0};
std::atomic<int> g_started{0};

void* ForbiddenFromThread(void*) {
  // glibc's thread start-up makes syscalls of its own (set_robust_list,
  // rseq, sigprocmask); they must happen before the filter, so main waits
  // for this flag (on a loaded machine the thread may start late).
  g_started.store(1);
  while (g_go.load() == 0) {
  }
  syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
  Say("thread survived\n");
  g_go.store(2);
  return nullptr;
}

// TSYNC puts the filter on a thread that existed before lockdown, and the
// default action kills the whole process, not just the offending thread.
TEST(Lockdown, FilterCoversOtherThreadsAndKillsTheProcess) {
  ChildResult r = RunInChild([]() {
    int img = OpenImage();
    if (img < 0) return 90;
    pthread_t t;
    if (pthread_create(&t, nullptr, ForbiddenFromThread, nullptr) != 0) return 91;
    long start_deadline = MonotonicMs() + 5000;
    while (g_started.load() == 0 && MonotonicMs() < start_deadline) {
    }
    if (g_started.load() == 0) return 92;
    int rc = Lock(img);
    if (rc != 0) return rc;
    g_go.store(1);
    long deadline = MonotonicMs() + 5000;
    while (g_go.load() != 2 && MonotonicMs() < deadline) {
    }
    Say("main survived\n");
    return 3;
  });
  EXPECT_TRUE(r.KilledBy(SIGSYS)) << r.Describe();
  EXPECT_EQ(r.out, "locked\n");
}

// --- Errors -------------------------------------------------------------------

TEST(Lockdown, BadArgumentsFailBeforeChangingAnything) {
  ChildResult r = RunInChild([]() {
    const lockdown_binding bad = Bind(-1);
    const lockdown_binding good = Bind(1);
    const lockdown_binding no_path = {1, nullptr, kLastSector, false};
    static const char other_path[] = "/dev/null";
    const lockdown_binding wrong_path = {1, other_path, kLastSector, false};
    const lockdown_binding odd_sector = {1, kKvmPath, 100, false};
    if (lockdown_apply(LOCKDOWN_PROFILE_SETUP, &no_path) != LOCKDOWN_ERR_BINDING) return 11;
    if (lockdown_apply(LOCKDOWN_PROFILE_SETUP, &wrong_path) != LOCKDOWN_ERR_BINDING) return 12;
    if (lockdown_apply(LOCKDOWN_PROFILE_SETUP, &odd_sector) != LOCKDOWN_ERR_BINDING) return 13;
    if (lockdown_apply(LOCKDOWN_PROFILE_SETUP, nullptr) != LOCKDOWN_ERR_BINDING) return 1;
    if (lockdown_apply(LOCKDOWN_PROFILE_SETUP, &bad) != LOCKDOWN_ERR_BINDING) return 2;
    if (lockdown_apply(static_cast<lockdown_profile>(0), &good) != LOCKDOWN_ERR_PROFILE) return 3;
    if (lockdown_apply(static_cast<lockdown_profile>(7), &good) != LOCKDOWN_ERR_PROFILE) return 4;
    if (lockdown_tighten(nullptr) != LOCKDOWN_ERR_BINDING) return 5;
    if (lockdown_tighten(&bad) != LOCKDOWN_ERR_BINDING) return 6;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0) return 7;
    if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0) return 8;
    if (geteuid() == 0) {
      if (capng_get_caps_process() != 0) return 9;
      if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN)) return 10;
    }
    return 0;
  });
  EXPECT_TRUE(r.ExitedWith(0)) << r.Describe();
}

// The kernel refuses a filter from a process with neither no_new_privs nor
// CAP_SYS_ADMIN: lockdown_tighten() says so with its own code, which the CLI
// turns into "the guest was not started".
TEST(Lockdown, TightenFailureHasItsOwnCode) {
  ChildResult r = RunInChild([]() {
    int img = OpenImage();
    if (img < 0) return 90;
    capng_clear(CAPNG_SELECT_CAPS);
    if (capng_apply(CAPNG_SELECT_CAPS) != 0) return 1;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0) return 2;
    const lockdown_binding b = Bind(img);
    lockdown_err e = lockdown_tighten(&b);
    if (e != LOCKDOWN_ERR_TIGHTEN) return 10 + static_cast<int>(e);
    if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0) return 3;
    return 0;
  });
  EXPECT_TRUE(r.ExitedWith(0)) << r.Describe();
}

TEST(Lockdown, BuildFilterChecksItsArguments) {
  scmp_filter_ctx ctx = nullptr;
  const lockdown_binding good = Bind(3);
  const lockdown_binding bad = Bind(-5);
  EXPECT_EQ(lockdown_build_filter(static_cast<lockdown_profile>(0), &good, &ctx), LOCKDOWN_ERR_PROFILE);
  EXPECT_EQ(lockdown_build_filter(LOCKDOWN_PROFILE_RUN, &bad, &ctx), LOCKDOWN_ERR_BINDING);
  EXPECT_EQ(lockdown_build_filter(LOCKDOWN_PROFILE_RUN, nullptr, &ctx), LOCKDOWN_ERR_BINDING);
  EXPECT_EQ(ctx, nullptr);
  for (lockdown_profile p : {LOCKDOWN_PROFILE_SETUP, LOCKDOWN_PROFILE_RUN}) {
    ASSERT_EQ(lockdown_build_filter(p, &good, &ctx), LOCKDOWN_OK);
    ASSERT_NE(ctx, nullptr);
    uint32_t act = 0;
    EXPECT_EQ(seccomp_attr_get(ctx, SCMP_FLTATR_ACT_DEFAULT, &act), 0);
    EXPECT_EQ(act, SCMP_ACT_KILL_PROCESS);
    EXPECT_EQ(seccomp_attr_get(ctx, SCMP_FLTATR_ACT_BADARCH, &act), 0);
    EXPECT_EQ(act, SCMP_ACT_KILL_PROCESS);
    EXPECT_EQ(seccomp_attr_get(ctx, SCMP_FLTATR_CTL_TSYNC, &act), 0);
    EXPECT_EQ(act, 1u);
    seccomp_release(ctx);
    ctx = nullptr;
  }
}

TEST(Lockdown, EveryErrorHasItsOwnMessage) {
  std::set<std::string> seen;
  for (int e = 0; e < LOCKDOWN_ERR_COUNT_; e++) {
    std::string m = lockdown_strerror(static_cast<lockdown_err>(e));
    EXPECT_NE(m, "unknown lockdown error") << e;
    EXPECT_TRUE(seen.insert(m).second) << e;
  }
  EXPECT_STREQ(lockdown_strerror(LOCKDOWN_ERR_COUNT_), "unknown lockdown error");
}

}  // namespace
