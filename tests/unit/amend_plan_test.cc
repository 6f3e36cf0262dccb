// amend_plan_test.cc — unit tests of the amend planner: every gate of the
// spec, no-ops, the QEMU-compatible layout of a rewritten header
// (feature table, extension order, backing name relocation), the patch
// set (inside the cluster, minimal, reproducing the new cluster).
#include <gtest/gtest.h>

#include <cstring>

#include "src/amend/amend_diff.h"
#include "src/amend/amend_layout.h"
#include "src/amend/amend_plan.h"
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_header.h"
#include "tests/unit/header_builder.h"

namespace {

struct Result {
  amend_status status;
  struct amend_plan plan;
  std::vector<uint8_t> out;
};

// A completed table scan that found nothing: what a downgrade of a
// clean image sees.
amend_scan CleanScan() {
  amend_scan sc = {};
  sc.done = true;
  return sc;
}

Result PlanWith(const std::vector<uint8_t>& in, uint32_t compat, uint32_t lazy,
                const amend_scan* scan) {
  Result r;
  r.out.assign(in.size(), 0xAA);
  amend_request req = {compat, lazy};
  r.status = amend_plan_scanned(in.data(), in.size(), &req, scan, r.out.data(), &r.plan);
  EXPECT_EQ(r.status, r.plan.status);
  return r;
}

Result Plan(const std::vector<uint8_t>& in, uint32_t compat, uint32_t lazy) {
  amend_scan sc = CleanScan();
  return PlanWith(in, compat, lazy, &sc);
}

// Apply the patches to a copy of `in` and check the result is `out`.
std::vector<uint8_t> Applied(const std::vector<uint8_t>& in, const Result& r) {
  std::vector<uint8_t> t = in;
  EXPECT_TRUE(amend_apply(&r.plan, r.out.data(), t.data(), t.size()));
  EXPECT_GT(r.plan.out_len, 0u);
  EXPECT_LE(r.plan.out_len, in.size());
  std::vector<uint8_t> want(r.out.begin(), r.out.begin() + r.plan.out_len);
  want.insert(want.end(), in.begin() + r.plan.out_len, in.end());
  EXPECT_EQ(want, t);
  for (uint32_t i = 0; i < r.plan.n_patches; i++)
    EXPECT_LE(r.plan.patches[i].offset + r.plan.patches[i].length, r.plan.out_len);
  return t;
}

qcow2_header ParseOk(const std::vector<uint8_t>& b) {
  qcow2_header h;
  EXPECT_EQ(QCOW2_OK, qcow2_parse(b.data(), b.size(), &h));
  return h;
}

// A bitmaps extension QEMU accepts: one bitmap, directory in cluster 4.
std::vector<uint8_t> BitmapsExt() {
  std::vector<uint8_t> d(24, 0);
  PutBe32(d, 0, 1);
  PutBe64(d, 8, 64);
  PutBe64(d, 16, 4 * 65536);
  return d;
}

HeaderSpec V2() {
  HeaderSpec s;
  s.version = 2;
  return s;
}

TEST(AmendPlan, UpgradeV2ToV3LaysOutLikeQemu) {
  HeaderSpec s = V2();
  s.ext.push_back({QCOW2_EXT_BACKING_FORMAT, {'q', 'c', 'o', 'w', '2'}});
  s.backing = "base.qcow2";
  auto in = BuildHeader(s);
  Result r = Plan(in, AMEND_COMPAT_V3, AMEND_LAZY_KEEP);
  ASSERT_EQ(AMEND_CHANGED, r.status);
  EXPECT_EQ(3u, r.plan.result_version);
  EXPECT_FALSE(r.plan.result_lazy);
  auto t = Applied(in, r);
  qcow2_header h = ParseOk(t);
  EXPECT_EQ(3u, h.version);
  EXPECT_EQ(112u, h.header_length);
  EXPECT_EQ(0u, h.incompat);
  EXPECT_EQ(0u, h.compat);
  EXPECT_EQ(4u, h.refcount_order);
  ASSERT_EQ(2u, h.n_ext);
  EXPECT_EQ(QCOW2_EXT_BACKING_FORMAT, h.ext[0].type);
  EXPECT_EQ(120u, h.ext[0].offset);
  EXPECT_EQ(QCOW2_EXT_FEATURE_TABLE, h.ext[1].type);
  EXPECT_EQ(AMEND_FEATURE_TABLE_LEN, h.ext[1].length);
  // 112 + (8+8) backing format + (8+384) table + 8 end = 528
  EXPECT_EQ(528u, h.backing_offset);
  EXPECT_EQ(10u, h.backing_size);
  EXPECT_EQ(0, memcmp(t.data() + 528, "base.qcow2", 10));
  // The table names the features QEMU names, in QEMU's order.
  EXPECT_EQ(0, memcmp(t.data() + h.ext[1].offset + 2, "dirty bit", 9));
  EXPECT_EQ(0, memcmp(t.data() + h.ext[1].offset + 5 * 48 + 2, "lazy refcounts", 14));
  // Same tables and size as before.
  qcow2_header old = ParseOk(in);
  EXPECT_EQ(old.l1_offset, h.l1_offset);
  EXPECT_EQ(old.refcount_offset, h.refcount_offset);
  EXPECT_EQ(old.size, h.size);
}

TEST(AmendPlan, SmallClustersGetNoFeatureTable) {
  HeaderSpec s = V2();
  s.cluster_bits = 12;
  auto in = BuildHeader(s);
  Result r = Plan(in, AMEND_COMPAT_V3, AMEND_LAZY_KEEP);
  ASSERT_EQ(AMEND_CHANGED, r.status);
  qcow2_header h = ParseOk(Applied(in, r));
  EXPECT_EQ(0u, h.n_ext);
  s.cluster_bits = 13;
  in = BuildHeader(s);
  r = Plan(in, AMEND_COMPAT_V3, AMEND_LAZY_KEEP);
  h = ParseOk(Applied(in, r));
  EXPECT_EQ(1u, h.n_ext);
}

TEST(AmendPlan, UpgradeWithLazyInOneGo) {
  auto in = BuildHeader(V2());
  Result r = Plan(in, AMEND_COMPAT_V3, AMEND_LAZY_ON);
  ASSERT_EQ(AMEND_CHANGED, r.status);
  EXPECT_TRUE(r.plan.result_lazy);
  EXPECT_EQ(QCOW2_COMPAT_LAZY_REFCOUNTS, ParseOk(Applied(in, r)).compat);
}

TEST(AmendPlan, DowngradeDropsV3FieldsAndTable) {
  HeaderSpec s;
  s.compat = QCOW2_COMPAT_LAZY_REFCOUNTS;
  s.ext.push_back({QCOW2_EXT_FEATURE_TABLE, std::vector<uint8_t>(48, 0)});
  s.backing = "b";
  auto in = BuildHeader(s);
  Result r = Plan(in, AMEND_COMPAT_V2, AMEND_LAZY_KEEP);
  ASSERT_EQ(AMEND_CHANGED, r.status);
  EXPECT_EQ(2u, r.plan.result_version);
  EXPECT_FALSE(r.plan.result_lazy);
  auto t = Applied(in, r);
  qcow2_header h = ParseOk(t);
  EXPECT_EQ(2u, h.version);
  EXPECT_EQ(0u, h.n_ext);
  EXPECT_EQ(80u, h.backing_offset);
  for (size_t i = 72; i < 80; i++) EXPECT_EQ(0, t[i]) << i;
  for (size_t i = 81; i < t.size(); i++) ASSERT_EQ(0, t[i]) << i;
}

TEST(AmendPlan, LazyOnAndOffOnV3) {
  auto in = BuildHeader(HeaderSpec());
  Result on = Plan(in, AMEND_COMPAT_KEEP, AMEND_LAZY_ON);
  ASSERT_EQ(AMEND_CHANGED, on.status);
  auto lazy = Applied(in, on);
  EXPECT_EQ(QCOW2_COMPAT_LAZY_REFCOUNTS, ParseOk(lazy).compat);
  Result off = Plan(lazy, AMEND_COMPAT_KEEP, AMEND_LAZY_OFF);
  ASSERT_EQ(AMEND_CHANGED, off.status);
  EXPECT_EQ(0u, ParseOk(Applied(lazy, off)).compat);
}

TEST(AmendPlan, NoOps) {
  auto v2 = BuildHeader(V2());
  auto v3 = BuildHeader(HeaderSpec());
  HeaderSpec ls;
  ls.compat = QCOW2_COMPAT_LAZY_REFCOUNTS;
  auto lazy = BuildHeader(ls);
  EXPECT_EQ(AMEND_NOOP, Plan(v2, AMEND_COMPAT_V2, AMEND_LAZY_KEEP).status);
  EXPECT_EQ(AMEND_NOOP, Plan(v2, AMEND_COMPAT_KEEP, AMEND_LAZY_OFF).status);
  EXPECT_EQ(AMEND_NOOP, Plan(v2, AMEND_COMPAT_V2, AMEND_LAZY_OFF).status);
  EXPECT_EQ(AMEND_NOOP, Plan(v3, AMEND_COMPAT_V3, AMEND_LAZY_KEEP).status);
  EXPECT_EQ(AMEND_NOOP, Plan(v3, AMEND_COMPAT_KEEP, AMEND_LAZY_OFF).status);
  EXPECT_EQ(AMEND_NOOP, Plan(lazy, AMEND_COMPAT_V3, AMEND_LAZY_ON).status);
  EXPECT_EQ(AMEND_NOOP, Plan(lazy, AMEND_COMPAT_KEEP, AMEND_LAZY_ON).status);
  Result r = Plan(lazy, AMEND_COMPAT_KEEP, AMEND_LAZY_ON);
  EXPECT_EQ(0u, r.plan.n_patches);
  EXPECT_EQ(3u, r.plan.result_version);
  EXPECT_TRUE(r.plan.result_lazy);
}

TEST(AmendPlan, Refusals) {
  HeaderSpec s;
  s.incompat = QCOW2_INCOMPAT_DIRTY;
  EXPECT_EQ(AMEND_ERR_DIRTY, Plan(BuildHeader(s), AMEND_COMPAT_V3, 0).status);
  s.incompat = QCOW2_INCOMPAT_CORRUPT;
  EXPECT_EQ(AMEND_ERR_CORRUPT, Plan(BuildHeader(s), AMEND_COMPAT_V3, 0).status);
  s.incompat = QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DIRTY;
  EXPECT_EQ(AMEND_ERR_DIRTY, Plan(BuildHeader(s), 0, AMEND_LAZY_OFF).status);
  s.incompat = QCOW2_INCOMPAT_EXTENDED_L2;
  EXPECT_EQ(AMEND_ERR_DOWNGRADE_FEATURE, Plan(BuildHeader(s), AMEND_COMPAT_V2, 0).status);
  EXPECT_EQ(AMEND_CHANGED, Plan(BuildHeader(s), 0, AMEND_LAZY_ON).status);
  s.incompat = QCOW2_INCOMPAT_EXTERNAL_DATA;
  // An external data file the header does not name: QEMU cannot open
  // the image at all ("'data-file' is required"), whatever the request.
  EXPECT_EQ(AMEND_ERR_PARSE, Plan(BuildHeader(s), AMEND_COMPAT_V2, 0).status);
  EXPECT_EQ(AMEND_ERR_PARSE, Plan(BuildHeader(s), 0, AMEND_LAZY_ON).status);
  s.ext = {{QCOW2_EXT_DATA_FILE, {'d', '.', 'r', 'a', 'w'}}};
  EXPECT_EQ(AMEND_ERR_DOWNGRADE_FEATURE, Plan(BuildHeader(s), AMEND_COMPAT_V2, 0).status);
  EXPECT_EQ(AMEND_CHANGED, Plan(BuildHeader(s), 0, AMEND_LAZY_ON).status);
  s.ext.clear();
  s.incompat = QCOW2_INCOMPAT_COMPRESSION;
  s.compression_type = 1;
  {
    // zstd: refused only when a cluster is compressed (scan), as QEMU.
    amend_scan sc = CleanScan();
    sc.compressed_clusters = true;
    EXPECT_EQ(AMEND_ERR_DOWNGRADE_FEATURE,
              PlanWith(BuildHeader(s), AMEND_COMPAT_V2, 0, &sc).status);
    auto in = BuildHeader(s);
    Result ok = Plan(in, AMEND_COMPAT_V2, 0);
    ASSERT_EQ(AMEND_CHANGED, ok.status);
    auto t = Applied(in, ok);
    EXPECT_EQ(2u, ParseOk(t).version);
    EXPECT_EQ(0, t[104]);  // no compression type left behind
  }
  s = HeaderSpec();
  for (uint32_t order : {0u, 3u, 5u, 6u}) {
    s.refcount_order = order;
    EXPECT_EQ(AMEND_ERR_DOWNGRADE_REFCOUNT, Plan(BuildHeader(s), AMEND_COMPAT_V2, 0).status);
  }
  auto v2 = BuildHeader(V2());
  EXPECT_EQ(AMEND_ERR_LAZY_NEEDS_V3, Plan(v2, 0, AMEND_LAZY_ON).status);
  EXPECT_EQ(AMEND_ERR_LAZY_NEEDS_V3, Plan(v2, AMEND_COMPAT_V2, AMEND_LAZY_ON).status);
  auto v3 = BuildHeader(HeaderSpec());
  EXPECT_EQ(AMEND_ERR_LAZY_NEEDS_V3, Plan(v3, AMEND_COMPAT_V2, AMEND_LAZY_ON).status);
  EXPECT_EQ(AMEND_ERR_BAD_REQUEST, Plan(v3, 0, 0).status);
  EXPECT_EQ(AMEND_ERR_BAD_REQUEST, Plan(v3, 1, 0).status);
  EXPECT_EQ(AMEND_ERR_BAD_REQUEST, Plan(v3, 0, 3).status);
  auto enc = v3;
  PutBe32(enc, 32, 1);
  EXPECT_EQ(AMEND_ERR_ENCRYPTED, Plan(enc, AMEND_COMPAT_V2, 0).status);
  auto raw = std::vector<uint8_t>(65536, 0);
  EXPECT_EQ(AMEND_ERR_NOT_QCOW2, Plan(raw, AMEND_COMPAT_V3, 0).status);
  auto bad = v3;
  PutBe32(bad, 96, 9);
  EXPECT_EQ(AMEND_ERR_PARSE, Plan(bad, AMEND_COMPAT_V3, 0).status);
}

// The host's preflight: the same state gates as the planner, in the same
// order, after the parse and the tables-in-the-file check.
TEST(AmendPlan, PreflightRefusesWhatTheHeaderAloneRefuses) {
  qcow2_header h;
  const uint64_t big = 1ULL << 30;
  HeaderSpec s;
  auto ok = BuildHeader(s);
  EXPECT_EQ(AMEND_CHANGED, amend_preflight(ok.data(), ok.size(), big, &h));
  EXPECT_EQ(3u, h.version);
  EXPECT_EQ(AMEND_ERR_TABLES, amend_preflight(ok.data(), ok.size(), 65536 + 100, &h));
  s.incompat = QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DIRTY;
  auto b = BuildHeader(s);
  EXPECT_EQ(AMEND_ERR_DIRTY, amend_preflight(b.data(), b.size(), big, &h));
  EXPECT_EQ(AMEND_ERR_DIRTY, Plan(b, AMEND_COMPAT_V2, 0).status);
  // Tables outside the file come before the image's state.
  EXPECT_EQ(AMEND_ERR_TABLES, amend_preflight(b.data(), b.size(), 65536 + 100, &h));
  s.incompat = QCOW2_INCOMPAT_CORRUPT;
  b = BuildHeader(s);
  EXPECT_EQ(AMEND_ERR_CORRUPT, amend_preflight(b.data(), b.size(), big, &h));
  auto enc = ok;
  PutBe32(enc, 32, 1);
  EXPECT_EQ(AMEND_ERR_ENCRYPTED, amend_preflight(enc.data(), enc.size(), big, &h));
  auto raw = std::vector<uint8_t>(65536, 0);
  EXPECT_EQ(AMEND_ERR_NOT_QCOW2, amend_preflight(raw.data(), raw.size(), big, &h));
  auto bad = ok;
  PutBe32(bad, 96, 9);
  EXPECT_EQ(AMEND_ERR_PARSE, amend_preflight(bad.data(), bad.size(), big, &h));
  EXPECT_EQ(AMEND_ERR_BAD_REQUEST, amend_preflight(nullptr, 0, big, &h));
  EXPECT_EQ(AMEND_ERR_BAD_REQUEST, amend_preflight(ok.data(), ok.size(), big, nullptr));
}

TEST(AmendPlan, DowngradeGatesThatNeedTheScan) {
  auto v3 = BuildHeader(HeaderSpec());
  EXPECT_EQ(AMEND_ERR_SCAN_REQUIRED, PlanWith(v3, AMEND_COMPAT_V2, 0, nullptr).status);
  amend_scan sc = {};
  EXPECT_EQ(AMEND_ERR_SCAN_REQUIRED, PlanWith(v3, AMEND_COMPAT_V2, 0, &sc).status);
  sc = CleanScan();
  sc.zero_clusters = true;
  EXPECT_EQ(AMEND_ERR_ZERO_CLUSTERS, PlanWith(v3, AMEND_COMPAT_V2, 0, &sc).status);
  sc = CleanScan();
  sc.snapshot_size_differs = true;
  EXPECT_EQ(AMEND_ERR_SNAPSHOT_SIZE, PlanWith(v3, AMEND_COMPAT_V2, 0, &sc).status);
  sc = CleanScan();
  sc.compressed_clusters = true;  // zlib compression is fine in v2
  EXPECT_EQ(AMEND_CHANGED, PlanWith(v3, AMEND_COMPAT_V2, 0, &sc).status);
  // No scan needed for anything but a downgrade.
  auto v2 = BuildHeader(V2());
  EXPECT_EQ(AMEND_CHANGED, PlanWith(v2, AMEND_COMPAT_V3, 0, nullptr).status);
  EXPECT_EQ(AMEND_CHANGED, PlanWith(v3, 0, AMEND_LAZY_ON, nullptr).status);
}

TEST(AmendPlan, NeedsScanOnlyForAHeaderAcceptedDowngrade) {
  amend_request down = {AMEND_COMPAT_V2, 0}, up = {AMEND_COMPAT_V3, 0};
  auto v3 = BuildHeader(HeaderSpec());
  auto v2 = BuildHeader(V2());
  EXPECT_TRUE(amend_needs_scan(v3.data(), v3.size(), &down));
  EXPECT_FALSE(amend_needs_scan(v3.data(), v3.size(), &up));
  EXPECT_FALSE(amend_needs_scan(v2.data(), v2.size(), &down));
  HeaderSpec s;
  s.refcount_order = 5;
  auto r32 = BuildHeader(s);
  EXPECT_FALSE(amend_needs_scan(r32.data(), r32.size(), &down));
  s = HeaderSpec();
  s.incompat = QCOW2_INCOMPAT_DIRTY;
  auto dirty = BuildHeader(s);
  EXPECT_FALSE(amend_needs_scan(dirty.data(), dirty.size(), &down));
}

// Every request on an image with snapshots reads the snapshot table (QEMU
// reads it on every open and refuses a malformed one); only a downgrade
// reads the L1/L2 tables.
TEST(AmendPlan, SnapshotsAreReadForEveryRequest) {
  HeaderSpec s;
  s.nb_snapshots = 2;
  auto v3 = BuildHeader(s);
  amend_request down = {AMEND_COMPAT_V2, 0}, keep = {AMEND_COMPAT_V3, 0},
                lazy = {AMEND_COMPAT_KEEP, AMEND_LAZY_ON};
  EXPECT_EQ(AMEND_SCAN_ALL_TABLES, amend_scan_reach(v3.data(), v3.size(), &down));
  EXPECT_EQ(AMEND_SCAN_SNAPSHOT_TABLE, amend_scan_reach(v3.data(), v3.size(), &keep));
  EXPECT_EQ(AMEND_SCAN_SNAPSHOT_TABLE, amend_scan_reach(v3.data(), v3.size(), &lazy));
  // Without the scan such a request is not planned, not even a no-op.
  Result r = PlanWith(v3, AMEND_COMPAT_V3, 0, nullptr);
  EXPECT_EQ(AMEND_ERR_SCAN_REQUIRED, r.status);
  EXPECT_EQ(AMEND_NOOP, Plan(v3, AMEND_COMPAT_V3, 0).status);
  // Zero clusters and snapshot sizes only matter to a downgrade.
  amend_scan sc = CleanScan();
  sc.zero_clusters = true;
  sc.snapshot_size_differs = true;
  EXPECT_EQ(AMEND_CHANGED, PlanWith(v3, 0, AMEND_LAZY_ON, &sc).status);
  EXPECT_EQ(AMEND_ERR_ZERO_CLUSTERS, PlanWith(v3, AMEND_COMPAT_V2, 0, &sc).status);
  s.nb_snapshots = 0;
  auto plain = BuildHeader(s);
  EXPECT_EQ(AMEND_SCAN_NOTHING, amend_scan_reach(plain.data(), plain.size(), &keep));
}

TEST(AmendPlan, PersistentBitmapsBlockADowngrade) {
  HeaderSpec s;
  s.autoclear = QCOW2_AUTOCLEAR_BITMAPS;
  s.ext.push_back({QCOW2_EXT_BITMAPS, BitmapsExt()});
  EXPECT_EQ(AMEND_ERR_BITMAPS, Plan(BuildHeader(s), AMEND_COMPAT_V2, 0).status);
  s.autoclear = 0;  // bitmaps QEMU already considers inconsistent: dropped
  EXPECT_EQ(AMEND_CHANGED, Plan(BuildHeader(s), AMEND_COMPAT_V2, 0).status);
}

TEST(AmendPlan, UpgradeWithSnapshotsNeedsTheirExtraData) {
  HeaderSpec s = V2();
  auto in = BuildHeader(s);
  PutBe32(in, 60, 1);             // one snapshot
  PutBe64(in, 64, 4 * 65536);
  amend_request up = {AMEND_COMPAT_V3, 0};
  EXPECT_TRUE(amend_needs_scan(in.data(), in.size(), &up));
  EXPECT_EQ(AMEND_ERR_SCAN_REQUIRED, PlanWith(in, AMEND_COMPAT_V3, 0, nullptr).status);
  amend_scan sc = CleanScan();
  sc.snapshot_extra_short = true;
  EXPECT_EQ(AMEND_ERR_SNAPSHOT_UPGRADE, PlanWith(in, AMEND_COMPAT_V3, 0, &sc).status);
  EXPECT_EQ(AMEND_CHANGED, Plan(in, AMEND_COMPAT_V3, 0).status);
  // Without snapshots no scan is needed.
  auto plain = BuildHeader(V2());
  EXPECT_FALSE(amend_needs_scan(plain.data(), plain.size(), &up));
}

TEST(AmendPlan, RefusalChangesNothingAndListsNoPatch) {
  HeaderSpec s;
  s.incompat = QCOW2_INCOMPAT_DIRTY;
  auto in = BuildHeader(s);
  Result r = Plan(in, AMEND_COMPAT_V2, 0);
  EXPECT_EQ(0u, r.plan.n_patches);
  EXPECT_EQ(0u, r.plan.patch_bytes);
}

TEST(AmendPlan, RelocationThatDoesNotFitIsRefused) {
  HeaderSpec s = V2();
  s.cluster_bits = 9;
  s.backing = std::string(400, 'x');  // 72+8+400 fits; 112+8+400 does not
  auto in = BuildHeader(s);
  EXPECT_EQ(AMEND_ERR_RELOCATION, Plan(in, AMEND_COMPAT_V3, 0).status);
  s.backing = std::string(392, 'x');  // 112+8+392 = 512 fits exactly
  in = BuildHeader(s);
  Result r = Plan(in, AMEND_COMPAT_V3, 0);
  ASSERT_EQ(AMEND_CHANGED, r.status);
  qcow2_header h = ParseOk(Applied(in, r));
  EXPECT_EQ(120u, h.backing_offset);
  EXPECT_EQ(392u, h.backing_size);
}

// qemu-img amend first rewrites the header as it is and fails (ENOSPC)
// when that does not fit the cluster: a downgrade of a v3 image needs
// room for its v3 header, feature table included. The limits measured
// with qemu-img 7.2 at 8 KiB and 64 KiB clusters (the largest unknown
// extension it downgrades) and at 4 KiB, where QEMU writes no feature
// table; a request that changes nothing is refused past the limit too.
TEST(AmendPlan, QemusRewriteOfTheHeaderMustFit) {
  struct Case {
    uint32_t bits;
    size_t max_ext;  // measured with qemu-img
  };
  for (const Case &c : {Case{12, 3968}, Case{13, 7672}, Case{16, 65016}}) {
    HeaderSpec s;
    s.cluster_bits = c.bits;
    for (size_t len : {c.max_ext, c.max_ext + 1}) {
      s.ext = {{0x12345678, std::vector<uint8_t>(len, 'A')}};
      auto in = BuildHeader(s);
      Result r = Plan(in, AMEND_COMPAT_V2, 0);
      Result same = Plan(in, AMEND_COMPAT_V3, AMEND_LAZY_OFF);  // no-op
      if (len == c.max_ext) {
        EXPECT_EQ(AMEND_CHANGED, r.status) << c.bits << " " << len;
        EXPECT_EQ(AMEND_NOOP, same.status) << c.bits << " " << len;
      } else {
        EXPECT_EQ(AMEND_ERR_HEADER_NO_ROOM, r.status) << c.bits << " " << len;
        EXPECT_EQ(AMEND_ERR_HEADER_NO_ROOM, same.status) << c.bits << " " << len;
      }
    }
  }
}

TEST(AmendPlan, UnknownBitsAndExtensionsFollowQemu) {
  HeaderSpec s;
  s.compat = 1ULL << 7;                                  // unknown compatible bit: kept
  s.autoclear = (1ULL << 9) | QCOW2_AUTOCLEAR_BITMAPS;   // unknown autoclear bit: cleared
  s.ext.push_back({0xAAAA0001, {1}});
  s.ext.push_back({QCOW2_EXT_BITMAPS, BitmapsExt()});
  s.ext.push_back({0xAAAA0002, {2, 2}});
  auto in = BuildHeader(s);
  Result r = Plan(in, 0, AMEND_LAZY_ON);
  ASSERT_EQ(AMEND_CHANGED, r.status);
  qcow2_header h = ParseOk(Applied(in, r));
  EXPECT_EQ((1ULL << 7) | QCOW2_COMPAT_LAZY_REFCOUNTS, h.compat);
  EXPECT_EQ(QCOW2_AUTOCLEAR_BITMAPS, h.autoclear);
  ASSERT_EQ(4u, h.n_ext);
  EXPECT_EQ(QCOW2_EXT_FEATURE_TABLE, h.ext[0].type);
  EXPECT_EQ(QCOW2_EXT_BITMAPS, h.ext[1].type);
  EXPECT_EQ(0xAAAA0002u, h.ext[2].type);  // reversed, as QEMU writes them
  EXPECT_EQ(0xAAAA0001u, h.ext[3].type);
}

TEST(AmendPlan, BitmapsExtensionWithoutItsBitIsDropped) {
  HeaderSpec s;
  s.ext.push_back({QCOW2_EXT_BITMAPS, std::vector<uint8_t>(24, 0)});
  auto in = BuildHeader(s);
  Result r = Plan(in, 0, AMEND_LAZY_ON);
  ASSERT_EQ(AMEND_CHANGED, r.status);
  qcow2_header h = ParseOk(Applied(in, r));
  EXPECT_EQ(nullptr, qcow2_find_ext(&h, QCOW2_EXT_BITMAPS));
}

TEST(AmendPlan, ExtraHeaderBytesAreKeptOnV3) {
  HeaderSpec s;
  s.header_length = 120;
  auto in = BuildHeader(s);
  in[112] = 0x5a;
  Result r = Plan(in, 0, AMEND_LAZY_ON);
  ASSERT_EQ(AMEND_CHANGED, r.status);
  auto t = Applied(in, r);
  EXPECT_EQ(120u, ParseOk(t).header_length);
  EXPECT_EQ(0x5a, t[112]);
}

TEST(AmendPlan, PatchesStayInsideAndAreMinimal) {
  auto in = BuildHeader(V2());
  Result r = Plan(in, AMEND_COMPAT_V3, AMEND_LAZY_ON);
  ASSERT_EQ(AMEND_CHANGED, r.status);
  ASSERT_GT(r.plan.n_patches, 0u);
  ASSERT_LE(r.plan.n_patches, AMEND_MAX_PATCHES);
  uint32_t total = 0;
  for (uint32_t i = 0; i < r.plan.n_patches; i++) {
    const amend_patch& p = r.plan.patches[i];
    EXPECT_LE(uint64_t{p.offset} + p.length, in.size());
    EXPECT_NE(in[p.offset], r.out[p.offset]) << "patch starts on an unchanged byte";
    EXPECT_NE(in[p.offset + p.length - 1], r.out[p.offset + p.length - 1]);
    if (i > 0) EXPECT_GT(p.offset, r.plan.patches[i - 1].offset + r.plan.patches[i - 1].length);
    total += p.length;
  }
  EXPECT_EQ(total, r.plan.patch_bytes);
}

TEST(AmendPlan, LargeClusterRewritesOnlyTheHeaderArea) {
  HeaderSpec s = V2();
  s.cluster_bits = 21;
  auto in = BuildHeader(s);
  in[1 << 20] = 0x77;  // garbage far past the header: left alone
  Result r = Plan(in, AMEND_COMPAT_V3, AMEND_LAZY_KEEP);
  ASSERT_EQ(AMEND_CHANGED, r.status);
  EXPECT_LE(r.plan.out_len, 4096u);
  for (size_t i = r.plan.out_len; i < r.out.size(); i += 4096)
    ASSERT_EQ(0xAA, r.out[i]) << "out_cluster written past out_len at " << i;
  auto t = Applied(in, r);
  EXPECT_EQ(0x77, t[1 << 20]);
  EXPECT_EQ(3u, ParseOk(t).version);
}

TEST(AmendPlan, UnterminatedListUsesTheWholeCluster) {
  HeaderSpec s;
  s.cluster_bits = 12;
  s.end_marker = false;
  auto in = BuildHeader(s);
  PutBe32(in, 112, 0x11111111);
  PutBe32(in, 116, 4096 - 120);
  Result r = Plan(in, 0, AMEND_LAZY_ON);
  // The unknown extension fills the cluster: adding the end marker that
  // a rewrite writes does not fit, so the rewrite of the header as it is,
  // which qemu-img amend makes first, fails.
  EXPECT_EQ(AMEND_ERR_HEADER_NO_ROOM, r.status);
}

TEST(AmendDiff, ManyScatteredChangesAreMergedToFit) {
  std::vector<uint8_t> a(4096, 0), b(4096, 0);
  for (size_t i = 0; i < 4096; i += 40) b[i] = 1;  // 103 separate changes
  struct amend_plan plan = {};
  ASSERT_TRUE(amend_diff(a.data(), b.data(), a.size(), &plan));
  EXPECT_LE(plan.n_patches, AMEND_MAX_PATCHES);
  std::vector<uint8_t> t = a;
  ASSERT_TRUE(amend_apply(&plan, b.data(), t.data(), t.size()));
  EXPECT_EQ(b, t);
}

TEST(AmendDiff, IdenticalBuffersGiveNoPatch) {
  std::vector<uint8_t> a(512, 7);
  struct amend_plan plan = {};
  ASSERT_TRUE(amend_diff(a.data(), a.data(), a.size(), &plan));
  EXPECT_EQ(0u, plan.n_patches);
}

TEST(AmendApply, RefusesPatchesOutsideTheBuffer) {
  std::vector<uint8_t> a(512, 0), b(512, 1);
  struct amend_plan plan = {};
  plan.n_patches = 1;
  plan.patches[0] = {500, 13};
  EXPECT_FALSE(amend_apply(&plan, b.data(), a.data(), a.size()));
  EXPECT_EQ(std::vector<uint8_t>(512, 0), a);
  plan.patches[0] = {0xffffffff, 2};
  EXPECT_FALSE(amend_apply(&plan, b.data(), a.data(), a.size()));
  plan.n_patches = AMEND_MAX_PATCHES + 1;
  EXPECT_FALSE(amend_apply(&plan, b.data(), a.data(), a.size()));
}

TEST(AmendPlan, NullArguments) {
  auto in = BuildHeader(HeaderSpec());
  std::vector<uint8_t> out(in.size());
  amend_request req = {AMEND_COMPAT_V2, 0};
  struct amend_plan plan;
  EXPECT_EQ(AMEND_ERR_BAD_REQUEST, amend_plan(nullptr, in.size(), &req, out.data(), &plan));
  EXPECT_EQ(AMEND_ERR_BAD_REQUEST, amend_plan(in.data(), in.size(), nullptr, out.data(), &plan));
  EXPECT_EQ(AMEND_ERR_BAD_REQUEST, amend_plan(in.data(), in.size(), &req, nullptr, &plan));
  EXPECT_EQ(AMEND_ERR_BAD_REQUEST, amend_plan(in.data(), in.size(), &req, out.data(), nullptr));
}

}  // namespace
