// qcow2_check_test.cc — qemu-img check's engine (src/qcow2/qcow2_check*.c)
// and the ordered L1/L2 walk it reads with (qcow2_walk_ordered), on small
// images built in memory (qcow2_image_builder.h): qcow2_open() in check
// mode, then qcow2_check(), and the exact list of findings (code and
// arguments, in order) and the result record (counters, statistics,
// image end offset) asserted.
//
// Every expected finding and total was confirmed with qemu-img check on
// the same image: the cases run with 7.2's behaviour (kCheck72) with the
// system's qemu-img 7.2, and 10.0 and 11.1 printed the same; the cases
// run with 5.2's (kCheck52) with qemu-img 5.2 (the oracles are in
// /var/cache/instar-oracles/bin). The comment at each case quotes the
// lines qemu-img printed for it. To repeat that, run the test binary with
// INSTAR_CHECK_TEST_DUMP=DIR: every image it checks is saved as
// DIR/<suite>.<test>[.n].qcow2, the engine's findings and totals beside it
// in DIR/<suite>.<test>[.n].txt, to hold against `qemu-img check` and
// `qemu-img check --output=json`. The test itself never runs qemu-img.
//
// Trusts: the builder's images are what its comments say (qemu-img found
// the clean ones clean); MemReader's contract checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "src/qcow2/qcow2_check.h"
#include "src/qcow2/qcow2_open.h"
#include "src/qcow2/qcow2_qread.h"
#include "src/qcow2/qcow2_walk.h"
#include "tests/unit/header_builder.h"
#include "tests/unit/qcow2_image_builder.h"

namespace {

using Builder = Qcow2ImageBuilder;
constexpr uint64_t kCopied = Builder::kCopied;
constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;

// The behaviour bits of the releases (src/cli/qemu_compat.c).
constexpr uint32_t kCheck72 = QCOW2_CHECK_RESERVED_BITS | QCOW2_CHECK_SUBCLUSTERS |
                              QCOW2_CHECK_EXACT_COMPRESSED | QCOW2_CHECK_READ_LIMIT;
constexpr uint32_t kCheck52 = 0;

// --- findings and totals, comparable and printable -----------------------

const char* const kFindingNames[] = {
    "EXCEEDS_EOF",        "OVERFLOW",
    "SNAP_TOO_MANY",      "SNAP_OFFSET_INVALID",
    "SNAP_EXTRA_TOO_BIG", "SNAP_TABLE_TOO_BIG",
    "SNAP_TABLE_READ",    "SNAP_INCOMPLETE",
    "SNAPS_WITH_DATA_FILE", "SNAP_L1_UNALIGNED",
    "SNAP_L1_TOO_LARGE",  "L1_IO",
    "L1_RESERVED",        "L2_TABLE_UNALIGNED",
    "L2_RESERVED",        "COMPRESSED_COPIED",
    "COMPRESSED_DATA_FILE", "COMPRESSED_BITMAP",
    "SUBCLUSTER_CORRUPT", "PREALLOC_UNALIGNED",
    "DATA_UNALIGNED",     "UNALLOC_SUBCLUSTER",
    "BITMAP_TABLE_BAD",   "REFTABLE_RESERVED",
    "REFBLOCK_UNALIGNED", "REFBLOCK_OUTSIDE",
    "REFBLOCK_REFCOUNT",  "IMAGE_CORRUPT_REFBLOCK",
    "CANT_GET_REFCOUNT",  "REFCOUNT_LOW",
    "LEAK",               "OFLAG_L2",
    "OFLAG_DATA",         "READ_ABORT",
    "ALLOC_FAILED",       "FILE_TOO_LARGE",
};
static_assert(sizeof(kFindingNames) / sizeof(kFindingNames[0]) == QCOW2_FINDING_COUNT_,
              "a name for every finding");

struct Finding {
  Finding(uint32_t c, std::vector<uint64_t> a, std::string i = "", std::string n = "")
      : code(c), args(std::move(a)), id(std::move(i)), name(std::move(n)) {}

  uint32_t code;
  std::vector<uint64_t> args;
  std::string id, name;  // snapshot findings only

  bool operator==(const Finding& o) const {
    return code == o.code && args == o.args && id == o.id && name == o.name;
  }
};

std::ostream& operator<<(std::ostream& os, const Finding& f) {
  os << (f.code < QCOW2_FINDING_COUNT_ ? kFindingNames[f.code] : "?") << "(" << std::hex;
  for (size_t i = 0; i < f.args.size(); i++) os << (i ? ", 0x" : "0x") << f.args[i];
  os << std::dec << ")";
  if (!f.id.empty() || !f.name.empty()) os << " [" << f.id << " " << f.name << "]";
  return os;
}

void PrintTo(const Finding& f, std::ostream* os) { *os << f; }

// The result record's numbers, in the order qemu-img's JSON report has
// most of them.
struct Totals {
  uint64_t corruptions, leaks, check_errors;
  uint64_t allocated, total, fragmented, compressed;
  uint64_t image_end_offset;

