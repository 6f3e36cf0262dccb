// qcow2_snapshot_test.cc — the snapshot table (src/qcow2/qcow2_snapshot.h)
// on its own: qcow2_snapshot_parse over entries serialised by hand as the
// qcow2 specification lays them out (big-endian fixed part, extra data,
// id, name, padding to 8) and every refusal; then qcow2_snapshot_walk
// over tables in memory: entries straddling read windows, the entry
// count, truncated and malformed tables, read errors, a visitor that
// stops, and the least window.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "src/qcow2/qcow2_header.h"
#include "src/qcow2/qcow2_snapshot.h"

namespace {

void PutBe(std::vector<uint8_t>& b, size_t off, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) b[off + i] = static_cast<uint8_t>(v >> (8 * (bytes - 1 - i)));
}

size_t RoundUp8(size_t n) { return (n + 7) / 8 * 8; }

// One snapshot table entry. The declared lengths are the true ones
// unless set (to make hostile entries).
struct Snap {
  uint64_t l1_offset = 0x50000;
  uint32_t l1_size = 1;
  std::string id = "1";
  std::string name = "snap";
  uint32_t date_sec = 0;
  uint32_t date_nsec = 0;
  uint64_t vm_clock_ns = 0;
  uint32_t vm_state_size = 0;
  std::vector<uint8_t> extra;
  int64_t id_len = -1;
  int64_t name_len = -1;
  int64_t extra_len = -1;
};

// Byte 0-7 l1_table_offset, 8-11 l1_size, 12-13 id_str_size, 14-15
// name_size, 16-19 date_sec, 20-23 date_nsec, 24-31 vm_clock_nsec, 32-35
// vm_state_size, 36-39 extra_data_size, then the extra data, the id, the
// name, and zeroes to the next multiple of 8 (unless !pad).
std::vector<uint8_t> Serialise(const Snap& s, bool pad = true) {
  std::vector<uint8_t> b(40, 0);
  PutBe(b, 0, s.l1_offset, 8);
  PutBe(b, 8, s.l1_size, 4);
  PutBe(b, 12, s.id_len >= 0 ? uint64_t(s.id_len) : s.id.size(), 2);
  PutBe(b, 14, s.name_len >= 0 ? uint64_t(s.name_len) : s.name.size(), 2);
  PutBe(b, 16, s.date_sec, 4);
  PutBe(b, 20, s.date_nsec, 4);
  PutBe(b, 24, s.vm_clock_ns, 8);
  PutBe(b, 32, s.vm_state_size, 4);
  PutBe(b, 36, s.extra_len >= 0 ? uint64_t(s.extra_len) : s.extra.size(), 4);
  b.insert(b.end(), s.extra.begin(), s.extra.end());
  b.insert(b.end(), s.id.begin(), s.id.end());
  b.insert(b.end(), s.name.begin(), s.name.end());
  if (pad) b.resize(RoundUp8(b.size()), 0);
  return b;
}

// Extra data of `len` bytes: vm_state_size_large, disk_size, icount (as
// far as they fit), then 0xa5 filler.
std::vector<uint8_t> Extra(size_t len, uint64_t vm_state_large, uint64_t disk, uint64_t icount) {
  std::vector<uint8_t> e(std::max<size_t>(len, 24), 0xa5);
  PutBe(e, 0, vm_state_large, 8);
  PutBe(e, 8, disk, 8);
  PutBe(e, 16, icount, 8);
  e.resize(len);
  return e;
}

// Parse the first `len` bytes of `b` from a heap block of exactly `len`
// bytes, so that a read past them is an ASan error.
qcow2_err ParseExact(const std::vector<uint8_t>& b, size_t len, qcow2_snapshot* s) {
  std::unique_ptr<uint8_t[]> p(new uint8_t[len + (len == 0)]);
  memcpy(p.get(), b.data(), std::min(len, b.size()));
  return qcow2_snapshot_parse(p.get(), len, s);
}

// --- qcow2_snapshot_parse -------------------------------------------------

