// output_test.cc — JSON escaping of the filename and the exact JSON
// object; the message printer's substitution.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "src/cli/output.h"

namespace {

template <typename F>
std::string Capture(F f) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* m = open_memstream(&buf, &len);
  f(m);
  fclose(m);
  std::string s(buf, len);
  free(buf);
  return s;
}

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
