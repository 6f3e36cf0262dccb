// policy_parse_test.cc - unit tests of the seccomp policy parser: a good
// policy and what it turns into, one malformed input per error code with its
// line and column, and the checked-in policy files (they parse, every syscall
// name resolves on x86-64, and the shipped file keeps its invariants).
// Trusts: googletest, libseccomp's syscall name table.
#include <gtest/gtest.h>
#include <seccomp.h>
#include <sys/mman.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "seccomp/policy_parse.h"

namespace {

const std::string A = "[always]\n";

struct Parsed {
  policy_err err;
  policy_diag diag;
  std::unique_ptr<policy> pol;
};

Parsed Parse(const std::string& text,
             policy_origin origin = POLICY_ORIGIN_SHIPPED,
             policy* reuse = nullptr) {
  Parsed r{};
  r.pol.reset(new policy);
  policy* p = reuse != nullptr ? reuse : r.pol.get();
  if (reuse == nullptr) policy_init(p);
  r.err = policy_parse(text.data(), text.size(), origin, p, &r.diag);
  return r;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

uint64_t Sym(const char* name) {
  uint64_t v = 0;
  EXPECT_TRUE(policy_symbol_lookup(name, std::strlen(name), &v)) << name;
  return v;
}

TEST(PolicyParse, GoodPolicyBecomesRules) {
  const std::string text =
      "# comment line\n"
      "\n"
      "[setup]\n"
      "openat arg0 == AT_FDCWD, arg2 == O_RDWR|O_CLOEXEC  # open it\n"
      "\t[always]   # trailing comment after a section\n"
      "brk # heap\n"
      "write\targ0:32 in {STDOUT_FILENO, 2, $image_fd}  # output  \n"
      "mmap arg2 & PROT_EXEC == 0 # no exec\n"
      "ioctl arg1 != 0x10, arg0 >= 3, arg2 > 1, arg3 <= 4, arg4 < 18446744073709551615 # ops\n"
      "pread64 arg0:32 == $image_fd # image";
  Parsed r = Parse(text);
  ASSERT_EQ(r.err, POLICY_OK) << policy_strerror(r.err) << " at " << r.diag.line
                              << ":" << r.diag.col;
  const policy& p = *r.pol;
  ASSERT_EQ(p.nrules, 6u);

  const policy_rule& o = p.rules[0];
  EXPECT_STREQ(o.syscall, "openat");
  EXPECT_EQ(o.stage, POLICY_STAGE_SETUP);
  EXPECT_EQ(o.origin, POLICY_ORIGIN_SHIPPED);
  EXPECT_EQ(o.line, 4u);
  EXPECT_EQ(o.col, 1u);
  EXPECT_STREQ(o.text, "arg0 == AT_FDCWD, arg2 == O_RDWR|O_CLOEXEC");
  EXPECT_STREQ(o.reason, "open it");
  ASSERT_EQ(o.nconds, 2u);
  EXPECT_EQ(o.conds[0].arg, 0);
  EXPECT_EQ(o.conds[0].op, POLICY_OP_EQ);
  ASSERT_EQ(o.conds[0].nvalues, 1u);
  EXPECT_EQ(o.conds[0].values[0].kind, POLICY_VAL_CONST);
  EXPECT_EQ(o.conds[0].values[0].v, static_cast<uint64_t>(INT64_C(-100)));
  EXPECT_EQ(o.conds[1].arg, 2);
  EXPECT_EQ(o.conds[1].values[0].v, Sym("O_RDWR") | Sym("O_CLOEXEC"));

  const policy_rule& b = p.rules[1];
  EXPECT_STREQ(b.syscall, "brk");
  EXPECT_EQ(b.stage, POLICY_STAGE_ALWAYS);
  EXPECT_EQ(b.nconds, 0u);
  EXPECT_STREQ(b.text, "");
  EXPECT_STREQ(b.reason, "heap");

  const policy_rule& w = p.rules[2];
  EXPECT_STREQ(w.reason, "output");  // trailing blanks trimmed
  ASSERT_EQ(w.nconds, 1u);
  ASSERT_EQ(w.conds[0].nvalues, 3u);
  EXPECT_EQ(w.conds[0].values[0].v, 1u);
  EXPECT_EQ(w.conds[0].values[1].v, 2u);
  EXPECT_EQ(w.conds[0].values[2].kind, POLICY_VAL_IMAGE_FD);

  const policy_rule& m = p.rules[3];
  ASSERT_EQ(m.nconds, 1u);
  EXPECT_EQ(m.conds[0].op, POLICY_OP_MASKED_EQ);
  EXPECT_EQ(m.conds[0].mask, Sym("PROT_EXEC"));
  EXPECT_EQ(m.conds[0].values[0].v, 0u);

  const policy_rule& i = p.rules[4];
  ASSERT_EQ(i.nconds, 5u);
  EXPECT_EQ(i.conds[0].op, POLICY_OP_NE);
  EXPECT_EQ(i.conds[0].values[0].v, 0x10u);
  EXPECT_EQ(i.conds[1].op, POLICY_OP_GE);
  EXPECT_EQ(i.conds[2].op, POLICY_OP_GT);
  EXPECT_EQ(i.conds[3].op, POLICY_OP_LE);
  EXPECT_EQ(i.conds[4].op, POLICY_OP_LT);
  EXPECT_EQ(i.conds[4].values[0].v, UINT64_MAX);

  EXPECT_EQ(p.rules[5].conds[0].values[0].kind, POLICY_VAL_IMAGE_FD);
  EXPECT_EQ(p.rules[5].line, 10u);  // last line without a newline
}

TEST(PolicyParse, Width32KeepsTheLowHalf) {
  Parsed r = Parse(A + "openat arg0:32 == AT_FDCWD, arg2:64 == 2, arg1 == 3, "
                       "arg3:32 in {0xffffffff, 1}, arg4:32 & 0x80000000 == 0 # x\n");
  ASSERT_EQ(r.err, POLICY_OK) << policy_strerror(r.err) << " col " << r.diag.col;
  const policy_rule& o = r.pol->rules[0];
  ASSERT_EQ(o.nconds, 5u);
  EXPECT_EQ(o.conds[0].width, 32);
  EXPECT_EQ(o.conds[0].values[0].v, 0xffffff9cu);
  EXPECT_EQ(o.conds[1].width, 64);
  EXPECT_EQ(o.conds[2].width, 64);
  EXPECT_EQ(o.conds[3].width, 32);
  EXPECT_EQ(o.conds[3].values[0].v, 0xffffffffu);
  EXPECT_EQ(o.conds[4].op, POLICY_OP_MASKED_EQ);
  EXPECT_EQ(o.conds[4].mask, 0x80000000u);
  // Sign-extended 32-bit numbers are accepted and narrowed too.
  Parsed n = Parse(A + "write arg0:32 == 0xffffffff80000000 # x\n");
  ASSERT_EQ(n.err, POLICY_OK);
  EXPECT_EQ(n.pol->rules[0].conds[0].values[0].v, 0x80000000u);
}

TEST(PolicyParse, EmptyAndCommentOnlyInputsHaveNoRules) {
  for (const char* t : {"", "\n\n", "# only\n   # comments\n", "[always]\n"}) {
    Parsed r = Parse(t);
    EXPECT_EQ(r.err, POLICY_OK) << t;
    EXPECT_EQ(r.pol->nrules, 0u) << t;
  }
}

TEST(PolicyParse, SecondFileAppendsWithItsOrigin) {
  policy p;
  policy_init(&p);
  policy_diag d;
  const std::string a = "[always]\nbrk # a\n";
  const std::string b = "[setup]\nmprotect arg2 & PROT_EXEC == 0 # b\n";
  ASSERT_EQ(policy_parse(a.data(), a.size(), POLICY_ORIGIN_SHIPPED, &p, &d), POLICY_OK);
  ASSERT_EQ(policy_parse(b.data(), b.size(), POLICY_ORIGIN_SANITIZER, &p, &d), POLICY_OK);
  ASSERT_EQ(p.nrules, 2u);
  EXPECT_EQ(p.rules[0].origin, POLICY_ORIGIN_SHIPPED);
  EXPECT_EQ(p.rules[1].origin, POLICY_ORIGIN_SANITIZER);
  EXPECT_EQ(p.rules[1].stage, POLICY_STAGE_SETUP);
  // A section header does not carry over from one file to the next.
  const std::string c = "munmap # c\n";
  EXPECT_EQ(policy_parse(c.data(), c.size(), POLICY_ORIGIN_SANITIZER, &p, &d),
            POLICY_ERR_RULE_OUTSIDE_SECTION);
  // An unconditional rule in the second file shadows a rule of the first.
  const std::string s = "[always]\nmprotect # shadows\n";
  EXPECT_EQ(policy_parse(s.data(), s.size(), POLICY_ORIGIN_SANITIZER, &p, &d),
            POLICY_ERR_SHADOWED_RULE);
  EXPECT_EQ(d.line, 2u);
  EXPECT_EQ(p.nrules, 2u);
}

TEST(PolicyParse, ErrorLeavesEarlierRulesAndDropsPartialOnes) {
  policy p;
  policy_init(&p);
  policy_diag d;
  const std::string a = "[always]\nbrk # a\n";
  ASSERT_EQ(policy_parse(a.data(), a.size(), POLICY_ORIGIN_SHIPPED, &p, &d), POLICY_OK);
  const std::string b = "[always]\nmunmap # ok\nwrite arg9 == 1 # bad\n";
  EXPECT_EQ(policy_parse(b.data(), b.size(), POLICY_ORIGIN_SHIPPED, &p, &d),
            POLICY_ERR_BAD_ARG);
  EXPECT_EQ(p.nrules, 1u);
}

struct BadCase {
  const char* name;
  std::string text;
  policy_err err;
  unsigned line;
  unsigned col;
};

class PolicyParseError : public ::testing::TestWithParam<BadCase> {};

TEST_P(PolicyParseError, ReportsCodeLineAndColumn) {
  const BadCase& c = GetParam();
  Parsed r = Parse(c.text);
  EXPECT_EQ(r.err, c.err) << "got: " << policy_strerror(r.err);
  EXPECT_EQ(r.diag.err, c.err);
  EXPECT_EQ(r.diag.line, c.line);
  EXPECT_EQ(r.diag.col, c.col);
  EXPECT_EQ(r.pol->nrules, 0u);
}

// n distinct values written 19 characters wide, each followed by ", ".
std::string LongValues(size_t n) {
  std::string out;
  for (size_t i = 1; i <= n; i++) out += "0x0000000000000000" + std::to_string(i) + ", ";
  return out;
}

std::string SetOf(size_t n) {
  std::string s = "[always]\nioctl arg1 in {";
  for (size_t i = 0; i < n; i++) s += (i ? ", " : "") + std::to_string(i + 1);
  return s + "} # r\n";
}

std::string ManyRules(size_t n) {
  std::string s = "[always]\n";
  for (size_t i = 0; i < n; i++) s += "write arg0 == " + std::to_string(i) + " # r\n";
  return s;
}


INSTANTIATE_TEST_SUITE_P(
    AllErrors, PolicyParseError,
    ::testing::Values(
        BadCase{"TooLarge", std::string(POLICY_MAX_INPUT + 1u, '#'), POLICY_ERR_TOO_LARGE, 0, 0},
        BadCase{"NonAscii", A + "write # caf\xc3\xa9\n", POLICY_ERR_BAD_CHAR, 2, 12},
        BadCase{"CarriageReturn", A + "brk # heap\r\n", POLICY_ERR_BAD_CHAR, 2, 11},
        BadCase{"NulByte", A + std::string("brk\0 # x\n", 9), POLICY_ERR_BAD_CHAR, 2, 4},
        BadCase{"UnknownSection", "[sometimes]\n", POLICY_ERR_BAD_SECTION, 1, 1},
        BadCase{"UnclosedSection", "[always\n", POLICY_ERR_BAD_SECTION, 1, 1},
        BadCase{"JunkAfterSection", "[always] brk # x\n", POLICY_ERR_BAD_SECTION, 1, 10},
        BadCase{"RuleBeforeSection", "# hi\nbrk # heap\n", POLICY_ERR_RULE_OUTSIDE_SECTION, 2, 1},
        BadCase{"UpperCaseName", A + "Write # x\n", POLICY_ERR_BAD_SYSCALL_NAME, 2, 1},
        BadCase{"DashInName", A + "  wr-ite # x\n", POLICY_ERR_BAD_SYSCALL_NAME, 2, 3},
        BadCase{"NameTooLong", A + std::string(32, 'a') + " # x\n", POLICY_ERR_BAD_SYSCALL_NAME, 2, 1},
        BadCase{"NameStartsWithDigit", A + "9p # x\n", POLICY_ERR_BAD_SYSCALL_NAME, 2, 1},
        BadCase{"NoReason", A + "brk\n", POLICY_ERR_MISSING_REASON, 2, 4},
        BadCase{"NoReasonAfterCond", A + "write arg0 == 1\n", POLICY_ERR_MISSING_REASON, 2, 16},
        BadCase{"EmptyReason", A + "brk #   \n", POLICY_ERR_EMPTY_REASON, 2, 5},
        BadCase{"ReasonTooLong", A + "brk # " + std::string(160, 'r') + "\n", POLICY_ERR_REASON_TOO_LONG, 2, 7},
        BadCase{"TextTooLong", A + "ioctl arg1 in {" + LongValues(9) + "0xa} # r\n",
                POLICY_ERR_TEXT_TOO_LONG, 2, 7},
        BadCase{"NoComma", A + "write arg0 == 1 arg1 == 2 # x\n", POLICY_ERR_EXPECTED_COMMA, 2, 17},
        BadCase{"ArgSix", A + "write arg6 == 1 # x\n", POLICY_ERR_BAD_ARG, 2, 7},
        BadCase{"ArgTen", A + "write arg10 == 1 # x\n", POLICY_ERR_BAD_ARG, 2, 7},
        BadCase{"NotArg", A + "write fd == 1 # x\n", POLICY_ERR_BAD_ARG, 2, 7},
        BadCase{"TrailingComma", A + "write arg0 == 1, # x\n", POLICY_ERR_BAD_ARG, 2, 18},
        BadCase{"BadWidth", A + "write arg0:16 == 1 # x\n", POLICY_ERR_BAD_WIDTH, 2, 11},
        BadCase{"WidthWithoutDigits", A + "write arg0: == 1 # x\n", POLICY_ERR_BAD_WIDTH, 2, 11},
        BadCase{"WidthTrailing", A + "write arg0:320 == 1 # x\n", POLICY_ERR_BAD_WIDTH, 2, 11},
        BadCase{"ImageFdNeeds32Bits", A + "write arg0 == $image_fd # x\n", POLICY_ERR_VARIABLE_WIDTH, 2, 15},
        BadCase{"KvmPathNeeds64Bits", A + "openat arg1:32 == $kvm_path # x\n", POLICY_ERR_VARIABLE_WIDTH, 2, 19},
        BadCase{"LastSectorNeeds64Bits", A + "pwrite64 arg3:32 <= $write_last_sector # x\n",
                POLICY_ERR_VARIABLE_WIDTH, 2, 21},
        BadCase{"Width32TooWide", A + "write arg0:32 == 0x100000000 # x\n", POLICY_ERR_VALUE_TOO_WIDE, 2, 18},
        BadCase{"Width32SetTooWide", A + "write arg0:32 in {1, 0x1ffffffff} # x\n", POLICY_ERR_VALUE_TOO_WIDE, 2, 22},
        BadCase{"Width32MaskTooWide", A + "mmap arg2:32 & 0x100000004 == 0 # x\n", POLICY_ERR_VALUE_TOO_WIDE, 2, 16},
        BadCase{"Width32DuplicateAfterNarrowing", A + "openat arg0:32 in {0xffffff9c, AT_FDCWD} # x\n",
                POLICY_ERR_DUPLICATE_VALUE, 2, 32},
        BadCase{"ArgRepeatedAcrossWidths", A + "write arg0:32 == 1, arg0 == 1 # x\n", POLICY_ERR_ARG_REPEATED, 2, 21},
        BadCase{"ArgRepeated", A + "write arg0 == 1, arg0 == 2 # x\n", POLICY_ERR_ARG_REPEATED, 2, 18},
        BadCase{"SingleEquals", A + "write arg0 = 1 # x\n", POLICY_ERR_BAD_OPERATOR, 2, 12},
        BadCase{"NoOperator", A + "write arg0 # x\n", POLICY_ERR_BAD_OPERATOR, 2, 12},
        BadCase{"InWithoutSpace", A + "write arg0 inn {1} # x\n", POLICY_ERR_BAD_OPERATOR, 2, 12},
        BadCase{"MaskWithoutEq", A + "mmap arg2 & 4 != 0 # x\n", POLICY_ERR_BAD_OPERATOR, 2, 15},
        BadCase{"MissingValue", A + "write arg0 == # x\n", POLICY_ERR_BAD_VALUE, 2, 15},
        BadCase{"DanglingBar", A + "write arg0 == 1 | # x\n", POLICY_ERR_BAD_VALUE, 2, 19},
        BadCase{"LowerCaseWord", A + "write arg0 == stdout # x\n", POLICY_ERR_BAD_VALUE, 2, 15},
        BadCase{"HexWithoutDigits", A + "write arg0 == 0x # x\n", POLICY_ERR_BAD_NUMBER, 2, 15},
        BadCase{"DigitsThenLetters", A + "write arg0 == 12ab # x\n", POLICY_ERR_BAD_NUMBER, 2, 15},
        BadCase{"DecimalOverflow", A + "write arg0 == 18446744073709551616 # x\n", POLICY_ERR_BAD_NUMBER, 2, 15},
        BadCase{"HexOverflow", A + "write arg0 == 0x10000000000000000 # x\n", POLICY_ERR_BAD_NUMBER, 2, 15},
        BadCase{"UnknownConstant", A + "ioctl arg1 == KVM_FROBNICATE # x\n", POLICY_ERR_UNKNOWN_SYMBOL, 2, 15},
        BadCase{"UnknownInExpr", A + "openat arg2 == O_RDWR|O_BOGUS # x\n", POLICY_ERR_UNKNOWN_SYMBOL, 2, 23},
        BadCase{"UnknownVariable", A + "ioctl arg0 == $kvm_fd # x\n", POLICY_ERR_UNKNOWN_VARIABLE, 2, 15},
        BadCase{"VariableOrLeft", A + "write arg0:32 == $image_fd | 1 # x\n", POLICY_ERR_VARIABLE_NOT_ALLOWED, 2, 28},
        BadCase{"VariableOrRight", A + "write arg0 == 1 | $image_fd # x\n", POLICY_ERR_VARIABLE_NOT_ALLOWED, 2, 19},
        BadCase{"VariableMask", A + "mmap arg4 & $image_fd == 0 # x\n", POLICY_ERR_VARIABLE_NOT_ALLOWED, 2, 13},
        BadCase{"EmptySet", A + "write arg0 in {} # x\n", POLICY_ERR_BAD_SET, 2, 16},
        BadCase{"SetWithoutBrace", A + "write arg0 in 1 # x\n", POLICY_ERR_BAD_SET, 2, 15},
        BadCase{"UnclosedSet", A + "write arg0 in {1, 2 # x\n", POLICY_ERR_BAD_SET, 2, 21},
        BadCase{"SetWithoutComma", A + "write arg0 in {1 2} # x\n", POLICY_ERR_BAD_SET, 2, 18},
        BadCase{"SetTooLarge", SetOf(17), POLICY_ERR_SET_TOO_LARGE, 2, 16 + 3 * 9 + 4 * 7},
        BadCase{"DuplicateNumber", A + "write arg0 in {1, 0x1} # x\n", POLICY_ERR_DUPLICATE_VALUE, 2, 19},
        BadCase{"DuplicateViaConstant", A + "write arg0 in {STDOUT_FILENO, 1} # x\n", POLICY_ERR_DUPLICATE_VALUE, 2, 31},
        BadCase{"DuplicateVariable", A + "write arg0:32 in {$image_fd, $image_fd} # x\n", POLICY_ERR_DUPLICATE_VALUE, 2, 30},
        BadCase{"ZeroMask", A + "mmap arg2 & 0 == 0 # x\n", POLICY_ERR_MASK_VALUE, 2, 6},
        BadCase{"ValueOutsideMask", A + "mmap arg2 & PROT_EXEC == 5 # x\n", POLICY_ERR_MASK_VALUE, 2, 6},
        BadCase{"ShadowedAfter", A + "brk # a\nbrk arg0 == 0 # b\n", POLICY_ERR_SHADOWED_RULE, 3, 1},
        BadCase{"ShadowedBefore", A + "brk arg0 == 0 # a\n [setup]\n  brk # b\n", POLICY_ERR_SHADOWED_RULE, 4, 3},
        BadCase{"TooManyRules", ManyRules(POLICY_MAX_RULES + 1u), POLICY_ERR_TOO_MANY_RULES,
                POLICY_MAX_RULES + 2u, 1}),
    [](const ::testing::TestParamInfo<BadCase>& i) { return std::string(i.param.name); });

// Every operator on a 32-bit argument, and variables after any comparison
// (lockdown.c expands the ordered ones into masked equalities).
TEST(PolicyParse, OrderedComparisonsOnIntsAndVariables) {
  Parsed r = Parse(A +
                   "close arg0:32 > $image_fd # a\n"
                   "write arg0:32 != 0 # b\n"
                   "pwrite64 arg3 <= $write_last_sector, arg0:32 >= 3 # c\n"
                   "openat arg1 == $kvm_path, arg2:32 < 4 # d\n");
  ASSERT_EQ(r.err, POLICY_OK) << policy_strerror(r.err) << " at " << r.diag.line << ":"
                              << r.diag.col;
  const policy& p = *r.pol;
  ASSERT_EQ(p.nrules, 4u);
  EXPECT_EQ(p.rules[0].conds[0].width, 32);
  EXPECT_EQ(p.rules[0].conds[0].op, POLICY_OP_GT);
  EXPECT_EQ(p.rules[0].conds[0].values[0].kind, POLICY_VAL_IMAGE_FD);
  EXPECT_EQ(p.rules[1].conds[0].op, POLICY_OP_NE);
  EXPECT_EQ(p.rules[2].conds[0].op, POLICY_OP_LE);
  EXPECT_EQ(p.rules[2].conds[0].values[0].kind, POLICY_VAL_WRITE_LAST_SECTOR);
  EXPECT_EQ(p.rules[2].conds[1].op, POLICY_OP_GE);
  EXPECT_EQ(p.rules[3].conds[0].values[0].kind, POLICY_VAL_KVM_PATH);
  EXPECT_EQ(p.rules[3].conds[1].op, POLICY_OP_LT);
}

TEST(PolicyParse, LimitsAreInclusive) {
  EXPECT_EQ(Parse(A + "brk # " + std::string(159, 'r') + "\n").err, POLICY_OK);
  EXPECT_EQ(Parse(A + std::string(31, 'a') + " # x\n").err, POLICY_OK);
  EXPECT_EQ(Parse(SetOf(16)).err, POLICY_OK);
  EXPECT_EQ(Parse(ManyRules(POLICY_MAX_RULES)).err, POLICY_OK);
  EXPECT_EQ(Parse(A + "write arg0 == 0xFFFFffffFFFFffff # x\n").err, POLICY_OK);
  EXPECT_EQ(Parse(A + "w arg0 == 1, arg1 == 1, arg2 == 1, arg3 == 1, arg4 == 1, arg5 == 1 # six\n").err,
            POLICY_OK);
}

TEST(PolicyParse, EveryErrorHasItsOwnMessage) {
  std::set<std::string> seen;
  for (int e = 0; e < POLICY_ERR_COUNT_; e++) {
    std::string m = policy_strerror(static_cast<policy_err>(e));
    EXPECT_FALSE(m.empty());
    EXPECT_NE(m, "unknown policy error") << e;
    EXPECT_TRUE(seen.insert(m).second) << "duplicate message for " << e;
  }
  EXPECT_STREQ(policy_strerror(POLICY_ERR_COUNT_), "unknown policy error");
  EXPECT_STREQ(policy_strerror(static_cast<policy_err>(-1)), "unknown policy error");
}

TEST(PolicySymbols, NamesAreUniqueAndLookUp) {
  std::set<std::string> names;
  const char* name = nullptr;
  uint64_t v = 0, w = 0;
  size_t i = 0;
  for (; policy_symbol_at(i, &name, &v); i++) {
    EXPECT_TRUE(names.insert(name).second) << name;
    ASSERT_TRUE(policy_symbol_lookup(name, std::strlen(name), &w)) << name;
    EXPECT_EQ(v, w) << name;
  }
  EXPECT_GT(i, 40u);
  EXPECT_FALSE(policy_symbol_lookup("KVM_RU", 6, &w));    // prefix is not a match
  EXPECT_FALSE(policy_symbol_lookup("KVM_RUNX", 8, &w));  // nor is an extension
  EXPECT_EQ(Sym("AT_FDCWD"), UINT64_C(0xffffffffffffff9c));
  EXPECT_EQ(Sym("KVM_RUN"), 0xae80u);
}

// --- The checked-in policy files ------------------------------------------

struct CheckedIn {
  std::unique_ptr<policy> pol{new policy};
  size_t shipped = 0;
};

CheckedIn LoadCheckedIn() {
  CheckedIn c;
  policy_init(c.pol.get());
  policy_diag d;
  const std::string shipped = ReadFile("seccomp/policy.txt");
  EXPECT_EQ(policy_parse(shipped.data(), shipped.size(), POLICY_ORIGIN_SHIPPED,
                         c.pol.get(), &d),
            POLICY_OK)
      << "seccomp/policy.txt:" << d.line << ":" << d.col << ": "
      << policy_strerror(d.err);
  c.shipped = c.pol->nrules;
  const std::string san = ReadFile("seccomp/policy_sanitizer.txt");
  EXPECT_EQ(policy_parse(san.data(), san.size(), POLICY_ORIGIN_SANITIZER,
                         c.pol.get(), &d),
            POLICY_OK)
      << "seccomp/policy_sanitizer.txt:" << d.line << ":" << d.col << ": "
      << policy_strerror(d.err);
  return c;
}

TEST(CheckedInPolicy, ParsesAndEverySyscallResolves) {
  CheckedIn c = LoadCheckedIn();
  ASSERT_GT(c.shipped, 0u);
  std::set<std::string> distinct;
  for (size_t i = 0; i < c.pol->nrules; i++) {
    const policy_rule& r = c.pol->rules[i];
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, r.syscall);
    EXPECT_GE(nr, 0) << r.syscall << " at line " << r.line;
    EXPECT_NE(r.reason[0], '\0');
    if (i < c.shipped) distinct.insert(r.syscall);
  }
  std::cout << "seccomp/policy.txt: " << c.shipped << " rules, " << distinct.size()
            << " distinct syscalls; policy_sanitizer.txt: "
            << c.pol->nrules - c.shipped << " rules\n";
  RecordProperty("shipped_rules", static_cast<int>(c.shipped));
  // The list is meant to stay short: growing past this needs a reviewer.
  EXPECT_LE(c.shipped, 24u);
}

bool HasCond(const policy_rule& r, uint8_t arg) {
  for (size_t j = 0; j < r.nconds; j++)
    if (r.conds[j].arg == arg) return true;
  return false;
}

TEST(CheckedInPolicy, ShippedRulesKeepTheirInvariants) {
  CheckedIn c = LoadCheckedIn();
  const std::set<std::string> never = {
      "execve", "execveat", "ptrace", "socket", "socketpair", "connect",
      "clone", "clone3", "fork", "vfork", "open", "open_by_handle_at",
      "mprotect", "pkey_mprotect", "prctl", "setuid", "capset", "bpf",
      "userfaultfd", "process_vm_writev", "kill", "tgkill", "unshare",
      "setns", "mount", "io_uring_setup", "memfd_create", "remap_file_pages"};
  for (size_t i = 0; i < c.shipped; i++) {
    const policy_rule& r = c.pol->rules[i];
    const std::string name = r.syscall;
    EXPECT_EQ(never.count(name), 0u) << name << " must not be allowed (line " << r.line << ")";
    if (name == "ioctl") {
      // Only exact request numbers: KVM's, or TCGETS on stdout/stderr.
      const policy_cond* req = nullptr;
      const policy_cond* fd = nullptr;
      for (size_t j = 0; j < r.nconds; j++) {
        if (r.conds[j].arg == 1) req = &r.conds[j];
        if (r.conds[j].arg == 0) fd = &r.conds[j];
      }
      ASSERT_NE(req, nullptr) << "ioctl without a request constraint, line " << r.line;
      EXPECT_EQ(req->op, POLICY_OP_EQ);
      EXPECT_EQ(req->width, 32) << "the kernel reads the request as unsigned int";
      uint64_t tcgets = 0;
      ASSERT_TRUE(policy_symbol_lookup("TCGETS", 6, &tcgets));
      for (size_t k = 0; k < req->nvalues; k++) {
        if (req->values[k].v == tcgets) {
          ASSERT_NE(fd, nullptr) << "TCGETS must be pinned to stdout/stderr";
          for (size_t m = 0; m < fd->nvalues; m++)
            EXPECT_TRUE(fd->values[m].kind == POLICY_VAL_CONST &&
                        (fd->values[m].v == 1 || fd->values[m].v == 2));
        } else {
          EXPECT_EQ((req->values[k].v >> 8) & 0xffu, 0xaeu) << "not a KVM ioctl";
        }
      }
    }
    if (name == "mmap") {
      // Never executable; never at a fixed address (the pinned /dev/kvm
      // path must stay mapped); shared only while the VM is built, and
      // only for a descriptor above the image.
      uint64_t exec = 0, fixed = 0, noreplace = 0, type = 0, shared = 0;
      ASSERT_TRUE(policy_symbol_lookup("PROT_EXEC", 9, &exec));
      ASSERT_TRUE(policy_symbol_lookup("MAP_FIXED", 9, &fixed));
      ASSERT_TRUE(policy_symbol_lookup("MAP_FIXED_NOREPLACE", 19, &noreplace));
      ASSERT_TRUE(policy_symbol_lookup("MAP_TYPE", 8, &type));
      ASSERT_TRUE(policy_symbol_lookup("MAP_SHARED", 10, &shared));
      const policy_cond* prot = nullptr;
      const policy_cond* flags = nullptr;
      const policy_cond* fd = nullptr;
      for (size_t j = 0; j < r.nconds; j++) {
        if (r.conds[j].arg == 2) prot = &r.conds[j];
        if (r.conds[j].arg == 3) flags = &r.conds[j];
        if (r.conds[j].arg == 4) fd = &r.conds[j];
      }
      ASSERT_NE(prot, nullptr) << "line " << r.line;
      ASSERT_NE(flags, nullptr) << "line " << r.line;
      EXPECT_EQ(prot->op, POLICY_OP_MASKED_EQ);
      EXPECT_EQ(prot->mask & exec, exec);
      EXPECT_EQ(prot->values[0].v & exec, 0u);
      EXPECT_EQ(flags->op, POLICY_OP_MASKED_EQ);
      EXPECT_EQ(flags->width, 32);
      EXPECT_EQ(flags->mask & (fixed | noreplace | type), fixed | noreplace | type);
      EXPECT_EQ(flags->values[0].v & (fixed | noreplace), 0u);
      if ((flags->values[0].v & type) == shared) {
        EXPECT_EQ(r.stage, POLICY_STAGE_SETUP) << "shared mappings end at lockdown_tighten()";
        ASSERT_NE(fd, nullptr) << "a shared mapping needs its descriptor bounded";
        EXPECT_EQ(fd->width, 32);
        EXPECT_EQ(fd->op, POLICY_OP_GT);
        EXPECT_EQ(fd->values[0].kind, POLICY_VAL_IMAGE_FD);
      } else {
        EXPECT_EQ(flags->values[0].v & type, static_cast<uint64_t>(MAP_PRIVATE)) << r.line;
      }
    }
    if (name == "openat") {
      EXPECT_EQ(r.stage, POLICY_STAGE_SETUP) << "openat must end at lockdown_tighten()";
      EXPECT_TRUE(HasCond(r, 0) && HasCond(r, 2)) << "openat needs dirfd and flags pinned";
      ASSERT_TRUE(HasCond(r, 1)) << "openat needs its pathname pinned";
      for (size_t j = 0; j < r.nconds; j++)
        if (r.conds[j].arg == 1) {
          EXPECT_EQ(r.conds[j].op, POLICY_OP_EQ);
          ASSERT_EQ(r.conds[j].nvalues, 1u);
          EXPECT_EQ(r.conds[j].values[0].kind, POLICY_VAL_KVM_PATH);
        }
    }
    if (name == "munmap") {
      // The page of the pinned pathname must never be unmapped.
      ASSERT_EQ(r.nconds, 1u);
      EXPECT_EQ(r.conds[0].arg, 0u);
      EXPECT_EQ(r.conds[0].op, POLICY_OP_GT);
      EXPECT_EQ(r.conds[0].values[0].kind, POLICY_VAL_KVM_PATH);
    }
    if (name == "pwrite64") {
      const policy_cond* len = nullptr;
      const policy_cond* off = nullptr;
      for (size_t j = 0; j < r.nconds; j++) {
        if (r.conds[j].arg == 2) len = &r.conds[j];
        if (r.conds[j].arg == 3) off = &r.conds[j];
      }
      ASSERT_NE(len, nullptr) << "pwrite64 needs its length pinned";
      ASSERT_NE(off, nullptr) << "pwrite64 needs its offset bounded";
      EXPECT_EQ(len->op, POLICY_OP_EQ);
      EXPECT_EQ(len->values[0].v, 512u);
      EXPECT_EQ(off->op, POLICY_OP_LE);
      EXPECT_EQ(off->values[0].kind, POLICY_VAL_WRITE_LAST_SECTOR);
    }
    if (name == "fallocate") {
      // Zeroing only: one mode, a bounded start and length.
      uint64_t zero_range = 0;
      ASSERT_TRUE(policy_symbol_lookup("FALLOC_FL_ZERO_RANGE", 20, &zero_range));
      bool mode = false, start = false, len = false;
      for (size_t j = 0; j < r.nconds; j++) {
        const policy_cond& cd = r.conds[j];
        if (cd.arg == 1) mode = cd.op == POLICY_OP_EQ && cd.nvalues == 1 && cd.values[0].v == zero_range;
        if (cd.arg == 2) start = cd.op == POLICY_OP_LE && cd.values[0].kind == POLICY_VAL_WRITE_LAST_SECTOR;
        if (cd.arg == 3) len = cd.op == POLICY_OP_LE && cd.values[0].v <= (2u << 20);
      }
      EXPECT_TRUE(mode) << "fallocate needs its mode pinned to FALLOC_FL_ZERO_RANGE";
      EXPECT_TRUE(start) << "fallocate needs its offset bounded";
      EXPECT_TRUE(len) << "fallocate needs its length bounded";
    }
    EXPECT_NE(name, "newfstatat") << "absolute paths make newfstatat ignore its descriptor";
    if (name == "seccomp") EXPECT_EQ(r.stage, POLICY_STAGE_SETUP) << name;
    if (name == "rt_sigaction") {
      // The run loop installs and restores the SIGALRM handler around the
      // run, after lockdown_tighten(): allowed in both filters, SIGALRM only.
      uint64_t alrm = 0;
      ASSERT_TRUE(policy_symbol_lookup("SIGALRM", 7, &alrm));
      ASSERT_EQ(r.nconds, 1u);
      EXPECT_EQ(r.conds[0].arg, 0u);
      ASSERT_EQ(r.conds[0].nvalues, 1u);
      EXPECT_EQ(r.conds[0].values[0].v, alrm);
    }
    if (name == "rt_sigprocmask") {
      // Only SIG_UNBLOCK: SIG_BLOCK and SIG_SETMASK could block SIGALRM.
      uint64_t unblock = 0;
      ASSERT_TRUE(policy_symbol_lookup("SIG_UNBLOCK", 11, &unblock));
      ASSERT_TRUE(HasCond(r, 0)) << "rt_sigprocmask needs its 'how' pinned";
      for (size_t j = 0; j < r.nconds; j++)
        if (r.conds[j].arg == 0) {
          EXPECT_EQ(r.conds[j].op, POLICY_OP_EQ);
          for (size_t k = 0; k < r.conds[j].nvalues; k++)
            EXPECT_EQ(r.conds[j].values[k].v, unblock);
        }
    }
    if (name == "ioctl" && r.stage == POLICY_STAGE_ALWAYS) {
      // After lockdown_tighten() no ioctl may build or reshape the VM.
      for (const char* k : {"KVM_CREATE_VM", "KVM_CREATE_VCPU", "KVM_ENABLE_CAP", "KVM_SET_USER_MEMORY_REGION",
                            "KVM_SET_REGS", "KVM_SET_SREGS", "KVM_GET_SREGS"}) {
        uint64_t v = 0;
        ASSERT_TRUE(policy_symbol_lookup(k, strlen(k), &v)) << k;
        for (size_t j = 0; j < r.nconds; j++)
          for (size_t m = 0; m < r.conds[j].nvalues; m++)
            if (r.conds[j].arg == 1) EXPECT_NE(r.conds[j].values[m].v, v) << k << " in [always]";
      }
    }
    if (name == "write" || name == "pwrite64" || name == "pread64" || name == "fdatasync" ||
        name == "lseek" || name == "fallocate")
      EXPECT_TRUE(HasCond(r, 0)) << name << " must be pinned to its descriptors";
  }
}

}  // namespace
