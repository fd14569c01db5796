#!/usr/bin/env bash
# Records the HELD-OUT traces of bench/heldout/ (issue 8, "Honest evaluation"): real workloads
# that the engine's rules were never tuned on. For each: start it (bench/workloads/), let it warm
# up, `assay record` its sample stream for $DURATION (default 100s at 1 Hz), stop it, and check
# that nothing foreign loaded the machine and that the workload really was busy
# (bench/workloads/trace-check.mjs; up to $ATTEMPTS tries). Same machinery as
# bench/record-corpus.sh (bench/record-lib.sh: lock, quiet wait, neutral recorder command line).
#
#   ./bench/record-heldout.sh            every trace
#   ./bench/record-heldout.sh NAME...    only these (names: ./bench/record-heldout.sh --list)
#
# These traces are a frozen test set: record them, do not replay/eval/classify them here.
#
# Needs: root; a built tree (npm run build); Debian packages redis-server redis-tools
# mariadb-server sysbench memcached libmemcached-tools p7zip-full openssl xz-utils restic
# python3-sklearn python3-torch; `npm install --prefix bench/workloads/tfjs`, `.../hardhat`,
# `npm install --ignore-scripts --prefix bench/workloads/onnx`. Three programs are built
# locally from their upstream sources and are NOT part of this repository (nor are their build
# steps): give their paths in XMRIG (xmrig 6.x built with donate level 0), MINERD (pooler's
# cpuminer 2.5) and POS (chiapos' ProofOfSpace); traces that need a missing one are skipped.
# Network: 127.0.0.1 only. The miners mine only against bench/workloads/stratum-server.mjs on
# 127.0.0.1 (made-up jobs, every share accepted) or in benchmark mode; never a pool.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
W="$ROOT/bench/workloads"
OUT="${HELDOUT_OUT:-$ROOT/bench/heldout}" # another dir only for dry runs
DURATION="${DURATION:-100s}"
ATTEMPTS="${ATTEMPTS:-2}"
LOCK=/tmp/assay-recording.lock
PY=/usr/bin/python3 # Debian's python3 (python3-sklearn, python3-torch)
XMRIG="${XMRIG:-}"
MINERD="${MINERD:-}"
POS="${POS:-}"
PLOTS_DIR="${PLOTS_DIR:-/tmp/assay-heldout-plots}" # the farm's plots, made once, kept between runs
mkdir -p "$OUT"
REC_NAME=record-heldout
STRAY_RE='/tmp/job\.|redis-server --bind 127|redis-benchmark|mariadbd --no-defaults|sysbench |memcached -l 127|memcslap|openssl speed|7z b|restic |ProofOfSpace|xmrig|minerd|stratum-server\.mjs|hardhat/internal/cli|hardhat-client\.mjs|onnx-serve\.mjs|tfjs-train\.mjs|sklearn-train\.py|torch-charlm\.py|sort -S 64M'
# shellcheck source=bench/record-lib.sh
source "$ROOT/bench/record-lib.sh"

# needs_ok NAME: the locally built program the trace needs is there (XMRIG, MINERD, POS)
needs_ok() {
  local v=""
  case "$1" in
    *xmrig*) v=XMRIG ;;
    *cpuminer*) v=MINERD ;;
    *chiapos*) v=POS ;;
  esac
  [[ -z "$v" ]] && return 0
  [[ -n "${!v}" && -x "${!v}" ]] && return 0
  log "skipped $1: $v (path to a locally built binary) not given, see the header"
  return 1
}

# ---- the workloads: one function each (CHECK_ARGS_<name>: what must be busy in the trace) ----

CHECK_ARGS_general_redis_benchmark="--busy redis --busy-min 30"
w_general_redis_benchmark() {
  start redis "$W/kv-db-servers.sh" --kind redis --seconds 300 --port 28379 --clients 50
  wait_for_line redis 'running redis-benchmark' 30
  sleep 8
  rec general-redis-benchmark general real "" \
    "Benign server: Debian redis-server 7.0.15 on 127.0.0.1 (no persistence, maxmemory 512 MB) under redis-benchmark with 50 keep-alive client connections (-c 50 -k 1), random keys over 100000 (-r), 256-byte values, SET/GET/INCR/LPUSH/LPOP/HSET/SADD/ZADD back to back. bench/workloads/kv-db-servers.sh --kind redis"
}

