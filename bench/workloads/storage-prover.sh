#!/usr/bin/env bash
# storage-proving workload for the Assay corpus (EMULATED). Builds bench/workloads/
# storage-prover.cpp (g++ -O2, OpenSSL's SHA-256, which uses the SHA-NI instructions where the
# CPU has them, as rust-fil-proofs' sha2 does) into a temp dir and runs it: it seals --sectors
# sectors of --sector-mib MiB with 11 SDR-like SHA-256 layers, writes the sealed replicas and
# their Merkle trees, then answers random challenge reads on a period until --seconds. See the
# header of storage-prover.cpp for what each phase does and the Filecoin / Chia sources.
# The binary is called `worker` and its data dir /tmp/job.sp: neutral names, so that nothing
# but behaviour tells what it is.
#
# Usage: storage-prover.sh [--dir DIR] [worker options...]
#   (defaults: --dir /tmp/job.sp --sector-mib 256 --sectors 2 --seconds 600)
# It prints "proving" (from the binary) once sealing is done; all files live in DIR, which it
# deletes on exit.
set -euo pipefail
# ASSAY_WORKLOADS: this directory, when the script is fed to `bash -s` (as record-corpus.sh does,
# so that the script name does not show in the process table)
HERE="${ASSAY_WORKLOADS:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
DIR=/tmp/job.sp
if [[ "${1:-}" == --dir ]]; then DIR="$2"; shift 2; fi
BUILD="${TMPDIR:-/tmp}/assay-sp-build"
mkdir -p "$BUILD"
if [[ ! -x "$BUILD/worker" || "$HERE/storage-prover.cpp" -nt "$BUILD/worker" ]]; then
  g++ -O2 -pthread -Wno-deprecated-declarations -o "$BUILD/worker" "$HERE/storage-prover.cpp" -lcrypto
fi
PID=""
cleanup() {
  set +e
  [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 0' TERM INT
"$BUILD/worker" --dir "$DIR" --sector-mib 256 --sectors 2 --seconds 600 "$@" &
PID=$!
wait "$PID"
PID=""
