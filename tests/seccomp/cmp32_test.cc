// cmp32_test.cc - seccomp/cmp32: every 32-bit comparison written as masked
// equalities matches exactly the values the comparison itself accepts, at
// the boundaries and for random pairs, with at most 32 atoms.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "seccomp/cmp32.h"

namespace {

bool Plain(policy_op op, uint32_t x, uint32_t n) {
  switch (op) {
    case POLICY_OP_EQ: return x == n;
    case POLICY_OP_NE: return x != n;
    case POLICY_OP_LT: return x < n;
    case POLICY_OP_LE: return x <= n;
    case POLICY_OP_GT: return x > n;
    case POLICY_OP_GE: return x >= n;
    default: return false;
  }
}

const policy_op kOps[] = {POLICY_OP_EQ, POLICY_OP_NE, POLICY_OP_LT,
                          POLICY_OP_LE, POLICY_OP_GT, POLICY_OP_GE};

std::vector<uint32_t> Around(uint32_t n) {
  std::vector<uint32_t> v = {0u, 1u, 2u, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu};
  for (int64_t d = -3; d <= 3; d++) v.push_back(static_cast<uint32_t>(static_cast<int64_t>(n) + d));
  for (int k = 0; k < 32; k++) {
    v.push_back(n ^ (1u << k));
    v.push_back(1u << k);
  }
  return v;
}

void CheckAll(uint32_t n) {
  for (policy_op op : kOps) {
    cmp32_atom atoms[CMP32_MAX_ATOMS];
    size_t k = cmp32_expand(op, n, atoms);
    ASSERT_LE(k, CMP32_MAX_ATOMS);
    for (uint32_t x : Around(n))
      ASSERT_EQ(cmp32_match(atoms, k, x), Plain(op, x, n)) << "op " << op << " n " << n << " x " << x;
    for (size_t i = 0; i < k; i++)
      ASSERT_EQ(atoms[i].value & ~atoms[i].mask, 0u) << "value bits outside the mask";
  }
}

TEST(Cmp32, Boundaries) {
  for (uint32_t n : {0u, 1u, 2u, 3u, 4u, 255u, 256u, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu})
    CheckAll(n);
}

TEST(Cmp32, RandomPairs) {
  std::mt19937 rng(20261201);
  for (int i = 0; i < 2000; i++) CheckAll(static_cast<uint32_t>(rng()));
  for (int i = 0; i < 200000; i++) {
    uint32_t n = static_cast<uint32_t>(rng()), x = static_cast<uint32_t>(rng());
    for (policy_op op : kOps) {
      cmp32_atom atoms[CMP32_MAX_ATOMS];
      size_t k = cmp32_expand(op, n, atoms);
      ASSERT_EQ(cmp32_match(atoms, k, x), Plain(op, x, n));
    }
  }
}

TEST(Cmp32, AtomCounts) {
  cmp32_atom atoms[CMP32_MAX_ATOMS];
  EXPECT_EQ(cmp32_expand(POLICY_OP_GT, 3, atoms), 30u);  // the image fd rule
  EXPECT_EQ(cmp32_expand(POLICY_OP_GT, 0xffffffffu, atoms), 0u);  // nothing is greater
  EXPECT_EQ(cmp32_expand(POLICY_OP_LT, 0, atoms), 0u);
  EXPECT_EQ(cmp32_expand(POLICY_OP_GE, 0, atoms), 1u);  // everything: mask 0
  EXPECT_EQ(atoms[0].mask, 0u);
  EXPECT_EQ(cmp32_expand(POLICY_OP_NE, 12345, atoms), 32u);
  EXPECT_EQ(cmp32_expand(POLICY_OP_MASKED_EQ, 1, atoms), 0u);
}

}  // namespace
