#!/bin/bash
# tests/dist/completion_test.sh — drive instar's bash completion
# (completion/instar.bash) as readline would, and check the candidates:
# COMP_WORDS is split the way readline splits a line (blanks, and runs
# of COMP_WORDBREAKS characters such as "=" as words of their own), the
# completion function is the one `complete -p instar` names, and
# `compopt -o nospace` is recorded. Every case runs twice: with Debian's
# bash-completion loaded (_init_completion, _filedir) and without it
# (the file's own fallback). One JUnit testcase per case and mode.
#
# What is checked: commands and flags equal what `instar --help` and
# `instar COMMAND --help` list (read here with grep, not with the
# completion's parser); -o keys and values, --output and -f values,
# a "KEY=" candidate without a trailing space, file names for the image
# and after "--"; and every value offered is one instar's parser accepts
# (exit status 1 on a missing file, not 2).
#
# Usage: completion_test.sh COMPLETION_FILE INSTAR
# Needs bash-completion (scripts/install-deps.sh).
set -uo pipefail
export LC_ALL=C

COMPLETION=$(readlink -f "${1:?usage: completion_test.sh COMPLETION_FILE INSTAR}")
INSTAR=$(readlink -f "${2:?usage: completion_test.sh COMPLETION_FILE INSTAR}")
BASH_COMPLETION=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/completion_test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-tests/lib/junit.sh}" || { echo "completion_test: cannot source junit.sh" >&2; exit 2; }
junit_init completion_test "$WORK"

# `instar` on PATH is the binary under test; the files to complete.
mkdir -p "$WORK/bin" "$WORK/files/sub"
ln -s "$INSTAR" "$WORK/bin/instar"
export PATH="$WORK/bin:$PATH"
cd "$WORK/files" || exit 2
: >disk.qcow2
: >other.img
: >./-odd.qcow2