  bool operator==(const Totals& o) const {
    return corruptions == o.corruptions && leaks == o.leaks && check_errors == o.check_errors &&
           allocated == o.allocated && total == o.total && fragmented == o.fragmented &&
           compressed == o.compressed && image_end_offset == o.image_end_offset;
  }
};

std::ostream& operator<<(std::ostream& os, const Totals& t) {
  return os << "{corruptions " << t.corruptions << ", leaks " << t.leaks << ", check_errors "
            << t.check_errors << ", " << t.allocated << "/" << t.total << " allocated, "
            << t.fragmented << " fragmented, " << t.compressed << " compressed, end 0x"
            << std::hex << t.image_end_offset << std::dec << "}";
}

void PrintTo(const Totals& t, std::ostream* os) { *os << t; }

Totals TotalsOf(const qcow2_check_result& r) {
  return {r.corruptions,         r.leaks,
          r.check_errors,        r.allocated_clusters,
          r.total_clusters,      r.fragmented_clusters,
          r.compressed_clusters, r.image_end_offset};
}

// --- running a check -----------------------------------------------------

struct CheckRun {
  qcow2_check_err err = QCOW2_CHECK_MEMORY;
  qcow2_check_result res = {};
  std::vector<Finding> findings;
  MemReader reader;  // the check's reads only (the open has its own)
};

bool Collect(void* ctx, const qcow2_finding_rec* f) {
  auto* v = static_cast<std::vector<Finding>*>(ctx);
  Finding x(f->code, std::vector<uint64_t>(f->arg, f->arg + f->n_args));
  if (f->id != nullptr) x.id.assign(reinterpret_cast<const char*>(f->id), f->id_len);
  if (f->name != nullptr) x.name.assign(reinterpret_cast<const char*>(f->name), f->name_len);
  v->push_back(x);
  return true;
}

// Work memory, shared by every run (refilled with junk before each, so a
// check that relied on zeroed memory would show).
std::vector<uint64_t>& Work() {
  static std::vector<uint64_t> w(QCOW2_CHECK_MIN_WORK / 8);
  return w;
}

// With INSTAR_CHECK_TEST_DUMP=DIR: the image and what the engine found,
// for running qemu-img check on by hand.
void Dump(const std::vector<uint8_t>& image, const CheckRun& r) {
  const char* dir = std::getenv("INSTAR_CHECK_TEST_DUMP");
  if (dir == nullptr) return;
  static std::map<std::string, int> seen;
  const testing::TestInfo* t = testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(t->test_suite_name()) + "." + t->name();
  for (char& c : name)
    if (c == '/') c = '_';
  if (const int n = seen[name]++; n != 0) name += "." + std::to_string(n);
  const std::string base = std::string(dir) + "/" + name;
  std::ofstream(base + ".qcow2", std::ios::binary)
      .write(reinterpret_cast<const char*>(image.data()),
             static_cast<std::streamsize>(image.size()));
  std::ofstream txt(base + ".txt");
  txt << "err " << r.err << " failed_errno " << r.res.failed_errno << "\n";
  for (const Finding& f : r.findings) txt << f << "\n";
  txt << TotalsOf(r.res) << "\n";
}

CheckRun Check(const std::vector<uint8_t>& image, uint32_t flags = kCheck72,
               uint32_t fail_call = 0, uint32_t max_batch = 64) {
  CheckRun run;
  // The open, in check mode, as the guest's check program does it.
  MemReader open_reader;
  open_reader.image = &image;
  const qcow2_io open_io = open_reader.Io();
  std::vector<uint8_t> hdr(size_t{1} << GetBe32(image, 20), 0);  // cluster_bits
  memcpy(hdr.data(), image.data(), std::min(hdr.size(), image.size()));
  std::vector<uint8_t> text(QCOW2_OPEN_MAX_FEATURES_TEXT);
  std::vector<uint64_t>& work = Work();
  memset(work.data(), 0xa5, work.size() * 8);
  qcow2_open_input oi = {};
  oi.hdr = hdr.data();
  oi.hdr_len = hdr.size();
  oi.file_bytes = image.size();
  oi.mode = QOPEN_MODE_CHECK;
  oi.behaviour = (flags & QCOW2_CHECK_READ_LIMIT) ? QOPEN_B_ZSTD | QOPEN_B_READ_LIMIT
                                                  : QOPEN_B_DATA_FILE;
  oi.io = &open_io;
  oi.work = reinterpret_cast<uint8_t*>(work.data());
  oi.work_len = work.size() * 8;
  oi.text = text.data();
  oi.text_cap = text.size();
  qcow2_opened o = {};
  qcow2_open_err e = {};
  const qcow2_open_result opened = qcow2_open(&oi, &o, &e);
  EXPECT_EQ(QCOW2_OPEN_OK, opened) << "open refused: message " << e.code;
  EXPECT_EQ(0u, open_reader.bad_requests);
  if (opened != QCOW2_OPEN_OK) return run;

  uint64_t need = 0;
  EXPECT_TRUE(qcow2_check_counter_bytes(image.size(), o.f.cluster_bits, o.f.refcount_order, &need));
  std::vector<uint64_t> counters((need + 7) / 8 + 1, 0x5a5a5a5a5a5a5a5aULL);
  run.reader.image = &image;
  run.reader.fail_call = fail_call;
  run.reader.max_batch = max_batch;
  const qcow2_io io = run.reader.Io();
  qcow2_check_input in = {};
  in.img = &o;
  in.header = hdr.data();
  in.file_bytes = image.size();
  in.flags = flags;
  in.io = &io;
  in.work = reinterpret_cast<uint8_t*>(work.data());
  in.work_len = work.size() * 8;
  in.counters = reinterpret_cast<uint8_t*>(counters.data());
  in.counters_len = need;
  run.err = qcow2_check(&in, Collect, &run.findings, &run.res);
  EXPECT_EQ(0u, run.reader.bad_requests);
  EXPECT_LE(run.reader.largest_batch, max_batch);
  Dump(image, run);
  return run;
}

using Findings = std::vector<Finding>;

// The image most cases start from (64 KiB clusters, 1 MiB virtual):
//   cluster 0 header, 1 refcount table, 2 refcount block, 3 L1 table,
//   4 the L2 table of L1 entry 0, 5 and 6 the data of guest clusters 0
//   and 1; every refcount 1, COPIED set on all three entries.
struct Basic {
  Builder b;
  uint64_t l2, d0, d1;