TEST(Qcow2SnapshotParse, DecodesEveryBigEndianField) {
  Snap in;
  in.l1_offset = 0x1122334455667788ULL;
  in.l1_size = 0x99aabbccu;
  in.id = "12";
  in.name = "nightly build";
  in.date_sec = 0x01020304u;
  in.date_nsec = 0x05060708u;
  in.vm_clock_ns = 0x0a0b0c0d0e0f1011ULL;
  in.vm_state_size = 0x21222324u;
  in.extra = Extra(24, 0x3132333435363738ULL, 0x4142434445464748ULL, 0x5152535455565758ULL);
  std::vector<uint8_t> b = Serialise(in);
  ASSERT_EQ(80u, b.size());  // 40 + 24 + 2 + 13 = 79, padded
  Snap next;
  next.l1_offset = 0xffffffffffffffffULL;  // a following entry, ignored
  std::vector<uint8_t> after = Serialise(next);
  b.insert(b.end(), after.begin(), after.end());
  qcow2_snapshot s;
  ASSERT_EQ(QCOW2_OK, ParseExact(b, b.size(), &s));
  EXPECT_EQ(0x1122334455667788ULL, s.l1_offset);
  EXPECT_EQ(0x99aabbccu, s.l1_size);
  EXPECT_EQ(2u, s.id_len);
  EXPECT_EQ(13u, s.name_len);
  EXPECT_EQ(0x01020304u, s.date_sec);
  EXPECT_EQ(0x05060708u, s.date_nsec);
  EXPECT_EQ(0x0a0b0c0d0e0f1011ULL, s.vm_clock_ns);
  EXPECT_EQ(0x21222324u, s.vm_state_size);
  EXPECT_EQ(24u, s.extra_len);
  EXPECT_TRUE(s.has_vm_state_size_large);
  EXPECT_EQ(0x3132333435363738ULL, s.vm_state_size_large);
  EXPECT_TRUE(s.has_disk_size);
  EXPECT_EQ(0x4142434445464748ULL, s.disk_size);
  EXPECT_TRUE(s.has_icount);
  EXPECT_EQ(0x5152535455565758ULL, s.icount);
  EXPECT_EQ(64u, s.id_off);
  EXPECT_EQ(66u, s.name_off);
  EXPECT_EQ(80u, s.entry_len);
  EXPECT_EQ("12", std::string(reinterpret_cast<const char*>(b.data()) + s.id_off, s.id_len));
  EXPECT_EQ("nightly build",
            std::string(reinterpret_cast<const char*>(b.data()) + s.name_off, s.name_len));
}

TEST(Qcow2SnapshotParse, ExtraDataFieldsOnlyWhenLongEnough) {
  for (size_t len : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 23u, 24u, 25u, 32u, 40u, 1024u}) {
    SCOPED_TRACE(len);
    Snap in;
    in.extra = Extra(len, 0x1000000000000001ULL, 0x2000000000000002ULL, 0x3000000000000003ULL);
    std::vector<uint8_t> b = Serialise(in);
    qcow2_snapshot s;
    ASSERT_EQ(QCOW2_OK, ParseExact(b, b.size(), &s));
    EXPECT_EQ(len, s.extra_len);
    EXPECT_EQ(len >= 8, s.has_vm_state_size_large);
    EXPECT_EQ(len >= 8 ? 0x1000000000000001ULL : 0, s.vm_state_size_large);
    EXPECT_EQ(len >= 16, s.has_disk_size);
    EXPECT_EQ(len >= 16 ? 0x2000000000000002ULL : 0, s.disk_size);
    EXPECT_EQ(len >= 24, s.has_icount);
    EXPECT_EQ(len >= 24 ? 0x3000000000000003ULL : 0, s.icount);
    EXPECT_EQ(40u + len, s.id_off);
    EXPECT_EQ(40u + len + 1, s.name_off);
    EXPECT_EQ(RoundUp8(40 + len + 1 + 4), s.entry_len);
    EXPECT_EQ('1', b[s.id_off]);
    EXPECT_EQ(0, memcmp(b.data() + s.name_off, "snap", 4));
  }
}

TEST(Qcow2SnapshotParse, EntryLenIsPaddedTo8AndEveryByteIsNeeded) {
  for (size_t extra : {0u, 8u, 13u, 16u, 24u}) {
    for (size_t id = 0; id < 10; id++) {
      for (size_t name = 0; name < 10; name++) {
        SCOPED_TRACE(testing::Message() << extra << " " << id << " " << name);
        Snap in;
        in.extra = Extra(extra, 1, 2, 3);
        in.id = std::string(id, 'i');
        in.name = std::string(name, 'n');
        const std::vector<uint8_t> b = Serialise(in);
        const size_t want = RoundUp8(40 + extra + id + name);
        ASSERT_EQ(want, b.size());
        qcow2_snapshot s;
        ASSERT_EQ(QCOW2_OK, ParseExact(b, want, &s));
        EXPECT_EQ(want, s.entry_len);
        EXPECT_EQ(0u, s.entry_len % 8);
        EXPECT_LE(size_t{s.name_off} + s.name_len, s.entry_len);
        // One byte fewer, padding included, is not the whole entry.
        EXPECT_EQ(QCOW2_ERR_TRUNCATED, ParseExact(b, want - 1, &s));
      }
    }
  }
}

