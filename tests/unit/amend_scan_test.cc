// amend_scan_test.cc — the downgrade table scan over an in-memory image:
// zero flags in active and snapshot L2 tables, compressed clusters,
// snapshot disk sizes, and hostile tables (past EOF, unaligned, in the
// header cluster, overflowing) refused as malformed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "src/amend/amend_scan.h"
#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_header.h"
#include "tests/unit/header_builder.h"

namespace {

constexpr uint32_t kCs = 4096;  // 4 KiB clusters: L2 maps 2 MiB

// An image in memory: cluster 0 header, 1 refcount table, 2 refcount
// block, 3 L1, 4.. L2 tables, then a snapshot table if asked.
struct MemImage {
  std::vector<uint8_t> bytes;
  qcow2_header h;
  int reads = 0;
  bool fail_reads = false;
};

int batches = 0;  // read calls of the last Scan()

bool ReadMem(void* ctx, const qcow2_read* r, uint32_t n) {
  auto* m = static_cast<MemImage*>(ctx);
  batches++;
  EXPECT_GE(n, 1u);
  EXPECT_LE(n, 64u);
  for (uint32_t i = 0; i < n; i++) {
    m->reads++;
    if (m->fail_reads) return false;
    uint64_t off = r[i].offset, len = r[i].len;
    EXPECT_EQ(0u, off % 512);
    EXPECT_EQ(0u, len % 512);
    // Like the device: the last, partial sector reads as zeroes past EOF.
    uint64_t rounded = (m->bytes.size() + 511) / 512 * 512;
    if (off + len > rounded) return false;
    size_t have = off < m->bytes.size() ? std::min<size_t>(len, m->bytes.size() - off) : 0;
    memcpy(r[i].buf, m->bytes.data() + off, have);
    memset(r[i].buf + have, 0, len - have);
  }
  return true;
}

// The scan with `mem_len` bytes of work memory (default: the least it
// accepts for the cluster size).
amend_status ScanWith(MemImage& m, amend_scan* out, size_t mem_len) {
  std::vector<uint64_t> mem((mem_len + 7) / 8);
  const qcow2_io io = {ReadMem, &m, 64};
  batches = 0;
  // Everything a downgrade reads (a v2 image has only its snapshot table).
  return amend_scan_tables(&m.h, AMEND_SCAN_ALL_TABLES, m.bytes.size(), &io,
                           reinterpret_cast<uint8_t*>(mem.data()), mem_len, out);
}

MemImage Make(uint64_t size, int clusters) {
  HeaderSpec s;
  s.cluster_bits = 12;
  s.size = size;
  MemImage m;
  m.bytes = BuildHeader(s);
  m.bytes.resize(static_cast<size_t>(clusters) * kCs, 0);
  EXPECT_EQ(QCOW2_OK, qcow2_parse(m.bytes.data(), kCs, &m.h));
  return m;
}

void SetL1(MemImage& m, uint32_t index, uint64_t l2_off) {
  PutBe64(m.bytes, 3 * kCs + index * 8, l2_off | (1ULL << 63));
}

void SetL2(MemImage& m, uint64_t l2_off, uint32_t index, uint64_t entry) {
  PutBe64(m.bytes, l2_off + index * 8, entry);
}

amend_status Scan(MemImage& m, amend_scan* out) {
  return ScanWith(m, out, amend_scan_min_mem(qcow2_cluster_size(&m.h)));
}

TEST(AmendScan, CleanImage) {
  MemImage m = Make(8ULL << 20, 8);  // 4 L1 entries
  SetL1(m, 0, 4 * kCs);
  SetL2(m, 4 * kCs, 0, (6ULL * kCs) | (1ULL << 63));  // normal cluster
  amend_scan sc;
  ASSERT_EQ(AMEND_CHANGED, Scan(m, &sc));
  EXPECT_TRUE(sc.done);
  EXPECT_FALSE(sc.zero_clusters);
  EXPECT_FALSE(sc.compressed_clusters);
  EXPECT_EQ(1u, sc.l1_tables);
  EXPECT_EQ(1u, sc.l2_tables);
}

TEST(AmendScan, L1TableEndingMidSectorAtEof) {
  // A fresh qemu-img image ends right after its 8-byte L1 table.
  MemImage m = Make(8ULL << 20, 8);
  m.h.l1_size = 1;
  m.bytes.resize(3 * kCs + 8);
  amend_scan sc;
  ASSERT_EQ(AMEND_CHANGED, Scan(m, &sc));
  EXPECT_TRUE(sc.done);
  m.bytes.resize(3 * kCs + 4);  // the table itself cut short
  EXPECT_EQ(AMEND_ERR_TABLES, Scan(m, &sc));
}

TEST(AmendScan, ZeroFlagFound) {
  MemImage m = Make(8ULL << 20, 8);
  SetL1(m, 2, 5 * kCs);
  SetL2(m, 5 * kCs, 511, 1);  // zero, unallocated
  amend_scan sc;
  ASSERT_EQ(AMEND_CHANGED, Scan(m, &sc));
  EXPECT_TRUE(sc.zero_clusters);
}

TEST(AmendScan, CompressedIsNotZero) {
  MemImage m = Make(8ULL << 20, 8);
  SetL1(m, 0, 4 * kCs);
  SetL2(m, 4 * kCs, 3, (1ULL << 62) | 1);  // compressed; bit 0 is offset
  amend_scan sc;
  ASSERT_EQ(AMEND_CHANGED, Scan(m, &sc));
  EXPECT_TRUE(sc.compressed_clusters);
  EXPECT_FALSE(sc.zero_clusters);
}

TEST(AmendScan, HostileL1Entries) {
  for (uint64_t bad : {uint64_t{4 * kCs + 512}, uint64_t{0x200}, uint64_t{kCs * 1000},
                       uint64_t{0x00fffffffffff000ULL}}) {
    MemImage m = Make(8ULL << 20, 8);
    SetL1(m, 1, bad);
    amend_scan sc;
    EXPECT_EQ(AMEND_ERR_TABLES, Scan(m, &sc)) << std::hex << bad;
    EXPECT_FALSE(sc.done);
  }
}

TEST(AmendScan, HostileL1Table) {
  MemImage m = Make(8ULL << 20, 8);
  m.h.l1_offset = 0;  // the header cluster
  amend_scan sc;
  EXPECT_EQ(AMEND_ERR_TABLES, Scan(m, &sc));
  m.h.l1_offset = 3 * kCs + 8;  // unaligned
  EXPECT_EQ(AMEND_ERR_TABLES, Scan(m, &sc));
  m.h.l1_offset = 100 * kCs;  // past EOF
  EXPECT_EQ(AMEND_ERR_TABLES, Scan(m, &sc));
  m.h.l1_offset = 0xfffffffffffff000ULL;  // wraps
  EXPECT_EQ(AMEND_ERR_TABLES, Scan(m, &sc));
}

TEST(AmendScan, ReadErrorIsReported) {
  MemImage m = Make(8ULL << 20, 8);
  SetL1(m, 0, 4 * kCs);
  m.fail_reads = true;
  amend_scan sc;
  EXPECT_EQ(AMEND_ERR_SCAN_IO, Scan(m, &sc));
  EXPECT_TRUE(sc.io_error);
}

// One snapshot at cluster 7 whose L1 (cluster 5) points to L2 cluster 6.
MemImage WithSnapshot(uint64_t disk_size, uint64_t l2_entry, uint32_t extra = 16) {
  MemImage m = Make(8ULL << 20, 9);
  const uint64_t snap = 7 * kCs;
  PutBe64(m.bytes, snap, 5 * kCs);                 // l1 offset
  PutBe32(m.bytes, snap + 8, 4);                   // l1 size
  m.bytes[snap + 13] = 1;                          // id size 1
  m.bytes[snap + 15] = 1;                          // name size 1
  PutBe32(m.bytes, snap + 36, extra);
  if (extra >= 16) PutBe64(m.bytes, snap + 40 + 8, disk_size);
  PutBe64(m.bytes, 5 * kCs, (6ULL * kCs));
  SetL2(m, 6 * kCs, 0, l2_entry);
  m.h.nb_snapshots = 1;
  m.h.snapshots_offset = snap;
  return m;
}

TEST(AmendScan, SnapshotTablesAreWalked) {
  MemImage m = WithSnapshot(8ULL << 20, 1);  // zero flag in the snapshot's L2
  amend_scan sc;
  ASSERT_EQ(AMEND_CHANGED, Scan(m, &sc));
  EXPECT_TRUE(sc.zero_clusters);
  EXPECT_EQ(2u, sc.l1_tables);
}

TEST(AmendScan, SnapshotSizeMismatch) {
  MemImage m = WithSnapshot(4ULL << 20, 0);
  amend_scan sc;
  ASSERT_EQ(AMEND_CHANGED, Scan(m, &sc));
  EXPECT_TRUE(sc.snapshot_size_differs);
  MemImage same = WithSnapshot(8ULL << 20, 0);
  ASSERT_EQ(AMEND_CHANGED, Scan(same, &sc));
  EXPECT_FALSE(sc.snapshot_size_differs);
  MemImage old = WithSnapshot(0, 0, 0);  // no extra data: size implied
  ASSERT_EQ(AMEND_CHANGED, Scan(old, &sc));
  EXPECT_FALSE(sc.snapshot_size_differs);
}

TEST(AmendScan, HostileSnapshotTable) {
  MemImage m = WithSnapshot(8ULL << 20, 0, 4096);  // extra data too large
  amend_scan sc;
  EXPECT_EQ(AMEND_ERR_TABLES, Scan(m, &sc));
  m = WithSnapshot(8ULL << 20, 0);
  m.h.nb_snapshots = 1000;  // entries run past EOF
  EXPECT_EQ(AMEND_ERR_TABLES, Scan(m, &sc));
  m = WithSnapshot(8ULL << 20, 0);
  PutBe64(m.bytes, 7 * kCs, 3 * kCs + 16);  // snapshot L1 unaligned
  EXPECT_EQ(AMEND_ERR_TABLES, Scan(m, &sc));
}

TEST(AmendScan, AnL2TableSharedByManyEntriesIsReadOnce) {
  // 300 allocated L1 entries all pointing at one clean L2 table.
  MemImage m = Make(300ULL * 2 * 1024 * 1024, 8);
  m.h.l1_size = 300;
  for (uint32_t i = 0; i < 300; i++) SetL1(m, i, 4 * kCs);
  amend_scan sc;
  ASSERT_EQ(AMEND_CHANGED, Scan(m, &sc));
  EXPECT_EQ(1u, sc.l2_tables);
  EXPECT_EQ(2, m.reads);  // the L1 table, then the one L2 table
  EXPECT_FALSE(sc.zero_clusters);
}

TEST(AmendScan, ManyL2TablesAreReadInBatches) {
  // 200 distinct L2 tables (clusters 8..207): a few batched reads, not 200.
  const uint32_t n = 200;
  MemImage m = Make(uint64_t{n} * 2 * 1024 * 1024, 8 + n);
  m.h.l1_size = n;
  for (uint32_t i = 0; i < n; i++) SetL1(m, i, (8 + i) * uint64_t{kCs});
  SetL2(m, (8 + 150) * uint64_t{kCs}, 7, 1);  // one zero flag, late
  amend_scan sc;
  ASSERT_EQ(AMEND_CHANGED, ScanWith(m, &sc, 8u << 20));
  EXPECT_TRUE(sc.zero_clusters);
  EXPECT_EQ(1u, sc.rounds);
  EXPECT_LE(batches, 5);  // the L1 table + 64 L2 tables a batch
  EXPECT_EQ(static_cast<uint32_t>(batches), sc.batches);
}

TEST(AmendScan, SharedL2TablesOfASnapshotAreReadOnce) {
  // The active table and a snapshot's both point at the same 50 L2
  // tables (as right after `qemu-img snapshot -c`).
  const uint32_t n = 50;
  MemImage m = Make(uint64_t{n} * 2 * 1024 * 1024, 8 + n + 2);
  m.h.l1_size = n;
  const uint64_t snap_l1 = (8 + n) * uint64_t{kCs}, snap = (9 + n) * uint64_t{kCs};
  for (uint32_t i = 0; i < n; i++) {
    SetL1(m, i, (8 + i) * uint64_t{kCs});
    PutBe64(m.bytes, snap_l1 + i * 8, (8 + i) * uint64_t{kCs});
  }
  PutBe64(m.bytes, snap, snap_l1);
  PutBe32(m.bytes, snap + 8, n);
  PutBe32(m.bytes, snap + 36, 16);
  PutBe64(m.bytes, snap + 48, m.h.size);
  m.h.nb_snapshots = 1;
  m.h.snapshots_offset = snap;
  amend_scan sc;
  ASSERT_EQ(AMEND_CHANGED, Scan(m, &sc));
  EXPECT_EQ(2u, sc.l1_tables);
  EXPECT_EQ(n, sc.l2_tables);
  EXPECT_FALSE(sc.zero_clusters);
}

TEST(AmendScan, TooLittleMemoryIsRefused) {
  MemImage m = Make(8ULL << 20, 8);
  amend_scan sc;
  EXPECT_EQ(AMEND_ERR_SCRATCH, ScanWith(m, &sc, amend_scan_min_mem(kCs) - 8));
}

TEST(AmendScan, ExtendedL2IsNotScanned) {
  MemImage m = Make(8ULL << 20, 8);
  m.h.incompat |= QCOW2_INCOMPAT_EXTENDED_L2;
  amend_scan sc;
  EXPECT_EQ(AMEND_ERR_DOWNGRADE_FEATURE, Scan(m, &sc));
}

}  // namespace

