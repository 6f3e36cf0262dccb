#!/bin/bash
# hostile_test.sh — the real `instar amend` on every image of the hostile
# corpus (make_hostile.sh; each image with the transition its MANIFEST
# line names, six transitions rotated over the corpus). `qemu-img amend`
# runs on a copy of every image too, and the outcome each image deserves
# follows from what it did:
#   - qemu-img amends (exit 0): instar must
#       - amend it identically (`Image amended.`; `qemu-img info` the same
#         as of qemu-img's result, and `qemu-img check` clean or, for an
#         image that was not clean to begin with, exactly what qemu-img
#         check says of qemu-img's result), or
#       - say `No change.` with the file untouched, when qemu-img's
#         result has the `qemu-img info` of the original, or
#       - refuse (exit 1, an `instar amend: ...` message, the file
#         byte-identical, holes included: same_file.py) for a reason of
#         the planner or the format ($REASONS below): never a sandbox,
#         KVM, seccomp, time-budget, retry or other internal error;
#   - qemu-img refuses (exit 1): instar must refuse, the file untouched;
#   - qemu-img crashes (a signal, an abort: a QEMU bug, not a verdict):
#     instar refuses, says `No change.`, or amends with `qemu-img check`
#     clean.
#   (qemu-img runs on `json:` names with backing null: hostile backing
#   names point nowhere.)
# Never: exit >= 2 (usage error, signal, crash), a timeout (10 s), a
# sanitizer report (ASan/UBSan/LSan: the --config=asan build).
# Then `instar info` and `instar check` on every image, five read-only
# runs each (hostile_inspect.sh: never a crash, a hang, a write, a
# sanitizer report, an undocumented status or no output; info held to
# `qemu-img info` of the system's release). One JUnit testcase per image
# for amend and one per image and info/check run in $XML_OUTPUT_FILE
# (tests/lib/junit.sh); counts by category, outcome and message at the
# end of the log.
#
# Usage: hostile_test.sh INSTAR MAKE_HOSTILE_SH [MAX_IMAGES [INSPECT_EVERY]]
#   MAX_IMAGES: run at most this many (every category kept whole except
#   `field`, which is sampled with a fixed stride); default all.
#   INSPECT_EVERY: the info/check runs on every INSPECT_EVERY-th image
#   of those (default 1: all).
# Trusts: qemu-img, qemu-io, python3, timeout, cmp, perl.
set -u

INSTAR=$1
MAKE=$2
MAX=${3:-0}
INSPECT_EVERY=${4:-1}
HERE=$(cd "$(dirname "$MAKE")" && pwd)
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-tests/lib/junit.sh}"
for t in qemu-img qemu-io python3 timeout cmp perl; do
	command -v "$t" >/dev/null || { echo "$t missing" >&2; exit 1; }
done
# The release instar imitates when held to the system's qemu-img info.
QEMU_RELEASE=$(qemu-img --version | sed -n '1s/^qemu-img version \([0-9]*\.[0-9]*\).*/\1/p')
case $QEMU_RELEASE in
5.2 | 7.2 | 10.0 | 11.1) ;;
*) echo "qemu-img $QEMU_RELEASE is no release instar imitates (5.2, 7.2, 10.0, 11.1)" >&2; exit 1 ;;
esac

WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/hostile.XXXXXX")
trap '[ -n "${HOSTILE_KEEP:-}" ] || rm -rf "$WORK"' EXIT
CORPUS="$WORK/corpus"
if ! MAKE_HOSTILE_PY="$HERE/make_hostile.py" TMPDIR="$WORK" \
		bash "$MAKE" "$CORPUS" >"$WORK/make.log" 2>&1; then
	echo "corpus generation failed:" >&2
	cat "$WORK/make.log" >&2
	exit 1
fi

# Sample: keep every non-field image, then fields with a fixed stride.
LIST="$WORK/list"
if [ "$MAX" -gt 0 ]; then
	grep -v "	field	" "$CORPUS/MANIFEST" >"$LIST"
	keep=$((MAX - $(wc -l <"$LIST")))
	nf=$(grep -c "	field	" "$CORPUS/MANIFEST")
	if [ "$keep" -gt 0 ] && [ "$nf" -gt 0 ]; then
		grep "	field	" "$CORPUS/MANIFEST" | \
			awk -v k="$keep" -v n="$nf" 'NR == 1 || int((NR-1)*k/n) != int((NR-2)*k/n)' \
			>>"$LIST"
	fi