CHECK_ARGS_general_mariadb_sysbench="--busy mariadbd|sysbench --busy-min 30"
w_general_mariadb_sysbench() {
  start mariadb "$W/kv-db-servers.sh" --kind mariadb --seconds 300 --port 28306 --clients 16
  wait_for_line mariadb 'running sysbench' 120
  sleep 10
  rec general-mariadb-sysbench general real "" \
    "Benign server: Debian MariaDB 10.11 (throw-away datadir, InnoDB 256 MB buffer pool, TCP 127.0.0.1) under sysbench 1.0.20 oltp_read_write, 16 client threads/connections, 4 tables x 20000 rows. bench/workloads/kv-db-servers.sh --kind mariadb"
}

CHECK_ARGS_general_memcached_memcslap="--busy memcached|memcslap --busy-min 20"
w_general_memcached_memcslap() {
  start memcached "$W/kv-db-servers.sh" --kind memcached --seconds 300 --port 28211 --clients 32
  wait_for_line memcached 'running memcslap' 30
  sleep 8
  rec general-memcached-memcslap general real "" \
    "Benign server: Debian memcached 1.6.18 (-t 2, 256 MB, 127.0.0.1) under memcslap (libmemcached-tools) with 32 concurrent connections doing set/get. bench/workloads/kv-db-servers.sh --kind memcached"
}

CHECK_ARGS_general_openssl_speed="--busy openssl --busy-min 100"
w_general_openssl_speed() {
  start openssl "$W/cpu-mem-burners.sh" --kind openssl-sha256 --seconds 300
  wait_for_line openssl 'burning' 30
  sleep 5
  rec general-openssl-speed general real "" \
    "Benign CPU burner that hashes: OpenSSL 3.0 'openssl speed -multi 2 -seconds 5 sha256 sha512' in a loop (2 processes hashing flat out, SHA-NI), no network. bench/workloads/cpu-mem-burners.sh --kind openssl-sha256"
}

CHECK_ARGS_general_7zip_benchmark="--busy 7z --busy-min 100"
w_general_7zip_benchmark() {
  start 7zip "$W/cpu-mem-burners.sh" --kind 7zip --seconds 300
  wait_for_line 7zip 'burning' 30
  sleep 5
  rec general-7zip-benchmark general real "" \
    "Benign CPU/memory burner: p7zip 16.02 '7z b -mmt2 -md25' (7-Zip LZMA compress/decompress benchmark, 2 threads, 32 MB dictionary) in a loop, no network. bench/workloads/cpu-mem-burners.sh --kind 7zip"
}

CHECK_ARGS_general_xz_renamed_python3="--busy python3 --busy-min 100"
w_general_xz_renamed_python3() {
  start_hidden xz "$W/cpu-mem-burners.sh" --kind xz-renamed --seconds 300
  wait_for_line xz 'burning' 90
  sleep 5
  rec general-xz-renamed-python3 general real renamed-benign-python3 \
    "Benign burner, RENAMED: Debian xz 5.4.1 copied to /tmp/job.*/bin/python3 and started as './python3' with no arguments, options from the environment (XZ_OPT='-7 -T2 --memlimit=1GiB'), compressing a 256 MB generated file from stdin to /dev/null again and again (2 LZMA threads). bench/workloads/cpu-mem-burners.sh --kind xz-renamed"
}

CHECK_ARGS_ai_training_tfjs="--busy tfjs-train --busy-min 60"
w_ai_training_tfjs() {
  start tfjs node "$W/tfjs-train.mjs" --seconds 300 --ckpt-dir /tmp/job.tfjs-ckpt
  wait_for_line tfjs 'model:' 60
  sleep 10
  rec ai-training-tfjs ai-training real "" \
    "TensorFlow.js 4.22 (@tensorflow/tfjs, pure-JavaScript cpu backend: no native ML library, no WebAssembly) training a small CNN (2 conv + 2 dense, 27.5k parameters) on generated 28x28 MNIST-shaped data (600 samples), Adam, batch 64, epoch after epoch, validation and a checkpoint (model.json + weights.bin, last 3 kept) written after every epoch; single-threaded node. bench/workloads/tfjs-train.mjs"
}

