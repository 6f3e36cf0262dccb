#!/bin/bash
# differential.sh — amend every image kind with qemu-img and with the tool
# under test, and require that qemu-img cannot tell the results apart.
#
# Usage:
#   differential.sh [--tool CMD] [--images DIR] [--jobs N] [--selfcheck]
#                   [--transitions REGEX]
#   AMEND_CMD="..." differential.sh          (AMEND_CMD wins over --tool)
#
# The tool is run as:  CMD -o OPTS [-o OPTS] FILE   (cwd = the image's dir)
# and must exit 0 on success (amended or no-op; print "noop" or
# "No change." on a no-op), 1 on a refusal. Any other exit status (usage
# error, I/O error, crash) fails the case. Drivers used so far:
#   tests/tools/plan_apply        (the planner, via a test-only helper)
#   "qemu-img amend"              (self-check: every case must pass)
#   "instar amend"                (the real CLI, once it exists)
#
# For each image kind (tests/images/make_images.sh) x each transition
# below, the kind's directory is copied twice (a/, b/); `qemu-img amend`
# runs on a/img.qcow2 and the tool on b/img.qcow2. A case PASSES when:
#   1. both succeeded, and
#        - `qemu-img info` (human, stderr included) and `qemu-img info
#          --output=json` of a and b are identical after normalising the
#          case directory and "disk size"/"actual-size" (host allocation,
#          which qemu-img amend itself changes when it rewrites bitmaps),
#        - `qemu-img check` of b is clean (or, where qemu-img's own result
#          also only leaks clusters, b leaks too: exit 3 on both),
#        - `qemu-img compare a b` finds the guest-visible content identical,
#        - every byte of b/img.qcow2 outside the first cluster, and every
#          side file (backing file, data file), equals the original,
#        - if the tool reported a no-op, b/img.qcow2 is byte-identical;
#   2. or both refused, the tool for the reason QEMU_REFUSALS below pairs
#      with qemu-img's message, and b/ is byte-identical to the original;
#   3. or qemu-img succeeded, the tool refused with the refusal listed for
#      the (kind, transition) in KNOWN_DIVERGENCES below, and b/ is
#      byte-identical to the original;
#   4. or the (kind, transition) is in QEMU_BROKEN below (qemu-img's own
#      result cannot be opened, which is verified), and the tool either
#      refused leaving b/ byte-identical, or produced an image that opens,
#      checks clean, has the requested compat and the original's content.
# Anything else FAILS, and so does a stale table entry: a divergence the
# tool no longer shows (it amends like qemu-img), or a KNOWN_DIVERGENCES
# or QEMU_BROKEN entry that no case matches. Header-cluster byte identity
# of a and b is reported (counted), not required.
#
# Results: one JUnit testcase per case in $XML_OUTPUT_FILE (Bazel sets
# it; written by tests/lib/junit.sh), a summary on stdout, exit 1 if any
# case failed. A known divergence is not a pass: it is reported as a
# skipped case named "... (known-divergence)" with its reason (CI allows
# exactly those skips: tests/allowed_skips.txt), and counted on its own.
#
# Self-check (--selfcheck or DIFF_SELFCHECK=1, meant for AMEND_CMD=
# "qemu-img amend"): proves the harness itself — qemu-img against itself
# must pass every case. qemu-img is not a header-only writer (it expands
# zero clusters, rewrites bitmap directories, repairs dirty images and
# clears unknown autoclear bits even when it then refuses), so in this
# mode the "b/ untouched" byte checks are switched off, loudly, and the
# divergence table is not consulted (QEMU_BROKEN cases must give two
# byte-identical broken results). Everything else is checked.
#
# DIFF_ONLY=REGEX restricts the cases (kind/transition) for development;
# every case it leaves out is reported as skipped, loudly.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ---------------------------------------------------------------------
# Transitions: name|-o arguments (space-separated -o groups).
TRANSITIONS=(
	"compat_1.1|compat=1.1"
	"compat_0.10|compat=0.10"
	"lazy_on|lazy_refcounts=on"
	"lazy_off|lazy_refcounts=off"
	"compat_1.1+lazy_on|compat=1.1,lazy_refcounts=on"
	"compat_1.1+lazy_on_two_o|compat=1.1 lazy_refcounts=on"
	"lazy_yes+compat_1.1_two_o|lazy_refcounts=yes compat=1.1"
	"compat_0.10+lazy_off|compat=0.10,lazy_refcounts=off"
	"compat_0.10+lazy_on|compat=0.10,lazy_refcounts=on"
	"lazy_true|lazy_refcounts=true"
	"lazy_false|lazy_refcounts=false"
	"lazy_yes|lazy_refcounts=yes"
	"lazy_no|lazy_refcounts=no"
)

