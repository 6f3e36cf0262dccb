// qcow2_parse_test.cc — unit tests of the header parser: valid headers
// parse to the right fields; a table of hostile headers (every field at
// and past its limits, truncations, broken extension lists) is refused
// with the specific error, never a crash (this runs under ASan+UBSan).
#include <gtest/gtest.h>

#include <cstring>

#include "src/qcow2/qcow2_format.h"
#include "src/qcow2/qcow2_header.h"
#include "src/qcow2/qcow2_write.h"
#include "tests/unit/header_builder.h"

namespace {

qcow2_err Parse(const std::vector<uint8_t>& b, qcow2_header* h) {
  return qcow2_parse(b.data(), b.size(), h);
}

TEST(Qcow2Parse, ValidV2) {
  HeaderSpec s;
  s.version = 2;
  auto b = BuildHeader(s);
  qcow2_header h;
  ASSERT_EQ(QCOW2_OK, Parse(b, &h));
  EXPECT_EQ(2u, h.version);
  EXPECT_EQ(16u, h.cluster_bits);
  EXPECT_EQ(72u, h.header_length);
  EXPECT_EQ(4u, h.refcount_order);
  EXPECT_EQ(64ULL << 20, h.size);
  EXPECT_EQ(0u, h.n_ext);
  EXPECT_EQ(80u, h.ext_end);
}

TEST(Qcow2Parse, ValidV3WithExtensionsAndBacking) {
  HeaderSpec s;
  s.ext.push_back({QCOW2_EXT_BACKING_FORMAT, {'q', 'c', 'o', 'w', '2'}});
  s.ext.push_back({0x12345678, {1, 2, 3}});
  s.backing = "base.qcow2";
  s.compat = QCOW2_COMPAT_LAZY_REFCOUNTS;
  auto b = BuildHeader(s);
  qcow2_header h;
  ASSERT_EQ(QCOW2_OK, Parse(b, &h));
  EXPECT_EQ(3u, h.version);
  EXPECT_EQ(112u, h.header_length);
  ASSERT_EQ(2u, h.n_ext);
  EXPECT_EQ(QCOW2_EXT_BACKING_FORMAT, h.ext[0].type);
  EXPECT_EQ(5u, h.ext[0].length);
  EXPECT_EQ(120u, h.ext[0].offset);
  EXPECT_EQ(0x12345678u, h.ext[1].type);
  EXPECT_EQ(10u, h.backing_size);
  EXPECT_EQ(h.ext_end, h.backing_offset);
  EXPECT_NE(nullptr, qcow2_find_ext(&h, 0x12345678));
  EXPECT_EQ(nullptr, qcow2_find_ext(&h, QCOW2_EXT_BITMAPS));
}

TEST(Qcow2Parse, OldV3HeaderOf104BytesIsZlib) {
  HeaderSpec s;
  s.header_length = 104;
  auto b = BuildHeader(s);
  b[104] = 1;  // not part of the header: must be ignored
  qcow2_header h;
  ASSERT_EQ(QCOW2_OK, Parse(b, &h));
  EXPECT_EQ(0u, h.compression_type);
}

TEST(Qcow2Parse, ZstdNeedsItsBit) {
  HeaderSpec s;
  s.compression_type = 1;
  qcow2_header h;
  EXPECT_EQ(QCOW2_ERR_COMPRESSION_TYPE, Parse(BuildHeader(s), &h));
  s.incompat = QCOW2_INCOMPAT_COMPRESSION;
  EXPECT_EQ(QCOW2_OK, Parse(BuildHeader(s), &h));
  s.compression_type = 0;
  EXPECT_EQ(QCOW2_ERR_COMPRESSION_TYPE, Parse(BuildHeader(s), &h));
  s.compression_type = 2;
  EXPECT_EQ(QCOW2_ERR_COMPRESSION_TYPE, Parse(BuildHeader(s), &h));
}

TEST(Qcow2Parse, UnterminatedExtensionListReachingTheEndIsAccepted) {
  HeaderSpec s;
  s.cluster_bits = 9;
  s.end_marker = false;
  auto b = BuildHeader(s);
  // One unknown extension whose data fills the cluster exactly.
  PutBe32(b, 112, 0x11111111);
  PutBe32(b, 116, 512 - 120);
  qcow2_header h;
  ASSERT_EQ(QCOW2_OK, Parse(b, &h));
  EXPECT_EQ(1u, h.n_ext);
  EXPECT_EQ(512u, h.ext_end);
  EXPECT_FALSE(h.ext_end_marker);
}

TEST(Qcow2Parse, EndMarkerIsRecorded) {
  HeaderSpec s;
  s.backing = "base.qcow2";
  auto b = BuildHeader(s);
  qcow2_header h;
  ASSERT_EQ(QCOW2_OK, Parse(b, &h));
  EXPECT_TRUE(h.ext_end_marker);
  EXPECT_EQ(120u, h.ext_end);
  // The same header whose chain runs into the backing name instead: an
  // unknown extension where the end marker was, reaching the name.
  s.end_marker = false;
  s.ext.push_back({0x22222222, {}});
  b = BuildHeader(s);
  ASSERT_EQ(QCOW2_OK, Parse(b, &h));
  EXPECT_FALSE(h.ext_end_marker);
  EXPECT_EQ(h.backing_offset, h.ext_end);
}

TEST(Qcow2Parse, ProbeClusterSize) {
  HeaderSpec s;
  uint32_t cs = 0;
  for (uint32_t bits : {9u, 16u, 21u}) {
    s.cluster_bits = bits;
    auto b = BuildHeader(s);
    ASSERT_EQ(QCOW2_OK, qcow2_probe_cluster_size(b.data(), 24, &cs));
    EXPECT_EQ(1u << bits, cs);
  }
  auto b = BuildHeader(s);
  EXPECT_EQ(QCOW2_ERR_TRUNCATED, qcow2_probe_cluster_size(b.data(), 23, &cs));
  EXPECT_EQ(QCOW2_ERR_TRUNCATED, qcow2_probe_cluster_size(nullptr, 24, &cs));
  EXPECT_EQ(QCOW2_ERR_TRUNCATED, qcow2_probe_cluster_size(b.data(), 24, nullptr));
  for (uint32_t bits : {0u, 8u, 22u, 64u, 0xffffffffu}) {
    PutBe32(b, QCOW2_OFF_CLUSTER_BITS, bits);
    EXPECT_EQ(QCOW2_ERR_CLUSTER_BITS, qcow2_probe_cluster_size(b.data(), b.size(), &cs))
        << bits;
  }
}

TEST(Qcow2Write, SetBackingOffsetTouchesOnlyItsField) {
  std::vector<uint8_t> b(72, 0xa5);
  std::vector<uint8_t> before = b;
  qcow2_set_backing_offset(b.data(), 0x0102030405060708ULL);
  EXPECT_EQ(0x0102030405060708ULL, GetBe64(b, QCOW2_OFF_BACKING_OFFSET));
  for (size_t i = 0; i < b.size(); i++)
    if (i < QCOW2_OFF_BACKING_OFFSET || i >= QCOW2_OFF_BACKING_OFFSET + 8)
      EXPECT_EQ(before[i], b[i]) << i;
}

TEST(Qcow2Parse, EveryTruncationIsRefused) {
  HeaderSpec s;
  s.cluster_bits = 9;
  s.backing = "b";
  auto b = BuildHeader(s);
  qcow2_header h;
  for (size_t len = 0; len < b.size(); len++) {
    EXPECT_NE(QCOW2_OK, qcow2_parse(b.data(), len, &h)) << "len " << len;
  }
  EXPECT_EQ(QCOW2_OK, qcow2_parse(b.data(), b.size(), &h));
}

struct Hostile {
  const char* name;
  void (*mutate)(std::vector<uint8_t>&);
  qcow2_err want;
};

const Hostile kHostile[] = {
    {"magic", [](auto& b) { b[3] = 0xfa; }, QCOW2_ERR_MAGIC},
    {"version 0", [](auto& b) { PutBe32(b, 4, 0); }, QCOW2_ERR_VERSION},
    {"version 1", [](auto& b) { PutBe32(b, 4, 1); }, QCOW2_ERR_VERSION},
    {"version 4", [](auto& b) { PutBe32(b, 4, 4); }, QCOW2_ERR_VERSION},
    {"version max", [](auto& b) { PutBe32(b, 4, 0xffffffff); }, QCOW2_ERR_VERSION},
    {"cluster_bits 8", [](auto& b) { PutBe32(b, 20, 8); }, QCOW2_ERR_CLUSTER_BITS},
    {"cluster_bits 22", [](auto& b) { PutBe32(b, 20, 22); }, QCOW2_ERR_CLUSTER_BITS},
    {"cluster_bits 63", [](auto& b) { PutBe32(b, 20, 63); }, QCOW2_ERR_CLUSTER_BITS},
    {"cluster_bits huge", [](auto& b) { PutBe32(b, 20, 0x80000009); }, QCOW2_ERR_CLUSTER_BITS},
    {"cluster bigger than buffer", [](auto& b) { PutBe32(b, 20, 17); }, QCOW2_ERR_TRUNCATED},
    {"header_length 0", [](auto& b) { PutBe32(b, 100, 0); }, QCOW2_ERR_HEADER_LENGTH},
    {"header_length 103", [](auto& b) { PutBe32(b, 100, 103); }, QCOW2_ERR_HEADER_LENGTH},
    {"header_length odd", [](auto& b) { PutBe32(b, 100, 113); }, QCOW2_ERR_HEADER_LENGTH},
    {"header_length past cluster", [](auto& b) { PutBe32(b, 100, 65536 + 8); }, QCOW2_ERR_HEADER_LENGTH},
    {"header_length max", [](auto& b) { PutBe32(b, 100, 0xfffffff8); }, QCOW2_ERR_HEADER_LENGTH},
    {"unknown incompat bit 5", [](auto& b) { PutBe64(b, 72, 1ULL << 5); }, QCOW2_ERR_UNKNOWN_INCOMPAT},
    {"unknown incompat bit 63", [](auto& b) { PutBe64(b, 72, 1ULL << 63); }, QCOW2_ERR_UNKNOWN_INCOMPAT},
    {"refcount_order 7", [](auto& b) { PutBe32(b, 96, 7); }, QCOW2_ERR_REFCOUNT_ORDER},
    {"crypt method 3", [](auto& b) { PutBe32(b, 32, 3); }, QCOW2_ERR_CRYPT_METHOD},
    {"backing offset past cluster", [](auto& b) { PutBe64(b, 8, 65537); PutBe32(b, 16, 1); }, QCOW2_ERR_BACKING},
    {"backing offset huge", [](auto& b) { PutBe64(b, 8, ~0ULL); PutBe32(b, 16, 1); }, QCOW2_ERR_BACKING},
    {"backing name runs past cluster", [](auto& b) { PutBe64(b, 8, 65000); PutBe32(b, 16, 1000); }, QCOW2_ERR_BACKING},
    {"backing name too long", [](auto& b) { PutBe64(b, 8, 1024); PutBe32(b, 16, 1024); }, QCOW2_ERR_BACKING},
    {"backing size max", [](auto& b) { PutBe64(b, 8, 1024); PutBe32(b, 16, 0xffffffff); }, QCOW2_ERR_BACKING},
    {"backing inside header", [](auto& b) { PutBe64(b, 8, 64); PutBe32(b, 16, 4); }, QCOW2_ERR_BACKING},
    {"extension length past cluster", [](auto& b) { PutBe32(b, 112, 7); PutBe32(b, 116, 65536); }, QCOW2_ERR_EXTENSION},
    {"extension length max", [](auto& b) { PutBe32(b, 112, 7); PutBe32(b, 116, 0xffffffff); }, QCOW2_ERR_EXTENSION},
    {"extension header straddles the backing name", [](auto& b) {
       PutBe64(b, 8, 116); PutBe32(b, 16, 4); }, QCOW2_ERR_EXTENSION},
    {"backing format too long", [](auto& b) { PutBe32(b, 112, QCOW2_EXT_BACKING_FORMAT); PutBe32(b, 116, 16); }, QCOW2_ERR_EXTENSION},
    {"bitmaps ext wrong length", [](auto& b) { PutBe32(b, 112, QCOW2_EXT_BITMAPS); PutBe32(b, 116, 16); }, QCOW2_ERR_EXTENSION},
    {"crypto ext without LUKS", [](auto& b) { PutBe32(b, 112, QCOW2_EXT_CRYPTO_HEADER); PutBe32(b, 116, 16); }, QCOW2_ERR_EXTENSION},
    {"raw external data without a data file", [](auto& b) { PutBe64(b, 88, QCOW2_AUTOCLEAR_DATA_RAW); }, QCOW2_ERR_FEATURES},
    {"bitmaps ext with zero bitmaps", [](auto& b) {
       PutBe64(b, 88, QCOW2_AUTOCLEAR_BITMAPS); PutBe32(b, 112, QCOW2_EXT_BITMAPS); PutBe32(b, 116, 24); }, QCOW2_ERR_EXTENSION},
    {"bitmaps ext with a huge directory", [](auto& b) {
       PutBe64(b, 88, QCOW2_AUTOCLEAR_BITMAPS); PutBe32(b, 112, QCOW2_EXT_BITMAPS); PutBe32(b, 116, 24);
       PutBe32(b, 120, 1); PutBe64(b, 128, 1ULL << 40); }, QCOW2_ERR_EXTENSION},
    {"bitmaps ext with an unaligned directory", [](auto& b) {
       PutBe64(b, 88, QCOW2_AUTOCLEAR_BITMAPS); PutBe32(b, 112, QCOW2_EXT_BITMAPS); PutBe32(b, 116, 24);
       PutBe32(b, 120, 1); PutBe64(b, 136, 65536 + 8); }, QCOW2_ERR_EXTENSION},
    {"refcount table in header cluster", [](auto& b) { PutBe64(b, 48, 0); }, QCOW2_ERR_TABLE_OVERLAP},
    {"no refcount table", [](auto& b) { PutBe32(b, 56, 0); }, QCOW2_ERR_TABLE_SIZE},
    {"refcount table unaligned", [](auto& b) { PutBe64(b, 48, 65536 + 512); }, QCOW2_ERR_TABLE_ALIGN},
    {"refcount table huge", [](auto& b) { PutBe32(b, 56, 0xffffffff); }, QCOW2_ERR_TABLE_SIZE},
    {"L1 in header cluster", [](auto& b) { PutBe64(b, 40, 0); }, QCOW2_ERR_TABLE_OVERLAP},
    {"L1 unaligned", [](auto& b) { PutBe64(b, 40, 3 * 65536 + 8); }, QCOW2_ERR_TABLE_ALIGN},
    {"L1 offset wraps", [](auto& b) { PutBe64(b, 40, 0xffffffffffff0000ULL); }, QCOW2_ERR_TABLE_SIZE},
    {"L1 size huge", [](auto& b) { PutBe32(b, 36, 0xffffffff); }, QCOW2_ERR_TABLE_SIZE},
    {"L1 too small for size", [](auto& b) { PutBe64(b, 24, 1ULL << 50); }, QCOW2_ERR_TABLE_SIZE},
    {"snapshots in header cluster", [](auto& b) { PutBe32(b, 60, 1); PutBe64(b, 64, 0); }, QCOW2_ERR_TABLE_OVERLAP},
    {"snapshots too many", [](auto& b) { PutBe32(b, 60, 65537); PutBe64(b, 64, 65536 * 4); }, QCOW2_ERR_TABLE_SIZE},
    {"snapshots unaligned", [](auto& b) { PutBe32(b, 60, 1); PutBe64(b, 64, 65536 * 4 + 1); }, QCOW2_ERR_TABLE_ALIGN},
};

class HostileHeader : public ::testing::TestWithParam<Hostile> {};

TEST_P(HostileHeader, IsRefusedWithItsError) {
  HeaderSpec s;
  auto b = BuildHeader(s);
  GetParam().mutate(b);
  qcow2_header h;
  EXPECT_EQ(GetParam().want, Parse(b, &h)) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(Table, HostileHeader, ::testing::ValuesIn(kHostile),
                         [](const ::testing::TestParamInfo<Hostile>& i) {
                           std::string n = i.param.name;
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Qcow2Parse, TooManyExtensions) {
  HeaderSpec s;
  for (int i = 0; i < 65; i++) s.ext.push_back({0x1000u + i, {}});
  qcow2_header h;
  EXPECT_EQ(QCOW2_ERR_TOO_MANY_EXT, Parse(BuildHeader(s), &h));
  s.ext.resize(64);
  EXPECT_EQ(QCOW2_OK, Parse(BuildHeader(s), &h));
}

TEST(Qcow2Parse, ExtentsMustLieInTheFile) {
  HeaderSpec s;
  auto b = BuildHeader(s);
  qcow2_header h;
  ASSERT_EQ(QCOW2_OK, Parse(b, &h));
  // L1 at cluster 3 (1 entry), refcount table at cluster 1 (1 cluster).
  EXPECT_EQ(QCOW2_OK, qcow2_check_extents(&h, 3 * 65536 + 8));
  EXPECT_EQ(QCOW2_ERR_TABLE_EXTENT, qcow2_check_extents(&h, 3 * 65536 + 4));
  EXPECT_EQ(QCOW2_ERR_TABLE_EXTENT, qcow2_check_extents(&h, 65536 + 100));
  h.l1_offset = 0x7fffffffffff0000ULL;
  EXPECT_EQ(QCOW2_ERR_TABLE_EXTENT, qcow2_check_extents(&h, 1ULL << 30));
  h = {};
  ASSERT_EQ(QCOW2_OK, Parse(b, &h));
  h.nb_snapshots = 1;
  h.snapshots_offset = 10 * 65536;
  EXPECT_EQ(QCOW2_ERR_TABLE_EXTENT, qcow2_check_extents(&h, 5 * 65536));
}

TEST(Qcow2Parse, NullArgumentsAreRefused) {
  qcow2_header h;
  uint8_t b[8] = {};
  EXPECT_NE(QCOW2_OK, qcow2_parse(nullptr, 8, &h));
  EXPECT_NE(QCOW2_OK, qcow2_parse(b, 8, nullptr));
}

}  // namespace
