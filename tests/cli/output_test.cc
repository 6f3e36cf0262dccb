// output_test.cc — JSON escaping of the filename and the exact JSON
// object; the message printer's substitution.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "src/cli/output.h"
#include "tests/cli/capture_stream.h"

namespace {

std::string Json(const char* s) {
  return Capture([&](FILE* f) { json_string(f, s); });
}

TEST(JsonString, Escapes) {
  EXPECT_EQ("\"plain.qcow2\"", Json("plain.qcow2"));
  EXPECT_EQ("\"a\\\"b\\\\c\"", Json("a\"b\\c"));
  EXPECT_EQ("\"\\n\\t\\r\\b\\f\"", Json("\n\t\r\b\f"));
  EXPECT_EQ("\"\\u0001\\u001f\\u007f\"", Json("\x01\x1f\x7f"));
}

TEST(JsonString, Utf8KeptInvalidReplaced) {
  EXPECT_EQ("\"d\xc3\xa9j\xc3\xa0 \xe2\x82\xac \xf0\x9f\x92\xbe\"",
            Json("d\xc3\xa9j\xc3\xa0 \xe2\x82\xac \xf0\x9f\x92\xbe"));
  EXPECT_EQ("\"a\\ufffdb\"", Json("a\xff" "b"));
  EXPECT_EQ("\"\\ufffd\\ufffd\"", Json("\xc0\xaf"));          // overlong
  EXPECT_EQ("\"\\ufffd\\ufffd\\ufffd\"", Json("\xed\xa0\x80"));  // surrogate
  EXPECT_EQ("\"\\ufffd\"", Json("\xc3"));                      // truncated
  EXPECT_EQ("\"\\ufffd\\ufffd\\ufffd\\ufffd\"", Json("\xf4\x90\x80\x80"));  // > U+10FFFF
}

TEST(JsonResult, ExactObject) {
  std::string s = Capture([](FILE* f) { print_json_result(f, "/tmp/doc2.qcow2", true, 3, true); });
  EXPECT_EQ(
      "{\n"
      "  \"filename\": \"/tmp/doc2.qcow2\",\n"
      "  \"format\": \"qcow2\",\n"
      "  \"action\": \"amended\",\n"
      "  \"compat\": \"1.1\",\n"
      "  \"lazy_refcounts\": \"on\"\n"
      "}\n",
      s);
  s = Capture([](FILE* f) { print_json_result(f, "x", false, 2, false); });
  EXPECT_NE(std::string::npos, s.find("\"action\": \"noop\""));
  EXPECT_NE(std::string::npos, s.find("\"compat\": \"0.10\""));
  EXPECT_NE(std::string::npos, s.find("\"lazy_refcounts\": \"off\""));
}

TEST(MsgPrint, Substitutes) {
  std::string s = Capture([](FILE* f) { msg_print(f, "cannot open '%s': %s", "abcdef", 3, "gone"); });
  EXPECT_EQ("instar amend: cannot open 'abc': gone\n", s);
  s = Capture([](FILE* f) { msg_print(f, "100%% sure %d", nullptr, 0, nullptr); });
  EXPECT_EQ("instar amend: 100%% sure %d\n", s);
}

}  // namespace

namespace {

std::string Esc(const std::string& in) {
  std::string out(in.size() * 4 + 1, '\0');
  size_t n = term_escape(in.data(), in.size(), &out[0], out.size());
  EXPECT_LE(n, out.size());
  out.resize(n);
  return out;
}

TEST(TermEscape, ControlsBecomeHex) {
  EXPECT_EQ("plain.qcow2", Esc("plain.qcow2"));
  EXPECT_EQ("a\\x1b]0;t\\x07b", Esc("a\x1b]0;t\ab"));
  EXPECT_EQ("\\x0d\\x0a\\x09\\x00\\x7f", Esc(std::string("\r\n\t\0\x7f", 5)));
  // C1 controls: as UTF-8 (U+009B) and as a lone byte.
  EXPECT_EQ("\\xc2\\x9b[31m", Esc("\xc2\x9b[31m"));
  EXPECT_EQ("\\x9b[31m", Esc("\x9b[31m"));
  // Other UTF-8 and other bytes stay (U+00A0 is not a control).
  EXPECT_EQ("caf\xc3\xa9 \xc2\xa0 \xe2\x82\xac", Esc("caf\xc3\xa9 \xc2\xa0 \xe2\x82\xac"));
  EXPECT_EQ("\xff\xfe", Esc("\xff\xfe"));
  EXPECT_EQ("back\\slash", Esc("back\\slash"));
}

TEST(TermEscape, ReportsTheWholeLengthAndRespectsTheBuffer) {
  char buf[6];
  memset(buf, 'Z', sizeof buf);
  EXPECT_EQ(8u, term_escape("\x1b\x1b", 2, buf, 5));
  EXPECT_EQ(0, memcmp(buf, "\\x1b\\", 5));
  EXPECT_EQ('Z', buf[5]);
  // A truncated UTF-8 sequence at the end is a lone byte.
  EXPECT_EQ("a\xc3", Esc("a\xc3"));
}

TEST(MsgPrint, EscapesItsArguments) {
  std::string s = Capture([](FILE* f) {
    msg_print(f, "cannot open '%s': %s", "x\x1b[2Jy\n", 7, "why\r");
  });
  EXPECT_EQ("instar amend: cannot open 'x\\x1b[2Jy\\x0a': why\\x0d\n", s);
}

}  // namespace
