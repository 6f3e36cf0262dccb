#!/usr/bin/env bash
# install-oracles.sh — bring every qemu-img that Debian's archive ships for
# amd64 into a cache outside the repository, as reference oracles for
# `instar info` / `instar check`:
#
#   5.2   bullseye      debootstrap --variant=minbase --include=qemu-utils
#   7.2   bookworm      the system's own /usr/bin/qemu-img (qemu-utils)
#   10.0  bookworm-backports  apt-get download + dpkg -x, runs on the
#                       system's libraries as is
#   11.1  sid           debootstrap --variant=minbase --include=qemu-utils
#
# The debootstrapped ones run through their own root's dynamic loader with
# `--library-path`, so nothing is installed into the system, no chroot is
# needed to run them and LD_LIBRARY_PATH is never set. For each version a
# launcher $CACHE/bin/qemu-img-<version> is written; the last step checks
# that every launcher's `--version` gives the expected major.minor and
# fails loudly otherwise (e.g. when sid moves on to another release).
#
# Cache: $INSTAR_ORACLES (default /var/cache/instar-oracles), one subdir
# per version. Each subdir is built in a temporary dir beside it and
# renamed into place only when complete, so a failed run leaves nothing
# that looks installed. A run with everything present does no network
# access, rewrites nothing and takes seconds. To refetch one version,
# remove its subdir and run again. Building needs root (debootstrap).
#
# What it trusts: Debian's archive as reached through the mirror that the
# system's own APT sources use for bookworm (read with `apt-get
# indextargets`; override with INSTAR_ORACLES_MIRROR), the system's APT
# configuration (proxy settings included), and Debian's archive signing
# keys in /usr/share/keyrings/debian-archive-keyring.gpg: apt-get and
# debootstrap check the signed Release files and every package's hash
# against them. The binaries are Debian's builds, unmodified.
set -euo pipefail

CACHE=${INSTAR_ORACLES:-/var/cache/instar-oracles}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
ARCH=amd64
MULTIARCH=x86_64-linux-gnu

# version  how     suite
ORACLES=(
	"5.2 debootstrap bullseye"
	"7.2 system bookworm"
	"10.0 backports bookworm-backports"
	"11.1 debootstrap sid"
)

