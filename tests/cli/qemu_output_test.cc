// qemu_output_test.cc — the pieces of qemu-img's output that instar
// reproduces, against what the qemu-img releases printed (the expected
// texts are copied from their output on the images named in each test,
// tests/inspect/): sizes for people, JSON strings and layout, check's
// report and exit status; and the info/check command line.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "src/cli/check_print.h"
#include "src/cli/inspect_args.h"
#include "src/cli/outbuf.h"
#include "src/cli/qemu_json.h"
#include "src/cli/qemu_size.h"
#include "src/image/report_parse.h"
#include "src/qcow2/qcow2_check.h"
#include "tests/image/report_builder.h"

namespace {

std::string Size(uint64_t v) {
  char buf[QEMU_SIZE_BUF];
  qemu_size_str(v, buf);
  return buf;
}

TEST(QemuSize, Units) {
  EXPECT_EQ("0 B", Size(0));
  EXPECT_EQ("1 B", Size(1));
  EXPECT_EQ("999 B", Size(999));
  EXPECT_EQ("0.977 KiB", Size(1000));   // the unit changes before 1024
  EXPECT_EQ("0.999 KiB", Size(1023));
  EXPECT_EQ("1 KiB", Size(1024));
  EXPECT_EQ("1 KiB", Size(1029));
  EXPECT_EQ("1.01 KiB", Size(1034));
  EXPECT_EQ("1.5 KiB", Size(1536));
  EXPECT_EQ("10 KiB", Size(10239));
  EXPECT_EQ("64 MiB", Size(64ull << 20));
  EXPECT_EQ("11.5 GiB", Size(12348030976ull));
}

TEST(QemuSize, TiesToEvenAndTheE03Form) {
  EXPECT_EQ("116 KiB", Size(118272));   // 115.5: tie, to even
  EXPECT_EQ("116 KiB", Size(119296));   // 116.5: tie, to even
  EXPECT_EQ("192 KiB", Size(197120));   // 192.5
  EXPECT_EQ("194 KiB", Size(198144));   // 193.5
  EXPECT_EQ("999 KiB", Size(1023487));
  EXPECT_EQ("1e+03 KiB", Size(1023488));   // 999.5 KiB rounds to 1000
  EXPECT_EQ("1e+03 KiB", Size(1023999));
  EXPECT_EQ("0.999 MiB", Size(1047552));
  EXPECT_EQ("1 MiB", Size(1048063));
  EXPECT_EQ("1e+03 MiB", Size(1048051712));
}

TEST(QemuSize, Extremes) {
  EXPECT_EQ("8 EiB", Size(UINT64_C(1) << 63));
  std::string max = Size(UINT64_MAX);
  EXPECT_EQ("16 EiB", max);
  EXPECT_LT(max.size(), QEMU_SIZE_BUF);
}

std::string Escape(const std::string& s) {
  outbuf b;
  outbuf_init(&b);
  qjson_escape(&b, s.data(), s.size());
  std::string r(b.p != nullptr ? b.p : "", b.len);
  EXPECT_FALSE(b.failed);
  outbuf_free(&b);
  return r;
}

TEST(QemuJson, EscapesAsQemu) {
  // backing_ctrl: TAB, newline, ESC, DEL, quote, backslash, 0x01.
  EXPECT_EQ("a\\tb\\nc\\u001Bd\\u007Fe\\\"f\\\\g\\u0001h.qcow2",
            Escape("a\tb\nc\x1b" "d\x7f" "e\"f\\g\x01h.qcow2"));
  // backing_utf8: valid 2/3/4-byte forms, U+FFFF, a surrogate, C0 80, an
  // overlong, FF FE, a lone continuation byte, a cut sequence, a code
  // point past U+10FFFF and a non-character.
  EXPECT_EQ(
      "caf\\u00E9 \\u20AC \\uD83D\\uDE00 \\uFFFD \\uFFFD \\u0000 \\uFFFD "
      "\\uFFFD\\uFFFD \\uFFFD \\uFFFD \\uFFFD \\uFFFD end",
      Escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf "
             "\xed\xa0\x80 \xc0\x80 \xc0\xaf \xff\xfe \x80 \xe2\x82 "
             "\xf4\x90\x80\x80 \xef\xb7\x90 end"));
  // bm_name_odd: ESC, a bad byte, quote and backslash.
  EXPECT_EQ("\\u001B[31mred\\uFFFD\\\"\\\\", Escape("\x1b[31mred\xff\"\\"));
  // \b \f \r keep their short forms.
  EXPECT_EQ("\\b\\f\\r", Escape("\b\f\r"));
}