CHECK_ARGS_ai_training_sklearn="--busy sklearn-train --busy-min 60"
w_ai_training_sklearn() {
  start sklearn "$PY" "$W/sklearn-train.py" --seconds 300 --ckpt-dir /tmp/job.sklearn-ckpt
  wait_for_line sklearn 'epoch 1:' 90
  rec ai-training-sklearn ai-training real "" \
    "scikit-learn 1.2.1 (Debian python3-sklearn, numpy) training an MLPClassifier (120 -> 256 -> 128 -> 8) with partial_fit over shuffled chunks of a generated 85000 x 120 classification set, validation score and a joblib checkpoint (last 3 kept) after every epoch (~3 s). bench/workloads/sklearn-train.py"
}

CHECK_ARGS_ai_inference_onnxruntime_http="--busy onnx-serve --busy-min 3"
w_ai_inference_onnxruntime_http() {
  mkdir -p /tmp/job.onnx-model
  node "$W/onnx-serve.mjs" export --out /tmp/job.onnx-model >/tmp/assay-workload-onnx-export.log 2>&1
  start onnx-server node "$W/onnx-serve.mjs" serve --model /tmp/job.onnx-model/model.onnx --port 28480 --seconds 300
  wait_for_line onnx-server 'serving on' 60
  start onnx-client node "$W/onnx-serve.mjs" client --port 28480 --seconds 300 --conns 4
  sleep 10
  rec ai-inference-onnxruntime-http ai-inference real "" \
    "ONNX Runtime 1.20.1 (npm onnxruntime-node: native libonnxruntime.so, CPU provider, 2 intra-op threads) in node serving a small CNN classifier (exported from PyTorch 1.13 to ONNX opset 13, 3x64x64 input, untrained weights) over HTTP POST /v1/predict on 127.0.0.1:28480, driven by a node client with 4 keep-alive connections and Poisson arrivals alternating busy (~30 req/s) and quiet (~3 req/s) phases of 5-15 s, batch 1-16. bench/workloads/onnx-serve.mjs"
  rm -rf /tmp/job.onnx-model
}

CHECK_ARGS_chain_validation_hardhat="--busy hardhat --busy-min 0.5"
w_chain_validation_hardhat() {
  start_hidden hardhat "$W/hardhat-chain.sh" --seconds 300 --port 28645
  wait_for_line hardhat 'client: ' 90
  sleep 15
  rec chain-validation-hardhat chain-validation real "" \
    "Hardhat 2.22.17 (npm hardhat; Hardhat Network on the EDR engine, run by node) as a local dev chain with interval mining: automine off, a block every 12 s including the pooled transactions (EVM execution, state trie update), JSON-RPC on 127.0.0.1:28645 with a node client sending a value transfer every 1-4 s and polling blocks/receipts/balances every second. bench/workloads/hardhat-chain.sh"
}

CHECK_ARGS_pow_mining_xmrig_stratum="--busy xmrig --busy-min 100"
w_pow_mining_xmrig_stratum() {
  start_hidden xmrig "$W/cpu-miner.sh" --mode xmrig-pool --xmrig "$XMRIG" --seconds 300 --port 28333
  wait_for_line xmrig 'dataset ready|READY threads' 240
  sleep 15
  rec pow-mining-xmrig-stratum pow-mining real "" \
    "xmrig 6.26.0 built from upstream source (donate level 0) mining RandomX rx/0 with 2 threads, fast mode (2 GiB dataset), huge pages on, pool-connected over stratum to OUR local endpoint bench/workloads/stratum-server.mjs on 127.0.0.1:28333 (Monero-style login/job/submit/keepalived, made-up jobs every 30 s, difficulty 10000, every share accepted); options in a JSON config file. bench/workloads/cpu-miner.sh --mode xmrig-pool"
}

