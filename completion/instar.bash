# instar(1) bash completion                                -*- shell-script -*-
# shellcheck shell=bash
#
# completion/instar.bash — installed as
# $PREFIX/share/bash-completion/completions/instar (scripts/install.sh),
# where bash-completion loads it the first time `instar` is completed.
# Also works sourced on its own, without bash-completion.
#
# What it offers, and where that comes from:
#   commands         the Commands list of `instar --help`
#   flags            the option lines of `instar [COMMAND] --help`; a
#                    flag whose line shows an argument (<FMT>, =X) takes
#                    the next word as its value
#   -o (amend)       the keys `instar amend -o help` lists, as KEY=, then
#                    their values (compat=0.10|1.1, lazy_refcounts=on|off)
#                    after the last comma of the -o argument
#   --output         human, json;  -f/--format: qcow2
#   anything else    file names (the image), everything after `--` too
# So the commands and flags cannot drift from the binary: they are read
# from the instar being completed (the one the command line names, else
# the one on PATH), run with --help only (and `amend -o help`), which
# opens no file. The values are known here; //tests/dist:completion_test
# checks them against the binary.
#
# Follows Debian's bash-completion conventions: _init_completion -s when
# bash-completion is loaded (its word splitting, redirections, --flag=X
# split into prev/cur, _filedir for files); without it a small fallback
# splits the line at blanks (quotes are not interpreted there).
# Trust: none needed; it only reads instar's own help texts.

# _instar_help PROGRAM [WORDS...]: PROGRAM WORDS... --help, in the C locale.
_instar_help()
{
    local prog=$1
    shift
    LC_ALL=C "$prog" "$@" --help 2>/dev/null
}

# The Commands list of `instar --help`, one name a line.
_instar_commands()
{
    _instar_help "$1" | awk '
        /^Commands:/ { on = 1; next }
        on && /^$/ { exit }
        on && /^  [a-z]/ { print $1 }'
}

# _instar_options PROGRAM [COMMAND]: "FLAG 1" (takes a value) or "FLAG 0"
# for each flag on the option lines (indented 1 to 6 blanks, starting
# with "-") of its --help.
_instar_options()
{
    _instar_help "$@" | awk '
        /^ +-/ {
            match($0, /^ +/)
            if (RLENGTH > 6) next
            col = substr($0, RLENGTH + 1)
            i = index(col, "  ")
            if (i) col = substr(col, 1, i - 1)
            val = (col ~ /[<=]/ || col ~ /^-[^ ,]+ [^-]/ || col ~ /, *--?[^ ,]+ [^-]/) ? 1 : 0
            n = split(col, part, /, */)
            for (k = 1; k <= n; k++) {
                f = part[k]
                sub(/[ =<[].*/, "", f)
                if (f ~ /^-/) print f, val
            }
        }'
}

# The keys of `instar amend -o help` ("  compat=<str> ..."), one a line.
_instar_amend_keys()
{
    LC_ALL=C "$1" amend -o help 2>/dev/null | sed -n 's/^  \([a-z_][a-z_0-9]*\)=.*/\1/p'
}

# The values of one -o key.
_instar_amend_values()
{
    case $1 in
        compat) echo 0.10 1.1 ;;
        lazy_refcounts) echo on off ;;
    esac
}