say() { printf 'install-oracles: %s\n' "$*"; }
die() {
	printf 'install-oracles: ERROR: %s\n' "$*" >&2
	exit 1
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# Temporary dirs of this run, removed on exit unless renamed into place.
TMPDIRS=()
TMP=""
cleanup() {
	local d m
	for d in "${TMPDIRS[@]}"; do
		[ -e "$d" ] || continue
		# debootstrap mounts proc/sys inside its target: never rm -rf
		# through a mount point.
		while read -r m; do
			umount -l "$m" 2>/dev/null || true
		done < <(findmnt -rn -o TARGET | grep -F "$d/" | sort -r || true)
		rm -rf --one-file-system "$d"
	done
}
trap cleanup EXIT

# Single-quote a string for /bin/sh.
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# Resolve PATH inside ROOT the way the root itself sees it: absolute
# symlinks (bullseye's /lib64/ld-linux-x86-64.so.2 is one) are taken
# relative to ROOT, not to the host. Prints the path inside ROOT.
resolve_in_root() {
	local root=$1 out="" comp link hops=0
	local -a todo more
	IFS=/ read -ra todo <<<"${2#/}"
	while [ "${#todo[@]}" -gt 0 ]; do
		comp=${todo[0]}
		todo=("${todo[@]:1}")
		case $comp in
		'' | .) continue ;;
		..)
			out=${out%/*}
			continue
			;;
		esac
		if [ -L "$root$out/$comp" ]; then
			hops=$((hops + 1))
			[ "$hops" -le 40 ] || die "symlink loop resolving $2 in $root"
			link=$(readlink "$root$out/$comp")
			case $link in /*) out="" ;; esac
			IFS=/ read -ra more <<<"${link#/}"
			todo=("${more[@]}" "${todo[@]}")
		else
			out="$out/$comp"
		fi
	done
	printf '%s\n' "$out"
}

# The mirror the system's APT uses for bookworm itself.
find_mirror() {
	if [ -n "${INSTAR_ORACLES_MIRROR:-}" ]; then
		printf '%s\n' "${INSTAR_ORACLES_MIRROR%/}"
		return
	fi
	local site
	# shellcheck disable=SC2016 # $(SITE) is apt's format, not the shell's
	site=$(apt-get indextargets --format '$(SITE)' \
		'Codename: bookworm' 'Identifier: Packages' 2>/dev/null |
		head -n1 || true)
	[ -n "$site" ] || die "no bookworm source in the system's APT sources" \
		"(apt-get indextargets found none; run apt-get update, or set" \
		"INSTAR_ORACLES_MIRROR)"
	printf '%s\n' "${site%/}"
}

# APT's own proxy setting, handed to debootstrap (which fetches with wget).
export_apt_proxy() {
	local APT_HTTP_PROXY=""
	eval "$(apt-config shell APT_HTTP_PROXY Acquire::http::Proxy)"
	if [ -n "$APT_HTTP_PROXY" ] && [ "$APT_HTTP_PROXY" != DIRECT ] &&
		[ -z "${http_proxy:-}" ]; then
		export http_proxy=$APT_HTTP_PROXY
	fi
}

need_root() {
	[ "$(id -u)" -eq 0 ] || die "building $1 needs root (debootstrap, $CACHE)"
}

ensure_debootstrap() {
	command -v debootstrap >/dev/null && return
	say "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends debootstrap >/dev/null ||
		{ apt-get update -q >/dev/null &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				--no-install-recommends debootstrap >/dev/null; } ||
		die "could not install debootstrap"
}

# Sets TMP to a new temporary dir for version $1 (not in a subshell, so
# that the EXIT trap knows it).
new_tmp() {
	TMP=$(mktemp -d "$CACHE/.tmp-$1.XXXXXX")
	TMPDIRS+=("$TMP")
	chmod 0755 "$TMP" # readable by all; apt's _apt user must reach it
}

# Check that ROOT's qemu-utils is the expected major.minor, write its
# metadata, and rename TMP to $CACHE/VER.
finish_version() {
	local ver=$1 tmp=$2 debver=$3
	case $debver in
	*:"$ver"[.+]* | "$ver"[.+]*) ;;
	*) die "the archive's qemu-utils for $ver is $debver, not $ver.x:" \
		"update ORACLES in $0 (and the launcher names)" ;;
	esac
	printf '%s\n' "$debver" >"$tmp/debian-version"
	if findmnt -rn -o TARGET | grep -qF "$tmp/"; then
		die "something is still mounted under $tmp"
	fi
	mv -T "$tmp" "$CACHE/$ver"
}

build_backports() {
	local ver=$1 suite=$2 mirror tmp deb debver
	mirror=$(find_mirror)
	new_tmp "$ver"
	tmp=$TMP
	mkdir -p "$tmp/apt/lists/partial" "$tmp/apt/cache/archives/partial" \
		"$tmp/apt/parts" "$tmp/dl"
	: >"$tmp/apt/status"
	printf 'deb [signed-by=%s] %s %s main\n' "$KEYRING" "$mirror" "$suite" \
		>"$tmp/apt/sources.list"
	local -a apt=(
		-o "Dir::Etc::SourceList=$tmp/apt/sources.list"
		-o "Dir::Etc::SourceParts=$tmp/apt/parts"
		-o "Dir::State::Lists=$tmp/apt/lists"
		-o "Dir::State::status=$tmp/apt/status"
		-o "Dir::Cache=$tmp/apt/cache"
	)
	# apt fetches as _apt where it can; let it write the download dir.
	if id _apt >/dev/null 2>&1; then
		chown _apt "$tmp/dl" "$tmp/apt/lists/partial" \
			"$tmp/apt/cache/archives/partial"
	fi
	say "$ver: apt-get update ($mirror $suite)"
	apt-get -q "${apt[@]}" update >"$tmp/apt.log" 2>&1 ||
		{ cat "$tmp/apt.log" >&2; die "$ver: apt-get update of $suite failed"; }
	if grep -qiE '^(E: |W: .*(fetch|sign|GPG|NO_PUBKEY|Release))' "$tmp/apt.log"; then
		cat "$tmp/apt.log" >&2
		die "$ver: apt-get update of $suite reported problems"
	fi
	say "$ver: apt-get download qemu-utils/$suite"
	(cd "$tmp/dl" && apt-get -q "${apt[@]}" download "qemu-utils/$suite") \
		>>"$tmp/apt.log" 2>&1 ||
		{ cat "$tmp/apt.log" >&2; die "$ver: apt-get download failed"; }
	deb=$(find "$tmp/dl" -maxdepth 1 -name 'qemu-utils_*.deb' -print -quit)
	[ -n "$deb" ] || die "$ver: apt-get download gave no qemu-utils .deb"
	debver=$(dpkg-deb -f "$deb" Version)
	dpkg-deb -x "$deb" "$tmp/root"
	[ -x "$tmp/root/usr/bin/qemu-img" ] || die "$ver: no usr/bin/qemu-img in $deb"
	(cd "$tmp/dl" && sha256sum "$(basename "$deb")") >"$tmp/sha256sum"
	rm -rf "$tmp/apt" "$tmp/dl" "$tmp/apt.log"
	finish_version "$ver" "$tmp" "$debver"
}

build_debootstrap() {
	local ver=$1 suite=$2 mirror tmp debver
	mirror=$(find_mirror)
	ensure_debootstrap
	export_apt_proxy
	new_tmp "$ver"
	tmp=$TMP
	say "$ver: debootstrap --variant=minbase --include=qemu-utils $suite ($mirror)"
	if ! debootstrap --variant=minbase --include=qemu-utils --arch="$ARCH" \
		--keyring="$KEYRING" "$suite" "$tmp/root" "$mirror" \
		>"$tmp/debootstrap.log" 2>&1; then
		tail -n 30 "$tmp/debootstrap.log" >&2
		[ -f "$tmp/root/debootstrap/debootstrap.log" ] &&
			tail -n 30 "$tmp/root/debootstrap/debootstrap.log" >&2
		die "$ver: debootstrap of $suite failed (log above)"
	fi
	debver=$(dpkg-query --admindir="$tmp/root/var/lib/dpkg" \
		-W -f='${Version}' qemu-utils 2>/dev/null) ||
		die "$ver: qemu-utils is not installed in the $suite root"
	[ -x "$tmp/root/usr/bin/qemu-img" ] || die "$ver: no usr/bin/qemu-img in the $suite root"
	# Drop what only a bootstrap needs: the downloaded .debs and lists.
	find "$tmp/root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -delete
	find "$tmp/root/var/lib/apt/lists" -maxdepth 1 -type f -delete
	rm -f "$tmp/debootstrap.log"
	finish_version "$ver" "$tmp" "$debver"
}

# The launcher for one version, printed to stdout.
launcher_text() {
	local ver=$1 how=$2 suite=$3 dir root loader lib1 lib2 argv0="" debver
	if [ "$how" = system ]; then
		debver=$(dpkg-query -W -f='${Version}' qemu-utils)
		cat <<-EOF
			#!/bin/sh
			# qemu-img $ver: the system's (qemu-utils $debver, $suite).
			# Written by scripts/install-oracles.sh.
			exec /usr/bin/qemu-img "\$@"
		EOF
		return
	fi
	dir=$CACHE/$ver
	root=$dir/root
	debver=$(cat "$dir/debian-version")
	local mods=$root/usr/lib/$MULTIARCH/qemu
	if [ "$how" = backports ]; then
		cat <<-EOF
			#!/bin/sh
			# qemu-img $ver: qemu-utils $debver from $suite, unpacked with
			# dpkg -x; runs on the system's own loader and libraries.
			# QEMU_MODULE_DIR keeps it off any host qemu modules.
			# Written by scripts/install-oracles.sh.
			QEMU_MODULE_DIR=$(sq "$mods")
			export QEMU_MODULE_DIR
			exec $(sq "$root/usr/bin/qemu-img") "\$@"
		EOF
		return
	fi
	loader=$root$(resolve_in_root "$root" /lib64/ld-linux-x86-64.so.2)
	lib1=$root$(resolve_in_root "$root" "/lib/$MULTIARCH")
	lib2=$root$(resolve_in_root "$root" "/usr/lib/$MULTIARCH")
	local libpath=$lib1
	[ "$lib2" = "$lib1" ] || libpath=$lib1:$lib2
	# glibc >= 2.33 loaders take --argv0: make argv[0] plain "qemu-img".
	if "$loader" --help 2>/dev/null | grep -q -- '--argv0'; then
		argv0="--argv0 qemu-img "
	fi
	cat <<-EOF
		#!/bin/sh
		# qemu-img $ver: qemu-utils $debver from a minbase $suite root,
		# run through that root's own dynamic loader and libraries
		# (--library-path: LD_LIBRARY_PATH is not set, so nothing leaks
		# into programs it might start). QEMU_MODULE_DIR keeps it off any
		# host qemu modules. Written by scripts/install-oracles.sh.
		QEMU_MODULE_DIR=$(sq "$mods")
		export QEMU_MODULE_DIR
		exec $(sq "$loader") --library-path $(sq "$libpath") $argv0$(sq "$root/usr/bin/qemu-img") "\$@"
	EOF
}

# Write the launcher only when it is missing or differs.
write_launcher() {
	local ver=$1 target=$CACHE/bin/qemu-img-$1 text tmp
	text=$(launcher_text "$@")
	if [ -f "$target" ] && [ -x "$target" ] &&
		[ "$(cat "$target")" = "$text" ]; then
		return
	fi
	tmp=$(mktemp "$CACHE/bin/.qemu-img-$ver.XXXXXX")
	TMPDIRS+=("$tmp")
	printf '%s\n' "$text" >"$tmp"
	chmod 0755 "$tmp"
	mv -f "$tmp" "$target"
	say "$ver: wrote $target"
}

main() {
	local t0 t line ver how suite failed=0 out got
	t0=$(now)
	if [ ! -d "$CACHE/bin" ]; then
		need_root "$CACHE"
		mkdir -p "$CACHE/bin"
	fi
	# One run at a time per cache (a lock on the directory itself).
	exec 9<"$CACHE/bin"
	flock 9
	# Leftovers of a run that was killed outright.
	local stale
	for stale in "$CACHE"/.tmp-* "$CACHE"/bin/.qemu-img-*; do
		[ -e "$stale" ] || continue
		need_root "$stale"
		TMPDIRS+=("$stale")
	done
	cleanup
	TMPDIRS=()

	for line in "${ORACLES[@]}"; do
		read -r ver how suite <<<"$line"
		t=$(now)
		case $how in
		system)
			[ -x /usr/bin/qemu-img ] ||
				die "$ver: /usr/bin/qemu-img is missing: install qemu-utils (scripts/install-deps.sh)"
			;;
		backports | debootstrap)
			if [ -d "$CACHE/$ver" ]; then
				say "$ver: present ($(cat "$CACHE/$ver/debian-version" 2>/dev/null || echo '?'))"
			else
				need_root "$ver"
				"build_$how" "$ver" "$suite"
				say "$ver: installed in $(elapsed "$t")"
			fi
			;;
		*) die "bad ORACLES entry: $line" ;;
		esac
		write_launcher "$ver" "$how" "$suite"
	done

	say "verifying the launchers"
	for line in "${ORACLES[@]}"; do
		read -r ver how suite <<<"$line"
		if ! out=$("$CACHE/bin/qemu-img-$ver" --version 2>&1); then
			printf '%s\n' "$out" >&2
			say "FAIL $ver: $CACHE/bin/qemu-img-$ver --version failed" >&2
			failed=1
			continue
		fi
		got=$(printf '%s\n' "$out" | head -n1)
		case $got in
		"qemu-img version $ver."*)
			printf '  %-5s %-40s %s\n' "$ver" "$CACHE/bin/qemu-img-$ver" "${got#qemu-img version }"
			;;
		*)
			say "FAIL $ver: expected qemu-img version $ver.x, got: $got" >&2
			failed=1
			;;
		esac
	done
	[ "$failed" -eq 0 ] || die "some oracle is not what it should be" \
		"(remove its subdir of $CACHE and run again)"
	say "done in $(elapsed "$t0")"
}

main "$@"
