// byte_diff_test: byte_first_diff / byte_last_diff_end against a byte
// loop, for every single-byte and two-byte difference around the block
// boundaries, and for sub-ranges that start and end off a block.
#include "src/image/byte_diff.h"

#include <gtest/gtest.h>

#include <vector>

namespace {

size_t naive_first(const uint8_t *a, const uint8_t *b, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; i++)
    if (a[i] != b[i]) return i;
  return hi;
}

size_t naive_end(const uint8_t *a, const uint8_t *b, size_t lo, size_t hi) {
  for (size_t j = hi; j > lo; j--)
    if (a[j - 1] != b[j - 1]) return j;
  return lo;
}

TEST(ByteDiff, EqualBuffers) {
  std::vector<uint8_t> a(4096, 0x5a), b(4096, 0x5a);
  EXPECT_EQ(byte_first_diff(a.data(), b.data(), 0, a.size()), a.size());
  EXPECT_EQ(byte_last_diff_end(a.data(), b.data(), 0, a.size()), 0u);
  EXPECT_EQ(byte_first_diff(a.data(), b.data(), 7, 7), 7u);
  EXPECT_EQ(byte_last_diff_end(a.data(), b.data(), 7, 7), 7u);
}

TEST(ByteDiff, MatchesByteLoopAroundBlocks) {
  const size_t n = 3 * BYTE_DIFF_BLOCK + 5;
  std::vector<uint8_t> a(n, 0), b(n, 0);
  const size_t los[] = {0, 1, BYTE_DIFF_BLOCK - 1, BYTE_DIFF_BLOCK + 3};
  const size_t his[] = {n, n - 1, 2 * BYTE_DIFF_BLOCK, 2 * BYTE_DIFF_BLOCK + 1};
  for (size_t x = 0; x < n; x++) {
    for (size_t y : {x, x + 1, x + BYTE_DIFF_BLOCK, n - 1}) {
      if (y >= n) continue;
      b = a;
      b[x] ^= 0x80;
      b[y] ^= 0x01;
      for (size_t lo : los)
        for (size_t hi : his) {
          if (lo > hi) continue;
          ASSERT_EQ(byte_first_diff(a.data(), b.data(), lo, hi),
                    naive_first(a.data(), b.data(), lo, hi))
              << x << " " << y << " [" << lo << "," << hi << ")";
          ASSERT_EQ(byte_last_diff_end(a.data(), b.data(), lo, hi),
                    naive_end(a.data(), b.data(), lo, hi))
              << x << " " << y << " [" << lo << "," << hi << ")";
        }
    }
  }
}

}  // namespace