TEST(QemuJson, StringEndsAtNul) {
  EXPECT_EQ("ab", Escape(std::string("ab\0cd", 5)));
  EXPECT_EQ("", Escape(std::string("\0", 1)));
}

std::string Doc(void (*write)(qjson*)) {
  outbuf b;
  outbuf_init(&b);
  qjson j;
  qjson_init(&j, &b);
  write(&j);
  qjson_finish(&j);
  std::string r(b.p != nullptr ? b.p : "", b.len);
  outbuf_free(&b);
  return r;
}

TEST(QemuJson, Layout) {
  EXPECT_EQ(
      "{\n"
      "    \"a\": 1,\n"
      "    \"b\": [\n"
      "        {\n"
      "            \"c\": true\n"
      "        },\n"
      "        -2\n"
      "    ],\n"
      "    \"d\": \"x\"\n"
      "}\n",
      Doc([](qjson* j) {
        qjson_begin_object(j);
        qjson_key(j, "a");
        qjson_uint(j, 1);
        qjson_key(j, "b");
        qjson_begin_array(j);
        qjson_begin_object(j);
        qjson_key(j, "c");
        qjson_bool(j, true);
        qjson_end_object(j);
        qjson_int(j, -2);
        qjson_end_array(j);
        qjson_key(j, "d");
        qjson_cstring(j, "x");
        qjson_end_object(j);
      }));
}

TEST(QemuJson, EmptyContainers) {
  // As qemu-img prints an image's empty "children" or "snapshots": the
  // bracket, a new line, the closing bracket at the same indentation.
  EXPECT_EQ(
      "{\n"
      "    \"children\": [\n"
      "    ],\n"
      "    \"o\": {\n"
      "    }\n"
      "}\n",
      Doc([](qjson* j) {
        qjson_begin_object(j);
        qjson_key(j, "children");
        qjson_begin_array(j);
        qjson_end_array(j);
        qjson_key(j, "o");
        qjson_begin_object(j);
        qjson_end_object(j);
        qjson_end_object(j);
      }));
}

TEST(QemuJson, TooDeepOrUnbalancedFails) {
  outbuf b;
  outbuf_init(&b);
  qjson j;
  qjson_init(&j, &b);
  for (int i = 0; i < QJSON_MAX_DEPTH + 1; i++) qjson_begin_array(&j);
  EXPECT_TRUE(b.failed);
  outbuf_free(&b);

  outbuf c;
  outbuf_init(&c);
  qjson_init(&j, &c);
  qjson_end_object(&j);
  EXPECT_TRUE(c.failed);
  outbuf_free(&c);
}

// --- check's report ----------------------------------------------------

struct Printed {
  std::string out, err;
  int rc;
};

Printed PrintCheck(ReportBuilder& b, bool json, bool quiet = false) {
  report_view v;
  EXPECT_EQ(REPORT_OK, report_parse(b.data(), b.size(), REPORT_KIND_CHECK, &v));
  outbuf out, err;
  outbuf_init(&out);
  outbuf_init(&err);
  check_print_findings(&err, &v);
  Printed p;
  p.rc = check_print_report(&out, &err, &v, "leak_many.qcow2", json, quiet);
  p.out.assign(out.p != nullptr ? out.p : "", out.len);
  p.err.assign(err.p != nullptr ? err.p : "", err.len);
  outbuf_free(&out);
  outbuf_free(&err);
  return p;
}