TEST(Qcow2SnapshotParse, ShortBuffersAreTruncated) {
  qcow2_snapshot s;
  EXPECT_EQ(QCOW2_ERR_TRUNCATED, qcow2_snapshot_parse(nullptr, 100, &s));
  Snap in;
  in.extra = Extra(16, 1, 2, 3);
  in.id = "abc";
  in.name = "snap01";  // 40 + 16 + 3 + 6 = 65: 7 bytes of padding
  const std::vector<uint8_t> b = Serialise(in);
  ASSERT_EQ(72u, b.size());
  for (size_t len = 0; len < b.size(); len++) {
    // len < 40: the fixed part; < 56: the extra data; < 59: the id;
    // < 65: the name; < 72: the padding.
    EXPECT_EQ(QCOW2_ERR_TRUNCATED, ParseExact(b, len, &s)) << len;
  }
  EXPECT_EQ(QCOW2_OK, ParseExact(b, b.size(), &s));
  // Declared lengths larger than the bytes there are.
  for (int which = 0; which < 3; which++) {
    Snap lie = in;
    (which == 0 ? lie.extra_len : which == 1 ? lie.id_len : lie.name_len) = 1000;
    std::vector<uint8_t> lb = Serialise(lie);
    lb.resize(512, 0);
    EXPECT_EQ(QCOW2_ERR_TRUNCATED, ParseExact(lb, lb.size(), &s)) << which;
    lb.resize(2048, 0);
    EXPECT_EQ(QCOW2_OK, ParseExact(lb, lb.size(), &s)) << which;
  }
}

TEST(Qcow2SnapshotParse, ExtraDataOverQemusLimitIsRefused) {
  Snap in;
  in.extra = Extra(QCOW2_SNAPSHOT_MAX_EXTRA, 1, 2, 3);
  qcow2_snapshot s;
  std::vector<uint8_t> b = Serialise(in);
  EXPECT_EQ(QCOW2_OK, ParseExact(b, b.size(), &s));
  in.extra = Extra(QCOW2_SNAPSHOT_MAX_EXTRA + 1, 1, 2, 3);
  b = Serialise(in);
  EXPECT_EQ(QCOW2_ERR_EXTENSION, ParseExact(b, b.size(), &s));
  // Reading more would not help: refused as soon as the fixed part is in.
  Snap huge;
  huge.extra_len = 0xffffffff;
  b = Serialise(huge);
  EXPECT_EQ(QCOW2_ERR_EXTENSION, ParseExact(b, 40, &s));
  EXPECT_EQ(QCOW2_ERR_TRUNCATED, ParseExact(b, 39, &s));
}

TEST(Qcow2SnapshotParse, TheLongestEntry) {
  Snap in;
  in.extra = Extra(QCOW2_SNAPSHOT_MAX_EXTRA, 1, 2, 3);
  in.id = std::string(65535, 'i');
  in.name = std::string(65535, 'n');
  const std::vector<uint8_t> b = Serialise(in);
  qcow2_snapshot s;
  ASSERT_EQ(QCOW2_OK, ParseExact(b, b.size(), &s));
  EXPECT_EQ(65535u, s.id_len);
  EXPECT_EQ(65535u, s.name_len);
  EXPECT_EQ(40u + 1024 + 65535 + 65535, size_t{s.name_off} + s.name_len);
  EXPECT_EQ(RoundUp8(40 + 1024 + 2 * 65535), s.entry_len);
  EXPECT_LE(s.entry_len, QCOW2_SNAPSHOT_MAX_ENTRY);
  EXPECT_EQ(QCOW2_ERR_TRUNCATED, ParseExact(b, b.size() - 1, &s));
}

TEST(Qcow2SnapshotParse, L1SizeIsLeftToTheCaller) {
  // qcow2_snapshot.h bounds only the extra data; QCOW2_SNAPSHOT_MAX_L1
  // is for the callers to apply (src/amend/amend_scan.c does).
  for (uint32_t l1 : {QCOW2_SNAPSHOT_MAX_L1, QCOW2_SNAPSHOT_MAX_L1 + 1, 0xffffffffu}) {
    Snap in;
    in.l1_size = l1;
    const std::vector<uint8_t> b = Serialise(in);
    qcow2_snapshot s;
    ASSERT_EQ(QCOW2_OK, ParseExact(b, b.size(), &s));
    EXPECT_EQ(l1, s.l1_size);
  }
}

