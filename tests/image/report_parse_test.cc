// report_parse_test.cc — the host's check of an inspection report: valid
// reports of each shape are accepted with the right counts; every kind of
// malformed, out-of-range, out-of-order or miscounted report a lying guest
// could write is refused with its own error; no prefix of a valid report
// is accepted.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>

#include "src/image/report_parse.h"
#include "src/qcow2/qcow2_check.h"
#include "src/qcow2/qcow2_open.h"
#include "tests/image/report_builder.h"

namespace {

report_err Parse(const ReportBuilder& b, report_kind kind,
                 report_view* v = nullptr) {
  report_view local;
  return report_parse(b.data(), b.size(), kind, v != nullptr ? v : &local);
}

// A 64 MiB image with a backing file, one snapshot and one bitmap.
ReportBuilder ValidInfo() {
  ReportBuilder b;
  b.Add(REPORT_T_IMAGE, ReportBuilder::Image(1, 1));
  b.Name(REPORT_NAME_BACKING_FILE, "base.qcow2");
  b.Name(REPORT_NAME_BACKING_FORMAT, "qcow2");
  b.Snapshot("1", "first");
  b.Bitmap("bm0");
  b.End();
  return b;
}

// Two leaked clusters and a corruption.
ReportBuilder ValidCheck() {
  ReportBuilder b;
  b.Finding(QCOW2_F_LEAK, {6, 1, 0});
  b.Finding(QCOW2_F_LEAK, {8, 3, 0});
  b.Finding(QCOW2_F_REFCOUNT_LOW, {9, 1, 2});
  report_check k{};
  k.leaks = 2;
  k.corruptions = 1;
  k.allocated_clusters = 2;
  k.total_clusters = 1024;
  k.fragmented_clusters = 1;
  k.image_end_offset = 589824;
  b.Check(k);
  b.End();
  return b;
}

report_check Totals() { return report_check{}; }

TEST(ReportParse, ValidInfo) {
  ReportBuilder b = ValidInfo();
  report_view v;
  ASSERT_EQ(REPORT_OK, Parse(b, REPORT_KIND_INFO, &v));
  EXPECT_TRUE(v.has_image);
  EXPECT_FALSE(v.open_failed);
  EXPECT_EQ(2u, v.names);
  EXPECT_EQ(1u, v.snapshots);
  EXPECT_EQ(1u, v.bitmaps);
  EXPECT_EQ(0u, v.findings);
  EXPECT_EQ(64ull << 20, v.image.size);

  // report_next() walks the same records, in order.
  const uint32_t want[] = {REPORT_T_IMAGE, REPORT_T_NAME, REPORT_T_NAME,
                           REPORT_T_SNAPSHOT, REPORT_T_BITMAP, REPORT_T_END};
  size_t off = 0, n = 0;
  report_rec r;
  while (report_next(&v, &off, &r)) {
    ASSERT_LT(n, sizeof(want) / sizeof(want[0]));
    EXPECT_EQ(want[n], r.type) << "record " << n;
    if (r.type == REPORT_T_SNAPSHOT) {
      report_snapshot s;
      const uint8_t *id, *name;
      report_get_snapshot(&r, &s, &id, &name);
      EXPECT_EQ("1", std::string(reinterpret_cast<const char*>(id), s.id_len));
      EXPECT_EQ("first",
                std::string(reinterpret_cast<const char*>(name), s.name_len));
    }
    n++;
  }
  EXPECT_EQ(6u, n);
}

TEST(ReportParse, ValidOpenError) {
  ReportBuilder b;
  b.Message(REPORT_T_OPEN_ERROR, QOPEN_VERSION, {4});
  b.End();
  report_view v;
  ASSERT_EQ(REPORT_OK, Parse(b, REPORT_KIND_INFO, &v));
  EXPECT_TRUE(v.open_failed);
  EXPECT_EQ(static_cast<uint32_t>(QOPEN_VERSION), v.open_error.code);
  EXPECT_EQ(4u, v.open_error.arg[0]);
  EXPECT_EQ(REPORT_OK, Parse(b, REPORT_KIND_CHECK));
}

TEST(ReportParse, ValidCheck) {
  ReportBuilder b = ValidCheck();
  report_view v;
  ASSERT_EQ(REPORT_OK, Parse(b, REPORT_KIND_CHECK, &v));
  EXPECT_TRUE(v.has_check);
  EXPECT_EQ(3u, v.findings);
  EXPECT_EQ(2u, v.check.leaks);
  EXPECT_EQ(1u, v.check.corruptions);
}

TEST(ReportParse, WarningsComeFirst) {
  ReportBuilder b;
  b.Message(REPORT_T_WARNING, QWARN_BITMAPS_V2, {});
  b.Add(REPORT_T_IMAGE, ReportBuilder::Image());
  b.End();
  report_view v;
  ASSERT_EQ(REPORT_OK, Parse(b, REPORT_KIND_INFO, &v));
  EXPECT_EQ(1u, v.warnings);

  ReportBuilder late;
  late.Add(REPORT_T_IMAGE, ReportBuilder::Image());
  late.Message(REPORT_T_WARNING, QWARN_BITMAPS_V2, {});
  late.End();
  EXPECT_EQ(REPORT_ERR_ORDER, Parse(late, REPORT_KIND_INFO));
}

TEST(ReportParse, EveryPrefixIsRefused) {
  const std::pair<ReportBuilder, report_kind> reports[] = {
      {ValidInfo(), REPORT_KIND_INFO}, {ValidCheck(), REPORT_KIND_CHECK}};
  for (const auto& [b, kind] : reports) {
    ASSERT_EQ(REPORT_OK, Parse(b, kind));
    for (size_t n = 0; n < b.size(); n++) {
      report_view v;
      EXPECT_NE(REPORT_OK, report_parse(b.data(), n, kind, &v)) << n;
    }
  }
}

TEST(ReportParse, NothingAfterEnd) {
  ReportBuilder b = ValidInfo();
  b.End();
  EXPECT_EQ(REPORT_ERR_TRAILING, Parse(b, REPORT_KIND_INFO));
  ReportBuilder c = ValidInfo();
  c.bytes().resize(c.size() + 8, 0);
  EXPECT_EQ(REPORT_ERR_TRAILING, Parse(c, REPORT_KIND_INFO));
}

TEST(ReportParse, EmptyAndNull) {
  report_view v;
  EXPECT_EQ(REPORT_ERR_NO_END, report_parse(nullptr, 0, REPORT_KIND_INFO, &v));
  EXPECT_EQ(REPORT_ERR_RECORD, report_parse(nullptr, 8, REPORT_KIND_INFO, &v));
}

// The header of the record at `at`.
report_hdr* Hdr(ReportBuilder& b, size_t at) {
  return reinterpret_cast<report_hdr*>(b.bytes().data() + at);
}

TEST(ReportParse, RecordLengths) {
  {  // not a multiple of 8
    ReportBuilder b = ValidInfo();
    Hdr(b, 0)->len += 4;
    EXPECT_EQ(REPORT_ERR_RECORD, Parse(b, REPORT_KIND_INFO));
  }
  {  // shorter than the fixed part
    ReportBuilder b = ValidInfo();
    Hdr(b, 0)->len = 8;
    EXPECT_EQ(REPORT_ERR_RECORD, Parse(b, REPORT_KIND_INFO));
  }
  {  // past the stream
    ReportBuilder b = ValidInfo();
    Hdr(b, 0)->len = static_cast<uint32_t>(b.size() + 8);
    EXPECT_EQ(REPORT_ERR_RECORD, Parse(b, REPORT_KIND_INFO));
  }
  {  // longer than any record can be, inside a large enough stream
    ReportBuilder b;
    size_t at = b.Add(REPORT_T_IMAGE, ReportBuilder::Image());
    b.bytes().resize(REPORT_MAX_RECORD + 64, 0);
    Hdr(b, at)->len = REPORT_MAX_RECORD + 8;
    EXPECT_EQ(REPORT_ERR_RECORD, Parse(b, REPORT_KIND_INFO));
  }
  {  // zero length: would never advance
    ReportBuilder b = ValidInfo();
    Hdr(b, 0)->len = 0;
    EXPECT_EQ(REPORT_ERR_RECORD, Parse(b, REPORT_KIND_INFO));
  }
  {  // unknown type
    ReportBuilder b = ValidInfo();
    Hdr(b, 0)->type = REPORT_T_COUNT_;
    EXPECT_EQ(REPORT_ERR_RECORD, Parse(b, REPORT_KIND_INFO));
    Hdr(b, 0)->type = 0;
    EXPECT_EQ(REPORT_ERR_RECORD, Parse(b, REPORT_KIND_INFO));
  }
}

TEST(ReportParse, StringsInsideTheirRecord) {
  {  // a name claiming more bytes than its record holds
    ReportBuilder b;
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image());
    size_t at = b.Name(REPORT_NAME_BACKING_FILE, "base");
    reinterpret_cast<report_name*>(b.bytes().data() + at)->len = 64;
    b.End();
    EXPECT_EQ(REPORT_ERR_RECORD, Parse(b, REPORT_KIND_INFO));
  }
  {  // a record padded by 8 or more bytes beyond its strings
    ReportBuilder b;
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image());
    size_t at = b.Name(REPORT_NAME_BACKING_FILE, std::string(16, 'x'));
    reinterpret_cast<report_name*>(b.bytes().data() + at)->len = 8;
    b.End();
    EXPECT_EQ(REPORT_ERR_RECORD, Parse(b, REPORT_KIND_INFO));
  }
  {  // id + name lengths that wrap 32 bits
    ReportBuilder b;
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image(1));
    size_t at = b.Snapshot("1", "a");
    auto* s = reinterpret_cast<report_snapshot*>(b.bytes().data() + at);
    s->id_len = 0xffffffffu;
    s->name_len = 2;
    b.End();
    EXPECT_EQ(REPORT_ERR_RECORD, Parse(b, REPORT_KIND_INFO));
  }
  {  // a message whose reserved word is set
    ReportBuilder b;
    size_t at = b.Message(REPORT_T_OPEN_ERROR, QOPEN_VERSION, {4});
    reinterpret_cast<report_message*>(b.bytes().data() + at)->reserved = 1;
    b.End();
    EXPECT_EQ(REPORT_ERR_RECORD, Parse(b, REPORT_KIND_INFO));
  }
}

