#!/bin/bash
# policygen_test.sh - the generator accepts the checked-in policy and turns
# every kind of bad policy into a non-zero exit and a file:line:col message,
# writing no output file (so the genrule, and the build, fail).
set -u
gen="$1"
policy="$2"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
fails=0

expect_ok() {  # name, files...
  local name="$1"; shift
  rm -f "$tmp/out.c"
  if ! "$gen" "$tmp/out.c" "$@" 2>"$tmp/err"; then
    echo "FAIL $name: generator failed: $(cat "$tmp/err")"; fails=$((fails + 1)); return
  fi
  if ! grep -q 'const size_t policy_table_len' "$tmp/out.c"; then
    echo "FAIL $name: no table in output"; fails=$((fails + 1)); return
  fi
  echo "ok   $name"
}

expect_fail() {  # name, expected stderr text, file contents
  local name="$1" want="$2" text="$3"
  printf '%s' "$text" >"$tmp/bad.txt"
  rm -f "$tmp/out.c"
  if "$gen" "$tmp/out.c" "$tmp/bad.txt" 2>"$tmp/err"; then
    echo "FAIL $name: generator accepted a bad policy"; fails=$((fails + 1)); return
  fi
  if ! grep -qF -- "$tmp/bad.txt:$want" "$tmp/err"; then
    echo "FAIL $name: want '$want', got: $(cat "$tmp/err")"; fails=$((fails + 1)); return
  fi
  if [ -e "$tmp/out.c" ]; then
    echo "FAIL $name: left an output file behind"; fails=$((fails + 1)); return
  fi
  echo "ok   $name"
}

expect_ok shipped "$policy"
printf '[always]\nmprotect arg2 & PROT_EXEC == 0 # sanitizer\n' >"$tmp/san.txt"
expect_ok shipped_plus_sanitizer "$policy" "$tmp/san.txt"
if ! grep -q 'policy_table_has_sanitizer_rules = 1' "$tmp/out.c" ||
   ! grep -q 'POLICY_ORIGIN_SANITIZER' "$tmp/out.c"; then
  echo "FAIL sanitizer rules not marked"; fails=$((fails + 1))
fi
expect_ok shipped_again "$policy"
if grep -q 'POLICY_ORIGIN_SANITIZER' "$tmp/out.c"; then
  echo "FAIL shipped table has sanitizer rules"; fails=$((fails + 1))
fi

expect_fail unknown_syscall "2:3: error: unknown syscall 'frobnicate'" \
  $'[always]\n  frobnicate # no such syscall\n'
expect_fail unknown_constant "2:15: error: unknown constant" \
  $'[always]\nioctl arg1 == KVM_FROBNICATE # x\n'
expect_fail missing_reason "2:4: error: rule has no '# reason'" \
  $'[always]\nbrk\n'
expect_fail bad_operator "2:12: error: expected ==" \
  $'[always]\nwrite arg0 = 1 # x\n'
expect_fail outside_section "1:1: error: rule before the first" \
  $'brk # x\n'
expect_fail empty_policy " error: the policy allows nothing" \
  $'# nothing\n[always]\n'

if "$gen" "$tmp/out.c" 2>/dev/null; then
  echo "FAIL usage: accepted missing arguments"; fails=$((fails + 1))
fi
if "$gen" "$tmp/out.c" "$tmp/does-not-exist.txt" 2>/dev/null; then
  echo "FAIL missing file accepted"; fails=$((fails + 1))
fi

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
