#!/usr/bin/env bash
# A content-addressed, deduplicating storage workload that is NOT proof of storage, for the
# Assay held-out traces (label general): restic 0.14 (Debian) backing up a changing data set
# into a local repository again and again. restic cuts files into content-defined chunks
# (Rabin fingerprints, 512 KiB-8 MiB), addresses every blob by its SHA-256, stores only unseen
# blobs (AES-256/Poly1305-encrypted packs), and every few rounds runs `restic check
# --read-data-subset 1/5` (reads a fifth of the packs back and verifies their hashes) and
# `restic forget --keep-last 3 --prune`. Each round rewrites ~10 % of the files and adds new
# ones, so most chunks deduplicate. Local only: the repository is a directory in
# /tmp/job.XXXXXX; no network. Stops after --seconds.
# How it mirrors the real thing: a backup/dedup store (restic, borg, IPFS-like block stores):
# hashing of data, chunk lookups, pack writes, periodic verification reads — storage work with
# hashing and periodic reads, but no challenges, no proofs, no sealing.
# Sources: https://restic.readthedocs.io/en/v0.14.0/ (design: content-defined chunking, blobs,
#   packs; check --read-data-subset; forget --prune).
# Usage: restic-dedup.sh [--seconds N] [--data-mb 400]
set -euo pipefail
SECS=300
DATA_MB=400
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) SECS="$2"; shift 2 ;;
    --data-mb) DATA_MB="$2"; shift 2 ;;
    *) echo "restic-dedup: unknown option $1" >&2; exit 2 ;;
  esac
done
WORK="$(mktemp -d /tmp/job.XXXXXX)"
CHILD=""
cleanup() { set +e; [[ -n "$CHILD" ]] && kill -TERM "$CHILD" 2>/dev/null; sleep 0.5; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 0' TERM INT
END=$((SECONDS + SECS))
left() { echo $((END - SECONDS)); }
export RESTIC_REPOSITORY="$WORK/repo" RESTIC_PASSWORD="local-only" RESTIC_CACHE_DIR="$WORK/cache"
mkdir -p "$WORK/data"
# data set: DATA_MB in 4 MiB files, half random (incompressible), half text-like
n_files=$((DATA_MB / 4))
mkfile() { if (( $2 % 2 )); then head -c 4194304 /dev/urandom >"$1"; else { seq "$2" 1 2000000 | head -c 4194304 >"$1"; } || true; fi; }
for i in $(seq 1 "$n_files"); do mkfile "$WORK/data/f$i.bin" "$i"; done
restic init >/dev/null
echo "restic repository ready ($DATA_MB MB in $n_files files)"
round=0
run() { timeout "$(left)" "$@" & CHILD=$!; wait "$CHILD" || true; }
while (( $(left) > 2 )); do
  round=$((round + 1))
  # change ~10 % of the files (rewrite one 64 KiB region) and add 2 new files
  for i in $(seq 1 "$n_files"); do
    if (( RANDOM % 10 == 0 )); then dd if=/dev/urandom of="$WORK/data/f$i.bin" bs=64K count=1 seek=$((RANDOM % 64)) conv=notrunc status=none; fi
  done
  mkfile "$WORK/data/new-$round-a.bin" "$((round * 2 + 1))"; mkfile "$WORK/data/new-$round-b.bin" "$((round * 2))"
  run restic backup --quiet --host node1 "$WORK/data"
  echo "round $round: backup done"
  if (( round % 3 == 0 )); then
    run restic check --quiet --read-data-subset "$(( (round / 3) % 5 + 1 ))/5"
    run restic forget --quiet --keep-last 3 --prune
    echo "round $round: check + prune done"
  fi
done
