#!/usr/bin/env bash
# cli_test.sh — end-to-end tests of the real `instar` binary.
#
# Every image is made here with qemu-img / qemu-io (plus a few byte pokes
# into the header) under $TEST_TMPDIR. Each check is one JUnit testcase
# in $XML_OUTPUT_FILE (written by tests/lib/junit.sh; what
# tests/count_results.py counts; $ROOT/test.xml outside Bazel).
#
# What is checked: every flag form, every usage error (exit 2, exact
# `instar amend: MESSAGE` on stderr, nothing on stdout, file untouched),
# every refusal that can be provoked (exit 1, exact message, the image
# byte-identical and its mtime unchanged), the success outputs (human,
# -q, JSON exactly as the spec prints it, JSON escaping of file names),
# no-ops writing nothing, file errors (missing, directory, FIFO, no write
# permission, read-only file system), image locking (qemu-nbd, a second
# instar, qemu-img), a header changed behind instar's back, a failing
# write, and /dev/kvm missing or not accessible.
#
# Needs: root (namespaces, setpriv, bind mounts), /dev/kvm, qemu-img,
# qemu-io, qemu-nbd, strace, python3, util-linux (unshare, setpriv,
# prlimit).
#
# Usage: cli_test.sh PATH/TO/instar          (Bazel passes $(location))
#        INSTAR=PATH/TO/instar cli_test.sh
# CLI_ONLY=REGEX runs only the cases whose name matches (development).
set -uo pipefail
export LC_ALL=C TZ=UTC

INSTAR=${1:-${INSTAR:-}}
if [ -z "$INSTAR" ] || [ ! -x "$INSTAR" ]; then
	echo "cli_test: usage: cli_test.sh PATH/TO/instar" >&2
	exit 2
fi
INSTAR=$(readlink -f "$INSTAR")

ROOT=${TEST_TMPDIR:-$(mktemp -d)}/cli_test
rm -rf "$ROOT"
mkdir -p "$ROOT"
ROOT=$(readlink -f "$ROOT")
BASE=$ROOT/base          # pristine images, never handed to instar
RES=$ROOT/results        # one file per case: status + message
mkdir -p "$BASE" "$RES"

# mtime given to every image before instar runs on it: any write moves it.
OLD_MTIME=981173106      # 2001-02-03 04:05:06 UTC

# The sanitizer build says so in its policy listing.
ASAN=0
if "$INSTAR" seccomp 2>/dev/null | head -1 | grep -q 'policy_sanitizer'; then
	ASAN=1
fi

# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-tests/lib/junit.sh}" || { echo "cli_test: cannot source junit.sh" >&2; exit 2; }
junit_init cli_test "$ROOT"

PIDS_TO_KILL=()
cleanup() {
	for p in "${PIDS_TO_KILL[@]}"; do
		kill "$p" 2>/dev/null
	done
}
trap cleanup EXIT

# ---------------------------------------------------------------------
# Case machinery. A case is a shell function run in a subshell inside
# its own directory; fail/skip record into files the parent reads back.

CASE_NAMES=()
fail() { printf '%s\n' "$*" >>"$CASE_DIR/.fail"; }
skip() {
	printf '%s\n' "$*" >>"$CASE_DIR/.skip"
	echo "cli_test: !!! SKIPPED $CASE_NAME: $*" >&2
}
# Show a file for a failure message: printable, bounded.
show() { head -c 1500 "$1" | cat -A; }

tc() {
	local name=$1
	shift
	if [ -n "${CLI_ONLY:-}" ] && [ "$name" != setup_base_images ] && ! [[ $name =~ $CLI_ONLY ]]; then
		return
	fi
	CASE_NAMES+=("$name")
	local dir="$ROOT/case/$name" t0 t1
	mkdir -p "$dir"
	t0=$(date +%s.%N)
	(
		CASE_DIR=$dir CASE_NAME=$name
		cd "$dir" || exit 1
		"$@"
	) >"$dir/.log" 2>&1
	local rc=$?
	t1=$(date +%s.%N)
	[ "$rc" -eq 0 ] || echo "the case function itself exited $rc" >>"$dir/.fail"
	local status=PASS
	if [ -s "$dir/.fail" ]; then
		status=FAIL
	elif [ -s "$dir/.skip" ]; then
		status=SKIP
	fi
	printf "%s %s\n" "$status" "$(awk -v a="$t0" -v b="$t1" "BEGIN{printf \"%.3f\", b-a}")" >"$RES/$name"
	case $status in
	PASS) echo "PASS $name" ;;
	SKIP) echo "SKIP $name: $(cat "$dir/.skip")" ;;
	FAIL) echo "FAIL $name"; sed 's/^/    /' "$dir/.fail" ;;
	esac
}

# run ARGS... : run instar; stdout -> ./out, stderr -> ./err, status -> RC.
# stdin is /dev/null and a timeout guards against hangs (FIFO case).
run() {
	timeout -k 5 20 "$INSTAR" "$@" </dev/null >out 2>err
	RC=$?
}

want_rc() { [ "$RC" = "$1" ] || fail "exit status $RC, want $1 (stderr: $(show err))"; }
want_out() {
	printf '%s\n' "$1" >want_out
	cmp -s want_out out || fail "stdout is '$(show out)', want '$(show want_out)'"
}
want_no_out() { [ ! -s out ] || fail "stdout not empty: '$(show out)'"; }
want_no_err() { [ ! -s err ] || fail "stderr not empty: '$(show err)'"; }
# want_err MSG: stderr is exactly "instar amend: MSG\n".
want_err() {
	printf 'instar amend: %s\n' "$1" >want_err
	cmp -s want_err err || fail "stderr is '$(show err)', want '$(show want_err)'"
}

# fresh KIND [NAME]: copy base image KIND here (as NAME), old mtime.
fresh() {
	local dst=${2:-$1}
	cp --sparse=always "$BASE/$1" "$dst" || fail "cannot copy base image $1"
	touch -d "@$OLD_MTIME" "$dst"
}
# untouched FILE KIND: byte-identical to the base image and not written.
untouched() {
	cmp -s "$1" "$BASE/$2" || fail "'$1' was modified: $(cmp "$1" "$BASE/$2" 2>&1 | head -1)"
	local m
	m=$(stat -c %Y "$1")
	[ "$m" = "$OLD_MTIME" ] || fail "'$1' mtime changed ($m): it was written"
}
written() {
	local m
	m=$(stat -c %Y "$1")
	[ "$m" != "$OLD_MTIME" ] || fail "'$1' mtime unchanged: it was not written"
}
# state FILE -> "COMPAT LAZY" as qemu-img reads it, e.g. "1.1 false".
state() {
	qemu-img info -U --output=json "$1" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)["format-specific"]["data"]
print(d["compat"], str(d.get("lazy-refcounts", False)).lower())'
}
want_state() {
	local s
	s=$(state "$1")
	[ "$s" = "$2" ] || fail "qemu-img info of '$1': compat/lazy '$s', want '$2'"
}
want_clean() {
	qemu-img check -q "$1" >check.out 2>&1 || fail "qemu-img check '$1' not clean: $(show check.out)"
}
# outside_c0_same FILE KIND CLUSTER: nothing changed after cluster 0.
outside_c0_same() {
	cmp -s -i "$3:$3" "$1" "$BASE/$2" || fail "'$1' changed outside the header cluster"
}

# usage CASE: a usage error must give exit 2, nothing on stdout, the
# exact message, and never touch the image named with it.
usage() {
	local msg=$1
	shift
	fresh v2 img.qcow2
	run amend "$@"
	want_rc 2
	want_no_out
	want_err "$msg"
	untouched img.qcow2 v2
}
# refused KIND MSG ARGS...: the image (appended as last argument) is
# refused with exit 1 and MSG, nothing on stdout, file untouched.
refused() {
	local kind=$1 msg=$2
	shift 2
	fresh "$kind" img
	run amend "$@" img
	want_rc 1
	want_no_out
	want_err "$msg"
	untouched img "$kind"
}

json_expect() { # FILENAME_AS_JSON ACTION COMPAT LAZY
	printf '{\n  "filename": "%s",\n  "format": "qcow2",\n  "action": "%s",\n  "compat": "%s",\n  "lazy_refcounts": "%s"\n}\n' "$@"
}

