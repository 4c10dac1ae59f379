# scripts/lib.sh: shared set-up for `make test`, `make demo` and `make bench`.
#
# Sourced, not run. It owns three jobs:
#   1. packages: install what is missing (root on Debian 12) or say what is
#      missing (anyone else);
#   2. the build and install of the extension into a private "staged" copy
#      of the PostgreSQL installation (never into the system's folders);
#   3. a private throwaway cluster: an unprivileged owner, a fresh temp
#      folder, a Unix socket only (no TCP), pg_cron preloaded, and a stop
#      that runs even when something fails.
#
# PostgreSQL refuses to run as root, so when we are root the work after the
# install re-runs as the `postgres` user from a copy of the tree that user
# owns (the checkout may sit where that user cannot read, e.g. /root).

SB_PG_MAJOR=15
# g++ and libphonenumber-dev: the C++ shim over libphonenumber (extension/phone.cpp)
SB_PACKAGES=(make gcc g++ libphonenumber-dev postgresql-$SB_PG_MAJOR postgresql-client-$SB_PG_MAJOR
             postgresql-server-dev-$SB_PG_MAJOR postgresql-$SB_PG_MAJOR-cron
             postgresql-$SB_PG_MAJOR-pgtap libtap-parser-sourcehandler-pgtap-perl
             libipc-run-perl perl git sqlsmith)
SB_RUN_USER=${SB_RUN_USER:-postgres}

sb_say() { printf '%s\n' "salesboard: $*" >&2; }
sb_die() { sb_say "$*"; exit 2; }

# Packages of SB_PACKAGES that are not installed.
sb_missing_packages() {
    local p missing=()
    for p in "${SB_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] || printf '%s\n' "${missing[@]}"
}

# Install missing packages (root), or fail with the command to run.
sb_ensure_packages() {
    local missing
    if ! command -v dpkg-query >/dev/null 2>&1; then
        command -v pg_config >/dev/null 2>&1 || sb_die "pg_config not found and this is not a Debian system: install PostgreSQL $SB_PG_MAJOR with its server headers, pg_cron and pgTAP"
        return 0
    fi
    mapfile -t missing < <(sb_missing_packages)
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        sb_die "missing packages: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}"
    fi
    sb_say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Do not let the package create and start a cluster of its own, and
    # leave no configuration behind: the switch is removed right after.
    local conf=/etc/postgresql-common/createcluster.d/salesboard-install.conf made_dir=
    [ -d /etc/postgresql-common/createcluster.d ] || made_dir=1
    mkdir -p /etc/postgresql-common/createcluster.d
    echo 'create_main_cluster = false' >"$conf"
    local rc=0
    apt-get update -qq >/dev/null || rc=1
    [ $rc -eq 0 ] && { apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=2; }
    rm -f "$conf"
    [ -n "$made_dir" ] && rmdir --ignore-fail-on-non-empty -p /etc/postgresql-common/createcluster.d 2>/dev/null
    [ $rc -eq 1 ] && sb_die "apt-get update failed"
    [ $rc -eq 2 ] && sb_die "apt-get install ${missing[*]} failed"
    return 0
}

