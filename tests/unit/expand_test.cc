// expand_test.cc — the host's side of a compat=0.10 downgrade that expands
// zero clusters (src/image/expand.h): expand_prepare() and expand_apply()
// over images built in memory (qcow2_image_builder.h) through a memory
// file (struct expand_io: reads inside the current size, one 512-byte
// sector per write, growing the buffer past its end, syncs counted), and
// the parser of the guest's list of tables (src/image/zero_report.h).
//
// Asserted: each transition's exact bytes (the whole image compared with
// the one expected), the plan's counts, every refusal with the image
// byte-identical, the hash check between prepare and apply, and, for a
// write that fails after k writes for every k, the documented phase order
// with a sync between phases, an image that checks clean or with leaked
// clusters only (the project's own qemu-img check engine, src/qcow2) and
// unchanged guest content through every L1 table.
//
// Trusts: the builder's images (the clean ones are checked clean here
// before use) and the check engine (qcow2_check_test holds it to
// qemu-img). Nothing else: the expansion's writes are checked sector by
// sector against the image as it was.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "abi/report_abi.h"
#include "src/image/expand.h"
#include "src/image/zero_report.h"
#include "src/qcow2/qcow2_check.h"
#include "src/qcow2/qcow2_header.h"
#include "src/qcow2/qcow2_open.h"
#include "tests/unit/header_builder.h"
#include "tests/unit/qcow2_image_builder.h"

namespace {

using Builder = Qcow2ImageBuilder;
using Bytes = std::vector<uint8_t>;
constexpr uint64_t kCopied = Builder::kCopied;
constexpr uint64_t kZero = Builder::kZero;
constexpr uint64_t kOffsetMask = 0x00fffffffffffe00ULL;
constexpr uint64_t kSector = 512;

// Byte `off` of b as an iterator (offsets are uint64_t, iterators signed).
Bytes::iterator At(Bytes& b, uint64_t off) { return b.begin() + static_cast<std::ptrdiff_t>(off); }
Bytes::const_iterator At(const Bytes& b, uint64_t off) {
  return b.begin() + static_cast<std::ptrdiff_t>(off);
}

void ZeroAt(Bytes& b, uint64_t off, uint64_t len) { std::fill(At(b, off), At(b, off + len), 0); }

// --- the memory file ------------------------------------------------------

struct MemFile {
  struct Event {
    bool sync;
    uint64_t off;
    Bytes before, after;  // the sector (writes)
    uint64_t len = 0;     // bytes written (a sector, or a zero call's)
    bool zero = false;    // a call of the zero callback
  };

  Bytes bytes;
  uint64_t reads = 0, writes = 0, syncs = 0;
  int64_t allow_writes = -1;  // writes that succeed before one fails; -1: all
  int64_t allow_syncs = -1;
  int64_t allow_reads = -1;
  bool failed = false;
  uint64_t calls_after_failure = 0;
  uint64_t bad_writes = 0;  // unaligned
  bool with_zero = false;   // offer the optional zero callback
  std::vector<Event> log;

  // By name. Without the zero callback (NULL) zeros come as sector
  // writes, each logged; with it, each call is one logged write.
  expand_io Io() {
    expand_io io = {};
    io.read = Read;
    io.write = Write;
    io.zero = with_zero ? Zero : nullptr;
    io.sync = Sync;
    io.ctx = this;
    return io;
  }

  static bool Read(void* ctx, uint64_t off, uint8_t* buf, size_t len) {
    auto* m = static_cast<MemFile*>(ctx);
    if (m->failed) m->calls_after_failure++;
    if (m->allow_reads >= 0 && m->reads >= static_cast<uint64_t>(m->allow_reads)) {
      m->failed = true;
      return false;
    }
    m->reads++;
    if (off > m->bytes.size() || m->bytes.size() - off < len) return false;
    if (len != 0) memcpy(buf, m->bytes.data() + off, len);
    return true;
  }

  static bool Write(void* ctx, uint64_t off, const uint8_t* sector) {
    auto* m = static_cast<MemFile*>(ctx);
    if (m->failed) m->calls_after_failure++;
    if (off % kSector != 0) {
      m->bad_writes++;
      return false;
    }
    if (m->allow_writes >= 0 && m->writes >= static_cast<uint64_t>(m->allow_writes)) {
      m->failed = true;
      return false;
    }
    if (m->bytes.size() < off + kSector) m->bytes.resize(off + kSector, 0);
    Event e{false, off, Bytes(At(m->bytes, off), At(m->bytes, off + kSector)),
            Bytes(sector, sector + kSector), kSector};
    memcpy(m->bytes.data() + off, sector, kSector);
    m->log.push_back(std::move(e));
    m->writes++;
    return true;
  }

  static bool Zero(void* ctx, uint64_t off, uint32_t len) {
    auto* m = static_cast<MemFile*>(ctx);
    if (m->failed) m->calls_after_failure++;
    if (off % kSector != 0 || len % kSector != 0 || len == 0) {
      m->bad_writes++;
      return false;
    }
    if (m->allow_writes >= 0 && m->writes >= static_cast<uint64_t>(m->allow_writes)) {
      m->failed = true;
      return false;
    }
    if (m->bytes.size() < off + len) m->bytes.resize(off + len, 0);
    ZeroAt(m->bytes, off, len);
    m->log.push_back({false, off, {}, {}, len, true});
    m->writes++;
    return true;
  }