TEST(ReportParse, ImageFieldRanges) {
  struct Case {
    const char* what;
    void (*edit)(report_image*);
  } cases[] = {
      {"version 4", [](report_image* im) { im->version = 4; }},
      {"version 1", [](report_image* im) { im->version = 1; }},
      {"cluster_bits 8", [](report_image* im) { im->cluster_bits = 8; }},
      {"cluster_bits 22", [](report_image* im) { im->cluster_bits = 22; }},
      {"refcount_order 7", [](report_image* im) { im->refcount_order = 7; }},
      {"compression 2", [](report_image* im) { im->compression_type = 2; }},
      {"crypt 3", [](report_image* im) { im->crypt_method = 3; }},
      {"unknown flag", [](report_image* im) { im->flags = 2; }},
      {"bitmaps not listed",
       [](report_image* im) {
         im->nb_bitmaps = 1;
         im->flags = 0;
       }},
      {"too many snapshots",
       [](report_image* im) { im->nb_snapshots = QCOW2_OPEN_MAX_SNAPSHOTS + 1; }},
  };
  for (const Case& c : cases) {
    report_image im = ReportBuilder::Image();
    c.edit(&im);
    ReportBuilder b;
    b.Add(REPORT_T_IMAGE, im);
    b.End();
    EXPECT_EQ(REPORT_ERR_FIELD, Parse(b, REPORT_KIND_INFO)) << c.what;
  }
}

