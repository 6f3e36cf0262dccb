// amend_args_test.cc — the argv and -o parser of `instar amend`: every
// flag form, every -o key and alias, and every usage error with the word
// it names.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/cli/amend_args.h"

namespace {

struct Parsed {
  args_err rc;
  amend_args args;
  args_error err;
  std::string word;
};

Parsed Parse(std::vector<std::string> words) {
  static std::vector<std::string> keep;
  keep = std::move(words);
  std::vector<char*> argv;
  for (auto& w : keep) argv.push_back(&w[0]);
  Parsed p;
  p.rc = amend_args_parse(static_cast<int>(argv.size()), argv.data(), &p.args, &p.err);
  if (p.err.arg) p.word.assign(p.err.arg, p.err.arg_len);
  return p;
}

TEST(AmendArgs, ShortAndLongForms) {
  for (auto words : std::vector<std::vector<std::string>>{
           {"-o", "compat=1.1", "f.qcow2"},
           {"-ocompat=1.1", "f.qcow2"},
           {"--options", "compat=1.1", "f.qcow2"},
           {"--options=compat=1.1", "f.qcow2"},
           {"f.qcow2", "-o", "compat=1.1"},
       }) {
    Parsed p = Parse(words);
    ASSERT_EQ(ARGS_OK, p.rc) << words[0];
    EXPECT_EQ(AMEND_COMPAT_V3, p.args.request.compat);
    EXPECT_EQ(AMEND_LAZY_KEEP, p.args.request.lazy);
    EXPECT_STREQ("f.qcow2", p.args.filename);
  }
}

TEST(AmendArgs, OutputQuietFormat) {
  Parsed p = Parse({"-q", "--output", "json", "-f", "qcow2", "-o", "compat=0.10", "x"});
  ASSERT_EQ(ARGS_OK, p.rc);
  EXPECT_TRUE(p.args.quiet);
  EXPECT_EQ(OUTPUT_JSON, p.args.output);
  EXPECT_TRUE(p.args.format_forced);
  p = Parse({"--quiet", "--output=human", "--format=qcow2", "-o", "compat=0.10", "x"});
  ASSERT_EQ(ARGS_OK, p.rc);
  EXPECT_EQ(OUTPUT_HUMAN, p.args.output);
  p = Parse({"-fqcow2", "-o", "compat=0.10", "x"});
  ASSERT_EQ(ARGS_OK, p.rc);
}

TEST(AmendArgs, Progress) {
  Parsed p = Parse({"-p", "-o", "compat=0.10", "x"});
  ASSERT_EQ(ARGS_OK, p.rc);
  EXPECT_TRUE(p.args.progress);
  p = Parse({"--progress", "-q", "-o", "compat=0.10", "x"});
  ASSERT_EQ(ARGS_OK, p.rc);
  EXPECT_TRUE(p.args.progress);
  EXPECT_TRUE(p.args.quiet);  // allowed: -q wins when printing
  p = Parse({"-o", "compat=0.10", "x"});
  ASSERT_EQ(ARGS_OK, p.rc);
  EXPECT_FALSE(p.args.progress);
  // The progress lines would break the JSON on stdout.
  for (auto words : std::vector<std::vector<std::string>>{
           {"-p", "--output", "json", "-o", "compat=0.10", "x"},
           {"--output=json", "x", "-o", "compat=1.1", "--progress"},
       }) {
    p = Parse(words);
    EXPECT_EQ(ARGS_PROGRESS_JSON, p.rc) << words[0];
    EXPECT_EQ(ARGS_PROGRESS_JSON, p.err.code);
  }
}

TEST(AmendArgs, CommaAndRepeatAreEquivalent) {
  Parsed a = Parse({"-o", "compat=1.1,lazy_refcounts=on", "x"});
  Parsed b = Parse({"-o", "compat=1.1", "-o", "lazy_refcounts=on", "x"});
  ASSERT_EQ(ARGS_OK, a.rc);
  ASSERT_EQ(ARGS_OK, b.rc);
  EXPECT_EQ(a.args.request.compat, b.args.request.compat);
  EXPECT_EQ(a.args.request.lazy, b.args.request.lazy);
  EXPECT_EQ(AMEND_LAZY_ON, b.args.request.lazy);
}

TEST(AmendArgs, LazyAliases) {
  for (const char* v : {"on", "true", "yes"})
    EXPECT_EQ(AMEND_LAZY_ON, Parse({"-o", std::string("lazy_refcounts=") + v, "x"}).args.request.lazy);
  for (const char* v : {"off", "false", "no"})
    EXPECT_EQ(AMEND_LAZY_OFF, Parse({"-o", std::string("lazy_refcounts=") + v, "x"}).args.request.lazy);
}

TEST(AmendArgs, SameValueTwiceIsFine) {
  EXPECT_EQ(ARGS_OK, Parse({"-o", "compat=1.1,compat=1.1", "x"}).rc);
  EXPECT_EQ(ARGS_OK, Parse({"-o", "lazy_refcounts=on", "-o", "lazy_refcounts=yes", "x"}).rc);
}

TEST(AmendArgs, OptionsHelp) {
  EXPECT_EQ(ARGS_OPTIONS_HELP, Parse({"-o", "help"}).rc);
  EXPECT_EQ(ARGS_OPTIONS_HELP, Parse({"-o", "?", "x"}).rc);
  EXPECT_EQ(ARGS_OPTIONS_HELP, Parse({"-o", "compat=1.1,help", "x"}).rc);
  EXPECT_EQ(ARGS_OPTIONS_HELP, Parse({"-o", "bogus,?"}).rc);
  EXPECT_EQ(ARGS_OPTIONS_HELP, Parse({"-o", "compat=1.1", "--options=help"}).rc);
  // Not a piece of its own: an ordinary (bad) piece.
  EXPECT_EQ(ARGS_MISSING_EQUALS, Parse({"-o", "helpme", "x"}).rc);
  EXPECT_EQ(ARGS_UNKNOWN_KEY, Parse({"-o", "help=1", "x"}).rc);
  // --help still wins over everything.
  EXPECT_EQ(ARGS_HELP, Parse({"-o", "help", "--help"}).rc);
  EXPECT_TRUE(amend_options_want_help("a,help,b", 8));
  EXPECT_FALSE(amend_options_want_help("a,hel", 5));
  EXPECT_FALSE(amend_options_want_help(nullptr, 0));
}

TEST(AmendArgs, HelpWins) {
  EXPECT_EQ(ARGS_HELP, Parse({"--help"}).rc);
  EXPECT_EQ(ARGS_HELP, Parse({"-o", "bogus", "-h"}).rc);
  EXPECT_EQ(ARGS_NO_OPTIONS, Parse({}).rc);
}

struct Bad {
  std::vector<std::string> words;
  args_err want;
  std::string word;
};

TEST(AmendArgs, UsageErrorsNameTheirWord) {
  const std::vector<Bad> cases = {
      {{"-x", "-o", "compat=1.1", "f"}, ARGS_UNKNOWN_FLAG, "-x"},
      {{"--bogus", "f"}, ARGS_UNKNOWN_FLAG, "--bogus"},
      {{"f", "-o"}, ARGS_MISSING_VALUE, "-o"},
      {{"f", "-o", "compat=1.1", "--output"}, ARGS_MISSING_VALUE, "--output"},
      {{"--output", "xml", "-o", "compat=1.1", "f"}, ARGS_BAD_OUTPUT, "xml"},
      {{"-f", "qcow3", "-o", "compat=1.1", "f"}, ARGS_UNKNOWN_FORMAT, "qcow3"},
      {{"-f", "raw", "-o", "compat=1.1", "f"}, ARGS_NOT_QCOW2_FORMAT, "raw"},
      {{"-f", "vmdk", "-o", "compat=1.1", "f"}, ARGS_NOT_QCOW2_FORMAT, "vmdk"},
      {{"-f", "vpc", "-o", "compat=1.1", "f"}, ARGS_NOT_QCOW2_FORMAT, "vpc"},
      {{"-f", "vhdx", "-o", "compat=1.1", "f"}, ARGS_NOT_QCOW2_FORMAT, "vhdx"},
      {{"-o", "compat=1.1"}, ARGS_NO_FILE, ""},
      {{"-o", "compat=1.1", "a", "b"}, ARGS_EXTRA_ARG, "b"},
      {{"f"}, ARGS_NO_OPTIONS, ""},
      {{"-o", "", "f"}, ARGS_EMPTY_PIECE, ""},
      {{"-o", "compat=1.1,", "f"}, ARGS_EMPTY_PIECE, ""},
      {{"-o", ",compat=1.1", "f"}, ARGS_EMPTY_PIECE, ""},
      {{"-o", "compat=1.1,,lazy_refcounts=on", "f"}, ARGS_EMPTY_PIECE, ""},
      {{"-o", "compat", "f"}, ARGS_MISSING_EQUALS, "compat"},
      {{"-o", "compat=", "f"}, ARGS_EMPTY_VALUE, "compat="},
      {{"-o", "lazy_refcounts=", "f"}, ARGS_EMPTY_VALUE, "lazy_refcounts="},
      {{"-o", "refcount_bits=16", "f"}, ARGS_UNKNOWN_KEY, "refcount_bits"},
      {{"-o", "data_file=x", "f"}, ARGS_UNKNOWN_KEY, "data_file"},
      {{"-o", "backing_file=x", "f"}, ARGS_UNKNOWN_KEY, "backing_file"},
      {{"-o", "cluster_size=4k", "f"}, ARGS_UNKNOWN_KEY, "cluster_size"},
      {{"-o", "=1.1", "f"}, ARGS_EMPTY_KEY, "=1.1"},
      {{"-o=compat=1.1", "f"}, ARGS_EMPTY_KEY, "=compat=1.1"},
      {{"-o", "compat=2", "f"}, ARGS_BAD_COMPAT, "compat=2"},
      {{"-o", "compat=v3", "f"}, ARGS_BAD_COMPAT, "compat=v3"},
      {{"-o", "compat=1.10", "f"}, ARGS_BAD_COMPAT, "compat=1.10"},
      {{"-o", "lazy_refcounts=maybe", "f"}, ARGS_BAD_LAZY, "lazy_refcounts=maybe"},
      {{"-o", "lazy_refcounts=ON", "f"}, ARGS_BAD_LAZY, "lazy_refcounts=ON"},
      {{"-o", "compat=1.1", "-o", "compat=0.10", "f"}, ARGS_CONFLICT, "compat=0.10"},
      {{"-o", "lazy_refcounts=on,lazy_refcounts=off", "f"}, ARGS_CONFLICT, "lazy_refcounts=off"},
  };
  for (const Bad& c : cases) {
    Parsed p = Parse(c.words);
    EXPECT_EQ(c.want, p.rc) << c.words[0] << " " << (c.words.size() > 1 ? c.words[1] : "");
    EXPECT_EQ(c.want, p.err.code);
    EXPECT_EQ(c.word, p.word) << c.words[0];
  }
}

TEST(AmendArgs, DoubleDashEndsFlags) {
  Parsed p = Parse({"-o", "compat=1.1", "--", "-weird-name.qcow2"});
  ASSERT_EQ(ARGS_OK, p.rc);
  EXPECT_STREQ("-weird-name.qcow2", p.args.filename);
}

TEST(AmendOptions, ReadsOnlyItsLength) {
  const char text[] = "compat=1.1GARBAGE";
  amend_request req = {0, 0};
  args_error err;
  EXPECT_EQ(ARGS_OK, amend_options_parse(text, 10, &req, &err));
  EXPECT_EQ(AMEND_COMPAT_V3, req.compat);
}

}  // namespace