// --- qcow2_snapshot_walk ------------------------------------------------

constexpr size_t kMinWindow = size_t{QCOW2_SNAPSHOT_MIN_WINDOW};

// A file with a snapshot table at `offset`: the entries, back to back.
struct Table {
  std::vector<uint8_t> file;
  uint64_t offset;
  std::vector<uint64_t> pos;  // where each entry starts
  std::vector<std::vector<uint8_t>> entries;

  explicit Table(uint64_t off) : file(off, 0xcc), offset(off) {}

  void Add(const Snap& s) { AddBytes(Serialise(s)); }
  void AddBytes(const std::vector<uint8_t>& e) {
    pos.push_back(file.size());
    entries.push_back(e);
    file.insert(file.end(), e.begin(), e.end());
  }
};

struct Reader {
  const std::vector<uint8_t>* file = nullptr;
  uint64_t file_bytes = 0;
  const uint8_t* window = nullptr;
  size_t window_len = 0;
  uint32_t fail_call = 0;  // 1-based; 0: never
  bool failed = false;
  uint32_t calls = 0;
  uint32_t calls_after_failure = 0;
  std::vector<std::pair<uint64_t, uint32_t>> reads;
};

bool ReadWindow(void* ctx, const qcow2_read* r, uint32_t n) {
  auto* rd = static_cast<Reader*>(ctx);
  if (rd->failed) rd->calls_after_failure++;
  rd->calls++;
  EXPECT_EQ(1u, n);
  const uint64_t sectors_end = (rd->file_bytes + 511) / 512 * 512;
  for (uint32_t i = 0; i < n; i++) {
    const uint64_t off = r[i].offset, len = r[i].len;
    rd->reads.emplace_back(off, r[i].len);
    const bool ok = off % 512 == 0 && len % 512 == 0 && len > 0 && off < sectors_end &&
                    len <= sectors_end - off && r[i].buf >= rd->window &&
                    r[i].buf + len <= rd->window + rd->window_len;
    EXPECT_TRUE(ok) << "read of " << len << " at " << off;
    if (!ok) return false;
    const uint64_t end = std::min<uint64_t>({off + len, rd->file->size(), rd->file_bytes});
    const uint64_t have = end > off ? end - off : 0;
    if (have) memcpy(r[i].buf, rd->file->data() + off, have);
    memset(r[i].buf + have, 0, len - have);
  }
  if (rd->calls == rd->fail_call) {
    rd->failed = true;
    return false;
  }
  return true;
}

struct Seen {
  uint32_t index;
  qcow2_snapshot s;
  std::vector<uint8_t> bytes;
};

struct Visitor {
  const uint8_t* window = nullptr;
  size_t window_len = 0;
  uint32_t stop_at = UINT32_MAX;  // return false for this index
  uint32_t calls_at_stop = 0;
  const Reader* rd = nullptr;
  std::vector<Seen> seen;
};

bool VisitEntry(void* ctx, uint32_t index, const qcow2_snapshot* s, const uint8_t* entry) {
  auto* v = static_cast<Visitor*>(ctx);
  // The entry is handed over whole, inside the window.
  EXPECT_GE(entry, v->window);
  EXPECT_LE(entry + s->entry_len, v->window + v->window_len);
  v->seen.push_back({index, *s, std::vector<uint8_t>(entry, entry + s->entry_len)});
  if (index == v->stop_at) {
    v->calls_at_stop = v->rd->calls;
    return false;
  }
  return true;
}

struct WalkResult {
  qcow2_snapshot_walk_err err;
  Reader rd;
  Visitor vis;
};

struct WalkOptions {
  size_t window_len = kMinWindow;
  uint32_t nb = UINT32_MAX;  // UINT32_MAX: every entry added
  uint64_t file_bytes = UINT64_MAX;  // UINT64_MAX: the file's size
  uint32_t fail_call = 0;
  uint32_t stop_at = UINT32_MAX;
};

WalkResult WalkTable(const Table& t, const WalkOptions& o = {}) {
  WalkResult w;
  std::unique_ptr<uint8_t[]> window(new uint8_t[o.window_len]);  // exact: ASan sees overruns
  qcow2_header h = {};
  h.snapshots_offset = t.offset;
  h.nb_snapshots = o.nb == UINT32_MAX ? static_cast<uint32_t>(t.entries.size()) : o.nb;
  w.rd.file = &t.file;
  w.rd.file_bytes = o.file_bytes == UINT64_MAX ? t.file.size() : o.file_bytes;
  w.rd.window = window.get();
  w.rd.window_len = o.window_len;
  w.rd.fail_call = o.fail_call;
  w.vis.window = window.get();
  w.vis.window_len = o.window_len;
  w.vis.stop_at = o.stop_at;
  w.vis.rd = &w.rd;
  const qcow2_io io = {ReadWindow, &w.rd, 64};
  w.err = qcow2_snapshot_walk(&h, w.rd.file_bytes, &io, window.get(), o.window_len, VisitEntry,
                              &w.vis);
  return w;
}

