#!/usr/bin/env bash
# Benign servers with many long-lived client connections, for the Assay held-out traces.
# Local only: every server listens on 127.0.0.1 (TCP), data lives in a throw-away dir
# /tmp/job.XXXXXX, everything stops after --seconds and the dir is deleted.
#
# Kinds
#   redis     Debian redis-server 7.0 (no persistence: --save "" --appendonly no) under
#             redis-benchmark: --clients keep-alive connections (-k 1), random keys over a
#             100 000-key space (-r), 256-byte values (-d), a mix of SET/GET/INCR/LPUSH/LPOP/
#             HSET/SADD/ZADD, run back to back until --seconds are up. An in-memory key-value
#             store: one busy event-loop thread, heavy syscall/network traffic over many sockets.
#   mariadb   Debian MariaDB 10.11 in a throw-away datadir (InnoDB, 256 MB buffer pool), TCP on
#             127.0.0.1 only, loaded with sysbench 1.0 oltp_read_write tables (4 x 20 000 rows),
#             then `sysbench oltp_read_write --threads N --time T run`: N client connections
#             doing read/write transactions (point selects, ranges, updates, deletes/inserts),
#             redo log writes and fsyncs.
#   memcached Debian memcached 1.6 (-t 2, 256 MB) under memcslap (libmemcached-tools):
#             --concurrency connections doing set/get with 1 KiB values.
# Sources: https://redis.io/docs/latest/operate/oss_and_stack/management/optimization/benchmarks/ ;
#   https://github.com/akopytov/sysbench (oltp_read_write.lua) ; https://mariadb.com/kb/en/mariadbd-options/ ;
#   https://github.com/memcached/memcached/wiki ; memcslap(1).
# Debian packages: redis-server redis-tools mariadb-server sysbench memcached libmemcached-tools.
#
# Usage: kv-db-servers.sh --kind redis|mariadb|memcached [--seconds N] [--port P] [--clients C]
set -euo pipefail
KIND=""
SECS=300
PORT=""
CLIENTS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --kind) KIND="$2"; shift 2 ;;
    --seconds) SECS="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    *) echo "kv-db-servers: unknown option $1" >&2; exit 2 ;;
  esac
done
WORK="$(mktemp -d /tmp/job.XXXXXX)"
PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 1 20); do
    local alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.5
  done
  # `timeout` runs its command in a process group of its own: kill what it started, too
  for p in "${PIDS[@]}"; do pkill -KILL -P "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 0' TERM INT
END=$((SECONDS + SECS))
left() { echo $((END - SECONDS)); }

case "$KIND" in
  redis)
    PORT="${PORT:-28379}"; CLIENTS="${CLIENTS:-50}"
    redis-server --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no --dir "$WORK" \
      --daemonize no --protected-mode yes --maxmemory 512mb --maxmemory-policy allkeys-lru &
    PIDS+=("$!")
    for _ in $(seq 1 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.2; done
    echo "redis up on 127.0.0.1:$PORT; running redis-benchmark -c $CLIENTS"
    while (( $(left) > 2 )); do
      timeout "$(left)" redis-benchmark -h 127.0.0.1 -p "$PORT" -c "$CLIENTS" -k 1 -n 400000 -r 100000 -d 256 \
        -t set,get,incr,lpush,lpop,hset,sadd,zadd -q >/dev/null 2>&1 &
      PIDS+=("$!"); wait "$!" || true
    done
    ;;
  mariadb)
    PORT="${PORT:-28306}"; CLIENTS="${CLIENTS:-16}"
    mariadb-install-db --no-defaults --datadir="$WORK/data" --user=root --auth-root-authentication-method=normal >/dev/null
    mariadbd --no-defaults --datadir="$WORK/data" --user=root --bind-address=127.0.0.1 --port="$PORT" \
      --socket="$WORK/mysqld.sock" --skip-name-resolve --innodb-buffer-pool-size=256M \
      --innodb-log-file-size=64M --max-connections=200 --log-error="$WORK/error.log" &
    PIDS+=("$!")
    for _ in $(seq 1 60); do mariadb --no-defaults -h 127.0.0.1 -P "$PORT" -u root -e 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
    mariadb --no-defaults -h 127.0.0.1 -P "$PORT" -u root -e 'create database sbtest'
    SB=(--db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$PORT" --mysql-user=root --tables=4 --table-size=20000)
    sysbench oltp_read_write "${SB[@]}" --threads=2 prepare >/dev/null
    echo "running sysbench oltp_read_write --threads $CLIENTS"
    while (( $(left) > 2 )); do
      sysbench oltp_read_write "${SB[@]}" --threads="$CLIENTS" --time="$(left)" --report-interval=20 run &
      PIDS+=("$!"); wait "$!" || true
    done
    ;;
  memcached)
    PORT="${PORT:-28211}"; CLIENTS="${CLIENTS:-32}"
    memcached -l 127.0.0.1 -p "$PORT" -U 0 -t 2 -m 256 -c 1024 -u root &
    PIDS+=("$!")
    sleep 1
    echo "running memcslap --concurrency $CLIENTS"
    while (( $(left) > 2 )); do
      timeout "$(left)" memcslap --servers="127.0.0.1:$PORT" --concurrency="$CLIENTS" --execute-number=20000 --flush >/dev/null 2>&1 &
      PIDS+=("$!"); wait "$!" || true
    done
    ;;
  *) echo "kv-db-servers: --kind redis|mariadb|memcached" >&2; exit 2 ;;
esac