// leak_many: two leaked clusters (qemu-img 5.2 to 11.1 print the same).
ReportBuilder LeakMany() {
  ReportBuilder b;
  b.Finding(QCOW2_F_LEAK, {6, 1, 0});
  b.Finding(QCOW2_F_LEAK, {8, 3, 0});
  report_check k{};
  k.leaks = 2;
  k.allocated_clusters = 2;
  k.total_clusters = 1024;
  k.fragmented_clusters = 1;
  k.image_end_offset = 589824;
  b.Check(k);
  b.End();
  return b;
}

TEST(CheckPrint, LeakManyHuman) {
  ReportBuilder b = LeakMany();
  Printed p = PrintCheck(b, false);
  EXPECT_EQ(
      "Leaked cluster 6 refcount=1 reference=0\n"
      "Leaked cluster 8 refcount=3 reference=0\n",
      p.err);
  EXPECT_EQ(
      "\n"
      "2 leaked clusters were found on the image.\n"
      "This means waste of disk space, but no harm to data.\n"
      "2/1024 = 0.20% allocated, 50.00% fragmented, 0.00% compressed clusters\n"
      "Image end offset: 589824\n",
      p.out);
  EXPECT_EQ(3, p.rc);
}

TEST(CheckPrint, LeakManyJson) {
  ReportBuilder b = LeakMany();
  Printed p = PrintCheck(b, true);
  EXPECT_EQ(
      "{\n"
      "    \"image-end-offset\": 589824,\n"
      "    \"total-clusters\": 1024,\n"
      "    \"check-errors\": 0,\n"
      "    \"leaks\": 2,\n"
      "    \"allocated-clusters\": 2,\n"
      "    \"filename\": \"leak_many.qcow2\",\n"
      "    \"format\": \"qcow2\",\n"
      "    \"fragmented-clusters\": 1\n"
      "}\n",
      p.out);
  EXPECT_EQ(3, p.rc);
}

TEST(CheckPrint, QuietPrintsNoReport) {
  ReportBuilder b = LeakMany();
  Printed p = PrintCheck(b, false, true);
  EXPECT_EQ("", p.out);
  EXPECT_EQ(3, p.rc);
}

// pct_round: percentages that are exact binary ties (0.125, 3.125,
// 9.375) print rounded to even, as C's %.2f does.
TEST(CheckPrint, PercentTiesToEven) {
  ReportBuilder b;
  report_check k{};
  k.allocated_clusters = 32;
  k.total_clusters = 25600;
  k.fragmented_clusters = 3;
  k.compressed_clusters = 1;
  k.image_end_offset = 2555904;
  b.Check(k);
  b.End();
  Printed p = PrintCheck(b, false);
  EXPECT_EQ(
      "No errors were found on the image.\n"
      "32/25600 = 0.12% allocated, 9.38% fragmented, 3.12% compressed clusters\n"
      "Image end offset: 2555904\n",
      p.out);
  EXPECT_EQ(0, p.rc);
}

TEST(CheckPrint, FailedStepIsExitOne) {
  ReportBuilder b;
  report_check k{};
  k.failed_errno = QCOW2_ENOMEM;
  b.Check(k);
  b.End();
  Printed p = PrintCheck(b, false);
  EXPECT_EQ("", p.out);
  EXPECT_EQ("qemu-img: Check failed: Cannot allocate memory\n", p.err);
  EXPECT_EQ(1, p.rc);
}

// --- the command line ---------------------------------------------------

struct Parsed {
  iargs_err rc;
  inspect_args a;
  iargs_error e;
};

Parsed ParseArgs(inspect_cmd cmd, std::vector<const char*> words) {
  Parsed p;
  std::vector<char*> argv;
  for (const char* w : words) argv.push_back(const_cast<char*>(w));
  argv.push_back(nullptr);
  p.rc = inspect_args_parse(cmd, static_cast<int>(words.size()), argv.data(),
                            &p.a, &p.e);
  return p;
}

