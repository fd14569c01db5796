#!/usr/bin/env bash
# Benign look-alike for the Assay corpus: PostgreSQL 15 under pgbench (TPC-B-like OLTP).
#
# What it does: creates a throw-away cluster in a temp dir (initdb as the `postgres` user),
# starts it with pg_ctl listening only on a unix socket in that dir (listen_addresses=''),
# loads pgbench's tables at scale 20 (~300 MB, 2 M accounts), then runs
# `pgbench -c 8 -j 2 -T N` (8 clients, TPC-B-like read/write transactions) until --seconds are
# up; stops the server and deletes the cluster at the end.
# How it mirrors the real thing: an OLTP database server: many backend processes (`postgres`),
# CPU split between user and system time, steady WAL writes and fsyncs, checkpoints, client
# connections to one listener — busy, bursty on disk, and not a chain node even though it
# stores and checksums data.
# Sources: https://www.postgresql.org/docs/15/pgbench.html ; https://www.postgresql.org/docs/15/app-initdb.html
# Debian packages: postgresql-15 (PostgreSQL License).
#
# Usage: postgres-pgbench.sh [--seconds N]
set -euo pipefail
SECS=300
[[ "${1:-}" == --seconds ]] && SECS="$2"
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
WORK="$(mktemp -d /tmp/assay-pg.XXXXXX)"
chown postgres: "$WORK"
as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
  set +e
  as_pg "$BIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 0' TERM INT
as_pg "$BIN/initdb" -D "$WORK/data" -A trust -U postgres >/dev/null
as_pg "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w \
  -o "-c listen_addresses='' -k $WORK -c shared_buffers=256MB -c max_wal_size=1GB" start >/dev/null
as_pg "$BIN/pgbench" -h "$WORK" -U postgres -i -s 20 -q postgres >/dev/null 2>&1
echo "postgres-pgbench: loaded; running pgbench for ${SECS}s"
as_pg "$BIN/pgbench" -h "$WORK" -U postgres -c 8 -j 2 -T "$SECS" postgres 2>&1 | grep -E "^tps|transactions actually" || true