  static bool Sync(void* ctx) {
    auto* m = static_cast<MemFile*>(ctx);
    if (m->failed) m->calls_after_failure++;
    if (m->allow_syncs >= 0 && m->syncs >= static_cast<uint64_t>(m->allow_syncs)) {
      m->failed = true;
      return false;
    }
    m->syncs++;
    m->log.push_back({true, 0, {}, {}});
    return true;
  }
};

// --- reading an image (the test's own, independent of expand.c) ------------

uint16_t Be16(const Bytes& b, uint64_t off) {
  return static_cast<uint16_t>(b.at(off) << 8 | b.at(off + 1));
}

struct Geometry {
  uint32_t cb;
  uint64_t cs, reftable, reftable_entries;
  explicit Geometry(const Bytes& b)
      : cb(GetBe32(b, 20)),
        cs(uint64_t{1} << cb),
        reftable(GetBe64(b, 48)),
        reftable_entries(uint64_t{GetBe32(b, 56)} * cs / 8) {}
};

// The refcount of the cluster at `off` as the file says (0 where no block).
uint64_t RefcountIn(const Bytes& b, uint64_t off) {
  const Geometry g(b);
  const uint64_t ci = off >> g.cb;
  const uint64_t bi = ci >> (g.cb - 1);
  if (bi >= g.reftable_entries) return 0;
  const uint64_t blk = GetBe64(b, g.reftable + 8 * bi) & ~uint64_t{511};
  if (blk == 0) return 0;
  const uint64_t slot = blk + 2 * (ci & (g.cs / 2 - 1));
  if (slot + 2 > b.size()) return 0;
  return Be16(b, slot);
}

bool AllZero(const Bytes& b, uint64_t off, uint64_t len) {
  if (off > b.size() || b.size() - off < len) return false;
  return std::all_of(At(b, off), At(b, off + len), [](uint8_t c) { return c == 0; });
}

// What the guest reads at each guest cluster through the L1 table at `l1`
// (n entries): "B" the backing file, "Z" zeros, "C.." a compressed
// descriptor, "D" + the bytes, "!" a cluster outside the file.
std::vector<std::string> GuestView(const Bytes& b, uint64_t l1, uint32_t n, bool backing) {
  const Geometry g(b);
  std::vector<std::string> v;
  for (uint32_t i = 0; i < n; i++) {
    const uint64_t l2 = GetBe64(b, l1 + 8 * uint64_t{i}) & kOffsetMask;
    for (uint64_t j = 0; j < g.cs / 8; j++) {
      if (l2 == 0) {
        v.push_back(backing ? "B" : "Z");
        continue;
      }
      const uint64_t e = GetBe64(b, l2 + 8 * j);
      if (e & Builder::kCompressed) {
        v.push_back("C" + std::to_string(e));
        continue;
      }
      // Zero-flagged, or a cluster of zeros: both read as zeros.
      const uint64_t off = e & kOffsetMask;
      const bool inside = off != 0 && off + g.cs <= b.size();
      if ((e & kZero) || (inside && AllZero(b, off, g.cs))) {
        v.push_back("Z");
      } else if (off == 0) {
        v.push_back(backing ? "B" : "Z");
      } else if (!inside) {
        v.push_back("!");
      } else {
        v.push_back("D" + std::string(At(b, off), At(b, off + g.cs)));
      }
    }
  }
  return v;
}

::testing::AssertionResult SameBytes(const Bytes& want, const Bytes& got) {
  if (want == got) return ::testing::AssertionSuccess();
  if (want.size() != got.size())
    return ::testing::AssertionFailure() << "size " << got.size() << ", want " << want.size();
  const auto d = std::mismatch(want.begin(), want.end(), got.begin());
  const uint64_t at = static_cast<uint64_t>(d.first - want.begin());
  return ::testing::AssertionFailure() << "first difference at 0x" << std::hex << at << ": 0x"
                                       << int{*d.second} << ", want 0x" << int{*d.first};
}

::testing::AssertionResult SameView(const std::vector<std::string>& want,
                                    const std::vector<std::string>& got) {
  if (want == got) return ::testing::AssertionSuccess();
  if (want.size() != got.size()) return ::testing::AssertionFailure() << "view size differs";
  for (size_t i = 0; i < want.size(); i++)
    if (want[i] != got[i])
      return ::testing::AssertionFailure()
             << "guest cluster " << i << " reads " << got[i].substr(0, 1) << ", was "
             << want[i].substr(0, 1);
  return ::testing::AssertionFailure();
}

// --- qemu-img check's engine over the memory file -------------------------

struct CheckTotals {
  bool ran = false;
  uint64_t corruptions = 0, leaks = 0, check_errors = 0;
};

struct SimpleReader {
  const Bytes* image;
};

bool ReadBatch(void* ctx, const qcow2_read* r, uint32_t n) {
  const Bytes& b = *static_cast<SimpleReader*>(ctx)->image;
  for (uint32_t i = 0; i < n; i++) {
    const uint64_t have =
        r[i].offset < b.size() ? std::min<uint64_t>(r[i].len, b.size() - r[i].offset) : 0;
    if (have != 0) memcpy(r[i].buf, b.data() + r[i].offset, have);
    if (have < r[i].len) memset(r[i].buf + have, 0, r[i].len - have);
  }
  return true;
}

bool CountFinding(void* ctx, const qcow2_finding_rec* f) {
  (void)ctx;
  (void)f;
  return true;
}

CheckTotals CheckImage(const Bytes& image) {
  static std::vector<uint64_t> work(QCOW2_CHECK_MIN_WORK / 8);
  CheckTotals t;
  SimpleReader rd{&image};
  const qcow2_io io = {ReadBatch, &rd, 64};
  Bytes hdr(size_t{1} << GetBe32(image, 20), 0);
  memcpy(hdr.data(), image.data(), std::min(hdr.size(), image.size()));
  Bytes text(QCOW2_OPEN_MAX_FEATURES_TEXT);
  qcow2_open_input oi = {};
  oi.hdr = hdr.data();
  oi.hdr_len = hdr.size();
  oi.file_bytes = image.size();
  oi.mode = QOPEN_MODE_CHECK;
  oi.behaviour = QOPEN_B_ZSTD | QOPEN_B_READ_LIMIT;
  oi.io = &io;
  oi.work = reinterpret_cast<uint8_t*>(work.data());
  oi.work_len = work.size() * 8;
  oi.text = text.data();
  oi.text_cap = text.size();
  qcow2_opened o = {};
  qcow2_open_err e = {};
  if (qcow2_open(&oi, &o, &e) != QCOW2_OPEN_OK) return t;
  uint64_t need = 0;
  if (!qcow2_check_counter_bytes(image.size(), o.f.cluster_bits, o.f.refcount_order, &need))
    return t;
  std::vector<uint64_t> counters((need + 7) / 8 + 1, 0);
  qcow2_check_input in = {};
  in.img = &o;
  in.header = hdr.data();
  in.file_bytes = image.size();
  in.flags = QCOW2_CHECK_RESERVED_BITS | QCOW2_CHECK_SUBCLUSTERS | QCOW2_CHECK_EXACT_COMPRESSED |
             QCOW2_CHECK_READ_LIMIT;
  in.io = &io;
  in.work = reinterpret_cast<uint8_t*>(work.data());
  in.work_len = work.size() * 8;
  in.counters = reinterpret_cast<uint8_t*>(counters.data());
  in.counters_len = need;
  qcow2_check_result res = {};
  if (qcow2_check(&in, CountFinding, nullptr, &res) != QCOW2_CHECK_OK || res.failed_errno != 0)
    return t;
  t.ran = true;
  t.corruptions = res.corruptions;
  t.leaks = res.leaks;
  t.check_errors = res.check_errors;
  return t;
}

::testing::AssertionResult ChecksClean(const Bytes& image, bool leaks_ok = false) {
  const CheckTotals t = CheckImage(image);
  if (!t.ran) return ::testing::AssertionFailure() << "the check did not run";
  if (t.corruptions != 0 || t.check_errors != 0 || (!leaks_ok && t.leaks != 0))
    return ::testing::AssertionFailure() << t.corruptions << " corruptions, " << t.leaks
                                         << " leaks, " << t.check_errors << " check errors";
  return ::testing::AssertionSuccess();
}

// --- an expansion over a memory file --------------------------------------

qcow2_header ParseHeader(const Bytes& b) {
  qcow2_header h = {};
  Bytes c(size_t{1} << GetBe32(b, 20), 0);
  memcpy(c.data(), b.data(), std::min(c.size(), b.size()));
  EXPECT_EQ(QCOW2_OK, qcow2_parse(c.data(), c.size(), &h));
  return h;
}

struct Expansion {
  MemFile f;
  qcow2_header h;
  expand_plan plan = {};
  bool can_grow = true;

  explicit Expansion(const Bytes& image) : h(ParseHeader(image)) { f.bytes = image; }
  ~Expansion() { expand_free(&plan); }
  Expansion(const Expansion&) = delete;
  Expansion& operator=(const Expansion&) = delete;

  expand_err Prepare(const std::vector<uint64_t>& tables) {
    const expand_io io = f.Io();
    return expand_prepare(&plan, &h, f.bytes.size(), can_grow, tables.data(),
                          static_cast<uint32_t>(tables.size()), &io);
  }
  expand_err Apply() {
    const expand_io io = f.Io();
    return expand_apply(&plan, &io);
  }
};

// A refusal by expand_prepare: the code, and not a byte written or synced.
void ExpectRefused(const Bytes& image, const std::vector<uint64_t>& tables, expand_err want,
                   bool can_grow = true) {
  Expansion x(image);
  x.can_grow = can_grow;
  EXPECT_EQ(want, x.Prepare(tables));
  EXPECT_TRUE(SameBytes(image, x.f.bytes));
  EXPECT_EQ(0u, x.f.writes);
  EXPECT_EQ(0u, x.f.syncs);
  EXPECT_EQ(0u, x.f.bad_writes);
}

void Fill(Builder& b, uint64_t off, uint8_t v) {
  std::fill(At(b.bytes(), off), At(b.bytes(), off + b.cluster_size()), v);
}

// --- the phases of the writes, from the image as it was -------------------

enum Phase { kBad = 0, kNew = 1, kRefcounts = 2, kZeros = 3, kEntries = 4, kDrops = 5 };

bool InClusters(const uint64_t* v, uint64_t n, uint64_t cs, uint64_t off) {
  for (uint64_t i = 0; i < n; i++)
    if (off >= v[i] && off < v[i] + cs) return true;
  return false;
}

// Which phase a write belongs to, by where it lands in the image as it was
// (and, in a refcount block, by which clusters' refcounts it changes).
Phase PhaseOf(const Bytes& orig, const expand_plan& p, const MemFile::Event& w) {
  const Geometry g(orig);
  if (w.off < g.cs) return kBad;  // the header cluster
  if (w.zero) {                   // one whole cluster, new or kept
    if (w.off % g.cs != 0 || w.len != g.cs) return kBad;
    if (w.off >= orig.size()) return kNew;
    return InClusters(p.targets, p.n_targets, g.cs, w.off) ? kZeros : kBad;
  }
  if (w.off >= orig.size()) return kNew;
  if (w.off >= g.reftable && w.off < g.reftable + g.reftable_entries * 8) return kRefcounts;
  if (InClusters(p.targets, p.n_targets, g.cs, w.off)) return kZeros;
  if (InClusters(p.tables, p.n_tables, g.cs, w.off)) return kEntries;
  for (uint64_t bi = 0; bi < g.reftable_entries; bi++) {
    const uint64_t blk = GetBe64(orig, g.reftable + 8 * bi) & ~uint64_t{511};
    if (blk == 0 || w.off < blk || w.off >= blk + g.cs) continue;
    Phase ph = kBad;
    for (uint64_t s = 0; s < kSector; s += 2) {
      if (w.before[s] == w.after[s] && w.before[s + 1] == w.after[s + 1]) continue;
      const uint64_t ci = bi * (g.cs / 2) + (w.off - blk + s) / 2;
      const Phase this_one = ci * g.cs >= orig.size() ? kRefcounts : kDrops;
      if (ph != kBad && ph != this_one) return kBad;  // two phases in one write
      ph = this_one;
    }
    return ph;
  }
  return kBad;
}

// The whole log: each write in an allowed place, the phases in order,
// a sync between two phases and after the last write.
void ExpectPhaseOrder(const Bytes& orig, const expand_plan& p,
                      const std::vector<MemFile::Event>& log) {
  int last = 0;
  bool synced = true;
  for (size_t i = 0; i < log.size(); i++) {
    const MemFile::Event& e = log[i];
    if (e.sync) {
      synced = true;
      continue;
    }
    const Phase ph = PhaseOf(orig, p, e);
    ASSERT_NE(kBad, ph) << "write " << i << " at 0x" << std::hex << e.off;
    ASSERT_GE(ph, last) << "write " << i << " at 0x" << std::hex << e.off << " of phase " << ph
                        << " after phase " << last;
    if (ph != last && last != 0)
      EXPECT_TRUE(synced) << "no sync between phase " << last << " and phase " << ph;
    last = ph;
    synced = false;
  }
  EXPECT_TRUE(synced) << "no sync after the last write";
}

// --- the images -------------------------------------------------------------

// The image most cases start from (64 KiB clusters unless told, no
// backing file unless told): cluster 0 header, 1 refcount table, 2
// refcount block, 3 L1 table, 4 the L2 table of L1 entry 0 with
//   0: plain zero (0x1)
//   1: zero with a host cluster, COPIED (d1, bytes 0xd1)
//   2: normal data (n2, bytes 0x22)
//   3: zero with a host cluster, no COPIED (d3, bytes 0xd3; not a clean
//      image then: only used where the check is not run)
struct Simple {
  Builder b;
  uint64_t l2 = 0, d1 = 0, n2 = 0, d3 = 0;

