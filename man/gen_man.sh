#!/bin/bash
# gen_man.sh — write instar's manual pages with help2man (Debian's
# help2man package) from the real binary's --help, so that a page
# cannot say anything its --help does not: instar(1) from `instar
# --help`, instar-COMMAND(1) from `instar COMMAND --help`, for each
# COMMAND given. Run by //man:pages at build time; why help2man:
# docs/packaging.md, "Manual pages".
#
#   NAME       instar(1): the paragraph after the Usage line of
#              `instar --help`; instar-COMMAND(1): COMMAND's summary in
#              its Commands list (a COMMAND that list does not have is
#              an error: no page for a command instar does not have)
#   footer     the first line of `instar --version` (version and source
#              revision); the date is STABLE_INSTAR_SOURCE_DATE from the
#              status file (build/workspace_status.sh) when it is there
#   SEE ALSO   the other pages, and qemu-img(1)
#
# Usage: gen_man.sh INSTAR STATUS_FILE OUTDIR COMMAND...
# Trusts: the instar binary it is given (it runs it with --help and
# --version only) and help2man.
set -euo pipefail

instar=$1 status=$2 outdir=$3
shift 3
commands=("$@")
export LC_ALL=C

die() {
	echo "gen_man.sh: $*" >&2
	exit 1
}
command -v help2man >/dev/null || die "help2man is missing (scripts/install-deps.sh installs it)"

version=$("$instar" --version) || die "'$instar --version' failed"
version=${version%%$'\n'*}
[[ $version == "instar "* ]] || die "unexpected --version output: $version"
help=$("$instar" --help) || die "'$instar --help' failed"

# The source date, for the footer (help2man reads SOURCE_DATE_EPOCH).
date=$(sed -n 's/^STABLE_INSTAR_SOURCE_DATE \([0-9][0-9]*\)$/\1/p' "$status" 2>/dev/null | head -n 1)
if [ -n "$date" ]; then
	export SOURCE_DATE_EPOCH=$date
else
	unset SOURCE_DATE_EPOCH
fi

# The paragraph after the Usage line, as one NAME line: "Work on ..."
# becomes "work on ..." without the final full stop.
top_name=$(awk '
	/^Usage:/ { state = 1; next }
	state == 1 && /^$/ { if (text != "") exit; next }
	state == 1 { text = text (text == "" ? "" : " ") $0 }
	END { print text }' <<<"$help")
top_name=${top_name%.}
top_name=$(printf '%s' "${top_name:0:1}" | tr '[:upper:]' '[:lower:]')${top_name:1}
[ -n "$top_name" ] || die "no description paragraph after the Usage line of 'instar --help'"

# COMMAND's summary in the Commands list of `instar --help`.
summary() {
	awk -v cmd="$1" '
		/^Commands:/ { on = 1; next }
		on && /^$/ { exit }
		on && $1 == cmd { sub(/^ *[^ ]+ +/, ""); print; exit }' <<<"$help"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pages=(instar)
for c in "${commands[@]}"; do
	pages+=("instar-$c")
done

# see_also PAGE: the SEE ALSO section for PAGE, as a help2man include.
see_also() {
	local p refs=()
	for p in "${pages[@]}"; do
		[ "$p" = "$1" ] || refs+=("$p")
	done
	refs+=(qemu-img)
	printf '[SEE ALSO]\n'
	for p in "${refs[@]}"; do
		[ "$p" = qemu-img ] && printf '.BR %s (1)\n' "$p" || printf '.BR %s (1),\n' "$p"
	done
}

run_help2man() { # PAGE NAME HELP_OPTION
	local page=$1 name=$2 opt=$3
	see_also "$page" >"$work/$page.h2m"
	help2man --no-info --section=1 --manual="User Commands" \
		--source="$version" --version-string="$page ${version#instar }" \
		--help-option="$opt" --name="$name" --include="$work/$page.h2m" \
		--output="$outdir/$page.1" "$instar" ||
		die "help2man failed for $page"
}

run_help2man instar "$top_name" --help
for c in "${commands[@]}"; do
	[[ $c =~ ^[a-z][a-z0-9-]*$ ]] || die "bad command name '$c'"
	s=$(summary "$c")
	[ -n "$s" ] || die "'$c' is not in the Commands list of 'instar --help': no page for a command instar does not have"
	run_help2man "instar-$c" "$s" "$c --help"
done
