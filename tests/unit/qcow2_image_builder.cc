// qcow2_image_builder.cc — see qcow2_image_builder.h.
#include "tests/unit/qcow2_image_builder.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>

#include "tests/unit/header_builder.h"

namespace {

constexpr uint64_t kOffsetMask = 0x00fffffffffffe00ULL;  // L1/L2 entries
constexpr size_t kSnapshotHead = 40;
constexpr size_t kSnapshotExtra = 16;  // vm_state_size_large, disk_size

void PutBe16(std::vector<uint8_t>& b, size_t off, uint16_t v) {
  b.at(off) = static_cast<uint8_t>(v >> 8);
  b.at(off + 1) = static_cast<uint8_t>(v);
}

}  // namespace

Qcow2ImageBuilder::Qcow2ImageBuilder(const Qcow2ImageSpec& spec)
    : spec_(spec), cb_(spec.cluster_bits), cs_(uint64_t{1} << spec.cluster_bits) {
  HeaderSpec h;
  h.version = spec.version;
  h.cluster_bits = spec.cluster_bits;
  h.size = spec.size;
  h.refcount_order = spec.refcount_order;
  h.backing = spec.backing;
  bytes_ = BuildHeader(h);
  l1_size_ = GetBe32(bytes_, 36);
  refcount_[0] = 1;
  Alloc();  // 1: the refcount table
  Alloc();  // 2: the first refcount block
  const uint64_t l1_clusters = std::max<uint64_t>(1, (uint64_t{l1_size_} * 8 + cs_ - 1) / cs_);
  for (uint64_t i = 0; i < l1_clusters; i++) Alloc();  // 3..: the L1 table
}

uint64_t Qcow2ImageBuilder::Alloc(uint64_t refcount) {
  const uint64_t off = bytes_.size();
  bytes_.resize(off + cs_, 0);
  if (refcount != 0) refcount_[off >> cb_] = refcount;
  return off;
}

uint64_t Qcow2ImageBuilder::AddL2(uint32_t l1_index) {
  const uint64_t l2 = Alloc();
  SetL1(l1_index, l2 | kCopied);
  return l2;
}

uint64_t Qcow2ImageBuilder::AddData(uint64_t l2, uint32_t l2_index) {
  const uint64_t data = Alloc();
  SetL2(l2, l2_index, data | kCopied);
  return data;
}

void Qcow2ImageBuilder::SetL1(uint32_t index, uint64_t entry) {
  Put64(l1_offset() + uint64_t{index} * 8, entry);
}

uint64_t Qcow2ImageBuilder::L1(uint32_t index) const {
  return Get64(l1_offset() + uint64_t{index} * 8);
}

void Qcow2ImageBuilder::SetL2(uint64_t l2, uint32_t index, uint64_t entry) {
  Put64(l2 + uint64_t{index} * 8, entry);
}

uint64_t Qcow2ImageBuilder::L2(uint64_t l2, uint32_t index) const {
  return Get64(l2 + uint64_t{index} * 8);
}

uint64_t Qcow2ImageBuilder::CompressedEntry(uint64_t coffset, uint64_t sectors) const {
  // Bits 0 .. x-1 the offset, x .. 61 the sector count minus one, with
  // x = 62 - (cluster_bits - 8) (docs/qcow2 "Compressed Clusters").
  const uint32_t x = 62 - (cb_ - 8);
  return kCompressed | ((sectors - 1) << x) | coffset;
}

void Qcow2ImageBuilder::SetRefcount(uint64_t offset, uint64_t refcount) {
  refcount_[offset >> cb_] = refcount;
}

uint64_t Qcow2ImageBuilder::Refcount(uint64_t offset) const {
  const auto it = refcount_.find(offset >> cb_);
  return it == refcount_.end() ? 0 : it->second;
}

void Qcow2ImageBuilder::AddRef(uint64_t offset, uint64_t size) {
  for (uint64_t c = offset >> cb_; c <= (offset + size - 1) >> cb_; c++) refcount_[c]++;
}

uint64_t Qcow2ImageBuilder::TakeSnapshot(const std::string& id, const std::string& name) {
  const uint64_t l1_bytes = uint64_t{l1_size_} * 8;
  uint64_t copy = 0;
  for (uint64_t done = 0; done < std::max<uint64_t>(l1_bytes, 1); done += cs_) {
    const uint64_t c = Alloc();
    if (done == 0) copy = c;
  }
  std::set<uint64_t> seen;
  for (uint32_t i = 0; i < l1_size_; i++) {
    const uint64_t e = L1(i);
    const uint64_t l2 = e & kOffsetMask;
    Put64(copy + uint64_t{i} * 8, e & ~kCopied);
    if (l2 == 0) continue;
    SetL1(i, e & ~kCopied);
    AddRef(l2, 1);
    if (!seen.insert(l2).second) continue;
    for (uint32_t j = 0; j < cs_ / 8; j++) {
      const uint64_t d = L2(l2, j);
      if (d & kCompressed) {
        const uint32_t x = 62 - (cb_ - 8);
        const uint64_t coffset = d & ((uint64_t{1} << x) - 1);
        const uint64_t sectors = ((d & ~kCopied & ~kCompressed) >> x) + 1;
        AddRef(coffset & ~uint64_t{511}, sectors * 512);
      } else if ((d & kOffsetMask) != 0) {
        AddRef(d & kOffsetMask, 1);
        SetL2(l2, j, d & ~kCopied);
      }
    }
  }
  snapshots_.push_back({id, name, copy, l1_size_});
  return copy;
}