TEST(InspectArgs, Defaults) {
  Parsed p = ParseArgs(INSPECT_INFO, {"disk.qcow2"});
  ASSERT_EQ(IARGS_OK, p.rc);
  EXPECT_STREQ("disk.qcow2", p.a.filename);
  EXPECT_EQ(OUTPUT_HUMAN, p.a.output);
  EXPECT_EQ(FORMAT_PROBE, p.a.format);
  EXPECT_EQ(qemu_compat_default(), p.a.compat);
  EXPECT_STREQ("11.1", p.a.compat->version);
  EXPECT_FALSE(p.a.force_share);
}

TEST(InspectArgs, EveryFlagForm) {
  Parsed p = ParseArgs(INSPECT_CHECK, {"-fqcow2", "--output=json", "-U", "-q",
                                       "--qemu-compat", "5.2", "d"});
  ASSERT_EQ(IARGS_OK, p.rc);
  EXPECT_EQ(FORMAT_QCOW2, p.a.format);
  EXPECT_EQ(OUTPUT_JSON, p.a.output);
  EXPECT_TRUE(p.a.force_share);
  EXPECT_TRUE(p.a.quiet);
  EXPECT_STREQ("5.2", p.a.compat->version);

  p = ParseArgs(INSPECT_INFO, {"--format", "raw", "--output", "human",
                               "--force-share", "--qemu-compat=10.0", "d"});
  ASSERT_EQ(IARGS_OK, p.rc);
  EXPECT_EQ(FORMAT_RAW, p.a.format);
  EXPECT_STREQ("10.0", p.a.compat->version);

  p = ParseArgs(INSPECT_INFO, {"-f", "qcow2", "--", "-U"});
  ASSERT_EQ(IARGS_OK, p.rc);
  EXPECT_STREQ("-U", p.a.filename);
  EXPECT_FALSE(p.a.force_share);
}

TEST(InspectArgs, Errors) {
  struct Case {
    inspect_cmd cmd;
    std::vector<const char*> words;
    iargs_err want;
    const char* arg;
  } cases[] = {
      {INSPECT_INFO, {}, IARGS_NO_FILE, nullptr},
      {INSPECT_INFO, {"a", "b"}, IARGS_EXTRA_ARG, "b"},
      {INSPECT_INFO, {"-q", "a"}, IARGS_UNKNOWN_FLAG, "-q"},  // check only
      {INSPECT_INFO, {"-x", "a"}, IARGS_UNKNOWN_FLAG, "-x"},
      {INSPECT_INFO, {"a", "-f"}, IARGS_MISSING_VALUE, "-f"},
      {INSPECT_INFO, {"--output=xml", "a"}, IARGS_BAD_OUTPUT, "xml"},
      {INSPECT_INFO, {"-f", "qcow3", "a"}, IARGS_UNKNOWN_FORMAT, "qcow3"},
      {INSPECT_INFO, {"-f", "vmdk", "a"}, IARGS_UNSUPPORTED_FORMAT, "vmdk"},
      {INSPECT_CHECK, {"--qemu-compat", "6.0", "a"}, IARGS_BAD_COMPAT, "6.0"},
      {INSPECT_CHECK, {"--outputjson", "a"}, IARGS_UNKNOWN_FLAG,
       "--outputjson"},
  };
  for (const Case& c : cases) {
    Parsed p = ParseArgs(c.cmd, c.words);
    EXPECT_EQ(c.want, p.rc) << (c.words.empty() ? "(none)" : c.words[0]);
    EXPECT_EQ(c.want, p.e.code);
    if (c.arg == nullptr)
      EXPECT_EQ(nullptr, p.e.arg);
    else
      EXPECT_STREQ(c.arg, p.e.arg);
  }
}

TEST(InspectArgs, HelpWinsBeforeDashDash) {
  EXPECT_EQ(IARGS_HELP, ParseArgs(INSPECT_INFO, {"-x", "--help"}).rc);
  EXPECT_EQ(IARGS_HELP, ParseArgs(INSPECT_CHECK, {"-h"}).rc);
  Parsed p = ParseArgs(INSPECT_INFO, {"--", "--help"});
  ASSERT_EQ(IARGS_OK, p.rc);
  EXPECT_STREQ("--help", p.a.filename);
}

}  // namespace