else
	cp "$CORPUS/MANIFEST" "$LIST"
fi
TOTAL=$(wc -l <"$LIST")
echo "hostile corpus: $(wc -l <"$CORPUS/MANIFEST") images, running $TOTAL"
if [ "$TOTAL" -lt 300 ]; then
	echo "fewer than 300 cases: $TOTAL" >&2
	exit 1
fi

# The refusals that are a verdict on the image: the planner's and the
# format's messages (src/cli/messages.c, msg_amend; docs/amend.md,
# "Refusals of the image"), by their first words. Anything else (the
# sandbox, KVM, the lockdown, the budgets, a retry, an internal error)
# is no reason to refuse an image qemu-img amends.
REASONS='^instar amend: (only qcow2 images can be amended|the image header could not be parsed|the image is marked dirty|the image is marked corrupt|encrypted qcow2 images are not supported|cannot downgrade to compat=0\.10: |cannot upgrade to compat=1\.1: |lazy_refcounts=on requires compat=1\.1|this compat change would have to relocate|the image.s L1/L2 or snapshot tables are malformed|cannot read the header of|a zero cluster.s host offset is unaligned or outside the image|a zero cluster, L2 table or refcount block overlaps other metadata|the image.s L1, snapshot or refcount tables are malformed|the image.s refcounts disagree with its tables|expanding the zero clusters needs a larger refcount table)'
export INSTAR CORPUS WORK HERE REASONS QEMU_RELEASE INSPECT_EVERY

# A report of ASan, LSan or UBSan (the --config=asan build) in FILE.
sanitizer_report() {
	grep -q -e 'AddressSanitizer' -e 'LeakSanitizer' -e 'runtime error:' \
		-e 'UndefinedBehaviorSanitizer' "$1"
}
export -f sanitizer_report
# shellcheck source=tests/hostile/hostile_inspect.sh
source "$HERE/hostile_inspect.sh"

