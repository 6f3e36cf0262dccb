#!/bin/bash
# hostile_test.sh — the real `instar amend` on every image of the hostile
# corpus (make_hostile.sh; each image with the transition its MANIFEST
# line names, six transitions rotated over the corpus). For every image
# the outcome must be one of
#   - exit 1, an `instar amend: ...` message, the file byte-identical
#     (holes included: same_file.py);
#   - exit 0 and `No change.`, the file byte-identical;
#   - exit 0 and `Image amended.`, and
#       - when `qemu-img amend` amends a copy too: `qemu-img info` the same
#         as its, and `qemu-img check` clean or (an image that was not
#         clean to begin with: a header-only amend cannot repair tables)
#         exactly what qemu-img check says of qemu-img amend's result;
#       - when qemu-img amend refuses (QEMU cannot open the image):
#         `qemu-img check` clean.
#   (qemu-img runs on `json:` names with backing null: hostile backing
#   names point nowhere.)
# Never: exit >= 2 (usage error, signal, crash), a timeout (10 s), a
# sanitizer report (ASan/UBSan/LSan: the --config=asan build). One JUnit
# testcase per image in $XML_OUTPUT_FILE; counts by category, outcome
# and message at the end of the log.
#
# Usage: hostile_test.sh INSTAR MAKE_HOSTILE_SH [MAX_IMAGES]
#   MAX_IMAGES: run at most this many (every category kept whole except
#   `field`, which is sampled with a fixed stride); default all.
set -u

INSTAR=$1
MAKE=$2
MAX=${3:-0}
HERE=$(cd "$(dirname "$MAKE")" && pwd)
for t in qemu-img qemu-io python3 timeout cmp; do
	command -v "$t" >/dev/null || { echo "$t missing" >&2; exit 1; }
done

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

export INSTAR CORPUS WORK HERE

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
# One image: prints `name<TAB>category<TAB>transition<TAB>PASS|FAIL<TAB>outcome<TAB>detail`.
run_one() {
	local name=$1 cat=$2 tr=$3
	local orig="$CORPUS/$name" img="$WORK/run.$BASHPID.img"
	local rc out err outcome detail="" ok=PASS same
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
	if grep -q -e 'AddressSanitizer' -e 'LeakSanitizer' -e 'runtime error:' \
			-e 'UndefinedBehaviorSanitizer' "$img.err"; then
		ok=FAIL; outcome=sanitizer
		detail=$(grep -m3 -e 'ERROR' -e 'runtime error' -e 'SUMMARY' "$img.err" | tr '\n\t' '  ')
	elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		ok=FAIL; outcome=timeout; detail="no answer in 10 s"
	elif [ $rc -ge 2 ]; then
		ok=FAIL; outcome="exit_$rc"; detail=$(printf '%s' "$err" | tr '\n\t' '  ')
	elif [ $rc -eq 1 ]; then
		outcome=refused
		detail=$(printf '%s' "$err" | head -1 | sed "s|$img|IMAGE|g")
		if [ "$same" -ne 0 ]; then
			ok=FAIL; outcome=refused_but_written
		elif ! printf '%s' "$err" | grep -q '^instar amend: '; then
			ok=FAIL; outcome=refused_without_message
		fi
	elif [ "$out" = "No change." ]; then
		outcome=nochange
		[ "$same" -eq 0 ] || { ok=FAIL; outcome=nochange_but_written; }
	elif [ "$out" = "Image amended." ]; then
		outcome=amended
		local chk chk0 chkq ref="$WORK/ref.$BASHPID.img" qout a b
		# Checks open the image without its backing file (hostile names
		# point nowhere): json: with backing null.
		chk=$(qcheck "$img")
		cp --sparse=always "$orig" "$ref"
		if qout=$(timeout 60 qemu-img amend -o "$tr" "$(jsonname "$ref")" 2>&1); then
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
		else
			detail="qemu-img amend: $(printf '%s' "$qout" | head -1 | sed "s|$ref|IMAGE|g")"
			if [ -n "$chk" ]; then
				ok=FAIL; outcome=amended_unclean_qemu_refuses
				detail="$detail; instar result: $(printf '%s' "$chk" | head -2 | tr '\n\t' '  ')"
			else
				outcome=amended_clean_qemu_refuses
			fi
		fi
		rm -f "$ref"
	else
		ok=FAIL; outcome="exit0_unexpected_output"; detail="$out"
	fi
	rm -f "$img" "$img.out" "$img.err"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$cat" "$tr" "$ok" "$outcome" \
		"$(printf '%s' "$detail" | tr '\t\n' '  ' | head -c 600)"
}
export -f run_one

START=$(date +%s)
tr '\t' '\n' <"$LIST" | xargs -d '\n' -n 3 -P "${HOSTILE_JOBS:-4}" \
	bash -c 'run_one "$1" "$2" "$3"' _ >"$WORK/results"
END=$(date +%s)

python3 - "$WORK/results" "${XML_OUTPUT_FILE:-$WORK/test.xml}" "$TOTAL" \
	$((END - START)) <<'PY'
import collections, sys
from xml.sax.saxutils import escape, quoteattr
res, xml, total, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = [l.rstrip("\n").split("\t") for l in open(res) if l.strip()]
fails = [r for r in rows if r[3] != "PASS"]
with open(xml, "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>'
            '<testsuite name="hostile" tests="%d" failures="%d">\n'
            % (len(rows), len(fails) + (total != len(rows))))
    for r in rows:
        name = "%s [%s -o %s] %s" % (r[0], r[1], r[2], r[4])
        if r[3] == "PASS":
            f.write("  <testcase classname=%s name=%s><system-out>%s"
                    "</system-out></testcase>\n"
                    % (quoteattr("hostile." + r[1]), quoteattr(name),
                       escape(r[5])))
        else:
            f.write("  <testcase classname=%s name=%s><failure message=%s>%s"
                    "</failure></testcase>\n"
                    % (quoteattr("hostile." + r[1]), quoteattr(name),
                       quoteattr(r[4]), escape(r[5])))
    if total != len(rows):
        f.write('  <testcase classname="hostile" name="all images ran">'
                '<failure message="missing">%d of %d images gave no result'
                '</failure></testcase>\n' % (total - len(rows), total))
    f.write("</testsuite></testsuites>\n")
by_out = collections.Counter(r[4] for r in rows)
by_cat = collections.Counter((r[1], r[4]) for r in rows)
by_msg = collections.Counter(r[5][:110] for r in rows if r[4] == "refused")
by_amend = collections.Counter(r[5][:110] for r in rows if r[4] == "amended")
print("hostile: %d images in %s s: %s" % (len(rows), secs,
      ", ".join("%s %d" % kv for kv in sorted(by_out.items()))))
print("by category:")
for (c, o), n in sorted(by_cat.items()):
    print("  %-6s %-28s %d" % (c, o, n))
print("refusals by message:")
for m, n in by_msg.most_common():
    print("  %4d  %s" % (n, m))
print("amended (detail: empty = qemu-img amend agrees):")
for m, n in by_amend.most_common():
    print("  %4d  %s" % (n, m or "(qemu-img amend gives the same info)"))
for r in fails:
    print("FAIL %s [%s -o %s]: %s: %s" % (r[0], r[1], r[2], r[4], r[5]))
sys.exit(1 if fails or total != len(rows) else 0)
PY
