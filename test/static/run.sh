#!/usr/bin/env bash
# test/static/run.sh: checks of the sources themselves, in TAP
# (doc/DEVELOPING.md says why each rule exists):
#   layers     every #include of extension/ goes to a module of the same or
#              a lower rank in LAYERS below: no cycles, calls only downward
#   size       no function over 80 lines without a comment saying why
#              ("long because ..." in the comment above it)
#   spi        only spi.c runs SQL (SPI_execute*, SPI_prepare*) and only
#              spi.c uses PG_TRY; call sites rely on scopes that an abort
#              closes; a C++ file (phone.cpp) includes no PostgreSQL
#              header and calls no PostgreSQL function
#   errcodes   the SQLSTATEs of extension/errcodes.h and the table of
#              doc/reference.md are the same, and every code is expected
#              by at least one test
#   symbols    every C symbol an install or upgrade script binds exists,
#              and every SQL-callable C function is bound by one and named
#              sb_*
# Usage: test/static/run.sh [SRC]
set -uo pipefail
src=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ext=$src/extension

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
result() { # name, list of problems (empty: ok)
    if [ -z "$2" ]; then ok "$1"; else not_ok "$1"; printf '%s\n' "$2" | sed 's/^/#   /'; fi
}

# foundation, then services, then features, then the entry point; a module
# is a .c (or the .cpp of a C++ shim: phone) with its .h (headers without
# a .c: errcodes, tz_names)
LAYERS="errcodes tz_names calendar catalog spi rows calls texts phone
        config live sender rates protocol identity deals requests activities newdeal colour cards cardinfo inqueue textgrid
        transitions discipline board board_text board_json notify inbound funnel overdue funnel_text
        salesboard"
rank_of() {
    local i=0 m
    for m in $LAYERS; do
        [ "$m" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
    echo -1
}

# ---- layers
problems=""
for f in "$ext"/*.c "$ext"/*.cpp "$ext"/*.h; do
    [ -e "$f" ] || continue
    mod=$(basename "$f"); mod=${mod%.*}
    r=$(rank_of "$mod")
    if [ "$r" -lt 0 ]; then problems+="$mod is in no layer (add it to LAYERS and doc/DEVELOPING.md)"$'\n'; continue; fi
    for inc in $(sed -n 's/^#include "\([a-z_]*\)\.h"$/\1/p' "$f"); do
        [ -f "$ext/$inc.h" ] || continue
        ri=$(rank_of "$inc")
        if [ "$ri" -gt "$r" ]; then problems+="$(basename "$f") includes $inc.h, which is above it"$'\n'; fi
    done
done
result "every include goes to the same or a lower layer (no cycles)" "${problems%$'\n'}"

# ---- size
problems=$(awk '
    FNR == 1 { comment = ""; in_comment = 0 }
    /^\/\*/ { in_comment = 1; comment = "" }
    in_comment { comment = comment " " $0 }
    /\*\// { in_comment = 0 }
    /^[a-zA-Z_][a-zA-Z0-9_ *]*\(/ && !/;$/ { name = $0; start = FNR; why = (comment ~ /long because/) }
    /^}/ && start { len = FNR - start; if (len > 80 && !why) printf "%s: %s is %d lines\n", FILENAME, name, len; start = 0; comment = "" }
' "$ext"/*.c "$ext"/*.cpp 2>/dev/null | sed "s|$ext/||")
result "no function over 80 lines without a comment saying why" "$problems"

# ---- spi
problems=$(grep -nE 'SPI_execute|SPI_prepare|PG_TRY' "$ext"/*.c | grep -v "^$ext/spi.c:" | sed "s|$ext/||")
result "only spi.c runs SQL and catches errors" "$problems"
# a C++ shim never touches PostgreSQL: a longjmp of ereport through C++
# frames skips their destructors (doc/DEVELOPING.md, phone.cpp)
problems=$(grep -nE '#include *[<"](postgres|fmgr|utils/|executor/|access/)|palloc[a-z0-9_]*\(|ereport\(|elog\(|PG_TRY' "$ext"/*.cpp 2>/dev/null | sed "s|$ext/||")
result "C++ files include no PostgreSQL header and call no PostgreSQL function" "$problems"

# ---- errcodes
codes_h=$(grep -o '/\* SB[0-9][0-9][0-9] \*/' "$ext/errcodes.h" | grep -o 'SB[0-9]*' | sort -u)
codes_doc=$(grep -oE '^\| SB[0-9]{3} \|' "$src/doc/reference.md" | grep -o 'SB[0-9]*' | sort -u)
problems=$(diff <(echo "$codes_h") <(echo "$codes_doc") | sed -n 's/^< \(.*\)/\1 is in errcodes.h but not in doc\/reference.md/p; s/^> \(.*\)/\1 is in doc\/reference.md but not in errcodes.h/p')
result "errcodes.h and the reference's error table list the same codes ($(echo "$codes_h" | wc -w))" "$problems"
problems=""
for c in $codes_h; do
    grep -rqs "$c" "$src/test/pgtap" "$src/test/isolation" "$src/sql" "$src/test/t" ||
        problems+="$c is expected by no test"$'\n'
done
result "every error code is expected by a test" "${problems%$'\n'}"

# ---- symbols
bound=$(cat "$ext"/salesboard--*.sql "$ext"/upgrade/*/*.sql 2>/dev/null |
    grep -oE "'MODULE_PATHNAME', *'[a-z_0-9]+'" | grep -oE "'[a-z_0-9]+'$" | tr -d "'" | sort -u)
defined=$(grep -ohE 'PG_FUNCTION_INFO_V1\([a-z_0-9]+\)' "$ext"/*.c | sed 's/PG_FUNCTION_INFO_V1(\(.*\))/\1/' | sort -u)
problems=$(diff <(echo "$bound") <(echo "$defined") | sed -n 's/^< \(.*\)/\1 is bound by an install or upgrade script but not defined/p; s/^> \(.*\)/\1 is defined but bound by no script/p')
result "the C symbols the scripts bind and those the library defines agree ($(echo "$defined" | wc -w))" "$problems"
# The naming rule: the symbol of SQL function salesboard.f is sb_f, or
# sb_f_sql where a C helper is already called sb_f, or sb_f_<what> for one
# of several overloads. These symbols of 1.0 predate the rule; the released
# 1.0 script binds them, so they keep their names.
FROZEN_1_0="sb_card_colour_due sb_deal_before_row sb_deal_after_insert sb_reanchor_all_day
            sb_activity_before_row sb_activity_after_insert sb_activity_after_update
            sb_activity_after_delete sb_planned_activity_check"
problems=""
while read -r fname sym; do
    [ -n "$fname" ] || continue
    case " $(echo $FROZEN_1_0) " in *" $sym "*) continue ;; esac
    case $sym in
        "sb_$fname" | "sb_${fname}_sql" | "sb_${fname}_"*) ;;
        *) problems+="salesboard.$fname is bound to $sym, not sb_$fname"$'\n' ;;
    esac
done < <(cat "$ext"/salesboard--*.sql "$ext"/upgrade/*/*.sql 2>/dev/null | tr '\n' ' ' |
         grep -oE "FUNCTION salesboard\.[a-z_0-9]+\([^';]*'MODULE_PATHNAME', *'[a-z_0-9]+'" |
         sed -E "s/FUNCTION salesboard\.([a-z_0-9]+)\(.*'([a-z_0-9]+)'$/\1 \2/")
result "SQL-callable C functions follow the naming rule (sb_<SQL name>)" "${problems%$'\n'}"

echo "1..$n"
[ "$failed" -eq 0 ]