CHECK_ARGS_pow_mining_xmrig_disguised_torch="--busy python3 --busy-min 100"
w_pow_mining_xmrig_disguised_torch() {
  start_hidden xmrig-py "$W/cpu-miner.sh" --mode xmrig-disguised --xmrig "$XMRIG" --seconds 300 --port 29500
  wait_for_line xmrig-py 'dataset ready|READY threads' 240
  sleep 15
  rec pow-mining-xmrig-disguised-torch pow-mining real disguised-as-torch-python3 \
    "Evasion: xmrig 6.26.0 (built from upstream source, donate level 0) copied to /tmp/job.*/bin/python3 and started as 'python3 -c /tmp/job.*/train_config.json' (xmrig's -c = its JSON config), LD_PRELOAD of Debian python3-torch's libgomp.so.1, libc10.so.1.13 and libtorch_cpu.so.1.13, torchrun env (RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 GROUP_RANK=0 ROLE_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 OMP_NUM_THREADS=2 TORCHELASTIC_RUN_ID), huge pages off; RandomX rx/0, 2 threads, fast mode, pool-connected to OUR stratum endpoint on 127.0.0.1:29500 (jobs every 30 s, every share accepted). bench/workloads/cpu-miner.sh --mode xmrig-disguised"
}

CHECK_ARGS_pow_mining_cpuminer_scrypt_bench="--busy minerd --busy-min 60"
w_pow_mining_cpuminer_scrypt_bench() {
  start_hidden minerd "$W/cpu-miner.sh" --mode minerd-bench --minerd "$MINERD" --seconds 300
  wait_for_line minerd 'khash/s' 60
  sleep 5
  rec pow-mining-cpuminer-scrypt-bench pow-mining real "" \
    "pooler's cpuminer (minerd) 2.5.1 built from upstream source, benchmark mode: 'minerd --benchmark -a scrypt -t 1' (scrypt N=1024, Litecoin-style PoW), ONE thread, no network at all (the other core idle). bench/workloads/cpu-miner.sh --mode minerd-bench"
}

CHECK_ARGS_pow_mining_cpuminer_sha256d_stratum="--busy minerd --busy-min 100"
w_pow_mining_cpuminer_sha256d_stratum() {
  start_hidden minerd-pool "$W/cpu-miner.sh" --mode minerd-pool --minerd "$MINERD" --seconds 300 --port 28334
  wait_for_line minerd-pool 'khash/s' 60
  sleep 5
  rec pow-mining-cpuminer-sha256d-stratum pow-mining real "" \
    "pooler's cpuminer (minerd) 2.5.1 built from upstream source mining sha256d (Bitcoin's PoW) with 2 threads, pool-connected to OUR local stratum endpoint bench/workloads/stratum-server.mjs on 127.0.0.1:28334 (Bitcoin-style mining.subscribe/authorize/notify/submit, made-up jobs every 30 s, difficulty 0.002, every share accepted). bench/workloads/cpu-miner.sh --mode minerd-pool"
}

CHECK_ARGS_storage_proving_chiapos_plot="--busy ProofOfSpace --busy-min 50"
w_storage_proving_chiapos_plot() {
  start_hidden chia-plot "$W/chia-pos.sh" --bin "$POS" --phase plot --k 22 --seconds 300
  wait_for_line chia-plot 'plotting' 30
  sleep 5
  rec storage-proving-chiapos-plot storage-proving real "" \
    "Chia proof-of-space PLOTTING with the real reference implementation: chiapos ProofOfSpace (built from upstream Chia-Network/chiapos source) 'create -k 22 -r 2 -b 512' in a loop into a temp dir (7-table forward propagation with ChaCha8/BLAKE3, sort-on-disk, back-propagation, compression; ~70 MB plots, each deleted after it is made). k=22 instead of mainnet k=32 to fit the recording. bench/workloads/chia-pos.sh --phase plot"
}

CHECK_ARGS_storage_proving_chiapos_prove="--busy ProofOfSpace|chia-pos --busy-min 0.5"
w_storage_proving_chiapos_prove() {
  start_hidden chia-prove "$W/chia-pos.sh" --bin "$POS" --phase prove --k 21 --plots 5 --plots-dir "$PLOTS_DIR" --seconds 300
  wait_for_line chia-prove 'signage point 1:' 400
  rec storage-proving-chiapos-prove storage-proving real "" \
    "Chia proof-of-space FARMING with the real reference implementation: every 9.375 s (a signage point) a new 32-byte challenge, and for each of 5 k=21 plots (~35 MB each, made beforehand with the same tool) 'ProofOfSpace prove <challenge>' (quality lookup + full proof from the plot's tables; the plot's page cache dropped first so the lookups read the disk) and 'ProofOfSpace verify' of the proof found. chiapos built from upstream source. bench/workloads/chia-pos.sh --phase prove"
}