TEST(ReportParse, NamesWithinQemuLimits) {
  struct Case {
    uint32_t kind;
    size_t len;
    report_err want;
  } cases[] = {
      {REPORT_NAME_BACKING_FILE, 1023, REPORT_OK},
      {REPORT_NAME_BACKING_FILE, 1024, REPORT_ERR_FIELD},
      {REPORT_NAME_BACKING_FORMAT, 15, REPORT_OK},
      {REPORT_NAME_BACKING_FORMAT, 16, REPORT_ERR_FIELD},
      {REPORT_NAME_DATA_FILE, 4096, REPORT_OK},
      {0, 4, REPORT_ERR_FIELD},
      {4, 4, REPORT_ERR_FIELD},
  };
  for (const Case& c : cases) {
    ReportBuilder b;
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image());
    b.Name(c.kind, std::string(c.len, 'n'));
    b.End();
    EXPECT_EQ(c.want, Parse(b, REPORT_KIND_INFO)) << c.kind << " " << c.len;
  }
}

TEST(ReportParse, BitmapFields) {
  ReportBuilder b;
  b.Add(REPORT_T_IMAGE, ReportBuilder::Image(0, 1));
  b.Bitmap("bm", 64);
  b.End();
  EXPECT_EQ(REPORT_ERR_FIELD, Parse(b, REPORT_KIND_INFO));

  ReportBuilder c;
  c.Add(REPORT_T_IMAGE, ReportBuilder::Image(0, 1));
  c.Bitmap(std::string(1024, 'b'));
  c.End();
  EXPECT_EQ(REPORT_ERR_RECORD, Parse(c, REPORT_KIND_INFO));
}

