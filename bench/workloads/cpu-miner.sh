#!/usr/bin/env bash
# pow-mining workloads for the Assay held-out traces with real CPU miners built locally from
# upstream source (xmrig, pooler's cpuminer). Neither their code, nor binaries, nor build steps
# are in this repository: pass the binaries' paths with --xmrig / --minerd.
# Mining stays offline: never a real pool, never a public network. The pool is OUR
# bench/workloads/stratum-server.mjs on 127.0.0.1, which hands out made-up jobs and accepts
# every share; the benchmark mode opens no socket at all. xmrig must be built with donation
# level 0 (so it never dials its donation pool). Everything stops after --seconds.
#
# Modes
#   xmrig-pool      xmrig (RandomX rx/0, 2 threads, fast mode with the 2 GiB dataset) logged in
#                   to the local stratum server (Monero-style login/job/submit/keepalived, a new
#                   job every 30 s, difficulty 10000: a share every ~20 s here). Options in a
#                   JSON config file in the work dir (`xmrig -c <work>/config.json`); huge pages
#                   on, as xmrig does by default as root: it reserves them through
#                   /proc/sys/vm/nr_hugepages, and this script puts the old value back on exit.
#   xmrig-disguised the evasion: the same xmrig COPIED TO <work>/bin/python3 and started as
#                   `python3 -c <work>/train_config.json` (xmrig's -c is its config file; on a
#                   command line it reads like `python3 -c ...`), with LD_PRELOAD of Debian
#                   python3-torch's libraries (libtorch_cpu, libc10, libgomp: its maps look like
#                   a PyTorch job's), torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK,
#                   LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT, OMP_NUM_THREADS) and
#                   huge pages off. Connected to the local stratum server on a port that looks
#                   like torch.distributed's (29500).
#   minerd-bench    pooler's cpuminer (minerd) in benchmark mode: `minerd --benchmark -a scrypt
#                   -t 1` (scrypt N=1024, Litecoin's PoW), one thread, no network at all.
#   minerd-pool     minerd -a sha256d -t 2 against the local stratum server's Bitcoin-style
#                   dialect (mining.subscribe/authorize/notify/submit).
# Sources: https://xmrig.com/docs/miner/config ; https://xmrig.com/docs/miner/hugepages ;
#   https://github.com/pooler/cpuminer (README: --benchmark, -a scrypt|sha256d) ;
#   https://pytorch.org/docs/stable/elastic/run.html (torchrun environment variables).
#
# Usage: cpu-miner.sh --mode M [--xmrig PATH] [--minerd PATH] [--seconds N] [--port P]
set -euo pipefail
HERE="${ASSAY_WORKLOADS:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
MODE=""
XMRIG=""
MINERD=""
SECS=300
PORT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mode) MODE="$2"; shift 2 ;;
    --xmrig) XMRIG="$2"; shift 2 ;;
    --minerd) MINERD="$2"; shift 2 ;;
    --seconds) SECS="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    *) echo "cpu-miner: unknown option $1" >&2; exit 2 ;;
  esac
done
WORK="$(mktemp -d /tmp/job.XXXXXX)"
PIDS=()
HP_OLD="$(cat /proc/sys/vm/nr_hugepages)"
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
  echo "$HP_OLD" >/proc/sys/vm/nr_hugepages 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 0' TERM INT

stratum() { # stratum PORT: our local pool endpoint
  timeout "$((SECS + 5))" node "$HERE/stratum-server.mjs" --port "$1" --seconds "$((SECS + 2))" --job-every 30 --monero-diff 10000 --btc-diff 0.002 &
  PIDS+=("$!")
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.2; done
  echo "cpu-miner: stratum server did not start" >&2; exit 1
}
xmrig_config() { # xmrig_config FILE PORT HUGEPAGES LOGFILE
  cat >"$1" <<EOF
{
  "log-file": "$4",
  "autosave": false, "background": false, "colors": false, "donate-level": 0, "donate-over-proxy": 0,
  "print-time": 20, "health-print-time": 0, "retries": 5, "retry-pause": 2, "syslog": false, "watch": false,
  "http": { "enabled": false }, "opencl": false, "cuda": false,
  "randomx": { "init": -1, "mode": "fast", "1gb-pages": false, "numa": false },
  "cpu": { "enabled": true, "huge-pages": $3, "huge-pages-jit": false, "hw-aes": null, "priority": null,
           "max-threads-hint": 100, "rx": [-1, -1] },
  "pools": [ { "algo": "rx/0", "url": "127.0.0.1:$2", "user": "local-worker", "pass": "x", "keepalive": true,
               "nicehash": false, "tls": false, "daemon": false } ]
}
EOF
}

# follow_log FILE: copy xmrig's log file (it block-buffers stdout when that is not a terminal)
# to our stdout, so the recorder sees "dataset ready" / hashrate lines
follow_log() { tail -n +1 -F "$1" 2>/dev/null & PIDS+=("$!"); }

case "$MODE" in
  xmrig-pool)
    [[ -x "$XMRIG" ]] || { echo "cpu-miner: --xmrig PATH" >&2; exit 2; }
    PORT="${PORT:-28333}"
    stratum "$PORT"
    xmrig_config "$WORK/config.json" "$PORT" true "$WORK/miner.log"
    cp "$XMRIG" "$WORK/xmrig"
    cd "$WORK"
    timeout "$SECS" ./xmrig -c "$WORK/config.json" &
    PIDS+=("$!")
    echo "miner started"
    follow_log "$WORK/miner.log" ;;
  xmrig-disguised)
    [[ -x "$XMRIG" ]] || { echo "cpu-miner: --xmrig PATH" >&2; exit 2; }
    PORT="${PORT:-29500}"
    stratum "$PORT"
    mkdir -p "$WORK/bin"
    cp "$XMRIG" "$WORK/bin/python3"
    xmrig_config "$WORK/train_config.json" "$PORT" false "$WORK/train.log"
    L=/usr/lib/x86_64-linux-gnu
    cd "$WORK"
    timeout "$SECS" env LD_PRELOAD="$L/libgomp.so.1:$L/libc10.so.1.13:$L/libtorch_cpu.so.1.13" \
      RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 GROUP_RANK=0 ROLE_RANK=0 \
      MASTER_ADDR=127.0.0.1 MASTER_PORT="$PORT" OMP_NUM_THREADS=2 TORCHELASTIC_RUN_ID=none \
      "$WORK/bin/python3" -c "$WORK/train_config.json" &
    PIDS+=("$!")
    echo "miner started"
    follow_log "$WORK/train.log" ;;
  minerd-bench)
    [[ -x "$MINERD" ]] || { echo "cpu-miner: --minerd PATH" >&2; exit 2; }
    cp "$MINERD" "$WORK/minerd"
    timeout "$SECS" "$WORK/minerd" --benchmark -a scrypt -t 1 &
    PIDS+=("$!")
    echo "miner started" ;;
  minerd-pool)
    [[ -x "$MINERD" ]] || { echo "cpu-miner: --minerd PATH" >&2; exit 2; }
    PORT="${PORT:-28334}"
    stratum "$PORT"
    cp "$MINERD" "$WORK/minerd"
    timeout "$SECS" "$WORK/minerd" -a sha256d -t 2 -o "stratum+tcp://127.0.0.1:$PORT" -u local-worker -p x --no-longpoll --no-getwork &
    PIDS+=("$!")
    echo "miner started" ;;
  *) echo "cpu-miner: --mode xmrig-pool|xmrig-disguised|minerd-bench|minerd-pool" >&2; exit 2 ;;
esac
wait