# complete MODE LINE: the candidates for LINE (cursor at its end), sorted,
# one a line, then "(nospace)" if the function asked for no space.
# shellcheck disable=SC2016 # the inner bash expands these, not this one
complete_line() {
	bash --norc --noprofile -c '
		mode=$1 line=$2
		if [ "$mode" = bash-completion ]; then
			source "$4" || { echo "(cannot load bash-completion)"; exit 0; }
			declare -F _init_completion >/dev/null || { echo "(no _init_completion)"; exit 0; }
		fi
		source "$3" || { echo "(cannot load the completion)"; exit 0; }
		spec=$(complete -p instar 2>/dev/null) || { echo "(no completion for instar)"; exit 0; }
		fn=$(printf "%s\n" "$spec" | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
		[ -n "$fn" ] || { echo "(no -F function: $spec)"; exit 0; }
		NOSPACE=0
		compopt() { [[ " $* " == *" -o nospace "* ]] && NOSPACE=1; return 0; }
		# readline: blanks separate words; a run of COMP_WORDBREAKS
		# characters is a word of its own; a line ending in a blank
		# ends with an empty word.
		COMP_WORDS=() word="" kind=""
		for ((i = 0; i < ${#line}; i++)); do
			c=${line:i:1}
			if [[ $c == [[:space:]] ]]; then
				[ -n "$word" ] && COMP_WORDS+=("$word")
				word="" kind=""
			elif [[ $COMP_WORDBREAKS == *"$c"* ]]; then
				if [ "$kind" = b ]; then word+=$c; else
					[ -n "$word" ] && COMP_WORDS+=("$word")
					word=$c kind=b
				fi
			else
				if [ "$kind" = w ]; then word+=$c; else
					[ -n "$word" ] && COMP_WORDS+=("$word")
					word=$c kind=w
				fi
			fi
		done
		COMP_WORDS+=("$word")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$line COMP_POINT=${#line} COMP_TYPE=9 COMP_KEY=9
		COMPREPLY=()
		"$fn" instar "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		{
			printf "%s\n" "${COMPREPLY[@]}"
			[ "$NOSPACE" = 1 ] && echo "(nospace)"
		} | sed "/^$/d" | sort -u
		exit 0
	' completion_line "$1" "$2" "$COMPLETION" "$BASH_COMPLETION" 2>&1
}

# The flags of `instar [COMMAND] --help`, found with grep: every -x or
# --word at the start of an option line (indented 2 to 6 blanks) or
# after its ", ".
help_flags() {
	"$INSTAR" "$@" --help 2>/dev/null | grep -E '^ {2,6}-' | sed -E 's/^ +//; s/  .*//' |
		grep -oE '(^|, )--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^, //' | sort -u
}
help_commands() {
	"$INSTAR" --help | sed -n '/^Commands:/,/^$/p' | grep -E '^  [a-z]' | awk '{print $1}' | sort -u
}

lines() { printf '%s\n' "$@" | sed '/^$/d' | sort -u; }
# one_of WORD LIST...: is WORD one of LIST? (No `printf | grep -q`: under
# pipefail, grep leaving early can fail the pipeline with SIGPIPE.)
one_of() {
	local w=$1 x
	shift
	for x in "$@"; do [ "$x" = "$w" ] && return 0; done
	return 1
}
flat() { tr '\n' ' ' <<<"$1" | sed 's/ *$//'; }

# expect NAME LINE CANDIDATES... : exactly these candidates.
# A candidate "(nospace)" says the function must ask for no space.
expect() {
	local name=$1 line=$2 mode got want
	shift 2
	want=$(lines "$@")
	for mode in bash-completion plain; do
		got=$(complete_line "$mode" "$line")
		if [ "$got" = "$want" ]; then
			junit_case "$name" pass "" 0 "'$line' -> $(flat "$got")" "completion.$mode"
		else
			junit_case "$name" fail "'$line<TAB>': got [$(flat "$got")], want [$(flat "$want")]" 0 "" "completion.$mode"
		fi
	done
}
# expect_has NAME LINE CANDIDATES...: at least these (files: the two
# modes may differ in how they mark directories).
expect_has() {
	local name=$1 line=$2 mode got c missing
	shift 2
	for mode in bash-completion plain; do
		got=$(complete_line "$mode" "$line")
		missing=""
		for c in "$@"; do
			grep -qxF -- "$c" <<<"$got" || missing+=" $c"
		done
		if [ -z "$missing" ]; then
			junit_case "$name" pass "" 0 "'$line' -> $(flat "$got")" "completion.$mode"
		else
			junit_case "$name" fail "'$line<TAB>': missing$missing in [$(flat "$got")]" 0 "" "completion.$mode"
		fi
	done
}

if [ ! -r "$BASH_COMPLETION" ]; then
	junit_case "bash-completion is installed" fail "$BASH_COMPLETION is missing (scripts/install-deps.sh installs bash-completion)"
fi

mapfile -t commands < <(help_commands)
mapfile -t top_flags < <(help_flags)
mapfile -t amend_flags < <(help_flags amend)
mapfile -t seccomp_flags < <(help_flags seccomp)

# The test's own reading of --help must have found what instar has.
missing=""
for w in amend seccomp; do
	one_of "$w" "${commands[@]}" || missing+=" command $w"
done
for w in -h --help -V --version; do
	one_of "$w" "${top_flags[@]}" || missing+=" $w"
done
for w in -f --format -o --options -q --quiet --output --stats -h --help; do
	one_of "$w" "${amend_flags[@]}" || missing+=" amend $w"
done
one_of --pfc "${seccomp_flags[@]}" || missing+=" seccomp --pfc"
if [ -z "$missing" ]; then
	junit_case "the help texts list what instar has" pass
else
	junit_case "the help texts list what instar has" fail "not found in the --help texts:$missing"
fi

expect "commands: those of instar --help" "instar " "${commands[@]}"
expect "a command by its prefix" "instar am" amend
expect "top-level flags: those of instar --help" "instar -" "${top_flags[@]}"
expect "nothing after --version" "instar --version "
expect "amend flags: those of instar amend --help" "instar amend -" "${amend_flags[@]}"
expect "a flag by its prefix" "instar amend --out" --output
expect "seccomp flags: those of instar seccomp --help" "instar seccomp -" "${seccomp_flags[@]}"
expect "no flags of an unknown command" "instar frob -"
expect "--output VALUE" "instar amend --output " human json
expect "--output=VALUE" "instar amend --output=" human json
expect "--output=j" "instar amend --output=j" json
expect "-f VALUE" "instar amend -f " qcow2
expect "--format=VALUE" "instar amend --format=" qcow2
expect "-o: the keys, without a space after =" "instar amend -o " "compat=" "lazy_refcounts=" help "(nospace)"
expect "-o key by its prefix" "instar amend -o comp" "compat=" "(nospace)"
expect "--options=key" "instar amend --options=la" "lazy_refcounts=" "(nospace)"
expect "-o compat values" "instar amend -o compat=" 0.10 1.1
expect "-o compat value by its prefix" "instar amend -o compat=1" 1.1
expect "-o lazy_refcounts values" "instar amend -o lazy_refcounts=" on off
expect "-o after a comma: the other key" "instar amend -o compat=1.1," "1.1,lazy_refcounts=" "(nospace)"
expect "-o value after a comma" "instar amend -o compat=1.1,lazy_refcounts=of" off
expect "-o after both keys: nothing" "instar amend -o compat=1.1,lazy_refcounts=on,"
expect_has "the image: file names" "instar amend -o compat=1.1 " disk.qcow2 other.img
expect "the image by its prefix" "instar amend -o compat=1.1 di" disk.qcow2
expect "flags without a value do not take the next word" "instar amend -q --stats --output json -o compat=1.1 di" disk.qcow2
expect "after --: file names, even with a dash" "instar amend -o compat=1.1 -- -" -odd.qcow2

# Every value offered is one instar accepts: exit status 1 (the missing
# file), never 2 (a bad command line).
bad=""
values_of() { complete_line plain "$1" | grep -v '^(nospace)$'; }
try() {   # ARGS...: instar amend ARGS /nonexistent must not exit 2
	"$INSTAR" amend "$@" "$WORK/no such image" >/dev/null 2>&1
	[ $? -ne 2 ] || bad+=" [$*]"
}
for v in $(values_of "instar amend -o compat="); do try -o "compat=$v"; done
for v in $(values_of "instar amend -o lazy_refcounts="); do try -o "lazy_refcounts=$v"; done
for v in $(values_of "instar amend --output "); do try --output "$v" -o compat=1.1; done
for v in $(values_of "instar amend -f "); do try -f "$v" -o compat=1.1; done
for k in $(values_of "instar amend -o "); do
	case $k in
	help) ;;
	*=) grep -q "^  $k" <<<"$("$INSTAR" amend -o help)" || bad+=" key $k not in 'instar amend -o help'" ;;
	*) bad+=" key '$k'" ;;
	esac
done
if [ -z "$bad" ]; then
	junit_case "every value offered is accepted by instar" pass
else
	junit_case "every value offered is accepted by instar" fail "refused as a bad command line (exit 2) or unknown:$bad"
fi

junit_finish