# ---------------------------------------------------------------------
# The messages (src/cli/messages.c; those the spec quotes are verbatim).
M_NOT_QCOW2='only qcow2 images can be amended'
M_DOWN_FEATURE='cannot downgrade to compat=0.10: image uses a v3-only incompatible feature (compression, extended L2, external data, or is dirty/corrupt)'
M_DOWN_REFCOUNT='cannot downgrade to compat=0.10: image uses refcount_bits != 16 (v2 supports 16-bit refcounts only; rewriting the refcount tree is out of scope)'
M_LAZY_V3='lazy_refcounts=on requires compat=1.1 (lazy refcounts are a v3-only feature); upgrade with -o compat=1.1 first or in the same invocation'
M_DIRTY="the image is marked dirty (another writer may hold it open); run \`instar check\` first"
M_CORRUPT="the image is marked corrupt (its metadata is known to be inconsistent); run \`instar check\` to repair it first"
M_RELOC="this compat change would have to relocate a header extension, which is not yet supported; use \`qemu-img amend\`"
M_PARSE='the image header could not be parsed'
M_RETRY="the image's header changed between the host's pre-probe and the guest's read, or a guest write failed; retry, or run \`instar check\` if the image may be corrupt"
M_IOERR='I/O error writing the image header'
M_ENCRYPTED="encrypted qcow2 images are not supported: their header is only changed by \`qemu-img amend\` with the image's secret"
M_BITMAPS="cannot downgrade to compat=0.10: the image has persistent dirty bitmaps, which compat=0.10 cannot keep (QEMU would leave them inconsistent and their clusters leaked); remove them first with \`qemu-img bitmap --remove\`"
M_SNAPSIZE='cannot downgrade to compat=0.10: an internal snapshot has a different virtual size than the image, which compat=0.10 cannot record'
M_TABLES="the image's L1/L2 or snapshot tables are malformed (an entry is misaligned, points into the header cluster or past the end of the file)"
M_KVM_MISSING='/dev/kvm is not available: instar runs the image parser in a KVM guest; load the kvm module (kvm_intel or kvm_amd) or enable virtualisation'
M_KVM_PERM='permission denied opening /dev/kvm: run as root or add your user to the kvm group'
M_KVM_API="this kernel's KVM API is not one instar supports"
M_NOTHING='nothing to change: give at least one of -o compat=0.10|1.1 or -o lazy_refcounts=on|off'
M_NOFILE='no image file given (usage: instar amend -o KEY=VALUE[,...] FILE)'
M_EMPTY_PIECE='empty option in -o (a stray comma?): write KEY=VALUE[,KEY=VALUE...]'
m_locked() { echo "'$1' is in use by another process (QEMU, qemu-nbd or another instar holds its image lock); nothing was written"; }
m_unsupported() { echo "unsupported option '$1': instar amend supports only compat and lazy_refcounts (qemu-img amend options such as refcount_bits, data_file, backing_file and cluster_size are not supported)"; }

# ---------------------------------------------------------------------
# Base images.

poke() { # FILE OFFSET BYTES(printf escapes)
	printf '%b' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# add_ext FILE OFFSET TYPE LEN: write a header extension of LEN bytes of
# 'ab' at OFFSET, then the end marker (for the relocation case).
add_ext() {
	python3 - "$@" <<'EOF'
import struct, sys
path, off, typ, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 0), int(sys.argv[4])
data = (b"ab" * n)[:n] + b"\0" * ((-n) % 8)
with open(path, "r+b") as f:
    f.seek(off)
    f.write(struct.pack(">II", typ, n) + data + b"\0" * 8)
EOF
}

make_base() {
	cd "$BASE" || return 1
	local q="qemu-img create -q -f qcow2"
	local data="write -P 0xab 0 64k"
	$q -o compat=0.10 v2 64M && qemu-io -f qcow2 -c "$data" v2 >/dev/null &&
	$q -o compat=1.1 v3 64M && qemu-io -f qcow2 -c "$data" v3 >/dev/null &&
	$q -o compat=1.1,lazy_refcounts=on v3lazy 64M &&
	$q -o compression_type=zstd zstd 64M &&
	$q -o compression_type=zstd zstd_c 64M &&
	qemu-io -f qcow2 -c 'write -c -P 0x11 0 64k' zstd_c >/dev/null &&
	$q -o compression_type=zstd zstd_d 64M &&
	qemu-io -f qcow2 -c 'write -P 0x22 0 64k' zstd_d >/dev/null &&
	$q -o compat=1.1 snapsize 64M && qemu-io -f qcow2 -c "$data" snapsize >/dev/null &&
	qemu-img snapshot -c s1 snapsize && qemu-img resize -q snapsize 128M &&
	$q -o compat=1.1 badl1 64M && qemu-io -f qcow2 -c "$data" badl1 >/dev/null &&
	$q -o extended_l2=on el2 64M &&
	$q -o data_file=ext.raw extdata 64M &&
	$q -o refcount_bits=1 r1 64M &&
	$q -o refcount_bits=8 r8 64M &&
	$q -o refcount_bits=64 r64 64M &&
	$q -o compat=0.10,cluster_size=512 c512 64M &&
	$q -o compat=0.10,cluster_size=2M c2m 64M &&
	qemu-io -f qcow2 -c 'write -P 0xcd 2M 2M' c2m >/dev/null &&
	$q -o compat=0.10 tib 1T &&
	qemu-io -f qcow2 -c 'write -P 0xef 1023G 64k' tib >/dev/null &&
	$q -o compat=1.1 zero 64M && qemu-io -f qcow2 -c 'write -z 0 64k' zero >/dev/null &&
	$q -o compat=1.1 bitmap 64M && qemu-img bitmap --add bitmap b0 &&
	qemu-img create -q -f raw raw 1M &&
	qemu-img create -q -f vmdk vmdk 1M &&
	qemu-img create -q -f vpc vpc 1M &&
	qemu-img create -q -f vhdx vhdx 1M || return 1
	# Header pokes (qcow2 header: version @4, cluster_bits @20,
	# crypt_method @32, incompatible_features @72..79).
	cp v3 dirty && poke dirty 79 '\x01'
	cp v3 corrupt && poke corrupt 79 '\x02'
	cp v3 dirty_corrupt && poke dirty_corrupt 79 '\x03'
	cp v3lazy dirty_lazy && poke dirty_lazy 79 '\x01'
	cp v3 encrypted && poke encrypted 32 '\x00\x00\x00\x01'
	cp v2 bad_version && poke bad_version 4 '\x00\x00\x00\x07'
	cp v2 bad_cbits && poke bad_cbits 20 '\x00\x00\x00\x05'
	cp v2 big_cbits && poke big_cbits 20 '\x00\x00\x00\x16'
	printf 'QFI\xfb\x00\x00\x00\x03' >truncated
	: >empty
	printf 'this is a text file, not a disk image\n' >text
	# v2, 8 KiB clusters, a 7700-byte unknown extension: v3's feature
	# table no longer fits in the cluster (qemu-img fails there too).
	$q -o compat=0.10,cluster_size=8k reloc 64M && add_ext reloc 72 0x7a7a7a7a 7700
	# v3 whose first L1 entry points to an L2 table 512 bytes off its
	# cluster alignment (the L1 table of a fresh 64 KiB image is at 0x30000)
	python3 - badl1 <<'EOF2'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(40)
    l1 = struct.unpack(">Q", f.read(8))[0]
    f.seek(l1)
    e = struct.unpack(">Q", f.read(8))[0]
    f.seek(l1)
    f.write(struct.pack(">Q", e + 0x200))
EOF2
}

# ---------------------------------------------------------------------
# instar itself: top-level commands.

case_top_help() {
	local a
	for a in --help -h help; do
		run "$a"
		want_rc 0
		want_no_err
		grep -q '^Usage: instar <command>' out || fail "$a: no usage line: $(show out)"
		grep -q '^  amend ' out || fail "$a: 'amend' not listed"
		grep -q '^  seccomp ' out || fail "$a: 'seccomp' not listed"
	done
}
case_top_version() {
	local a
	for a in --version -V; do
		run "$a"
		want_rc 0
		want_no_err
		# The version and the source revision it was built from (the
		# stamp itself: //tests/dist:version_test).
		grep -Eqx 'instar [0-9]+\.[0-9]+\.[0-9]+ \((git [0-9a-f]{4,40}(-dirty)?|revision unknown)\)' out ||
			fail "$a: '$(show out)'"
	done
}
case_top_no_command() {
	run
	want_rc 2
	want_no_out
	grep -q '^Usage: instar <command>' err || fail "no usage on stderr: $(show err)"
}
case_top_unknown_command() {
	run frobnicate
	want_rc 2
	want_no_out
	printf '%s\n' "instar: unknown command 'frobnicate' (try instar --help)" >want_err
	cmp -s want_err err || fail "stderr '$(show err)'"
}
# The policy listing: the count in the first line is the number of rules
# listed, and the rules that make the sandbox work are there.
case_seccomp_listing() {
	run seccomp
	want_rc 0
	want_no_err
	local n m listed
	n=$(sed -n '1s/^instar seccomp policy: \([0-9]*\) rules from seccomp\/policy.txt.*/\1/p' out)
	m=$(sed -n '1s/.* + \([0-9]*\) from seccomp\/policy_sanitizer.txt.*/\1/p' out)
	[ -n "$n" ] || fail "first line: $(head -1 out)"
	listed=$(grep -cE '^(setup|always|write) ' out)
	[ "$listed" = "$((n + ${m:-0}))" ] || fail "header says $n+${m:-0} rules, $listed listed"
	grep -q '^default action: kill the process' out || fail "no default action line"
	grep -Eq '^setup +openat ' out || fail "no openat rule for /dev/kvm"
	grep -Eq '^always +ioctl .*KVM_RUN' out || fail "no KVM_RUN rule"
	grep -Eq '^write +pwrite64 .*image_fd' out || fail "pwrite64 not bound to the image fd or not amend-only"
	if grep -Eq '^[a-z]+ +(execve|socket|connect|ptrace) ' out; then
		fail "a dangerous syscall is allowed: $(grep -E '^[a-z]+ +(execve|socket|connect|ptrace) ' out)"
	fi
	if [ "$ASAN" = 1 ]; then
		[ -n "$m" ] || fail "sanitizer build without sanitizer rule count"
	else
		! grep -q sanitizer out || fail "shipped build lists sanitizer rules"
	fi
}
case_seccomp_pfc() {
	run seccomp --pfc
	want_rc 0
	want_no_err
	[ "$(grep -c '^# pseudo filter code start' out)" = 4 ] || fail "want 4 PFC filters"
	grep -q "^# amend's filter 1, installed by lockdown_apply()" out || fail "no filter 1 title"
	grep -q "^# amend's filter 2, stacked by lockdown_tighten()" out || fail "no filter 2 title"
	grep -q "^# info's and check's filter 1 (read-only" out || fail "no read-only filter 1 title"
	grep -q "^# info's and check's filter 2 (read-only" out || fail "no read-only filter 2 title"
	grep -q '^# filter for arch x86_64' out || fail "no x86_64 filter"
	head -1 out | grep -q '^instar seccomp policy:' || fail "--pfc does not start with the listing"
}
case_seccomp_errors() {
	run seccomp --help
	want_rc 0
	grep -q '^Usage: instar seccomp \[--pfc\]' out || fail "seccomp --help: $(show out)"
	run seccomp --bogus
	want_rc 2
	want_no_out
	printf '%s\n' "instar seccomp: unknown argument '--bogus'" >want_err
	cmp -s want_err err || fail "stderr '$(show err)'"
}