void ExpectSameSnapshot(const qcow2_snapshot& a, const qcow2_snapshot& b, size_t i) {
  SCOPED_TRACE(testing::Message() << "entry " << i);
  EXPECT_EQ(a.l1_offset, b.l1_offset);
  EXPECT_EQ(a.l1_size, b.l1_size);
  EXPECT_EQ(a.id_len, b.id_len);
  EXPECT_EQ(a.name_len, b.name_len);
  EXPECT_EQ(a.date_sec, b.date_sec);
  EXPECT_EQ(a.date_nsec, b.date_nsec);
  EXPECT_EQ(a.vm_clock_ns, b.vm_clock_ns);
  EXPECT_EQ(a.vm_state_size, b.vm_state_size);
  EXPECT_EQ(a.extra_len, b.extra_len);
  EXPECT_EQ(a.has_vm_state_size_large, b.has_vm_state_size_large);
  EXPECT_EQ(a.vm_state_size_large, b.vm_state_size_large);
  EXPECT_EQ(a.has_disk_size, b.has_disk_size);
  EXPECT_EQ(a.disk_size, b.disk_size);
  EXPECT_EQ(a.has_icount, b.has_icount);
  EXPECT_EQ(a.icount, b.icount);
  EXPECT_EQ(a.id_off, b.id_off);
  EXPECT_EQ(a.name_off, b.name_off);
  EXPECT_EQ(a.entry_len, b.entry_len);
}

// Every entry visited, in order, with its own bytes and fields.
void ExpectAllSeen(const Table& t, const WalkResult& w, size_t n) {
  ASSERT_EQ(n, w.vis.seen.size());
  for (size_t i = 0; i < n; i++) {
    EXPECT_EQ(i, w.vis.seen[i].index);
    EXPECT_EQ(t.entries[i], w.vis.seen[i].bytes) << "entry " << i;
    qcow2_snapshot want;
    ASSERT_EQ(QCOW2_OK, qcow2_snapshot_parse(t.entries[i].data(), t.entries[i].size(), &want));
    ExpectSameSnapshot(want, w.vis.seen[i].s, i);
  }
}

Snap Numbered(uint32_t i, size_t name_len, size_t extra_len = 24) {
  Snap s;
  s.l1_offset = 0x100000 + uint64_t{i} * 0x10000;
  s.l1_size = i;
  s.id = std::to_string(i + 1);
  s.name = std::string(name_len, static_cast<char>('a' + i % 26));
  s.date_sec = i;
  s.extra = Extra(extra_len, i, uint64_t{i} << 20, i * 3);
  return s;
}

TEST(Qcow2SnapshotWalk, WalksEveryEntryInTableOrder) {
  Table t(0x20000);
  t.Add(Numbered(0, 4, 0));
  t.Add(Numbered(1, 0, 16));
  t.Add(Numbered(2, 300, 24));
  t.Add(Numbered(3, 7, 1024));
  t.Add(Numbered(4, 1, 8));
  WalkResult w = WalkTable(t);
  ASSERT_EQ(QCOW2_SNAPSHOTS_OK, w.err);
  ExpectAllSeen(t, w, 5);
  EXPECT_EQ(1u, w.rd.calls);  // the whole table in one window
  EXPECT_EQ(t.offset, w.rd.reads[0].first);
}