# ---------------------------------------------------------------------
# Known divergences from qemu-img 7.2: cases where the tool refuses and
# qemu-img amends. Fields: kind | transition glob | refusal | reason.
# "refusal" is an extended regex the tool's output must match, so the
# tool refuses for the listed reason and no other: plan_apply prints
# "refused <enum amend_status>" (4 DIRTY, 6 DOWNGRADE_FEATURE,
# 8 LAZY_NEEDS_V3, 14 ZERO_CLUSTERS, 16 BITMAPS); instar prints the
# message of src/cli/messages.c. Keep in step with
# the divergence list in the docs.
KNOWN_DIVERGENCES=(
	"zero_v3|compat_0.10*|^refused 14\$|the image has zero clusters|issue 7: version 2 has no zero flag; a header-only downgrade would leave zero-flagged L2 entries that QEMU reports as corruption on first read. qemu-img expands them (writes clusters outside the header); instar only rewrites the header, so it refuses."
	"zero_backing_v3|compat_0.10*|^refused 14\$|the image has zero clusters|as zero_v3, with a backing file: qemu-img allocates zeroed clusters to keep the backing file's data hidden."
	"bitmap|compat_0.10*|^refused 16\$|the image has persistent dirty bitmaps|issue 7: qemu-img 7.2 downgrades but leaves the bitmaps inconsistent and their clusters leaked (qemu-img check reports leaks); instar refuses."
	"dirty|*|^refused 4\$|the image is marked dirty|spec 'Refusals': a DIRTY image is always refused (run instar check first). qemu-img repairs the refcounts while opening the image read-write, clears DIRTY, then amends."
	"dirty_lazy|*|^refused 4\$|the image is marked dirty|as dirty: DIRTY is refused; qemu-img repairs lazy refcounts on open, then amends."
	"v3_lazy|compat_0.10+lazy_on|^refused 8\$|lazy_refcounts=on requires compat=1.1|spec 'Lazy requires v3': lazy_refcounts=on with a downgrade to v2 is refused. qemu-img 7.2 skips the lazy option when the image already has lazy refcounts on, then downgrades (lazy silently dropped); on a non-lazy v3 image it refuses."
	"unk_compat_lazy|compat_0.10+lazy_on|^refused 8\$|lazy_refcounts=on requires compat=1.1|as v3_lazy: the image already has lazy refcounts on, so qemu-img ignores lazy_refcounts=on and downgrades; the spec refuses."
)

