// header_builder.cc — see header_builder.h.
#include "tests/unit/header_builder.h"

void PutBe32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  for (unsigned i = 0; i < 4; i++) b.at(off + i) = static_cast<uint8_t>(v >> (24 - 8 * i));
}

void PutBe64(std::vector<uint8_t>& b, size_t off, uint64_t v) {
  PutBe32(b, off, static_cast<uint32_t>(v >> 32));
  PutBe32(b, off + 4, static_cast<uint32_t>(v));
}

uint32_t GetBe32(const std::vector<uint8_t>& b, size_t off) {
  uint32_t v = 0;
  for (unsigned i = 0; i < 4; i++) v = v << 8 | b.at(off + i);
  return v;
}

uint64_t GetBe64(const std::vector<uint8_t>& b, size_t off) {
  return static_cast<uint64_t>(GetBe32(b, off)) << 32 | GetBe32(b, off + 4);
}

std::vector<uint8_t> BuildHeader(const HeaderSpec& s) {
  const size_t cs = size_t{1} << s.cluster_bits;
  std::vector<uint8_t> b(cs, 0);
  PutBe32(b, 0, 0x514649fb);
  PutBe32(b, 4, s.version);
  PutBe32(b, 20, s.cluster_bits);
  PutBe64(b, 24, s.size);
  PutBe32(b, 32, 0);                       // crypt
  const uint64_t per_l1 = uint64_t{1} << (2 * s.cluster_bits - 3);
  PutBe32(b, 36, static_cast<uint32_t>((s.size + per_l1 - 1) / per_l1));
  PutBe64(b, 40, 3 * cs);                  // L1
  PutBe64(b, 48, 1 * cs);                  // refcount table
  PutBe32(b, 56, 1);
  PutBe32(b, 60, s.nb_snapshots);
  PutBe64(b, 64, s.nb_snapshots != 0 ? 4 * cs : 0);
  size_t pos = 72;
  if (s.version >= 3) {
    PutBe64(b, 72, s.incompat);
    PutBe64(b, 80, s.compat);
    PutBe64(b, 88, s.autoclear);
    PutBe32(b, 96, s.refcount_order);
    PutBe32(b, 100, s.header_length);
    if (s.header_length > 104) b.at(104) = s.compression_type;
    pos = s.header_length;
  }
  for (const TestExt& e : s.ext) {
    PutBe32(b, pos, e.type);
    PutBe32(b, pos + 4, static_cast<uint32_t>(e.data.size()));
    pos += 8;
    for (size_t i = 0; i < e.data.size(); i++) b.at(pos + i) = e.data[i];
    pos += (e.data.size() + 7) & ~size_t{7};
  }
  if (s.end_marker) pos += 8;  // type 0, length 0: already zero
  if (!s.backing.empty()) {
    PutBe64(b, 8, pos);
    PutBe32(b, 16, static_cast<uint32_t>(s.backing.size()));
    for (size_t i = 0; i < s.backing.size(); i++)
      b.at(pos + i) = static_cast<uint8_t>(s.backing[i]);
  }
  return b;
}
