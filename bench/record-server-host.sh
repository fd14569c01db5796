#!/usr/bin/env bash
# Records what a typical, mostly idle general-purpose server looks like to the agent, for the
# storage benchmark (bench/storage-bytes.ts): enough long-running programs that the agent reports
# about 64 processes per sample (its --max-processes cap), with sockets in every state a server
# shows (LISTEN, ESTABLISHED, TIME_WAIT on short HTTP connections).
#
#   ./bench/record-server-host.sh [OUT]     default OUT: bench/data/server-host.trace.ndjson.gz
#   DURATION=300s ./bench/record-server-host.sh
#
# What runs (Debian packages already on the machine; 127.0.0.1 only, nothing leaves the host):
#   - a throw-away PostgreSQL 15 cluster (initdb in a temp dir, 127.0.0.1:$PG_PORT) with pgbench at
#     a gentle fixed rate (-R 5, 2 clients, scale 1);
#   - redis-server and memcached on loopback ports, poked by the periodic job;
#   - idle daemon-like sleepers: python3, perl and bash processes that wake every few seconds;
#   - a periodic job every 3 s (a cron-like bash loop running short commands: redis-cli, a
#     memcached stats query, ls | wc);
#   - python3 -m http.server on 127.0.0.1:$HTTP_PORT and a curl client making a short connection
#     every 0.5 s (so TIME_WAIT sockets exist).
# Bounded: every workload is started in its own process group and killed on exit (also on
# Ctrl+C); the whole run ends after DURATION plus at most a minute of setup. Needs root (initdb
# runs as the postgres user) and a built tree (npm run build).
# While it records it holds /tmp/assay-recording.lock, so others on the machine can hold off heavy work.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT_FILE="${1:-$ROOT/bench/data/server-host.trace.ndjson.gz}"
DURATION="${DURATION:-600s}"
LOCK=/tmp/assay-recording.lock
PG_PORT="${PG_PORT:-55432}"
REDIS_PORT="${REDIS_PORT:-56379}"
MEMCACHED_PORT="${MEMCACHED_PORT:-51211}"
HTTP_PORT="${HTTP_PORT:-58080}"
PY=/usr/bin/python3
WORK="$(mktemp -d /tmp/assay-server-host.XXXXXX)"
chmod 0755 "$WORK"
PGIDS=()
REC_PID=""

log() { printf '[record-server-host %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# start NAME CMD...: a workload in its own session/process group, output to a log in $WORK.
start() {
  local name="$1"; shift
  setsid "$@" >"$WORK/$name.log" 2>&1 </dev/null &
  PGIDS+=("$!")
}

cleanup() {
  set +e
  [[ -n "$REC_PID" ]] && kill "$REC_PID" 2>/dev/null
  local g
  for g in "${PGIDS[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
  sleep 1
  for g in "${PGIDS[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
  if [[ -d "$WORK/pg/data" ]]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null 2>&1
  fi
  rm -rf "$WORK"
  rm -f "$LOCK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Someone else recording: wait (up to 10 min) for their lock to go.
for _ in $(seq 1 20); do [[ -e "$LOCK" ]] || break; log "waiting for $LOCK: $(cat "$LOCK" 2>/dev/null)"; sleep 30; done
[[ -e "$LOCK" ]] && { log "$LOCK still held after 10 min; giving up"; exit 1; }
echo "$$ $(date -Is) recording server-host" >"$LOCK"

# ---- PostgreSQL 15, loopback TCP, pgbench at a gentle fixed rate ----
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
mkdir -p "$WORK/pg" && chown postgres: "$WORK/pg"
runuser -u postgres -- "$PG_BIN/initdb" -D "$WORK/pg/data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK/pg -c shared_buffers=64MB" start >/dev/null
runuser -u postgres -- "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -i -s 1 -q postgres >/dev/null 2>&1
start pgbench runuser -u postgres -- "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -c 2 -j 1 -R 5 -T 3600 postgres

# ---- key-value servers ----
start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no
start memcached memcached -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 64 -u nobody

# ---- idle daemon-like processes ----
for i in 1 2 3 4; do start "py-sleeper-$i" "$PY" -c "import time
while True: time.sleep($((3 + i)))"; done
for i in 1 2 3; do start "perl-sleeper-$i" perl -e "while (1) { sleep $((4 + i)); }"; done
for i in 1 2 3; do start "bash-sleeper-$i" bash -c "while :; do sleep $((5 + i)); done"; done

# ---- a periodic job every 3 s ----
start periodic bash -c "while :; do
  redis-cli -h 127.0.0.1 -p $REDIS_PORT incr ticks >/dev/null 2>&1
  printf 'stats\r\nquit\r\n' | socat - TCP:127.0.0.1:$MEMCACHED_PORT >/dev/null 2>&1
  ls /usr/bin | wc -l >/dev/null
  sleep 3
done"

# ---- a small HTTP server and a client with short connections (TIME_WAIT) ----
mkdir -p "$WORK/www" && echo ok >"$WORK/www/index.html"
start http "$PY" -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory "$WORK/www"
start http-client bash -c "while :; do curl -s -o /dev/null http://127.0.0.1:$HTTP_PORT/ || true; sleep 0.5; done"

sleep 10
log "processes on the host: $(ps -e --no-headers | wc -l); load: $(cut -d' ' -f1-3 /proc/loadavg); recording $DURATION"
mkdir -p "$(dirname "$OUT_FILE")"
node dist/cli.js record --label general --duration "$DURATION" --out "$WORK/trace.ndjson" \
  --description "A mostly idle general-purpose server (bench/record-server-host.sh): PostgreSQL 15 with pgbench -R 5 on 127.0.0.1, redis-server, memcached, python3/perl/bash sleepers, a job every 3 s, python3 http.server with a curl client every 0.5 s; the agent's 64-process cap. For the storage benchmark, not the corpus." \
  & REC_PID=$!
wait "$REC_PID"
REC_PID=""
gzip -9 -c "$WORK/trace.ndjson" >"$OUT_FILE"
log "wrote $OUT_FILE ($(stat -c %s "$OUT_FILE") bytes gzipped, $(($(wc -l <"$WORK/trace.ndjson") - 1)) samples)"
