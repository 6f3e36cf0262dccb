// progress_test.cc — qemu-img's progress lines (src/cli/progress.c): the
// 0.00 line at the start, a line per whole per cent the guest's figure
// moves, never backwards, below 100 until the end, and the 100.00 line
// with its new line only when the work is done.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "src/cli/progress.h"
#include "tests/cli/capture_stream.h"

namespace {

uint32_t Of(double pct) { return static_cast<uint32_t>(pct * 65536.0 / 100.0); }

TEST(Progress, AsQemuImgAmendPrintsIt) {
  // `qemu-img amend -p` of a header-only upgrade printed
  // "    (0.00/100%)\r" ... "    (100.00/100%)\r\n".
  EXPECT_EQ("    (0.00/100%)\r    (100.00/100%)\r\n", Capture([](FILE* f) {
              progress p;
              progress_start(&p, f, true);
              progress_end(&p, true);
            }));
}

TEST(Progress, OneLinePerWholePerCentForward) {
  EXPECT_EQ(
      "    (0.00/100%)\r    (2.50/100%)\r    (5.00/100%)\r"
      "    (99.99/100%)\r    (100.00/100%)\r\n",
      Capture([](FILE* f) {
        progress p;
        progress_start(&p, f, true);
        progress_update(&p, Of(0.5));   // under 1 %: not shown
        progress_update(&p, Of(2.5));
        progress_update(&p, Of(3.0));   // 0.5 % more: not shown
        progress_update(&p, Of(5.0));
        progress_update(&p, Of(1.0));   // backwards: not shown
        progress_update(&p, 65536u);    // all read, not yet done: 99.99
        progress_update(&p, 1u << 30);  // a lying figure: clamped
        progress_end(&p, true);
        progress_end(&p, true);         // a second end prints nothing
      }));
}

TEST(Progress, FailureEndsTheLineOnly) {
  EXPECT_EQ("    (0.00/100%)\r    (50.00/100%)\r\n", Capture([](FILE* f) {
              progress p;
              progress_start(&p, f, true);
              progress_update(&p, Of(50.0));
              progress_end(&p, false);
            }));
}

TEST(Progress, OffPrintsNothing) {
  EXPECT_EQ("", Capture([](FILE* f) {
              progress p;
              progress_start(&p, f, false);
              progress_update(&p, Of(50.0));
              progress_end(&p, true);
            }));
  progress_update(nullptr, 1);  // no printer: ignored
}

}  // namespace