# The image opened without its backing file (json: backing null).
jsonname() {
	printf 'json:{"driver":"qcow2","backing":null,"file":{"driver":"file","filename":"%s"}}' "$1"
}
# qemu-img check output when not clean (empty when clean), file name out.
qcheck() {
	local o
	if o=$(timeout 60 qemu-img check "$(jsonname "$1")" 2>&1); then
		return 0
	fi
	printf '%s\n' "$o" | sed -e "s|$1|IMAGE|g" -e '/^Image end offset/d'
}
# qemu-img info, without what differs between copies.
qinfo() {
	qemu-img info --output=json "$(jsonname "$1")" 2>&1 | \
		grep -v -e '"filename"' -e '"actual-size"'
}
export -f jsonname qcheck qinfo
# What qemu-img amend does with a copy of $orig: sets q_verdict to
# amends, refuses or crashes, q_msg to its first line, and leaves its
# result in $ref.
qemu_verdict() {
	local qrc
	cp --sparse=always "$orig" "$ref"
	q_msg=$(timeout 60 qemu-img amend -o "$tr" "$(jsonname "$ref")" 2>&1)
	qrc=$?
	q_msg=$(printf '%s' "$q_msg" | head -1 | sed "s|$ref|IMAGE|g")
	if [ "$qrc" -eq 0 ]; then
		q_verdict=amends
	elif [ "$qrc" -eq 1 ] && ! printf '%s' "$q_msg" | grep -q -e 'double free' \
			-e 'Assertion' -e 'Aborted' -e 'Segmentation'; then
		q_verdict=refuses
	else
		q_verdict=crashes
	fi
}
# instar's answer against the image's due (the header comment); sets ok,
# outcome and detail. Uses orig, img, ref, tr from run_one.
judge() {   # RC STDOUT STDERR SAME(0: file unchanged)
	local rc=$1 out=$2 err=$3 same=$4 chk chkq chk0 a b
	qemu_verdict
	if [ "$rc" -eq 1 ]; then
		outcome=refused
		detail=$(printf '%s' "$err" | head -1 | sed "s|$img|IMAGE|g")
		if [ "$same" -ne 0 ]; then
			ok=FAIL; outcome=refused_but_written
		elif ! printf '%s' "$err" | grep -q '^instar amend: '; then
			ok=FAIL; outcome=refused_without_message
		elif [ "$q_verdict" = amends ] && ! printf '%s' "$detail" | grep -Eq "$REASONS"; then
			ok=FAIL; outcome=refused_without_reason_qemu_amends
			detail="$detail (qemu-img amend succeeds)"
		fi
	elif [ "$out" = "No change." ]; then
		outcome=nochange
		if [ "$same" -ne 0 ]; then
			ok=FAIL; outcome=nochange_but_written
		elif [ "$q_verdict" = refuses ]; then
			ok=FAIL; outcome=nochange_qemu_refuses; detail="qemu-img amend: $q_msg"
		elif [ "$q_verdict" = amends ]; then
			# The original, beside qemu-img's result: a relative
			# backing name then resolves the same for both.
			cp --sparse=always "$orig" "$ref.orig"
			a=$(qinfo "$ref.orig")
			b=$(qinfo "$ref")
			rm -f "$ref.orig"
			if [ "$a" != "$b" ]; then
				ok=FAIL; outcome=nochange_qemu_changes
				detail=$(diff <(echo "$a") <(echo "$b") | head -6 | tr '\n\t' '  ')
			fi
		fi
	elif [ "$out" = "Image amended." ]; then
		outcome=amended
		# Checks open the image without its backing file (hostile names
		# point nowhere): json: with backing null.
		chk=$(qcheck "$img")
		case $q_verdict in
		amends)
			a=$(qinfo "$img")
			b=$(qinfo "$ref")
			chkq=$(qcheck "$ref")
			if [ "$a" != "$b" ]; then
				ok=FAIL; outcome=amended_differs_from_qemu
				detail=$(diff <(echo "$a") <(echo "$b") | head -6 | tr '\n\t' '  ')
			elif [ -n "$chk" ] && [ "$chk" != "$chkq" ]; then
				ok=FAIL; outcome=amended_check_differs_from_qemu
				detail="instar: $(printf '%s' "$chk" | head -3 | tr '\n\t' '  ') qemu-img amend: $(printf '%s' "$chkq" | head -3 | tr '\n\t' '  ')"
			elif [ -n "$chk" ]; then
				outcome=amended_unclean_as_qemu
				chk0=$(qcheck "$orig")
				detail="not clean before; the same as after qemu-img amend: $(printf '%s' "$chk" | head -1)"
				[ "$chk0" = "" ] && detail="clean before! $detail"
			fi
			;;
		refuses)
			ok=FAIL; outcome=amended_qemu_refuses; detail="qemu-img amend: $q_msg"
			;;
		crashes)
			detail="qemu-img amend crashed: $q_msg"
			if [ -n "$chk" ]; then
				ok=FAIL; outcome=amended_unclean_qemu_crashes
				detail="$detail; instar result: $(printf '%s' "$chk" | head -2 | tr '\n\t' '  ')"
			else
				outcome=amended_clean_qemu_crashes
			fi
			;;
		esac
	else
		ok=FAIL; outcome="exit0_unexpected_output"; detail="$out"
	fi
}
# One image: prints `name<TAB>category<TAB>-o transition<TAB>PASS|FAIL<TAB>outcome<TAB>detail`,
# then hostile_inspect.sh's rows, one per info/check run, when the image
# is one of every INSPECT_EVERY (its number in the list: NR).
run_one() {
	local name=$1 cat=$2 tr=$3 nr=$4
	local orig="$CORPUS/$name" img="$WORK/run.$BASHPID.img" ref="$WORK/ref.$BASHPID.img"
	local q_verdict q_msg
	local rc out err outcome="" detail="" ok=PASS same
	rm -f "$img"
	cp --sparse=always "$orig" "$img"
	local sig_before=""
	if [ "$cat" = sparse ]; then
		sig_before=$(python3 "$HERE/same_file.py" "$img")
	fi
	timeout -k 2 10 "$INSTAR" amend -o "$tr" "$img" \
		>"$img.out" 2>"$img.err"
	rc=$?
	out=$(head -c 2000 "$img.out")
	err=$(head -c 2000 "$img.err")
	if [ "$cat" = sparse ]; then
		[ "$(python3 "$HERE/same_file.py" "$img")" = "$sig_before" ]; same=$?
	else
		cmp -s "$orig" "$img"; same=$?
	fi
	if sanitizer_report "$img.err"; then
		ok=FAIL; outcome=sanitizer
		detail=$(grep -m3 -e 'ERROR' -e 'runtime error' -e 'SUMMARY' "$img.err" | tr '\n\t' '  ')
	elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		ok=FAIL; outcome=timeout; detail="no answer in 10 s"
	elif [ $rc -ge 2 ]; then
		ok=FAIL; outcome="exit_$rc"; detail=$(printf '%s' "$err" | tr '\n\t' '  ')
	else
		judge "$rc" "$out" "$err" "$same"
	fi
	# A harness error (a function missing, a command failing) leaves no
	# outcome: that is a failure, never a pass.
	if [ -z "$outcome" ]; then
		ok=FAIL; outcome=no_verdict; detail="the harness reached no verdict for this image"
	fi
	rm -f "$img" "$img.out" "$img.err" "$ref"
	printf '%s\t%s\t-o %s\t%s\t%s\t%s\n' "$name" "$cat" "$tr" "$ok" "$outcome" \
		"$(printf '%s' "$detail" | tr '\t\n' '  ' | head -c 600)"
	if [ $((nr % INSPECT_EVERY)) -eq 0 ]; then
		inspect_image "$name" "$cat"
	fi
}
export -f run_one qemu_verdict judge