TEST(Qcow2SnapshotWalk, EntriesStraddlingReadWindows) {
  // About 1.2 MiB of entries, some of them long, through windows of the
  // least size and a few more: refills land inside entries, which must
  // still be handed over whole and right.
  Table t(0x30000);
  for (uint32_t i = 0; i < 3000; i++)
    t.Add(Numbered(i, i % 97 == 5 ? 60000 + i : (i * 37) % 500, i % 4 == 0 ? 0 : 24));
  for (size_t window : {kMinWindow, kMinWindow + 8, kMinWindow + 512, 3 * kMinWindow + 100,
                        size_t{1} << 20}) {
    SCOPED_TRACE(window);
    WalkOptions o;
    o.window_len = window;
    WalkResult w = WalkTable(t, o);
    ASSERT_EQ(QCOW2_SNAPSHOTS_OK, w.err);
    ExpectAllSeen(t, w, t.entries.size());
    EXPECT_GE(w.rd.calls, (t.file.size() - t.offset) / window);
    // Some entry began inside a window and ended past it.
    size_t straddled = 0;
    for (const auto& r : w.rd.reads) {
      const uint64_t end = r.first + r.second;
      for (size_t i = 0; i < t.pos.size(); i++)
        if (t.pos[i] >= r.first && t.pos[i] < end && t.pos[i] + t.entries[i].size() > end)
          straddled++;
    }
    EXPECT_GT(straddled, 0u);
    for (const auto& r : w.rd.reads) EXPECT_LE(r.second, window);
  }
}

TEST(Qcow2SnapshotWalk, OnlyTheCountedEntriesAreWalked) {
  Table t(0x10000);
  for (uint32_t i = 0; i < 10; i++) t.Add(Numbered(i, i));
  t.file.resize(t.file.size() + 4096, 0xff);  // not entries: never parsed
  WalkOptions o;
  o.nb = 4;
  WalkResult w = WalkTable(t, o);
  ASSERT_EQ(QCOW2_SNAPSHOTS_OK, w.err);
  ExpectAllSeen(t, w, 4);
  o.nb = 0;
  WalkResult none = WalkTable(t, o);
  EXPECT_EQ(QCOW2_SNAPSHOTS_OK, none.err);
  EXPECT_TRUE(none.vis.seen.empty());
  EXPECT_EQ(0u, none.rd.calls);
}

TEST(Qcow2SnapshotWalk, TruncatedTablesAreRefused) {
  Table t(0x10000);
  for (uint32_t i = 0; i < 10; i++) t.Add(Numbered(i, 10 + i));
  // One entry more than the file holds.
  WalkOptions o;
  o.nb = 11;
  WalkResult more = WalkTable(t, o);
  EXPECT_EQ(QCOW2_SNAPSHOTS_TABLE, more.err);
  EXPECT_EQ(10u, more.vis.seen.size());
  // The file cut inside the last entry's name (its last byte: 84 of 85,
  // padded to 88; or more), and inside its fixed part (the rest of that
  // sector reads as zeroes: still refused).
  ASSERT_EQ(88u, t.entries[9].size());
  for (size_t keep : {size_t{84}, size_t{70}, size_t{20}, size_t{1}}) {
    SCOPED_TRACE(keep);
    Table cut = t;
    cut.file.resize(t.pos[9] + keep);
    WalkResult w = WalkTable(cut);
    EXPECT_EQ(QCOW2_SNAPSHOTS_TABLE, w.err);
    EXPECT_EQ(9u, w.vis.seen.size());
  }
  // A table starting at or past the end of the file.
  Table past = t;
  past.file.resize(t.offset);
  WalkResult p = WalkTable(past);
  EXPECT_EQ(QCOW2_SNAPSHOTS_TABLE, p.err);
  EXPECT_EQ(0u, p.rd.calls);
  // A file whose last sector's end overflows.
  o = {};
  o.file_bytes = UINT64_MAX - 10;
  EXPECT_EQ(QCOW2_SNAPSHOTS_TABLE, WalkTable(t, o).err);
}

TEST(Qcow2SnapshotWalk, AMalformedEntryStopsTheWalk) {
  for (int which = 0; which < 2; which++) {
    Table t(0x10000);
    for (uint32_t i = 0; i < 6; i++) {
      Snap s = Numbered(i, 5);
      if (i == 3 && which == 0) s.extra_len = QCOW2_SNAPSHOT_MAX_EXTRA + 1;
      if (i == 3 && which == 1) s.name_len = 60000;  // runs past the file
      t.Add(s);
    }
    WalkResult w = WalkTable(t);
    EXPECT_EQ(QCOW2_SNAPSHOTS_TABLE, w.err) << which;
    EXPECT_EQ(3u, w.vis.seen.size()) << which;
  }
}

