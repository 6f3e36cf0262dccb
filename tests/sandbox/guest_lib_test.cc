// guest_lib_test.cc — the guest's memset/memcpy/memmove/memcmp
// (guest/lib.c, x86 string instructions) checked on the host against
// byte-by-byte references: every length 0..80 at every alignment 0..7,
// overlapping moves both ways, and large buffers. lib.c is compiled here
// with its functions renamed (glib_*) so it does not replace libc's.
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "gtest/gtest.h"

extern "C" {
void *glib_memset(void *dst, int c, size_t n);
void *glib_memcpy(void *dst, const void *src, size_t n);
void *glib_memmove(void *dst, const void *src, size_t n);
int glib_memcmp(const void *a, const void *b, size_t n);
}

namespace {

std::vector<uint8_t> Random(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto &b : v) b = static_cast<uint8_t>(rng());
  return v;
}

int Sign(int x) { return (x > 0) - (x < 0); }

TEST(GuestLib, MemsetAllLengthsAndAlignments) {
  for (size_t align = 0; align < 8; align++) {
    for (size_t n = 0; n <= 80; n++) {
      std::vector<uint8_t> buf = Random(100, 1), want = buf;
      memset(want.data() + align, 0xa7, n);
      EXPECT_EQ(glib_memset(buf.data() + align, 0x1a7, n), buf.data() + align);
      ASSERT_EQ(buf, want) << "align " << align << " n " << n;
    }
  }
}

TEST(GuestLib, MemcpyAllLengthsAndAlignments) {
  std::vector<uint8_t> src = Random(100, 2);
  for (size_t sa = 0; sa < 8; sa++) {
    for (size_t da = 0; da < 8; da++) {
      for (size_t n = 0; n <= 80; n++) {
        std::vector<uint8_t> buf = Random(100, 3), want = buf;
        memcpy(want.data() + da, src.data() + sa, n);
        EXPECT_EQ(glib_memcpy(buf.data() + da, src.data() + sa, n), buf.data() + da);
        ASSERT_EQ(buf, want) << sa << " " << da << " " << n;
      }
    }
  }
}

TEST(GuestLib, MemmoveOverlapBothWays) {
  for (size_t off = 0; off < 24; off++) {
    for (size_t n = 0; n <= 64; n++) {
      std::vector<uint8_t> a = Random(128, 4), b = a;
      memmove(b.data() + off, b.data(), n);  // forward overlap
      glib_memmove(a.data() + off, a.data(), n);
      ASSERT_EQ(a, b) << "up " << off << " " << n;
      a = Random(128, 5);
      b = a;
      memmove(b.data(), b.data() + off, n);  // backward overlap
      glib_memmove(a.data(), a.data() + off, n);
      ASSERT_EQ(a, b) << "down " << off << " " << n;
    }
  }
}

TEST(GuestLib, MemcmpFindsEveryDifference) {
  for (size_t n = 0; n <= 72; n++) {
    std::vector<uint8_t> a = Random(n + 8, 6);
    for (size_t align = 0; align < 8; align++) {
      std::vector<uint8_t> b(a.begin(), a.end());
      std::vector<uint8_t> c(n + 8);
      memcpy(c.data() + align, a.data(), n);
      ASSERT_EQ(glib_memcmp(a.data(), c.data() + align, n), 0);
      for (size_t i = 0; i < n; i++) {
        for (int delta : {-1, 1}) {
          std::vector<uint8_t> d = c;
          d[align + i] = static_cast<uint8_t>(d[align + i] + delta);
          int want = Sign(memcmp(a.data(), d.data() + align, n));
          ASSERT_EQ(Sign(glib_memcmp(a.data(), d.data() + align, n)), want)
              << "n " << n << " i " << i << " align " << align;
        }
      }
    }
  }
}

TEST(GuestLib, LargeBuffers) {
  const size_t n = 2u << 20;
  std::vector<uint8_t> a = Random(n, 7), b(n);
  glib_memcpy(b.data(), a.data(), n);
  EXPECT_EQ(a, b);
  EXPECT_EQ(glib_memcmp(a.data(), b.data(), n), 0);
  b[n - 1] ^= 0x80;
  EXPECT_NE(glib_memcmp(a.data(), b.data(), n), 0);
  EXPECT_EQ(Sign(glib_memcmp(a.data(), b.data(), n)), Sign(memcmp(a.data(), b.data(), n)));
  glib_memset(b.data(), 0, n);
  EXPECT_EQ(b, std::vector<uint8_t>(n, 0));
}

}  // namespace
