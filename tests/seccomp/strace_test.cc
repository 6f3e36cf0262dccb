// strace_test.cc - the order-of-events check (strace_check.h) on synthetic
// logs, then on the real CLI: `instar amend` (//src/cli:instar, plain or
// ASan-built) traced with `strace -f` on qemu-img-made images — an upgrade,
// a downgrade, a refusal decided by the guest, and a no-op.
// Trusts strace (the kernel's ptrace view), qemu-img to make the images, and
// the compiled policy table.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
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

// Capabilities are per thread and inherited: a helper thread created
// after the main thread's drop has none; one created before keeps its own.
const char kTwoThreads[] =
    "100 capset({version=_LINUX_CAPABILITY_VERSION_3, pid=100}, {effective=0, permitted=0, inheritable=0}) = 0\n"
    "100 prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) = 0\n"
    "100 prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0\n"
    "100 clone3({flags=CLONE_VM|CLONE_THREAD}, 88) = 101\n"
    "100 seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {len=134, filter=0x5560}) = 0\n"
    "101 openat(AT_FDCWD, \"/dev/kvm\", O_RDWR|O_CLOEXEC) = 4\n"
    "100 write(1, \"Image amended.\\n\", 15) = 15\n"
    "100 exit_group(0) = ?\n"
    "101 +++ exited with 0 +++\n"
    "100 +++ exited with 0 +++\n";

TEST(StraceCheck, EveryThreadRunsWithoutCapabilities) {
  StraceReport r = CheckStrace(kTwoThreads, Allowed());
  EXPECT_TRUE(r.violations.empty()) << r.violations[0];
  // The helper created before the drop: the main thread's does not cover it.
  std::string log = Replace(kTwoThreads, "100 clone3({flags=CLONE_VM|CLONE_THREAD}, 88) = 101\n", "");
  log = "100 clone3({flags=CLONE_VM|CLONE_THREAD}, 88) = 101\n" + log;
  r = CheckStrace(log, Allowed());
  ASSERT_EQ(r.violations.size(), 3u);
  EXPECT_EQ(r.violations[0], "thread 101 runs under the filter with capabilities it never dropped");
  EXPECT_EQ(r.violations[1], "thread 101 runs under the filter with its ambient set never cleared");
  EXPECT_EQ(r.violations[2], "/dev/kvm opened before the capabilities were dropped");
}