  explicit Simple(const Qcow2ImageSpec& spec = {}, bool with_d3 = false) : b(spec) {
    l2 = b.AddL2(0);
    b.SetL2(l2, 0, kZero);
    d1 = b.Alloc();
    Fill(b, d1, 0xd1);
    b.SetL2(l2, 1, d1 | kZero | kCopied);
    n2 = b.AddData(l2, 2);
    Fill(b, n2, 0x22);
    if (with_d3) {
      d3 = b.Alloc();
      Fill(b, d3, 0xd3);
      b.SetL2(l2, 3, d3 | kZero);
    }
  }
};

Qcow2ImageSpec Spec(uint32_t cluster_bits, bool backing) {
  Qcow2ImageSpec s;
  s.cluster_bits = cluster_bits;
  if (backing) s.backing = "base.qcow2";
  // Two L1 entries' worth of guest clusters.
  s.size = uint64_t{2} << (2 * cluster_bits - 3);
  return s;
}

// A clean image with every kind of zero entry, a snapshot and two named
// tables:
//   snapshot L1 -> s2 (the table before the active one was copied on
//                  write): 0 -> c (bytes 0x5c), shared with the active
//   active L1[0] -> a (refcount 1)
//      0: c | zero          (c's refcount 2: detached)
//      1: plain zero
//      2: d | zero | COPIED (kept, zeroed; bytes 0xdd)
//      3: e | COPIED        (normal; bytes 0xee)
//   active L1[1] -> t (refcount 1)
//      0: plain zero
//      5: g | zero | COPIED (kept, zeroed; bytes 0x99)
// With pad_to != 0 the file is padded with unused clusters to pad_to
// clusters before its refcount block(s) are written.
struct Mixed {
  Builder b;
  uint64_t s2 = 0, c = 0, a = 0, d = 0, e = 0, t = 0, g = 0, snap_l1 = 0;

  Mixed(uint32_t cluster_bits, bool backing, uint64_t pad_to = 0) : b(Spec(cluster_bits, backing)) {
    s2 = b.AddL2(0);
    c = b.AddData(s2, 0);
    Fill(b, c, 0x5c);
    snap_l1 = b.TakeSnapshot("1", "before");
    // The guest then wrote zeros to guest cluster 0: QEMU copied the
    // shared table on write.
    a = b.Alloc();
    b.SetL1(0, a | kCopied);
    b.SetRefcount(s2, 1);
    b.SetL2(a, 0, c | kZero);
    b.SetL2(a, 1, kZero);
    d = b.Alloc();
    Fill(b, d, 0xdd);
    b.SetL2(a, 2, d | kZero | kCopied);
    e = b.AddData(a, 3);
    Fill(b, e, 0xee);
    t = b.AddL2(1);
    b.SetL2(t, 0, kZero);
    g = b.Alloc();
    Fill(b, g, 0x99);
    b.SetL2(t, 5, g | kZero | kCopied);
    while (pad_to != 0 && b.bytes().size() < b.Cluster(pad_to)) b.Alloc(0);
    b.Finish();
  }

