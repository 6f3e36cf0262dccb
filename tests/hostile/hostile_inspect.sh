# hostile_inspect.sh — the `instar info` / `instar check` half of
# hostile_test.sh, which sources it: every image of the hostile corpus
# goes through five read-only runs, each one JUnit testcase:
#   info                                (the default release, 11.1)
#   info --output=json
#   check
#   check --qemu-compat 5.2             (5.2 aborts on an assertion: 134)
#   info --output=json --qemu-compat R  (R: the system qemu-img's release)
# Each run must
#   - end by an exit, not by a signal (a crash: `signal_N`);
#   - end within $INSPECT_TIMEOUT s (`timeout`; the slowest image of the
#     corpus takes under a second);
#   - leave no sanitizer report on stderr (`sanitizer`; the
#     --config=asan build);
#   - exit with a status its command documents (`exit_N`): info 0 or 1,
#     check 0, 1, 2, 3 or 63, and 134 only with --qemu-compat 5.2, where
#     instar exits 134 as qemu-img 5.2 died of its assertion
#     (docs/check.md; src/cli/check_print.c, EXIT_ABORTED) — an exit, told
#     from a death by SIGABRT by how_ended below (bash's $? is 134 for both);
#   - leave the image file byte-identical, its mtime and ctime unchanged
#     (`written`: info and check never write);
#   - print something, on stdout or stderr (`silent`).
# The last run is held to `qemu-img info --output=json` on the same file:
# where qemu-img reads the image, instar must print the same bytes
# (`differs_from_qemu`) or refuse it for one of its documented reasons
# (refusal_on_purpose: docs/info.md, "Where instar differs from qemu-img";
# `refused_qemu_reads` otherwise); where qemu-img refuses it, instar must
# refuse it too (`shown_qemu_refuses`). JSON, not the human output: the
# human output escapes control bytes of names on purpose, JSON is
# qemu-img's byte for byte. qemu-img's refusal messages are not compared
# (the sandbox's words differ where instar refuses by name; the wording of
# qemu-img's messages is tests/inspect's to hold, on crafted images);
# where qemu-img crashes (3 images with 7.2), instar may answer as it likes.
#
# Trusts: perl (how_ended), timeout, stat, cmp, sync, qemu-img, and
# same_file.py for the sparse images. Needs from hostile_test.sh:
# INSTAR, CORPUS, WORK, HERE, QEMU_RELEASE, sanitizer_report.
# shellcheck shell=bash

INSPECT_TIMEOUT=30
export INSPECT_TIMEOUT

# how_ended FILE CMD...: runs CMD and writes to FILE how it ended,
# `exit N` or `signal N` (perl's $? is the wait status).
how_ended() {
	# shellcheck disable=SC2016 # a perl program: its $ are perl's
	perl -e 'open(my $f, ">", shift) or die "how_ended: $!\n";
		system { $ARGV[0] } @ARGV;
		print $f ($? == -1 ? "exit 127" : $? & 127 ? "signal " . ($? & 127)
			: "exit " . ($? >> 8)), "\n";' "$@"
}
# The refusals of instar info that are on purpose where qemu-img reads
# the image (docs/info.md; the words of src/cli/messages.c, msg_inspect,
# and src/cli/qemu_messages.c): other formats, LUKS. Reads stdin.
refusal_on_purpose() {
	head -1 | grep -Eq "^instar info: '.*' is (a [a-z0-9]+ image: instar reads only qcow2 and raw images \(not supported yet\)|encrypted with LUKS: instar does not read LUKS images yet \(not supported\))$"
}

# What a run must not change: the run copy's times, and its bytes (the
# original's; holes included for a sparse image: the copy's digest
# before the runs, same_file.py, since cp makes holes of its own).
file_times() { stat -c '%y %z' "$1"; }
same_bytes() {   # uses orig, img, cat, digest from inspect_image
	if [ "$cat" = sparse ]; then
		[ "$(python3 "$HERE/same_file.py" "$img")" = "$digest" ]
	else
		cmp -s "$orig" "$img"
	fi
}
# A fresh run copy of the original; sets times and digest. Synced: ext4
# allocates a new file's blocks at writeback, and st_blocks (info's disk
# size) could change between instar's run and qemu-img's (seen once in
# 5035 runs: actual-size 225280 against 229376); tests/inspect syncs its
# corpus for the same reason.
fresh_copy() {
	rm -f "$img"
	cp --sparse=always "$orig" "$img"
	sync "$img"
	times=$(file_times "$img")
	digest=""
	[ "$cat" != sparse ] || digest=$(python3 "$HERE/same_file.py" "$img")
}