CHECK_ARGS_general_restic_dedup="--busy restic --busy-min 5"
w_general_restic_dedup() {
  start restic "$W/restic-dedup.sh" --seconds 300 --data-mb 400
  wait_for_line restic 'repository ready' 120
  sleep 5
  rec general-restic-dedup general real "" \
    "Benign content-addressed dedup storage (not proving): Debian restic 0.14.0 backing up a 400 MB data set (4 MiB files; ~10 % of the files get a 64 KiB region rewritten and 2 new files are added each round) into a local repository again and again (content-defined chunking, SHA-256 blob ids, encrypted packs), and every 3rd round 'restic check --read-data-subset k/5' (reads back and verifies a fifth of the packs) and 'restic forget --keep-last 3 --prune'. bench/workloads/restic-dedup.sh"
}

# Third batch (rules 2026.12.3): a benign disk-and-CPU burner that reads back what it writes (a
# hard negative for heavy-writes' offline path) and a training job in a model family the corpus
# does not have (a hard case for checkpoint-writes: step-count checkpoints, not per epoch).
CHECK_ARGS_general_sort_spill="--busy sort --busy-min 60"
w_general_sort_spill() {
  start sort "$W/cpu-mem-burners.sh" --kind sort-spill --seconds 300
  wait_for_line sort 'burning' 180
  sleep 10
  rec general-sort-spill general real "" \
    "Benign CPU/disk burner: GNU sort (coreutils 9.1) sorting a 512 MB generated text file with a 64 MB buffer and 2 threads ('sort -S 64M --parallel=2 -T <work dir> -o <file>'): spills sorted runs to temporary files and merges them back (external merge sort), writes the result, again and again; no network. bench/workloads/cpu-mem-burners.sh --kind sort-spill"
}

CHECK_ARGS_ai_training_torch_charlm="--busy torch-charlm --busy-min 60"
w_ai_training_torch_charlm() {
  start charlm "$PY" "$W/torch-charlm.py" --seconds 300 --ckpt-dir /tmp/job.charlm-ckpt
  wait_for_line charlm 'model:' 90
  sleep 10
  rec ai-training-torch-charlm ai-training real "" \
    "PyTorch 1.13 (Debian python3-torch) training a character-level decoder-only Transformer language model on CPU (2 causal self-attention layers, d_model 128, 4 heads, 0.43 M parameters) on ~4 MB of generated text held in memory: AdamW, batch 32 x 128 characters, gradient clipping, cosine LR, 2 intra-op threads; validation loss every 50 steps, a torch.save checkpoint (model + optimizer) every 100 steps, last 2 kept. Plain python3, no torchrun environment. bench/workloads/torch-charlm.py"
}

ALL=(pow-mining-xmrig-disguised-torch general-redis-benchmark storage-proving-chiapos-prove ai-training-tfjs
  pow-mining-xmrig-stratum general-mariadb-sysbench chain-validation-hardhat ai-inference-onnxruntime-http
  ai-training-sklearn general-xz-renamed-python3 pow-mining-cpuminer-scrypt-bench storage-proving-chiapos-plot
  general-restic-dedup general-openssl-speed general-7zip-benchmark pow-mining-cpuminer-sha256d-stratum
  general-memcached-memcslap general-sort-spill ai-training-torch-charlm)

if [[ "${1:-}" == --list ]]; then printf '%s\n' "${ALL[@]}"; exit 0; fi
[[ $EUID == 0 ]] || { echo "record-heldout: run as root (the agent needs it for the full picture)" >&2; exit 1; }
[[ -f dist/cli.js ]] || { echo "record-heldout: build first (npm run build)" >&2; exit 1; }
NAMES=("$@")
[[ ${#NAMES[@]} == 0 ]] && NAMES=("${ALL[@]}")
T0=$SECONDS
for n in "${NAMES[@]}"; do
  needs_ok "$n" && run_one "$n"
done
log "done: ${#NAMES[@]} trace(s) in $(( (SECONDS - T0) / 60 )) min $(( (SECONDS - T0) % 60 )) s"