# ---------------------------------------------------------------------
# amend --help

case_amend_help() {
	run amend --help
	want_rc 0
	want_no_err
	cp out help.txt
	head -1 help.txt | grep -q '^Usage: instar amend ' || fail "no usage line"
	local w
	for w in '-f, --format' '-o, --options' '-q, --quiet' '--output <FORMAT>' \
		'--stats' '-h, --help' 'compat=0.10, compat=1.1,' 'lazy_refcounts=on|off' \
		'true|false, yes|no' 'Exit status:' '/dev/kvm'; do
		grep -qF -- "$w" help.txt || fail "--help does not mention '$w'"
	done
	run amend -h
	cmp -s out help.txt || fail "-h differs from --help"
	# --help wins wherever it is, even next to errors, and opens nothing.
	fresh v2 img
	run amend -o bogus=1 --frob img --help
	want_rc 0
	cmp -s out help.txt || fail "--help among bad arguments: $(show out)"
	untouched img v2
	# ...but after "--" it is a file name.
	run amend -o compat=1.1 -- --help
	want_rc 1
	want_err "cannot open '--help' for reading and writing: No such file or directory"
}

# ---------------------------------------------------------------------
# Flag forms: each must amend the image exactly like the plain form.

case_flag_forms() {
	local i=0 args
	while IFS= read -r args; do
		i=$((i + 1))
		fresh v2 "img$i"
		# shellcheck disable=SC2086  # the forms are word lists
		run amend $args "img$i"
		want_rc 0
		want_out "Image amended."
		want_no_err
		want_state "img$i" "1.1 false"
		cmp -s "img$i" img1 || fail "form '$args' gives other bytes than '-o compat=1.1'"
	done <<'EOF'
-o compat=1.1
-ocompat=1.1
--options compat=1.1
--options=compat=1.1
-f qcow2 -o compat=1.1
-fqcow2 -o compat=1.1
--format qcow2 -o compat=1.1
--format=qcow2 -o compat=1.1
--output human -o compat=1.1
--output=human -o compat=1.1
-o compat=1.1 -o compat=1.1
EOF
	# the file first, flags after it
	fresh v2 first
	run amend first -o compat=1.1
	want_rc 0
	want_out "Image amended."
	cmp -s first img1 || fail "file-first form differs"
}
case_flag_double_dash() {
	fresh v2 ./-dash.qcow2
	run amend -o compat=1.1 -- -dash.qcow2
	want_rc 0
	want_out "Image amended."
	want_state ./-dash.qcow2 "1.1 false"
}
case_options_comma_vs_repeat() {
	local f
	fresh v2 a
	run amend -o compat=1.1,lazy_refcounts=on a
	want_rc 0
	want_out "Image amended."
	want_state a "1.1 true"
	want_clean a
	for f in "-o compat=1.1 -o lazy_refcounts=on" "-o lazy_refcounts=on -o compat=1.1" \
		"-o lazy_refcounts=on,compat=1.1" "--options=lazy_refcounts=yes -ocompat=1.1"; do
		fresh v2 b
		# shellcheck disable=SC2086 # the forms are word lists
		run amend $f b
		want_rc 0
		want_out "Image amended."
		cmp -s a b || fail "'$f' differs from '-o compat=1.1,lazy_refcounts=on'"
	done
}
case_lazy_aliases() {
	local v
	for v in on true yes; do
		fresh v3 "on_$v"
		run amend -o "lazy_refcounts=$v" "on_$v"
		want_rc 0
		want_out "Image amended."
		want_state "on_$v" "1.1 true"
		want_clean "on_$v"
		cmp -s "on_$v" on_on || fail "lazy_refcounts=$v differs from =on"
	done
	for v in off false no; do
		fresh v3lazy "off_$v"
		run amend -o "lazy_refcounts=$v" "off_$v"
		want_rc 0
		want_out "Image amended."
		want_state "off_$v" "1.1 false"
		cmp -s "off_$v" off_off || fail "lazy_refcounts=$v differs from =off"
	done
}
case_quiet() {
	fresh v2 a
	run amend -q -o compat=1.1 a
	want_rc 0
	want_no_out
	want_no_err
	want_state a "1.1 false"
	touch -d "@$OLD_MTIME" a
	run amend --quiet -o compat=1.1 a
	want_rc 0
	want_no_out
	want_no_err
	# -q does not silence errors
	fresh dirty d
	run amend -q -o compat=0.10 d
	want_rc 1
	want_no_out
	want_err "$M_DIRTY"
}

# ---------------------------------------------------------------------
# Transitions and their results, as qemu-img sees them.

case_upgrade_v2_v3() {
	fresh v2 img
	run amend -o compat=1.1 img
	want_rc 0
	want_out "Image amended."
	want_no_err
	want_state img "1.1 false"
	want_clean img
	written img
	outside_c0_same img v2 65536
	# the result is what qemu-img amend makes of the same image
	fresh v2 q
	qemu-img amend -o compat=1.1 q || fail "qemu-img amend failed"
	cmp -s img q || fail "header differs from qemu-img amend's"
}
case_downgrade_v3_v2() {
	fresh v3 img
	run amend -o compat=0.10 img
	want_rc 0
	want_out "Image amended."
	want_no_err
	want_state img "0.10 false"
	want_clean img
	written img
	outside_c0_same img v3 65536
	fresh v3 q
	qemu-img amend -o compat=0.10 q || fail "qemu-img amend failed"
	cmp -s img q || fail "header differs from qemu-img amend's"
}
case_downgrade_drops_lazy() {
	fresh v3lazy img
	run amend -o compat=0.10 img
	want_rc 0
	want_out "Image amended."
	want_state img "0.10 false"
	want_clean img
	fresh v3lazy img2
	run amend -o compat=0.10,lazy_refcounts=off img2
	want_rc 0
	want_out "Image amended."
	cmp -s img img2 || fail "compat=0.10,lazy_refcounts=off differs from compat=0.10"
}
case_round_trip() {
	fresh v2 img
	run amend -o compat=1.1,lazy_refcounts=on img
	want_rc 0
	run amend -o lazy_refcounts=off img
	want_rc 0
	want_out "Image amended."
	run amend -o compat=0.10 img
	want_rc 0
	want_out "Image amended."
	cmp -s img "$BASE/v2" || fail "v2 -> v3+lazy -> v3 -> v2 is not the original"
}
case_cluster_512() {
	fresh c512 img
	run amend -o compat=1.1 img
	want_rc 0
	want_out "Image amended."
	want_state img "1.1 false"
	want_clean img
	outside_c0_same img c512 512
}
case_cluster_2m() {
	fresh c2m img
	run amend -o compat=1.1,lazy_refcounts=on img
	want_rc 0
	want_out "Image amended."
	want_state img "1.1 true"
	want_clean img
	outside_c0_same img c2m 2097152
	run amend -o compat=0.10 img
	want_rc 0
	want_out "Image amended."
	cmp -s img "$BASE/c2m" || fail "2 MiB round trip is not the original"
}
case_sparse_1tib() {
	fresh tib img
	run amend -o compat=1.1 img
	want_rc 0
	want_out "Image amended."
	want_state img "1.1 false"
	want_clean img
	outside_c0_same img tib 65536
	[ "$(stat -c %s img)" = "$(stat -c %s "$BASE/tib")" ] || fail "file size changed"
}

