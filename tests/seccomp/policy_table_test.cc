// policy_table_test.cc - the table compiled into the binary is exactly
// seccomp/policy.txt (plus policy_sanitizer.txt in sanitizer builds only),
// and `instar seccomp [--pfc]`'s printer shows every rule and both filters.
// Trusts the parser (tested in policy_parse_test) as the reference reading.
#include <gtest/gtest.h>
#include <seccomp.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "seccomp/lockdown.h"
#include "seccomp/policy_parse.h"
#include "seccomp/policy_table.h"
#include "seccomp/print.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool SameCond(const policy_cond& a, const policy_cond& b) {
  if (a.arg != b.arg || a.width != b.width || a.op != b.op || a.mask != b.mask || a.nvalues != b.nvalues) return false;
  for (size_t k = 0; k < a.nvalues; k++)
    if (a.values[k].kind != b.values[k].kind || a.values[k].v != b.values[k].v) return false;
  return true;
}

TEST(PolicyTable, MatchesThePolicyFiles) {
  std::unique_ptr<policy> p(new policy);
  policy_init(p.get());
  policy_diag d;
  const std::string shipped = ReadFile("seccomp/policy.txt");
  ASSERT_EQ(policy_parse(shipped.data(), shipped.size(), POLICY_ORIGIN_SHIPPED, p.get(), &d), POLICY_OK);
#ifdef INSTAR_SANITIZER_BUILD
  const std::string san = ReadFile("seccomp/policy_sanitizer.txt");
  ASSERT_EQ(policy_parse(san.data(), san.size(), POLICY_ORIGIN_SANITIZER, p.get(), &d), POLICY_OK);
  EXPECT_EQ(policy_table_has_sanitizer_rules, 1);
#else
  EXPECT_EQ(policy_table_has_sanitizer_rules, 0) << "sanitizer rules in a shipped build";
#endif
  ASSERT_EQ(policy_table_len, p->nrules);
  for (size_t i = 0; i < policy_table_len; i++) {
    const policy_entry& e = policy_table[i];
    const policy_rule& r = p->rules[i];
    SCOPED_TRACE(std::string(e.file) + ":" + std::to_string(e.line) + " " + e.syscall);
    EXPECT_STREQ(e.syscall, r.syscall);
    EXPECT_EQ(e.nr, seccomp_syscall_resolve_name(r.syscall));
    EXPECT_EQ(e.stage, r.stage);
    EXPECT_EQ(e.origin, r.origin);
    EXPECT_STREQ(e.file, r.origin == POLICY_ORIGIN_SHIPPED ? "seccomp/policy.txt"
                                                          : "seccomp/policy_sanitizer.txt");
    EXPECT_EQ(e.line, r.line);
    EXPECT_STREQ(e.text, r.text);
    EXPECT_STREQ(e.reason, r.reason);
    ASSERT_EQ(e.nconds, r.nconds);
    for (size_t j = 0; j < e.nconds; j++) EXPECT_TRUE(SameCond(e.conds[j], r.conds[j])) << j;
  }
}

std::string Print(bool pfc, int* rc) {
  FILE* f = tmpfile();
  EXPECT_NE(f, nullptr);
  if (f == nullptr) return "";
  *rc = seccomp_print_policy(f, pfc);
  std::string out;
  rewind(f);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  EXPECT_EQ(0, ferror(f));
  EXPECT_EQ(0, fclose(f));
  return out;
}

size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1)) n++;
  return n;
}

TEST(PrintPolicy, HumanTableShowsEveryRule) {
  int rc = -1;
  std::string out = Print(false, &rc);
  ASSERT_EQ(rc, 0);
  size_t shipped = 0;
  for (size_t i = 0; i < policy_table_len; i++)
    if (policy_table[i].origin == POLICY_ORIGIN_SHIPPED) shipped++;
  EXPECT_NE(out.find("instar seccomp policy: " + std::to_string(shipped) +
                     " rules from seccomp/policy.txt"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("default action: kill the process"), std::string::npos);
  for (size_t i = 0; i < policy_table_len; i++) {
    const policy_entry& e = policy_table[i];
    EXPECT_NE(out.find(e.reason), std::string::npos) << e.reason;
    if (e.text[0] != '\0') EXPECT_NE(out.find(e.text), std::string::npos) << e.text;
  }
  // One line per rule after the header.
  EXPECT_EQ(Count(out, "\nsetup ") + Count(out, "\nalways ") + Count(out, "\nwrite "),
            policy_table_len)
      << out;
  EXPECT_EQ(out.find("eBPF"), std::string::npos);
  EXPECT_EQ(out.find("# filter for syscall"), std::string::npos) << "PFC printed without --pfc";
}

TEST(PrintPolicy, PfcShowsBothInstalledFilters) {
  int rc = -1;
  std::string out = Print(true, &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_NE(out.find("amend's filter 1, installed by lockdown_apply()"), std::string::npos);
  EXPECT_NE(out.find("amend's filter 2, stacked by lockdown_tighten()"), std::string::npos);
  size_t second = out.find("amend's filter 2, stacked");
  size_t third = out.find("info's and check's filter 1");
  size_t fourth = out.find("info's and check's filter 2");
  ASSERT_NE(second, std::string::npos);
  ASSERT_NE(third, std::string::npos);
  ASSERT_NE(fourth, std::string::npos);
  std::string f1 = out.substr(0, second), f2 = out.substr(second, third - second);
  std::string r1 = out.substr(third, fourth - third), r2 = out.substr(fourth);
  // libseccomp's PFC names every syscall it has a rule for, once per filter.
  for (size_t i = 0; i < policy_table_len; i++) {
    const policy_entry& e = policy_table[i];
    std::string tag = std::string("# filter for syscall \"") + e.syscall + "\"";
    EXPECT_NE(f1.find(tag), std::string::npos) << e.syscall;
    if (e.stage != POLICY_STAGE_SETUP) EXPECT_NE(f2.find(tag), std::string::npos) << e.syscall;
    if (e.stage != POLICY_STAGE_WRITE) EXPECT_NE(r1.find(tag), std::string::npos) << e.syscall;
    if (e.stage == POLICY_STAGE_ALWAYS) EXPECT_NE(r2.find(tag), std::string::npos) << e.syscall;
  }
  // The read-only filters have no way to write or flush the image.
  for (const std::string& f : {r1, r2}) {
    EXPECT_EQ(f.find("# filter for syscall \"pwrite64\""), std::string::npos);
    EXPECT_EQ(f.find("# filter for syscall \"fdatasync\""), std::string::npos);
  }
  EXPECT_EQ(f2.find("# filter for syscall \"openat\""), std::string::npos);
  EXPECT_EQ(f2.find("# filter for syscall \"seccomp\""), std::string::npos);
  EXPECT_NE(f1.find("action KILL_PROCESS"), std::string::npos);
  EXPECT_NE(f2.find("action KILL_PROCESS"), std::string::npos);
}

TEST(PrintPolicy, PfcNeedsAFileDescriptor) {
  char buf[1 << 16];
  FILE* mem = fmemopen(buf, sizeof buf, "w");
  ASSERT_NE(mem, nullptr);
  EXPECT_EQ(seccomp_print_policy(mem, true), -1);
  EXPECT_EQ(0, fclose(mem));
}

}  // namespace
