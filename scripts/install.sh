#!/usr/bin/env bash
# install.sh — install instar the way a distribution's packages lay it
# out: the binary, its manual pages and its bash completion under PREFIX,
# staged under DESTDIR for packagers. The list of files is the build's
# (dist/install_files.txt, written by //dist:install_files):
#
#   $PREFIX/bin/instar
#   $PREFIX/share/man/man1/instar.1, instar-COMMAND.1 (one per command)
#   $PREFIX/share/bash-completion/completions/instar
#
# and the record of the install, $PREFIX/share/instar/install-manifest:
# every file with its SHA-256, every directory the install created.
#
#   bash scripts/install.sh              build with Bazel, then install
#   bash scripts/install.sh --no-build   install what the last build left
#                                        in ./bazel-bin (setup.sh, after
#                                        its `bazel build //...`)
#   bash scripts/install.sh --from DIR   install from DIR, which holds
#                                        dist/install_files.txt and the
#                                        files it names (the tests)
#   bash scripts/install.sh --uninstall  remove exactly what the manifest
#                                        lists: the files (one changed
#                                        since is left in place, named,
#                                        and the exit status is 1), then
#                                        the directories the install
#                                        created, if empty, then the
#                                        manifest
#
# Environment: PREFIX (default /usr/local), DESTDIR (default empty; a
# relative one is taken from the current directory), BAZEL (default
# bazel). Installing over an earlier install removes that one first, as
# --uninstall does. No mandb run: man finds the pages without its index.
#
# Refuses: a sanitizer build (`instar seccomp` names its extra policy;
# scripts/test.sh's second pass leaves one in bazel-bin), a list line
# that is not MODE DESTINATION SOURCE with a relative DESTINATION
# without "..", a missing source file, a PREFIX that is not absolute.
# Trusts: the build's outputs and coreutils' install.
set -euo pipefail

say() { printf 'install: %s\n' "$*"; }
die() {
	printf 'install: ERROR: %s\n' "$*" >&2
	exit 1
}

