#!/bin/bash
# differential.sh — amend every image kind with qemu-img and with the tool
# under test, and require that qemu-img cannot tell the results apart.
# One qemu-img release per run: the system's (Debian 12: 7.2), or with
# --qemu VERSION one of the oracles of scripts/install-oracles.sh (5.2,
# 7.2, 10.0, 11.1), which then makes the reference amend and every read-
# back (info, check, compare). What each release does differently is data
# in the tables below (their first field: the releases a row holds for).
#
# Trusts: the qemu-img release it is given, as the oracle (ORACLE.md says
# what each one writes); the image generator (tests/images/make_images.sh,
# which builds the same input images with the system's qemu-img/qemu-io
# 7.2 whatever the release under test); cmp. The tool is untrusted.
#
# Usage:
#   differential.sh [--tool CMD] [--qemu VERSION] [--images DIR] [--jobs N]
#                   [--selfcheck] [--transitions REGEX] [--kinds REGEX]
#   AMEND_CMD="..." differential.sh          (AMEND_CMD wins over --tool)
#
# --qemu VERSION runs $INSTAR_ORACLES/bin/qemu-img-VERSION (default
# /var/cache/instar-oracles): a missing launcher, or one whose --version
# is not VERSION.x, FAILS the run (never a skip). Without --qemu: QEMU_IMG
# or the qemu-img on PATH. Either way the release (major.minor of
# `--version`) selects the table rows that apply.
#
# The tool is run as:  CMD -o OPTS [-o OPTS] FILE   (cwd = the image's dir)
# and must exit 0 on success (amended or no-op; print "noop" or
# "No change." on a no-op), 1 on a refusal. Any other exit status (usage
# error, I/O error, crash) fails the case. Drivers used so far:
#   tests/tools/plan_apply        (the planner, via a test-only helper)
#   "instar amend"                (the real CLI)
#   qemu-img amend                (self-check, the default with --selfcheck:
#                                  the release under test against itself)
#
# For each image kind (tests/images/make_images.sh) x each transition
# below, the kind's directory is copied twice (a/, b/); `qemu-img amend`
# runs on a/img.qcow2 and the tool on b/img.qcow2. A case PASSES when:
#   1. both succeeded, and
#        - `qemu-img info` (human, stderr included) and `qemu-img info
#          --output=json` of a and b are identical after normalising the
#          case directory, "disk size"/"actual-size" (host allocation,
#          which qemu-img amend itself changes when it rewrites bitmaps)
#          and, from 10.0 on, the file node's length (its "file length",
#          its JSON "virtual-size"; b's is pinned by the byte check below),
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
#      checks clean, has the requested compat and the original's content;
#   5. or the (kind, transition) is in QEMU_CANNOT_OPEN below for this
#      release (qemu-img fails to open the image with the listed message,
#      which is verified), and the tool amended (b/ unchanged outside the
#      header cluster) or refused (b/ byte-identical) as the row says.
# Anything else FAILS, and so does a stale table entry: a divergence the
# tool no longer shows (it amends like qemu-img), a QEMU_BROKEN or
# QEMU_CANNOT_OPEN row the release no longer bears out, or a row for this
# release that no case matches. Header-cluster byte identity of a and b is
# reported (counted), not required.
#
# Results: one JUnit testcase per case in $XML_OUTPUT_FILE (Bazel sets
# it; written by tests/lib/junit.sh), a summary on stdout, exit 1 if any
# case failed. Cases 3-5 are not passes: each is reported as a skipped
# case named "... (known-divergence)" with its reason (CI allows exactly
# those skips: tests/allowed_skips.txt), and counted on its own.
#
# Self-check (--selfcheck or DIFF_SELFCHECK=1; the tool defaults to the
# release's own `qemu-img amend`): proves the harness itself — qemu-img
# against itself must pass every case. qemu-img is not a header-only
# writer (it expands zero clusters, rewrites bitmap directories, repairs
# dirty images and clears unknown autoclear bits even when it then
# refuses), so in this mode the "b/ untouched" byte checks are switched
# off, loudly, and the divergence tables are not consulted (QEMU_BROKEN
# cases must give two byte-identical broken results). Everything else is
# checked.
#
# --transitions and --kinds narrow what the suite is (the cases left out
# are not cases of this run); DIFF_ONLY=REGEX restricts the cases
# (kind@transition) for development, and every case it leaves out is
# reported as skipped, loudly.
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
# The first field of every row of KNOWN_DIVERGENCES, QEMU_BROKEN and
# QEMU_CANNOT_OPEN: the qemu-img releases it holds for, "*" (all four:
# 5.2, 7.2, 10.0, 11.1, each measured: ORACLE.md §9) or a comma list
# ("5.2,10.0"). A row for another release is out of reach of this run:
# neither consulted nor checked for staleness.