# ---------------------------------------------------------------------
# No-ops: "No change.", exit 0, nothing written (bytes and mtime).

case_noop() {
	local kind opts st
	while IFS='|' read -r kind opts st; do
		fresh "$kind" img
		run amend -o "$opts" img
		want_rc 0
		want_out "No change."
		want_no_err
		untouched img "$kind"
		want_state img "$st"
	done <<'EOF'
v3|compat=1.1|1.1 false
v2|compat=0.10|0.10 false
v2|lazy_refcounts=off|0.10 false
v3|lazy_refcounts=off|1.1 false
v3lazy|lazy_refcounts=on|1.1 true
v3lazy|compat=1.1,lazy_refcounts=yes|1.1 true
c2m|compat=0.10|0.10 false
EOF
}

# ---------------------------------------------------------------------
# JSON output.

case_json_amended() {
	fresh v2 img.qcow2
	run amend --output json -o compat=1.1,lazy_refcounts=on img.qcow2
	want_rc 0
	want_no_err
	json_expect img.qcow2 amended 1.1 on >want
	cmp -s want out || fail "got $(show out)"
	fresh v3lazy down.qcow2
	run amend --output=json -o compat=0.10 down.qcow2
	want_rc 0
	json_expect down.qcow2 amended 0.10 off >want
	cmp -s want out || fail "downgrade: got $(show out)"
}
# --output json and --output=json are the same flag: the same object.
case_json_output_forms() {
	local form
	for form in "--output json" "--output=json"; do
		fresh v2 img.qcow2
		# shellcheck disable=SC2086 # the form is a word list
		run amend $form -o compat=1.1 img.qcow2
		want_rc 0
		want_no_err
		json_expect img.qcow2 amended 1.1 off >want
		cmp -s want out || fail "$form: got $(show out)"
		# shellcheck disable=SC2086 # the form is a word list
		run amend $form -o compat=1.1 img.qcow2
		want_rc 0
		json_expect img.qcow2 noop 1.1 off >want
		cmp -s want out || fail "$form, no-op: got $(show out)"
	done
}
case_json_noop() {
	fresh v3 img.qcow2
	run amend --output=json -o compat=1.1 img.qcow2
	want_rc 0
	want_no_err
	json_expect img.qcow2 noop 1.1 off >want
	cmp -s want out || fail "got $(show out)"
	untouched img.qcow2 v3
}
# -o help: qemu-img amend -o help's lines for the two keys, exit 0, no
# file opened (a missing one is fine; a given one is left untouched).
case_options_help() {
	local want='Amend options for '"'"'qcow2'"'"':
  compat=<str>           - Compatibility level (v2 [0.10] or v3 [1.1])
  lazy_refcounts=<bool (on/off)> - Postpone refcount updates'
	run amend -o help
	want_rc 0
	want_out "$want"
	want_no_err
	fresh v2 img.qcow2
	run amend -o 'compat=1.1,?' img.qcow2
	want_rc 0
	want_out "$want"
	untouched img.qcow2 v2
	# The same lines as qemu-img's own list, for these two keys.
	qemu-img amend -o help img.qcow2 2>&1 |
		grep -E "^Amend options|^  (compat|lazy_refcounts)=" >qemu_lines
	printf '%s\n' "$want" | cmp -s - qemu_lines ||
		fail "not qemu-img's lines: $(show qemu_lines)"
}

# Standard output that cannot take the answer (a full disk): exit 1 and
# a message, though the image was amended; -q prints nothing, so exit 0.
case_stdout_full() {
	fresh v2 img.qcow2
	timeout -k 5 20 "$INSTAR" amend -o compat=1.1 img.qcow2 </dev/null >/dev/full 2>err
	RC=$?
	want_rc 1
	want_err "cannot write to standard output: No space left on device"
	want_state img.qcow2 "1.1 false"
	fresh v2 q.qcow2
	timeout -k 5 20 "$INSTAR" amend -q -o compat=1.1 q.qcow2 </dev/null >/dev/full 2>err
	RC=$?
	want_rc 0
	want_no_err
	timeout -k 5 20 "$INSTAR" --help </dev/null >/dev/full 2>err
	RC=$?
	want_rc 1
	printf 'instar: cannot write to standard output: No space left on device\n' >want_err
	cmp -s want_err err || fail "--help: stderr is '$(show err)'"
}

# The filename is printed as given: relative, absolute, ./-prefixed.
case_json_filename_as_given() {
	mkdir -p sub
	fresh v2 sub/a.qcow2
	run amend --output json -o compat=1.1 ./sub/../sub/a.qcow2
	json_expect ./sub/../sub/a.qcow2 amended 1.1 off >want
	cmp -s want out || fail "relative: got $(show out)"
	run amend --output json -o compat=1.1 "$PWD/sub/a.qcow2"
	json_expect "$PWD/sub/a.qcow2" noop 1.1 off >want
	cmp -s want out || fail "absolute: got $(show out)"
}
# -q silences the human lines only: JSON is output, not chatter.
case_json_quiet() {
	fresh v2 img
	run amend -q --output json -o compat=1.1 img
	want_rc 0
	json_expect img amended 1.1 off >want
	cmp -s want out || fail "got $(show out)"
}
# File names that need JSON escapes: quote, backslash, newline, tab,
# other control bytes, DEL. The output must be exact and parse back to
# the name.
case_json_escapes() {
	local name=$'q"b\\n\nt\tc\001d\177e.qcow2'
	fresh v2 "$name"
	run amend --output json -o compat=1.1 "$name"
	want_rc 0
	json_expect 'q\"b\\n\nt\tc\u0001d\u007fe.qcow2' amended 1.1 off >want
	cmp -s want out || fail "got $(show out)"
	python3 -c '
import json, sys
d = json.load(open("out", encoding="utf-8"))
sys.exit(0 if d["filename"] == sys.argv[1] else 1)' "$name" || fail "does not parse back to the name"
}
case_json_utf8_name() {
	local name=$'caf\xc3\xa9-\xf0\x9f\x92\xbe.qcow2'
	fresh v2 "$name"
	run amend --output json -o compat=1.1 "$name"
	want_rc 0
	python3 -c '
import json, os, sys
d = json.loads(open("out", "rb").read().decode("utf-8"))
sys.exit(0 if d["filename"] == os.fsdecode(sys.argv[1].encode("utf-8", "surrogateescape")) else 1)' "$name" ||
		fail "valid UTF-8 name not kept: $(show out)"
}
# A name that is not valid UTF-8: JSON must still be valid UTF-8 (RFC
# 8259 §8.1); each invalid byte becomes U+FFFD, as a decoder replacing
# errors would read it.
case_json_invalid_utf8_name() {
	local name=$'bad\xff\xfe-\xc3.qcow2'
	fresh v2 "$name"
	run amend --output json -o compat=1.1 "$name"
	want_rc 0
	python3 - "$name" <<'EOF' || fail "stdout is not valid UTF-8 JSON with U+FFFD for the bad bytes: $(show out)"
import json, os, sys
raw = open("out", "rb").read()
try:
    text = raw.decode("utf-8")          # strict: invalid UTF-8 fails here
except UnicodeDecodeError as e:
    print("not UTF-8:", e)
    sys.exit(1)
d = json.loads(text)
want = os.fsencode(sys.argv[1]).decode("utf-8", "replace")
sys.exit(0 if d["filename"] == want else 1)
EOF
}

# ---------------------------------------------------------------------
# Usage errors: exit 2, exact message, nothing on stdout, image untouched.