# One run of instar on $img: `instar ARGS... $img`. Sets ok, outcome,
# detail and rc. Uses orig, img, cat, times from inspect_image.
inspect_run() {   # ALLOWED-EXITS ARGS...
	local allowed=" $1 " how=""
	shift
	: >"$img.how"   # (no stale answer)
	how_ended "$img.how" timeout -k 2 "$INSPECT_TIMEOUT" \
		"$INSTAR" "$@" "$img" >"$img.out" 2>"$img.err"
	read -r how rc <"$img.how"
	ok=FAIL
	# The start of stderr, read by bash itself: thousands of runs, so
	# the fewer processes the better.
	IFS= read -r -N 600 detail <"$img.err"
	detail=${detail//"$img"/IMAGE}
	if [ -z "$how" ]; then
		outcome=no_verdict; detail="how_ended recorded nothing"
	elif [ -s "$img.err" ] && sanitizer_report "$img.err"; then
		outcome=sanitizer
		detail=$(grep -m3 -e 'ERROR' -e 'runtime error' -e 'SUMMARY' "$img.err" | tr '\n\t' '  ')
	elif [ "$how" = signal ]; then
		outcome="signal_$rc"
	elif [ "$rc" -eq 124 ]; then
		outcome=timeout; detail="no answer in $INSPECT_TIMEOUT s"
	elif [[ $allowed != *" $rc "* ]]; then
		outcome="exit_$rc"
	elif [ "$(file_times "$img")" != "$times" ]; then
		outcome=written; detail="mtime or ctime changed: $times -> $(file_times "$img")"
	elif ! same_bytes; then
		outcome=written; detail="the bytes changed"
	elif [ ! -s "$img.out" ] && [ ! -s "$img.err" ]; then
		outcome=silent; detail="exit $rc with nothing on stdout or stderr"
	else
		ok=PASS
		case $1:$rc in
		info:0) outcome=shown; detail="" ;;
		info:1) outcome=refused ;;
		check:0) outcome=clean; detail="" ;;
		check:1) outcome=check_failed ;;
		check:2) outcome=corrupt ;;
		check:3) outcome=leaks ;;
		check:63) outcome=no_check ;;
		check:134) outcome=aborted_as_qemu_5.2 ;;
		esac
	fi
	[ "$outcome" != written ] || fresh_copy   # for the next run
}

# The last run against qemu-img info (the header comment); only for a
# run that passed. Reads $img.out and rc; sets ok, outcome, detail.
against_qemu() {
	local qrc
	# (bash's own word on a crash of qemu-img, to /dev/null.)
	{ timeout 60 qemu-img info --output=json "$img" >"$img.qout" 2>"$img.qerr"; } 2>/dev/null
	qrc=$?
	if [ "$qrc" -ne 0 ] && [ "$qrc" -ne 1 ]; then
		outcome="${outcome}_qemu_crashes"
		detail="qemu-img info: exit $qrc: $(head -c 200 "$img.qerr" | tr '\n\t' '  ')"
	elif [ "$qrc" -eq 0 ] && [ "$rc" -eq 0 ]; then
		if cmp -s "$img.qout" "$img.out"; then
			outcome=same_as_qemu
		else
			ok=FAIL; outcome=differs_from_qemu
			detail=$(diff "$img.qout" "$img.out" | head -6 | tr '\n\t' '  ')
		fi
	elif [ "$qrc" -eq 0 ]; then
		if refusal_on_purpose <"$img.err"; then
			outcome=refused_on_purpose
		else
			ok=FAIL; outcome=refused_qemu_reads
			detail="$detail (qemu-img info reads it)"
		fi
	elif [ "$rc" -eq 0 ]; then
		ok=FAIL; outcome=shown_qemu_refuses
		detail="qemu-img info: $(head -c 300 "$img.qerr" | tr '\n\t' '  ')"
	else
		outcome=refused_as_qemu
	fi
}

# Every run on one image: prints a result row per run,
# `name<TAB>category<TAB>command<TAB>PASS|FAIL<TAB>outcome<TAB>detail`.
inspect_image() {   # NAME CATEGORY
	local name=$1 cat=$2
	local orig="$CORPUS/$name" img="$WORK/inspect.$BASHPID.img"
	local ok outcome detail rc times digest run what allowed
	fresh_copy
	for run in "0 1:info" "0 1:info --output=json" "0 1 2 3 63:check" \
			"0 1 2 3 63 134:check --qemu-compat 5.2" \
			"0 1:info --output=json --qemu-compat $QEMU_RELEASE"; do
		allowed=${run%%:*} what=${run#*:}
		outcome="" detail=""
		# shellcheck disable=SC2086 # $what is the command's words
		inspect_run "$allowed" $what
		if [ "$ok" = PASS ] && [ "$what" = "info --output=json --qemu-compat $QEMU_RELEASE" ]; then
			against_qemu
		fi
		# A harness error (a function missing, a command failing) leaves
		# no outcome: that is a failure, never a pass.
		[ -n "$outcome" ] || { ok=FAIL; outcome=no_verdict; }
		detail=${detail//[$'\t\n']/ }
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$cat" "$what" "$ok" \
			"$outcome" "${detail:0:600}"
	done
	rm -f "$img" "$img".*
}
export -f how_ended refusal_on_purpose file_times same_bytes fresh_copy inspect_run \
	against_qemu inspect_image