# Known divergences: cases where the tool refuses and qemu-img amends.
# Fields: releases | kind | transition glob | refusal | reason.
# "refusal" is an extended regex the tool's output must match, so the
# tool refuses for the listed reason and no other: plan_apply prints
# "refused <enum amend_status>" (4 DIRTY, 6 DOWNGRADE_FEATURE,
# 8 LAZY_NEEDS_V3, 14 ZERO_CLUSTERS, 16 BITMAPS); instar prints the
# message of src/cli/messages.c. Keep in step with
# the divergence list in the docs.
# shellcheck disable=SC2034  # read by name: find_row and the stale-row check
KNOWN_DIVERGENCES=(
	"*|bitmap|compat_0.10*|^refused 16\$|the image has persistent dirty bitmaps|issue 7: qemu-img downgrades but leaves the bitmaps inconsistent and their clusters leaked (qemu-img check reports leaks); instar refuses."
	"*|dirty|*|^refused 4\$|the image is marked dirty|spec 'Refusals': a DIRTY image is always refused (run instar check first). qemu-img repairs the refcounts while opening the image read-write, clears DIRTY, then amends."
	"*|dirty_lazy|*|^refused 4\$|the image is marked dirty|as dirty: DIRTY is refused; qemu-img repairs lazy refcounts on open, then amends."
	"*|v3_lazy|compat_0.10+lazy_on|^refused 8\$|lazy_refcounts=on requires compat=1.1|spec 'Lazy requires v3': lazy_refcounts=on with a downgrade to v2 is refused. qemu-img skips the lazy option when the image already has lazy refcounts on, then downgrades (lazy silently dropped); on a non-lazy v3 image it refuses."
	"*|unk_compat_lazy|compat_0.10+lazy_on|^refused 8\$|lazy_refcounts=on requires compat=1.1|as v3_lazy: the image already has lazy refcounts on, so qemu-img ignores lazy_refcounts=on and downgrades; the spec refuses."
)

# ---------------------------------------------------------------------
# Downgrades that expand zero clusters (version 2 has no zero flag): the
# tool writes beyond the header cluster there, as qemu-img does, so for a
# kind matching EXPANDING_KINDS and a compat=0.10 transition that both
# amend, "b/ unchanged outside the header cluster" becomes "b/ changed
# outside it" (a tool that leaves the zero flags fails), and on top of
# info, check and compare every internal snapshot of b must read as the
# original's (qemu-img's own result may not: when a zero cluster shares
# its host cluster with a snapshot, qemu-img zeroes the snapshot's data;
# the log notes it). The layout of the new clusters may differ from
# qemu-img's (instar allocates only past the old end of the file).
EXPANDING_KINDS='^zero_'

