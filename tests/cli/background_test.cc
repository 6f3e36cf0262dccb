// background_test: the CLI's helper thread (src/cli/background.c). Each
// scenario runs in a forked child, as the helper is process-wide state
// started once.
//  - Started after lockdown_drop_privileges(), as the CLI does, the
//    helper holds no capability and has no_new_privs (capabilities are
//    per thread and inherited); started before, it keeps them, which is
//    why the order matters.
//  - A job handed over runs exactly once and has finished when
//    background_wait() returns, whether the helper or the waiter ran it.
#include "src/cli/background.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <string>

#include "seccomp/lockdown.h"

namespace {

int RunInChild(const std::function<int()> &body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

long Tid() { return syscall(SYS_gettid); }

// The one thread of this process that is not the caller.
long OtherTid() {
  long other = -1;
  DIR *d = opendir("/proc/self/task");
  if (d == nullptr) return -1;
  while (struct dirent *e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    long t = std::stol(e->d_name);
    if (t != Tid()) other = t;
  }
  closedir(d);
  return other;
}

// "CapEff:\t0000000000000000" -> the hex value (~0 if missing).
unsigned long long StatusField(long tid, const std::string &key) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1), nullptr, 16);
  return ~0ULL;
}

TEST(Background, HelperStartedAfterTheDropHasNoCapabilities) {
  ASSERT_EQ(geteuid(), 0u) << "the check needs capabilities to drop (tests run as root)";
  EXPECT_EQ(RunInChild([] {
              if (lockdown_drop_privileges() != LOCKDOWN_OK) return 1;
              if (!background_start()) return 2;
              background_ready();
              long h = OtherTid();
              if (h < 0) return 3;
              for (const char *k : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
                if (StatusField(h, k) != 0) return 10;
              // NoNewPrivs is a decimal 0/1; "1" parses as hex 1 too.
              if (StatusField(h, "NoNewPrivs") != 1) return 11;
              return 0;
            }),
            0);
}

TEST(Background, HelperStartedBeforeTheDropKeepsItsCapabilities) {
  // The wrong order, as a fake: the main thread's drop does not reach a
  // thread that already exists. If this ever showed zero capabilities,
  // the test above would prove nothing.
  ASSERT_EQ(geteuid(), 0u);
  EXPECT_EQ(RunInChild([] {
              if (!background_start()) return 1;
              background_ready();
              if (lockdown_drop_privileges() != LOCKDOWN_OK) return 2;
              if (StatusField(Tid(), "CapEff") != 0) return 3;
              return StatusField(OtherTid(), "CapEff") != 0 ? 0 : 4;
            }),
            0);
}

std::atomic<int> runs{0};
std::atomic<long> ran_on{0};

void Job(void *) {
  usleep(2000);
  ran_on = Tid();
  runs++;
}

TEST(Background, EveryJobRunsOnceAndIsDoneWhenWaitReturns) {
  EXPECT_EQ(RunInChild([] {
              if (!background_start()) return 1;
              background_ready();
              bool helper_ran = false;
              for (int i = 0; i < 200; i++) {
                int before = runs;
                background_run(Job, nullptr);
                // Every other job: give the helper time to take it
                // (else the waiter may take it over, also correct).
                if (i % 2 == 0) usleep(10000);
                background_wait();
                if (runs != before + 1) return 2;
                helper_ran = helper_ran || ran_on != Tid();
              }
              return helper_ran ? 0 : 3;
            }),
            0);
}

TEST(Background, WaiterTakesOverAJobNotStarted) {
  // One CPU for both threads, and the waiter never sleeps before it
  // waits: the SCHED_IDLE helper gets no CPU in between, so the waiter
  // must run most jobs itself (and each exactly once).
  EXPECT_EQ(RunInChild([] {
              cpu_set_t one;
              CPU_ZERO(&one);
              CPU_SET(sched_getcpu(), &one);
              if (sched_setaffinity(0, sizeof one, &one) != 0) return 1;
              if (!background_start()) return 2;
              background_ready();
              // (The helper inherits the mask: it is created after.)
              int here = 0;
              for (int i = 0; i < 100; i++) {
                int before = runs;
                background_run(Job, nullptr);
                background_wait();
                if (runs != before + 1) return 4;
                here += ran_on == Tid() ? 1 : 0;
              }
              return here > 0 ? 0 : 5;
            }),
            0);
}

TEST(Background, NeverStartedRunsInline) {
  EXPECT_EQ(RunInChild([] {
              background_ready();  // returns at once
              background_run(Job, nullptr);
              if (runs != 1 || ran_on != Tid()) return 2;
              background_wait();
              return 0;
            }),
            0);
}

}  // namespace