case_usage_no_args() { usage "$M_NOTHING"; }
case_usage_no_options() { usage "$M_NOTHING" img.qcow2; }
case_usage_no_file() { usage "$M_NOFILE" -o compat=1.1; }
case_usage_extra_arg() {
	usage "unexpected extra argument 'other': give exactly one image file" -o compat=1.1 img.qcow2 other
}
case_usage_unknown_flag() {
	local f
	for f in -x --frob --quiet=yes -qo --format-x --outputs; do
		usage "unknown flag '$f' (see instar amend --help)" -o compat=1.1 "$f" img.qcow2
	done
}
case_usage_missing_value() {
	local f
	for f in -o --options -f --format --output; do
		usage "flag '$f' needs a value" img.qcow2 "$f"
	done
}
case_usage_bad_output() {
	local v
	for v in xml JSON ''; do
		usage "invalid --output value '$v': use human or json" --output="$v" -o compat=1.1 img.qcow2
	done
	usage "invalid --output value 'yaml': use human or json" --output yaml -o compat=1.1 img.qcow2
}
case_usage_unknown_format() {
	local v
	for v in foo QCOW2 qcow3; do
		usage "unknown format '$v': instar amend accepts only -f qcow2" -f "$v" -o compat=1.1 img.qcow2
	done
	usage "unknown format 'x': instar amend accepts only -f qcow2" --format=x -o compat=1.1 img.qcow2
}
case_usage_empty_piece() {
	local o
	for o in '' 'compat=1.1,' ',compat=1.1' 'compat=1.1,,lazy_refcounts=on'; do
		usage "$M_EMPTY_PIECE" -o "$o" img.qcow2
	done
}
case_usage_missing_equals() {
	usage "option 'compat' has no value: write KEY=VALUE" -o compat img.qcow2
	usage "option 'lazy_refcounts' has no value: write KEY=VALUE" -o compat=1.1,lazy_refcounts img.qcow2
	usage "option 'foo' has no value: write KEY=VALUE" -o foo img.qcow2
}
case_usage_empty_value() {
	usage "option 'compat=' has an empty value" -o compat= img.qcow2
	usage "option 'lazy_refcounts=' has an empty value" -o lazy_refcounts= img.qcow2
}
case_usage_unsupported_key() {
	local kv
	for kv in refcount_bits=16 data_file=x.raw backing_file=base.qcow2 \
		cluster_size=65536 size=1G Compat=1.1 foo=bar; do
		usage "$(m_unsupported "${kv%%=*}")" -o "$kv" img.qcow2
	done
	# named even after a good key, in a second -o
	usage "$(m_unsupported backing_fmt)" -o compat=1.1 -o backing_fmt=qcow2 img.qcow2
}
case_usage_bad_compat() {
	local v
	for v in 1.0 0.1 1.10 v3 2 '1.1 '; do
		usage "invalid compat value in 'compat=$v': use compat=0.10 or compat=1.1" -o "compat=$v" img.qcow2
	done
}
case_usage_bad_lazy() {
	local v
	for v in maybe ON 1 0 True; do
		usage "invalid lazy_refcounts value in 'lazy_refcounts=$v': use on, off, true, false, yes or no" \
			-o "lazy_refcounts=$v" img.qcow2
	done
}
case_usage_conflict() {
	local m="the same key was already given a different value"
	usage "conflicting option 'compat=0.10': $m" -o compat=1.1,compat=0.10 img.qcow2
	usage "conflicting option 'compat=1.1': $m" -o compat=0.10 -o compat=1.1 img.qcow2
	usage "conflicting option 'lazy_refcounts=no': $m" -o lazy_refcounts=yes,lazy_refcounts=no img.qcow2
	usage "conflicting option 'lazy_refcounts=on': $m" -o lazy_refcounts=off -o compat=1.1,lazy_refcounts=on img.qcow2
}
# Usage errors come before the file is looked at.
case_usage_before_file() {
	run amend -o compat=2 /nonexistent/img
	want_rc 2
	want_err "invalid compat value in 'compat=2': use compat=0.10 or compat=1.1"
}

# ---------------------------------------------------------------------
# -f with another format: the spec's refusal (exit 1), before any I/O.

case_format_not_qcow2() {
	local f
	for f in raw vmdk vpc vhdx; do
		fresh v2 img
		run amend -f "$f" -o compat=1.1 img
		want_rc 1
		want_no_out
		want_err "$M_NOT_QCOW2"
		untouched img v2
	done
	run amend --format=raw -o compat=1.1 /nonexistent/img
	want_rc 1
	want_err "$M_NOT_QCOW2"
}
# Other formats by their magic bytes, also with -f qcow2.
case_magic_not_qcow2() {
	local k
	for k in raw vmdk vpc vhdx empty text; do
		refused "$k" "$M_NOT_QCOW2" -o compat=1.1
		refused "$k" "$M_NOT_QCOW2" -f qcow2 -o compat=1.1
	done
}

# ---------------------------------------------------------------------
# Refusals of the spec's table, on real images.

case_refuse_dirty() {
	local o k
	for k in dirty dirty_lazy dirty_corrupt; do
		for o in compat=0.10 compat=1.1 lazy_refcounts=on lazy_refcounts=off; do
			refused "$k" "$M_DIRTY" -o "$o"
		done
	done
}
case_refuse_corrupt() {
	local o
	for o in compat=0.10 compat=1.1 lazy_refcounts=on lazy_refcounts=off; do
		refused corrupt "$M_CORRUPT" -o "$o"
	done
}
# zstd images: the spec refuses every downgrade of an image with the
# COMPRESSION bit; issue 7 narrowed that once the guest's table scan can
# prove no cluster is compressed: then the downgrade is done as qemu-img
# 7.2 does it (compression type back to zlib). With a compressed cluster
# the spec's refusal stays.
case_refuse_downgrade_zstd_compressed() {
	refused zstd_c "$M_DOWN_FEATURE" -o compat=0.10
	refused zstd_c "$M_DOWN_FEATURE" -o compat=0.10,lazy_refcounts=off
}
case_downgrade_zstd_uncompressed() {
	local k ct
	for k in zstd zstd_d; do
		fresh "$k" img
		run amend -o compat=0.10 img
		want_rc 0
		want_out "Image amended."
		want_state img "0.10 false"
		want_clean img
		outside_c0_same img "$k" 65536
		ct=$(qemu-img info --output=json img | python3 -c 'import json,sys; print(json.load(sys.stdin)["format-specific"]["data"].get("compression-type"))')
		[ "$ct" = zlib ] || fail "$k: compression type after the downgrade: $ct"
		fresh "$k" q
		qemu-img amend -o compat=0.10 q || fail "$k: qemu-img amend failed"
		cmp -s img q || fail "$k: header differs from qemu-img amend's"
	done
}
case_refuse_downgrade_extended_l2() { refused el2 "$M_DOWN_FEATURE" -o compat=0.10; }
case_refuse_downgrade_data_file() { refused extdata "$M_DOWN_FEATURE" -o compat=0.10; }
case_refuse_downgrade_refcount_bits() {
	local k
	for k in r1 r8 r64; do
		refused "$k" "$M_DOWN_REFCOUNT" -o compat=0.10
	done
}
# ...while the same images take the other transitions.
case_refcount_bits_other_ok() {
	fresh r8 img
	run amend -o lazy_refcounts=on img
	want_rc 0
	want_out "Image amended."
	want_state img "1.1 true"
	want_clean img
}
case_refuse_lazy_on_v2() {
	refused v2 "$M_LAZY_V3" -o lazy_refcounts=on
	refused v2 "$M_LAZY_V3" -o lazy_refcounts=true
	refused v2 "$M_LAZY_V3" -o compat=0.10,lazy_refcounts=on
	refused v3 "$M_LAZY_V3" -o compat=0.10,lazy_refcounts=on
	refused v3lazy "$M_LAZY_V3" -o compat=0.10 -o lazy_refcounts=on
}
case_refuse_unparsable() {
	local k
	for k in bad_version bad_cbits big_cbits truncated; do
		refused "$k" "$M_PARSE" -o compat=1.1
	done
}
case_refuse_encrypted() {
	refused encrypted "$M_ENCRYPTED" -o lazy_refcounts=on
	refused encrypted "$M_ENCRYPTED" -o compat=0.10
}
case_refuse_relocation() {
	refused reloc "$M_RELOC" -o compat=1.1
	fresh reloc q
	if qemu-img amend -o compat=1.1 q >/dev/null 2>&1; then
		fail "qemu-img amend succeeded on the relocation image (test image is wrong)"
	fi
}
# Downgrades a header-only rewrite cannot do soundly (ORACLE.md §3).
# Zero clusters are expanded (src/image/expand.h), as qemu-img does: the
# result is v2, checks clean and reads as the original.
case_downgrade_zero_clusters() {
	fresh zero img
	run amend -o compat=0.10 img
	want_rc 0
	want_no_err
	want_out "Image amended."
	want_state img "0.10 false"
	qemu-img check -q img >/dev/null 2>&1 || fail "qemu-img check of the result is not clean"
	qemu-img compare -q "$BASE/zero" img || fail "the result reads otherwise than the original"
}
case_refuse_downgrade_bitmaps() { refused bitmap "$M_BITMAPS" -o compat=0.10; }
case_refuse_downgrade_snapshot_size() { refused snapsize "$M_SNAPSIZE" -o compat=0.10; }
# A downgrade walks the L1/L2 tables (zero clusters): a bad entry is refused.
case_refuse_downgrade_bad_tables() {
	refused badl1 "$M_TABLES" -o compat=0.10
	# the header-only transitions do not read the tables
	fresh badl1 img2
	run amend -o lazy_refcounts=on img2
	want_rc 0
	want_out "Image amended."
}

# ---------------------------------------------------------------------
# File errors.