START=$(date +%s)
# shellcheck disable=SC2016 # run_one's arguments expand in the inner bash
awk -F'\t' '{ print $1; print $2; print $3; print NR }' "$LIST" |
	xargs -d '\n' -n 4 -P "${HOSTILE_JOBS:-4}" \
	bash -c 'run_one "$1" "$2" "$3" "$4"' _ >"$WORK/results"
END=$(date +%s)

# One testcase per result row (tests/lib/junit.sh).
junit_init hostile "$WORK"
awk -F'\t' -v OFS='\t' '{
	print "hostile." $2, $1 " [" $2 " " $3 "] " $5, $4 == "PASS" ? "pass" : "fail",
		$4 == "PASS" ? $6 : $5 ": " $6
}' "$WORK/results" >"$WORK/cases"
junit_cases "$WORK/cases"
amends=$(grep -c "	-o " "$WORK/results")
inspects=$(grep -vc "	-o " "$WORK/results")
want=$(( $(awk -v e="$INSPECT_EVERY" 'NR % e == 0' "$LIST" | wc -l) * 5 ))
if [ "$amends" -ne "$TOTAL" ]; then
	junit_case "all images ran" fail "$((TOTAL - amends)) of $TOTAL images gave no amend result"
fi
if [ "$inspects" -ne "$want" ]; then
	junit_case "all info and check runs ran" fail "$inspects of $want info/check runs gave a result"
fi
junit_finish >/dev/null
junit_rc=$?

python3 - "$WORK/results" "$TOTAL" $((END - START)) "$junit_rc" <<'PY'
import collections, sys
res, total, secs, junit_rc = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rows_all = [l.rstrip("\n").split("\t") for l in open(res) if l.strip()]
fails = [r for r in rows_all if r[3] != "PASS"]
rows = [r for r in rows_all if r[2].startswith("-o ")]
inspect = [r for r in rows_all if not r[2].startswith("-o ")]
by_out = collections.Counter(r[4] for r in rows)
by_cat = collections.Counter((r[1], r[4]) for r in rows)
by_msg = collections.Counter(r[5][:110] for r in rows if r[4] == "refused")
by_amend = collections.Counter(r[5][:110] for r in rows if r[4] == "amended")
by_run = collections.Counter((r[2], r[4]) for r in inspect)
print("hostile: %d images in %s s: %s" % (len(rows), secs,
      ", ".join("%s %d" % kv for kv in sorted(by_out.items()))))
print("info and check: %d runs: %s" % (len(inspect), ", ".join(
      "%s %d" % kv for kv in sorted(collections.Counter(r[4] for r in inspect).items()))))
print("by category:")
for (c, o), n in sorted(by_cat.items()):
    print("  %-6s %-28s %d" % (c, o, n))
print("refusals by message:")
for m, n in by_msg.most_common():
    print("  %4d  %s" % (n, m))
print("amended (detail: empty = qemu-img amend agrees):")
for m, n in by_amend.most_common():
    print("  %4d  %s" % (n, m or "(qemu-img amend gives the same info)"))
print("info and check runs by command:")
for (c, o), n in sorted(by_run.items()):
    print("  %-42s %-28s %d" % (c, o, n))
for r in fails:
    print("FAIL %s [%s %s]: %s: %s" % (r[0], r[1], r[2], r[4], r[5]))
sys.exit(1 if fails or total != len(rows) or junit_rc != 0 else 0)
PY
