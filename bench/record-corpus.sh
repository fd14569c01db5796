#!/usr/bin/env bash
# Re-records the real (and emulated) traces of test/corpus/ on this machine: for each workload,
# start it (bench/workloads/), let it warm up, `assay record` its sample stream for $DURATION
# (default 120s at 1 Hz), stop it and check that nothing foreign loaded the machine meanwhile
# (bench/workloads/trace-check.mjs; up to $ATTEMPTS tries).
#
#   ./bench/record-corpus.sh            every trace (about 45-50 minutes on a quiet machine)
#   ./bench/record-corpus.sh NAME...    only these (names: ./bench/record-corpus.sh --list)
#
# Needs: root; Debian packages python3-torch monero ffmpeg stress-ng cpulimit postgresql g++
# libssl-dev curl; `npm install --prefix bench/workloads/ethereumjs`; a built tree (npm run build).
# Network: 127.0.0.1 only. Mining happens only on monerod's private --regtest --offline chain and
# on ethereumjs' private dev chain; never a pool, never a public network.
#
# While it records (and while a workload warms up) it holds /tmp/assay-recording.lock, so other
# people on this machine can skip heavy runs; the lock is removed between workloads and on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
W="$ROOT/bench/workloads"
OUT="$ROOT/test/corpus"
DURATION="${DURATION:-120s}"
ATTEMPTS="${ATTEMPTS:-3}"
LOCK=/tmp/assay-recording.lock
PY=/usr/bin/python3 # Debian's python3, where python3-torch lives
TORCHRUN_ENV=(RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 GROUP_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 OMP_NUM_THREADS=2)
mkdir -p "$OUT"

REC_NAME=record-corpus
STRAY_RE='/tmp/job\.|monerod|assay-sp-build/worker|ethereumjs/(node_modules|chain\.mjs)|assay-pg\.|assay-video\.|assay-cpp\.|bench/workloads/(train|inference)\.py|stress-ng --cpu|cpulimit -p'
# shellcheck source=bench/record-lib.sh
source "$ROOT/bench/record-lib.sh"

# ---- the workloads: one function each ----------------------------------------------------

w_ai_training_pytorch_cpu() {
  start train env "${TORCHRUN_ENV[@]}" "$PY" "$W/train.py" --seconds 400 --threads 2 --checkpoint-every 50 --ckpt-dir /tmp/assay-train-ckpt
  sleep 10
  rec ai-training-pytorch-cpu ai-training real "" \
    "PyTorch 1.13 (Debian python3-torch) CPU training, 2 threads: small CNN on synthetic CIFAR-10-shaped data, SGD+momentum, batch 128, torch.save checkpoint every 50 steps; torchrun-style env RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT. bench/workloads/train.py"
  rm -rf /tmp/assay-train-ckpt
}

w_ai_inference_pytorch_http() {
  start infer-server "$PY" "$W/inference.py" serve --port 28180 --seconds 400 --threads 2
  wait_for_line infer-server 'serving on' 60
  start infer-client "$PY" "$W/inference.py" client --port 28180 --seconds 400
  sleep 10
  rec ai-inference-pytorch-http ai-inference real "" \
    "PyTorch 1.13 CPU inference: small CNN classifier in eval/inference_mode served by a ThreadingHTTPServer on 127.0.0.1:28180 (POST /v1/predict), driven by a keep-alive client with on/off-modulated Poisson arrivals (busy ~25 req/s, quiet ~2 req/s), batch 1-32. bench/workloads/inference.py"
}

w_pow_mining_monerod_regtest() {
  start_hidden monero "$W/monero-mine.sh" --seconds 400 --threads 2 --port 28281
  wait_for_line monero 'mining with' 90
  sleep 35 # RandomX dataset build (~25 s) then steady hashing
  rec pow-mining-monerod-regtest pow-mining real "" \
    "Debian monerod 0.18 mining RandomX with its built-in miner, 2 threads, on a private --regtest --offline chain (fixed difficulty 60000, ~1 block / 2 min here), RPC/P2P on 127.0.0.1, mining started via /start_mining. bench/workloads/monero-mine.sh"
}

w_chain_validation_ethereumjs_poa() {
  start_hidden eth-poa "$W/ethereum-chain.sh" --mode poa --period 12 --seconds 400 --port 28545
  wait_for_line eth-poa 'client pid' 60
  sleep 20
  rec chain-validation-ethereumjs-poa chain-validation real "" \
    "@ethereumjs/client 0.10.5 (node) on a private single-signer Clique PoA dev chain sealing a block every 12 s (Ethereum slot time), JSON-RPC on 127.0.0.1 with a client loop of reads (eth_blockNumber, eth_getBlockByNumber, eth_getBalance...) and a signed EIP-1559 transfer every 3-6 s (ethereumjs' Clique block builder leaves them in the pool: blocks are sealed empty). bench/workloads/ethereum-chain.sh --mode poa"
}