TEST(Qcow2SnapshotWalk, ReadFailureStopsTheWalk) {
  Table t(0x10000);
  for (uint32_t i = 0; i < 1000; i++) t.Add(Numbered(i, 400));  // ~470 KiB
  WalkResult clean = WalkTable(t);
  ASSERT_EQ(QCOW2_SNAPSHOTS_OK, clean.err);
  ASSERT_GE(clean.rd.calls, 3u);
  for (uint32_t k = 1; k <= clean.rd.calls; k++) {
    SCOPED_TRACE(k);
    WalkOptions o;
    o.fail_call = k;
    WalkResult w = WalkTable(t, o);
    EXPECT_EQ(QCOW2_SNAPSHOTS_IO, w.err);
    EXPECT_EQ(k, w.rd.calls);
    EXPECT_EQ(0u, w.rd.calls_after_failure);
    EXPECT_LT(w.vis.seen.size(), t.entries.size());
    // What was visited came from the reads that succeeded.
    for (size_t i = 0; i < w.vis.seen.size(); i++) EXPECT_EQ(t.entries[i], w.vis.seen[i].bytes);
  }
}

TEST(Qcow2SnapshotWalk, VisitorCanStopTheWalk) {
  Table t(0x10000);
  for (uint32_t i = 0; i < 1000; i++) t.Add(Numbered(i, 400));
  for (uint32_t stop : {0u, 1u, 500u, 999u}) {
    SCOPED_TRACE(stop);
    WalkOptions o;
    o.stop_at = stop;
    WalkResult w = WalkTable(t, o);
    EXPECT_EQ(QCOW2_SNAPSHOTS_STOPPED, w.err);
    EXPECT_EQ(stop + 1, w.vis.seen.size());
    EXPECT_EQ(w.vis.calls_at_stop, w.rd.calls);  // nothing read after
  }
}

TEST(Qcow2SnapshotWalk, WindowSmallerThanTheLongestEntryIsRefused) {
  Table t(0x10000);
  t.Add(Numbered(0, 3));
  WalkOptions o;
  o.window_len = kMinWindow - 1;
  WalkResult w = WalkTable(t, o);
  EXPECT_EQ(QCOW2_SNAPSHOTS_MEMORY, w.err);
  EXPECT_EQ(0u, w.rd.calls);
  o.window_len = kMinWindow;
  EXPECT_EQ(QCOW2_SNAPSHOTS_OK, WalkTable(t, o).err);
  // Missing arguments.
  std::vector<uint8_t> window(kMinWindow);
  qcow2_header h = {};
  h.snapshots_offset = t.offset;
  h.nb_snapshots = 1;
  Reader rd;
  rd.file = &t.file;
  rd.file_bytes = t.file.size();
  rd.window = window.data();
  rd.window_len = window.size();
  Visitor vis;
  vis.window = window.data();
  vis.window_len = window.size();
  vis.rd = &rd;
  const qcow2_io io = {ReadWindow, &rd, 64};
  const qcow2_io no_read = {nullptr, &rd, 64};
  const uint64_t fb = t.file.size();
  EXPECT_EQ(QCOW2_SNAPSHOTS_MEMORY,
            qcow2_snapshot_walk(nullptr, fb, &io, window.data(), window.size(), VisitEntry, &vis));
  EXPECT_EQ(QCOW2_SNAPSHOTS_MEMORY,
            qcow2_snapshot_walk(&h, fb, nullptr, window.data(), window.size(), VisitEntry, &vis));
  EXPECT_EQ(QCOW2_SNAPSHOTS_MEMORY,
            qcow2_snapshot_walk(&h, fb, &no_read, window.data(), window.size(), VisitEntry, &vis));
  EXPECT_EQ(QCOW2_SNAPSHOTS_MEMORY,
            qcow2_snapshot_walk(&h, fb, &io, nullptr, window.size(), VisitEntry, &vis));
  EXPECT_EQ(QCOW2_SNAPSHOTS_MEMORY,
            qcow2_snapshot_walk(&h, fb, &io, window.data(), window.size(), nullptr, &vis));
  EXPECT_EQ(0u, rd.calls);
  EXPECT_EQ(QCOW2_SNAPSHOTS_OK,
            qcow2_snapshot_walk(&h, fb, &io, window.data(), window.size(), VisitEntry, &vis));
  EXPECT_EQ(1u, vis.seen.size());
}

// The longest entry there can be, at `misalign` bytes into a sector.
Table LongestEntryAt(size_t misalign) {
  Table t(0x10000);
  if (misalign != 0) {
    Snap pad;  // a first entry of exactly `misalign` bytes
    pad.id = "";
    pad.name = std::string(misalign - 40, 'p');
    t.Add(pad);
  }
  Snap big;
  big.extra = Extra(QCOW2_SNAPSHOT_MAX_EXTRA, 1, 2, 3);
  big.id = std::string(65535, 'i');
  big.name = std::string(65535, 'n');
  t.Add(big);
  t.Add(Numbered(7, 3));
  return t;
}