case_file_missing() {
	run amend -o compat=1.1 nope.qcow2
	want_rc 1
	want_no_out
	want_err "cannot open 'nope.qcow2' for reading and writing: No such file or directory"
	[ ! -e nope.qcow2 ] || fail "instar created the missing file"
}
# Symlinks are followed (images often are symlinks); the target changes.
case_file_symlink() {
	fresh v2 target.qcow2
	ln -s target.qcow2 link.qcow2
	run amend -o compat=1.1 link.qcow2
	want_rc 0
	want_out "Image amended."
	want_state target.qcow2 "1.1 false"
	[ -L link.qcow2 ] || fail "the symlink was replaced"
}
case_file_directory() {
	mkdir d
	run amend -o compat=1.1 d
	want_rc 1
	want_no_out
	want_err "'d' is a directory, not an image file"
}
case_file_fifo() {
	mkfifo fifo
	local t0 t1
	t0=$(date +%s)
	run amend -o compat=1.1 fifo
	t1=$(date +%s)
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		fail "instar hung on a FIFO"
	fi
	[ $((t1 - t0)) -lt 5 ] || fail "instar took $((t1 - t0)) s on a FIFO"
	want_rc 1
	want_no_out
	want_err "'fifo' is not a regular file or block device (FIFOs, sockets and character devices are refused)"
}
case_file_char_device() {
	run amend -o compat=1.1 /dev/null
	want_rc 1
	want_no_out
	want_err "'/dev/null' is not a regular file or block device (FIFOs, sockets and character devices are refused)"
}

# Started with stdout closed, the image would be opened as descriptor 1
# and "Image amended." written into its header: instar opens /dev/null
# on a closed 0, 1 or 2 first.
case_stdout_closed() {
	fresh v2 img
	timeout -k 5 20 "$INSTAR" amend -o compat=1.1 img </dev/null >&- 2>err
	RC=$?
	want_rc 0
	want_no_err
	want_state img "1.1 false"
	want_clean img
	grep -q 'Image amended' img && fail "the success line was written into the image"
	return 0
}
case_all_std_descriptors_closed() {
	fresh v2 img
	timeout -k 5 20 "$INSTAR" amend -o compat=1.1 img <&- >&- 2>&-
	RC=$?
	want_rc 0
	want_state img "1.1 false"
	grep -q 'Image amended' img && fail "the success line was written into the image"
	return 0
}
# An inherited descriptor (to another file) is closed before lockdown: a
# taken-over instar cannot write through it. strace shows the close and
# that no syscall after the filter names descriptor 7.
case_inherited_descriptor_closed() {
	fresh v2 img
	: >other
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -o trace -e trace=close_range,write,pwrite64,mmap,ioctl,seccomp \
		"$INSTAR" amend -o compat=1.1 img </dev/null >out 2>err 7>>other
	RC=$?
	want_rc 0
	want_out "Image amended."
	grep -q 'close_range(3, ' trace || fail "no close_range of the inherited descriptors: $(head -c 300 trace)"
	awk '/seccomp\(SECCOMP_SET_MODE_FILTER.*filter=/{on=1} on' trace |
		grep -E '\((7|0x7)[,)]' && fail "descriptor 7 used after lockdown"
	[ ! -s other ] || fail "the inherited file was written"
	return 0
}
# Names reach error messages escaped: a terminal never sees the raw
# escape sequences, carriage returns or newlines a file name can hold.
case_message_escapes_control_characters() {
	local name=$'a\e]0;title\ab\e[31mc\rd\ne\xc2\x9bf\x9bg\xc3\xa9.qcow2'
	run amend -o compat=1.1 "$name"
	want_rc 1
	want_no_out
	want_err "cannot open 'a\\x1b]0;title\\x07b\\x1b[31mc\\x0dd\\x0ae\\xc2\\x9bf\\x9bg$(printf '\xc3\xa9').qcow2' for reading and writing: No such file or directory"
	[ "$(wc -l <err)" = 1 ] || fail "the message spans more than one line"
	LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' err && fail "a control character reached stderr"
	return 0
}
case_usage_escapes_control_characters() {
	run amend -o $'compat=\e[2J' img
	want_rc 2
	want_no_out
	grep -q $'\e' err && fail "ESC reached stderr: $(show err)"
	grep -q 'compat=\\x1b\[2J' err || fail "the value is not shown escaped: $(show err)"
	return 0
}

# Unprivileged runs: the binary and the image go into a directory the
# user can enter; the command runs there with relative paths (the test
# tree's parents are not searchable by nobody).
prepare_unpriv() {
	if ! { cp -L "$INSTAR" ./instar && chmod 755 ./instar .; }; then
		fail "cannot prepare an unprivileged run"
	fi
}
run_nobody() {
	timeout -k 5 20 setpriv --reuid=65534 --regid=65534 --clear-groups \
		./instar "$@" </dev/null >out 2>err
	RC=$?
}
case_file_no_write_permission() {
	prepare_unpriv
	fresh v2 img
	chown 65534:65534 img
	chmod 444 img
	touch -d "@$OLD_MTIME" img
	run_nobody amend -o compat=1.1 img
	want_rc 1
	want_no_out
	want_err "cannot open 'img' for reading and writing: Permission denied"
	untouched img v2
}
case_file_read_only_fs() {
	mkdir ro
	fresh v2 src
	# shellcheck disable=SC2016 # the inner sh expands these, not this one
	unshare -m sh -c '
		mount -t tmpfs -o size=8m tmpfs ro &&
		cp -p src ro/img &&
		mount -o remount,ro ro &&
		"$1" amend -o compat=1.1 ro/img >out 2>err </dev/null
		echo $? >rc
		cp -p ro/img after' sh "$INSTAR"
	RC=$(cat rc 2>/dev/null)
	want_rc 1
	want_no_out
	want_err "cannot open 'ro/img' for reading and writing: Read-only file system"
	untouched after v2
}

# ---------------------------------------------------------------------
# Locks.

# wait_lock FILE: until some process holds an OFD lock on FILE (5 s).
wait_lock() {
	local ino i
	ino=$(stat -c %i "$1")
	for i in $(seq 100); do
		grep -q "OFDLCK .*:$ino " /proc/locks && return 0
		sleep 0.05
	done
	return 1
}

case_lock_qemu_nbd() {
	fresh v2 img
	# a UNIX socket path must be < 108 bytes: not under $TEST_TMPDIR
	local sockdir
	sockdir=$(mktemp -d /tmp/instar-cli-nbd.XXXXXX)
	qemu-nbd --fork --persistent -f qcow2 -k "$sockdir/s" \
		--pid-file="$PWD/nbd.pid" img 2>nbd.err || { fail "qemu-nbd: $(show nbd.err)"; rm -rf "$sockdir"; return; }
	local pid
	pid=$(cat nbd.pid)
	wait_lock img || fail "qemu-nbd holds no lock"
	local m0
	m0=$(stat -c %Y img)
	run amend -o compat=1.1 img
	want_rc 1
	want_no_out
	want_err "$(m_locked img)"
	cmp -s img "$BASE/v2" || fail "image changed while qemu-nbd held it"
	[ "$(stat -c %Y img)" = "$m0" ] || fail "image written while qemu-nbd held it"
	kill "$pid"
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; fail "qemu-nbd did not exit"; }
	rm -rf "$sockdir"
	run amend -o compat=1.1 img
	want_rc 0
	want_out "Image amended."
	want_state img "1.1 false"
}

# hold_instar IMG OPTS: start an instar that stops for 2 s (strace delays
# its first capget, the first syscall after it has taken the image lock
# and read the header) and wait until it holds the lock. Sets HOLDER.
hold_instar() {
	# LeakSanitizer cannot run under ptrace: the traced holder runs
	# without leak detection; every untraced run keeps it.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -o /dev/null -e trace=capget \
		-e inject=capget:delay_enter=2000000:when=1 \
		"$INSTAR" amend -o "$2" "$1" </dev/null >holder.out 2>holder.err &
	HOLDER=$!
	wait_lock "$1" || fail "the held instar never locked $1"
}
case_lock_second_instar() {
	[ "$ASAN" = 1 ] && echo "cli_test: note: the lock-holding instar runs under strace with detect_leaks=0 (LSan cannot run under ptrace)"
	fresh v2 img
	hold_instar img compat=1.1
	run amend -o compat=1.1 img
	want_rc 1
	want_no_out
	want_err "$(m_locked img)"
	wait "$HOLDER"
	local hrc=$?
	[ "$hrc" = 0 ] || fail "the holder exited $hrc: $(show holder.err)"
	printf 'Image amended.\n' | cmp -s - holder.out || fail "holder printed '$(show holder.out)'"
	want_state img "1.1 false"
	want_clean img
}
# QEMU sees instar as a writer: qemu-img amend is refused meanwhile.
case_lock_seen_by_qemu() {
	fresh v2 img
	hold_instar img compat=1.1
	qemu-img amend -o lazy_refcounts=off img >q.out 2>&1 && fail "qemu-img amend ran while instar held the image"
	grep -q 'lock' q.out || fail "qemu-img did not fail on the lock: $(show q.out)"
	wait "$HOLDER" || fail "holder failed: $(show holder.err)"
	want_state img "1.1 false"
}
# Two instar started together: at most one writes ("Image amended."),
# the other sees no change or the lock (both may give up on the lock,
# which is QEMU's protocol); each says which, and the image is v3 exactly
# when one of them says it amended it.
race_side_ok() { # OUT ERR RC IMG
	local out err
	out=$(cat "$1") err=$(cat "$2")
	case "$3:$out:$err" in
	"0:Image amended.:" | "0:No change.:") return 0 ;;
	"1::instar amend: $(m_locked "$4")") return 0 ;;
	esac
	fail "unexpected result: exit $3, stdout '$out', stderr '$err'"
}
case_lock_race() {
	local i a b ra rb n=0 wrote
	for i in $(seq 8); do
		fresh v2 "img$i"
		"$INSTAR" amend -o compat=1.1 "img$i" </dev/null >"a$i.out" 2>"a$i.err" &
		a=$!
		"$INSTAR" amend -o compat=1.1 "img$i" </dev/null >"b$i.out" 2>"b$i.err" &
		b=$!
		wait "$a"
		ra=$?
		wait "$b"
		rb=$?
		race_side_ok "a$i.out" "a$i.err" "$ra" "img$i"
		race_side_ok "b$i.out" "b$i.err" "$rb" "img$i"
		wrote=$(cat "a$i.out" "b$i.out" | grep -c '^Image amended\.$')
		[ "$wrote" -le 1 ] || fail "round $i: both instar wrote"
		grep -q 'in use by another process' "a$i.err" "b$i.err" && n=$((n + 1))
		if [ "$wrote" = 1 ]; then
			want_state "img$i" "1.1 false"
		else
			want_state "img$i" "0.10 false"
		fi
		want_clean "img$i"
	done
	echo "cli_test: lock race: the lock refused one side in $n of 8 rounds"
}