TEST(ReportParse, MessageCodes) {
  {  // a warning's code as the open error
    ReportBuilder b;
    b.Message(REPORT_T_OPEN_ERROR, QWARN_BITMAPS_V3, {});
    b.End();
    EXPECT_EQ(REPORT_ERR_FIELD, Parse(b, REPORT_KIND_INFO));
  }
  {  // an error's code as a warning
    ReportBuilder b;
    b.Message(REPORT_T_WARNING, QOPEN_VERSION, {4});
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image());
    b.End();
    EXPECT_EQ(REPORT_ERR_FIELD, Parse(b, REPORT_KIND_INFO));
  }
  {  // past the table
    ReportBuilder b;
    b.Message(REPORT_T_OPEN_ERROR, QOPEN_MSG_COUNT_, {});
    b.End();
    EXPECT_EQ(REPORT_ERR_FIELD, Parse(b, REPORT_KIND_INFO));
  }
  {  // the wrong number of arguments
    ReportBuilder b;
    b.Message(REPORT_T_OPEN_ERROR, QOPEN_VERSION, {});
    b.End();
    EXPECT_EQ(REPORT_ERR_FIELD, Parse(b, REPORT_KIND_INFO));
  }
  {  // text on a message that prints none
    ReportBuilder b;
    b.Message(REPORT_T_OPEN_ERROR, QOPEN_VERSION, {4}, "text");
    b.End();
    EXPECT_EQ(REPORT_ERR_FIELD, Parse(b, REPORT_KIND_INFO));
  }
  {  // the feature list does carry text
    ReportBuilder b;
    b.Message(REPORT_T_OPEN_ERROR, QOPEN_FEATURES, {}, "Unknown incompatible feature: 10");
    b.End();
    EXPECT_EQ(REPORT_OK, Parse(b, REPORT_KIND_INFO));
  }
}

