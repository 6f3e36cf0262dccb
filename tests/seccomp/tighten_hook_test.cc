// tighten_hook_test.cc - sandbox_config.after_setup, the hook the CLI uses
// to call lockdown_tighten() once the VM and vCPU exist: it runs exactly
// once and before the guest, an error from it stops the run before the
// first KVM_RUN, and with lockdown_tighten() in it a real sandbox_run()
// (timer, KVM_RUN, teardown) stays inside the second filter. The guest is
// one `hlt` byte, which at CPL3 is a fault: the run ends with a triple
// fault. Trusts KVM and the kernel's wait status as witnesses.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/sandbox.h"
#include "seccomp/lockdown.h"
#include "tests/seccomp/child.h"

namespace {

constexpr uint32_t kCluster = 65536;
const uint8_t kHlt[] = {0xf4};

// An unlinked, zero-filled temporary file of one cluster.
int TempImage() {
  const char* dir = getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/hookXXXXXX";
  int fd = mkostemp(&path[0], O_CLOEXEC);
  if (fd < 0) return -1;
  unlink(path.c_str());
  if (ftruncate(fd, kCluster) != 0) return -1;
  return fd;
}

struct Hook {
  int calls = 0;
  enum sandbox_err ret = SANDBOX_OK;
  bool tighten = false;
  int image_fd = -1;
  enum lockdown_err tightened = LOCKDOWN_OK;
};

enum sandbox_err OnSetup(void* p) {
  Hook* h = static_cast<Hook*>(p);
  h->calls++;
  if (h->tighten) {
    const lockdown_binding b = {h->image_fd, sandbox_kvm_path(), kCluster - 512, false};
    h->tightened = lockdown_tighten(&b);
    if (h->tightened != LOCKDOWN_OK) return SANDBOX_ERR_VM_SETUP;
  }
  return h->ret;
}

struct SandboxRun {
  std::vector<uint8_t> preprobe = std::vector<uint8_t>(kCluster, 0);
  std::vector<uint8_t> staged = std::vector<uint8_t>(kCluster, 0);
  sandbox_config cfg{};
  sandbox_outcome out{};

  SandboxRun(int image_fd, Hook* hook) {
    cfg.image_fd = image_fd;
    cfg.disk_bytes = kCluster;
    cfg.cluster_size = kCluster;
    cfg.preprobe = preprobe.data();
    cfg.guest.image = kHlt;
    cfg.guest.len = sizeof kHlt;
    cfg.guest.text_len = 4096;
    cfg.guest.ro_len = 4096;
    cfg.after_setup = hook != nullptr ? OnSetup : nullptr;
    cfg.after_setup_ctx = hook;
    out.staged = staged.data();
  }
  enum sandbox_err Go() { return sandbox_run(&cfg, &out); }
};

class AfterSetupHook : public ::testing::Test {
 protected:
  void SetUp() override {
    // The sandbox tests FAIL without KVM; this one says so loudly and skips.
    if (access("/dev/kvm", R_OK | W_OK) != 0)
      GTEST_SKIP() << "SKIPPED LOUDLY: /dev/kvm is missing or not read-write for this user";
    fd_ = TempImage();
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
  }
  int fd_ = -1;
};

TEST_F(AfterSetupHook, RunsOnceAndBeforeTheGuest) {
  Hook h;
  SandboxRun r(fd_, &h);
  EXPECT_EQ(r.Go(), SANDBOX_ERR_GUEST_SHUTDOWN);
  EXPECT_EQ(h.calls, 1);
  EXPECT_GE(r.out.exits, 1u) << "the guest ran after the hook";
}

TEST_F(AfterSetupHook, AnErrorStopsTheRunBeforeTheFirstKvmRun) {
  Hook h;
  h.ret = SANDBOX_ERR_VM_SETUP;
  SandboxRun r(fd_, &h);
  EXPECT_EQ(r.Go(), SANDBOX_ERR_VM_SETUP);
  EXPECT_EQ(h.calls, 1);
  EXPECT_EQ(r.out.exits, 0u) << "KVM_RUN must not be reached";
  EXPECT_FALSE(r.out.result_present);
}

TEST_F(AfterSetupHook, WithoutAHookTheRunIsUnchanged) {
  SandboxRun r(fd_, nullptr);
  EXPECT_EQ(r.Go(), SANDBOX_ERR_GUEST_SHUTDOWN);
  EXPECT_GE(r.out.exits, 1u);
}

// The CLI's flow in a child: lockdown_apply, sandbox_run with
// lockdown_tighten() in the hook. Timer set-up and restore, KVM_RUN,
// KVM_GET_REGS and the teardown must all pass the second filter.
TEST_F(AfterSetupHook, TightenInTheHookKeepsTheWholeRunInsideThePolicy) {
  const int fd = fd_;
  ChildResult c = RunInChild([fd]() {
    Hook h;
    h.tighten = true;
    h.image_fd = fd;
    SandboxRun r(fd, &h);
    if (!sandbox_kvm_path_pin()) return 4;
    const lockdown_binding b = {fd, sandbox_kvm_path(), kCluster - 512, false};
    if (lockdown_apply(LOCKDOWN_PROFILE_SETUP, &b) != LOCKDOWN_OK) return 1;
    Say("locked\n");
    enum sandbox_err e = r.Go();
    if (h.calls != 1) return 2;
    if (h.tightened != LOCKDOWN_OK) return 3;
    if (e != SANDBOX_ERR_GUEST_SHUTDOWN) return 10 + static_cast<int>(e);
    Say("stopped under the second filter\n");
    return 0;
  });
  EXPECT_TRUE(c.ExitedWith(0)) << c.Describe();
  EXPECT_EQ(c.out, "locked\nstopped under the second filter\n");
}

}  // namespace
