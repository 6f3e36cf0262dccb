// session_test: one VM reused for many runs (sandbox/session.h), as the
// cross-boundary fuzzer uses it. Each run must be what a fresh VM would
// give (sandbox_run()), RAM must be reset between runs (a guest finds no
// mark of the run before), and a failed run must not poison the next.
#include "sandbox/session.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "guest/guest_embedded.h"
#include "src/amend/amend_status.h"
#include "tests/sandbox/bad_guests/remember_embedded.h"
#include "tests/sandbox/bad_guests/triple_fault_embedded.h"
#include "tests/sandbox/kvm_harness.h"
#include "tests/sandbox/test_util.h"

namespace {

using sandbox_test::Image;
using sandbox_test::MakeQcow2;
using sandbox_test::SandboxErrName;

const sandbox_guest kAmend = SANDBOX_EMBEDDED_GUEST(instar_guest_bin);
const sandbox_guest kRemember = SANDBOX_EMBEDDED_GUEST(instar_bad_remember);
const sandbox_guest kTripleFault = SANDBOX_EMBEDDED_GUEST(instar_bad_triple_fault);

struct SessionRun {
  sandbox_err err = SANDBOX_ERR_COUNT_;
  sandbox_outcome out{};
  std::vector<uint8_t> staged;
};

SessionRun RunIn(sandbox_session *s, const Image &img, const sandbox_guest &guest,
                 amend_request req) {
  SessionRun r;
  int fd = open(img.path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  r.staged.assign(img.cluster_size, 0xcc);
  sandbox_config cfg = sandbox_test::ConfigFor(img, fd, guest, req);
  r.out.staged = r.staged.data();
  r.err = sandbox_session_run(s, &cfg, &r.out);
  close(fd);
  return r;
}

class Session : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sandbox_session_open(&s_), SANDBOX_OK) << "needs /dev/kvm (tests run as root)";
  }
  void TearDown() override {
    sandbox_session_close(&s_);
    for (const auto &p : paths_) unlink(p.c_str());
  }
  Image Make(const std::string &opts, const char *io = nullptr) {
    Image img;
    EXPECT_TRUE(MakeQcow2(opts, "1G", &img));
    if (io != nullptr) {
      EXPECT_EQ(sandbox_test::Run("qemu-io -f qcow2 -c '" + std::string(io) + "' '" + img.path +
                                  "' >/dev/null"),
                0);
      img.bytes = sandbox_test::ReadFile(img.path);
      img.preprobe.assign(img.bytes.begin(), img.bytes.begin() + img.cluster_size);
    }
    paths_.push_back(img.path);
    return img;
  }
  sandbox_session s_{};
  std::vector<std::string> paths_;
};

TEST_F(Session, EveryRunIsWhatAFreshVmGives) {
  struct Case {
    Image img;
    amend_request req;
  };
  std::vector<Case> cases = {
      {Make("compat=0.10"), {AMEND_COMPAT_V3, AMEND_LAZY_KEEP}},
      {Make("compat=1.1", "write -P 0xab 0 4M"), {AMEND_COMPAT_V2, AMEND_LAZY_KEEP}},
      {Make("compat=1.1"), {AMEND_COMPAT_V3, AMEND_LAZY_KEEP}},  // no-op
      {Make("compat=1.1,lazy_refcounts=on"), {AMEND_COMPAT_V2, AMEND_LAZY_KEEP}},
      {Make("compat=0.10,cluster_size=512"), {AMEND_COMPAT_V3, AMEND_LAZY_ON}},
      {Make("compat=1.1,cluster_size=2M", "write -P 0xcd 0 8M"), {AMEND_COMPAT_V2, AMEND_LAZY_KEEP}},
  };
  // Twice round, so every case also runs after every other.
  for (int round = 0; round < 2; round++)
    for (size_t i = 0; i < cases.size(); i++) {
      const Case &c = cases[i];
      sandbox_test::RunResult fresh = sandbox_test::RunGuest(c.img, kAmend, c.req);
      SessionRun r = RunIn(&s_, c.img, kAmend, c.req);
      ASSERT_EQ(fresh.err, SANDBOX_OK) << i << " " << SandboxErrName(fresh.err);
      ASSERT_EQ(r.err, SANDBOX_OK) << i << " " << SandboxErrName(r.err);
      EXPECT_EQ(0, std::memcmp(&r.out.result, &fresh.out.result, sizeof(guest_result))) << i;
      EXPECT_EQ(r.staged, fresh.staged) << i;
      EXPECT_EQ(r.out.sectors_written, fresh.out.sectors_written) << i;
      EXPECT_EQ(r.out.read_bytes, fresh.out.read_bytes) << i;
    }
  EXPECT_EQ(s_.runs, 12u);
  EXPECT_EQ(s_.rebuilds, 0u) << "a good run must leave the VM reusable";
}

