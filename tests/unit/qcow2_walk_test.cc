// qcow2_walk_test.cc — the L1/L2 table walk (qcow2_walk_l2) and its sort
// (qcow2_sort_u64) on their own, over images built in memory: each
// distinct L2 table visited once with the number of L1 entries pointing
// at it, reads batched (never more than io.max_batch a call) in whole
// sectors inside the file, rounds when the work memory is short, and
// every refusal (memory, malformed L1 tables and entries, read errors, a
// visitor that stops).
#include <gtest/gtest.h>

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "src/qcow2/qcow2_walk.h"
#include "tests/tools/table_reader.h"

namespace {

constexpr uint64_t kCopied = 1ULL << 63;  // QEMU's "refcount 1" L1 flag

void PutBe64(std::vector<uint8_t>& b, uint64_t off, uint64_t v) {
  if (b.size() < off + 8) b.resize(off + 8, 0);
  for (int i = 0; i < 8; i++) b[off + i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}

uint64_t RoundUp512(uint64_t n) { return (n + 511) / 512 * 512; }

// An image file in memory, `cs`-byte clusters. Every L2 table written
// with AddL2 holds entries naming its own cluster, so a visitor can tell
// it was handed the right bytes.
struct Image {
  uint32_t cs;
  std::vector<uint8_t> bytes;

  Image(uint32_t cluster_size, uint64_t clusters)
      : cs(cluster_size), bytes(clusters * cluster_size, 0) {}

  uint64_t Cluster(uint64_t c) const { return c * cs; }

  void AddL2(uint64_t cluster) {
    for (uint32_t i = 0; i < cs / 8; i++)
      PutBe64(bytes, cluster * cs + i * 8, (cluster << 32) | (i + 1));
  }

  // An L1 table at `offset` with these raw entries (flags included).
  qcow2_l1_table AddL1(uint64_t offset, const std::vector<uint64_t>& entries) {
    for (size_t i = 0; i < entries.size(); i++) PutBe64(bytes, offset + i * 8, entries[i]);
    return {offset, static_cast<uint32_t>(entries.size())};
  }
};

// The batched reader of the walk, checking every request against the
// contract of qcow2_walk.h and recording it.
struct Reader {
  const std::vector<uint8_t>* bytes = nullptr;
  uint64_t file_bytes = 0;
  uint32_t max_batch = 64;
  const uint8_t* mem = nullptr;  // the walker's work memory
  size_t mem_len = 0;
  uint32_t fail_call = 0;  // the call (1-based) that fails; 0: none
  bool failed = false;
  uint32_t calls = 0;
  uint32_t calls_after_failure = 0;
  std::vector<uint32_t> batch_sizes;
  std::vector<std::pair<uint64_t, uint32_t>> reads;  // (offset, len)
};

bool ReadBatch(void* ctx, const qcow2_read* r, uint32_t n) {
  auto* rd = static_cast<Reader*>(ctx);
  if (rd->failed) rd->calls_after_failure++;
  rd->calls++;
  rd->batch_sizes.push_back(n);
  EXPECT_GE(n, 1u);
  EXPECT_LE(n, rd->max_batch);
  const uint64_t sectors_end = RoundUp512(rd->file_bytes);
  for (uint32_t i = 0; i < n; i++) {
    const uint64_t off = r[i].offset, len = r[i].len;
    rd->reads.emplace_back(off, r[i].len);
    bool ok = off % 512 == 0 && len % 512 == 0 && len > 0 && off <= sectors_end &&
              len <= sectors_end - off && r[i].buf >= rd->mem &&
              r[i].buf + len <= rd->mem + rd->mem_len;
    for (uint32_t j = 0; j < i; j++)  // one batch's buffers are disjoint
      if (r[i].buf < r[j].buf + r[j].len && r[j].buf < r[i].buf + len) ok = false;
    EXPECT_TRUE(ok) << "read of " << len << " at " << off << " (file " << rd->file_bytes << ")";
    if (!ok) return false;
    const uint64_t have_end =
        std::min<uint64_t>({off + len, rd->bytes->size(), rd->file_bytes});
    const uint64_t have = have_end > off ? have_end - off : 0;
    if (have) memcpy(r[i].buf, rd->bytes->data() + off, have);
    memset(r[i].buf + have, 0, len - have);  // zeroes past the end
  }
  if (rd->fail_call == rd->calls) {
    rd->failed = true;
    return false;
  }
  return true;
}

struct Visit {
  uint64_t offset;
  uint32_t refs;
};

struct Visitor {
  const std::vector<uint8_t>* bytes = nullptr;
  uint32_t cs = 0;
  size_t stop_after = SIZE_MAX;  // return false on this visit (1-based)
  std::vector<Visit> visits;
  uint32_t calls_at_stop = 0;
  const Reader* rd = nullptr;
};

bool VisitL2(void* ctx, uint64_t off, const uint8_t* l2, uint32_t len, uint32_t refs) {
  auto* v = static_cast<Visitor*>(ctx);
  v->visits.push_back({off, refs});
  EXPECT_EQ(v->cs, len);
  // The bytes handed over are the table's own (zeroes past the end).
  std::vector<uint8_t> want(len, 0);
  if (off < v->bytes->size())
    memcpy(want.data(), v->bytes->data() + off,
           std::min<uint64_t>(len, v->bytes->size() - off));
  EXPECT_EQ(0, memcmp(want.data(), l2, len)) << "L2 table at " << off;
  if (v->visits.size() == v->stop_after) {
    v->calls_at_stop = v->rd->calls;
    return false;
  }
  return true;
}

struct Walk {
  qcow2_walk_err err;
  qcow2_walk_stats st;
  Reader rd;
  Visitor vis;
};

struct Options {
  size_t mem_len = 1u << 20;
  uint32_t max_batch = 64;
  uint32_t fail_call = 0;
  size_t stop_after = SIZE_MAX;
  uint64_t file_bytes = UINT64_MAX;  // UINT64_MAX: the image's size
};

Walk WalkImage(const Image& img, const std::vector<qcow2_l1_table>& tables, const Options& o = {}) {
  Walk w;
  std::vector<uint64_t> mem((o.mem_len + 7) / 8 + 1);
  uint8_t* m = reinterpret_cast<uint8_t*>(mem.data());
  w.rd.bytes = &img.bytes;
  w.rd.file_bytes = o.file_bytes == UINT64_MAX ? img.bytes.size() : o.file_bytes;
  w.rd.max_batch = o.max_batch;
  w.rd.mem = m;
  w.rd.mem_len = o.mem_len;
  w.rd.fail_call = o.fail_call;
  w.vis.bytes = &img.bytes;
  w.vis.cs = img.cs;
  w.vis.stop_after = o.stop_after;
  w.vis.rd = &w.rd;
  const qcow2_io io = {ReadBatch, &w.rd, o.max_batch};
  w.err = qcow2_walk_l2(tables.data(), static_cast<uint32_t>(tables.size()), img.cs,
                        w.rd.file_bytes, &io, m, o.mem_len, VisitL2, &w.vis, &w.st);
  return w;
}

// The offsets visited, each once: checks no table was visited twice.
std::set<uint64_t> VisitedOnce(const Walk& w) {
  std::set<uint64_t> seen;
  for (const Visit& v : w.vis.visits) EXPECT_TRUE(seen.insert(v.offset).second) << v.offset;
  return seen;
}

bool ReadsTouch(const Walk& w, uint64_t offset) {
  for (const auto& r : w.rd.reads)
    if (offset >= r.first && offset < r.first + r.second) return true;
  return false;
}

// --- distinct tables, refs, order ---------------------------------------

TEST(Qcow2Walk, SharedL2TablesAreVisitedOnceWithTheirRefs) {
  constexpr uint32_t kCs = 4096;
  Image img(kCs, 16);
  for (uint64_t c : {10, 11, 12}) img.AddL2(c);
  // Active: 10 twice, 11, 12, one unallocated entry. Snapshot: 11, 10,
  // unallocated, and a COPIED flag with no offset (unallocated too).
  const qcow2_l1_table active =
      img.AddL1(img.Cluster(3), {img.Cluster(12) | kCopied, img.Cluster(10) | kCopied, 0,
                                 img.Cluster(11) | kCopied, img.Cluster(10)});
  const qcow2_l1_table snap =
      img.AddL1(img.Cluster(4), {img.Cluster(11), img.Cluster(10), 0, kCopied});
  Walk w = WalkImage(img, {active, snap});
  ASSERT_EQ(QCOW2_WALK_OK, w.err);
  ASSERT_EQ(3u, w.vis.visits.size());
  // In file order, each with the L1 entries (over both tables) naming it.
  EXPECT_EQ(img.Cluster(10), w.vis.visits[0].offset);
  EXPECT_EQ(3u, w.vis.visits[0].refs);
  EXPECT_EQ(img.Cluster(11), w.vis.visits[1].offset);
  EXPECT_EQ(2u, w.vis.visits[1].refs);
  EXPECT_EQ(img.Cluster(12), w.vis.visits[2].offset);
  EXPECT_EQ(1u, w.vis.visits[2].refs);
  EXPECT_EQ(2u, w.st.l1_tables);
  EXPECT_EQ(6u, w.st.l1_entries);
  EXPECT_EQ(3u, w.st.l2_tables);
  EXPECT_EQ(1u, w.st.rounds);
  // The two L1 tables, then the three L2 tables in one batch.
  EXPECT_EQ(3u, w.st.batches);
  EXPECT_EQ(w.rd.calls, w.st.batches);
  EXPECT_EQ((std::vector<uint32_t>{1, 1, 3}), w.rd.batch_sizes);
}

TEST(Qcow2Walk, WorksWithTheTestTreeMemoryReader) {
  // tests/tools' table_mem_read (what the fuzzers and plan tools use)
  // refuses any request outside the walk's contract: a clean walk with it
  // shows the walker stays inside.
  constexpr uint32_t kCs = 512;
  Image img(kCs, 40);
  std::vector<uint64_t> e;
  for (uint64_t c = 20; c < 40; c++) {
    img.AddL2(c);
    e.push_back(img.Cluster(c));
  }
  const qcow2_l1_table l1 = img.AddL1(img.Cluster(2), e);
  img.bytes.resize(img.bytes.size() - 100);  // the last sector partial
  table_mem tm = {img.bytes.data(), img.bytes.size(), 0, 0};
  const qcow2_io io = {table_mem_read, &tm, TABLE_BATCH};
  std::vector<uint64_t> mem(4096);
  Visitor vis;
  vis.bytes = &img.bytes;
  vis.cs = kCs;
  qcow2_walk_stats st;
  ASSERT_EQ(QCOW2_WALK_OK,
            qcow2_walk_l2(&l1, 1, kCs, img.bytes.size(), &io,
                          reinterpret_cast<uint8_t*>(mem.data()), mem.size() * 8, VisitL2,
                          &vis, &st));
  EXPECT_EQ(20u, vis.visits.size());
  EXPECT_EQ(tm.calls, st.batches);
  EXPECT_EQ(21u, tm.reads);  // one L1 read + 20 L2 tables
}

// Several L1 tables, many distinct and some shared L2 tables, for each
// cluster size and batch size: batches never exceed max_batch, every
// read is whole sectors inside the file (checked by ReadBatch), L2
// reads come in file order, and every table is visited once.
TEST(Qcow2Walk, ReadsAreBatchedWholeSectorsInsideTheFile) {
  for (uint32_t cs : {512u, 4096u, 65536u}) {
    for (uint32_t max_batch : {1u, 2u, 3u, 7u, 64u, 200u}) {
      SCOPED_TRACE(testing::Message() << "cs " << cs << " max_batch " << max_batch);
      constexpr uint32_t kL2 = 150;
      Image img(cs, 8 + kL2);
      std::vector<uint64_t> active, snap;
      for (uint32_t i = 0; i < kL2; i++) img.AddL2(8 + i);
      // Active: the first 100, in reverse order; snapshot: the last 50
      // and 30 of the active's (shared).
      for (uint32_t i = 0; i < 100; i++) active.push_back(img.Cluster(8 + 99 - i) | kCopied);
      for (uint32_t i = 100; i < kL2; i++) snap.push_back(img.Cluster(8 + i));
      for (uint32_t i = 0; i < 30; i++) snap.push_back(img.Cluster(8 + 3 * i));
      std::vector<qcow2_l1_table> tables = {img.AddL1(img.Cluster(3), active)};
      // The snapshot's L1 table is the file's last bytes, ending mid-sector.
      const uint64_t snap_off = img.bytes.size();
      tables.push_back(img.AddL1(snap_off, snap));
      ASSERT_NE(0u, img.bytes.size() % 512);
      Options o;
      o.max_batch = max_batch;
      o.mem_len = 2 * 64 * size_t{cs} + 4096;  // room for 64 buffers
      Walk w = WalkImage(img, tables, o);
      ASSERT_EQ(QCOW2_WALK_OK, w.err);
      EXPECT_EQ(1u, w.st.rounds);
      EXPECT_EQ(kL2, VisitedOnce(w).size());
      for (const Visit& v : w.vis.visits) {
        const uint64_t c = v.offset / cs - 8;
        EXPECT_EQ(c < 90 && c % 3 == 0 ? 2u : 1u, v.refs) << c;
      }
      // File order.
      for (size_t i = 1; i < w.vis.visits.size(); i++)
        EXPECT_LT(w.vis.visits[i - 1].offset, w.vis.visits[i].offset);
      // Batches as large as allowed: the buffers hold up to 64 clusters.
      const uint32_t per = std::min(max_batch, 64u);
      const uint32_t biggest = *std::max_element(w.rd.batch_sizes.begin(), w.rd.batch_sizes.end());
      EXPECT_EQ(per, biggest);
      const uint32_t l2_batches = (kL2 + per - 1) / per;
      EXPECT_EQ(w.rd.calls, w.st.batches);
      // L1 reads: a chunk (the read buffers) at a time.
      const uint32_t chunk_entries = per * cs / 8;
      const uint32_t l1_reads = (100 + chunk_entries - 1) / chunk_entries +
                                (80 + chunk_entries - 1) / chunk_entries;
      EXPECT_EQ(l1_reads + l2_batches, w.st.batches);
      EXPECT_EQ(2u, w.st.l1_tables);
      EXPECT_EQ(180u, w.st.l1_entries);
      EXPECT_EQ(kL2, w.st.l2_tables);
    }
  }
}

TEST(Qcow2Walk, ReadBuffersFollowTheWorkMemory) {
  // Half the memory is read buffers: 3 clusters' worth here, so no batch
  // is larger than 3 though the reader takes 64.
  constexpr uint32_t kCs = 4096;
  Image img(kCs, 30);
  std::vector<uint64_t> e;
  for (uint64_t c = 10; c < 30; c++) {
    img.AddL2(c);
    e.push_back(img.Cluster(c));
  }
  Options o;
  o.mem_len = 6 * kCs + 1024;
  Walk w = WalkImage(img, {img.AddL1(img.Cluster(2), e)}, o);
  ASSERT_EQ(QCOW2_WALK_OK, w.err);
  EXPECT_EQ(20u, VisitedOnce(w).size());
  EXPECT_EQ(3u, *std::max_element(w.rd.batch_sizes.begin(), w.rd.batch_sizes.end()));
  EXPECT_EQ(1u + 7u, w.st.batches);  // the L1 table + ceil(20 / 3)
}

// --- rounds -------------------------------------------------------------

// mem_len = one 512-byte cluster + 64 offsets: the least the walk takes.
constexpr uint32_t kTinyCs = 512;
constexpr size_t kTinyMem = kTinyCs + 64 * 8;
constexpr uint32_t kTinySet = 64;

TEST(Qcow2Walk, SmallMemoryWalksInRoundsAndVisitsEachTableOnce) {
  // 150 + 60 distinct L2 tables, 64 offsets a round: four rounds. The
  // active table lists its tables in descending order, so each round's
  // visits ascend and the next round starts lower again.
  Image img(kTinyCs, 8 + 210);
  std::vector<uint64_t> active, snap;
  for (uint32_t i = 0; i < 210; i++) img.AddL2(8 + i);
  for (uint32_t i = 0; i < 150; i++) active.push_back(img.Cluster(8 + 149 - i));
  for (uint32_t i = 150; i < 210; i++) snap.push_back(img.Cluster(8 + 359 - i) | kCopied);
  const uint64_t l1a = img.bytes.size();
  const qcow2_l1_table ta = img.AddL1(l1a, active);
  img.bytes.resize(RoundUp512(img.bytes.size()));
  const qcow2_l1_table ts = img.AddL1(img.bytes.size(), snap);
  Options o;
  o.mem_len = kTinyMem;
  Walk w = WalkImage(img, {ta, ts}, o);
  ASSERT_EQ(QCOW2_WALK_OK, w.err);
  EXPECT_EQ(210u, VisitedOnce(w).size());
  for (const Visit& v : w.vis.visits) EXPECT_EQ(1u, v.refs);
  EXPECT_EQ(4u, w.st.rounds);  // 64 + 64 + 64 + 18
  EXPECT_EQ(210u, w.st.l2_tables);
  EXPECT_EQ(210u, w.st.l1_entries);
  EXPECT_EQ(2u, w.st.l1_tables);
  uint32_t runs = 1;
  for (size_t i = 1; i < w.vis.visits.size(); i++)
    if (w.vis.visits[i].offset < w.vis.visits[i - 1].offset) runs++;
  EXPECT_EQ(w.st.rounds, runs);
  EXPECT_EQ((std::vector<uint32_t>(w.rd.batch_sizes.size(), 1)), w.rd.batch_sizes);
}

Walk TinyWalkOf(uint32_t nonzero, uint32_t zeros_after) {
  Image img(kTinyCs, 8 + nonzero);
  std::vector<uint64_t> e;
  for (uint32_t i = 0; i < nonzero; i++) {
    img.AddL2(8 + i);
    e.push_back(img.Cluster(8 + i));
  }
  e.resize(nonzero + zeros_after, 0);
  const qcow2_l1_table t = img.AddL1(img.bytes.size(), e);
  Options o;
  o.mem_len = kTinyMem;
  return WalkImage(img, {t}, o);
}

// rounds > 1 only when the work memory could not hold every L2 offset at
// once (qcow2_walk.h): offsets that exactly fill the set are one round.
TEST(Qcow2Walk, OffsetsThatJustFitTakeOneRound) {
  Walk fit = TinyWalkOf(kTinySet, 0);
  ASSERT_EQ(QCOW2_WALK_OK, fit.err);
  EXPECT_EQ(kTinySet, VisitedOnce(fit).size());
  EXPECT_EQ(1u, fit.st.rounds);
  Walk fit_then_zeros = TinyWalkOf(kTinySet, 300);  // unallocated after
  ASSERT_EQ(QCOW2_WALK_OK, fit_then_zeros.err);
  EXPECT_EQ(kTinySet, VisitedOnce(fit_then_zeros).size());
  EXPECT_EQ(1u, fit_then_zeros.st.rounds);
  Walk one_more = TinyWalkOf(kTinySet + 1, 0);
  ASSERT_EQ(QCOW2_WALK_OK, one_more.err);
  EXPECT_EQ(kTinySet + 1, VisitedOnce(one_more).size());
  EXPECT_EQ(2u, one_more.st.rounds);
  Walk none = TinyWalkOf(0, 10);
  ASSERT_EQ(QCOW2_WALK_OK, none.err);
  EXPECT_EQ(0u, none.vis.visits.size());
  EXPECT_EQ(1u, none.st.rounds);
}

TEST(Qcow2Walk, TableSharedAcrossRoundsIsVisitedOncePerRound) {
  // 130 entries naming one L2 table, 64 offsets a round: as the header
  // says, it is read once per round; the refs add up to the 130.
  Image img(kTinyCs, 12);
  img.AddL2(9);
  const qcow2_l1_table t =
      img.AddL1(img.Cluster(10), std::vector<uint64_t>(130, img.Cluster(9) | kCopied));
  Options o;
  o.mem_len = kTinyMem;
  Walk w = WalkImage(img, {t}, o);
  ASSERT_EQ(QCOW2_WALK_OK, w.err);
  ASSERT_EQ(3u, w.vis.visits.size());
  EXPECT_EQ(64u, w.vis.visits[0].refs);
  EXPECT_EQ(64u, w.vis.visits[1].refs);
  EXPECT_EQ(2u, w.vis.visits[2].refs);
  for (const Visit& v : w.vis.visits) EXPECT_EQ(img.Cluster(9), v.offset);
  EXPECT_EQ(3u, w.st.rounds);
  EXPECT_EQ(130u, w.st.l1_entries);
  EXPECT_EQ(3u, w.st.l2_tables);  // reads, one a round
}

// --- memory -------------------------------------------------------------

TEST(Qcow2Walk, MemoryForLessThanOneClusterIsRefused) {
  for (uint32_t cs : {512u, 4096u, 65536u, 2u << 20}) {
    SCOPED_TRACE(cs);
    Image img(cs, 4);
    img.AddL2(2);
    const qcow2_l1_table t = img.AddL1(img.Cluster(1), {img.Cluster(2)});
    // One cluster and 64 offsets is the least.
    Options o;
    o.mem_len = cs + 64 * 8;
    Walk ok = WalkImage(img, {t}, o);
    EXPECT_EQ(QCOW2_WALK_OK, ok.err);
    EXPECT_EQ(1u, ok.vis.visits.size());
    for (size_t len : {size_t{cs} + 64 * 8 - 1, size_t{cs}, size_t{cs} - 8, size_t{512},
                       size_t{0}}) {
      o.mem_len = len;
      Walk w = WalkImage(img, {t}, o);
      EXPECT_EQ(QCOW2_WALK_MEMORY, w.err) << len;
      EXPECT_EQ(0u, w.rd.calls);
      EXPECT_TRUE(w.vis.visits.empty());
      EXPECT_EQ(0u, w.st.rounds);
    }
  }
}

TEST(Qcow2Walk, BadArgumentsAreRefused) {
  Image img(4096, 4);
  img.AddL2(2);
  const qcow2_l1_table t = img.AddL1(img.Cluster(1), {img.Cluster(2)});
  std::vector<uint64_t> mem(8192);
  uint8_t* m = reinterpret_cast<uint8_t*>(mem.data());
  Reader rd;
  rd.bytes = &img.bytes;
  rd.file_bytes = img.bytes.size();
  rd.mem = m;
  rd.mem_len = mem.size() * 8;
  Visitor vis;
  vis.bytes = &img.bytes;
  vis.cs = 4096;
  const qcow2_io io = {ReadBatch, &rd, 64};
  const qcow2_io no_batch = {ReadBatch, &rd, 0};
  const qcow2_io no_read = {nullptr, &rd, 64};
  qcow2_walk_stats st;
  const size_t len = mem.size() * 8;
  const uint64_t fb = img.bytes.size();
  EXPECT_EQ(QCOW2_WALK_OK, qcow2_walk_l2(&t, 1, 4096, fb, &io, m, len, VisitL2, &vis, &st));
  for (uint32_t cs : {0u, 256u, 511u, 3000u, 4097u, 0x80000001u})
    EXPECT_EQ(QCOW2_WALK_MEMORY, qcow2_walk_l2(&t, 1, cs, fb, &io, m, len, VisitL2, &vis, &st))
        << cs;
  EXPECT_EQ(QCOW2_WALK_MEMORY, qcow2_walk_l2(&t, 1, 4096, fb, nullptr, m, len, VisitL2, &vis, &st));
  EXPECT_EQ(QCOW2_WALK_MEMORY, qcow2_walk_l2(&t, 1, 4096, fb, &no_read, m, len, VisitL2, &vis, &st));
  EXPECT_EQ(QCOW2_WALK_MEMORY,
            qcow2_walk_l2(&t, 1, 4096, fb, &no_batch, m, len, VisitL2, &vis, &st));
  EXPECT_EQ(QCOW2_WALK_MEMORY, qcow2_walk_l2(&t, 1, 4096, fb, &io, m, len, nullptr, &vis, &st));
  EXPECT_EQ(QCOW2_WALK_MEMORY,
            qcow2_walk_l2(nullptr, 1, 4096, fb, &io, m, len, VisitL2, &vis, &st));
  EXPECT_EQ(QCOW2_WALK_MEMORY,
            qcow2_walk_l2(&t, 1, 4096, fb, &io, nullptr, len, VisitL2, &vis, &st));
  EXPECT_EQ(QCOW2_WALK_MEMORY,
            qcow2_walk_l2(&t, 1, 4096, fb, &io, m + 4, len - 8, VisitL2, &vis, &st));
  EXPECT_EQ(2u, rd.calls);  // only the first walk read: its L1 and L2 tables
  EXPECT_EQ(1u, vis.visits.size());
  // No tables at all: nothing to do.
  EXPECT_EQ(QCOW2_WALK_OK, qcow2_walk_l2(nullptr, 0, 4096, fb, &io, m, len, VisitL2, &vis, &st));
  EXPECT_EQ(0u, st.rounds);
  EXPECT_EQ(0u, st.batches);
}

// cluster_size x read buffers is 2^32 here: the chunk size must not wrap
// to zero (qcow2_walk.h: every size is overflow-checked). Needs 8 GiB of
// address space (never touched but for one 64 MiB cluster).
bool ZeroReader(void* ctx, const qcow2_read* r, uint32_t n) {
  auto* l1 = static_cast<const std::pair<uint64_t, uint64_t>*>(ctx);  // (offset, entry)
  for (uint32_t i = 0; i < n; i++) {
    memset(r[i].buf, 0, r[i].len);
    if (r[i].offset == l1->first) {
      std::vector<uint8_t> e;
      PutBe64(e, 0, l1->second);
      memcpy(r[i].buf, e.data(), 8);
    }
  }
  return true;
}

bool CountL2(void* ctx, uint64_t, const uint8_t*, uint32_t len, uint32_t refs) {
  *static_cast<uint64_t*>(ctx) += uint64_t{len} * refs;
  return true;
}

TEST(Qcow2Walk, HugeClustersTimesBuffersDoNotWrap) {
  const size_t mem_len = size_t{1} << 33;
  void* p = mmap(nullptr, mem_len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) GTEST_SKIP() << "no 8 GiB of address space";
  const uint32_t cs = 1u << 26;
  const std::pair<uint64_t, uint64_t> l1 = {cs, 2ULL * cs};
  const qcow2_l1_table t = {cs, 1};
  const qcow2_io io = {ZeroReader, const_cast<std::pair<uint64_t, uint64_t>*>(&l1), 64};
  uint64_t seen = 0;
  qcow2_walk_stats st;
  const qcow2_walk_err err = qcow2_walk_l2(&t, 1, cs, 3ULL * cs, &io, static_cast<uint8_t*>(p),
                                           mem_len, CountL2, &seen, &st);
  munmap(p, mem_len);
  EXPECT_EQ(QCOW2_WALK_OK, err);
  EXPECT_EQ(uint64_t{cs}, seen);
  EXPECT_EQ(1u, st.l2_tables);
}

// --- malformed tables ---------------------------------------------------

TEST(Qcow2Walk, MalformedL1EntriesAreRefusedBeforeTheyAreRead) {
  constexpr uint32_t kCs = 4096;
  const uint64_t bad[] = {
      10 * kCs + 512,          // not cluster-aligned
      10 * kCs + 2048,         // not cluster-aligned
      0x200,                   // inside the header cluster
      16 * kCs,                // at the end of the file
      1000 * kCs,              // past it
      0x00fffffffffff000ULL,   // the largest offset there is
  };
  for (uint64_t b : bad) {
    for (uint32_t where : {0u, 1u, 2u}) {
      SCOPED_TRACE(testing::Message() << std::hex << b << " at " << where);
      Image img(kCs, 16);
      img.AddL2(8);
      img.AddL2(9);
      std::vector<uint64_t> e = {img.Cluster(8) | kCopied, img.Cluster(9)};
      e.insert(e.begin() + where, b | kCopied);
      Walk w = WalkImage(img, {img.AddL1(img.Cluster(3), e)});
      EXPECT_EQ(QCOW2_WALK_TABLES, w.err);
      EXPECT_FALSE(ReadsTouch(w, b & 0x00fffffffffffe00ULL));
      EXPECT_TRUE(w.vis.visits.empty());  // refused while collecting
    }
  }
}

TEST(Qcow2Walk, L2TableInTheLastPartialSectorIsInsideTheFile) {
  // The reader returns zeroes past the end of the last sector's bytes, so
  // a table whose last bytes are in it is readable; one more sector is not.
  constexpr uint32_t kCs = 4096;
  Image img(kCs, 16);
  img.AddL2(15);
  const qcow2_l1_table t = img.AddL1(img.Cluster(3), {img.Cluster(15)});
  img.bytes.resize(16 * kCs - 511);
  Walk in = WalkImage(img, {t});
  EXPECT_EQ(QCOW2_WALK_OK, in.err);
  EXPECT_EQ(1u, in.vis.visits.size());
  img.bytes.resize(16 * kCs - 512);
  Walk out = WalkImage(img, {t});
  EXPECT_EQ(QCOW2_WALK_TABLES, out.err);
  EXPECT_FALSE(ReadsTouch(out, img.Cluster(15)));
}

TEST(Qcow2Walk, ReservedBitsOfL1EntriesAreMaskedNotRefused) {
  // qcow2_walk.h checks an entry's *offset* (bits 9-55): the reserved
  // bits 0-8 and 56-62 and the COPIED flag are masked off, as QEMU's own
  // reads do. An entry of only such bits is unallocated.
  constexpr uint32_t kCs = 4096;
  Image img(kCs, 16);
  img.AddL2(8);
  const uint64_t flags = (0x7fULL << 56) | 0x1ff | kCopied;
  Walk w = WalkImage(img, {img.AddL1(img.Cluster(3), {img.Cluster(8) | flags, flags})});
  ASSERT_EQ(QCOW2_WALK_OK, w.err);
  ASSERT_EQ(1u, w.vis.visits.size());
  EXPECT_EQ(img.Cluster(8), w.vis.visits[0].offset);
  EXPECT_EQ(1u, w.st.l1_entries);
}

TEST(Qcow2Walk, MalformedL1TablesAreRefused) {
  constexpr uint32_t kCs = 4096;
  Image img(kCs, 16);
  img.AddL2(8);
  const qcow2_l1_table good = img.AddL1(img.Cluster(3), {img.Cluster(8)});
  const qcow2_l1_table bad[] = {
      {0, 1},                              // the header cluster
      {kCs / 2, 1},                        // inside it, unaligned
      {5 * kCs + 8, 1},                    // unaligned
      {15 * kCs, kCs / 8 + 1},             // one entry past the end
      {16 * kCs, 1},                       // at the end
      {0xfffffffffffff000ULL, 1024},       // wraps
      {15 * kCs, 0xffffffffu},             // far too long
  };
  for (const qcow2_l1_table& b : bad) {
    SCOPED_TRACE(testing::Message() << std::hex << b.offset << " x " << b.entries);
    Walk alone = WalkImage(img, {b});
    EXPECT_EQ(QCOW2_WALK_TABLES, alone.err);
    EXPECT_EQ(0u, alone.rd.calls);  // refused before reading
    Walk after = WalkImage(img, {good, b});
    EXPECT_EQ(QCOW2_WALK_TABLES, after.err);
    EXPECT_FALSE(ReadsTouch(after, b.offset));
  }
  // Ending exactly at the end of the file is inside it.
  Walk last = WalkImage(img, {good, {15 * kCs, kCs / 8}});
  EXPECT_EQ(QCOW2_WALK_OK, last.err);
  EXPECT_EQ(2u, last.st.l1_tables);
  // So is a table ending in the partial last sector (QEMU writes its last
  // table with the exact length).
  Image cut = img;
  cut.bytes.resize(15 * kCs + 8);
  EXPECT_EQ(QCOW2_WALK_OK, WalkImage(cut, {good, {15 * kCs, 1}}).err);
  cut.bytes.resize(15 * kCs + 4);  // cut inside the entry
  EXPECT_EQ(QCOW2_WALK_TABLES, WalkImage(cut, {good, {15 * kCs, 1}}).err);
  // An empty table is not walked, wherever it says it is.
  Walk empty = WalkImage(img, {{0xdeadbeef, 0}, good});
  EXPECT_EQ(QCOW2_WALK_OK, empty.err);
  EXPECT_EQ(1u, empty.st.l1_tables);
  // A file whose last sector's end does not fit in 64 bits.
  Options o;
  o.file_bytes = UINT64_MAX - 100;
  EXPECT_EQ(QCOW2_WALK_TABLES, WalkImage(img, {good}, o).err);
}

// --- read errors and stopping -------------------------------------------

Image ManyTables(std::vector<qcow2_l1_table>* tables) {
  Image img(512, 8 + 100);
  std::vector<uint64_t> a, b;
  for (uint32_t i = 0; i < 100; i++) {
    img.AddL2(8 + i);
    (i % 2 ? a : b).push_back(img.Cluster(8 + i));
  }
  tables->push_back(img.AddL1(img.Cluster(2), a));
  tables->push_back(img.AddL1(img.Cluster(4), b));
  return img;
}

TEST(Qcow2Walk, ReadFailureStopsTheWalk) {
  std::vector<qcow2_l1_table> tables;
  Image img = ManyTables(&tables);
  Options o;
  o.max_batch = 8;
  Walk clean = WalkImage(img, tables, o);
  ASSERT_EQ(QCOW2_WALK_OK, clean.err);
  const uint32_t n = clean.rd.calls;
  ASSERT_EQ(2u + 13u, n);  // two L1 tables, 100 L2 tables 8 at a time
  for (uint32_t k = 1; k <= n; k++) {
    SCOPED_TRACE(k);
    o.fail_call = k;
    Walk w = WalkImage(img, tables, o);
    EXPECT_EQ(QCOW2_WALK_IO, w.err);
    EXPECT_EQ(k, w.rd.calls);
    EXPECT_EQ(0u, w.rd.calls_after_failure);
    // Only the batches read before the failure were visited.
    const size_t visited = k <= 2 ? 0 : std::min<size_t>(100, 8 * (k - 3));
    EXPECT_EQ(visited, w.vis.visits.size());
  }
}

TEST(Qcow2Walk, VisitorCanStopTheWalk) {
  std::vector<qcow2_l1_table> tables;
  Image img = ManyTables(&tables);
  for (size_t j : {1u, 5u, 8u, 9u, 99u, 100u}) {
    SCOPED_TRACE(j);
    Options o;
    o.max_batch = 8;
    o.stop_after = j;
    Walk w = WalkImage(img, tables, o);
    EXPECT_EQ(QCOW2_WALK_STOPPED, w.err);
    EXPECT_EQ(j, w.vis.visits.size());
    EXPECT_EQ(w.vis.calls_at_stop, w.rd.calls);  // nothing read after
    EXPECT_EQ(2u + (j + 7) / 8, w.rd.calls);
  }
}

// --- qcow2_sort_u64 ------------------------------------------------------

void ExpectSorts(std::vector<uint64_t> v) {
  std::vector<uint64_t> want = v;
  std::sort(want.begin(), want.end());
  qcow2_sort_u64(v.data(), v.size());
  EXPECT_EQ(want, v);
}

TEST(Qcow2SortU64, NoneOrOneElement) {
  qcow2_sort_u64(nullptr, 0);
  uint64_t one = 42;
  qcow2_sort_u64(&one, 1);
  EXPECT_EQ(42u, one);
  uint64_t two[2] = {7, 3};
  qcow2_sort_u64(two, 1);  // only the first is in the range
  EXPECT_EQ(7u, two[0]);
  EXPECT_EQ(3u, two[1]);
  qcow2_sort_u64(two, 2);
  EXPECT_EQ(3u, two[0]);
  EXPECT_EQ(7u, two[1]);
}

TEST(Qcow2SortU64, RandomArrays) {
  std::mt19937_64 rng(20240611);
  for (size_t n = 0; n < 300; n++) {
    std::vector<uint64_t> v(n);
    for (auto& x : v) x = rng();
    ExpectSorts(v);
  }
  for (size_t n : {1000u, 4097u, 65536u}) {
    std::vector<uint64_t> v(n);
    for (auto& x : v) x = rng();
    ExpectSorts(v);
  }
}

TEST(Qcow2SortU64, Duplicates) {
  std::mt19937_64 rng(7);
  for (uint64_t range : {1u, 2u, 3u, 10u}) {
    for (size_t n : {2u, 3u, 17u, 64u, 513u}) {
      std::vector<uint64_t> v(n);
      for (auto& x : v) x = rng() % range;
      ExpectSorts(v);
    }
  }
  ExpectSorts(std::vector<uint64_t>(100, 5));
  ExpectSorts({UINT64_MAX, 0, UINT64_MAX, 1, 0, UINT64_MAX - 1});
}

TEST(Qcow2SortU64, OrderedInputs) {
  std::vector<uint64_t> up(1000), down(1000), organ(1001);
  for (size_t i = 0; i < 1000; i++) {
    up[i] = i * 512;
    down[i] = (1000 - i) * 512;
  }
  for (size_t i = 0; i < organ.size(); i++) organ[i] = i < 500 ? i : 1000 - i;
  ExpectSorts(up);
  ExpectSorts(down);
  ExpectSorts(organ);
}

}  // namespace