# ---------------------------------------------------------------------
# What the tool must say when both refuse, fields separated by " || ":
# qemu-img's message (an extended regex), then the refusals instar may
# give (fixed strings), then plan_apply's "refused <enum amend_status>"
# (an extended regex) (3 PARSE, 4 DIRTY, 5 CORRUPT, 6 DOWNGRADE_FEATURE,
# 7 DOWNGRADE_REFCOUNT, 8 LAZY_NEEDS_V3, 9 RELOCATION, 13 ENCRYPTED,
# 21 HEADER_NO_ROOM). A refusal by qemu-img with a message not listed
# here, or a tool refusing for another reason, fails the case. Every
# release gives these messages word for word where it refuses (ORACLE.md
# §9), so the pairing needs no releases field.
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
# Cases where qemu-img itself produces an image it cannot open
# (ORACLE.md): releases | kind | transition glob | reason. Matching
# qemu-img there would mean writing a broken image, so for these the tool
# must EITHER refuse (b/ byte-identical) OR produce an image that qemu-img
# opens, checks clean, reports with the requested compat/lazy_refcounts,
# and reads with the original's guest-visible content. The harness also
# verifies that qemu-img's result really is broken: a stale entry fails.
# shellcheck disable=SC2034  # read by name: find_row and the stale-row check
QEMU_BROKEN=(
	"*|v3_hl120|compat_0.10*|qemu-img writes the v3 header's unknown trailing fields (header_length > 112) right after the 72-byte v2 header, where a v2 reader expects extensions: its own result fails to open with 'Header extension too large'."
)

# ---------------------------------------------------------------------
# Images a release cannot open at all, so it has nothing to compare the
# tool with: releases | kind | transition glob | qemu-img's message (an
# extended regex) | "amends" or "refuses" | the refusal, as in
# KNOWN_DIVERGENCES (plan_apply | instar; empty for "amends") | reason.
# The first row that matches decides. qemu-img must still fail with that
# message (else the row is stale and the case FAILS); the tool must amend
# leaving b/ unchanged outside the header cluster, or refuse for the
# listed reason leaving b/ byte-identical, as it does with the releases
# that can open the image (their targets compare its result).
# shellcheck disable=SC2034  # read by name: find_row and the stale-row check
QEMU_CANNOT_OPEN=(
	"5.2|zstd|compat_0.10+lazy_on|qcow2: unknown compression type: 1|refuses|^refused 8\$|lazy_refcounts=on requires compat=1.1|Debian's 5.2 is built without zstd (its qemu-img links no libzstd): it cannot open an image whose compression type is zstd. The tool refuses lazy_refcounts=on with a downgrade, as against every other release."
	"5.2|zstd|*|qcow2: unknown compression type: 1|amends|||Debian's 5.2 is built without zstd (its qemu-img links no libzstd): it cannot open an image whose compression type is zstd; 7.2, 10.0 and 11.1 open it and amend, and so does the tool."
	"5.2|zstd_comp|compat_0.10+lazy_on|qcow2: unknown compression type: 1|refuses|^refused 8\$|lazy_refcounts=on requires compat=1.1|as zstd: 5.2 cannot open it; the tool refuses lazy_refcounts=on with a downgrade."
	"5.2|zstd_comp|compat_0.10*|qcow2: unknown compression type: 1|refuses|^refused 6\$|image uses a v3-only incompatible feature|as zstd: 5.2 cannot open it; the tool refuses the downgrade of zstd-compressed clusters, as the other releases do."
	"5.2|zstd_comp|*|qcow2: unknown compression type: 1|amends|||as zstd: 5.2 cannot open it; the other releases and the tool amend."
)

# ---------------------------------------------------------------------
tool_arg=""
qemu_rel=""
only_transitions=""
only_kinds=""
images=""
jobs=""
while [ $# -gt 0 ]; do
	case $1 in
	--tool) tool_arg=$2; shift 2 ;;
	--qemu) qemu_rel=$2; shift 2 ;;
	--images) images=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--selfcheck) DIFF_SELFCHECK=1; shift ;;
	--transitions) only_transitions=$2; shift 2 ;;
	--kinds) only_kinds=$2; shift 2 ;;
	--run-case) shift; RUN_CASE_MODE=1; break ;;
	*) echo "differential: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

# release_in RELEASES: does a table row's releases field hold $REL?
release_in() { [ "$1" = "*" ] || [[ ",$1," == *",$REL,"* ]]; }

