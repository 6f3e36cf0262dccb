// precompiled_test.cc - the seccomp programs compiled at build time
// (seccomp/precompiled.h) are exactly what libseccomp builds now from the
// compiled-in table for the same binding, and lockdown picks them only
// for the CLI's canonical bindings.
#include <gtest/gtest.h>

#include <stdio.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "seccomp/lockdown.h"
#include "seccomp/precompiled.h"

namespace {

std::vector<unsigned char> Export(lockdown_profile p, const lockdown_binding& b) {
  scmp_filter_ctx ctx = nullptr;
  EXPECT_EQ(lockdown_build_filter(p, &b, &ctx), LOCKDOWN_OK);
  std::vector<unsigned char> out;
  if (ctx == nullptr) return out;
  FILE* t = tmpfile();
  EXPECT_NE(t, nullptr);
  EXPECT_EQ(seccomp_export_bpf(ctx, fileno(t)), 0);
  seccomp_release(ctx);
  rewind(t);
  unsigned char buf[65536];
  size_t n = fread(buf, 1, sizeof buf, t);
  EXPECT_EQ(0, ferror(t));
  EXPECT_EQ(0, fclose(t));
  out.assign(buf, buf + n);
  return out;
}

// (The builder compares the path's address, not its bytes, so the
// canonical binding works although its address is not mapped here.)
void ExpectSame(lockdown_profile p, unsigned bits) {
  lockdown_binding b = lockdown_canonical_binding(p, bits);
  const precompiled_filter* f = lockdown_precompiled(p, &b);
  ASSERT_NE(f, nullptr) << "no precompiled program for profile " << p << " bits " << bits;
  std::vector<unsigned char> now = Export(p, b);
  ASSERT_EQ(now.size(), f->len * sizeof(sock_filter)) << "profile " << p << " bits " << bits;
  EXPECT_EQ(0, memcmp(now.data(), f->prog, now.size())) << "profile " << p << " bits " << bits;
}

TEST(Precompiled, SetupProgramIsWhatLibseccompBuildsNow) { ExpectSame(LOCKDOWN_PROFILE_SETUP, 0); }

TEST(Precompiled, RunProgramsForEveryClusterSize) {
  for (unsigned bits = LOCKDOWN_MIN_CLUSTER_BITS; bits <= LOCKDOWN_MAX_WRITE_BITS; bits++)
    ExpectSame(LOCKDOWN_PROFILE_RUN, bits);
}

TEST(Precompiled, OnlyCanonicalBindingsArePrecompiled) {
  lockdown_binding b = lockdown_canonical_binding(LOCKDOWN_PROFILE_RUN, 16);
  EXPECT_NE(lockdown_precompiled(LOCKDOWN_PROFILE_RUN, &b), nullptr);
  EXPECT_EQ(lockdown_precompiled(LOCKDOWN_PROFILE_SETUP, &b), nullptr) << "wrong last sector";
  lockdown_binding other = b;
  other.image_fd = 4;
  EXPECT_EQ(lockdown_precompiled(LOCKDOWN_PROFILE_RUN, &other), nullptr);
  other = b;
  static const char elsewhere[] = "/dev/kvm";
  other.kvm_path = elsewhere;
  EXPECT_EQ(lockdown_precompiled(LOCKDOWN_PROFILE_RUN, &other), nullptr);
  other = b;
  other.write_last_sector = 1000 * 512;
  EXPECT_EQ(lockdown_precompiled(LOCKDOWN_PROFILE_RUN, &other), nullptr);
  EXPECT_EQ(lockdown_precompiled(LOCKDOWN_PROFILE_RUN, nullptr), nullptr);
}

}  // namespace
