// qcow2_image_builder.h — test helper: small qcow2 images built in memory
// cluster by cluster, with exactly the refcounts the test says, for tests
// that drive qcow2_open(), qcow2_check() and the table walks
// (src/qcow2) without a file; and a batched reader (struct qcow2_io) over
// such an image that counts its calls, checks every request against the
// reader contract of qcow2_walk.h, and can be told to fail.
//
// Layout, as a fresh qemu-img image: cluster 0 the header, 1 the refcount
// table (one cluster), 2 the first refcount block, 3.. the active L1
// table; every later cluster is allocated in file order by the test.
// Finish() writes the snapshot table, more refcount blocks if the file
// outgrew the first, every refcount, and the header. Damage goes in
// afterwards through Put64/SetL1/SetL2 (nothing here checks anything).
//
// Trust: test code; builds whatever it is told, broken images on purpose.
// The reader trusts nothing: requests come from the code under test.
#ifndef INSTAR_TESTS_UNIT_QCOW2_IMAGE_BUILDER_H
#define INSTAR_TESTS_UNIT_QCOW2_IMAGE_BUILDER_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "src/qcow2/qcow2_walk.h"

struct Qcow2ImageSpec {
  uint32_t version = 3;
  uint32_t cluster_bits = 16;
  uint32_t refcount_order = 4;
  uint64_t size = 1ULL << 20;  // virtual size; sets the L1 table's size
  std::string backing;         // a backing file name in the header cluster
};

class Qcow2ImageBuilder {
 public:
  static constexpr uint64_t kCopied = 1ULL << 63;      // OFLAG_COPIED
  static constexpr uint64_t kCompressed = 1ULL << 62;  // OFLAG_COMPRESSED
  static constexpr uint64_t kZero = 1;                 // OFLAG_ZERO (L2)

  explicit Qcow2ImageBuilder(const Qcow2ImageSpec& spec = {});

  uint64_t cluster_size() const { return cs_; }
  uint64_t Cluster(uint64_t k) const { return k * cs_; }
  uint64_t l1_offset() const { return Cluster(3); }
  uint32_t l1_size() const { return l1_size_; }
  uint64_t reftable_offset() const { return Cluster(1); }

  // A new zeroed cluster at the end of the file whose refcount will be
  // `refcount`; its offset.
  uint64_t Alloc(uint64_t refcount = 1);
  // A new L2 table named by active L1 entry `l1_index` (COPIED set).
  uint64_t AddL2(uint32_t l1_index);
  // A new data cluster mapped by entry `l2_index` of the L2 table at `l2`
  // (COPIED set).
  uint64_t AddData(uint64_t l2, uint32_t l2_index);

  void SetL1(uint32_t index, uint64_t entry);
  uint64_t L1(uint32_t index) const;
  void SetL2(uint64_t l2, uint32_t index, uint64_t entry);
  uint64_t L2(uint64_t l2, uint32_t index) const;
  // A compressed L2 descriptor: `sectors` 512-byte sectors at `coffset`.
  uint64_t CompressedEntry(uint64_t coffset, uint64_t sectors) const;

  // The refcount the blocks will hold for the cluster at `offset`.
  void SetRefcount(uint64_t offset, uint64_t refcount);
  uint64_t Refcount(uint64_t offset) const;

  // An internal snapshot as qemu-img takes one: the active L1 table
  // copied to new clusters, one more reference on every L2 table and
  // cluster it reaches, COPIED cleared on the active entries that are now
  // shared. Its L1 table's offset.
  uint64_t TakeSnapshot(const std::string& id, const std::string& name);

  // Write the snapshot table, the refcount blocks and the header; the
  // image's bytes. Call once.
  std::vector<uint8_t>& Finish();

  std::vector<uint8_t>& bytes() { return bytes_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  void Put64(uint64_t offset, uint64_t v);
  uint64_t Get64(uint64_t offset) const;

 private:
  struct Snapshot {
    std::string id, name;
    uint64_t l1_offset;
    uint32_t l1_size;
  };

  void AddRef(uint64_t offset, uint64_t size);
  void PutRefcount(uint64_t block, uint64_t index, uint64_t v);

  Qcow2ImageSpec spec_;
  uint32_t cb_;
  uint64_t cs_;
  uint32_t l1_size_;
  std::vector<uint8_t> bytes_;
  std::map<uint64_t, uint64_t> refcount_;  // cluster index -> refcount
  std::vector<Snapshot> snapshots_;
  bool finished_ = false;
};

// A batched sector reader over an image in memory: whole sectors inside
// the file (the tail of a partial last sector zeroed), at most max_batch
// reads a call. A request outside that contract is counted in
// bad_requests and fails the call.
struct MemReader {
  const std::vector<uint8_t>* image = nullptr;
  uint32_t max_batch = 64;
  uint32_t fail_call = 0;       // this call (from 1) returns false; 0: none
  uint32_t calls = 0;           // read calls
  uint64_t reads = 0;           // single reads over all calls
  uint32_t largest_batch = 0;
  uint32_t bad_requests = 0;
  uint32_t calls_after_failure = 0;
  std::vector<uint64_t> offsets;  // every read's offset, in order

  qcow2_io Io();
  void ResetCounts();
};

#endif
