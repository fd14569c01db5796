#!/usr/bin/env bash
# pow-mining workload for the Assay corpus: Debian's monerod mining RandomX on a PRIVATE,
# OFFLINE regtest chain. Never a pool, never a public network: --regtest --offline, P2P and
# RPC bound to 127.0.0.1, no UPnP (--no-igd), no ZMQ, and it stops itself after --seconds.
#
# What it does
#   1. Makes a throw-away wallet with monero-wallet-cli --offline (only for a valid address to
#      mine to; it lives in a temp dir and is deleted at the end).
#   2. Starts monerod --regtest --offline --fixed-difficulty D in a temp data dir.
#      D defaults to 60000: at the ~450-550 H/s this 2-core machine does, that is one block
#      every ~2 minutes, like Monero mainnet's 120 s target, so the miner spends its time
#      hashing (difficulty 1 would make it a block-processing loop, not a miner).
#   3. Starts mining over the daemon's local RPC: POST /start_mining
#      {miner_address, threads_count, do_background_mining:false, ignore_battery:true}.
#   4. Sleeps until --seconds are up, then /stop_daemon (SIGKILL after a grace period).
#
# How it mirrors the real thing
#   This IS the real thing: monerod's built-in miner runs RandomX (the Monero PoW since Nov
#   2019) exactly as on mainnet: it first builds the 2 GiB RandomX dataset (~25 s here, high
#   system time), then every mining thread hashes flat out at 100 % of its core. Only the
#   chain is private. Options for the evasion traces:
#     --as NAME        copy /usr/bin/monerod to <tmp>/bin/NAME and run that copy (the binary
#                      renamed, e.g. `python3`), with its options in a config file so that the
#                      command line reads `.../python3 --config-file .../worker.conf
#                      --non-interactive` (that flag is command-line only)
#     --cpulimit PCT   throttle the miner with cpulimit -l PCT (PCT of ONE core; 60 = 30 % of
#                      this 2-core host), SIGSTOP/SIGCONT duty cycling as cpulimit does
#     --lo-up          bring up `lo` first: for running inside `unshare --net` (a network
#                      namespace of its own, as in a container)
#
# Sources
#   - Monero daemon RPC, /start_mining, /mining_status, /stop_daemon:
#     https://docs.getmonero.org/rpc-library/monerod-rpc/
#   - monerod options (--regtest, --offline, --fixed-difficulty, --no-igd):
#     https://docs.getmonero.org/interacting/monerod-reference/
#   - RandomX (dataset 2080 MiB, fast mode): https://github.com/tevador/RandomX
#   Debian package: monero (monerod, monero-wallet-cli). Free software (BSD-3-Clause).
#
# Usage: monero-mine.sh [--seconds N] [--threads T] [--difficulty D] [--port P] [--as NAME]
#                       [--cpulimit PCT] [--lo-up]
set -euo pipefail

SECONDS_TOTAL=300
THREADS=2
DIFFICULTY=60000
PORT=28081
AS_NAME=""
CPULIMIT=""
LO_UP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) SECONDS_TOTAL="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --difficulty) DIFFICULTY="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --as) AS_NAME="$2"; shift 2 ;;
    --cpulimit) CPULIMIT="$2"; shift 2 ;;
    --lo-up) LO_UP=1; shift ;;
    *) echo "monero-mine: unknown option $1" >&2; exit 2 ;;
  esac
done

WORK="$(mktemp -d /tmp/job.XXXXXX)" # a neutral name: it shows in command lines
DAEMON_PID=""
LIMIT_PID=""
cleanup() {
  set +e
  [[ -n "$LIMIT_PID" ]] && kill "$LIMIT_PID" 2>/dev/null
  if [[ -n "$DAEMON_PID" ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -CONT "$DAEMON_PID" 2>/dev/null # in case cpulimit left it stopped
    curl -s -m 3 "http://127.0.0.1:$PORT/stop_daemon" >/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$DAEMON_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 0' TERM INT

if [[ $LO_UP == 1 ]]; then ip link set lo up; fi

# A throw-away address (mainnet format, which --regtest uses).
monero-wallet-cli --offline --generate-new-wallet "$WORK/wallet" --password "" --mnemonic-language English \
  --log-file "$WORK/wallet.log" --command address >"$WORK/wallet.out" 2>&1 </dev/null || true
ADDRESS="$(grep -oE '\b4[0-9A-Za-z]{94}\b' "$WORK/wallet.out" | head -1)"
[[ -n "$ADDRESS" ]] || { echo "monero-mine: could not create a wallet address" >&2; cat "$WORK/wallet.out" >&2; exit 1; }

OPTS=(regtest=1 offline=1 fixed-difficulty="$DIFFICULTY" data-dir="$WORK/data"
  rpc-bind-ip=127.0.0.1 rpc-bind-port="$PORT" p2p-bind-ip=127.0.0.1 p2p-bind-port="$((PORT - 1))"
  no-igd=1 no-zmq=1 log-level=0 log-file="$WORK/monerod.log")
if [[ -n "$AS_NAME" ]]; then
  mkdir -p "$WORK/bin"
  cp /usr/bin/monerod "$WORK/bin/$AS_NAME"
  printf '%s\n' "${OPTS[@]}" >"$WORK/worker.conf"
  "$WORK/bin/$AS_NAME" --config-file "$WORK/worker.conf" --non-interactive >/dev/null 2>&1 </dev/null &
else
  ARGS=()
  for o in "${OPTS[@]}"; do
    k="${o%%=*}"; v="${o#*=}"
    if [[ "$v" == 1 && "$k" != log-level ]]; then ARGS+=("--$k"); else ARGS+=("--$k" "$v"); fi
  done
  monerod "${ARGS[@]}" --non-interactive >/dev/null 2>&1 </dev/null &
fi
DAEMON_PID=$!
echo "monero-mine: daemon pid $DAEMON_PID on 127.0.0.1:$PORT, address $ADDRESS"

T_END=$((SECONDS + SECONDS_TOTAL))
started=0
for _ in $(seq 1 60); do
  if curl -s -m 3 "http://127.0.0.1:$PORT/start_mining" \
    -d "{\"miner_address\":\"$ADDRESS\",\"threads_count\":$THREADS,\"do_background_mining\":false,\"ignore_battery\":true}" \
    | grep -q '"OK"'; then started=1; break; fi
  sleep 1
done
[[ $started == 1 ]] || { echo "monero-mine: start_mining failed" >&2; exit 1; }
echo "monero-mine: mining with $THREADS thread(s), difficulty $DIFFICULTY"
if [[ -n "$CPULIMIT" ]]; then
  cpulimit -p "$DAEMON_PID" -l "$CPULIMIT" -z >/dev/null 2>&1 &
  LIMIT_PID=$!
  echo "monero-mine: cpulimit -l $CPULIMIT (pid $LIMIT_PID)"
fi
while (( SECONDS < T_END )) && kill -0 "$DAEMON_PID" 2>/dev/null; do sleep 1; done