  std::vector<uint64_t> Tables() const { return {a, t}; }
};

// The guest's view through every L1 table of a Mixed image.
std::vector<std::string> MixedView(const Mixed& m, const Bytes& b, bool backing) {
  std::vector<std::string> v = GuestView(b, m.b.l1_offset(), m.b.l1_size(), backing);
  std::vector<std::string> s = GuestView(b, m.snap_l1, m.b.l1_size(), backing);
  v.insert(v.end(), s.begin(), s.end());
  return v;
}

// --- no backing file --------------------------------------------------------

TEST(ExpandNoBacking, EachTransition) {
  Simple img({}, /*with_d3=*/true);
  const Bytes orig = img.b.Finish();
  Expansion x(orig);
  ASSERT_EQ(EXPAND_OK, x.Prepare({img.l2}));
  EXPECT_EQ(1u, x.plan.to_unallocated);
  EXPECT_EQ(2u, x.plan.to_zeroed);
  EXPECT_EQ(0u, x.plan.to_new);
  EXPECT_EQ(0u, x.plan.to_detached);
  EXPECT_EQ(0u, x.plan.new_clusters);
  EXPECT_EQ(0u, x.plan.new_blocks);
  EXPECT_EQ(0u, x.plan.n_drops);
  EXPECT_EQ(orig.size(), x.plan.new_end);
  ASSERT_EQ(2u, x.plan.n_targets);
  EXPECT_EQ(img.d1, x.plan.targets[0]);
  EXPECT_EQ(img.d3, x.plan.targets[1]);
  ASSERT_EQ(1u, x.plan.n_tables);
  EXPECT_EQ(1u, x.plan.table_rc[0]);
  // Prepare writes nothing.
  EXPECT_TRUE(SameBytes(orig, x.f.bytes));
  EXPECT_EQ(0u, x.f.writes);

  ASSERT_EQ(EXPAND_OK, x.Apply());
  // Exactly: entry 0 unallocated, 1 and 3 their own cluster with COPIED
  // (the table's refcount is 1) and that cluster all zeros; entry 2 and
  // every other byte (the header cluster with them) as they were.
  Bytes want = orig;
  PutBe64(want, img.l2 + 0, 0);
  PutBe64(want, img.l2 + 8, img.d1 | kCopied);
  PutBe64(want, img.l2 + 24, img.d3 | kCopied);
  ZeroAt(want, img.d1, 65536);
  ZeroAt(want, img.d3, 65536);
  EXPECT_TRUE(SameBytes(want, x.f.bytes));
  EXPECT_EQ(img.n2 | kCopied, GetBe64(x.f.bytes, img.l2 + 16));
  EXPECT_TRUE(std::equal(orig.begin(), At(orig, 65536), x.f.bytes.begin()));
  // Two clusters of zeros and one sector of entries, each a write the
  // plan counted; a sync after the zeros and after the entries.
  EXPECT_EQ(2u * 128u + 1u, x.f.writes);
  EXPECT_EQ(x.f.writes, x.plan.writes);
  EXPECT_EQ(2u, x.f.syncs);
  EXPECT_EQ(x.f.syncs, x.plan.syncs);
  EXPECT_EQ(0u, x.f.bad_writes);
  ExpectPhaseOrder(orig, x.plan, x.f.log);
}

TEST(ExpandNoBacking, CleanImageStaysCleanAndReadsTheSame) {
  Simple img;
  const Bytes orig = img.b.Finish();
  ASSERT_TRUE(ChecksClean(orig));
  Expansion x(orig);
  ASSERT_EQ(EXPAND_OK, x.Prepare({img.l2}));
  ASSERT_EQ(EXPAND_OK, x.Apply());
  EXPECT_TRUE(ChecksClean(x.f.bytes));
  const auto view = GuestView(orig, img.b.l1_offset(), img.b.l1_size(), false);
  EXPECT_TRUE(SameView(view, GuestView(x.f.bytes, img.b.l1_offset(), img.b.l1_size(), false)));
  // No zero flag is left in the table.
  for (uint64_t i = 0; i < 65536 / 8; i++)
    EXPECT_EQ(0u, GetBe64(x.f.bytes, img.l2 + 8 * i) & kZero);
}

TEST(ExpandNoBacking, TinyClusters) {
  Simple img(Spec(9, false));
  const Bytes orig = img.b.Finish();
  ASSERT_TRUE(ChecksClean(orig));
  Expansion x(orig);
  ASSERT_EQ(EXPAND_OK, x.Prepare({img.l2}));
  EXPECT_EQ(1u, x.plan.to_unallocated);
  EXPECT_EQ(1u, x.plan.to_zeroed);
  ASSERT_EQ(EXPAND_OK, x.Apply());
  Bytes want = orig;
  PutBe64(want, img.l2 + 0, 0);
  PutBe64(want, img.l2 + 8, img.d1 | kCopied);
  ZeroAt(want, img.d1, 512);
  EXPECT_TRUE(SameBytes(want, x.f.bytes));
  EXPECT_EQ(2u, x.f.writes);
  EXPECT_TRUE(ChecksClean(x.f.bytes));
}

// A table a snapshot shares (refcount 2): a zero entry whose cluster has
// the table's refcount keeps it, without COPIED (QEMU sets COPIED only at
// refcount 1).
TEST(ExpandNoBacking, SharedTableKeepsItsClustersWithoutCopied) {
  Builder b;
  const uint64_t l2 = b.AddL2(0);
  const uint64_t d = b.Alloc();
  Fill(b, d, 0x77);
  b.SetL2(l2, 4, d | kZero | kCopied);
  b.SetL2(l2, 5, kZero);
  const uint64_t snap_l1 = b.TakeSnapshot("1", "s");
  const Bytes orig = b.Finish();
  ASSERT_EQ(2u, b.Refcount(l2));
  ASSERT_EQ(2u, b.Refcount(d));
  ASSERT_TRUE(ChecksClean(orig));
  Expansion x(orig);
  ASSERT_EQ(EXPAND_OK, x.Prepare({l2}));
  EXPECT_EQ(2u, x.plan.table_rc[0]);
  EXPECT_EQ(1u, x.plan.to_zeroed);
  EXPECT_EQ(1u, x.plan.to_unallocated);
  EXPECT_EQ(0u, x.plan.to_detached);
  ASSERT_EQ(EXPAND_OK, x.Apply());
  Bytes want = orig;
  PutBe64(want, l2 + 32, d);
  PutBe64(want, l2 + 40, 0);
  ZeroAt(want, d, 65536);
  EXPECT_TRUE(SameBytes(want, x.f.bytes));
  EXPECT_TRUE(ChecksClean(x.f.bytes));
  EXPECT_TRUE(SameView(GuestView(orig, snap_l1, b.l1_size(), false),
                       GuestView(x.f.bytes, snap_l1, b.l1_size(), false)));
}

// --- a backing file: plain zero entries get a new cluster -------------------

TEST(ExpandBacking, PlainZeroGetsANewClusterInTheExistingBlock) {
  Simple img(Spec(16, true));
  const Bytes orig = img.b.Finish();
  ASSERT_TRUE(ChecksClean(orig));
  ASSERT_EQ(0u, orig.size() % 65536);
  Expansion x(orig);
  ASSERT_NE(0u, x.h.backing_offset);
  ASSERT_EQ(EXPAND_OK, x.Prepare({img.l2}));
  EXPECT_EQ(0u, x.plan.to_unallocated);
  EXPECT_EQ(1u, x.plan.to_zeroed);
  EXPECT_EQ(1u, x.plan.to_new);
  EXPECT_EQ(1u, x.plan.new_clusters);
  EXPECT_EQ(0u, x.plan.new_blocks);
  const uint64_t pos = orig.size();
  EXPECT_EQ(pos + 65536, x.plan.new_end);
  ASSERT_EQ(EXPAND_OK, x.Apply());
  ASSERT_EQ(pos + 65536, x.f.bytes.size());
  Bytes want = orig;
  want.resize(pos + 65536, 0);
  PutBe64(want, img.l2 + 0, pos | kCopied);
  PutBe64(want, img.l2 + 8, img.d1 | kCopied);
  ZeroAt(want, img.d1, 65536);
  // Its refcount, 1, in the first block (cluster 2).
  const uint64_t slot = img.b.Cluster(2) + 2 * (pos / 65536);
  want[slot + 1] = 1;
  EXPECT_TRUE(SameBytes(want, x.f.bytes));
  EXPECT_EQ(1u, RefcountIn(x.f.bytes, pos));
  EXPECT_TRUE(AllZero(x.f.bytes, pos, 65536));
  EXPECT_TRUE(ChecksClean(x.f.bytes));
  EXPECT_TRUE(SameView(GuestView(orig, img.b.l1_offset(), img.b.l1_size(), true),
                       GuestView(x.f.bytes, img.b.l1_offset(), img.b.l1_size(), true)));
  // 128 sectors of the new cluster, sync, its refcount, sync, 128 of
  // zeros into d1, sync, the entries, sync.
  EXPECT_EQ(128u + 1u + 128u + 1u, x.f.writes);
  EXPECT_EQ(4u, x.f.syncs);
  EXPECT_EQ(x.f.writes, x.plan.writes);
  EXPECT_EQ(x.f.syncs, x.plan.syncs);
  ExpectPhaseOrder(orig, x.plan, x.f.log);
}

TEST(ExpandBacking, NewClusterAtTheOldEndRoundedUpToACluster) {
  Simple img(Spec(16, true));
  Bytes orig = img.b.Finish();
  const uint64_t end = orig.size();
  orig.resize(end + 1000, 0xab);  // a partial cluster the refcounts do not cover
  Expansion x(orig);
  ASSERT_EQ(EXPAND_OK, x.Prepare({img.l2}));
  EXPECT_EQ(end + 2 * 65536, x.plan.new_end);
  ASSERT_EQ(EXPAND_OK, x.Apply());
  const uint64_t pos = end + 65536;
  EXPECT_EQ(pos | kCopied, GetBe64(x.f.bytes, img.l2));
  ASSERT_EQ(pos + 65536, x.f.bytes.size());
  EXPECT_TRUE(AllZero(x.f.bytes, pos, 65536));
  EXPECT_EQ(1u, RefcountIn(x.f.bytes, pos));
  EXPECT_EQ(0u, RefcountIn(x.f.bytes, end));
  // The partial cluster's bytes are untouched.
  EXPECT_TRUE(std::equal(At(orig, end), orig.end(), At(x.f.bytes, end)));
  ExpectPhaseOrder(orig, x.plan, x.f.log);
}

// 512-byte clusters and a file of exactly 256 clusters: the first block
// covers clusters 0..255, so the first new cluster (256) needs a new
// block, which goes right after it (257) and holds refcount 1 for itself
// and for each new cluster of its range (256 and 258).
TEST(ExpandBacking, NewRefcountBlockRightAfterTheCluster) {
  Builder b(Spec(9, true));
  const uint64_t l2 = b.AddL2(0);
  b.SetL2(l2, 0, kZero);
  b.SetL2(l2, 7, kZero);
  const uint64_t n = b.AddData(l2, 3);
  Fill(b, n, 0x33);
  while (b.bytes().size() < b.Cluster(256)) b.Alloc(0);
  const Bytes orig = b.Finish();
  ASSERT_EQ(b.Cluster(256), orig.size());
  ASSERT_EQ(0u, GetBe64(orig, b.reftable_offset() + 8));
  ASSERT_TRUE(ChecksClean(orig));
  Expansion x(orig);
  ASSERT_EQ(EXPAND_OK, x.Prepare({l2}));
  EXPECT_EQ(2u, x.plan.to_new);
  EXPECT_EQ(2u, x.plan.new_clusters);
  EXPECT_EQ(1u, x.plan.new_blocks);
  EXPECT_EQ(b.Cluster(259), x.plan.new_end);
  ASSERT_EQ(EXPAND_OK, x.Apply());
  Bytes want = orig;
  want.resize(b.Cluster(259), 0);
  PutBe64(want, l2 + 0, b.Cluster(256) | kCopied);
  PutBe64(want, l2 + 56, b.Cluster(258) | kCopied);
  PutBe64(want, b.reftable_offset() + 8, b.Cluster(257));
  const uint64_t blk = b.Cluster(257);
  want[blk + 2 * 0 + 1] = 1;  // cluster 256
  want[blk + 2 * 1 + 1] = 1;  // cluster 257: the block itself
  want[blk + 2 * 2 + 1] = 1;  // cluster 258
  EXPECT_TRUE(SameBytes(want, x.f.bytes));
  EXPECT_TRUE(ChecksClean(x.f.bytes));
  EXPECT_TRUE(SameView(GuestView(orig, b.l1_offset(), b.l1_size(), true),
                       GuestView(x.f.bytes, b.l1_offset(), b.l1_size(), true)));
  ExpectPhaseOrder(orig, x.plan, x.f.log);
}

// --- a cluster a snapshot shares: detached ----------------------------------

TEST(ExpandDetach, NoBacking) {
  Mixed m(16, false);
  const Bytes& orig = m.b.bytes();
  ASSERT_TRUE(ChecksClean(orig));
  ASSERT_EQ(2u, RefcountIn(orig, m.c));
  Expansion x(orig);
  ASSERT_EQ(EXPAND_OK, x.Prepare(m.Tables()));
  EXPECT_EQ(1u, x.plan.to_detached);
  EXPECT_EQ(2u, x.plan.to_unallocated);  // a[1], t[0]
  EXPECT_EQ(2u, x.plan.to_zeroed);       // d, g
  EXPECT_EQ(0u, x.plan.new_clusters);
  ASSERT_EQ(1u, x.plan.n_drops);
  EXPECT_EQ(m.c, x.plan.drop_off[0]);
  EXPECT_EQ(1u, x.plan.drop_by[0]);
  EXPECT_EQ(2u, x.plan.drop_old[0]);
  ASSERT_EQ(EXPAND_OK, x.Apply());
  Bytes want = orig;
  PutBe64(want, m.a + 0, 0);
  PutBe64(want, m.a + 8, 0);
  PutBe64(want, m.a + 16, m.d | kCopied);
  PutBe64(want, m.t + 0, 0);
  PutBe64(want, m.t + 40, m.g | kCopied);
  ZeroAt(want, m.d, 65536);
  ZeroAt(want, m.g, 65536);
  want[m.b.Cluster(2) + 2 * (m.c / 65536) + 1] = 1;  // c: 2 -> 1
  EXPECT_TRUE(SameBytes(want, x.f.bytes));
  // c's bytes are the snapshot's, untouched.
  EXPECT_TRUE(std::equal(At(orig, m.c), At(orig, m.c + 65536), At(x.f.bytes, m.c)));
  EXPECT_EQ(1u, RefcountIn(x.f.bytes, m.c));
  EXPECT_TRUE(ChecksClean(x.f.bytes));
  EXPECT_TRUE(SameView(MixedView(m, orig, false), MixedView(m, x.f.bytes, false)));
  ExpectPhaseOrder(orig, x.plan, x.f.log);
}

TEST(ExpandDetach, BackingGivesTheDetachedEntryANewCluster) {
  Mixed m(16, true);
  const Bytes& orig = m.b.bytes();
  ASSERT_TRUE(ChecksClean(orig));
  Expansion x(orig);
  ASSERT_EQ(EXPAND_OK, x.Prepare(m.Tables()));
  EXPECT_EQ(1u, x.plan.to_detached);
  EXPECT_EQ(2u, x.plan.to_new);
  EXPECT_EQ(3u, x.plan.new_clusters);
  EXPECT_EQ(0u, x.plan.to_unallocated);
  ASSERT_EQ(EXPAND_OK, x.Apply());
  const uint64_t end = orig.size();
  EXPECT_EQ(end | kCopied, GetBe64(x.f.bytes, m.a + 0));  // detached
  EXPECT_EQ((end + 65536) | kCopied, GetBe64(x.f.bytes, m.a + 8));
  EXPECT_EQ((end + 131072) | kCopied, GetBe64(x.f.bytes, m.t + 0));
  EXPECT_EQ(1u, RefcountIn(x.f.bytes, m.c));
  EXPECT_TRUE(ChecksClean(x.f.bytes));
  EXPECT_TRUE(SameView(MixedView(m, orig, true), MixedView(m, x.f.bytes, true)));
  ExpectPhaseOrder(orig, x.plan, x.f.log);
}

// Two entries of two tables on one cluster (refcount 3, one reference the
// snapshot's): both detached, the refcount lowered by both at once.
TEST(ExpandDetach, DropsOfOneClusterAddUp) {
  Mixed m(16, false);
  Bytes img = m.b.bytes();
  PutBe64(img, m.t + 48, m.c | kZero);
  img[m.b.Cluster(2) + 2 * (m.c / 65536) + 1] = 3;
  ASSERT_TRUE(ChecksClean(img));
  Expansion x(img);
  ASSERT_EQ(EXPAND_OK, x.Prepare(m.Tables()));
  EXPECT_EQ(2u, x.plan.to_detached);
  ASSERT_EQ(1u, x.plan.n_drops);
  EXPECT_EQ(2u, x.plan.drop_by[0]);
  EXPECT_EQ(3u, x.plan.drop_old[0]);
  ASSERT_EQ(EXPAND_OK, x.Apply());
  EXPECT_EQ(1u, RefcountIn(x.f.bytes, m.c));
  EXPECT_TRUE(ChecksClean(x.f.bytes));
}

// --- duplicates in the guest's list -----------------------------------------

TEST(ExpandList, DuplicatesAreDropped) {
  Mixed m(16, true);
  const Bytes& orig = m.b.bytes();
  Expansion once(orig);
  ASSERT_EQ(EXPAND_OK, once.Prepare(m.Tables()));
  ASSERT_EQ(EXPAND_OK, once.Apply());
  Expansion dup(orig);
  ASSERT_EQ(EXPAND_OK, dup.Prepare({m.t, m.a, m.t, m.a, m.a}));
  EXPECT_EQ(2u, dup.plan.n_tables);
  EXPECT_EQ(m.a, dup.plan.tables[0]);
  EXPECT_EQ(m.t, dup.plan.tables[1]);
  EXPECT_EQ(once.plan.new_clusters, dup.plan.new_clusters);
  EXPECT_EQ(once.plan.to_zeroed, dup.plan.to_zeroed);
  EXPECT_EQ(once.plan.to_detached, dup.plan.to_detached);
  ASSERT_EQ(EXPAND_OK, dup.Apply());
  EXPECT_TRUE(SameBytes(once.f.bytes, dup.f.bytes));
  EXPECT_EQ(once.f.writes, dup.f.writes);
}

// --- refusals: the image byte-identical -------------------------------------

TEST(ExpandRefuse, List) {
  Simple img;
  const Bytes orig = img.b.Finish();
  ExpectRefused(orig, {}, EXPAND_ERR_LIST);
  ExpectRefused(orig, {img.l2 + 512}, EXPAND_ERR_LIST);           // unaligned
  ExpectRefused(orig, {img.l2, img.l2 + 4096}, EXPAND_ERR_LIST);  // one of two
  ExpectRefused(orig, {orig.size()}, EXPAND_ERR_LIST);            // at the end
  ExpectRefused(orig, {orig.size() + 65536}, EXPAND_ERR_LIST);    // past it
  ExpectRefused(orig, {0}, EXPAND_ERR_LIST);                      // the header
  ExpectRefused(orig, {~uint64_t{0} << 16}, EXPAND_ERR_LIST);     // far out
  // Too long: refused before a single entry is read.
  Expansion x(orig);
  const uint64_t one = img.l2;
  const expand_io io = x.f.Io();
  EXPECT_EQ(EXPAND_ERR_LIST,
            expand_prepare(&x.plan, &x.h, orig.size(), true, &one, EXPAND_MAX_TABLES + 1, &io));
  EXPECT_EQ(EXPAND_ERR_LIST, expand_prepare(&x.plan, &x.h, orig.size(), true, nullptr, 1, &io));
  EXPECT_EQ(0u, x.f.writes);
}

TEST(ExpandRefuse, NotReferenced) {
  Simple img;
  const uint64_t lost = img.b.Alloc();  // refcount 1, a zero entry, no L1 names it
  img.b.SetL2(lost, 9, kZero);
  const Bytes orig = img.b.Finish();
  ExpectRefused(orig, {lost}, EXPAND_ERR_NOT_REFERENCED);
  ExpectRefused(orig, {img.l2, lost}, EXPAND_ERR_NOT_REFERENCED);
  // A data cluster that happens to hold a zero-flagged "entry".
  Bytes data = orig;
  PutBe64(data, img.n2, kZero);
  ExpectRefused(data, {img.l2, img.n2}, EXPAND_ERR_NOT_REFERENCED);
}

TEST(ExpandRefuse, NoZeroEntry) {
  Builder b;
  const uint64_t only_data = b.AddL2(0);
  b.AddData(only_data, 0);
  const Bytes data_only = b.Finish();
  ExpectRefused(data_only, {only_data}, EXPAND_ERR_NO_ZERO);
  // One good table and one without a zero entry.
  Builder b2(Spec(16, false));
  const uint64_t good = b2.AddL2(0);
  b2.SetL2(good, 0, kZero);
  const uint64_t none = b2.AddL2(1);
  b2.AddData(none, 0);
  ExpectRefused(b2.Finish(), {good, none}, EXPAND_ERR_NO_ZERO);
  // A compressed entry's low bit is part of its offset, not a zero flag.
  Builder b3;
  const uint64_t comp = b3.AddL2(0);
  const uint64_t host = b3.Alloc();
  b3.SetL2(comp, 0, b3.CompressedEntry(host + 1, 1));
  ExpectRefused(b3.Finish(), {comp}, EXPAND_ERR_NO_ZERO);
}

TEST(ExpandRefuse, Entry) {
  Simple img;
  Bytes orig = img.b.Finish();
  Bytes b = orig;
  PutBe64(b, img.l2 + 8, (img.d1 + 512) | kZero);  // unaligned
  ExpectRefused(b, {img.l2}, EXPAND_ERR_ENTRY);
  b = orig;
  PutBe64(b, img.l2 + 8, orig.size() | kZero);  // at the end of the file
  ExpectRefused(b, {img.l2}, EXPAND_ERR_ENTRY);
  b = orig;
  PutBe64(b, img.l2 + 8, (orig.size() + (1u << 20)) | kZero);  // past it
  ExpectRefused(b, {img.l2}, EXPAND_ERR_ENTRY);
  b = orig;
  PutBe64(b, img.l2 + 8, 0x200 | kZero);  // inside the header cluster
  ExpectRefused(b, {img.l2}, EXPAND_ERR_ENTRY);
}

TEST(ExpandRefuse, OverlapOfAZeroEntrysClusterWithMetadata) {
  Builder b(Spec(16, false));
  const uint64_t l2 = b.AddL2(0);
  b.SetL2(l2, 0, kZero);
  const uint64_t other = b.AddL2(1);  // an L2 table the list does not name
  b.AddData(other, 0);
  const Bytes orig = b.Finish();
  ASSERT_TRUE(ChecksClean(orig));
  for (const uint64_t target : {l2, other, b.l1_offset(), b.reftable_offset(), b.Cluster(2)}) {
    SCOPED_TRACE(target);
    Bytes img = orig;
    PutBe64(img, l2 + 8, target | kZero);
    ExpectRefused(img, {l2}, EXPAND_ERR_OVERLAP);
  }
}

TEST(ExpandRefuse, OverlapOfAZeroEntrysClusterWithTheSnapshotTable) {
  Builder b;
  const uint64_t l2 = b.AddL2(0);
  b.SetL2(l2, 0, kZero);
  b.TakeSnapshot("1", "s");
  const Bytes orig = b.Finish();
  const qcow2_header h = ParseHeader(orig);
  ASSERT_NE(0u, h.snapshots_offset);
  Bytes img = orig;
  PutBe64(img, l2 + 8, h.snapshots_offset | kZero);
  // The snapshot table's refcount is 1, the shared table's 2 (refused as
  // REFCOUNT); make it the table's to reach the metadata rule.
  img[b.Cluster(2) + 2 * (h.snapshots_offset / 65536) + 1] = 2;
  ExpectRefused(img, {l2}, EXPAND_ERR_OVERLAP);
  // A snapshot's L1 table.
  Bytes img2 = orig;
  const uint64_t snap_l1 = GetBe64(orig, h.snapshots_offset);
  PutBe64(img2, l2 + 8, snap_l1 | kZero);
  img2[b.Cluster(2) + 2 * (snap_l1 / 65536) + 1] = 2;
  ExpectRefused(img2, {l2}, EXPAND_ERR_OVERLAP);
}

TEST(ExpandRefuse, OverlapOfANamedTableWithMetadata) {
  Simple img;
  const Bytes orig = img.b.Finish();
  // A refcount table entry that points into the named table.
  Bytes b = orig;
  PutBe64(b, img.b.reftable_offset() + 8, img.l2);
  ExpectRefused(b, {img.l2}, EXPAND_ERR_OVERLAP);
  // The L1 table's cluster named as an L2 table: past its one entry, a
  // word with bit 0 set reads as a zero entry.
  ASSERT_EQ(1u, img.b.l1_size());
  b = orig;
  PutBe64(b, img.b.l1_offset() + 8, kZero);
  ExpectRefused(b, {img.l2, img.b.l1_offset()}, EXPAND_ERR_OVERLAP);
  ExpectRefused(b, {img.b.l1_offset()}, EXPAND_ERR_OVERLAP);
}

TEST(ExpandRefuse, Refcount) {
  Simple img;
  Bytes orig = img.b.Finish();
  // The named table's refcount 0.
  Bytes b = orig;
  b[img.b.Cluster(2) + 2 * (img.l2 / 65536) + 1] = 0;
  ExpectRefused(b, {img.l2}, EXPAND_ERR_REFCOUNT);
  // A zero entry's cluster with less than the table's refcount.
  b = orig;
  b[img.b.Cluster(2) + 2 * (img.d1 / 65536) + 1] = 0;
  ExpectRefused(b, {img.l2}, EXPAND_ERR_REFCOUNT);
  // Over a backing file: where the new cluster would go, past the end of
  // the file, a refcount already.
  Simple bk(Spec(16, true));
  const uint64_t past = bk.b.bytes().size();
  bk.b.SetRefcount(past, 1);
  ExpectRefused(bk.b.Finish(), {bk.l2}, EXPAND_ERR_REFCOUNT);
}

TEST(ExpandRefuse, Tables) {
  // refcount_order 5: a downgrade needs 16-bit refcounts.
  Qcow2ImageSpec s;
  s.refcount_order = 5;
  Simple wide(s);
  ExpectRefused(wide.b.Finish(), {wide.l2}, EXPAND_ERR_TABLES);
  // The table's refcount block outside the file.
  Simple img;
  Bytes b = img.b.Finish();
  PutBe64(b, img.b.reftable_offset(), b.size() + 65536);
  ExpectRefused(b, {img.l2}, EXPAND_ERR_TABLES);
}

TEST(ExpandRefuse, ReadError) {
  Simple img;
  const Bytes orig = img.b.Finish();
  for (int64_t k = 0; k < 3; k++) {
    Expansion x(orig);
    x.f.allow_reads = k;
    EXPECT_EQ(EXPAND_ERR_READ, x.Prepare({img.l2})) << k;
    EXPECT_TRUE(SameBytes(orig, x.f.bytes));
    EXPECT_EQ(0u, x.f.writes);
  }
}

// A block device cannot grow: a backing file's plain zero entries need
// new clusters past its end.
TEST(ExpandRefuse, GrowOnABlockDevice) {
  Simple img(Spec(16, true));
  const Bytes orig = img.b.Finish();
  ExpectRefused(orig, {img.l2}, EXPAND_ERR_GROW, /*can_grow=*/false);
  // Without a backing file nothing grows: the same image expands.
  Simple nb;
  const Bytes orig2 = nb.b.Finish();
  Expansion x(orig2);
  x.can_grow = false;
  ASSERT_EQ(EXPAND_OK, x.Prepare({nb.l2}));
  ASSERT_EQ(EXPAND_OK, x.Apply());
  EXPECT_EQ(orig2.size(), x.f.bytes.size());
}

// 512-byte clusters: one cluster of refcount table is 64 blocks of 256
// clusters; a file of 16384 clusters leaves no entry for the new cluster's
// block (QEMU would grow the refcount table; instar does not).
TEST(ExpandRefuse, GrowPastTheRefcountTable) {
  Builder b(Spec(9, true));
  const uint64_t l2 = b.AddL2(0);
  b.SetL2(l2, 0, kZero);
  while (b.bytes().size() < b.Cluster(16384 - 63)) b.Alloc(0);
  const Bytes orig = b.Finish();
  ASSERT_EQ(b.Cluster(16384), orig.size());
  ExpectRefused(orig, {l2}, EXPAND_ERR_GROW);
}

// --- the hash check between prepare and apply --------------------------------

// The zero entry turned into a data entry between prepare and apply: its
// cluster holds what the guest now reads, and must not be zeroed.
TEST(ExpandChanged, NoBackingNothingWritten) {
  Simple img;
  const Bytes orig = img.b.Finish();
  Expansion x(orig);
  ASSERT_EQ(EXPAND_OK, x.Prepare({img.l2}));
  PutBe64(x.f.bytes, img.l2 + 8, img.d1 | kCopied);
  const Bytes changed = x.f.bytes;
  EXPECT_EQ(EXPAND_ERR_CHANGED, x.Apply());
  EXPECT_TRUE(SameBytes(changed, x.f.bytes));
  EXPECT_EQ(0u, x.f.writes);
}

TEST(ExpandChanged, BackingNothingWrittenInsideTheFile) {
  Mixed m(16, true);
  const Bytes& orig = m.b.bytes();
  for (const uint64_t table : m.Tables()) {
    SCOPED_TRACE(table);
    Expansion x(orig);
    ASSERT_EQ(EXPAND_OK, x.Prepare(m.Tables()));
    x.f.bytes[table + 65535] ^= 1;  // any byte of the table
    const Bytes changed = x.f.bytes;
    EXPECT_EQ(EXPAND_ERR_CHANGED, x.Apply());
    EXPECT_TRUE(std::equal(changed.begin(), changed.end(), x.f.bytes.begin()));
    for (const MemFile::Event& e : x.f.log)
      if (!e.sync) EXPECT_GE(e.off, orig.size());
  }
}

// A kept cluster's refcount rose between prepare and apply (a snapshot
// taken by a writer that ignores the lock): zeroing it would change the
// snapshot, so nothing is zeroed and nothing inside the file written.
TEST(ExpandChanged, RefcountOfAKeptCluster) {
  Simple img;
  const Bytes orig = img.b.Finish();
  Expansion x(orig);
  ASSERT_EQ(EXPAND_OK, x.Prepare({img.l2}));
  ASSERT_EQ(1u, x.plan.n_targets);
  const Geometry g(orig);
  const uint64_t ci = img.d1 >> g.cb;
  const uint64_t blk = GetBe64(orig, g.reftable) & ~uint64_t{511};
  x.f.bytes[blk + 2 * ci] = 0;
  x.f.bytes[blk + 2 * ci + 1] = 2;
  const Bytes changed = x.f.bytes;
  EXPECT_EQ(EXPAND_ERR_CHANGED, x.Apply());
  EXPECT_TRUE(SameBytes(changed, x.f.bytes));
  EXPECT_EQ(0u, x.f.writes);
}

// A detached cluster's refcount changed between prepare and apply: the
// drop is not made (the entries are, which leaves a leak only).
TEST(ExpandChanged, RefcountOfADetachedCluster) {
  Mixed m(16, false);
  const Bytes& orig = m.b.bytes();
  Expansion x(orig);
  ASSERT_EQ(EXPAND_OK, x.Prepare(m.Tables()));
  x.f.bytes[m.b.Cluster(2) + 2 * (m.c / 65536) + 1] = 3;
  EXPECT_EQ(EXPAND_ERR_CHANGED, x.Apply());
  EXPECT_EQ(3u, RefcountIn(x.f.bytes, m.c));
}

TEST(ExpandFault, SyncFails) {
  Mixed m(9, true);
  const Bytes& orig = m.b.bytes();
  Expansion full(orig);
  ASSERT_EQ(EXPAND_OK, full.Prepare(m.Tables()));
  ASSERT_EQ(EXPAND_OK, full.Apply());
  for (int64_t k = 0; k < static_cast<int64_t>(full.f.syncs); k++) {
    Expansion x(orig);
    ASSERT_EQ(EXPAND_OK, x.Prepare(m.Tables()));
    x.f.allow_syncs = k;
    EXPECT_EQ(EXPAND_ERR_WRITE, x.Apply()) << k;
    EXPECT_EQ(0u, x.f.calls_after_failure) << k;
    EXPECT_EQ(static_cast<uint64_t>(k), x.plan.syncs);
  }
}

// --- a write that fails after k writes, for every k -------------------------

void CrashAtEveryWrite(const Mixed& m, bool backing, bool with_zero = false) {
  const Bytes& orig = m.b.bytes();
  ASSERT_TRUE(ChecksClean(orig));
  const auto view = MixedView(m, orig, backing);
  Expansion full(orig);
  full.f.with_zero = with_zero;
  ASSERT_EQ(EXPAND_OK, full.Prepare(m.Tables()));
  ASSERT_EQ(EXPAND_OK, full.Apply());
  ExpectPhaseOrder(orig, full.plan, full.f.log);
  ASSERT_TRUE(ChecksClean(full.f.bytes));
  ASSERT_TRUE(SameView(view, MixedView(m, full.f.bytes, backing)));
  const uint64_t total = full.f.writes;
  ASSERT_GT(total, 0u);
  std::vector<MemFile::Event> writes;
  for (const MemFile::Event& e : full.f.log)
    if (!e.sync) writes.push_back(e);

  for (uint64_t k = 0; k <= total; k++) {
    SCOPED_TRACE("failing after " + std::to_string(k) + " of " + std::to_string(total) + " writes");
    Expansion x(orig);
    x.f.with_zero = with_zero;
    ASSERT_EQ(EXPAND_OK, x.Prepare(m.Tables()));
    x.f.allow_writes = static_cast<int64_t>(k);
    const expand_err e = x.Apply();
    ASSERT_EQ(k == total ? EXPAND_OK : EXPAND_ERR_WRITE, e);
    ASSERT_EQ(k, x.f.writes);
    ASSERT_EQ(k, x.plan.writes);
    EXPECT_EQ(0u, x.f.calls_after_failure);
    // The same writes as the full run, in the same order.
    for (uint64_t i = 0, j = 0; i < x.f.log.size(); i++) {
      if (x.f.log[i].sync) continue;
      ASSERT_EQ(writes[j].off, x.f.log[i].off);
      ASSERT_EQ(writes[j].len, x.f.log[i].len);
      ASSERT_EQ(writes[j].after, x.f.log[i].after);
      j++;
    }
    const Bytes& now = x.f.bytes;
    // No entry of a named table points at a cluster whose refcount is 0
    // or whose bytes are not all zeros, once its zero flag is gone.
    const uint64_t cs = m.b.cluster_size();
    for (uint64_t ti = 0; ti < x.plan.n_tables; ti++) {
      const uint64_t t = x.plan.tables[ti];
      for (uint64_t j = 0; j < cs / 8; j++) {
        const uint64_t was = GetBe64(orig, t + 8 * j);
        const uint64_t is = GetBe64(now, t + 8 * j);
        if (was == is || (was & kZero) == 0) continue;
        const uint64_t off = is & kOffsetMask;
        if (off == 0) continue;
        EXPECT_NE(0u, RefcountIn(now, off)) << "entry " << j << " -> 0x" << std::hex << off;
        EXPECT_TRUE(AllZero(now, off, cs)) << "entry " << j << " -> 0x" << std::hex << off;
      }
    }
    // A detached cluster's refcount is lowered only once no named table
    // entry of the active image names it.
    for (uint64_t di = 0; di < x.plan.n_drops; di++) {
      const uint64_t c = x.plan.drop_off[di];
      if (RefcountIn(now, c) >= x.plan.drop_old[di]) continue;
      for (uint64_t ti = 0; ti < x.plan.n_tables; ti++)
        for (uint64_t j = 0; j < cs / 8; j++)
          EXPECT_NE(c, GetBe64(now, x.plan.tables[ti] + 8 * j) & kOffsetMask);
    }
    // Clean or leaks only, and the guest reads what it read.
    EXPECT_TRUE(ChecksClean(now, /*leaks_ok=*/true));
    EXPECT_TRUE(SameView(view, MixedView(m, now, backing)));
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(ExpandCrash, TinyClustersBackingNewBlock) {
  Mixed m(9, true, /*pad_to=*/255);  // + the snapshot table: 256
  ASSERT_EQ(m.b.Cluster(256), m.b.bytes().size());
  CrashAtEveryWrite(m, true);
}

TEST(ExpandCrash, TinyClustersBacking) { CrashAtEveryWrite(Mixed(9, true), true); }

TEST(ExpandCrash, TinyClustersNoBacking) { CrashAtEveryWrite(Mixed(9, false), false); }

TEST(ExpandCrash, BigClustersBacking) { CrashAtEveryWrite(Mixed(16, true), true); }

TEST(ExpandCrash, BigClustersNoBacking) { CrashAtEveryWrite(Mixed(16, false), false); }

// The same with the optional zero callback: a cluster of zeros is one
// write (fallocate's ZERO_RANGE in the command line).
TEST(ExpandCrash, ZeroCallbackTinyClustersBackingNewBlock) {
  Mixed m(9, true, /*pad_to=*/255);
  ASSERT_EQ(m.b.Cluster(256), m.b.bytes().size());
  CrashAtEveryWrite(m, true, /*with_zero=*/true);
}

TEST(ExpandCrash, ZeroCallbackBigClustersBacking) {
  CrashAtEveryWrite(Mixed(16, true), true, /*with_zero=*/true);
}

TEST(ExpandCrash, ZeroCallbackBigClustersNoBacking) {
  CrashAtEveryWrite(Mixed(16, false), false, /*with_zero=*/true);
}

// With the zero callback the writes are the same bytes, in fewer calls:
// one per cluster of zeros, none of them a sector write into the cluster.
TEST(ExpandZeroCallback, SameImageFewerWrites) {
  Mixed m(16, true);
  const Bytes& orig = m.b.bytes();
  Expansion sectors(orig);
  ASSERT_EQ(EXPAND_OK, sectors.Prepare(m.Tables()));
  ASSERT_EQ(EXPAND_OK, sectors.Apply());
  Expansion zero(orig);
  zero.f.with_zero = true;
  ASSERT_EQ(EXPAND_OK, zero.Prepare(m.Tables()));
  ASSERT_EQ(EXPAND_OK, zero.Apply());
  EXPECT_TRUE(SameBytes(sectors.f.bytes, zero.f.bytes));
  EXPECT_EQ(zero.f.writes, zero.plan.writes);
  uint64_t zeros = 0;
  for (const MemFile::Event& e : zero.f.log) {
    if (e.sync) continue;
    if (e.zero) {
      zeros++;
      EXPECT_EQ(65536u, e.len);
    } else {
      EXPECT_FALSE(InClusters(zero.plan.targets, zero.plan.n_targets, 65536, e.off));
    }
  }
  // Three new clusters and two kept ones; the new clusters' refcounts
  // (one sector), the two tables' entries (one sector each) and the
  // detached cluster's lowered refcount (one sector).
  EXPECT_EQ(5u, zeros);
  EXPECT_EQ(5u + 1u + 2u + 1u, zero.f.writes);
  EXPECT_EQ(sectors.f.syncs, zero.f.syncs);
  ExpectPhaseOrder(orig, zero.plan, zero.f.log);
}

// --- expand_max_end ---------------------------------------------------------

TEST(ExpandMaxEnd, Bound) {
  Simple nb;
  const qcow2_header h = ParseHeader(nb.b.Finish());
  EXPECT_EQ(3u * 65536, expand_max_end(&h, 3u * 65536));
  EXPECT_EQ(4u * 65536, expand_max_end(&h, 3u * 65536 + 1));
  Simple bk(Spec(16, true));
  qcow2_header hb = ParseHeader(bk.b.Finish());
  // 1 GiB virtual: 16384 guest clusters, 16384 / 32768 + 2 = 2 blocks.
  EXPECT_EQ(3u * 65536 + (16384u + 2u) * 65536, expand_max_end(&hb, 3u * 65536));
  hb.size = ~uint64_t{0};
  EXPECT_EQ(UINT64_MAX, expand_max_end(&hb, 65536));
}

// --- zero_report_parse --------------------------------------------------------

struct Report {
  Bytes b;
  void Table(uint64_t off, uint32_t len = sizeof(report_zero_table)) {
    report_zero_table z = {};
    z.hdr.type = REPORT_T_ZERO_TABLE;
    z.hdr.len = len;
    z.l2_offset = off;
    Put(&z, sizeof(z));
  }
  void End(uint64_t records, uint64_t findings = 0, uint32_t len = sizeof(report_end)) {
    report_end e = {};
    e.hdr.type = REPORT_T_END;
    e.hdr.len = len;
    e.records = records;
    e.findings = findings;
    Put(&e, sizeof(e));
  }
  void Put(const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
  }
};

bool Parse(const Bytes& b, std::vector<uint64_t>* out) {
  std::vector<uint64_t> v(zero_report_max_tables(b.size()) + 1, 0xa5a5a5a5a5a5a5a5ULL);
  uint32_t n = 12345;
  const bool ok = zero_report_parse(b.data(), b.size(), v.data(), &n);
  if (!ok) EXPECT_EQ(0u, n);
  EXPECT_LE(n, zero_report_max_tables(b.size()));
  v.resize(ok ? n : 0);
  *out = v;
  return ok;
}

TEST(ZeroReport, WellFormed) {
  Report r;
  r.Table(0x40000);
  r.Table(0x50000);
  r.Table(0x40000);  // repeats are the expansion's to drop
  r.End(3);
  std::vector<uint64_t> v;
  ASSERT_TRUE(Parse(r.b, &v));
  EXPECT_EQ((std::vector<uint64_t>{0x40000, 0x50000, 0x40000}), v);
  EXPECT_EQ(r.b.size() / sizeof(report_zero_table), zero_report_max_tables(r.b.size()));
}

TEST(ZeroReport, EndOnly) {
  Report r;
  r.End(0);
  std::vector<uint64_t> v;
  ASSERT_TRUE(Parse(r.b, &v));
  EXPECT_TRUE(v.empty());
}

TEST(ZeroReport, EndCountMismatch) {
  for (uint64_t count : {0u, 1u, 3u, 100u}) {
    Report r;
    r.Table(0x40000);
    r.Table(0x50000);
    r.End(count);
    std::vector<uint64_t> v;
    EXPECT_FALSE(Parse(r.b, &v)) << count;
  }
}

TEST(ZeroReport, FindingsNotZero) {
  Report r;
  r.Table(0x40000);
  r.End(1, 1);
  std::vector<uint64_t> v;
  EXPECT_FALSE(Parse(r.b, &v));
}

TEST(ZeroReport, TrailingBytes) {
  for (size_t extra : {1u, 8u, 16u, 24u}) {
    Report r;
    r.Table(0x40000);
    r.End(1);
    r.b.resize(r.b.size() + extra, 0);
    std::vector<uint64_t> v;
    EXPECT_FALSE(Parse(r.b, &v)) << extra;
  }
  // A second END after the first.
  Report r;
  r.End(0);
  r.End(0);
  std::vector<uint64_t> v;
  EXPECT_FALSE(Parse(r.b, &v));
}

TEST(ZeroReport, ShortRecord) {
  Report full;
  full.Table(0x40000);
  full.End(1);
  // Every cut: inside the table record, inside END, inside a header.
  for (size_t cut = 0; cut < full.b.size(); cut++) {
    Bytes b(full.b.begin(), At(full.b, cut));
    std::vector<uint64_t> v;
    EXPECT_FALSE(Parse(b, &v)) << cut;
  }
}

TEST(ZeroReport, WrongRecordLength) {
  for (uint32_t len : {0u, 8u, 15u, 17u, 24u, 0xffffffffu}) {
    Report r;
    r.Table(0x40000, len);
    r.End(1);
    std::vector<uint64_t> v;
    EXPECT_FALSE(Parse(r.b, &v)) << len;
  }
  for (uint32_t len : {0u, 16u, 32u}) {
    Report r;
    r.End(0, 0, len);
    std::vector<uint64_t> v;
    EXPECT_FALSE(Parse(r.b, &v)) << len;
  }
}

TEST(ZeroReport, UnknownType) {
  for (uint32_t type : {0u, uint32_t{REPORT_T_IMAGE}, uint32_t{REPORT_T_FINDING},
                        uint32_t{REPORT_T_COUNT_}, 0xffffffffu}) {
    Report r;
    r.Table(0x40000);
    report_zero_table z = {};
    z.hdr.type = type;
    z.hdr.len = sizeof(z);
    r.Put(&z, sizeof(z));
    r.End(2);
    std::vector<uint64_t> v;
    EXPECT_FALSE(Parse(r.b, &v)) << type;
  }
}

TEST(ZeroReport, NoEnd) {
  Report r;
  r.Table(0x40000);
  r.Table(0x50000);
  std::vector<uint64_t> v;
  EXPECT_FALSE(Parse(r.b, &v));
  EXPECT_FALSE(Parse(Bytes{}, &v));
  uint32_t n = 7;
  uint64_t out = 0;
  EXPECT_FALSE(zero_report_parse(nullptr, 0, &out, &n));
  EXPECT_EQ(0u, n);
}

// A parsed report's tables drive an expansion end to end.
TEST(ZeroReport, DrivesAnExpansion) {
  Mixed m(16, false);
  Report r;
  r.Table(m.t);
  r.Table(m.a);
  r.Table(m.t);
  r.End(3);
  std::vector<uint64_t> v;
  ASSERT_TRUE(Parse(r.b, &v));
  Expansion x(m.b.bytes());
  ASSERT_EQ(EXPAND_OK, x.Prepare(v));
  EXPECT_EQ(2u, x.plan.n_tables);
  ASSERT_EQ(EXPAND_OK, x.Apply());
  EXPECT_TRUE(ChecksClean(x.f.bytes));
}

}  // namespace
