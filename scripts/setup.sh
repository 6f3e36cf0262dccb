#!/usr/bin/env bash
# setup.sh — the README's first command: install the Debian packages,
# build everything with Bazel (offline), install instar with its manual
# pages and bash completion under PREFIX (default /usr/local;
# scripts/install.sh), and run the demo with the installed `instar` on a
# sample image it creates.
#
# Installing into a PREFIX the user cannot write goes through sudo, with
# the outputs of the build just made (--no-build: Bazel never runs as
# root here).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bazel build //...

export PREFIX=${PREFIX:-/usr/local}
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	d=$PREFIX
	while [ ! -e "$d" ]; do d=$(dirname "$d"); done
	[ -w "$d" ] || sudo=(sudo env "PREFIX=$PREFIX")
fi
"${sudo[@]}" bash scripts/install.sh --no-build

instar=$PREFIX/bin/instar
if [ "$(command -v instar || true)" != "$instar" ]; then
	echo "setup: note: 'instar' on PATH is not $instar: add $PREFIX/bin to PATH"
fi
INSTAR=$instar bash scripts/demo.sh
