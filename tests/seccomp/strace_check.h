// strace_check.h - reads an `strace -f` log of the host process and checks
// the order of events SECURITY.md describes (capabilities emptied, then
// no_new_privs, then a seccomp filter loaded, and only then /dev/kvm opened;
// optionally, the second filter stacked after the vCPU exists and before the
// first KVM_RUN) and that every syscall made after each filter went in is
// named in that filter's part of the policy. The log is the kernel's account via ptrace; nothing the traced
// program says about itself is trusted.
#ifndef INSTAR_TESTS_SECCOMP_STRACE_CHECK_H
#define INSTAR_TESTS_SECCOMP_STRACE_CHECK_H

#include <cstddef>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "seccomp/policy_table.h"

struct StraceCall {
  std::string pid;   // "" when strace ran without -f
  std::string name;  // syscall name
  std::string line;  // the whole line, for messages and argument checks
  bool finished;     // false for "<unfinished ...>" (the result comes later)
};

struct StraceReport {
  std::vector<std::string> violations;
  std::vector<std::string> after_filter;   // syscalls made under the filter(s)
  std::vector<std::string> after_tighten;  // syscalls made under the second filter
  std::vector<StraceCall> calls;           // the parsed log
  size_t filter = static_cast<size_t>(-1);   // index in calls of the first load
  size_t tighten = static_cast<size_t>(-1);  // index of the second (stacked) load
};

// Every syscall name the compiled policy allows a writer (amend; this
// build's table): every stage (the first filter), or only the [always] and
// [write] rules (the second filter, stacked by lockdown_tighten()). A
// read-only command (info, check) has no [write] rules.
inline std::set<std::string> PolicySyscallNames(bool run_filter_only = false,
                                                bool read_only = false) {
  std::set<std::string> names;
  for (size_t i = 0; i < policy_table_len; i++) {
    policy_stage s = policy_table[i].stage;
    if (read_only && s == POLICY_STAGE_WRITE) continue;
    if (!run_filter_only || s != POLICY_STAGE_SETUP)
      names.insert(policy_table[i].syscall);
  }
  return names;
}

inline bool StartsWith(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}

inline bool EndsWith(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// Splits the log into calls. A call another thread interrupted comes in
// two halves ("... <unfinished ...>", later "<... x resumed>...") and is
// joined into one, at the position of its first half; signals ("---")
// and exits ("+++") are kept as pseudo-calls named "---" and "+++".
inline std::vector<StraceCall> ParseStrace(const std::string& log) {
  std::vector<StraceCall> calls;
  std::map<std::string, size_t> pending;  // pid -> its unfinished call
  std::istringstream in(log);
  std::string raw;
  const std::string unfinished = " <unfinished ...>";
  while (std::getline(in, raw)) {
    StraceCall c;
    c.line = raw;
    std::string rest = raw;
    size_t sp = rest.find_first_not_of("0123456789");
    if (sp != 0 && sp != std::string::npos && (rest[sp] == ' ' || rest[sp] == '\t')) {
      c.pid = rest.substr(0, sp);
      rest = rest.substr(rest.find_first_not_of(" \t", sp));
    }
    if (StartsWith(rest, "<...")) {
      auto it = pending.find(c.pid);
      size_t close = rest.find("resumed>");
      if (it != pending.end() && close != std::string::npos) {
        StraceCall& first = calls[it->second];
        first.line = first.line.substr(0, first.line.size() - unfinished.size()) +
                     rest.substr(close + 8);
        first.finished = true;
        pending.erase(it);
      }
      continue;
    }
    if (rest.empty()) continue;
    if (StartsWith(rest, "+++") || StartsWith(rest, "---")) {
      c.name = rest.substr(0, 3);
      c.finished = true;
      calls.push_back(c);
      continue;
    }
    size_t paren = rest.find('(');
    if (paren == std::string::npos || paren == 0) continue;
    c.name = rest.substr(0, paren);
    bool word = true;
    for (char ch : c.name)
      if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) word = false;
    if (!word) continue;
    c.line = rest;
    c.finished = !EndsWith(rest, unfinished);
    if (!c.finished) pending[c.pid] = calls.size();
    calls.push_back(c);
  }
  return calls;
}

inline bool Has(const std::string& s, const char* needle) {
  return s.find(needle) != std::string::npos;
}

inline bool IsFilterLoad(const StraceCall& c) {
  return c.name == "seccomp" && Has(c.line, "SECCOMP_SET_MODE_FILTER") && Has(c.line, "filter=") &&
         EndsWith(c.line, " = 0");
}

