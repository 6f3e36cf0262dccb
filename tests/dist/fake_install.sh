#!/bin/bash
# tests/dist/fake_install.sh — a broken scripts/install.sh, for
# install_selfcheck.sh: the same interface (--from DIR, --uninstall,
# DESTDIR, PREFIX), broken as FAKE_INSTALL_BREAK says:
#   forget-man         installs everything but the manual pages
#   keep-on-uninstall  --uninstall leaves the bash completion behind
# Only ever run with a DESTDIR under a test's temporary directory.
set -u
how=${FAKE_INSTALL_BREAK:?} from="" uninstall=0
while [ $# -gt 0 ]; do
	case $1 in
	--from) from=$2; shift ;;
	--uninstall) uninstall=1 ;;
	esac
	shift
done
[ -n "${DESTDIR:-}" ] || { echo "fake_install: DESTDIR is required" >&2; exit 2; }
root=$DESTDIR${PREFIX:-/usr/local}
m=$root/share/instar/install-manifest
if [ "$uninstall" = 1 ]; then
	[ -f "$m" ] || exit 1
	while read -r f; do
		[ "$how" = keep-on-uninstall ] && [[ $f == */completions/* ]] && continue
		rm -f "$f"
	done <"$m"
	rm -f "$m"
	find "$DESTDIR" -mindepth 1 -depth -type d -empty -delete
	exit 0
fi
[ -f "$m" ] && "$0" --uninstall
mkdir -p "$root/share/instar"
: >"$m"
while read -r mode dest src; do
	case $mode in '#'* | '') continue ;; esac
	[ "$how" = forget-man ] && [[ $dest == share/man/* ]] && continue
	mkdir -p "$(dirname "$root/$dest")"
	install -m "$mode" "$from/$src" "$root/$dest"
	echo "$root/$dest" >>"$m"
done <"$from/dist/install_files.txt"