# ---------------------------------------------------------------------
# What the tool must say when both refuse, fields separated by " || ":
# qemu-img's message (an extended regex), then the refusals instar may
# give (fixed strings), then plan_apply's "refused <enum amend_status>"
# (an extended regex) (3 PARSE, 4 DIRTY, 5 CORRUPT, 6 DOWNGRADE_FEATURE,
# 7 DOWNGRADE_REFCOUNT, 8 LAZY_NEEDS_V3, 9 RELOCATION, 13 ENCRYPTED,
# 21 HEADER_NO_ROOM). A refusal by qemu-img with a message not listed
# here, or a tool refusing for another reason, fails the case.
QEMU_REFUSALS=(
	"Lazy refcounts only supported with compatibility level 1.1 || lazy_refcounts=on requires compat=1.1 || the image is marked dirty || ^refused (8|4)\$"
	"Image is corrupt; cannot be opened read/write || the image is marked corrupt || ^refused 5\$"
	"Unsupported qcow2 feature\\(s\\): Unknown incompatible || the image header could not be parsed || ^refused 3\$"
	"Parameter 'encrypt.key-secret' is required || encrypted qcow2 images are not supported || ^refused 13\$"
	"Failed to update the image header: No space left on device || would have to relocate a header extension || leave no room in the header cluster || ^refused (9|21)\$"
	"compat=0.10 requires refcount_bits=16 || image uses refcount_bits != 16 || ^refused 7\$"
	"Cannot downgrade an image with a data file || image uses a v3-only incompatible feature || ^refused 6\$"
	"Cannot downgrade an image with zstd compression type and existing compressed clusters || image uses a v3-only incompatible feature || ^refused 6\$"
	"Cannot downgrade an image with incompatible features 0x10 set || image uses a v3-only incompatible feature || ^refused 6\$"
)

# ---------------------------------------------------------------------
# Cases where qemu-img 7.2 itself produces an image it cannot open
# (ORACLE.md): kind | transition glob | reason. Matching qemu-img there
# would mean writing a broken image, so for these the tool must EITHER
# refuse (b/ byte-identical) OR produce an image that qemu-img opens,
# checks clean, reports with the requested compat/lazy_refcounts, and
# reads with the original's guest-visible content. The harness also
# verifies that qemu-img's result really is broken: a stale entry fails.
QEMU_BROKEN=(
	"v3_hl120|compat_0.10*|qemu-img 7.2 writes the v3 header's unknown trailing fields (header_length > 112) right after the 72-byte v2 header, where a v2 reader expects extensions: its own result fails to open with 'Header extension too large'."
)

# ---------------------------------------------------------------------
tool_arg=""
only_transitions=""
images=""
jobs=""
while [ $# -gt 0 ]; do
	case $1 in
	--tool) tool_arg=$2; shift 2 ;;
	--images) images=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--selfcheck) DIFF_SELFCHECK=1; shift ;;
	--transitions) only_transitions=$2; shift 2 ;;
	--run-case) shift; RUN_CASE_MODE=1; break ;;
	*) echo "differential: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

QIMG=${QEMU_IMG:-qemu-img}

