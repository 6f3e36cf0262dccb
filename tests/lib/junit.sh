# junit.sh — the one JUnit writer of the shell test suites (cli_test,
# differential, hostile, locks, crash, lying_guest, the fuzz smoke run,
# count_results_test): each records one testcase per check and
# junit_finish writes the $XML_OUTPUT_FILE that the CI's counter reads
# (tests/count_results.py). Trusts nothing; it only formats (with
# python3 for xml_chars).
#
# Use:
#   junit_init SUITE WORKDIR
#   junit_case NAME pass|fail|skip [MESSAGE] [SECONDS] [OUTPUT] [CLASS]
#   junit_cases FILE             (one case per line of FILE, in bulk:
#                                 below)
#   record NAME OK MESSAGE       (OK 0: pass; anything else: fail)
#   record_skip NAME REASON      (printed: a skip always says why)
#   junit_finish                 (writes the XML, prints
#                                 "SUITE: N passed, N failed[, N skipped]",
#                                 returns non-zero if any case failed)
# MESSAGE and OUTPUT are cut to 20 000 bytes; control characters XML
# cannot hold are dropped; bytes that are not UTF-8 are written as \xNN.
# shellcheck shell=bash

junit_init() {   # SUITE WORKDIR
	JUNIT_SUITE=$1
	JUNIT_WORK=$2
	XML_CASES="$JUNIT_WORK/.junit_cases.xml"
	: >"$XML_CASES"
	PASS=0
	FAIL=0
	SKIP=0
}

xml_escape() {
	tr -d '\000-\010\013\014\016-\037' |
		sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

junit_case() {   # NAME pass|fail|skip [MESSAGE] [SECONDS] [OUTPUT] [CLASS]
	local name=$1 verdict=$2 msg=${3:-} secs=${4:-0} out=${5:-} class=${6:-$JUNIT_SUITE}
	local ename eclass first
	ename=$(printf '%s' "$name" | xml_escape)
	eclass=$(printf '%s' "$class" | xml_escape)
	{
		printf '  <testcase classname="%s" name="%s" time="%s">' "$eclass" "$ename" "$secs"
		case $verdict in
		pass) ;;
		fail)
			first=$(printf '%s' "$msg" | head -1 | head -c 500 | xml_escape)
			printf '<failure message="%s">' "${first:-failed}"
			printf '%s' "$msg" | head -c 20000 | xml_escape
			printf '</failure>'
			;;
		skip)
			first=$(printf '%s' "$msg" | head -1 | head -c 500 | xml_escape)
			printf '<skipped message="%s"/>' "${first:-skipped without a reason}"
			;;
		*)
			printf '<failure message="junit_case: verdict %s">bad verdict</failure>' \
				"$(printf '%s' "$verdict" | xml_escape)"
			verdict=fail
			;;
		esac
		[ -n "$out" ] && printf '<system-out>%s</system-out>' \
			"$(printf '%s' "$out" | head -c 20000 | xml_escape)"
		printf '</testcase>\n'
	} >>"$XML_CASES"
	case $verdict in
	pass) PASS=$((PASS + 1)) ;;
	skip)
		SKIP=$((SKIP + 1))
		echo "SKIP $name: ${msg:-no reason given}" >&2
		;;
	*)
		FAIL=$((FAIL + 1))
		echo "FAIL $name: $(printf '%s' "$msg" | head -c 2000)" >&2
		;;
	esac
}

# junit_cases FILE: one testcase per line of FILE, four tab-separated
# fields (none may hold a tab or a newline):
#   CLASS  NAME  pass|fail|skip  TEXT
# TEXT is a pass's OUTPUT, a failure's MESSAGE, a skip's reason. The
# cases junit_case would write for them, counted and printed (FAIL and
# SKIP lines on stderr) as it does, but made in three processes for the
# whole file: junit_case costs a dozen forks a case, too many for the
# thousands of cases of the hostile corpus. (Control characters go
# before the cut to 500 and 20 000 bytes, not after.)
junit_cases() {   # FILE
	local counts p f s
	# shellcheck disable=SC2016 # $1.. in the program are awk's fields
	counts=$(LC_ALL=C tr -d '\000-\010\013\014\016-\037' <"$1" |
		LC_ALL=C awk -F'\t' -v xml="$XML_CASES" '
		function esc(t) {
			gsub(/&/, "\\&amp;", t); gsub(/</, "\\&lt;", t)
			gsub(/>/, "\\&gt;", t); gsub(/"/, "\\&quot;", t)
			return t
		}
		{
			head = "  <testcase classname=\"" esc($1) "\" name=\"" esc($2) "\" time=\"0\">"
			if ($3 == "pass") {
				p++
				body = $4 == "" ? "" : "<system-out>" esc(substr($4, 1, 20000)) "</system-out>"
			} else if ($3 == "skip") {
				s++
				body = "<skipped message=\"" esc($4 == "" ? "skipped without a reason" : substr($4, 1, 500)) "\"/>"
				print "SKIP " $2 ": " ($4 == "" ? "no reason given" : $4) >"/dev/stderr"
			} else {
				f++
				msg = $3 == "fail" ? $4 : "junit_cases: verdict " $3
				body = "<failure message=\"" esc(msg == "" ? "failed" : substr(msg, 1, 500)) "\">" esc(substr(msg, 1, 20000)) "</failure>"
				print "FAIL " $2 ": " substr(msg, 1, 2000) >"/dev/stderr"
			}
			print head body "</testcase>" >>xml
		}
		END { print p + 0, f + 0, s + 0 }')
	read -r p f s <<<"$counts"
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
	SKIP=$((SKIP + s))
}

record() {   # NAME OK(0/1) MESSAGE
	if [ "$2" = 0 ]; then
		junit_case "$1" pass
	else
		junit_case "$1" fail "$3"
	fi
}

record_skip() {   # NAME REASON
	junit_case "$1" skip "$2"
}

# xml_chars: stdin to stdout with every byte sequence XML 1.0 cannot
# hold made visible instead: bytes that are not UTF-8 (a truncated
# sequence, an overlong form, a surrogate, 0xff: image names in the
# suites' outputs hold all of these) as \xNN, and the code points XML
# excludes (U+FFFE, U+FFFF) as \uNNNN. The counter's XML parser refuses
# the whole file over one such byte (tests/count_results.py).
xml_chars() {
	python3 -c '
import re, sys
text = sys.stdin.buffer.read().decode("utf-8", "backslashreplace")
bad = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
sys.stdout.buffer.write(bad.sub(lambda m: "\\u%04x" % ord(m.group()), text).encode())
'
}

junit_finish() {   # writes the XML; returns non-zero if any check failed
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		printf '<testsuites><testsuite name="%s" tests="%d" failures="%d" skipped="%d">\n' \
			"$(printf '%s' "$JUNIT_SUITE" | xml_escape)" $((PASS + FAIL + SKIP)) "$FAIL" "$SKIP"
		xml_chars <"$XML_CASES"
		echo '</testsuite></testsuites>'
	} >"${XML_OUTPUT_FILE:-$JUNIT_WORK/test.xml}"
	if [ "$SKIP" -gt 0 ]; then
		echo "$JUNIT_SUITE: $PASS passed, $FAIL failed, $SKIP skipped"
	else
		echo "$JUNIT_SUITE: $PASS passed, $FAIL failed"
	fi
	[ "$FAIL" -eq 0 ]
}