TEST(StraceCheck, MissingStepsAreViolations) {
  StraceReport r = CheckStrace("100 openat(AT_FDCWD, \"/dev/kvm\", O_RDWR) = 3\n", Allowed());
  // No capset, ambient clear, nnp, filter; /dev/kvm opened with capabilities.
  EXPECT_EQ(r.violations.size(), 5u);
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

// --- The stacked second filter (lockdown_tighten) ---------------------------

const char kTight[] =
    "100 capset({version=_LINUX_CAPABILITY_VERSION_3, pid=100}, {effective=0, permitted=0, inheritable=0}) = 0\n"
    "100 prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) = 0\n"
    "100 prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0\n"
    "100 seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {len=134, filter=0x5560}) = 0\n"
    "100 openat(AT_FDCWD, \"/dev/kvm\", O_RDWR|O_CLOEXEC) = 4\n"
    "100 ioctl(4, KVM_CREATE_VM, 0) = 5\n"
    "100 ioctl(5, KVM_CREATE_VCPU, 0) = 6\n"
    "100 ioctl(6, KVM_SET_REGS, {rip=0x10000}) = 0\n"
    "100 seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {len=105, filter=0x5570}) = 0\n"
    "100 ioctl(6, KVM_RUN, 0) = 0\n"
    "100 write(1, \"Image amended.\\n\", 15) = 15\n"
    "100 exit_group(0) = ?\n"
    "100 +++ exited with 0 +++\n";

std::set<std::string> TightAllowed() { return {"ioctl", "write", "exit_group"}; }
std::set<std::string> SetupAllowed() { return {"openat", "seccomp", "ioctl", "write", "exit_group"}; }

TEST(StraceCheck, AcceptsTightenBetweenTheVcpuAndTheFirstRun) {
  const std::set<std::string> tight = TightAllowed();
  StraceReport r = CheckStrace(kTight, SetupAllowed(), &tight);
  EXPECT_TRUE(r.violations.empty()) << r.violations[0];
  EXPECT_EQ(r.after_tighten, (std::vector<std::string>{"ioctl", "write", "exit_group"}));
}

TEST(StraceCheck, MissingTightenIsAViolation) {
  const std::set<std::string> tight = TightAllowed();
  std::string log = Replace(
      kTight, "100 seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {len=105, filter=0x5570}) = 0\n", "");
  StraceReport r = CheckStrace(log, SetupAllowed(), &tight);
  ASSERT_EQ(r.violations.size(), 1u);
  EXPECT_EQ(r.violations[0], "no second seccomp filter (lockdown_tighten) loaded");
}

TEST(StraceCheck, RunBeforeTightenIsAViolation) {
  const std::set<std::string> tight = TightAllowed();
  std::string log = Replace(kTight, "100 ioctl(6, KVM_SET_REGS, {rip=0x10000}) = 0\n",
                            "100 ioctl(6, KVM_SET_REGS, {rip=0x10000}) = 0\n100 ioctl(6, KVM_RUN, 0) = 0\n");
  StraceReport r = CheckStrace(log, SetupAllowed(), &tight);
  ASSERT_EQ(r.violations.size(), 1u);
  EXPECT_NE(r.violations[0].find("before lockdown_tighten()"), std::string::npos) << r.violations[0];
}

TEST(StraceCheck, SetupSyscallAfterTightenIsAViolation) {
  const std::set<std::string> tight = TightAllowed();
  std::string log = Replace(kTight, "100 write(1,",
                            "100 openat(AT_FDCWD, \"/dev/kvm\", O_RDWR|O_CLOEXEC) = 7\n100 write(1,");
  StraceReport r = CheckStrace(log, SetupAllowed(), &tight);
  ASSERT_EQ(r.violations.size(), 1u);
  EXPECT_EQ(r.violations[0],
            "syscall outside the second filter after lockdown_tighten(): "
            "openat(AT_FDCWD, \"/dev/kvm\", O_RDWR|O_CLOEXEC) = 7");
}

// --- The real CLI under strace ------------------------------------------------

const char kInstar[] = "src/cli/instar";  // runfiles path of //src/cli:instar

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Dir() {
  const char* tmp = getenv("TEST_TMPDIR");
  return tmp != nullptr ? tmp : "/tmp";
}

// Runs argv (argv[0] a path) with stdout/stderr to files; returns the wait
// status, or -1 if it could not be started.
int RunTo(const std::vector<std::string>& argv, const std::string& out, const std::string& err,
        bool no_leak_check = false) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (no_leak_check) {
      // LeakSanitizer cannot run under ptrace; instar's ASan build runs its
      // leak check just before lockdown, so it must be off here. Later
      // options win: everything else the test environment set stays.
      const char* prev = getenv("ASAN_OPTIONS");
      std::string opts = std::string(prev != nullptr ? prev : "") + ":detect_leaks=0";
      setenv("ASAN_OPTIONS", opts.c_str(), 1);
    }
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

bool Exited(int status, int code) { return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == code; }

// The second argument of a traced call, e.g. "KVM_RUN" in "ioctl(6, KVM_RUN, 0) = 0".
std::string Arg(const std::string& line, size_t n) {
  size_t p = line.find('(');
  if (p == std::string::npos) return "";
  p++;
  for (size_t k = 0; k < n; k++) {
    p = line.find(", ", p);
    if (p == std::string::npos) return "";
    p += 2;
  }
  size_t end = line.find_first_of(",)", p);
  return line.substr(p, end == std::string::npos ? std::string::npos : end - p);
}

// The k-th argument counted from the last (0: the last), for calls whose
// earlier arguments are buffers strace prints as strings (which may hold
// ", " themselves).
std::string ArgFromEnd(const std::string& line, size_t k) {
  // strace pads the result: ")   = 512".
  size_t eq = line.rfind(" = ");
  if (eq == std::string::npos) return "";
  size_t close = line.rfind(')', eq);
  if (close == std::string::npos) return "";
  size_t end = close;
  for (size_t i = 0;; i++) {
    size_t start = line.rfind(", ", end - 1);
    if (start == std::string::npos) return "";
    if (i == k) return line.substr(start + 2, end - start - 2);
    end = start;
  }
}

// The descriptor a call returned ("... = 3"), or -1.
int Result(const std::string& line) {
  size_t p = line.rfind(" = ");
  if (p == std::string::npos) return -1;
  char* end = nullptr;
  long v = strtol(line.c_str() + p + 3, &end, 10);
  if (end == line.c_str() + p + 3 || v < INT_MIN || v > INT_MAX) return -1;
  return static_cast<int>(v);
}

class RealCli : public ::testing::Test {
 protected:
  void SetUp() override {
    // Each missing tool is a loud, counted skip with its reason, never a pass.
    if (access("/dev/kvm", R_OK | W_OK) != 0)
      GTEST_SKIP() << "SKIPPED LOUDLY: /dev/kvm is missing or not read-write for this user; "
                      "the real `instar amend` cannot run its guest here";
    if (access("/usr/bin/strace", X_OK) != 0)
      GTEST_SKIP() << "SKIPPED LOUDLY: /usr/bin/strace is not installed (Debian package strace)";
    if (access("/usr/bin/qemu-img", X_OK) != 0)
      GTEST_SKIP() << "SKIPPED LOUDLY: /usr/bin/qemu-img is not installed (Debian package qemu-utils)";
    ASSERT_EQ(access(kInstar, X_OK), 0) << kInstar << " is not in the runfiles";
  }

  // A fresh 64 MiB qcow2 image made by qemu-img: v2 (compat=0.10) or v3.
  std::string MakeV2(const std::string& name, const char* compat = "compat=0.10") {
    const std::string path = Dir() + "/" + name + ".qcow2";
    unlink(path.c_str());
    int st = RunTo({"/usr/bin/qemu-img", "create", "-q", "-f", "qcow2", "-o", compat, path, "64M"},
                 Dir() + "/qemu-img.out", Dir() + "/qemu-img.err");
    EXPECT_TRUE(Exited(st, 0)) << "qemu-img create failed: " << ReadAll(Dir() + "/qemu-img.err");
    return path;
  }

  struct Traced {
    int status = -1;
    std::string out, err, trace;
    StraceReport report;
    int image_fd = -1;
  };

  // `strace -f instar amend -o OPTS IMAGE`, checked against the policy.
  Traced Amend(const std::string& opts, const std::string& image, const std::string& tag) {
    return Trace({"amend", "-o", opts, image}, image, tag, /*read_only=*/false);
  }

  // `strace -f instar ARGS...`, checked against the policy (without its
  // [write] section for the read-only commands).
  Traced Trace(const std::vector<std::string>& args, const std::string& image, const std::string& tag,
               bool read_only) {
    Traced t;
    const std::string log = Dir() + "/" + tag + ".strace", out = Dir() + "/" + tag + ".out",
                      err = Dir() + "/" + tag + ".err";
    std::vector<std::string> argv = {"/usr/bin/strace", "-f", "-q", "-s", "512", "-o", log, kInstar};
    argv.insert(argv.end(), args.begin(), args.end());
    t.status = RunTo(argv, out, err, /*no_leak_check=*/true);
    t.out = ReadAll(out);
    t.err = ReadAll(err);
    t.trace = ReadAll(log);
    const std::set<std::string> tight = PolicySyscallNames(/*run_filter_only=*/true, read_only);
    t.report = CheckStrace(t.trace, PolicySyscallNames(false, read_only), &tight);
    for (const auto& v : t.report.violations) ADD_FAILURE() << tag << ": " << v;
    CheckArguments(t, image, tag);
    std::set<std::string> used(t.report.after_filter.begin(), t.report.after_filter.end());
    std::set<std::string> late(t.report.after_tighten.begin(), t.report.after_tighten.end());
    std::cout << tag << ": " << used.size() << " distinct syscalls under the filters, " << late.size()
              << " after lockdown_tighten():";
    for (const auto& n : late) std::cout << " " << n;
    std::cout << "\n";
    return t;
  }

  // What the syscall names alone cannot show: the arguments strace decoded.
  void CheckArguments(Traced& t, const std::string& image, const std::string& tag) {
    const StraceReport& r = t.report;
    bool saw_close_range = false;
    const size_t none = static_cast<size_t>(-1);
    for (size_t i = 0; i < r.calls.size(); i++) {
      const StraceCall& c = r.calls[i];
      if (c.name == "openat" && c.line.find("\"" + image + "\"") != std::string::npos && t.image_fd < 0)
        t.image_fd = Result(c.line);
      if (r.filter == none || i <= r.filter) {
        // Not one byte of the image is read before lockdown: the parser
        // and format detection only ever run confined.
        if ((c.name == "pread64" || c.name == "read" || c.name == "mmap") && t.image_fd >= 0)
          EXPECT_NE(Arg(c.line, c.name == "mmap" ? 4 : 0), std::to_string(t.image_fd))
              << tag << ": image bytes read before the filter: " << c.line;
        if (c.name == "close_range") saw_close_range = true;
        continue;
      }
      const bool tight = r.tighten != none && i > r.tighten;
      if (c.name == "openat")
        EXPECT_EQ(c.line.rfind("openat(AT_FDCWD, \"/dev/kvm\", O_RDWR|O_CLOEXEC)", 0), 0u)
            << tag << ": " << c.line;
      if (c.name == "ioctl") {
        const std::string req = Arg(c.line, 1);
        if (tight)
          EXPECT_TRUE(req == "KVM_RUN" || req == "KVM_GET_REGS")
              << tag << ": after lockdown_tighten(): " << c.line;
        else
          EXPECT_EQ(req.rfind("KVM_", 0), 0u) << tag << ": " << c.line;
      }
      if (c.name == "rt_sigaction") EXPECT_EQ(Arg(c.line, 0), "SIGALRM") << tag << ": " << c.line;
      if (c.name == "rt_sigprocmask") EXPECT_EQ(Arg(c.line, 0), "SIG_UNBLOCK") << tag << ": " << c.line;
      if (c.name == "mmap") {
        const std::string flags = Arg(c.line, 3);
#ifndef INSTAR_SANITIZER_BUILD
        // (ASan's allocator maps at fixed addresses: policy_sanitizer.txt.)
        EXPECT_EQ(flags.find("MAP_FIXED"), std::string::npos) << tag << ": " << c.line;
#endif
        if (tight || flags.find("MAP_SHARED") == std::string::npos)
          EXPECT_TRUE(flags.find("MAP_PRIVATE") != std::string::npos &&
                      flags.find("MAP_ANONYMOUS") != std::string::npos)
              << tag << ": " << c.line;
        else
          EXPECT_GT(std::stoi(Arg(c.line, 4)), t.image_fd) << tag << ": shared mapping: " << c.line;
      }
      if (c.name == "pwrite64") {
        EXPECT_EQ(ArgFromEnd(c.line, 1), "512") << tag << ": not one sector: " << c.line;
        EXPECT_EQ(std::stoull(ArgFromEnd(c.line, 0)) % 512, 0u) << tag << ": " << c.line;
      }
      if (c.name == "lseek")
        EXPECT_NE(c.line.find(", 0, SEEK_END)"), std::string::npos) << tag << ": " << c.line;
      if (c.name == "fallocate")
        EXPECT_NE(c.line.find(", FALLOC_FL_ZERO_RANGE, "), std::string::npos) << tag << ": " << c.line;
      if (c.name == "pread64" || c.name == "pwrite64" || c.name == "fdatasync" || c.name == "lseek" ||
          c.name == "fallocate")
        EXPECT_EQ(Arg(c.line, 0), std::to_string(t.image_fd)) << tag << ": not the image: " << c.line;
      if (c.name == "write") EXPECT_TRUE(Arg(c.line, 0) == "1" || Arg(c.line, 0) == "2") << tag << ": " << c.line;
    }
    EXPECT_GE(t.image_fd, 0) << tag << ": the image was never opened";
    EXPECT_TRUE(saw_close_range) << tag << ": inherited descriptors were not closed before lockdown";
  }

  static size_t Count(const std::vector<std::string>& v, const std::string& name) {
    size_t n = 0;
    for (const auto& s : v) n += s == name;
    return n;
  }
};

TEST_F(RealCli, AmendLocksDownBeforeKvmTightensBeforeTheGuestAndStaysInsideThePolicy) {
  const std::string image = MakeV2("amend");
  Traced t = Amend("compat=1.1", image, "amend");
  ASSERT_TRUE(Exited(t.status, 0)) << "status " << t.status << "\nstderr: " << t.err << "\n"
                                   << t.trace.substr(t.trace.size() > 4000 ? t.trace.size() - 4000 : 0);
  EXPECT_EQ(t.out, "Image amended.\n");
  // The guest runs at CPL3 with the device handed over ready: a header-only
  // amend is one exit (the doorbell, which also serves the queued writes).
  EXPECT_GE(Count(t.report.after_tighten, "ioctl"), 1u) << "the guest never ran";
  EXPECT_GE(Count(t.report.after_tighten, "pwrite64"), 1u) << "the commit happens after tighten";
  EXPECT_GE(Count(t.report.after_tighten, "fdatasync"), 1u) << "the commit is made durable";
  const std::string hdr = ReadAll(image);
  ASSERT_GE(hdr.size(), 8u);
  EXPECT_EQ(hdr[7], 3) << "the image should now be qcow2 v3 (compat=1.1)";
}

// A downgrade has the guest walk the image's tables: many more reads
// through virtio-blk, all under the second filter.
TEST_F(RealCli, DowngradeStaysInsideThePolicy) {
  if (access("/usr/bin/qemu-io", X_OK) != 0)
    GTEST_SKIP() << "SKIPPED LOUDLY: /usr/bin/qemu-io is not installed (Debian package qemu-utils)";
  const std::string image = MakeV2("downgrade", "compat=1.1");
  // Some data, so that the L1 table has entries and the guest reads L2s.
  int st = RunTo({"/usr/bin/qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 64k", "-c", "write -P 0xa5 1M 4k",
                  image},
                 Dir() + "/qemu-io.out", Dir() + "/qemu-io.err");
  ASSERT_TRUE(Exited(st, 0)) << "qemu-io failed: " << ReadAll(Dir() + "/qemu-io.err");
  Traced t = Amend("compat=0.10", image, "downgrade");
  ASSERT_TRUE(Exited(t.status, 0)) << "status " << t.status << "\nstderr: " << t.err;
  EXPECT_EQ(t.out, "Image amended.\n");
  EXPECT_GE(Count(t.report.after_tighten, "pread64"), 2u) << "the guest should have read the tables";
  EXPECT_GE(Count(t.report.after_tighten, "pwrite64"), 1u);
  const std::string hdr = ReadAll(image);
  ASSERT_GE(hdr.size(), 8u);
  EXPECT_EQ(hdr[7], 2) << "the image should now be qcow2 v2 (compat=0.10)";
}

// A downgrade that expands zero clusters (one keeps its host cluster,
// which is zeroed with fallocate; one becomes unallocated): the host's
// writes beyond the header stay inside the tightened filter.
TEST_F(RealCli, ZeroClusterDowngradeStaysInsideThePolicy) {
  if (access("/usr/bin/qemu-io", X_OK) != 0)
    GTEST_SKIP() << "SKIPPED LOUDLY: /usr/bin/qemu-io is not installed (Debian package qemu-utils)";
  const std::string image = MakeV2("zeros", "compat=1.1");
  int st = RunTo({"/usr/bin/qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 128k", "-c", "write -z 0 64k", "-c",
                  "write -z 1M 64k", image},
                 Dir() + "/qemu-io.out", Dir() + "/qemu-io.err");
  ASSERT_TRUE(Exited(st, 0)) << "qemu-io failed: " << ReadAll(Dir() + "/qemu-io.err");
  Traced t = Amend("compat=0.10", image, "zeros");
  ASSERT_TRUE(Exited(t.status, 0)) << "status " << t.status << "\nstderr: " << t.err;
  EXPECT_EQ(t.out, "Image amended.\n");
  EXPECT_GE(Count(t.report.after_tighten, "fallocate"), 1u) << "the kept cluster should be zeroed";
  EXPECT_GE(Count(t.report.after_tighten, "fdatasync"), 3u) << "zeros, entries and header each made durable";
  const std::string hdr = ReadAll(image);
  ASSERT_GE(hdr.size(), 8u);
  EXPECT_EQ(hdr[7], 2) << "the image should now be qcow2 v2 (compat=0.10)";
}

TEST_F(RealCli, RefusalDecidedByTheGuestWritesNothingAndStaysInsideThePolicy) {
  const std::string image = MakeV2("refuse");
  const std::string before = ReadAll(image);
  // lazy_refcounts=on on a v2 image without compat=1.1: refused by the
  // planner inside the guest, after lockdown.
  Traced t = Amend("lazy_refcounts=on", image, "refuse");
  EXPECT_TRUE(Exited(t.status, 1)) << "status " << t.status << "\nstderr: " << t.err;
  EXPECT_NE(t.err.find("lazy_refcounts=on requires compat=1.1"), std::string::npos) << t.err;
  EXPECT_GE(Count(t.report.after_tighten, "ioctl"), 1u) << "the refusal should come from the guest";
  EXPECT_EQ(Count(t.report.after_filter, "pwrite64"), 0u);
  EXPECT_EQ(Count(t.report.after_filter, "fdatasync"), 0u);
  EXPECT_TRUE(ReadAll(image) == before) << "a refused amend changed the image";
}

TEST_F(RealCli, NoOpWritesNothingAndStaysInsideThePolicy) {
  const std::string image = MakeV2("noop");
  const std::string before = ReadAll(image);
  Traced t = Amend("compat=0.10", image, "noop");
  EXPECT_TRUE(Exited(t.status, 0)) << "status " << t.status << "\nstderr: " << t.err;
  EXPECT_EQ(t.out, "No change.\n");
  EXPECT_GE(Count(t.report.after_tighten, "ioctl"), 1u) << "the no-op should be decided by the guest";
  EXPECT_EQ(Count(t.report.after_filter, "pwrite64"), 0u);
  EXPECT_EQ(Count(t.report.after_filter, "fdatasync"), 0u);
  EXPECT_TRUE(ReadAll(image) == before) << "a no-op changed the image";
}

// info and check: the read-only profile. The image is opened O_RDONLY,
// and neither pwrite64 nor fdatasync is in their filter or their trace.
TEST_F(RealCli, InfoAndCheckStayInsideTheReadOnlyPolicy) {
  const std::string image = MakeV2("inspect", "compat=1.1");
  const std::string before = ReadAll(image);
  struct {
    const char* cmd;
    const char* first_line;
  } runs[] = {{"info", "image: "}, {"check", "No errors were found on the image."}};
  for (const auto& run : runs) {
    Traced t = Trace({run.cmd, image}, image, run.cmd, /*read_only=*/true);
    EXPECT_TRUE(Exited(t.status, 0)) << run.cmd << ": status " << t.status << "\nstderr: " << t.err;
    EXPECT_EQ(t.out.rfind(run.first_line, 0), 0u) << run.cmd << ": " << t.out;
    EXPECT_GE(Count(t.report.after_tighten, "ioctl"), 1u) << run.cmd << ": the guest never ran";
    EXPECT_EQ(Count(t.report.after_filter, "pwrite64"), 0u) << run.cmd;
    EXPECT_EQ(Count(t.report.after_filter, "fdatasync"), 0u) << run.cmd;
    bool opened_read_only = false;
    for (const StraceCall& c : t.report.calls) {
      if (c.name != "openat" || c.line.find("\"" + image + "\"") == std::string::npos) continue;
      EXPECT_EQ(c.line.find("O_RDWR"), std::string::npos) << run.cmd << ": " << c.line;
      EXPECT_EQ(c.line.find("O_WRONLY"), std::string::npos) << run.cmd << ": " << c.line;
      opened_read_only = c.line.find("O_RDONLY") != std::string::npos;
    }
    EXPECT_TRUE(opened_read_only) << run.cmd << ": the image was not opened read-only";
  }
  EXPECT_TRUE(ReadAll(image) == before) << "info or check changed the image";
}

}  // namespace