w_pow_mining_ethereumjs_ethash() {
  start_hidden eth-pow "$W/ethereum-chain.sh" --mode pow --seconds 400 --port 28555
  wait_for_line eth-pow 'client pid' 60
  sleep 20
  rec pow-mining-ethereumjs-ethash pow-mining real "" \
    "@ethereumjs/client 0.10.5 (node) mining its own private dev chain with ethash (pre-Merge Ethereum PoW, JavaScript, one core) plus the same JSON-RPC client loop. Labelled pow-mining: the dominant behaviour is a saturated nonce search, sealing a block each time a solution is found. bench/workloads/ethereum-chain.sh --mode pow"
}

w_storage_proving_seal_emulated() {
  start_hidden prover "$W/storage-prover.sh" --dir /tmp/job.sp --sector-mib 256 --sectors 2 --seconds 900
  wait_for_line prover 'piece written' 120
  rec storage-proving-seal-emulated storage-proving emulated "" \
    "EMULATED Filecoin-style sealing (no real prover installs here): 2 sectors of 256 MiB sealed in parallel, 11 SDR-like layers of SHA-256 labelling (14 parents per node, sequential within a layer, random reads of the previous layer), each layer written to disk, then replica encoding and a Merkle tree. bench/workloads/storage-prover.cpp (binary `worker`)"
}

w_storage_proving_post_emulated() {
  start_hidden prover "$W/storage-prover.sh" --dir /tmp/job.sp --sector-mib 256 --sectors 2 --seconds 900 --period 9.375 --challenges 64 --proof-ms 600
  wait_for_line prover 'proof round 1:' 400
  sleep 5
  rec storage-proving-post-emulated storage-proving emulated "" \
    "EMULATED proving of 2 sealed 256 MiB sectors (no real prover installs here): every 9.375 s (Chia signage point; Filecoin WindowPoSt uses 30-min deadlines) 64 random 32-byte leaves per sector are read from disk (4 KiB O_DIRECT reads) with their Merkle paths and verified against the root, then a 600 ms all-core SHA-256 burst stands in for proof generation. bench/workloads/storage-prover.cpp (binary `worker`)"
}

w_general_cpp_compile() {
  start cpp "$W/cpp-compile.sh" --seconds 400
  sleep 8
  rec general-cpp-compile general real "" \
    "Benign: C++17 build with g++ 12 -O2 and make -j2 (24 generated translation units using std::regex/map/unordered_map/iostreams), clean rebuild in a loop. bench/workloads/cpp-compile.sh"
}

w_general_ffmpeg_x264() {
  start video "$W/video-encode.sh" --seconds 400
  sleep 8
  rec general-ffmpeg-x264 general real "" \
    "Benign: Debian ffmpeg 5.1 batch transcode, lavfi testsrc2 1280x720 30 fps with noise -> libx264 preset medium CRF 23, 2 threads, MP4 to a temp file, as fast as possible. bench/workloads/video-encode.sh"
}

w_general_postgres_pgbench() {
  start pg "$W/postgres-pgbench.sh" --seconds 400
  wait_for_line pg 'running pgbench' 180
  sleep 8
  rec general-postgres-pgbench general real "" \
    "Benign: PostgreSQL 15 throw-away cluster (unix socket only) under pgbench TPC-B-like load, scale 20, 8 clients, 2 threads. bench/workloads/postgres-pgbench.sh"
}

w_general_stress_ng_cpu() {
  start stress stress-ng --cpu 2 --timeout 400s
  sleep 5
  rec general-stress-ng-cpu general real "" \
    "Benign: stress-ng --cpu 2 (Debian stress-ng 0.15), the default CPU stressor method rotation on both cores, flat 100 %."
}

w_idle() {
  sleep 5
  rec idle idle real "" \
    "Idle: no workload started; only this machine's background services (and the recorder itself)."
}

w_evasion_miner_renamed_python3() {
  start_hidden monero-py "$W/monero-mine.sh" --seconds 400 --threads 2 --port 28291 --as python3
  wait_for_line monero-py 'mining with' 90
  sleep 35
  rec evasion-miner-renamed-python3 pow-mining real renamed-python3 \
    "Evasion: Debian monerod copied to <tmp>/bin/python3 and started as python3 with its options in a config file (command line: python3 --config-file .../worker.conf --non-interactive), mining RandomX with 2 threads on a private --regtest --offline chain. bench/workloads/monero-mine.sh --as python3"
}

