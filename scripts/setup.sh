#!/usr/bin/env bash
# Installs what stemdesk needs to build, run and test on Debian 12:
# compilers and libraries from Debian's packages, Chromium for the browser
# tests, and the npm packages of package.json. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config clang-format
          libwebsockets-dev libwebsockets-evlib-ev libev-dev
          libjansson-dev libsqlite3-dev libpcre2-dev
          libcurl4-openssl-dev libstemmer-dev libsodium-dev libcmocka-dev
          sqlite3 curl)
if [ "${1:-}" = "--with-tests" ]; then
    packages+=(chromium fonts-dejavu-core)
    command -v node >/dev/null || packages+=(nodejs)
    command -v npm >/dev/null || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
        --no-install-recommends "${missing[@]}"
fi

# npm ci writes node_modules/.package-lock.json, so a lock file newer than
# it means the packages changed since the last install.
if [ "${1:-}" = "--with-tests" ] &&
    [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: installing npm packages for the tests"
    npm ci --no-audit --no-fund
fi