namespace {

// The fast path (OR of raw entries) must agree with a plain per-entry
// reading for every mix of entries.
TEST(AmendScanL2, FastPathAgreesWithEntryByEntry) {
  const uint64_t kinds[] = {0, 1, (1ULL << 62), (1ULL << 62) | 1, 0x40000ULL | (1ULL << 63),
                            0x40000ULL | 1, 0x00fffffffffffe00ULL};
  for (uint64_t a : kinds)
    for (uint64_t b : kinds)
      for (size_t len : {size_t{8}, size_t{40}, size_t{512}}) {
        std::vector<uint8_t> t(len, 0);
        PutBe64(t, 0, a);
        PutBe64(t, len - 8, b);
        amend_scan sc = {};
        amend_scan_l2(t.data(), t.size(), &sc);
        bool want_c = false, want_z = false;
        std::vector<uint64_t> present = {b};
        if (len > 8) present.push_back(a);  // with one slot, b overwrote a
        for (uint64_t e : present) {
          if (e & (1ULL << 62)) want_c = true;
          else if (e & 1) want_z = true;
        }
        EXPECT_EQ(want_c, sc.compressed_clusters) << std::hex << a << " " << b << " " << len;
        EXPECT_EQ(want_z, sc.zero_clusters) << std::hex << a << " " << b << " " << len;
      }
}

}  // namespace

