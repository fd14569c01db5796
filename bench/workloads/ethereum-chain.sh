#!/usr/bin/env bash
# chain-validation / ethash-mining workload for the Assay corpus: an Ethereum execution client
# (@ethereumjs/client, the JavaScript client of the Ethereum Foundation's EthereumJS team) on a
# private single-node dev chain, with a small JSON-RPC user beside it. Local only: RPC and RLPx on
# 127.0.0.1, discovery off (--discV4=false --discDns=false), no bootnodes, no peers. Stops itself
# after --seconds.
#
# Modes
#   poa (default): Clique proof-of-authority (EIP-225), the node is the only signer and seals a
#       block every --period seconds (12 s by default: Ethereum's slot time). Between blocks the
#       node receives transactions over RPC, keeps them in its pool, assembles a block at each
#       period, executes every transaction in the EVM and validates and stores the block: the
#       block-cadenced duty cycle of a chain node/validator, not a flat hashing load.
#       Label: chain-validation.
#   pow: ethereumjs' own ethash miner (--dev=pow equivalent: the genesis is ethash and --mine is
#       on). It really searches for ethash nonces (JavaScript ethash, one core, with its DAG
#       cache), sealing a block whenever it finds one — pre-Merge Ethereum mining. Its dominant
#       behaviour is a saturated hashing loop, so the corpus labels it pow-mining (documented in
#       test/corpus/README.md).
#
# Both run as the generic `node` runtime (the process name is `node`, the script path in the
# command line is the only naming hint), which is the "chain client under a generic runtime name"
# case of issue 3.
#
# Sources: ethereumjs client CLI (--dev, --mine, --unlock, --gethGenesis):
#   https://github.com/ethereumjs/ethereumjs-monorepo/tree/master/packages/client (MPL-2.0);
#   EIP-225 Clique https://eips.ethereum.org/EIPS/eip-225 ; Ethash
#   https://ethereum.org/en/developers/docs/consensus-mechanisms/pow/mining/mining-algorithms/ethash/
# Install: npm install --prefix bench/workloads/ethereumjs (its own package.json, git-ignored
# node_modules; not part of the root package).
#
# --disguise: run the client's entry script through a symlink named app/server.js in the work
# dir, so the command line reads `node /tmp/job.X/app/server.js ...` with no "ethereumjs" in it
# (Node resolves the real path for module loading); the RPC client likewise runs as
# `node /tmp/job.X/app/client.mjs`.
#
# Usage: ethereum-chain.sh [--mode poa|pow] [--seconds N] [--period S] [--port P] [--no-load]
#                          [--disguise]
set -euo pipefail
# ASSAY_WORKLOADS: this directory, when the script is fed to `bash -s` (as record-corpus.sh does,
# so that the script name does not show in the process table)
HERE="${ASSAY_WORKLOADS:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
EJS="$HERE/ethereumjs"
MODE=poa
SECONDS_TOTAL=300
PERIOD=12
PORT=28545
LOAD=1
DISGUISE=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mode) MODE="$2"; shift 2 ;;
    --seconds) SECONDS_TOTAL="$2"; shift 2 ;;
    --period) PERIOD="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --no-load) LOAD=0; shift ;;
    --disguise) DISGUISE=1; shift ;;
    *) echo "ethereum-chain: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x "$EJS/node_modules/.bin/ethereumjs" ]] || { echo "ethereum-chain: run 'npm install --prefix $EJS' first" >&2; exit 1; }

WORK="$(mktemp -d /tmp/job.XXXXXX)" # a neutral name: it shows in command lines
NODE_PID=""
LOAD_PID=""
cleanup() {
  set +e
  [[ -n "$LOAD_PID" ]] && kill "$LOAD_PID" 2>/dev/null
  if [[ -n "$NODE_PID" ]]; then
    kill -INT "$NODE_PID" 2>/dev/null
    for _ in 1 2 3 4 5 6; do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$NODE_PID" 2>/dev/null # the client does not always exit on SIGINT/SIGTERM
  fi
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 0' TERM INT

node "$EJS/chain.mjs" genesis "$WORK" "$PERIOD" "$MODE"
DEV=poa
[[ "$MODE" == pow ]] && DEV=pow
ENTRY="$EJS/node_modules/@ethereumjs/client/dist/esm/bin/cli.js"
if [[ $DISGUISE == 1 ]]; then
  mkdir -p "$WORK/app"
  ln -s "$ENTRY" "$WORK/app/server.js"
  ENTRY="$WORK/app/server.js"
fi
node "$ENTRY" --dev="$DEV" --gethGenesis "$WORK/assaydev.json" \
  --unlock "$WORK/signer.key" --mine --dataDir "$WORK/data" \
  --rpc --rpcAddr 127.0.0.1 --rpcPort "$PORT" --port "$((PORT + 1))" --extIP 127.0.0.1 \
  --discV4=false --discDns=false --logFile=false --logLevel "${ETH_LOG_LEVEL:-info}" >"$WORK/client.log" 2>&1 </dev/null &
NODE_PID=$!
echo "ethereum-chain: $MODE client pid $NODE_PID, RPC http://127.0.0.1:$PORT, work dir $WORK"
T_END=$((SECONDS + SECONDS_TOTAL))
for _ in $(seq 1 60); do
  curl -s -m 2 -X POST -H 'content-type: application/json' "http://127.0.0.1:$PORT" \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' | grep -q result && break
  sleep 1
done
if [[ $LOAD == 1 ]]; then
  LOADER="$EJS/chain.mjs"
  if [[ $DISGUISE == 1 ]]; then ln -s "$LOADER" "$WORK/app/client.mjs"; LOADER="$WORK/app/client.mjs"; fi
  node "$LOADER" load "http://127.0.0.1:$PORT" "$WORK/signer.key" "$WORK/assaydev.json" "$SECONDS_TOTAL" &
  LOAD_PID=$!
fi
while (( SECONDS < T_END )) && kill -0 "$NODE_PID" 2>/dev/null; do sleep 1; done
grep -E "Sealed block|Executed blocks" "$WORK/client.log" | tail -3 || true
