// validate_test.cc — the host's check of what the guest returns
// (src/image/validate.c): an honest guest's answer is accepted; every kind
// of lie — about the record, about the bytes, about what was asked — is
// refused with its own code, so nothing reaches the file.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "abi/guest_abi.h"
#include "src/amend/amend_plan.h"
#include "src/image/validate.h"
#include "src/qcow2/qcow2_format.h"
#include "tests/unit/header_builder.h"

namespace {

struct Case {
  std::vector<uint8_t> pre;
  qcow2_header pre_hdr;
  amend_request req;
  guest_result res;
  std::vector<uint8_t> staged;
};

// What an honest guest would return for `req` on `pre`.
Case Honest(const HeaderSpec& spec, amend_request req) {
  Case c;
  c.pre = BuildHeader(spec);
  EXPECT_EQ(QCOW2_OK, qcow2_parse(c.pre.data(), c.pre.size(), &c.pre_hdr));
  c.req = req;
  c.staged = c.pre;
  std::vector<uint8_t> out(c.pre.size());
  amend_scan scan = {};
  scan.done = true;
  struct amend_plan plan;
  amend_status st = amend_plan_scanned(c.pre.data(), c.pre.size(), &req, &scan, out.data(), &plan);
  memset(&c.res, 0, sizeof(c.res));
  c.res.magic = GUEST_ABI_MAGIC;
  c.res.abi_version = GUEST_ABI_VERSION;
  c.res.status = st;
  c.res.result_version = plan.result_version;
  c.res.result_lazy = plan.result_lazy;
  c.res.n_patches = plan.n_patches;
  if (st == AMEND_CHANGED) {
    c.res.action = GUEST_ACTION_AMENDED;
    EXPECT_TRUE(amend_apply(&plan, out.data(), c.staged.data(), c.staged.size()));
  } else {
    c.res.action = st == AMEND_NOOP ? GUEST_ACTION_NOOP : GUEST_ACTION_NONE;
  }
  return c;
}

validate_err Check(const Case& c, validate_output* out = nullptr) {
  validate_output o;
  std::vector<uint8_t> expected(c.pre.size());
  validate_input in = {c.pre.data(), &c.pre_hdr, c.pre.size(), &c.req,
                       &c.res,       c.staged.data(), expected.data()};
  return validate_guest(&in, out ? out : &o);
}

// The header cluster an honest guest writes for `req` on the image `spec`
// describes: what a lying guest imitates when it plans from a doctored
// copy of the header.
std::vector<uint8_t> PlannedFrom(const HeaderSpec& spec, amend_request req) {
  return Honest(spec, req).staged;
}

HeaderSpec V2WithBacking() {
  HeaderSpec s;
  s.version = 2;
  s.ext.push_back({QCOW2_EXT_BACKING_FORMAT, {'q', 'c', 'o', 'w', '2'}});
  s.ext.push_back({0x77777777, {1, 2, 3}});
  s.backing = "base.qcow2";
  return s;
}

const amend_request kUp = {AMEND_COMPAT_V3, AMEND_LAZY_KEEP};
const amend_request kUpLazy = {AMEND_COMPAT_V3, AMEND_LAZY_ON};
const amend_request kDown = {AMEND_COMPAT_V2, AMEND_LAZY_KEEP};

TEST(Validate, HonestAnswersAreAccepted) {
  validate_output o;
  Case up = Honest(V2WithBacking(), kUpLazy);
  ASSERT_EQ(VALIDATE_AMENDED, Check(up, &o));
  EXPECT_EQ(3u, o.version);
  EXPECT_TRUE(o.lazy);
  EXPECT_GT(o.ranges.n_patches, 0u);
  HeaderSpec v3;
  v3.compat = QCOW2_COMPAT_LAZY_REFCOUNTS;
  v3.backing = "b";
  EXPECT_EQ(VALIDATE_AMENDED, Check(Honest(v3, kDown)));
  EXPECT_EQ(VALIDATE_NOOP, Check(Honest(v3, kUp)));
  HeaderSpec dirty;
  dirty.incompat = QCOW2_INCOMPAT_DIRTY;
  validate_err e = Check(Honest(dirty, kDown), &o);
  EXPECT_EQ(VALIDATE_REFUSED, e);
  EXPECT_EQ(AMEND_ERR_DIRTY, static_cast<amend_status>(o.guest_status));
}

TEST(Validate, RecordLies) {
  Case c = Honest(V2WithBacking(), kUp);
  Case bad = c;
  bad.res.magic ^= 1;
  EXPECT_EQ(VALIDATE_ERR_RECORD, Check(bad));
  bad = c;
  bad.res.abi_version = 99;
  EXPECT_EQ(VALIDATE_ERR_RECORD, Check(bad));
  bad = c;
  bad.res.status = 1000;
  EXPECT_EQ(VALIDATE_ERR_RECORD, Check(bad));
  bad = c;
  bad.res.action = 7;
  EXPECT_EQ(VALIDATE_ERR_RECORD, Check(bad));
  bad = c;
  bad.res.action = GUEST_ACTION_NOOP;  // status CHANGED with action NOOP
  EXPECT_EQ(VALIDATE_ERR_RECORD, Check(bad));
  bad = c;
  bad.res.result_lazy = 2;
  EXPECT_EQ(VALIDATE_ERR_RECORD, Check(bad));
  bad = c;
  bad.res.result_version = 2;  // says v2 after an upgrade
  EXPECT_EQ(VALIDATE_ERR_RECORD_MISMATCH, Check(bad));
  bad = c;
  bad.res.io_error = 1;
  EXPECT_EQ(VALIDATE_ERR_GUEST_IO, Check(bad));
}

TEST(Validate, WritesWithoutAChange) {
  Case c = Honest(V2WithBacking(), kUp);
  Case refused = c;
  refused.res.action = GUEST_ACTION_NONE;
  refused.res.status = AMEND_ERR_PARSE;
  EXPECT_EQ(VALIDATE_ERR_WROTE_WITHOUT_CHANGE, Check(refused));
  Case noop = c;
  noop.res.action = GUEST_ACTION_NOOP;
  noop.res.status = AMEND_NOOP;
  EXPECT_EQ(VALIDATE_ERR_WROTE_WITHOUT_CHANGE, Check(noop));
  noop.staged = noop.pre;
  EXPECT_EQ(VALIDATE_ERR_NOOP_LIE, Check(noop));  // v2 -> v3 is not a no-op
  Case none = c;
  none.staged = none.pre;
  EXPECT_EQ(VALIDATE_ERR_NO_WRITE, Check(none));
}

TEST(Validate, StagedBytesLies) {
  Case c = Honest(V2WithBacking(), kUp);
  auto lie = [&](void (*mutate)(std::vector<uint8_t>&)) {
    Case bad = c;
    mutate(bad.staged);
    validate_output o;
    EXPECT_EQ(VALIDATE_ERR_NOT_EXPECTED, Check(bad, &o));
    EXPECT_LT(o.first_difference, bad.staged.size());
  };
  lie([](auto& b) { PutBe64(b, 40, GetBe64(b, 40) + 65536); });  // L1 moved
  lie([](auto& b) { PutBe32(b, 36, GetBe32(b, 36) + 1); });      // L1 size
  lie([](auto& b) { PutBe64(b, 24, GetBe64(b, 24) * 2); });      // size
  lie([](auto& b) { PutBe64(b, 48, GetBe64(b, 48) + 65536); });  // refcounts
  lie([](auto& b) { PutBe32(b, 20, 17); });                      // cluster_bits
  lie([](auto& b) { b[0] = 'X'; });                              // magic
  lie([](auto& b) { PutBe64(b, 72, QCOW2_INCOMPAT_CORRUPT); });
  lie([](auto& b) { PutBe64(b, 80, QCOW2_COMPAT_LAZY_REFCOUNTS); });
  lie([](auto& b) { PutBe64(b, 88, 1ULL << 9); });
  lie([](auto& b) { b[GetBe64(b, 8)] = 'B'; });  // backing name changed
  // Bytes outside every parsed field: the header's padding, and the
  // cluster past the extensions and the backing name.
  lie([](auto& b) { b[110] = 0x41; });
  lie([](auto& b) { b[0x9000] = 0x5a; });
  lie([](auto& b) { b[b.size() - 1] ^= 1; });
}

TEST(Validate, ExtensionLies) {
  Case c = Honest(V2WithBacking(), kUp);
  qcow2_header h;
  ASSERT_EQ(QCOW2_OK, qcow2_parse(c.staged.data(), c.staged.size(), &h));
  const qcow2_ext* unk = qcow2_find_ext(&h, 0x77777777);
  const qcow2_ext* table = qcow2_find_ext(&h, QCOW2_EXT_FEATURE_TABLE);
  ASSERT_NE(nullptr, unk);
  ASSERT_NE(nullptr, table);
  Case bad = c;
  bad.staged[unk->offset] ^= 0xff;  // unknown extension's data changed
  EXPECT_EQ(VALIDATE_ERR_NOT_EXPECTED, Check(bad));
  bad = c;
  PutBe32(bad.staged, unk->offset - 8, 0x77777778);  // its type changed
  EXPECT_EQ(VALIDATE_ERR_NOT_EXPECTED, Check(bad));
  bad = c;
  bad.staged[table->offset + 2] = 'X';  // feature names rewritten
  EXPECT_EQ(VALIDATE_ERR_NOT_EXPECTED, Check(bad));
  bad = c;
  PutBe32(bad.staged, unk->offset - 8, 0);  // list cut short: ext dropped
  EXPECT_EQ(VALIDATE_ERR_NOT_EXPECTED, Check(bad));
}

std::vector<uint8_t> Str(const char* s) { return std::vector<uint8_t>(s, s + strlen(s)); }

// QEMU uses the last copy of a known extension. A guest that keeps an
// earlier copy (planning from the header without the last one) points
// QEMU at another file: refused.
void ExpectKeepingTheEarlierCopyRefused(const HeaderSpec& s, amend_request req) {
  Case c = Honest(s, req);
  ASSERT_EQ(VALIDATE_AMENDED, Check(c));
  HeaderSpec first_only = s;
  first_only.ext.pop_back();
  Case bad = c;
  bad.staged = PlannedFrom(first_only, req);
  ASSERT_NE(bad.staged, c.staged);
  EXPECT_EQ(VALIDATE_ERR_NOT_EXPECTED, Check(bad));
}

TEST(Validate, KeepingAnEarlierDataFileExtensionIsALie) {
  HeaderSpec s;
  s.incompat = QCOW2_INCOMPAT_EXTERNAL_DATA;
  s.autoclear = QCOW2_AUTOCLEAR_DATA_RAW;
  s.ext.push_back({QCOW2_EXT_DATA_FILE, Str("victim_disk.raw")});
  s.ext.push_back({QCOW2_EXT_DATA_FILE, Str("disk.raw")});
  ExpectKeepingTheEarlierCopyRefused(s, {AMEND_COMPAT_KEEP, AMEND_LAZY_ON});
}

TEST(Validate, KeepingAnEarlierBackingFormatIsALie) {
  HeaderSpec s;
  s.version = 2;
  s.backing = "base.img";
  s.ext.push_back({QCOW2_EXT_BACKING_FORMAT, Str("raw")});
  s.ext.push_back({QCOW2_EXT_BACKING_FORMAT, Str("qcow2")});
  ExpectKeepingTheEarlierCopyRefused(s, kUp);
}

// A data-file extension left over without its incompatible bit is dropped
// by a rewrite; one that takes the backing format's place makes QEMU
// probe the backing file's format.
TEST(Validate, ALeftoverDataFileInPlaceOfTheBackingFormatIsALie) {
  HeaderSpec s;
  s.version = 2;
  s.backing = "base.img";
  s.ext.push_back({QCOW2_EXT_BACKING_FORMAT, Str("qcow2")});
  Case c = Honest(s, kUp);
  ASSERT_EQ(VALIDATE_AMENDED, Check(c));
  qcow2_header h;
  ASSERT_EQ(QCOW2_OK, qcow2_parse(c.staged.data(), c.staged.size(), &h));
  const qcow2_ext* fmt = qcow2_find_ext(&h, QCOW2_EXT_BACKING_FORMAT);
  ASSERT_NE(nullptr, fmt);
  Case bad = c;
  PutBe32(bad.staged, fmt->offset - 8, QCOW2_EXT_DATA_FILE);
  EXPECT_EQ(VALIDATE_ERR_NOT_EXPECTED, Check(bad));
}

TEST(Validate, DowngradeOfAnImageWithIncompatibleFeaturesIsALie) {
  HeaderSpec s;
  s.incompat = QCOW2_INCOMPAT_EXTENDED_L2;
  Case c = Honest(s, kUp);  // no-op; fabricate a v2 "result"
  HeaderSpec v2;
  v2.version = 2;
  c.req = kDown;
  c.staged = BuildHeader(v2);
  c.res.action = GUEST_ACTION_AMENDED;
  c.res.status = AMEND_CHANGED;
  c.res.result_version = 2;
  c.res.result_lazy = 0;
  validate_output o;
  EXPECT_EQ(VALIDATE_ERR_NOT_EXPECTED, Check(c, &o));
  EXPECT_EQ(AMEND_ERR_DOWNGRADE_FEATURE, static_cast<amend_status>(o.host_status));
  // refcount_bits 32 cannot become v2 either.
  HeaderSpec r32;
  r32.refcount_order = 5;
  Case d = Honest(r32, kUp);
  d.req = kDown;
  d.staged = BuildHeader(v2);
  d.res = c.res;
  EXPECT_EQ(VALIDATE_ERR_NOT_EXPECTED, Check(d));
}

// A refusal writes nothing, but its reason reaches the operator: one the
// header contradicts is refused as a lie; one only the table scan can
// make is believed, for a request that needs the scan.
TEST(Validate, RefusalReasonsAreHeldAgainstTheHeader) {
  HeaderSpec v3;
  Case c = Honest(v3, kDown);
  ASSERT_EQ(VALIDATE_AMENDED, Check(c));
  auto refuse = [](Case k, amend_status why) {
    k.staged = k.pre;
    k.res.action = GUEST_ACTION_NONE;
    k.res.status = why;
    return k;
  };
  EXPECT_EQ(VALIDATE_REFUSED, Check(refuse(c, AMEND_ERR_ZERO_CLUSTERS)));
  EXPECT_EQ(VALIDATE_REFUSED, Check(refuse(c, AMEND_ERR_SNAPSHOT_SIZE)));
  EXPECT_EQ(VALIDATE_REFUSED, Check(refuse(c, AMEND_ERR_TABLES)));
  EXPECT_EQ(VALIDATE_ERR_REFUSAL_LIE, Check(refuse(c, AMEND_ERR_DIRTY)));
  EXPECT_EQ(VALIDATE_ERR_REFUSAL_LIE, Check(refuse(c, AMEND_ERR_PARSE)));
  EXPECT_EQ(VALIDATE_ERR_REFUSAL_LIE, Check(refuse(c, AMEND_ERR_DOWNGRADE_REFCOUNT)));
  // An upgrade of an image without snapshots needs no scan.
  Case up = Honest(V2WithBacking(), kUp);
  EXPECT_EQ(VALIDATE_ERR_REFUSAL_LIE, Check(refuse(up, AMEND_ERR_ZERO_CLUSTERS)));
  // Any request on an image with snapshots reads its snapshot table, as
  // QEMU does on every open: malformed tables are believed even where the
  // host's plan is a no-op or a lazy_refcounts change; what only a
  // downgrade's walk can find is not.
  HeaderSpec snap;
  snap.nb_snapshots = 1;
  Case n = Honest(snap, kUp);
  ASSERT_EQ(VALIDATE_NOOP, Check(n));
  EXPECT_EQ(VALIDATE_REFUSED, Check(refuse(n, AMEND_ERR_TABLES)));
  EXPECT_EQ(VALIDATE_ERR_REFUSAL_LIE, Check(refuse(n, AMEND_ERR_ZERO_CLUSTERS)));
  EXPECT_EQ(VALIDATE_ERR_REFUSAL_LIE, Check(refuse(n, AMEND_ERR_SNAPSHOT_SIZE)));
  EXPECT_EQ(VALIDATE_ERR_REFUSAL_LIE, Check(refuse(n, AMEND_ERR_SNAPSHOT_UPGRADE)));
  Case l = Honest(snap, {AMEND_COMPAT_KEEP, AMEND_LAZY_ON});
  ASSERT_EQ(VALIDATE_AMENDED, Check(l));
  EXPECT_EQ(VALIDATE_REFUSED, Check(refuse(l, AMEND_ERR_TABLES)));
  // ...and without snapshots no scan is needed: a no-op stays a no-op.
  Case plain = Honest(v3, kUp);
  EXPECT_EQ(VALIDATE_ERR_REFUSAL_LIE, Check(refuse(plain, AMEND_ERR_TABLES)));
  // The header's own refusal, given for another reason, is a lie too.
  HeaderSpec dirty;
  dirty.incompat = QCOW2_INCOMPAT_DIRTY;
  Case d = Honest(dirty, kDown);
  ASSERT_EQ(VALIDATE_REFUSED, Check(d));
  EXPECT_EQ(VALIDATE_ERR_REFUSAL_LIE, Check(refuse(d, AMEND_ERR_CORRUPT)));
}

// Claiming a change where the host's plan is a no-op is refused.
TEST(Validate, AChangeWhereTheHostSeesANoOpIsALie) {
  HeaderSpec v3;
  Case noop = Honest(v3, kUp);
  ASSERT_EQ(VALIDATE_NOOP, Check(noop));
  Case bad = noop;
  bad.res.action = GUEST_ACTION_AMENDED;
  bad.res.status = AMEND_CHANGED;
  bad.staged[72] ^= 1;
  EXPECT_EQ(VALIDATE_ERR_NOT_EXPECTED, Check(bad));
}

}  // namespace