// `allowed`: the syscall names the first filter allows. With `tight` (the
// names the second filter allows), the log must also show lockdown_tighten()
// stacking a second filter after the vCPU exists and before the first
// KVM_RUN, and every syscall after it must be in `tight`.
inline StraceReport CheckStrace(const std::string& log, const std::set<std::string>& allowed,
                                const std::set<std::string>* tight = nullptr) {
  StraceReport r;
  r.calls = ParseStrace(log);
  const std::vector<StraceCall>& calls = r.calls;
  const size_t none = static_cast<size_t>(-1);
  // Capabilities and no_new_privs belong to each thread: first index of
  // each thread's own capset-to-zero, ambient clear and no_new_privs.
  std::map<std::string, size_t> caps, ambient, nnp;
  size_t filter = none, kvm = none;
  size_t tighten = none, vcpu = none, first_run = none;
  for (size_t i = 0; i < calls.size(); i++) {
    const StraceCall& c = calls[i];
    const std::string& l = c.line;
    // A new thread inherits its creator's capabilities and no_new_privs.
    if ((c.name == "clone3" || c.name == "clone") && Has(l, "CLONE_THREAD")) {
      const size_t eq = l.rfind(" = ");
      const std::string child = eq == std::string::npos ? "" : l.substr(eq + 3);
      if (!child.empty() && child[0] != '-') {
        for (auto* m : {&caps, &ambient, &nnp})
          if (m->count(c.pid) != 0) m->emplace(child, (*m)[c.pid]);
      }
    }
    if (c.name == "capset" && Has(l, "{effective=0, permitted=0, inheritable=0}") &&
        EndsWith(l, ") = 0"))
      caps.emplace(c.pid, i);
    if (c.name == "prctl" && Has(l, "PR_CAP_AMBIENT_CLEAR_ALL") && EndsWith(l, " = 0"))
      ambient.emplace(c.pid, i);
    if (c.name == "prctl" && Has(l, "PR_SET_NO_NEW_PRIVS, 1") && EndsWith(l, " = 0"))
      nnp.emplace(c.pid, i);
    if (IsFilterLoad(c)) {
      if (filter == none)
        filter = i;
      else if (tighten == none)
        tighten = i;
    }
    if (c.name == "ioctl" && Has(l, ", KVM_CREATE_VCPU,") && vcpu == none) vcpu = i;
    if (c.name == "ioctl" && Has(l, ", KVM_RUN,") && first_run == none) first_run = i;
    if ((c.name == "openat" || c.name == "open") && Has(l, "\"/dev/kvm\"") && kvm == none)
      kvm = i;
    if (c.name == "+++" && Has(l, "killed by SIGSYS"))
      r.violations.push_back("the process was killed by SIGSYS: " + l);
  }
  if (caps.empty()) r.violations.push_back("no capset() emptying the capability sets");
  if (ambient.empty()) r.violations.push_back("no PR_CAP_AMBIENT_CLEAR_ALL");
  if (nnp.empty()) r.violations.push_back("no PR_SET_NO_NEW_PRIVS");
  if (filter == none) r.violations.push_back("no seccomp filter loaded");
  if (kvm == none) r.violations.push_back("/dev/kvm never opened");
  if (filter != none) {
    const std::string& loader = calls[filter].pid;
    if (nnp.count(loader) == 0 || nnp[loader] > filter)
      r.violations.push_back("no_new_privs set after the filter");
    // Every thread that makes a syscall under the filter dropped its own
    // capabilities (cleared its ambient set too) before the filter was
    // loaded, and before it set its no_new_privs.
    std::set<std::string> threads;
    for (size_t i = filter + 1; i < calls.size(); i++)
      if (calls[i].name != "+++" && calls[i].name != "---") threads.insert(calls[i].pid);
    for (const std::string& t : threads) {
      const std::string who = t.empty() ? "the process" : "thread " + t;
      if (caps.count(t) == 0 || caps[t] > filter)
        r.violations.push_back(who + " runs under the filter with capabilities it never dropped");
      if (ambient.count(t) == 0 || ambient[t] > filter)
        r.violations.push_back(who + " runs under the filter with its ambient set never cleared");
      if (caps.count(t) != 0 && nnp.count(t) != 0 && caps[t] > nnp[t])
        r.violations.push_back("capabilities dropped after no_new_privs");
      if (ambient.count(t) != 0 && nnp.count(t) != 0 && ambient[t] > nnp[t])
        r.violations.push_back("ambient capabilities cleared after no_new_privs");
    }
  }
  if (filter != none && kvm != none && kvm < filter)
    r.violations.push_back("/dev/kvm opened before the seccomp filter: " + calls[kvm].line);
  if (kvm != none && (caps.count(calls[kvm].pid) == 0 || caps[calls[kvm].pid] > kvm))
    r.violations.push_back("/dev/kvm opened before the capabilities were dropped");
  r.filter = filter;
  if (tight != nullptr) {
    r.tighten = tighten;
    if (tighten == none) {
      r.violations.push_back("no second seccomp filter (lockdown_tighten) loaded");
    } else {
      if (vcpu == none || tighten < vcpu)
        r.violations.push_back("lockdown_tighten() before the vCPU existed");
      if (first_run != none && first_run < tighten)
        r.violations.push_back("the guest ran (KVM_RUN) before lockdown_tighten(): " +
                               calls[first_run].line);
    }
  }
  if (filter == none) return r;
  for (size_t i = filter + 1; i < calls.size(); i++) {
    const StraceCall& c = calls[i];
    if (c.name == "+++" || c.name == "---") continue;
    r.after_filter.push_back(c.name);
    const bool second = tight != nullptr && tighten != none && i > tighten;
    if (second) r.after_tighten.push_back(c.name);
    if (allowed.count(c.name) == 0)
      r.violations.push_back("syscall outside the policy after lockdown: " + c.line);
    else if (second && tight->count(c.name) == 0)
      r.violations.push_back("syscall outside the second filter after lockdown_tighten(): " +
                             c.line);
  }
  return r;
}

#endif
