# Sourced by scripts/test (after scripts/packages.sh): installs PostgreSQL when it is missing and
# starts a throwaway cluster for the PostgreSQL end-to-end tests. Not run on its own.
#
# The cluster lives in a fresh temporary directory: initdb there, listening on 127.0.0.1 only on
# a free port, its unix socket inside that directory, trust authentication for loopback and that
# socket only, fsync on as in production. A trap stops it and deletes the directory when the
# calling script exits, whether the tests passed or not. Root cannot run initdb or postgres, so
# as root both run as the `postgres` system user.
#
# Exports HAVEN_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/postgres and puts the
# cluster's client programs (psql) first on PATH.

start_test_postgres() {
    install_missing postgresql
    local bin
    bin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
        echo "error: no PostgreSQL server programs under /usr/lib/postgresql/*/bin" >&2
        return 1
    fi

    # Who runs the cluster: the postgres system user when we are root, ourselves otherwise.
    local as_owner=()
    if [ "$(id -u)" -eq 0 ]; then
        if ! id postgres >/dev/null 2>&1; then
            useradd --system --user-group --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
        fi
        as_owner=(runuser -u postgres --)
    fi

    HAVEN_TEST_POSTGRES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/haven-postgres.XXXXXX")
    HAVEN_TEST_POSTGRES_PG_CTL="$bin/pg_ctl"
    HAVEN_TEST_POSTGRES_OWNER=("${as_owner[@]}")
    trap stop_test_postgres EXIT
    # `exit` in these traps runs the EXIT trap too: an interrupted run still cleans up.
    trap 'exit 130' INT
    trap 'exit 143' TERM
    local dir=$HAVEN_TEST_POSTGRES_DIR
    [ ${#as_owner[@]} -eq 0 ] || chown postgres: "$dir"
    if ! "${as_owner[@]}" test -w "$dir"; then
        echo "error: the postgres user cannot write to $dir (set TMPDIR to a directory it can reach)" >&2
        return 1
    fi
    "${as_owner[@]}" mkdir -m 700 "$dir/socket"

    # The superuser is named postgres whoever runs initdb, so the URL is the same everywhere.
    if ! "${as_owner[@]}" "$bin/initdb" --pgdata "$dir/data" --username postgres --auth trust \
        --encoding UTF8 --locale C --no-instructions >"$dir/initdb.log" 2>&1; then
        echo "error: initdb failed:" >&2
        cat "$dir/initdb.log" >&2
        return 1
    fi
    # Trust, but only over the cluster's own socket and loopback; it listens nowhere else.
    "${as_owner[@]}" tee "$dir/data/pg_hba.conf" >/dev/null <<'EOF'
# Throwaway test cluster (scripts/postgres.sh): trust on loopback and the private socket only.
local   all   all                  trust
host    all   all   127.0.0.1/32   trust
EOF

    # A free port: nothing answers on it now; if something takes it before postgres binds it,
    # the start fails and the next candidate is tried.
    local attempt port
    for attempt in 1 2 3 4 5 6 7 8; do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            continue
        fi
        if "${as_owner[@]}" "$bin/pg_ctl" --pgdata "$dir/data" --log "$dir/postgres.log" --wait --timeout 60 \
            --silent start -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir/socket \
            -c max_connections=300 -c fsync=on" >/dev/null 2>&1; then
            export HAVEN_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
            export PATH="$bin:$PATH"
            echo "PostgreSQL test cluster on 127.0.0.1:$port in $dir" >&2
            return 0
        fi
    done
    echo "error: the PostgreSQL test cluster did not start:" >&2
    tail -n 20 "$dir/postgres.log" >&2 2>/dev/null || true
    return 1
}

stop_test_postgres() {
    local status=$?
    local dir=${HAVEN_TEST_POSTGRES_DIR:-}
    if [ -n "$dir" ] && [ -d "$dir" ]; then
        if [ -f "$dir/data/postmaster.pid" ]; then
            "${HAVEN_TEST_POSTGRES_OWNER[@]}" "$HAVEN_TEST_POSTGRES_PG_CTL" --pgdata "$dir/data" --mode immediate \
                --wait --silent stop >/dev/null 2>&1 || true
        fi
        rm -rf "$dir"
    fi
    HAVEN_TEST_POSTGRES_DIR=""
    return $status
}
