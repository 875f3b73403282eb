#!/usr/bin/env bash
# Install ts-runc's manual pages and bash completion (made by the build into dist/man and
# dist/completion from the command table). scripts/setup.sh runs it; safe to run again.
#
#   bash scripts/install-docs.sh            under /usr/local: `man ts-runc-create` works
#   bash scripts/install-docs.sh /opt/x     under another prefix
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
prefix=${1:-/usr/local}

if [ ! -f dist/man/ts-runc.8 ] || [ ! -f dist/completion/ts-runc ]; then
  echo "install-docs.sh: dist/man or dist/completion is missing: run npm run build first" >&2
  exit 1
fi
man_dir=$prefix/share/man/man8
completion_dir=$prefix/share/bash-completion/completions
install -d "$man_dir" "$completion_dir"
install -m 0644 dist/man/*.8 "$man_dir/"
install -m 0644 dist/completion/ts-runc "$completion_dir/ts-runc"
# The index is only for apropos / man -k; man itself finds the pages without it.
if [ "$prefix" = /usr/local ] && command -v mandb >/dev/null; then mandb -q "$prefix/share/man" || true; fi
echo "manual pages in $man_dir, bash completion in $completion_dir/ts-runc"
