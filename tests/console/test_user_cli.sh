#!/usr/bin/env bash
# Checks `stemdesk user`: add with the password on standard input, list,
# set, remove, and the errors for a duplicate name, an unknown role, a
# missing role, an invalid name, an empty or short password and an invalid
# display name. Usage:
# test_user_cli.sh STEMDESK_BINARY
set -u
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db=$dir/stemdesk.db
password='correct horse battery staple'
failures=0
checks=0

# expect EXIT_CODE PATTERN STDIN -- ARGS...: runs `stemdesk ARGS --db-path
# DB` with STDIN on standard input and checks the exit code and output.
expect() {
    local code=$1 pattern=$2 input=$3
    shift 4
    local out got
    out=$(printf '%s' "$input" | "$bin" "$@" --db-path "$db" 2>&1)
    got=$?
    checks=$((checks + 1))
    if [ "$got" -ne "$code" ] || ! grep -q -- "$pattern" <<<"$out"; then
        echo "FAIL: stemdesk $*: exit $got (expected $code and" \
             "\"$pattern\"), output:"
        echo "$out" | head -5
        failures=$((failures + 1))
    fi
}

# refute PATTERN -- ARGS...: the output of the command must not match.
refute() {
    local pattern=$1
    shift 2
    local out
    out=$("$bin" "$@" --db-path "$db" 2>&1 </dev/null)
    checks=$((checks + 1))
    if grep -q -- "$pattern" <<<"$out"; then
        echo "FAIL: stemdesk $*: output contains \"$pattern\":"
        echo "$out" | head -5
        failures=$((failures + 1))
    fi
}

expect 0 "no accounts; add one with" "" -- user list
expect 0 "added an (advisor)" "$password"$'\n' -- user add an --role advisor
expect 0 "added ed (editor)" "$password"$'\n' -- user add ed --role editor
expect 0 "added root (admin)" "$password" -- user add root --role admin
expect 0 "an  *advisor" "" -- user list
expect 0 "ed  *editor" "" -- user list
expect 0 "root  *admin" "" -- user list
refute "$password" -- user list

expect 1 'an account named "an" exists; remove it first' "$password"$'\n' \
    -- user add an --role editor
expect 0 "an  *advisor" "" -- user list
expect 2 'invalid --role "boss"; use advisor, editor or admin' \
    "$password"$'\n' -- user add bo --role boss
expect 2 'missing --role; use advisor, editor or admin' \
    "$password"$'\n' -- user add bo
expect 1 "invalid password: use 10 to 1024 characters (got 0)" $'\n' \
    -- user add bo --role advisor
expect 1 "expected the password as one line on standard input" "" \
    -- user add bo --role advisor
expect 1 "invalid password: use 10 to 1024 characters (got 5)" $'short\n' \
    -- user add bo --role advisor
expect 2 'invalid account name "Bad Name"; use 1 to 64 characters' \
    "$password"$'\n' -- user add "Bad Name" --role advisor
refute "^bo " -- user list

# Display names: given with add, changed with set, listed, audited.
expect 0 "an  *advisor  *-$" "" -- user list
expect 0 "added anja (advisor)" "$password"$'\n' \
    -- user add anja --role advisor --display-name "Anja Peeters"
expect 0 "anja  *advisor  *Anja Peeters$" "" -- user list
expect 0 'display name of an set to "An Verhoeven-Dûchateau"' "" \
    -- user set an --display-name "An Verhoeven-Dûchateau"
expect 0 "an  *advisor  *An Verhoeven-Dûchateau$" "" -- user list
expect 0 " an  *display_name  *-$" "" -- user audit

expect 2 "missing --display-name; give the name that visitors see" "" \
    -- user set an
expect 2 "invalid display name: it is empty" "" \
    -- user set an --display-name ""
expect 2 "invalid display name: 61 characters, the maximum is 60" "" \
    -- user set an --display-name "$(printf 'a%.0s' {1..61})"
expect 0 "display name of an set to" "" \
    -- user set an --display-name "$(printf 'é%.0s' {1..60})"
expect 2 "character 3 is the control or formatting character U+0009" "" \
    -- user set an --display-name $'An\tVerhoeven'
expect 2 "byte 4 is not valid UTF-8" "" \
    -- user set an --display-name $'An \xff'
expect 2 'invalid display name " An": it starts or ends with a space' "" \
    -- user set an --display-name " An"
expect 1 'no account named "nobody"' "" \
    -- user set nobody --display-name "Niemand"
expect 2 "invalid display name: it is empty" "$password"$'\n' \
    -- user add bo --role advisor --display-name ""
refute "^bo " -- user list

expect 0 "removed an" "" -- user remove an
# Adding and removing are audited; a removed account keeps its name.
expect 0 " anja  *account_add  *-$" "" -- user audit
expect 0 " an (removed)  *account_remove  *-$" "" -- user audit
expect 0 " an (removed)  *display_name  *-$" "" -- user audit
expect 1 'no account named "an"' "" -- user remove an
refute "^an " -- user list
expect 0 "ed  *editor" "" -- user list
# A removed name can be used again.
expect 0 "added an (editor)" "$password"$'\n' -- user add an --role editor

if [ "$failures" -ne 0 ]; then
    echo "$failures of $checks checks failed"
    exit 1
fi
echo "all $checks user command checks passed"