# -o for amend: complete the piece after the last comma of $cur; the
# pieces before it are kept, and a key already given is not offered.
_instar_amend_options()
{
    local prog=$1 given=${cur%"${cur##*,}"} piece=${cur##*,} key v
    COMPREPLY=()
    if [[ $piece == *=* ]]; then
        key=${piece%%=*}
        for v in $(_instar_amend_values "$key"); do
            [[ $key=$v == "$piece"* ]] && COMPREPLY+=("$given$key=$v")
        done
        return
    fi
    for key in $(_instar_amend_keys "$prog"); do
        [[ ,$given == *",$key="* ]] && continue
        [[ $key= == "$piece"* ]] && COMPREPLY+=("$given$key=")
    done
    [[ -z $given && help == "$piece"* ]] && COMPREPLY+=(help)
}

_instar_files()
{
    if declare -F _filedir >/dev/null; then
        _filedir
        return
    fi
    compopt -o filenames 2>/dev/null
    local IFS=$'\n'
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

# Without bash-completion: words/cword/cur/prev/split from the line up to
# the cursor, split at blanks; --flag=X becomes prev=--flag, cur=X.
_instar_init_fallback()
{
    local line=${COMP_LINE:0:COMP_POINT}
    read -ra words <<<"$line"
    [[ ${#words[@]} -eq 0 || $line == *[[:space:]] ]] && words+=("")
    cword=$((${#words[@]} - 1))
    ((cword > 0)) || return 1
    cur=${words[cword]}
    prev=${words[cword - 1]}
    split=false
    if [[ $cur == --?*=* ]]; then
        prev=${cur%%=*}
        cur=${cur#*=}
        split=true
    fi
}

# readline replaces only the text after the last COMP_WORDBREAKS
# character of the word (an "=" in "compat=1"): drop that much from each
# candidate, as bash-completion's __ltrim_colon_completions does for ":".
_instar_trim_wordbreaks()
{
    local i k=-1 pre
    for ((i = 0; i < ${#cur}; i++)); do
        [[ $COMP_WORDBREAKS == *"${cur:i:1}"* ]] && k=$i
    done
    ((k >= 0)) || return 0
    pre=${cur:0:k+1}
    for i in "${!COMPREPLY[@]}"; do
        COMPREPLY[i]=${COMPREPLY[i]#"$pre"}
    done
}

_instar()
{
    local cur prev words cword split=false
    if declare -F _init_completion >/dev/null; then
        _init_completion -s || return
    else
        _instar_init_fallback || return
    fi

    local prog=${words[0]} i cmd="" at=0 line flag takes
    # ~/bin/instar as typed: expand the tilde (the word is not evaluated)
    [[ $prog == \~/* ]] && prog=$HOME/${prog#\~/}
    type -P -- "$prog" >/dev/null 2>&1 || prog=instar

    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            -h | --help | -V | --version) return ;;   # nothing follows them
            -*) ;;
            *)
                cmd=${words[i]} at=$i
                break
                ;;
        esac
    done

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$(_instar_options "$prog" | cut -d' ' -f1)" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$(_instar_commands "$prog")" -- "$cur")
        fi
        return
    fi

    for ((i = at + 1; i < cword; i++)); do
        if [[ ${words[i]} == -- ]]; then
            _instar_files
            return
        fi
    done

    # Is prev a flag of this command that takes a value?
    takes=0
    while read -r flag line; do
        [[ $flag == "$prev" ]] && takes=$line
    done < <(_instar_options "$prog" "$cmd")

    if [[ $takes == 1 && ($split == true || $at -lt $((cword - 1))) ]]; then
        case $cmd:$prev in
            amend:-o | amend:--options) _instar_amend_options "$prog" ;;
            *:--output) mapfile -t COMPREPLY < <(compgen -W "human json" -- "$cur") ;;
            *:-f | *:--format) mapfile -t COMPREPLY < <(compgen -W "qcow2" -- "$cur") ;;
            *)
                _instar_files
                return
                ;;
        esac
        _instar_trim_wordbreaks
        for i in "${COMPREPLY[@]}"; do
            if [[ $i == *= ]]; then
                compopt -o nospace 2>/dev/null
                break
            fi
        done
        return
    fi
    [[ $split == true ]] && return   # --flag=X for a flag that takes none

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_instar_options "$prog" "$cmd" | cut -d' ' -f1)" -- "$cur")
        return
    fi
    _instar_files
} &&
    complete -F _instar instar

# ex: filetype=sh