namespace {

TEST(AmendScanUpgrade, V2ImageScansOnlyItsSnapshotTable) {
  MemImage m = WithSnapshot(8ULL << 20, 1, 0);  // no extra data, zero flag in L2
  m.h.version = 2;
  amend_scan sc;
  ASSERT_EQ(AMEND_CHANGED, Scan(m, &sc));
  EXPECT_TRUE(sc.done);
  EXPECT_TRUE(sc.snapshot_extra_short);
  EXPECT_EQ(0u, sc.l1_tables);      // no L1/L2 walked for an upgrade
  EXPECT_FALSE(sc.zero_clusters);
  MemImage ok = WithSnapshot(8ULL << 20, 0, 16);
  ok.h.version = 2;
  ASSERT_EQ(AMEND_CHANGED, Scan(ok, &sc));
  EXPECT_FALSE(sc.snapshot_extra_short);
}

}  // namespace

namespace {

// 512-byte clusters, and a snapshot entry that straddles a sector
// boundary (an earlier scratch of one sector was overrun here: found by
// fuzz/amend_scan_fuzzer).
TEST(AmendScanSnapshots, EntryStraddlingASectorWithATinyScratch) {
  HeaderSpec s;
  s.cluster_bits = 9;
  s.size = 1 << 20;
  MemImage m;
  m.bytes = BuildHeader(s);
  m.bytes.resize(16 * 512, 0);
  ASSERT_EQ(QCOW2_OK, qcow2_parse(m.bytes.data(), 512, &m.h));
  m.h.l1_size = 0;
  m.h.nb_snapshots = 1;
  m.h.snapshots_offset = 10 * 512 + 480;  // 56-byte entry head crosses 11*512
  const uint64_t e = m.h.snapshots_offset;
  PutBe32(m.bytes, e + 36, 16);           // extra data: 16 bytes
  PutBe64(m.bytes, e + 40 + 8, 1 << 20);  // disk size = image size
  m.h.version = 3;
  amend_scan sc;
  ASSERT_EQ(AMEND_CHANGED, Scan(m, &sc));
  EXPECT_FALSE(sc.snapshot_size_differs);
  EXPECT_FALSE(sc.snapshot_extra_short);
  PutBe64(m.bytes, e + 40 + 8, 2 << 20);
  ASSERT_EQ(AMEND_CHANGED, Scan(m, &sc));
  EXPECT_TRUE(sc.snapshot_size_differs);
}

}  // namespace
