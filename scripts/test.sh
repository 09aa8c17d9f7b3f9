#!/usr/bin/env bash
# Installs what is missing, builds stemdesk with AddressSanitizer and
# UndefinedBehaviorSanitizer, checks the formatting and runs every test
# (unit, conversation, protocol, browser) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --with-tests
./scripts/check-format.sh
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DSTEMDESK_SANITIZE=ON \
    >/dev/null
cmake --build build-test -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-test --output-on-failure -j2 "$@"