# find_row TABLE: the first row of TABLE (an array name) that holds for
# this release, kind and transition. Sets ROW (its fields after the glob)
# and ROW_ID (TABLE#index); returns 1 if there is none.
find_row() {
	local -n tab=$1
	local i rel k p rest
	ROW="" ROW_ID=""
	for i in "${!tab[@]}"; do
		IFS='|' read -r rel k p rest <<<"${tab[i]}"
		release_in "$rel" || continue
		# shellcheck disable=SC2053  # p is a glob on purpose
		if [ "$k" = "$kind" ] && [[ $tname == $p ]]; then
			ROW=$rest ROW_ID="$1#$i"
			return 0
		fi
	done
	return 1
}

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
	# snapshots_kept DIR: every internal snapshot of the original reads
	# the same in DIR/img.qcow2 (raw conversions compared).
	snapshots_kept() {
		local sn rc=0
		for sn in $("$QIMG" snapshot -l "$orig/img.qcow2" 2>/dev/null | awk 'NR > 2 { print $2 }'); do
			"$QIMG" convert -O raw -l "snapshot.name=$sn" "$orig/img.qcow2" "$cdir/snap-o.raw" >>"$log" 2>&1 &&
				"$QIMG" convert -O raw -l "snapshot.name=$sn" "$cdir/$1/img.qcow2" "$cdir/snap-n.raw" >>"$log" 2>&1 &&
				cmp "$cdir/snap-o.raw" "$cdir/snap-n.raw" >>"$log" 2>&1 || rc=1
			rm -f "$cdir/snap-o.raw" "$cdir/snap-n.raw"
		done
		return $rc
	}
	norm() { sed -e "s#$cdir/[ab]#CASEDIR#g" -e '/^ *disk size:/d' -e '/"actual-size":/d' \
		-e '/^    file length:/d' -e '/^                "virtual-size":/d'; }

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

	# The table rows for this case; entry names the one that made it a
	# known divergence (for the stale-row check).
	local reason="" want="" re1 re2 entry=""
	local known_id="" broken="" broken_id="" cannot="" cannot_id="" co_q co_do
	if [ "${DIFF_SELFCHECK:-0}" != 1 ] && find_row KNOWN_DIVERGENCES; then
		IFS='|' read -r re1 re2 reason <<<"$ROW"
		want="$re1|$re2" known_id=$ROW_ID
		echo "divergence entry: $ROW_ID" >>"$log"
	fi
	if [ $qa_rc -eq 0 ] && find_row QEMU_BROKEN; then
		broken=$ROW broken_id=$ROW_ID
	fi
	if [ "${DIFF_SELFCHECK:-0}" != 1 ] && find_row QEMU_CANNOT_OPEN; then
		IFS='|' read -r co_q co_do re1 re2 cannot <<<"$ROW"
		cannot_id=$ROW_ID
		echo "cannot-open entry: $ROW_ID" >>"$log"
	fi

	if [ $tb_rc -ne 0 ] && [ $tb_rc -ne 1 ]; then
		status=FAIL; outcome=tool-error
		msg="tool exited $tb_rc (not 0 = success / 1 = refusal): $tb_out"
	elif [ -n "$cannot" ]; then
		outcome=qemu-cannot-open
		local fails=()
		if [ $qa_rc -eq 0 ] || ! grep -Eq -- "$co_q" <<<"$qa_out"; then
			fails+=("STALE QEMU_CANNOT_OPEN entry: qemu-img $REL did not fail with /$co_q/ (rc $qa_rc: $qa_out)")
		fi
		if [ "$co_do" = amends ] && [ $tb_rc -eq 0 ]; then
			b_untouched 0 || fails+=("b/ changed outside the header cluster")
			if [[ $tb_out == *noop* || $tb_out == *"No change."* ]] && ! b_untouched 1; then
				fails+=("the tool reported a no-op but changed the file")
			fi
		elif [ "$co_do" = refuses ] && [ $tb_rc -eq 1 ] && grep -Eq -- "$re1|$re2" <<<"$tb_out"; then
			b_untouched 1 || fails+=("the refusing tool changed b/")
		else
			fails+=("QEMU_CANNOT_OPEN says the tool $co_do${re1:+ (/$re1|$re2/)}, but it exited $tb_rc: $tb_out")
		fi
		if [ ${#fails[@]} -eq 0 ]; then
			status=DIVERGE entry=$cannot_id
			msg="qemu-img $REL cannot open the image ($cannot); the tool $co_do as listed"
		else
			status=FAIL
			msg=$(IFS=';'; echo "${fails[*]}")
		fi
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
			status=DIVERGE entry=$broken_id
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
			status=DIVERGE entry=$known_id
			msg="known divergence: $reason"
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
			elif [ "${DIFF_SELFCHECK:-0}" = 1 ] && [ $cb_rc -eq $ca_rc ]; then
				# e.g. a zero cluster shared with a snapshot: qemu-img's
				# downgrade sets OFLAG_COPIED on it (EXPANDING_KINDS).
				echo "selfcheck: qemu-img check finds errors in both of qemu-img's results alike (rc $cb_rc)" >>"$log"
			else
				fails+=("qemu-img check of b exited $cb_rc (a: $ca_rc)")
			fi
		fi
		if ! compare_imgs a b; then
			fails+=("qemu-img compare: guest-visible content of a and b differs")
		fi
		if [[ $kind =~ $EXPANDING_KINDS && $oargs == *compat=0.10* ]]; then
			if [ "${DIFF_SELFCHECK:-0}" != 1 ] && b_untouched 0; then
				fails+=("b/ unchanged outside the header cluster: the zero clusters were not expanded")
			fi
			if [ "${DIFF_SELFCHECK:-0}" = 1 ]; then
				snapshots_kept b || echo "selfcheck: a snapshot of b reads otherwise than the original's (qemu-img's own behaviour)" >>"$log"
			else
				snapshots_kept b || fails+=("a snapshot of b reads otherwise than the original's")
			fi
			snapshots_kept a || echo "note: a snapshot of qemu-img's result a reads otherwise than the original's" >>"$log"
		elif ! b_untouched 0; then
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
	printf 'status %s\noutcome %s\nhdr_identical %s\nentry %s\nmsg %s\n' \
		"$status" "$outcome" "$hdr_ident" "${entry:--}" "$msg" >"$res"
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
scratch=${TEST_TMPDIR:-$(mktemp -d)}
WORK="$scratch/cases"
RES="$scratch/results"
rm -rf "$WORK" "$RES"
mkdir -p "$WORK" "$RES"
# One testcase per case (tests/lib/junit.sh); a set-up failure is one too.
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-$here/../lib/junit.sh}"
junit_init differential "$scratch"
fatal() {
	echo "differential: FATAL: $*" >&2
	junit_case "set-up" fail "$*" 0 "" differential.setup 2>/dev/null
	junit_finish >/dev/null
	exit 1
}

# The qemu-img release: a missing oracle, or another release than the
# one asked for, fails the run. (Each case inherits QIMG and REL.)
if [ -n "$qemu_rel" ]; then
	QIMG=${INSTAR_ORACLES:-/var/cache/instar-oracles}/bin/qemu-img-$qemu_rel
else
	QIMG=${QEMU_IMG:-qemu-img}
fi
if [ -n "$qemu_rel" ] && [ ! -x "$QIMG" ]; then
	fatal "ORACLE MISSING: $QIMG (qemu-img $qemu_rel) is not there: run scripts/install-oracles.sh"
fi
command -v "$QIMG" >/dev/null 2>&1 || fatal "qemu-img not found ($QIMG)"
qemu_version=$("$QIMG" --version 2>&1 | head -1)
REL=$(sed -n 's/^qemu-img version \([0-9]*\.[0-9]*\)[.+ ].*/\1/p' <<<"$qemu_version")
[ -n "$REL" ] || fatal "$QIMG --version does not name a release: $qemu_version"
if [ -n "$qemu_rel" ] && [ "$REL" != "$qemu_rel" ]; then
	fatal "$QIMG is qemu-img $REL, not $qemu_rel ($qemu_version): run scripts/install-oracles.sh"
fi

if [ -n "${AMEND_CMD:-}" ]; then
	:
elif [ -n "$tool_arg" ]; then
	AMEND_CMD=$tool_arg
elif [ "${DIFF_SELFCHECK:-0}" = 1 ]; then
	AMEND_CMD="$QIMG amend"
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
command -v "$first" >/dev/null 2>&1 || fatal "tool '$first' not found"

if [ -z "$images" ]; then
	images="$scratch/images"
	gen=${MAKE_IMAGES:-$here/../images/make_images.sh}
	t0=$(date +%s.%N)
	# The same input images for every release: the generator uses the
	# system's qemu-img/qemu-io, never the release under test.
	if ! env -u QEMU_IMG -u QEMU_IO bash "$gen" "$images" >"$scratch/make_images.log" 2>&1; then
		fatal "image generator failed: $(cat "$scratch/make_images.log")"
	fi
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "differential: images built in %.1fs\n", b-a}'
fi
IMAGES=$(cd "$images" && pwd)
[ -s "$IMAGES/MANIFEST" ] || fatal "no MANIFEST in $IMAGES"
jobs=${jobs:-$(( $(nproc) + 1 ))}

