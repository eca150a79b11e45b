# Sourced, not run: a throwaway PostgreSQL 15 cluster in a temp dir, with its
# own port and socket dir, removed on exit.
#
#   source scripts/pgcluster.sh
#   pgcluster_start [extra postgresql.conf lines...]   # sets PGHOST PGPORT PGUSER PGDATABASE
#   pgcluster_stop                                      # also run by the EXIT trap
#
# Postgres refuses to run as root; when we are root, the server runs as the
# `postgres` system user that Debian's postgresql package creates.

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

_pg_as() {  # run a command as the cluster owner
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pgcluster_start() {
    PGC_DIR=$(mktemp -d /tmp/nmvec-pg.XXXXXX)
    chmod 755 "$PGC_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PGC_DIR"
    _pg_as "$PGBIN/initdb" -D "$PGC_DIR/data" -A trust -E UTF8 --locale=C.UTF-8 >"$PGC_DIR/initdb.log" 2>&1 \
        || { cat "$PGC_DIR/initdb.log" >&2; return 1; }
    {
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$PGC_DIR'"
        echo "fsync = off"
        echo "shared_buffers = 256MB"
        echo "max_wal_size = 4GB"
        for line in "$@"; do echo "$line"; done
    } >>"$PGC_DIR/data/postgresql.conf"
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 30000))
        [ -e "/tmp/.s.PGSQL.$port" ] && continue
        if _pg_as "$PGBIN/pg_ctl" -D "$PGC_DIR/data" -l "$PGC_DIR/server.log" -o "-p $port" -w start >/dev/null 2>&1; then
            export PGHOST="$PGC_DIR" PGPORT="$port" PGDATABASE=postgres
            if [ "$(id -u)" -eq 0 ]; then export PGUSER=postgres; else export PGUSER="$(id -un)"; fi
            trap pgcluster_stop EXIT
            return 0
        fi
    done
    echo "pgcluster: could not start a server; log:" >&2
    cat "$PGC_DIR/server.log" >&2
    return 1
}

pgcluster_stop() {
    [ -n "${PGC_DIR:-}" ] || return 0
    _pg_as "$PGBIN/pg_ctl" -D "$PGC_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PGC_DIR"
    PGC_DIR=""
}