sb_pg_config() {
    local c
    for c in "/usr/lib/postgresql/$SB_PG_MAJOR/bin/pg_config" "$(command -v pg_config 2>/dev/null)"; do
        [ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
    done
    sb_die "pg_config not found"
}

# Build (warnings are errors) and install into a private staged copy of
# PostgreSQL. Sets SB_BINDIR, the bin folder of that copy.
sb_build_install() {
    local src=$1 pgc
    pgc=$(sb_pg_config)
    make -s -C "$src" PG_CONFIG="$pgc" COPT='-Wall -Wextra -Wno-unused-parameter -Werror' >/dev/null ||
        sb_die "build failed"
    sb_stage_install "$src" "$pgc"
    export SB_BINDIR
}

# A private copy of the PostgreSQL installation with the extension in it,
# for a user who may not write to the system folders. PostgreSQL finds its
# share and lib folders relative to its own binary, so the binaries are
# copied (not linked) and everything else is linked.
sb_stage_install() {
    local src=$1 pgc=$2 stage bindir sharedir pkglibdir f
    stage=${SB_STAGE:-$(mktemp -d "${TMPDIR:-/tmp}/salesboard-stage.XXXXXX")}
    bindir=$("$pgc" --bindir); sharedir=$("$pgc" --sharedir); pkglibdir=$("$pgc" --pkglibdir)
    mkdir -p "$stage$bindir" "$stage$sharedir/extension" "$stage$pkglibdir/bitcode"
    cp -p "$bindir"/* "$stage$bindir/"
    # link everything of the system installation but the folders our files
    # go into, and but any salesboard files already installed there
    for f in "$sharedir"/*; do [ "$(basename "$f")" = extension ] || ln -sfn "$f" "$stage$sharedir/"; done
    for f in "$sharedir"/extension/*; do
        case $(basename "$f") in salesboard*) ;; *) ln -sfn "$f" "$stage$sharedir/extension/" ;; esac
    done
    for f in "$pkglibdir"/*; do
        case $(basename "$f") in bitcode|salesboard*) ;; *) ln -sfn "$f" "$stage$pkglibdir/" ;; esac
    done
    for f in "$pkglibdir"/bitcode/*; do
        [ -e "$f" ] || continue
        case $(basename "$f") in salesboard*) ;; *) ln -sfn "$f" "$stage$pkglibdir/bitcode/" ;; esac
    done
    make -s -C "$src" PG_CONFIG="$pgc" DESTDIR="$stage" install >/dev/null || sb_die "staged install failed"
    SB_BINDIR=$stage$bindir
    SB_STAGE=$stage
    export SB_STAGE
    sb_say "installed into a private copy of PostgreSQL at $stage"
}

# When root: copy the tree to a folder the run user owns and re-run the
# given script there as that user. Never returns.
sb_reexec_unprivileged() {
    local src=$1 script=$2; shift 2
    local tmp rc
    id "$SB_RUN_USER" >/dev/null 2>&1 || sb_die "user $SB_RUN_USER does not exist"
    tmp=$(mktemp -d /tmp/salesboard-run.XXXXXX)
    mkdir "$tmp/src"
    # with .git: the upgrade tests build the released versions from history
    tar -C "$src" -cf - . | tar -C "$tmp/src" -xf -
    chown -R "$SB_RUN_USER": "$tmp"
    chmod 700 "$tmp"
    runuser -u "$SB_RUN_USER" -- env SB_PREPARED=1 \
        TMPDIR="$tmp" HOME="$tmp" bash "$tmp/src/$script" "$@"
    rc=$?
    # results the run wrote into its copy of the tree (e.g. bench/RESULTS.md)
    local f
    for f in ${SB_COPY_BACK:-}; do
        [ -f "$tmp/src/$f" ] && cp "$tmp/src/$f" "$src/$f"
    done
    rm -rf "$tmp"
    exit $rc
}

# Everything up to "ready to start a cluster as an unprivileged user":
# packages, then (as that user) the build and a private staged install.
# Root installs only Debian packages: the extension never goes into the
# system's PostgreSQL folders, so an installed salesboard of any version
# stays as it was.
sb_prepare() {
    local src=$1 script=$2; shift 2
    if [ -n "${SB_PREPARED:-}" ]; then
        sb_build_install "$src"
        return 0
    fi
    sb_ensure_packages
    if [ "$(id -u)" -eq 0 ]; then
        sb_reexec_unprivileged "$src" "$script" "$@"
    fi
    sb_build_install "$src"
}

# Start a private cluster in folder $1 (created if missing): Unix socket in
# that folder, no TCP, pg_cron preloaded. Extra postgresql.conf lines may
# follow as arguments. Sets PGHOST, PGPORT, PGDATA for the callers.
sb_cluster_start() {
    local dir=$1; shift
    mkdir -p "$dir"
    export PGDATA=$dir/data PGHOST=$dir PGPORT=${SB_PORT:-54329}
    "$SB_BINDIR/initdb" -D "$PGDATA" -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; sb_die "initdb failed"; }
    {
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$dir'"
        echo "port = $PGPORT"
        echo "shared_preload_libraries = 'pg_cron'"
        echo "cron.database_name = 'salesboard'"
        echo "max_connections = 60"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        echo "timezone = 'UTC'"
        echo "lc_messages = 'C'"
        local line
        for line in "$@"; do echo "$line"; done
    } >>"$PGDATA/postgresql.conf"
    "$SB_BINDIR/pg_ctl" -D "$PGDATA" -l "$dir/server.log" -w -t 60 start >/dev/null ||
        { tail -20 "$dir/server.log" >&2; sb_die "the private cluster did not start"; }
    SB_CLUSTER_DIR=$dir
}

# Remove the private copy of PostgreSQL made by sb_stage_install, if any.
sb_stage_cleanup() {
    if [ -n "${SB_STAGE:-}" ] && [ -d "$SB_STAGE" ]; then
        rm -rf "$SB_STAGE"
    fi
}

sb_cluster_stop() {
    if [ -n "${SB_CLUSTER_DIR:-}" ] && [ -f "$SB_CLUSTER_DIR/data/postmaster.pid" ]; then
        "$SB_BINDIR/pg_ctl" -D "$SB_CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
}
