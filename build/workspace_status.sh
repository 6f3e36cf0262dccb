#!/bin/sh
# workspace_status.sh — Bazel's --workspace_status_command (.bazelrc):
# prints the keys that stamped actions may read from
# bazel-out/stable-status.txt. Only //src/cli:revision_c (the source
# revision in `instar --version`) and //man:pages (the date of the
# manual pages) read them; no other action is stamped, so nothing else
# is rebuilt when they change.
#
#   STABLE_INSTAR_REVISION     git <abbreviated HEAD>[-dirty], or unknown
#   STABLE_INSTAR_SOURCE_DATE  seconds since the epoch: $SOURCE_DATE_EPOCH
#                              when set (as Debian's packaging sets it),
#                              else HEAD's commit time; absent when neither
#                              is known
#
# The revision is git's only when the workspace is the top of a git work
# tree (a tarball unpacked inside some other repository is not that
# repository's commit). "-dirty": a tracked file differs from HEAD, in
# the index or the work tree; untracked files do not count (as with
# `git describe --dirty`). Runs offline, reads the repository without
# taking its index lock (GIT_OPTIONAL_LOCKS=0), and always exits 0:
# without git, or outside a work tree, the answer is `unknown`.
# Runs in the workspace root (Bazel's working directory for it).
# Trusts: git.
set -u

revision=unknown
date=""
here=$(pwd -P)
if command -v git >/dev/null 2>&1 &&
	top=$(git rev-parse --show-toplevel 2>/dev/null) &&
	[ "$(cd "$top" 2>/dev/null && pwd -P)" = "$here" ] &&
	head=$(git rev-parse --short HEAD 2>/dev/null); then
	revision="git $head"
	if changes=$(GIT_OPTIONAL_LOCKS=0 git status --porcelain \
		--untracked-files=no 2>/dev/null); then
		[ -z "$changes" ] || revision="$revision-dirty"
	else
		revision=unknown   # a HEAD but no readable status: say nothing
	fi
	date=$(git log -1 --format=%ct HEAD 2>/dev/null) || date=""
fi
case ${SOURCE_DATE_EPOCH:-} in
'' | *[!0-9]*) ;;
*) date=$SOURCE_DATE_EPOCH ;;
esac

echo "STABLE_INSTAR_REVISION $revision"
case $date in
'' | *[!0-9]*) ;;
*) echo "STABLE_INSTAR_SOURCE_DATE $date" ;;
esac
exit 0