# A writer that ignores locks changes the file while instar runs (here:
# while instar is about to commit, its size re-check delayed by strace):
# instar must notice, refuse with the retry message and write nothing.
# $1: what the other writer does to img; $2 the same to the expected file.
changed_under_run() {
	[ "$ASAN" = 1 ] && echo "cli_test: note: this instar runs under strace with detect_leaks=0 (LSan cannot run under ptrace)"
	fresh v2 img
	cp "$BASE/v2" expect
	$2 expect
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -o /dev/null -e trace=lseek \
		-e inject=lseek:delay_enter=1500000:when=1 \
		"$INSTAR" amend -o compat=1.1 img </dev/null >out 2>err &
	local pid=$!
	wait_lock img || fail "instar never locked the image"
	sleep 0.5
	$1 img
	wait "$pid"
	RC=$?
	want_rc 1
	want_no_out
	want_err "$M_RETRY"
	cmp -s img expect || fail "instar wrote to the changed image"
}
poke_header() { poke "$1" 60000 'Z'; }   # inside the header cluster, past the header
grow_file() { printf 'more' >>"$1"; }
shrink_file() { truncate -s -65536 "$1"; }
case_header_changed() { changed_under_run poke_header poke_header; }
case_file_grew_under_run() { changed_under_run grow_file grow_file; }
case_file_shrank_under_run() { changed_under_run shrink_file shrink_file; }

# A write that fails (EFBIG from RLIMIT_FSIZE=0, SIGXFSZ ignored): the
# I/O error message, and nothing written (no byte was allowed through).
case_write_error() {
	fresh v2 img
	(
		trap '' XFSZ
		# stderr through a pipe: the limit applies to regular files
		prlimit --fsize=0 "$INSTAR" amend -o compat=1.1 img </dev/null 2>&1 >out | cat >err
		exit "${PIPESTATUS[0]}"
	)
	RC=$?
	want_rc 1
	want_no_out
	want_err "$M_IOERR"
	cmp -s img "$BASE/v2" || fail "bytes were written"
}

# A write cut short part-way (RLIMIT_FSIZE=100: the 512-byte header
# sector write stops after 100 bytes): the commit puts the 100 bytes
# back, so the image is exactly as before, not half v2, half v3.
case_short_write_is_undone() {
	fresh v2 img
	(
		trap '' XFSZ
		prlimit --fsize=100 "$INSTAR" amend -o compat=1.1 img </dev/null 2>&1 >out | cat >err
		exit "${PIPESTATUS[0]}"
	)
	RC=$?
	want_rc 1
	want_no_out
	want_err "$M_IOERR"
	cmp -s img "$BASE/v2" || fail "a partial header write was left in the image"
}

# ---------------------------------------------------------------------
# /dev/kvm

case_kvm_missing() {
	fresh v2 img
	# (no redirection from /dev/null inside: /dev is empty there)
	# shellcheck disable=SC2016 # the inner sh expands these, not this one
	unshare -m sh -c 'mount -t tmpfs tmpfs /dev && "$1" amend -o compat=1.1 img >out 2>err; echo $? >rc' sh "$INSTAR" </dev/null
	RC=$(cat rc)
	want_rc 1
	want_no_out
	want_err "$M_KVM_MISSING"
	untouched img v2
}
case_kvm_not_accessible_root() {
	# root, but instar drops CAP_DAC_OVERRIDE before opening /dev/kvm,
	# so a mode-000 /dev/kvm is refused to it as to anyone.
	fresh v2 img
	: >kvm000
	chmod 000 kvm000
	# shellcheck disable=SC2016 # the inner sh expands these, not this one
	unshare -m sh -c 'mount --bind "$PWD/kvm000" /dev/kvm && "$1" amend -o compat=1.1 img >out 2>err </dev/null; echo $? >rc' sh "$INSTAR"
	RC=$(cat rc)
	want_rc 1
	want_no_out
	want_err "$M_KVM_PERM"
	untouched img v2
}
case_kvm_not_accessible_user() {
	prepare_unpriv
	fresh v2 img
	chown 65534:65534 img
	touch -d "@$OLD_MTIME" img
	: >kvm000
	chmod 000 kvm000
	# shellcheck disable=SC2016 # the inner sh expands these, not this one
	unshare -m sh -c 'mount --bind "$PWD/kvm000" /dev/kvm &&
		setpriv --reuid=65534 --regid=65534 --clear-groups ./instar amend -o compat=1.1 img >out 2>err </dev/null
		echo $? >rc'
	RC=$(cat rc)
	want_rc 1
	want_no_out
	want_err "$M_KVM_PERM"
	untouched img v2
}
case_kvm_not_kvm() {
	fresh v2 img
	# shellcheck disable=SC2016 # the inner sh expands these, not this one
	unshare -m sh -c 'mount --bind /dev/null /dev/kvm && "$1" amend -o compat=1.1 img >out 2>err </dev/null; echo $? >rc' sh "$INSTAR"
	RC=$(cat rc)
	want_rc 1
	want_no_out
	want_err "$M_KVM_API"
	untouched img v2
}

# ---------------------------------------------------------------------
# amend -p: qemu-img's progress lines on stdout.

# progress_lines FILE: every "    (N.NN/100%)" figure of FILE, one a line,
# and fails unless FILE is such lines (each ending in \r), one \n, then
# "Image amended.".
progress_lines() {
	python3 - "$1" <<'EOF2'
import re, sys
data = open(sys.argv[1], "rb").read().decode()
m = re.fullmatch(r"((?:    \(\d+\.\d\d/100%\)\r)+)\n(Image amended\.|No change\.)\n", data)
if not m:
    sys.exit("not progress lines then the result: %r" % data[:300])
for f in re.findall(r"\((\d+\.\d\d)/100%\)", m.group(1)):
    print(f)
EOF2
}
case_amend_progress() {
	local figs
	# A downgrade that walks 300 L2 tables: 0.00, figures in between that
	# never go back, 100.00 last; the image amended as without -p.
	qemu-img create -q -f qcow2 -o compat=1.1 walk 151G
	for ((i = 0; i < 300; i++)); do printf 'write -P 0xab %dM 4k\n' $((i * 512)); done |
		qemu-io -f qcow2 walk >/dev/null
	run amend -p -o compat=0.10 walk
	want_rc 0
	want_no_err
	figs=$(progress_lines out) || fail "amend -p: $figs"
	[ "$(head -1 <<<"$figs")" = 0.00 ] || fail "first figure: $(head -1 <<<"$figs")"
	[ "$(tail -1 <<<"$figs")" = 100.00 ] || fail "last figure: $(tail -1 <<<"$figs")"
	[ "$(wc -l <<<"$figs")" -ge 4 ] || fail "no figure between 0 and 100: $figs"
	sort -n -c <<<"$figs" 2>/dev/null || fail "figures go backwards: $figs"
	want_state walk "0.10 false"
	# A header-only upgrade: 0.00 then 100.00.
	fresh v2 img
	run amend -p -o compat=1.1 img
	want_rc 0
	printf '    (0.00/100%%)\r    (100.00/100%%)\r\nImage amended.\n' >want_p
	cmp -s out want_p || fail "header-only: $(show out)"
	# -q wins: nothing on stdout.
	fresh v2 img
	run amend -p -q -o compat=1.1 img
	want_rc 0
	want_no_out
	want_state img "1.1 false"
	# A refusal the guest decides after its walk: the figures so far, the
	# line ended without 100.00, the message on stderr.
	fresh snapsize img
	run amend -p -o compat=0.10 img
	want_rc 1
	python3 -c 'import re, sys
d = open("out", "rb").read().decode()
sys.exit(not re.fullmatch(r"(    \((?!100\.00)\d+\.\d\d/100%\)\r)+\n", d))' ||
		fail "refusal: want figures below 100 and a new line, stdout $(show out)"
	want_err "$M_SNAPSIZE"
	untouched img snapsize
	# With --output json it would break the JSON: a usage error.
	usage "-p cannot be combined with --output json: the progress lines would break the JSON on stdout" \
		-p --output json -o compat=1.1 img.qcow2
}

