#!/usr/bin/env bash
# Checks the command line's usage paths: exit codes and messages.
set -u
bin=$1
failures=0

expect() { # expect EXIT_CODE PATTERN -- ARGS...
    local code=$1 pattern=$2
    shift 3
    local out
    out=$("$bin" "$@" 2>&1)
    local got=$?
    if [ "$got" -ne "$code" ] || ! grep -q -- "$pattern" <<<"$out"; then
        echo "FAIL: stemdesk $*: exit $got (expected $code), output:"
        echo "$out" | head -5
        failures=$((failures + 1))
    fi
}

expect 0 "usage: stemdesk COMMAND" -- --help
expect 2 "usage: stemdesk COMMAND" --
expect 2 'unknown command "frobnicate"' -- frobnicate
for cmd in serve check chat kb nlu-eval user conversation; do
    expect 0 "usage: stemdesk $cmd" -- "$cmd" --help
done
expect 2 "unknown option --colour" -- check --colour red
expect 2 '"abc" is not a whole number' -- check --port abc
expect 2 "port is 70000; expected a whole number from 1 to 65535" \
    -- check --port 70000
expect 2 "cannot read config file /nonexistent.json" \
    -- check --config /nonexistent.json
expect 2 'log level "loud" is invalid' -- check --log-level loud
# A web folder that cannot be served stops serve before it listens.
expect 1 'web_dir (--web-dir) "/nonexistent-web" cannot be served' \
    -- serve --web-dir /nonexistent-web --db-path /nonexistent-dir/x.db

if [ "$failures" -ne 0 ]; then
    echo "$failures failed"
    exit 1
fi
echo "all usage checks passed"