TEST(ReportParse, InfoOrder) {
  {  // a name before the image
    ReportBuilder b;
    b.Name(REPORT_NAME_BACKING_FILE, "base");
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image());
    b.End();
    EXPECT_EQ(REPORT_ERR_ORDER, Parse(b, REPORT_KIND_INFO));
  }
  {  // two images
    ReportBuilder b;
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image());
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image());
    b.End();
    EXPECT_EQ(REPORT_ERR_ORDER, Parse(b, REPORT_KIND_INFO));
  }
  {  // anything but END after the open error
    ReportBuilder b;
    b.Message(REPORT_T_OPEN_ERROR, QOPEN_VERSION, {4});
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image());
    b.End();
    EXPECT_EQ(REPORT_ERR_ORDER, Parse(b, REPORT_KIND_INFO));
  }
  {  // a name after the snapshots
    ReportBuilder b;
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image(1));
    b.Snapshot("1", "a");
    b.Name(REPORT_NAME_BACKING_FILE, "base");
    b.End();
    EXPECT_EQ(REPORT_ERR_ORDER, Parse(b, REPORT_KIND_INFO));
  }
  {  // a finding in an info report
    ReportBuilder b;
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image());
    b.Finding(QCOW2_F_LEAK, {6, 1, 0});
    b.End();
    EXPECT_EQ(REPORT_ERR_ORDER, Parse(b, REPORT_KIND_INFO));
  }
  {  // a check report given to info
    ReportBuilder b = ValidCheck();
    EXPECT_EQ(REPORT_ERR_ORDER, Parse(b, REPORT_KIND_INFO));
  }
  {  // an info report given to check
    ReportBuilder b = ValidInfo();
    EXPECT_EQ(REPORT_ERR_ORDER, Parse(b, REPORT_KIND_CHECK));
  }
  {  // END alone
    ReportBuilder b;
    b.End();
    EXPECT_EQ(REPORT_ERR_ORDER, Parse(b, REPORT_KIND_INFO));
    EXPECT_EQ(REPORT_ERR_ORDER, Parse(b, REPORT_KIND_CHECK));
  }
}

TEST(ReportParse, InfoCounts) {
  {  // more snapshots than the image said
    ReportBuilder b;
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image(1));
    b.Snapshot("1", "a");
    b.Snapshot("2", "b");
    b.End();
    EXPECT_EQ(REPORT_ERR_COUNT, Parse(b, REPORT_KIND_INFO));
  }
  {  // fewer
    ReportBuilder b;
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image(2));
    b.Snapshot("1", "a");
    b.End();
    EXPECT_EQ(REPORT_ERR_COUNT, Parse(b, REPORT_KIND_INFO));
  }
  {  // bitmaps before the last snapshot
    ReportBuilder b;
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image(1, 1));
    b.Bitmap("bm");
    b.Snapshot("1", "a");
    b.End();
    EXPECT_EQ(REPORT_ERR_COUNT, Parse(b, REPORT_KIND_INFO));
  }
  {  // a bitmap the image did not announce
    ReportBuilder b;
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image());
    b.Bitmap("bm");
    b.End();
    EXPECT_EQ(REPORT_ERR_COUNT, Parse(b, REPORT_KIND_INFO));
  }
  {  // END miscounting the records
    ReportBuilder b;
    b.Add(REPORT_T_IMAGE, ReportBuilder::Image());
    b.End(2, 0);
    EXPECT_EQ(REPORT_ERR_COUNT, Parse(b, REPORT_KIND_INFO));
  }
}