# ---------------------------------------------------------------------
# One case. Writes $RES/<kind>@<transition> with lines:
#   status PASS|FAIL|DIVERGE   outcome ...   hdr_identical 0|1   msg ...
# and the details file <...>.log.
run_case() {
	local kind=$1 tname=$2 oargs=$3 cs=$4
	local id="$kind@$tname"
	local cdir="$WORK/$id"
	local res="$RES/$id" log="$RES/$id.log"
	local orig="$IMAGES/$kind"
	local status="" outcome="" msg="" hdr_ident=0
	local -a oflags=()
	local g
	for g in $oargs; do oflags+=(-o "$g"); done

	rm -rf "$cdir"
	mkdir -p "$cdir"
	cp -a --sparse=always "$orig" "$cdir/a"
	cp -a --sparse=always "$orig" "$cdir/b"

	{
		echo "case: $id  (cluster size $cs)"
		echo "options: ${oflags[*]}"
	} >"$log"

	local qa_out qa_rc tb_out tb_rc
	qa_out=$(cd "$cdir/a" && "$QIMG" amend -f qcow2 "${oflags[@]}" img.qcow2 2>&1)
	qa_rc=$?
	# shellcheck disable=SC2086  # AMEND_CMD is a command line on purpose
	tb_out=$(cd "$cdir/b" && $AMEND_CMD "${oflags[@]}" img.qcow2 2>&1)
	tb_rc=$?
	{
		echo "qemu-img amend: rc=$qa_rc ${qa_out:+output: $qa_out}"
		echo "tool: rc=$tb_rc ${tb_out:+output: $tb_out}"
	} >>"$log"

	# b/ unchanged outside the header cluster (or entirely: whole=1)?
	b_untouched() {
		local whole=$1 f rc=0
		if [ "${DIFF_SELFCHECK:-0}" = 1 ]; then
			echo "selfcheck: byte-untouched check of b/ not applied" >>"$log"
			return 0
		fi
		if [ "$whole" = 1 ]; then
			cmp "$orig/img.qcow2" "$cdir/b/img.qcow2" >>"$log" 2>&1 || rc=1
		else
			cmp -i "$cs:$cs" "$orig/img.qcow2" "$cdir/b/img.qcow2" >>"$log" 2>&1 || rc=1
		fi
		for f in "$orig"/*; do
			[ "$(basename "$f")" = img.qcow2 ] && continue
			cmp "$f" "$cdir/b/$(basename "$f")" >>"$log" 2>&1 || rc=1
		done
		return $rc
	}
	# Prints "refusal-regex|reason" of the matching entry.
	divergence_entry() {
		local row k p re1 re2 r
		for row in "${KNOWN_DIVERGENCES[@]}"; do
			IFS='|' read -r k p re1 re2 r <<<"$row"
			# shellcheck disable=SC2053  # p is a glob on purpose
			if [ "$k" = "$kind" ] && [[ $tname == $p ]]; then
				echo "$re1|$re2|$r"
				return 0
			fi
		done
		return 1
	}
	qemu_broken_reason() {
		local row k p r
		for row in "${QEMU_BROKEN[@]}"; do
			IFS='|' read -r k p r <<<"$row"
			# shellcheck disable=SC2053  # p is a glob on purpose
			if [ "$k" = "$kind" ] && [[ $tname == $p ]]; then
				echo "$r"
				return 0
			fi
		done
		return 1
	}
	# compare_imgs DIR1 DIR2 (relative to $cdir or absolute): guest-visible
	# content of DIR1/img.qcow2 and DIR2/img.qcow2. An external data
	# file's relative name is resolved against the cwd by qemu-img
	# compare, so each image's data file is named explicitly.
	compare_imgs() {
		local -a cmpargs=(-f qcow2 -F qcow2 "$1/img.qcow2" "$2/img.qcow2")
		if [ -e "$orig/df.raw" ]; then
			cmpargs=(--image-opts
				"driver=qcow2,file.filename=$1/img.qcow2,data-file.filename=$1/df.raw"
				"driver=qcow2,file.filename=$2/img.qcow2,data-file.filename=$2/df.raw")
		fi
		(cd "$cdir" && "$QIMG" compare "${cmpargs[@]}" >>"$log" 2>&1)
	}
	norm() { sed -e "s#$cdir/[ab]#CASEDIR#g" -e '/^disk size:/d' -e '/"actual-size":/d'; }

	# Is the tool's refusal the one QEMU_REFUSALS pairs with qemu-img's?
	refusal_as_qemus() {
		local row q pa i
		local -a f
		for row in "${QEMU_REFUSALS[@]}"; do
			row=${row// || /$'\x1f'}
			IFS=$'\x1f' read -ra f <<<"$row"
			q=${f[0]}
			pa=${f[${#f[@]} - 1]}
			grep -Eq -- "$q" <<<"$qa_out" || continue
			grep -Eq -- "$pa" <<<"$tb_out" && return 0
			for ((i = 1; i < ${#f[@]} - 1; i++)); do
				grep -Fq -- "${f[i]}" <<<"$tb_out" && return 0
			done
			echo "the tool refused for another reason than the one paired with qemu-img's ($q)"
			return 1
		done
		echo "qemu-img refused with a message QEMU_REFUSALS does not list: $qa_out"
		return 1
	}

	local reason="" entry="" want=""
	if [ "${DIFF_SELFCHECK:-0}" != 1 ] && entry=$(divergence_entry); then
		want=${entry%|*}
		reason=${entry##*|}
		echo "divergence entry: $kind|$tname" >>"$log"
	fi

	local broken=""
	if [ $qa_rc -eq 0 ]; then
		broken=$(qemu_broken_reason) || broken=""
	fi

	if [ $tb_rc -ne 0 ] && [ $tb_rc -ne 1 ]; then
		status=FAIL; outcome=tool-error
		msg="tool exited $tb_rc (not 0 = success / 1 = refusal): $tb_out"
	elif [ -n "$broken" ]; then
		outcome=qemu-result-broken
		local fails=() jb want_c=""
		if (cd "$cdir/a" && "$QIMG" info -f qcow2 img.qcow2 >>"$log" 2>&1); then
			fails+=("STALE QEMU_BROKEN entry: qemu-img can open its own result")
		fi
		if [ "${DIFF_SELFCHECK:-0}" = 1 ]; then
			# qemu-img against itself: b must be exactly as broken as a.
			cmp "$cdir/a/img.qcow2" "$cdir/b/img.qcow2" >>"$log" 2>&1 ||
				fails+=("selfcheck: qemu-img's two results differ")
		elif [ $tb_rc -ne 0 ]; then
			b_untouched 1 || fails+=("the refusing tool changed b/")
		else
			case $oargs in
			*compat=0.10*) want_c='"compat": "0.10"' ;;
			*compat=1.1*) want_c='"compat": "1.1"' ;;
			esac
			if ! jb=$(cd "$cdir/b" && "$QIMG" info -f qcow2 --output=json img.qcow2 2>>"$log"); then
				fails+=("qemu-img cannot open the tool's result either")
			elif [ -n "$want_c" ] && [[ $jb != *"$want_c"* ]]; then
				fails+=("the tool's result does not have $want_c")
			fi
			(cd "$cdir/b" && "$QIMG" check -f qcow2 img.qcow2 >>"$log" 2>&1) ||
				fails+=("qemu-img check of b is not clean")
			compare_imgs "$orig" b || fails+=("content of b differs from the original")
			b_untouched 0 || fails+=("b/ changed outside the header cluster")
		fi
		if [ ${#fails[@]} -eq 0 ]; then
			status=DIVERGE
			msg="qemu-img's own result is broken ($broken); the tool $([ $tb_rc -eq 0 ] && echo "produced a sound image" || echo "refused")"
		else
			status=FAIL
			msg=$(IFS=';'; echo "${fails[*]}")
		fi
	elif [ $qa_rc -ne 0 ] && [ $tb_rc -ne 0 ]; then
		outcome=both-refused
		local why=""
		if ! b_untouched 1; then
			status=FAIL; msg="both refused, but the tool changed b/ (see cmp above)"
		elif [ "${DIFF_SELFCHECK:-0}" != 1 ] && ! why=$(refusal_as_qemus); then
			status=FAIL; msg="both refused, but $why; the tool said: $tb_out"
		else
			status=PASS; msg="both refused"
		fi
	elif [ $qa_rc -ne 0 ] && [ $tb_rc -eq 0 ]; then
		status=FAIL; outcome=tool-accepted-qemu-refused
		msg="qemu-img refused ($qa_out) but the tool succeeded ($tb_out)"
	elif [ $qa_rc -eq 0 ] && [ $tb_rc -ne 0 ]; then
		outcome=tool-refused-qemu-accepted
		if [ -z "$reason" ]; then
			status=FAIL
			msg="qemu-img amended but the tool refused ($tb_out); not in KNOWN_DIVERGENCES"
		elif ! grep -Eq -- "$want" <<<"$tb_out"; then
			status=FAIL
			msg="known divergence, but the tool refused for another reason: got '$tb_out', want /$want/"
		elif b_untouched 1; then
			status=DIVERGE; msg="known divergence: $reason"
		else
			status=FAIL; msg="known divergence, but the refusing tool changed b/"
		fi
	else
		outcome=both-amended
		local fails=()
		local ia ib ja jb ca_rc cb_rc
		ia=$(cd "$cdir/a" && "$QIMG" info -f qcow2 img.qcow2 2>&1 | norm)
		ib=$(cd "$cdir/b" && "$QIMG" info -f qcow2 img.qcow2 2>&1 | norm)
		ja=$(cd "$cdir/a" && "$QIMG" info -f qcow2 --output=json img.qcow2 2>/dev/null | norm)
		jb=$(cd "$cdir/b" && "$QIMG" info -f qcow2 --output=json img.qcow2 2>/dev/null | norm)
		if [ "$ia" != "$ib" ]; then
			fails+=("qemu-img info differs")
			{ echo "--- info diff (a=qemu-img amend, b=tool):"; diff <(echo "$ia") <(echo "$ib"); } >>"$log"
		fi
		if [ "$ja" != "$jb" ]; then
			fails+=("qemu-img info --output=json differs")
			{ echo "--- json info diff (a=qemu-img amend, b=tool):"; diff <(echo "$ja") <(echo "$jb"); } >>"$log"
		fi
		(cd "$cdir/b" && "$QIMG" check -f qcow2 img.qcow2 >>"$log" 2>&1); cb_rc=$?
		if [ $cb_rc -ne 0 ]; then
			(cd "$cdir/a" && "$QIMG" check -f qcow2 img.qcow2 >/dev/null 2>&1); ca_rc=$?
			if [ $cb_rc -eq 3 ] && [ $ca_rc -eq 3 ]; then
				echo "note: b leaks clusters, and so does qemu-img's own result a (check rc 3 on both)" >>"$log"
			else
				fails+=("qemu-img check of b exited $cb_rc (a: $ca_rc)")
			fi
		fi
		if ! compare_imgs a b; then
			fails+=("qemu-img compare: guest-visible content of a and b differs")
		fi
		if ! b_untouched 0; then
			fails+=("b/ changed outside the header cluster")
		fi
		if [[ $tb_out == *noop* || $tb_out == *"No change."* ]] && ! b_untouched 1; then
			fails+=("the tool reported a no-op but changed the file")
		fi
		if [ ${#fails[@]} -eq 0 ] && [ -n "$reason" ]; then
			status=FAIL
			msg="STALE known-divergence entry: the tool no longer refuses, it amends as qemu-img does"
		elif [ ${#fails[@]} -eq 0 ]; then
			status=PASS; msg="equivalent"
		else
			status=FAIL
			msg=$(IFS=';'; echo "${fails[*]}")
		fi
	fi
	if cmp -n "$cs" "$cdir/a/img.qcow2" "$cdir/b/img.qcow2" >/dev/null 2>&1; then
		hdr_ident=1
	fi
	echo "result: $status ($outcome) $msg; header cluster identical: $hdr_ident" >>"$log"
	printf 'status %s\noutcome %s\nhdr_identical %s\nmsg %s\n' \
		"$status" "$outcome" "$hdr_ident" "$msg" >"$res"
	if [ "$status" = FAIL ] && [ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ]; then
		# Keep the evidence: Bazel zips this directory into outputs.zip.
		local keep="$TEST_UNDECLARED_OUTPUTS_DIR/$id"
		mkdir -p "$keep"
		cp "$log" "$keep/case.log"
		dd if="$orig/img.qcow2" of="$keep/orig.cluster0" bs="$cs" count=1 status=none
		dd if="$cdir/a/img.qcow2" of="$keep/qemu.cluster0" bs="$cs" count=1 status=none
		dd if="$cdir/b/img.qcow2" of="$keep/tool.cluster0" bs="$cs" count=1 status=none
	fi
	[ "$status" = FAIL ] || rm -rf "$cdir"
}

if [ "${RUN_CASE_MODE:-0}" = 1 ]; then
	run_case "$@"
	exit 0
fi

# ---------------------------------------------------------------------
# Main.
if [ -n "${AMEND_CMD:-}" ]; then
	:
elif [ -n "$tool_arg" ]; then
	AMEND_CMD=$tool_arg
else
	echo "differential: no tool: pass --tool CMD or set AMEND_CMD" >&2
	exit 2
fi
# Resolve a relative tool path (Bazel passes a runfiles-relative one).
first=${AMEND_CMD%% *}
if [[ $first == */* ]] && [[ $first != /* ]]; then
	AMEND_CMD="$(pwd)/$AMEND_CMD"
	first=${AMEND_CMD%% *}
fi
command -v "$first" >/dev/null 2>&1 || { echo "differential: FATAL: tool '$first' not found" >&2; exit 2; }
command -v "$QIMG" >/dev/null 2>&1 || { echo "differential: FATAL: qemu-img not found" >&2; exit 2; }

scratch=${TEST_TMPDIR:-$(mktemp -d)}
WORK="$scratch/cases"
RES="$scratch/results"
rm -rf "$WORK" "$RES"
mkdir -p "$WORK" "$RES"

if [ -z "$images" ]; then
	images="$scratch/images"
	gen=${MAKE_IMAGES:-$here/../images/make_images.sh}
	t0=$(date +%s.%N)
	if ! bash "$gen" "$images" >"$scratch/make_images.log" 2>&1; then
		echo "differential: FATAL: image generator failed:" >&2
		cat "$scratch/make_images.log" >&2
		exit 1
	fi
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "differential: images built in %.1fs\n", b-a}'
fi
IMAGES=$(cd "$images" && pwd)
[ -s "$IMAGES/MANIFEST" ] || { echo "differential: FATAL: no MANIFEST in $IMAGES" >&2; exit 1; }
jobs=${jobs:-$(( $(nproc) + 1 ))}

echo "differential: tool: $AMEND_CMD"
if [ "${DIFF_SELFCHECK:-0}" = 1 ]; then
	echo "differential: SELF-CHECK MODE: byte-untouched checks of b/ and the divergence table are OFF"
fi
echo "differential: qemu: $("$QIMG" --version | head -1)"

export AMEND_CMD QIMG WORK RES IMAGES DIFF_SELFCHECK
# Case list: kind<TAB>tname<TAB>oargs
caselist="$scratch/cases.txt"
skiplist="$scratch/skipped.txt"
: >"$caselist"
: >"$skiplist"
while IFS=$'\t' read -r kind _ cs _; do
	for row in "${TRANSITIONS[@]}"; do
		tname=${row%%|*}
		oargs=${row#*|}
		# --transitions narrows what this suite IS (e.g. the self-check
		# has no use for option aliases: both sides run qemu-img with the
		# same arguments); unlike DIFF_ONLY these are not cases skipped.
		if [ -n "$only_transitions" ] && ! [[ $tname =~ $only_transitions ]]; then
			continue
		fi
		if [ -n "${DIFF_ONLY:-}" ] && ! [[ "$kind@$tname" =~ $DIFF_ONLY ]]; then
			printf '%s\t%s\n' "$kind" "$tname" >>"$skiplist"
			continue
		fi
		printf '%s\t%s\t%s\t%s\n' "$kind" "$tname" "$oargs" "$cs" >>"$caselist"
	done
done <"$IMAGES/MANIFEST"

t0=$(date +%s.%N)
self="$here/$(basename "${BASH_SOURCE[0]}")"
tr '\t' '\n' <"$caselist" | tr '\n' '\0' |
	xargs -0 -n 4 -P "$jobs" bash "$self" --run-case
elapsed=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f", b-a}')

# ---------------------------------------------------------------------
# Aggregate: one testcase per case (tests/lib/junit.sh).
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-$here/../lib/junit.sh}"
junit_init differential "$scratch"
n=0; npass=0; nfail=0; ndiv=0; nident=0; nmissing=0
failures_txt="$scratch/failures.txt"
: >"$failures_txt"
declare -A outcomes=()
while IFS=$'\t' read -r kind tname _ _; do
	id="$kind@$tname"
	n=$((n + 1))
	if [ ! -f "$RES/$id" ]; then
		status=FAIL; outcome=no-result; msg="the case produced no result (harness crash?)"; hid=0
		nmissing=$((nmissing + 1))
	else
		status=FAIL outcome=unreadable hid=0 msg="unreadable result file"
		while read -r key val; do
			case $key in
			status) status=$val ;;
			outcome) outcome=$val ;;
			hdr_identical) hid=$val ;;
			msg) msg=$val ;;
			esac
		done <"$RES/$id"
	fi
	outcomes[$outcome]=$(( ${outcomes[$outcome]:-0} + 1 ))
	[ "$hid" = 1 ] && nident=$((nident + 1))
	case $status in
	PASS)
		npass=$((npass + 1))
		junit_case "$tname" pass "" 0 "" "differential.$kind"
		;;
	DIVERGE)
		ndiv=$((ndiv + 1))
		junit_case "$tname (known-divergence)" skip "$msg" 0 "" "differential.$kind" 2>/dev/null
		;;
	*)
		nfail=$((nfail + 1))
		junit_case "$tname" fail "$msg
$(cat "$RES/$id.log" 2>/dev/null)" 0 "" "differential.$kind" 2>/dev/null
		{ echo "FAIL $id: $msg"; [ -f "$RES/$id.log" ] && sed 's/^/    /' "$RES/$id.log"; } >>"$failures_txt"
		;;
	esac
done <"$caselist"
nskip=$(wc -l <"$skiplist")
while IFS=$'\t' read -r kind tname; do
	junit_case "$tname" skip "excluded by DIFF_ONLY" 0 "" "differential.$kind" 2>/dev/null
done <"$skiplist"

# Every table entry must still describe something: a KNOWN_DIVERGENCES or
# QEMU_BROKEN entry no case matched is stale (a whole run only: with
# DIFF_ONLY or --transitions some entries are out of reach).
if [ "${DIFF_SELFCHECK:-0}" != 1 ] && [ -z "${DIFF_ONLY:-}" ] && [ -z "$only_transitions" ]; then
	for row in "${KNOWN_DIVERGENCES[@]}" "${QEMU_BROKEN[@]}"; do
		IFS='|' read -r k p _ <<<"$row"
		hit=0
		while IFS=$'\t' read -r kind tname _ _; do
			# shellcheck disable=SC2053  # p is a glob on purpose
			if [ "$k" = "$kind" ] && [[ $tname == $p ]] &&
				grep -q '^status DIVERGE$' "$RES/$kind@$tname" 2>/dev/null; then
				hit=1
				break
			fi
		done <"$caselist"
		if [ "$hit" = 1 ]; then
			junit_case "table entry $k|$p is used" pass "" 0 "" differential.tables
		else
			nfail=$((nfail + 1))
			junit_case "table entry $k|$p is used" fail \
				"STALE table entry: no case diverges as '$k|$p' says" 0 "" differential.tables 2>/dev/null
			echo "FAIL table entry $k|$p: no case diverges as it says (stale entry)" >>"$failures_txt"
		fi
	done
fi
junit_finish >/dev/null

if [ "$nfail" -gt 0 ]; then
	echo "================ failures ================"
	cat "$failures_txt"
	echo "=========================================="
fi
echo "differential: outcomes:"
for o in "${!outcomes[@]}"; do printf '  %-28s %d\n' "$o" "${outcomes[$o]}"; done | sort
if [ "$nskip" -gt 0 ]; then
	echo "differential: WARNING: $nskip cases SKIPPED (DIFF_ONLY='${DIFF_ONLY:-}')"
fi
printf 'differential: %d cases in %.1fs: %d passed, %d failed, %d known divergences (reported as skipped), %d skipped; header cluster byte-identical to qemu-img amend in %d/%d\n' \
	"$n" "$elapsed" "$npass" "$nfail" "$ndiv" "$nskip" "$nident" "$n"
echo "differential: JUnit XML: ${XML_OUTPUT_FILE:-$scratch/test.xml}"
[ "$nfail" -eq 0 ]