TEST_F(Session, RamIsResetBetweenRuns) {
  Image img = Make("compat=0.10");
  const amend_request req{AMEND_COMPAT_V3, AMEND_LAZY_KEEP};
  SessionRun first = RunIn(&s_, img, kRemember, req);
  ASSERT_EQ(first.err, SANDBOX_OK) << SandboxErrName(first.err);
  EXPECT_EQ(first.out.result.status, static_cast<uint32_t>(AMEND_NOOP));
  // The marks are there after the run (so a VM kept as it was would
  // hand them to the next guest)...
  uint64_t mark = 0;
  std::memcpy(&mark, s_.vm.mem.base + GUEST_SCRATCH_GPA + 2u * img.cluster_size, sizeof mark);
  EXPECT_EQ(mark, 0x5eed5eed5eed5eedull);
  // ...and the next run finds none of them.
  for (int i = 0; i < 3; i++) {
    SessionRun again = RunIn(&s_, img, kRemember, req);
    ASSERT_EQ(again.err, SANDBOX_OK) << SandboxErrName(again.err);
    EXPECT_EQ(again.out.result.status, static_cast<uint32_t>(AMEND_NOOP))
        << "run " << i + 2 << " saw a mark of an earlier run";
  }
}

TEST_F(Session, FailedRunRebuildsTheVm) {
  Image img = Make("compat=0.10");
  const amend_request req{AMEND_COMPAT_V3, AMEND_LAZY_KEEP};
  SessionRun bad = RunIn(&s_, img, kTripleFault, req);
  EXPECT_EQ(bad.err, SANDBOX_ERR_GUEST_SHUTDOWN) << SandboxErrName(bad.err);
  EXPECT_TRUE(s_.broken);
  SessionRun good = RunIn(&s_, img, kAmend, req);
  ASSERT_EQ(good.err, SANDBOX_OK) << SandboxErrName(good.err);
  EXPECT_EQ(good.out.result.action, GUEST_ACTION_AMENDED);
  EXPECT_EQ(s_.rebuilds, 1u);
}

// A caller with its own ITIMER_REAL (libFuzzer's timeout clock, here a
// 50 us one) must never see a run end as a guest timeout: the run loop
// swaps the timers before its SIGALRM handler goes in, and back after.
std::atomic<int> caller_alarms{0};
void CallerAlarm(int) { caller_alarms++; }

TEST_F(Session, ACallersOwnTimerNeverEndsARun) {
  Image img = Make("compat=0.10");
  struct sigaction act {}, old {};
  act.sa_handler = CallerAlarm;
  sigemptyset(&act.sa_mask);
  ASSERT_EQ(0, sigaction(SIGALRM, &act, &old));
  struct itimerval it {}, off {};
  it.it_value.tv_usec = 50;
  it.it_interval.tv_usec = 50;
  ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, nullptr));
  int bad = 0;
  for (int i = 0; i < 300; i++) {
    SessionRun r = RunIn(&s_, img, kAmend, {AMEND_COMPAT_V3, AMEND_LAZY_KEEP});
    if (r.err != SANDBOX_OK) {
      bad++;
      ADD_FAILURE() << "run " << i << ": " << SandboxErrName(r.err);
    }
  }
  setitimer(ITIMER_REAL, &off, nullptr);
  sigaction(SIGALRM, &old, nullptr);
  EXPECT_EQ(0, bad);
  EXPECT_GT(caller_alarms.load(), 0) << "the caller's timer was not restored";
}

TEST_F(Session, RefusesWhatOnlyAOneShotRunTakes) {
  Image img = Make("compat=0.10");
  int fd = open(img.path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::vector<uint8_t> staged(img.cluster_size);
  sandbox_config cfg = sandbox_test::ConfigFor(img, fd, kAmend, {AMEND_COMPAT_V3, AMEND_LAZY_KEEP});
  sandbox_outcome out{};
  out.staged = staged.data();
  cfg.defer_teardown = true;
  EXPECT_EQ(sandbox_session_run(&s_, &cfg, &out), SANDBOX_ERR_CONFIG);
  cfg.defer_teardown = false;
  sandbox_prebuilt pre{};
  cfg.prebuilt = &pre;
  EXPECT_EQ(sandbox_session_run(&s_, &cfg, &out), SANDBOX_ERR_CONFIG);
  cfg.prebuilt = nullptr;
  EXPECT_EQ(sandbox_session_run(&s_, &cfg, &out), SANDBOX_OK);
  close(fd);
}

}  // namespace