w_evasion_miner_throttled_30pct() {
  start_hidden monero-lim "$W/monero-mine.sh" --seconds 400 --threads 2 --port 28301 --cpulimit 60
  wait_for_line monero-lim 'cpulimit' 120
  sleep 35
  rec evasion-miner-throttled-30pct pow-mining real throttled-30pct \
    "Evasion: monerod mining RandomX (2 threads, private --regtest --offline chain) throttled by cpulimit -l 60 (60 % of one core = 30 % of this 2-core host; SIGSTOP/SIGCONT duty cycling). bench/workloads/monero-mine.sh --cpulimit 60"
}

w_evasion_miner_beside_training() {
  start train2 env "${TORCHRUN_ENV[@]}" "$PY" "$W/train.py" --seconds 400 --threads 2 --checkpoint-every 50 --ckpt-dir /tmp/assay-train-ckpt
  start_hidden monero-mix "$W/monero-mine.sh" --seconds 400 --threads 1 --port 28311
  wait_for_line monero-mix 'mining with' 90
  sleep 35
  rec evasion-miner-beside-training mixed real hidden-beside-training \
    "Evasion: the PyTorch CPU training job (bench/workloads/train.py, 2 threads, torchrun env) and, beside it, monerod mining RandomX with 1 thread on a private --regtest --offline chain: both compete for the 2 cores. Expected: mixed with parts ai-training and pow-mining."
  rm -rf /tmp/assay-train-ckpt
  # The trace header says which parts the mixed verdict must contain.
  node -e '
    const fs = require("fs"); const f = process.argv[1];
    const lines = fs.readFileSync(f, "utf8").split("\n");
    const h = JSON.parse(lines[0]); h.expectParts = ["ai-training", "pow-mining"];
    lines[0] = JSON.stringify(h); fs.writeFileSync(f, lines.join("\n"));' "$OUT/evasion-miner-beside-training.trace.ndjson"
}

w_evasion_chain_generic_runtime() {
  start_hidden eth-disg "$W/ethereum-chain.sh" --mode poa --period 12 --seconds 400 --port 28565 --disguise
  wait_for_line eth-disg 'client pid' 60
  sleep 20
  rec evasion-chain-generic-runtime chain-validation real generic-runtime-node \
    "Evasion: the @ethereumjs/client PoA dev chain (12 s blocks, RPC client loop on 127.0.0.1) started as plain node through a symlink <tmp>/app/server.js, so neither the process name (node) nor the command line says ethereumjs. bench/workloads/ethereum-chain.sh --disguise"
}

w_evasion_miner_netns() {
  # unshare --net: a new network namespace with only lo (brought up by --lo-up), as in a container.
  setsid unshare --net env ASSAY_WORKLOADS="$W" bash -s -- --seconds 400 --threads 2 --port 28321 --lo-up \
    <"$W/monero-mine.sh" >/tmp/assay-workload-monero-ns.log 2>&1 &
  PGIDS+=("$!")
  log "started monero-ns in a new network namespace (pgid $!)"
  wait_for_line monero-ns 'mining with' 90
  sleep 35
  rec evasion-miner-netns pow-mining real other-netns \
    "Evasion: monerod mining RandomX (2 threads, private --regtest --offline chain) inside its own network namespace (unshare --net, only lo up), as in a container: its 127.0.0.1 RPC/P2P sockets exist only in that namespace's /proc/PID/net/*. bench/workloads/monero-mine.sh --lo-up"
}

ALL=(ai-training-pytorch-cpu pow-mining-monerod-regtest chain-validation-ethereumjs-poa general-stress-ng-cpu idle
  ai-inference-pytorch-http general-cpp-compile general-ffmpeg-x264 general-postgres-pgbench
  evasion-miner-renamed-python3 evasion-miner-throttled-30pct evasion-miner-beside-training
  evasion-miner-netns evasion-chain-generic-runtime pow-mining-ethereumjs-ethash
  storage-proving-seal-emulated storage-proving-post-emulated)

if [[ "${1:-}" == --list ]]; then printf '%s\n' "${ALL[@]}"; exit 0; fi
[[ $EUID == 0 ]] || { echo "record-corpus: run as root (the agent needs it for the full picture, postgres needs runuser)" >&2; exit 1; }
[[ -f dist/cli.js ]] || { echo "record-corpus: build first (npm run build)" >&2; exit 1; }
NAMES=("$@")
[[ ${#NAMES[@]} == 0 ]] && NAMES=("${ALL[@]}")
T0=$SECONDS
for n in "${NAMES[@]}"; do
  run_one "$n"
done
log "done: ${#NAMES[@]} trace(s) in $(( (SECONDS - T0) / 60 )) min $(( (SECONDS - T0) % 60 )) s"