TEST(ReportParse, FindingFields) {
  struct Case {
    const char* what;
    uint32_t code;
    std::vector<uint64_t> args;
    std::string id, name;
  } cases[] = {
      {"code past the table", QCOW2_FINDING_COUNT_, {}, "", ""},
      {"too few args", QCOW2_F_LEAK, {6, 1}, "", ""},
      {"too many args", QCOW2_F_L1_IO, {1}, "", ""},
      {"names on a finding without", QCOW2_F_LEAK, {6, 1, 0}, "1", "a"},
  };
  for (const Case& c : cases) {
    ReportBuilder b;
    b.Finding(c.code, c.args, c.id, c.name);
    b.Check(Totals());
    b.End();
    EXPECT_EQ(REPORT_ERR_FIELD, Parse(b, REPORT_KIND_CHECK)) << c.what;
  }
  // A snapshot finding names its snapshot.
  ReportBuilder b;
  b.Finding(QCOW2_F_SNAP_L1_UNALIGNED, {0x10001}, "1", "snap");
  report_check k = Totals();
  k.corruptions = 1;
  b.Check(k);
  b.End();
  EXPECT_EQ(REPORT_OK, Parse(b, REPORT_KIND_CHECK));
}

TEST(ReportParse, CheckTotalsAreTheFindings) {
  struct Case {
    const char* what;
    void (*edit)(report_check*);
    report_err want;
  } cases[] = {
      {"leaks undercounted", [](report_check* k) { k->leaks = 1; },
       REPORT_ERR_COUNT},
      {"corruptions hidden", [](report_check* k) { k->corruptions = 0; },
       REPORT_ERR_COUNT},
      {"check errors invented", [](report_check* k) { k->check_errors = 1; },
       REPORT_ERR_COUNT},
      {"compressed > allocated",
       [](report_check* k) { k->compressed_clusters = 3; }, REPORT_ERR_FIELD},
      {"fragmented > allocated",
       [](report_check* k) { k->fragmented_clusters = 3; }, REPORT_ERR_FIELD},
      {"unknown flag", [](report_check* k) { k->flags = 2; }, REPORT_ERR_FIELD},
      {"errno not one a check fails with",
       [](report_check* k) { k->failed_errno = 99; }, REPORT_ERR_FIELD},
      {"EFBIG is one", [](report_check* k) { k->failed_errno = QCOW2_EFBIG; },
       REPORT_OK},
  };
  for (const Case& c : cases) {
    ReportBuilder b;
    b.Finding(QCOW2_F_LEAK, {6, 1, 0});
    b.Finding(QCOW2_F_LEAK, {8, 3, 0});
    b.Finding(QCOW2_F_REFCOUNT_LOW, {9, 1, 2});
    report_check k{};
    k.leaks = 2;
    k.corruptions = 1;
    k.allocated_clusters = 2;
    k.total_clusters = 1024;
    c.edit(&k);
    b.Check(k);
    b.End();
    EXPECT_EQ(c.want, Parse(b, REPORT_KIND_CHECK)) << c.what;
  }
}

TEST(ReportParse, CheckOrderAndCounts) {
  {  // a finding after the totals
    ReportBuilder b;
    b.Check(Totals());
    b.Finding(QCOW2_F_L1_IO, {});
    b.End();
    EXPECT_EQ(REPORT_ERR_ORDER, Parse(b, REPORT_KIND_CHECK));
  }
  {  // no totals
    ReportBuilder b;
    b.Finding(QCOW2_F_LEAK, {6, 1, 0});
    b.End();
    EXPECT_EQ(REPORT_ERR_ORDER, Parse(b, REPORT_KIND_CHECK));
  }
  {  // END miscounting the findings
    ReportBuilder b;
    b.Finding(QCOW2_F_LEAK, {6, 1, 0});
    report_check k = Totals();
    k.leaks = 1;
    b.Check(k);
    b.End(2, 0);
    EXPECT_EQ(REPORT_ERR_COUNT, Parse(b, REPORT_KIND_CHECK));
  }
  {  // an open error after findings
    ReportBuilder b;
    b.Finding(QCOW2_F_L1_IO, {});
    b.Message(REPORT_T_OPEN_ERROR, QOPEN_VERSION, {4});
    b.End();
    EXPECT_EQ(REPORT_ERR_ORDER, Parse(b, REPORT_KIND_CHECK));
  }
}

}  // namespace