# ---------------------------------------------------------------------
# info and check: their command lines and what they leave alone. (What
# they print is held to qemu-img's by //tests/inspect.)

case_inspect_help() {
	local cmd w
	for cmd in info check; do
		run "$cmd" --help
		want_rc 0
		want_no_err
		cp out "help-$cmd.txt"
		head -1 out | grep -qx "Usage: instar $cmd \[OPTION\]... FILE" || fail "$cmd: usage line: $(head -1 out)"
		for w in '-f, --format <FMT>' '--output <FORMAT>' '--qemu-compat <VERSION>' \
			'5.2, 7.2, 10.0 or 11.1' '-U, --force-share' '--stats' '-h, --help' \
			'Exit status:' '/dev/kvm' 'never opened'; do
			grep -qF -- "$w" out || fail "$cmd --help does not mention '$w'"
		done
		run "$cmd" -h
		cmp -s out "help-$cmd.txt" || fail "$cmd: -h differs from --help"
		# --help wins among bad arguments and opens nothing.
		fresh v3 img
		run "$cmd" --frob -f vmdk img --help
		want_rc 0
		cmp -s out "help-$cmd.txt" || fail "$cmd: --help among bad arguments: $(show out)"
		untouched img v3
	done
	grep -qF -- '-q, --quiet' help-check.txt || fail "check --help does not mention -q"
	! grep -qF -- '-q, --quiet' help-info.txt || fail "info --help offers -q, which info refuses"
	grep -q '^  63 ' help-check.txt || fail "check --help does not give exit status 63"
	run --help
	grep -q '^  info ' out || fail "instar --help does not list info"
	grep -q '^  check ' out || fail "instar --help does not list check"
}

# inspect_usage CMD RC MSG ARGS...: a bad command line: exit RC, nothing
# on stdout, exactly "instar CMD: MSG", the image left alone.
inspect_usage() {
	local cmd=$1 rc=$2 msg=$3
	shift 3
	fresh v3 img
	run "$cmd" "$@"
	want_rc "$rc"
	want_no_out
	printf 'instar %s: %s\n' "$cmd" "$msg" >want_err
	cmp -s want_err err || fail "$cmd $*: stderr is '$(show err)', want '$(show want_err)'"
	untouched img v3
}
case_inspect_usage() {
	local cmd rc
	# info's bad command line is 2, as amend's; check's is 1, as qemu-img
	# check's (its 2 means corruptions).
	for cmd in info check; do
		rc=2
		[ "$cmd" = check ] && rc=1
		inspect_usage "$cmd" "$rc" "no image file given (see instar $cmd --help)"
		inspect_usage "$cmd" "$rc" "unknown flag '-x' (see instar $cmd --help)" -x img
		inspect_usage "$cmd" "$rc" "unknown flag '--outputjson' (see instar $cmd --help)" --outputjson img
		inspect_usage "$cmd" "$rc" "flag '-f' needs a value" img -f
		inspect_usage "$cmd" "$rc" "flag '--qemu-compat' needs a value" img --qemu-compat
		inspect_usage "$cmd" "$rc" "invalid --output value 'xml': use human or json" --output=xml img
		inspect_usage "$cmd" "$rc" "unknown format 'qcow3': use -f qcow2 or -f raw" -f qcow3 img
		inspect_usage "$cmd" "$rc" "unknown --qemu-compat release '6.0': use 5.2, 7.2, 10.0 or 11.1" --qemu-compat 6.0 img
		inspect_usage "$cmd" "$rc" "unexpected extra argument 'other': give exactly one image file" img other
		# A format qemu-img reads but instar does not yet: a refusal (1).
		inspect_usage "$cmd" 1 "format 'vmdk' is not supported yet: instar reads only qcow2 and raw images" -f vmdk img
	done
	inspect_usage info 2 "unknown flag '-q' (see instar info --help)" -q img
}

# Every form of the command leaves the image's bytes and mtime alone
# (damaged images: //tests/inspect checks its corpus's digest after
# every run).
case_inspect_leaves_image_alone() {
	local cmd form
	for cmd in info check; do
		for form in "" "-U" "--output=json" "-f qcow2 --qemu-compat 5.2" "--stats"; do
			fresh v3 img
			# shellcheck disable=SC2086 # the forms are word lists
			run "$cmd" $form img
			want_rc 0
			[ -s out ] || fail "$cmd $form: nothing on stdout"
			untouched img v3
		done
	done
}

# /dev/kvm: info and check need it for qcow2 as amend does.
case_inspect_kvm_missing() {
	local cmd
	for cmd in info check; do
		fresh v3 img
		# shellcheck disable=SC2016 # the inner sh expands these, not this one
		unshare -m sh -c 'mount -t tmpfs tmpfs /dev && "$1" "$2" img >out 2>err; echo $? >rc' sh "$INSTAR" "$cmd" </dev/null
		RC=$(cat rc)
		want_rc 1
		want_no_out
		printf 'instar %s: %s\n' "$cmd" "$M_KVM_MISSING" >want_err
		cmp -s want_err err || fail "$cmd: stderr is '$(show err)', want '$(show want_err)'"
		untouched img v3
	done
}

# ---------------------------------------------------------------------
# Run.

T0=$(date +%s.%N)
echo "cli_test: instar: $INSTAR$([ "$ASAN" = 1 ] && echo ' (sanitizer build)')"
echo "cli_test: $(qemu-img --version | head -1)"
if [ ! -e /dev/kvm ]; then
	echo "cli_test: /dev/kvm is missing: every case that runs the guest will FAIL" >&2
fi
if [ "$(id -u)" != 0 ]; then
	echo "cli_test: not root: namespace, setpriv and chown cases will FAIL" >&2
fi

# Building the images is a case of its own: when it fails, it says why.
case_setup_base_images() {
	(make_base) >"$ROOT/make_base.log" 2>&1 || fail "building the base images failed: $(tail -5 "$ROOT/make_base.log")"
	local k
	for k in v2 v3 v3lazy zstd zstd_c el2 extdata r1 r8 r64 c512 c2m tib zero \
		bitmap zstd_d snapsize badl1 raw vmdk vpc vhdx dirty corrupt dirty_corrupt dirty_lazy \
		encrypted bad_version bad_cbits big_cbits truncated empty text reloc; do
		[ -e "$BASE/$k" ] || fail "base image '$k' missing"
	done
}
tc setup_base_images case_setup_base_images

for f in $(declare -F | awk '{print $3}' | grep '^case_' | grep -v '^case_setup_base_images$'); do
	tc "${f#case_}" "$f"
done

# ---------------------------------------------------------------------
# JUnit XML (tests/lib/junit.sh) and summary.

for name in "${CASE_NAMES[@]}"; do
	st="" secs=0
	read -r st secs <"$RES/$name"
	dir="$ROOT/case/$name"
	log=$(head -c 4000 "$dir/.log" 2>/dev/null)
	case $st in
	PASS) junit_case "$name" pass "" "$secs" "$log" ;;
	FAIL) junit_case "$name" fail "$(cat "$dir/.fail" "$dir/.log")" "$secs" "$log" ;;
	SKIP) junit_case "$name" skip "$(head -1 "$dir/.skip")" "$secs" "$log" ;;
	*) junit_case "$name" fail "no result recorded (status '$st')" "$secs" "$log" ;;
	esac
done 2>/dev/null  # each case has said PASS, SKIP or FAIL as it ran
elapsed=$(awk -v a="$T0" -v b="$(date +%s.%N)" "BEGIN{printf \"%.1f\", b-a}")
junit_finish >/dev/null
status=$?

for name in "${CASE_NAMES[@]}"; do
	read -r st _ <"$RES/$name"
	[ "$st" = SKIP ] && echo "cli_test: !!! SKIPPED $name: $(cat "$ROOT/case/$name/.skip")"
	[ "$st" = FAIL ] && echo "cli_test: FAILED $name"
done
printf 'cli_test: %d cases in %.1fs: %d passed, %d failed, %d skipped\n' \
	"${#CASE_NAMES[@]}" "$elapsed" "$PASS" "$FAIL" "$SKIP"
[ "$status" -eq 0 ]