  explicit Basic(const Qcow2ImageSpec& spec = {}) : b(spec) {
    l2 = b.AddL2(0);
    d0 = b.AddData(l2, 0);
    d1 = b.AddData(l2, 1);
  }
};

// --- clean images --------------------------------------------------------

TEST(Qcow2Check, CleanImageHasNoFindings) {
  Basic img;
  CheckRun r = Check(img.b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  EXPECT_EQ(Findings{}, r.findings);
  // total: 1 MiB / 64 KiB = 16 guest clusters; allocated: the two data
  // clusters; fragmented: none (6 follows 5); end: the highest cluster
  // in use is 6, so (6 + 1) * 64 KiB = 458752 = 0x70000.
  // qemu-img 7.2 (and 5.2, 10.0, 11.1): "No errors were found on the
  // image." "2/16 = 12.50% allocated, 0.00% fragmented, 0.00% compressed
  // clusters" "Image end offset: 458752".
  EXPECT_EQ((Totals{0, 0, 0, 2, 16, 0, 0, 0x70000}), TotalsOf(r.res));
  EXPECT_EQ(0u, r.res.failed_errno);
  EXPECT_FALSE(r.res.aborted);
  // The same with 5.2's behaviour.
  CheckRun r52 = Check(img.b.bytes(), kCheck52);
  EXPECT_EQ(Findings{}, r52.findings);
  EXPECT_EQ(TotalsOf(r.res), TotalsOf(r52.res));
}

// --- refcounts against references ----------------------------------------

TEST(Qcow2Check, LeakedCluster) {
  Basic img;
  img.b.Alloc();  // cluster 7: refcount 1, nothing points at it
  CheckRun r = Check(img.b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "Leaked cluster 7 refcount=1 reference=0", "1 leaked
  // clusters were found on the image." and the end offset moves to
  // (7 + 1) * 64 KiB = 524288.
  EXPECT_EQ((Findings{{QCOW2_F_LEAK, {7, 1, 0}}}), r.findings);
  EXPECT_EQ((Totals{0, 1, 0, 2, 16, 0, 0, 0x80000}), TotalsOf(r.res));
}

TEST(Qcow2Check, RefcountTooLow) {
  Basic img;
  img.b.SetRefcount(img.d1, 0);
  CheckRun r = Check(img.b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "ERROR cluster 6 refcount=0 reference=1", then the
  // COPIED pass sees refcount 0 under a COPIED entry: "ERROR
  // OFLAG_COPIED data cluster: l2_entry=8000000000060000 refcount=0";
  // "2 errors were found on the image."
  EXPECT_EQ((Findings{{QCOW2_F_REFCOUNT_LOW, {6, 0, 1}},
                      {QCOW2_F_OFLAG_DATA, {img.d1 | kCopied, 0}}}),
            r.findings);
  EXPECT_EQ((Totals{2, 0, 0, 2, 16, 0, 0, 0x70000}), TotalsOf(r.res));
}

TEST(Qcow2Check, RefcountTableEntryOutsideTheFile) {
  Basic img;
  img.b.Finish();
  img.b.Put64(img.b.reftable_offset() + 8, img.b.Cluster(100));
  CheckRun r = Check(img.b.bytes());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "ERROR refcount block 1 is outside image", "1 errors
  // were found on the image."
  EXPECT_EQ((Findings{{QCOW2_F_REFBLOCK_OUTSIDE, {1}}}), r.findings);
  EXPECT_EQ((Totals{1, 0, 0, 2, 16, 0, 0, 0x70000}), TotalsOf(r.res));
}

TEST(Qcow2Check, UnalignedRefcountBlock) {
  // The refcount table names its block at cluster 2 + 512: no on-disk
  // refcount can be read, so every cluster's is an internal error.
  Basic img;
  img.b.Finish();
  img.b.Put64(img.b.reftable_offset(), img.b.Cluster(2) + 512);
  Findings want = {{QCOW2_F_REFBLOCK_UNALIGNED, {0}},
                   {QCOW2_F_IMAGE_CORRUPT_REFBLOCK, {img.b.Cluster(2) + 512, 0}}};
  for (uint64_t k = 0; k < 7; k++) want.push_back({QCOW2_F_CANT_GET_REFCOUNT, {k, QCOW2_EIO}});
  // qemu-img 7.2 and 5.2 alike: "ERROR refcount block 0 is not cluster
  // aligned; refcount table entry corrupted", "qcow2: Image is corrupt:
  // Refblock offset 0x20200 unaligned (reftable index: 0); further
  // non-fatal corruption events will be suppressed", "Can't get refcount
  // for cluster 0: Input/output error" .. "cluster 6"; JSON
  // "corruptions": 1, "check-errors": 7, "image-end-offset": 65536 (no
  // cluster's refcount was read: the highest stays 0).
  for (uint32_t flags : {kCheck72, kCheck52}) {
    SCOPED_TRACE(flags);
    CheckRun r = Check(img.b.bytes(), flags);
    ASSERT_EQ(QCOW2_CHECK_OK, r.err);
    EXPECT_EQ(want, r.findings);
    EXPECT_EQ((Totals{1, 0, 7, 2, 16, 0, 0, 0x10000}), TotalsOf(r.res));
    EXPECT_EQ(0u, r.res.failed_errno);
  }
}

// --- snapshots: a shared L2 table and COPIED ------------------------------

// Basic, then a snapshot: its L1 table in cluster 7, the snapshot table
// in cluster 8; the L2 table and both data clusters now have refcount 2
// and COPIED clear.
struct Shared : Basic {
  uint64_t snap_l1;
  Shared() { snap_l1 = b.TakeSnapshot("1", "snap"); }
};

TEST(Qcow2Check, L2TableSharedWithASnapshotIsClean) {
  Shared img;
  ASSERT_EQ(img.b.Cluster(7), img.snap_l1);
  ASSERT_EQ(2u, img.b.Refcount(img.l2));
  CheckRun r = Check(img.b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "No errors were found on the image." "2/16 = 12.50%
  // allocated, 0.00% fragmented, 0.00% compressed clusters" (only the
  // active table counts) "Image end offset: 589824" (cluster 8 + 1).
  EXPECT_EQ(Findings{}, r.findings);
  EXPECT_EQ((Totals{0, 0, 0, 2, 16, 0, 0, 0x90000}), TotalsOf(r.res));
}

TEST(Qcow2Check, SharedL2TableWithRefcountOne) {
  Shared img;
  img.b.SetRefcount(img.l2, 1);
  CheckRun r = Check(img.b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "ERROR cluster 4 refcount=1 reference=2", then "ERROR
  // OFLAG_COPIED L2 cluster: l1_index=0 l1_entry=40000 refcount=1" (COPIED
  // clear on refcount 1); "2 errors were found on the image."
  EXPECT_EQ((Findings{{QCOW2_F_REFCOUNT_LOW, {4, 1, 2}},
                      {QCOW2_F_OFLAG_L2, {0, img.l2, 1}}}),
            r.findings);
  EXPECT_EQ((Totals{2, 0, 0, 2, 16, 0, 0, 0x90000}), TotalsOf(r.res));
}

TEST(Qcow2Check, CopiedSetOnSharedClusters) {
  Shared img;
  img.b.SetL1(0, img.l2 | kCopied);
  img.b.SetL2(img.l2, 1, img.d1 | kCopied);
  CheckRun r = Check(img.b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "ERROR OFLAG_COPIED L2 cluster: l1_index=0
  // l1_entry=8000000000040000 refcount=2", "ERROR OFLAG_COPIED data
  // cluster: l2_entry=8000000000060000 refcount=2"; "2 errors were found
  // on the image."
  EXPECT_EQ((Findings{{QCOW2_F_OFLAG_L2, {0, img.l2 | kCopied, 2}},
                      {QCOW2_F_OFLAG_DATA, {img.d1 | kCopied, 2}}}),
            r.findings);
  EXPECT_EQ((Totals{2, 0, 0, 2, 16, 0, 0, 0x90000}), TotalsOf(r.res));
}

// --- L1 and L2 entries ---------------------------------------------------

TEST(Qcow2Check, UnalignedL2TableOffset) {
  // The L1 entry names cluster 4 + 512: the "table" QEMU reads is the
  // last 65024 bytes of cluster 4 and the first 512 of cluster 5, and
  // it counts a reference on both. Cluster 5 has refcount 1 (allocated,
  // otherwise unused); the entry the table's first slot holds maps
  // cluster 6.
  Builder b;
  const uint64_t l2 = b.AddL2(0);
  b.Alloc();
  const uint64_t data = b.Alloc();
  b.SetL1(0, (l2 + 512) | kCopied);
  b.Put64(l2 + 512, data | kCopied);
  CheckRun r = Check(b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "ERROR l2_offset=40200: Table is not cluster aligned;
  // L1 entry corrupted", "1 errors were found on the image.", "1/16 =
  // 6.25% allocated", "Image end offset: 458752".
  EXPECT_EQ((Findings{{QCOW2_F_L2_TABLE_UNALIGNED, {l2 + 512}}}), r.findings);
  EXPECT_EQ((Totals{1, 0, 0, 1, 16, 0, 0, 0x70000}), TotalsOf(r.res));
}

TEST(Qcow2Check, UnalignedDataOffset) {
  // Entry 1 maps cluster 6 + 512: a reference on clusters 6 and 7
  // (cluster 7 is allocated with refcount 1 for it).
  Basic img;
  img.b.Alloc();
  img.b.SetL2(img.l2, 1, (img.d1 + 512) | kCopied);
  CheckRun r = Check(img.b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "ERROR offset=60200: Data cluster is not properly
  // aligned; L2 entry corrupted.", "1 errors were found on the image.",
  // "2/16 = 12.50% allocated, 50.00% fragmented" (0x60200 is not the
  // 0x60000 that would follow cluster 5), "Image end offset: 524288".
  EXPECT_EQ((Findings{{QCOW2_F_DATA_UNALIGNED, {img.d1 + 512}}}), r.findings);
  EXPECT_EQ((Totals{1, 0, 0, 2, 16, 1, 0, 0x80000}), TotalsOf(r.res));
}

TEST(Qcow2Check, UnalignedPreallocatedZeroCluster) {
  Basic img;
  img.b.Alloc();
  img.b.SetL2(img.l2, 1, (img.d1 + 512) | Builder::kZero | kCopied);
  CheckRun r = Check(img.b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "ERROR offset=60200: Preallocated cluster is not
  // properly aligned; L2 entry corrupted."
  EXPECT_EQ((Findings{{QCOW2_F_PREALLOC_UNALIGNED, {img.d1 + 512}}}), r.findings);
  EXPECT_EQ((Totals{1, 0, 0, 2, 16, 1, 0, 0x80000}), TotalsOf(r.res));
}

TEST(Qcow2Check, L2TablePastTheEndOfTheFile) {
  // L1 entry 0 names cluster 50 of a 4-cluster file (with COPIED): the
  // table reads as zeros, and its refcount (block 0 covers it) is 0.
  Builder b;
  b.SetL1(0, b.Cluster(50) | kCopied);
  CheckRun r = Check(b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "ERROR: counting reference for region exceeding the end
  // of the file by one cluster or more: offset 0x320000 size 0x10000",
  // "ERROR OFLAG_COPIED L2 cluster: l1_index=0 l1_entry=8000000000320000
  // refcount=0"; JSON "corruptions": 2, no allocated clusters,
  // "image-end-offset": 262144.
  EXPECT_EQ((Findings{{QCOW2_F_EXCEEDS_EOF, {b.Cluster(50), b.cluster_size()}},
                      {QCOW2_F_OFLAG_L2, {0, b.Cluster(50) | kCopied, 0}}}),
            r.findings);
  EXPECT_EQ((Totals{2, 0, 0, 0, 16, 0, 0, 0x40000}), TotalsOf(r.res));
}

// Reserved bits in an L1 entry (bit 0), an L2 entry (bit 1) and the
// refcount table's entry (bit 0).
std::vector<uint8_t> ReservedBitsImage(uint64_t* l1e, uint64_t* l2e) {
  Basic img;
  *l1e = img.l2 | kCopied | 1;
  *l2e = img.d0 | kCopied | 2;
  img.b.SetL1(0, *l1e);
  img.b.SetL2(img.l2, 0, *l2e);
  img.b.Finish();
  img.b.Put64(img.b.reftable_offset(), img.b.Cluster(2) | 1);
  return img.b.bytes();
}

TEST(Qcow2Check, ReservedBitsFrom72On) {
  uint64_t l1e = 0, l2e = 0;
  const std::vector<uint8_t> image = ReservedBitsImage(&l1e, &l2e);
  CheckRun r = Check(image, kCheck72);
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2 (10.0, 11.1 alike): "ERROR found L1 entry with reserved
  // bits set: 8000000000040001", "ERROR found l2 entry with reserved bits
  // set: 8000000000050002", "ERROR refcount table entry 0 has reserved
  // bits set", then the refcount block it skipped is "Leaked cluster 2
  // refcount=1 reference=0"; "3 errors were found on the image." "1
  // leaked clusters were found on the image."
  EXPECT_EQ((Findings{{QCOW2_F_L1_RESERVED, {l1e}},
                      {QCOW2_F_L2_RESERVED, {l2e}},
                      {QCOW2_F_REFTABLE_RESERVED, {0}},
                      {QCOW2_F_LEAK, {2, 1, 0}}}),
            r.findings);
  EXPECT_EQ((Totals{3, 1, 0, 2, 16, 0, 0, 0x70000}), TotalsOf(r.res));
}

TEST(Qcow2Check, ReservedBitsIn52) {
  uint64_t l1e = 0, l2e = 0;
  const std::vector<uint8_t> image = ReservedBitsImage(&l1e, &l2e);
  CheckRun r = Check(image, kCheck52);
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 5.2: no word on the L1 and L2 entries; the refcount table
  // entry's low bit makes "ERROR refcount block 0 is not cluster aligned;
  // refcount table entry corrupted", then "Leaked cluster 2 refcount=1
  // reference=0".
  EXPECT_EQ((Findings{{QCOW2_F_REFBLOCK_UNALIGNED, {0}}, {QCOW2_F_LEAK, {2, 1, 0}}}),
            r.findings);
  EXPECT_EQ((Totals{1, 1, 0, 2, 16, 0, 0, 0x70000}), TotalsOf(r.res));
}

// --- compressed clusters and statistics -----------------------------------

TEST(Qcow2Check, CompressedClusters) {
  // L2 entries: 0 data in cluster 5; 1 and 2 compressed, both inside
  // cluster 6 (one sector at 0, two at 1024: refcount 2); 3 data in
  // cluster 7.
  Basic img;  // d0 = cluster 5, d1 = cluster 6 (made the compressed one)
  const uint64_t c = img.d1;
  img.b.SetRefcount(c, 2);
  img.b.SetL2(img.l2, 1, img.b.CompressedEntry(c, 1));
  img.b.SetL2(img.l2, 2, img.b.CompressedEntry(c + 1024, 2));
  const uint64_t d3 = img.b.AddData(img.l2, 3);
  CheckRun r = Check(img.b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  EXPECT_EQ(Findings{}, r.findings);
  // allocated 4 (every mapped entry); compressed 2; fragmented: each
  // compressed one (2), and cluster 7, which does not follow cluster 5
  // (the last uncompressed one): 3. End: (7 + 1) * 64 KiB.
  // qemu-img 7.2: "No errors were found on the image." "4/16 = 25.00%
  // allocated, 75.00% fragmented, 50.00% compressed clusters" "Image end
  // offset: 524288".
  EXPECT_EQ(img.b.Cluster(7), d3);
  EXPECT_EQ((Totals{0, 0, 0, 4, 16, 3, 2, 0x80000}), TotalsOf(r.res));
}

TEST(Qcow2Check, CompressedClusterPastTheEndByteOrSector) {
  // Entry 0 maps cluster 5, entry 1 a compressed cluster of one sector
  // at byte 100 of a sector 256 MiB into the 384 KiB file. 7.2 counts
  // its range from its byte, 5.2 from its sector.
  Builder b;
  const uint64_t l2 = b.AddL2(0);
  b.AddData(l2, 0);
  const uint64_t coffset = 256 * kMiB + 100;
  b.SetL2(l2, 1, b.CompressedEntry(coffset, 1));
  CheckRun r = Check(b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "ERROR: counting reference for region exceeding the end
  // of the file by one cluster or more: offset 0x10000064 size 0x19c"
  // (412 = 512 - 100 bytes), "1 errors were found on the image.", "2/16
  // = 12.50% allocated, 50.00% fragmented, 50.00% compressed clusters",
  // "Image end offset: 393216".
  EXPECT_EQ((Findings{{QCOW2_F_EXCEEDS_EOF, {coffset, 412}}}), r.findings);
  EXPECT_EQ((Totals{1, 0, 0, 2, 16, 1, 1, 0x60000}), TotalsOf(r.res));
  // qemu-img 5.2: "... offset 0x10000000 size 0x200".
  CheckRun r52 = Check(b.bytes(), kCheck52);
  EXPECT_EQ((Findings{{QCOW2_F_EXCEEDS_EOF, {256 * kMiB, 512}}}), r52.findings);
  EXPECT_EQ(TotalsOf(r.res), TotalsOf(r52.res));
}

TEST(Qcow2Check, FragmentationIsCountedWithinEachL2Table) {
  // 4 KiB clusters, 4 MiB virtual: two L2 tables (clusters 4 and 5).
  // Table 4 maps guest clusters 0 and 1 to clusters 6 and 8; table 5
  // maps guest cluster 512 to cluster 7.
  Qcow2ImageSpec spec;
  spec.cluster_bits = 12;
  spec.size = 4 * kMiB;
  Builder b(spec);
  const uint64_t l2a = b.AddL2(0);
  const uint64_t l2b = b.AddL2(1);
  b.AddData(l2a, 0);
  b.AddData(l2b, 0);
  b.AddData(l2a, 1);
  CheckRun r = Check(b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  EXPECT_EQ(Findings{}, r.findings);
  // Fragmented: cluster 8 does not follow 6 (1); cluster 7, the first of
  // its table, is not compared with anything (QEMU starts each table
  // afresh). Total 4 MiB / 4 KiB = 1024; end (8 + 1) * 4 KiB = 36864.
  // qemu-img 7.2: "3/1024 = 0.29% allocated, 33.33% fragmented, 0.00%
  // compressed clusters", "Image end offset: 36864".
  EXPECT_EQ((Totals{0, 0, 0, 3, 1024, 1, 0, 0x9000}), TotalsOf(r.res));
}

// --- refcount widths and cluster sizes ------------------------------------

class Qcow2CheckRefcountOrder : public testing::TestWithParam<uint32_t> {};

TEST_P(Qcow2CheckRefcountOrder, CleanImageAndALeak) {
  Qcow2ImageSpec spec;
  spec.refcount_order = GetParam();
  Basic img(spec);
  CheckRun clean = Check(img.b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, clean.err);
  // qemu-img 7.2, refcount_bits 1 .. 64: "No errors were found on the
  // image." as the 16-bit image.
  EXPECT_EQ(Findings{}, clean.findings);
  EXPECT_EQ((Totals{0, 0, 0, 2, 16, 0, 0, 0x70000}), TotalsOf(clean.res));

  // Cluster 7's refcount written into the block (the largest it holds),
  // nothing pointing at it.
  Basic leak(spec);
  const uint64_t max =
      GetParam() == 6 ? UINT64_MAX : (uint64_t{1} << (uint64_t{1} << GetParam())) - 1;
  leak.b.Alloc(max);
  CheckRun r = Check(leak.b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "Leaked cluster 7 refcount=<max> reference=0" (e.g.
  // refcount=1 with refcount_bits=1, 18446744073709551615 with 64).
  EXPECT_EQ((Findings{{QCOW2_F_LEAK, {7, max, 0}}}), r.findings);
  EXPECT_EQ((Totals{0, 1, 0, 2, 16, 0, 0, 0x80000}), TotalsOf(r.res));
}

INSTANTIATE_TEST_SUITE_P(AllWidths, Qcow2CheckRefcountOrder, testing::Range(0u, 7u));

TEST(Qcow2Check, OneBitRefcountsOverflowOnASharedL2Table) {
  // refcount_bits=1: the snapshot's second reference on the L2 table and
  // its two data clusters overflows the counter (its largest value is 1).
  Qcow2ImageSpec spec;
  spec.refcount_order = 0;
  Basic base(spec);
  base.b.TakeSnapshot("1", "snap");
  for (uint64_t off : {base.l2, base.d0, base.d1}) base.b.SetRefcount(off, 1);
  CheckRun r = Check(base.b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "ERROR: overflow cluster offset=0x40000" (and the hint
  // line), the same for 0x50000 and 0x60000; then COPIED clear on
  // refcount 1: "ERROR OFLAG_COPIED L2 cluster: l1_index=0 l1_entry=40000
  // refcount=1", "ERROR OFLAG_COPIED data cluster: l2_entry=50000
  // refcount=1" and "... l2_entry=60000 refcount=1"; "6 errors were
  // found on the image."
  EXPECT_EQ((Findings{{QCOW2_F_OVERFLOW, {base.l2}},
                      {QCOW2_F_OVERFLOW, {base.d0}},
                      {QCOW2_F_OVERFLOW, {base.d1}},
                      {QCOW2_F_OFLAG_L2, {0, base.l2, 1}},
                      {QCOW2_F_OFLAG_DATA, {base.d0, 1}},
                      {QCOW2_F_OFLAG_DATA, {base.d1, 1}}}),
            r.findings);
  EXPECT_EQ((Totals{6, 0, 0, 2, 16, 0, 0, 0x90000}), TotalsOf(r.res));
}

TEST(Qcow2Check, SixtyFourBitRefcountsAreReadWhole) {
  // A refcount above 2^32 tells whether all eight bytes were read.
  Qcow2ImageSpec spec;
  spec.refcount_order = 6;
  Basic img(spec);
  const uint64_t rc = (uint64_t{1} << 32) + 1;
  img.b.SetRefcount(img.d0, rc);
  CheckRun r = Check(img.b.Finish());
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  // qemu-img 7.2: "Leaked cluster 5 refcount=4294967297 reference=1",
  // "ERROR OFLAG_COPIED data cluster: l2_entry=8000000000050000
  // refcount=4294967297".
  EXPECT_EQ((Findings{{QCOW2_F_LEAK, {5, rc, 1}}, {QCOW2_F_OFLAG_DATA, {img.d0 | kCopied, rc}}}),
            r.findings);
  EXPECT_EQ((Totals{1, 1, 0, 2, 16, 0, 0, 0x70000}), TotalsOf(r.res));
}

// 512-byte clusters, 64 KiB virtual: an L2 table holds 64 entries and
// maps 32 KiB, so two L1 entries. Table 4 maps clusters 5 and 6; table 7
// maps cluster 8 and, in entry 1, a compressed sector in cluster 9. With
// `leak`, cluster 10 has refcount 1 and nothing pointing at it.
std::vector<uint8_t> SmallClusters(bool leak) {
  Qcow2ImageSpec spec;
  spec.cluster_bits = 9;
  spec.size = 64 * kKiB;
  Builder b(spec);
  EXPECT_EQ(2u, b.l1_size());
  const uint64_t l2a = b.AddL2(0);
  b.AddData(l2a, 0);
  b.AddData(l2a, 1);
  const uint64_t l2b = b.AddL2(1);
  b.AddData(l2b, 0);
  const uint64_t c = b.Alloc();
  b.SetL2(l2b, 1, b.CompressedEntry(c, 1));
  if (leak) EXPECT_EQ(b.Cluster(10), b.Alloc());
  return b.Finish();
}

TEST(Qcow2Check, FiveHundredTwelveByteClusters) {
  CheckRun r = Check(SmallClusters(false));
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  EXPECT_EQ(Findings{}, r.findings);
  // total 64 KiB / 512 = 128; allocated 4; compressed 1; fragmented 1
  // (the compressed one); end (9 + 1) * 512 = 5120.
  // qemu-img 7.2: "4/128 = 3.12% allocated, 25.00% fragmented, 25.00%
  // compressed clusters", "Image end offset: 5120".
  EXPECT_EQ((Totals{0, 0, 0, 4, 128, 1, 1, 5120}), TotalsOf(r.res));

  CheckRun leak = Check(SmallClusters(true));
  ASSERT_EQ(QCOW2_CHECK_OK, leak.err);
  // qemu-img 7.2: "Leaked cluster 10 refcount=1 reference=0", "Image end
  // offset: 5632".
  EXPECT_EQ((Findings{{QCOW2_F_LEAK, {10, 1, 0}}}), leak.findings);
  EXPECT_EQ((Totals{0, 1, 0, 4, 128, 1, 1, 5632}), TotalsOf(leak.res));
}

// --- reads -----------------------------------------------------------------

TEST(Qcow2Check, FailingReadsEndTheCheckWithAnEngineError) {
  // Every read call of a check of an image with a snapshot made to fail
  // in turn: the engine stops with QCOW2_CHECK_IO, reads nothing more.
  Shared img;
  const std::vector<uint8_t> image = img.b.Finish();
  CheckRun clean = Check(image);
  ASSERT_EQ(QCOW2_CHECK_OK, clean.err);
  ASSERT_EQ(Findings{}, clean.findings);
  const uint32_t calls = clean.reader.calls;
  ASSERT_GT(calls, 4u);
  for (uint32_t k = 1; k <= calls; k++) {
    SCOPED_TRACE(k);
    CheckRun r = Check(image, kCheck72, k);
    EXPECT_EQ(QCOW2_CHECK_IO, r.err);
    EXPECT_EQ(k, r.reader.calls);
    EXPECT_EQ(0u, r.reader.calls_after_failure);
  }
}

// 300 L2 tables (4 KiB clusters, 2 MiB each: 600 MiB virtual), one data
// cluster each.
std::vector<uint8_t> ManyL2Tables() {
  Qcow2ImageSpec spec;
  spec.cluster_bits = 12;
  spec.size = 600 * kMiB;
  Builder b(spec);
  for (uint32_t i = 0; i < 300; i++) b.AddData(b.AddL2(i), 0);
  return b.Finish();
}

TEST(Qcow2Check, L2TablesAreReadInBatches) {
  const std::vector<uint8_t> image = ManyL2Tables();
  CheckRun r = Check(image);
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  EXPECT_EQ(Findings{}, r.findings);
  // 600 MiB / 4 KiB = 153600 guest clusters, 300 allocated, none
  // fragmented (one per table); clusters 0..3 and 600 more: end 604 * 4
  // KiB. qemu-img 7.2: "300/153600 = 0.20% allocated, 0.00% fragmented,
  // 0.00% compressed clusters", "Image end offset: 2473984".
  EXPECT_EQ((Totals{0, 0, 0, 300, 153600, 0, 0, 604 * 4096}), TotalsOf(r.res));
  // Read calls: the refcount table (1); the counting walk: the L1 table
  // (1) and the 300 L2 tables 64 at a time (5); the comparison: the one
  // refcount block (1); the COPIED pass: the L1 table (1) and the L2
  // tables again 64 at a time (5). 14 in all; one call per L2 table in
  // the COPIED pass alone would make it 309.
  EXPECT_EQ(14u, r.reader.calls);
  EXPECT_EQ(64u, r.reader.largest_batch);
  EXPECT_EQ(1u + 1 + 300 + 1 + 1 + 300, r.reader.reads);
}

TEST(Qcow2Check, BatchesFollowTheReadersSize) {
  const std::vector<uint8_t> image = ManyL2Tables();
  CheckRun r = Check(image, kCheck72, 0, 16);
  ASSERT_EQ(QCOW2_CHECK_OK, r.err);
  EXPECT_EQ(Findings{}, r.findings);
  // Each batch of 64 tables in four calls of 16 and the last 44 in three:
  // 19 calls a pass, 1 + 1 + 19 + 1 + 1 + 19 = 42.
  EXPECT_EQ(42u, r.reader.calls);
  EXPECT_EQ(16u, r.reader.largest_batch);
}

// --- qcow2_walk_ordered ----------------------------------------------------

// An image (4 KiB clusters, an L1 table of 128 entries) with `n` L2
// tables whose first entry names the table itself, so a visitor can tell
// which table it was handed.
class OrderedImage {
 public:
  explicit OrderedImage(uint32_t n) : b_(Spec()) {
    for (uint32_t i = 0; i < n; i++) {
      tables.push_back(b_.Alloc());
      b_.SetL2(tables.back(), 0, tables.back());
    }
    b_.Finish();
  }
  void SetL1(const std::vector<uint64_t>& entries) {
    for (uint32_t i = 0; i < entries.size(); i++) b_.SetL1(i, entries[i]);
  }
  uint64_t l1_offset() const { return b_.l1_offset(); }
  const std::vector<uint8_t>& image() const { return b_.bytes(); }

  std::vector<uint64_t> tables;

 private:
  static Qcow2ImageSpec Spec() {
    Qcow2ImageSpec s;
    s.cluster_bits = 12;
    s.size = 256 * kMiB;
    return s;
  }
  Builder b_;
};

struct Visit {
  uint32_t index;
  uint64_t e;
  uint64_t table;  // the first entry of the table handed over; 0: NULL
};

struct Ordered {
  bool raw = false;            // want the entry itself as the offset
  size_t stop_at = SIZE_MAX;   // the visit (from 0) that returns false
  std::vector<Visit> visits;
};

// Wants the table of every entry with an offset; the low bit 1 (a
// reserved bit) declines it, to tell "declined" from "empty".
bool Want(void* ctx, uint64_t e, uint64_t* l2) {
  if (static_cast<Ordered*>(ctx)->raw) {
    *l2 = e;
    return e != 0;
  }
  *l2 = e & 0x00fffffffffffe00ULL;
  return *l2 != 0 && (e & 1) == 0;
}

bool VisitEntry(void* ctx, uint32_t index, uint64_t e, const uint8_t* l2) {
  auto* o = static_cast<Ordered*>(ctx);
  uint64_t first = 0;
  if (l2 != nullptr)
    for (int i = 0; i < 8; i++) first = first << 8 | l2[i];
  o->visits.push_back({index, e, first});
  return o->visits.size() != o->stop_at + 1;
}

struct WalkArgs {
  uint32_t entries = 100;
  uint32_t batch = 64;
  uint32_t l1buf_len = 4096;
  size_t stop_at = SIZE_MAX;
  uint32_t fail_call = 0;
  bool raw = false;
};

struct OrderedRun {
  qcow2_walk_err err = QCOW2_WALK_MEMORY;
  Ordered o;
  MemReader reader;
};

// qcow2_walk_ordered over the active L1 table of `img` (4 KiB clusters).
OrderedRun WalkOrdered(const OrderedImage& img, const WalkArgs& a) {
  const std::vector<uint8_t>& image = img.image();
  OrderedRun run;
  run.o.stop_at = a.stop_at;
  run.o.raw = a.raw;
  run.reader.image = &image;
  run.reader.fail_call = a.fail_call;
  const qcow2_io io = run.reader.Io();
  const struct qcow2_qread q = {&io, image.size(), true};
  std::vector<uint64_t> l1buf(a.l1buf_len / 8 + 1);
  std::vector<uint64_t> bufs(uint64_t{std::max(a.batch, 1u)} * 4096 / 8);
  qcow2_ordered_walk w = {};
  w.l1_offset = img.l1_offset();
  w.l1_entries = a.entries;
  w.cluster_size = 4096;
  w.q = &q;
  w.l1buf = reinterpret_cast<uint8_t*>(l1buf.data());
  w.l1buf_len = a.l1buf_len;
  w.bufs = reinterpret_cast<uint8_t*>(bufs.data());
  w.batch = a.batch;
  w.want = Want;
  w.visit = VisitEntry;
  w.ctx = &run.o;
  run.err = qcow2_walk_ordered(&w);
  EXPECT_EQ(0u, run.reader.bad_requests);
  EXPECT_LE(run.reader.largest_batch, std::max(a.batch, 1u));
  return run;
}

TEST(Qcow2WalkOrdered, VisitsInL1OrderWithNullForDeclinedEntries) {
  OrderedImage img(3);
  const std::vector<uint64_t>& t = img.tables;
  // Entries: table 2, empty, table 0, declined (offset with bit 0), table
  // 2 again, table 1.
  const std::vector<uint64_t> l1 = {t[2] | kCopied, 0, t[0], t[1] | 1, t[2], t[1]};
  img.SetL1(l1);
  WalkArgs a;
  a.entries = 6;
  OrderedRun r = WalkOrdered(img, a);
  ASSERT_EQ(QCOW2_WALK_OK, r.err);
  ASSERT_EQ(6u, r.o.visits.size());
  const uint64_t want_table[] = {t[2], 0, t[0], 0, t[2], t[1]};
  for (uint32_t i = 0; i < 6; i++) {
    SCOPED_TRACE(i);
    EXPECT_EQ(i, r.o.visits[i].index);
    EXPECT_EQ(l1[i], r.o.visits[i].e);
    EXPECT_EQ(want_table[i], r.o.visits[i].table);
  }
  // The L1 table, then the four wanted tables (table 2 twice: each entry
  // gets its own copy) in one call.
  EXPECT_EQ(2u, r.reader.calls);
  EXPECT_EQ((std::vector<uint64_t>{img.l1_offset(), t[2], t[0], t[2], t[1]}),
            r.reader.offsets);
}

// 100 L1 entries: every third one (2, 5, 8, ...) declined, the rest
// naming table i % 7.
std::vector<uint64_t> HundredEntries(OrderedImage* img) {
  std::vector<uint64_t> l1;
  for (uint32_t i = 0; i < 100; i++) l1.push_back(img->tables[i % 7] | (i % 3 == 2 ? 1 : 0));
  img->SetL1(l1);
  return l1;
}

TEST(Qcow2WalkOrdered, ReadsAtMostBatchTablesACall) {
  OrderedImage img(7);
  const std::vector<uint64_t> l1 = HundredEntries(&img);
  // The L1 table in pieces of 64 entries (512 bytes), tables 5 at a time.
  WalkArgs a;
  a.batch = 5;
  a.l1buf_len = 512;
  OrderedRun r = WalkOrdered(img, a);
  ASSERT_EQ(QCOW2_WALK_OK, r.err);
  ASSERT_EQ(100u, r.o.visits.size());
  for (uint32_t i = 0; i < 100; i++) {
    SCOPED_TRACE(i);
    EXPECT_EQ(i, r.o.visits[i].index);
    EXPECT_EQ(l1[i], r.o.visits[i].e);
    EXPECT_EQ(i % 3 == 2 ? 0 : img.tables[i % 7], r.o.visits[i].table);
  }
  // Pieces of 64 and 36 entries with 43 and 24 wanted: 2 L1 reads, then
  // 9 + 5 calls of at most 5 tables.
  EXPECT_EQ(2u + 9 + 5, r.reader.calls);
  EXPECT_EQ(5u, r.reader.largest_batch);
  EXPECT_EQ(2u + 67, r.reader.reads);
}

TEST(Qcow2WalkOrdered, VisitorStopsTheWalk) {
  OrderedImage img(7);
  HundredEntries(&img);
  // Entries 0, 1, 3, 4, 6, 7 are wanted: with batches of 3 the first
  // holds entries 0 .. 3, the second 4 .. 7. Stopping at entry 4 reads
  // the L1 table and those two batches, nothing more.
  WalkArgs a;
  a.batch = 3;
  a.stop_at = 4;
  OrderedRun r = WalkOrdered(img, a);
  EXPECT_EQ(QCOW2_WALK_STOPPED, r.err);
  EXPECT_EQ(5u, r.o.visits.size());
  EXPECT_EQ(1u + 2, r.reader.calls);
}

TEST(Qcow2WalkOrdered, FailingReadEndsTheWalk) {
  OrderedImage img(7);
  HundredEntries(&img);
  WalkArgs a;
  a.batch = 3;
  // The L1 table's read: nothing visited.
  a.fail_call = 1;
  OrderedRun l1 = WalkOrdered(img, a);
  EXPECT_EQ(QCOW2_WALK_IO, l1.err);
  EXPECT_TRUE(l1.o.visits.empty());
  EXPECT_EQ(0u, l1.reader.calls_after_failure);
  // The second batch of tables: only the first batch's entries (0 .. 3)
  // were visited.
  a.fail_call = 3;
  OrderedRun l2 = WalkOrdered(img, a);
  EXPECT_EQ(QCOW2_WALK_IO, l2.err);
  EXPECT_EQ(4u, l2.o.visits.size());
  EXPECT_EQ(3u, l2.reader.calls);
  EXPECT_EQ(0u, l2.reader.calls_after_failure);
}

TEST(Qcow2WalkOrdered, BadArgumentsAndUnalignedTables) {
  OrderedImage img(1);
  img.SetL1({img.tables[0]});
  WalkArgs a;
  a.entries = 1;
  EXPECT_EQ(QCOW2_WALK_OK, WalkOrdered(img, a).err);
  for (uint32_t batch : {0u, 65u}) {
    WalkArgs bad = a;
    bad.batch = batch;
    EXPECT_EQ(QCOW2_WALK_MEMORY, WalkOrdered(img, bad).err) << batch;
  }
  for (uint32_t len : {0u, 100u, 520u}) {
    WalkArgs bad = a;
    bad.l1buf_len = len;
    EXPECT_EQ(QCOW2_WALK_MEMORY, WalkOrdered(img, bad).err) << len;
  }
  // A table the caller wants at an offset that is not whole sectors is
  // refused before anything but the L1 table is read.
  img.SetL1({img.tables[0] + 8});
  WalkArgs raw = a;
  raw.raw = true;
  OrderedRun r = WalkOrdered(img, raw);
  EXPECT_EQ(QCOW2_WALK_TABLES, r.err);
  EXPECT_TRUE(r.o.visits.empty());
  EXPECT_EQ(1u, r.reader.calls);
  // No entries: nothing read, nothing visited.
  WalkArgs none = a;
  none.entries = 0;
  OrderedRun n = WalkOrdered(img, none);
  EXPECT_EQ(QCOW2_WALK_OK, n.err);
  EXPECT_EQ(0u, n.reader.calls);
  EXPECT_TRUE(n.o.visits.empty());
}

}  // namespace

