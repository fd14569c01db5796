#!/usr/bin/env bash
# Benign CPU/memory burners for the Assay held-out traces: flat-out compute with no network,
# exactly the shape a name-blind engine must not mistake for a miner. Each runs back to back
# until --seconds are up; work files live in /tmp/job.XXXXXX and are deleted at the end.
#
# Kinds
#   openssl-sha256  `openssl speed -multi 2 -seconds 5 sha256 sha512` (OpenSSL 3.0): two
#                   processes hashing at full speed (SHA-NI on this CPU) — hashing, but not mining.
#   7zip            `7z b -mmt2` (p7zip 16.02): the 7-Zip LZMA compression/decompression
#                   benchmark, 2 threads, a 32 MB dictionary: memory-latency-bound, random-ish
#                   access over tens of MB, like a hashing scratchpad.
#   sysbench-mem    `sysbench memory --threads 2 --memory-block-size 64K --memory-access-mode rnd`
#                   (sysbench 1.0.20): random reads/writes over a memory block per thread.
#   xz-renamed      a RENAMED burner: Debian xz 5.4 copied to <work>/bin/python3 and started as
#                   `python3` with no arguments; its options come from the environment
#                   (XZ_OPT="-7 -T2 --memlimit=1GiB"), it compresses a 256 MB generated file fed
#                   on stdin to /dev/null, again and again. Name and command line say python;
#                   the behaviour is a 2-thread LZMA compressor (~190 MB per thread).
#   zstd-renamed    zstd 1.5 copied to <work>/bin/app, options from ZSTD_CLEVEL=19
#                   ZSTD_NBTHREADS=2, compressing the same kind of file from stdin.
#   sort-spill      GNU sort (coreutils 9.1) sorting a 512 MB generated text file with a 64 MB
#                   buffer (`sort -S 64M --parallel=2 -T <work>`): it spills sorted runs to
#                   temporary files and merges them back (an external merge sort, as log and
#                   ETL jobs do), writing the result to a file, again and again. Heavy writes
#                   that it reads back, compute-bound, no network: benign.
# Sources: openssl-speed(1ssl); https://7-zip.org/ (7z b); https://github.com/akopytov/sysbench ;
#   xz(1) XZ_OPT; zstd(1) ZSTD_CLEVEL/ZSTD_NBTHREADS; sort(1) (coreutils: -S, -T, --parallel).
# Debian packages: openssl p7zip-full sysbench xz-utils zstd.
#
# Usage: cpu-mem-burners.sh --kind K [--seconds N]
set -euo pipefail
KIND=""
SECS=300
while [[ $# -gt 0 ]]; do
  case "$1" in
    --kind) KIND="$2"; shift 2 ;;
    --seconds) SECS="$2"; shift 2 ;;
    *) echo "cpu-mem-burners: unknown option $1" >&2; exit 2 ;;
  esac
done
WORK="$(mktemp -d /tmp/job.XXXXXX)"
CHILD=""
cleanup() {
  set +e
  [[ -n "$CHILD" ]] && { pkill -TERM -P "$CHILD" 2>/dev/null; kill -TERM "$CHILD" 2>/dev/null; sleep 0.5; pkill -KILL -P "$CHILD" 2>/dev/null; kill -KILL "$CHILD" 2>/dev/null; }
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 0' TERM INT
END=$((SECONDS + SECS))
left() { echo $((END - SECONDS)); }
# loop CMD...: runs CMD again and again (each bounded by the time left) until --seconds are up
loop() {
  while (( $(left) > 1 )); do
    timeout "$(left)" "$@" & CHILD=$!
    wait "$CHILD" || true
  done
}
# gen_data FILE MB: semi-compressible data (text-like words plus random bytes), reproducible
gen_data() {
  head -c $(( $2 * 1024 * 1024 / 2 )) /dev/urandom | base64 -w 120 >"$1.a"
  { for _ in $(seq 1 40); do seq 1 300000; done | head -c $(( $2 * 1024 * 1024 / 2 )) >"$1.b"; } || true
  # head stops reading before paste is done: SIGPIPE under pipefail is expected here, not an error
  { paste -d ' ' "$1.a" "$1.b" | head -c $(( $2 * 1024 * 1024 )) >"$1"; } || true
  rm -f "$1.a" "$1.b"
}

case "$KIND" in
  openssl-sha256) echo "burning: openssl speed"; loop openssl speed -multi 2 -seconds 5 sha256 sha512 ;;
  7zip) echo "burning: 7z b"; loop 7z b -mmt2 -md25 ;;
  sysbench-mem)
    echo "burning: sysbench memory"
    loop sysbench memory --threads=2 --memory-block-size=64K --memory-total-size=4000G --memory-access-mode=rnd --time="$SECS" run ;;
  xz-renamed|zstd-renamed)
    mkdir -p "$WORK/bin"
    gen_data "$WORK/input.dat" 256
    if [[ $KIND == xz-renamed ]]; then
      cp /usr/bin/xz "$WORK/bin/python3"
      export XZ_OPT="-7 -T2 --memlimit=1GiB"
    else
      cp "$(command -v zstd)" "$WORK/bin/app"
      export ZSTD_CLEVEL=19 ZSTD_NBTHREADS=2
    fi
    cd "$WORK/bin"
    echo "burning: renamed $KIND"
    while (( $(left) > 1 )); do
      if [[ $KIND == xz-renamed ]]; then
        timeout "$(left)" ./python3 <"$WORK/input.dat" >/dev/null & CHILD=$!
      else
        timeout "$(left)" ./app <"$WORK/input.dat" >/dev/null & CHILD=$!
      fi
      wait "$CHILD" || true
    done ;;
  sort-spill)
    gen_data "$WORK/input.txt" 512
    echo "burning: sort (external merge)"
    while (( $(left) > 1 )); do
      timeout "$(left)" sort -S 64M --parallel=2 -T "$WORK" -o "$WORK/sorted.txt" "$WORK/input.txt" & CHILD=$!
      wait "$CHILD" || true
      rm -f "$WORK/sorted.txt"
    done ;;
  *) echo "cpu-mem-burners: --kind openssl-sha256|7zip|sysbench-mem|xz-renamed|zstd-renamed|sort-spill" >&2; exit 2 ;;
esac
