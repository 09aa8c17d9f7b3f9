#!/usr/bin/env bash
# Installs what is missing, builds stemdesk and serves the desk on its
# embedded defaults (127.0.0.1:8080, ./var/stemdesk.db, bundled content).
# Extra arguments go to `stemdesk serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target stemdesk -j"$(nproc)"
./build/stemdesk check
exec ./build/stemdesk serve "$@"
