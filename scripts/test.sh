#!/usr/bin/env bash
# scripts/test.sh: `make test`. Runs every suite against a private cluster:
#   regress    pg_regress, sql/ -> expected/
#   isolation  pg_isolation_regress, test/isolation/specs -> expected
#   pgtap      pg_prove, test/pgtap/*.sql
#   tap        prove, test/t/*.pl (PostgreSQL::Test::Cluster, own clusters)
#   upgrade    test/upgrade/run.sh: every release -> current, and uninstall
#   static     test/static/run.sh: layers, function size, error codes, symbols
# prints the diff of every failure, and ends with one line
# "N passed, N failed" counting the tests of every suite. Exit status is
# non-zero when anything failed.
#
# Options: --suite NAME (repeatable) runs only the named suites.
# SB_TAP="test/t/013_sqlsmith.pl ..." runs only those TAP files.
set -uo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$src/scripts/lib.sh"
sb_prepare "$src" scripts/test.sh "$@"

suites=()
while [ $# -gt 0 ]; do
    case $1 in
        --suite) suites+=("$2"); shift 2 ;;
        *) sb_die "unknown option $1" ;;
    esac
done
[ ${#suites[@]} -gt 0 ] || suites=(static regress isolation pgtap tap upgrade)

work=$(mktemp -d "${TMPDIR:-/tmp}/salesboard-test.XXXXXX")
cleanup() { sb_cluster_stop; rm -rf "$work"; sb_stage_cleanup; }
trap cleanup EXIT
trap 'exit 130' INT TERM

pgxs=$(dirname "$(dirname "$(dirname "$("$(sb_pg_config)" --pgxs)")")")
export PATH=$SB_BINDIR:$PATH
sb_cluster_start "$work/pg" "cron.host = '$work/pg'"

total_pass=0
total_fail=0
summary=()
note() { summary+=("$(printf '%-10s %4d passed, %4d failed' "$1" "$2" "$3")"); total_pass=$((total_pass + $2)); total_fail=$((total_fail + $3)); }

# pg_regress and pg_isolation_regress print one line per test:
#   "test name ... ok 12 ms" / "... FAILED" (PostgreSQL 15).
count_regress() {
    local out=$1 name=$2 rc=$3 diffs=$4 pass fail
    pass=$(grep -Ec '\.\.\. +ok' "$out")
    fail=$(grep -Ec '\.\.\. +FAILED|\.\.\. +failed' "$out")
    if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; cat "$out"; fi
    if [ "$fail" -gt 0 ] && [ -f "$diffs" ]; then
        echo "---- $name: differences (expected vs actual) ----"
        cat "$diffs"
    fi
    note "$name" "$pass" "$fail"
}

# TAP output (pg_prove -v, prove -v): count "ok"/"not ok" lines; a non-zero
# exit with no failing line (a died script, a bad plan) is one failure.
count_tap() {
    local out=$1 name=$2 rc=$3 pass fail
    pass=$(grep -Ec '^[[:space:]]*ok [0-9]+' "$out")
    fail=$(grep -Ec '^[[:space:]]*not ok [0-9]+' "$out")
    if [ "$rc" -ne 0 ] || [ "$fail" -gt 0 ]; then
        echo "---- $name: failures ----"
        grep -E -B2 -A12 '^[[:space:]]*not ok|Dubious|Bad plan|Parse errors|Failed|Error|ERROR' "$out" | head -300
        [ "$fail" -eq 0 ] && fail=1
    fi
    note "$name" "$pass" "$fail"
}

for suite in "${suites[@]}"; do
    case $suite in
    regress)
        echo "== regress (pg_regress)"
        out=$work/regress.out
        # shellcheck disable=SC2046
        "$pgxs/src/test/regress/pg_regress" --bindir="$SB_BINDIR" --host="$PGHOST" --port="$PGPORT" \
            --inputdir="$src" --outputdir="$work/regress" --dbname=contrib_regression \
            $(make -s --no-print-directory -C "$src" print-REGRESS) >"$out" 2>&1
        rc=$?; cat "$out"
        count_regress "$out" regress $rc "$work/regress/regression.diffs"
        ;;
    isolation)
        echo "== isolation (pg_isolation_regress)"
        out=$work/isolation.out
        # shellcheck disable=SC2046
        "$pgxs/src/test/isolation/pg_isolation_regress" --bindir="$SB_BINDIR" --host="$PGHOST" --port="$PGPORT" \
            --inputdir="$src/test/isolation" --outputdir="$work/isolation" --dbname=isolation_regression \
            --load-extension=salesboard $(make -s --no-print-directory -C "$src" print-ISOLATION) >"$out" 2>&1
        rc=$?; cat "$out"
        count_regress "$out" isolation $rc "$work/isolation/regression.diffs"
        ;;
    pgtap)
        echo "== pgtap (pg_prove)"
        out=$work/pgtap.out
        "$SB_BINDIR/createdb" salesboard_tap &&
            "$SB_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d salesboard_tap \
                -c 'CREATE EXTENSION pgtap; CREATE EXTENSION salesboard;' >/dev/null
        (cd "$src" && pg_prove -v --ext .sql -d salesboard_tap test/pgtap/) >"$out" 2>&1
        rc=$?; grep -Ev '^[[:space:]]*(ok [0-9]+|#)' "$out"
        count_tap "$out" pgtap $rc
        ;;
    tap)
        echo "== tap (prove, PostgreSQL::Test::Cluster)"
        out=$work/tap.out
        mkdir -p "$work/tap"
        (cd "$src" && TESTDIR="$work/tap" TESTDATADIR="$work/tap" PG_REGRESS="$pgxs/src/test/regress/pg_regress" \
            PGHOST= PGPORT= PGDATA= SB_SRC="$src" \
            prove -v -I "$pgxs/src/test/perl" -I "$src/test/t" ${SB_TAP:-test/t/*.pl}) >"$out" 2>&1
        rc=$?; grep -Ev '^[[:space:]]*(ok [0-9]+|#)' "$out"
        count_tap "$out" tap $rc
        ;;
    static)
        echo "== static (test/static/run.sh)"
        out=$work/static.out
        bash "$src/test/static/run.sh" "$src" >"$out" 2>&1
        rc=$?; cat "$out"
        count_tap "$out" static $rc
        ;;
    upgrade)
        echo "== upgrade (test/upgrade/run.sh)"
        out=$work/upgrade.out
        mkdir -p "$work/upgrade"
        bash "$src/test/upgrade/run.sh" "$src" "$work/upgrade" >"$out" 2>&1
        rc=$?; grep -Ev '^[[:space:]]*ok [0-9]+' "$out"
        count_tap "$out" upgrade $rc
        ;;
    *) sb_die "unknown suite $suite" ;;
    esac
done

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
