// header_builder.h — test helper: build valid qcow2 header clusters in
// memory (v2 or v3, optional extensions and backing name) so tests can
// start from something valid and break one field at a time.
#ifndef INSTAR_TESTS_HEADER_BUILDER_H
#define INSTAR_TESTS_HEADER_BUILDER_H

#include <cstdint>
#include <string>
#include <vector>

struct TestExt {
  uint32_t type;
  std::vector<uint8_t> data;
};

struct HeaderSpec {
  uint32_t version = 3;
  uint32_t cluster_bits = 16;
  uint64_t size = 64ULL << 20;
  uint64_t incompat = 0;
  uint64_t compat = 0;
  uint64_t autoclear = 0;
  uint32_t refcount_order = 4;
  uint32_t header_length = 112;
  uint8_t compression_type = 0;
  std::vector<TestExt> ext;
  bool end_marker = true;
  std::string backing;
  uint32_t nb_snapshots = 0;     // with a snapshot table in cluster 4
};

// Cluster-sized buffer holding the header the spec describes. Tables
// sit in clusters 1..3 as qemu-img lays out a fresh image.
std::vector<uint8_t> BuildHeader(const HeaderSpec& spec);

void PutBe32(std::vector<uint8_t>& b, size_t off, uint32_t v);
void PutBe64(std::vector<uint8_t>& b, size_t off, uint64_t v);
uint32_t GetBe32(const std::vector<uint8_t>& b, size_t off);
uint64_t GetBe64(const std::vector<uint8_t>& b, size_t off);

#endif
