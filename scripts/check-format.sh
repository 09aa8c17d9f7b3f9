#!/usr/bin/env bash
# Fails when a C file differs from what .clang-format produces.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src tests bench -name '*.[ch]')
bad=0
for f in $files; do
    if ! clang-format --style=file --dry-run --Werror "$f" 2>/dev/null; then
        echo "format: $f differs from .clang-format; run: clang-format -i $f"
        bad=1
    fi
done
exit $bad