mode=install build=1 from=""
while [ $# -gt 0 ]; do
	case $1 in
	--uninstall) mode=uninstall ;;
	--no-build) build=0 ;;
	--from)
		[ $# -ge 2 ] || die "--from needs a directory"
		from=$2 build=0
		shift
		;;
	--from=*) from=${1#--from=} build=0 ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
case $PREFIX in
/*) ;;
*) die "PREFIX must be an absolute path, not '$PREFIX'" ;;
esac
PREFIX=${PREFIX%/}
[ -n "$PREFIX" ] || die "PREFIX=/ is not a prefix"
if [ -n "$DESTDIR" ]; then
	case $DESTDIR in
	/*) ;;
	*) DESTDIR=$PWD/$DESTDIR ;;
	esac
	DESTDIR=${DESTDIR%/}
fi
case $PREFIX$DESTDIR in
*$'\n'*) die "PREFIX and DESTDIR cannot hold a newline" ;;
esac
[ -n "$from" ] && from=$(readlink -f "$from")

MANIFEST=$PREFIX/share/instar/install-manifest

# --- uninstall: the files, the manifest, the directories (deepest first)
uninstall() {
	local m=$DESTDIR$MANIFEST kind rest sum path now kept=0
	local -a dirs=()
	[ -f "$m" ] || die "no install of instar under $DESTDIR$PREFIX ($m is missing)"
	while read -r kind rest; do
		case $kind in
		file)
			sum=${rest%% *} path=${rest#* }
			[ -e "$DESTDIR$path" ] || [ -L "$DESTDIR$path" ] || continue
			now=$(sha256sum <"$DESTDIR$path" 2>/dev/null | cut -d' ' -f1) || now=""
			if [ "$now" != "$sum" ] || [ -L "$DESTDIR$path" ]; then
				say "left in place, changed since it was installed: $DESTDIR$path" >&2
				kept=1
				continue
			fi
			rm -f -- "$DESTDIR$path"
			say "removed $DESTDIR$path"
			;;
		dir) dirs+=("$rest") ;;
		'#'* | '') ;;
		*) die "$m: unknown line '$kind $rest'" ;;
		esac
	done <"$m"
	rm -f -- "$m"
	# Deepest first; only directories that are empty now.
	local d
	while IFS= read -r d; do
		[ -n "$d" ] || continue
		rmdir -- "$DESTDIR$d" 2>/dev/null && say "removed $DESTDIR$d/"
	done < <(printf '%s\n' "${dirs[@]}" | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-)
	return "$kept"
}

if [ "$mode" = uninstall ]; then
	uninstall || die "some files had changed since they were installed and were left in place"
	exit 0
fi

# --- where the built files are
if [ -z "$from" ]; then
	cd "$(dirname "$0")/.."
	BAZEL=${BAZEL:-bazel}
	if [ "$build" = 1 ]; then
		"$BAZEL" build //dist:install_files
		from=$("$BAZEL" info bazel-bin 2>/dev/null)
	else
		from=$(readlink -f bazel-bin) ||
			die "no ./bazel-bin: build first (bazel build //...), or leave out --no-build"
	fi
fi
list=$from/dist/install_files.txt
[ -f "$list" ] || die "$list is missing: build //dist:install_files first"

# --- read and check the list
dests=() srcs=() modes=()
while read -r m dest src rest; do
	case $m in '#'* | '') continue ;; esac
	[ -z "$rest" ] || die "$list: more than three fields: $m $dest $src $rest"
	case $m in 0755 | 0644) ;; *) die "$list: mode '$m' is neither 0755 nor 0644" ;; esac
	case /$dest/ in
	*/../* | */./* | //*) die "$list: destination '$dest' is not a plain relative path" ;;
	esac
	[ -f "$from/$src" ] || die "$list: $from/$src is missing"
	modes+=("$m") dests+=("$dest") srcs+=("$from/$src")
done <"$list"
[ "${#dests[@]}" -gt 0 ] || die "$list lists no file"

for i in "${!dests[@]}"; do
	[ "${dests[i]}" = bin/instar ] || continue
	version=$("${srcs[i]}" --version) || die "${srcs[i]} --version failed"
	first=$("${srcs[i]}" seccomp 2>/dev/null | sed -n 1p) || true
	case $first in
	*policy_sanitizer*) die "${srcs[i]} is a sanitizer build (bazel test --config=asan leaves one): rebuild without --config=asan" ;;
	esac
	say "installing $version"
done

# --- an earlier install goes first
if [ -f "$DESTDIR$MANIFEST" ]; then
	say "removing the earlier install ($DESTDIR$MANIFEST)"
	uninstall || die "the earlier install has changed files (named above): remove or restore them, then run this again"
fi

# --- install, recording files and the directories created
created=()
make_dir() {   # DIR (a target path): create it, recording what was new
	local d=$1 new=()
	while [ "$d" != / ] && [ -n "$d" ] && [ ! -e "$DESTDIR$d" ]; do
		new+=("$d")
		d=$(dirname "$d")
	done
	[ -d "$DESTDIR$1" ] || install -d -m 0755 "$DESTDIR$1"
	created+=("${new[@]}")
}

tmp_manifest=$(mktemp)
trap 'rm -f "$tmp_manifest"' EXIT
{
	echo "# instar install manifest: written by scripts/install.sh, read by"
	echo "# scripts/install.sh --uninstall. Paths without DESTDIR."
} >"$tmp_manifest"
make_dir "$(dirname "$MANIFEST")"
for i in "${!dests[@]}"; do
	target=$PREFIX/${dests[i]}
	make_dir "$(dirname "$target")"
	install -m "${modes[i]}" "${srcs[i]}" "$DESTDIR$target"
	printf 'file %s %s\n' "$(sha256sum <"$DESTDIR$target" | cut -d' ' -f1)" "$target" >>"$tmp_manifest"
	say "installed $DESTDIR$target"
done
for d in "${created[@]}"; do
	printf 'dir %s\n' "$d" >>"$tmp_manifest"
done
install -m 0644 "$tmp_manifest" "$DESTDIR$MANIFEST"
say "recorded in $DESTDIR$MANIFEST (bash scripts/install.sh --uninstall removes it all)"