void Qcow2ImageBuilder::PutRefcount(uint64_t block, uint64_t index, uint64_t v) {
  const uint32_t bits = 1u << spec_.refcount_order;
  if (bits < 8) {
    // Packed from the least significant bit of each byte (QEMU's order).
    const uint64_t bit = index * bits;
    uint8_t& b = bytes_.at(block + bit / 8);
    const uint32_t mask = (1u << bits) - 1u;
    b = static_cast<uint8_t>((b & ~(mask << (bit % 8))) | ((v & mask) << (bit % 8)));
    return;
  }
  const uint32_t n = bits / 8;
  for (uint32_t i = 0; i < n; i++)
    bytes_.at(block + index * n + i) = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
}

std::vector<uint8_t>& Qcow2ImageBuilder::Finish() {
  if (finished_) throw std::logic_error("Qcow2ImageBuilder::Finish called twice");
  finished_ = true;
  // The snapshot table, in as many clusters as it needs.
  uint64_t snap_table = 0;
  if (!snapshots_.empty()) {
    std::vector<uint8_t> t;
    for (const Snapshot& s : snapshots_) {
      const size_t at = t.size();
      const size_t len = kSnapshotHead + kSnapshotExtra + s.id.size() + s.name.size();
      t.resize(at + ((len + 7) & ~size_t{7}), 0);
      PutBe64(t, at, s.l1_offset);
      PutBe32(t, at + 8, s.l1_size);
      PutBe16(t, at + 12, static_cast<uint16_t>(s.id.size()));
      PutBe16(t, at + 14, static_cast<uint16_t>(s.name.size()));
      PutBe32(t, at + 36, kSnapshotExtra);
      PutBe64(t, at + 48, spec_.size);  // disk_size
      memcpy(&t[at + kSnapshotHead + kSnapshotExtra], s.id.data(), s.id.size());
      memcpy(&t[at + kSnapshotHead + kSnapshotExtra + s.id.size()], s.name.data(),
             s.name.size());
    }
    for (uint64_t done = 0; done < t.size(); done += cs_) {
      const uint64_t c = Alloc();
      if (done == 0) snap_table = c;
    }
    memcpy(&bytes_[snap_table], t.data(), t.size());
  }
  // Refcount blocks until every cluster with a refcount is covered (a
  // new block may need covering itself).
  const uint64_t per_block = (cs_ * 8) >> spec_.refcount_order;
  std::vector<uint64_t> blocks = {Cluster(2)};
  for (;;) {
    const uint64_t last = std::max(bytes_.size() / cs_, refcount_.rbegin()->first + 1);
    if (blocks.size() * per_block >= last) break;
    if (blocks.size() == cs_ / 8) throw std::length_error("refcount table full");
    blocks.push_back(Alloc());
  }
  for (size_t i = 0; i < blocks.size(); i++) Put64(reftable_offset() + i * 8, blocks[i]);
  for (const auto& [k, rc] : refcount_) PutRefcount(blocks.at(k / per_block), k % per_block, rc);
  // The header (BuildHeader placed L1 and refcount table as here).
  PutBe32(bytes_, 60, static_cast<uint32_t>(snapshots_.size()));
  PutBe64(bytes_, 64, snap_table);
  return bytes_;
}

void Qcow2ImageBuilder::Put64(uint64_t offset, uint64_t v) {
  if (bytes_.size() < offset + 8) throw std::out_of_range("Put64 past the image");
  PutBe64(bytes_, offset, v);
}

uint64_t Qcow2ImageBuilder::Get64(uint64_t offset) const { return GetBe64(bytes_, offset); }

namespace {

bool MemRead(void* ctx, const qcow2_read* r, uint32_t n) {
  auto* m = static_cast<MemReader*>(ctx);
  if (m->fail_call != 0 && m->calls >= m->fail_call) m->calls_after_failure++;
  m->calls++;
  m->largest_batch = std::max(m->largest_batch, n);
  if (n == 0 || n > m->max_batch) {
    m->bad_requests++;
    return false;
  }
  const uint64_t size = m->image->size();
  const uint64_t sectors_end = (size + 511) / 512 * 512;
  for (uint32_t i = 0; i < n; i++) {
    const uint64_t off = r[i].offset;
    const uint64_t len = r[i].len;
    m->reads++;
    m->offsets.push_back(off);
    if (off % 512 != 0 || len % 512 != 0 || len == 0 || off > sectors_end ||
        len > sectors_end - off || r[i].buf == nullptr) {
      m->bad_requests++;
      return false;
    }
    const uint64_t have = std::min(len, size > off ? size - off : 0);
    if (have != 0) memcpy(r[i].buf, m->image->data() + off, have);
    if (have < len) memset(r[i].buf + have, 0, len - have);
  }
  return m->calls != m->fail_call;
}

}  // namespace

qcow2_io MemReader::Io() { return {MemRead, this, max_batch}; }

void MemReader::ResetCounts() {
  calls = 0;
  reads = 0;
  largest_batch = 0;
  bad_requests = 0;
  calls_after_failure = 0;
  offsets.clear();
}