TEST(Qcow2SnapshotWalk, TheLongestEntryFitsTheLeastWindowFromASectorStart) {
  Table t = LongestEntryAt(0);
  WalkResult w = WalkTable(t);
  ASSERT_EQ(QCOW2_SNAPSHOTS_OK, w.err);
  ExpectAllSeen(t, w, 2);  // the longest entry and one after it
  // Late in a sector it needs a window of one more sector.
  Table late = LongestEntryAt(504);
  ASSERT_EQ(0x10000u + 504, late.pos[1]);
  WalkOptions o;
  o.window_len = kMinWindow + 512;
  WalkResult wl = WalkTable(late, o);
  ASSERT_EQ(QCOW2_SNAPSHOTS_OK, wl.err);
  ExpectAllSeen(late, wl, 3);
}

// The least window holds the longest entry (132136 bytes) wherever it
// starts in its first sector: the walk refills from the sector holding
// the entry. (A minimum of QCOW2_SNAPSHOT_MAX_ENTRY + 512, rounded down
// to sectors, refused this table QEMU accepts.)
TEST(Qcow2SnapshotWalk, TheLongestEntryFitsTheLeastWindowAnywhere) {
  Table t = LongestEntryAt(504);
  WalkResult w = WalkTable(t);
  EXPECT_EQ(QCOW2_SNAPSHOTS_OK, w.err);
  EXPECT_EQ(3u, w.vis.seen.size());
}

// The table qemu-img 7.2 writes for `qemu-img snapshot -c s` on a fresh
// image: one entry (24 bytes of extra data, id "1", name "s") of 66
// bytes, the last bytes of the file. Its 6 bytes of padding are past the
// end of the file.
Table QemuImgSnapshotTable() {
  Table t(0x50000);
  Snap s;
  s.l1_offset = 0x40000;
  s.id = "1";
  s.name = "s";
  s.extra = Extra(24, 0, 64 << 20, UINT64_MAX);
  t.AddBytes(Serialise(s, /*pad=*/false));
  return t;
}

TEST(Qcow2SnapshotWalk, LastEntryEndingMidSectorAtEof) {
  // The guest passes the device's size: whole sectors. The padding then
  // reads as zeroes and the entry is accepted.
  Table t = QemuImgSnapshotTable();
  ASSERT_EQ(0x50000u + 66, t.file.size());
  WalkOptions o;
  o.file_bytes = (t.file.size() + 511) / 512 * 512;
  WalkResult w = WalkTable(t, o);
  ASSERT_EQ(QCOW2_SNAPSHOTS_OK, w.err);
  ASSERT_EQ(1u, w.vis.seen.size());
  EXPECT_EQ(72u, w.vis.seen[0].s.entry_len);
  EXPECT_EQ(64u << 20, w.vis.seen[0].s.disk_size);
  // A last entry padded to 8 and ending mid-sector, at the exact size.
  Table padded(0x50000);
  padded.Add(Numbered(0, 7));
  EXPECT_EQ(QCOW2_SNAPSHOTS_OK, WalkTable(padded).err);
}

// With the exact file size too (tests/tools/plan_apply.c and
// tests/crash/commit_crash_driver.c pass st_size): the table qemu-img
// wrote, whose last entry's padding lies past the end of the file, is
// accepted, as QEMU accepts it; an entry whose name runs past the end is
// not.
TEST(Qcow2SnapshotWalk, QemuImgTableWithItsPaddingPastEofAtTheExactSize) {
  Table t = QemuImgSnapshotTable();
  WalkResult w = WalkTable(t);
  EXPECT_EQ(QCOW2_SNAPSHOTS_OK, w.err);
  ASSERT_EQ(1u, w.vis.seen.size());
  EXPECT_EQ(72u, w.vis.seen[0].s.entry_len);
  // The same table ending exactly at a sector boundary (padding past it).
  Table at_sector(0x50000 - 66 + 512);
  Snap s;
  s.l1_offset = 0x40000;
  s.id = "1";
  s.name = "s";
  s.extra = Extra(24, 0, 64 << 20, UINT64_MAX);
  at_sector.AddBytes(Serialise(s, /*pad=*/false));
  ASSERT_EQ(0u, at_sector.file.size() % 512);
  EXPECT_EQ(QCOW2_SNAPSHOTS_OK, WalkTable(at_sector).err);
  // One byte of the name cut off: refused.
  Table cut = QemuImgSnapshotTable();
  cut.file.pop_back();
  EXPECT_EQ(QCOW2_SNAPSHOTS_TABLE, WalkTable(cut).err);
}

}  // namespace