echo "differential: tool: $AMEND_CMD"
if [ "${DIFF_SELFCHECK:-0}" = 1 ]; then
	echo "differential: SELF-CHECK MODE: byte-untouched checks of b/ and the divergence tables are OFF"
fi
echo "differential: qemu: $qemu_version ($QIMG; the rows for release $REL apply)"

export AMEND_CMD QIMG REL WORK RES IMAGES DIFF_SELFCHECK
# Case list: kind<TAB>tname<TAB>oargs
caselist="$scratch/cases.txt"
skiplist="$scratch/skipped.txt"
: >"$caselist"
: >"$skiplist"
while IFS=$'\t' read -r kind _ cs _; do
	if [ -n "$only_kinds" ] && ! [[ $kind =~ $only_kinds ]]; then
		continue
	fi
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
# Aggregate: one testcase per case.
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

# Every table row that holds for this release must still describe
# something: a KNOWN_DIVERGENCES, QEMU_BROKEN or QEMU_CANNOT_OPEN row that
# made no case a known divergence is stale. A row no case of this run
# would consult (find_row) is out of its reach when DIFF_ONLY,
# --transitions or --kinds narrow the run, and stale in a whole run.
if [ "${DIFF_SELFCHECK:-0}" != 1 ]; then
	declare -A used=() reach=()
	while IFS=$'\t' read -r kind tname _ _; do
		e=$(sed -n 's/^entry //p' "$RES/$kind@$tname" 2>/dev/null)
		[ -z "$e" ] || [ "$e" = - ] || used[$e]=1
		for table in KNOWN_DIVERGENCES QEMU_BROKEN QEMU_CANNOT_OPEN; do
			! find_row "$table" || reach[$ROW_ID]=1
		done
	done <"$caselist"
	nout=0
	for table in KNOWN_DIVERGENCES QEMU_BROKEN QEMU_CANNOT_OPEN; do
		declare -n tab=$table
		for i in "${!tab[@]}"; do
			IFS='|' read -r rel k p _ <<<"${tab[i]}"
			release_in "$rel" || continue
			name="table entry $table $rel|$k|$p is used"
			if [ -n "${used[$table#$i]:-}" ]; then
				junit_case "$name" pass "" 0 "" differential.tables
			elif [ -z "${reach[$table#$i]:-}" ] && [ -n "${DIFF_ONLY:-}$only_transitions$only_kinds" ]; then
				nout=$((nout + 1))
			else
				nfail=$((nfail + 1))
				junit_case "$name" fail \
					"STALE table entry: with qemu-img $REL no case diverges as '$rel|$k|$p' says" 0 "" differential.tables 2>/dev/null
				echo "FAIL table entry $table $rel|$k|$p: no case diverges as it says with qemu-img $REL (stale entry)" >>"$failures_txt"
			fi
		done
		unset -n tab
	done
	[ "$nout" -eq 0 ] || echo "differential: $nout table rows for $REL are out of reach of this narrowed run (not checked)"
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
