// strace_test.cc - the order-of-events check (strace_check.h) on synthetic
// logs, then on a real run: lockdown_demo (the host sequence of an amend)
// traced with `strace -f`. When `instar amend` exists, point kTraced at it.
// Trusts strace (the kernel's ptrace view) and the compiled policy table.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/seccomp/strace_check.h"

namespace {

const char kGood[] =
    "100 openat(AT_FDCWD, \"img.qcow2\", O_RDWR|O_CLOEXEC) = 3\n"
    "100 prctl(PR_CAPBSET_DROP, CAP_CHOWN) = 0\n"
    "100 capset({version=_LINUX_CAPABILITY_VERSION_3, pid=100}, {effective=0, permitted=0, inheritable=0}) = 0\n"
    "100 prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) = 0\n"
    "100 prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0\n"
    "100 seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, NULL) = -1 EFAULT (Bad address)\n"
    "100 seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {len=116, filter=0x5560}) = 0\n"
    "100 openat(AT_FDCWD, \"/dev/kvm\", O_RDWR|O_CLOEXEC) = 4\n"
    "100 ioctl(5, KVM_RUN <unfinished ...>\n"
    "100 --- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---\n"
    "100 <... ioctl resumed>, 0) = -1 EINTR (Interrupted system call)\n"
    "100 rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)\n"
    "100 write(1, \"Image amended.\\n\", 15) = 15\n"
    "100 exit_group(0) = ?\n"
    "100 +++ exited with 0 +++\n";

std::set<std::string> Allowed() { return {"openat", "ioctl", "rt_sigreturn", "write", "exit_group"}; }

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

TEST(StraceCheck, AcceptsTheRequiredOrder) {
  StraceReport r = CheckStrace(kGood, Allowed());
  EXPECT_TRUE(r.violations.empty()) << r.violations[0];
  EXPECT_EQ(r.after_filter,
            (std::vector<std::string>{"openat", "ioctl", "rt_sigreturn", "write", "exit_group"}));
}

TEST(StraceCheck, KvmBeforeTheFilterIsAViolation) {
  std::string log = Replace(kGood, "100 openat(AT_FDCWD, \"/dev/kvm\", O_RDWR|O_CLOEXEC) = 4\n", "");
  log = Replace(log, "100 prctl(PR_SET_NO_NEW_PRIVS",
                "100 openat(AT_FDCWD, \"/dev/kvm\", O_RDWR|O_CLOEXEC) = 4\n100 prctl(PR_SET_NO_NEW_PRIVS");
  StraceReport r = CheckStrace(log, Allowed());
  ASSERT_FALSE(r.violations.empty());
  bool found = false;
  for (const auto& v : r.violations) found |= v.find("before the seccomp filter") != std::string::npos;
  EXPECT_TRUE(found);
}

TEST(StraceCheck, CapabilitiesAfterNoNewPrivsIsAViolation) {
  std::string log = Replace(kGood,
                            "100 capset({version=_LINUX_CAPABILITY_VERSION_3, pid=100}, {effective=0, "
                            "permitted=0, inheritable=0}) = 0\n",
                            "");
  log = Replace(log, "100 seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, NULL)",
                "100 capset({version=_LINUX_CAPABILITY_VERSION_3, pid=100}, {effective=0, permitted=0, "
                "inheritable=0}) = 0\n100 seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, NULL)");
  StraceReport r = CheckStrace(log, Allowed());
  ASSERT_EQ(r.violations.size(), 1u);
  EXPECT_EQ(r.violations[0], "capabilities dropped after no_new_privs");
}

TEST(StraceCheck, MissingStepsAreViolations) {
  StraceReport r = CheckStrace("100 openat(AT_FDCWD, \"/dev/kvm\", O_RDWR) = 3\n", Allowed());
  EXPECT_EQ(r.violations.size(), 4u);  // no capset, ambient, nnp, filter
  // A failed or probing seccomp() is not a loaded filter.
  std::string probe_only = Replace(
      kGood, "100 seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {len=116, filter=0x5560}) = 0\n", "");
  r = CheckStrace(probe_only, Allowed());
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations[0], "no seccomp filter loaded");
}

TEST(StraceCheck, SyscallOutsideThePolicyIsAViolation) {
  std::string log = Replace(kGood, "100 write(1,", "100 getpid() = 100\n100 write(1,");
  StraceReport r = CheckStrace(log, Allowed());
  ASSERT_EQ(r.violations.size(), 1u);
  EXPECT_EQ(r.violations[0], "syscall outside the policy after lockdown: getpid() = 100");
  log = Replace(kGood, "100 +++ exited with 0 +++", "100 +++ killed by SIGSYS +++");
  r = CheckStrace(log, Allowed());
  ASSERT_EQ(r.violations.size(), 1u);
  EXPECT_NE(r.violations[0].find("killed by SIGSYS"), std::string::npos);
}

// --- A real run under strace -------------------------------------------------

const char kTraced[] = "tests/seccomp/lockdown_demo";

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(StraceRun, RealRunLocksDownBeforeKvmAndStaysInsideThePolicy) {
  if (access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/kvm on this machine";
  if (access("/usr/bin/strace", X_OK) != 0) GTEST_SKIP() << "strace is not installed";
  const char* tmp = getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : "/tmp";
  const std::string image = dir + "/demo.img", log = dir + "/strace.log";
  {
    std::ofstream img(image, std::ios::binary);
    img << std::string(65536, '\0');
  }
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // LeakSanitizer refuses to run under ptrace; plain builds ignore this.
    setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 1);
    execl("/usr/bin/strace", "strace", "-f", "-q", "-s", "64", "-o", log.c_str(), kTraced,
          image.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  const std::string trace = ReadAll(log);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "status " << status << "\n" << trace.substr(trace.size() > 4000 ? trace.size() - 4000 : 0);
  StraceReport r = CheckStrace(trace, PolicySyscallNames());
  for (const auto& v : r.violations) ADD_FAILURE() << v;
  EXPECT_GT(r.after_filter.size(), 10u) << "the traced run did too little to prove anything";
  std::set<std::string> used(r.after_filter.begin(), r.after_filter.end());
  std::string list;
  for (const auto& n : used) list += n + " ";
  std::cout << "syscalls used after lockdown (" << used.size() << "): " << list << "\n";
}

}  // namespace
