#!/usr/bin/env bash
# chain-validation workload for the Assay held-out traces: Hardhat Network (npm hardhat 2.22,
# the Ethereum development node built on the EDR Rust engine, running under `node`) as a local
# dev chain with INTERVAL MINING: automine off, a block every 12 s (Ethereum's slot time) that
# includes the pooled transactions, executes them in the EVM and updates the state trie.
# Beside it, bench/workloads/hardhat-client.mjs is the JSON-RPC user (transfers every 1-4 s,
# block/receipt/balance polling). Local only: RPC on 127.0.0.1, no forking, no peers.
# Stops itself after --seconds.
# Label: chain-validation — a single-node chain that produces/executes blocks on a slot cadence
# and serves RPC (the consensus is a dev "interval" mode, not PoW).
# Sources: https://hardhat.org/hardhat-network/docs/reference#mining-modes ;
#   https://hardhat.org/hardhat-runner/docs/getting-started#running-a-local-node
# Install: npm install --prefix bench/workloads/hardhat (its own package.json; the config is
# bench/workloads/hardhat/hardhat.config.js).
# Usage: hardhat-chain.sh [--seconds N] [--port P]
set -euo pipefail
HERE="${ASSAY_WORKLOADS:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
SECS=300
PORT=28645
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) SECS="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    *) echo "hardhat-chain: unknown option $1" >&2; exit 2 ;;
  esac
done
PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 1
  for p in "${PIDS[@]}"; do pkill -KILL -P "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 0' TERM INT
cd "$HERE/hardhat"
export HARDHAT_DISABLE_TELEMETRY_PROMPT=true
timeout "$SECS" node node_modules/hardhat/internal/cli/cli.js node --hostname 127.0.0.1 --port "$PORT" >/dev/null 2>&1 &
PIDS+=("$!")
echo "node pid $!"
timeout "$SECS" node "$HERE/hardhat-client.mjs" --port "$PORT" --seconds "$SECS" &
PIDS+=("$!")
wait
