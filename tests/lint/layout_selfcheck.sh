#!/bin/bash
# tests/lint/layout_selfcheck.sh — layout_test.sh must be able to fail: a
# tree where the VM monitor includes the qcow2 codec, the contract
# includes <string.h>, the CLI reads a qcow2 field offset and one
# directory has no sources must fail it, naming each; the same tree with
# those lines removed must pass.
# Usage: layout_selfcheck.sh LAYOUT_TEST
set -u
TEST=$(readlink -f "$1")
JUNIT=$(readlink -f "${JUNIT_SH:-tests/lib/junit.sh}")
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/layout_selfcheck.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/junit.sh
source "$JUNIT"
junit_init layout_selfcheck "$WORK"

tree() {   # DIR BAD(0/1)
	local d=$1 bad=$2
	mkdir -p "$d"/{abi,src/qcow2,src/amend,src/image,src/cli,guest,sandbox,seccomp}
	printf '#include <stdint.h>\n' >"$d/abi/a.h"
	printf '#include "src/qcow2/q.h"\n' >"$d/src/qcow2/q.c"
	printf '#include "src/qcow2/q.h"\n#include "src/amend/a.h"\n' >"$d/src/amend/a.c"
	printf '#include "abi/a.h"\n#include "src/amend/a.h"\n' >"$d/guest/g.c"
	printf '#include "abi/a.h"\n#include <linux/kvm.h>\n' >"$d/sandbox/s.c"
	printf '#include "src/image/i.h"\n#include "abi/a.h"\n' >"$d/src/image/i.c"
	printf '#include "seccomp/p.h"\n' >"$d/seccomp/p.c"
	printf 'int main(void) { return 0; }\n' >"$d/src/cli/m.c"
	if [ "$bad" = 1 ]; then
		printf '#include "src/qcow2/qcow2_header.h"\n' >>"$d/sandbox/s.c"
		printf '#include <string.h>\n' >>"$d/abi/a.h"
		printf 'int v = QCOW2_OFF_VERSION;\n' >>"$d/src/cli/m.c"
		rm "$d/seccomp/p.c"
	fi
	(cd "$d" && find . -type f | sed 's#^\./##' | sort)
}

run() {   # DIR: run the test there on the tree's files
	local d=$1
	mapfile -t files < <(cd "$d" && find . -type f -name '*.[ch]' | sed 's#^\./##' | sort)
	(cd "$d" && XML_OUTPUT_FILE="$d.xml" JUNIT_SH="$JUNIT" bash "$TEST" "${files[@]}") >"$d.log" 2>&1
}

tree "$WORK/bad" 1 >/dev/null
run "$WORK/bad"
rc=$?
missing=""
[ $rc -ne 0 ] || missing+="the test passed a broken tree; "
for want in 'sandbox/s.c:3: includes "src/qcow2/qcow2_header.h"' \
	'abi/a.h:2: includes <string.h>' \
	'src/cli/m.c:2:int v = QCOW2_OFF_VERSION' \
	'no source of seccomp was given'; do
	grep -qF -- "$want" "$WORK/bad.log" || missing+="not reported: $want; "
done
if [ -z "$missing" ]; then
	junit_case "a broken tree fails, each break named" pass "" 0 "$(cat "$WORK/bad.log")"
else
	junit_case "a broken tree fails, each break named" fail "${missing%; }
$(cat "$WORK/bad.log")"
fi

tree "$WORK/good" 0 >/dev/null
if run "$WORK/good"; then
	junit_case "the same tree without the breaks passes" pass
else
	junit_case "the same tree without the breaks passes" fail "$(cat "$WORK/good.log")"
fi
junit_finish
